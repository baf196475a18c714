// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * exclude=PATTERN: paths written through to BASE, the one way besides
 * commit that BASE is ever written, and only when asked. A pattern without
 * a slash matches a name at any depth ("*.log"), one with a slash matches
 * the path from the view's root ("var/cache"); everything below a
 * matching directory is excluded too. A name is written through only where
 * the store holds nothing for it and its directory shows BASE's directory
 * of the same path (not new, renamed or opaque): elsewhere the store takes
 * the change as usual. Excluded names are created, changed, renamed,
 * linked and removed in BASE; excluded files are read and written there.
 */
#include "layer.h"
#include "lookup_i.h"

#include "sys.h"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* The view path of directory @dir into @buf ("" for the root). */
static bool view_path(struct cow_fs *fs, struct cow_node *dir, char *buf,
		      size_t len)
{
	char name[NAME_MAX + 1], tmp[PATH_MAX];
	struct cow_node *parent;
	int depth = 0;

	buf[0] = '\0';
	while (dir != fs->root) {
		if (++depth > 4096 || !cow_node_name(fs, dir, &parent, name))
			return false;
		if ((size_t)snprintf(tmp, sizeof(tmp), "%s%s%s", name,
				     buf[0] ? "/" : "", buf) >= sizeof(tmp) ||
		    strlen(tmp) >= len)
			return false;
		memcpy(buf, tmp, strlen(tmp) + 1);
		dir = parent;
	}
	return true;
}

static bool pattern_matches(const char *pat, const char *path)
{
	const char *p = path, *slash;
	char prefix[PATH_MAX];

	/* the path and each directory above it */
	for (;;) {
		slash = strchr(p, '/');
		snprintf(prefix, sizeof(prefix), "%.*s",
			 (int)(slash ? slash - path : (long)strlen(path)),
			 path);
		if (strchr(pat, '/')
			    ? fnmatch(pat, prefix, FNM_PATHNAME) == 0
			    : fnmatch(pat,
				      strrchr(prefix, '/')
					      ? strrchr(prefix, '/') + 1
					      : prefix,
				      0) == 0)
			return true;
		if (!slash)
			return false;
		p = slash + 1;
	}
}

static bool opaque(struct cow_fs *fs, struct cow_node *dir)
{
	char v[4];

	return dir->dir_upper >= 0 &&
	       cow_sys_fgetxattr(dir->dir_upper, fs->store.x_opaque, v,
				 sizeof(v)) > 0;
}

bool cow_excluded(struct cow_fs *fs, struct cow_node *dir, const char *name)
{
	char path[PATH_MAX], full[PATH_MAX + NAME_MAX + 2];
	struct stat st;
	int i;

	if (!fs->nexclude || dir->dir_base < 0 || !dir->base_path)
		return false;
	if (dir->dir_upper >= 0 &&
	    cow_sys_fstatat(dir->dir_upper, name, &st) != -ENOENT)
		return false; /* the store holds it: the store keeps it */
	if (!view_path(fs, dir, path, sizeof(path)) ||
	    strcmp(path, dir->base_path) || opaque(fs, dir))
		return false;
	snprintf(full, sizeof(full), "%s%s%s", path, path[0] ? "/" : "", name);
	for (i = 0; i < fs->nexclude; i++)
		if (pattern_matches(fs->exclude[i], full))
			return true;
	return false;
}

int cow_x_base_loc(struct cow_fs *fs, struct cow_node *node, int *dirfd,
		   char name[NAME_MAX + 1])
{
	struct cow_node *parent;

	if (!cow_node_name(fs, node, &parent, name) || parent->dir_base < 0)
		return -ENOENT;
	*dirfd = parent->dir_base;
	return 0;
}

int cow_x_create(struct cow_fs *fs, struct cow_node *dir, const char *name,
		 const struct cow_new *nw, const struct cow_cred *cred)
{
	int at = dir->dir_base, ret, fd = -1;
	mode_t mode = nw->mode;

	if (S_ISREG(mode))
		ret = fd = cow_sys_openat(at, name, O_CREAT | O_EXCL | O_WRONLY,
					  0600);
	else if (S_ISDIR(mode))
		ret = cow_sys_mkdirat(at, name, 0700);
	else if (S_ISLNK(mode))
		ret = cow_sys_symlinkat(nw->target, at, name);
	else
		ret = cow_sys_mknodat(at, name, (mode & S_IFMT) | 0600,
				      nw->rdev);
	cow_sys_close(fd);
	if (ret < 0)
		return ret;
	if (geteuid() == 0)
		ret = cow_sys_chownat(at, name, cred->uid, cred->gid);
	if (ret == 0 && !S_ISLNK(mode))
		ret = cow_sys_chmodat(at, name, mode & 07777);
	if (ret < 0)
		cow_sys_unlinkat(at, name, S_ISDIR(mode) ? AT_REMOVEDIR : 0);
	dir->dir_version++;
	return ret;
}

int cow_x_open_rw(struct cow_fs *fs, struct cow_node *node)
{
	char name[NAME_MAX + 1];
	int dirfd, fd, ret = cow_x_base_loc(fs, node, &dirfd, name);

	if (ret < 0)
		return ret;
	fd = cow_sys_openat(dirfd, name, O_RDWR | O_NOFOLLOW, 0);
	return fd == -EACCES || fd == -ETXTBSY
		       ? cow_sys_openat(dirfd, name, O_RDONLY | O_NOFOLLOW, 0)
		       : fd;
}

int cow_x_xattr(struct cow_fs *fs, struct cow_node *node, const char *attr,
		const void *val, size_t size, int flags, bool remove)
{
	char name[NAME_MAX + 1];
	int dirfd, ret = cow_x_base_loc(fs, node, &dirfd, name);

	if (ret < 0)
		return ret;
	return remove ? cow_sys_removexattrat(dirfd, name, attr)
		      : cow_sys_setxattrat(dirfd, name, attr, val, size, flags);
}
