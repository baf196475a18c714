// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * cowtool: small syscall driver for the scenario cases, for what the shell
 * cannot do. Every command prints what it saw and exits 0 when the check
 * holds, 1 with a message when it does not, 2 on a bad invocation.
 *   cowtool rename noreplace|exchange OLD NEW   -> "ok" or "errno NAME"
 *   cowtool seekmap FILE                         -> data/hole extents
 *   cowtool coherent FILE [cold]    ro fd + shared map before a write agree
 *   cowtool private FILE            MAP_PRIVATE writes reach nobody
 *   cowtool twoproc FILE            shared maps in two processes agree
 *   cowtool direct FILE             O_DIRECT read sees a buffered write
 *   cowtool grow FILE               growth and truncation under a mapping
 *   cowtool hold FILE N [maponly]   keeps a read-only fd and a shared map of
 *                                   FILE; per stdin line prints the first N
 *                                   bytes as seen by each ("map=.. read=..");
 *                                   maponly: the map alone, fd closed
 *   cowtool dirscan DIR             readdir while the directory changes:
 *                                   old entries once each, no duplicates
 *   cowtool opsbase DIR             fills DIR with the files "ops" works on
 *   cowtool ops DIR FIRST LAST [JOURNAL|nosync]
 *                                   runs the numbered operations FIRST..LAST
 *                                   (LAST 0: until one fails) on DIR, each a
 *                                   function of its number only, appending
 *                                   each number to JOURNAL once it returned
 *                                   (nosync: no journal, and no fsync)
 *   cowtool mapwrite FILE OFF TEXT  writes TEXT at OFF through a shared
 *                                   mapping, msync, munmap, close: "ok" or
 *                                   "errno NAME" of the first that failed
 *   cowtool fill FILE BLOCK MAX     appends BLOCK-byte writes of 'f' to FILE
 *                                   until one fails or MAX bytes are written
 *                                   (a guard): "wrote N errno NAME|none
 *                                   close ok|NAME"
 *   cowtool killon DIR PID MAXUS [SKIP]
 *                                   prints "ready", waits (10 s at most)
 *                                   for a name to appear in DIR (past SKIP
 *                                   others), then after
 *                                   0..MAXUS microseconds SIGKILLs PID;
 *                                   prints the name, or "timeout"
 *   cowtool copyrace DIR N          changes of names and metadata raced
 *                                   against copy-ups (cowtool_race.c)
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "cowtool.h"

static void drop_caches(void)
{
	int fd = open("/proc/sys/vm/drop_caches", O_WRONLY);

	sync();
	if (fd < 0 || write(fd, "3", 1) != 1)
		die("cannot drop caches");
	close(fd);
}

static const char *errname(int e)
{
	switch (e) {
	case EEXIST:
		return "EEXIST";
	case ENOENT:
		return "ENOENT";
	case ENOTEMPTY:
		return "ENOTEMPTY";
	case ENOTDIR:
		return "ENOTDIR";
	case EISDIR:
		return "EISDIR";
	case EINVAL:
		return "EINVAL";
	case EXDEV:
		return "EXDEV";
	case ENOSPC:
		return "ENOSPC";
	default:
		return strerror(e);
	}
}

static int cmd_rename(char **a)
{
	unsigned int flags = !strcmp(a[0], "noreplace")	 ? RENAME_NOREPLACE
			     : !strcmp(a[0], "exchange") ? RENAME_EXCHANGE
							 : 0;

	if (renameat2(AT_FDCWD, a[1], AT_FDCWD, a[2], flags) == 0)
		printf("ok\n");
	else
		printf("errno %s\n", errname(errno));
	return 0;
}

static int cmd_seekmap(char **a)
{
	int fd = open(a[0], O_RDONLY);
	off_t off = 0, data, hole;

	if (fd < 0)
		die("open %s: %s", a[0], strerror(errno));
	while ((data = lseek(fd, off, SEEK_DATA)) >= 0) {
		hole = lseek(fd, data, SEEK_HOLE);
		printf("data %lld %lld\n", (long long)data, (long long)hole);
		off = hole;
	}
	printf("end %s\n", errno == ENXIO ? "ENXIO" : strerror(errno));
	return 0;
}

