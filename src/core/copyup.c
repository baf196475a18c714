// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Copy-up: a BASE object gets its upper copy, parents first. Every copy is
 * prepared in work/ (data, then owner, xattrs, mode, origin, times; data
 * fdatasync'ed) and published by one rename, so upper/ never shows a torn
 * object. Files copy data only when data changes; metadata changes make a
 * metacopy file whose data stays in BASE.
 */
#include "layer.h"
#include "lookup_i.h"
#include "copy_i.h"

#include "log.h"
#include "sys.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define COPY_CHUNK (1 << 20)

/* ---- objects named by descriptor or by (dirfd, name) ---- */

static ssize_t obj_listxattr(const struct cow_obj *o, char *buf, size_t size)
{
	if (o->fd >= 0)
		return cow_sys_flistxattr(o->fd, buf, size);
	return cow_sys_listxattrat(o->dirfd, o->name, buf, size);
}

static ssize_t obj_getxattr(const struct cow_obj *o, const char *attr,
			    void *buf, size_t size)
{
	if (o->fd >= 0)
		return cow_sys_fgetxattr(o->fd, attr, buf, size);
	return cow_sys_getxattrat(o->dirfd, o->name, attr, buf, size);
}

static int obj_setxattr(const struct cow_obj *o, const char *attr,
			const void *val, size_t size)
{
	if (o->fd >= 0)
		return cow_sys_fsetxattr(o->fd, attr, val, size, 0);
	return cow_sys_setxattrat(o->dirfd, o->name, attr, val, size, 0);
}

/* Copies every xattr cowfs does not reserve from @src to @dst. */
int cow_copy_xattrs(struct cow_fs *fs, const struct cow_obj *src,
		    const struct cow_obj *dst)
{
	char *names = NULL, *val = NULL, *p;
	ssize_t len, vlen;
	int ret = 0;

	len = obj_listxattr(src, NULL, 0);
	if (len <= 0)
		return len == -ENOTSUP || len == 0 ? 0 : (int)len;
	names = malloc((size_t)len);
	val = malloc(XATTR_SIZE_MAX_COW);
	if (!names || !val) {
		ret = -ENOMEM;
		goto out_free;
	}
	len = obj_listxattr(src, names, (size_t)len);
	for (p = names; len > 0 && p < names + len; p += strlen(p) + 1) {
		if (cow_store_xattr_private(&fs->store, p))
			continue;
		vlen = obj_getxattr(src, p, val, XATTR_SIZE_MAX_COW);
		if (vlen == -ENODATA)
			continue;
		ret = vlen < 0 ? (int)vlen
			       : obj_setxattr(dst, p, val, (size_t)vlen);
		if (ret == -EPERM && !strncmp(p, "security.", 9))
			ret = 0; /* an LSM may refuse; the copy still stands */
		if (ret < 0)
			break;
	}
out_free:
	free(names);
	free(val);
	return ret < 0 && len < 0 ? (int)len : ret;
}

/*
 * Gives @dst (in work/ or anonymous) the owner, xattrs, mode, origin and
 * times of @src. The mode comes after chown, which clears set-id bits.
 */
int cow_copy_meta(struct cow_fs *fs, const struct cow_obj *src,
		  const struct stat *st, const struct cow_obj *dst,
		  uint64_t origin)
{
	struct timespec ts[2] = {st->st_atim, st->st_mtim};
	char buf[32];
	int ret = 0, n;

	if (geteuid() == 0)
		ret = dst->fd >= 0 ? (fchown(dst->fd, st->st_uid, st->st_gid)
					      ? -errno
					      : 0)
				   : cow_sys_chownat(dst->dirfd, dst->name,
						     st->st_uid, st->st_gid);
	if (ret == 0)
		ret = cow_copy_xattrs(fs, src, dst);
	if (ret == 0 && !S_ISLNK(st->st_mode))
		ret = dst->fd >= 0
			      ? (fchmod(dst->fd, st->st_mode & 07777) ? -errno
								      : 0)
			      : cow_sys_chmodat(dst->dirfd, dst->name,
						st->st_mode & 07777);
	if (ret == 0 && origin) {
		n = snprintf(buf, sizeof(buf), "%llu",
			     (unsigned long long)origin);
		ret = obj_setxattr(dst, fs->store.x_origin, buf, (size_t)n);
		if (ret == -EPERM && S_ISLNK(st->st_mode))
			ret = 0; /* user.* xattrs are not allowed on links */
	}
	if (ret == 0)
		ret = dst->fd >= 0
			      ? (futimens(dst->fd, ts) ? -errno : 0)
			      : cow_sys_utimensat(dst->dirfd, dst->name, ts);
	return ret;
}

/* ---- data ---- */

static int copy_plain(int src, int dst, off_t off, off_t end)
{
	char *buf = malloc(COPY_CHUNK);
	int ret = 0;

	if (!buf)
		return -ENOMEM;
	while (off < end && ret == 0) {
		size_t len = (size_t)(end - off < COPY_CHUNK ? end - off
							     : COPY_CHUNK);
		ssize_t n = cow_sys_pread(src, buf, len, off);
		if (n <= 0) {
			ret = n < 0 ? (int)n : -EIO;
			break;
		}
		ret = cow_sys_pwrite_full(dst, buf, (size_t)n, off);
		off += n;
	}
	free(buf);
	return ret;
}

static int copy_extent(int src, int dst, off_t off, off_t end)
{
	while (off < end) {
		loff_t in = off, out = off;
		ssize_t n = copy_file_range(src, &in, dst, &out,
					    (size_t)(end - off), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EXDEV || errno == EINVAL ||
			      errno == EOPNOTSUPP || errno == ENOSYS))
			return copy_plain(src, dst, off, end);
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO; /* BASE shrank under us */
		off += n;
	}
	return 0;
}

