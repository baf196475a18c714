// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * benchtool: the timed operations of the benchmarks, so that what is
 * measured is the system calls and not a shell starting processes.
 *   benchtool fill FILE SIZE_MIB       writes pseudo-random data
 *   benchtool write FILE OFFSET        open + 4 KiB pwrite + close; prints
 *                                      the wall time in microseconds
 *   benchtool stripe FILE CHUNK        4 KiB into every other CHUNK bytes
 *   benchtool read FILE                sequential read; prints MiB/s
 *   benchtool randread FILE COUNT      COUNT 4 KiB preads at random
 *                                      offsets; prints seconds
 *   benchtool mmapread FILE            reads a shared mapping; prints MiB/s
 *   benchtool mkfiles ROOT NDIRS PERDIR MIN MAX
 *                                      creates ROOT/dNNNN/fNNNNN, sizes
 *                                      between MIN and MAX bytes
 *   benchtool append ROOT NDIRS PERDIR appends 2 bytes to each of those
 *   benchtool statfiles ROOT NDIRS PERDIR
 *                                      stats each of those, by name only
 *                                      (no directory listing)
 *   benchtool renunlink DIR N          renames fI to gI for I < N, then
 *                                      unlinks fI for N <= I < 2N
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

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t next_random(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

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
	uint64_t *buf = malloc(MIB);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	size_t i;
	long n;

	if (fd < 0 || !buf)
		return die("create", path);
	for (n = 0; n < mib; n++) {
		for (i = 0; i < MIB / sizeof(*buf); i++)
			buf[i] = next_random();
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
	char buf[4096];
	struct stat st;
	double t0 = now();
	int fd = open(path, O_RDONLY);
	off_t blocks;
	long i;

	if (fd < 0 || fstat(fd, &st) || st.st_size < 4096)
		return die("open", path);
	blocks = st.st_size / 4096;
	for (i = 0; i < count; i++)
		if (pread(fd, buf, sizeof(buf),
			  (off_t)(next_random() % (uint64_t)blocks) * 4096) < 0)
			return die("pread", path);
	close(fd);
	printf("%.6f\n", now() - t0);
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

static int make_one(const char *path, const char *data, size_t size)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);

	if (fd < 0)
		return die("create", path);
	if (size && write(fd, data, size) != (ssize_t)size)
		return die("write", path);
	return close(fd) ? die("close", path) : 0;
}

/* ROOT/dNNNN/fNNNNN, the names every file-set command uses. */
static void set_name(char *out, size_t len, const char *root, long d, long f)
{
	if (f < 0)
		snprintf(out, len, "%s/d%04ld", root, d);
	else
		snprintf(out, len, "%s/d%04ld/f%05ld", root, d, f);
}

static int make_files(const char *root, long ndirs, long per, long min,
		      long max)
{
	static char data[65536];
	char path[4096];
	size_t size;
	long d, f;

	if (min < 0 || max < min || max > (long)sizeof(data))
		return die("bad sizes for", root);
	memset(data, 'm', sizeof(data));
	for (d = 0; d < ndirs; d++) {
		set_name(path, sizeof(path), root, d, -1);
		if (mkdir(path, 0755))
			return die("mkdir", path);
		for (f = 0; f < per; f++) {
			size = (size_t)(min +
					(long)(next_random() %
					       (uint64_t)(max - min + 1)));
			set_name(path, sizeof(path), root, d, f);
			if (make_one(path, data, size))
				return 1;
		}
	}
	return 0;
}

static int append_files(const char *root, long ndirs, long per)
{
	char path[4096];
	long d, f;
	int fd;

	for (d = 0; d < ndirs; d++)
		for (f = 0; f < per; f++) {
			set_name(path, sizeof(path), root, d, f);
			fd = open(path, O_WRONLY | O_APPEND);
			if (fd < 0 || write(fd, "a\n", 2) != 2 || close(fd))
				return die("append to", path);
		}
	return 0;
}

static int stat_files(const char *root, long ndirs, long per)
{
	char path[4096];
	struct stat st;
	long d, f;

	for (d = 0; d < ndirs; d++)
		for (f = 0; f < per; f++) {
			set_name(path, sizeof(path), root, d, f);
			if (lstat(path, &st))
				return die("stat", path);
		}
	return 0;
}

static int rename_unlink(const char *dir, long n)
{
	char from[4096], to[4096];
	long i;

	for (i = 0; i < n; i++) {
		snprintf(from, sizeof(from), "%s/f%05ld", dir, i);
		snprintf(to, sizeof(to), "%s/g%05ld", dir, i);
		if (rename(from, to))
			return die("rename", from);
	}
	for (i = n; i < 2 * n; i++) {
		snprintf(from, sizeof(from), "%s/f%05ld", dir, i);
		if (unlink(from))
			return die("unlink", from);
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "";

	if (argc == 4 && !strcmp(cmd, "fill"))
		return fill(argv[2], atol(argv[3]));
	if (argc == 4 && !strcmp(cmd, "write"))
		return write_one(argv[2], atoll(argv[3]));
	if (argc == 4 && !strcmp(cmd, "stripe"))
		return stripe(argv[2], atoll(argv[3]));
	if (argc == 3 && !strcmp(cmd, "read"))
		return read_all(argv[2]);
	if (argc == 4 && !strcmp(cmd, "randread"))
		return rand_read(argv[2], atol(argv[3]));
	if (argc == 3 && !strcmp(cmd, "mmapread"))
		return mmap_read(argv[2]);
	if (argc == 7 && !strcmp(cmd, "mkfiles"))
		return make_files(argv[2], atol(argv[3]), atol(argv[4]),
				  atol(argv[5]), atol(argv[6]));
	if (argc == 5 && !strcmp(cmd, "append"))
		return append_files(argv[2], atol(argv[3]), atol(argv[4]));
	if (argc == 5 && !strcmp(cmd, "statfiles"))
		return stat_files(argv[2], atol(argv[3]), atol(argv[4]));
	if (argc == 4 && !strcmp(cmd, "renunlink"))
		return rename_unlink(argv[2], atol(argv[3]));
	fprintf(stderr, "usage: see the head of bench/benchtool.c\n");
	return 2;
}
