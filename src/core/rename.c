// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * rename(2) over layers, with RENAME_NOREPLACE and RENAME_EXCHANGE. The
 * moved object is copied up first (a directory only itself); a directory
 * that came from BASE carries a redirect to its BASE path, an upper-only
 * directory landing on a BASE directory's name is made opaque, and a BASE
 * name left behind becomes a whiteout in the same rename where possible.
 */
#include "layer.h"
#include "lookup_i.h"
#include "copy_i.h"
#include "partial_i.h"

#include "sys.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

struct side {
	struct cow_node *dir;
	const char *name;
	struct cow_node *node; /* NULL when the name is free */
	nlink_t nlink;
};

static int side_resolve(struct cow_fs *fs, struct side *s)
{
	struct cow_resolved r;
	int ret = cow_resolve(fs, s->dir, s->name, &r);

	s->node = NULL;
	if (ret < 0)
		return ret;
	s->nlink = r.st.st_nlink;
	return cow_resolved_node(fs, s->dir, s->name, &r, &s->node);
}

/* Links an indexed node's copy to @name when the upper name is missing. */
static int materialize(struct cow_fs *fs, struct side *s)
{
	char iname[32], tmp[COW_TMP_MAX];
	struct stat st;
	int ret;

	if (!s->node->indexed ||
	    cow_sys_fstatat(s->dir->dir_upper, s->name, &st) == 0)
		return 0;
	cow_index_name(s->node, iname);
	cow_store_tmpname(&fs->store, tmp);
	ret = cow_sys_linkat(fs->store.index_fd, iname, fs->store.work_fd, tmp);
	if (ret == 0)
		ret = cow_store_publish(&fs->store, tmp, s->dir->dir_upper,
					s->name);
	return ret;
}

static int prepare(struct cow_fs *fs, struct side *s)
{
	int ret = cow_copyup_dir_locked(fs, s->dir);

	if (ret == 0)
		ret = cow_copyup_locked(fs, s->node, COW_COPY_DATA, -1);
	if (ret == 0 && !S_ISDIR(s->node->type))
		ret = materialize(fs, s);
	return ret;
}

/* Marks directory @node for its new place (@to): redirect or opaque. */
static int mark_dir(struct cow_fs *fs, struct cow_node *node,
		    const struct side *to)
{
	char redirect[PATH_MAX];
	struct stat bst;
	int n;

	if (!S_ISDIR(node->type))
		return 0;
	if (node->dir_base >= 0) {
		n = snprintf(redirect, sizeof(redirect), "/%s",
			     node->base_path);
		if (n >= (int)sizeof(redirect))
			return -ENAMETOOLONG;
		return cow_sys_fsetxattr(node->dir_upper, fs->store.x_redirect,
					 redirect, (size_t)n, 0);
	}
	if (cow_base_has(to->dir, to->name, &bst) && S_ISDIR(bst.st_mode))
		return cow_sys_fsetxattr(node->dir_upper, fs->store.x_opaque,
					 "y", 1, 0);
	return 0;
}

static int check_replace(struct cow_fs *fs, const struct side *src,
			 const struct side *dst)
{
	bool sdir = S_ISDIR(src->node->type), ddir = S_ISDIR(dst->node->type);
	int ret;

	if (sdir && !ddir)
		return -ENOTDIR;
	if (!sdir && ddir)
		return -EISDIR;
	if (!ddir)
		return 0;
	ret = cow_dir_is_empty_locked(fs, dst->node);
	return ret < 0 ? ret : ret ? 0 : -ENOTEMPTY;
}

/* Moves src over dst's name (free, whiteout, or a replaceable object). */
static int do_move(struct cow_fs *fs, struct side *src, struct side *dst)
{
	int sfd = src->dir->dir_upper, dfd = dst->dir->dir_upper, ret;
	bool src_base = cow_base_has(src->dir, src->name, NULL);
	struct stat ust;

	ret = cow_sys_fstatat(dfd, dst->name, &ust);
	if (ret == 0 && cow_store_is_whiteout(&ust) &&
	    S_ISDIR(src->node->type)) {
		/* A directory cannot replace a whiteout: swap them. */
		ret = cow_sys_renameat2(sfd, src->name, dfd, dst->name,
					RENAME_EXCHANGE);
		if (ret == 0 && !src_base)
			ret = cow_sys_unlinkat(sfd, src->name, 0);
		return ret;
	}
	if (ret == 0 && S_ISDIR(ust.st_mode) && dst->node) {
		ret = cow_store_clear_dir(dst->node->dir_upper);
		if (ret < 0)
			return ret;
	}
	if (src_base) {
		ret = cow_sys_renameat2(sfd, src->name, dfd, dst->name,
					RENAME_WHITEOUT);
		if (ret != -EPERM && ret != -EINVAL)
			return ret;
	}
	ret = cow_sys_renameat2(sfd, src->name, dfd, dst->name, 0);
	if (ret == 0 && src_base)
		ret = cow_store_put_whiteout(&fs->store, sfd, src->name);
	return ret;
}