/* Small copies go by direct I/O (cow_copy_data_ordered): a multiple of
 * the largest logical block size in use, up to a size where fdatasync's
 * fixed cost no longer dominates. */
#define DIRECT_ALIGN ((size_t)4096)
#define DIRECT_MAX   ((off_t)256 << 10)

/*
 * Copies bytes [0, @end) of @src into @dst, keeping holes, then sets the
 * size to @end. Tries a whole-file clone first.
 */
int cow_copy_data(int src, int dst, off_t end, off_t src_size)
{
	off_t off = 0, data, hole;
	int ret;

	if (end == src_size && end > 0 && ioctl(dst, FICLONE, src) == 0)
		return 0;
	while (off < end) {
		data = cow_sys_lseek(src, off, SEEK_DATA);
		if (data == -ENXIO)
			break;
		if (data < 0) { /* no SEEK_DATA: copy everything */
			data = off;
			hole = end;
		} else {
			hole = cow_sys_lseek(src, data, SEEK_HOLE);
			if (hole < 0)
				hole = end;
		}
		if (data >= end)
			break;
		if (hole > end)
			hole = end;
		ret = copy_extent(src, dst, data, hole);
		if (ret < 0)
			return ret;
		off = hole;
	}
	return cow_sys_ftruncate(dst, end);
}

/* Bytes [0, @end) of @src into @buf (@len bytes, zeroed past what BASE
 * has). */
static int read_all(int src, char *buf, size_t len, off_t end)
{
	off_t off = 0;

	memset(buf, 0, len);
	while (off < end) {
		ssize_t n =
			cow_sys_pread(src, buf + off, (size_t)(end - off), off);
		if (n < 0)
			return (int)n;
		if (n == 0)
			break; /* BASE is shorter: zeros, as a truncate makes */
		off += n;
	}
	return 0;
}

/* Writes @len bytes of @buf at 0 with O_DIRECT; -EINVAL when @dst cannot
 * take direct I/O. */
