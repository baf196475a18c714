// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * FUSE handlers for file data. Handles carry no backing descriptor: every
 * READ and WRITE is served from the node's current backing, so handles
 * opened before and after a copy-up agree, and the kernel keeps one page
 * cache per file.
 */
#include "daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>

/* fh: 1 for a handle counted by cow_file_open (a RELEASE will come), 0
 * on demand (none will). */
static void set_open_flags(struct cow_daemon *d, struct fuse_file_info *fi)
{
	fi->fh = !d->fs.on_demand;
	if (d->opts.cache)
		fi->keep_cache = 1;
	else
		fi->direct_io = 1;
	/* No flush handler either: the kernel stops sending FLUSH at the
	 * first ENOSYS, one round trip less on every close. */
	fi->noflush = 1;
}

/*
 * O_TRUNC: a data change, copied up with nothing to copy. With
 * atomic_o_trunc the kernel leaves it to us even with O_RDONLY (which
 * truncates on Linux too), having checked write permission itself.
 */
static int truncate_on_open(struct cow_daemon *d, struct cow_node *node,
			    int flags)
{
	struct cow_setattr sa = {.valid = COW_SET_SIZE, .size = 0};
	struct stat st;

	if (!(flags & O_TRUNC))
		return 0;
	return cow_setattr(&d->fs, node, &sa, &st);
}

void cow_op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct cow_daemon *d = cow_op_daemon(req);
	struct cow_node *node = cow_op_node(req, ino);
	int ret;

	if (d->fs.on_demand) {
		fuse_reply_err(req, ENOSYS); /* see cow_op_init */
		return;
	}
	ret = truncate_on_open(d, node, fi->flags);
	if (ret == 0)
		ret = cow_file_open(&d->fs, node, fi->flags);
	if (ret < 0) {
		fuse_reply_err(req, -ret);
		return;
	}
	set_open_flags(d, fi);
	if ((fi->flags & O_TRUNC) && d->opts.cache)
		fi->keep_cache = 0; /* the cached pages are stale now */
	if (fuse_reply_open(req, fi) == -ENOENT)
		cow_file_release(&d->fs, node);
}

void cow_op_create(fuse_req_t req, fuse_ino_t parent, const char *name,
		   mode_t mode, struct fuse_file_info *fi)
{
	struct cow_daemon *d = cow_op_daemon(req);
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	struct cow_new nw = {.mode = (mode & 07777) | S_IFREG,
			     .keep_open = true};
	struct cow_cred cred = {ctx->uid, ctx->gid, ctx->umask};
	struct cow_node *node;
	struct fuse_entry_param e;
	struct stat st;
	int ret;

	ret = cow_create(&d->fs, cow_op_node(req, parent), name, &nw, &cred,
			 &node, &st);
	if (ret < 0) {
		fuse_reply_err(req, -ret);
		return;
	}
	/* A handle made by CREATE gets its RELEASE even on demand: counted,
	 * its descriptor closes there, off the path of the next request. */
	ret = cow_file_open(&d->fs, node, fi->flags);
	if (ret < 0) {
		cow_node_forget(&d->fs, node, 1);
		fuse_reply_err(req, -ret);
		return;
	}
	set_open_flags(d, fi);
	fi->fh = 1;
	cow_op_entry(d, node, &st, &e);
	if (fuse_reply_create(req, &e, fi) == -ENOENT) {
		if (fi->fh)
			cow_file_release(&d->fs, node);
		cow_node_forget(&d->fs, node, 1);
	}
}

void cow_op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		 struct fuse_file_info *fi)
{
	struct cow_daemon *d = cow_op_daemon(req);
	struct cow_node *node = cow_op_node(req, ino);
	int max = cow_file_max_segs(&d->fs, size), n, i;
	struct cow_seg *segs = calloc((size_t)max, sizeof(*segs));
	struct fuse_bufvec *bufv;

	bufv = calloc(1, sizeof(*bufv) + (size_t)max * sizeof(bufv->buf[0]));
	n = !segs || !bufv ? -ENOMEM
			   : cow_file_begin_read(&d->fs, node, off, size, segs);
	if (n < 0) {
		fuse_reply_err(req, -n);
		goto out_free;
	}
	bufv->count = (size_t)n;
	for (i = 0; i < n; i++) {
		bufv->buf[i].size = segs[i].len;
		bufv->buf[i].flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
		bufv->buf[i].fd = segs[i].fd;
		bufv->buf[i].pos = segs[i].off;
	}
	/* The lock spans the reply: the data is read while it is sent. The
	 * reply lets the kernel evict the inode and send FORGET, which another
	 * thread may serve before this one unlocks: a ref keeps the node. */
	cow_node_get(&d->fs, node);
	fuse_reply_data(req, bufv, FUSE_BUF_SPLICE_MOVE);
	cow_file_end(node);
	cow_node_put(&d->fs, node);
out_free:
	free(bufv);
	free(segs);
}

