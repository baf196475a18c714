// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The exerciser's operations on names and metadata, done alike on both
 * sides: rename (with RENAME_NOREPLACE and RENAME_EXCHANGE), unlink,
 * rmdir, mkdir, link, symlink; chmod, chown, utimensat by name and by
 * descriptor; extended attributes set, read, listed and removed.
 */
#include "exerciser.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

/* Symlink targets: names inside the group's directory, so that groups
 * never meet, or a name under a directory that does not exist, so that
 * nothing is made outside the trees. */
const char *const ex_targets[] = {
	"f0",	"d1",	 "d1/../f1", "nowhere",
	"big0", "d0/f0", "ld/f0",    "/nonexistent-cowfs-exerciser/x",
};
const int ex_ntargets = sizeof(ex_targets) / sizeof(ex_targets[0]);

/* trusted.* too: cowfs reserves only its own names. */
const char *const ex_xnames[] = {"user.k0", "user.k1", "user.k2", "trusted.k3"};
const int ex_nxnames = sizeof(ex_xnames) / sizeof(ex_xnames[0]);

static ino_t oracle_ino(struct ex *x, long long idx)
{
	struct stat st;

	if (idx < 0 ||
	    fstatat(x->root[1], ex_paths[idx], &st, AT_SYMLINK_NOFOLLOW) < 0)
		return 0;
	return st.st_ino;
}

/* Every slot open on the file that had inode @ino in the oracle. */
static void verify_slots_of(struct ex *x, ino_t ino)
{
	int k;

	for (k = 0; ino && k < NSLOT; k++)
		if (x->slot[k].used && x->slot[k].ino[1] == ino) {
			ex_verify_file(x, &x->slot[k]);
			return;
		}
}

static void namespace_call(struct ex *x, const struct op *op, long *r, int *e)
{
	const char *pa = op->a >= 0 ? ex_paths[op->a] : NULL;
	const char *pb = op->b >= 0 ? ex_paths[op->b] : NULL;
	unsigned int fl = (unsigned int)op->flags;

	switch (op->kind) {
	case OP_RENAME:
		BOTH(r, e, renameat2(x->root[i], pa, x->root[i], pb, fl));
		break;
	case OP_UNLINK:
		BOTH(r, e, unlinkat(x->root[i], pa, 0));
		break;
	case OP_RMDIR:
		BOTH(r, e, unlinkat(x->root[i], pa, AT_REMOVEDIR));
		break;
	case OP_MKDIR:
		BOTH(r, e, mkdirat(x->root[i], pa, (mode_t)op->mode));
		break;
	case OP_LINK:
		BOTH(r, e, linkat(x->root[i], pa, x->root[i], pb, (int)fl));
		break;
	default:
		ex_note(x, " -> %s", ex_targets[op->name]);
		BOTH(r, e, symlinkat(ex_targets[op->name], x->root[i], pb));
		break;
	}
}

void ex_exec_namespace(struct ex *x, const struct op *op)
{
	ino_t ia = oracle_ino(x, op->a), ib = oracle_ino(x, op->b);
	int e[2];
	long r[2];

	namespace_call(x, op, r, e);
	ex_same(x, ex_types[op->kind].name, r[0], e[0], r[1], e[1]);
	if (op->a >= 0) {
		ex_verify(x, (int)op->a);
		ex_verify_parent(x, (int)op->a);
	}
	if (op->b >= 0) {
		ex_verify(x, (int)op->b);
		ex_verify_parent(x, (int)op->b);
	}
	verify_slots_of(x, ia);
	verify_slots_of(x, ib);
}

