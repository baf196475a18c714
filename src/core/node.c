// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Node table: O(1) lookup by identity, reference counts, aliases. Nodes
 * hold descriptors only where the data path needs them (directories'
 * layer descriptors; files' backing while open).
 */
#include "layer.h"
#include "array.h"
#include "log.h"

#include "sys.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TABLE_MIN 1024

/*
 * Writers first: a copy-up or a namespace change must not starve behind a
 * stream of reads. No path takes one of these locks twice for reading.
 */
void cow_rwlock_init(pthread_rwlock_t *lock)
{
	pthread_rwlockattr_t attr;

	pthread_rwlockattr_init(&attr);
	pthread_rwlockattr_setkind_np(
		&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(lock, &attr);
	pthread_rwlockattr_destroy(&attr);
}

static size_t slot_of(const struct cow_fs *fs, uint64_t key)
{
	key ^= key >> 33;
	key *= 0xff51afd7ed558ccdULL;
	key ^= key >> 33;
	return (size_t)(key & (fs->table_size - 1));
}

static void table_grow_locked(struct cow_fs *fs)
{
	size_t old_size = fs->table_size, i;
	struct cow_node **old = fs->table, **fresh;

	fresh = calloc(old_size * 2, sizeof(*fresh));
	if (!fresh)
		return; /* chains just get longer */
	fs->table = fresh;
	fs->table_size = old_size * 2;
	for (i = 0; i < old_size; i++) {
		struct cow_node *n = old[i], *next;
		for (; n; n = next) {
			size_t s = slot_of(fs, n->key);
			next = n->hnext;
			n->hnext = fresh[s];
			fresh[s] = n;
		}
	}
	free(old);
}

static void unhash_locked(struct cow_fs *fs, struct cow_node *node)
{
	struct cow_node **pp = &fs->table[slot_of(fs, node->key)];

	if (!node->hashed)
		return;
	for (; *pp; pp = &(*pp)->hnext) {
		if (*pp == node) {
			*pp = node->hnext;
			break;
		}
	}
	node->hashed = false;
	node->hnext = NULL;
	fs->table_count--;
	if (S_ISDIR(node->type))
		fs->ndirs--;
}

/* Unhashed nodes that live on are listed, so that destroy finds them. */
static void orphan_locked(struct cow_fs *fs, struct cow_node *node)
{
	if (node->orphan)
		return;
	node->orphan = true;
	node->orphan_prev = NULL;
	node->orphan_next = fs->orphans;
	if (fs->orphans)
		fs->orphans->orphan_prev = node;
	fs->orphans = node;
}

static void unorphan_locked(struct cow_fs *fs, struct cow_node *node)
{
	if (!node->orphan)
		return;
	if (node->orphan_prev)
		node->orphan_prev->orphan_next = node->orphan_next;
	else
		fs->orphans = node->orphan_next;
	if (node->orphan_next)
		node->orphan_next->orphan_prev = node->orphan_prev;
	node->orphan = false;
}

uint64_t cow_fs_upper_key(const struct cow_fs *fs, ino_t ino)
{
	return fs->same_dev ? (uint64_t)ino : (uint64_t)ino | (1ULL << 63);
}

int cow_fs_init(struct cow_fs *fs)
{
	fs->table_size = TABLE_MIN;
	fs->table = calloc(fs->table_size, sizeof(*fs->table));
	if (!fs->table)
		return -ENOMEM;
	fs->table_count = 0;
	fs->next_generation = 1;
	fs->same_dev = fs->base.dev == fs->store.dev;
	if (!fs->chunk_shift)
		fs->chunk_shift = 16;
	if (!fs->chunk_threshold)
		fs->chunk_threshold = 4 << 20;
	pthread_mutex_init(&fs->completer_lock, NULL);
	pthread_cond_init(&fs->completer_cond, NULL);
	cow_rwlock_init(&fs->ns_lock);
	pthread_mutex_init(&fs->table_lock, NULL);
	pthread_mutex_init(&fs->snap_lock, NULL);
	for (size_t i = 0; i < COW_COPY_LOCKS; i++)
		pthread_mutex_init(&fs->copy_locks[i], NULL);
	return 0;
}

static void free_node(struct cow_node *node)
{
	cow_sys_close(node->dir_upper);
	cow_sys_close(node->dir_base);
	cow_sys_close(node->fd_base);
	cow_sys_close(node->fd_upper);
	free(node->base_path);
	if (node->map) {
		cow_chunkmap_close(node->map);
		free(node->map);
	}
	/* readers hold the node while they hold its snapshot */
	if (node->snap && --node->snap->refs == 0) {
		cow_dirlist_free(&node->snap->list);
		free(node->snap);
	}
	pthread_mutex_destroy(&node->fill_lock);
	pthread_rwlock_destroy(&node->lock);
	free(node);
}

static void destroy_node(struct cow_node *n)
{
	struct cow_alias *a, *an;

	for (a = n->aliases; a; a = an) {
		an = a->next;
		free(a);
	}
	free_node(n);
}

void cow_fs_destroy(struct cow_fs *fs)
{
	struct cow_node *n, *next;
	size_t i;

	for (i = 0; i < fs->table_size; i++)
		for (n = fs->table[i]; n; n = next) {
			next = n->hnext;
			destroy_node(n);
		}
	for (n = fs->orphans; n; n = next) {
		next = n->orphan_next;
		destroy_node(n);
	}
	fs->orphans = NULL;
	free(fs->table);
	fs->table = NULL;
	free(fs->partial);
	fs->partial = NULL;
	pthread_mutex_destroy(&fs->completer_lock);
	pthread_cond_destroy(&fs->completer_cond);
	pthread_rwlock_destroy(&fs->ns_lock);
	pthread_mutex_destroy(&fs->table_lock);
	pthread_mutex_destroy(&fs->snap_lock);
	for (i = 0; i < COW_COPY_LOCKS; i++)
		pthread_mutex_destroy(&fs->copy_locks[i]);
}

void cow_node_get(struct cow_fs *fs, struct cow_node *node)
{
	pthread_mutex_lock(&fs->table_lock);
	node->refs++;
	pthread_mutex_unlock(&fs->table_lock);
}

/*
 * Drops one ref; the last one frees the node and, in turn, the refs its
 * aliases held on their parents (iteratively, not recursively).
 */
void cow_node_put(struct cow_fs *fs, struct cow_node *node)
{
	while (node) {
		struct cow_alias *a, *next;
		struct cow_node *parent = NULL;

		pthread_mutex_lock(&fs->table_lock);
		if (--node->refs > 0) {
			pthread_mutex_unlock(&fs->table_lock);
			return;
		}
		unhash_locked(fs, node);
		unorphan_locked(fs, node);
		pthread_mutex_unlock(&fs->table_lock);
		for (a = node->aliases; a; a = next) {
			next = a->next;
			if (parent)
				cow_node_put(fs, a->parent);
			else
				parent = a->parent;
			free(a);
		}
		free_node(node);
		node = parent;
	}
}

void cow_node_ref_to_lookup(struct cow_fs *fs, struct cow_node *node)
{
	pthread_mutex_lock(&fs->table_lock);
	node->nlookup++;
	pthread_mutex_unlock(&fs->table_lock);
}

static void demand_unlink_locked(struct cow_fs *fs, struct cow_node *node)
{
	if (node->demand_prev)
		node->demand_prev->demand_next = node->demand_next;
	else
		fs->demand = node->demand_next;
	if (node->demand_next)
		node->demand_next->demand_prev = node->demand_prev;
	else
		fs->demand_tail = node->demand_prev;
	node->demand_prev = node->demand_next = NULL;
	node->on_demand_list = false;
	fs->ndemand--;
}

static void demand_push_locked(struct cow_fs *fs, struct cow_node *node)
{
	node->on_demand_list = true;
	node->demand_next = fs->demand;
	if (fs->demand)
		fs->demand->demand_prev = node;
	else
		fs->demand_tail = node;
	fs->demand = node;
	fs->ndemand++;
}

bool cow_node_demand_add(struct cow_fs *fs, struct cow_node *node)
{
	bool over;

	pthread_mutex_lock(&fs->table_lock);
	if (!node->on_demand_list) {
		node->refs++;
		demand_push_locked(fs, node);
	}
	over = fs->ndemand > fs->max_demand;
	pthread_mutex_unlock(&fs->table_lock);
	return over;
}

struct cow_node *cow_node_demand_victim(struct cow_fs *fs)
{
	struct cow_node *node = NULL;
	size_t passed = 0;

	pthread_mutex_lock(&fs->table_lock);
	while (fs->ndemand > fs->max_demand && (node = fs->demand_tail)) {
		demand_unlink_locked(fs, node);
		if (passed++ < fs->ndemand &&
		    __atomic_exchange_n(&node->demand_used, false,
					__ATOMIC_RELAXED)) {
			demand_push_locked(fs,
					   node); /* used: a second chance */
			node = NULL;
			continue;
		}
		break;
	}
	pthread_mutex_unlock(&fs->table_lock);
	return node;
}

void cow_node_forget(struct cow_fs *fs, struct cow_node *node, uint64_t n)
{
	pthread_mutex_lock(&fs->table_lock);
	if (n > node->nlookup)
		n = node->nlookup;
	node->nlookup -= n;
	if (n == 0) {
		pthread_mutex_unlock(&fs->table_lock);
		return;
	}
	/* Forgotten: no request can come for it, and its backing goes with
	 * it. All but one ref go here; the last through put, which may free. */
	if (node->nlookup == 0 && node->on_demand_list) {
		demand_unlink_locked(fs, node);
		node->refs--;
	}
	node->refs -= n - 1;
	pthread_mutex_unlock(&fs->table_lock);
	cow_node_put(fs, node);
}

void cow_node_unhash(struct cow_fs *fs, struct cow_node *node)
{
	pthread_mutex_lock(&fs->table_lock);
	if (node->hashed)
		orphan_locked(fs, node);
	unhash_locked(fs, node);
	pthread_mutex_unlock(&fs->table_lock);
}

struct cow_node *cow_node_new(uint64_t key, mode_t type)
{
	struct cow_node *node = calloc(1, sizeof(*node));

	if (!node)
		return NULL;
	node->key = key;
	node->type = type & S_IFMT;
	node->refs = 1;
	node->dir_upper = node->dir_base = -1;
	node->fd_base = node->fd_upper = -1;
	cow_rwlock_init(&node->lock);
	pthread_mutex_init(&node->fill_lock, NULL);
	return node;
}

/* The node of @key and @type's kind in the table, or among the orphans
 * (table_lock held). */
static struct cow_node *find_locked(struct cow_fs *fs, uint64_t key,
				    mode_t type, bool orphans)
{
	struct cow_node *node =
		orphans ? fs->orphans : fs->table[slot_of(fs, key)];

	while (node && (node->key != key || node->type != (type & S_IFMT)))
		node = orphans ? node->orphan_next : node->hnext;
	return node;
}

/* find_locked, with a ref taken. */
static struct cow_node *find(struct cow_fs *fs, uint64_t key, mode_t type,
			     bool orphans)
{
	struct cow_node *node;

	pthread_mutex_lock(&fs->table_lock);
	node = find_locked(fs, key, type, orphans);
	if (node)
		node->refs++;
	pthread_mutex_unlock(&fs->table_lock);
	return node;
}

struct cow_node *cow_node_find(struct cow_fs *fs, uint64_t key, mode_t type)
{
	return find(fs, key, type, false);
}

struct cow_node *cow_node_find_orphan(struct cow_fs *fs, uint64_t key,
				      mode_t type)
{
	return find(fs, key, type, true);
}

void cow_node_discard(struct cow_node *fresh)
{
	free_node(fresh);
}

static struct cow_node *insert_locked(struct cow_fs *fs, struct cow_node *fresh)
{
	size_t s = slot_of(fs, fresh->key);

	fresh->generation = fs->next_generation++;
	fresh->hashed = true;
	fresh->hnext = fs->table[s];
	fs->table[s] = fresh;
	if (S_ISDIR(fresh->type))
		fs->ndirs++;
	if (++fs->table_count > fs->table_size)
		table_grow_locked(fs);
	return fresh;
}

struct cow_node *cow_node_insert(struct cow_fs *fs, struct cow_node *fresh)
{
	struct cow_node *node;

	pthread_mutex_lock(&fs->table_lock);
	node = find_locked(fs, fresh->key, fresh->type, false);
	if (node)
		node->refs++;
	else
		node = insert_locked(fs, fresh);
	pthread_mutex_unlock(&fs->table_lock);
	if (node != fresh)
		free_node(fresh);
	return node;
}

struct cow_node *cow_node_insert_new(struct cow_fs *fs, struct cow_node *fresh)
{
	struct cow_node *stale;

	pthread_mutex_lock(&fs->table_lock);
	stale = find_locked(fs, fresh->key, fresh->type, false);
	if (stale) {
		cow_warn("a node of inode %llu outlived its object (type %o, "
			 "state %d, refs %llu, lookups %llu, open %u, base %d, "
			 "indexed %d, name '%s'): it is let go for the new one",
			 (unsigned long long)fresh->key, (unsigned)stale->type,
			 (int)stale->state, (unsigned long long)stale->refs,
			 (unsigned long long)stale->nlookup, stale->nopen,
			 stale->has_base, stale->indexed,
			 stale->aliases ? stale->aliases->name : "");
		orphan_locked(fs, stale);
		unhash_locked(fs, stale);
	}
	insert_locked(fs, fresh);
	pthread_mutex_unlock(&fs->table_lock);
	return fresh;
}

static bool has_alias_locked(struct cow_node *node, struct cow_node *parent,
			     const char *name)
{
	struct cow_alias *a;

	for (a = node->aliases; a; a = a->next)
		if (a->parent == parent && !strcmp(a->name, name))
			return true;
	return false;
}

int cow_node_add_alias(struct cow_fs *fs, struct cow_node *node,
		       struct cow_node *parent, const char *name)
{
	size_t len = strlen(name);
	struct cow_alias *a;

	pthread_mutex_lock(&fs->table_lock);
	if (has_alias_locked(node, parent, name)) {
		pthread_mutex_unlock(&fs->table_lock);
		return 0;
	}
	pthread_mutex_unlock(&fs->table_lock);
	a = malloc(sizeof(*a) + len + 1);
	if (!a)
		return -ENOMEM;
	memcpy(a->name, name, len + 1);
	a->parent = parent;
	pthread_mutex_lock(&fs->table_lock);
	if (has_alias_locked(node, parent, name)) {
		pthread_mutex_unlock(&fs->table_lock);
		free(a);
		return 0;
	}
	parent->refs++;
	a->next = node->aliases;
	node->aliases = a;
	pthread_mutex_unlock(&fs->table_lock);
	return 0;
}

void cow_node_drop_alias(struct cow_fs *fs, struct cow_node *node,
			 struct cow_node *parent, const char *name)
{
	struct cow_alias **pp, *a;

	pthread_mutex_lock(&fs->table_lock);
	for (pp = &node->aliases; (a = *pp); pp = &a->next) {
		if (a->parent == parent && !strcmp(a->name, name)) {
			*pp = a->next;
			break;
		}
	}
	pthread_mutex_unlock(&fs->table_lock);
	if (a) {
		cow_node_put(fs, a->parent);
		free(a);
	}
}

int cow_node_move_alias(struct cow_fs *fs, struct cow_node *node,
			struct cow_node *oldp, const char *oldname,
			struct cow_node *newp, const char *newname)
{
	int ret = cow_node_add_alias(fs, node, newp, newname);

	if (ret == 0)
		cow_node_drop_alias(fs, node, oldp, oldname);
	return ret;
}

bool cow_node_name(struct cow_fs *fs, struct cow_node *node,
		   struct cow_node **parent, char name[NAME_MAX + 1])
{
	struct cow_alias *a;

	pthread_mutex_lock(&fs->table_lock);
	a = node->aliases;
	if (a) {
		*parent = a->parent;
		snprintf(name, NAME_MAX + 1, "%s", a->name);
	}
	pthread_mutex_unlock(&fs->table_lock);
	return a != NULL;
}

void cow_node_rekey(struct cow_fs *fs, struct cow_node *node, uint64_t key)
{
	size_t s;

	pthread_mutex_lock(&fs->table_lock);
	if (node->hashed) {
		unhash_locked(fs, node);
		node->key = key;
		s = slot_of(fs, key);
		node->hnext = fs->table[s];
		fs->table[s] = node;
		node->hashed = true;
		fs->table_count++;
		if (S_ISDIR(node->type))
			fs->ndirs++;
	} else {
		node->key = key;
	}
	pthread_mutex_unlock(&fs->table_lock);
}

/* Whether a name of @node lies at or below @top (table_lock held). */
static bool below_locked(struct cow_node *node, struct cow_node *top, int depth)
{
	struct cow_alias *a;

	if (node == top)
		return true;
	if (depth > 4096)
		return false;
	for (a = node->aliases; a; a = a->next)
		if (below_locked(a->parent, top, depth + 1))
			return true;
	return false;
}

static int push_node(struct cow_node_set *set, struct cow_node *node)
{
	struct cow_node **grown;

	grown = cow_grow(set->nodes, &set->cap, set->count, sizeof(*grown), 16);
	if (!grown)
		return -ENOMEM;
	set->nodes = grown;
	node->refs++;
	set->nodes[set->count++] = node;
	return 0;
}

enum collect_what { COLLECT_BELOW, COLLECT_NAMELESS, COLLECT_DIRS };

static bool wanted_locked(struct cow_fs *fs, struct cow_node *n,
			  enum collect_what what, struct cow_node *top)
{
	switch (what) {
	case COLLECT_NAMELESS:
		return !n->aliases && n != fs->root;
	case COLLECT_DIRS:
		return S_ISDIR(n->type) && n != fs->root && n->aliases;
	default:
		return below_locked(n, top, 0);
	}
}

static int collect(struct cow_fs *fs, enum collect_what what,
		   struct cow_node *top, struct cow_node_set *set)
{
	struct cow_node *n;
	size_t i;
	int ret = 0;

	pthread_mutex_lock(&fs->table_lock);
	for (i = 0; i < fs->table_size && ret == 0; i++)
		for (n = fs->table[i]; n && ret == 0; n = n->hnext)
			if (wanted_locked(fs, n, what, top))
				ret = push_node(set, n);
	pthread_mutex_unlock(&fs->table_lock);
	return ret;
}

int cow_node_collect(struct cow_fs *fs, struct cow_node *top, bool nameless,
		     struct cow_node_set *set)
{
	return collect(fs, nameless ? COLLECT_NAMELESS : COLLECT_BELOW, top,
		       set);
}

int cow_node_collect_dirs(struct cow_fs *fs, struct cow_node_set *set)
{
	return collect(fs, COLLECT_DIRS, NULL, set);
}

struct cow_node *cow_node_child(struct cow_fs *fs, struct cow_node *dir,
				const char *name)
{
	struct cow_node *n, *found = NULL;
	struct cow_alias *a;
	size_t i;

	pthread_mutex_lock(&fs->table_lock);
	for (i = 0; i < fs->table_size && !found; i++)
		for (n = fs->table[i]; n && !found; n = n->hnext)
			for (a = n->aliases; a && !found; a = a->next)
				if (a->parent == dir && !strcmp(a->name, name))
					found = n;
	if (found)
		found->refs++;
	pthread_mutex_unlock(&fs->table_lock);
	return found;
}

void cow_node_set_free(struct cow_fs *fs, struct cow_node_set *set)
{
	size_t i;

	for (i = 0; i < set->count; i++)
		cow_node_put(fs, set->nodes[i]);
	free(set->nodes);
	memset(set, 0, sizeof(*set));
}
