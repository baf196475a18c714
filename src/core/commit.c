// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Commit: the changes under a path are applied to BASE and leave the store.
 * This file is the only code that writes BASE, and only here on request.
 * Every file reaches BASE atomically: written beside its final name under a
 * temporary one, synced, then renamed over it, so an interrupted commit
 * leaves each file old or new. Metadata-only changes are applied in place.
 * The upper entry is removed only after BASE holds its content.
 */
#include "manage.h"

#include "array.h"
#include "copy_i.h"
#include "lookup_i.h"
#include "partial_i.h"
#include "sys.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define COPY_BUF (1 << 20)

static int commit_name(struct cow_manage *m, struct cow_node *dir,
		       const char *name, const char *vpath);

static void tmp_name(struct cow_manage *m, char buf[COW_TMP_MAX])
{
	snprintf(buf, COW_TMP_MAX, ".cowfs-commit.%d.%lu", (int)getpid(),
		 atomic_fetch_add(&m->fs->store.tmp_seq, 1));
}

/* Reads the view's data of @node (any state) into @dst, writers held off. */
static int copy_view_data(struct cow_fs *fs, struct cow_node *node, int dst,
			  off_t size)
{
	int max = cow_file_max_segs(fs, COPY_BUF), n, i, ret = 0;
	struct cow_seg *segs = calloc((size_t)max, sizeof(*segs));
	char *buf = malloc(COPY_BUF);
	off_t off;

	if (!segs || !buf)
		ret = -ENOMEM;
	pthread_rwlock_wrlock(&node->lock);
	for (off = 0; ret == 0 && off < size; off += COPY_BUF) {
		size_t len =
			(size_t)(size - off < COPY_BUF ? size - off : COPY_BUF);
		if (node->state == COW_PARTIAL) {
			n = cow_partial_segments(fs, node, off, len, segs, max);
		} else {
			segs[0] = (struct cow_seg){node->fd_upper, off, len};
			n = 1;
		}
		ret = n < 0 ? n : 0;
		for (i = 0; ret == 0 && i < n; i++) {
			ret = cow_sys_pread_full(segs[i].fd, buf, segs[i].len,
						 segs[i].off);
			if (ret == 0)
				ret = cow_sys_pwrite_full(dst, buf, segs[i].len,
							  segs[i].off);
		}
	}
	pthread_rwlock_unlock(&node->lock);
	free(segs);
	free(buf);
	return ret;
}

/* BASE xattrs the view no longer has are removed from @base. */
static int drop_stale_xattrs(struct cow_fs *fs, int udir, const char *uname,
			     int bdir, const char *bname)
{
	char names[8192], probe[1];
	ssize_t len = cow_sys_listxattrat(bdir, bname, names, sizeof(names));
	char *p;
	int ret = 0;

	if (len < 0)
		return len == -ENOTSUP ? 0 : (int)len;
	for (p = names; ret == 0 && p < names + len; p += strlen(p) + 1) {
		if (cow_store_xattr_private(&fs->store, p))
			continue;
		if (cow_sys_getxattrat(udir, uname, p, probe, 0) == -ENODATA)
			ret = cow_sys_removexattrat(bdir, bname, p);
	}
	return ret;
}

/* Owner, mode, xattrs and times of upper (@udir, @uname) onto BASE. */
static int apply_meta(struct cow_fs *fs, int udir, const char *uname, int bdir,
		      const char *bname)
{
	struct cow_obj src = {-1, udir, uname}, dst = {-1, bdir, bname};
	struct stat st;
	int ret = cow_sys_fstatat(udir, uname, &st);

	if (ret == 0)
		ret = drop_stale_xattrs(fs, udir, uname, bdir, bname);
	return ret ? ret : cow_copy_meta(fs, &src, &st, &dst, 0);
}

/* Creates the object @node shows, under @tmp in BASE directory @bdir. */
static int make_copy(struct cow_manage *m, struct cow_node *dir,
		     const char *name, struct cow_node *node,
		     const struct stat *st, const char *tmp)
{
	char target[PATH_MAX];
	int ret, fd;

	if (S_ISLNK(st->st_mode)) {
		ret = cow_sys_readlinkat(dir->dir_upper, name, target,
					 sizeof(target) - 1);
		if (ret < 0)
			return ret;
		target[ret] = '\0'; /* readlink does not terminate it */
		return cow_sys_symlinkat(target, dir->dir_base, tmp);
	}
	if (!S_ISREG(st->st_mode))
		return cow_sys_mknodat(dir->dir_base, tmp, st->st_mode & S_IFMT,
				       st->st_rdev);
	fd = cow_sys_openat(dir->dir_base, tmp, O_CREAT | O_EXCL | O_WRONLY,
			    0600);
	if (fd < 0)
		return fd;
	ret = cow_file_open_locked(m->fs, node);
	if (ret == 0) {
		ret = cow_sys_ftruncate(fd, st->st_size);
		if (ret == 0)
			ret = copy_view_data(m->fs, node, fd, st->st_size);
		cow_file_release(m->fs, node);
	}
	if (ret == 0)
		ret = cow_sys_fsync(fd, false);
	cow_sys_close(fd);
	return ret;
}

