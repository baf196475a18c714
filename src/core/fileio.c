// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The data path. A node's backing descriptors are opened on its first open
 * and closed on its last release; every read and write goes to the node's
 * *current* backing under node->lock, so handles opened before a copy-up
 * see the copy the moment it is published.
 */
#include "layer.h"
#include "lookup_i.h"

#include "sys.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ns_lock (read) and node->lock (write) held. */
static int open_backing(struct cow_fs *fs, struct cow_node *node)
{
	char name[NAME_MAX + 1];
	struct cow_node *parent;
	int dirfd;

	if (node->state != COW_BASE && node->fd_upper < 0) {
		if (!cow_upper_loc(fs, node, &dirfd, name))
			return -ENOENT;
		node->fd_upper =
			cow_sys_openat(dirfd, name, O_RDWR | O_NOFOLLOW, 0);
		if (node->fd_upper == -EACCES || node->fd_upper == -ETXTBSY)
			node->fd_upper = cow_sys_openat(
				dirfd, name, O_RDONLY | O_NOFOLLOW, 0);
		if (node->fd_upper < 0) {
			int ret = node->fd_upper;
			node->fd_upper = -1;
			return ret;
		}
	}
	if (node->state != COW_UPPER && node->fd_base < 0) {
		if (!cow_node_name(fs, node, &parent, name))
			return -ENOENT;
		node->fd_base = cow_base_openat(&fs->base, parent->dir_base,
						name, O_RDONLY);
		if (node->fd_base < 0) {
			int ret = node->fd_base;
			node->fd_base = -1;
			return ret;
		}
	}
	return 0;
}

static void close_backing(struct cow_node *node)
{
	cow_sys_close(node->fd_base);
	cow_sys_close(node->fd_upper);
	node->fd_base = node->fd_upper = -1;
}

int cow_file_open(struct cow_fs *fs, struct cow_node *node, int flags)
{
	int ret;

	if (!S_ISREG(node->type))
		return S_ISDIR(node->type) ? -EISDIR : 0;
	pthread_rwlock_rdlock(&fs->ns_lock);
	pthread_rwlock_wrlock(&node->lock);
	ret = open_backing(fs, node);
	if (ret == 0)
		node->nopen++;
	else if (node->nopen == 0)
		close_backing(node);
	pthread_rwlock_unlock(&node->lock);
	pthread_rwlock_unlock(&fs->ns_lock);
	return ret;
}

void cow_file_release(struct cow_fs *fs, struct cow_node *node)
{
	if (!S_ISREG(node->type))
		return;
	pthread_rwlock_wrlock(&node->lock);
	if (node->nopen > 0 && --node->nopen == 0)
		close_backing(node);
	pthread_rwlock_unlock(&node->lock);
}

static int current_fd(const struct cow_node *node)
{
	return node->state == COW_UPPER ? node->fd_upper : node->fd_base;
}

int cow_file_begin_read(struct cow_fs *fs, struct cow_node *node)
{
	int fd;

	pthread_rwlock_rdlock(&node->lock);
	fd = current_fd(node);
	if (fd < 0) {
		pthread_rwlock_unlock(&node->lock);
		return -EBADF;
	}
	return fd;
}

int cow_file_begin_write(struct cow_fs *fs, struct cow_node *node)
{
	int ret;

	pthread_rwlock_rdlock(&node->lock);
	if (node->state == COW_UPPER && node->fd_upper >= 0)
		return node->fd_upper;
	pthread_rwlock_unlock(&node->lock);
	ret = cow_copyup(fs, node, COW_COPY_DATA, -1);
	if (ret < 0)
		return ret;
	pthread_rwlock_rdlock(&node->lock);
	if (node->state == COW_UPPER && node->fd_upper >= 0)
		return node->fd_upper;
	pthread_rwlock_unlock(&node->lock);
	return -EBADF;
}

void cow_file_end(struct cow_node *node)
{
	pthread_rwlock_unlock(&node->lock);
}

int cow_file_fsync(struct cow_fs *fs, struct cow_node *node, bool datasync)
{
	int ret = 0;

	pthread_rwlock_rdlock(&node->lock);
	if (node->state != COW_BASE && node->fd_upper >= 0)
		ret = cow_sys_fsync(node->fd_upper, datasync);
	pthread_rwlock_unlock(&node->lock);
	return ret;
}

int cow_file_fallocate(struct cow_fs *fs, struct cow_node *node, int mode,
		       off_t off, off_t len)
{
	int fd = cow_file_begin_write(fs, node), ret;

	if (fd < 0)
		return fd;
	ret = cow_sys_fallocate(fd, mode, off, len);
	cow_file_end(node);
	return ret;
}

off_t cow_file_lseek(struct cow_fs *fs, struct cow_node *node, off_t off,
		     int whence)
{
	int fd = cow_file_begin_read(fs, node);
	off_t ret;

	if (fd < 0)
		return fd;
	ret = cow_sys_lseek(fd, off, whence);
	cow_file_end(node);
	return ret;
}

static ssize_t copy_bounce(int sfd, off_t soff, int dfd, off_t doff, size_t len)
{
	size_t chunk = len < (1 << 20) ? len : (1 << 20);
	char *buf = malloc(chunk ? chunk : 1);
	ssize_t n;

	if (!buf)
		return -ENOMEM;
	n = cow_sys_pread(sfd, buf, chunk, soff);
	if (n > 0) {
		int ret = cow_sys_pwrite_full(dfd, buf, (size_t)n, doff);
		if (ret < 0)
			n = ret;
	}
	free(buf);
	return n;
}

ssize_t cow_file_copy_range(struct cow_fs *fs, struct cow_node *src, off_t soff,
			    struct cow_node *dst, off_t doff, size_t len)
{
	int dfd, sfd;
	loff_t in = soff, out = doff;
	ssize_t n;

	/* Destination first: it may copy up, which must not wait on us. */
	dfd = cow_file_begin_write(fs, dst);
	if (dfd < 0)
		return dfd;
	sfd = src == dst ? dfd : cow_file_begin_read(fs, src);
	if (sfd < 0) {
		cow_file_end(dst);
		return sfd;
	}
	n = copy_file_range(sfd, &in, dfd, &out, len, 0);
	if (n < 0)
		n = errno == EXDEV || errno == EINVAL || errno == EOPNOTSUPP ||
				    errno == ENOSYS
			    ? copy_bounce(sfd, soff, dfd, doff, len)
			    : -errno;
	if (src != dst)
		cow_file_end(src);
	cow_file_end(dst);
	return n;
}

int cow_dir_fsync(struct cow_fs *fs, struct cow_node *dir, bool datasync)
{
	int ret = 0;

	pthread_rwlock_rdlock(&fs->ns_lock);
	if (dir->dir_upper >= 0)
		ret = cow_sys_fsync(dir->dir_upper, datasync);
	pthread_rwlock_unlock(&fs->ns_lock);
	return ret;
}
