// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Namespace changes: create (files, directories, symlinks, special files),
 * link, unlink, rmdir. New objects are made in work/ with their final
 * owner and mode, then published by rename; removed BASE names become
 * whiteouts. All under ns_lock held for writing.
 */
#include "layer.h"
#include "lookup_i.h"
#include "copy_i.h"
#include "partial_i.h"

#include "sys.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* 0 when @name is free in the view, -EEXIST when taken, or an error. */
static int name_free(struct cow_fs *fs, struct cow_node *dir, const char *name)
{
	struct cow_resolved r;
	int ret = cow_resolve(fs, dir, name, &r);

	if (ret == 0) {
		cow_resolved_free(&r);
		return -EEXIST;
	}
	return ret == -ENOENT ? 0 : ret;
}

static void new_owner(const struct cow_node *dir, const struct cow_cred *cred,
		      mode_t *mode, uid_t *uid, gid_t *gid)
{
	struct stat dst;

	*uid = cred->uid;
	*gid = cred->gid;
	if (cow_sys_fstat(dir->dir_upper, &dst) == 0 &&
	    (dst.st_mode & S_ISGID)) {
		*gid = dst.st_gid;
		if (S_ISDIR(*mode))
			*mode |= S_ISGID;
	}
}

/* Makes the object in work/@tmp; returns a directory's fd via @dfd. */
static int make_object(struct cow_fs *fs, struct cow_node *dir,
		       const char *name, const char *tmp,
		       const struct cow_new *nw, const struct cow_cred *cred,
		       int *dfd)
{
	int work = fs->store.work_fd, ret, fd = -1;
	mode_t mode = nw->mode;
	struct stat bst;
	uid_t uid;
	gid_t gid;

	new_owner(dir, cred, &mode, &uid, &gid);
	if (S_ISREG(mode)) {
		ret = fd = cow_sys_openat(work, tmp, O_CREAT | O_EXCL | O_RDWR,
					  0600);
	} else if (S_ISDIR(mode)) {
		ret = cow_sys_mkdirat(work, tmp, 0700);
		fd = ret < 0 ? ret : cow_sys_open_dir(work, tmp);
		ret = ret < 0 ? ret : fd;
	} else if (S_ISLNK(mode)) {
		ret = cow_sys_symlinkat(nw->target, work, tmp);
	} else {
		ret = cow_sys_mknodat(work, tmp, (mode & S_IFMT) | 0600,
				      nw->rdev);
	}
	if (ret < 0)
		return ret;
	*dfd = fd = S_ISREG(mode) || S_ISDIR(mode) ? fd : -1;
	ret = 0;
	/* Owner first: chown clears set-id bits that the mode then sets. */
	if (geteuid() == 0)
		ret = fd >= 0 ? (fchown(fd, uid, gid) ? -errno : 0)
			      : cow_sys_chownat(work, tmp, uid, gid);
	if (ret == 0 && !S_ISLNK(mode))
		ret = fd >= 0 ? (fchmod(fd, mode & 07777) ? -errno : 0)
			      : cow_sys_chmodat(work, tmp, mode & 07777);
	if (ret == 0 && S_ISDIR(mode) && cow_base_has(dir, name, &bst))
		ret = cow_sys_fsetxattr(fd, fs->store.x_opaque, "y", 1, 0);
	return ret;
}

/* Publishes work/@tmp as @name in @dir; consumes @dfd. */
static int publish_new(struct cow_fs *fs, struct cow_node *dir,
		       const char *name, const char *tmp, int dfd,
		       bool keep_open, struct cow_node **out, struct stat *st)
{
	struct cow_node *node = NULL;
	int ret;

	ret = cow_sys_fstatat(fs->store.work_fd, tmp, st);
	if (ret == 0) {
		node = cow_node_new(cow_fs_upper_key(fs, st->st_ino),
				    st->st_mode);
		ret = node ? cow_store_publish(&fs->store, tmp, dir->dir_upper,
					       name)
			   : -ENOMEM;
	}
	if (ret < 0) {
		if (node)
			cow_node_discard(node);
		cow_sys_close(dfd);
		return ret;
	}
	node->state = COW_UPPER;
	if (S_ISDIR(node->type))
		node->dir_upper = dfd;
	else if (keep_open)
		node->fd_upper = dfd; /* for the open that follows */
	else
		cow_sys_close(dfd);
	node = cow_node_insert_new(fs, node);
	ret = cow_node_add_alias(fs, node, dir, name);
	if (ret == 0)
		ret = cow_getattr_locked(fs, node, st);
	if (ret < 0) {
		cow_node_put(fs, node);
		return ret;
	}
	cow_node_ref_to_lookup(fs, node);
	dir->dir_version++;
	*out = node;
	return 0;
}