/* A file, symlink or special file: replaced in BASE, then dropped. */
static int commit_other(struct cow_manage *m, struct cow_node *dir,
			const char *name, const char *vpath)
{
	char tmp[COW_TMP_MAX];
	struct cow_node *node;
	struct stat st, bst;
	int ret = cow_lookup_locked(m->fs, dir, name, &node, &st);

	if (ret < 0)
		return ret;
	/* one name of several in BASE would split them (one node, two
	 * objects in the view) */
	if (node->indexed || st.st_nlink > 1) {
		cow_node_forget(m->fs, node, 1);
		return cow_manage_refuse(m, -EMLINK,
					 "%s: hard-linked files cannot be "
					 "committed (yet); discard it or copy "
					 "it",
					 vpath);
	}
	if (node->state == COW_META) {
		ret = apply_meta(m->fs, dir->dir_upper, name, dir->dir_base,
				 name);
	} else {
		tmp_name(m, tmp);
		ret = cow_origins_release(m, dir, name, NULL);
		if (ret == 0)
			ret = make_copy(m, dir, name, node, &st, tmp);
		if (ret == 0)
			ret = apply_meta(m->fs, dir->dir_upper, name,
					 dir->dir_base, tmp);
		if (ret == 0 &&
		    cow_sys_fstatat(dir->dir_base, name, &bst) == 0 &&
		    S_ISDIR(bst.st_mode))
			ret = cow_store_remove_tree(dir->dir_base, name);
		if (ret == 0)
			ret = cow_sys_renameat2(dir->dir_base, tmp,
						dir->dir_base, name, 0);
		if (ret < 0)
			cow_sys_unlinkat(dir->dir_base, tmp, 0);
	}
	if (ret == 0)
		ret = cow_sys_fsync(dir->dir_base, false);
	if (ret == 0)
		ret = cow_sys_unlinkat(dir->dir_upper, name, 0);
	cow_node_forget(m->fs, node, 1);
	if (ret == 0)
		cow_manage_say(m, "committed %s", vpath);
	return ret;
}

/* A whiteout: BASE loses the entry, the store its marker. */
static int commit_whiteout(struct cow_manage *m, struct cow_node *dir,
			   const char *name, const char *vpath)
{
	int ret = 0;

	if (dir->dir_base >= 0)
		ret = cow_origins_release(m, dir, name, NULL);
	if (ret == 0 && dir->dir_base >= 0)
		ret = cow_store_remove_tree(dir->dir_base, name);
	if (ret == 0 && dir->dir_base >= 0)
		ret = cow_sys_fsync(dir->dir_base, false);
	if (ret == 0)
		ret = cow_sys_unlinkat(dir->dir_upper, name, 0);
	if (ret == 0)
		cow_manage_say(m, "committed %s (deleted)", vpath);
	return ret;
}

/* Renamed directories and nodes inside BASE's @from follow it to @name.
 * @from is a node's base_path, which that rewrites: copied first. */
static int follow_move(struct cow_manage *m, struct cow_node *dir,
		       const char *name, const char *from, const char *vpath)
{
	char *from_copy = strdup(from);
	char *to = cow_path_join(dir->base_path ? dir->base_path : "", name);
	int ret = from_copy && to ? cow_origins_moved(m, from_copy, to, vpath)
				  : -ENOMEM;

	free(from_copy);
	free(to);
	return ret;
}

/* The times of upper directory @fd, which the view shows, as in @st. */
static void keep_times(int fd, const struct stat *st)
{
	struct timespec ts[2] = {st->st_atim, st->st_mtim};

	futimens(fd, ts);
}

/* The view's directory at @path (a ref counted as a lookup), or NULL. */
static struct cow_node *view_dir(struct cow_manage *m, const char *path)
{
	struct cow_node *parent, *dir = NULL;
	char name[NAME_MAX + 1];
	struct stat st;

