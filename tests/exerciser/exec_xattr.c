// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The exerciser's extended attribute operations, by name (l*xattr through
 * /proc/self/fd/ROOT/NAME, so symlinks are not followed) or through an open
 * descriptor, done alike on both sides. Listings are compared by
 * ex_verify, user.* names only: the view hides cowfs' own names.
 */
#include "exerciser.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/xattr.h>
#include <unistd.h>

static void xattr_call(struct ex *x, const struct op *op, struct slot *s,
		       long *r, int *e)
{
	const char *name = ex_xnames[op->name];
	size_t len = (size_t)op->len;
	char p[2][4200];
	int k;

	for (k = 0; k < 2 && !s; k++)
		snprintf(p[k], sizeof(p[k]), "/proc/self/fd/%d/%s", x->root[k],
			 ex_paths[op->a]);
	switch (op->kind) {
	case OP_SETXATTR:
		ex_fill(x, (uint64_t)op->d, len);
		BOTH(r, e,
		     s ? fsetxattr(s->fd[i], name, x->data, len, (int)op->flags)
		       : lsetxattr(p[i], name, x->data, len, (int)op->flags));
		break;
	case OP_GETXATTR:
		BOTH(r, e,
		     s ? fgetxattr(s->fd[i], name, x->buf[i], len)
		       : lgetxattr(p[i], name, x->buf[i], len));
		break;
	case OP_REMOVEXATTR:
		BOTH(r, e,
		     s ? fremovexattr(s->fd[i], name)
		       : lremovexattr(p[i], name));
		break;
	default:
		BOTH(r, e,
		     s ? flistxattr(s->fd[i], (char *)x->buf[i], 4096)
		       : llistxattr(p[i], (char *)x->buf[i], 4096));
		/* only whether it worked: the sizes include hidden names */
		r[0] = r[0] < 0 ? -1 : 0;
		r[1] = r[1] < 0 ? -1 : 0;
	}
}

void ex_exec_xattr(struct ex *x, const struct op *op)
{
	struct slot *s = NULL;
	int idx = (int)op->a, e[2];
	long r[2];

	if (op->s >= 0 && !(s = ex_slot(x, op->s)))
		return;
	if (s)
		idx = s->path;
	if (op->kind != OP_LISTXATTR)
		ex_note(x, " %s", ex_xnames[op->name]);
	xattr_call(x, op, s, r, e);
	ex_same(x, ex_types[op->kind].name, r[0], e[0], r[1], e[1]);
	if (op->kind == OP_GETXATTR && r[0] > 0 && op->len &&
	    memcmp(x->buf[0], x->buf[1], (size_t)r[0]))
		ex_fail(x, "the values differ");
	if (s)
		ex_verify_file(x, s);
	ex_verify(x, idx);
}
