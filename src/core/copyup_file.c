// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Copy-up of non-directories. The copy is prepared in work/ and published
 * by rename over its first name (or, for a BASE inode with several links,
 * at meta/index/<ino>, then linked to every known name) while the caller
 * holds ns_lock and node->lock for writing, so no reader sees a half state.
 * A write's copy of a plain file is prepared earlier, with ns_lock held
 * only for reading (cow_copyup_data, at the end).
 */
#include "layer.h"
#include "lookup_i.h"
#include "copy_i.h"
#include "partial_i.h"

#include "log.h"
#include "sys.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

struct file_copy {
	struct cow_node *parent; /* of the first name; NULL when unlinked */
	char name[NAME_MAX + 1];
	struct stat st;	     /* metadata to reproduce */
	struct cow_obj msrc; /* where that metadata lives */
	int data_fd;	     /* BASE data, -1 if not needed */
	bool own_data_fd;
	char tmp[COW_TMP_MAX];
	int dst_fd;   /* the new regular file, -1 otherwise */
	bool unnamed; /* dst_fd has no name yet: linked at tmp to publish */
	bool partial; /* copy by chunks: sparse copy plus chunk map */
	uint64_t gen; /* fs->manage_gen when a copy outside ns_lock began */
};

void cow_index_key_name(uint64_t key, char buf[32])
{
	snprintf(buf, 32, "%llu", (unsigned long long)key);
}

void cow_index_name(const struct cow_node *node, char buf[32])
{
	cow_index_key_name(node->key, buf);
}

bool cow_upper_loc(struct cow_fs *fs, struct cow_node *node, int *dirfd,
		   char name[NAME_MAX + 1])
{
	struct cow_node *parent;

	char mname[40];

	/* (a damaged copy by its name: its data link may be what is gone) */
	if (node->state == COW_PARTIAL && node->map) {
		*dirfd = fs->store.chunks_fd;
		cow_partial_names(node, mname, name);
		return true;
	}
	if (node->indexed) {
		*dirfd = fs->store.index_fd;
		cow_index_name(node, name);
		return true;
	}
	if (!cow_node_name(fs, node, &parent, name))
		return false;
	*dirfd = parent->dir_upper;
	return *dirfd >= 0;
}

static int source_setup(struct cow_fs *fs, struct cow_node *node,
			struct file_copy *fc, bool need_data)
{
	int ret, dirfd;

	if (node->state == COW_META) {
		if (node->fd_upper >= 0)
			fc->msrc = (struct cow_obj){.fd = node->fd_upper};
		else if (cow_upper_loc(fs, node, &dirfd, fc->name))
			fc->msrc = (struct cow_obj){-1, dirfd, fc->name};
		else
			return -ENOENT;
	} else if (fc->parent) {
		fc->msrc = (struct cow_obj){-1, fc->parent->dir_base, fc->name};
	} else if (node->fd_base >= 0) {
		fc->msrc = (struct cow_obj){.fd = node->fd_base};
	} else {
		return -ENOENT;
	}
	ret = fc->msrc.fd >= 0
		      ? cow_sys_fstat(fc->msrc.fd, &fc->st)
		      : cow_sys_fstatat(fc->msrc.dirfd, fc->name, &fc->st);
	if (ret < 0 || !need_data || !S_ISREG(node->type))
		return ret;
	if (node->fd_base >= 0) {
		fc->data_fd = node->fd_base;
		return 0;
	}
	if (!fc->parent)
		return -ENOENT;
	fc->data_fd = node->state == COW_META
			      ? cow_base_data_open(fs, node)
			      : cow_base_openat(&fs->base, fc->parent->dir_base,
						fc->name, O_RDONLY);
	fc->own_data_fd = fc->data_fd >= 0;
	return fc->data_fd < 0 ? fc->data_fd : 0;
}

