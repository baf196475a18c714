// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Syscall wrappers: the one place that turns errno into -errno. Names are
 * always single components resolved against a directory descriptor.
 */
#include "sys.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/xattr.h>
#include <unistd.h>

#define RETRY(expr)                                                            \
	__extension__({                                                        \
		long _r;                                                       \
		do {                                                           \
			_r = (long)(expr);                                     \
		} while (_r == -1 && errno == EINTR);                          \
		_r == -1 ? -errno : _r;                                        \
	})

const char *cow_sys_fd_path(int fd, char *buf)
{
	snprintf(buf, COW_FD_PATH_MAX, "/proc/self/fd/%d", fd);
	return buf;
}

int cow_sys_openat(int dirfd, const char *name, int flags, mode_t mode)
{
	return (int)RETRY(openat(dirfd, name, flags | O_CLOEXEC, mode));
}

int cow_sys_open_dir(int dirfd, const char *name)
{
	return cow_sys_openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW,
			      0);
}

int cow_sys_open_path(int dirfd, const char *name)
{
	return cow_sys_openat(dirfd, name, O_PATH | O_NOFOLLOW, 0);
}

int cow_sys_fstatat(int dirfd, const char *name, struct stat *st)
{
	return (int)RETRY(fstatat(dirfd, name, st, AT_SYMLINK_NOFOLLOW));
}

int cow_sys_fstat(int fd, struct stat *st)
{
	return (int)RETRY(fstat(fd, st));
}

int cow_sys_close(int fd)
{
	if (fd < 0)
		return 0;
	/* close() must not be retried on Linux: the descriptor is gone. */
	return close(fd) == -1 && errno != EINTR ? -errno : 0;
}

int cow_sys_mkdirat(int dirfd, const char *name, mode_t mode)
{
	return (int)RETRY(mkdirat(dirfd, name, mode));
}

int cow_sys_mknodat(int dirfd, const char *name, mode_t mode, dev_t dev)
{
	return (int)RETRY(mknodat(dirfd, name, mode, dev));
}

int cow_sys_symlinkat(const char *target, int dirfd, const char *name)
{
	return (int)RETRY(symlinkat(target, dirfd, name));
}

int cow_sys_linkat(int olddir, const char *oldname, int newdir,
		   const char *newname)
{
	return (int)RETRY(linkat(olddir, oldname, newdir, newname, 0));
}

int cow_sys_link_fd(int fd, int newdir, const char *newname)
{
	char path[COW_FD_PATH_MAX];
	int ret = (int)RETRY(linkat(AT_FDCWD, cow_sys_fd_path(fd, path), newdir,
				    newname, AT_SYMLINK_FOLLOW));

	if (ret == -ENOENT)
		ret = (int)RETRY(
			linkat(fd, "", newdir, newname, AT_EMPTY_PATH));
	return ret;
}

int cow_sys_unlinkat(int dirfd, const char *name, int flags)
{
	return (int)RETRY(unlinkat(dirfd, name, flags));
}

int cow_sys_renameat2(int olddir, const char *oldname, int newdir,
		      const char *newname, unsigned int flags)
{
	return (int)RETRY(renameat2(olddir, oldname, newdir, newname, flags));
}

int cow_sys_readlinkat(int dirfd, const char *name, char *buf, size_t size)
{
	return (int)RETRY(readlinkat(dirfd, name, buf, size));
}

/*
 * chmod has no AT_SYMLINK_NOFOLLOW on our libc: pin the object with an
 * O_PATH descriptor and change it through its /proc/self/fd link, which
 * names exactly that inode.
 */
int cow_sys_chmodat(int dirfd, const char *name, mode_t mode)
{
	char path[COW_FD_PATH_MAX];
	struct stat st;
	int fd, ret;

	fd = cow_sys_open_path(dirfd, name);
	if (fd < 0)
		return fd;
	ret = cow_sys_fstat(fd, &st);
	if (ret == 0 && S_ISLNK(st.st_mode))
		ret = -EOPNOTSUPP;
	if (ret == 0)
		ret = (int)RETRY(chmod(cow_sys_fd_path(fd, path), mode));
	cow_sys_close(fd);
	return ret;
}

int cow_sys_chownat(int dirfd, const char *name, uid_t uid, gid_t gid)
{
	return (int)RETRY(fchownat(dirfd, name, uid, gid, AT_SYMLINK_NOFOLLOW));
}

