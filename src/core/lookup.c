// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Name resolution over (upper, BASE): whiteouts hide, opaque directories
 * stop the merge, redirects point a renamed directory at its BASE origin,
 * metacopy files take their data from BASE. Also attributes and readlink.
 */
#include "layer.h"
#include "copy_i.h"
#include "lookup_i.h"
#include "partial_i.h"

#include "log.h"
#include "sys.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <sys/xattr.h>
#include <unistd.h>

char *cow_path_join(const char *dir, const char *name)
{
	size_t dl = strlen(dir), nl = strlen(name);
	char *p = malloc(dl + nl + 2);

	if (!p)
		return NULL;
	memcpy(p, dir, dl);
	if (dl)
		p[dl++] = '/';
	memcpy(p + dl, name, nl + 1);
	return p;
}

bool cow_path_at_or_below(const char *path, const char *top)
{
	size_t n = strlen(top);

	return !n ||
	       (!strncmp(path, top, n) && (path[n] == '\0' || path[n] == '/'));
}

/* Opens BASE directory @path ("a/b", "" for the root) one component at a
 * time, never following a symlink. */
int cow_base_open_path(struct cow_fs *fs, const char *path)
{
	char *copy, *save = NULL, *comp;
	int fd, next;

	fd = cow_base_openat(&fs->base, fs->base.fd, ".", O_DIRECTORY);
	copy = strdup(path);
	if (!copy) {
		cow_sys_close(fd);
		return -ENOMEM;
	}
	for (comp = strtok_r(copy, "/", &save); comp && fd >= 0;
	     comp = strtok_r(NULL, "/", &save)) {
		if (!strcmp(comp, "..") || !strcmp(comp, ".")) {
			cow_sys_close(fd);
			fd = -EINVAL;
			break;
		}
		next = cow_base_openat(&fs->base, fd, comp, O_DIRECTORY);
		cow_sys_close(fd);
		fd = next;
	}
	free(copy);
	return fd;
}

int cow_upper_open_path(struct cow_fs *fs, const char *path)
{
	char *copy = strdup(path), *save = NULL, *c;
	int fd = dup(fs->store.upper_fd), next;

	if (!copy || fd < 0) {
		free(copy);
		cow_sys_close(fd);
		return -ENOMEM;
	}
	for (c = strtok_r(copy, "/", &save); c && fd >= 0;
	     c = strtok_r(NULL, "/", &save)) {
		next = cow_sys_open_dir(fd, c);
		cow_sys_close(fd);
		fd = next;
	}
	free(copy);
	return fd;
}

int cow_upper_open_parent(struct cow_fs *fs, const char *path,
			  const char **name)
{
	const char *slash = strrchr(path, '/');
	char *parent = strndup(path, slash ? (size_t)(slash - path) : 0);
	int fd = parent ? cow_upper_open_path(fs, parent) : -ENOMEM;

	free(parent);
	*name = slash ? slash + 1 : path;
	return fd;
}

void cow_resolved_free(struct cow_resolved *r)
{
	if (r->map) {
		cow_chunkmap_close(r->map);
		free(r->map);
		r->map = NULL;
	}
	cow_sys_close(r->dir_upper);
	cow_sys_close(r->dir_base);
	free(r->base_path);
	r->dir_upper = r->dir_base = -1;
	r->base_path = NULL;
}

static int base_dir_of(struct cow_fs *fs, struct cow_node *dir,
		       const char *name, struct cow_resolved *r)
{
	struct stat bst;
	int ret;

	if (dir->dir_base < 0)
		return 0;
	ret = cow_sys_fstatat(dir->dir_base, name, &bst);
	if (ret == -ENOENT || (ret == 0 && !S_ISDIR(bst.st_mode)))
		return 0;
	if (ret < 0)
		return ret;
	r->dir_base =
		cow_base_openat(&fs->base, dir->dir_base, name, O_DIRECTORY);
	if (r->dir_base < 0)
		return r->dir_base;
	r->base_path = cow_path_join(dir->base_path, name);
	r->bst = bst;
	r->has_base = true;
	return r->base_path ? 0 : -ENOMEM;
}

