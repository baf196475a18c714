// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * FUSE handlers for directories: listings by position, which stay stable
 * while the directory changes (see cow_dirsnap). Also the xattr handlers.
 */
#include "daemon.h"

#include "cli.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/*
 * No handle: listings are served by position (cow_dirsnap). Where the
 * kernel allows, opendir answers ENOSYS once and the kernel stops asking
 * (no OPENDIR and RELEASEDIR round trips), caching the listing itself as
 * it does when FOPEN_CACHE_DIR is set, which it then is by default.
 */
void cow_op_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct cow_daemon *d = cow_op_daemon(req);

	if (d->no_opendir) {
		fuse_reply_err(req, ENOSYS);
		return;
	}
	fi->fh = 0;
	if (d->opts.cache) {
		/* The kernel drops this cache itself when the directory
		 * changes through the mount, the only way it can change. */
		fi->cache_readdir = 1;
		fi->keep_cache = 1;
	}
	fuse_reply_open(req, fi);
}

static size_t add_plain(fuse_req_t req, char *buf, size_t size,
			const struct cow_dirent *ent, off_t next)
{
	struct stat st = {.st_ino = ent->ino, .st_mode = ent->type};

	return fuse_add_direntry(req, buf, size, ent->name, &st, next);
}

/* Adds one entry with its attributes; 0 when it does not fit. */
static size_t add_plus(fuse_req_t req, char *buf, size_t size,
		       struct cow_node *dir, const struct cow_dirent *ent,
		       off_t next)
{
	struct cow_daemon *d = cow_op_daemon(req);
	struct fuse_entry_param e;
	struct cow_node *node;
	struct stat st;
	size_t len;

	if (!strcmp(ent->name, ".") || !strcmp(ent->name, "..")) {
		memset(&e, 0, sizeof(e));
		e.attr.st_ino = ent->ino;
		e.attr.st_mode = ent->type;
		return fuse_add_direntry_plus(req, buf, size, ent->name, &e,
					      next);
	}
	if (cow_lookup(&d->fs, dir, ent->name, &node, &st) < 0) {
		/* Gone since the snapshot: list it without attributes. */
		memset(&e, 0, sizeof(e));
		e.attr.st_ino = ent->ino;
		e.attr.st_mode = ent->type;
		return fuse_add_direntry_plus(req, buf, size, ent->name, &e,
					      next);
	}
	cow_op_entry(d, node, &st, &e);
	len = fuse_add_direntry_plus(req, buf, size, ent->name, &e, next);
	if (len > size)
		cow_node_forget(&d->fs, node, 1);
	return len;
}

static void do_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       bool plus)
{
	struct cow_daemon *d = cow_op_daemon(req);
	struct cow_node *dir = cow_op_node(req, ino);
	struct cow_dirsnap *snap;
	size_t used = 0, i, len;
	char *buf = malloc(size);
	int ret;

	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	ret = cow_dirsnap_get(&d->fs, dir, off == 0, &snap);
	if (ret < 0) {
		fuse_reply_err(req, -ret);
		free(buf);
		return;
	}
	for (i = cow_dirsnap_seek(snap, (uint64_t)off); i < snap->list.count;
	     i++) {
		const struct cow_dirent *ent = &snap->list.ents[i];
		len = plus ? add_plus(req, buf + used, size - used, dir, ent,
				      (off_t)ent->off)
			   : add_plain(req, buf + used, size - used, ent,
				       (off_t)ent->off);
		if (len > size - used)
			break;
		used += len;
	}
	cow_dirsnap_put(&d->fs, dir, snap, i == snap->list.count);
	fuse_reply_buf(req, buf, used);
	free(buf);
}

void cow_op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	do_readdir(req, ino, size, off, false);
}

void cow_op_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
			struct fuse_file_info *fi)
{
	do_readdir(req, ino, size, off, true);
}

void cow_op_releasedir(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	fuse_reply_err(req, 0);
}

void cow_op_fsyncdir(fuse_req_t req, fuse_ino_t ino, int datasync,
		     struct fuse_file_info *fi)
{
	struct cow_daemon *d = cow_op_daemon(req);

	fuse_reply_err(req,
		       -cow_dir_fsync(&d->fs, cow_op_node(req, ino), datasync));
}

void cow_op_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
		     const char *value, size_t size, int flags)
{
	struct cow_daemon *d = cow_op_daemon(req);

	fuse_reply_err(req, -cow_setxattr(&d->fs, cow_op_node(req, ino), name,
					  value, size, flags));
}

static void reply_sized(fuse_req_t req, size_t size, char *buf, ssize_t n)
{
	if (n < 0)
		fuse_reply_err(req, (int)-n);
	else if (size == 0)
		fuse_reply_xattr(req, (size_t)n);
	else
		fuse_reply_buf(req, buf, (size_t)n);
}

void cow_op_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
		     size_t size)
{
	struct cow_daemon *d = cow_op_daemon(req);
	char *buf = size ? malloc(size) : NULL;
	ssize_t n;

	if (size && !buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	if (ino == FUSE_ROOT_ID && !strcmp(name, COW_STORE_XATTR) &&
	    d->store_info) {
		n = (ssize_t)strlen(d->store_info);
		if (size && (size_t)n > size)
			n = -ERANGE;
		else if (size)
			memcpy(buf, d->store_info, (size_t)n);
	} else {
		n = cow_getxattr(&d->fs, cow_op_node(req, ino), name, buf,
				 size);
	}
	reply_sized(req, size, buf, n);
	free(buf);
}

void cow_op_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	struct cow_daemon *d = cow_op_daemon(req);
	char *buf = size ? malloc(size) : NULL;
	ssize_t n;

	if (size && !buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	n = cow_listxattr(&d->fs, cow_op_node(req, ino), buf, size);
	reply_sized(req, size, buf, n);
	free(buf);
}

void cow_op_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
	struct cow_daemon *d = cow_op_daemon(req);

	fuse_reply_err(req,
		       -cow_removexattr(&d->fs, cow_op_node(req, ino), name));
}
