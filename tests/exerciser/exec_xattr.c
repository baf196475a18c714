// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The exerciser's extended attribute operations, by name (l*xattr through
 * /proc/self/fd/ROOT/NAME, so symlinks are not followed) or through an open
 * descriptor, done alike on both sides. Listings are compared by
 * ex_verify, user.* names only: the view hides cowfs' own names. A set
 * that fails in the view with ENOSPC for the room cowfs' own take (see
 * oracle_xattr_bytes) is taken back in the oracle.
 */
#include "exerciser.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/xattr.h>
#include <unistd.h>

/* The path of @op's object on side @k (for the l*xattr calls). */
static void side_path(struct ex *x, const struct op *op, int k, char *p,
		      size_t size)
{
	snprintf(p, size, "/proc/self/fd/%d/%s", x->root[k], ex_paths[op->a]);
}

/*
 * ext4 holds a file's xattrs in its inode and one 4 KiB block. The copy in
 * STORE also holds cowfs' own (origin, link count, metacopy, redirect), so
 * a set the oracle's file has room for only without them fails in the
 * view with ENOSPC, a limit README names. Bytes the oracle's xattrs take
 * as ext4 counts them (16 per entry, name and value padded to 4).
 */
#define XATTR_SPACE  4064 /* a block less its header and end mark */
#define XATTR_MARGIN 320  /* what cowfs' own may take */

static long oracle_xattr_bytes(struct ex *x, const struct op *op,
			       struct slot *s)
{
	char names[4096], p[4200], *n;
	ssize_t len, v;
	long sum = 0;

	if (!s)
		side_path(x, op, 1, p, sizeof(p));
	len = s ? flistxattr(s->fd[1], names, sizeof(names))
		: llistxattr(p, names, sizeof(names));
	for (n = names; len > 0 && n < names + len; n += strlen(n) + 1) {
		v = s ? fgetxattr(s->fd[1], n, NULL, 0)
		      : lgetxattr(p, n, NULL, 0);
		sum += 16 +
		       (long)((strlen(n) - strcspn(n, ".") - 1 + 3) & ~3UL) +
		       (long)(((size_t)(v > 0 ? v : 0) + 3) & ~3UL);
	}
	return sum;
}

/* Undoes the oracle's set of @op's name: back to @old (@old_len, or < 0:
 * none). */
static void oracle_undo_set(struct ex *x, const struct op *op, struct slot *s,
			    const void *old, ssize_t old_len)
{
	const char *name = ex_xnames[op->name];
	char p[4200];

	if (!s)
		side_path(x, op, 1, p, sizeof(p));
	if (old_len < 0 && s)
		fremovexattr(s->fd[1], name);
	else if (old_len < 0)
		lremovexattr(p, name);
	else if (s)
		fsetxattr(s->fd[1], name, old, (size_t)old_len, 0);
	else
		lsetxattr(p, name, old, (size_t)old_len, 0);
}

/* The oracle's value of @op's name into @buf: its length, or -1. */
static ssize_t oracle_get(struct ex *x, const struct op *op, struct slot *s,
			  void *buf, size_t size)
{
	const char *name = ex_xnames[op->name];
	char p[4200];

	if (s)
		return fgetxattr(s->fd[1], name, buf, size);
	side_path(x, op, 1, p, sizeof(p));
	return lgetxattr(p, name, buf, size);
}

static void xattr_call(struct ex *x, const struct op *op, struct slot *s,
		       long *r, int *e)
{
	const char *name = ex_xnames[op->name];
	size_t len = (size_t)op->len;
	char p[2][4200];
	int k;

	for (k = 0; k < 2 && !s; k++)
		side_path(x, op, k, p[k], sizeof(p[k]));
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
	char old[4096];
	ssize_t old_len = -1;

	if (op->s >= 0 && !(s = ex_slot(x, op->s)))
		return;
	if (s)
		idx = s->path;
	if (op->kind != OP_LISTXATTR)
		ex_note(x, " %s", ex_xnames[op->name]);
	if (op->kind == OP_SETXATTR)
		old_len = oracle_get(x, op, s, old, sizeof(old));
	xattr_call(x, op, s, r, e);
	if (op->kind == OP_SETXATTR && r[0] < 0 && e[0] == ENOSPC &&
	    r[1] == 0 &&
	    oracle_xattr_bytes(x, op, s) > XATTR_SPACE - XATTR_MARGIN) {
		ex_note(x, " (no room beside cowfs' own xattrs: README)");
		oracle_undo_set(x, op, s, old, old_len);
		r[1] = r[0];
		e[1] = e[0];
	}
	ex_same(x, ex_types[op->kind].name, r[0], e[0], r[1], e[1]);
	if (op->kind == OP_GETXATTR && r[0] > 0 && op->len &&
	    memcmp(x->buf[0], x->buf[1], (size_t)r[0]))
		ex_fail(x, "the values differ");
	if (s)
		ex_verify_file(x, s);
	ex_verify(x, idx);
}
