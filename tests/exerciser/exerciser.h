/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The differential exerciser: the same seeded random operations on a
 * cowfs view and on a plain copy of BASE (the oracle), compared after each.
 * Index 0 of every two-element array is the view, index 1 the oracle.
 * An operation is a record (struct op) drawn from the seed (gen.c), logged
 * as one line of text that --replay reads back (opfmt.c), and executed on
 * both sides (exec_*.c).
 */
#ifndef COW_EXERCISER_H
#define COW_EXERCISER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#define NSLOT	 12
#define LOG_RING (1 << 15)
#define LOG_LINE 240
#define MAX_DATA (4 << 20)
/* Times before this (2017) were set explicitly and must match exactly. */
#define OLD_TIME 1500000000

/* The operation log of one group, shared by the processes of a pair. */
struct ex_log {
	long next;    /* number of the next operation */
	bool stop;    /* a pair: the run is over */
	long commits; /* commits run (they may change inode numbers) */
	char line[LOG_RING][LOG_LINE];
};

/*
 * One operation. Which fields an operation uses is in its entry of
 * ex_types (opfmt.c); s and t are slots, a and b names (indexes into
 * ex_paths), -1 when unused; d seeds the bytes written.
 */
struct op {
	int kind;
	long long s, t, a, b, flags, mode, off, off2, len, uid, gid, name, d;
	long long t0, n0, t1, n1, null;
};

/* An open file, the same object on both sides. */
struct slot {
	bool used;
	int path; /* the name it was opened by (index into ex_paths) */
	int fd[2];
	int flags;
	ino_t ino[2];	       /* at open */
	unsigned char *map[2]; /* a shared mapping kept across operations */
	size_t maplen;
};

struct ex {
	uint64_t rng;
	long opno;
	const char *name; /* "w0", "w1", ... or "p.a", "p.b" */
	const char *dir;  /* the group's directory, relative to the view */
	const char *view, *cowfs; /* --view; --commit (NULL: no commits) */
	int root[2]; /* the group's directory in the view, the oracle */
	struct slot slot[NSLOT];
	struct ex_log *log;
	bool verbose, drop_caches;
	bool writethrough;     /* --writethrough: see exerciser.c */
	unsigned char *buf[2]; /* MAX_DATA each */
	unsigned char *data;   /* MAX_DATA: bytes to write */
	struct op pending;     /* drawn already, to run next */
	long commits_seen;     /* log->commits when slots were last updated */
	bool has_pending;
};

enum op_kind {
	OP_OPEN,
	OP_CLOSE,
	OP_READ,
	OP_PREAD,
	OP_WRITE,
	OP_PWRITE,
	OP_SEEK,
	OP_COPY,
	OP_TRUNCATE,
	OP_FTRUNCATE,
	OP_FALLOCATE,
	OP_FSYNC,
	OP_DROP,
	OP_CHECK,
	OP_LOOK,
	OP_MAP_ONCE,
	OP_MAP_KEEP,
	OP_MAP_WRITE,
	OP_RENAME,
	OP_UNLINK,
	OP_RMDIR,
	OP_MKDIR,
	OP_LINK,
	OP_SYMLINK,
	OP_CHMOD,
	OP_CHOWN,
	OP_UTIMENS,
	OP_SETXATTR,
	OP_GETXATTR,
	OP_REMOVEXATTR,
	OP_LISTXATTR,
	OP_COMMIT,
	OP_NKINDS
};

struct op_type {
	const char *name;
	const char *fields; /* the fields it uses, in logging order */
	void (*exec)(struct ex *x, const struct op *op);
};

extern const struct op_type ex_types[OP_NKINDS];
extern const char *const ex_paths[];
extern const int ex_npaths;
extern const char *const ex_targets[]; /* of symlinks (name) */
extern const char *const ex_xnames[];  /* of xattrs (name) */
extern const int ex_ntargets, ex_nxnames;

/* exerciser.c */
uint64_t ex_rand(struct ex *x);
int ex_pick(struct ex *x, int n);
/* Appends to the current operation's log line. */
void ex_note(struct ex *x, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Reports a mismatch with the seed and the operations that led to it. */
void ex_fail(struct ex *x, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), noreturn));
/* Both sides returned alike: the same value, or -1 with the same errno. */
void ex_same(struct ex *x, const char *what, long r0, int e0, long r1, int e1);

/* Runs EXPR (which may use i, the side) on both sides. */
#define BOTH(r, e, EXPR)                                                       \
	do {                                                                   \
		for (int i = 0; i < 2; i++) {                                  \
			errno = 0;                                             \
			r[i] = (long)(EXPR);                                   \
			e[i] = errno;                                          \
		}                                                              \
	} while (0)

/* opfmt.c: operations as text */
void ex_op_init(struct op *op, int kind);
void ex_op_format(const struct op *op, char *out, size_t size);
/* 0, or -1 if @text is no operation. */
int ex_op_parse(const char *text, struct op *op);
/* Logs @op as operation x->opno and executes it. */
void ex_exec(struct ex *x, const struct op *op);

/* gen.c: draws the next operation from the seed and the open slots */
void ex_gen(struct ex *x, struct op *op);
struct slot *ex_used_slot(struct ex *x);

/* verify.c: comparisons of everything observable */
void ex_verify(struct ex *x, int idx);
void ex_verify_name(struct ex *x, const char *p);
void ex_verify_parent(struct ex *x, int idx);
void ex_verify_slot(struct ex *x, struct slot *s);
/* The slot and every other slot open on the same file. */
void ex_verify_file(struct ex *x, struct slot *s);
void ex_verify_all(struct ex *x);

/* exec_data.c, exec_map.c, exec_ns.c, exec_xattr.c */
struct slot *ex_slot(struct ex *x, long long s);
void ex_fill(struct ex *x, uint64_t seed, size_t n);
void ex_close_slot(struct slot *s);
void ex_close_all(struct ex *x);
void ex_exec_open(struct ex *x, const struct op *op);
void ex_exec_close(struct ex *x, const struct op *op);
void ex_exec_read(struct ex *x, const struct op *op);
void ex_exec_write(struct ex *x, const struct op *op);
void ex_exec_seek(struct ex *x, const struct op *op);
void ex_exec_copy(struct ex *x, const struct op *op);
void ex_exec_truncate(struct ex *x, const struct op *op);
void ex_exec_ftruncate(struct ex *x, const struct op *op);
void ex_exec_fallocate(struct ex *x, const struct op *op);
void ex_exec_fsync(struct ex *x, const struct op *op);
void ex_exec_drop(struct ex *x, const struct op *op);
void ex_exec_check(struct ex *x, const struct op *op);
void ex_exec_look(struct ex *x, const struct op *op);
void ex_exec_map_once(struct ex *x, const struct op *op);
void ex_exec_map_keep(struct ex *x, const struct op *op);
void ex_exec_map_write(struct ex *x, const struct op *op);
void ex_exec_namespace(struct ex *x, const struct op *op);
void ex_exec_meta(struct ex *x, const struct op *op);
void ex_exec_xattr(struct ex *x, const struct op *op);
void ex_exec_commit(struct ex *x, const struct op *op);
void ex_after_commits(struct ex *x);

/* base.c: makes the groups' starting trees in @top */
int ex_make_base(const char *top, int jobs, bool pair);

#endif