int cow_create(struct cow_fs *fs, struct cow_node *dir, const char *name,
	       const struct cow_new *nw, const struct cow_cred *cred,
	       struct cow_node **out, struct stat *st)
{
	char tmp[COW_TMP_MAX];
	int ret, dfd = -1;

	pthread_rwlock_wrlock(&fs->ns_lock);
	ret = name_free(fs, dir, name);
	if (ret == 0 && cow_excluded(fs, dir, name)) {
		ret = cow_x_create(fs, dir, name, nw, cred);
		if (ret == 0)
			ret = cow_lookup_locked(fs, dir, name, out, st);
		goto out_unlock;
	}
	if (ret == 0)
		ret = cow_copyup_dir_locked(fs, dir);
	if (ret < 0)
		goto out_unlock;
	cow_store_tmpname(&fs->store, tmp);
	ret = make_object(fs, dir, name, tmp, nw, cred, &dfd);
	if (ret < 0)
		cow_sys_close(dfd);
	else
		ret = publish_new(fs, dir, name, tmp, dfd, nw->keep_open, out,
				  st);
	if (ret < 0)
		cow_store_remove_tree(fs->store.work_fd, tmp);
out_unlock:
	pthread_rwlock_unlock(&fs->ns_lock);
	return ret;
}

void cow_index_nlink_add(struct cow_fs *fs, struct cow_node *node, int delta)
{
	char iname[32];
	unsigned long long n;
	int fd;

	cow_index_name(node, iname);
	fd = cow_sys_openat(fs->store.index_fd, iname, O_RDONLY | O_NOFOLLOW,
			    0);
	if (fd < 0)
		return;
	if (cow_store_fget_u64(fd, fs->store.x_nlink, &n) == 0 &&
	    (delta > 0 || n > 0))
		cow_store_fset_u64(fd, fs->store.x_nlink,
				   delta > 0 ? n + (unsigned)delta
					     : n - (unsigned)-delta);
	cow_sys_close(fd);
}

int cow_link(struct cow_fs *fs, struct cow_node *node, struct cow_node *dir,
	     const char *name, struct stat *st)
{
	char oname[NAME_MAX + 1], tmp[COW_TMP_MAX];
	int ret, odir;

	if (S_ISDIR(node->type))
		return -EPERM;
	pthread_rwlock_wrlock(&fs->ns_lock);
	ret = name_free(fs, dir, name);
	if (ret == 0 && (node->excluded || cow_excluded(fs, dir, name))) {
		/* both names in BASE, or none: a link cannot span the two */
		ret = node->excluded && cow_excluded(fs, dir, name)
			      ? cow_x_base_loc(fs, node, &odir, oname)
			      : -EXDEV;
		if (ret == 0)
			ret = cow_sys_linkat(odir, oname, dir->dir_base, name);
		if (ret < 0)
			goto out_unlock;
		goto linked;
	}
	if (ret == 0)
		ret = cow_copyup_locked(fs, node, COW_COPY_DATA, -1);
	if (ret == 0)
		ret = cow_copyup_dir_locked(fs, dir);
	if (ret == 0 && !cow_upper_loc(fs, node, &odir, oname))
		ret = -ENOENT;
	if (ret < 0)
		goto out_unlock;
	cow_store_tmpname(&fs->store, tmp);
	ret = cow_sys_linkat(odir, oname, fs->store.work_fd, tmp);
	if (ret == 0)
		ret = cow_store_publish(&fs->store, tmp, dir->dir_upper, name);
	if (ret < 0) {
		cow_sys_unlinkat(fs->store.work_fd, tmp, 0);
		goto out_unlock;
	}
	if (node->indexed)
		cow_index_nlink_add(fs, node, 1);
linked:
	ret = cow_node_add_alias(fs, node, dir, name);
	if (ret == 0)
		ret = cow_getattr_locked(fs, node, st);
	if (ret == 0) {
		cow_node_get(fs, node);
		cow_node_ref_to_lookup(fs, node);
	}
	dir->dir_version++;
out_unlock:
	pthread_rwlock_unlock(&fs->ns_lock);
	return ret;
}

