// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The completer: while the filesystem is idle it fills the remaining
 * chunks of partial copies at a bounded rate, then turns each into a plain
 * upper file (data synced, partial mark removed, map dropped). Content
 * never changes in the process, so the kernel's caches stay valid.
 */
#include "layer.h"
#include "lookup_i.h"
#include "partial_i.h"

#include "log.h"
#include "sys.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#define TICK_MS 100

static struct cow_node *first_partial(struct cow_fs *fs)
{
	struct cow_node *node = NULL;

	pthread_mutex_lock(&fs->table_lock);
	if (fs->npartial > 0) {
		node = fs->partial[0];
		node->refs++;
	}
	pthread_mutex_unlock(&fs->table_lock);
	return node;
}

static void untrack(struct cow_fs *fs, struct cow_node *node)
{
	size_t i;
	bool found = false;

	pthread_mutex_lock(&fs->table_lock);
	for (i = 0; i < fs->npartial; i++) {
		if (fs->partial[i] == node) {
			memmove(&fs->partial[i], &fs->partial[i + 1],
				(fs->npartial - i - 1) * sizeof(*fs->partial));
			fs->npartial--;
			node->on_partial_list = false;
			found = true;
			break;
		}
	}
	pthread_mutex_unlock(&fs->table_lock);
	if (found)
		cow_node_put(fs, node);
}

/* Opens the copy (through its data link) and BASE's data. */
static int open_pair(struct cow_fs *fs, struct cow_node *node, int *base_fd,
		     int *upper_fd)
{
	char mname[40], dname[40];

	cow_partial_names(node, mname, dname);
	*upper_fd = cow_sys_openat(fs->store.chunks_fd, dname,
				   O_RDWR | O_NOFOLLOW, 0);
	if (*upper_fd < 0)
		return *upper_fd;
	*base_fd = cow_partial_open_base(fs, node->map->base_path);
	if (*base_fd < 0) {
		cow_sys_close(*upper_fd);
		return *base_fd;
	}
	return 0;
}

/* Makes a complete partial copy a plain upper file; ns_lock held (write). */
static int finalize_locked(struct cow_fs *fs, struct cow_node *node,
			   int upper_fd)
{
	int ret;

	pthread_rwlock_wrlock(&node->lock);
	ret = node->state == COW_PARTIAL && node->map &&
			      cow_chunkmap_complete(node->map)
		      ? 0
		      : -EAGAIN;
	if (ret == 0)
		ret = cow_sys_fsync(upper_fd, true);
	if (ret == 0)
		ret = cow_sys_fremovexattr(upper_fd, fs->store.x_partial);
	if (ret == 0) {
		cow_partial_forget_files(fs, node);
		cow_chunkmap_close(node->map);
		free(node->map);
		node->map = NULL;
		node->state = COW_UPPER;
		cow_sys_close(node->fd_base);
		node->fd_base = -1;
	}
	pthread_rwlock_unlock(&node->lock);
	return ret;
}

static int finalize(struct cow_fs *fs, struct cow_node *node, int upper_fd)
{
	int ret;

	pthread_rwlock_wrlock(&fs->ns_lock);
	ret = finalize_locked(fs, node, upper_fd);
	pthread_rwlock_unlock(&fs->ns_lock);
	return ret;
}

/*
 * 0 when STORE can take the rest of the copy (with 1/16 to spare), else
 * -ENOSPC: the completer must not fill the store with a copy it cannot
 * finish, leaving no room for the writes of the view.
 */
static int check_room(int upper_fd, const struct cow_chunkmap *m)
{
	uint64_t missing = (m->nchunks - m->present) << m->shift;
	struct statvfs sv;

	if (fstatvfs(upper_fd, &sv) < 0)
		return 0;
	return (uint64_t)sv.f_bavail * sv.f_frsize >= missing + missing / 16
		       ? 0
		       : -ENOSPC;
}