/* A redirect names the BASE directory a renamed directory merges with. */
static int redirect_of(struct cow_fs *fs, struct cow_node *dir,
		       const char *redirect, struct cow_resolved *r)
{
	if (redirect[0] == '/')
		r->base_path = strdup(redirect + 1);
	else
		r->base_path = cow_path_join(
			dir->base_path ? dir->base_path : "", redirect);
	if (!r->base_path)
		return -ENOMEM;
	r->dir_base = cow_base_open_path(fs, r->base_path);
	if (r->dir_base < 0) {
		free(r->base_path);
		r->base_path = NULL;
		r->dir_base = -1;
		return 0; /* the origin is gone: an upper-only directory */
	}
	r->has_base = cow_sys_fstat(r->dir_base, &r->bst) == 0;
	return 0;
}

static int resolve_upper_dir(struct cow_fs *fs, struct cow_node *dir,
			     const char *name, struct cow_resolved *r)
{
	char redirect[PATH_MAX];
	unsigned long long origin;
	ssize_t n;
	int ret;

	r->dir_upper = cow_sys_open_dir(dir->dir_upper, name);
	if (r->dir_upper < 0)
		return r->dir_upper;
	n = cow_sys_fgetxattr(r->dir_upper, fs->store.x_opaque, redirect,
			      sizeof(redirect));
	r->opaque = n == 1 && redirect[0] == 'y';
	if (!r->opaque && fs->store.wh_files)
		r->opaque = cow_sys_fstatat(r->dir_upper, COW_WH_OPAQUE,
					    &r->bst) == 0;
	n = cow_sys_fgetxattr(r->dir_upper, fs->store.x_redirect, redirect,
			      sizeof(redirect) - 1);
	if (r->opaque)
		ret = 0;
	else if (n > 0) {
		redirect[n] = '\0';
		ret = redirect_of(fs, dir, redirect, r);
	} else
		ret = base_dir_of(fs, dir, name, r);
	if (ret < 0)
		return ret;
	if (cow_store_fget_u64(r->dir_upper, fs->store.x_origin, &origin) == 0)
		r->key = origin;
	else if (r->has_base)
		r->key = r->bst.st_ino;
	else
		r->key = cow_fs_upper_key(fs, r->st.st_ino);
	r->state = COW_UPPER;
	return 0;
}

/*
 * A BASE inode with several links that was copied up lives at
 * meta/index/<ino>; every name of it then shows that copy.
 */
static void resolve_index(struct cow_fs *fs, struct cow_resolved *r)
{
	char iname[32], path[COW_FD_PATH_MAX], buf[32];
	struct stat ist;
	ssize_t n;
	int fd;

	cow_index_key_name(r->key, iname);
	if (cow_sys_fstatat(fs->store.index_fd, iname, &ist) < 0)
		return;
	if (r->upper && ist.st_ino != r->st.st_ino)
		return; /* a name re-created since: not part of the group */
	fd = cow_sys_open_path(fs->store.index_fd, iname);
	if (fd < 0)
		return;
	cow_sys_fd_path(fd, path);
	r->indexed = true;
	r->state = getxattr(path, fs->store.x_metacopy, NULL, 0) >= 0
			   ? COW_META
			   : COW_UPPER;
	r->st = ist;
	if (r->state == COW_META)
		r->st.st_blocks = r->bst.st_blocks;
	n = getxattr(path, fs->store.x_nlink, buf, sizeof(buf) - 1);
	if (n > 0) {
		buf[n] = '\0';
		r->st.st_nlink = (nlink_t)strtoul(buf, NULL, 10);
	}
	cow_sys_close(fd);
}

/*
 * Whether (@dirfd, @name) carries @attr, given its listxattr result
 * @names of @len bytes; a listing that did not fit is not trusted.
 */