/*
 * A regular file's copy starts without a name (O_TMPFILE) unless it is
 * made by chunks, whose map names it: its fdatasync then has no new
 * directory entry to write (ext4 without a journal syncs the parent of a
 * new name with the file), and a crash leaves nothing behind in work/.
 */
static int make_regular(struct cow_fs *fs, struct file_copy *fc)
{
	int work = fs->store.work_fd;

	if (!fc->parent || (!fc->partial && !fs->store.no_tmpfile)) {
		fc->dst_fd =
			cow_sys_openat(work, ".", O_TMPFILE | O_RDWR, 0600);
		fc->unnamed = fc->dst_fd >= 0;
		if (fc->dst_fd >= 0 || !fc->parent)
			return fc->dst_fd < 0 ? fc->dst_fd : 0;
		if (fc->dst_fd == -EOPNOTSUPP || fc->dst_fd == -EISDIR)
			fs->store.no_tmpfile = true;
	}
	fc->dst_fd =
		cow_sys_openat(work, fc->tmp, O_CREAT | O_EXCL | O_RDWR, 0600);
	return fc->dst_fd < 0 ? fc->dst_fd : 0;
}

/* The unnamed copy gets its name in work/, to be published by rename. */
static int name_copy(struct cow_fs *fs, struct file_copy *fc)
{
	int ret = cow_sys_link_fd(fc->dst_fd, fs->store.work_fd, fc->tmp);

	if (ret == 0)
		fc->unnamed = false;
	return ret;
}

static int make_target(struct cow_fs *fs, struct file_copy *fc)
{
	char target[PATH_MAX];
	int work = fs->store.work_fd, n;

	cow_store_tmpname(&fs->store, fc->tmp);
	if (S_ISREG(fc->st.st_mode))
		return make_regular(fs, fc);
	if (!fc->parent)
		return -ENOENT;
	if (!S_ISLNK(fc->st.st_mode))
		return cow_sys_mknodat(work, fc->tmp,
				       (fc->st.st_mode & S_IFMT) | 0600,
				       fc->st.st_rdev);
	n = cow_sys_readlinkat(fc->msrc.dirfd, fc->name, target,
			       sizeof(target));
	if (n < 0 || n == (int)sizeof(target))
		return n < 0 ? n : -ENAMETOOLONG;
	target[n] = '\0';
	return cow_sys_symlinkat(target, work, fc->tmp);
}

static int prepare_partial(struct cow_fs *fs, struct cow_node *node,
			   struct file_copy *fc, off_t base_size)
{
	char *path = cow_path_join(fc->parent->base_path, fc->name);
	int ret;

	if (!path)
		return -ENOMEM;
	ret = cow_partial_prepare(fs, node, fc->dst_fd, fc->tmp, base_size,
				  path);
	free(path);
	return ret;
}

static int fill_target(struct cow_fs *fs, struct cow_node *node,
		       struct file_copy *fc, bool data, off_t limit)
{
	struct cow_obj dst = {fc->dst_fd, fs->store.work_fd, fc->tmp};
	off_t end = fc->st.st_size;
	bool ordered = false;
	int ret = 0;

	if (limit >= 0 && limit < end)
		end = limit;
	if (fc->partial && end == fc->st.st_size &&
	    ioctl(fc->dst_fd, FICLONE, fc->data_fd) == 0)
		fc->partial = false; /* cloned whole: better than chunks */
	else if (fc->partial)
		ret = cow_sys_ftruncate(fc->dst_fd, end);
	if (fc->partial) {
		/* nothing copied now: chunks come on demand */
	} else if (fc->dst_fd >= 0 && data && fs->store.fsync &&
		   fs->store.direct_orders) {
		ret = cow_copy_data_ordered(fc->data_fd, fc->dst_fd, end,
					    fc->st.st_size);
		ordered = ret == 1;
		ret = ret < 0 ? ret : 0;
	} else if (fc->dst_fd >= 0 && data) {
		ret = cow_copy_data(fc->data_fd, fc->dst_fd, end,
				    fc->st.st_size);
	} else if (fc->dst_fd >= 0) {
		ret = cow_sys_ftruncate(fc->dst_fd, end);
		if (ret == 0)
			ret = cow_sys_fsetxattr(fc->dst_fd,
						fs->store.x_metacopy, "", 0, 0);
	}
	if (ret == 0)
		ret = cow_copy_meta(fs, &fc->msrc, &fc->st, &dst,
				    node->has_base ? node->key : 0);
	if (ret == 0 && fc->partial)
		ret = prepare_partial(fs, node, fc, end);
	else if (ret == 0 && data && fc->dst_fd >= 0 && fs->store.fsync &&
		 !ordered)
		ret = cow_sys_fsync(fc->dst_fd, true);
	return ret;
}