	if (cow_manage_find(m, path, &parent, name) < 0)
		return NULL;
	if (!name[0])
		return parent;
	if (cow_lookup_locked(m->fs, parent, name, &dir, &st) < 0) {
		dir = NULL;
	} else if (!S_ISDIR(st.st_mode)) {
		cow_node_forget(m->fs, dir, 1);
		dir = NULL;
	}
	cow_node_forget(m->fs, parent, 1);
	return dir;
}

/* BASE's @bparent/@name has just moved away: the whiteout its rename left
 * in the view's @bparent hides nothing now. Only there: when the view's
 * directory at that path merges with another BASE directory (it was
 * renamed there since), a whiteout of @name hides that one's entry. */
static void drop_old_whiteout(struct cow_manage *m, const char *bparent,
			      const char *name)
{
	struct cow_node *dir = view_dir(m, bparent);
	struct stat st;

	if (dir && dir->dir_upper >= 0 && dir->base_path &&
	    !strcmp(dir->base_path, bparent) &&
	    cow_sys_fstatat(dir->dir_upper, name, &st) == 0 &&
	    cow_store_is_whiteout(&st) &&
	    cow_sys_fstat(dir->dir_upper, &st) == 0 &&
	    cow_sys_unlinkat(dir->dir_upper, name, 0) == 0)
		keep_times(dir->dir_upper, &st);
	if (dir)
		cow_node_forget(m->fs, dir, 1);
}

/* A renamed directory: BASE's directory moves to its new name. */
static int commit_redirect(struct cow_manage *m, struct cow_node *dir,
			   const char *name, const char *vpath,
			   struct cow_node *node)
{
	char *old = strdup(node->base_path), *last;
	struct stat st;
	int src = -1, ret = old ? 0 : -ENOMEM;

	if (ret == 0) /* before the redirect goes: see redirect_done */
		ret = cow_origins_load(m);
	if (ret == 0) /* copies may read from the old place */
		ret = cow_partial_settle_locked(m->fs, old, &m->inval);

	last = old ? strrchr(old, '/') : NULL;
	if (ret == 0) {
		if (last)
			*last++ = '\0';
		src = cow_base_open_path(m->fs, last ? old : "");
		last = last ? last : old;
		ret = src < 0 ? src : 0;
	}
	if (ret == 0 && cow_sys_fstatat(dir->dir_base, name, &st) == 0) {
		ret = cow_origins_release(m, dir, name, vpath);
		if (ret == 0)
			ret = cow_store_remove_tree(dir->dir_base, name);
	}
	if (ret == 0)
		ret = cow_sys_renameat2(src, last, dir->dir_base, name, 0);
	if (ret == 0) {
		cow_origins_redirect_done(m, vpath);
		ret = follow_move(m, dir, name, node->base_path, vpath);
	}
	if (ret == 0) {
		cow_sys_fsync(src, false);
		ret = cow_sys_removexattrat(dir->dir_upper, name,
					    m->fs->store.x_redirect);
	}
	if (ret == 0)
		drop_old_whiteout(m, last == old ? "" : old, last);
	cow_sys_close(src);
	free(old);
	return ret;
}

static bool is_opaque(struct cow_fs *fs, int dirfd, const char *name)
{
	char v[4];

	return cow_sys_getxattrat(dirfd, name, fs->store.x_opaque, v,
				  sizeof(v)) > 0 &&
	       v[0] == 'y';
}

/* An empty directory at @name in BASE, with the view's metadata. What BASE
 * had there (view path @vpath) is replaced: copies reading from it (a
 * renamed partial copy of a file that stood there) are completed first, and
 * the upper directory, which hid it, need not be opaque any more. */
static int make_base_dir(struct cow_manage *m, struct cow_node *dir,
			 const char *name, const char *vpath)
{
	char tmp[COW_TMP_MAX];
	struct stat st;
	int ret = 0;

	if (cow_sys_fstatat(dir->dir_base, name, &st) == 0) {
		ret = cow_partial_settle_locked(m->fs, vpath, &m->inval);
		if (ret == 0)
			ret = cow_origins_release(m, dir, name, NULL);
	}
	if (ret == 0 && cow_sys_fstatat(dir->dir_base, name, &st) == 0)
		ret = cow_store_remove_tree(dir->dir_base, name);
	tmp_name(m, tmp);
	if (ret == 0)
		ret = cow_sys_mkdirat(dir->dir_base, tmp, 0700);
	if (ret == 0)
		ret = apply_meta(m->fs, dir->dir_upper, name, dir->dir_base,
				 tmp);
	if (ret == 0)
		ret = cow_sys_renameat2(dir->dir_base, tmp, dir->dir_base, name,
					RENAME_NOREPLACE);
	if (ret < 0)
		cow_sys_unlinkat(dir->dir_base, tmp, AT_REMOVEDIR);
	if (ret == 0 && is_opaque(m->fs, dir->dir_upper, name))
		ret = cow_sys_removexattrat(dir->dir_upper, name,
					    m->fs->store.x_opaque);
	return ret;
}