static bool has_marker(int dirfd, const char *name, const char *names,
		       ssize_t len, const char *attr)
{
	ssize_t off = 0;

	if (len == -ERANGE)
		return cow_sys_getxattrat(dirfd, name, attr, NULL, 0) >= 0;
	while (off < len) {
		if (!strcmp(names + off, attr))
			return true;
		off += (ssize_t)strlen(names + off) + 1;
	}
	return false;
}

/* A partial copy: its chunk map, or a loud report when it is damaged. */
static void load_map(struct cow_fs *fs, const char *name,
		     struct cow_resolved *r)
{
	char mname[40], why[256] = "";
	int ret;

	r->state = COW_PARTIAL;
	r->has_base = true;
	r->map = calloc(1, sizeof(*r->map));
	snprintf(mname, sizeof(mname), "%llu", (unsigned long long)r->key);
	ret = r->map ? cow_chunkmap_load(fs->store.chunks_fd, mname, r->map,
					 why, sizeof(why))
		     : -ENOMEM;
	if (ret == 0)
		return;
	cow_err("%s: %s; its data is refused (EIO) until the map is "
		"repaired or the change discarded",
		name, why[0] ? why : strerror(-ret));
	free(r->map);
	r->map = NULL;
	r->map_damaged = true;
}

/*
 * A metacopy file renamed by kernel overlayfs: its data is the BASE file
 * its redirect names ("/a/b" from the root, "b" beside it).
 */
static void meta_redirect(struct cow_fs *fs, struct cow_node *dir,
			  const char *name, struct cow_resolved *r)
{
	char redirect[PATH_MAX];
	ssize_t n =
		cow_sys_getxattrat(dir->dir_upper, name, fs->store.x_redirect,
				   redirect, sizeof(redirect) - 1);
	int fd;

	if (n <= 0)
		return;
	redirect[n] = '\0';
	r->base_path =
		redirect[0] == '/'
			? strdup(redirect + 1)
			: cow_path_join(dir->base_path ? dir->base_path : "",
					redirect);
	fd = r->base_path ? cow_partial_open_base(fs, r->base_path) : -1;
	if (fd >= 0 && cow_sys_fstat(fd, &r->bst) == 0 &&
	    S_ISREG(r->bst.st_mode))
		r->state = COW_META;
	cow_sys_close(fd);
	if (r->state != COW_META) {
		free(r->base_path);
		r->base_path = NULL;
	}
}

int cow_base_data_open(struct cow_fs *fs, struct cow_node *node)
{
	char name[NAME_MAX + 1];
	struct cow_node *parent;

	if (S_ISREG(node->type) && node->base_path)
		return cow_partial_open_base(fs, node->base_path);
	if (!cow_node_name(fs, node, &parent, name))
		return -ENOENT;
	return cow_base_openat(&fs->base, parent->dir_base, name, O_RDONLY);
}

