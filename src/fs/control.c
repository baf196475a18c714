// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The control socket (meta/control, mode 0600): `cowfs commit`, `discard`
 * and `reset` reach a mounted view's daemon through it. One request per
 * connection: NUL-separated fields "OP", "FLAGS", then the paths; the
 * client shuts its side down after sending. The daemon answers with text
 * lines, the last one "ok" or "error: REASON". Only the daemon's own user
 * (and root) is served.
 */
#include "daemon.h"

#include "control_proto.h"

#include "log.h"
#include "manage.h"
#include "sys.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define REQUEST_MAX (1 << 20)

static void send_line(void *ctx, const char *line)
{
	int fd = *(int *)ctx;
	size_t n = strlen(line);

	if (send(fd, line, n, MSG_NOSIGNAL) == (ssize_t)n)
		send(fd, "\n", 1, MSG_NOSIGNAL);
}

void cow_tell_kernel(struct cow_daemon *d, struct cow_inval *inv)
{
	size_t i;

	for (i = 0; i < inv->nodes.count; i++)
		fuse_lowlevel_notify_inval_inode(
			d->se, cow_op_ino(d, inv->nodes.nodes[i]), 0, 0);
	for (i = 0; i < inv->nents; i++)
		fuse_lowlevel_notify_inval_entry(
			d->se, cow_op_ino(d, inv->ents[i].dir),
			inv->ents[i].name, strlen(inv->ents[i].name));
	cow_inval_free(&d->fs, inv);
}

/* Without OPEN and RELEASE from the kernel, the files programs have open
 * or mapped are found in /proc, for the discard to refuse them. */
static int discard(struct cow_daemon *d, struct cow_manage *m, const char *path)
{
	uint64_t *keys = NULL;
	int ret = 0;

	if (d->fs.on_demand)
		ret = cow_in_use_scan(d->mnt_abs, &keys, &m->nin_use);
	if (ret < 0)
		return cow_manage_refuse(m, ret,
					 "%s: cannot tell which files are open "
					 "(/proc: %s)",
					 path, strerror(-ret));
	m->by_scan = d->fs.on_demand;
	m->in_use = keys;
	ret = cow_discard(m, path);
	m->by_scan = false;
	m->in_use = NULL;
	m->nin_use = 0;
	free(keys);
	return ret;
}

static int run_one(struct cow_daemon *d, struct cow_manage *m, const char *op,
		   const char *path)
{
	int ret;

	/* Dirty pages reach the store first (writeback cache). */
	if (cow_manage_affected(m, path) == 0)
		cow_tell_kernel(d, &m->inval);
	m->why[0] = '\0';
	if (!strcmp(op, "commit"))
		ret = cow_commit(m, path);
	else
		ret = discard(d, m, path);
	cow_tell_kernel(d, &m->inval);
	cow_quota_scan(&d->fs); /* what the operation freed */
	return ret;
}

static void serve_request(struct cow_daemon *d, int fd, char *req, size_t len)
{
	struct cow_manage m = {.fs = &d->fs, .say = send_line, .ctx = &fd};
	struct cow_control_req r;
	const char *p;
	int ret = 0;

	if (cow_control_parse(req, len, &r) < 0) {
		send_line(&fd, "error: malformed request");
		return;
	}
	m.dry_run = r.dry_run;
	for (p = r.paths; ret == 0 && p < r.end; p += strlen(p) + 1)
		ret = run_one(d, &m, r.op, p);
	if (ret < 0)
		cow_manage_say(&m, "error: %s",
			       m.why[0] ? m.why : strerror(-ret));
	else
		send_line(&fd, "ok");
}

static bool peer_allowed(int fd)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return false;
	return cred.uid == 0 || cred.uid == geteuid();
}

static void handle(struct cow_daemon *d, int fd)
{
	char *req = malloc(REQUEST_MAX + 1);
	size_t len = 0;
	ssize_t n = 1;

	if (!req || !peer_allowed(fd)) {
		send_line(&fd, "error: permission denied");
		free(req);
		return;
	}
	while (len < REQUEST_MAX &&
	       (n = recv(fd, req + len, REQUEST_MAX - len, 0)) > 0)
		len += (size_t)n;
	req[len] = '\0';
	if (n < 0 || len == REQUEST_MAX)
		send_line(&fd, "error: request too large or unreadable");
	else
		serve_request(d, fd, req, len);
	free(req);
}

static void *control_main(void *arg)
{
	struct cow_daemon *d = arg;
	int fd;

	while ((fd = accept4(d->control_fd, NULL, NULL, SOCK_CLOEXEC)) >= 0 ||
	       errno == EINTR || errno == ECONNABORTED) {
		if (fd < 0)
			continue;
		handle(d, fd);
		close(fd);
	}
	return NULL;
}

/* sun_path is short: the socket is reached through /proc/self/fd. */
static int socket_addr(int meta_fd, struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	snprintf(sa->sun_path, sizeof(sa->sun_path), "/proc/self/fd/%d/%s",
		 meta_fd, COW_CONTROL_NAME);
	return 0;
}

int cow_control_start(struct cow_daemon *d)
{
	struct sockaddr_un sa;
	int fd, meta = d->fs.store.meta_fd;

	socket_addr(meta, &sa);
	cow_sys_unlinkat(meta, COW_CONTROL_NAME, 0); /* we hold the store */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    fchmodat(meta, COW_CONTROL_NAME, 0600, 0) < 0 ||
	    listen(fd, 8) < 0) {
		cow_warn("no control socket (%s): commit and discard need "
			 "the view unmounted",
			 strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	d->control_fd = fd;
	if (pthread_create(&d->control_thread, NULL, control_main, d)) {
		close(fd);
		d->control_fd = -1;
		return -1;
	}
	return 0;
}

void cow_control_stop(struct cow_daemon *d)
{
	if (d->control_fd < 0)
		return;
	shutdown(d->control_fd, SHUT_RDWR);
	pthread_join(d->control_thread, NULL);
	close(d->control_fd);
	d->control_fd = -1;
	cow_sys_unlinkat(d->fs.store.meta_fd, COW_CONTROL_NAME, 0);
}

int cow_control_connect(int meta_fd)
{
	struct sockaddr_un sa;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	socket_addr(meta_fd, &sa);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int err = errno;
		close(fd);
		return -err;
	}
	return fd;
}
