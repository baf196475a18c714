// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * What an unprivileged mount needs from its environment, checked before
 * anything is touched so that each failure is named: fusermount3 present
 * and set-user-ID root, allow_other permitted by /etc/fuse.conf, and a
 * mount point the user owns and may write. Root needs none of these.
 */
#include "daemon.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* fusermount3 where libfuse runs it: its install directory, then PATH. */
static int find_fusermount(char *out, size_t len)
{
	const char *path = getenv("PATH");
	char *copy, *dir, *save = NULL;
	struct stat st;

	snprintf(out, len, "/usr/bin/fusermount3");
	if (stat(out, &st) == 0)
		return 0;
	copy = strdup(path ? path : "");
	for (dir = copy ? strtok_r(copy, ":", &save) : NULL; dir;
	     dir = strtok_r(NULL, ":", &save)) {
		snprintf(out, len, "%s/fusermount3", dir);
		if (stat(out, &st) == 0) {
			free(copy);
			return 0;
		}
	}
	free(copy);
	return -ENOENT;
}

static bool allow_other_permitted(void)
{
	char line[256];
	FILE *f = fopen("/etc/fuse.conf", "re");
	bool ok = false;

	while (f && !ok && fgets(line, sizeof(line), f))
		ok = !strncmp(line, "user_allow_other", 16) &&
		     strchr(" \t\r\n", line[16]);
	if (f)
		fclose(f);
	return ok;
}

int cow_env_check(const struct cow_opts *o)
{
	char fm[PATH_MAX + 16];
	struct stat st;

	if (geteuid() == 0)
		return 0;
	if (find_fusermount(fm, sizeof(fm)) < 0)
		return cow_fail("fusermount3 is not installed (package fuse3): "
				"unprivileged mounts need it");
	if (stat(fm, &st) == 0 && (!(st.st_mode & S_ISUID) || st.st_uid != 0))
		return cow_fail("%s is not set-user-ID root: unprivileged "
				"mounts need it",
				fm);
	if (o->allow_other && !allow_other_permitted())
		return cow_fail("allow_other is not permitted: add "
				"user_allow_other to /etc/fuse.conf, or mount "
				"as root");
	if (stat(o->mnt, &st) == 0 && st.st_uid != geteuid())
		return cow_fail("MOUNTPOINT %s belongs to uid %u: unprivileged "
				"mounts need a mount point of your own",
				o->mnt, (unsigned)st.st_uid);
	if (access(o->mnt, W_OK) < 0)
		return cow_fail("MOUNTPOINT %s is not writable by you: "
				"unprivileged mounts need write access to it",
				o->mnt);
	return 0;
}
