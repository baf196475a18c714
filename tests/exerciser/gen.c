// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The exerciser's choice of operations: each drawn from the group's seed
 * and from which slots are open (and how large their files are), never
 * from what the view returned, so that a run is reproducible.
 */
#include "exerciser.h"

#include <fcntl.h>
#include <linux/falloc.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/xattr.h>
#include <unistd.h>

/* The names each group works on; base.c makes BASE's. */
const char *const ex_paths[] = {
	"f0",	    "f1",	 "f2",	    "f3",    "big0",  "big1",
	"sp",	    "d0",	 "d1",	    "d3",    "d0/f0", "d0/f1",
	"d0/big0",  "d0/hl",	 "d0/new",  "d1/f0", "d1/hb", "d1/d2",
	"d1/d2/f0", "d1/d2/new", "d3/f0",   "d3/d4", "l0",    "l1",
	"ld",	    "ld/f0",	 "nowhere", "new0",  "new1",
};
const int ex_npaths = sizeof(ex_paths) / sizeof(ex_paths[0]);

struct slot *ex_used_slot(struct ex *x)
{
	int k = ex_pick(x, NSLOT), i;

	for (i = 0; i < NSLOT; i++)
		if (x->slot[(k + i) % NSLOT].used)
			return &x->slot[(k + i) % NSLOT];
	return NULL;
}

static long long slot_no(struct ex *x, struct slot *s)
{
	return s ? (long long)(s - x->slot) : -1;
}

/* Offsets near the start, near 64 KiB chunk boundaries, or anywhere. */
static long long offset(struct ex *x)
{
	long long off;

	switch (ex_pick(x, 3)) {
	case 0:
		return ex_pick(x, 70000);
	case 1:
		off = (long long)ex_pick(x, 22) * 65536 + ex_pick(x, 10000) -
		      5000;
		return off < 0 ? 0 : off;
	default:
		return ex_pick(x, 1400000);
	}
}

static long long length(struct ex *x)
{
	return ex_pick(x, 3) ? ex_pick(x, 9000) + 1 : ex_pick(x, 200000) + 1;
}

static long long data_seed(struct ex *x)
{
	return (long long)(ex_rand(x) >> 16);
}

static int open_flags(struct ex *x)
{
	static const int acc[] = {O_RDONLY, O_WRONLY, O_RDWR, O_RDWR};
	int flags = acc[ex_pick(x, 4)];

	if (ex_pick(x, 2))
		flags |= O_CREAT;
	if (ex_pick(x, 10) == 0)
		flags |= O_EXCL;
	if (ex_pick(x, 8) == 0)
		flags |= O_TRUNC;
	if (ex_pick(x, 6) == 0)
		flags |= O_APPEND;
	if (ex_pick(x, 20) == 0)
		flags |= O_NOFOLLOW;
	if (ex_pick(x, 20) == 0)
		flags |= O_DIRECTORY;
	return flags;
}

/* Half the time a name already open, so files get several descriptors. */
static bool gen_open(struct ex *x, struct op *op)
{
	static const int modes[] = {0644, 0600, 0755, 0444};
	struct slot *s = ex_pick(x, 2) ? ex_used_slot(x) : NULL;

	ex_op_init(op, OP_OPEN);
	op->a = s ? s->path : ex_pick(x, ex_npaths);
	op->s = ex_pick(x, NSLOT);
	op->flags = open_flags(x);
	op->mode = modes[ex_pick(x, 4)];
	return true;
}

/* Another slot open on the same file as @s, if any. */
static struct slot *other_slot(struct ex *x, struct slot *s)
{
	int k = ex_pick(x, NSLOT), i;

	for (i = 0; i < NSLOT; i++) {
		struct slot *t = &x->slot[(k + i) % NSLOT];
		if (t->used && t != s && t->ino[1] == s->ino[1])
			return t;
	}
	return NULL;
}

static void gen_io(struct ex *x, struct op *op, int kind, struct slot *s)
{
	ex_op_init(op, kind);
	op->s = slot_no(x, s);
	if (kind == OP_PREAD || kind == OP_PWRITE)
		op->off = offset(x);
	if (kind == OP_READ || kind == OP_PREAD)
		op->len = ex_pick(x, 4) ? length(x) : ex_pick(x, 1500000);
	else
		op->len = length(x);
	if (kind == OP_WRITE || kind == OP_PWRITE)
		op->d = data_seed(x);
}

