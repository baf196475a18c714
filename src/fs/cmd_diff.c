// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * `cowfs diff TARGET PATH`: how the view's PATH differs from BASE's. For a
 * text file a unified diff (diff -u), for a binary file the byte ranges
 * that differ, for metadata the fields that changed. Exit status as
 * diff(1): 0 the same, 1 different, 2 trouble. On a mounted view the view
 * side is read through the mount; on an unmounted store through the layer
 * code, in this process.
 */
#include "cli.h"
#include "daemon.h"

#include "manage.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#define BLOCK	   65536
#define MAX_RANGES 64

struct side {
	bool present;
	struct stat st;
	char data[PATH_MAX + 64]; /* a readable path of its content */
	char link[PATH_MAX];
	char xattrs[16384]; /* "name=value\n", sorted */
	bool tmp;	    /* data is a temporary copy */
};

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* "name=value" lines of a NUL-separated list, in order, into @out. */
static void xattr_lines(struct side *s, char *names, ssize_t len,
			ssize_t (*get)(void *, const char *, char *, size_t),
			void *ctx)
{
	char *v[256], val[1024];
	size_t n = 0, i, used = 0;
	char *p;

	for (p = names; len > 0 && p < names + len && n < 256;
	     p += strlen(p) + 1)
		if (strcmp(p, COW_STATE_XATTR))
			v[n++] = p;
	qsort(v, n, sizeof(*v), cmp_str);
	for (i = 0; i < n; i++) {
		ssize_t vl = get(ctx, v[i], val, sizeof(val) - 1);
		val[vl > 0 ? vl : 0] = '\0';
		used += (size_t)snprintf(s->xattrs + used,
					 sizeof(s->xattrs) - used, "%s=%s\n",
					 v[i], val);
		if (used >= sizeof(s->xattrs))
			break;
	}
}

static ssize_t path_get(void *ctx, const char *name, char *buf, size_t len)
{
	return lgetxattr(ctx, name, buf, len);
}

/* A side read with plain system calls (BASE, or a mounted view). */
static int side_from_path(struct side *s, const char *path)
{
	char names[8192];
	ssize_t len, n;

	memset(s, 0, sizeof(*s));
	if (lstat(path, &s->st) < 0)
		return errno == ENOENT ? 0 : -errno;
	s->present = true;
	snprintf(s->data, sizeof(s->data), "%s", path);
	n = S_ISLNK(s->st.st_mode)
		    ? readlink(path, s->link, sizeof(s->link) - 1)
		    : 0;
	s->link[n > 0 ? n : 0] = '\0';
	len = llistxattr(path, names, sizeof(names));
	xattr_lines(s, names, len, path_get, (void *)path);
	return 0;
}

struct node_ctx {
	struct cow_fs *fs;
	struct cow_node *node;
};

static ssize_t node_get(void *ctx, const char *name, char *buf, size_t len)
{
	struct node_ctx *c = ctx;

	return cow_getxattr(c->fs, c->node, name, buf, len);
}

/* Copies a view file's data to a temporary file named in s->data. */
static int materialize(struct cow_fs *fs, struct cow_node *node, struct side *s)
{
	const char *dir = getenv("TMPDIR");
	char *buf = malloc(BLOCK);
	off_t off = 0;
	ssize_t n = 1;
	int fd, ret;

	snprintf(s->data, sizeof(s->data), "%s/cowfs-diff.XXXXXX",
		 dir ? dir : "/tmp");
	fd = buf ? mkstemp(s->data) : -1;
	if (fd < 0) {
		free(buf);
		return -errno;
	}
	s->tmp = true;
	ret = cow_file_open(fs, node, O_RDONLY);
	while (ret == 0 && (n = cow_file_pread(fs, node, buf, BLOCK, off)) > 0)
		off += write(fd, buf, (size_t)n) == n ? n : (ret = -EIO, 0);
	if (ret == 0)
		cow_file_release(fs, node);
	close(fd);
	free(buf);
	return ret < 0 ? ret : n < 0 ? (int)n : 0;
}

/* The view side of an unmounted store, through the layer code. */
static int side_from_store(struct side *s, struct cow_fs *fs, const char *rel)
{
	struct cow_manage m = {.fs = fs};
	struct node_ctx c = {fs, NULL};
	struct cow_node *dir;
	char name[NAME_MAX + 1], names[8192];
	ssize_t len;
	int ret;

	memset(s, 0, sizeof(*s));
	ret = cow_manage_walk(&m, rel, &dir, name);
	if (ret < 0)
		return ret == -ENOENT ? 0 : ret;
	if (name[0])
		ret = cow_lookup(fs, dir, name, &c.node, &s->st);
	cow_node_forget(fs, dir, 1);
	if (ret < 0 || !name[0])
		return ret == -ENOENT ? 0 : ret < 0 ? ret : -EISDIR;
	s->present = true;
	if (S_ISLNK(s->st.st_mode))
		cow_readlink(fs, c.node, s->link, sizeof(s->link) - 1);
	len = cow_listxattr(fs, c.node, names, sizeof(names));
	xattr_lines(s, names, len, node_get, &c);
	if (S_ISREG(s->st.st_mode))
		ret = materialize(fs, c.node, s);
	cow_node_forget(fs, c.node, 1);
	return ret;
}