static void *map(int fd, size_t len, int prot, int flags)
{
	void *p = mmap(NULL, len, prot, flags, fd, 0);

	if (p == MAP_FAILED)
		die("mmap: %s", strerror(errno));
	return p;
}

static void expect(const char *step, const char *what, const char *got,
		   const char *want, size_t n)
{
	if (memcmp(got, want, n))
		die("%s: %s shows '%.*s', expected '%.*s'", step, what, (int)n,
		    got, (int)n, want);
}

static int cmd_coherent(char **a)
{
	bool cold = a[1] && !strcmp(a[1], "cold");
	int ro = open(a[0], O_RDONLY), rw;
	char buf[8];
	char *rmap, *wmap;

	if (ro < 0)
		die("open: %s", strerror(errno));
	rmap = map(ro, 4096, PROT_READ, MAP_SHARED);
	if (pread(ro, buf, 4, 0) != 4) /* warm the cache */
		die("read");
	rw = open(a[0], O_RDWR);
	if (cold)
		drop_caches();
	if (pwrite(rw, "1234", 4, 0) != 4)
		die("pwrite: %s", strerror(errno));
	if (cold)
		drop_caches();
	if (pread(ro, buf, 4, 0) != 4)
		die("pread");
	expect("after first write", "read-only fd", buf, "1234", 4);
	expect("after first write", "read-only mapping", rmap, "1234", 4);
	wmap = map(rw, 4096, PROT_READ | PROT_WRITE, MAP_SHARED);
	wmap[0] = 'x';
	if (cold && msync(wmap, 4096, MS_SYNC) == 0)
		drop_caches();
	if (pread(ro, buf, 4, 0) != 4)
		die("pread");
	expect("after mapping write", "read-only fd", buf, "x234", 4);
	expect("after mapping write", "read-only mapping", rmap, "x234", 4);
	if (pwrite(rw, "4321", 4, 0) != 4)
		die("pwrite");
	if (cold)
		drop_caches();
	expect("after write()", "writable mapping", wmap, "4321", 4);
	expect("after write()", "read-only mapping", rmap, "4321", 4);
	if (msync(wmap, 4096, MS_SYNC) || fsync(rw))
		die("msync/fsync: %s", strerror(errno));
	printf("coherent%s\n", cold ? " (cold)" : "");
	return 0;
}

static int cmd_private(char **a)
{
	int fd = open(a[0], O_RDONLY), fd2;
	char buf[4], *p, *q;

	if (fd < 0)
		die("open: %s", strerror(errno));
	p = map(fd, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE);
	q = map(fd, 4096, PROT_READ, MAP_SHARED);
	memcpy(p, "PRIV", 4);
	fd2 = open(a[0], O_RDONLY);
	if (pread(fd2, buf, 4, 0) != 4)
		die("pread");
	if (!memcmp(buf, "PRIV", 4) || !memcmp(q, "PRIV", 4))
		die("a MAP_PRIVATE write is visible to others");
	expect("private", "private mapping", p, "PRIV", 4);
	munmap(p, 4096);
	printf("private stays private\n");
	return 0;
}

static int cmd_twoproc(char **a)
{
	int fd = open(a[0], O_RDWR), go[2], done[2];
	char *p, c;
	pid_t pid;

	if (fd < 0 || pipe(go) || pipe(done))
		die("setup: %s", strerror(errno));
	p = map(fd, 4096, PROT_READ | PROT_WRITE, MAP_SHARED);
	pid = fork();
	if (pid == 0) {
		int cfd = open(a[0], O_RDWR);
		char *cp = map(cfd, 4096, PROT_READ | PROT_WRITE, MAP_SHARED);
		memcpy(cp, "CHLD", 4); /* the first write: copy-up */
		if (write(done[1], "x", 1) != 1 || read(go[0], &c, 1) != 1)
			_exit(3);
		_exit(memcmp(cp, "PRNT", 4) ? 4 : 0);
	}
	if (read(done[0], &c, 1) != 1)
		die("child");
	expect("two processes", "parent mapping", p, "CHLD", 4);
	char buf[4];
	if (pread(fd, buf, 4, 0) != 4)
		die("pread");
	expect("two processes", "parent read()", buf, "CHLD", 4);
	if (pwrite(fd, "PRNT", 4, 0) != 4 || write(go[1], "x", 1) != 1)
		die("pwrite");
	int st;
	waitpid(pid, &st, 0);
	if (!WIFEXITED(st) || WEXITSTATUS(st))
		die("child mapping did not see the parent's write (%d)", st);
	printf("two processes agree\n");
	return 0;
}

