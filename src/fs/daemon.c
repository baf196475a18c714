// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Running a view: path checks, opening BASE and STORE, the FUSE session,
 * daemonising once the mount is ready, and the multi-threaded loop.
 */
#include "daemon.h"

#include "log.h"
#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

int cow_fail(const char *fmt, ...)
{
	va_list ap;

	fputs("cowfs: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

/* Absolute form of @path, which may not exist yet (its parent must). */
static char *abs_path(const char *path)
{
	char *copy, *dir, *full, *res;
	size_t len;

	res = realpath(path, NULL);
	if (res || errno != ENOENT)
		return res;
	copy = strdup(path);
	if (!copy)
		return NULL;
	dir = realpath(dirname(copy), NULL);
	free(copy);
	if (!dir)
		return NULL;
	copy = strdup(path);
	len = strlen(dir) + strlen(basename(copy)) + 2;
	full = malloc(len);
	if (full)
		snprintf(full, len, "%s/%s", dir, basename(copy));
	free(dir);
	free(copy);
	return full;
}

static bool within(const char *a, const char *b)
{
	size_t lb = strlen(b);

	return !strncmp(a, b, lb) &&
	       (a[lb] == '/' || a[lb] == '\0' || (lb == 1 && b[0] == '/'));
}

static int check_dir(const char *what, const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return cow_fail("%s %s does not exist", what, path);
	if (!S_ISDIR(st.st_mode))
		return cow_fail("%s %s is not a directory", what, path);
	return 0;
}

static int check_mountpoint(const char *mnt)
{
	struct statx stx;

	if (check_dir("MOUNTPOINT", mnt))
		return 1;
	if (statx(AT_FDCWD, mnt, 0, STATX_BASIC_STATS, &stx) == 0 &&
	    (stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) &&
	    (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT))
		return cow_fail("MOUNTPOINT %s is already a mount point", mnt);
	return 0;
}

/* STORE (or upper/work) must not overlap BASE either way. */
static int check_overlap(const char *what, const char *path, const char *base)
{
	char *p = abs_path(path);
	int ret = 0;

	if (!p)
		return cow_fail("%s %s: parent directory does not exist", what,
				path);
	if (within(p, base))
		ret = cow_fail("%s %s is inside BASE", what, path);
	else if (within(base, p))
		ret = cow_fail("BASE is inside %s %s", what, path);
	free(p);
	return ret;
}

static int check_paths(const struct cow_opts *o)
{
	struct stat st;
	char *base;
	int ret;

	if (check_dir("BASE", o->base) || check_mountpoint(o->mnt))
		return 1;
	base = realpath(o->base, NULL);
	if (!base)
		return cow_fail("BASE %s: %s", o->base, strerror(errno));
	if (o->store)
		ret = check_overlap("STORE", o->store, base);
	else
		ret = check_dir("upperdir", o->upper) ||
		      check_dir("workdir", o->work) ||
		      check_overlap("upperdir", o->upper, base) ||
		      check_overlap("workdir", o->work, base);
	free(base);
	if (ret == 0 && stat("/dev/fuse", &st) == 0 && !S_ISCHR(st.st_mode))
		ret = cow_fail("cannot use /dev/fuse: not a character device");
	else if (ret == 0 && access("/dev/fuse", R_OK | W_OK) < 0)
		ret = cow_fail(
			"cannot use /dev/fuse: %s%s", strerror(errno),
			errno == ENOENT ? " (is the fuse module loaded?)"
			: errno == EACCES
				? " (unprivileged mounts need it mode 0666)"
				: "");
	return ret;
}

/* Raises the descriptor limit (root: to the system's ceiling); returns it. */
static rlim_t raise_nofile(void)
{
	struct rlimit rl;
	FILE *f;
	unsigned long max = 0;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return 1024;
	f = geteuid() == 0 ? fopen("/proc/sys/fs/nr_open", "re") : NULL;
	if (f && fscanf(f, "%lu", &max) == 1 && max > rl.rlim_max)
		rl.rlim_max = max;
	if (f)
		fclose(f);
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
		getrlimit(RLIMIT_NOFILE, &rl);
	return rl.rlim_cur;
}

/* max_dirs=auto: 4096 directories (two descriptors each at most), fewer
 * when the descriptor limit is low. */
static size_t auto_max_dirs(rlim_t nofile)
{
	size_t n = nofile > 512 ? (size_t)(nofile - 256) / 2 : 128;

	return n < 4096 ? n : 4096;
}

/* Files whose backing data requests keep open (opens=off): 1024 (two
 * descriptors each at most), fewer when the descriptor limit is low. */
static size_t auto_max_demand(rlim_t nofile, long max_dirs)
{
	rlim_t used = 256 + 2 * (rlim_t)max_dirs;
	size_t n = nofile > used + 128 ? (size_t)(nofile - used) / 4 : 32;

	return n < 1024 ? n : 1024;
}

static int open_layers(struct cow_daemon *d, bool *created)
{
	struct cow_store_paths paths = {d->opts.store, d->opts.upper,
					d->opts.work};
	char why[PATH_MAX + 128] = "";
	struct stat st;
	int ret;

	*created = d->opts.store && stat(d->opts.store, &st) < 0;
	ret = cow_base_open(&d->fs.base, d->opts.base, why, sizeof(why));
	if (ret == 0)
		ret = cow_store_open(&d->fs.store, &paths, &d->fs.base,
				     d->opts.userxattr, why, sizeof(why));
	if (ret == 0) {
		ret = cow_store_volatile(&d->fs.store, d->opts.volatile_store,
					 why, sizeof(why));
		if (ret < 0)
			cow_store_close(&d->fs.store);
	}
	if (ret < 0) {
		cow_fail("%s", why);
		if (d->fs.base.path)
			cow_base_close(&d->fs.base);
		return 1;
	}
	d->fs.store.fsync = d->opts.fsync;
	d->fs.chunk_shift = (unsigned int)__builtin_ctzll(d->opts.chunk_size);
	d->fs.chunk_threshold =
		d->opts.chunk_threshold ? (off_t)d->opts.chunk_threshold : -1;
	d->fs.completer_rate = d->opts.completer_rate;
	d->fs.max_dirs = (size_t)d->opts.max_dirs;
	d->fs.store_limit = d->opts.store_limit;
	d->fs.nwarn = d->opts.nwarn;
	d->fs.exclude = d->opts.exclude;
	d->fs.nexclude = d->opts.nexclude;
	memcpy(d->fs.warn_pct, d->opts.warn_pct, sizeof(d->fs.warn_pct));
	if (cow_fs_init(&d->fs) < 0 || cow_fs_make_root(&d->fs) < 0 ||
	    cow_partial_scan(&d->fs) < 0 || cow_quota_scan(&d->fs) < 0) {
		cow_fail("cannot set up the view of %s", d->opts.base);
		return 1;
	}
	return 0;
}

/* Where the store lives, for `cowfs status` on the mount point. */
static char *store_info(const struct cow_opts *o)
{
	char *root = realpath(o->store ? o->store : o->work, NULL);
	char *upper = o->store ? NULL : realpath(o->upper, NULL);
	char *info = NULL;

	if (root && (o->store || upper) &&
	    asprintf(&info, "upper=%s%s\nmeta=%s/meta\n",
		     o->store ? root : upper, o->store ? "/upper" : "",
		     root) < 0)
		info = NULL;
	free(root);
	free(upper);
	return info;
}

static void close_layers(struct cow_daemon *d)
{
	cow_control_stop(d);
	cow_completer_stop(&d->fs);
	if (d->opts.volatile_store && d->fs.store.upper_fd >= 0)
		cow_store_reset(&d->fs.store); /* nothing outlives the view */
	cow_fs_destroy(&d->fs);
	cow_store_close(&d->fs.store);
	cow_base_close(&d->fs.base);
}

/* Kernel mount flags: as root the view behaves like the tree it shows
 * (device nodes open, setuid honoured), as kernel overlayfs does. */
static void mount_flags(const struct cow_opts *o, char *buf, size_t len)
{
	bool root = geteuid() == 0;
	int dev = o->dev < 0 ? root : o->dev;
	int suid = o->suid < 0 ? root : o->suid;

	snprintf(buf, len, ",%s,%s,%s", dev ? "dev" : "nodev",
		 suid ? "suid" : "nosuid", o->exec ? "exec" : "noexec");
}

static struct fuse_session *new_session(struct cow_daemon *d)
{
	char opts[PATH_MAX + 160], flags[32];
	const char *fsname = d->fs.base.path;
	char *argv[4] = {(char *)"cowfs", (char *)"-o", opts, NULL};
	struct fuse_args args = FUSE_ARGS_INIT(3, argv);
	struct fuse_session *se;

	if (strpbrk(fsname, ",\\ \t\n"))
		fsname = "cowfs";
	mount_flags(&d->opts, flags, sizeof(flags));
	snprintf(opts, sizeof(opts),
		 "default_permissions,fsname=%s,subtype=cowfs%s%s%s", fsname,
		 flags, d->opts.allow_other ? ",allow_other" : "",
		 d->opts.debug ? ",debug" : "");
	se = fuse_session_new(&args, &cow_ops, sizeof(cow_ops), d);
	fuse_opt_free_args(&args);
	return se;
}

/* Undoes mountinfo's octal escapes (\040 for a space) in place. */
static void unescape(char *s)
{
	char *out = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' &&
		    s[2] <= '7' && s[3] >= '0' && s[3] <= '7') {
			*out++ = (char)((s[1] - '0') << 6 | (s[2] - '0') << 3 |
					(s[3] - '0'));
			s += 3;
		} else {
			*out++ = *s;
		}
	}
	*out = '\0';
}

