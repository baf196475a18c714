// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests of the layer model without a mount: lookups over (upper,
 * BASE), copy-up states, whiteouts, opaque directories, redirects, merged
 * listings and atomic publication, checked against the store's files.
 */
#include "layer.h"
#include "store.h"
#include "check.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

static char root[] = "/tmp/cowfs-unit-XXXXXX";

static void path_of(char *buf, size_t len, const char *rel)
{
	snprintf(buf, len, "%s/%s", root, rel);
}

static void put_file(const char *rel, const char *text)
{
	char p[512];
	FILE *f;

	path_of(p, sizeof(p), rel);
	f = fopen(p, "w");
	if (!f) {
		perror(p);
		exit(1);
	}
	fputs(text, f);
	fclose(f);
}

static void put_dir(const char *rel)
{
	char p[512];

	path_of(p, sizeof(p), rel);
	if (mkdir(p, 0755) < 0) {
		perror(p);
		exit(1);
	}
}

static bool exists(const char *rel, struct stat *st)
{
	char p[512];
	struct stat tmp;

	path_of(p, sizeof(p), rel);
	return lstat(p, st ? st : &tmp) == 0;
}

static bool has_xattr(const char *rel, const char *name, const char *val)
{
	char p[512], buf[256];
	ssize_t n;

	path_of(p, sizeof(p), rel);
	n = lgetxattr(p, name, buf, sizeof(buf));
	return n >= 0 && (!val || ((size_t)n == strlen(val) &&
				   !memcmp(buf, val, (size_t)n)));
}

static void setup(struct cow_fs *fs)
{
	struct cow_store_paths paths = {0};
	char why[512] = "", p[512];

	if (!mkdtemp(root)) {
		perror("mkdtemp");
		exit(1);
	}
	put_dir("base");
	put_dir("base/dir");
	put_dir("base/dir/sub");
	put_file("base/dir/one", "one\n");
	put_file("base/dir/two", "two\n");
	put_file("base/top", "top content\n");
	memset(fs, 0, sizeof(*fs));
	path_of(p, sizeof(p), "base");
	if (cow_base_open(&fs->base, p, why, sizeof(why)) < 0) {
		fprintf(stderr, "base: %s\n", why);
		exit(1);
	}
	path_of(p, sizeof(p), "store");
	paths.store = p;
	if (cow_store_open(&fs->store, &paths, &fs->base, geteuid() != 0, why,
			   sizeof(why)) < 0 ||
	    cow_fs_init(fs) < 0 || cow_fs_make_root(fs) < 0) {
		fprintf(stderr, "store: %s\n", why);
		exit(1);
	}
}

static struct cow_node *look(struct cow_fs *fs, struct cow_node *dir,
			     const char *name, int *err)
{
	struct cow_node *node = NULL;
	struct stat st;

	*err = cow_lookup(fs, dir, name, &node, &st);
	return *err == 0 ? node : NULL;
}

static void test_lookup_and_lazy_open(struct cow_fs *fs)
{
	struct cow_node *top;
	bool filling;
	int err, fd;
	char buf[32] = "";

	top = look(fs, fs->root, "top", &err);
	CHECK(top && top->state == COW_BASE);
	CHECK(look(fs, fs->root, "missing", &err) == NULL && err == -ENOENT);
	/* Opening for writing copies nothing. */
	CHECK(cow_file_open(fs, top, O_RDWR) == 0);
	CHECK(!exists("store/upper/top", NULL));
	CHECK(cow_file_pread(fs, top, buf, 3, 0) == 3 &&
	      !memcmp(buf, "top", 3));
	/* The first write copies; the same node now reads the copy. */
	fd = cow_file_begin_write(fs, top, 0, 3, &filling);
	CHECK(fd >= 0 && pwrite(fd, "TOP", 3, 0) == 3);
	CHECK(cow_file_end_write(fs, top, 0, 3, filling) == 0);
	CHECK(top->state == COW_UPPER && exists("store/upper/top", NULL));
	CHECK(cow_file_pread(fs, top, buf, 11, 0) == 11 &&
	      !memcmp(buf, "TOP content", 11));
	cow_file_release(fs, top);
}

