// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The exerciser's memory mappings: shared and private mappings made,
 * compared, written, synced and dropped in one operation, and shared
 * mappings kept in a slot across operations, written through and compared
 * after writes by other descriptors (and, in a pair, by the other
 * process). Mappings never touch pages past the file's current end.
 */
#include "exerciser.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* The file's size, from the oracle; 0 when it is not a regular file. */
static size_t file_size(struct slot *s)
{
	struct stat st;

	if (fstat(s->fd[1], &st) < 0 || !S_ISREG(st.st_mode))
		return 0;
	return (size_t)st.st_size;
}

/* @off and @len of @op within [0, @end), in a replay too. */
static bool clamp(const struct op *op, size_t end, size_t *off, size_t *len)
{
	if (end == 0 || op->off < 0 || op->len <= 0)
		return false;
	*off = (size_t)op->off % end;
	*len = (size_t)op->len;
	if (*off + *len > end)
		*len = end - *off;
	return true;
}

/* After a write through shared mappings @m: msync(@how) unless 0; with
 * --writethrough, then MS_SYNC as well. */
static void do_msync(struct ex *x, unsigned char **m, size_t len, int how)
{
	int e[2];
	long r[2];

	if (how) {
		BOTH(r, e, msync(m[i], len, how));
		ex_same(x, "msync", r[0], e[0], r[1], e[1]);
	}
	if (x->writethrough && how != MS_SYNC) {
		BOTH(r, e, msync(m[i], len, MS_SYNC));
		ex_same(x, "msync (writethrough)", r[0], e[0], r[1], e[1]);
	}
}

/* Map, compare a range, write it, maybe msync, unmap. */
void ex_exec_map_once(struct ex *x, const struct op *op)
{
	struct slot *s = ex_slot(x, op->s);
	size_t size = s ? file_size(s) : 0, off, len;
	unsigned char *m[2] = {NULL, NULL};
	int e[2];
	long r[2];

	if (!clamp(op, size, &off, &len))
		return;
	ex_fill(x, (uint64_t)op->d, len);
	BOTH(r, e,
	     (m[i] = mmap(NULL, size, PROT_READ | PROT_WRITE,
			  op->flags ? MAP_SHARED : MAP_PRIVATE, s->fd[i], 0)) ==
			     MAP_FAILED
		     ? -1
		     : 0);
	ex_same(x, "mmap", r[0], e[0], r[1], e[1]);
	if (r[0] < 0)
		return;
	if (memcmp(m[0] + off, m[1] + off, len))
		ex_fail(x, "the mapping shows different bytes before writing");
	memcpy(m[0] + off, x->data, len);
	memcpy(m[1] + off, x->data, len);
	if (op->flags)
		do_msync(x, m, size, (int)op->mode);
	if (memcmp(m[0], m[1], size))
		ex_fail(x, "the mappings differ after writing");
	munmap(m[0], size);
	munmap(m[1], size);
	ex_verify_file(x, s);
}

/* Replaces the slot's kept mapping by a new shared one of the whole file. */
void ex_exec_map_keep(struct ex *x, const struct op *op)
{
	struct slot *s = ex_slot(x, op->s);
	size_t size = s ? file_size(s) : 0;
	unsigned char *m[2] = {NULL, NULL};
	int prot, e[2], k;
	long r[2];

	if (size == 0)
		return;
	prot = (s->flags & O_ACCMODE) == O_RDWR ? PROT_READ | PROT_WRITE
						: PROT_READ;
	for (k = 0; k < 2; k++)
		if (s->map[k])
			munmap(s->map[k], s->maplen);
	s->map[0] = s->map[1] = NULL;
	BOTH(r, e,
	     (m[i] = mmap(NULL, size, prot, MAP_SHARED, s->fd[i], 0)) ==
			     MAP_FAILED
		     ? -1
		     : 0);
	ex_same(x, "mmap", r[0], e[0], r[1], e[1]);
	if (r[0] < 0)
		return;
	ex_note(x, " %zu bytes, prot %d", size, prot);
	s->map[0] = m[0];
	s->map[1] = m[1];
	s->maplen = size;
	ex_verify_slot(x, s);
}

/* Writes through the kept mapping, below the file's current end. */
void ex_exec_map_write(struct ex *x, const struct op *op)
{
	struct slot *s = ex_slot(x, op->s);
	size_t end = s ? file_size(s) : 0, off, len;

	if (!s || !s->map[0] || (s->flags & O_ACCMODE) != O_RDWR) {
		ex_note(x, " (no writable mapping: skipped)");
		return;
	}
	if (end > s->maplen)
		end = s->maplen;
	if (!clamp(op, end, &off, &len))
		return;
	ex_fill(x, (uint64_t)op->d, len);
	memcpy(s->map[0] + off, x->data, len);
	memcpy(s->map[1] + off, x->data, len);
	do_msync(x, s->map, s->maplen, (int)op->mode);
	ex_verify_file(x, s);
}
