/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Chunk maps: which chunks of a partially copied file already live in the
 * upper copy. On disk a map is a header followed by an append-only log of
 * "chunk N is present" records, each with its own checksum, so a record is
 * either whole or detectably torn, and a bit flip anywhere is caught.
 * Knows nothing of nodes or FUSE.
 */
#ifndef COW_CHUNKMAP_H
#define COW_CHUNKMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define COW_CHUNKMAP_VERSION 1

struct cow_chunkmap {
	int fd;		    /* the map file, owned */
	unsigned int shift; /* chunk size is 1 << shift */
	uint64_t base_size; /* bytes that come from BASE, at most */
	uint64_t base_ino;
	uint64_t nchunks; /* chunks covering base_size */
	uint64_t present; /* how many are marked */
	uint8_t *bits;	  /* one bit per chunk, owned */
	char *base_path;  /* BASE path of the data ("a/b"), owned */
};

/* 32-bit CRC (IEEE) of @len bytes, continuing from @crc (start with 0). */
uint32_t cow_crc32(uint32_t crc, const void *buf, size_t len);

/* Creates a map file @name in @dirfd with no chunk present. */
int cow_chunkmap_create(int dirfd, const char *name, unsigned int shift,
			uint64_t base_size, uint64_t base_ino,
			const char *base_path, struct cow_chunkmap *m);
/*
 * Loads map @name in @dirfd. A damaged map is -EUCLEAN with the reason in
 * @why; a torn last record (an interrupted append) is dropped silently.
 */
int cow_chunkmap_load(int dirfd, const char *name, struct cow_chunkmap *m,
		      char *why, size_t whylen);
void cow_chunkmap_close(struct cow_chunkmap *m);

/* Whether chunk @idx is in the upper copy (chunks past BASE always are). */
bool cow_chunkmap_test(const struct cow_chunkmap *m, uint64_t idx);
/* Records chunk @idx as present (appends one record). */
int cow_chunkmap_mark(struct cow_chunkmap *m, uint64_t idx);
/* Marks every chunk from @idx on, e.g. after a truncate below BASE's size. */
int cow_chunkmap_mark_from(struct cow_chunkmap *m, uint64_t idx);
bool cow_chunkmap_complete(const struct cow_chunkmap *m);
/* Share of chunks present, in percent: 1 to 99 while partly present. */
unsigned int cow_chunkmap_percent(const struct cow_chunkmap *m);
int cow_chunkmap_sync(struct cow_chunkmap *m);

#endif
