// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * `cowfs status [--json] TARGET [PATH...]`: what a STORE holds, read from
 * the STORE directly (an unmounted store, or the store behind a mounted
 * view, which the daemon names through a virtual xattr of its root).
 */
#include "cli.h"

#include "report.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

struct target {
	char upper[PATH_MAX + 32], meta[PATH_MAX + 32], base[PATH_MAX + 32];
	char view[PATH_MAX]; /* mount point, "" for an unmounted store */
	bool userxattr;
};

/* Reads "key value" lines of STORE's meta/format. */
static int read_format(struct target *t)
{
	char path[PATH_MAX + 64], line[PATH_MAX + 32];
	FILE *f;

	snprintf(path, sizeof(path), "%s/format", t->meta);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (!strncmp(line, "base-path ", 10))
			snprintf(t->base, sizeof(t->base), "%s", line + 10);
		else if (!strcmp(line, "xattr-ns user"))
			t->userxattr = true;
	}
	fclose(f);
	return 0;
}

static int from_view(const char *arg, struct target *t)
{
	char info[3 * PATH_MAX + 32], *line, *save = NULL;
	ssize_t n = getxattr(arg, COW_STORE_XATTR, info, sizeof(info) - 1);

	if (n < 0)
		return -errno;
	info[n] = '\0';
	for (line = strtok_r(info, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (!strncmp(line, "upper=", 6))
			snprintf(t->upper, sizeof(t->upper), "%s", line + 6);
		else if (!strncmp(line, "meta=", 5))
			snprintf(t->meta, sizeof(t->meta), "%s", line + 5);
	}
	if (!realpath(arg, t->view))
		return -errno;
	return t->upper[0] && t->meta[0] ? 0 : -EPROTO;
}

int cow_cli_target(const char *arg, struct cow_cli_target *out)
{
	struct target *t = calloc(1, sizeof(*t));
	char fmt[PATH_MAX + 64];
	int ret;

	if (!t)
		return -ENOMEM;
	snprintf(fmt, sizeof(fmt), "%s/meta/format", arg);
	if (access(fmt, F_OK) == 0) {
		snprintf(t->upper, sizeof(t->upper), "%s/upper", arg);
		snprintf(t->meta, sizeof(t->meta), "%s/meta", arg);
		ret = 0;
	} else {
		ret = from_view(arg, t);
	}
	if (ret == 0)
		ret = read_format(t);
	if (ret < 0) {
		fprintf(stderr,
			"cowfs: %s is neither a cowfs STORE nor a mounted "
			"cowfs view\n",
			arg);
		free(t);
		return ret;
	}
	out->priv = t;
	out->upper = t->upper;
	out->meta = t->meta;
	out->base = t->base;
	out->view = t->view;
	out->userxattr = t->userxattr;
	return 0;
}

void cow_cli_target_free(struct cow_cli_target *t)
{
	free(t->priv);
}

static void human_size(off_t n, char *buf, size_t len)
{
	static const char *const unit[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	double v = (double)n;
	int u = 0;

	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	snprintf(buf, len, u ? "%.1f %s" : "%.0f %s", v, unit[u]);
}

/* Length of the valid UTF-8 sequence at @s, 0 when there is none. */
static size_t utf8_len(const unsigned char *s)
{
	unsigned int cp;
	size_t n, i;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, cp = s[0] & 0x1fu;
	else if ((s[0] & 0xf0) == 0xe0)
		n = 3, cp = s[0] & 0x0fu;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, cp = s[0] & 0x07u;
	else
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0; /* (a NUL ends the scan here too) */
		cp = cp << 6 | (s[i] & 0x3fu);
	}
	if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return n;
}

/*
 * A JSON string. Names are bytes, JSON text is UTF-8: a byte that is not
 * part of valid UTF-8 is written as the lone surrogate \udcXX, the
 * "surrogateescape" convention, so that the bytes can be recovered.
 */
static void json_str(const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t n;

	putchar('"');
	for (; *s; s += n) {
		n = utf8_len(s);
		if (n == 0) {
			printf("\\udc%02x", *s);
			n = 1;
		} else if (*s == '"' || *s == '\\') {
			printf("\\%c", *s);
		} else if (*s < 0x20 || *s == 0x7f) {
			printf("\\u%04x", *s);
		} else {
			fwrite(s, 1, n, stdout);
		}
	}
	putchar('"');
}

static bool needs_quotes(const unsigned char *s)
{
	size_t n;

	for (; *s; s += n) {
		n = utf8_len(s);
		if (n == 0 || *s < 0x20 || *s == 0x7f || *s == '"' ||
		    *s == '\\')
			return true;
	}
	return false;
}

/*
 * A name in the text listing: as it is, or, when it holds control
 * characters, quotes, backslashes or bytes that are not UTF-8, in double
 * quotes with C escapes (as git quotes paths), so that one change is one
 * line and a name cannot drive the terminal.
 */
static void print_name(const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t n;

	if (!needs_quotes(s)) {
		fputs(str, stdout);
		return;
	}
	putchar('"');
	for (; *s; s += n) {
		n = utf8_len(s);
		if (*s == '\n')
			fputs("\\n", stdout);
		else if (*s == '\t')
			fputs("\\t", stdout);
		else if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if (n == 0 || *s < 0x20 || *s == 0x7f)
			printf("\\%03o", *s);
		else
			fwrite(s, 1, n, stdout);
		if (n == 0)
			n = 1;
	}
	putchar('"');
}

struct out {
	bool json;
	unsigned long n;
};

static int print_change(void *ctx, const struct cow_change_ent *e)
{
	struct out *o = ctx;
	char size[32], detail[48] = "";
	bool dir = S_ISDIR(e->type);

	if (o->json) {
		printf("%s\n    {\"path\": ", o->n++ ? "," : "");
		json_str(e->path);
		printf(", \"change\": \"%s\", \"type\": \"%s\", \"size\": "
		       "%lld, "
		       "\"stored\": %lld",
		       cow_change_name(e->change),
		       dir	 ? "dir"
		       : e->type ? "file"
				 : "none",
		       (long long)e->size, (long long)e->stored);
		if (e->change == COW_CH_PARTIAL)
			printf(", \"percent\": %d, \"damaged\": %s", e->percent,
			       e->damaged ? "true" : "false");
		if (e->from) {
			printf(", \"from\": ");
			json_str(e->from);
		}
		putchar('}');
		return 0;
	}
	human_size(e->stored, size, sizeof(size));
	if (e->change == COW_CH_PARTIAL)
		snprintf(detail, sizeof(detail),
			 e->damaged ? "  (damaged map)" : "  (%d%% copied)",
			 e->percent);
	printf("%-9s %10s  ", cow_change_name(e->change),
	       e->change == COW_CH_DELETED ? "-" : size);
	print_name(e->path);
	printf("%s%s", dir ? "/" : "", detail);
	if (e->change != COW_CH_PARTIAL && e->from) {
		fputs("  (from ", stdout);
		print_name(e->from);
		putchar(')');
	}
	putchar('\n');
	o->n++;
	return 0;
}

/* A PATH argument: relative to the view's root, or under the mount. */
const char *cow_cli_rel_path(const struct cow_cli_target *t, const char *p)
{
	size_t n = strlen(t->view);

	if (n && !strncmp(p, t->view, n) && (p[n] == '/' || !p[n]))
		p += n;
	while (*p == '/')
		p++;
	return p;
}

int cow_cmd_status(int argc, char **argv)
{
	struct cow_report_totals tot;
	struct cow_cli_target t;
	struct out o = {0};
	struct cow_report_src src;
	char size[32];
	int i = 0, ret = 0, k;

	if (argc > 0 && !strcmp(argv[0], "--json")) {
		o.json = true;
		i++;
	}
	if (i >= argc) {
		fprintf(stderr, "cowfs: usage: cowfs status [--json] TARGET "
				"[PATH...]\n");
		return 2;
	}
	if (cow_cli_target(argv[i], &t) < 0)
		return 1;
	src.upper_fd = open(t.upper, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	src.meta_fd = open(t.meta, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	src.base_fd = open(t.base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	src.userxattr = t.userxattr;
	if (src.upper_fd < 0 || src.meta_fd < 0) {
		fprintf(stderr, "cowfs: cannot open %s: %s\n", t.upper,
			strerror(errno));
		ret = 1;
		goto out;
	}
	if (o.json) {
		printf("{\"store_upper\": ");
		json_str(t.upper);
		printf(", \"base\": ");
		json_str(t.base);
		printf(", \"changes\": [");
	}
	for (k = i + 1; ret == 0 && (k < argc || k == i + 1); k++)
		ret = cow_report_walk(
			&src, k < argc ? cow_cli_rel_path(&t, argv[k]) : "",
			print_change, &o, &tot);
	human_size(tot.stored, size, sizeof(size));
	if (o.json)
		printf("\n  ],\n  \"totals\": {\"changes\": %lu, \"stored\": "
		       "%lld}\n}\n",
		       o.n, (long long)tot.stored);
	else
		printf("%lu change%s; STORE uses %s on disk (BASE %s)\n", o.n,
		       o.n == 1 ? "" : "s", size, t.base);
	if (ret < 0) {
		fprintf(stderr, "cowfs: reading the store failed: %s\n",
			strerror(-ret));
		ret = 1;
	}
out:
	close(src.upper_fd);
	close(src.meta_fd);
	if (src.base_fd >= 0)
		close(src.base_fd);
	cow_cli_target_free(&t);
	return ret;
}
