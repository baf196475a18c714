// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * cowtool copyrace DIR N: races changes of names and metadata against the
 * copy-ups of the files DIR/f0 .. f<N-1>. Each file is held open for
 * appending and gets one byte; as its descriptor closes (which copies it
 * up), a second process changes it by the number's rest modulo 4: renames
 * it to gI, links it as hI, chmods it 0600 or chowns it 1:1, by plain
 * system calls, so that the change reaches the daemon within the copy.
 * Prints "ok", or the first call that failed.
 */
#include "cowtool.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static int change(const char *dir, int i)
{
	char f[4096], g[4096];

	snprintf(f, sizeof(f), "%s/f%d", dir, i);
	switch (i % 4) {
	case 0:
		snprintf(g, sizeof(g), "%s/g%d", dir, i);
		return rename(f, g) ? errno : 0;
	case 1:
		snprintf(g, sizeof(g), "%s/h%d", dir, i);
		return link(f, g) ? errno : 0;
	case 2:
		return chmod(f, 0600) ? errno : 0;
	default:
		return chown(f, 1, 1) ? errno : 0;
	}
}

/* The child: a change per number read from @in, its errno written out. */
static int racer(const char *dir, int in, int out)
{
	int i, e;

	while (read(in, &i, sizeof(i)) == (ssize_t)sizeof(i)) {
		e = change(dir, i);
		if (write(out, &e, sizeof(e)) != (ssize_t)sizeof(e))
			return 1;
	}
	return 0;
}

static int open_all(const char *dir, int n, int *fds)
{
	char f[4096];
	int i;

	for (i = 0; i < n; i++) {
		snprintf(f, sizeof(f), "%s/f%d", dir, i);
		fds[i] = open(f, O_WRONLY | O_APPEND);
		if (fds[i] < 0) {
			printf("open f%d: %s\n", i, strerror(errno));
			return 1;
		}
	}
	return 0;
}

int cmd_copyrace(char **argv)
{
	int n = atoi(argv[1]), go[2], done[2], i, e = 0, status;
	int *fds = calloc(n > 0 ? (size_t)n : 1, sizeof(*fds));
	pid_t pid;

	if (!fds || n <= 0 || open_all(argv[0], n, fds))
		return 1;
	if (pipe(go) || pipe(done))
		die("pipe: %s", strerror(errno));
	pid = fork();
	if (pid == 0) {
		close(go[1]);
		close(done[0]);
		_exit(racer(argv[0], go[0], done[1]));
	}
	close(go[0]);
	close(done[1]);
	for (i = 0; i < n && e == 0; i++) {
		if (write(fds[i], "W", 1) != 1)
			die("write f%d: %s", i, strerror(errno));
		if (write(go[1], &i, sizeof(i)) != (ssize_t)sizeof(i))
			die("racer gone");
		if (close(fds[i]))
			die("close f%d: %s", i, strerror(errno));
		if (read(done[0], &e, sizeof(e)) != (ssize_t)sizeof(e))
			die("racer gone");
		if (e)
			printf("change of f%d: %s\n", i, strerror(e));
	}
	close(go[1]);
	waitpid(pid, &status, 0);
	free(fds);
	if (e == 0)
		printf("ok\n");
	return e ? 1 : 0;
}