static bool is_renamed_dir(struct cow_fs *fs, int dirfd, const char *name)
{
	struct stat st;

	return cow_sys_fstatat(dirfd, name, &st) == 0 && S_ISDIR(st.st_mode) &&
	       cow_sys_getxattrat(dirfd, name, fs->store.x_redirect, NULL, 0) >
		       0;
}

/* Renamed directories first: their BASE directories move out of the way
 * of the deletions of their old names (whiteouts) beside them. */
static int commit_children(struct cow_manage *m, struct cow_node *node,
			   const char *vpath)
{
	char child[PATH_MAX];
	int ret, i, pass;
	char **names = cow_list_names(node->dir_upper, &ret);

	for (pass = 0; pass < 2; pass++)
		for (i = 0; ret == 0 && names && names[i]; i++) {
			if (!names[i][0] ||
			    (pass == 0 &&
			     !is_renamed_dir(m->fs, node->dir_upper, names[i])))
				continue;
			snprintf(child, sizeof(child), "%s%s%s", vpath,
				 vpath[0] ? "/" : "", names[i]);
			ret = commit_name(m, node, names[i], child);
			names[i][0] = '\0';
		}
	cow_free_names(names);
	return ret;
}

/* Brings BASE's directory at @name to the view's, without its content. */
static int commit_dir_itself(struct cow_manage *m, struct cow_node *dir,
			     const char *name, const char *vpath,
			     struct cow_node *node)
{
	bool opaque = is_opaque(m->fs, dir->dir_upper, name);
	int ret = 0, fd;

	if (!node->has_base)
		ret = make_base_dir(m, dir, name, vpath);
	else if (strcmp(node->base_path, vpath))
		ret = commit_redirect(m, dir, name, vpath, node);
	if (ret == 0 && opaque && node->has_base) {
		fd = cow_sys_open_dir(dir->dir_base, name);
		ret = fd < 0 ? fd : cow_store_clear_dir(fd);
		cow_sys_close(fd);
		if (ret == 0)
			ret = cow_sys_removexattrat(dir->dir_upper, name,
						    m->fs->store.x_opaque);
	}
	if (ret == 0)
		ret = cow_manage_refresh(m, dir, name, true);
	return ret;
}

static int commit_dir(struct cow_manage *m, struct cow_node *dir,
		      const char *name, const char *vpath)
{
	struct cow_node *node;
	struct stat st;
	int ret = cow_lookup_locked(m->fs, dir, name, &node, &st);

	if (ret < 0)
		return ret;
	if (!m->dry_run)
		ret = commit_dir_itself(m, dir, name, vpath, node);
	if (ret == 0)
		ret = commit_children(m, node, vpath);
	if (ret == 0 && !m->dry_run)
		ret = apply_meta(m->fs, dir->dir_upper, name, dir->dir_base,
				 name);
	if (ret == 0 && !m->dry_run) {
		cow_sys_fsync(dir->dir_base, false);
		/* Left when some content could not be committed. */
		if (cow_sys_unlinkat(dir->dir_upper, name, AT_REMOVEDIR) == 0)
			ret = cow_manage_refresh(m, dir, name, true);
	}
	if (ret == 0)
		cow_manage_say(m, "%s %s/",
			       m->dry_run ? "would commit" : "committed",
			       vpath);
	cow_node_forget(m->fs, node, 1);
	return ret;
}

static int commit_entry(struct cow_manage *m, struct cow_node *dir,
			const char *name, const char *vpath)
{
	struct stat st;
	int ret;

	if (dir->dir_upper < 0 ||
	    cow_sys_fstatat(dir->dir_upper, name, &st) < 0) {
		cow_manage_say(m, "%s: no changes", vpath);
		return 0;
	}
	if (S_ISDIR(st.st_mode))
		return commit_dir(m, dir, name, vpath);
	if (m->dry_run) {
		cow_manage_say(m, "would commit %s", vpath);
		return 0;
	}
	ret = cow_store_is_whiteout(&st) ? commit_whiteout(m, dir, name, vpath)
					 : commit_other(m, dir, name, vpath);
	if (ret == 0) {
		m->changes++;
		ret = cow_manage_refresh(m, dir, name, true);
	} else if (!m->why[0]) {
		cow_manage_refuse(m, ret, "committing %s: %s", vpath,
				  strerror(-ret));
	}
	return ret;
}

/* Removing the committed entry from the upper directory must not change
 * the times the view shows for that directory. */
