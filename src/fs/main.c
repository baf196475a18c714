// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * cowfs command line: `cowfs mount`, `cowfs umount`, and the overlay-style
 * form mount.fuse3 uses. Validates everything it can before touching
 * BASE or STORE, so a refused mount changes nothing.
 */
#include "daemon.h"

#include "cli.h"

#include "config.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define EXIT_USAGE 2

static const char usage_text[] =
	"usage: cowfs mount BASE STORE MOUNTPOINT [-f] [-d] [-o OPTIONS]\n"
	"       cowfs mount --in-place DIR STORE [-f] [-d] [-o OPTIONS]\n"
	"       cowfs umount MOUNTPOINT\n"
	"       cowfs status [--json] STORE|MOUNTPOINT [PATH...]\n"
	"       cowfs diff STORE|MOUNTPOINT PATH\n"
	"       cowfs commit [--dry-run] STORE|MOUNTPOINT PATH...\n"
	"       cowfs discard [--dry-run] STORE|MOUNTPOINT PATH...\n"
	"       cowfs reset STORE|MOUNTPOINT\n"
	"       cowfs SOURCE MOUNTPOINT -o lowerdir=BASE,upperdir=UPPER,"
	"workdir=WORK[,OPTIONS]\n"
	"       cowfs --help | --version\n"
	"\n"
	"Shows BASE at MOUNTPOINT; every change goes to STORE, BASE is never\n"
	"written.\n"
	"\n"
	"  -f              stay in the foreground\n"
	"  -d              log every request (implies -f)\n"
	"  -o OPTIONS      comma-separated:\n"
	"     allow_other       let other users use the view\n"
	"     timeout=SECONDS   kernel entry/attribute cache time (86400)\n"
	"     cache=auto|never  kernel caching (never: for debugging)\n"
	"     writeback=on|off  kernel writeback cache (on)\n"
	"     fsync=on|off      make copy-ups durable before publishing (on)\n"
	"     opens=on|off      send every open and close to the daemon (off;\n"
	"                       on for allow_other when not root)\n"
	"     userxattr         user.overlay.* markers (default when not "
	"root)\n"
	"     chunk_threshold=SIZE  copy files this big by chunks (4M; 0: "
	"never)\n"
	"     chunk_size=SIZE   chunk size, a power of two (64K)\n"
	"     completer=RATE|off  fill partial copies when idle, MiB/s (64)\n"
	"     max_files=N       files that keep their layers open (1024)\n"
	"     max_dirs=N        directories the kernel may keep (4096; 0: "
	"any)\n"
	"\n"
	"See cowfs(8).\n";

static int usage_error(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("cowfs: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs(" (see cowfs --help)\n", stderr);
	return EXIT_USAGE;
}

static void default_opts(struct cow_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->cache = true;
	o->writeback = true;
	o->fsync = true;
	o->timeout = 86400;
	o->userxattr = geteuid() != 0;
	o->chunk_size = 64 << 10;
	o->max_dirs = -1;
	o->max_files = -1;
	o->opens = -1;
	o->chunk_threshold = 4 << 20;
	o->completer_rate = 64ul << 20;
	o->dev = o->suid = o->exec = -1;
}

/* Parses -f, -d, -o and positional arguments into @o and @pos. */
static int parse_args(int argc, char **argv, struct cow_opts *o,
		      const char **pos, int npos, int *got)
{
	char why[512] = "";
	int i;

	*got = 0;
	for (i = 0; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "-f")) {
			o->foreground = true;
		} else if (!strcmp(a, "-d")) {
			o->debug = o->foreground = true;
		} else if (!strcmp(a, "--in-place")) {
			o->in_place = true;
		} else if (!strncmp(a, "-o", 2)) {
			const char *list = a[2] ? a + 2 : argv[++i];
			if (!list)
				return usage_error("-o needs an argument");
			if (cow_parse_opts(list, o, why, sizeof(why)) < 0)
				return usage_error("%s", why);
		} else if (a[0] == '-' && a[1]) {
			return usage_error("unknown option '%s'", a);
		} else if (*got < npos) {
			pos[(*got)++] = a;
		} else {
			return usage_error("unexpected argument '%s'", a);
		}
	}
	return 0;
}

