// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Attributes: reading them from whichever layer holds a node's metadata,
 * and changing them (metadata-only copy-up first, data copy-up for size).
 */
#include "layer.h"
#include "lookup_i.h"
#include "copy_i.h"
#include "partial_i.h"

#include "sys.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <unistd.h>

bool cow_base_has(struct cow_node *dir, const char *name, struct stat *st)
{
	struct stat tmp;

	return dir->dir_base >= 0 &&
	       cow_sys_fstatat(dir->dir_base, name, st ? st : &tmp) == 0;
}

static void index_nlink(struct cow_fs *fs, struct cow_node *node,
			struct stat *st)
{
	char iname[32], path[COW_FD_PATH_MAX], buf[32];
	ssize_t n;
	int fd;

	cow_index_name(node, iname);
	fd = cow_sys_open_path(fs->store.index_fd, iname);
	if (fd < 0)
		return;
	n = getxattr(cow_sys_fd_path(fd, path), fs->store.x_nlink, buf,
		     sizeof(buf) - 1);
	cow_sys_close(fd);
	if (n > 0) {
		buf[n] = '\0';
		st->st_nlink = (nlink_t)strtoul(buf, NULL, 10);
	}
}

/* An open BASE file: unlinked while open, it has no links, although
 * BASE's object still has its name. */
static int base_fd_stat(struct cow_fs *fs, struct cow_node *node,
			struct stat *st)
{
	char name[NAME_MAX + 1];
	struct cow_node *parent;
	int ret = cow_sys_fstat(node->fd_base, st);

	if (ret == 0 && !node->indexed &&
	    !cow_node_name(fs, node, &parent, name))
		st->st_nlink = 0;
	return ret;
}

/* node->lock held (read or write) by the caller for regular files. */
static int file_stat(struct cow_fs *fs, struct cow_node *node, struct stat *st)
{
	char name[NAME_MAX + 1];
	struct cow_node *parent = NULL;
	struct stat bst;
	int ret, dirfd;

	if (node->fd_upper >= 0)
		ret = cow_sys_fstat(node->fd_upper, st);
	else if (node->fd_base >= 0 && node->state == COW_BASE)
		ret = base_fd_stat(fs, node, st);
	else if (node->state != COW_BASE &&
		 cow_upper_loc(fs, node, &dirfd, name))
		ret = cow_sys_fstatat(dirfd, name, st);
	else if (node->state == COW_BASE &&
		 cow_node_name(fs, node, &parent, name))
		ret = cow_sys_fstatat(parent->dir_base, name, st);
	else
		ret = -ENOENT;
	/* a partial copy's data is also linked into meta/chunks/ */
	if (ret == 0 && node->state == COW_PARTIAL && st->st_nlink > 1)
		st->st_nlink--;
	if (ret < 0 || node->state != COW_META)
		goto out;
	if (node->fd_base >= 0) {
		ret = cow_sys_fstat(node->fd_base, &bst);
	} else {
		dirfd = cow_base_data_open(fs, node); /* a descriptor here */
		ret = dirfd < 0 ? dirfd : cow_sys_fstat(dirfd, &bst);
		cow_sys_close(dirfd);
	}
	if (ret == 0)
		st->st_blocks = bst.st_blocks;
out:
	if (ret == 0 && node->indexed)
		index_nlink(fs, node, st);
	return ret;
}

int cow_getattr_locked(struct cow_fs *fs, struct cow_node *node,
		       struct stat *st)
{
	int ret;

	if (S_ISDIR(node->type)) {
		ret = cow_sys_fstat(node->dir_upper >= 0 ? node->dir_upper
							 : node->dir_base,
				    st);
	} else {
		pthread_rwlock_rdlock(&node->lock);
		ret = file_stat(fs, node, st);
		pthread_rwlock_unlock(&node->lock);
	}
	if (ret == 0)
		st->st_ino = node->key;
	return ret;
}

