/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Internal to the layer model: copying objects between layers. */
#ifndef COW_COPY_I_H
#define COW_COPY_I_H

#include "layer.h"

#define XATTR_SIZE_MAX_COW 65536

/* An object named by an open descriptor (fd >= 0) or by (dirfd, name). */
struct cow_obj {
	int fd;
	int dirfd;
	const char *name;
};

int cow_copy_xattrs(struct cow_fs *fs, const struct cow_obj *src,
		    const struct cow_obj *dst);
int cow_copy_meta(struct cow_fs *fs, const struct cow_obj *src,
		  const struct stat *st, const struct cow_obj *dst,
		  uint64_t origin);
int cow_copy_data(int src, int dst, off_t end, off_t src_size);
/*
 * The same for a copy that must reach the disk before it is published
 * (fsync=on) on a store where direct I/O is ordered before a later rename
 * (store->direct_orders): a small copy is written with O_DIRECT, which is
 * on the device when it returns, and the journal commit that publishes
 * the rename flushes the device's cache first; no fdatasync is needed
 * then. Returns 1 for such a copy, 0 when the caller must fdatasync.
 */
int cow_copy_data_ordered(int src, int dst, off_t end, off_t src_size);
/*
 * cow_store_publish() of a copy-up into upper directory @dirfd, keeping the
 * directory's times: a copy-up is no change of the directory (nor is it on
 * kernel overlayfs). The caller holds ns_lock for writing.
 */
int cow_copyup_publish(struct cow_fs *fs, const char *tmp, int dirfd,
		       const char *name);

/* Name of the index entry of BASE inode @key (of @node) in meta/index/. */
void cow_index_key_name(uint64_t key, char buf[32]);
void cow_index_name(const struct cow_node *node, char buf[32]);
/* Adds @delta to the link count kept for an indexed BASE inode. */
void cow_index_nlink_add(struct cow_fs *fs, struct cow_node *node, int delta);
/*
 * The copy of BASE inode @key at meta/index/, if a metacopy, gets its data
 * from @data_fd (a descriptor of that inode, or -errno for none) in place;
 * @node is its node (then kept up to date) or NULL. ns_lock held for
 * writing.
 */
int cow_index_fill(struct cow_fs *fs, uint64_t key, struct cow_node *node,
		   int data_fd);

#endif
