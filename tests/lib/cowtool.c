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
 *   cowtool hold FILE N             keeps a read-only fd and a shared map of
 *                                   FILE; per stdin line prints the first N
 *                                   bytes as seen by each ("map=.. read=..")
 *   cowtool dirscan DIR             readdir while the directory changes:
 *                                   old entries once each, no duplicates
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
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define die(...)                                                               \
	do {                                                                   \
		fprintf(stderr, __VA_ARGS__);                                  \
		fputc('\n', stderr);                                           \
		exit(1);                                                       \
	} while (0)

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

/* Shows, on request, what an early read-only handle and mapping see. */
static int cmd_hold(char **a)
{
	size_t n = (size_t)atoi(a[1]), i;
	int fd = open(a[0], O_RDONLY);
	char line[64], *buf = malloc(n + 1);
	volatile char *p;

	if (fd < 0 || !buf || n == 0)
		die("hold: %s", strerror(errno));
	p = map(fd, n, PROT_READ, MAP_SHARED);
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

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int args;
		int (*fn)(char **);
	} cmds[] = {{"rename", 3, cmd_rename},	   {"seekmap", 1, cmd_seekmap},
		    {"coherent", 1, cmd_coherent}, {"private", 1, cmd_private},
		    {"twoproc", 1, cmd_twoproc},   {"direct", 1, cmd_direct},
		    {"grow", 1, cmd_grow},	   {"dirscan", 1, cmd_dirscan},
		    {"hold", 2, cmd_hold}};
	size_t i;

	for (i = 0; argc > 1 && i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(argv[1], cmds[i].name) && argc - 2 >= cmds[i].args)
			return cmds[i].fn(argv + 2);
	fprintf(stderr, "usage: see the head of cowtool.c\n");
	return 2;
}