int cow_getattr(struct cow_fs *fs, struct cow_node *node, struct stat *st)
{
	int ret;

	pthread_rwlock_rdlock(&fs->ns_lock);
	ret = cow_getattr_locked(fs, node, st);
	pthread_rwlock_unlock(&fs->ns_lock);
	return ret;
}

int cow_readlink(struct cow_fs *fs, struct cow_node *node, char *buf,
		 size_t size)
{
	char name[NAME_MAX + 1];
	struct cow_node *parent;
	int ret = -ENOENT;

	if (!S_ISLNK(node->type))
		return -EINVAL;
	pthread_rwlock_rdlock(&fs->ns_lock);
	if (cow_node_name(fs, node, &parent, name))
		ret = cow_sys_readlinkat(node->state == COW_BASE
						 ? parent->dir_base
						 : parent->dir_upper,
					 name, buf, size);
	pthread_rwlock_unlock(&fs->ns_lock);
	return ret;
}

int cow_statfs(struct cow_fs *fs, struct statvfs *sv)
{
	return fstatvfs(fs->store.upper_fd, sv) < 0 ? -errno : 0;
}

/* Applies @sa to the upper object of @node (it has one by now). */
static int apply_fd(int fd, const struct cow_setattr *sa)
{
	struct timespec ts[2] = {{0, UTIME_OMIT}, {0, UTIME_OMIT}};
	int ret = 0;

	if (sa->valid & COW_SET_SIZE)
		ret = cow_sys_ftruncate(fd, sa->size);
	if (ret == 0 && (sa->valid & (COW_SET_UID | COW_SET_GID)))
		ret = fchown(fd, sa->valid & COW_SET_UID ? sa->uid : (uid_t)-1,
			     sa->valid & COW_SET_GID ? sa->gid : (gid_t)-1)
			      ? -errno
			      : 0;
	if (ret == 0 && (sa->valid & COW_SET_MODE))
		ret = fchmod(fd, sa->mode & 07777) ? -errno : 0;
	if (sa->valid & COW_SET_ATIME)
		ts[0] = sa->atime;
	if (sa->valid & COW_SET_MTIME)
		ts[1] = sa->mtime;
	if (ret == 0 && (sa->valid & (COW_SET_ATIME | COW_SET_MTIME)))
		ret = futimens(fd, ts) ? -errno : 0;
	return ret;
}

static int apply_at(int dirfd, const char *name, const struct cow_setattr *sa)
{
	struct timespec ts[2] = {{0, UTIME_OMIT}, {0, UTIME_OMIT}};
	int ret = 0;

	if (sa->valid & (COW_SET_UID | COW_SET_GID))
		ret = cow_sys_chownat(
			dirfd, name,
			sa->valid & COW_SET_UID ? sa->uid : (uid_t)-1,
			sa->valid & COW_SET_GID ? sa->gid : (gid_t)-1);
	if (ret == 0 && (sa->valid & COW_SET_MODE))
		ret = cow_sys_chmodat(dirfd, name, sa->mode & 07777);
	if (sa->valid & COW_SET_ATIME)
		ts[0] = sa->atime;
	if (sa->valid & COW_SET_MTIME)
		ts[1] = sa->mtime;
	if (ret == 0 && (sa->valid & (COW_SET_ATIME | COW_SET_MTIME)))
		ret = cow_sys_utimensat(dirfd, name, ts);
	return ret;
}

/* A regular file's size change: open its upper copy when not open. */
static int apply_file(struct cow_fs *fs, struct cow_node *node,
		      const struct cow_setattr *sa)
{
	char name[NAME_MAX + 1];
	int dirfd, fd, ret;

	if (node->state == COW_PARTIAL && (sa->valid & COW_SET_SIZE)) {
		ret = cow_partial_truncate(fs, node, sa->size);
		if (ret < 0)
			return ret;
	}
	if (node->fd_upper >= 0)
		return apply_fd(node->fd_upper, sa);
	if (!cow_upper_loc(fs, node, &dirfd, name))
		return -ENOENT;
	if (!(sa->valid & COW_SET_SIZE))
		return apply_at(dirfd, name, sa);
	fd = cow_sys_openat(dirfd, name, O_WRONLY | O_NOFOLLOW, 0);
	if (fd < 0)
		return fd;
	ret = apply_fd(fd, sa);
	cow_sys_close(fd);
	return ret;
}

