// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The exerciser's comparisons of the view with the oracle: by name (stat,
 * data, listing, symlink target, user xattrs, which open files a name is)
 * and by open descriptor (stat, data, file offset, inode number kept since
 * open, the bytes of a shared mapping). A full check also walks every
 * directory of the oracle, for names deeper than the fixed paths.
 */
#include "exerciser.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>
#include <unistd.h>

static void compare_time(struct ex *x, const char *what,
			 const struct timespec *a, const struct timespec *b)
{
	if (a->tv_sec >= OLD_TIME && b->tv_sec >= OLD_TIME)
		return;
	if (a->tv_sec != b->tv_sec || a->tv_nsec != b->tv_nsec)
		ex_fail(x, "%s: view %lld.%09ld, oracle %lld.%09ld", what,
			(long long)a->tv_sec, a->tv_nsec, (long long)b->tv_sec,
			b->tv_nsec);
}

/* What stat(2) shows that must be alike (directory sizes and link counts
 * differ by design, see README). */
static void compare_stat(struct ex *x, const char *what, const struct stat *a,
			 const struct stat *b)
{
	char w[300];

	if (a->st_mode != b->st_mode)
		ex_fail(x, "mode of %s: view %o, oracle %o", what, a->st_mode,
			b->st_mode);
	if (a->st_uid != b->st_uid || a->st_gid != b->st_gid)
		ex_fail(x, "owner of %s: view %u:%u, oracle %u:%u", what,
			a->st_uid, a->st_gid, b->st_uid, b->st_gid);
	if (!S_ISDIR(a->st_mode) && a->st_size != b->st_size)
		ex_fail(x, "size of %s: view %lld, oracle %lld", what,
			(long long)a->st_size, (long long)b->st_size);
	if (!S_ISDIR(a->st_mode) && a->st_nlink != b->st_nlink)
		ex_fail(x, "link count of %s: view %lu, oracle %lu", what,
			(unsigned long)a->st_nlink, (unsigned long)b->st_nlink);
	snprintf(w, sizeof(w), "mtime of %s", what);
	compare_time(x, w, &a->st_mtim, &b->st_mtim);
}

static ssize_t read_all(int fd, unsigned char *buf)
{
	ssize_t n, total = 0;

	while (total < MAX_DATA &&
	       (n = pread(fd, buf + total, (size_t)(MAX_DATA - total), total)) >
		       0)
		total += n;
	return n < 0 ? -1 : total;
}

