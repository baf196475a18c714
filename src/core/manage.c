// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Discard: the changes under a path are dropped from the store (its upper
 * entries removed, with their chunk maps), so the view shows BASE there
 * again. Also the path walk and the messages that commit.c shares.
 */
#include "manage.h"
#include "array.h"

#include "lookup_i.h"
#include "sys.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cow_manage_say(struct cow_manage *m, const char *fmt, ...)
{
	char line[PATH_MAX + 256];
	va_list ap;

	if (!m->say)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	m->say(m->ctx, line);
}

int cow_manage_refuse(struct cow_manage *m, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(m->why, sizeof(m->why), fmt, ap);
	va_end(ap);
	return err;
}

/* Next component of *@p into @name; false at the end. */
static int next_component(const char **p, char name[NAME_MAX + 1])
{
	const char *s = *p, *e;

	while (*s == '/')
		s++;
	if (!*s)
		return 0;
	e = strchrnul(s, '/');
	if ((size_t)(e - s) > NAME_MAX)
		return -ENAMETOOLONG;
	memcpy(name, s, (size_t)(e - s));
	name[e - s] = '\0';
	if (!strcmp(name, ".") || !strcmp(name, ".."))
		return -EINVAL;
	*p = e;
	return 1;
}

int cow_manage_find(struct cow_manage *m, const char *path,
		    struct cow_node **dir, char name[NAME_MAX + 1])
{
	struct cow_node *cur = m->fs->root, *next;
	const char *p = path;
	char comp[NAME_MAX + 1];
	struct stat st;
	int ret;

	cow_node_get(m->fs, cur);
	cow_node_ref_to_lookup(m->fs, cur);
	name[0] = '\0';
	while ((ret = next_component(&p, comp)) > 0) {
		if (name[0]) {
			ret = cow_lookup_locked(m->fs, cur, name, &next, &st);
			cow_node_forget(m->fs, cur, 1);
			if (ret < 0)
				return ret;
			cur = next;
			if (!S_ISDIR(st.st_mode)) {
				cow_node_forget(m->fs, cur, 1);
				return -ENOTDIR;
			}
		}
		memcpy(name, comp, sizeof(comp));
	}
	if (ret < 0) {
		cow_node_forget(m->fs, cur, 1);
		return ret;
	}
	*dir = cur;
	return 0;
}

int cow_manage_walk(struct cow_manage *m, const char *path,
		    struct cow_node **dir, char name[NAME_MAX + 1])
{
	int ret = cow_manage_find(m, path, dir, name);

	if (ret == -ENOTDIR)
		return cow_manage_refuse(m, ret, "%s: not a directory", path);
	if (ret == -EINVAL)
		return cow_manage_refuse(m, ret,
					 "%s: '.' and '..' are not allowed in "
					 "paths",
					 path);
	if (ret < 0)
		return cow_manage_refuse(m, ret, "%s: %s", path,
					 strerror(-ret));
	return 0;
}

/* Discard refuses open files: their handles would keep the changes. */
static bool in_use(const struct cow_manage *m, uint64_t key)
{
	size_t lo = 0, hi = m->nin_use;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (m->in_use[mid] == key)
			return true;
		if (m->in_use[mid] < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

static int check_not_open(struct cow_manage *m, struct cow_node *dir,
			  const char *name, const char *path)
{
	struct cow_node_set set = {0};
	struct cow_node *top = name[0] ? cow_node_child(m->fs, dir, name) : dir;
	size_t i, open = 0;
	int ret = 0;

	if (top)
		ret = cow_node_collect(m->fs, top, false, &set);
	for (i = 0; i < set.count; i++) {
		struct cow_node *n = set.nodes[i];
		if (!S_ISREG(n->type))
			continue;
		pthread_rwlock_rdlock(&n->lock);
		open += m->by_scan ? in_use(m, n->key) : n->nopen > 0;
		pthread_rwlock_unlock(&n->lock);
	}
	if (ret == 0 && open)
		ret = cow_manage_refuse(m, -EBUSY,
					"%s: %zu open file%s under it (open "
					"handles or mappings); close %s first",
					path, open, open == 1 ? "" : "s",
					open == 1 ? "it" : "them");
	cow_node_set_free(m->fs, &set);
	if (top && top != dir)
		cow_node_put(m->fs, top);
	return ret;
}

/* Inode numbers of multiply-linked upper files at or below @name. */
struct inos {
	ino_t *v;
	size_t n, cap;
};

static void collect_linked(int at, const char *name, struct inos *s, int depth)
{
	struct stat st;
	struct dirent *de;
	DIR *d;
	int fd;

	if (cow_sys_fstatat(at, name, &st) < 0 || depth > 256)
		return;
	if (S_ISREG(st.st_mode) && st.st_nlink > 1) {
		ino_t *grown = cow_grow(s->v, &s->cap, s->n, sizeof(*s->v), 8);
		if (grown) {
			s->v = grown;
			s->v[s->n++] = st.st_ino;
		}
	}
	if (!S_ISDIR(st.st_mode))
		return;
	fd = cow_sys_open_dir(at, name);
	d = fd < 0 ? NULL : fdopendir(fd);
	if (!d) {
		cow_sys_close(fd);
		return;
	}
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			collect_linked(dirfd(d), de->d_name, s, depth + 1);
	closedir(d);
}

/* Index entries of those inodes that no upper name uses any more. */
static void drop_index(struct cow_manage *m, const struct inos *s)
{
	int fd = cow_sys_openat(m->fs->store.index_fd, ".",
				O_RDONLY | O_DIRECTORY, 0);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	struct dirent *de;
	struct stat st;
	size_t i;

	if (!d) {
		cow_sys_close(fd);
		return;
	}
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' ||
		    cow_sys_fstatat(dirfd(d), de->d_name, &st) < 0 ||
		    st.st_nlink != 1)
			continue;
		for (i = 0; i < s->n; i++)
			if (s->v[i] == st.st_ino)
				cow_sys_unlinkat(dirfd(d), de->d_name, 0);
	}
	closedir(d);
}

