// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Files of the view that programs have open or mapped, found in /proc.
 *
 * When the kernel sends no OPEN and RELEASE (cow_fs.on_demand), the daemon
 * keeps no count of handles, so a discard that must refuse open files asks
 * /proc: /proc/PID/fdinfo/N names the mount and the inode number of each
 * descriptor, /proc/PID/maps the device and inode number of each mapping.
 * The mount is the last cowfs mount at the daemon's mount point in
 * /proc/self/mountinfo. Processes the daemon may not look into (other
 * users', for a daemon that is not root) are not seen.
 */
#include "daemon.h"

#include "array.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <unistd.h>

struct in_use {
	int mnt_id;
	unsigned int major, minor;
	uint64_t *keys;
	size_t n, cap;
};

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static void unescape(char *s)
{
	char *out = s;

	for (; *s; s++) {
		if (s[0] == '\\' && isdigit((unsigned char)s[1]) &&
		    isdigit((unsigned char)s[2]) &&
		    isdigit((unsigned char)s[3])) {
			*out++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 +
					(s[3] - '0'));
			s += 3;
		} else {
			*out++ = *s;
		}
	}
	*out = '\0';
}

/* One mountinfo line: the mount's id and device when it is a cowfs mount
 * at @mnt. */
static bool our_mount(char *line, const char *mnt, struct in_use *u)
{
	char point[PATH_MAX], *sep = strstr(line, " - ");
	unsigned int major, minor;
	int id;

	if (!sep || strncmp(sep + 3, "fuse.cowfs ", 11) ||
	    sscanf(line, "%d %*d %u:%u %*s %4095s", &id, &major, &minor,
		   point) != 4)
		return false;
	unescape(point);
	if (strcmp(point, mnt))
		return false;
	u->mnt_id = id;
	u->major = major;
	u->minor = minor;
	return true;
}

/* @mnt: resolved before the mount (a lookup now would ask this daemon). */
static int find_mount(const char *mnt, struct in_use *u)
{
	char line[2 * PATH_MAX];
	bool found = false;
	FILE *f;

	if (!mnt)
		return -ENOENT;
	f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		found |= our_mount(line, mnt, u); /* the last one is on top */
	fclose(f);
	return found ? 0 : -ENOENT;
}

static int add_key(struct in_use *u, uint64_t key)
{
	uint64_t *keys = cow_grow(u->keys, &u->cap, u->n, sizeof(*keys), 64);

	if (!keys)
		return -ENOMEM;
	u->keys = keys;
	u->keys[u->n++] = key;
	return 0;
}

/* The inode number of descriptor @name of /proc/PID/fdinfo (@dirfd) when
 * it is on our mount, 0 otherwise. */
static uint64_t fd_key(int dirfd, const char *name, const struct in_use *u)
{
	char buf[4096];
	unsigned long long ino = 0;
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC), mnt = -1;
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
	const char *p;

	if (fd >= 0)
		close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	p = strstr(buf, "\nmnt_id:");
	if (p)
		mnt = atoi(p + 8);
	p = strstr(buf, "\nino:");
	if (p)
		ino = strtoull(p + 5, NULL, 10);
	return mnt == u->mnt_id ? ino : 0;
}

static int scan_fds(int pidfd, struct in_use *u)
{
	int dirfd = openat(pidfd, "fdinfo", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = dirfd < 0 ? NULL : fdopendir(dirfd);
	struct dirent *de;
	int ret = 0;

	if (!d) {
		if (dirfd >= 0)
			close(dirfd);
		return 0; /* gone, or not ours to look into */
	}
	while (ret == 0 && (de = readdir(d))) {
		uint64_t key =
			de->d_name[0] == '.' ? 0 : fd_key(dirfd, de->d_name, u);
		if (key)
			ret = add_key(u, key);
	}
	closedir(d);
	return ret;
}

static int scan_maps(int pidfd, struct in_use *u)
{
	int fd = openat(pidfd, "maps", O_RDONLY | O_CLOEXEC);
	FILE *f = fd < 0 ? NULL : fdopen(fd, "re");
	char line[PATH_MAX + 128];
	int ret = 0;

	if (!f) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	while (ret == 0 && fgets(line, sizeof(line), f)) {
		unsigned int major, minor;
		unsigned long long ino;

		if (sscanf(line, "%*s %*s %*s %x:%x %llu", &major, &minor,
			   &ino) == 3 &&
		    major == u->major && minor == u->minor && ino)
			ret = add_key(u, ino);
	}
	fclose(f);
	return ret;
}

static int cmp_key(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int scan_processes(struct in_use *u)
{
	DIR *proc = opendir("/proc");
	struct dirent *de;
	int ret = 0;

	if (!proc)
		return -errno;
	while (ret == 0 && (de = readdir(proc))) {
		int pidfd;

		if (!isdigit((unsigned char)de->d_name[0]) ||
		    atoi(de->d_name) == getpid())
			continue;
		pidfd = openat(dirfd(proc), de->d_name,
			       O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (pidfd < 0)
			continue; /* it ended meanwhile */
		ret = scan_fds(pidfd, u);
		if (ret == 0)
			ret = scan_maps(pidfd, u);
		close(pidfd);
	}
	closedir(proc);
	return ret;
}

int cow_in_use_scan(const char *mnt, uint64_t **keys, size_t *n)
{
	struct in_use u = {0};
	int ret = find_mount(mnt, &u);

	if (ret == 0)
		ret = scan_processes(&u);
	if (ret < 0) {
		free(u.keys);
		return ret;
	}
	if (u.n)
		qsort(u.keys, u.n, sizeof(*u.keys), cmp_key);
	*keys = u.keys;
	*n = u.n;
	return 0;
}