static int write_direct(int dst, const char *buf, size_t len)
{
	int fl = fcntl(dst, F_GETFL), ret;

	if (fl < 0 || fcntl(dst, F_SETFL, fl | O_DIRECT) < 0)
		return -EINVAL;
	ret = cow_sys_pwrite_full(dst, buf, len, 0);
	if (fcntl(dst, F_SETFL, fl) < 0 && ret == 0)
		ret = -errno;
	return ret;
}

int cow_copy_data_ordered(int src, int dst, off_t end, off_t src_size)
{
	size_t len = ((size_t)end + DIRECT_ALIGN - 1) & ~(DIRECT_ALIGN - 1);
	void *buf = NULL;
	int ret;

	if (end > DIRECT_MAX)
		return cow_copy_data(src, dst, end, src_size);
	if (end == 0)
		return 1; /* no data to order */
	if (posix_memalign(&buf, DIRECT_ALIGN, len))
		return -ENOMEM;
	ret = read_all(src, buf, len, end);
	if (ret == 0)
		ret = write_direct(dst, buf, len);
	free(buf);
	if (ret == -EINVAL) /* no direct I/O here after all */
		return cow_copy_data(src, dst, end, src_size);
	if (ret == 0)
		ret = cow_sys_ftruncate(dst, end);
	return ret < 0 ? ret : 1;
}

int cow_copyup_publish(struct cow_fs *fs, const char *tmp, int dirfd,
		       const char *name)
{
	struct stat st;
	int ret = cow_sys_fstat(dirfd, &st);

	if (ret == 0)
		ret = cow_store_publish(&fs->store, tmp, dirfd, name);
	if (ret == 0) {
		struct timespec ts[2] = {st.st_atim, st.st_mtim};
		/* best effort: the copy is published either way */
		if (futimens(dirfd, ts) < 0)
			cow_warn("copy-up of %s: directory times not kept: %s",
				 name, strerror(errno));
	}
	return ret;
}

/* ---- directories ---- */

int cow_copyup_dir_locked(struct cow_fs *fs, struct cow_node *dir)
{
	char name[NAME_MAX + 1], tmp[COW_TMP_MAX];
	struct cow_node *parent;
	struct cow_obj src, dst;
	struct stat st;
	int ret, fd;

	if (dir->dir_upper >= 0)
		return 0;
	if (dir->excluded)
		return -EXDEV; /* written through: never copied (exclude.c) */
	if (!cow_node_name(fs, dir, &parent, name))
		parent = NULL; /* removed, still open: an anonymous copy */
	ret = parent ? cow_copyup_dir_locked(fs, parent) : 0;
	if (ret < 0)
		return ret;
	ret = cow_sys_fstat(dir->dir_base, &st);
	if (ret < 0)
		return ret;
	cow_store_tmpname(&fs->store, tmp);
	ret = cow_sys_mkdirat(fs->store.work_fd, tmp, 0700);
	if (ret < 0)
		return ret;
	fd = cow_sys_open_dir(fs->store.work_fd, tmp);
	if (fd < 0) {
		ret = fd;
		goto out_remove;
	}
	src = (struct cow_obj){.fd = dir->dir_base, .dirfd = -1};
	dst = (struct cow_obj){.fd = fd, .dirfd = -1};
	ret = cow_copy_meta(fs, &src, &st, &dst, dir->key);
	if (ret == 0)
		ret = parent ? cow_copyup_publish(fs, tmp, parent->dir_upper,
						  name)
			     : cow_sys_unlinkat(fs->store.work_fd, tmp,
						AT_REMOVEDIR);
	if (ret < 0) {
		cow_sys_close(fd);
		goto out_remove;
	}
	dir->dir_upper = fd;
	return 0;
out_remove:
	cow_store_remove_tree(fs->store.work_fd, tmp);
	cow_err("copy-up of directory %s failed: %s",
		parent ? name : "(removed)", strerror(-ret));
	return ret;
}
