// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * cowfs-demo FILE: replays the classic failure case of copy-on-write
 * filesystems on FILE, a file of a cowfs view that so far exists only in
 * BASE. A read-only descriptor and a shared read-only mapping are taken
 * before the first write; then the file is written with pwrite(), mapped
 * shared and writable, changed through the mapping and written again.
 * After each step every view of the file is printed next to what ext4
 * would show, and the step is judged "agree" or "DISAGREE".
 *
 * Exit status: 0 when every step agrees, 1 when one does not or a system
 * call fails, 2 for a usage error.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#define CMP_MAX	 4096 /* bytes compared at each step */
#define SHOW_MAX 40   /* bytes printed per view */
#define LABEL_W	 34   /* width of the label column */

/* cowfs' read-only virtual xattr: where the file's data lives now. */
#define STATE_XATTR "user.cowfs.state"

struct demo {
	const char *path;
	int ro_fd;	       /* O_RDONLY, opened before any write */
	int rw_fd;	       /* O_RDWR, -1 until step 1 */
	unsigned char *ro_map; /* MAP_SHARED PROT_READ of ro_fd */
	unsigned char *rw_map; /* MAP_SHARED read-write of rw_fd, or NULL */
	size_t map_len;	       /* length of both mappings (file size) */
	size_t len;	       /* bytes compared: min(file size, CMP_MAX) */
	unsigned char want[CMP_MAX]; /* what ext4 would show */
	int disagreements;	     /* steps that did not agree */
};

