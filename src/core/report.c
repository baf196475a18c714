// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The change report: walks upper/ (never following links, writing
 * nothing) and names every change it finds against BASE.
 */
#include "report.h"

#include "array.h"
#include "chunkmap.h"
#include "sys.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

struct walk {
	const struct cow_report_src *src;
	const char *prefix;
	cow_change_fn fn;
	void *ctx;
	struct cow_report_totals *totals;
	char x_opaque[64], x_redirect[64], x_metacopy[64], x_origin[64],
		x_partial[64];
};

const char *cow_change_name(enum cow_change change)
{
	static const char *const names[] = {
		[COW_CH_ADDED] = "added",     [COW_CH_REPLACED] = "replaced",
		[COW_CH_DATA] = "modified",   [COW_CH_META] = "metadata",
		[COW_CH_PARTIAL] = "partial", [COW_CH_DELETED] = "deleted",
		[COW_CH_RENAMED] = "renamed",
	};
	return names[change];
}

static char *join(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	char *p = malloc(la + lb + 2);

	if (!p)
		return NULL;
	memcpy(p, a, la);
	if (la)
		p[la++] = '/';
	memcpy(p + la, b, lb + 1);
	return p;
}

static bool wanted(const struct walk *w, const char *path)
{
	size_t n = strlen(w->prefix);

	return !n || (!strncmp(path, w->prefix, n) &&
		      (path[n] == '\0' || path[n] == '/'));
}

static int emit(struct walk *w, struct cow_change_ent *ent)
{
	if (!wanted(w, ent->path))
		return 0;
	w->totals->changes++;
	return w->fn(w->ctx, ent);
}

static int walk_dir(struct walk *w, int ufd, int bfd, const char *vpath);

static int partial_percent(struct walk *w, unsigned long long origin,
			   bool *damaged)
{
	struct cow_chunkmap m;
	char name[32], why[128];
	int pct;

	snprintf(name, sizeof(name), "%llu", origin);
	int chunks = cow_sys_openat(w->src->meta_fd, "chunks",
				    O_RDONLY | O_DIRECTORY, 0);
	if (chunks < 0 ||
	    cow_chunkmap_load(chunks, name, &m, why, sizeof(why)) < 0) {
		cow_sys_close(chunks);
		*damaged = true;
		return 0;
	}
	cow_sys_close(chunks);
	pct = (int)cow_chunkmap_percent(&m);
	cow_chunkmap_close(&m);
	return pct;
}

static int file_change(struct walk *w, int ufd, const char *name,
		       const struct stat *bst, bool in_base,
		       struct cow_change_ent *ent)
{
	char buf[32];
	unsigned long long origin = 0;
	ssize_t n;

	n = cow_sys_getxattrat(ufd, name, w->x_origin, buf, sizeof(buf) - 1);
	if (n > 0) {
		buf[n] = '\0';
		origin = strtoull(buf, NULL, 10);
	}
	if (origin &&
	    cow_sys_getxattrat(ufd, name, w->x_partial, NULL, 0) >= 0) {
		ent->change = COW_CH_PARTIAL;
		ent->percent = partial_percent(w, origin, &ent->damaged);
	} else if (cow_sys_getxattrat(ufd, name, w->x_metacopy, NULL, 0) >= 0) {
		ent->change = COW_CH_META;
	} else if (origin && in_base && bst->st_ino == origin) {
		ent->change = COW_CH_DATA;
	} else {
		ent->change = in_base ? COW_CH_REPLACED : COW_CH_ADDED;
	}
	return emit(w, ent);
}

static int open_base_path(struct walk *w, const char *path)
{
	char *copy = strdup(path), *save = NULL, *comp;
	int fd = w->src->base_fd < 0
			 ? -1
			 : cow_sys_openat(w->src->base_fd, ".",
					  O_RDONLY | O_DIRECTORY, 0);

	for (comp = copy ? strtok_r(copy, "/", &save) : NULL; comp && fd >= 0;
	     comp = strtok_r(NULL, "/", &save)) {
		int next = cow_sys_open_dir(fd, comp);
		cow_sys_close(fd);
		fd = next;
	}
	free(copy);
	return fd;
}

static int dir_change(struct walk *w, int ufd, int bfd, const char *name,
		      bool in_base, const struct stat *bst,
		      struct cow_change_ent *ent)
{
	char redirect[4096];
	int cfd, cbfd = -1, ret = 0;
	bool opaque;
	ssize_t n;