static bool gen_rw(struct ex *x, struct op *op)
{
	static const int whence[] = {SEEK_SET, SEEK_CUR, SEEK_END};
	struct slot *s = ex_used_slot(x), *t;
	int w = ex_pick(x, 100);

	if (!s)
		return false;
	if (w < 22) {
		gen_io(x, op, OP_PREAD, s);
	} else if (w < 50) {
		gen_io(x, op, OP_PWRITE, s);
	} else if (w < 60) {
		gen_io(x, op, OP_READ, s);
	} else if (w < 72) {
		gen_io(x, op, OP_WRITE, s);
	} else if (w < 80) {
		ex_op_init(op, OP_SEEK);
		op->s = slot_no(x, s);
		op->flags = whence[ex_pick(x, 3)];
		op->off = op->flags == SEEK_SET ? offset(x)
						: ex_pick(x, 20000) - 10000;
	} else if (w < 86) {
		ex_op_init(op, OP_COPY);
		op->s = slot_no(x, s);
		op->t = slot_no(x, ex_used_slot(x));
		op->len = length(x);
		op->off = offset(x);
		op->off2 = offset(x);
		op->flags = ex_pick(x, 3) != 0; /* at offsets, not the files' */
	} else {
		/* written through one descriptor, read through another */
		t = other_slot(x, s);
		gen_io(x, op, OP_PWRITE, s);
		if (t) {
			gen_io(x, &x->pending, OP_PREAD, t);
			x->pending.off = op->off;
			x->has_pending = true;
		}
	}
	return true;
}

static bool gen_size(struct ex *x, struct op *op)
{
	static const int modes[] = {
		0,
		FALLOC_FL_KEEP_SIZE,
		FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
	};
	struct slot *s = ex_used_slot(x);
	int w = ex_pick(x, 3);

	if (w == 0 || !s) {
		ex_op_init(op, OP_TRUNCATE);
		op->a = ex_pick(x, ex_npaths);
	} else if (w == 1) {
		ex_op_init(op, OP_FTRUNCATE);
		op->s = slot_no(x, s);
	} else {
		ex_op_init(op, OP_FALLOCATE);
		op->s = slot_no(x, s);
		op->flags = modes[ex_pick(x, 4)];
		op->off = offset(x);
		op->len = length(x);
		return true;
	}
	op->len = ex_pick(x, 4) ? ex_pick(x, 20000) : ex_pick(x, 1500000);
	return true;
}

/* The file's size, from the oracle; 0 when it is not a regular file. */
static long long file_size(struct slot *s)
{
	struct stat st;

	if (fstat(s->fd[1], &st) < 0 || !S_ISREG(st.st_mode))
		return 0;
	return st.st_size;
}

static bool gen_map(struct ex *x, struct op *op)
{
	static const int msync_flags[] = {0, MS_SYNC, MS_ASYNC};
	struct slot *s = ex_used_slot(x);
	long long size = s ? file_size(s) : 0;
	int w = ex_pick(x, 100);

	if (size == 0)
		return false;
	ex_op_init(op, w < 45	? OP_MAP_ONCE
		       : w < 65 ? OP_MAP_KEEP
				: OP_MAP_WRITE);
	op->s = slot_no(x, s);
	if (op->kind == OP_MAP_KEEP)
		return true;
	if (op->kind == OP_MAP_WRITE &&
	    (!s->map[0] || (s->flags & O_ACCMODE) != O_RDWR))
		return false;
	if (op->kind == OP_MAP_WRITE && (size_t)size > s->maplen)
		size = (long long)s->maplen;
	op->flags = ex_pick(x, 3) != 0; /* shared */
	op->mode = msync_flags[ex_pick(x, 3)];
	op->off = ex_pick(x, (int)size);
	op->len = ex_pick(x, 3) ? ex_pick(x, 8192) + 1 : ex_pick(x, 300000) + 1;
	if (op->off + op->len > size)
		op->len = size - op->off;
	op->d = data_seed(x);
	return true;
}

static bool gen_namespace(struct ex *x, struct op *op)
{
	static const int kinds[] = {OP_RENAME, OP_RENAME, OP_RENAME,
				    OP_UNLINK, OP_RMDIR,  OP_MKDIR,
				    OP_LINK,   OP_SYMLINK};
	static const unsigned int rflags[] = {0, 0, RENAME_NOREPLACE,
					      RENAME_EXCHANGE};
	static const int dmodes[] = {0755, 0700, 0777, 01777};

	ex_op_init(op, kinds[ex_pick(x, 8)]);
	op->a = ex_pick(x, ex_npaths);
	if (op->kind == OP_RENAME || op->kind == OP_LINK ||
	    op->kind == OP_SYMLINK)
		op->b = ex_pick(x, ex_npaths);
	if (op->kind == OP_SYMLINK) {
		op->a = -1;
		op->name = ex_pick(x, ex_ntargets);
	}
	if (op->kind == OP_RENAME)
		op->flags = rflags[ex_pick(x, 4)];
	if (op->kind == OP_LINK)
		op->flags = ex_pick(x, 4) ? 0 : AT_SYMLINK_FOLLOW;
	if (op->kind == OP_MKDIR)
		op->mode = dmodes[ex_pick(x, 4)];
	return true;
}