static void test_metacopy(struct cow_fs *fs)
{
	struct cow_setattr sa = {.valid = COW_SET_MODE, .mode = 0600};
	struct cow_node *dir, *one;
	struct stat st;
	int err;

	dir = look(fs, fs->root, "dir", &err);
	one = dir ? look(fs, dir, "one", &err) : NULL;
	CHECK(one != NULL);
	if (!one)
		return;
	CHECK(cow_setattr(fs, one, &sa, &st) == 0 &&
	      (st.st_mode & 07777) == 0600);
	CHECK(one->state == COW_META);
	CHECK(exists("store/upper/dir/one", &st) && st.st_blocks == 0);
	CHECK(has_xattr("store/upper/dir/one", fs->store.x_metacopy, NULL));
	CHECK(exists("base/dir/one", &st) && (st.st_mode & 07777) == 0644);
}

static void test_whiteout_and_listing(struct cow_fs *fs)
{
	struct cow_dirlist list;
	struct cow_node *dir;
	struct stat st;
	size_t i;
	int err, seen_two = 0, seen_one = 0;

	dir = look(fs, fs->root, "dir", &err);
	CHECK(dir && cow_unlink(fs, dir, "two") == 0);
	CHECK(exists("store/upper/dir/two", &st) && S_ISCHR(st.st_mode) &&
	      st.st_rdev == makedev(0, 0));
	CHECK(exists("base/dir/two", NULL));
	CHECK(look(fs, dir, "two", &err) == NULL && err == -ENOENT);
	CHECK(cow_dirlist_read(fs, dir, &list) == 0);
	for (i = 0; i < list.count; i++) {
		seen_two += !strcmp(list.ents[i].name, "two");
		seen_one += !strcmp(list.ents[i].name, "one");
	}
	CHECK(seen_two == 0 && seen_one == 1);
	cow_dirlist_free(&list);
}

/* Listings by position: sorted, unique offsets, resumable, kept until the
 * end is reached. */
static void test_dirsnap(struct cow_fs *fs)
{
	struct cow_dirsnap *snap, *again;
	struct cow_node *dir;
	size_t i, n;
	int err;

	dir = look(fs, fs->root, "dir", &err);
	CHECK(dir && cow_dirsnap_get(fs, dir, true, &snap) == 0);
	if (!dir || !snap)
		return;
	n = snap->list.count;
	CHECK(n >= 3 && !strcmp(snap->list.ents[0].name, ".") &&
	      snap->list.ents[0].off == 1 &&
	      !strcmp(snap->list.ents[1].name, "..") &&
	      snap->list.ents[1].off == 2);
	for (i = 1; i < n; i++)
		CHECK(snap->list.ents[i - 1].off < snap->list.ents[i].off);
	CHECK(cow_dirsnap_seek(snap, 0) == 0);
	for (i = 0; i < n; i++)
		CHECK(cow_dirsnap_seek(snap, snap->list.ents[i].off) == i + 1);
	CHECK(cow_dirsnap_get(fs, dir, false, &again) == 0 && again == snap);
	cow_dirsnap_put(fs, dir, again, false);
	CHECK(dir->snap == snap);
	cow_dirsnap_put(fs, dir, snap, true);
	CHECK(dir->snap == NULL);
}

static void test_rmdir_mkdir_opaque(struct cow_fs *fs)
{
	struct cow_new nw = {.mode = S_IFDIR | 0755};
	struct cow_cred cred = {getuid(), getgid(), 022};
	struct cow_node *dir, *sub;
	struct stat st;
	int err;

	dir = look(fs, fs->root, "dir", &err);
	CHECK(dir && cow_rmdir(fs, dir, "sub") == 0);
	CHECK(exists("store/upper/dir/sub", &st) && S_ISCHR(st.st_mode));
	CHECK(cow_create(fs, dir, "sub", &nw, &cred, &sub, &st) == 0);
	CHECK(exists("store/upper/dir/sub", &st) && S_ISDIR(st.st_mode));
	CHECK(has_xattr("store/upper/dir/sub", fs->store.x_opaque, "y"));
	CHECK(cow_create(fs, dir, "sub", &nw, &cred, &sub, &st) == -EEXIST);
}