static void meta_call(struct ex *x, const struct op *op, struct slot *s,
		      long *r, int *e)
{
	const char *p = s ? NULL : ex_paths[op->a];
	struct timespec ts[2] = {{op->t0, op->n0}, {op->t1, op->n1}};
	const struct timespec *tp = op->null ? NULL : ts;
	uid_t uid = (uid_t)op->uid;
	gid_t gid = (gid_t)op->gid;
	int nf = (int)op->flags;

	if (op->kind == OP_CHMOD)
		BOTH(r, e,
		     s ? fchmod(s->fd[i], (mode_t)op->mode)
		       : fchmodat(x->root[i], p, (mode_t)op->mode, 0));
	else if (op->kind == OP_CHOWN)
		BOTH(r, e,
		     s ? fchown(s->fd[i], uid, gid)
		       : fchownat(x->root[i], p, uid, gid, nf));
	else
		BOTH(r, e,
		     s ? futimens(s->fd[i], tp)
		       : utimensat(x->root[i], p, tp, nf));
}

/*
 * Under the writeback cache, FUSE writes a file's dirty pages back before
 * it changes its mode, owner or times, so a page written through a shared
 * mapping afterwards faults again and changes the modification time;
 * ext4 does not, and a write to a page still dirty leaves the time alone.
 * The oracle's pages go back too, so both see the same faults.
 */
static void oracle_writeback(struct ex *x, const struct slot *s,
			     const struct op *op)
{
	struct stat st;
	int fd = s ? s->fd[1]
		   : openat(x->root[1], ex_paths[op->a],
			    O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);

	if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
		fdatasync(fd);
	if (!s && fd >= 0)
		close(fd);
}

/* The slot @op names, or none when it names a path; false: skip it. */
static bool slot_or_path(struct ex *x, const struct op *op, struct slot **s,
			 int *idx)
{
	*s = NULL;
	*idx = (int)op->a;
	if (op->s < 0)
		return op->a >= 0;
	*s = ex_slot(x, op->s);
	if (*s)
		*idx = (*s)->path;
	return *s != NULL;
}

void ex_exec_meta(struct ex *x, const struct op *op)
{
	struct slot *s;
	int idx, e[2];
	long r[2];
	ino_t ino;

	if (!slot_or_path(x, op, &s, &idx))
		return;
	ino = oracle_ino(x, idx);
	oracle_writeback(x, s, op);
	meta_call(x, op, s, r, e);
	ex_same(x, ex_types[op->kind].name, r[0], e[0], r[1], e[1]);
	if (s)
		ex_verify_file(x, s);
	ex_verify(x, idx);
	verify_slots_of(x, ino);
}

/*
 * `cowfs commit VIEW GROUP/NAME`: BASE takes the change (or the command
 * refuses it); either way the view, and so the comparison with the
 * oracle, must be as before.
 */
void ex_exec_commit(struct ex *x, const struct op *op)
{
	char path[4096];
	int status;
	pid_t pid;

	if (!x->cowfs)
		ex_fail(x, "a commit needs --commit COWFS");
	snprintf(path, sizeof(path), "%s/%s", x->dir, ex_paths[op->a]);
	pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);
		dup2(null, 1);
		dup2(null, 2);
		execl(x->cowfs, x->cowfs, "commit", x->view, path,
		      (char *)NULL);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		ex_fail(x, "cannot run %s: %s", x->cowfs, strerror(errno));
	if (!WIFEXITED(status) || WEXITSTATUS(status) > 1)
		ex_fail(x, "%s commit %s: status %#x", x->cowfs, path, status);
	ex_note(x, " = %d", WEXITSTATUS(status));
	x->log->commits++;
	ex_after_commits(x);
	ex_verify_all(x);
}

/*
 * A copy renamed away from a BASE file that a commit deleted takes its
 * store inode's number (README: inode numbers after a commit): open files
 * are known by their number as it is after the last commit of the group.
 */
void ex_after_commits(struct ex *x)
{
	int k;

	if (x->commits_seen == x->log->commits)
		return;
	x->commits_seen = x->log->commits;
	for (k = 0; k < NSLOT; k++) {
		struct stat st;
		if (x->slot[k].used && fstat(x->slot[k].fd[0], &st) == 0)
			x->slot[k].ino[0] = st.st_ino;
	}
}