int cow_sys_utimensat(int dirfd, const char *name, const struct timespec *ts)
{
	return (int)RETRY(utimensat(dirfd, name, ts, AT_SYMLINK_NOFOLLOW));
}

/*
 * xattr calls on (dirfd, name): the directory is reached through its
 * /proc/self/fd link (exactly our descriptor) and the l* calls never follow
 * @name itself, so one syscall does what openat + call + close would.
 */
#define AT_PATH_MAX (COW_FD_PATH_MAX + NAME_MAX + 2)

static int at_path(int dirfd, const char *name, char *buf)
{
	if (strchr(name, '/') || !strcmp(name, "..") || !name[0])
		return -EINVAL;
	snprintf(buf, AT_PATH_MAX, "/proc/self/fd/%d/%s", dirfd, name);
	return 0;
}

ssize_t cow_sys_getxattrat(int dirfd, const char *name, const char *attr,
			   void *buf, size_t size)
{
	char path[AT_PATH_MAX];
	int ret = at_path(dirfd, name, path);

	return ret < 0 ? ret : RETRY(lgetxattr(path, attr, buf, size));
}

ssize_t cow_sys_listxattrat(int dirfd, const char *name, char *buf, size_t size)
{
	char path[AT_PATH_MAX];
	int ret = at_path(dirfd, name, path);

	return ret < 0 ? ret : RETRY(llistxattr(path, buf, size));
}

int cow_sys_setxattrat(int dirfd, const char *name, const char *attr,
		       const void *val, size_t size, int flags)
{
	char path[AT_PATH_MAX];
	int ret = at_path(dirfd, name, path);

	return ret < 0 ? ret
		       : (int)RETRY(lsetxattr(path, attr, val, size, flags));
}

int cow_sys_removexattrat(int dirfd, const char *name, const char *attr)
{
	char path[AT_PATH_MAX];
	int ret = at_path(dirfd, name, path);

	return ret < 0 ? ret : (int)RETRY(lremovexattr(path, attr));
}

ssize_t cow_sys_flistxattr(int fd, char *buf, size_t size)
{
	return RETRY(flistxattr(fd, buf, size));
}

ssize_t cow_sys_fgetxattr(int fd, const char *attr, void *buf, size_t size)
{
	return RETRY(fgetxattr(fd, attr, buf, size));
}

int cow_sys_fsetxattr(int fd, const char *attr, const void *val, size_t size,
		      int flags)
{
	return (int)RETRY(fsetxattr(fd, attr, val, size, flags));
}

int cow_sys_fremovexattr(int fd, const char *attr)
{
	return (int)RETRY(fremovexattr(fd, attr));
}

ssize_t cow_sys_pread(int fd, void *buf, size_t size, off_t off)
{
	return RETRY(pread(fd, buf, size, off));
}

ssize_t cow_sys_pwrite(int fd, const void *buf, size_t size, off_t off)
{
	return RETRY(pwrite(fd, buf, size, off));
}

/* Reads exactly @size bytes; a short file is -EIO (callers know the size). */
int cow_sys_pread_full(int fd, void *buf, size_t size, off_t off)
{
	char *p = buf;

	while (size > 0) {
		ssize_t n = cow_sys_pread(fd, p, size, off);
		if (n < 0)
			return (int)n;
		if (n == 0)
			return -EIO;
		p += n;
		off += n;
		size -= (size_t)n;
	}
	return 0;
}

int cow_sys_pwrite_full(int fd, const void *buf, size_t size, off_t off)
{
	const char *p = buf;

	while (size > 0) {
		ssize_t n = cow_sys_pwrite(fd, p, size, off);
		if (n < 0)
			return (int)n;
		p += n;
		off += n;
		size -= (size_t)n;
	}
	return 0;
}

int cow_sys_ftruncate(int fd, off_t size)
{
	return (int)RETRY(ftruncate(fd, size));
}

int cow_sys_fsync(int fd, bool datasync)
{
	return (int)RETRY(datasync ? fdatasync(fd) : fsync(fd));
}

int cow_sys_fallocate(int fd, int mode, off_t off, off_t len)
{
	return (int)RETRY(fallocate(fd, mode, off, len));
}

off_t cow_sys_lseek(int fd, off_t off, int whence)
{
	off_t r = lseek(fd, off, whence);
	return r == (off_t)-1 ? -errno : r;
}
