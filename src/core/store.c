// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * BASE (read-only) and STORE (upper/, work/, meta/): opening, identity
 * checks, temporary names and atomic publication. The only code that knows
 * how whiteouts are encoded.
 */
#include "store.h"

#include "log.h"
#include "sys.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/fs.h>
#include <linux/magic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

static int why_set(char *why, size_t len, int err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int why_set(char *why, size_t len, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, len, fmt, ap);
	va_end(ap);
	return err;
}

int cow_base_open(struct cow_base *base, const char *path, char *why,
		  size_t whylen)
{
	struct stat st;
	int fd;

	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOATIME);
	if (fd < 0 && errno == EPERM)
		fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return why_set(why, whylen, -errno, "BASE %s: %s", path,
			       errno == ENOTDIR ? "not a directory"
						: strerror(errno));
	if (fstat(fd, &st) < 0) {
		close(fd);
		return why_set(why, whylen, -errno, "BASE %s: %s", path,
			       strerror(errno));
	}
	base->fd = fd;
	base->dev = st.st_dev;
	base->noatime = geteuid() == 0;
	base->path = realpath(path, NULL);
	if (!base->path) {
		close(fd);
		return why_set(why, whylen, -ENOMEM, "out of memory");
	}
	return 0;
}

void cow_base_close(struct cow_base *base)
{
	cow_sys_close(base->fd);
	free(base->path);
	base->fd = -1;
	base->path = NULL;
}

int cow_base_openat(const struct cow_base *base, int dirfd, const char *name,
		    int flags)
{
	int fd;

	flags = (flags & ~O_ACCMODE) | O_RDONLY | O_NOFOLLOW;
	if (base->noatime) {
		fd = cow_sys_openat(dirfd, name, flags | O_NOATIME, 0);
		if (fd != -EPERM)
			return fd;
	}
	return cow_sys_openat(dirfd, name, flags, 0);
}

void cow_store_tmpname(struct cow_store *s, char buf[COW_TMP_MAX])
{
	unsigned long n = atomic_fetch_add(&s->tmp_seq, 1);

	snprintf(buf, COW_TMP_MAX, "tmp.%ld.%lu", (long)getpid(), n);
}

int cow_store_clear_dir(int dirfd)
{
	DIR *d;
	struct dirent *de;
	int fd, ret = 0;

	/* A descriptor of its own: a dup would share (and start at) the
	 * directory offset of @dirfd. */
	fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -errno;
	}
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		ret = cow_store_remove_tree(dirfd, de->d_name);
		if (ret < 0)
			break;
	}
	closedir(d);
	return ret;
}

int cow_store_remove_tree(int dirfd, const char *name)
{
	int ret, fd;

	ret = cow_sys_unlinkat(dirfd, name, 0);
	if (ret != -EISDIR && ret != -EPERM)
		return ret == -ENOENT ? 0 : ret;
	fd = cow_sys_open_dir(dirfd, name);
	if (fd < 0)
		return fd;
	ret = cow_store_clear_dir(fd);
	cow_sys_close(fd);
	if (ret == 0)
		ret = cow_sys_unlinkat(dirfd, name, AT_REMOVEDIR);
	return ret;
}

bool cow_store_is_whiteout(const struct stat *st)
{
	return S_ISCHR(st->st_mode) && st->st_rdev == makedev(0, 0);
}

int cow_store_publish(struct cow_store *s, const char *tmp, int dirfd,
		      const char *name)
{
	struct stat dst, src;
	int ret;

	ret = cow_sys_renameat2(s->work_fd, tmp, dirfd, name, RENAME_NOREPLACE);
	if (ret != -EEXIST)
		return ret;
	ret = cow_sys_fstatat(dirfd, name, &dst);
	if (ret == 0)
		ret = cow_sys_fstatat(s->work_fd, tmp, &src);
	if (ret < 0)
		return ret;
	if (!S_ISDIR(dst.st_mode) && !S_ISDIR(src.st_mode))
		return cow_sys_renameat2(s->work_fd, tmp, dirfd, name, 0);
	ret = cow_sys_renameat2(s->work_fd, tmp, dirfd, name, RENAME_EXCHANGE);
	if (ret == 0)
		ret = cow_store_remove_tree(s->work_fd, tmp);
	return ret;
}

int cow_store_put_whiteout(struct cow_store *s, int dirfd, const char *name)
{
	char tmp[COW_TMP_MAX];
	int ret;

	cow_store_tmpname(s, tmp);
	ret = cow_sys_mknodat(s->work_fd, tmp, S_IFCHR | 0600, makedev(0, 0));
	if (ret < 0)
		return ret;
	ret = cow_store_publish(s, tmp, dirfd, name);
	if (ret < 0)
		cow_sys_unlinkat(s->work_fd, tmp, 0);
	return ret;
}

