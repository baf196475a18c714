// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Extended attributes through the view: read from the layer that holds a
 * node's metadata; changed after a metadata-only copy-up. Names cowfs
 * reserves (overlay and cowfs prefixes) are invisible and refused.
 */
#include "layer.h"
#include "lookup_i.h"

#include "sys.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>

/*
 * Where @node's metadata lives: (dirfd, name) or a fd (directories, and
 * files unlinked while open). ns_lock and node->lock held (read at least).
 */
static int meta_loc(struct cow_fs *fs, struct cow_node *node, int *fd,
		    int *dirfd, char name[NAME_MAX + 1])
{
	struct cow_node *parent;

	*fd = -1;
	if (S_ISDIR(node->type)) {
		*fd = node->dir_upper >= 0 ? node->dir_upper : node->dir_base;
		return 0;
	}
	if (node->state != COW_BASE && node->fd_upper >= 0) {
		*fd = node->fd_upper;
		return 0;
	}
	if (node->state != COW_BASE)
		return cow_upper_loc(fs, node, dirfd, name) ? 0 : -ENOENT;
	if (!cow_node_name(fs, node, &parent, name))
		return node->fd_base >= 0 ? (*fd = node->fd_base, 0) : -ENOENT;
	*dirfd = parent->dir_base;
	return 0;
}

/*
 * The virtual attribute user.cowfs.state tells where a file's content
 * lives: base, metadata (metadata copied), partial N% (chunked copy under
 * way), store (copied), new (created through the view), damaged.
 */
static int state_text(struct cow_node *node, char *text, size_t len)
{
	const struct cow_chunkmap *m = node->map;
	bool dir = S_ISDIR(node->type);

	if (node->state == COW_PARTIAL && !m)
		return snprintf(text, len, "damaged");
	if (node->state == COW_PARTIAL)
		return snprintf(text, len, "partial %u%%",
				cow_chunkmap_percent(m));
	if (node->state == COW_BASE || (dir && node->dir_upper < 0))
		return snprintf(text, len, "base");
	if (node->state == COW_META)
		return snprintf(text, len, "metadata");
	if ((!dir && !node->has_base) || (dir && node->dir_base < 0))
		return snprintf(text, len, "new");
	return snprintf(text, len, "store");
}

static ssize_t get_state(struct cow_fs *fs, struct cow_node *node, void *buf,
			 size_t size)
{
	char text[32];
	int n;

	pthread_rwlock_rdlock(&fs->ns_lock);
	pthread_rwlock_rdlock(&node->lock);
	n = state_text(node, text, sizeof(text));
	pthread_rwlock_unlock(&node->lock);
	pthread_rwlock_unlock(&fs->ns_lock);
	if (size == 0)
		return n;
	if ((size_t)n > size)
		return -ERANGE;
	memcpy(buf, text, (size_t)n);
	return n;
}

ssize_t cow_getxattr(struct cow_fs *fs, struct cow_node *node, const char *attr,
		     void *buf, size_t size)
{
	char name[NAME_MAX + 1];
	int fd, dirfd = -1;
	ssize_t ret;

	if (!strcmp(attr, COW_STATE_XATTR))
		return get_state(fs, node, buf, size);
	if (cow_store_xattr_private(&fs->store, attr))
		return -ENODATA;
	pthread_rwlock_rdlock(&fs->ns_lock);
	pthread_rwlock_rdlock(&node->lock);
	ret = meta_loc(fs, node, &fd, &dirfd, name);
	if (ret == 0)
		ret = fd >= 0 ? cow_sys_fgetxattr(fd, attr, buf, size)
			      : cow_sys_getxattrat(dirfd, name, attr, buf,
						   size);
	pthread_rwlock_unlock(&node->lock);
	pthread_rwlock_unlock(&fs->ns_lock);
	return ret;
}

/* Removes reserved names from a listing in place; returns the new size. */
static size_t filter_names(struct cow_fs *fs, char *buf, size_t len)
{
	size_t in = 0, out = 0;

	while (in < len) {
		size_t n = strlen(buf + in) + 1;
		if (!cow_store_xattr_private(&fs->store, buf + in)) {
			memmove(buf + out, buf + in, n);
			out += n;
		}
		in += n;
	}
	return out;
}

ssize_t cow_listxattr(struct cow_fs *fs, struct cow_node *node, char *buf,
		      size_t size)
{
	char name[NAME_MAX + 1], *tmp;
	int fd, dirfd = -1;
	ssize_t ret, len;

	pthread_rwlock_rdlock(&fs->ns_lock);
	pthread_rwlock_rdlock(&node->lock);
	ret = meta_loc(fs, node, &fd, &dirfd, name);
	len = ret < 0	? ret
	      : fd >= 0 ? cow_sys_flistxattr(fd, NULL, 0)
			: cow_sys_listxattrat(dirfd, name, NULL, 0);
	tmp = len > 0 ? malloc((size_t)len) : NULL;
	if (len > 0 && !tmp)
		len = -ENOMEM;
	if (tmp)
		len = fd >= 0 ? cow_sys_flistxattr(fd, tmp, (size_t)len)
			      : cow_sys_listxattrat(dirfd, name, tmp,
						    (size_t)len);
	pthread_rwlock_unlock(&node->lock);
	pthread_rwlock_unlock(&fs->ns_lock);
	if (len > 0)
		len = (ssize_t)filter_names(fs, tmp, (size_t)len);
	if (len >= 0 && size > 0) {
		if ((size_t)len > size)
			len = -ERANGE;
		else if (len > 0)
			memcpy(buf, tmp, (size_t)len);
	}
	free(tmp);
	return len;
}

static int change_xattr(struct cow_fs *fs, struct cow_node *node,
			const char *attr, const void *val, size_t size,
			int flags, bool remove)
{
	char name[NAME_MAX + 1];
	int ret, fd, dirfd = -1;

	if (cow_store_xattr_private(&fs->store, attr) ||
	    !strcmp(attr, COW_STATE_XATTR))
		return -EPERM;
	if (remove || (flags & XATTR_REPLACE)) {
		/* Nothing to change: fail without copying anything up. */
		ret = (int)cow_getxattr(fs, node, attr, NULL, 0);
		if (ret < 0)
			return ret;
	}
	pthread_rwlock_wrlock(&fs->ns_lock);
	if (node->excluded) {
		ret = cow_x_xattr(fs, node, attr, val, size, flags, remove);
		pthread_rwlock_unlock(&fs->ns_lock);
		return ret;
	}
	ret = cow_copyup_locked(fs, node, COW_COPY_META, -1);
	pthread_rwlock_rdlock(&node->lock);
	if (ret == 0)
		ret = meta_loc(fs, node, &fd, &dirfd, name);
	if (ret == 0 && remove)
		ret = fd >= 0 ? cow_sys_fremovexattr(fd, attr)
			      : cow_sys_removexattrat(dirfd, name, attr);
	else if (ret == 0)
		ret = fd >= 0 ? cow_sys_fsetxattr(fd, attr, val, size, flags)
			      : cow_sys_setxattrat(dirfd, name, attr, val, size,
						   flags);
	pthread_rwlock_unlock(&node->lock);
	pthread_rwlock_unlock(&fs->ns_lock);
	return ret;
}

int cow_setxattr(struct cow_fs *fs, struct cow_node *node, const char *attr,
		 const void *val, size_t size, int flags)
{
	return change_xattr(fs, node, attr, val, size, flags, false);
}

int cow_removexattr(struct cow_fs *fs, struct cow_node *node, const char *attr)
{
	return change_xattr(fs, node, attr, NULL, 0, 0, true);
}
