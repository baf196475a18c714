// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The control socket's request format (see control.c): NUL-separated
 * fields "OP", "FLAGS", then zero or more paths, the whole NUL-terminated
 * at @len by the reader. Kept apart from the daemon so that it can be
 * fuzzed on its own.
 */
#include "control_proto.h"

#include <errno.h>
#include <string.h>

int cow_control_parse(const char *req, size_t len, struct cow_control_req *r)
{
	const char *end = req + len, *flags;

	memset(r, 0, sizeof(*r));
	if (!memchr(req, '\0', len))
		return -EINVAL; /* the op is not even terminated */
	flags = req + strlen(req) + 1;
	if (flags >= end || (strcmp(req, "commit") && strcmp(req, "discard")))
		return -EINVAL;
	r->op = req;
	r->dry_run = !strcmp(flags, "dry-run");
	if (!r->dry_run && flags[0])
		return -EINVAL; /* unknown flags */
	r->paths = flags + strlen(flags) + 1;
	r->end = end;
	if (r->paths > end)
		return -EINVAL;
	return 0;
}
