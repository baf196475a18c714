// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Copies that moved away from their BASE object. An upper copy keeps the
 * BASE inode number it was made from (its origin, which is its identity
 * in the view) wherever it is renamed to. Before a commit deletes or
 * replaces a BASE object, copies of it elsewhere let go of that number:
 * ext4 gives it to the next file made, and two objects of one identity
 * would be one node to the view. They drop their origin and take their
 * upper inode's identity instead. The same walk finds the renamed
 * directories: BASE must keep what they show until they are committed.
 */
#include "manage.h"
#include "array.h"

#include "copy_i.h"
#include "lookup_i.h"
#include "sys.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>
#include <unistd.h>

static int remember(struct cow_origins *o, uint64_t origin, const char *path)
{
	struct cow_moved *grown;

	grown = cow_grow(o->v, &o->cap, o->n, sizeof(*grown), 16);
	if (!grown)
		return -ENOMEM;
	o->v = grown;
	o->v[o->n].path = strdup(path);
	if (!o->v[o->n].path)
		return -ENOMEM;
	o->v[o->n++].origin = origin;
	return 0;
}

/* A renamed directory at upper @path whose redirect is @redirect. */
static int remember_redirect(struct cow_origins *o, const char *path,
			     const char *redirect)
{
	struct cow_redirected *grown, *r;
	const char *slash = strrchr(path, '/');

	grown = cow_grow(o->r, &o->rcap, o->nr, sizeof(*grown), 8);
	if (!grown)
		return -ENOMEM;
	o->r = grown;
	r = &o->r[o->nr];
	r->upper = strdup(path);
	if (redirect[0] == '/') /* from BASE's root, as cowfs writes them */
		r->target = strdup(redirect + 1);
	else if (asprintf(&r->target, "%.*s%s%s", /* beside it (overlayfs) */
			  slash ? (int)(slash - path) : 0, path,
			  slash ? "/" : "", redirect) < 0)
		r->target = NULL;
	if (!r->upper || !r->target) {
		free(r->upper);
		free(r->target);
		return -ENOMEM;
	}
	o->nr++;
	return 0;
}

static int note_redirect(struct cow_fs *fs, struct cow_origins *o, int fd,
			 const char *path)
{
	char redirect[PATH_MAX];
	ssize_t n = cow_sys_fgetxattr(fd, fs->store.x_redirect, redirect,
				      sizeof(redirect) - 1);

	if (n <= 0)
		return 0;
	redirect[n] = '\0';
	return remember_redirect(o, path, redirect);
}

/*
 * A plain copy (no metacopy, partial copy or copy of a BASE inode with
 * several links, which its index names by origin; a symlink, or a file
 * linked in the view, is one) with an origin that BASE does not hold at
 * the same path, in directory @bfd (-1: none).
 */
static bool has_xattr_at(int dirfd, const char *name, const char *attr)
{
	return cow_sys_getxattrat(dirfd, name, attr, NULL, 0) >= 0;
}

static bool moved_copy(struct cow_fs *fs, int ufd, int bfd, const char *name,
		       const struct stat *st, uint64_t *origin)
{
	char buf[32];
	struct stat bst;
	ssize_t n;

	n = cow_sys_getxattrat(ufd, name, fs->store.x_origin, buf,
			       sizeof(buf) - 1);
	if (n <= 0 || has_xattr_at(ufd, name, fs->store.x_metacopy) ||
	    has_xattr_at(ufd, name, fs->store.x_partial) ||
	    (st->st_nlink > 1 && has_xattr_at(ufd, name, fs->store.x_nlink)))
		return false;
	buf[n] = '\0';
	*origin = strtoull(buf, NULL, 10);
	return bfd < 0 || cow_sys_fstatat(bfd, name, &bst) < 0 ||
	       bst.st_ino != *origin;
}