/* Hard-links the published object at (@dirfd, @name) to every name. */
static int link_aliases(struct cow_fs *fs, struct cow_node *node, int dirfd,
			const char *name)
{
	char tmp[COW_TMP_MAX];
	struct cow_alias *a;
	int ret = 0;

	for (a = node->aliases; a && ret == 0; a = a->next) {
		ret = cow_copyup_dir_locked(fs, a->parent);
		if (ret < 0)
			break;
		if (a->parent->dir_upper == dirfd && !strcmp(a->name, name))
			continue;
		cow_store_tmpname(&fs->store, tmp);
		ret = cow_sys_linkat(dirfd, name, fs->store.work_fd, tmp);
		if (ret == 0)
			ret = cow_copyup_publish(fs, tmp, a->parent->dir_upper,
						 a->name);
		if (ret < 0)
			cow_sys_unlinkat(fs->store.work_fd, tmp, 0);
	}
	return ret;
}

/* The link count kept at the index: carried over from the copy being
 * replaced (a metacopy, whose count links and unlinks have changed). */
static unsigned long long index_links(struct cow_fs *fs, struct cow_node *node,
				      const char *iname)
{
	unsigned long long n = node->base_nlink;
	int fd;

	if (!node->indexed)
		return n;
	fd = cow_sys_openat(fs->store.index_fd, iname, O_RDONLY | O_NOFOLLOW,
			    0);
	if (fd >= 0 && cow_store_fget_u64(fd, fs->store.x_nlink, &n) < 0)
		n = node->base_nlink;
	cow_sys_close(fd);
	return n;
}

static int publish(struct cow_fs *fs, struct cow_node *node,
		   struct file_copy *fc)
{
	char iname[32];
	int ret;

	if (!fc->parent)
		return 0; /* anonymous: nothing to publish */
	if (fc->unnamed) {
		ret = name_copy(fs, fc);
		if (ret < 0)
			return ret;
	}
	if (node->base_nlink > 1 && S_ISREG(node->type)) {
		cow_index_name(node, iname);
		if (fc->dst_fd >= 0)
			cow_store_fset_u64(fc->dst_fd, fs->store.x_nlink,
					   index_links(fs, node, iname));
		__atomic_store_n(&fs->store.index_used, true, __ATOMIC_RELAXED);
		ret = cow_store_publish(&fs->store, fc->tmp, fs->store.index_fd,
					iname);
		if (ret == 0)
			node->indexed = true;
		return ret < 0 ? ret
			       : link_aliases(fs, node, fs->store.index_fd,
					      iname);
	}
	ret = cow_copyup_publish(fs, fc->tmp, fc->parent->dir_upper, fc->name);
	if (ret == 0 && node->aliases && node->aliases->next)
		ret = link_aliases(fs, node, fc->parent->dir_upper, fc->name);
	return ret;
}

/* Closes what a copy opened; the copy itself goes too unless published. */
static void drop_copy(struct cow_fs *fs, struct file_copy *fc)
{
	if (fc->own_data_fd)
		cow_sys_close(fc->data_fd);
	fc->own_data_fd = false;
	cow_sys_close(fc->dst_fd);
	fc->dst_fd = -1;
	if (!fc->unnamed && fc->tmp[0])
		cow_sys_unlinkat(fs->store.work_fd, fc->tmp, 0);
}

