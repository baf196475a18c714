// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The exerciser's operations on open files, done alike on both sides:
 * opens, reads and writes (sequential and at offsets, each checked through
 * every descriptor open on the same file), seeks, copy_file_range,
 * truncation, fallocate, fsync, close, dropping the page cache, checks.
 * An operation on a slot that is not open is skipped (in a replay).
 */
#include "exerciser.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

struct slot *ex_slot(struct ex *x, long long s)
{
	if (s < 0 || s >= NSLOT || !x->slot[s].used) {
		ex_note(x, " (slot %lld not open: skipped)", s);
		return NULL;
	}
	return &x->slot[s];
}

void ex_fill(struct ex *x, uint64_t seed, size_t n)
{
	uint64_t v = seed * 0x9e3779b97f4a7c15ULL + 1;
	size_t i;

	for (i = 0; i < n; i += 8) {
		v ^= v << 13;
		v ^= v >> 7;
		v ^= v << 17;
		memcpy(x->data + i, &v, n - i < 8 ? n - i : 8);
	}
}

void ex_close_slot(struct slot *s)
{
	int i;

	for (i = 0; i < 2; i++) {
		if (s->map[i])
			munmap(s->map[i], s->maplen);
		s->map[i] = NULL;
		close(s->fd[i]);
	}
	s->used = false;
}

void ex_close_all(struct ex *x)
{
	int k;

	for (k = 0; k < NSLOT; k++)
		if (x->slot[k].used)
			ex_close_slot(&x->slot[k]);
}

void ex_exec_open(struct ex *x, const struct op *op)
{
	struct slot *s = &x->slot[op->s];
	int fd[2] = {-1, -1}, e[2], k;
	const char *p = ex_paths[op->a];
	long r[2];

	if (s->used)
		ex_close_slot(s);
	BOTH(r, e,
	     (fd[i] = openat(x->root[i], p, (int)op->flags | O_CLOEXEC,
			     (mode_t)op->mode)));
	ex_same(x, "open", r[0] < 0 ? -1 : 0, e[0], r[1] < 0 ? -1 : 0, e[1]);
	if (fd[0] >= 0) {
		*s = (struct slot){.used = true,
				   .path = (int)op->a,
				   .flags = (int)op->flags};
		for (k = 0; k < 2; k++) {
			struct stat st;
			s->fd[k] = fd[k];
			s->ino[k] = fstat(fd[k], &st) < 0 ? 0 : st.st_ino;
		}
		ex_verify_file(x, s);
	}
	ex_verify(x, (int)op->a);
	ex_verify_parent(x, (int)op->a);
}

void ex_exec_close(struct ex *x, const struct op *op)
{
	struct slot *s = ex_slot(x, op->s);

	if (!s)
		return;
	ex_note(x, " %s", ex_paths[s->path]);
	ex_close_slot(s);
	ex_verify(x, s->path);
}

void ex_exec_read(struct ex *x, const struct op *op)
{
	struct slot *s = ex_slot(x, op->s);
	size_t len = (size_t)op->len;
	bool at = op->kind == OP_PREAD;
	int e[2];
	long r[2];

	if (!s || len > MAX_DATA)
		return;
	if (at)
		BOTH(r, e, pread(s->fd[i], x->buf[i], len, op->off));
	else
		BOTH(r, e, read(s->fd[i], x->buf[i], len));
	ex_same(x, "read", r[0], e[0], r[1], e[1]);
	if (r[0] > 0 && memcmp(x->buf[0], x->buf[1], (size_t)r[0]))
		ex_fail(x, "the bytes read from slot %lld (%s) differ", op->s,
			ex_paths[s->path]);
	if (!at)
		ex_verify_slot(x, s);
}

void ex_exec_write(struct ex *x, const struct op *op)
{
	struct slot *s = ex_slot(x, op->s);
	size_t len = (size_t)op->len;
	int e[2];
	long r[2];

	if (!s || len > MAX_DATA)
		return;
	ex_fill(x, (uint64_t)op->d, len);
	if (op->kind == OP_PWRITE)
		BOTH(r, e, pwrite(s->fd[i], x->data, len, op->off));
	else
		BOTH(r, e, write(s->fd[i], x->data, len));
	ex_same(x, "write", r[0], e[0], r[1], e[1]);
	ex_verify_file(x, s);
	ex_verify(x, s->path);
}

