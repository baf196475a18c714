// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Bringing nodes up to date after commit or discard changed the layers
 * under them, with ns_lock held for writing. A node that still resolves to
 * the same object adopts its new layer state (open files reopen their
 * backing, so every handle and mapping follows); a node whose name is gone
 * is detached like an unlinked file. The kernel is told afterwards, from
 * the collected struct cow_inval.
 */
#include "manage.h"
#include "array.h"

#include "lookup_i.h"
#include "partial_i.h"
#include "sys.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cow_inval_add_ent(struct cow_fs *fs, struct cow_inval *inv,
		      struct cow_node *dir, const char *name)
{
	struct cow_inval_ent *grown;

	grown = cow_grow(inv->ents, &inv->cap, inv->nents, sizeof(*grown), 16);
	if (!grown)
		return -ENOMEM;
	inv->ents = grown;
	inv->ents[inv->nents].name = strdup(name);
	if (!inv->ents[inv->nents].name)
		return -ENOMEM;
	inv->ents[inv->nents++].dir = dir;
	cow_node_get(fs, dir); /* dropped by cow_inval_free */
	return 0;
}

void cow_inval_add_node(struct cow_fs *fs, struct cow_inval *inv,
			struct cow_node *node)
{
	struct cow_node_set *set = &inv->nodes;
	struct cow_node **grown;

	grown = cow_grow(set->nodes, &set->cap, set->count, sizeof(*grown), 16);
	if (!grown)
		return;
	set->nodes = grown;
	cow_node_get(fs, node);
	set->nodes[set->count++] = node;
}

void cow_inval_free(struct cow_fs *fs, struct cow_inval *inv)
{
	size_t i;

	for (i = 0; i < inv->nents; i++) {
		cow_node_put(fs, inv->ents[i].dir);
		free(inv->ents[i].name);
	}
	free(inv->ents);
	cow_node_set_free(fs, &inv->nodes);
	memset(inv, 0, sizeof(*inv));
}

static void detach(struct cow_manage *m, struct cow_node *node,
		   struct cow_node *dir, const char *name)
{
	cow_inval_add_ent(m->fs, &m->inval, dir, name); /* before @name goes */
	cow_node_drop_alias(m->fs, node, dir, name);
	if (!node->aliases)
		cow_node_unhash(m->fs, node);
}

static int refresh_one(struct cow_manage *m, struct cow_node *node,
		       struct cow_node *dir, const char *name, bool rekey)
{
	struct cow_resolved r;
	int ret;

	/*
	 * Discard: a regular file (never open: discard refuses those) is
	 * detached, so that the kernel takes a fresh inode for the name: its
	 * own cached size would outlive an invalidation under writeback.
	 */
	if (!rekey && S_ISREG(node->type)) {
		while (node->aliases) /* hard links share the change */
			detach(m, node, node->aliases->parent,
			       node->aliases->name);
		cow_node_unhash(m->fs, node);
		return 0;
	}
	ret = cow_resolve(m->fs, dir, name, &r);

	if (ret == 0 && ((r.st.st_mode & S_IFMT) != node->type ||
			 (r.key != node->key && !rekey))) {
		cow_resolved_free(&r);
		ret = -ENOENT;
	}
	if (ret < 0) {
		detach(m, node, dir, name);
		return ret == -ENOENT ? 0 : ret;
	}
	if (r.key != node->key)
		cow_node_rekey(m->fs, node, r.key);
	pthread_rwlock_wrlock(&node->lock);
	cow_node_adopt(node, &r);
	node->dir_version++;
	if (S_ISREG(node->type))
		ret = cow_file_reopen_locked(m->fs, node);
	pthread_rwlock_unlock(&node->lock);
	cow_resolved_free(&r);
	if (node->state == COW_PARTIAL && node->map && !node->on_partial_list)
		cow_partial_track(m->fs, node);
	cow_inval_add_node(m->fs, &m->inval, node);
	return ret;
}

static int depth_of(const struct cow_node *node)
{
	int d = 0;

	while (node->aliases && d < 4096) {
		node = node->aliases->parent;
		d++;
	}
	return d;
}

static int by_depth(const void *a, const void *b)
{
	int da = depth_of(*(struct cow_node *const *)a);
	int db = depth_of(*(struct cow_node *const *)b);

	return (da > db) - (da < db);
}

/* Refreshes the nodes below @top (not @top itself), parents first. */
static int refresh_below(struct cow_manage *m, struct cow_node *top, bool rekey)
{
	struct cow_node_set set = {0};
	size_t i;
	int ret = cow_node_collect(m->fs, top, false, &set);

	if (ret == 0)
		qsort(set.nodes, set.count, sizeof(*set.nodes), by_depth);
	for (i = 0; ret == 0 && i < set.count; i++) {
		struct cow_node *n = set.nodes[i];
		struct cow_alias *a = n->aliases;
		if (n == top || !a)
			continue;
		if (!a->parent->aliases && a->parent != m->fs->root)
			detach(m, n, a->parent, a->name); /* parent gone */
		else
			ret = refresh_one(m, n, a->parent, a->name, rekey);
	}
	cow_node_set_free(m->fs, &set);
	return ret;
}

int cow_manage_refresh(struct cow_manage *m, struct cow_node *dir,
		       const char *name, bool rekey)
{
	struct cow_node *node;
	int ret = 0;

	dir->dir_version++;
	cow_inval_add_node(m->fs, &m->inval, dir);
	if (!name[0]) /* the root: everything */
		return refresh_below(m, dir, rekey);
	cow_inval_add_ent(m->fs, &m->inval, dir, name);
	node = cow_node_child(m->fs, dir, name);
	if (!node)
		return 0;
	ret = refresh_below(m, node, rekey);
	if (ret == 0)
		ret = refresh_one(m, node, dir, name, rekey);
	cow_node_put(m->fs, node);
	return ret;
}

/* A nameless node (queued by the partial scan) whose copy is gone. */
static void drop_stale_nameless(struct cow_manage *m)
{
	struct cow_node_set set = {0};
	char mname[40], dname[40];
	struct stat st;
	size_t i;

	if (cow_node_collect(m->fs, NULL, true, &set) < 0)
		return;
	for (i = 0; i < set.count; i++) {
		struct cow_node *n = set.nodes[i];
		if (n->state != COW_PARTIAL || cow_backing_held(n))
			continue;
		cow_partial_names(n, mname, dname);
		if (cow_sys_fstatat(m->fs->store.chunks_fd, dname, &st) < 0 ||
		    st.st_nlink < 2)
			cow_node_unhash(m->fs, n);
	}
	cow_node_set_free(m->fs, &set);
}

static void sweep_dir(int dirfd)
{
	char data[NAME_MAX + 8];
	struct dirent *de;
	struct stat st;
	int fd = cow_sys_openat(dirfd, ".", O_RDONLY | O_DIRECTORY, 0);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);

	if (!d) {
		cow_sys_close(fd);
		return;
	}
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' || strchr(de->d_name, '.'))
			continue;
		snprintf(data, sizeof(data), "%s.data", de->d_name);
		if (cow_sys_fstatat(dirfd, data, &st) == 0 && st.st_nlink >= 2)
			continue;
		cow_sys_unlinkat(dirfd, de->d_name, 0);
		cow_sys_unlinkat(dirfd, data, 0);
	}
	closedir(d);
}

void cow_manage_sweep(struct cow_manage *m)
{
	/* Index entries are left alone: one whose upper names are all gone
	 * still serves the BASE names of that inode. */
	sweep_dir(m->fs->store.chunks_fd);
	drop_stale_nameless(m);
}
