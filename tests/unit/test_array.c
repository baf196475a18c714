// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests of array.c: growth keeps the elements and reports the room it
 * made; directory listings are complete, sorted, without "." and "..", and
 * fail as a whole on a descriptor that is not a directory.
 */
#include "array.h"
#include "check.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void test_grow(void)
{
	size_t cap = 0, n, rooms = 0;
	long *v = NULL, *grown;

	for (n = 0; n < 1000; n++) {
		size_t before = cap;

		grown = cow_grow(v, &cap, n, sizeof(*v), 4);
		CHECK(grown != NULL);
		if (!grown)
			break;
		CHECK(cap > n);
		CHECK(cap == before || cap == (before ? 2 * before : 4));
		rooms += cap != before;
		v = grown;
		v[n] = (long)n * 7;
	}
	for (n = 0; n < 1000; n++)
		CHECK(v[n] == (long)n * 7);
	CHECK(cap == 1024);
	CHECK(rooms == 9); /* 4, 8, ..., 1024 */
	free(v);
}

/* Makes (@make) or removes the directories n00 .. n49 of @dir, in an order
 * that is not theirs. */
static void fill(const char *dir, bool make)
{
	char p[64];
	int i, k;

	for (i = 0; i < 50; i++) {
		k = (i * 17) % 50;
		snprintf(p, sizeof(p), "%s/n%02d", dir, k);
		if (make)
			CHECK(mkdir(p, 0700) == 0);
		else
			rmdir(p);
	}
}

static void test_names(void)
{
	char dir[] = "/tmp/cowfs-unit-array-XXXXXX", want[8];
	char **names;
	int fd, err, i;

	CHECK(mkdtemp(dir) != NULL);
	fd = open(dir, O_RDONLY | O_DIRECTORY);
	names = cow_list_names(fd, &err);
	CHECK(err == 0 && names && !names[0]);
	cow_free_names(names);
	fill(dir, true);
	names = cow_list_names(fd, &err);
	CHECK(err == 0 && names);
	for (i = 0; names && i < 50; i++) {
		snprintf(want, sizeof(want), "n%02d", i);
		CHECK(names[i] && !strcmp(names[i], want));
	}
	CHECK(names && !names[50]);
	cow_free_names(names);
	fill(dir, false);
	close(fd);
	rmdir(dir);
	fd = open("/dev/null", O_RDONLY);
	names = cow_list_names(fd, &err);
	CHECK(!names && err == -ENOTDIR);
	close(fd);
}

int main(void)
{
	test_grow();
	test_names();
	return check_result();
}
