// SPDX-License-Identifier: GPL-2.0-or-later
/* The operations of the exerciser, each done alike on view and oracle. */
#include "exerciser.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

const char *const ex_paths[] = {
	"f0",	 "f1",	     "f2",    "f3",    "big0",	  "big1",
	"d0",	 "d1",	     "d0/f0", "d0/f1", "d0/big0", "d1/f0",
	"d1/d2", "d1/d2/f0", "l0",    "new0",  "new1",	  "d0/new",
};
const int ex_npaths = sizeof(ex_paths) / sizeof(ex_paths[0]);

/* Runs EXPR (using i) on both sides, keeping results and errno. */
#define BOTH(r, e, EXPR)                                                       \
	do {                                                                   \
		for (int i = 0; i < 2; i++) {                                  \
			errno = 0;                                             \
			r[i] = (long)(EXPR);                                   \
			e[i] = errno;                                          \
		}                                                              \
	} while (0)

static int pick(struct ex *x, int n)
{
	return (int)(ex_rand(x) % (uint64_t)n);
}

static const char *path(struct ex *x, int *idx)
{
	*idx = pick(x, ex_npaths);
	return ex_paths[*idx];
}

static void fill(struct ex *x, unsigned char *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		b[i] = (unsigned char)(ex_rand(x) >> 24);
}

static struct slot *used_slot(struct ex *x)
{
	struct slot *s = &x->slot[pick(x, NSLOT)];

	return s->used ? s : NULL;
}

static void close_slot(struct slot *s)
{
	close(s->fd[0]);
	close(s->fd[1]);
	s->used = false;
}

static void op_open(struct ex *x)
{
	static const int acc[] = {O_RDONLY, O_WRONLY, O_RDWR, O_RDWR};
	struct slot *s = &x->slot[pick(x, NSLOT)];
	int idx, flags = acc[pick(x, 4)], fd[2], e[2];
	long r[2];
	const char *p = path(x, &idx);

	if (pick(x, 2))
		flags |= O_CREAT;
	if (pick(x, 10) == 0)
		flags |= O_EXCL;
	if (flags & (O_WRONLY | O_RDWR) && pick(x, 7) == 0)
		flags |= O_TRUNC;
	if (pick(x, 7) == 0)
		flags |= O_APPEND;
	if (s->used)
		close_slot(s);
	ex_note(x, "open %s flags %#o -> slot %ld", p, flags,
		(long)(s - x->slot));
	BOTH(r, e,
	     (fd[i] = openat(x->root[i], p, flags | O_CLOEXEC, 0644)) < 0 ? -1
									  : 0);
	ex_same(x, "open", r[0], e[0], r[1], e[1]);
	if (r[0] >= 0)
		*s = (struct slot){true, idx, {fd[0], fd[1]}, flags};
	ex_verify(x, idx);
}

static void op_read(struct ex *x)
{
	struct slot *s = used_slot(x);
	size_t len = (size_t)pick(x, 70000);
	off_t off = pick(x, 1400000);
	int e[2];
	long r[2];

	if (!s)
		return;
	ex_note(x, "pread %s %zu@%lld", ex_paths[s->path], len, (long long)off);
	BOTH(r, e, pread(s->fd[i], x->buf[i], len, off));
	ex_same(x, "pread", r[0], e[0], r[1], e[1]);
	if (r[0] > 0 && memcmp(x->buf[0], x->buf[1], (size_t)r[0]))
		ex_fail(x, "pread of %s returned different bytes",
			ex_paths[s->path]);
}

static void op_write(struct ex *x)
{
	struct slot *s = used_slot(x);
	size_t len = (size_t)pick(x, 3) ? (size_t)pick(x, 9000) + 1
					: (size_t)pick(x, 200000) + 1;
	off_t off = pick(x, 1300000);
	int e[2];
	long r[2];

	if (!s)
		return;
	fill(x, x->buf[0], len);
	ex_note(x, "pwrite %s %zu@%lld", ex_paths[s->path], len,
		(long long)off);
	BOTH(r, e, pwrite(s->fd[i], x->buf[0], len, off));
	ex_same(x, "pwrite", r[0], e[0], r[1], e[1]);
	ex_verify(x, s->path);
}

