// SPDX-License-Identifier: GPL-2.0-or-later
/* The fuse_lowlevel_ops table and connection set-up. */
#include "daemon.h"

#include "log.h"

static void want(struct fuse_conn_info *conn, unsigned int cap)
{
	if (conn->capable & cap)
		conn->want |= cap;
}

void cow_op_init(void *userdata, struct fuse_conn_info *conn)
{
	struct cow_daemon *d = userdata;

	want(conn, FUSE_CAP_SPLICE_READ | FUSE_CAP_SPLICE_WRITE |
			   FUSE_CAP_SPLICE_MOVE);
	want(conn, FUSE_CAP_PARALLEL_DIROPS | FUSE_CAP_ASYNC_DIO |
			   FUSE_CAP_ASYNC_READ);
	/* opens=off: OPEN answers ENOSYS once, and the kernel then opens
	 * files itself and sends neither OPEN nor RELEASE, two requests less
	 * per open(2); it caches pages as with keep_cache. cache=never needs
	 * OPEN to ask for direct I/O. */
	d->fs.on_demand = d->opts.cache && d->opts.opens == 0 &&
			  (conn->capable & FUSE_CAP_NO_OPEN_SUPPORT);
	/* O_TRUNC must then come as a SETATTR: with atomic_o_trunc (which
	 * libfuse asks for by default) the kernel would leave it to an OPEN
	 * it does not send. */
	if (d->fs.on_demand)
		conn->want &= ~(unsigned int)FUSE_CAP_ATOMIC_O_TRUNC;
	else
		want(conn, FUSE_CAP_ATOMIC_O_TRUNC);
	want(conn, FUSE_CAP_READDIRPLUS | FUSE_CAP_READDIRPLUS_AUTO);
	/* No lock handlers: the kernel keeps flock and POSIX locks itself,
	 * which is exact because this daemon is the only path to the tree. */
	conn->want &=
		~(unsigned int)(FUSE_CAP_POSIX_LOCKS | FUSE_CAP_FLOCK_LOCKS);
	if (d->opts.cache && d->opts.writeback)
		want(conn, FUSE_CAP_WRITEBACK_CACHE);
	d->fs.kernel_cmtime = conn->want & FUSE_CAP_WRITEBACK_CACHE;
	if (d->opts.cache)
		want(conn, FUSE_CAP_CACHE_SYMLINKS);
	/* opendir's ENOSYS then means "open it yourself, cache its listing",
	 * which cache=never must not have */
	d->no_opendir =
		d->opts.cache && (conn->capable & FUSE_CAP_NO_OPENDIR_SUPPORT);
	cow_dbg("init: opens %s",
		d->fs.on_demand ? "kept by the kernel" : "sent to the daemon");
	conn->max_write = 1u << 20;
	conn->max_readahead = COW_READAHEAD;
	conn->time_gran = 1;
	cow_dbg("init: capable %#x want %#x", conn->capable, conn->want);
}

static void cow_op_destroy(void *userdata)
{
	(void)userdata;
}

const struct fuse_lowlevel_ops cow_ops = {
	.init = cow_op_init,
	.destroy = cow_op_destroy,
	.lookup = cow_op_lookup,
	.forget = cow_op_forget,
	.forget_multi = cow_op_forget_multi,
	.getattr = cow_op_getattr,
	.setattr = cow_op_setattr,
	.readlink = cow_op_readlink,
	.mknod = cow_op_mknod,
	.mkdir = cow_op_mkdir,
	.symlink = cow_op_symlink,
	.link = cow_op_link,
	.unlink = cow_op_unlink,
	.rmdir = cow_op_rmdir,
	.rename = cow_op_rename,
	.statfs = cow_op_statfs,
	.access = cow_op_access,
	.open = cow_op_open,
	.create = cow_op_create,
	.read = cow_op_read,
	.write_buf = cow_op_write_buf,
	.release = cow_op_release,
	.fsync = cow_op_fsync,
	.fallocate = cow_op_fallocate,
	.lseek = cow_op_lseek,
	.copy_file_range = cow_op_copy_file_range,
	.opendir = cow_op_opendir,
	.readdir = cow_op_readdir,
	.readdirplus = cow_op_readdirplus,
	.releasedir = cow_op_releasedir,
	.fsyncdir = cow_op_fsyncdir,
	.setxattr = cow_op_setxattr,
	.getxattr = cow_op_getxattr,
	.listxattr = cow_op_listxattr,
	.removexattr = cow_op_removexattr,
};
