// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests of chunk map files: create, mark, reload, a torn last record
 * (ignored), and damage anywhere else (refused with -EUCLEAN).
 */
#include "chunkmap.h"
#include "check.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int load(int dirfd, struct cow_chunkmap *m)
{
	char why[256] = "";

	return cow_chunkmap_load(dirfd, "map", m, why, sizeof(why));
}

static void test_roundtrip(int dirfd)
{
	struct cow_chunkmap m;
	const uint64_t size = (10ull << 20) + 5; /* 11 chunks of 1 MiB */

	CHECK(cow_chunkmap_create(dirfd, "map", 20, size, 42, "a/b", &m) == 0);
	CHECK(m.nchunks == 11 && m.present == 0);
	CHECK(!cow_chunkmap_test(&m, 0) && !cow_chunkmap_test(&m, 10));
	CHECK(cow_chunkmap_test(&m, 11)); /* past BASE: always present */
	CHECK(cow_chunkmap_mark(&m, 3) == 0 && cow_chunkmap_mark(&m, 3) == 0);
	CHECK(cow_chunkmap_mark(&m, 10) == 0 && m.present == 2);
	cow_chunkmap_close(&m);
	CHECK(load(dirfd, &m) == 0);
	CHECK(m.present == 2 && cow_chunkmap_test(&m, 3) &&
	      cow_chunkmap_test(&m, 10) && !cow_chunkmap_test(&m, 4));
	CHECK(m.base_size == size && m.base_ino == 42 &&
	      !strcmp(m.base_path, "a/b"));
	CHECK(cow_chunkmap_mark_from(&m, 0) == 0 && cow_chunkmap_complete(&m));
	cow_chunkmap_close(&m);
}

/* Overwrites one byte of the map (not through its O_APPEND descriptor). */
static void poke(int dirfd, off_t off, char xor_mask, char set, bool use_set)
{
	int fd = openat(dirfd, "map", O_RDWR);
	char byte = 0;

	CHECK(fd >= 0 && pread(fd, &byte, 1, off) == 1);
	byte = use_set ? set : (char)(byte ^ xor_mask);
	CHECK(pwrite(fd, &byte, 1, off) == 1);
	close(fd);
}

static void test_torn_and_damaged(int dirfd)
{
	struct cow_chunkmap m;
	struct stat st;

	unlinkat(dirfd, "map", 0);
	CHECK(cow_chunkmap_create(dirfd, "map", 20, 4ull << 20, 1, "f", &m) ==
	      0);
	CHECK(cow_chunkmap_mark(&m, 1) == 0 && cow_chunkmap_mark(&m, 2) == 0);
	CHECK(fstat(m.fd, &st) == 0);
	/* Torn append: the last record loses its checksum half. */
	CHECK(ftruncate(m.fd, st.st_size - 3) == 0);
	cow_chunkmap_close(&m);
	CHECK(load(dirfd, &m) == 0);
	CHECK(cow_chunkmap_test(&m, 1) && !cow_chunkmap_test(&m, 2));
	/* A flipped bit in a whole record is damage, not a torn write. */
	cow_chunkmap_close(&m);
	poke(dirfd, 44 + 1, 0x01, 0, false);
	CHECK(load(dirfd, &m) == -EUCLEAN);
	/* And a damaged header. */
	unlinkat(dirfd, "map", 0);
	CHECK(cow_chunkmap_create(dirfd, "map", 20, 4ull << 20, 1, "f", &m) ==
	      0);
	cow_chunkmap_close(&m);
	poke(dirfd, 17, 0, 'X', true);
	CHECK(load(dirfd, &m) == -EUCLEAN);
}

int main(void)
{
	char dir[] = "/tmp/cowfs-chunkmap-XXXXXX";
	int dirfd;

	if (!mkdtemp(dir))
		return 1;
	dirfd = open(dir, O_RDONLY | O_DIRECTORY);
	if (dirfd < 0)
		return 1;
	test_roundtrip(dirfd);
	test_torn_and_damaged(dirfd);
	unlinkat(dirfd, "map", 0);
	close(dirfd);
	rmdir(dir);
	return check_result();
}