static int commit_name(struct cow_manage *m, struct cow_node *dir,
		       const char *name, const char *vpath)
{
	struct stat dst;
	bool keep = !m->dry_run && dir->dir_upper >= 0 &&
		    cow_sys_fstat(dir->dir_upper, &dst) == 0;
	int ret = commit_entry(m, dir, name, vpath);

	if (keep)
		keep_times(dir->dir_upper, &dst);
	return ret;
}

/* "a//b/" -> "a/b"; -EINVAL for "." or ".." components. */
static int normalize(const char *path, char out[PATH_MAX])
{
	char *copy = strdup(path), *save = NULL, *c;
	size_t n = 0;
	int ret = copy ? 0 : -ENOMEM;

	out[0] = '\0';
	for (c = copy ? strtok_r(copy, "/", &save) : NULL; c && ret == 0;
	     c = strtok_r(NULL, "/", &save)) {
		if (!strcmp(c, ".") || !strcmp(c, ".."))
			ret = -EINVAL;
		else if (n + strlen(c) + 2 > PATH_MAX)
			ret = -ENAMETOOLONG;
		else
			n += (size_t)sprintf(out + n, "%s%s", n ? "/" : "", c);
	}
	free(copy);
	return ret;
}

/* Each directory above @path exists in BASE under its own name. */
static int prepare_parents(struct cow_manage *m, const char *path,
			   struct cow_node **out)
{
	struct cow_node *cur = m->fs->root, *next;
	const char *p = path, *slash;
	char comp[NAME_MAX + 1], vp[PATH_MAX];
	struct stat st;
	int ret = 0;

	cow_node_get(m->fs, cur);
	cow_node_ref_to_lookup(m->fs, cur);
	while (ret == 0 && (slash = strchr(p, '/'))) {
		snprintf(comp, sizeof(comp), "%.*s", (int)(slash - p), p);
		snprintf(vp, sizeof(vp), "%.*s", (int)(slash - path), path);
		p = slash + 1;
		ret = cow_lookup_locked(m->fs, cur, comp, &next, &st);
		if (ret == 0 && !S_ISDIR(st.st_mode))
			ret = -ENOTDIR;
		if (ret < 0)
			break;
		if (next->has_base && strcmp(next->base_path, vp))
			ret = cow_manage_refuse(
				m, -EXDEV,
				"%s is inside %s, which was renamed: commit %s "
				"itself",
				path, vp, vp);
		else if (!next->has_base && !m->dry_run)
			ret = make_base_dir(m, cur, comp, vp);
		if (ret == 0 && !next->has_base && !m->dry_run)
			ret = cow_manage_refresh(m, cur, comp, true);
		cow_node_forget(m->fs, cur, 1);
		cur = next;
	}
	if (ret < 0 && !m->why[0])
		cow_manage_refuse(m, ret, "%s: %s", path, strerror(-ret));
	if (ret < 0)
		cow_node_forget(m->fs, cur, 1);
	else
		*out = cur;
	return ret;
}

static int commit_locked(struct cow_manage *m, const char *path)
{
	char norm[PATH_MAX];
	struct cow_node *dir;
	const char *last;
	int ret = normalize(path, norm);

	if (ret < 0)
		return cow_manage_refuse(m, ret, "%s: %s", path,
					 ret == -EINVAL
						 ? "'.' and '..' are not "
						   "allowed in paths"
						 : strerror(-ret));
	/* BASE is about to change below norm: copies reading from there
	 * (renamed partial copies, mostly) must not lose their data. */
	ret = m->dry_run ? 0
			 : cow_partial_settle_locked(m->fs, norm, &m->inval);
	if (ret < 0)
		return cow_manage_refuse(m, ret,
					 "%s: cannot complete the partial "
					 "copies that read from it: %s",
					 path, strerror(-ret));
	ret = prepare_parents(m, norm, &dir);
	if (ret < 0)
		return ret;
	last = strrchr(norm, '/');
	last = last ? last + 1 : norm;
	if (!norm[0])
		ret = commit_children(m, dir, "");
	else
		ret = commit_name(m, dir, last, norm);
	if (!m->dry_run)
		cow_manage_sweep(m);
	cow_node_forget(m->fs, dir, 1);
	return ret;
}

int cow_commit(struct cow_manage *m, const char *path)
{
	int ret;

	pthread_rwlock_wrlock(&m->fs->ns_lock);
	m->fs->manage_gen++;
	ret = commit_locked(m, path);
	cow_origins_free(&m->origins); /* also when refused early */
	pthread_rwlock_unlock(&m->fs->ns_lock);
	return ret;
}
