/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The layer model: one node per virtual object, whatever layer backs it.
 *
 * A node is found by its identity (the st_ino it reports: the BASE inode
 * number for objects that came from BASE, the upper inode number otherwise),
 * so hard links and handles opened before or after copy-up all meet in one
 * node. Knows nothing of FUSE.
 *
 * Lock order (never taken in the other direction):
 *     fs->ns_lock  →  node->lock  →  fs->table_lock
 * ns_lock (rwlock): readers resolve names and read metadata; writers change
 * the namespace or copy up. node->lock (rwlock): readers do data I/O on the
 * current backing; writers change the backing (copy-up, open/close of the
 * backing descriptors). table_lock (mutex): the hash, refs and nlookup.
 */
#ifndef COW_NODE_H
#define COW_NODE_H

#include "chunkmap.h"
#include "store.h"

#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

enum cow_state {
	COW_BASE,    /* data and metadata in BASE */
	COW_META,    /* metadata in upper (metacopy), data in BASE */
	COW_UPPER,   /* data and metadata in upper */
	COW_PARTIAL, /* metadata in upper; data by chunk, per node->map */
};

struct cow_node;

/* A name of a node: @name in directory @parent (which it holds a ref on). */
struct cow_alias {
	struct cow_alias *next;
	struct cow_node *parent;
	char name[];
};

struct cow_node {
	struct cow_node *hnext; /* hash chain; table_lock */
	uint64_t key;		/* reported st_ino; immutable */
	uint64_t refs;		/* nlookup + handles + internal; table_lock */
	uint64_t nlookup;	/* kernel lookups; table_lock */
	uint64_t generation;	/* immutable */
	uint64_t used;		/* fs->clock at its last lookup; atomic */
	bool hashed;		/* findable by key; table_lock */
	/* unhashed while still referenced (fs->orphans); table_lock */
	struct cow_node *orphan_prev, *orphan_next;
	bool orphan;
	mode_t type;	       /* S_IFMT; immutable */
	pthread_rwlock_t lock; /* see lock order above */

	/* namespace: ns_lock (write to change, read to use) */
	struct cow_alias *aliases; /* empty once unlinked */
	enum cow_state state;	   /* also node->lock (write) to change */
	bool has_base;		   /* a BASE object stands behind it */
	bool indexed;		   /* upper inode lives at meta/index/<key> */
	nlink_t base_nlink;	   /* links of that BASE object */

	/* directories: ns_lock */
	int dir_upper;	 /* upper directory, -1 if none yet; owned */
	int dir_base;	 /* merged BASE directory, -1 if none; owned */
	char *base_path; /* BASE path of dir_base ("" for the root); owned */
	uint64_t dir_version;	  /* bumped on every change of the listing */
	struct cow_dirsnap *snap; /* listing being read; fs->snap_lock */

	/* partially copied files: map changes under fill_lock */
	struct cow_chunkmap *map;  /* NULL unless COW_PARTIAL; owned */
	bool map_damaged;	   /* COW_PARTIAL whose map failed to load */
	bool on_partial_list;	   /* fs->partial holds a ref; table_lock */
	pthread_mutex_t fill_lock; /* serialises first writes to chunks */
	off_t ra_last, ra_next;	   /* readahead hints (partial.c); atomic */

	/* regular files: node->lock */
	unsigned int nopen;   /* open handles */
	int fd_base;	      /* BASE data while open, -1 otherwise; owned */
	int fd_upper;	      /* upper data while open (or anonymous), owned */
	int64_t store_blocks; /* its upper data as counted (quota.c); atomic */
	bool excluded;	      /* written through to BASE (exclude.c) */
	/* fs->on_demand: backing opened by a data request and kept (changed
	 * under node->lock, write); used since the list's last pass (atomic) */
	bool demand, demand_used;
	/* on fs->demand, which holds a ref; table_lock */
	struct cow_node *demand_prev, *demand_next;
	bool on_demand_list;
};

#define COW_COPY_LOCKS 64

struct cow_fs {
	struct cow_base base;
	struct cow_store store;
	struct cow_node *root;
	pthread_rwlock_t ns_lock;
	pthread_mutex_t table_lock;
	pthread_mutex_t snap_lock; /* directory snapshots (dirlist.c) */
	struct cow_node **table;   /* table_lock */
	struct cow_node *orphans;  /* unhashed, still referenced; table_lock */
	size_t table_size, table_count;
	uint64_t next_generation; /* table_lock */
	size_t ndirs;		  /* hashed directory nodes; table_lock */
	uint64_t clock;		  /* ticks at each lookup; atomic */
	size_t max_dirs; /* directory nodes kept before eviction; 0: any */
	bool same_dev;	 /* BASE and upper share st_dev: inode numbers unique */

	/* chunked copy-up (see partial.c) */
	off_t chunk_threshold;	   /* files at least this big copy by chunk */
	unsigned int chunk_shift;  /* chunk size is 1 << chunk_shift */
	struct cow_node **partial; /* nodes being completed; table_lock */
	size_t npartial, partial_cap;
	unsigned long completer_rate; /* bytes per second, 0 = off */
	unsigned long activity;	      /* bumped by I/O; atomic */
	pthread_t completer;
	bool completer_running, completer_stop; /* completer_lock */
	pthread_mutex_t completer_lock;
	pthread_cond_t completer_cond;

	/* store size limit and warnings (quota.c) */
	uint64_t store_limit;	   /* bytes, 0 = none */
	int64_t store_used;	   /* bytes counted; atomic */
	unsigned char warn_pct[8]; /* thresholds in percent */
	int nwarn;
	unsigned int warned; /* bit i: warn_pct[i] is crossed; atomic */

