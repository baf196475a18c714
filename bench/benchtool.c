// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * benchtool: the timed operations of the benchmarks, so that what is
 * measured is the system calls and not a shell.
 *   benchtool fill FILE SIZE_MIB       writes pseudo-random data
 *   benchtool write FILE OFFSET        open + 4 KiB pwrite + close; prints
 *                                      the wall time in microseconds
 *   benchtool stripe FILE CHUNK        4 KiB into every other CHUNK bytes
 *   benchtool read FILE                sequential read; prints MiB/s
 *   benchtool randread FILE COUNT      COUNT 4 KiB preads at random offsets
 *   benchtool mmapread FILE            reads a shared mapping; prints MiB/s
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MIB (1 << 20)

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int die(const char *what, const char *path)
{
	fprintf(stderr, "benchtool: %s %s: %s\n", what, path, strerror(errno));
	return 1;
}

static int fill(const char *path, long mib)
{
	uint64_t *buf = malloc(MIB), x = 0x9e3779b97f4a7c15ULL;
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	size_t i;
	long n;

	if (fd < 0 || !buf)
		return die("create", path);
	for (n = 0; n < mib; n++) {
		for (i = 0; i < MIB / sizeof(*buf); i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			buf[i] = x;
		}
		if (write(fd, buf, MIB) != MIB)
			return die("write", path);
	}
	free(buf);
	return close(fd) ? die("close", path) : 0;
}

static int write_one(const char *path, long long off)
{
	char buf[4096];
	double t0, t1;
	int fd;

	memset(buf, 'w', sizeof(buf));
	t0 = now();
	fd = open(path, O_WRONLY);
	if (fd < 0 || pwrite(fd, buf, sizeof(buf), off) != sizeof(buf) ||
	    close(fd))
		return die("write", path);
	t1 = now();
	printf("%.1f\n", (t1 - t0) * 1e6);
	return 0;
}

static int stripe(const char *path, long long chunk)
{
	char buf[4096];
	struct stat st;
	long long off;
	int fd = open(path, O_WRONLY);

	memset(buf, 's', sizeof(buf));
	if (fd < 0 || fstat(fd, &st))
		return die("open", path);
	for (off = 0; off < st.st_size; off += 2 * chunk)
		if (pwrite(fd, buf, sizeof(buf), off) != sizeof(buf))
			return die("write", path);
	return close(fd) ? die("close", path) : 0;
}

static int read_all(const char *path)
{
	char *buf = malloc(MIB);
	double t0 = now(), t1;
	long long total = 0;
	ssize_t n;
	int fd = open(path, O_RDONLY);

	if (fd < 0 || !buf)
		return die("open", path);
	while ((n = read(fd, buf, MIB)) > 0)
		total += n;
	t1 = now();
	if (n < 0)
		return die("read", path);
	close(fd);
	free(buf);
	printf("%.1f\n", (double)total / MIB / (t1 - t0));
	return 0;
}

static int rand_read(const char *path, long count)
{
	uint64_t x = 88172645463325252ULL;
	char buf[4096];
	struct stat st;
	int fd = open(path, O_RDONLY);
	long i;

	if (fd < 0 || fstat(fd, &st) || st.st_size < 4096)
		return die("open", path);
	for (i = 0; i < count; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		if (pread(fd, buf, sizeof(buf),
			  (off_t)(x % (uint64_t)(st.st_size / 4096)) * 4096) <
		    0)
			return die("pread", path);
	}
	close(fd);
	return 0;
}

static int mmap_read(const char *path)
{
	struct stat st;
	int fd = open(path, O_RDONLY);
	volatile unsigned char *p;
	unsigned long sum = 0;
	double t0 = now(), t1;
	off_t off;

	if (fd < 0 || fstat(fd, &st))
		return die("open", path);
	p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return die("mmap", path);
	for (off = 0; off < st.st_size; off += 4096)
		sum += p[off];
	t1 = now();
	munmap((void *)p, (size_t)st.st_size);
	close(fd);
	printf("%.1f\n",
	       (double)st.st_size / MIB / (t1 - t0) + (double)(sum & 0));
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "fill"))
		return fill(argv[2], atol(argv[3]));
	if (argc == 4 && !strcmp(argv[1], "write"))
		return write_one(argv[2], atoll(argv[3]));
	if (argc == 4 && !strcmp(argv[1], "stripe"))
		return stripe(argv[2], atoll(argv[3]));
	if (argc == 3 && !strcmp(argv[1], "read"))
		return read_all(argv[2]);
	if (argc == 4 && !strcmp(argv[1], "randread"))
		return rand_read(argv[2], atol(argv[3]));
	if (argc == 3 && !strcmp(argv[1], "mmapread"))
		return mmap_read(argv[2]);
	fprintf(stderr, "usage: see the head of benchtool.c\n");
	return 2;
}