/* Records the moved copies below upper directory @ufd (consumed). */
static int walk(struct cow_fs *fs, struct cow_origins *o, int ufd, int bfd,
		char *path, size_t len)
{
	struct dirent *de;
	struct stat st;
	uint64_t origin;
	int ret = 0;
	DIR *d = fdopendir(ufd);

	if (!d) {
		cow_sys_close(ufd);
		return -errno;
	}
	while (ret == 0 && (de = readdir(d))) {
		int n;
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") ||
		    cow_sys_fstatat(dirfd(d), de->d_name, &st) < 0 ||
		    cow_store_is_whiteout(&st))
			continue;
		n = snprintf(path + len, PATH_MAX - len, "%s%s", len ? "/" : "",
			     de->d_name);
		if (n >= (int)(PATH_MAX - len))
			continue; /* too deep to be reached by name */
		if (S_ISDIR(st.st_mode)) {
			int sub = cow_sys_open_dir(dirfd(d), de->d_name);
			int bsub = bfd >= 0 ? cow_base_openat(&fs->base, bfd,
							      de->d_name,
							      O_DIRECTORY)
					    : -1;
			ret = sub < 0 ? 0 : note_redirect(fs, o, sub, path);
			if (sub >= 0 && ret < 0)
				cow_sys_close(sub);
			else if (sub >= 0)
				ret = walk(fs, o, sub, bsub < 0 ? -1 : bsub,
					   path, len + (size_t)n);
			cow_sys_close(bsub);
		} else if (moved_copy(fs, dirfd(d), bfd, de->d_name, &st,
				      &origin)) {
			ret = remember(o, origin, path);
		}
		path[len] = '\0';
	}
	closedir(d);
	return ret;
}

static int load(struct cow_fs *fs, struct cow_origins *o)
{
	char path[PATH_MAX] = "";
	int ufd, bfd, ret;

	if (o->loaded)
		return 0;
	o->loaded = true;
	/* a descriptor of its own: a dup would share (and move) the offset */
	ufd = cow_sys_openat(fs->store.upper_fd, ".", O_RDONLY | O_DIRECTORY,
			     0);
	if (ufd < 0)
		return ufd;
	bfd = cow_base_open_path(fs, "");
	ret = walk(fs, o, ufd, bfd < 0 ? -1 : bfd, path, 0);
	cow_sys_close(bfd);
	return ret;
}

int cow_origins_load(struct cow_manage *m)
{
	return load(m->fs, &m->origins);
}

/* A copy of a BASE object that goes takes the identity of its upper inode
 * @ino: BASE's number may be given to the next file made. */
static void take_upper_identity(struct cow_manage *m, struct cow_node *node,
				ino_t ino)
{
	cow_node_rekey(m->fs, node, cow_fs_upper_key(m->fs, ino));
	node->has_base = false;
	cow_inval_add_node(m->fs, &m->inval, node);
}

/* The copy at upper @path lets go of its origin: no xattr, upper identity. */
static int detach(struct cow_manage *m, const struct cow_moved *mv)
{
	struct cow_fs *fs = m->fs;
	struct cow_node *node;
	const char *name;
	struct stat st;
	int fd = cow_upper_open_parent(fs, mv->path, &name), ret;

	ret = fd < 0 ? fd : cow_sys_removexattrat(fd, name, fs->store.x_origin);
	if (ret == 0 || ret == -ENODATA)
		ret = cow_sys_fstatat(fd, name, &st);
	if (ret == 0) {
		node = cow_node_find(fs, mv->origin, st.st_mode);
		if (node && node->state != COW_BASE)
			take_upper_identity(m, node, st.st_ino);
		if (node)
			cow_node_put(fs, node);
	}
	cow_sys_close(fd);
	return ret == -ENOENT ? 0 : ret;
}

static int detach_ino(struct cow_manage *m, uint64_t ino)
{
	struct cow_origins *o = &m->origins;
	size_t i;
	int ret = 0;

	for (i = 0; ret == 0 && i < o->n; i++)
		if (o->v[i].origin == ino) {
			ret = detach(m, &o->v[i]);
			o->v[i].origin = 0; /* done */
		}
	return ret;
}

/* Links of BASE files with several, met in a tree that goes. */
struct link_seen {
	ino_t ino;
	nlink_t seen;
};

struct cow_links {
	struct link_seen *v;
	size_t n, cap;
};

/* 1 when @st's object has no link left outside the tree once this one is
 * counted, 0 if it has, -ENOMEM. */
static int links_last(struct cow_links *l, const struct stat *st)
{
	size_t i;
	void *grown;

	if (st->st_nlink <= 1)
		return 1;
	for (i = 0; i < l->n && l->v[i].ino != st->st_ino; i++)
		;
	if (i == l->n) {
		grown = cow_grow(l->v, &l->cap, l->n, sizeof(*l->v), 8);
		if (!grown)
			return -ENOMEM;
		l->v = grown;
		l->v[l->n++].ino = st->st_ino;
		l->v[i].seen = 0;
	}
	return ++l->v[i].seen >= st->st_nlink;
}

