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

/* Name of @node's index entry in meta/index/. */
void cow_index_name(const struct cow_node *node, char buf[32]);

#endif
