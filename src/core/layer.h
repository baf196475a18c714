/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Operations of the layer model: resolving names over (upper, BASE),
 * attributes, copy-up, namespace changes and file data. Every function
 * returns 0 (or a count) or -errno. Callers hold no cowfs lock unless a
 * function says otherwise; nodes passed in are referenced by the caller.
 */
#ifndef COW_LAYER_H
#define COW_LAYER_H

#include "node.h"

#include <sys/statvfs.h>
#include <sys/types.h>

/* Who asks: owner of new objects (ignored when the daemon is not root). */
struct cow_cred {
	uid_t uid;
	gid_t gid;
	mode_t umask;
};

/* ---- lookup.c: names and attributes ---- */

/* Root node: upper/ over BASE. */
int cow_fs_make_root(struct cow_fs *fs);

/*
 * Resolves @name in directory @dir. On success returns the node with one
 * kernel lookup counted (cow_node_lookup_ref) and its attributes in @st.
 * -ENOENT when the name is absent or whited out.
 */
int cow_lookup(struct cow_fs *fs, struct cow_node *dir, const char *name,
	       struct cow_node **out, struct stat *st);
int cow_lookup_locked(struct cow_fs *fs, struct cow_node *dir, const char *name,
		      struct cow_node **out, struct stat *st);
int cow_getattr(struct cow_fs *fs, struct cow_node *node, struct stat *st);
int cow_getattr_locked(struct cow_fs *fs, struct cow_node *node,
		       struct stat *st);
int cow_readlink(struct cow_fs *fs, struct cow_node *node, char *buf,
		 size_t size);
int cow_statfs(struct cow_fs *fs, struct statvfs *sv);

/* ---- copyup.c ---- */

enum cow_copy {
	COW_COPY_META, /* metadata only: metacopy file in upper */
	COW_COPY_DATA, /* data and metadata */
};

/*
 * Brings @node to at least @what. For COW_COPY_DATA, @limit bounds the
 * bytes copied (a truncate to @limit follows); -1 copies everything.
 * Takes ns_lock and node->lock for writing.
 */
int cow_copyup(struct cow_fs *fs, struct cow_node *node, enum cow_copy what,
	       off_t limit);
/* Same with ns_lock held for writing. */
int cow_copyup_locked(struct cow_fs *fs, struct cow_node *node,
		      enum cow_copy what, off_t limit);
/* The data copy of a file about to be written (no lock held): made and
 * synced under ns_lock for reading, so that only its publication holds
 * up the namespace (copyup_file.c). */
int cow_copyup_data(struct cow_fs *fs, struct cow_node *node);
/* Gives directory @dir an upper directory (parents first); ns_lock write. */
int cow_copyup_dir_locked(struct cow_fs *fs, struct cow_node *dir);

/* ---- attr.c: metadata changes ---- */

struct cow_setattr {
	unsigned int valid; /* COW_SET_* */
	mode_t mode;
	uid_t uid;
	gid_t gid;
	off_t size;
	struct timespec atime, mtime; /* UTIME_NOW / UTIME_OMIT allowed */
};

#define COW_SET_MODE  (1u << 0)
#define COW_SET_UID   (1u << 1)
#define COW_SET_GID   (1u << 2)
#define COW_SET_SIZE  (1u << 3)
#define COW_SET_ATIME (1u << 4)
#define COW_SET_MTIME (1u << 5)

int cow_setattr(struct cow_fs *fs, struct cow_node *node,
		const struct cow_setattr *sa, struct stat *st);

/* ---- xattr.c ---- */

/* Read-only virtual xattr naming where a file's content lives. */
#define COW_STATE_XATTR "user.cowfs.state"

ssize_t cow_getxattr(struct cow_fs *fs, struct cow_node *node, const char *attr,
		     void *buf, size_t size);
ssize_t cow_listxattr(struct cow_fs *fs, struct cow_node *node, char *buf,
		      size_t size);
int cow_setxattr(struct cow_fs *fs, struct cow_node *node, const char *attr,
		 const void *val, size_t size, int flags);
int cow_removexattr(struct cow_fs *fs, struct cow_node *node, const char *attr);

/* ---- namespace.c ---- */

struct cow_new {
	mode_t mode;	    /* type and permission bits (umask applied) */
	dev_t rdev;	    /* for device nodes */
	const char *target; /* for symlinks */
	bool keep_open;	    /* regular files: an open follows at once */
};

/* Creates @name in @dir; returns the node (one lookup counted) and @st. */
int cow_create(struct cow_fs *fs, struct cow_node *dir, const char *name,
	       const struct cow_new *nw, const struct cow_cred *cred,
	       struct cow_node **out, struct stat *st);
int cow_link(struct cow_fs *fs, struct cow_node *node, struct cow_node *dir,
	     const char *name, struct stat *st);
int cow_unlink(struct cow_fs *fs, struct cow_node *dir, const char *name);
int cow_rmdir(struct cow_fs *fs, struct cow_node *dir, const char *name);

/* ---- exclude.c: exclude=PATTERN, changes written through to BASE ---- */

/* Whether a change to @name in @dir goes to BASE (ns_lock held). */
bool cow_excluded(struct cow_fs *fs, struct cow_node *dir, const char *name);
int cow_x_base_loc(struct cow_fs *fs, struct cow_node *node, int *dirfd,
		   char name[NAME_MAX + 1]);
int cow_x_create(struct cow_fs *fs, struct cow_node *dir, const char *name,
		 const struct cow_new *nw, const struct cow_cred *cred);