/*
 * BASE's last link of a file copied to meta/index/<ino> goes. The copy
 * takes BASE's data now (a metacopy still reads it there) and lets go of
 * the number, which ext4 gives to the next file made: it becomes a plain
 * upper file, whose names in the view are its links.
 */
static int release_index(struct cow_manage *m, int bdir, const char *name,
			 uint64_t ino, const char *iname)
{
	struct cow_fs *fs = m->fs;
	char path[COW_FD_PATH_MAX];
	struct cow_node *node = cow_node_find(fs, ino, S_IFREG);
	struct stat ist;
	int fd, ret = 0;

	if (node && !node->indexed) {
		cow_node_put(fs, node); /* not the copy's */
		node = NULL;
	}
	fd = cow_base_openat(&fs->base, bdir, name, O_RDONLY);
	ret = cow_index_fill(fs, ino, node, fd);
	cow_sys_close(fd);
	/* the index entry first: one left behind would claim a BASE file
	 * that gets the number later */
	fd = ret < 0 ? ret : cow_sys_open_path(fs->store.index_fd, iname);
	ret = fd < 0 ? fd : cow_sys_fstat(fd, &ist);
	if (ret == 0)
		ret = cow_sys_unlinkat(fs->store.index_fd, iname, 0);
	if (ret == 0) {
		cow_sys_fd_path(fd, path);
		removexattr(path, fs->store.x_origin);
		removexattr(path, fs->store.x_nlink);
	}
	if (ret == 0 && node) {
		node->indexed = false;
		take_upper_identity(m, node, ist.st_ino);
	}
	if (node)
		cow_node_put(fs, node);
	cow_sys_close(fd);
	return ret;
}

/*
 * A copy unlinked while open still stands for BASE's @st, and no name in
 * upper/ leads to it, so detach_ino's walk misses it: it takes the number
 * of its upper inode too, as ext4 may give BASE's to the next file a
 * commit makes.
 */
static void detach_orphans(struct cow_manage *m, const struct stat *st)
{
	struct cow_fs *fs = m->fs;
	struct cow_node *node;
	struct stat ust;
	int ret;

	while ((node = cow_node_find_orphan(fs, st->st_ino, st->st_mode))) {
		pthread_rwlock_rdlock(&node->lock);
		ret = node->state != COW_BASE && node->fd_upper >= 0
			      ? cow_sys_fstat(node->fd_upper, &ust)
			      : -EBADF;
		pthread_rwlock_unlock(&node->lock);
		if (ret == 0)
			take_upper_identity(m, node, ust.st_ino);
		cow_node_put(fs, node);
		if (ret < 0)
			break;
	}
}

/* BASE's (@dirfd, @name), of stat @st, goes; @links counts the links of
 * files met so far in a tree that goes (NULL: none). */
static int release_file(struct cow_manage *m, struct cow_links *links,
			int dirfd, const char *name, const struct stat *st)
{
	char iname[32];
	int ret;

	cow_index_key_name(st->st_ino, iname);
	if (S_ISREG(st->st_mode) &&
	    cow_sys_fstatat(m->fs->store.index_fd, iname, &(struct stat){0}) ==
		    0) {
		ret = links ? links_last(links, st) : st->st_nlink <= 1;
		ret = ret <= 0 ? ret
			       : release_index(m, dirfd, name, st->st_ino,
					       iname);
		if (ret < 0)
			return ret;
	}
	if (st->st_nlink <= 1)
		detach_orphans(m, st);
	return m->origins.n ? detach_ino(m, st->st_ino) : 0;
}

/* Detaches the copies of every object below BASE directory @fd (consumed). */
static int detach_below(struct cow_manage *m, struct cow_links *links, int fd)
{
	struct dirent *de;
	struct stat st;
	int ret = 0;
	DIR *d = fdopendir(fd);

	if (!d) {
		cow_sys_close(fd);
		return -errno;
	}
	while (ret == 0 && (de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") ||
		    cow_sys_fstatat(dirfd(d), de->d_name, &st) < 0)
			continue;
		if (!S_ISDIR(st.st_mode)) {
			ret = release_file(m, links, dirfd(d), de->d_name, &st);
			continue;
		}
		fd = cow_base_openat(&m->fs->base, dirfd(d), de->d_name,
				     O_DIRECTORY);
		if (fd >= 0)
			ret = detach_below(m, links, fd);
	}
	closedir(d);
	return ret;
}

