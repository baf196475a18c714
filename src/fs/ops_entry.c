// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * FUSE handlers for names and attributes: lookup, forget, getattr,
 * setattr, readlink, the namespace changes, statfs and access. Each sends
 * exactly one reply.
 */
#include "daemon.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

_Static_assert(sizeof(fuse_ino_t) >= sizeof(uintptr_t),
	       "node pointers must fit FUSE inode numbers");

struct cow_daemon *cow_op_daemon(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

struct cow_node *cow_op_node(fuse_req_t req, fuse_ino_t ino)
{
	if (ino == FUSE_ROOT_ID)
		return cow_op_daemon(req)->fs.root;
	return (struct cow_node *)(uintptr_t)ino;
}

fuse_ino_t cow_op_ino(struct cow_daemon *d, struct cow_node *node)
{
	return node == d->fs.root ? FUSE_ROOT_ID : (fuse_ino_t)(uintptr_t)node;
}

void cow_op_entry(struct cow_daemon *d, struct cow_node *node,
		  const struct stat *st, struct fuse_entry_param *e)
{
	memset(e, 0, sizeof(*e));
	e->ino = cow_op_ino(d, node);
	e->generation = node->generation;
	e->attr = *st;
	e->attr_timeout = d->opts.timeout;
	e->entry_timeout = d->opts.timeout;
}

static void reply_entry_or_err(fuse_req_t req, struct cow_node *node,
			       const struct stat *st, int ret)
{
	struct cow_daemon *d = cow_op_daemon(req);
	struct fuse_entry_param e;

	if (ret < 0) {
		fuse_reply_err(req, -ret);
		return;
	}
	cow_op_entry(d, node, st, &e);
	if (fuse_reply_entry(req, &e) == -ENOENT)
		cow_node_forget(&d->fs, node, 1); /* the request was aborted */
}

void cow_op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct cow_daemon *d = cow_op_daemon(req);
	struct cow_node *node = NULL;
	struct fuse_entry_param e;
	struct stat st;
	int ret;

	ret = cow_lookup(&d->fs, cow_op_node(req, parent), name, &node, &st);
	if (ret == -ENOENT && d->opts.cache) {
		/* Negative entry: the daemon is the only path to the tree. */
		memset(&e, 0, sizeof(e));
		e.entry_timeout = d->opts.timeout;
		fuse_reply_entry(req, &e);
		return;
	}
	reply_entry_or_err(req, node, &st, ret);
}

void cow_op_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	struct cow_daemon *d = cow_op_daemon(req);

	cow_node_forget(&d->fs, cow_op_node(req, ino), nlookup);
	fuse_reply_none(req);
}

void cow_op_forget_multi(fuse_req_t req, size_t count,
			 struct fuse_forget_data *forgets)
{
	struct cow_daemon *d = cow_op_daemon(req);
	size_t i;

	for (i = 0; i < count; i++)
		cow_node_forget(&d->fs, cow_op_node(req, forgets[i].ino),
				forgets[i].nlookup);
	fuse_reply_none(req);
}

static void reply_attr_or_err(fuse_req_t req, const struct stat *st, int ret)
{
	if (ret < 0)
		fuse_reply_err(req, -ret);
	else
		fuse_reply_attr(req, st, cow_op_daemon(req)->opts.timeout);
}

void cow_op_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct cow_daemon *d = cow_op_daemon(req);
	struct stat st;

	reply_attr_or_err(req, &st,
			  cow_getattr(&d->fs, cow_op_node(req, ino), &st));
}

static struct timespec attr_time(int to_set, int now_bit, struct timespec t)
{
	if (to_set & now_bit)
		return (struct timespec){0, UTIME_NOW};
	return t;
}

void cow_op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr,
		    int to_set, struct fuse_file_info *fi)
{
	struct cow_daemon *d = cow_op_daemon(req);
	struct cow_setattr sa = {0};
	struct stat st;

	if (to_set & FUSE_SET_ATTR_MODE)
		sa.valid |= COW_SET_MODE;
	if (to_set & FUSE_SET_ATTR_UID)
		sa.valid |= COW_SET_UID;
	if (to_set & FUSE_SET_ATTR_GID)
		sa.valid |= COW_SET_GID;
	if (to_set & FUSE_SET_ATTR_SIZE)
		sa.valid |= COW_SET_SIZE;
	if (to_set & FUSE_SET_ATTR_ATIME)
		sa.valid |= COW_SET_ATIME;
	if (to_set & FUSE_SET_ATTR_MTIME)
		sa.valid |= COW_SET_MTIME;
	sa.mode = attr->st_mode;
	sa.uid = attr->st_uid;
	sa.gid = attr->st_gid;
	sa.size = attr->st_size;
	sa.atime = attr_time(to_set, FUSE_SET_ATTR_ATIME_NOW, attr->st_atim);
	sa.mtime = attr_time(to_set, FUSE_SET_ATTR_MTIME_NOW, attr->st_mtim);
	if (!sa.valid) {
		cow_op_getattr(req, ino, fi);
		return;
	}
	reply_attr_or_err(req, &st,
			  cow_setattr(&d->fs, cow_op_node(req, ino), &sa, &st));
}