/* Removes the upper entry @name of @dir (all of upper/ for the root). */
static int remove_upper(struct cow_manage *m, struct cow_node *dir,
			const char *name)
{
	struct inos s = {0};
	int ret;

	if (!name[0]) {
		ret = cow_store_clear_dir(dir->dir_upper);
		return ret ? ret : cow_store_clear_dir(m->fs->store.index_fd);
	}
	collect_linked(dir->dir_upper, name, &s, 0);
	ret = cow_store_remove_tree(dir->dir_upper, name);
	if (ret == 0)
		drop_index(m, &s);
	free(s.v);
	return ret;
}

static int discard_locked(struct cow_manage *m, const char *path)
{
	struct cow_node *dir;
	char name[NAME_MAX + 1];
	struct stat st;
	int ret = cow_manage_walk(m, path, &dir, name);

	if (ret < 0)
		return ret;
	ret = check_not_open(m, dir, name, path);
	if (ret < 0) {
		cow_node_forget(m->fs, dir, 1);
		return ret;
	}
	if (!name[0]) {
		ret = m->dry_run ? 0 : remove_upper(m, dir, name);
	} else if (dir->dir_upper < 0 ||
		   cow_sys_fstatat(dir->dir_upper, name, &st) < 0) {
		cow_manage_say(m, "%s: no changes", path);
		cow_node_forget(m->fs, dir, 1);
		return 0;
	} else {
		ret = m->dry_run ? 0 : remove_upper(m, dir, name);
	}
	if (ret == 0 && !m->dry_run) {
		cow_manage_sweep(m);
		ret = cow_manage_refresh(m, dir, name, false);
	}
	if (ret < 0)
		cow_manage_refuse(m, ret, "discarding %s: %s", path,
				  strerror(-ret));
	else
		cow_manage_say(m, "%s %s",
			       m->dry_run ? "would discard" : "discarded",
			       name[0] ? path : "everything");
	m->changes += ret == 0;
	cow_node_forget(m->fs, dir, 1);
	return ret;
}

int cow_discard(struct cow_manage *m, const char *path)
{
	int ret;

	pthread_rwlock_wrlock(&m->fs->ns_lock);
	m->fs->manage_gen++;
	ret = discard_locked(m, path);
	pthread_rwlock_unlock(&m->fs->ns_lock);
	return ret;
}

int cow_manage_affected(struct cow_manage *m, const char *path)
{
	struct cow_node *dir, *node;
	char name[NAME_MAX + 1];
	int ret;

	pthread_rwlock_wrlock(&m->fs->ns_lock);
	ret = cow_manage_walk(m, path, &dir, name);
	if (ret == 0) {
		node = name[0] ? cow_node_child(m->fs, dir, name) : dir;
		if (node)
			ret = cow_node_collect(m->fs, node, false,
					       &m->inval.nodes);
		if (node && node != dir)
			cow_node_put(m->fs, node);
		cow_node_forget(m->fs, dir, 1);
	}
	pthread_rwlock_unlock(&m->fs->ns_lock);
	return ret;
}