/* The device (major:minor) of the last cowfs mount at @mnt, or "". */
static void mount_device(const char *mnt, char dev[32])
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char *line = NULL, at[PATH_MAX], id[32], type[64];
	size_t cap = 0;

	dev[0] = '\0';
	while (f && getline(&line, &cap, f) > 0) {
		char *sep = strstr(line, " - ");
		if (!sep ||
		    sscanf(line, "%*s %*s %31s %*s %4095s", id, at) != 2 ||
		    sscanf(sep + 3, "%63s", type) != 1)
			continue;
		unescape(at);
		if (!strcmp(at, mnt) && !strcmp(type, "fuse.cowfs"))
			snprintf(dev, 32, "%s", id);
	}
	free(line);
	if (f)
		fclose(f);
}

/*
 * The kernel caps a FUSE mount's readahead at 128 KiB whatever the daemon
 * asks for at init; its bdi setting is the one knob. Root raises it to
 * COW_READAHEAD: larger READs, and backing files read far enough ahead.
 */
static void tune_readahead(const char *mnt)
{
	char dev[32], path[96], kb[16];
	int fd, n;

	if (!mnt || geteuid() != 0)
		return;
	mount_device(mnt, dev);
	if (!dev[0])
		return;
	snprintf(path, sizeof(path), "/sys/class/bdi/%s/read_ahead_kb", dev);
	n = snprintf(kb, sizeof(kb), "%u", COW_READAHEAD >> 10);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, kb, (size_t)n) < 0)
		cow_dbg("readahead of %s left as it is: %s", mnt,
			strerror(errno));
	if (fd >= 0)
		close(fd);
}