static int resolve_upper_other(struct cow_fs *fs, struct cow_node *dir,
			       const char *name, struct cow_resolved *r)
{
	char names[1024], buf[32];
	unsigned long long origin = 0;
	bool metacopy, has_origin = false, partial;
	ssize_t len, n;

	/* One listing says which markers exist; most files have none. */
	len = cow_sys_listxattrat(dir->dir_upper, name, names,
				  sizeof(names) - 1);
	if (len >= 0)
		names[len] = '\0';
	metacopy = S_ISREG(r->st.st_mode) &&
		   has_marker(dir->dir_upper, name, names, len,
			      fs->store.x_metacopy);
	partial = S_ISREG(r->st.st_mode) &&
		  has_marker(dir->dir_upper, name, names, len,
			     fs->store.x_partial);
	n = has_marker(dir->dir_upper, name, names, len, fs->store.x_origin)
		    ? cow_sys_getxattrat(dir->dir_upper, name,
					 fs->store.x_origin, buf,
					 sizeof(buf) - 1)
		    : -ENODATA;
	if (n > 0) {
		buf[n] = '\0';
		has_origin = sscanf(buf, "%llu", &origin) == 1;
	}
	r->state = COW_UPPER;
	if (metacopy &&
	    has_marker(dir->dir_upper, name, names, len, fs->store.x_redirect))
		meta_redirect(fs, dir, name, r);
	else if (metacopy && dir->dir_base >= 0 &&
		 cow_sys_fstatat(dir->dir_base, name, &r->bst) == 0 &&
		 S_ISREG(r->bst.st_mode))
		r->state = COW_META;
	if (r->state == COW_META) {
		r->has_base = true;
		r->st.st_blocks = r->bst.st_blocks;
	}
	if (has_origin && partial) {
		r->key = origin;
		load_map(fs, name, r);
		/* its data is also linked into meta/chunks/ (as in attr.c) */
		if (r->st.st_nlink > 1)
			r->st.st_nlink--;
	} else if (has_origin) {
		r->key = origin;
		r->has_base = true; /* copied up from BASE */
		if (S_ISREG(r->st.st_mode) && r->st.st_nlink > 1) {
			if (dir->dir_base >= 0)
				cow_sys_fstatat(dir->dir_base, name, &r->bst);
			resolve_index(fs, r);
		}
	} else if (r->state == COW_META)
		r->key = r->bst.st_ino;
	else
		r->key = cow_fs_upper_key(fs, r->st.st_ino);
	return 0;
}

static int resolve_base(struct cow_fs *fs, struct cow_node *dir,
			const char *name, struct cow_resolved *r)
{
	int ret;

	if (dir->dir_base < 0)
		return -ENOENT;
	ret = cow_sys_fstatat(dir->dir_base, name, &r->st);
	if (ret < 0)
		return ret;
	r->bst = r->st;
	r->has_base = true;
	r->state = COW_BASE;
	r->key = r->st.st_ino;
	if (S_ISREG(r->st.st_mode) &&
	    (r->st.st_nlink > 1 ||
	     __atomic_load_n(&fs->store.index_used, __ATOMIC_RELAXED)))
		resolve_index(fs, r);
	if (!S_ISDIR(r->st.st_mode))
		return 0;
	r->dir_base =
		cow_base_openat(&fs->base, dir->dir_base, name, O_DIRECTORY);
	if (r->dir_base < 0)
		return r->dir_base;
	r->base_path = cow_path_join(dir->base_path, name);
	return r->base_path ? 0 : -ENOMEM;
}

int cow_resolve(struct cow_fs *fs, struct cow_node *dir, const char *name,
		struct cow_resolved *r)
{
	int ret;

	memset(r, 0, sizeof(*r));
	r->dir_upper = r->dir_base = -1;
	if (!S_ISDIR(dir->type))
		return -ENOTDIR;
	if (strlen(name) > NAME_MAX)
		return -ENAMETOOLONG;
	if (fs->store.wh_files && !strncmp(name, ".wh.", 4))
		return -ENOENT; /* a marker of another tool's upper */
	if (dir->dir_upper >= 0) {
		ret = cow_sys_fstatat(dir->dir_upper, name, &r->st);
		if (ret == 0 && cow_store_is_whiteout(&r->st))
			return -ENOENT;
		if (ret == 0) {
			r->upper = true;
			ret = S_ISDIR(r->st.st_mode)
				      ? resolve_upper_dir(fs, dir, name, r)
				      : resolve_upper_other(fs, dir, name, r);
			if (ret < 0)
				cow_resolved_free(r);
			return ret;
		}
		if (ret != -ENOENT)
			return ret;
		if (cow_store_wh_hidden(&fs->store, dir->dir_upper, name))
			return -ENOENT;
	}
	ret = resolve_base(fs, dir, name, r);
	if (ret < 0)
		cow_resolved_free(r);
	return ret;
}

