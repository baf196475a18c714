// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Merged directory listings: upper entries first, then BASE entries not
 * shadowed by an upper entry or a whiteout; an opaque directory shows its
 * upper entries only. A listing is a snapshot, so offsets stay stable.
 */
#include "layer.h"
#include "array.h"
#include "lookup_i.h"

#include "sys.h"

#include <dirent.h>
#include <fcntl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Open-addressing set of names already listed or whited out. */
struct name_set {
	char **slots;
	size_t size, count;
};

static size_t name_hash(const char *s)
{
	size_t h = 1469598103934665603ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static int set_grow(struct name_set *set)
{
	size_t size = set->size ? set->size * 2 : 64, i;
	char **slots = calloc(size, sizeof(*slots));

	if (!slots)
		return -ENOMEM;
	for (i = 0; i < set->size; i++) {
		size_t j;
		if (!set->slots[i])
			continue;
		for (j = name_hash(set->slots[i]) & (size - 1); slots[j];
		     j = (j + 1) & (size - 1))
			;
		slots[j] = set->slots[i];
	}
	free(set->slots);
	set->slots = slots;
	set->size = size;
	return 0;
}

static bool set_has(const struct name_set *set, const char *name)
{
	size_t j;

	if (!set->size)
		return false;
	for (j = name_hash(name) & (set->size - 1); set->slots[j];
	     j = (j + 1) & (set->size - 1))
		if (!strcmp(set->slots[j], name))
			return true;
	return false;
}

/* Adds @name (borrowed; must outlive the set). 1 if already present. */
static int set_add(struct name_set *set, char *name)
{
	size_t j;

	if ((set->count + 1) * 2 > set->size && set_grow(set) < 0)
		return -ENOMEM;
	for (j = name_hash(name) & (set->size - 1); set->slots[j];
	     j = (j + 1) & (set->size - 1))
		if (!strcmp(set->slots[j], name))
			return 1;
	set->slots[j] = name;
	set->count++;
	return 0;
}

static int list_add(struct cow_dirlist *list, const char *name, uint64_t ino,
		    mode_t type)
{
	struct cow_dirent *e;

	e = cow_grow(list->ents, &list->cap, list->count, sizeof(*e), 32);
	if (!e)
		return -ENOMEM;
	list->ents = e;
	e = &list->ents[list->count];
	e->name = strdup(name);
	if (!e->name)
		return -ENOMEM;
	e->ino = ino;
	e->type = type;
	list->count++;
	return 0;
}

void cow_dirlist_free(struct cow_dirlist *list)
{
	size_t i;

	for (i = 0; i < list->count; i++)
		free(list->ents[i].name);
	free(list->ents);
	memset(list, 0, sizeof(*list));
}

static mode_t dtype_mode(unsigned char t)
{
	return t == DT_UNKNOWN ? 0 : (mode_t)DTTOIF(t);
}

/* The st_ino an upper entry reports: its origin when copied up. */
static uint64_t upper_ino(struct cow_fs *fs, struct cow_node *dir,
			  const char *name, ino_t ino, bool in_base,
			  struct stat *bst)
{
	char buf[32];
	ssize_t n;

	n = cow_sys_getxattrat(dir->dir_upper, name, fs->store.x_origin, buf,
			       sizeof(buf) - 1);
	if (n > 0) {
		buf[n] = '\0';
		return strtoull(buf, NULL, 10);
	}
	if (in_base && S_ISDIR(bst->st_mode))
		return bst->st_ino;
	return cow_fs_upper_key(fs, ino);
}

typedef int (*entry_fn)(void *ctx, struct dirent *de);

/* Calls @fn for every entry of the directory open at @fd (consumed). */
static int each_entry(int fd, entry_fn fn, void *ctx)
{
	struct dirent *de;
	int ret = 0;
	DIR *d;

	if (fd < 0)
		return fd;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -errno;
	}
	while (ret == 0 && (errno = 0, de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			ret = fn(ctx, de);
	if (ret == 0 && errno)
		ret = -errno;
	closedir(d);
	return ret;
}

struct merge {
	struct cow_fs *fs;
	struct cow_node *dir;
	struct cow_dirlist *list;
	struct name_set seen;
	char **hidden; /* whiteout names, owned */
	size_t nhidden, hidden_cap;
};

/* Keeps whiteout @name: it hides BASE's entry of that name. */
static int add_hidden(struct merge *m, const char *name)
{
	char **grown = cow_grow(m->hidden, &m->hidden_cap, m->nhidden,
				sizeof(*grown), 16);
	char *copy = grown ? strdup(name) : NULL;

	if (grown)
		m->hidden = grown;
	if (!copy)
		return -ENOMEM;
	m->hidden[m->nhidden++] = copy;
	return set_add(&m->seen, copy) < 0 ? -ENOMEM : 0;
}

static int add_upper(void *ctx, struct dirent *de)
{
	struct merge *m = ctx;
	struct stat st, bst;
	bool in_base;
	int ret;

	ret = cow_sys_fstatat(m->dir->dir_upper, de->d_name, &st);
	if (ret == -ENOENT)
		return 0;
	if (ret < 0)
		return ret;
	if (m->fs->store.wh_files && !strncmp(de->d_name, ".wh.", 4)) {
		/* ".wh.NAME" hides NAME; the marker itself never shows */
		if (!strcmp(de->d_name, COW_WH_OPAQUE) || !de->d_name[4])
			return 0;
		memmove(de->d_name, de->d_name + 4, strlen(de->d_name) - 3);
		st.st_mode = S_IFCHR;
		st.st_rdev = 0;
	}
	if (cow_store_is_whiteout(&st))
		return add_hidden(m, de->d_name);
	in_base = cow_base_has(m->dir, de->d_name, &bst);
	ret = list_add(
		m->list, de->d_name,
		upper_ino(m->fs, m->dir, de->d_name, st.st_ino, in_base, &bst),
		st.st_mode & S_IFMT);
	if (ret == 0)
		ret = set_add(&m->seen,
			      m->list->ents[m->list->count - 1].name) < 0
			      ? -ENOMEM
			      : 0;
	return ret;
}

static int add_base(void *ctx, struct dirent *de)
{
	struct merge *m = ctx;

	if (set_has(&m->seen, de->d_name))
		return 0;
	return list_add(m->list, de->d_name, de->d_ino, dtype_mode(de->d_type));
}

static void merge_free(struct merge *m)
{
	size_t i;

	for (i = 0; i < m->nhidden; i++)
		free(m->hidden[i]);
	free(m->hidden);
	free(m->seen.slots);
}

static uint64_t parent_key(struct cow_fs *fs, struct cow_node *dir)
{
	char name[NAME_MAX + 1];
	struct cow_node *parent;

	return cow_node_name(fs, dir, &parent, name) ? parent->key : dir->key;
}

/* ns_lock held (read or write). */
static int dirlist_read_locked(struct cow_fs *fs, struct cow_node *dir,
			       struct cow_dirlist *list, bool dots)
{
	struct merge m = {.fs = fs, .dir = dir, .list = list};
	int ret = 0;

	memset(list, 0, sizeof(*list));
	if (dots) {
		ret = list_add(list, ".", dir->key, S_IFDIR);
		if (ret == 0)
			ret = list_add(list, "..", parent_key(fs, dir),
				       S_IFDIR);
	}
	if (ret == 0 && dir->dir_upper >= 0)
		ret = each_entry(cow_sys_openat(dir->dir_upper, ".",
						O_RDONLY | O_DIRECTORY, 0),
				 add_upper, &m);
	if (ret == 0 && dir->dir_base >= 0)
		ret = each_entry(cow_base_openat(&fs->base, dir->dir_base, ".",
						 O_DIRECTORY),
				 add_base, &m);
	merge_free(&m);
	if (ret < 0)
		cow_dirlist_free(list);
	return ret;
}

int cow_dirlist_read(struct cow_fs *fs, struct cow_node *dir,
		     struct cow_dirlist *list)
{
	int ret;

	if (!S_ISDIR(dir->type))
		return -ENOTDIR;
	pthread_rwlock_rdlock(&fs->ns_lock);
	ret = dirlist_read_locked(fs, dir, list, true);
	pthread_rwlock_unlock(&fs->ns_lock);
	return ret;
}

int cow_dir_is_empty_locked(struct cow_fs *fs, struct cow_node *dir)
{
	struct cow_dirlist list;
	int ret = dirlist_read_locked(fs, dir, &list, false);

	if (ret < 0)
		return ret;
	ret = list.count == 0;
	cow_dirlist_free(&list);
	return ret;
}

/* ---- listings served by position (cow_dirsnap) ---- */

/* Position of @name: "." 1, ".." 2, the others a 63-bit hash from 3 up. */
static uint64_t position(const char *name)
{
	uint64_t h = name_hash(name);

	if (!strcmp(name, "."))
		return 1;
	if (!strcmp(name, ".."))
		return 2;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 29;
	h >>= 1;
	return h < 3 ? h + 3 : h;
}

static int by_position(const void *a, const void *b)
{
	const struct cow_dirent *x = a, *y = b;

	return x->off < y->off ? -1 : x->off > y->off;
}

static int snap_read(struct cow_fs *fs, struct cow_node *dir,
		     struct cow_dirsnap **out)
{
	struct cow_dirsnap *snap = calloc(1, sizeof(*snap));
	size_t i;
	int ret;

	if (!snap)
		return -ENOMEM;
	ret = cow_dirlist_read(fs, dir, &snap->list);
	if (ret < 0) {
		free(snap);
		return ret;
	}
	for (i = 0; i < snap->list.count; i++)
		snap->list.ents[i].off = position(snap->list.ents[i].name);
	qsort(snap->list.ents, snap->list.count, sizeof(*snap->list.ents),
	      by_position);
	snap->refs = 1;
	*out = snap;
	return 0;
}

static void snap_put_locked(struct cow_dirsnap *snap)
{
	if (--snap->refs == 0) {
		cow_dirlist_free(&snap->list);
		free(snap);
	}
}

int cow_dirsnap_get(struct cow_fs *fs, struct cow_node *dir, bool fresh,
		    struct cow_dirsnap **out)
{
	struct cow_dirsnap *snap = NULL;
	int ret;

	pthread_mutex_lock(&fs->snap_lock);
	if (!fresh && dir->snap) {
		snap = dir->snap;
		snap->refs++;
	}
	pthread_mutex_unlock(&fs->snap_lock);
	if (snap) {
		*out = snap;
		return 0;
	}
	ret = snap_read(fs, dir, &snap);
	if (ret < 0)
		return ret;
	pthread_mutex_lock(&fs->snap_lock);
	if (dir->snap)
		snap_put_locked(dir->snap);
	dir->snap = snap;
	snap->refs++; /* the node's and the caller's */
	pthread_mutex_unlock(&fs->snap_lock);
	*out = snap;
	return 0;
}

size_t cow_dirsnap_seek(const struct cow_dirsnap *snap, uint64_t off)
{
	size_t lo = 0, hi = snap->list.count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (snap->list.ents[mid].off <= off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

void cow_dirsnap_put(struct cow_fs *fs, struct cow_node *dir,
		     struct cow_dirsnap *snap, bool done)
{
	pthread_mutex_lock(&fs->snap_lock);
	if (done && dir->snap == snap) {
		dir->snap = NULL;
		snap->refs--; /* the node's; the caller's remains */
	}
	snap_put_locked(snap);
	pthread_mutex_unlock(&fs->snap_lock);
}
