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

static void json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20)
			printf("\\u%04x", c);
		else
			putchar(c);
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
	char size[32], detail[PATH_MAX + 16] = "";
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
	else if (e->from)
		snprintf(detail, sizeof(detail), "  (from %s)", e->from);
	printf("%-9s %10s  %s%s%s\n", cow_change_name(e->change),
	       e->change == COW_CH_DELETED ? "-" : size, e->path,
	       dir ? "/" : "", detail);
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