static int cmd_mount(int argc, char **argv)
{
	struct cow_opts o;
	const char *pos[3];
	int got, ret;

	default_opts(&o);
	ret = parse_args(argc, argv, &o, pos, 3, &got);
	if (ret == 0 && o.in_place && got == 2)
		pos[got++] = pos[0]; /* the view covers DIR itself */
	else if (ret == 0 && o.in_place)
		ret = usage_error("mount --in-place needs DIR STORE");
	if (ret == 0 && got != 3)
		ret = usage_error("mount needs BASE STORE MOUNTPOINT");
	else if (ret == 0 && (o.base || o.upper || o.work))
		ret = usage_error("lowerdir/upperdir/workdir belong to the "
				  "overlay-style form");
	if (ret) {
		cow_opts_free(&o);
		return ret;
	}
	o.base = pos[0];
	o.store = pos[1];
	o.mnt = pos[2];
	ret = cow_daemon_run(&o);
	cow_opts_free(&o);
	return ret;
}

/* mount.fuse3 form: cowfs SOURCE MOUNTPOINT -o lowerdir=...,... */
static int overlay_check(struct cow_opts *o, int got)
{
	if (got != 2)
		return usage_error("expected SOURCE MOUNTPOINT after '%s', or "
				   "a command",
				   "cowfs");
	if (!o->base || !o->upper || !o->work)
		return usage_error("the overlay-style form needs -o lowerdir=,"
				   "upperdir= and workdir=");
	if (strchr(o->base, ':'))
		return usage_error("only one lowerdir is supported (got '%s')",
				   o->base);
	return 0;
}

static int cmd_overlay(int argc, char **argv)
{
	struct cow_opts o;
	const char *pos[2];
	int got, ret;

	default_opts(&o);
	ret = parse_args(argc, argv, &o, pos, 2, &got);
	if (ret == 0)
		ret = overlay_check(&o, got);
	if (ret == 0) {
		o.mnt = pos[1];
		ret = cow_daemon_run(&o);
	}
	free((char *)o.base);
	free((char *)o.upper);
	free((char *)o.work);
	cow_opts_free(&o);
	return ret;
}

static int cmd_umount(int argc, char **argv)
{
	pid_t pid;
	int status;

	if (argc != 1)
		return usage_error("umount needs exactly one MOUNTPOINT");
	pid = fork();
	if (pid == 0) {
		execlp("fusermount3", "fusermount3", "-u", "--", argv[0],
		       (char *)NULL);
		if (geteuid() == 0 && umount2(argv[0], 0) == 0)
			_exit(0);
		fprintf(stderr, "cowfs: cannot unmount %s: %s\n", argv[0],
			strerror(errno));
		_exit(1);
	}
	if (pid < 0 || waitpid(pid, &status, 0) < 0) {
		fprintf(stderr, "cowfs: cannot run fusermount3: %s\n",
			strerror(errno));
		return 1;
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : NULL;

	if (!cmd)
		return usage_error("missing command");
	if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
		fputs(usage_text, stdout);
		return 0;
	}
	if (!strcmp(cmd, "--version") || !strcmp(cmd, "-V")) {
		printf("cowfs %s (libfuse %s)\n", COWFS_VERSION,
		       fuse_pkgversion());
		return 0;
	}
	if (!strcmp(cmd, "mount"))
		return cmd_mount(argc - 2, argv + 2);
	if (!strcmp(cmd, "umount"))
		return cmd_umount(argc - 2, argv + 2);
	if (!strcmp(cmd, "status"))
		return cow_cmd_status(argc - 2, argv + 2);
	if (!strcmp(cmd, "diff"))
		return cow_cmd_diff(argc - 2, argv + 2);
	if (!strcmp(cmd, "commit") || !strcmp(cmd, "discard") ||
	    !strcmp(cmd, "reset"))
		return cow_cmd_manage(cmd, argc - 2, argv + 2);
	return cmd_overlay(argc - 1, argv + 1);
}