static int truncate_at(int root, const char *p, off_t size)
{
	int fd = openat(root, p, O_WRONLY | O_NOFOLLOW), ret, err;

	if (fd < 0)
		return -1;
	ret = ftruncate(fd, size);
	err = errno;
	close(fd);
	errno = err;
	return ret;
}

static int xattr_at(int root, const char *p, const char *val)
{
	char pp[64];

	snprintf(pp, sizeof(pp), "/proc/self/fd/%d/%s", root, p);
	return val ? lsetxattr(pp, "user.k0", val, strlen(val), 0)
		   : lremovexattr(pp, "user.k0");
}

static void op_truncate(struct ex *x)
{
	struct slot *s = pick(x, 2) ? used_slot(x) : NULL;
	off_t size = pick(x, 4) ? pick(x, 20000) : pick(x, 1500000);
	int idx, e[2];
	long r[2];
	const char *p;

	if (s) {
		ex_note(x, "ftruncate %s %lld", ex_paths[s->path],
			(long long)size);
		BOTH(r, e, ftruncate(s->fd[i], size));
		ex_same(x, "ftruncate", r[0], e[0], r[1], e[1]);
		ex_verify(x, s->path);
		return;
	}
	p = path(x, &idx);
	ex_note(x, "truncate %s %lld", p, (long long)size);
	BOTH(r, e, truncate_at(x->root[i], p, size));
	ex_same(x, "truncate", r[0], e[0], r[1], e[1]);
	ex_verify(x, idx);
}

static void op_fallocate(struct ex *x)
{
	struct slot *s = used_slot(x);
	int mode = pick(x, 2) ? FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE : 0;
	off_t off = pick(x, 1300000), len = pick(x, 200000) + 1;
	int e[2];
	long r[2];

	if (!s)
		return;
	ex_note(x, "fallocate %s mode %d %lld+%lld", ex_paths[s->path], mode,
		(long long)off, (long long)len);
	BOTH(r, e, fallocate(s->fd[i], mode, off, len));
	ex_same(x, "fallocate", r[0], e[0], r[1], e[1]);
	ex_verify(x, s->path);
}

/* A shared (or private) mapping written and synced on both sides. */
static void op_mmap(struct ex *x)
{
	struct slot *s = used_slot(x);
	bool shared = pick(x, 3) != 0;
	struct stat st;
	unsigned char *m[2];
	size_t off, len;
	int e[2];
	long r[2];

	if (!s || fstat(s->fd[1], &st) < 0 || st.st_size == 0)
		return;
	off = (size_t)pick(x, (int)st.st_size);
	len = (size_t)pick(x, 8192) + 1;
	if (off + len > (size_t)st.st_size)
		len = (size_t)st.st_size - off;
	fill(x, x->buf[0], len);
	ex_note(x, "mmap %s %s write %zu@%zu", shared ? "shared" : "private",
		ex_paths[s->path], len, off);
	BOTH(r, e,
	     (m[i] = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE,
			  shared ? MAP_SHARED : MAP_PRIVATE, s->fd[i], 0)) ==
			     MAP_FAILED
		     ? -1
		     : 0);
	ex_same(x, "mmap", r[0], e[0], r[1], e[1]);
	if (r[0] < 0)
		return;
	for (int i = 0; i < 2; i++) {
		memcpy(m[i] + off, x->buf[0], len);
		if (shared)
			msync(m[i], (size_t)st.st_size, MS_SYNC);
		munmap(m[i], (size_t)st.st_size);
	}
	ex_verify(x, s->path);
}