static void test_rename_dir_redirect(struct cow_fs *fs)
{
	struct cow_node *moved, *one;
	int err;

	CHECK(cow_rename(fs, fs->root, "dir", fs->root, "moved", 0) == 0);
	CHECK(exists("store/upper/moved", NULL));
	CHECK(has_xattr("store/upper/moved", fs->store.x_redirect, "/dir"));
	CHECK(look(fs, fs->root, "dir", &err) == NULL && err == -ENOENT);
	moved = look(fs, fs->root, "moved", &err);
	one = moved ? look(fs, moved, "one", &err) : NULL;
	CHECK(one != NULL);
	CHECK(cow_rename(fs, fs->root, "top", fs->root, "moved",
			 RENAME_NOREPLACE) == -EEXIST);
	CHECK(cow_rename(fs, fs->root, "moved", fs->root, "top",
			 RENAME_EXCHANGE) == 0);
	CHECK(exists("base/dir/one", NULL) && exists("base/top", NULL));
}

static void test_publish_replaces_whiteout(struct cow_fs *fs)
{
	char tmp[COW_TMP_MAX];
	struct stat st;
	int fd;

	CHECK(cow_store_put_whiteout(&fs->store, fs->store.upper_fd, "wh") ==
	      0);
	cow_store_tmpname(&fs->store, tmp);
	fd = openat(fs->store.work_fd, tmp, O_CREAT | O_WRONLY, 0644);
	CHECK(fd >= 0);
	close(fd);
	CHECK(cow_store_publish(&fs->store, tmp, fs->store.upper_fd, "wh") ==
	      0);
	CHECK(exists("store/upper/wh", &st) && S_ISREG(st.st_mode));
}

/* A node left with the number of an object that is gone does not capture
 * the object made next with that number. */
static void test_insert_new_drops_stale(struct cow_fs *fs)
{
	struct cow_node *stale = cow_node_new(987654321, S_IFREG);
	struct cow_node *fresh = cow_node_new(987654321, S_IFREG);
	struct cow_node *got;

	CHECK(stale && fresh);
	if (!stale || !fresh)
		return;
	CHECK(cow_node_insert(fs, stale) == stale);
	got = cow_node_insert_new(fs, fresh);
	CHECK(got == fresh);
	got = cow_node_find(fs, 987654321, S_IFREG);
	CHECK(got == fresh);
	if (got)
		cow_node_put(fs, got);
	got = cow_node_find_orphan(fs, 987654321, S_IFREG);
	CHECK(got == stale);
	if (got)
		cow_node_put(fs, got);
	cow_node_put(fs, fresh);
	cow_node_put(fs, stale);
}

/* The nodes holding descriptors opened on demand: the least recently
 * used goes first once the list is over its bound, a node used since the
 * last pass gets a second chance, and a forgotten node leaves the list. */
static void test_demand_list(struct cow_fs *fs)
{
	struct cow_node *n[3];
	size_t i;

	fs->max_demand = 2;
	for (i = 0; i < 3; i++) {
		n[i] = cow_node_new(555000 + i, S_IFREG);
		CHECK(n[i] != NULL);
		if (!n[i])
			return;
		n[i] = cow_node_insert(fs, n[i]);
		cow_node_ref_to_lookup(fs, n[i]); /* the kernel's lookup */
	}
	CHECK(!cow_node_demand_add(fs, n[0]));
	CHECK(!cow_node_demand_add(fs, n[1]));
	CHECK(!cow_node_demand_add(fs, n[1])); /* listed once */
	CHECK(cow_node_demand_add(fs, n[2]));
	n[0]->demand_used = true;
	CHECK(cow_node_demand_victim(fs) == n[1]);
	CHECK(cow_node_demand_victim(fs) == NULL);
	CHECK(!n[0]->demand_used);
	cow_node_put(fs, n[1]); /* the list's ref, handed over */
	cow_node_forget(fs, n[2], 1);
	CHECK(fs->ndemand == 1 && fs->demand == n[0]);
	cow_node_forget(fs, n[0], 1);
	cow_node_forget(fs, n[1], 1);
	CHECK(fs->ndemand == 0 && !fs->demand && !fs->demand_tail);
	CHECK(cow_node_find(fs, 555000, S_IFREG) == NULL);
}

int main(void)
{
	struct cow_fs fs;
	char cmd[600];

	setup(&fs);
	test_lookup_and_lazy_open(&fs);
	test_metacopy(&fs);
	test_whiteout_and_listing(&fs);
	test_dirsnap(&fs);
	test_rmdir_mkdir_opaque(&fs);
	test_rename_dir_redirect(&fs);
	test_publish_replaces_whiteout(&fs);
	test_insert_new_drops_stale(&fs);
	test_demand_list(&fs);
	cow_fs_destroy(&fs);
	cow_store_close(&fs.store);
	cow_base_close(&fs.base);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", root);
	return check_result();
}