/* @n: bytes read on each side, or -1 with errno in @e */
static void compare_data(struct ex *x, const char *what, const ssize_t *n,
			 const int *e)
{
	ssize_t n0 = n[0], n1 = n[1];
	ssize_t i;

	if (n0 != n1)
		ex_fail(x,
			"reading all of %s: view %zd bytes (%s), oracle %zd "
			"(%s)",
			what, n0, n0 < 0 ? strerror(e[0]) : "ok", n1,
			n1 < 0 ? strerror(e[1]) : "ok");
	if (n0 <= 0 || !memcmp(x->buf[0], x->buf[1], (size_t)n0))
		return;
	for (i = 0; x->buf[0][i] == x->buf[1][i]; i++)
		;
	ex_fail(x,
		"data of %s differs from offset %zd (view %02x, oracle %02x)",
		what, i, x->buf[0][i], x->buf[1][i]);
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted listing of a directory, "name:type/" per entry, as one string. */
static char *listing(int root, const char *p)
{
	int fd = openat(root, p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	char *names[512], *out;
	struct dirent *de;
	size_t n = 0, len = 1, i;

	if (!d) {
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	while ((de = readdir(d)) && n < 512)
		if (asprintf(&names[n], "%s:%d", de->d_name, de->d_type) > 0)
			n++;
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

static bool shown_xattr(const char *name)
{
	return !strncmp(name, "user.", 5) &&
	       strncmp(name, "user.overlay.", 13) &&
	       strncmp(name, "user.cowfs.", 11);
}

/* The user.* names of @list (of @n bytes), sorted, as one string. */
static void user_names(const char *list, ssize_t n, char *out, size_t size)
{
	const char *names[64];
	ssize_t off;
	size_t k = 0, i;

	out[0] = '\0';
	for (off = 0; off < n && k < 64; off += (ssize_t)strlen(list + off) + 1)
		if (shown_xattr(list + off))
			names[k++] = list + off;
	qsort(names, k, sizeof(*names), cmp_names);
	for (i = 0; i < k; i++) {
		strncat(out, names[i], size - strlen(out) - 2);
		strcat(out, " ");
	}
}

static void verify_xattrs(struct ex *x, const char *p)
{
	char path[2][4200], l[2][4096], names[2][4096], v[2][4096];
	ssize_t n[2], m[2];
	char *name, *save = NULL;
	int i;

	for (i = 0; i < 2; i++) {
		snprintf(path[i], sizeof(path[i]), "/proc/self/fd/%d/%s",
			 x->root[i], p);
		n[i] = llistxattr(path[i], l[i], sizeof(l[i]));
		user_names(l[i], n[i], names[i], sizeof(names[i]));
	}
	if ((n[0] < 0) != (n[1] < 0) || strcmp(names[0], names[1]))
		ex_fail(x, "user xattrs of %s: view [%s], oracle [%s]", p,
			names[0], names[1]);
	for (name = strtok_r(names[1], " ", &save); name;
	     name = strtok_r(NULL, " ", &save)) {
		for (i = 0; i < 2; i++)
			m[i] = lgetxattr(path[i], name, v[i], sizeof(v[i]));
		if (m[0] != m[1] ||
		    (m[0] > 0 && memcmp(v[0], v[1], (size_t)m[0])))
			ex_fail(x,
				"xattr %s of %s: view %zd bytes, oracle %zd "
				"(or the values differ)",
				name, p, m[0], m[1]);
	}
}

/* A name and an open file are one object in the view iff in the oracle. */
static void verify_identity(struct ex *x, const char *p, const struct stat *st)
{
	int k;

	for (k = 0; k < NSLOT; k++) {
		struct slot *t = &x->slot[k];
		if (t->used &&
		    (st[0].st_ino == t->ino[0]) != (st[1].st_ino == t->ino[1]))
			ex_fail(x,
				"%s and slot %d (opened as %s) are %s the same "
				"file in the view, %s in the oracle",
				p, k, ex_paths[t->path],
				st[0].st_ino == t->ino[0] ? "" : "not",
				st[1].st_ino == t->ino[1] ? "the same"
							  : "different files");
	}
}

static void verify_content(struct ex *x, const char *p)
{
	ssize_t n[2];
	int e[2], i;

	for (i = 0; i < 2; i++) {
		int fd = openat(x->root[i], p, O_RDONLY | O_NOFOLLOW);
		n[i] = fd < 0 ? -1 : read_all(fd, x->buf[i]);
		e[i] = errno;
		if (fd >= 0)
			close(fd);
	}
	compare_data(x, p, n, e);
}

static void verify_link(struct ex *x, const char *p)
{
	char t[2][512] = {"", ""};
	int i;

	for (i = 0; i < 2; i++)
		if (readlinkat(x->root[i], p, t[i], sizeof(t[i]) - 1) < 0)
			snprintf(t[i], sizeof(t[i]), "(%s)", strerror(errno));
	if (strcmp(t[0], t[1]))
		ex_fail(x, "target of %s: view '%s', oracle '%s'", p, t[0],
			t[1]);
}

void ex_verify_name(struct ex *x, const char *p)
{
	struct stat st[2];
	int r[2], e[2], i;

	for (i = 0; i < 2; i++) {
		r[i] = fstatat(x->root[i], p, &st[i], AT_SYMLINK_NOFOLLOW);
		e[i] = errno;
	}
	if ((r[0] < 0) != (r[1] < 0) || (r[0] < 0 && e[0] != e[1]))
		ex_fail(x, "lstat %s: view %s, oracle %s", p,
			r[0] < 0 ? strerror(e[0]) : "exists",
			r[1] < 0 ? strerror(e[1]) : "exists");
	if (r[0] < 0)
		return;
	compare_stat(x, p, &st[0], &st[1]);
	verify_identity(x, p, st);
	if (S_ISREG(st[0].st_mode)) {
		verify_content(x, p);
	} else if (S_ISDIR(st[0].st_mode)) {
		char *l0 = listing(x->root[0], p), *l1 = listing(x->root[1], p);
		if (!l0 || !l1 || strcmp(l0, l1))
			ex_fail(x, "listing of %s: view [%s], oracle [%s]", p,
				l0 ? l0 : "?", l1 ? l1 : "?");
		free(l0);
		free(l1);
	} else if (S_ISLNK(st[0].st_mode)) {
		verify_link(x, p);
	}
	verify_xattrs(x, p);
}

void ex_verify(struct ex *x, int idx)
{
	ex_verify_name(x, ex_paths[idx]);
}

void ex_verify_parent(struct ex *x, int idx)
{
	char p[256];
	char *slash;

	snprintf(p, sizeof(p), "%s", ex_paths[idx]);
	slash = strrchr(p, '/');
	if (slash)
		*slash = '\0';
	ex_verify_name(x, slash ? p : ".");
}

/* The whole file through the slot's descriptors (or a reopening of them
 * when they are write-only). */
static void verify_slot_data(struct ex *x, struct slot *s, const char *what)
{
	ssize_t n[2];
	int e[2], i;

	for (i = 0; i < 2; i++) {
		int fd = s->fd[i];
		if ((s->flags & O_ACCMODE) == O_WRONLY) {
			char p[64];
			snprintf(p, sizeof(p), "/proc/self/fd/%d", s->fd[i]);
			fd = open(p, O_RDONLY);
		}
		n[i] = fd < 0 ? -1 : read_all(fd, x->buf[i]);
		e[i] = errno;
		if (fd >= 0 && fd != s->fd[i])
			close(fd);
	}
	compare_data(x, what, n, e);
}

static void verify_map(struct ex *x, struct slot *s, const char *what,
		       off_t size)
{
	size_t len = s->maplen < (size_t)size ? s->maplen : (size_t)size;
	size_t i;

	if (!s->map[0] || !memcmp(s->map[0], s->map[1], len))
		return;
	for (i = 0; s->map[0][i] == s->map[1][i]; i++)
		;
	ex_fail(x,
		"shared mapping of %s differs at %zu (view %02x, oracle "
		"%02x)",
		what, i, s->map[0][i], s->map[1][i]);
}

void ex_verify_slot(struct ex *x, struct slot *s)
{
	struct stat st[2];
	off_t pos[2];
	char what[300];
	int i;

	snprintf(what, sizeof(what), "slot %ld (opened as %s)",
		 (long)(s - x->slot), ex_paths[s->path]);
	for (i = 0; i < 2; i++)
		if (fstat(s->fd[i], &st[i]) < 0)
			ex_fail(x, "fstat %s: %s", what, strerror(errno));
	compare_stat(x, what, &st[0], &st[1]);
	if (st[0].st_ino != s->ino[0])
		ex_fail(x, "inode number of %s changed from %llu to %llu", what,
			(unsigned long long)s->ino[0],
			(unsigned long long)st[0].st_ino);
	if (!S_ISREG(st[0].st_mode))
		return;
	for (i = 0; i < 2; i++)
		pos[i] = lseek(s->fd[i], 0, SEEK_CUR);
	if (pos[0] != pos[1])
		ex_fail(x, "file offset of %s: view %lld, oracle %lld", what,
			(long long)pos[0], (long long)pos[1]);
	verify_slot_data(x, s, what);
	verify_map(x, s, what, st[1].st_size);
}

void ex_verify_file(struct ex *x, struct slot *s)
{
	int k;

	ex_verify_slot(x, s);
	for (k = 0; k < NSLOT; k++)
		if (x->slot[k].used && &x->slot[k] != s &&
		    x->slot[k].ino[1] == s->ino[1])
			ex_verify_slot(x, &x->slot[k]);
}

static bool fixed_path(const char *p)
{
	int k;

	for (k = 0; k < ex_npaths; k++)
		if (!strcmp(p, ex_paths[k]))
			return true;
	return false;
}

/* Names below DIR that are not among the fixed paths (made there by
 * renames of directories into one another), compared at any depth. */
static void verify_below(struct ex *x, const char *dir, int depth)
{
	int fd = openat(x->root[1], dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	struct dirent *de;
	char p[256];

	if (!d) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (snprintf(p, sizeof(p), "%s%s%s",
			     strcmp(dir, ".") ? dir : "",
			     strcmp(dir, ".") ? "/" : "",
			     de->d_name) >= (int)sizeof(p))
			continue;
		if (!fixed_path(p))
			ex_verify_name(x, p);
		if (de->d_type == DT_DIR && depth < 16)
			verify_below(x, p, depth + 1);
	}
	closedir(d);
}

void ex_verify_all(struct ex *x)
{
	int k;

	ex_verify_name(x, ".");
	for (k = 0; k < ex_npaths; k++)
		ex_verify(x, k);
	verify_below(x, ".", 0);
	for (k = 0; k < NSLOT; k++)
		if (x->slot[k].used)
			ex_verify_slot(x, &x->slot[k]);
}