void cow_node_adopt(struct cow_node *node, struct cow_resolved *r)
{
	node->store_blocks =
		r->upper && S_ISREG(r->st.st_mode) && r->state != COW_META
			? (int64_t)r->st.st_blocks
			: 0;
	node->state = r->state;
	node->has_base = r->has_base || r->indexed;
	node->indexed = r->indexed;
	node->base_nlink = r->has_base ? r->bst.st_nlink : 0;
	if (r->indexed && node->base_nlink < 2)
		node->base_nlink = 2;
	cow_sys_close(node->dir_upper);
	cow_sys_close(node->dir_base);
	free(node->base_path);
	if (node->map) {
		cow_chunkmap_close(node->map);
		free(node->map);
	}
	node->dir_upper = r->dir_upper;
	node->dir_base = r->dir_base;
	node->base_path = r->base_path;
	node->map = r->map;
	node->map_damaged = r->map_damaged;
	r->dir_upper = r->dir_base = -1;
	r->base_path = NULL;
	r->map = NULL;
}

/* Turns @r into a node (consuming its descriptors), named @name in @dir. */
int cow_resolved_node(struct cow_fs *fs, struct cow_node *dir, const char *name,
		      struct cow_resolved *r, struct cow_node **out)
{
	struct cow_node *node = cow_node_new(r->key, r->st.st_mode), *fresh;
	int ret;

	if (!node) {
		cow_resolved_free(r);
		return -ENOMEM;
	}
	cow_node_adopt(node, r);
	node->excluded = !r->upper && cow_excluded(fs, dir, name);
	fresh = node;
	node = cow_node_insert(fs, node);
	if (node == fresh && node->state == COW_PARTIAL && node->map)
		cow_partial_track(fs, node);
	ret = cow_node_add_alias(fs, node, dir, name);
	if (ret < 0) {
		cow_node_put(fs, node);
		return ret;
	}
	*out = node;
	return 0;
}

int cow_lookup_locked(struct cow_fs *fs, struct cow_node *dir, const char *name,
		      struct cow_node **out, struct stat *st)
{
	struct cow_resolved r;
	struct cow_node *node;
	int ret;

	ret = cow_resolve(fs, dir, name, &r);
	if (ret < 0)
		return ret;
	ret = cow_resolved_node(fs, dir, name, &r, &node);
	if (ret < 0)
		return ret;
	ret = cow_getattr_locked(fs, node, st);
	if (ret < 0) {
		cow_node_put(fs, node);
		return ret;
	}
	cow_node_touch(fs, dir);
	if (S_ISDIR(node->type))
		cow_node_touch(fs, node);
	cow_node_ref_to_lookup(fs, node);
	*out = node;
	return 0;
}

int cow_lookup(struct cow_fs *fs, struct cow_node *dir, const char *name,
	       struct cow_node **out, struct stat *st)
{
	int ret;

	pthread_rwlock_rdlock(&fs->ns_lock);
	ret = cow_lookup_locked(fs, dir, name, out, st);
	pthread_rwlock_unlock(&fs->ns_lock);
	return ret;
}

int cow_fs_make_root(struct cow_fs *fs)
{
	struct stat st;
	struct cow_node *root;

	if (cow_sys_fstat(fs->base.fd, &st) < 0)
		return -EIO;
	root = cow_node_new(st.st_ino, S_IFDIR);
	if (!root)
		return -ENOMEM;
	root->state = COW_UPPER;
	root->has_base = true;
	root->base_nlink = st.st_nlink;
	root->dir_upper = dup(fs->store.upper_fd);
	root->dir_base = cow_base_open_path(fs, "");
	root->base_path = strdup("");
	if (root->dir_upper < 0 || root->dir_base < 0 || !root->base_path) {
		cow_node_discard(root);
		return -EIO;
	}
	fs->root = cow_node_insert(fs, root);
	cow_node_ref_to_lookup(fs, fs->root);
	return 0;
}