static void finish(struct cow_fs *fs, struct cow_node *node,
		   struct file_copy *fc, int ret, bool data)
{
	if (ret < 0) {
		drop_copy(fs, fc);
		cow_err("copy-up of %s failed: %s",
			fc->parent ? fc->name : "(unlinked file)",
			strerror(-ret));
		return;
	}
	if (fc->own_data_fd)
		cow_sys_close(fc->data_fd);
	node->state = data || !S_ISREG(node->type) ? COW_UPPER : COW_META;
	if (fc->partial) {
		node->state = COW_PARTIAL;
		cow_partial_track(fs, node);
	}
	if (cow_backing_held(node) && fc->dst_fd >= 0) {
		cow_sys_close(node->fd_upper);
		node->fd_upper = fc->dst_fd;
	} else {
		cow_sys_close(fc->dst_fd);
	}
}

/* (@dirfd, @name) opened for writing, made writable for the owner
 * meanwhile if its mode forbids it (*@restore: the mode to put back, or
 * 0). */
static int open_rw_at(int dirfd, const char *name, struct stat *st,
		      mode_t *restore)
{
	char path[COW_FD_PATH_MAX];
	int fd, rw;

	*restore = 0;
	fd = cow_sys_openat(dirfd, name, O_RDWR | O_NOFOLLOW, 0);
	if (fd != -EACCES)
		return fd < 0 || cow_sys_fstat(fd, st) == 0 ? fd : -EIO;
	fd = cow_sys_openat(dirfd, name, O_RDONLY | O_NOFOLLOW, 0);
	if (fd < 0 || cow_sys_fstat(fd, st) < 0 ||
	    fchmod(fd, (st->st_mode & 07777) | S_IWUSR) < 0) {
		cow_sys_close(fd);
		return -EACCES;
	}
	*restore = (st->st_mode & 07777) | S_IFREG;
	rw = cow_sys_openat(AT_FDCWD, cow_sys_fd_path(fd, path), O_RDWR, 0);
	cow_sys_close(fd);
	return rw;
}

/*
 * Copies the data of BASE inode @key (open at @data_fd) up to @limit (-1:
 * all) into its indexed metacopy, meta/index/<key>, itself: every upper
 * name of a BASE inode with several links is a link to that inode,
 * including names no node knows of yet, so the data must land there, not
 * in a new inode. The metacopy mark goes last, after the data and the old
 * times are back (and synced), so a crash in between leaves a metacopy
 * that still reads BASE. Returns the copy open for writing.
 */
static int index_fill(struct cow_fs *fs, uint64_t key, int data_fd, off_t limit)
{
	char iname[32];
	struct timespec ts[2];
	struct stat st, bst;
	mode_t restore;
	int fd, ret;
	off_t end;

	cow_index_key_name(key, iname);
	fd = open_rw_at(fs->store.index_fd, iname, &st, &restore);
	if (fd < 0)
		return fd;
	ret = cow_sys_fstat(data_fd, &bst);
	end = limit >= 0 && limit < st.st_size ? limit : st.st_size;
	if (ret == 0 && bst.st_ino != key)
		ret = -ESTALE; /* the name no longer leads to its BASE inode */
	if (ret == 0)
		ret = cow_copy_data(data_fd, fd, end, bst.st_size);
	ts[0] = st.st_atim;
	ts[1] = st.st_mtim;
	if (ret == 0 && futimens(fd, ts) < 0)
		ret = -errno;
	if (ret == 0 && fs->store.fsync)
		ret = cow_sys_fsync(fd, true);
	if (ret == 0)
		ret = cow_sys_fremovexattr(fd, fs->store.x_metacopy);
	if (restore && fchmod(fd, restore & 07777) < 0 && ret == 0)
		ret = -errno;
	if (ret < 0) {
		cow_sys_close(fd);
		cow_err("copy-up of linked file %llu failed: %s",
			(unsigned long long)key, strerror(-ret));
	}
	return ret < 0 ? ret : fd;
}