	/* The kernel sends no OPEN or RELEASE (on_demand): data requests open
	 * a node's backing themselves, and at most max_demand nodes keep it
	 * (fileio.c); the list is in use order, newest first; table_lock. */
	bool on_demand;
	bool kernel_cmtime; /* the kernel keeps files' mtime and ctime itself
			     * (writeback cache) */
	struct cow_node *demand, *demand_tail;
	size_t ndemand, max_demand;

	/* exclude=PATTERN (exclude.c) */
	char **exclude;
	int nexclude;

	/* Data copy-ups made outside ns_lock (copyup_file.c): one at a time
	 * per node, by the lock its key hashes to, taken before ns_lock. */
	pthread_mutex_t copy_locks[COW_COPY_LOCKS];
	uint64_t manage_gen; /* bumped by commit and discard; ns_lock write */
};

int cow_fs_init(struct cow_fs *fs);
void cow_rwlock_init(pthread_rwlock_t *lock);
void cow_fs_destroy(struct cow_fs *fs);

/* Node table. cow_node_get/put take and drop internal refs. */
void cow_node_get(struct cow_fs *fs, struct cow_node *node);
void cow_node_put(struct cow_fs *fs, struct cow_node *node);
/* Counts a ref the caller holds as one kernel lookup; forget drops them. */
void cow_node_ref_to_lookup(struct cow_fs *fs, struct cow_node *node);
void cow_node_forget(struct cow_fs *fs, struct cow_node *node, uint64_t n);
/* Stops @node from being found by key (it was unlinked for good). */
void cow_node_unhash(struct cow_fs *fs, struct cow_node *node);

/* A new, unhashed node with one ref; NULL when out of memory. */
struct cow_node *cow_node_new(uint64_t key, mode_t type);
/*
 * Inserts @fresh (made by cow_node_new and filled in) unless a node with its
 * key and type is already hashed: then frees @fresh and returns that node
 * with a ref taken.
 */
struct cow_node *cow_node_insert(struct cow_fs *fs, struct cow_node *fresh);
void cow_node_discard(struct cow_node *fresh);
/* The same for an object just made, whose inode number no live object
 * has: a hashed node of that identity is stale and is unhashed. */
struct cow_node *cow_node_insert_new(struct cow_fs *fs, struct cow_node *fresh);
/* The hashed node of identity @key and @type's kind (ref taken), or NULL. */
struct cow_node *cow_node_find(struct cow_fs *fs, uint64_t key, mode_t type);
/* The same among the unhashed nodes still referenced (unlinked, open). */
struct cow_node *cow_node_find_orphan(struct cow_fs *fs, uint64_t key,
				      mode_t type);

/*
 * Aliases. Changes happen under ns_lock (write); the list itself is guarded
 * by table_lock so that lookups (ns_lock read) may add names concurrently.
 */
int cow_node_add_alias(struct cow_fs *fs, struct cow_node *node,
		       struct cow_node *parent, const char *name);
void cow_node_drop_alias(struct cow_fs *fs, struct cow_node *node,
			 struct cow_node *parent, const char *name);
int cow_node_move_alias(struct cow_fs *fs, struct cow_node *node,
			struct cow_node *oldp, const char *oldname,
			struct cow_node *newp, const char *newname);
/*
 * Copies out one name of @node. False when it has none (unlinked). The
 * parent stays valid while the caller holds ns_lock.
 */
bool cow_node_name(struct cow_fs *fs, struct cow_node *node,
		   struct cow_node **parent, char name[NAME_MAX + 1]);

/*
 * For commit and discard on a live view (ns_lock held for writing):
 * cow_node_rekey gives @node a new identity (its BASE object was replaced);
 * cow_node_collect gathers, with a ref each, every hashed node with a name
 * at or below @top, or (@nameless) every hashed node without a name;
 * cow_node_child finds the node named @name in @dir (ref taken) or NULL.
 */
struct cow_node_set {
	struct cow_node **nodes;
	size_t count, cap;
};

void cow_node_rekey(struct cow_fs *fs, struct cow_node *node, uint64_t key);
int cow_node_collect(struct cow_fs *fs, struct cow_node *top, bool nameless,
		     struct cow_node_set *set);
struct cow_node *cow_node_child(struct cow_fs *fs, struct cow_node *dir,
				const char *name);
void cow_node_set_free(struct cow_fs *fs, struct cow_node_set *set);
/* Every hashed directory node but the root that has a name (refs taken). */
int cow_node_collect_dirs(struct cow_fs *fs, struct cow_node_set *set);

/*
 * Nodes holding backing opened on demand (fileio.c): cow_node_demand_add
 * lists @node (a ref taken) unless it is listed and tells whether the list
 * is over max_demand; cow_node_demand_victim takes the least recently used
 * node off it (the list's ref passes to the caller) while it is over, giving
 * a node used since the last pass a second chance. A node the kernel
 * forgets leaves the list and closes its backing when it goes.
 */
bool cow_node_demand_add(struct cow_fs *fs, struct cow_node *node);
struct cow_node *cow_node_demand_victim(struct cow_fs *fs);

/* The node's backing descriptors are kept open: handles count on them,
 * or data requests opened them (on_demand). node->lock held. */
static inline bool cow_backing_held(const struct cow_node *node)
{
	return node->nopen > 0 || node->demand;
}

/* Marks @node used now (the eviction of cold directories goes by it). */
static inline void cow_node_touch(struct cow_fs *fs, struct cow_node *node)
{
	__atomic_store_n(&node->used,
			 __atomic_add_fetch(&fs->clock, 1, __ATOMIC_RELAXED),
			 __ATOMIC_RELAXED);
}

/* Reported st_ino for an upper-only object. */
uint64_t cow_fs_upper_key(const struct cow_fs *fs, ino_t ino);

#endif