	cfd = cow_sys_open_dir(ufd, name);
	if (cfd < 0)
		return cfd;
	n = cow_sys_fgetxattr(cfd, w->x_opaque, redirect, sizeof(redirect));
	opaque = n == 1 && redirect[0] == 'y';
	n = cow_sys_fgetxattr(cfd, w->x_redirect, redirect,
			      sizeof(redirect) - 1);
	if (n > 0 && !opaque) {
		redirect[n] = '\0';
		ent->change = COW_CH_RENAMED;
		ent->from = redirect[0] == '/' ? redirect + 1 : redirect;
		cbfd = open_base_path(w, ent->from);
		ret = emit(w, ent);
	} else if (opaque || !in_base || !S_ISDIR(bst->st_mode)) {
		ent->change = in_base ? COW_CH_REPLACED : COW_CH_ADDED;
		ret = emit(w, ent);
	} else {
		cbfd = cow_sys_open_dir(bfd, name); /* merged: no change */
	}
	if (ret == 0)
		ret = walk_dir(w, cfd, cbfd, ent->path);
	cow_sys_close(cbfd);
	cow_sys_close(cfd);
	return ret;
}

static int walk_entry(struct walk *w, int ufd, int bfd, const char *vpath,
		      const char *name)
{
	struct cow_change_ent ent = {0};
	struct stat st, bst;
	bool in_base;
	int ret;

	ret = cow_sys_fstatat(ufd, name, &st);
	if (ret < 0)
		return ret == -ENOENT ? 0 : ret;
	in_base = bfd >= 0 && cow_sys_fstatat(bfd, name, &bst) == 0;
	ent.path = join(vpath, name);
	if (!ent.path)
		return -ENOMEM;
	ent.type = st.st_mode & S_IFMT;
	ent.size = st.st_size;
	ent.stored = (off_t)st.st_blocks * 512;
	w->totals->stored += ent.stored;
	if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0)) {
		ent.type = 0;
		ent.size = ent.stored = 0;
		ent.change = COW_CH_DELETED;
		ret = in_base ? emit(w, &ent) : 0;
	} else if (S_ISDIR(st.st_mode)) {
		ret = dir_change(w, ufd, bfd, name, in_base, &bst, &ent);
	} else {
		ret = file_change(w, ufd, name, &bst, in_base, &ent);
	}
	free((char *)ent.path);
	return ret;
}

static int walk_dir(struct walk *w, int ufd, int bfd, const char *vpath)
{
	int ret = 0;
	char **names = cow_list_names(ufd, &ret), **p;

	for (p = names; ret == 0 && p && *p; p++)
		ret = walk_entry(w, ufd, bfd, vpath, *p);
	cow_free_names(names);
	return ret;
}

static off_t tree_blocks(int fd)
{
	int err = 0;
	char **names = cow_list_names(fd, &err), **p;
	off_t sum = 0;
	struct stat st;

	for (p = names; p && *p; p++) {
		/* Links of upper copies (index, .data) are counted there. */
		if (cow_sys_fstatat(fd, *p, &st) < 0 ||
		    (S_ISREG(st.st_mode) && st.st_nlink > 1))
			continue;
		sum += (off_t)st.st_blocks * 512;
		if (S_ISDIR(st.st_mode)) {
			int c = cow_sys_open_dir(fd, *p);
			if (c >= 0)
				sum += tree_blocks(c);
			cow_sys_close(c);
		}
	}
	cow_free_names(names);
	return sum;
}

int cow_report_walk(const struct cow_report_src *src, const char *prefix,
		    cow_change_fn fn, void *ctx,
		    struct cow_report_totals *totals)
{
	const char *ovl = src->userxattr ? "user.overlay." : "trusted.overlay.";
	const char *cow = src->userxattr ? "user.cowfs." : "trusted.cowfs.";
	struct walk w = {.src = src,
			 .prefix = prefix,
			 .fn = fn,
			 .ctx = ctx,
			 .totals = totals};
	int ret;

	snprintf(w.x_opaque, sizeof(w.x_opaque), "%sopaque", ovl);
	snprintf(w.x_redirect, sizeof(w.x_redirect), "%sredirect", ovl);
	snprintf(w.x_metacopy, sizeof(w.x_metacopy), "%smetacopy", ovl);
	snprintf(w.x_origin, sizeof(w.x_origin), "%sorigin", cow);
	snprintf(w.x_partial, sizeof(w.x_partial), "%spartial", cow);
	memset(totals, 0, sizeof(*totals));
	ret = walk_dir(&w, src->upper_fd, src->base_fd, "");
	/* upper/ counted while walking; add meta/ (index copies, maps). */
	totals->stored += tree_blocks(src->meta_fd);
	return ret;
}