static int cmd_direct(char **a)
{
	int fd = open(a[0], O_RDWR), dfd;
	void *buf;

	if (fd < 0 || posix_memalign(&buf, 4096, 4096))
		die("setup");
	if (pwrite(fd, "DIRECT", 6, 4096) != 6)
		die("pwrite");
	dfd = open(a[0], O_RDONLY | O_DIRECT);
	if (dfd < 0)
		die("O_DIRECT open: %s", strerror(errno));
	if (pread(dfd, buf, 4096, 4096) < 6)
		die("O_DIRECT read: %s", strerror(errno));
	expect("direct", "O_DIRECT read", buf, "DIRECT", 6);
	printf("O_DIRECT sees the buffered write\n");
	return 0;
}

static sigjmp_buf jb;

static void on_bus(int sig)
{
	siglongjmp(jb, sig);
}

static int cmd_grow(char **a)
{
	int fd = open(a[0], O_RDWR);
	volatile char *p;
	struct stat st;
	char c;

	if (fd < 0 || fstat(fd, &st))
		die("open");
	p = map(fd, 3 * 4096, PROT_READ, MAP_SHARED);
	if (ftruncate(fd, 3 * 4096) || pwrite(fd, "G", 1, 2 * 4096 + 5) != 1)
		die("grow: %s", strerror(errno));
	if (p[2 * 4096 + 5] != 'G')
		die("the mapping does not see the grown part");
	if (ftruncate(fd, 4096))
		die("truncate");
	signal(SIGBUS, on_bus);
	if (sigsetjmp(jb, 1) == 0) {
		c = p[2 * 4096];
		die("read past EOF through the mapping gave %d, not SIGBUS", c);
	}
	printf("growth and truncation under a mapping as on ext4\n");
	return 0;
}

/* Shows, on request, what an early read-only handle and mapping see
 * (with "maponly", the mapping alone: the descriptor is closed). */
static int cmd_hold(char **a)
{
	size_t n = (size_t)atoi(a[1]), i;
	int fd = open(a[0], O_RDONLY);
	char line[64], *buf = malloc(n + 1);
	volatile char *p;

	if (fd < 0 || !buf || n == 0)
		die("hold: %s", strerror(errno));
	p = map(fd, n, PROT_READ, MAP_SHARED);
	if (a[2] && !strcmp(a[2], "maponly")) {
		close(fd);
		fd = -1;
	}
	printf("ready\n");
	fflush(stdout);
	while (fgets(line, sizeof(line), stdin)) {
		ssize_t got = pread(fd, buf, n, 0);
		printf("map=");
		for (i = 0; i < n; i++)
			putchar(p[i] >= 0x20 && p[i] < 0x7f ? p[i] : 0x2e);
		printf(" read=");
		for (i = 0; got > 0 && i < (size_t)got; i++)
			putchar(buf[i] >= 0x20 && buf[i] < 0x7f ? buf[i]
								: 0x2e);
		putchar(0x0a);
		fflush(stdout);
	}
	free(buf);
	return 0;
}

#define SCAN_MAX 65536

static int list_names(const char *dir, char **names)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (!d)
		die("opendir %s: %s", dir, strerror(errno));
	while ((e = readdir(d)) && n < SCAN_MAX)
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			names[n++] = strdup(e->d_name);
	closedir(d);
	return n;
}

static int count_name(char **names, int n, const char *name)
{
	int i, c = 0;

	for (i = 0; i < n; i++)
		c += !strcmp(names[i], name);
	return c;
}