static const char *kind(mode_t m)
{
	return S_ISREG(m)    ? "file"
	       : S_ISDIR(m)  ? "directory"
	       : S_ISLNK(m)  ? "symlink"
	       : S_ISFIFO(m) ? "fifo"
	       : S_ISSOCK(m) ? "socket"
			     : "device";
}

static void fmt_time(const struct timespec *ts, char *buf, size_t len)
{
	struct tm tm;
	size_t n;

	gmtime_r(&ts->tv_sec, &tm);
	n = strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm);
	snprintf(buf + n, len - n, ".%09ld UTC", ts->tv_nsec);
}

/* The value of xattr line "name=" in @lines, or NULL. */
static const char *xattr_val(const char *lines, const char *name, size_t nlen)
{
	const char *p;

	for (p = lines; *p; p = strchr(p, 0x0a) + 1)
		if (!strncmp(p, name, nlen) && p[nlen] == 0x3d)
			return p + nlen + 1;
	return NULL;
}

static int line_len(const char *p)
{
	return (int)(strchr(p, 0x0a) - p);
}

/* "xattr NAME: added|removed|value -> value" for each difference. */
static int diff_xattrs(const char *b, const char *v)
{
	const char *p, *o;
	int n = 0;

	for (p = v; *p; p = strchr(p, 0x0a) + 1) {
		size_t nl = strcspn(p, "=");
		o = xattr_val(b, p, nl);
		if (!o)
			n += printf("xattr %.*s: added (%.*s)\n", (int)nl, p,
				    line_len(p + nl + 1), p + nl + 1) > 0;
		else if (line_len(o) != line_len(p + nl + 1) ||
			 strncmp(o, p + nl + 1, (size_t)line_len(o)))
			n += printf("xattr %.*s: %.*s -> %.*s\n", (int)nl, p,
				    line_len(o), o, line_len(p + nl + 1),
				    p + nl + 1) > 0;
	}
	for (p = b; *p; p = strchr(p, 0x0a) + 1) {
		size_t nl = strcspn(p, "=");
		if (!xattr_val(v, p, nl))
			n += printf("xattr %.*s: removed\n", (int)nl, p) > 0;
	}
	return n;
}

/* Prints each changed metadata field; returns how many. */
static int diff_meta(const struct side *b, const struct side *v)
{
	char t1[64], t2[64];
	int n = 0;

	if ((b->st.st_mode & S_IFMT) != (v->st.st_mode & S_IFMT))
		return printf("type: %s -> %s\n", kind(b->st.st_mode),
			      kind(v->st.st_mode)) > 0;
	if ((b->st.st_mode & 07777) != (v->st.st_mode & 07777) &&
	    !S_ISLNK(v->st.st_mode))
		n += printf("mode: %04o -> %04o\n", b->st.st_mode & 07777,
			    v->st.st_mode & 07777) > 0;
	if (b->st.st_uid != v->st.st_uid || b->st.st_gid != v->st.st_gid)
		n += printf("owner: %u:%u -> %u:%u\n", b->st.st_uid,
			    b->st.st_gid, v->st.st_uid, v->st.st_gid) > 0;
	if (b->st.st_mtim.tv_sec != v->st.st_mtim.tv_sec ||
	    b->st.st_mtim.tv_nsec != v->st.st_mtim.tv_nsec) {
		fmt_time(&b->st.st_mtim, t1, sizeof(t1));
		fmt_time(&v->st.st_mtim, t2, sizeof(t2));
		n += printf("mtime: %s -> %s\n", t1, t2) > 0;
	}
	if (S_ISREG(v->st.st_mode) && b->st.st_size != v->st.st_size)
		n += printf("size: %lld -> %lld\n", (long long)b->st.st_size,
			    (long long)v->st.st_size) > 0;
	if (S_ISLNK(v->st.st_mode) && strcmp(b->link, v->link))
		n += printf("target: %s -> %s\n", b->link, v->link) > 0;
	return n + diff_xattrs(b->xattrs, v->xattrs);
}

static bool is_text(const char *path)
{
	char buf[8192];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? 0 : read(fd, buf, sizeof(buf));

	if (fd >= 0)
		close(fd);
	return n <= 0 || !memchr(buf, '\0', (size_t)n);
}