/* Removes @name from the view: a whiteout where BASE has it. */
int cow_remove_name_locked(struct cow_fs *fs, struct cow_node *dir,
			   const char *name, bool is_dir)
{
	int ret;

	if (cow_excluded(fs, dir, name))
		return cow_sys_unlinkat(dir->dir_base, name,
					is_dir ? AT_REMOVEDIR : 0);
	ret = cow_copyup_dir_locked(fs, dir);
	if (ret < 0)
		return ret;
	if (cow_base_has(dir, name, NULL))
		return cow_store_put_whiteout(&fs->store, dir->dir_upper, name);
	if (is_dir)
		return cow_store_remove_tree(dir->dir_upper, name);
	return cow_sys_unlinkat(dir->dir_upper, name, 0);
}

int cow_unlink(struct cow_fs *fs, struct cow_node *dir, const char *name)
{
	struct cow_resolved r;
	struct cow_node *node;
	nlink_t nlink;
	int ret;

	pthread_rwlock_wrlock(&fs->ns_lock);
	ret = cow_resolve(fs, dir, name, &r);
	if (ret == 0 && S_ISDIR(r.st.st_mode)) {
		cow_resolved_free(&r);
		ret = -EISDIR;
	}
	if (ret < 0)
		goto out_unlock;
	nlink = r.st.st_nlink;
	ret = cow_resolved_node(fs, dir, name, &r, &node);
	if (ret < 0)
		goto out_unlock;
	/* Keep the other BASE names' link count right: index the inode. */
	if (S_ISREG(node->type) && node->base_nlink > 1 && !node->indexed &&
	    !node->excluded)
		ret = cow_copyup_locked(fs, node, COW_COPY_META, -1);
	if (ret == 0 && nlink <= 1)
		cow_file_hold_unlinked_locked(fs, node);
	if (ret == 0)
		ret = cow_remove_name_locked(fs, dir, name, false);
	if (ret == 0) {
		if (node->indexed)
			cow_index_nlink_add(fs, node, -1);
		cow_node_drop_alias(fs, node, dir, name);
		if (nlink <= 1 && node->state == COW_PARTIAL)
			cow_partial_forget_files(fs, node);
		if (nlink <= 1) {
			cow_node_unhash(fs, node);
			cow_quota_release(fs, node);
		}
		dir->dir_version++;
	}
	cow_node_put(fs, node);
out_unlock:
	pthread_rwlock_unlock(&fs->ns_lock);
	return ret;
}

int cow_rmdir(struct cow_fs *fs, struct cow_node *dir, const char *name)
{
	struct cow_resolved r;
	struct cow_node *node;
	int ret;

	pthread_rwlock_wrlock(&fs->ns_lock);
	ret = cow_resolve(fs, dir, name, &r);
	if (ret == 0 && !S_ISDIR(r.st.st_mode)) {
		cow_resolved_free(&r);
		ret = -ENOTDIR;
	}
	if (ret == 0)
		ret = cow_resolved_node(fs, dir, name, &r, &node);
	if (ret < 0)
		goto out_unlock;
	ret = cow_dir_is_empty_locked(fs, node);
	if (ret == 0)
		ret = -ENOTEMPTY;
	else if (ret > 0)
		ret = cow_remove_name_locked(fs, dir, name, true);
	if (ret == 0) {
		cow_node_drop_alias(fs, node, dir, name);
		cow_node_unhash(fs, node);
		dir->dir_version++;
	}
	cow_node_put(fs, node);
out_unlock:
	pthread_rwlock_unlock(&fs->ns_lock);
	return ret;
}