/* Both names written through to BASE: renamed there (0 or -errno); one
 * only: -EXDEV (programs then copy); neither: 1, the store's rename. */
static int excluded_rename(struct cow_fs *fs, const struct side *src,
			   const struct side *dst, unsigned int flags)
{
	bool xs = cow_excluded(fs, src->dir, src->name);
	bool xd = cow_excluded(fs, dst->dir, dst->name);

	if (xs != xd)
		return -EXDEV;
	if (!xs)
		return 1;
	return cow_sys_renameat2(src->dir->dir_base, src->name,
				 dst->dir->dir_base, dst->name, flags);
}

static int rename_locked(struct cow_fs *fs, struct side *src, struct side *dst,
			 unsigned int flags)
{
	bool exchange = flags & RENAME_EXCHANGE;
	int ret;

	ret = side_resolve(fs, src);
	if (ret < 0)
		return ret;
	ret = side_resolve(fs, dst);
	if (ret < 0 && ret != -ENOENT)
		return ret;
	if (dst->node && (flags & RENAME_NOREPLACE))
		return -EEXIST;
	if (!dst->node && exchange)
		return -ENOENT;
	if (dst->node == src->node)
		return 0;
	if (dst->node && !exchange) {
		ret = check_replace(fs, src, dst);
		if (ret < 0)
			return ret;
	}
	if (dst->node && !exchange && dst->nlink <= 1)
		cow_file_hold_unlinked_locked(fs, dst->node);
	ret = excluded_rename(fs, src, dst, flags);
	if (ret != 1)
		return ret;
	ret = 0;
	/* A replaced BASE name of several: index the inode (as unlink does)
	 * so that the other names' link count can drop. */
	if (dst->node && !exchange && S_ISREG(dst->node->type) &&
	    dst->node->base_nlink > 1 && !dst->node->indexed)
		ret = cow_copyup_locked(fs, dst->node, COW_COPY_META, -1);
	if (ret == 0)
		ret = prepare(fs, src);
	if (ret == 0)
		ret = cow_copyup_dir_locked(fs, dst->dir);
	if (ret == 0 && exchange)
		ret = prepare(fs, dst);
	if (ret == 0)
		ret = mark_dir(fs, src->node, dst);
	if (ret == 0 && exchange)
		ret = mark_dir(fs, dst->node, src);
	if (ret < 0)
		return ret;
	if (exchange)
		return cow_sys_renameat2(src->dir->dir_upper, src->name,
					 dst->dir->dir_upper, dst->name,
					 RENAME_EXCHANGE);
	return do_move(fs, src, dst);
}

static void update_nodes(struct cow_fs *fs, struct side *src, struct side *dst,
			 bool exchange)
{
	cow_node_move_alias(fs, src->node, src->dir, src->name, dst->dir,
			    dst->name);
	if (dst->node && exchange) {
		cow_node_move_alias(fs, dst->node, dst->dir, dst->name,
				    src->dir, src->name);
	} else if (dst->node) {
		if (dst->node->indexed && S_ISREG(dst->node->type))
			cow_index_nlink_add(fs, dst->node, -1);
		cow_node_drop_alias(fs, dst->node, dst->dir, dst->name);
		if (dst->nlink <= 1 && dst->node->state == COW_PARTIAL)
			cow_partial_forget_files(fs, dst->node);
		if (dst->nlink <= 1 || S_ISDIR(dst->node->type))
			cow_node_unhash(fs, dst->node);
	}
	src->dir->dir_version++;
	dst->dir->dir_version++;
}

int cow_rename(struct cow_fs *fs, struct cow_node *odir, const char *oname,
	       struct cow_node *ndir, const char *nname, unsigned int flags)
{
	struct side src = {.dir = odir, .name = oname};
	struct side dst = {.dir = ndir, .name = nname};
	int ret;

	if (flags & ~(unsigned int)(RENAME_NOREPLACE | RENAME_EXCHANGE))
		return -EINVAL;
	if ((flags & RENAME_NOREPLACE) && (flags & RENAME_EXCHANGE))
		return -EINVAL;
	pthread_rwlock_wrlock(&fs->ns_lock);
	ret = rename_locked(fs, &src, &dst, flags);
	if (ret == 0 && src.node != dst.node)
		update_nodes(fs, &src, &dst, flags & RENAME_EXCHANGE);
	if (src.node)
		cow_node_put(fs, src.node);
	if (dst.node)
		cow_node_put(fs, dst.node);
	pthread_rwlock_unlock(&fs->ns_lock);
	return ret;
}