void cow_op_readlink(fuse_req_t req, fuse_ino_t ino)
{
	struct cow_daemon *d = cow_op_daemon(req);
	char buf[PATH_MAX + 1];
	int n;

	n = cow_readlink(&d->fs, cow_op_node(req, ino), buf, sizeof(buf));
	if (n < 0) {
		fuse_reply_err(req, -n);
		return;
	}
	if (n == (int)sizeof(buf)) {
		fuse_reply_err(req, ENAMETOOLONG);
		return;
	}
	buf[n] = '\0';
	fuse_reply_readlink(req, buf);
}

static void cred_of(fuse_req_t req, struct cow_cred *cred)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);

	cred->uid = ctx->uid;
	cred->gid = ctx->gid;
	cred->umask = ctx->umask;
}

static void make_entry(fuse_req_t req, fuse_ino_t parent, const char *name,
		       const struct cow_new *nw)
{
	struct cow_daemon *d = cow_op_daemon(req);
	struct cow_node *node = NULL;
	struct cow_cred cred;
	struct stat st;
	int ret;

	cred_of(req, &cred);
	ret = cow_create(&d->fs, cow_op_node(req, parent), name, nw, &cred,
			 &node, &st);
	reply_entry_or_err(req, node, &st, ret);
}

void cow_op_mknod(fuse_req_t req, fuse_ino_t parent, const char *name,
		  mode_t mode, dev_t rdev)
{
	struct cow_new nw = {.mode = mode, .rdev = rdev};

	if (S_ISDIR(mode) || S_ISLNK(mode)) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	if (!(mode & S_IFMT))
		nw.mode |= S_IFREG;
	make_entry(req, parent, name, &nw);
}

void cow_op_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name,
		  mode_t mode)
{
	struct cow_new nw = {.mode = (mode & 07777) | S_IFDIR};

	make_entry(req, parent, name, &nw);
}

void cow_op_symlink(fuse_req_t req, const char *link, fuse_ino_t parent,
		    const char *name)
{
	struct cow_new nw = {.mode = S_IFLNK | 0777, .target = link};

	make_entry(req, parent, name, &nw);
}

void cow_op_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t parent,
		 const char *name)
{
	struct cow_daemon *d = cow_op_daemon(req);
	struct cow_node *node = cow_op_node(req, ino);
	struct stat st;

	reply_entry_or_err(
		req, node, &st,
		cow_link(&d->fs, node, cow_op_node(req, parent), name, &st));
}

void cow_op_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct cow_daemon *d = cow_op_daemon(req);

	fuse_reply_err(req,
		       -cow_unlink(&d->fs, cow_op_node(req, parent), name));
}

void cow_op_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct cow_daemon *d = cow_op_daemon(req);

	fuse_reply_err(req, -cow_rmdir(&d->fs, cow_op_node(req, parent), name));
}

void cow_op_rename(fuse_req_t req, fuse_ino_t parent, const char *name,
		   fuse_ino_t newparent, const char *newname,
		   unsigned int flags)
{
	struct cow_daemon *d = cow_op_daemon(req);

	fuse_reply_err(req, -cow_rename(&d->fs, cow_op_node(req, parent), name,
					cow_op_node(req, newparent), newname,
					flags));
}

void cow_op_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct cow_daemon *d = cow_op_daemon(req);
	struct statvfs sv;
	int ret = cow_statfs(&d->fs, &sv);

	if (ret < 0)
		fuse_reply_err(req, -ret);
	else
		fuse_reply_statfs(req, &sv);
}

/* Only reached without default_permissions; checks like the kernel. */
void cow_op_access(fuse_req_t req, fuse_ino_t ino, int mask)
{
	struct cow_daemon *d = cow_op_daemon(req);
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	struct stat st;
	mode_t bits;
	int ret;

	ret = cow_getattr(&d->fs, cow_op_node(req, ino), &st);
	if (ret < 0 || mask == F_OK) {
		fuse_reply_err(req, -ret);
		return;
	}
	if (ctx->uid == 0) {
		ret = (mask & X_OK) && !S_ISDIR(st.st_mode) &&
				      !(st.st_mode & 0111)
			      ? EACCES
			      : 0;
		fuse_reply_err(req, ret);
		return;
	}
	bits = ctx->uid == st.st_uid   ? (st.st_mode >> 6) & 7
	       : ctx->gid == st.st_gid ? (st.st_mode >> 3) & 7
				       : st.st_mode & 7;
	fuse_reply_err(req, ((mode_t)mask & ~bits) ? EACCES : 0);
}