static void gen_time(struct ex *x, long long *sec, long long *nsec)
{
	switch (ex_pick(x, 5)) {
	case 0:
		*sec = 0;
		*nsec = UTIME_NOW;
		break;
	case 1:
		*sec = 0;
		*nsec = UTIME_OMIT;
		break;
	default:
		*sec = 1000000000 + ex_pick(x, 400000000);
		*nsec = ex_pick(x, 1000000000);
	}
}

/* chmod, chown, utimensat by name or through an open descriptor. */
static bool gen_meta(struct ex *x, struct op *op)
{
	static const int modes[] = {0600,  0644,  0755,	 0400, 0666,
				    04755, 02755, 01777, 0};
	static const int uids[] = {0, 1000, 1001, -1};
	static const int gids[] = {0, 100, 1001, -1};
	struct slot *s = ex_pick(x, 3) ? NULL : ex_used_slot(x);
	int what = ex_pick(x, 3);

	ex_op_init(op, what == 0   ? OP_CHMOD
		       : what == 1 ? OP_CHOWN
				   : OP_UTIMENS);
	op->s = slot_no(x, s);
	op->a = s ? -1 : ex_pick(x, ex_npaths);
	if (op->kind == OP_CHMOD) {
		op->mode = modes[ex_pick(x, 9)];
		return true;
	}
	op->flags = ex_pick(x, 3) ? 0 : AT_SYMLINK_NOFOLLOW;
	if (op->kind == OP_CHOWN) {
		op->uid = uids[ex_pick(x, 4)];
		op->gid = gids[ex_pick(x, 4)];
		return true;
	}
	gen_time(x, &op->t0, &op->n0);
	gen_time(x, &op->t1, &op->n1);
	op->null = ex_pick(x, 8) == 0;
	return true;
}

/* Extended attributes by name or through an open descriptor. */
static bool gen_xattr(struct ex *x, struct op *op)
{
	static const int kinds[] = {OP_SETXATTR, OP_GETXATTR, OP_REMOVEXATTR,
				    OP_LISTXATTR};
	static const int sizes[] = {0, 10, 4096};
	static const int flags[] = {0, 0, XATTR_CREATE, XATTR_REPLACE};
	struct slot *s = ex_pick(x, 3) ? NULL : ex_used_slot(x);
	int w = ex_pick(x, 6);

	ex_op_init(op, kinds[w < 2 ? 0 : w < 4 ? 1 : w - 2]);
	op->s = slot_no(x, s);
	op->a = s ? -1 : ex_pick(x, ex_npaths);
	op->name = ex_pick(x, ex_nxnames);
	if (op->kind == OP_SETXATTR) {
		op->len = ex_pick(x, 6) ? ex_pick(x, 300) : ex_pick(x, 3000);
		op->flags = flags[ex_pick(x, 4)];
		op->d = data_seed(x);
	} else if (op->kind == OP_GETXATTR) {
		op->len = sizes[ex_pick(x, 3)];
	}
	return true;
}

/* Close, fsync, dropping caches, a commit (with --commit), a comparison of
 * every name. */
static bool gen_other(struct ex *x, struct op *op)
{
	struct slot *s = ex_used_slot(x);
	int w = ex_pick(x, 100);

	if (w < 40 && s) {
		ex_op_init(op, OP_CLOSE);
		op->s = slot_no(x, s);
	} else if (w < 75 && s) {
		ex_op_init(op, OP_FSYNC);
		op->s = slot_no(x, s);
		op->flags = ex_pick(x, 2); /* fdatasync */
	} else if (w < 80 && x->drop_caches && ex_pick(x, 4) == 0) {
		ex_op_init(op, OP_DROP);
	} else if (w < 88 && x->cowfs && ex_pick(x, 2) == 0) {
		ex_op_init(op, OP_COMMIT);
		op->a = ex_pick(x, ex_npaths);
	} else {
		ex_op_init(op, OP_CHECK);
	}
	return true;
}

static bool gen_once(struct ex *x, struct op *op)
{
	int w = ex_pick(x, 100);

	if (w < 12)
		return gen_open(x, op);
	if (w < 44)
		return gen_rw(x, op);
	if (w < 52)
		return gen_size(x, op);
	if (w < 60)
		return gen_map(x, op);
	if (w < 74)
		return gen_namespace(x, op);
	if (w < 82)
		return gen_meta(x, op);
	if (w < 88)
		return gen_xattr(x, op);
	return gen_other(x, op);
}

void ex_gen(struct ex *x, struct op *op)
{
	if (x->has_pending) {
		*op = x->pending;
		x->has_pending = false;
		return;
	}
	while (!gen_once(x, op))
		;
}