bool cow_store_xattr_private(const struct cow_store *s, const char *attr)
{
	return !strncmp(attr, s->ovl_prefix, strlen(s->ovl_prefix)) ||
	       !strncmp(attr, s->cow_prefix, strlen(s->cow_prefix));
}

bool cow_store_fhas_xattr(int fd, const char *attr)
{
	return cow_sys_fgetxattr(fd, attr, NULL, 0) >= 0;
}

int cow_store_fget_u64(int fd, const char *attr, unsigned long long *val)
{
	char buf[32];
	ssize_t n;
	char *end;

	n = cow_sys_fgetxattr(fd, attr, buf, sizeof(buf) - 1);
	if (n < 0)
		return (int)n;
	buf[n] = '\0';
	errno = 0;
	*val = strtoull(buf, &end, 10);
	if (errno || end == buf || *end)
		return -EINVAL;
	return 0;
}

int cow_store_fset_u64(int fd, const char *attr, unsigned long long val)
{
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "%llu", val);

	return cow_sys_fsetxattr(fd, attr, buf, (size_t)n, 0);
}

/* ---- layout, format file and BASE identity ---- */

struct identity {
	unsigned long long ino, gen;
};

static void base_identity(const struct cow_base *base, struct identity *id)
{
	struct stat st;
	int gen = 0;

	id->ino = fstat(base->fd, &st) == 0 ? (unsigned long long)st.st_ino : 0;
	if (ioctl(base->fd, FS_IOC_GETVERSION, &gen) < 0)
		gen = 0;
	id->gen = (unsigned int)gen;
}

static int write_format(int meta_fd, const struct cow_base *base,
			bool userxattr)
{
	struct identity id;
	char buf[4096];
	int fd, n, ret;

	base_identity(base, &id);
	n = snprintf(buf, sizeof(buf),
		     "cowfs-store %d\nbase-ino %llu\nbase-gen %llu\n"
		     "base-path %s\nxattr-ns %s\n",
		     COW_STORE_FORMAT, id.ino, id.gen, base->path,
		     userxattr ? "user" : "trusted");
	fd = cow_sys_openat(meta_fd, "format.tmp", O_WRONLY | O_CREAT | O_TRUNC,
			    0644);
	if (fd < 0)
		return fd;
	ret = cow_sys_pwrite_full(fd, buf, (size_t)n, 0);
	if (ret == 0)
		ret = cow_sys_fsync(fd, false);
	cow_sys_close(fd);
	if (ret == 0)
		ret = cow_sys_renameat2(meta_fd, "format.tmp", meta_fd,
					"format", 0);
	return ret;
}

/* The markers' namespace must match the one the store was written with. */
int cow_store_parse_format(const char *text, struct cow_store_format *f,
			   char *why, size_t whylen)
{
	const char *ns = strstr(text, "\nxattr-ns ");

	memset(f, 0, sizeof(*f));
	f->version = -1;
	snprintf(f->path, sizeof(f->path), "?");
	if (sscanf(text,
		   "cowfs-store %d\nbase-ino %llu\nbase-gen %llu\n"
		   "base-path %4095[^\n]",
		   &f->version, &f->ino, &f->gen, f->path) < 1)
		return why_set(why, whylen, -EINVAL,
			       "STORE has a damaged meta/format file");
	if (f->version != COW_STORE_FORMAT)
		return why_set(why, whylen, -EPROTO,
			       "STORE has format version %d; this cowfs "
			       "reads version %d",
			       f->version, COW_STORE_FORMAT);
	/* absent in stores written before the line existed */
	if (ns && sscanf(ns, "\nxattr-ns %7[a-z]", f->xattr_ns) != 1)
		return why_set(why, whylen, -EINVAL,
			       "STORE has a damaged xattr-ns line");
	return 0;
}

