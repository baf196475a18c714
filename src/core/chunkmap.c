// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Chunk map files. Layout (little-endian):
 *   header: "COWCHNK1", u32 version, u32 shift, u64 base_size, u64 base_ino,
 *           u32 path_len, u32 crc of everything before it and the path,
 *           then path_len bytes of BASE path;
 *   records: u32 chunk index, u32 crc of the index (salted).
 */
#include "chunkmap.h"

#include "sys.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAGIC	    "COWCHNK1"
#define HDR_FIXED   44 /* bytes before the path */
#define RECORD	    8
#define RECORD_SALT 0x636f7766u

static uint32_t crc_table[256];

static void crc_init(void)
{
	uint32_t i, j, c;

	for (i = 0; i < 256; i++) {
		for (c = i, j = 0; j < 8; j++)
			c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
		crc_table[i] = c;
	}
}

uint32_t cow_crc32(uint32_t crc, const void *buf, size_t len)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	const uint8_t *p = buf;

	pthread_once(&once, crc_init);
	crc = ~crc;
	while (len--)
		crc = crc_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

static void put32(uint8_t *p, uint32_t v)
{
	v = htole32(v);
	memcpy(p, &v, 4);
}

static void put64(uint8_t *p, uint64_t v)
{
	v = htole64(v);
	memcpy(p, &v, 8);
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return le32toh(v);
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return le64toh(v);
}

static uint32_t record_crc(uint32_t idx)
{
	uint8_t b[4];

	put32(b, idx ^ RECORD_SALT);
	return cow_crc32(0, b, 4);
}

static int alloc_bits(struct cow_chunkmap *m)
{
	uint64_t size = m->base_size + ((1ull << m->shift) - 1);

	m->nchunks = size >> m->shift;
	if (m->nchunks > UINT32_MAX)
		return -EFBIG;
	m->bits = calloc((size_t)(m->nchunks / 8 + 1), 1);
	return m->bits ? 0 : -ENOMEM;
}

int cow_chunkmap_create(int dirfd, const char *name, unsigned int shift,
			uint64_t base_size, uint64_t base_ino,
			const char *base_path, struct cow_chunkmap *m)
{
	size_t plen = strlen(base_path);
	uint8_t *hdr;
	int ret;

	memset(m, 0, sizeof(*m));
	m->fd = -1;
	m->shift = shift;
	m->base_size = base_size;
	m->base_ino = base_ino;
	m->base_path = strdup(base_path);
	hdr = malloc(HDR_FIXED + plen);
	ret = !m->base_path || !hdr ? -ENOMEM : alloc_bits(m);
	if (ret < 0)
		goto out_free;
	memcpy(hdr, MAGIC, 8);
	put32(hdr + 8, COW_CHUNKMAP_VERSION);
	put32(hdr + 12, shift);
	put64(hdr + 16, base_size);
	put64(hdr + 24, base_ino);
	put32(hdr + 32, (uint32_t)plen);
	memcpy(hdr + HDR_FIXED, base_path, plen);
	put32(hdr + 36, 0);
	put32(hdr + 40, 0);
	put32(hdr + 36, cow_crc32(0, hdr, HDR_FIXED + plen));
	m->fd = cow_sys_openat(dirfd, name,
			       O_RDWR | O_CREAT | O_EXCL | O_APPEND, 0600);
	ret = m->fd < 0 ? m->fd
			: cow_sys_pwrite_full(m->fd, hdr, HDR_FIXED + plen, 0);
out_free:
	free(hdr);
	if (ret < 0)
		cow_chunkmap_close(m);
	return ret;
}

static int damaged(char *why, size_t whylen, const char *what)
{
	snprintf(why, whylen, "damaged chunk map: %s", what);
	return -EUCLEAN;
}

static int parse_header(struct cow_chunkmap *m, const uint8_t *buf, size_t len,
			size_t *hlen, char *why, size_t whylen)
{
	uint8_t fixed[HDR_FIXED];
	uint32_t plen, crc;

	if (len < HDR_FIXED || memcmp(buf, MAGIC, 8))
		return damaged(why, whylen, "bad magic or truncated header");
	if (get32(buf + 8) != COW_CHUNKMAP_VERSION)
		return damaged(why, whylen, "unknown version");
	m->shift = get32(buf + 12);
	m->base_size = get64(buf + 16);
	m->base_ino = get64(buf + 24);
	plen = get32(buf + 32);
	if (m->shift < 12 || m->shift > 30 || plen > PATH_MAX ||
	    len < HDR_FIXED + (size_t)plen)
		return damaged(why, whylen, "bad header fields");
	memcpy(fixed, buf, HDR_FIXED);
	put32(fixed + 36, 0);
	crc = cow_crc32(0, fixed, HDR_FIXED);
	crc = cow_crc32(crc, buf + HDR_FIXED, plen);
	if (crc != get32(buf + 36))
		return damaged(why, whylen, "header checksum mismatch");
	m->base_path = strndup((const char *)buf + HDR_FIXED, plen);
	*hlen = HDR_FIXED + plen;
	return m->base_path ? alloc_bits(m) : -ENOMEM;
}

