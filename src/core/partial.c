// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Chunked copy-up. A big file's first data change publishes a sparse copy
 * of full size with a chunk map; each chunk is read from the copy once the
 * map marks it, from BASE before. A first write to a chunk happens under
 * the node's fill_lock: the write lands in the copy, the rest of the chunk
 * is filled from BASE, and only then is the chunk marked, so a reader sees
 * either BASE's bytes or the new ones, never a hole.
 */
#include "layer.h"
#include "array.h"
#include "lookup_i.h"
#include "partial_i.h"

#include "manage.h"

#include "log.h"
#include "sys.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define RA_WINDOW ((off_t)8 << 20)

void cow_partial_names(const struct cow_node *node, char map[40], char data[40])
{
	snprintf(map, 40, "%llu", (unsigned long long)node->key);
	snprintf(data, 40, "%llu.data", (unsigned long long)node->key);
}

bool cow_partial_wanted(struct cow_fs *fs, struct cow_node *node, off_t size)
{
	return S_ISREG(node->type) && fs->chunk_threshold > 0 &&
	       size >= fs->chunk_threshold && node->base_nlink <= 1 &&
	       !node->indexed;
}

int cow_partial_prepare(struct cow_fs *fs, struct cow_node *node, int dst_fd,
			const char *tmp, off_t base_size, const char *base_path)
{
	struct cow_chunkmap *map = calloc(1, sizeof(*map));
	char mname[40], dname[40], mtmp[COW_TMP_MAX];
	int work = fs->store.work_fd, chunks = fs->store.chunks_fd, ret;

	if (!map)
		return -ENOMEM;
	cow_partial_names(node, mname, dname);
	cow_store_tmpname(&fs->store, mtmp);
	ret = cow_chunkmap_create(work, mtmp, fs->chunk_shift,
				  (uint64_t)base_size, node->key, base_path,
				  map);
	if (ret == 0)
		ret = cow_sys_fsetxattr(dst_fd, fs->store.x_partial, "1", 1, 0);
	if (ret == 0) {
		cow_sys_unlinkat(chunks, dname, 0);
		ret = cow_sys_linkat(work, tmp, chunks, dname);
	}
	if (ret == 0)
		ret = cow_sys_renameat2(work, mtmp, chunks, mname, 0);
	if (ret < 0) {
		cow_sys_unlinkat(work, mtmp, 0);
		cow_chunkmap_close(map);
		free(map);
		return ret;
	}
	node->map = map;
	return 0;
}

void cow_partial_forget_files(struct cow_fs *fs, struct cow_node *node)
{
	char mname[40], dname[40];

	cow_partial_names(node, mname, dname);
	cow_sys_unlinkat(fs->store.chunks_fd, mname, 0);
	cow_sys_unlinkat(fs->store.chunks_fd, dname, 0);
}

void cow_partial_track(struct cow_fs *fs, struct cow_node *node)
{
	struct cow_node **grown;

	pthread_mutex_lock(&fs->table_lock);
	if (node->on_partial_list)
		goto out_unlock;
	grown = cow_grow(fs->partial, &fs->partial_cap, fs->npartial,
			 sizeof(*grown), 16);
	if (!grown)
		goto out_unlock; /* completes on a later mount */
	fs->partial = grown;
	node->refs++;
	node->on_partial_list = true;
	fs->partial[fs->npartial++] = node;
out_unlock:
	pthread_mutex_unlock(&fs->table_lock);
	pthread_cond_signal(&fs->completer_cond);
}

static uint64_t chunk_of(const struct cow_chunkmap *m, off_t off)
{
	return (uint64_t)off >> m->shift;
}

static off_t chunk_start(const struct cow_chunkmap *m, uint64_t idx)
{
	return (off_t)(idx << m->shift);
}

/* Whether bytes at @off come from BASE (absent chunk, below base_size). */
static bool from_base(const struct cow_chunkmap *m, off_t off)
{
	return (uint64_t)off < m->base_size &&
	       !cow_chunkmap_test(m, chunk_of(m, off));
}

/* Asks the kernel to read [@from, @to) of the copy, each run of chunks
 * from the layer that holds it; nothing when one layer holds it all (the
 * kernel's own readahead of that file sees no gap there). */
static void readahead_runs(const struct cow_node *node, off_t from, off_t to)
{
	const struct cow_chunkmap *m = node->map;
	bool first = true;

	while (from < to) {
		bool base = from_base(m, from);
		off_t stop = chunk_start(m, chunk_of(m, from) + 1);

		while (stop < to && from_base(m, stop) == base)
			stop = chunk_start(m, chunk_of(m, stop) + 1);
		if (stop > to)
			stop = to;
		if (first && stop == to)
			return;
		readahead(base ? node->fd_base : node->fd_upper, from,
			  (size_t)(stop - from));
		from = stop;
		first = false;
	}
}

