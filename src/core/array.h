/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Arrays that grow by doubling, and the sorted names of a directory. */
#ifndef COW_ARRAY_H
#define COW_ARRAY_H

#include <stddef.h>

/*
 * Room for one more element in array @v of @size-byte elements, which
 * holds @n and has room for *@cap: @v itself while it has room, else the
 * array moved to twice the room (@first when it had none), *@cap updated.
 * NULL when memory is short; @v and *@cap are then as they were.
 */
void *cow_grow_room(void *v, size_t *cap, size_t size, size_t first);

static inline void *cow_grow(void *v, size_t *cap, size_t n, size_t size,
			     size_t first)
{
	return n < *cap ? v : cow_grow_room(v, cap, size, first);
}

/* The names in the directory open at @fd but "." and "..", sorted and
 * NULL-terminated; NULL with -errno in *@err when it cannot list them all. */
char **cow_list_names(int fd, int *err);
void cow_free_names(char **names);

#endif