/* Fills up to @budget bytes of @node; returns bytes filled or -errno. */
static long work_on(struct cow_fs *fs, struct cow_node *node, long budget)
{
	int base_fd = -1, upper_fd = -1, ret;
	uint64_t next = 0;
	long done = 0;

	pthread_rwlock_rdlock(&node->lock);
	ret = node->state == COW_PARTIAL && node->map && node->hashed
		      ? open_pair(fs, node, &base_fd, &upper_fd)
		      : -ESTALE;
	if (ret == 0)
		ret = check_room(upper_fd, node->map);
	while (ret == 0 && done < budget && next < node->map->nchunks) {
		ret = cow_partial_fill_one(node, base_fd, upper_fd, &next);
		done += 1L << node->map->shift;
	}
	bool complete = ret == 0 && cow_chunkmap_complete(node->map);
	pthread_rwlock_unlock(&node->lock);
	if (complete)
		ret = finalize(fs, node, upper_fd);
	cow_sys_close(base_fd);
	cow_sys_close(upper_fd);
	if (ret == 0 && !complete)
		return done;
	if (ret < 0 && ret != -ESTALE && ret != -EAGAIN)
		cow_warn("completing a partial copy failed: %s",
			 strerror(-ret));
	untrack(fs, node);
	return ret < 0 ? ret : done;
}

/*
 * The copy no longer stands for a BASE object: its origin goes, and it
 * takes the identity of its upper inode (BASE's inode number may be
 * reused once BASE's object is gone).
 */
static int detach_origin(struct cow_fs *fs, struct cow_node *node, int upper_fd)
{
	struct stat st;
	int ret = cow_sys_fremovexattr(upper_fd, fs->store.x_origin);

	if (ret == -ENODATA)
		ret = 0;
	if (ret == 0)
		ret = cow_sys_fstat(upper_fd, &st);
	if (ret == 0) {
		cow_node_rekey(fs, node, cow_fs_upper_key(fs, st.st_ino));
		node->has_base = false;
	}
	return ret;
}

int cow_partial_complete_locked(struct cow_fs *fs, struct cow_node *node)
{
	int base_fd = -1, upper_fd = -1, ret;
	uint64_t next = 0;

	pthread_rwlock_rdlock(&node->lock);
	ret = node->state == COW_PARTIAL && node->map
		      ? open_pair(fs, node, &base_fd, &upper_fd)
		      : -ESTALE;
	while (ret == 0 && next < node->map->nchunks)
		ret = cow_partial_fill_one(node, base_fd, upper_fd, &next);
	pthread_rwlock_unlock(&node->lock);
	if (ret == 0)
		ret = finalize_locked(fs, node, upper_fd);
	if (ret == 0)
		ret = detach_origin(fs, node, upper_fd);
	cow_sys_close(base_fd);
	cow_sys_close(upper_fd);
	if (ret == 0)
		untrack(fs, node);
	return ret == -ESTALE ? 0 : ret;
}

static bool wait_tick(struct cow_fs *fs)
{
	struct timespec ts;
	bool stop;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_nsec += TICK_MS * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&fs->completer_lock);
	if (!fs->completer_stop)
		pthread_cond_timedwait(&fs->completer_cond, &fs->completer_lock,
				       &ts);
	stop = fs->completer_stop;
	pthread_mutex_unlock(&fs->completer_lock);
	return !stop;
}

static void *completer_main(void *arg)
{
	struct cow_fs *fs = arg;
	unsigned long seen = 0, now;
	int idle_ticks = 0;

	while (wait_tick(fs)) {
		struct cow_node *node;
		now = __atomic_load_n(&fs->activity, __ATOMIC_RELAXED);
		idle_ticks = now == seen ? idle_ticks + 1 : 0;
		seen = now;
		/* Half a second without I/O counts as idle. */
		if (idle_ticks < 5 || !(node = first_partial(fs)))
			continue;
		work_on(fs, node,
			(long)(fs->completer_rate / (1000 / TICK_MS)));
		cow_node_put(fs, node);
	}
	return NULL;
}

int cow_completer_start(struct cow_fs *fs)
{
	int ret;

	if (!fs->completer_rate)
		return 0;
	ret = -pthread_create(&fs->completer, NULL, completer_main, fs);
	fs->completer_running = ret == 0;
	return ret;
}

void cow_completer_stop(struct cow_fs *fs)
{
	size_t i;

	if (fs->completer_running) {
		pthread_mutex_lock(&fs->completer_lock);
		fs->completer_stop = true;
		pthread_cond_broadcast(&fs->completer_cond);
		pthread_mutex_unlock(&fs->completer_lock);
		pthread_join(fs->completer, NULL);
		fs->completer_running = false;
	}
	pthread_mutex_lock(&fs->table_lock);
	for (i = 0; i < fs->npartial; i++)
		fs->partial[i]->on_partial_list = false;
	pthread_mutex_unlock(&fs->table_lock);
	while (fs->npartial > 0)
		cow_node_put(fs, fs->partial[--fs->npartial]);
}