static int serve(struct cow_daemon *d)
{
	struct fuse_loop_config *cfg = fuse_loop_cfg_create();
	int ret;

	if (!cfg)
		return 1;
	fuse_loop_cfg_set_clone_fd(cfg, 1);
	fuse_loop_cfg_set_idle_threads(cfg, 4);
	fuse_loop_cfg_set_max_threads(cfg, 64);
	ret = fuse_session_loop_mt(d->se, cfg);
	fuse_loop_cfg_destroy(cfg);
	return ret == 0 ? 0 : 1;
}

int cow_daemon_run(struct cow_opts *o)
{
	static struct cow_daemon d;
	char *store_abs = NULL, *mnt_abs = NULL;
	rlim_t nofile;
	bool created;
	int ret = 1;

	if (o->nwarn && !o->store_limit)
		return cow_fail("warn= needs store_limit=");
	/* write() itself must see ENOSPC, not a later writeback */
	if (o->store_limit)
		o->writeback = false;
	if (check_paths(o) || cow_env_check(o))
		return 1;
	cow_log_debug = o->debug;
	if (!o->cache)
		o->timeout = 0; /* cache=never: nothing cached in the kernel */
	nofile = raise_nofile();
	if (o->max_dirs < 0)
		o->max_dirs = (long)auto_max_dirs(nofile);
	if (o->opens < 0)
		o->opens = geteuid() != 0 && o->allow_other;
	d.opts = *o;
	d.fs.max_demand = o->max_files > 0
				  ? (size_t)o->max_files
				  : auto_max_demand(nofile, o->max_dirs);
	d.control_fd = -1;
	if (open_layers(&d, &created))
		goto out_remove;
	/* fuse_daemonize changes to /: remember where the store is */
	store_abs = o->store ? realpath(o->store, NULL) : NULL;
	d.store_info = store_info(o);
	d.se = new_session(&d);
	if (!d.se || fuse_set_signal_handlers(d.se) < 0)
		goto out_close;
	mnt_abs = realpath(o->mnt, NULL); /* resolved before it is our mount */
	d.mnt_abs = mnt_abs;
	if (fuse_session_mount(d.se, o->mnt) < 0) {
		cow_fail("cannot mount on %s", o->mnt);
		goto out_destroy;
	}
	/* From here on the store is in use: kept, unless it is volatile and
	 * this mount made it. */
	created = created && o->volatile_store;
	tune_readahead(mnt_abs);
	if (fuse_daemonize(o->foreground) < 0)
		goto out_unmount;
	if (!o->foreground)
		cow_log_to_syslog();
	cow_control_start(&d);
	if (cow_evictor_start(&d) < 0)
		cow_warn("cannot start the evictor; directories stay held");
	if (cow_completer_start(&d.fs) < 0)
		cow_warn("cannot start the completer; partial copies stay "
			 "partial");
	ret = serve(&d);
out_unmount:
	cow_control_stop(&d); /* before the session they notify goes */
	cow_evictor_stop(&d);
	fuse_session_unmount(d.se);
out_destroy:
	fuse_remove_signal_handlers(d.se);
	fuse_session_destroy(d.se);
out_close:
	close_layers(&d);
out_remove:
	if (created && o->store)
		cow_store_remove_tree(AT_FDCWD,
				      store_abs ? store_abs : o->store);
	free(store_abs);
	free(mnt_abs);
	free(d.store_info);
	return ret;
}