static void op_namespace(struct ex *x)
{
	int a, b, e[2], what = pick(x, 7);
	const char *pa = path(x, &a), *pb = path(x, &b);
	static const unsigned int rflags[] = {0, 0, RENAME_NOREPLACE,
					      RENAME_EXCHANGE};
	unsigned int fl = rflags[pick(x, 4)];
	long r[2];

	switch (what) {
	case 0:
	case 1:
		ex_note(x, "rename %s %s flags %u", pa, pb, fl);
		BOTH(r, e, renameat2(x->root[i], pa, x->root[i], pb, fl));
		break;
	case 2:
		ex_note(x, "unlink %s", pa);
		BOTH(r, e, unlinkat(x->root[i], pa, 0));
		break;
	case 3:
		ex_note(x, "rmdir %s", pa);
		BOTH(r, e, unlinkat(x->root[i], pa, AT_REMOVEDIR));
		break;
	case 4:
		ex_note(x, "mkdir %s", pa);
		BOTH(r, e, mkdirat(x->root[i], pa, 0755));
		break;
	case 5:
		ex_note(x, "link %s %s", pa, pb);
		BOTH(r, e, linkat(x->root[i], pa, x->root[i], pb, 0));
		break;
	default:
		ex_note(x, "symlink %s -> %s", pb, pa);
		BOTH(r, e, symlinkat(pa, x->root[i], pb));
		break;
	}
	ex_same(x, "namespace", r[0], e[0], r[1], e[1]);
	ex_verify(x, a);
	ex_verify(x, b);
}

static void op_meta(struct ex *x)
{
	static const mode_t modes[] = {0600, 0644, 0755, 0400, 0666};
	struct timespec ts[2] = {{1000000000, 5}, {1200000000, 7}};
	int idx, e[2], what = pick(x, 4);
	const char *p = path(x, &idx);
	mode_t mode = modes[pick(x, 5)];
	char val[16];
	long r[2];

	snprintf(val, sizeof(val), "v%d", pick(x, 100));
	if (what == 0) {
		ex_note(x, "chmod %s %o", p, mode);
		BOTH(r, e, fchmodat(x->root[i], p, mode, 0));
	} else if (what == 1) {
		ex_note(x, "utimens %s", p);
		BOTH(r, e, utimensat(x->root[i], p, ts, AT_SYMLINK_NOFOLLOW));
	} else {
		ex_note(x, "%sxattr %s user.k0", what == 2 ? "set" : "remove",
			p);
		BOTH(r, e, xattr_at(x->root[i], p, what == 2 ? val : NULL));
	}
	ex_same(x, "metadata", r[0], e[0], r[1], e[1]);
	ex_verify(x, idx);
}

static void op_other(struct ex *x)
{
	struct slot *s = used_slot(x);
	int idx, what = pick(x, 4), e[2];
	long r[2];

	if (what == 0 && s) {
		ex_note(x, "close slot %ld (%s)", (long)(s - x->slot),
			ex_paths[s->path]);
		close_slot(s);
	} else if (what == 1 && s) {
		ex_note(x, "fsync %s", ex_paths[s->path]);
		BOTH(r, e, fsync(s->fd[i]));
		ex_same(x, "fsync", r[0], e[0], r[1], e[1]);
	} else if (what == 2 && x->drop_caches && pick(x, 20) == 0) {
		int fd = open("/proc/sys/vm/drop_caches", O_WRONLY);
		ex_note(x, "drop caches");
		sync();
		if (fd >= 0 && write(fd, "3", 1) == 1)
			close(fd);
		else if (fd >= 0)
			close(fd);
	} else {
		path(x, &idx);
		ex_note(x, "verify %s", ex_paths[idx]);
		ex_verify(x, idx);
	}
}

void ex_step(struct ex *x)
{
	int w = pick(x, 100);

	snprintf(x->log[x->opno % LOG_KEEP], sizeof(x->log[0]),
		 "%ld: (nothing to do)", x->opno);
	if (w < 14)
		op_open(x);
	else if (w < 28)
		op_read(x);
	else if (w < 44)
		op_write(x);
	else if (w < 51)
		op_truncate(x);
	else if (w < 56)
		op_fallocate(x);
	else if (w < 64)
		op_mmap(x);
	else if (w < 78)
		op_namespace(x);
	else if (w < 88)
		op_meta(x);
	else
		op_other(x);
}

void ex_close_all(struct ex *x)
{
	int i;

	for (i = 0; i < NSLOT; i++)
		if (x->slot[i].used)
			close_slot(&x->slot[i]);
}
