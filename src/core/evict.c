// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Bounding the directories held. Every directory node keeps its layer
 * directories open while the kernel remembers it, so a walk over a big
 * tree would hold a descriptor per directory. Past fs->max_dirs, this
 * picks the least recently looked-up ones, by name, for the front end to
 * make the kernel forget (it drops what no process uses; the forgets that
 * follow free the nodes and their descriptors). Knows nothing of FUSE.
 */
#include "manage.h"

#include <stdlib.h>

static int older(const void *a, const void *b)
{
	uint64_t ua = __atomic_load_n(&(*(struct cow_node *const *)a)->used,
				      __ATOMIC_RELAXED);
	uint64_t ub = __atomic_load_n(&(*(struct cow_node *const *)b)->used,
				      __ATOMIC_RELAXED);

	return ua < ub ? -1 : ua > ub;
}

bool cow_evict_needed(struct cow_fs *fs)
{
	size_t n;

	if (!fs->max_dirs)
		return false;
	pthread_mutex_lock(&fs->table_lock);
	n = fs->ndirs;
	pthread_mutex_unlock(&fs->table_lock);
	return n > fs->max_dirs;
}

int cow_evict_pick(struct cow_fs *fs, struct cow_inval *inv)
{
	struct cow_node_set all = {0};
	char name[NAME_MAX + 1];
	struct cow_node *parent;
	size_t want, i;
	int ret;

	ret = cow_node_collect_dirs(fs, &all);
	/* down to 3/4 of the bound, so that eviction comes in rounds */
	want = all.count > fs->max_dirs - fs->max_dirs / 4
		       ? all.count - (fs->max_dirs - fs->max_dirs / 4)
		       : 0;
	if (ret == 0 && want)
		qsort(all.nodes, all.count, sizeof(*all.nodes), older);
	pthread_rwlock_rdlock(&fs->ns_lock);
	for (i = 0; ret == 0 && i < want && i < all.count; i++)
		if (cow_node_name(fs, all.nodes[i], &parent, name))
			ret = cow_inval_add_ent(fs, inv, parent, name);
	pthread_rwlock_unlock(&fs->ns_lock);
	cow_node_set_free(fs, &all);
	return ret;
}
