/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Internal to the layer model: a resolved name before it becomes a node. */
#ifndef COW_LOOKUP_I_H
#define COW_LOOKUP_I_H

#include "layer.h"

struct cow_resolved {
	struct stat st;	 /* attributes to report (st_ino not keyed yet) */
	struct stat bst; /* the BASE object's, when has_base */
	bool upper;	 /* an upper entry exists */
	bool has_base;
	bool opaque;
	bool indexed; /* its upper copy is meta/index/<key> */
	enum cow_state state;
	uint64_t key;
	int dir_upper, dir_base;  /* directories only; owned */
	struct cow_chunkmap *map; /* partial copies; owned */
	bool map_damaged;
	char *base_path; /* directories only; owned */
};

int cow_resolve(struct cow_fs *fs, struct cow_node *dir, const char *name,
		struct cow_resolved *r);
void cow_resolved_free(struct cow_resolved *r);
/*
 * Gives @node the layer state of @r (consuming its descriptors, closing
 * the node's old ones); node->lock (write) held, or a fresh node.
 */
void cow_node_adopt(struct cow_node *node, struct cow_resolved *r);
int cow_resolved_node(struct cow_fs *fs, struct cow_node *dir, const char *name,
		      struct cow_resolved *r, struct cow_node **out);
char *cow_path_join(const char *dir, const char *name);
/* Whether path @path is @top or lies below it ("" is the root). */
bool cow_path_at_or_below(const char *path, const char *top);
int cow_base_open_path(struct cow_fs *fs, const char *path);
/* The upper directory at path @path ("a/b", "" for upper/), or -errno. */
int cow_upper_open_path(struct cow_fs *fs, const char *path);
/* The upper directory holding @path ("a/b/c": "a/b"), with *@name set to
 * @path's last component (inside @path), or -errno. */
int cow_upper_open_parent(struct cow_fs *fs, const char *path,
			  const char **name);

/* Whether BASE has @name under @dir (a whiteout is then needed). */
bool cow_base_has(struct cow_node *dir, const char *name, struct stat *st);
/* Upper descriptor and name of @node's first alias; false if none. */
bool cow_upper_loc(struct cow_fs *fs, struct cow_node *node, int *dirfd,
		   char name[NAME_MAX + 1]);

/* Removes @name from the view: whiteout if BASE has it; ns_lock write. */
int cow_remove_name_locked(struct cow_fs *fs, struct cow_node *dir,
			   const char *name, bool is_dir);

/* ns_lock and node->lock (write) held: reopens the backing of an open
 * file whose layers changed (commit, discard). */
int cow_file_reopen_locked(struct cow_fs *fs, struct cow_node *node);

/*
 * The BASE file holding @node's data (a metacopy may name another BASE
 * path by redirect); ns_lock held. A descriptor or -errno.
 */
int cow_base_data_open(struct cow_fs *fs, struct cow_node *node);

/* ns_lock held for writing, before @node loses its last name: on demand,
 * its backing is opened and kept until the kernel forgets it, as open
 * handles may still read and write it. */
void cow_file_hold_unlinked_locked(struct cow_fs *fs, struct cow_node *node);

/* cow_file_open with ns_lock already held (either mode). */
int cow_file_open_locked(struct cow_fs *fs, struct cow_node *node);

#endif