/* diff -u of two paths ("/dev/null" for an absent side); its status. */
static int text_diff(const char *a, const char *b, const char *la,
		     const char *lb)
{
	pid_t pid;
	int status;

	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		execlp("diff", "diff", "-u", "--label", la, "--label", lb, a, b,
		       (char *)NULL);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) ||
	    WEXITSTATUS(status) > 1)
		return 2;
	return WEXITSTATUS(status);
}

static void flush_range(long long *start, long long end, int *ranges)
{
	if (*start < 0)
		return;
	if (++*ranges <= MAX_RANGES)
		printf("bytes %lld-%lld differ\n", *start, end - 1);
	*start = -1;
}

/* Byte ranges in which two files differ (within the shorter one). */
static int binary_diff(const char *a, const char *b)
{
	int fa = open(a, O_RDONLY | O_CLOEXEC),
	    fb = open(b, O_RDONLY | O_CLOEXEC);
	char *ba = malloc(BLOCK), *bb = malloc(BLOCK);
	long long off = 0, start = -1;
	ssize_t na = 1, nb = 1, i;
	int ranges = 0;

	while (fa >= 0 && fb >= 0 && ba && bb &&
	       (na = read(fa, ba, BLOCK)) > 0 &&
	       (nb = read(fb, bb, BLOCK)) > 0) {
		for (i = 0; i < (na < nb ? na : nb); i++, off++)
			if (ba[i] != bb[i] && start < 0)
				start = off;
			else if (ba[i] == bb[i])
				flush_range(&start, off, &ranges);
		if (na != nb)
			break;
	}
	flush_range(&start, off, &ranges);
	if (ranges > MAX_RANGES)
		printf("... %d more ranges\n", ranges - MAX_RANGES);
	free(ba);
	free(bb);
	if (fa >= 0)
		close(fa);
	if (fb >= 0)
		close(fb);
	return na < 0 || nb < 0 ? 2 : ranges > 0;
}

static int diff_data(const struct side *b, const struct side *v,
		     const char *rel)
{
	char la[PATH_MAX + 8], lb[PATH_MAX + 8];
	const char *pa = b->present ? b->data : "/dev/null";
	const char *pb = v->present ? v->data : "/dev/null";

	if ((b->present && !S_ISREG(b->st.st_mode)) ||
	    (v->present && !S_ISREG(v->st.st_mode)))
		return 0;
	snprintf(la, sizeof(la), "base/%s", rel);
	snprintf(lb, sizeof(lb), "view/%s", rel);
	if (is_text(pa) && is_text(pb))
		return text_diff(pa, pb, la, lb);
	if (!b->present || !v->present)
		return printf("binary file %s\n",
			      b->present ? "deleted" : "added") > 0;
	return binary_diff(pa, pb);
}

static int compare(const struct side *b, const struct side *v, const char *rel)
{
	int meta = 0, data;

	if (!b->present && !v->present) {
		fprintf(stderr, "cowfs: %s: in neither BASE nor the view\n",
			rel);
		return 2;
	}
	if (!b->present)
		printf("%s: new in the view (%s)\n", rel, kind(v->st.st_mode));
	else if (!v->present)
		printf("%s: deleted in the view\n", rel);
	else
		meta = diff_meta(b, v);
	data = diff_data(b, v, rel);
	if (data == 2)
		return 2;
	return meta || data || !b->present || !v->present;
}

int cow_cmd_diff(int argc, char **argv)
{
	struct cow_cli_target t;
	struct side b, v;
	struct cow_fs fs;
	char path[2 * PATH_MAX];
	const char *rel;
	int ret;

	if (argc != 2 || argv[0][0] == '-') {
		fprintf(stderr, "cowfs: usage: cowfs diff TARGET PATH (see "
				"cowfs --help)\n");
		return 2;
	}
	if (cow_cli_target(argv[0], &t) < 0)
		return 2;
	memset(&v, 0, sizeof(v));
	rel = cow_cli_rel_path(&t, argv[1]);
	if (argv[1][0] == '/' && (rel == argv[1] + 1 || !t.view[0]) &&
	    strcmp(argv[1], "/")) {
		cow_cli_target_free(&t);
		return cow_fail("%s is outside the view", argv[1]) + 1;
	}
	snprintf(path, sizeof(path), "%s/%s", t.base, rel);
	ret = side_from_path(&b, path);
	if (ret == 0 && t.view[0]) {
		snprintf(path, sizeof(path), "%s/%s", t.view, rel);
		ret = side_from_path(&v, path);
	} else if (ret == 0) {
		if (cow_cli_open_store(&t, &fs)) {
			cow_cli_target_free(&t);
			return 2;
		}
		ret = side_from_store(&v, &fs, rel);
		cow_cli_close_store(&fs);
	}
	if (ret < 0)
		fprintf(stderr, "cowfs: %s: %s\n", rel, strerror(-ret));
	else
		ret = compare(&b, &v, rel);
	if (v.tmp)
		unlink(v.data);
	cow_cli_target_free(&t);
	return ret < 0 ? 2 : ret;
}