/* Reads DIR entry by entry, creating and removing entries as it goes. */
static int scan_changing(const char *dir, char **seen)
{
	char path[4096];
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0, made = 0;

	if (!d)
		die("opendir %s: %s", dir, strerror(errno));
	while ((e = readdir(d)) && n < SCAN_MAX) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		seen[n++] = strdup(e->d_name);
		if (n % 7)
			continue;
		snprintf(path, sizeof(path), "%s/scan-new-%d", dir, made++);
		close(open(path, O_CREAT | O_WRONLY, 0644));
		if (made % 2 == 0) {
			snprintf(path, sizeof(path), "%s/scan-new-%d", dir,
				 made - 2);
			unlink(path);
		}
	}
	closedir(d);
	return n;
}

static int cmd_dirscan(char **a)
{
	static char *before[SCAN_MAX], *seen[SCAN_MAX];
	int nb = list_names(a[0], before), ns = scan_changing(a[0], seen);
	int i;

	for (i = 0; i < nb; i++)
		if (count_name(seen, ns, before[i]) != 1)
			die("%s listed %d times", before[i],
			    count_name(seen, ns, before[i]));
	for (i = 0; i < ns; i++)
		if (count_name(seen, ns, seen[i]) != 1)
			die("%s listed more than once", seen[i]);
	printf("%d entries listed once each while the directory changed\n", nb);
	return 0;
}

/*
 * Numbered operations for the crash cases: operation N does the same on any
 * tree in the same state, so a view can be compared with a plain copy of
 * BASE that ran the same numbers. Each changes the tree by one system call
 * (a write stays within one page), so a crash leaves it before or after.
 */
enum {
	OPS_S = 300,
	OPS_M = 60,
	OPS_B = 24,
	OPS_N = 60,
	OPS_Q = 10,
	OPS_X = 40,
	OPS_E = 15,
	OPS_H = 12,
	OPS_D = 20,
	OPS_A = 20,
	OPS_KINDS = 13
};
#define OPS_MSIZE 64000
#define OPS_BSIZE 300000

static void ops_fill(const char *dir, const char *name, size_t size)
{
	char path[4096], buf[4096];
	unsigned long x = 88172645463325252UL ^ size;
	size_t done, i;
	int fd;

	for (i = 0; name[i]; i++)
		x = x * 31 + (unsigned char)name[i];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		die("create %s: %s", path, strerror(errno));
	for (done = 0; done < size; done += i) {
		for (i = 0; i < sizeof(buf) && done + i < size; i++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			buf[i] = (char)x;
		}
		if (write(fd, buf, i) != (ssize_t)i)
			die("write %s: %s", path, strerror(errno));
	}
	close(fd);
}

static void ops_fill_pool(const char *dir, const char *pre, int n, size_t size,
			  size_t step)
{
	char name[64];
	int i;

	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "%s%d", pre, i);
		ops_fill(dir, name, size + (size_t)i * step);
	}
}

static int cmd_opsbase(char **a)
{
	char name[64], p1[4096], p2[4096];
	int i;

	ops_fill_pool(a[0], "s", OPS_S, 100, 19);
	ops_fill_pool(a[0], "m", OPS_M, OPS_MSIZE, 0);
	ops_fill_pool(a[0], "b", OPS_B, OPS_BSIZE, 0);
	ops_fill_pool(a[0], "n", OPS_N, 300, 0);
	ops_fill_pool(a[0], "x", OPS_X, 500, 0);
	ops_fill_pool(a[0], "e", 2 * OPS_E, 50, 1);
	for (i = 0; i < OPS_H; i++) {
		snprintf(name, sizeof(name), "h%da", i);
		ops_fill(a[0], name, 3000);
		snprintf(p1, sizeof(p1), "%s/h%da", a[0], i);
		snprintf(p2, sizeof(p2), "%s/h%db", a[0], i);
		if (link(p1, p2))
			die("link %s: %s", p2, strerror(errno));
	}
	snprintf(p1, sizeof(p1), "%s/nd", a[0]);
	mkdir(p1, 0755);
	for (i = 0; i < OPS_Q; i++) {
		snprintf(p1, sizeof(p1), "%s/q%d/sub", a[0], i);
		snprintf(p2, sizeof(p2), "%s/q%d", a[0], i);
		if (mkdir(p2, 0755) || mkdir(p1, 0750))
			die("mkdir %s: %s", p1, strerror(errno));
		snprintf(name, sizeof(name), "q%d/f", i);
		ops_fill(a[0], name, 200);
		snprintf(name, sizeof(name), "q%d/sub/g", i);
		ops_fill(a[0], name, 100);
	}
	snprintf(p1, sizeof(p1), "%s/s1", a[0]);
	return chmod(p1, 04755) ? 1 : 0;
}

