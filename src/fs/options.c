// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Mount options (-o a,b=c): cowfs' own, the overlay-style lowerdir/
 * upperdir/workdir, and the generic ones mount(8) and fstab pass along,
 * which are accepted and ignored. Anything else is refused by name.
 */
#include "daemon.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const ignored[] = {
	"rw",	 "defaults", "auto",	   "noauto",   "nofail",  "_netdev",
	"user",	 "users",    "nouser",	   "atime",    "noatime", "relatime",
	"async", "sync",     "nodiratime", "diratime", NULL,
};

static bool is_ignored(const char *opt)
{
	size_t i;

	if (!strncmp(opt, "x-", 2) || !strncmp(opt, "fsname=", 7) ||
	    !strncmp(opt, "subtype=", 8) || !strcmp(opt, "default_permissions"))
		return true;
	for (i = 0; ignored[i]; i++)
		if (!strcmp(opt, ignored[i]))
			return true;
	return false;
}

/* dev/nodev, suid/nosuid, exec/noexec: passed to the kernel mount */
static bool mount_flag(const char *opt, struct cow_opts *o)
{
	static const char *const names[] = {"dev", "suid", "exec"};
	int *flags[] = {&o->dev, &o->suid, &o->exec};
	bool no = !strncmp(opt, "no", 2);
	size_t i;

	for (i = 0; i < 3; i++)
		if (!strcmp(opt + (no ? 2 : 0), names[i])) {
			*flags[i] = !no;
			return true;
		}
	return false;
}

static int on_off(const char *val, bool *out)
{
	if (!strcmp(val, "on") || !strcmp(val, "yes") || !strcmp(val, "1"))
		*out = true;
	else if (!strcmp(val, "off") || !strcmp(val, "no") || !strcmp(val, "0"))
		*out = false;
	else
		return -EINVAL;
	return 0;
}

/* "4096", "64K", "1M", "2G" */
static int parse_size(const char *val, unsigned long long *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(val, &end, 10);
	if (errno || end == val || val[0] == '-')
		return -EINVAL;
	switch (*end) {
	case 'G':
	case 'g':
		v <<= 10;
		/* fall through */
	case 'M':
	case 'm':
		v <<= 10;
		/* fall through */
	case 'K':
	case 'k':
		v <<= 10;
		end++;
		break;
	default:
		break;
	}
	if (*end)
		return -EINVAL;
	*out = v;
	return 0;
}

/* warn=PERCENT, repeatable: 1 to 100, at most 8 thresholds */
static int warn_opt(const char *val, struct cow_opts *o)
{
	char *end;
	long pct = strtol(val, &end, 10);

	if (*end == '%')
		end++;
	if (*end || end == val || pct < 1 || pct > 100 || o->nwarn == 8)
		return -EINVAL;
	o->warn_pct[o->nwarn++] = (unsigned char)pct;
	return 0;
}

/* exclude=PATTERN, repeatable: a relative path pattern, no ".." */
static int exclude_opt(const char *val, struct cow_opts *o)
{
	if (!val[0] || val[0] == '/' || strstr(val, "..") || o->nexclude == 64)
		return -EINVAL;
	o->exclude[o->nexclude] = strdup(val);
	return o->exclude[o->nexclude++] ? 0 : -ENOMEM;
}

static int chunk_opts(const char *opt, const char *val, struct cow_opts *o)
{
	unsigned long long v;

	if (!strcmp(opt, "completer") && !strcmp(val, "off")) {
		o->completer_rate = 0;
		return 0;
	}
	if (parse_size(val, &v) < 0)
		return -EINVAL;
	if (!strcmp(opt, "chunk_size")) {
		if (v < 4096 || v > (1ull << 30) || (v & (v - 1)))
			return -EINVAL;
		o->chunk_size = v;
	} else if (!strcmp(opt, "chunk_threshold")) {
		o->chunk_threshold = v;
	} else {
		/* completer=RATE, in MiB per second (suffixes allowed) */
		o->completer_rate =
			(unsigned long)(strchr("KkMmGg", val[strlen(val) - 1])
						? v
						: v << 20);
	}
	return 0;
}

static int one_opt(char *opt, struct cow_opts *o)
{
	char *val = strchr(opt, '=');
	char *end;

	if (val)
		*val++ = '\0';
	if (!val && mount_flag(opt, o))
		return 0;
	if (!strcmp(opt, "allow_other") && !val)
		o->allow_other = true;
	else if (!strcmp(opt, "userxattr") && !val)
		o->userxattr = true;
	else if (!strcmp(opt, "volatile") && !val)
		o->volatile_store = true;
	else if (!strcmp(opt, "store_limit") && val)
		return parse_size(val, &o->store_limit) < 0 || !o->store_limit
			       ? -EINVAL
			       : 0;
	else if (!strcmp(opt, "warn") && val)
		return warn_opt(val, o);
	else if (!strcmp(opt, "exclude") && val)
		return exclude_opt(val, o);
	else if (!strcmp(opt, "lowerdir") && val)
		o->base = strdup(val);
	else if (!strcmp(opt, "upperdir") && val)
		o->upper = strdup(val);
	else if (!strcmp(opt, "workdir") && val)
		o->work = strdup(val);
	else if (!strcmp(opt, "writeback") && val)
		return on_off(val, &o->writeback);
	else if (!strcmp(opt, "fsync") && val)
		return on_off(val, &o->fsync);
	else if (!strcmp(opt, "opens") && val) {
		bool on;
		if (on_off(val, &on) < 0)
			return -EINVAL;
		o->opens = on;
	} else if (!strcmp(opt, "cache") && val && !strcmp(val, "auto"))
		o->cache = true;
	else if (!strcmp(opt, "cache") && val && !strcmp(val, "never"))
		o->cache = false;
	else if ((!strcmp(opt, "chunk_size") || !strcmp(opt, "completer") ||
		  !strcmp(opt, "chunk_threshold")) &&
		 val)
		return chunk_opts(opt, val, o);
	else if (!strcmp(opt, "max_dirs") && val) {
		o->max_dirs = strtol(val, &end, 10);
		if (*end || end == val || o->max_dirs < 0)
			return -EINVAL;
	} else if (!strcmp(opt, "max_files") && val) {
		o->max_files = strtol(val, &end, 10);
		if (*end || end == val || o->max_files < 1)
			return -EINVAL;
	} else if (!strcmp(opt, "timeout") && val) {
		o->timeout = strtod(val, &end);
		if (*end || end == val || o->timeout < 0)
			return -EINVAL;
	} else if (val) {
		val[-1] = '=';
		return is_ignored(opt) ? 0 : -EINVAL;
	} else {
		return is_ignored(opt) ? 0 : -EINVAL;
	}
	return 0;
}

int cow_parse_opts(const char *list, struct cow_opts *o, char *why,
		   size_t whylen)
{
	char *copy = strdup(list), *save = NULL, *opt;
	int ret = 0;

	if (!copy)
		return -ENOMEM;
	for (opt = strtok_r(copy, ",", &save); opt && ret == 0;
	     opt = strtok_r(NULL, ",", &save)) {
		char shown[256];
		snprintf(shown, sizeof(shown), "%s", opt);
		ret = one_opt(opt, o);
		if (ret < 0)
			snprintf(why, whylen,
				 "unknown or malformed option '%s'", shown);
	}
	free(copy);
	return ret;
}

void cow_opts_free(struct cow_opts *o)
{
	while (o->nexclude > 0)
		free(o->exclude[--o->nexclude]);
}