static int check_format(int meta_fd, const struct cow_base *base,
			bool userxattr, char *why, size_t whylen)
{
	struct cow_store_format f;
	struct identity id;
	char buf[4096];
	int fd, ret;
	ssize_t n;

	fd = cow_sys_openat(meta_fd, "format", O_RDONLY, 0);
	if (fd < 0)
		return fd;
	n = cow_sys_pread(fd, buf, sizeof(buf) - 1, 0);
	cow_sys_close(fd);
	if (n < 0)
		return (int)n;
	buf[n] = '\0';
	ret = cow_store_parse_format(buf, &f, why, whylen);
	if (ret < 0)
		return ret;
	base_identity(base, &id);
	if (f.ino != id.ino || f.gen != id.gen)
		return why_set(why, whylen, -EXDEV,
			       "STORE belongs to a different BASE (%s)",
			       f.path);
	if (f.xattr_ns[0] && strcmp(f.xattr_ns, userxattr ? "user" : "trusted"))
		return why_set(why, whylen, -EPERM,
			       "STORE keeps its markers in %s.* xattrs; mount "
			       "it %s",
			       userxattr ? "trusted" : "user",
			       userxattr ? "as root without -o userxattr"
					 : "with -o userxattr");
	return 0;
}

static int open_or_make_dir(int dirfd, const char *name, bool create)
{
	int fd = cow_sys_open_dir(dirfd, name);

	if (fd == -ENOENT && create) {
		int ret = cow_sys_mkdirat(dirfd, name, 0755);
		if (ret < 0 && ret != -EEXIST)
			return ret;
		fd = cow_sys_open_dir(dirfd, name);
	}
	return fd;
}

static bool dir_is_empty(int dirfd)
{
	int fd = dup(dirfd);
	DIR *d;
	struct dirent *de;
	bool empty = true;

	if (fd < 0)
		return false;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return false;
	}
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			empty = false;
	closedir(d);
	return empty;
}

static void set_names(struct cow_store *s, bool userxattr)
{
	s->ovl_prefix = userxattr ? "user.overlay." : "trusted.overlay.";
	s->cow_prefix = userxattr ? "user.cowfs." : "trusted.cowfs.";
	snprintf(s->x_opaque, COW_XATTR_MAX, "%sopaque", s->ovl_prefix);
	snprintf(s->x_redirect, COW_XATTR_MAX, "%sredirect", s->ovl_prefix);
	snprintf(s->x_metacopy, COW_XATTR_MAX, "%smetacopy", s->ovl_prefix);
	snprintf(s->x_origin, COW_XATTR_MAX, "%sorigin", s->cow_prefix);
	snprintf(s->x_nlink, COW_XATTR_MAX, "%snlink", s->cow_prefix);
	snprintf(s->x_partial, COW_XATTR_MAX, "%spartial", s->cow_prefix);
}

/* Opens the directories named by @paths; creates them only if @create. */
static int open_dirs(struct cow_store *s, const struct cow_store_paths *paths,
		     bool create, char *why, size_t whylen)
{
	const char *root = paths->store ? paths->store : paths->work;
	int root_fd, ret = 0;

	root_fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (root_fd < 0)
		return why_set(why, whylen, -errno, "%s: %s", root,
			       strerror(errno));
	if (paths->store)
		s->upper_fd = open_or_make_dir(root_fd, "upper", create);
	else
		s->upper_fd =
			open(paths->upper, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->upper_fd == -1)
		s->upper_fd = -errno;
	s->work_fd = open_or_make_dir(root_fd, "work", create);
	s->meta_fd = open_or_make_dir(root_fd, "meta", create);
	s->index_fd = s->meta_fd < 0
			      ? s->meta_fd
			      : open_or_make_dir(s->meta_fd, "index", create);
	s->chunks_fd = s->meta_fd < 0
			       ? s->meta_fd
			       : open_or_make_dir(s->meta_fd, "chunks", create);
	close(root_fd);
	if (s->upper_fd < 0 || s->work_fd < 0 || s->meta_fd < 0 ||
	    s->index_fd < 0 || (s->chunks_fd < 0 && s->chunks_fd != -ENOENT))
		ret = why_set(why, whylen, -EIO,
			      "STORE %s: cannot open its "
			      "upper/, work/ or meta/ directory",
			      root);
	return ret;
}

/*
 * Decides whether the store must be created: a missing or empty STORE is
 * new; a STORE with meta/format is checked; anything else is refused.
 */
static int classify(const struct cow_store_paths *paths, bool *create,
		    char *why, size_t whylen)
{
	const char *root = paths->store ? paths->store : paths->work;
	char fmt[PATH_MAX];
	struct stat st;
	int fd;

	*create = false;
	if (stat(root, &st) < 0) {
		if (errno != ENOENT || !paths->store)
			return why_set(why, whylen, -errno, "%s: %s", root,
				       strerror(errno));
		*create = true;
		return 0;
	}
	if (!S_ISDIR(st.st_mode))
		return why_set(why, whylen, -ENOTDIR, "%s: not a directory",
			       root);
	snprintf(fmt, sizeof(fmt), "%s/meta/format", root);
	if (access(fmt, F_OK) == 0)
		return 0;
	fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return why_set(why, whylen, -errno, "%s: %s", root,
			       strerror(errno));
	*create = dir_is_empty(fd) || !paths->store;
	close(fd);
	if (!*create)
		return why_set(why, whylen, -EINVAL,
			       "STORE %s is neither empty nor a cowfs store",
			       root);
	return 0;
}