struct ops_ctx {
	const char *dir;
	bool nosync; /* skip fsync (for a tree that is not crashed) */
	long i, k;
	char what[4400];
};

static int ops_fail(struct ops_ctx *c, const char *what, const char *name)
{
	snprintf(c->what, sizeof(c->what), "%s %s: %s", what, name,
		 strerror(errno));
	return -1;
}

/* DIR/PRE<n>SUF in @buf (4096 bytes) */
static void ops_path(struct ops_ctx *c, char *buf, const char *pre, long n,
		     const char *suf)
{
	snprintf(buf, 4096, "%s/%s%ld%s", c->dir, pre, n, suf);
}

/* An offset from which 16 bytes stay inside one page of a SIZE file. */
static long ops_page(long seed, long size)
{
	return (seed * 4096) % (size - 4096) + (seed * 37) % 4000;
}

static int ops_put(struct ops_ctx *c, const char *path, long off, bool sync)
{
	char text[32];
	int fd, n = snprintf(text, sizeof(text), "<%ld>", c->i);

	fd = open(path, O_WRONLY);
	if (fd < 0)
		return ops_fail(c, "open", path);
	if (pwrite(fd, text, (size_t)n, off) != n || (sync && fsync(fd) < 0)) {
		close(fd);
		return ops_fail(c, "write", path);
	}
	return close(fd) ? ops_fail(c, "close", path) : 0;
}

static int ops_trunc_open(struct ops_ctx *c, const char *path)
{
	int fd = open(path, O_WRONLY | O_TRUNC);

	if (fd < 0)
		return ops_fail(c, "open O_TRUNC", path);
	return close(fd) ? ops_fail(c, "close", path) : 0;
}

/* Renames whichever of the names exists to the next one, in a cycle. */
static int ops_rotate(struct ops_ctx *c, const char **pre, int n, long id)
{
	char from[4096], to[4096];
	struct stat st;
	int j;

	for (j = 0; j < n; j++) {
		ops_path(c, from, pre[j], id, "");
		if (lstat(from, &st) == 0)
			break;
	}
	if (j == n)
		return ops_fail(c, "rotate: none of", from);
	ops_path(c, to, pre[(j + 1) % n], id, "");
	return rename(from, to) ? ops_fail(c, "rename", from) : 0;
}

/* absent -> empty -> written -> absent */
static int ops_cycle_file(struct ops_ctx *c, const char *path)
{
	struct stat st;
	int fd;

	if (lstat(path, &st) < 0) {
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0640);
		if (fd < 0)
			return ops_fail(c, "create", path);
		return close(fd) ? ops_fail(c, "close", path) : 0;
	}
	if (st.st_size == 0)
		return ops_put(c, path, 0, true);
	return unlink(path) ? ops_fail(c, "unlink", path) : 0;
}

static int ops_cycle_dir(struct ops_ctx *c, const char *path)
{
	if (mkdir(path, 0705) == 0)
		return 0;
	if (errno != EEXIST)
		return ops_fail(c, "mkdir", path);
	return rmdir(path) ? ops_fail(c, "rmdir", path) : 0;
}