void ex_exec_seek(struct ex *x, const struct op *op)
{
	struct slot *s = ex_slot(x, op->s);
	struct stat st;
	int e[2];
	long r[2];

	/* Offsets in directories are each filesystem's own cookies. */
	if (!s || fstat(s->fd[1], &st) < 0 || S_ISDIR(st.st_mode))
		return;
	BOTH(r, e, lseek(s->fd[i], op->off, (int)op->flags));
	ex_same(x, "lseek", r[0], e[0], r[1], e[1]);
}

void ex_exec_copy(struct ex *x, const struct op *op)
{
	struct slot *s = ex_slot(x, op->s), *t = s ? ex_slot(x, op->t) : NULL;
	off_t in[2], out[2];
	bool at = op->flags;
	int e[2];
	long r[2];

	if (!t)
		return;
	BOTH(r, e,
	     (in[i] = op->off, out[i] = op->off2,
	      copy_file_range(s->fd[i], at ? &in[i] : NULL, t->fd[i],
			      at ? &out[i] : NULL, (size_t)op->len, 0)));
	ex_same(x, "copy_file_range", r[0], e[0], r[1], e[1]);
	ex_verify_file(x, t);
	if (t->ino[1] != s->ino[1])
		ex_verify_slot(x, s);
}

static int truncate_at(int root, const char *p, off_t size)
{
	char path[4200];

	snprintf(path, sizeof(path), "/proc/self/fd/%d/%s", root, p);
	return truncate(path, size);
}

void ex_exec_truncate(struct ex *x, const struct op *op)
{
	int e[2];
	long r[2];

	BOTH(r, e, truncate_at(x->root[i], ex_paths[op->a], op->len));
	ex_same(x, "truncate", r[0], e[0], r[1], e[1]);
	ex_verify(x, (int)op->a);
}

void ex_exec_ftruncate(struct ex *x, const struct op *op)
{
	struct slot *s = ex_slot(x, op->s);
	int e[2];
	long r[2];

	if (!s)
		return;
	BOTH(r, e, ftruncate(s->fd[i], op->len));
	ex_same(x, "ftruncate", r[0], e[0], r[1], e[1]);
	ex_verify_file(x, s);
	ex_verify(x, s->path);
}

void ex_exec_fallocate(struct ex *x, const struct op *op)
{
	struct slot *s = ex_slot(x, op->s);
	int e[2];
	long r[2];

	if (!s)
		return;
	BOTH(r, e, fallocate(s->fd[i], (int)op->flags, op->off, op->len));
	ex_same(x, "fallocate", r[0], e[0], r[1], e[1]);
	ex_verify_file(x, s);
	ex_verify(x, s->path);
}

void ex_exec_fsync(struct ex *x, const struct op *op)
{
	struct slot *s = ex_slot(x, op->s);
	int e[2];
	long r[2];

	if (!s)
		return;
	BOTH(r, e, op->flags ? fdatasync(s->fd[i]) : fsync(s->fd[i]));
	ex_same(x, "fsync", r[0], e[0], r[1], e[1]);
	ex_verify_slot(x, s);
}

void ex_exec_drop(struct ex *x, const struct op *op)
{
	int fd;

	(void)op;
	sync();
	fd = open("/proc/sys/vm/drop_caches", O_WRONLY);
	if (fd < 0 || write(fd, "3", 1) != 1)
		ex_fail(x, "cannot drop caches: %s", strerror(errno));
	close(fd);
	ex_verify_all(x);
}

void ex_exec_check(struct ex *x, const struct op *op)
{
	(void)op;
	ex_verify_all(x);
}

/* A pair member's look, at the start of its turn, at what the other did. */
void ex_exec_look(struct ex *x, const struct op *op)
{
	struct slot *s = ex_slot(x, op->s);

	if (s)
		ex_verify_file(x, s);
}