static int make_root(const struct cow_store_paths *paths, char *why,
		     size_t whylen)
{
	if (!paths->store || mkdir(paths->store, 0700) == 0 || errno == EEXIST)
		return 0;
	return why_set(why, whylen, -errno, "cannot create STORE %s: %s",
		       paths->store, strerror(errno));
}

static int clean_work(struct cow_store *s)
{
	int ret = cow_store_clear_dir(s->work_fd);

	if (ret < 0)
		cow_warn("cannot clear leftovers in work/: %s", strerror(-ret));
	return ret;
}

/*
 * One user of a store at a time (a mounted daemon, or a command working on
 * an unmounted store): an exclusive flock on meta/, held until close.
 */
static int lock_store(struct cow_store *s, char *why, size_t whylen)
{
	if (flock(s->meta_fd, LOCK_EX | LOCK_NB) == 0)
		return 0;
	if (errno == EWOULDBLOCK) {
		why_set(why, whylen, -EBUSY,
			"STORE is in use (mounted, or a cowfs command is "
			"working on it)");
		return -EBUSY;
	}
	return -errno;
}

/* Whiteouts, opaque directories and redirects need xattrs on upper/. */
static int probe_xattrs(struct cow_store *s, char *why, size_t whylen)
{
	char name[COW_XATTR_MAX + 8];
	int ret;

	snprintf(name, sizeof(name), "%sprobe", s->cow_prefix);
	ret = cow_sys_fsetxattr(s->upper_fd, name, "1", 1, 0);
	if (ret == 0) {
		cow_sys_fremovexattr(s->upper_fd, name);
		return 0;
	}
	if (ret == -ENOTSUP || ret == -EOPNOTSUPP || ret == -EPERM)
		return why_set(why, whylen, -ENOTSUP,
			       "STORE's filesystem does not support %s* "
			       "extended attributes, which cowfs needs for "
			       "its markers: use ext4, XFS, btrfs or tmpfs",
			       s->cow_prefix);
	return 0; /* anything else shows up with a clearer error later */
}

/* Whether directory @fd has an entry besides "." and "..". */
static bool has_entries(int fd)
{
	int dup = cow_sys_openat(fd, ".", O_RDONLY | O_DIRECTORY, 0);
	DIR *d = dup >= 0 ? fdopendir(dup) : NULL;
	struct dirent *de;
	bool any = dup >= 0 && !d; /* unreadable: assume so */

	while (d && !any && (de = readdir(d)))
		any = strcmp(de->d_name, ".") && strcmp(de->d_name, "..");
	if (d)
		closedir(d);
	else
		cow_sys_close(dup);
	return any;
}

/*
 * ext4 can run without a journal (mkfs -O ^has_journal), and then nothing
 * orders a rename after the data and block map of the file it names. Its
 * sysfs directory, named after the block device, names the journal's
 * thread in journal_task ("<none>" without one). Unreadable: no journal.
 */
static bool ext4_journaled(int fd)
{
	char link[64], target[256], path[320], task[32] = "";
	const char *dev;
	struct stat st;
	ssize_t n = -1;
	int tfd;

	if (fstat(fd, &st) == 0) {
		snprintf(link, sizeof(link), "/sys/dev/block/%u:%u",
			 major(st.st_dev), minor(st.st_dev));
		n = readlink(link, target, sizeof(target) - 1);
	}
	if (n <= 0)
		return false;
	target[n] = '\0';
	dev = strrchr(target, '/');
	snprintf(path, sizeof(path), "/sys/fs/ext4/%s/journal_task",
		 dev ? dev + 1 : target);
	tfd = open(path, O_RDONLY | O_CLOEXEC);
	n = tfd < 0 ? -1 : read(tfd, task, sizeof(task) - 1);
	if (tfd >= 0)
		close(tfd);
	return n > 0 && task[0] != '<' && task[0] != '\n';
}

/* See struct cow_store; other filesystems keep the fdatasync. */
static bool direct_orders(int fd)
{
	struct statfs sf;

	if (fstatfs(fd, &sf) < 0)
		return false;
	return sf.f_type == XFS_SUPER_MAGIC ||
	       (sf.f_type == EXT4_SUPER_MAGIC && ext4_journaled(fd));
}