static int ops_names(struct ops_ctx *c, char *p)
{
	static const char *nfmt[] = {"n", "nd/n"};
	static const char *qfmt[] = {"q", "Q", "nd/qq"};
	long k = c->k;
	char q[4096];

	switch (c->i % OPS_KINDS) {
	case 4:
		return ops_rotate(c, nfmt, 2, k % OPS_N);
	case 5:
		return ops_rotate(c, qfmt, 3, k % OPS_Q);
	case 6:
		ops_path(c, p, "x", k % OPS_X, "");
		return ops_cycle_file(c, p);
	case 7:
		ops_path(c, p, "e", 2 * (k % OPS_E), "");
		ops_path(c, q, "e", 2 * (k % OPS_E) + 1, "");
		return renameat2(AT_FDCWD, p, AT_FDCWD, q, RENAME_EXCHANGE)
			       ? ops_fail(c, "exchange", p)
			       : 0;
	default:
		ops_path(c, p, "nd/d", k % OPS_D, "");
		return ops_cycle_dir(c, p);
	}
}

static int ops_one(struct ops_ctx *c)
{
	char p[4096], v[32];
	long k = c->k;
	bool sync = k % 2;

	switch (c->i % OPS_KINDS) {
	case 0:
		ops_path(c, p, "s", k * 7 % OPS_S, "");
		return ops_put(c, p, k * 37 % 3000, sync);
	case 1:
		ops_path(c, p, "m", k / 3 % OPS_M, "");
		return ops_put(c, p, ops_page(k, OPS_MSIZE), sync);
	case 2:
		ops_path(c, p, "b", k / 8 % OPS_B, "");
		return ops_put(c, p, ops_page(k * 13, OPS_BSIZE), true);
	case 3:
		ops_path(c, p, "s", (k * 11 + 3) % OPS_S, "");
		return chmod(p, 0600 + (mode_t)(k % 4) * 2)
			       ? ops_fail(c, "chmod", p)
			       : 0;
	case 8:
		ops_path(c, p, "h", k / 16 % OPS_H, k % 2 ? "b" : "a");
		return ops_put(c, p, k * 53 % 2900, sync);
	case 9:
		if (k % 2 == 0)
			ops_path(c, p, "m", (k * 3 + 1) % OPS_M, "");
		else
			ops_path(c, p, "b", (k / 8 + 1) % OPS_B, "");
		return truncate(p, k % 2 == 0 ? k * 4999 % OPS_MSIZE
					      : OPS_BSIZE + (k % 5 - 2) * 30000)
			       ? ops_fail(c, "truncate", p)
			       : 0;
	case 12: /* truncated at open: a copy of nothing, then a write */
		ops_path(c, p, "s", 200 + k % 100, "");
		return k % 2 ? ops_put(c, p, k % 100, sync)
			     : ops_trunc_open(c, p);
	case 10:
		ops_path(c, p, "s", (k * 13 + 5) % OPS_A, "");
		snprintf(v, sizeof(v), "v%ld", c->i);
		return setxattr(p, k % 3 ? "user.t1" : "user.t2", v, strlen(v),
				0)
			       ? ops_fail(c, "setxattr", p)
			       : 0;
	default:
		return ops_names(c, p);
	}
}

static int cmd_ops(char **a)
{
	struct ops_ctx c = {.dir = a[0]};
	long last = atol(a[2]);
	int jfd = -1;
	char line[32];

	c.nosync = a[3] && !strcmp(a[3], "nosync");
	if (a[3] && !c.nosync) {
		jfd = open(a[3], O_WRONLY | O_APPEND | O_CREAT, 0644);
		if (jfd < 0)
			die("journal %s: %s", a[3], strerror(errno));
	}
	for (c.i = atol(a[1]); last == 0 || c.i <= last; c.i++) {
		c.k = c.i / OPS_KINDS;
		if (ops_one(&c) < 0)
			die("op %ld: %s", c.i, c.what);
		if (jfd >= 0 && write(jfd, line,
				      (size_t)snprintf(line, sizeof(line),
						       "%ld\n", c.i)) < 0)
			die("journal: %s", strerror(errno));
	}
	return 0;
}