static _Noreturn void die(const char *what)
{
	fprintf(stderr, "cowfs-demo: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* Prints @len bytes of @buf (at most SHOW_MAX) quoted, with C escapes. */
static void print_quoted(const unsigned char *buf, size_t len)
{
	size_t i;

	putchar('"');
	for (i = 0; i < len && i < SHOW_MAX; i++) {
		if (buf[i] == '\n')
			fputs("\\n", stdout);
		else if (buf[i] == '"' || buf[i] == '\\')
			printf("\\%c", buf[i]);
		else if (buf[i] >= 0x20 && buf[i] < 0x7f)
			putchar(buf[i]);
		else
			printf("\\x%02x", buf[i]);
	}
	putchar('"');
	if (len > SHOW_MAX)
		fputs("...", stdout);
}

/* Reads up to @len bytes at offset 0 of @fd; returns the count. */
static size_t read_at_zero(int fd, unsigned char *buf, size_t len)
{
	size_t got = 0;
	ssize_t n;

	while (got < len) {
		n = pread(fd, buf + got, len - got, (off_t)got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die("pread");
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return got;
}

/*
 * Prints one view of the file and compares it with what ext4 would show.
 * Returns true when it matches.
 */
static bool show_view(const struct demo *d, const char *label,
		      const unsigned char *buf, size_t got)
{
	bool same = got == d->len && memcmp(buf, d->want, d->len) == 0;

	printf("    %-*s ", LABEL_W, label);
	print_quoted(buf, got);
	puts(same ? "" : "   <-- differs");
	return same;
}

/*
 * Prints where cowfs keeps the file's data, if it says so. Only meaningful
 * before the first write and after a sync: in between, the kernel's
 * writeback cache may hold written data that cowfs has not seen yet.
 */
static void show_state(const struct demo *d)
{
	char state[64];
	ssize_t n = getxattr(d->path, STATE_XATTR, state, sizeof(state) - 1);

	if (n < 0)
		return; /* not a cowfs view, or an older cowfs */
	state[n] = '\0';
	printf("    %-*s %s\n", LABEL_W, "cowfs keeps the data in", state);
}

/*
 * Shows every view of the file after a step and judges the step: all
 * views must show what ext4 would show. @state adds cowfs' own account.
 */
static void check_step(struct demo *d, int step, const char *title, bool state)
{
	unsigned char buf[CMP_MAX];
	bool ok = true;
	size_t got;

	printf("\nStep %d: %s\n", step, title);
	printf("    %-*s ", LABEL_W, "expected (what ext4 shows)");
	print_quoted(d->want, d->len);
	putchar('\n');

	if (d->rw_map) {
		memcpy(buf, d->rw_map, d->len);
		ok &= show_view(d, "read-write shared mapping", buf, d->len);
	}
	if (d->rw_fd >= 0) {
		got = read_at_zero(d->rw_fd, buf, d->len);
		ok &= show_view(d, "pread() on the read-write fd", buf, got);
	}
	got = read_at_zero(d->ro_fd, buf, d->len);
	ok &= show_view(d, "pread() on the read-only fd (*)", buf, got);
	memcpy(buf, d->ro_map, d->len);
	ok &= show_view(d, "read-only shared mapping (*)", buf, d->len);
	if (state)
		show_state(d);

	if (ok) {
		puts("    => agree");
	} else {
		puts("    => DISAGREE: a view does not show the file's "
		     "current content");
		d->disagreements++;
	}
}

/* Writes @text at offset 0 of the read-write fd, as one pwrite(). */
static void pwrite_at_zero(struct demo *d, const char *text)
{
	size_t len = strlen(text);
	ssize_t n;

	do {
		n = pwrite(d->rw_fd, text, len, 0);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		die("pwrite");
	if ((size_t)n != len) {
		fprintf(stderr, "cowfs-demo: short pwrite (%zd of %zu)\n", n,
			len);
		exit(1);
	}
	memcpy(d->want, text, len < d->len ? len : d->len);
}

static void *map_file(int fd, size_t len, int prot)
{
	void *p = mmap(NULL, len, prot, MAP_SHARED, fd, 0);

	if (p == MAP_FAILED)
		die("mmap");
	return p;
}

/*
 * Step 0: the read-only descriptor and mapping that other tools leave
 * behind on the original once the file is copied into the store.
 */
static void open_before_write(struct demo *d)
{
	struct stat st;

	d->ro_fd = open(d->path, O_RDONLY | O_CLOEXEC);
	if (d->ro_fd < 0)
		die(d->path);
	if (fstat(d->ro_fd, &st) < 0)
		die("fstat");
	if (!S_ISREG(st.st_mode) || st.st_size < 4) {
		fprintf(stderr,
			"cowfs-demo: %s: need a regular file of at least "
			"4 bytes\n",
			d->path);
		exit(2);
	}
	d->map_len = (size_t)st.st_size;
	d->len = d->map_len < CMP_MAX ? d->map_len : CMP_MAX;
	d->ro_map = map_file(d->ro_fd, d->map_len, PROT_READ);
	/* What the file holds before anything is written. */
	if (read_at_zero(d->ro_fd, d->want, d->len) != d->len) {
		fprintf(stderr, "cowfs-demo: %s: short read\n", d->path);
		exit(1);
	}
}

/* Pushes the mapping's and the fd's changes down to cowfs' store. */
static void make_durable(const struct demo *d)
{
	if (msync(d->rw_map, d->map_len, MS_SYNC) < 0)
		die("msync");
	if (fsync(d->rw_fd) < 0)
		die("fsync");
}

static void release(struct demo *d)
{
	munmap(d->rw_map, d->map_len);
	munmap(d->ro_map, d->map_len);
	close(d->rw_fd);
	close(d->ro_fd);
}

int main(int argc, char **argv)
{
	static struct demo d;

	if (argc != 2) {
		fprintf(stderr, "usage: cowfs-demo FILE\n"
				"  FILE: a file of a cowfs view that is still "
				"only in BASE, 4 bytes or more\n");
		return 2;
	}
	/* Keep step output and error messages in order when piped. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	d.path = argv[1];
	d.rw_fd = -1;
	printf("The classic copy-on-write failure case, on %s\n", d.path);
	printf("(*) opened before the first write: tools that copy the "
	       "file away\n    underneath such views leave them showing the "
	       "original.\n");

	open_before_write(&d);
	check_step(&d, 0,
		   "open(O_RDONLY) and mmap(MAP_SHARED, PROT_READ) before "
		   "any write",
		   true);

	d.rw_fd = open(d.path, O_RDWR | O_CLOEXEC);
	if (d.rw_fd < 0)
		die(d.path);
	check_step(&d, 1, "open(O_RDWR): opening for write copies nothing",
		   true);

	pwrite_at_zero(&d, "1234");
	check_step(&d, 2, "pwrite(\"1234\", offset 0): the first write", false);

	d.rw_map = map_file(d.rw_fd, d.map_len, PROT_READ | PROT_WRITE);
	check_step(&d, 3, "mmap(MAP_SHARED, PROT_READ|PROT_WRITE)", false);

	d.rw_map[0] = 'x';
	d.want[0] = 'x';
	check_step(&d, 4, "set byte 0 to 'x' through the mapping", false);

	pwrite_at_zero(&d, "4321");
	check_step(&d, 5, "pwrite(\"4321\", offset 0)", false);

	make_durable(&d);
	printf("\nAfter msync() and fsync():\n");
	show_state(&d);
	release(&d);

	if (d.disagreements) {
		printf("\nRESULT: %d step(s) DISAGREE.\n", d.disagreements);
		return 1;
	}
	printf("\nRESULT: every view agreed at every step.\n");
	return 0;
}
