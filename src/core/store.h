/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The protected BASE tree and the STORE that receives every change.
 *
 * struct cow_base offers only read access: nothing in this header or in
 * store.c opens BASE for writing, and every BASE open carries O_NOATIME
 * where the kernel allows it. struct cow_store owns upper/ (overlayfs
 * upperdir format), work/ (scratch for atomic publication) and meta/.
 */
#ifndef COW_STORE_H
#define COW_STORE_H

#include <limits.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

#define COW_STORE_FORMAT 1
#define COW_XATTR_MAX	 64
#define COW_TMP_MAX	 40

struct cow_base {
	int fd;	      /* BASE root, O_RDONLY|O_DIRECTORY; owned */
	dev_t dev;    /* st_dev of the BASE root */
	bool noatime; /* O_NOATIME is permitted on BASE objects */
	char *path;   /* absolute path, for messages; owned */
};

struct cow_store {
	int upper_fd;  /* upper/, owned */
	int work_fd;   /* work/, owned */
	int meta_fd;   /* meta/, owned */
	int index_fd;  /* meta/index/, owned */
	int chunks_fd; /* meta/chunks/: maps and data links, owned */
	dev_t dev;     /* st_dev of upper/ */
	bool fsync;    /* fdatasync copy-ups before publishing them */
	/* upper/'s filesystem journals a rename after the direct I/O written
	 * before it (XFS, ext4 with a journal): a small copy-up needs no
	 * fdatasync */
	bool direct_orders;
	/* meta/index/ has held an entry since the mount (atomic): BASE files
	 * with one link are looked up there too, as a commit may have
	 * deleted their other names */
	bool index_used;
	/* an upper directory another tool may have written (overlay form):
	 * also honour ".wh.NAME" whiteouts and ".wh..wh..opq" opaque marks */
	bool wh_files;
	/* work/ refused O_TMPFILE once: copies are made under a name there */
	atomic_bool no_tmpfile;
	atomic_ulong tmp_seq;
	/* xattr names, trusted.* as root, user.* unprivileged */
	const char *ovl_prefix; /* "trusted.overlay." */
	const char *cow_prefix; /* "trusted.cowfs." */
	char x_opaque[COW_XATTR_MAX];
	char x_redirect[COW_XATTR_MAX];
	char x_metacopy[COW_XATTR_MAX];
	char x_origin[COW_XATTR_MAX];
	char x_nlink[COW_XATTR_MAX];
	char x_partial[COW_XATTR_MAX];
};

/* Where a store lives: STORE form, or the overlay form's upper + work. */
struct cow_store_paths {
	const char *store; /* STORE (NULL in the overlay form) */
	const char *upper; /* overlay form: upperdir */
	const char *work;  /* overlay form: workdir (holds work/, meta/) */
};

/*
 * Opens BASE read-only. On failure returns -errno and puts a one-line
 * reason in @why.
 */
int cow_base_open(struct cow_base *base, const char *path, char *why,
		  size_t whylen);
void cow_base_close(struct cow_base *base);
/* Opens the BASE object @name in @dirfd read-only, without following. */
int cow_base_openat(const struct cow_base *base, int dirfd, const char *name,
		    int flags);

/*
 * Opens (creating and initialising when absent) the store at @paths for
 * @base. Refuses, changing nothing, a store of another BASE or of an
 * unknown format. Returns 0 or -errno with a reason in @why.
 */
int cow_store_open(struct cow_store *s, const struct cow_store_paths *paths,
		   const struct cow_base *base, bool userxattr, char *why,
		   size_t whylen);
void cow_store_close(struct cow_store *s);

/* Drops every change: upper/, the index, chunk maps and work/. */
int cow_store_reset(struct cow_store *s);
/*
 * Volatile stores (meta/volatile): nothing of them outlives the view. A
 * marked store is cleared whenever it is opened; @want marks a new or
 * empty one (a store with kept changes is refused), !@want unmarks.
 */
#define COW_VOLATILE_MARK "volatile"
int cow_store_volatile(struct cow_store *s, bool want, char *why,
		       size_t whylen);

/* meta/format, parsed (text NUL-terminated); -errno and @why if bad. */
struct cow_store_format {
	int version;
	unsigned long long ino, gen; /* identity of the BASE root */
	char path[PATH_MAX];	     /* BASE path when written */
	char xattr_ns[8];	     /* "trusted", "user", or "" (old) */
};
int cow_store_parse_format(const char *text, struct cow_store_format *f,
			   char *why, size_t whylen);

/* A fresh name for a temporary object in work/. */
void cow_store_tmpname(struct cow_store *s, char buf[COW_TMP_MAX]);

/* Removes everything inside the directory open at @dirfd. */
int cow_store_clear_dir(int dirfd);
/* Removes @name in @dirfd and, for a directory, everything below it. */
int cow_store_remove_tree(int dirfd, const char *name);

/*
 * Moves work/@tmp to @name in @dirfd in one rename, replacing a whiteout,
 * a metacopy file or any other non-directory there. A directory in the way
 * is exchanged and then removed. Returns 0 or -errno.
 */
int cow_store_publish(struct cow_store *s, const char *tmp, int dirfd,
		      const char *name);

/* Makes @name in @dirfd a whiteout, atomically replacing what is there. */
int cow_store_put_whiteout(struct cow_store *s, int dirfd, const char *name);

bool cow_store_is_whiteout(const struct stat *st);
/* With wh_files: @name is hidden by a ".wh.@name" file in upper @dirfd. */
bool cow_store_wh_hidden(const struct cow_store *s, int dirfd,
			 const char *name);
#define COW_WH_OPAQUE ".wh..wh..opq"

/* True when @attr is an xattr name cowfs reserves and hides. */
bool cow_store_xattr_private(const struct cow_store *s, const char *attr);

/* Small xattr helpers on a descriptor (non-O_PATH). */
bool cow_store_fhas_xattr(int fd, const char *attr);
int cow_store_fget_u64(int fd, const char *attr, unsigned long long *val);
int cow_store_fset_u64(int fd, const char *attr, unsigned long long val);

#endif
