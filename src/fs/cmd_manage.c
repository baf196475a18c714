// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * `cowfs commit [--dry-run] TARGET PATH...`, `cowfs discard [--dry-run]
 * TARGET PATH...` and `cowfs reset TARGET`. A mounted view's daemon does
 * the work (through the control socket in its store, so that its caches
 * follow); an unmounted store is opened here, locked against a mount for
 * the duration.
 */
#include "cli.h"
#include "daemon.h"

#include "manage.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

struct request {
	const char *op; /* "commit" or "discard" */
	bool dry_run;
	const char **paths; /* relative to the view's root */
	int npaths;
};

/* Sends the request and prints the answer; 0 when it ends with "ok". */
static int over_socket(int fd, const struct request *rq)
{
	char buf[4096], last[4096] = "";
	size_t have = 0;
	ssize_t n;
	int i, ok = 0;

	send(fd, rq->op, strlen(rq->op) + 1, MSG_NOSIGNAL);
	send(fd, rq->dry_run ? "dry-run" : "", rq->dry_run ? 8 : 1,
	     MSG_NOSIGNAL);
	for (i = 0; i < rq->npaths; i++)
		send(fd, rq->paths[i], strlen(rq->paths[i]) + 1, MSG_NOSIGNAL);
	shutdown(fd, SHUT_WR);
	while ((n = recv(fd, buf + have, sizeof(buf) - 1 - have, 0)) > 0) {
		char *line = buf, *nl;
		have += (size_t)n;
		buf[have] = '\0';
		while ((nl = strchr(line, '\n'))) {
			*nl = '\0';
			ok = !strcmp(line, "ok");
			if (!strncmp(line, "error: ", 7))
				fprintf(stderr, "cowfs: %s\n", line + 7);
			else if (!ok)
				printf("%s\n", line);
			snprintf(last, sizeof(last), "%s", line);
			line = nl + 1;
		}
		have = strlen(line);
		memmove(buf, line, have);
		if (have == sizeof(buf) - 1)
			have = 0; /* an overlong line is dropped */
	}
	fflush(stdout);
	if (!last[0])
		fprintf(stderr, "cowfs: the daemon closed the connection\n");
	return ok ? 0 : 1;
}

static void print_line(void *ctx, const char *line)
{
	printf("%s\n", line);
	fflush(stdout);
}

int cow_cli_open_store(const struct cow_cli_target *t, struct cow_fs *fs)
{
	char why[PATH_MAX + 128] = "", meta[PATH_MAX], upper[PATH_MAX + 8];
	char *root;
	struct cow_store_paths paths = {0};
	int ret;

	snprintf(meta, sizeof(meta), "%s", t->meta);
	root = dirname(meta);
	snprintf(upper, sizeof(upper), "%s/upper", root);
	if (!strcmp(upper, t->upper))
		paths.store = root;
	else
		paths.upper = t->upper, paths.work = root;
	memset(fs, 0, sizeof(*fs));
	ret = cow_base_open(&fs->base, t->base, why, sizeof(why));
	if (ret == 0) {
		ret = cow_store_open(&fs->store, &paths, &fs->base,
				     t->userxattr, why, sizeof(why));
		if (ret < 0)
			cow_base_close(&fs->base);
	}
	if (ret < 0)
		return cow_fail("%s", why);
	if (cow_fs_init(fs) < 0 || cow_fs_make_root(fs) < 0) {
		cow_fs_destroy(fs);
		cow_store_close(&fs->store);
		cow_base_close(&fs->base);
		return cow_fail("cannot open the store of %s", t->base);
	}
	return 0;
}

static int offline(const struct cow_cli_target *t, const struct request *rq)
{
	struct cow_fs fs;
	struct cow_manage m = {.fs = &fs, .say = print_line};
	int i, ret = 0;

	if (cow_cli_open_store(t, &fs))
		return 1;
	m.dry_run = rq->dry_run;
	for (i = 0; i < rq->npaths && ret == 0; i++) {
		ret = !strcmp(rq->op, "commit") ? cow_commit(&m, rq->paths[i])
						: cow_discard(&m, rq->paths[i]);
		cow_inval_free(&fs, &m.inval);
	}
	if (ret < 0)
		cow_fail("%s", m.why[0] ? m.why : strerror(-ret));
	cow_cli_close_store(&fs);
	return ret < 0 ? 1 : 0;
}

void cow_cli_close_store(struct cow_fs *fs)
{
	cow_fs_destroy(fs);
	cow_store_close(&fs->store);
	cow_base_close(&fs->base);
}

/* Through the daemon when one serves this store, else here. */
static int dispatch(const struct cow_cli_target *t, const struct request *rq)
{
	int meta = open(t->meta, O_RDONLY | O_DIRECTORY | O_CLOEXEC), fd;
	struct stat st;

	if (meta < 0)
		return cow_fail("cannot open %s: %s", t->meta, strerror(errno));
	if (fstatat(meta, COW_CONTROL_NAME, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    geteuid() != 0 && st.st_uid != geteuid()) {
		close(meta);
		return cow_fail("the control socket in %s belongs to another "
				"user; refusing to use it",
				t->meta);
	}
	fd = cow_control_connect(meta);
	close(meta);
	if (fd >= 0) {
		int ret = over_socket(fd, rq);
		close(fd);
		return ret;
	}
	if (t->view[0])
		return cow_fail("cannot reach the daemon of %s: %s", t->view,
				strerror(-fd));
	return offline(t, rq);
}

/* Checks PATH arguments and makes them relative to the view's root. */
static int view_paths(const struct cow_cli_target *t, char **argv, int n,
		      const char **out)
{
	int i;

	for (i = 0; i < n; i++) {
		const char *rel = cow_cli_rel_path(t, argv[i]);
		if (argv[i][0] == '/' && rel == argv[i] + 1 && t->view[0])
			return cow_fail("%s is outside the view %s", argv[i],
					t->view);
		if (argv[i][0] == '/' && !t->view[0])
			return cow_fail("%s: give paths relative to the view's "
					"root for an unmounted store",
					argv[i]);
		if (!strcmp(rel, "..") || !strncmp(rel, "../", 3) ||
		    strstr(rel, "/../") || strstr(rel, "/.."))
			return cow_fail("%s: '..' is not allowed", argv[i]);
		out[i] = rel;
	}
	return 0;
}

int cow_cmd_manage(const char *cmd, int argc, char **argv)
{
	struct request rq = {.op = strcmp(cmd, "commit") ? "discard"
							 : "commit"};
	struct cow_cli_target t;
	const char *root = "";
	int first = 0, ret;

	if (argc > 0 && !strcmp(argv[0], "--dry-run") && strcmp(cmd, "reset"))
		rq.dry_run = true, first = 1;
	if (argc - first < 1 || argv[first][0] == '-' ||
	    (!strcmp(cmd, "reset") ? argc != 1 : argc - first < 2)) {
		fprintf(stderr, "cowfs: usage: cowfs %s (see cowfs --help)\n",
			!strcmp(cmd, "reset") ? "reset TARGET"
					      : "commit|discard [--dry-run] "
						"TARGET PATH...");
		return 2;
	}
	if (cow_cli_target(argv[first], &t) < 0)
		return 1;
	rq.npaths = !strcmp(cmd, "reset") ? 1 : argc - first - 1;
	rq.paths = calloc((size_t)rq.npaths, sizeof(*rq.paths));
	if (!rq.paths)
		ret = cow_fail("out of memory");
	else if (!strcmp(cmd, "reset"))
		rq.paths[0] = root, ret = 0;
	else
		ret = view_paths(&t, argv + first + 1, rq.npaths, rq.paths);
	if (ret == 0)
		ret = dispatch(&t, &rq);
	free(rq.paths);
	cow_cli_target_free(&t);
	return ret;
}