/* An indexed metacopy @node gets its data (index_fill) from @data_fd, or
 * (-1) from BASE's inode as the node finds it. */
static int fill_in_place(struct cow_fs *fs, struct cow_node *node, int data_fd,
			 off_t limit)
{
	int own = -1, src = data_fd >= 0 ? data_fd : node->fd_base, fd;

	if (src < 0)
		src = own = cow_base_data_open(fs, node);
	fd = src < 0 ? src : index_fill(fs, node->key, src, limit);
	cow_sys_close(own);
	if (fd < 0)
		return fd;
	node->state = COW_UPPER;
	if (cow_backing_held(node)) {
		cow_sys_close(node->fd_upper);
		node->fd_upper = fd;
	} else {
		cow_sys_close(fd);
	}
	return 0;
}

int cow_index_fill(struct cow_fs *fs, uint64_t key, struct cow_node *node,
		   int data_fd)
{
	char iname[32];
	int ret = 0;

	if (node) {
		pthread_rwlock_wrlock(&node->lock);
		if (node->state == COW_META)
			ret = fill_in_place(fs, node, data_fd, -1);
		pthread_rwlock_unlock(&node->lock);
		return ret;
	}
	cow_index_key_name(key, iname);
	if (cow_sys_getxattrat(fs->store.index_fd, iname, fs->store.x_metacopy,
			       NULL, 0) < 0)
		return 0; /* has its data */
	if (data_fd < 0)
		return data_fd;
	ret = index_fill(fs, key, data_fd, -1);
	cow_sys_close(ret);
	return ret < 0 ? ret : 0;
}

/* ns_lock and node->lock held for writing. */
static int copyup_file_locked(struct cow_fs *fs, struct cow_node *node,
			      enum cow_copy what, off_t limit)
{
	struct file_copy fc = {.data_fd = -1, .dst_fd = -1};
	bool data = what == COW_COPY_DATA;
	int ret;

	if (node->state == COW_UPPER || node->state == COW_PARTIAL ||
	    (node->state == COW_META && !data))
		return 0;
	if (node->state == COW_META && node->indexed && S_ISREG(node->type))
		return fill_in_place(fs, node, -1, limit);
	if (cow_node_name(fs, node, &fc.parent, fc.name)) {
		ret = cow_copyup_dir_locked(fs, fc.parent);
		if (ret < 0)
			return ret;
	} else {
		fc.parent = NULL;
		data = true; /* an anonymous copy holds its data */
	}
	ret = source_setup(fs, node, &fc, data);
	fc.partial = ret == 0 && data && fc.parent && fc.parent->base_path &&
		     node->state != COW_PARTIAL &&
		     cow_partial_wanted(fs, node, fc.st.st_size);
	if (ret == 0)
		ret = make_target(fs, &fc);
	if (ret == 0)
		ret = fill_target(fs, node, &fc, data, limit);
	if (ret == 0)
		ret = publish(fs, node, &fc);
	finish(fs, node, &fc, ret, data);
	return ret;
}

int cow_copyup_locked(struct cow_fs *fs, struct cow_node *node,
		      enum cow_copy what, off_t limit)
{
	int ret;

	if (node->excluded)
		return -EXDEV; /* written through: never copied (exclude.c) */
	if (S_ISDIR(node->type))
		return cow_copyup_dir_locked(fs, node);
	pthread_rwlock_wrlock(&node->lock);
	ret = copyup_file_locked(fs, node, what, limit);
	pthread_rwlock_unlock(&node->lock);
	return ret;
}

int cow_copyup(struct cow_fs *fs, struct cow_node *node, enum cow_copy what,
	       off_t limit)
{
	int ret;

	pthread_rwlock_wrlock(&fs->ns_lock);
	ret = cow_copyup_locked(fs, node, what, limit);
	pthread_rwlock_unlock(&fs->ns_lock);
	return ret;
}

