/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Thin syscall wrappers. Every function returns 0 (or a non-negative count
 * or descriptor) on success and -errno on failure, retries EINTR, and works
 * relative to a directory descriptor with one path component: no wrapper
 * follows a symlink it was not asked to follow.
 */
#ifndef COW_SYS_H
#define COW_SYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

/* Text of /proc/self/fd/N for @fd; @buf must hold COW_FD_PATH_MAX bytes. */
#define COW_FD_PATH_MAX 32
const char *cow_sys_fd_path(int fd, char *buf);

int cow_sys_openat(int dirfd, const char *name, int flags, mode_t mode);
int cow_sys_open_dir(int dirfd, const char *name);
int cow_sys_open_path(int dirfd, const char *name);
int cow_sys_fstatat(int dirfd, const char *name, struct stat *st);
int cow_sys_fstat(int fd, struct stat *st);
int cow_sys_close(int fd);

int cow_sys_mkdirat(int dirfd, const char *name, mode_t mode);
int cow_sys_mknodat(int dirfd, const char *name, mode_t mode, dev_t dev);
int cow_sys_symlinkat(const char *target, int dirfd, const char *name);
int cow_sys_linkat(int olddir, const char *oldname, int newdir,
		   const char *newname);
/* A name for the file open at @fd (an O_TMPFILE one): by /proc/self/fd,
 * or without /proc by AT_EMPTY_PATH, which needs CAP_DAC_READ_SEARCH. */
int cow_sys_link_fd(int fd, int newdir, const char *newname);
int cow_sys_unlinkat(int dirfd, const char *name, int flags);
int cow_sys_renameat2(int olddir, const char *oldname, int newdir,
		      const char *newname, unsigned int flags);
int cow_sys_readlinkat(int dirfd, const char *name, char *buf, size_t size);

/* Metadata of the object @name in @dirfd, never following a symlink. */
int cow_sys_chmodat(int dirfd, const char *name, mode_t mode);
int cow_sys_chownat(int dirfd, const char *name, uid_t uid, gid_t gid);
int cow_sys_utimensat(int dirfd, const char *name, const struct timespec *ts);

/* Extended attributes of @name in @dirfd (symlinks themselves included). */
ssize_t cow_sys_getxattrat(int dirfd, const char *name, const char *attr,
			   void *buf, size_t size);
ssize_t cow_sys_listxattrat(int dirfd, const char *name, char *buf,
			    size_t size);
int cow_sys_setxattrat(int dirfd, const char *name, const char *attr,
		       const void *val, size_t size, int flags);
int cow_sys_removexattrat(int dirfd, const char *name, const char *attr);

ssize_t cow_sys_flistxattr(int fd, char *buf, size_t size);
ssize_t cow_sys_fgetxattr(int fd, const char *attr, void *buf, size_t size);
int cow_sys_fsetxattr(int fd, const char *attr, const void *val, size_t size,
		      int flags);
int cow_sys_fremovexattr(int fd, const char *attr);

ssize_t cow_sys_pread(int fd, void *buf, size_t size, off_t off);
ssize_t cow_sys_pwrite(int fd, const void *buf, size_t size, off_t off);
int cow_sys_pread_full(int fd, void *buf, size_t size, off_t off);
int cow_sys_pwrite_full(int fd, const void *buf, size_t size, off_t off);
int cow_sys_ftruncate(int fd, off_t size);
int cow_sys_fsync(int fd, bool datasync);
int cow_sys_fallocate(int fd, int mode, off_t off, off_t len);
off_t cow_sys_lseek(int fd, off_t off, int whence);

#endif
