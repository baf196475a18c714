/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The FUSE daemon: options, the session, and the request handlers that
 * translate FUSE requests into layer-model calls. FUSE_USE_VERSION is
 * pinned here and nowhere else.
 */
#ifndef COW_DAEMON_H
#define COW_DAEMON_H

#define FUSE_USE_VERSION 312

#include "layer.h"

#include <fuse_lowlevel.h>
#include <stdbool.h>

/* Readahead asked of the kernel (init; the bdi, as root: daemon.c). */
#define COW_READAHEAD (1u << 20)

struct cow_inval;

struct cow_opts {
	const char *base, *store, *mnt; /* STORE form */
	const char *upper, *work;	/* overlay form (store == NULL) */
	bool foreground, debug, allow_other, userxattr;
	bool in_place;	/* --in-place DIR STORE: BASE and MOUNTPOINT are DIR */
	bool cache;	/* kernel caching on (cache=auto) */
	bool writeback; /* writeback cache */
	bool fsync;	/* fdatasync copy-ups */
	/* the kernel sends OPEN and RELEASE (opens=on): 1 on, 0 off, -1
	 * default (on for a daemon that is not root with allow_other: it
	 * could not see other users' open files in /proc) */
	int opens;
	bool volatile_store;		/* discard everything at unmount */
	unsigned long long store_limit; /* bytes, 0 = none */
	unsigned char warn_pct[8];	/* warn=PERCENT thresholds */
	int nwarn;
	char *exclude[64]; /* exclude=PATTERN, owned */
	int nexclude;
	double timeout;			    /* entry/attr timeout, seconds */
	unsigned long long chunk_size;	    /* bytes, a power of two */
	unsigned long long chunk_threshold; /* bytes; 0 = never by chunk */
	unsigned long completer_rate;	    /* bytes/s; 0 = off */
	long max_dirs;	/* directories held before eviction; 0: any, -1: auto */
	long max_files; /* files keeping their layers open on demand; -1: auto
			 */
	/* mount flags: 1 on, 0 off, -1 default (dev,suid as root; exec) */
	int dev, suid, exec;
};

struct cow_daemon {
	struct cow_fs fs;
	struct cow_opts opts;
	struct fuse_session *se;
	char *store_info; /* value of user.cowfs.store on the root; owned */
	int control_fd;	  /* listening control socket, -1 if none */
	pthread_t control_thread;
	bool no_opendir;     /* the kernel opens directories itself (init) */
	const char *mnt_abs; /* the mount point, resolved before the mount */
	pthread_t evict_thread;
	bool evicting, evict_stop; /* evict_lock */
	pthread_mutex_t evict_lock;
	pthread_cond_t evict_cond;
};

/* control.c: the control socket in meta/ (commit, discard, reset). */
#define COW_CONTROL_NAME "control"
int cow_control_start(struct cow_daemon *d);
void cow_control_stop(struct cow_daemon *d);
/* Connects to the daemon behind store directory @meta_fd: fd or -errno. */
int cow_control_connect(int meta_fd);
/* Tells the kernel what @inv holds as stale and frees it; no lock held. */
void cow_tell_kernel(struct cow_daemon *d, struct cow_inval *inv);

/* evictor.c: keeps the directories held under max_dirs (see evict.c). */
int cow_evictor_start(struct cow_daemon *d);
void cow_evictor_stop(struct cow_daemon *d);

/* inuse.c: inode numbers of the files on the view at @mnt (absolute) that
 * programs have open or mapped, sorted (*@keys to free), as /proc shows them.
 */
int cow_in_use_scan(const char *mnt, uint64_t **keys, size_t *n);

/* ops_*.c */
extern const struct fuse_lowlevel_ops cow_ops;

/* Node of a FUSE inode number (the root is FUSE_ROOT_ID). */
struct cow_node *cow_op_node(fuse_req_t req, fuse_ino_t ino);
struct cow_daemon *cow_op_daemon(fuse_req_t req);
/* Fills @e for @node (looked up once by the caller) and @st. */
void cow_op_entry(struct cow_daemon *d, struct cow_node *node,
		  const struct stat *st, struct fuse_entry_param *e);
fuse_ino_t cow_op_ino(struct cow_daemon *d, struct cow_node *node);

/* Handlers, by family. */
void cow_op_init(void *userdata, struct fuse_conn_info *conn);
void cow_op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name);
void cow_op_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup);
void cow_op_forget_multi(fuse_req_t req, size_t count,
			 struct fuse_forget_data *forgets);
void cow_op_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void cow_op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr,
		    int to_set, struct fuse_file_info *fi);
void cow_op_readlink(fuse_req_t req, fuse_ino_t ino);
void cow_op_mknod(fuse_req_t req, fuse_ino_t parent, const char *name,
		  mode_t mode, dev_t rdev);
void cow_op_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name,
		  mode_t mode);
void cow_op_symlink(fuse_req_t req, const char *link, fuse_ino_t parent,
		    const char *name);
void cow_op_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t parent,
		 const char *name);
void cow_op_unlink(fuse_req_t req, fuse_ino_t parent, const char *name);
void cow_op_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name);
void cow_op_rename(fuse_req_t req, fuse_ino_t parent, const char *name,
		   fuse_ino_t newparent, const char *newname,
		   unsigned int flags);
void cow_op_statfs(fuse_req_t req, fuse_ino_t ino);
void cow_op_access(fuse_req_t req, fuse_ino_t ino, int mask);

void cow_op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void cow_op_create(fuse_req_t req, fuse_ino_t parent, const char *name,
		   mode_t mode, struct fuse_file_info *fi);
void cow_op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		 struct fuse_file_info *fi);
void cow_op_write_buf(fuse_req_t req, fuse_ino_t ino, struct fuse_bufvec *bufv,
		      off_t off, struct fuse_file_info *fi);
void cow_op_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void cow_op_fsync(fuse_req_t req, fuse_ino_t ino, int datasync,
		  struct fuse_file_info *fi);
void cow_op_fallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t offset,
		      off_t length, struct fuse_file_info *fi);
void cow_op_lseek(fuse_req_t req, fuse_ino_t ino, off_t off, int whence,
		  struct fuse_file_info *fi);
void cow_op_copy_file_range(fuse_req_t req, fuse_ino_t ino_in, off_t off_in,
			    struct fuse_file_info *fi_in, fuse_ino_t ino_out,
			    off_t off_out, struct fuse_file_info *fi_out,
			    size_t len, int flags);

void cow_op_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void cow_op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi);
void cow_op_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
			struct fuse_file_info *fi);
void cow_op_releasedir(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi);
void cow_op_fsyncdir(fuse_req_t req, fuse_ino_t ino, int datasync,
		     struct fuse_file_info *fi);

void cow_op_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
		     const char *value, size_t size, int flags);
void cow_op_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
		     size_t size);
void cow_op_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size);
void cow_op_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name);

/* main.c helpers shared with mount.c */
int cow_parse_opts(const char *list, struct cow_opts *o, char *why,
		   size_t whylen);
void cow_opts_free(struct cow_opts *o);
int cow_daemon_run(struct cow_opts *o);
/* envcheck.c: what an unprivileged mount needs; prints why not. */
int cow_env_check(const struct cow_opts *o);
/* Prints "cowfs: MESSAGE" on stderr; returns 1. */
int cow_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