/* ---- data copies made outside ns_lock ---- */

/*
 * ns_lock for reading and node->lock for writing held: makes and syncs the
 * whole copy of BASE file @node, unnamed, for copy_late() to publish.
 * Returns 1 when it did, 0 when the file takes the usual way (a partial,
 * linked, unnamed or excluded file, or no O_TMPFILE; what was opened is
 * left for drop_copy), or an error (the copy dropped and logged).
 */
static int copy_early(struct cow_fs *fs, struct cow_node *node,
		      struct file_copy *fc)
{
	int ret;

	if (node->state != COW_BASE || !S_ISREG(node->type) || node->excluded ||
	    node->base_nlink > 1 ||
	    !cow_node_name(fs, node, &fc->parent, fc->name))
		return 0;
	cow_node_get(fs, fc->parent);
	fc->gen = fs->manage_gen;
	ret = source_setup(fs, node, fc, true);
	if (ret == 0 && (!fc->parent->base_path ||
			 cow_partial_wanted(fs, node, fc->st.st_size)))
		return 0;
	if (ret == 0)
		ret = make_target(fs, fc);
	if (ret == 0 && !fc->unnamed)
		return 0; /* the caller drops it */
	if (ret == 0)
		ret = fill_target(fs, node, fc, true, -1);
	if (ret < 0)
		finish(fs, node, fc, ret, true);
	return ret < 0 ? ret : 1;
}

/*
 * ns_lock held for writing: publishes what copy_early() made, unless the
 * node changed meanwhile (a copy or metacopy made by another request, a
 * rename, an unlink, a commit or discard); then the copy is dropped and 0
 * returned, for the usual way to copy again.
 */
static int copy_late(struct cow_fs *fs, struct cow_node *node,
		     struct file_copy *fc)
{
	struct cow_node *parent;
	char name[NAME_MAX + 1];
	int ret;

	pthread_rwlock_wrlock(&node->lock);
	if (node->state != COW_BASE || fs->manage_gen != fc->gen ||
	    !cow_node_name(fs, node, &parent, name) || parent != fc->parent ||
	    strcmp(name, fc->name)) {
		pthread_rwlock_unlock(&node->lock);
		drop_copy(fs, fc);
		return 0;
	}
	ret = cow_copyup_dir_locked(fs, fc->parent);
	if (ret == 0)
		ret = publish(fs, node, fc);
	finish(fs, node, fc, ret, true);
	pthread_rwlock_unlock(&node->lock);
	return ret < 0 ? ret : 1;
}

int cow_copyup_data(struct cow_fs *fs, struct cow_node *node)
{
	pthread_mutex_t *one = &fs->copy_locks[node->key % COW_COPY_LOCKS];
	struct file_copy fc = {.data_fd = -1, .dst_fd = -1};
	int ret;

	pthread_mutex_lock(one);
	pthread_rwlock_rdlock(&fs->ns_lock);
	pthread_rwlock_wrlock(&node->lock);
	ret = copy_early(fs, node, &fc);
	pthread_rwlock_unlock(&node->lock);
	pthread_rwlock_unlock(&fs->ns_lock);
	if (ret == 0) {
		drop_copy(fs, &fc);
		ret = cow_copyup(fs, node, COW_COPY_DATA, -1);
	} else if (ret == 1) {
		pthread_rwlock_wrlock(&fs->ns_lock);
		ret = copy_late(fs, node, &fc);
		if (ret == 0)
			ret = cow_copyup_locked(fs, node, COW_COPY_DATA, -1);
		pthread_rwlock_unlock(&fs->ns_lock);
	}
	pthread_mutex_unlock(one);
	if (fc.parent)
		cow_node_put(fs, fc.parent);
	return ret < 0 ? ret : 0;
}