static int cmd_fill(char **a)
{
	size_t block = (size_t)atol(a[1]);
	long long total = 0, max = atoll(a[2]);
	char *buf = malloc(block);
	ssize_t n = 0;
	int fd = open(a[0], O_WRONLY | O_CREAT | O_APPEND, 0644);

	if (fd < 0 || !buf || block == 0)
		die("fill %s: %s", a[0], strerror(errno));
	memset(buf, 'f', block);
	while (total < max && (n = write(fd, buf, block)) > 0)
		total += n;
	printf("wrote %lld errno %s", total, n < 0 ? errname(errno) : "none");
	printf(" close %s\n", close(fd) ? errname(errno) : "ok");
	free(buf);
	return 0;
}

static int cmd_mapwrite(char **a)
{
	int fd = open(a[0], O_RDWR);
	size_t off = (size_t)atol(a[1]), len = strlen(a[2]);
	long page = sysconf(_SC_PAGESIZE);
	size_t base = off - off % (size_t)page;
	char *p;
	int err = 0;

	if (fd < 0)
		die("open %s: %s", a[0], strerror(errno));
	p = mmap(NULL, off - base + len, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		 (off_t)base);
	if (p == MAP_FAILED)
		die("mmap: %s", strerror(errno));
	memcpy(p + (off - base), a[2], len);
	if (msync(p, off - base + len, MS_SYNC))
		err = errno;
	munmap(p, off - base + len);
	if (close(fd) && !err)
		err = errno;
	if (err)
		printf("errno %s\n", errname(err));
	else
		printf("ok\n");
	return 0;
}

static void on_alarm(int sig)
{
}

/* Waits for the (@skip + 1)th name created in or moved into inotify @fd. */
static bool wait_name(int fd, long skip, char *name, size_t len)
{
	char buf[4096] __attribute__((aligned(8)));
	const struct inotify_event *ev;
	ssize_t n;
	char *p;

	for (;;) {
		n = read(fd, buf, sizeof(buf));
		if (n <= 0)
			return false;
		for (p = buf; p < buf + n; p += sizeof(*ev) + ev->len) {
			ev = (const struct inotify_event *)p;
			if (skip-- > 0)
				continue;
			snprintf(name, len, "%s", ev->len ? ev->name : "?");
			return true;
		}
	}
}

static int cmd_killon(char **a)
{
	int fd = inotify_init1(IN_CLOEXEC), pid = atoi(a[1]);
	struct sigaction sa = {.sa_handler = on_alarm};
	long maxus = atol(a[2]);
	char name[256] = "timeout";
	struct timespec ts = {0};

	if (fd < 0 || inotify_add_watch(fd, a[0], IN_CREATE | IN_MOVED_TO) < 0)
		die("inotify %s: %s", a[0], strerror(errno));
	printf("ready\n");
	fflush(stdout);
	sigaction(SIGALRM, &sa, NULL); /* no SA_RESTART: read() gives up */
	alarm(10);
	srandom((unsigned)getpid());
	if (wait_name(fd, a[3] ? atol(a[3]) : 0, name, sizeof(name)) &&
	    maxus > 0) {
		ts.tv_nsec = random() % maxus * 1000;
		nanosleep(&ts, NULL);
	}
	if (kill(pid, SIGKILL))
		die("kill %d: %s", pid, strerror(errno));
	printf("%s\n", name);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int args;
		int (*fn)(char **);
	} cmds[] = {
		{"rename", 3, cmd_rename},     {"seekmap", 1, cmd_seekmap},
		{"coherent", 1, cmd_coherent}, {"private", 1, cmd_private},
		{"twoproc", 1, cmd_twoproc},   {"direct", 1, cmd_direct},
		{"grow", 1, cmd_grow},	       {"dirscan", 1, cmd_dirscan},
		{"hold", 2, cmd_hold},	       {"opsbase", 1, cmd_opsbase},
		{"ops", 3, cmd_ops},	       {"killon", 3, cmd_killon},
		{"fill", 3, cmd_fill},	       {"mapwrite", 3, cmd_mapwrite},
		{"copyrace", 2, cmd_copyrace}};
	size_t i;

	for (i = 0; argc > 1 && i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(argv[1], cmds[i].name) && argc - 2 >= cmds[i].args)
			return cmds[i].fn(argv + 2);
	fprintf(stderr, "usage: see the head of cowtool.c\n");
	return 2;
}