/* Written through: the BASE object itself changes (exclude.c). */
static int excluded_setattr(struct cow_fs *fs, struct cow_node *node,
			    const struct cow_setattr *sa)
{
	char name[NAME_MAX + 1];
	int dirfd, fd, ret = cow_x_base_loc(fs, node, &dirfd, name);

	if (ret < 0 || !(sa->valid & COW_SET_SIZE))
		return ret < 0 ? ret : apply_at(dirfd, name, sa);
	fd = cow_sys_openat(dirfd, name, O_WRONLY | O_NOFOLLOW, 0);
	if (fd < 0)
		return fd;
	ret = apply_fd(fd, sa);
	cow_sys_close(fd);
	return ret;
}

/* Unlinked, not open, not a directory: nothing left to change. */
static bool gone_locked(struct cow_node *node)
{
	bool gone;

	if (S_ISDIR(node->type) || node->aliases)
		return false;
	pthread_rwlock_rdlock(&node->lock);
	gone = node->fd_base < 0 && node->fd_upper < 0;
	pthread_rwlock_unlock(&node->lock);
	return gone;
}

/*
 * On demand, an unlinked file keeps its backing for the handles the kernel
 * may still have. Under the writeback cache the kernel keeps a file's
 * mtime and ctime itself, and these handles are all that can see them: a
 * change of mtime alone (the kernel's flush of its times when it lets the
 * inode go, or a program's) needs no copy of the file into STORE.
 */
static bool times_kept_by_kernel(struct cow_fs *fs, struct cow_node *node,
				 const struct cow_setattr *sa)
{
	return fs->on_demand && fs->kernel_cmtime && S_ISREG(node->type) &&
	       !node->aliases && sa->valid == COW_SET_MTIME;
}

int cow_setattr(struct cow_fs *fs, struct cow_node *node,
		const struct cow_setattr *sa, struct stat *st)
{
	bool size = sa->valid & COW_SET_SIZE;
	char name[NAME_MAX + 1];
	int ret, dirfd;

	if (size && !S_ISREG(node->type))
		return S_ISDIR(node->type) ? -EISDIR : -EINVAL;
	pthread_rwlock_wrlock(&fs->ns_lock);
	/* The kernel may still send times for a file it just unlinked. */
	ret = gone_locked(node) ? -ENOENT : 0;
	if (ret == 0 && times_kept_by_kernel(fs, node, sa))
		goto done;
	if (ret == 0 && node->excluded) {
		ret = excluded_setattr(fs, node, sa);
		goto done;
	}
	if (ret == 0)
		ret = cow_copyup_locked(fs, node,
					size ? COW_COPY_DATA : COW_COPY_META,
					size ? sa->size : -1);
	if (ret < 0)
		goto out_unlock;
	if (S_ISDIR(node->type)) {
		ret = apply_fd(node->dir_upper, sa);
	} else if (S_ISREG(node->type)) {
		/* A partial copy truncates through its open backing. */
		bool hold = size && node->state == COW_PARTIAL;
		ret = hold ? cow_file_open_locked(fs, node) : 0;
		pthread_rwlock_rdlock(&node->lock);
		if (ret == 0)
			ret = apply_file(fs, node, sa);
		pthread_rwlock_unlock(&node->lock);
		if (hold)
			cow_file_release(fs, node);
	} else {
		ret = cow_upper_loc(fs, node, &dirfd, name)
			      ? apply_at(dirfd, name, sa)
			      : -ENOENT;
	}
done:
	if (ret == 0)
		ret = cow_getattr_locked(fs, node, st);
out_unlock:
	pthread_rwlock_unlock(&fs->ns_lock);
	return ret;
}
