/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Managing a store: discard (drop the changes under a path, so the view
 * shows BASE there again) and commit (apply them to BASE, the one place
 * where cowfs writes BASE, and only when asked). The same code serves an
 * unmounted store (a cow_fs opened by the command itself) and a live view
 * (the daemon's cow_fs): nodes the operation touches are brought up to
 * date, and what the kernel must forget is collected in @inval for the
 * caller to tell it once the locks are dropped.
 */
#ifndef COW_MANAGE_H
#define COW_MANAGE_H

#include "layer.h"

#include <stdarg.h>

struct cow_inval_ent {
	struct cow_node *dir; /* ref held */
	char *name;
};

/* What the kernel must drop: attributes and pages of @nodes, and names. */
struct cow_inval {
	struct cow_node_set nodes;
	struct cow_inval_ent *ents;
	size_t nents, cap;
};

/* Copies that moved away from their BASE object (origins.c). */
struct cow_moved {
	uint64_t origin; /* 0 once detached */
	char *path;	 /* in upper/; owned */
};

/* Renamed directories, and the BASE directories they show (origins.c). */
struct cow_redirected {
	char *upper;  /* its path in upper/; owned */
	char *target; /* BASE path it merges with; owned; NULL once committed */
};

struct cow_origins {
	struct cow_moved *v;
	size_t n, cap;
	struct cow_redirected *r;
	size_t nr, rcap;
	bool loaded; /* upper/ was walked for them */
};

struct cow_manage {
	struct cow_fs *fs;
	bool dry_run;
	/* one line of output ("committed a/b"), without newline */
	void (*say)(void *ctx, const char *line);
	void *ctx;
	struct cow_inval inval;
	struct cow_origins origins; /* commit: found at the first need */
	unsigned long changes;	    /* entries committed or discarded */
	char why[512]; /* the reason when an operation is refused */
	/* on_demand: the files open or mapped in the view are these inode
	 * numbers, sorted, found by the daemon in /proc (not owned); counted
	 * handles, of files made by CREATE, may lag behind their close */
	bool by_scan;
	const uint64_t *in_use;
	size_t nin_use;
};

/*
 * Each takes ns_lock for writing. @path is relative to the view's root
 * ("" or "/" for the root). Returns 0, or -errno with m->why set.
 */
int cow_discard(struct cow_manage *m, const char *path);
int cow_commit(struct cow_manage *m, const char *path);
/* Nodes at or below @path, for the caller to flush before the operation. */
int cow_manage_affected(struct cow_manage *m, const char *path);
void cow_inval_free(struct cow_fs *fs, struct cow_inval *inv);
/* The kernel is to drop @node's attributes and pages (a ref is taken). */
void cow_inval_add_node(struct cow_fs *fs, struct cow_inval *inv,
			struct cow_node *node);

/*
 * origins.c: before a commit deletes or replaces the BASE object @name of
 * directory @dir (a tree, for a directory), copies of its objects that
 * moved elsewhere drop their origin and take their upper identity. It is
 * refused (-EBUSY, m->why set) while a renamed directory other than the
 * one at view path @self (NULL: none) shows BASE at or below that object.
 */
int cow_origins_release(struct cow_manage *m, struct cow_node *dir,
			const char *name, const char *self);
/* The same refusal for BASE path @bpath ("" is the root). */
int cow_origins_check(struct cow_manage *m, const char *bpath,
		      const char *self);
/*
 * BASE directory @from moved to @to (a committed rename of the directory
 * at view path @self): renamed directories that show BASE below @from,
 * and the directory nodes that read from there, follow it.
 */
int cow_origins_moved(struct cow_manage *m, const char *from, const char *to,
		      const char *self);
/* Reads the store's renamed directories and moved copies, once per
 * operation (the other calls do it when needed). */
int cow_origins_load(struct cow_manage *m);
/* The renamed directory at view path @vpath was committed: BASE has it
 * under that name now. The list must be loaded before its redirect goes,
 * or a later move would follow the stale entry and set it again. */
void cow_origins_redirect_done(struct cow_manage *m, const char *vpath);
void cow_origins_free(struct cow_origins *o);

/* evict.c: whether more directories are held than fs->max_dirs, and the
 * names of the coldest ones, for the kernel to forget. */
bool cow_evict_needed(struct cow_fs *fs);
int cow_evict_pick(struct cow_fs *fs, struct cow_inval *inv);

/* ---- internal to manage.c, commit.c, refresh.c ---- */

void cow_manage_say(struct cow_manage *m, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int cow_manage_refuse(struct cow_manage *m, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/*
 * The parent directory node of @path (one lookup counted: release with
 * cow_node_forget) and its last component in @name ("" for the root).
 */
int cow_manage_walk(struct cow_manage *m, const char *path,
		    struct cow_node **dir, char name[NAME_MAX + 1]);
/* The same without a refusal: a negative errno when there is none. */
int cow_manage_find(struct cow_manage *m, const char *path,
		    struct cow_node **dir, char name[NAME_MAX + 1]);
/*
 * After the layers of @name in @dir changed: re-resolves every node at or
 * below it (@rekey: a node may take a new identity, its BASE object having
 * been replaced by commit), detaches the ones that are gone, and records
 * what the kernel must forget.
 */
int cow_manage_refresh(struct cow_manage *m, struct cow_node *dir,
		       const char *name, bool rekey);
/* Removes chunk maps and index entries no upper name uses any more. */
void cow_manage_sweep(struct cow_manage *m);
int cow_inval_add_ent(struct cow_fs *fs, struct cow_inval *inv,
		      struct cow_node *dir, const char *name);

#endif
