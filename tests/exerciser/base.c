// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * exerciser --make-base DIR: the BASE tree the exerciser's groups start
 * from, the same bytes for every run: in each group's directory small
 * files, files above the chunk threshold (copied by chunks when cowfs runs
 * with chunk_threshold=256K), a sparse file, directories, hard links,
 * symlinks, xattrs, other owners and modes, and old times (so that any
 * time set by the run is told apart from them, see OLD_TIME).
 */
#include "exerciser.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

static const struct {
	const char *path;
	long size;
} files[] = {
	{"f0", 3000},	  {"f1", 20000},     {"f2", 0},	    {"big0", 1200000},
	{"big1", 700000}, {"d0/f0", 5000},   {"d0/f1", 10}, {"d0/big0", 900000},
	{"d1/f0", 100},	  {"d1/d2/f0", 100},
};

static const char *const dirs[] = {"d0", "d1", "d1/d2", "d3"};

/* Every name made, children before their directories (for the times). */
static const char *const all[] = {
	"d1/d2/f0", "d0/f0", "d0/f1", "d0/big0", "d0/hl", "d1/f0", "d1/hb",
	"d1/d2",    "f0",    "f1",    "f2",	 "big0",  "big1",  "sp",
	"l0",	    "l1",    "ld",    "d0",	 "d1",	  "d3",	   ".",
};

static int fail(const char *what, const char *p)
{
	fprintf(stderr, "exerciser: --make-base: %s %s: %s\n", what, p,
		strerror(errno));
	return -1;
}

/* Bytes that depend on the file's name and offset only. */
static int write_file(int dir, const char *p, long size, unsigned char *buf)
{
	uint64_t v = 0x9e3779b97f4a7c15ULL;
	long i;
	int fd;

	for (i = 0; p[i]; i++)
		v = (v ^ (unsigned char)p[i]) * 0x100000001b3ULL;
	for (i = 0; i < size; i++) {
		v ^= v << 13;
		v ^= v >> 7;
		v ^= v << 17;
		buf[i] = (unsigned char)(v >> 32);
	}
	fd = openat(dir, p, O_WRONLY | O_CREAT | O_EXCL, 0644);
	if (fd < 0 || write(fd, buf, (size_t)size) != size || close(fd) < 0)
		return fail("write", p);
	return 0;
}

static int make_sparse(int dir, unsigned char *buf)
{
	int fd = openat(dir, "sp", O_WRONLY | O_CREAT | O_EXCL, 0644);

	memset(buf, 's', 70000);
	if (fd < 0 || pwrite(fd, buf, 4000, 400000) != 4000 ||
	    pwrite(fd, buf, 70000, 900000) != 70000 ||
	    ftruncate(fd, 1000000) < 0 || close(fd) < 0)
		return fail("write", "sp");
	return 0;
}

static int make_names(int dir)
{
	if (linkat(dir, "f1", dir, "d0/hl", 0) < 0 ||
	    linkat(dir, "big1", dir, "d1/hb", 0) < 0)
		return fail("link", "f1/big1");
	if (symlinkat("f0", dir, "l0") < 0 ||
	    symlinkat("nowhere", dir, "l1") < 0 ||
	    symlinkat("d1", dir, "ld") < 0)
		return fail("symlink", "l0/l1/ld");
	if (fchmodat(dir, "d0/f0", 0600, 0) < 0 ||
	    fchmodat(dir, "d1/f0", 0640, 0) < 0 ||
	    fchmodat(dir, "d3", 0700, 0) < 0 ||
	    fchownat(dir, "d1/f0", 1000, 1000, 0) < 0)
		return fail("chmod/chown", "d0/f0, d1/f0, d3");
	if (fsetxattr(dir, "user.k2", "group", 5, 0) < 0)
		return fail("setxattr", ".");
	return 0;
}

static int set_xattr(int dir, const char *p, const char *name, const void *val,
		     size_t len)
{
	char path[4200];

	snprintf(path, sizeof(path), "/proc/self/fd/%d/%s", dir, p);
	return lsetxattr(path, name, val, len, 0) < 0 ? fail("setxattr", p) : 0;
}

static int set_times(int dir)
{
	size_t k;

	for (k = 0; k < sizeof(all) / sizeof(all[0]); k++) {
		struct timespec ts[2] = {
			{1100000000 + (time_t)k * 1000, 1000 * (long)k},
			{1200000000 + (time_t)k * 1000, 7 + 1000 * (long)k},
		};
		if (utimensat(dir, all[k], ts, AT_SYMLINK_NOFOLLOW) < 0)
			return fail("utimensat", all[k]);
	}
	return 0;
}

static int make_group(int top, const char *name, unsigned char *buf)
{
	size_t k;
	int dir;

	if (mkdirat(top, name, 0755) < 0 ||
	    (dir = openat(top, name, O_RDONLY | O_DIRECTORY)) < 0)
		return fail("mkdir", name);
	for (k = 0; k < sizeof(dirs) / sizeof(dirs[0]); k++)
		if (mkdirat(dir, dirs[k], 0755) < 0)
			return fail("mkdir", dirs[k]);
	for (k = 0; k < sizeof(files) / sizeof(files[0]); k++)
		if (write_file(dir, files[k].path, files[k].size, buf) < 0)
			return -1;
	memset(buf, 'x', 500);
	if (make_sparse(dir, buf) < 0 || make_names(dir) < 0 ||
	    set_xattr(dir, "f1", "user.k0", "base", 4) < 0 ||
	    set_xattr(dir, "d0", "user.k1", "dir", 3) < 0 ||
	    set_xattr(dir, "big0", "user.k2", buf, 500) < 0 ||
	    set_times(dir) < 0)
		return -1;
	close(dir);
	return 0;
}

int ex_make_base(const char *top, int jobs, bool pair)
{
	unsigned char *buf = malloc(MAX_DATA);
	int dir = open(top, O_RDONLY | O_DIRECTORY), k, ret = 0;
	char name[16];

	if (dir < 0 || !buf)
		return fail("open", top);
	umask(022);
	for (k = 0; k < jobs + pair && ret == 0; k++) {
		snprintf(name, sizeof(name), "w%d", k);
		ret = make_group(dir, k < jobs ? name : "p", buf);
	}
	close(dir);
	free(buf);
	return ret;
}
