/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Internal to the layer model: chunked copy-up (partial.c, completer.c). */
#ifndef COW_PARTIAL_I_H
#define COW_PARTIAL_I_H

#include "layer.h"

/* Name of @node's map ("<key>") or data link ("<key>.data") in chunks/. */
void cow_partial_names(const struct cow_node *node, char map[40],
		       char data[40]);
/* Whether a first data write to a file of @size copies it by chunks. */
bool cow_partial_wanted(struct cow_fs *fs, struct cow_node *node, off_t size);
/*
 * Turns the sparse file work/@tmp (open at @dst_fd, full size, metadata
 * done) into @node's partial copy: creates its map for BASE bytes
 * [0, @base_size) read from @base_path, and links the data into chunks/.
 * The caller then publishes work/@tmp as usual.
 */
int cow_partial_prepare(struct cow_fs *fs, struct cow_node *node, int dst_fd,
			const char *tmp, off_t base_size,
			const char *base_path);
/* Drops the map files of @node (its last name is gone). */
void cow_partial_forget_files(struct cow_fs *fs, struct cow_node *node);
/* Adds @node to the completer's list (takes a ref). */
void cow_partial_track(struct cow_fs *fs, struct cow_node *node);

/* node->lock held. Splits a read into per-layer segments. */
int cow_partial_segments(struct cow_fs *fs, struct cow_node *node, off_t off,
			 size_t len, struct cow_seg *segs, int max);
/* node->lock held. True (and fill_lock taken) if the range needs care. */
bool cow_partial_write_begin(struct cow_node *node, off_t off, size_t len);
/* After the write: fills the rest of each chunk touched, marks them. */
int cow_partial_write_end(struct cow_fs *fs, struct cow_node *node, off_t off,
			  size_t written);
/* node->lock held: before punching or zeroing [off, off+len). */
int cow_partial_clear_range(struct cow_fs *fs, struct cow_node *node, off_t off,
			    off_t len);
/* node->lock held: before truncating to @size. */
int cow_partial_truncate(struct cow_fs *fs, struct cow_node *node, off_t size);
/* node->lock held: copies every absent chunk. */
int cow_partial_fill_all(struct cow_fs *fs, struct cow_node *node);
/* node->lock held: fsync data, then the map. */
int cow_partial_fsync(struct cow_node *node, bool datasync);

/* Fills the next absent chunk at or after *@next (completer); the copy
 * keeps its mtime. */
int cow_partial_fill_one(struct cow_node *node, int base_fd, int upper_fd,
			 uint64_t *next);
/* ns_lock held (write): fills every chunk of @node, then makes it a
 * plain upper file of its own identity, no origin (completer.c). */
int cow_partial_complete_locked(struct cow_fs *fs, struct cow_node *node);
/*
 * ns_lock held (write), before BASE changes at or below path @top ("" for
 * all of it): completes every partial copy that still reads from there (a
 * renamed one reads from its old name), so that none loses its data. Each
 * completed copy takes its upper identity (a new st_ino): it joins @inv,
 * whose attributes the kernel is then told to drop.
 */
struct cow_inval;
int cow_partial_settle_locked(struct cow_fs *fs, const char *top,
			      struct cow_inval *inv);
/* Opens BASE file @path ("a/b") read-only, one component at a time. */
int cow_partial_open_base(struct cow_fs *fs, const char *path);

#endif
