// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * exerciser: runs the same seeded random sequence of operations against a
 * cowfs view and a plain copy of BASE (the oracle) and compares, after
 * every operation, return values and errno, data read, sizes, modes, link
 * counts, directory listings, symlink targets and user xattrs. On a
 * mismatch it prints the seed and the operations that led to it.
 *
 *   exerciser --view DIR --oracle DIR [--seed N] [--ops N | --time S]
 *             [-j N] [--drop-caches] [-v]
 *
 * Worker k (of -j N, each a process) works in DIR/wk of both trees with
 * seed N+k; the trees must hold w0 .. w(N-1) alike.
 */
#include "exerciser.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

uint64_t ex_rand(struct ex *x)
{
	x->rng ^= x->rng << 13;
	x->rng ^= x->rng >> 7;
	x->rng ^= x->rng << 17;
	return x->rng;
}

void ex_note(struct ex *x, const char *fmt, ...)
{
	char *line = x->log[x->opno % LOG_KEEP];
	int n = snprintf(line, 200, "%ld: ", x->opno);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line + n, (size_t)(200 - n), fmt, ap);
	va_end(ap);
	if (x->verbose)
		fprintf(stderr, "[%s] %s\n", x->prefix, line);
}

static uint64_t seed0;

void ex_fail(struct ex *x, const char *fmt, ...)
{
	long first = x->opno >= LOG_KEEP ? x->opno - LOG_KEEP + 1 : 0, i;
	va_list ap;

	fprintf(stderr,
		"exerciser: MISMATCH in %s at operation %ld: ", x->prefix,
		x->opno);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nseed %llu (worker seed %llu); operations %s:\n",
		(unsigned long long)seed0,
		(unsigned long long)(seed0 + (uint64_t)atoi(x->prefix + 1)),
		first ? "(the last ones)" : "");
	for (i = first; i <= x->opno; i++)
		fprintf(stderr, "  %s\n", x->log[i % LOG_KEEP]);
	exit(1);
}

void ex_same(struct ex *x, const char *what, long r0, int e0, long r1, int e1)
{
	if ((r0 < 0) != (r1 < 0) || (r0 < 0 && e0 != e1) ||
	    (r0 >= 0 && r0 != r1))
		ex_fail(x, "%s: view %ld (%s), oracle %ld (%s)", what, r0,
			r0 < 0 ? strerror(e0) : "ok", r1,
			r1 < 0 ? strerror(e1) : "ok");
}

