// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * FUSE handlers for directories: a handle holds a snapshot of the merged
 * listing taken at opendir (and again at offset 0), so offsets stay stable
 * while the directory changes. Also the xattr handlers.
 */
#include "daemon.h"

#include "cli.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct dir_handle {
	pthread_mutex_t lock; /* guards list */
	struct cow_dirlist list;
	bool loaded;
};

void cow_op_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct dir_handle *h = calloc(1, sizeof(*h));

	if (!h) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	pthread_mutex_init(&h->lock, NULL);
	fi->fh = (uint64_t)(uintptr_t)h;
	if (cow_op_daemon(req)->opts.cache) {
		/* The kernel drops this cache itself when the directory
		 * changes through the mount, the only way it can change. */
		fi->cache_readdir = 1;
		fi->keep_cache = 1;
	}
	if (fuse_reply_open(req, fi) == -ENOENT) {
		pthread_mutex_destroy(&h->lock);
		free(h);
	}
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
		       struct fuse_file_info *fi, bool plus)
{
	struct cow_daemon *d = cow_op_daemon(req);
	struct dir_handle *h = (struct dir_handle *)(uintptr_t)fi->fh;
	struct cow_node *dir = cow_op_node(req, ino);
	size_t used = 0, i, len;
	char *buf;
	int ret = 0;

	buf = malloc(size);
	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	pthread_mutex_lock(&h->lock);
	if (off == 0 || !h->loaded) {
		cow_dirlist_free(&h->list);
		ret = cow_dirlist_read(&d->fs, dir, &h->list);
		h->loaded = ret == 0;
	}
	for (i = (size_t)off; ret == 0 && i < h->list.count; i++) {
		const struct cow_dirent *ent = &h->list.ents[i];
		len = plus ? add_plus(req, buf + used, size - used, dir, ent,
				      (off_t)i + 1)
			   : add_plain(req, buf + used, size - used, ent,
				       (off_t)i + 1);
		if (len > size - used)
			break;
		used += len;
	}
	pthread_mutex_unlock(&h->lock);
	if (ret < 0)
		fuse_reply_err(req, -ret);
	else
		fuse_reply_buf(req, buf, used);
	free(buf);
}

void cow_op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	do_readdir(req, ino, size, off, fi, false);
}

void cow_op_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
			struct fuse_file_info *fi)
{
	do_readdir(req, ino, size, off, fi, true);
}

void cow_op_releasedir(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	struct dir_handle *h = (struct dir_handle *)(uintptr_t)fi->fh;

	cow_dirlist_free(&h->list);
	pthread_mutex_destroy(&h->lock);
	free(h);
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