/*
 * A sequential read of a partial copy reads each layer with gaps, which
 * the kernel's readahead takes for random access: keep RA_WINDOW bytes
 * ahead of such a reader asked for, layer by layer. The two offsets are
 * hints shared by the threads serving the reader; a lost update costs a
 * readahead too many or too few, never a wrong byte.
 */
static void layer_readahead(struct cow_node *node, off_t off, off_t end)
{
	off_t last = __atomic_exchange_n(&node->ra_last, end, __ATOMIC_RELAXED);
	off_t next = __atomic_load_n(&node->ra_next, __ATOMIC_RELAXED);
	off_t from = next > end ? next : end, to = end + RA_WINDOW;

	if (off > last + RA_WINDOW || off + RA_WINDOW < last)
		return; /* not sequential */
	if (next >= end + RA_WINDOW / 2)
		return; /* far enough ahead */
	if (to > (off_t)node->map->base_size)
		to = (off_t)node->map->base_size;
	if (from >= to ||
	    !__atomic_compare_exchange_n(&node->ra_next, &next, to, false,
					 __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		return;
	readahead_runs(node, from, to);
}

int cow_partial_segments(struct cow_fs *fs, struct cow_node *node, off_t off,
			 size_t len, struct cow_seg *segs, int max)
{
	const struct cow_chunkmap *m = node->map;
	off_t end = off + (off_t)len;
	int n = 0;

	layer_readahead(node, off, end);

	while (off < end && n < max) {
		bool base = from_base(m, off);
		off_t stop = chunk_start(m, chunk_of(m, off) + 1);
		int fd = base ? node->fd_base : node->fd_upper;
		if (stop > end)
			stop = end;
		if (base && stop > (off_t)m->base_size)
			stop = (off_t)m->base_size;
		if (n > 0 && segs[n - 1].fd == fd &&
		    segs[n - 1].off + (off_t)segs[n - 1].len == off)
			segs[n - 1].len += (size_t)(stop - off);
		else
			segs[n++] =
				(struct cow_seg){fd, off, (size_t)(stop - off)};
		off = stop;
	}
	return off < end ? -EIO : n;
}

bool cow_partial_write_begin(struct cow_node *node, off_t off, size_t len)
{
	const struct cow_chunkmap *m = node->map;
	uint64_t idx, last;

	if ((uint64_t)off >= m->base_size || len == 0)
		return false;
	last = chunk_of(m, off + (off_t)len - 1);
	for (idx = chunk_of(m, off); idx <= last; idx++) {
		if (!cow_chunkmap_test(m, idx)) {
			pthread_mutex_lock(&node->fill_lock);
			return true;
		}
	}
	return false;
}

/* Copies BASE bytes [a, b) into the copy at the same offsets. */
static int copy_base(int base_fd, int upper_fd, off_t a, off_t b)
{
	while (a < b) {
		loff_t in = a, out = a;
		ssize_t n = copy_file_range(base_fd, &in, upper_fd, &out,
					    (size_t)(b - a), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EXDEV || errno == EINVAL ||
			      errno == EOPNOTSUPP || errno == ENOSYS)) {
			char buf[65536];
			size_t want = (size_t)(b - a) < sizeof(buf)
					      ? (size_t)(b - a)
					      : sizeof(buf);
			int ret;

			n = cow_sys_pread(base_fd, buf, want, a);
			ret = n > 0 ? cow_sys_pwrite_full(upper_fd, buf,
							  (size_t)n, a)
				    : 0;
			if (ret < 0)
				return ret; /* ENOSPC, mostly */
		} else if (n < 0) {
			return -errno;
		}
		if (n <= 0)
			return n < 0 ? (int)n : -EIO;
		a += n;
	}
	return 0;
}

/*
 * Fills chunk @idx from BASE except bytes [skip_a, skip_b), then marks it.
 * fill_lock held.
 */
static int fill_chunk(struct cow_node *node, int base_fd, int upper_fd,
		      uint64_t idx, off_t skip_a, off_t skip_b)
{
	struct cow_chunkmap *m = node->map;
	off_t a = chunk_start(m, idx), b = chunk_start(m, idx + 1);
	int ret = 0;

	if (cow_chunkmap_test(m, idx))
		return 0;
	if (b > (off_t)m->base_size)
		b = (off_t)m->base_size;
	if (skip_a > a)
		ret = copy_base(base_fd, upper_fd, a, skip_a < b ? skip_a : b);
	if (ret == 0 && skip_b < b)
		ret = copy_base(base_fd, upper_fd, skip_b > a ? skip_b : a, b);
	if (ret == 0)
		ret = cow_chunkmap_mark(m, idx);
	return ret;
}

/* Fills every absent chunk meeting [off, off+len) except that range. */
static int fill_around(struct cow_node *node, off_t off, off_t len)
{
	struct cow_chunkmap *m = node->map;
	uint64_t idx, last;
	int ret = 0;

	if (len <= 0 || (uint64_t)off >= m->base_size)
		return 0;
	last = chunk_of(m, off + len - 1);
	for (idx = chunk_of(m, off); idx <= last && ret == 0; idx++)
		ret = fill_chunk(node, node->fd_base, node->fd_upper, idx, off,
				 off + len);
	return ret;
}

int cow_partial_write_end(struct cow_fs *fs, struct cow_node *node, off_t off,
			  size_t written)
{
	int ret = fill_around(node, off, (off_t)written);

	pthread_mutex_unlock(&node->fill_lock);
	if (ret < 0)
		cow_err("filling chunks of a partial copy failed: %s",
			strerror(-ret));
	return ret;
}

int cow_partial_clear_range(struct cow_fs *fs, struct cow_node *node, off_t off,
			    off_t len)
{
	int ret;

	pthread_mutex_lock(&node->fill_lock);
	ret = fill_around(node, off, len);
	pthread_mutex_unlock(&node->fill_lock);
	return ret;
}

int cow_partial_truncate(struct cow_fs *fs, struct cow_node *node, off_t size)
{
	struct cow_chunkmap *m = node->map;
	uint64_t idx = chunk_of(m, size);
	int ret = 0;

	if ((uint64_t)size >= m->base_size)
		return 0;
	pthread_mutex_lock(&node->fill_lock);
	/* Keep [chunk start, size) of the boundary chunk; beyond is gone. */
	if (!cow_chunkmap_test(m, idx))
		ret = fill_chunk(node, node->fd_base, node->fd_upper, idx, size,
				 chunk_start(m, idx + 1));
	if (ret == 0)
		ret = cow_chunkmap_mark_from(m, idx);
	pthread_mutex_unlock(&node->fill_lock);
	return ret;
}

int cow_partial_fill_all(struct cow_fs *fs, struct cow_node *node)
{
	struct cow_chunkmap *m = node->map;
	uint64_t idx;
	int ret = 0;

	pthread_mutex_lock(&node->fill_lock);
	for (idx = 0; idx < m->nchunks && ret == 0; idx++)
		ret = fill_chunk(node, node->fd_base, node->fd_upper, idx, 0,
				 0);
	pthread_mutex_unlock(&node->fill_lock);
	return ret;
}

int cow_partial_fsync(struct cow_node *node, bool datasync)
{
	int ret = cow_sys_fsync(node->fd_upper, datasync);

	/* Data first: a marked chunk must never point at unwritten bytes. */
	if (ret == 0)
		ret = cow_chunkmap_sync(node->map);
	return ret;
}

static int keep_mtime(int fd, const struct stat *st)
{
	struct timespec ts[2] = {{.tv_nsec = UTIME_OMIT}, st->st_mtim};

	return futimens(fd, ts) < 0 ? -errno : 0;
}

int cow_partial_fill_one(struct cow_node *node, int base_fd, int upper_fd,
			 uint64_t *next)
{
	struct cow_chunkmap *m = node->map;
	struct stat st;
	int ret = 0;

	pthread_mutex_lock(&node->fill_lock);
	while (*next < m->nchunks && cow_chunkmap_test(m, *next))
		(*next)++;
	if (*next < m->nchunks) {
		ret = cow_sys_fstat(upper_fd, &st);
		if (ret == 0)
			ret = fill_chunk(node, base_fd, upper_fd, *next, 0, 0);
		/* not a change of the view's: the copy keeps its time */
		if (ret == 0)
			ret = keep_mtime(upper_fd, &st);
	}
	pthread_mutex_unlock(&node->fill_lock);
	return ret;
}

int cow_partial_open_base(struct cow_fs *fs, const char *path)
{
	char *copy = strdup(path), *slash;
	int dirfd, fd;

	if (!copy)
		return -ENOMEM;
	slash = strrchr(copy, '/');
	if (slash)
		*slash = '\0';
	dirfd = cow_base_open_path(fs, slash ? copy : "");
	if (dirfd >= 0 && (!strcmp(slash ? slash + 1 : copy, "..") ||
			   !strcmp(slash ? slash + 1 : copy, "."))) {
		cow_sys_close(dirfd);
		dirfd = -EINVAL; /* a tampered map or redirect: stay in BASE */
	}
	fd = dirfd < 0 ? dirfd
		       : cow_base_openat(&fs->base, dirfd,
					 slash ? slash + 1 : copy, O_RDONLY);
	cow_sys_close(dirfd);
	free(copy);
	if (fd == -EINVAL) {
		cow_err("chunk map names '%s', not a path in BASE: the data of "
			"that partial copy is refused (EIO)",
			path);
		fd = -EIO;
	}
	return fd;
}

/*
 * The node of partial copy @mname of chunks/ (ref taken, in *@out), made
 * without a name when no view has looked it up (found later by key), as at
 * mount; *@out stays NULL when it is no live copy. Map files whose copy is
 * gone are removed.
 */
static int partial_node(struct cow_fs *fs, const char *mname,
			struct cow_node **out)
{
	struct cow_chunkmap *map = calloc(1, sizeof(*map));
	char dname[48], why[256] = "";
	struct cow_node *node;
	struct stat st;
	int ret, fd;

	*out = NULL;
	if (!map)
		return -ENOMEM;
	snprintf(dname, sizeof(dname), "%s.data", mname);
	fd = cow_sys_openat(fs->store.chunks_fd, dname, O_RDONLY | O_NOFOLLOW,
			    0);
	/* A copy that never reached upper/ (interrupted before it was
	 * published) has no name but this link: it is dropped. */
	if (fd < 0 && fd != -ENOENT)
		cow_warn("meta/chunks/%s: %s; dropped with its map", dname,
			 strerror(-fd));
	if (fd < 0 || !cow_store_fhas_xattr(fd, fs->store.x_partial) ||
	    cow_sys_fstat(fd, &st) < 0 || st.st_nlink < 2) {
		cow_sys_close(fd);
		free(map);
		cow_sys_unlinkat(fs->store.chunks_fd, mname, 0);
		cow_sys_unlinkat(fs->store.chunks_fd, dname, 0);
		return 0;
	}
	cow_sys_close(fd);
	ret = cow_chunkmap_load(fs->store.chunks_fd, mname, map, why,
				sizeof(why));
	if (ret < 0) {
		cow_err("partial copy %s: %s; it stays unreadable", mname,
			why[0] ? why : strerror(-ret));
		free(map);
		return 0;
	}
	node = cow_node_new(map->base_ino, S_IFREG);
	if (!node) {
		cow_chunkmap_close(map);
		free(map);
		return -ENOMEM;
	}
	node->state = COW_PARTIAL;
	node->has_base = true;
	node->base_nlink = 1;
	node->map = map;
	*out = cow_node_insert(fs, node);
	return 0;
}

/* Calls @fn for each partial copy of chunks/, with its node (a ref). */
static int each_partial(struct cow_fs *fs,
			int (*fn)(struct cow_fs *fs, struct cow_node *node,
				  const void *arg),
			const void *arg)
{
	struct cow_node *node;
	struct dirent *de;
	int fd, ret = 0;
	DIR *d;

	fd = cow_sys_openat(fs->store.chunks_fd, ".", O_RDONLY | O_DIRECTORY,
			    0);
	if (fd < 0)
		return fd;
	d = fdopendir(fd);
	if (!d) {
		cow_sys_close(fd);
		return -errno;
	}
	while (ret == 0 && (de = readdir(d))) {
		if (de->d_name[0] == '.' || strchr(de->d_name, '.'))
			continue;
		ret = partial_node(fs, de->d_name, &node);
		if (ret == 0 && node)
			ret = fn(fs, node, arg);
		if (node)
			cow_node_put(fs, node);
	}
	closedir(d);
	return ret;
}

static int track_one(struct cow_fs *fs, struct cow_node *node, const void *arg)
{
	cow_partial_track(fs, node);
	return 0;
}

int cow_partial_scan(struct cow_fs *fs)
{
	return each_partial(fs, track_one, NULL);
}

struct settle {
	const char *top;
	struct cow_inval *inv;
};

static int settle_one(struct cow_fs *fs, struct cow_node *node, const void *arg)
{
	const struct settle *s = arg;
	bool below;
	int ret;

	pthread_rwlock_rdlock(&node->lock);
	below = node->state == COW_PARTIAL && node->map &&
		cow_path_at_or_below(node->map->base_path, s->top);
	pthread_rwlock_unlock(&node->lock);
	if (!below)
		return 0;
	ret = cow_partial_complete_locked(fs, node);
	if (ret == 0)
		cow_inval_add_node(fs, s->inv, node);
	return ret;
}

int cow_partial_settle_locked(struct cow_fs *fs, const char *top,
			      struct cow_inval *inv)
{
	struct settle s = {top, inv};

	return each_partial(fs, settle_one, &s);
}