/* Whole content of a regular file (at most MAX_DATA bytes). */
static ssize_t slurp(int root, const char *p, unsigned char *buf)
{
	int fd = openat(root, p, O_RDONLY | O_NOFOLLOW);
	ssize_t n, total = 0;

	if (fd < 0)
		return -1;
	while (total < MAX_DATA &&
	       (n = read(fd, buf + total, (size_t)(MAX_DATA - total))) > 0)
		total += n;
	close(fd);
	return total;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted listing of a directory as one string. */
static char *listing(int root, const char *p)
{
	int fd = openat(root, p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	char *names[512], *out;
	struct dirent *de;
	size_t n = 0, len = 1, i;

	if (!d)
		return NULL;
	while ((de = readdir(d)) && n < 512)
		names[n++] = strdup(de->d_name);
	closedir(d);
	qsort(names, n, sizeof(*names), cmp_names);
	for (i = 0; i < n; i++)
		len += strlen(names[i]) + 1;
	out = calloc(1, len);
	for (i = 0; i < n; i++) {
		strcat(strcat(out, names[i]), "/");
		free(names[i]);
	}
	return out;
}

static void verify_xattrs(struct ex *x, const char *p, int depth)
{
	char l[2][1024], v[2][256];
	ssize_t n[2], m[2];
	int i;

	for (i = 0; i < 2; i++) {
		char path[64];
		snprintf(path, sizeof(path), "/proc/self/fd/%d/%s", x->root[i],
			 p);
		n[i] = llistxattr(path, l[i], sizeof(l[i]));
		m[i] = lgetxattr(path, "user.k0", v[i], sizeof(v[i]));
	}
	if (n[0] != n[1] || (n[0] > 0 && memcmp(l[0], l[1], (size_t)n[0])))
		ex_fail(x, "xattr lists of %s differ", p);
	if (m[0] != m[1] || (m[0] > 0 && memcmp(v[0], v[1], (size_t)m[0])))
		ex_fail(x, "user.k0 of %s differs", p);
	(void)depth;
}

void ex_verify(struct ex *x, int idx)
{
	const char *p = ex_paths[idx];
	struct stat st[2];
	int r[2], i;

	for (i = 0; i < 2; i++)
		r[i] = fstatat(x->root[i], p, &st[i], AT_SYMLINK_NOFOLLOW);
	if ((r[0] < 0) != (r[1] < 0))
		ex_fail(x, "%s exists on one side only (view %d)", p, r[0]);
	if (r[0] < 0)
		return;
	if (st[0].st_mode != st[1].st_mode)
		ex_fail(x, "mode of %s: view %o, oracle %o", p, st[0].st_mode,
			st[1].st_mode);
	if (S_ISREG(st[0].st_mode)) {
		ssize_t n0 = slurp(x->root[0], p, x->buf[0]);
		ssize_t n1 = slurp(x->root[1], p, x->buf[1]);
		if (st[0].st_size != st[1].st_size)
			ex_fail(x, "size of %s: view %lld, oracle %lld", p,
				(long long)st[0].st_size,
				(long long)st[1].st_size);
		if (st[0].st_nlink != st[1].st_nlink)
			ex_fail(x, "links of %s: view %lu, oracle %lu", p,
				(unsigned long)st[0].st_nlink,
				(unsigned long)st[1].st_nlink);
		if (n0 != n1 || memcmp(x->buf[0], x->buf[1], (size_t)n0))
			ex_fail(x, "content of %s differs", p);
	} else if (S_ISDIR(st[0].st_mode)) {
		char *l0 = listing(x->root[0], p), *l1 = listing(x->root[1], p);
		if (!l0 || !l1 || strcmp(l0, l1))
			ex_fail(x, "listing of %s: view [%s], oracle [%s]", p,
				l0 ? l0 : "?", l1 ? l1 : "?");
		free(l0);
		free(l1);
	} else if (S_ISLNK(st[0].st_mode)) {
		char t[2][256] = {"", ""};
		for (i = 0; i < 2; i++)
			readlinkat(x->root[i], p, t[i], sizeof(t[i]) - 1);
		if (strcmp(t[0], t[1]))
			ex_fail(x, "target of %s differs", p);
		return;
	}
	verify_xattrs(x, p, 0);
}

static int run_worker(const char *view, const char *oracle, int k,
		      uint64_t seed, long ops, double secs, bool verbose,
		      bool drop)
{
	static struct ex x;
	char prefix[32];
	time_t end = time(NULL) + (time_t)secs;
	int i;

	snprintf(prefix, sizeof(prefix), "w%d", k);
	x.prefix = prefix;
	x.rng = seed * 2654435761u + 88172645463325252ULL;
	x.verbose = verbose;
	x.drop_caches = drop;
	x.buf[0] = malloc(MAX_DATA);
	x.buf[1] = malloc(MAX_DATA);
	for (i = 0; i < 2; i++) {
		char p[4096];
		snprintf(p, sizeof(p), "%s/%s", i ? oracle : view, prefix);
		x.root[i] = open(p, O_RDONLY | O_DIRECTORY);
		if (x.root[i] < 0) {
			fprintf(stderr, "exerciser: %s: %s\n", p,
				strerror(errno));
			return 2;
		}
	}
	for (x.opno = 0; secs > 0 ? time(NULL) < end : x.opno < ops; x.opno++)
		ex_step(&x);
	ex_close_all(&x);
	for (i = 0; i < ex_npaths; i++)
		ex_verify(&x, i);
	printf("exerciser: %s: %ld operations, no difference\n", prefix,
	       x.opno);
	return 0;
}

int main(int argc, char **argv)
{
	const char *view = NULL, *oracle = NULL;
	long ops = 2000;
	double secs = 0;
	int jobs = 1, i, status, bad = 0;
	bool verbose = false, drop = false;

	seed0 = (uint64_t)time(NULL);
	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--view") && v)
			view = argv[++i];
		else if (!strcmp(a, "--oracle") && v)
			oracle = argv[++i];
		else if (!strcmp(a, "--seed") && v)
			seed0 = strtoull(argv[++i], NULL, 10);
		else if (!strcmp(a, "--ops") && v)
			ops = atol(argv[++i]);
		else if (!strcmp(a, "--time") && v)
			secs = atof(argv[++i]);
		else if (!strcmp(a, "-j") && v)
			jobs = atoi(argv[++i]);
		else if (!strcmp(a, "--drop-caches"))
			drop = true;
		else if (!strcmp(a, "-v"))
			verbose = true;
		else {
			fprintf(stderr, "usage: see the head of exerciser.c\n");
			return 2;
		}
	}
	if (!view || !oracle || jobs < 1 || jobs > 16) {
		fprintf(stderr, "usage: see the head of exerciser.c\n");
		return 2;
	}
	printf("exerciser: seed %llu, %d worker(s)\n",
	       (unsigned long long)seed0, jobs);
	fflush(stdout);
	for (i = 0; i < jobs; i++)
		if (fork() == 0)
			exit(run_worker(view, oracle, i, seed0 + (uint64_t)i,
					ops, secs, verbose, drop));
	while (wait(&status) > 0)
		bad |= !WIFEXITED(status) || WEXITSTATUS(status) != 0;
	return bad;
}
