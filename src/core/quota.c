// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * store_limit and warn: the bytes the store's data takes are counted (a
 * walk at mount, then the change in each file's allocated blocks after
 * every write, copy-up and removal), writes that would take the count past
 * the limit fail with ENOSPC before anything changes, and each warning
 * threshold is logged once whenever it is crossed upwards. Metadata (a
 * few KiB per directory or whiteout) is counted at mount only.
 */
#include "layer.h"
#include "partial_i.h"

#include "log.h"
#include "sys.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

static int64_t walk(int at, const char *name, int depth)
{
	struct stat st;
	struct dirent *de;
	int64_t sum;
	DIR *d;
	int fd;

	if (cow_sys_fstatat(at, name, &st) < 0)
		return 0;
	sum = (int64_t)st.st_blocks * 512;
	if (!S_ISDIR(st.st_mode) || depth > 512)
		return sum;
	fd = cow_sys_open_dir(at, name);
	d = fd < 0 ? NULL : fdopendir(fd);
	if (!d) {
		cow_sys_close(fd);
		return sum;
	}
	while ((de = readdir(d)))
		/* chunks/<key>.data and index/ entries link upper files */
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..") &&
		    strcmp(de->d_name, "index") && !strstr(de->d_name, ".data"))
			sum += walk(dirfd(d), de->d_name, depth + 1);
	closedir(d);
	return sum;
}

static void check_warnings(struct cow_fs *fs)
{
	int64_t used = __atomic_load_n(&fs->store_used, __ATOMIC_RELAXED);
	unsigned int pct =
		(unsigned int)(used > 0 ? (uint64_t)used * 100 / fs->store_limit
					: 0);
	int i;

	for (i = 0; i < fs->nwarn; i++) {
		unsigned int bit = 1u << i;
		unsigned int was =
			__atomic_load_n(&fs->warned, __ATOMIC_RELAXED);
		if (pct >= fs->warn_pct[i] && !(was & bit) &&
		    !(__atomic_fetch_or(&fs->warned, bit, __ATOMIC_RELAXED) &
		      bit))
			cow_warn("STORE is %u%% full: %lld of %llu bytes "
				 "(warning at %u%%)",
				 pct, (long long)used,
				 (unsigned long long)fs->store_limit,
				 fs->warn_pct[i]);
		else if (pct < fs->warn_pct[i] && (was & bit))
			__atomic_fetch_and(&fs->warned, ~bit, __ATOMIC_RELAXED);
	}
}

int cow_quota_scan(struct cow_fs *fs)
{
	int64_t sum;

	if (!fs->store_limit)
		return 0;
	sum = walk(fs->store.upper_fd, ".", 0) +
	      walk(fs->store.meta_fd, ".", 0);
	__atomic_store_n(&fs->store_used, sum, __ATOMIC_RELAXED);
	check_warnings(fs);
	return 0;
}

static int over(struct cow_fs *fs, int64_t need)
{
	int64_t used = __atomic_load_n(&fs->store_used, __ATOMIC_RELAXED);

	return need > 0 && used + need > (int64_t)fs->store_limit ? -ENOSPC : 0;
}

int cow_quota_admit_copy(struct cow_fs *fs, struct cow_node *node)
{
	struct stat st;

	if (!fs->store_limit || cow_getattr(fs, node, &st) < 0)
		return 0;
	return over(fs, cow_partial_wanted(fs, node, st.st_size)
				? (int64_t)1 << fs->chunk_shift
				: (int64_t)st.st_blocks * 512);
}

int cow_quota_admit(struct cow_fs *fs, int fd, off_t off, size_t len)
{
	struct stat st;

	if (!fs->store_limit || len == 0)
		return 0;
	/* Overwriting allocated bytes takes nothing more. */
	if (cow_sys_fstat(fd, &st) == 0 && off + (off_t)len <= st.st_size &&
	    cow_sys_lseek(fd, off, SEEK_HOLE) >= off + (off_t)len)
		return 0;
	return over(fs, (int64_t)len);
}

void cow_quota_account(struct cow_fs *fs, struct cow_node *node, int fd)
{
	struct stat st;
	int64_t now, before;

	if (!fs->store_limit || cow_sys_fstat(fd, &st) < 0)
		return;
	now = (int64_t)st.st_blocks;
	before =
		__atomic_exchange_n(&node->store_blocks, now, __ATOMIC_RELAXED);
	__atomic_add_fetch(&fs->store_used, (now - before) * 512,
			   __ATOMIC_RELAXED);
	check_warnings(fs);
}

void cow_quota_release(struct cow_fs *fs, struct cow_node *node)
{
	int64_t before;

	if (!fs->store_limit)
		return;
	before = __atomic_exchange_n(&node->store_blocks, 0, __ATOMIC_RELAXED);
	__atomic_sub_fetch(&fs->store_used, before * 512, __ATOMIC_RELAXED);
	check_warnings(fs);
}