int cow_origins_check(struct cow_manage *m, const char *bpath, const char *self)
{
	struct cow_origins *o = &m->origins;
	int ret = load(m->fs, o);
	size_t i;

	for (i = 0; ret == 0 && i < o->nr; i++) {
		const struct cow_redirected *r = &o->r[i];
		if (!r->target || (self && !strcmp(r->upper, self)) ||
		    !cow_path_at_or_below(r->target, bpath))
			continue;
		ret = cow_manage_refuse(
			m, -EBUSY,
			"%s: the renamed directory %s shows BASE's %s; commit "
			"%s first (or discard it), or its content would be "
			"lost",
			bpath[0] ? bpath : "/", r->upper, r->target, r->upper);
	}
	return ret;
}

/* Upper directory @upper ("a/b") gets the redirect "/@target". */
static int set_redirect(struct cow_fs *fs, const char *upper,
			const char *target)
{
	const char *name;
	char *value = NULL;
	int fd = cow_upper_open_parent(fs, upper, &name), ret;

	ret = fd < 0 ? fd : asprintf(&value, "/%s", target) < 0 ? -ENOMEM : 0;
	if (ret == 0)
		ret = cow_sys_setxattrat(fd, name, fs->store.x_redirect, value,
					 strlen(value), 0);
	cow_sys_close(fd);
	free(value);
	return ret;
}

/* @path at or below @from ("a/b", not the root), moved to @to; NULL when
 * it is not there, or out of memory. */
static char *moved_path(const char *path, const char *from, const char *to)
{
	size_t n = strlen(from);
	char *out;

	if (!n || !cow_path_at_or_below(path, from))
		return NULL;
	return asprintf(&out, "%s%s", to, path + n) < 0 ? NULL : out;
}

int cow_origins_moved(struct cow_manage *m, const char *from, const char *to,
		      const char *self)
{
	struct cow_origins *o = &m->origins;
	struct cow_node_set dirs = {0};
	char *nt;
	size_t i;
	int ret = load(m->fs, o);

	for (i = 0; ret == 0 && i < o->nr; i++) {
		struct cow_redirected *r = &o->r[i];
		if (!r->target || (self && !strcmp(r->upper, self)) ||
		    !(nt = moved_path(r->target, from, to)))
			continue;
		ret = set_redirect(m->fs, r->upper, nt);
		free(r->target);
		r->target = nt;
	}
	if (ret == 0)
		ret = cow_node_collect_dirs(m->fs, &dirs);
	for (i = 0; ret == 0 && i < dirs.count; i++) {
		struct cow_node *d = dirs.nodes[i];
		if (d->base_path && (nt = moved_path(d->base_path, from, to))) {
			free(d->base_path);
			d->base_path = nt;
		}
	}
	cow_node_set_free(m->fs, &dirs);
	return ret;
}

void cow_origins_redirect_done(struct cow_manage *m, const char *vpath)
{
	struct cow_origins *o = &m->origins;
	size_t i;

	for (i = 0; i < o->nr; i++)
		if (o->r[i].target && !strcmp(o->r[i].upper, vpath)) {
			free(o->r[i].target);
			o->r[i].target = NULL;
		}
}

int cow_origins_release(struct cow_manage *m, struct cow_node *dir,
			const char *name, const char *self)
{
	struct cow_links links = {0};
	struct stat st;
	char *bpath;
	int ret, fd;

	if (m->dry_run || dir->dir_base < 0 ||
	    cow_sys_fstatat(dir->dir_base, name, &st) < 0)
		return 0;
	bpath = cow_path_join(dir->base_path ? dir->base_path : "", name);
	ret = bpath ? cow_origins_check(m, bpath, self) : -ENOMEM;
	free(bpath);
	if (ret < 0)
		return ret;
	if (!S_ISDIR(st.st_mode))
		return release_file(m, NULL, dir->dir_base, name, &st);
	fd = cow_base_openat(&m->fs->base, dir->dir_base, name, O_DIRECTORY);
	ret = fd < 0 ? fd : detach_below(m, &links, fd);
	free(links.v);
	return ret;
}

void cow_origins_free(struct cow_origins *o)
{
	size_t i;

	for (i = 0; i < o->n; i++)
		free(o->v[i].path);
	for (i = 0; i < o->nr; i++) {
		free(o->r[i].upper);
		free(o->r[i].target);
	}
	free(o->v);
	free(o->r);
	memset(o, 0, sizeof(*o));
}
