/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What a STORE holds, change by change: a read-only walk of upper/ that
 * classifies every entry against BASE. Used by `cowfs status`; knows
 * nothing of FUSE and writes nothing.
 */
#ifndef COW_REPORT_H
#define COW_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

enum cow_change {
	COW_CH_ADDED,	 /* new name (nothing in BASE there) */
	COW_CH_REPLACED, /* new object where BASE had one (after a delete) */
	COW_CH_DATA,	 /* BASE file whose data changed */
	COW_CH_META,	 /* BASE object whose metadata only changed */
	COW_CH_PARTIAL,	 /* data change of a big file, copied by chunks */
	COW_CH_DELETED,	 /* BASE name removed (whiteout) */
	COW_CH_RENAMED,	 /* directory moved from elsewhere in BASE */
};

struct cow_change_ent {
	const char *path; /* relative to the view's root */
	const char *from; /* RENAMED: BASE path it came from */
	enum cow_change change;
	mode_t type;  /* S_IFMT of the object (0 for DELETED) */
	off_t size;   /* apparent size */
	off_t stored; /* bytes it takes in STORE */
	int percent;  /* PARTIAL: chunks present, 0..100 */
	bool damaged; /* PARTIAL whose map cannot be read */
};

struct cow_report_totals {
	unsigned long changes;
	off_t stored; /* all of upper/ and meta/ */
};

typedef int (*cow_change_fn)(void *ctx, const struct cow_change_ent *ent);

struct cow_report_src {
	int upper_fd; /* upper/ */
	int meta_fd;  /* meta/ */
	int base_fd;  /* BASE root, or -1 when BASE is not reachable */
	bool userxattr;
};

/*
 * Calls @fn for every change below @prefix ("" for all), in path order
 * within each directory. Returns 0 or -errno (also what @fn returned).
 */
int cow_report_walk(const struct cow_report_src *src, const char *prefix,
		    cow_change_fn fn, void *ctx,
		    struct cow_report_totals *totals);

const char *cow_change_name(enum cow_change change);

#endif