/*
 * Under the writeback cache the kernel's writes are write-backs: a short
 * count would be taken as done and the rest silently dropped, so it
 * becomes the error that stopped it (the store filled up, mostly).
 */
static ssize_t short_write_error(int fd)
{
	struct statvfs sv;

	return fstatvfs(fd, &sv) == 0 && sv.f_bavail == 0 ? -ENOSPC : -EIO;
}

void cow_op_write_buf(fuse_req_t req, fuse_ino_t ino, struct fuse_bufvec *bufv,
		      off_t off, struct fuse_file_info *fi)
{
	struct cow_daemon *d = cow_op_daemon(req);
	struct cow_node *node = cow_op_node(req, ino);
	size_t size = fuse_buf_size(bufv);
	struct fuse_bufvec out = FUSE_BUFVEC_INIT(size);
	bool filling;
	ssize_t n;
	int fd, ret;

	fd = cow_file_begin_write(&d->fs, node, off, size, &filling);
	if (fd < 0) {
		fuse_reply_err(req, -fd);
		return;
	}
	out.buf[0].flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
	out.buf[0].fd = fd;
	out.buf[0].pos = off;
	n = fuse_buf_copy(&out, bufv, 0);
	if (n >= 0 && (size_t)n < size && d->opts.writeback)
		n = short_write_error(fd);
	ret = cow_file_end_write(&d->fs, node, off, n > 0 ? (size_t)n : 0,
				 filling);
	if (n < 0)
		fuse_reply_err(req, (int)-n);
	else if (ret < 0)
		fuse_reply_err(req, -ret);
	else
		fuse_reply_write(req, (size_t)n);
}

void cow_op_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct cow_daemon *d = cow_op_daemon(req);

	if (fi->fh)
		cow_file_release(&d->fs, cow_op_node(req, ino));
	fuse_reply_err(req, 0);
}

void cow_op_fsync(fuse_req_t req, fuse_ino_t ino, int datasync,
		  struct fuse_file_info *fi)
{
	struct cow_daemon *d = cow_op_daemon(req);

	fuse_reply_err(
		req, -cow_file_fsync(&d->fs, cow_op_node(req, ino), datasync));
}

void cow_op_fallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t offset,
		      off_t length, struct fuse_file_info *fi)
{
	struct cow_daemon *d = cow_op_daemon(req);

	fuse_reply_err(req, -cow_file_fallocate(&d->fs, cow_op_node(req, ino),
						mode, offset, length));
}

void cow_op_lseek(fuse_req_t req, fuse_ino_t ino, off_t off, int whence,
		  struct fuse_file_info *fi)
{
	struct cow_daemon *d = cow_op_daemon(req);
	off_t ret;

	ret = cow_file_lseek(&d->fs, cow_op_node(req, ino), off, whence);
	if (ret < 0)
		fuse_reply_err(req, (int)-ret);
	else
		fuse_reply_lseek(req, ret);
}

void cow_op_copy_file_range(fuse_req_t req, fuse_ino_t ino_in, off_t off_in,
			    struct fuse_file_info *fi_in, fuse_ino_t ino_out,
			    off_t off_out, struct fuse_file_info *fi_out,
			    size_t len, int flags)
{
	struct cow_daemon *d = cow_op_daemon(req);
	ssize_t n;

	if (flags) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	n = cow_file_copy_range(&d->fs, cow_op_node(req, ino_in), off_in,
				cow_op_node(req, ino_out), off_out, len);
	if (n < 0)
		fuse_reply_err(req, (int)-n);
	else
		fuse_reply_write(req, (size_t)n);
}