/* BASE file of excluded @node, for reading and writing. */
int cow_x_open_rw(struct cow_fs *fs, struct cow_node *node);
int cow_x_xattr(struct cow_fs *fs, struct cow_node *node, const char *attr,
		const void *val, size_t size, int flags, bool remove);

/* ---- quota.c: store_limit and warnings (no-ops without a limit) ---- */

int cow_quota_scan(struct cow_fs *fs);
/* -ENOSPC when copying @node up would pass the limit. */
int cow_quota_admit_copy(struct cow_fs *fs, struct cow_node *node);
/* -ENOSPC when writing [off, off+len) to upper @fd would pass it. */
int cow_quota_admit(struct cow_fs *fs, int fd, off_t off, size_t len);
/* Counts the change in @node's allocated blocks (upper @fd). */
void cow_quota_account(struct cow_fs *fs, struct cow_node *node, int fd);
/* @node's upper data is gone. */
void cow_quota_release(struct cow_fs *fs, struct cow_node *node);

/* ---- rename.c ---- */

int cow_rename(struct cow_fs *fs, struct cow_node *odir, const char *oname,
	       struct cow_node *ndir, const char *nname, unsigned int flags);

/* ---- dirlist.c: merged listings ---- */

struct cow_dirent {
	uint64_t ino;
	uint64_t off; /* its position in a sorted listing (cow_dirsnap) */
	mode_t type;  /* S_IFMT bits */
	char *name;
};

struct cow_dirlist {
	struct cow_dirent *ents;
	size_t count, cap;
};

/* Snapshot of the merged listing of @dir, with "." and ".." first. */
int cow_dirlist_read(struct cow_fs *fs, struct cow_node *dir,
		     struct cow_dirlist *list);
void cow_dirlist_free(struct cow_dirlist *list);

/*
 * Listings served without a handle. Entries are ordered by a 63-bit hash
 * of their name, their position ("." 1, ".." 2): a reader that resumes
 * after position P gets the entries after P in the directory as it is
 * then, so an entry there all along is listed exactly once however the
 * directory changes in between. The snapshot taken at position 0 is kept
 * in the node for the reads that follow, until one reaches the end.
 */
struct cow_dirsnap {
	struct cow_dirlist list;
	unsigned int refs; /* fs->snap_lock */
};

/* A snapshot of @dir (ref taken): a fresh one when @fresh or none. */
int cow_dirsnap_get(struct cow_fs *fs, struct cow_node *dir, bool fresh,
		    struct cow_dirsnap **out);
/* Index of the first entry after position @off. */
size_t cow_dirsnap_seek(const struct cow_dirsnap *snap, uint64_t off);
/* Drops a ref; @done: the reader reached the end, @dir may forget it. */
void cow_dirsnap_put(struct cow_fs *fs, struct cow_node *dir,
		     struct cow_dirsnap *snap, bool done);
/* True when @dir shows no entry (whiteouts only, or nothing). */
int cow_dir_is_empty_locked(struct cow_fs *fs, struct cow_node *dir);

/* ---- fileio.c: the data path ---- */

/* A piece of a read: @len bytes at @off of descriptor @fd. */
struct cow_seg {
	int fd;
	off_t off;
	size_t len;
};

/* Opens the node's backing (first open) and counts the handle. */
int cow_file_open(struct cow_fs *fs, struct cow_node *node, int flags);
void cow_file_release(struct cow_fs *fs, struct cow_node *node);

/* Segments a read of @len bytes can need at most. */
int cow_file_max_segs(struct cow_fs *fs, size_t len);
/*
 * Read side: takes node->lock for reading and maps [off, off+len) onto the
 * current backing: returns the number of segments filled in @segs (room
 * for cow_file_max_segs). cow_file_end drops the lock.
 */
int cow_file_begin_read(struct cow_fs *fs, struct cow_node *node, off_t off,
			size_t len, struct cow_seg *segs);
/*
 * Write side: copies up first if needed and returns the descriptor to
 * write [off, off+len) to, with node->lock held for reading;
 * cow_file_end_write(written) finishes it (chunk bookkeeping) and unlocks.
 */
int cow_file_begin_write(struct cow_fs *fs, struct cow_node *node, off_t off,
			 size_t len, bool *filling);
int cow_file_end_write(struct cow_fs *fs, struct cow_node *node, off_t off,
		       size_t written, bool filling);
void cow_file_end(struct cow_node *node);
/* Reads through the view's data path (any state), for internal copies. */
ssize_t cow_file_pread(struct cow_fs *fs, struct cow_node *node, void *buf,
		       size_t len, off_t off);
/* Starts / stops the background completer of partial copies. */
int cow_completer_start(struct cow_fs *fs);
void cow_completer_stop(struct cow_fs *fs);
/* Finds partial copies left by an earlier mount and queues them. */
int cow_partial_scan(struct cow_fs *fs);

int cow_file_fsync(struct cow_fs *fs, struct cow_node *node, bool datasync);
int cow_file_fallocate(struct cow_fs *fs, struct cow_node *node, int mode,
		       off_t off, off_t len);
off_t cow_file_lseek(struct cow_fs *fs, struct cow_node *node, off_t off,
		     int whence);
ssize_t cow_file_copy_range(struct cow_fs *fs, struct cow_node *src, off_t soff,
			    struct cow_node *dst, off_t doff, size_t len);
int cow_dir_fsync(struct cow_fs *fs, struct cow_node *dir, bool datasync);

#endif
