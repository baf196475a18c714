// SPDX-License-Identifier: GPL-2.0-or-later
/* libFuzzer target: chunk map files as the loader reads them from STORE. */
#include "chunkmap.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int dirfd = -1;
	struct cow_chunkmap m;
	char why[256];
	int fd;

	if (dirfd < 0) {
		char dir[] = "/tmp/cowfs-fuzz.XXXXXX";
		if (!mkdtemp(dir))
			abort();
		dirfd = open(dir, O_RDONLY | O_DIRECTORY);
	}
	fd = openat(dirfd, "map", O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || write(fd, data, size) != (ssize_t)size)
		abort();
	close(fd);
	memset(&m, 0, sizeof(m));
	if (cow_chunkmap_load(dirfd, "map", &m, why, sizeof(why)) == 0) {
		uint64_t i;
		for (i = 0; i < m.nchunks && i < 4096; i++)
			(void)cow_chunkmap_test(&m, i);
		(void)cow_chunkmap_complete(&m);
		cow_chunkmap_close(&m);
	}
	return 0;
}
