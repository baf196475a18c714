/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The control socket's request format (control_proto.c). */
#ifndef COW_CONTROL_PROTO_H
#define COW_CONTROL_PROTO_H

#include <stdbool.h>
#include <stddef.h>

struct cow_control_req {
	const char *op; /* "commit" or "discard" */
	bool dry_run;
	/* paths: NUL-terminated strings from @paths up to @end */
	const char *paths, *end;
};

/* @req holds @len bytes and a NUL at req[len]. 0 or -EINVAL. */
int cow_control_parse(const char *req, size_t len, struct cow_control_req *r);

#endif
