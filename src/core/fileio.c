// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The data path. A node's backing descriptors are opened on its first open
 * and closed on its last release; every read and write goes to the node's
 * *current* backing under node->lock, so handles opened before a copy-up
 * see the copy the moment it is published.
 */
#include "layer.h"
#include "log.h"
#include "lookup_i.h"
#include "partial_i.h"

#include "sys.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ns_lock (read) and node->lock (write) held. */
static int open_backing(struct cow_fs *fs, struct cow_node *node)
{
	char name[NAME_MAX + 1];
	int dirfd;

	if (node->state == COW_PARTIAL && !node->map)
		return -EIO; /* damaged map: reported at lookup */
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
		if (node->state == COW_PARTIAL)
			node->fd_base =
				cow_partial_open_base(fs, node->map->base_path);
		else if (node->excluded)
			node->fd_base = cow_x_open_rw(fs, node);
		else
			node->fd_base = cow_base_data_open(fs, node);
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

/* ns_lock and node->lock (write) held: the layer backing @node changed. */
int cow_file_reopen_locked(struct cow_fs *fs, struct cow_node *node)
{
	close_backing(node);
	return cow_backing_held(node) ? open_backing(fs, node) : 0;
}

/* The descriptors @node's state reads and writes through are open. */
static bool backing_ready(const struct cow_node *node)
{
	if (node->state != COW_BASE && node->fd_upper < 0)
		return false;
	return node->state == COW_UPPER || node->fd_base >= 0;
}

/* ns_lock (read or write) held: opens @node's backing for data requests
 * (on_demand) and keeps it; true when the list of such nodes is over. */
static int demand_open_locked(struct cow_fs *fs, struct cow_node *node,
			      bool *over)
{
	int ret = 0;

	*over = false;
	pthread_rwlock_wrlock(&node->lock);
	if (!backing_ready(node))
		ret = open_backing(fs, node);
	if (ret == 0 && !node->demand) {
		node->demand = true;
		*over = cow_node_demand_add(fs, node);
	} else if (ret < 0 && !cow_backing_held(node)) {
		close_backing(node);
	}
	__atomic_store_n(&node->demand_used, true, __ATOMIC_RELAXED);
	pthread_rwlock_unlock(&node->lock);
	return ret;
}

/* No lock held: closes the backing of nodes beyond max_demand, the least
 * recently used first. A node without a name keeps its backing, its only
 * way to its data, until it goes (the kernel forgets it). */
static void demand_trim(struct cow_fs *fs)
{
	struct cow_node *node;

	while ((node = cow_node_demand_victim(fs))) {
		pthread_rwlock_rdlock(&fs->ns_lock);
		pthread_rwlock_wrlock(&node->lock);
		if (node->aliases) {
			if (node->nopen == 0)
				close_backing(node);
			node->demand = false;
		}
		pthread_rwlock_unlock(&node->lock);
		pthread_rwlock_unlock(&fs->ns_lock);
		cow_node_put(fs, node);
	}
}

/* No lock held: @node's backing is open for a data request. */
static int demand_open(struct cow_fs *fs, struct cow_node *node)
{
	bool over;
	int ret;

	pthread_rwlock_rdlock(&fs->ns_lock);
	ret = demand_open_locked(fs, node, &over);
	pthread_rwlock_unlock(&fs->ns_lock);
	if (over)
		demand_trim(fs);
	return ret;
}

void cow_file_hold_unlinked_locked(struct cow_fs *fs, struct cow_node *node)
{
	bool over; /* no trim here (it takes ns_lock): the next open trims */

	if (!fs->on_demand || !S_ISREG(node->type))
		return;
	if (demand_open_locked(fs, node, &over) < 0)
		cow_warn("a file unlinked in the view lost its data for the "
			 "programs that have it open (inode %llu)",
			 (unsigned long long)node->key);
}

/*
 * Read side entry (no lock held): returns with node->lock held for
 * reading and, on demand, the backing open; a trim between the open and
 * the lock is rare and is retried once.
 */
static int lock_for_data(struct cow_fs *fs, struct cow_node *node)
{
	int tries, ret;

	__atomic_add_fetch(&fs->activity, 1, __ATOMIC_RELAXED);
	for (tries = 0;; tries++) {
		pthread_rwlock_rdlock(&node->lock);
		if (!fs->on_demand || tries == 2 || backing_ready(node))
			break;
		pthread_rwlock_unlock(&node->lock);
		ret = demand_open(fs, node);
		if (ret < 0)
			return ret;
	}
	if (fs->on_demand)
		__atomic_store_n(&node->demand_used, true, __ATOMIC_RELAXED);
	return 0;
}

int cow_file_open_locked(struct cow_fs *fs, struct cow_node *node)
{
	int ret;

	if (!S_ISREG(node->type))
		return S_ISDIR(node->type) ? -EISDIR : 0;
	pthread_rwlock_wrlock(&node->lock);
	ret = open_backing(fs, node);
	if (ret == 0)
		node->nopen++;
	else if (!cow_backing_held(node))
		close_backing(node);
	pthread_rwlock_unlock(&node->lock);
	return ret;
}

int cow_file_open(struct cow_fs *fs, struct cow_node *node, int flags)
{
	int ret;

	pthread_rwlock_rdlock(&fs->ns_lock);
	ret = cow_file_open_locked(fs, node);
	pthread_rwlock_unlock(&fs->ns_lock);
	return ret;
}

void cow_file_release(struct cow_fs *fs, struct cow_node *node)
{
	if (!S_ISREG(node->type))
		return;
	pthread_rwlock_wrlock(&node->lock);
	if (node->nopen > 0 && --node->nopen == 0 && !node->demand)
		close_backing(node);
	pthread_rwlock_unlock(&node->lock);
}

int cow_file_max_segs(struct cow_fs *fs, size_t len)
{
	/* A map keeps the chunk size it was made with, which may be smaller
	 * than this mount's: bound by the smallest one allowed (4 KiB). */
	return (int)(len >> 12) + 2;
}

int cow_file_begin_read(struct cow_fs *fs, struct cow_node *node, off_t off,
			size_t len, struct cow_seg *segs)
{
	int fd, n = lock_for_data(fs, node);

	if (n < 0)
		return n;
	if (node->state == COW_PARTIAL && node->fd_upper >= 0 &&
	    node->fd_base >= 0) {
		n = cow_partial_segments(fs, node, off, len, segs,
					 cow_file_max_segs(fs, len));
		if (n < 0)
			pthread_rwlock_unlock(&node->lock);
		return n;
	}
	fd = node->state == COW_UPPER	  ? node->fd_upper
	     : node->state == COW_PARTIAL ? -1
					  : node->fd_base;
	if (fd < 0) {
		pthread_rwlock_unlock(&node->lock);
		return node->state == COW_PARTIAL ? -EIO : -EBADF;
	}
	segs[0] = (struct cow_seg){fd, off, len};
	return 1;
}

static bool writable(const struct cow_node *node)
{
	return (node->state == COW_UPPER || node->state == COW_PARTIAL) &&
	       node->fd_upper >= 0;
}

int cow_file_begin_write(struct cow_fs *fs, struct cow_node *node, off_t off,
			 size_t len, bool *filling)
{
	int ret = lock_for_data(fs, node);

	*filling = false;
	if (ret < 0)
		return ret;
	if (node->excluded) { /* written through to BASE */
		if (node->fd_base >= 0)
			return node->fd_base;
		pthread_rwlock_unlock(&node->lock);
		return -EBADF;
	}
	if (!writable(node)) {
		pthread_rwlock_unlock(&node->lock);
		ret = cow_quota_admit_copy(fs, node);
		if (ret == 0)
			ret = cow_copyup_data(fs, node);
		if (ret == 0)
			ret = lock_for_data(fs, node);
		if (ret < 0)
			return ret;
		if (!writable(node)) {
			pthread_rwlock_unlock(&node->lock);
			return -EBADF;
		}
		cow_quota_account(fs, node, node->fd_upper);
	}
	ret = cow_quota_admit(fs, node->fd_upper, off, len);
	if (ret < 0) {
		pthread_rwlock_unlock(&node->lock);
		return ret;
	}
	if (node->state == COW_PARTIAL)
		*filling = cow_partial_write_begin(node, off, len);
	return node->fd_upper;
}

int cow_file_end_write(struct cow_fs *fs, struct cow_node *node, off_t off,
		       size_t written, bool filling)
{
	int ret = 0;

	if (filling)
		ret = cow_partial_write_end(fs, node, off, written);
	cow_quota_account(fs, node, node->fd_upper);
	pthread_rwlock_unlock(&node->lock);
	return ret;
}

void cow_file_end(struct cow_node *node)
{
	pthread_rwlock_unlock(&node->lock);
}

ssize_t cow_file_pread(struct cow_fs *fs, struct cow_node *node, void *buf,
		       size_t len, off_t off)
{
	struct cow_seg *segs =
		calloc((size_t)cow_file_max_segs(fs, len), sizeof(*segs));
	ssize_t done = 0, got = 0;
	int i, n;

	if (!segs)
		return -ENOMEM;
	n = cow_file_begin_read(fs, node, off, len, segs);
	for (i = 0; i < n && got >= 0; i++) {
		got = cow_sys_pread(segs[i].fd, (char *)buf + done, segs[i].len,
				    segs[i].off);
		if (got > 0)
			done += got;
		if (got < (ssize_t)segs[i].len)
			break;
	}
	if (n > 0)
		cow_file_end(node);
	free(segs);
	return n < 0 ? n : got < 0 ? got : done;
}

int cow_file_fsync(struct cow_fs *fs, struct cow_node *node, bool datasync)
{
	int ret = lock_for_data(fs, node);

	if (ret < 0)
		return ret;
	if (node->state == COW_PARTIAL && node->fd_upper >= 0 && node->map)
		ret = cow_partial_fsync(node, datasync);
	else if (node->state != COW_BASE && node->fd_upper >= 0)
		ret = cow_sys_fsync(node->fd_upper, datasync);
	else if (node->excluded && node->fd_base >= 0)
		ret = cow_sys_fsync(node->fd_base, datasync);
	pthread_rwlock_unlock(&node->lock);
	return ret;
}

int cow_file_fallocate(struct cow_fs *fs, struct cow_node *node, int mode,
		       off_t off, off_t len)
{
	bool filling;
	int fd = cow_file_begin_write(fs, node, off, 0, &filling), ret = 0;

	if (fd < 0)
		return fd;
	if (node->state == COW_PARTIAL) {
		/* Punching or zeroing drops BASE bytes: settle the rest of
		 * those chunks first; shifting ranges needs every chunk. */
		if (mode & (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE))
			ret = cow_partial_clear_range(fs, node, off, len);
		else if (mode &
			 (FALLOC_FL_COLLAPSE_RANGE | FALLOC_FL_INSERT_RANGE))
			ret = cow_partial_fill_all(fs, node);
	}
	if (ret == 0)
		ret = cow_sys_fallocate(fd, mode, off, len);
	cow_file_end_write(fs, node, off, 0, filling);
	return ret;
}

static off_t partial_seek(int fd, off_t off, int whence)
{
	struct stat st;

	/* Partial copies report no holes: every byte is data. */
	if (cow_sys_fstat(fd, &st) < 0)
		return -EIO;
	if (off >= st.st_size)
		return -ENXIO;
	return whence == SEEK_DATA ? off : st.st_size;
}

off_t cow_file_lseek(struct cow_fs *fs, struct cow_node *node, off_t off,
		     int whence)
{
	struct cow_seg seg[2];
	off_t ret;
	int n = cow_file_begin_read(fs, node, off, 1, seg);

	if (n < 0)
		return n;
	if (node->state == COW_PARTIAL)
		ret = partial_seek(node->fd_upper, off, whence);
	else
		ret = cow_sys_lseek(seg[0].fd, off, whence);
	cow_file_end(node);
	return ret;
}

ssize_t cow_file_copy_range(struct cow_fs *fs, struct cow_node *src, off_t soff,
			    struct cow_node *dst, off_t doff, size_t len)
{
	size_t chunk = len < (1 << 20) ? len : (1 << 20);
	char *buf = malloc(chunk ? chunk : 1);
	bool filling;
	ssize_t n;
	int dfd;

	/* Through the views' own data paths: any state on either side. */
	if (!buf)
		return -ENOMEM;
	n = cow_file_pread(fs, src, buf, chunk, soff);
	if (n > 0) {
		dfd = cow_file_begin_write(fs, dst, doff, (size_t)n, &filling);
		if (dfd < 0) {
			n = dfd;
		} else {
			int ret =
				cow_sys_pwrite_full(dfd, buf, (size_t)n, doff);
			int end = cow_file_end_write(fs, dst, doff,
						     ret < 0 ? 0 : (size_t)n,
						     filling);
			n = ret < 0 ? ret : end < 0 ? end : n;
		}
	}
	free(buf);
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