static int parse_records(struct cow_chunkmap *m, const uint8_t *p, size_t len,
			 char *why, size_t whylen)
{
	size_t off;

	/* A partial record at the end is an append cut short: ignore it. */
	for (off = 0; off + RECORD <= len; off += RECORD) {
		uint32_t idx = get32(p + off);
		if (get32(p + off + 4) != record_crc(idx))
			return damaged(why, whylen, "record checksum mismatch");
		if (idx >= m->nchunks)
			return damaged(why, whylen, "chunk index out of range");
		if (!cow_chunkmap_test(m, idx)) {
			m->bits[idx / 8] |= (uint8_t)(1u << (idx % 8));
			m->present++;
		}
	}
	return 0;
}

int cow_chunkmap_load(int dirfd, const char *name, struct cow_chunkmap *m,
		      char *why, size_t whylen)
{
	struct stat st;
	uint8_t *buf = NULL;
	size_t hlen = 0;
	int ret;

	memset(m, 0, sizeof(*m));
	m->fd = cow_sys_openat(dirfd, name, O_RDWR | O_APPEND | O_NOFOLLOW, 0);
	ret = m->fd < 0 ? m->fd : cow_sys_fstat(m->fd, &st);
	if (ret == 0 && (!S_ISREG(st.st_mode) || st.st_size > (1 << 30)))
		ret = damaged(why, whylen, "not a regular file of sane size");
	if (ret == 0) {
		buf = malloc((size_t)st.st_size + 1);
		ret = !buf ? -ENOMEM
			   : cow_sys_pread_full(m->fd, buf, (size_t)st.st_size,
						0);
	}
	if (ret == 0)
		ret = parse_header(m, buf, (size_t)st.st_size, &hlen, why,
				   whylen);
	if (ret == 0)
		ret = parse_records(m, buf + hlen, (size_t)st.st_size - hlen,
				    why, whylen);
	free(buf);
	if (ret < 0)
		cow_chunkmap_close(m);
	return ret;
}

void cow_chunkmap_close(struct cow_chunkmap *m)
{
	cow_sys_close(m->fd);
	free(m->bits);
	free(m->base_path);
	memset(m, 0, sizeof(*m));
	m->fd = -1;
}

bool cow_chunkmap_test(const struct cow_chunkmap *m, uint64_t idx)
{
	if (idx >= m->nchunks)
		return true;
	return __atomic_load_n(&m->bits[idx / 8], __ATOMIC_ACQUIRE) &
	       (1u << (idx % 8));
}

int cow_chunkmap_mark(struct cow_chunkmap *m, uint64_t idx)
{
	uint8_t rec[RECORD];
	int ret;

	if (cow_chunkmap_test(m, idx))
		return 0;
	put32(rec, (uint32_t)idx);
	put32(rec + 4, record_crc((uint32_t)idx));
	ret = (int)cow_sys_pwrite(m->fd, rec, RECORD, 0); /* O_APPEND */
	if (ret >= 0 && ret != RECORD)
		ret = -EIO;
	if (ret < 0)
		return ret;
	/* A writer and the completer may record the same chunk at once:
	 * only the one that sets the bit counts it. */
	if (!(__atomic_fetch_or(&m->bits[idx / 8], (uint8_t)(1u << (idx % 8)),
				__ATOMIC_ACQ_REL) &
	      (1u << (idx % 8))))
		__atomic_add_fetch(&m->present, 1, __ATOMIC_RELAXED);
	return 0;
}

int cow_chunkmap_mark_from(struct cow_chunkmap *m, uint64_t idx)
{
	int ret = 0;

	for (; idx < m->nchunks && ret == 0; idx++)
		ret = cow_chunkmap_mark(m, idx);
	return ret;
}

bool cow_chunkmap_complete(const struct cow_chunkmap *m)
{
	return __atomic_load_n(&m->present, __ATOMIC_RELAXED) >= m->nchunks;
}

unsigned int cow_chunkmap_percent(const struct cow_chunkmap *m)
{
	uint64_t present = __atomic_load_n(&m->present, __ATOMIC_RELAXED);
	uint64_t pct = m->nchunks ? present * 100 / m->nchunks : 100;

	if (present > 0 && pct == 0)
		return 1;
	return present < m->nchunks && pct == 100 ? 99 : (unsigned int)pct;
}

int cow_chunkmap_sync(struct cow_chunkmap *m)
{
	return cow_sys_fsync(m->fd, true);
}
