/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The differential exerciser: the same seeded random operations on a
 * cowfs view and on a plain copy of BASE (the oracle), compared after each.
 */
#ifndef COW_EXERCISER_H
#define COW_EXERCISER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define NSLOT	 8
#define LOG_KEEP 400
#define MAX_DATA (4 << 20)

struct slot {
	bool used;
	int path;  /* index into ex_paths */
	int fd[2]; /* view, oracle */
	int flags;
};

struct ex {
	uint64_t rng;
	long opno;
	int root[2]; /* this worker's directory in the view and the oracle */
	const char *prefix;
	struct slot slot[NSLOT];
	char log[LOG_KEEP][200];
	bool verbose, drop_caches;
	unsigned char *buf[2]; /* MAX_DATA each */
};

extern const char *const ex_paths[];
extern const int ex_npaths;

uint64_t ex_rand(struct ex *x);
/* Records what the current operation is (for the failure report). */
void ex_note(struct ex *x, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Reports a mismatch with the seed and the operations that led to it. */
void ex_fail(struct ex *x, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), noreturn));
/* Both sides returned alike: success on both, or the same errno. */
void ex_same(struct ex *x, const char *what, long r0, int e0, long r1, int e1);
/* Compares everything observable about path @p on both sides. */
void ex_verify(struct ex *x, int p);

/* ops.c */
void ex_step(struct ex *x);
void ex_close_all(struct ex *x);

#endif