int cow_store_open(struct cow_store *s, const struct cow_store_paths *paths,
		   const struct cow_base *base, bool userxattr, char *why,
		   size_t whylen)
{
	bool create, need_format;
	struct stat st;
	int ret;

	memset(s, 0, sizeof(*s));
	s->upper_fd = s->work_fd = s->meta_fd = s->index_fd = -1;
	s->chunks_fd = -1;
	s->fsync = true;
	set_names(s, userxattr);
	s->wh_files = !paths->store;
	ret = classify(paths, &create, why, whylen);
	if (ret == 0 && create)
		ret = make_root(paths, why, whylen);
	if (ret == 0)
		ret = open_dirs(s, paths, create, why, whylen);
	if (ret == 0) {
		s->direct_orders = direct_orders(s->upper_fd);
		cow_dbg("STORE: small copy-ups %s",
			s->direct_orders ? "by direct I/O, ordered by the "
					   "journal"
					 : "fdatasynced (no journal orders "
					   "direct I/O here)");
		s->index_used = has_entries(s->index_fd);
	}
	if (ret == 0)
		ret = lock_store(s, why, whylen);
	if (ret == 0)
		ret = probe_xattrs(s, why, whylen);
	need_format = create;
	if (ret == 0 && !create)
		ret = check_format(s->meta_fd, base, userxattr, why, whylen);
	if (ret == -ENOENT && !create && !paths->store) {
		ret = 0; /* overlay form: an upper without our meta yet */
		need_format = true;
	}
	if (ret == 0 && fstat(s->upper_fd, &st) == 0)
		s->dev = st.st_dev;
	if (ret == 0 && need_format)
		ret = write_format(s->meta_fd, base, userxattr);
	if (ret == 0 && s->chunks_fd < 0) /* a store from before chunks */
		s->chunks_fd = open_or_make_dir(s->meta_fd, "chunks", true);
	if (ret == 0 && s->chunks_fd < 0)
		ret = s->chunks_fd;
	if (ret == 0)
		clean_work(s);
	if (ret < 0 && !why[0])
		why_set(why, whylen, ret, "cannot open STORE: %s",
			strerror(-ret));
	if (ret < 0)
		cow_store_close(s);
	return ret;
}

void cow_store_close(struct cow_store *s)
{
	cow_sys_close(s->upper_fd);
	cow_sys_close(s->work_fd);
	cow_sys_close(s->meta_fd);
	cow_sys_close(s->index_fd);
	cow_sys_close(s->chunks_fd);
	s->upper_fd = s->work_fd = s->meta_fd = s->index_fd = -1;
	s->chunks_fd = -1;
}

int cow_store_reset(struct cow_store *s)
{
	int ret = cow_store_clear_dir(s->upper_fd);

	if (ret == 0)
		ret = cow_store_clear_dir(s->index_fd);
	if (ret == 0)
		ret = cow_store_clear_dir(s->chunks_fd);
	if (ret == 0)
		ret = cow_store_clear_dir(s->work_fd);
	return ret;
}

int cow_store_volatile(struct cow_store *s, bool want, char *why, size_t whylen)
{
	struct stat st;
	bool marked = cow_sys_fstatat(s->meta_fd, COW_VOLATILE_MARK, &st) == 0;
	int fd, ret;

	if (!marked && want && !dir_is_empty(s->upper_fd))
		return why_set(why, whylen, -EEXIST,
			       "STORE holds changes that are kept: a volatile "
			       "view needs a new or volatile STORE");
	if (!marked && !want)
		return 0;
	ret = cow_store_reset(s); /* left by a view that did not unmount */
	if (ret == 0 && want && !marked) {
		fd = cow_sys_openat(s->meta_fd, COW_VOLATILE_MARK,
				    O_CREAT | O_WRONLY, 0600);
		ret = fd < 0 ? fd : cow_sys_close(fd);
	}
	if (ret == 0 && !want)
		ret = cow_sys_unlinkat(s->meta_fd, COW_VOLATILE_MARK, 0);
	if (ret < 0)
		why_set(why, whylen, ret, "cannot clear the volatile STORE: %s",
			strerror(-ret));
	return ret;
}

bool cow_store_wh_hidden(const struct cow_store *s, int dirfd, const char *name)
{
	char wh[NAME_MAX + 5];
	struct stat st;

	if (!s->wh_files || dirfd < 0)
		return false;
	if ((size_t)snprintf(wh, sizeof(wh), ".wh.%s", name) >= sizeof(wh))
		return false;
	return cow_sys_fstatat(dirfd, wh, &st) == 0;
}
