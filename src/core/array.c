// SPDX-License-Identifier: GPL-2.0-or-later
/* Arrays that grow by doubling, and the sorted names of a directory. */
#include "array.h"

#include "sys.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

/* cow_grow() when @v is full. */
void *cow_grow_room(void *v, size_t *cap, size_t size, size_t first)
{
	size_t want = *cap ? 2 * *cap : first;
	void *grown;

	grown = reallocarray(v, want, size);
	if (grown)
		*cap = want;
	return grown;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Appends a copy of @name and the terminating NULL to *@names. */
static int add_name(char ***names, size_t *n, size_t *cap, const char *name)
{
	char **grown = cow_grow(*names, cap, *n + 1, sizeof(**names), 16);

	if (!grown)
		return -ENOMEM;
	*names = grown;
	grown[*n] = strdup(name);
	if (!grown[*n])
		return -ENOMEM;
	grown[++*n] = NULL;
	return 0;
}

/* Every name of @d but "." and ".." into *@names. */
static int read_names(DIR *d, char ***names, size_t *n)
{
	size_t cap = 1; /* the terminating NULL */
	struct dirent *de;
	int ret = 0;

	*names = calloc(cap, sizeof(**names));
	if (!*names)
		return -ENOMEM;
	for (errno = 0; ret == 0 && (de = readdir(d)); errno = 0)
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			ret = add_name(names, n, &cap, de->d_name);
	return ret == 0 && errno ? -errno : ret;
}

char **cow_list_names(int fd, int *err)
{
	int dfd = cow_sys_openat(fd, ".", O_RDONLY | O_DIRECTORY, 0);
	DIR *d = dfd < 0 ? NULL : fdopendir(dfd);
	char **names = NULL;
	size_t n = 0;

	*err = d ? read_names(d, &names, &n) : dfd < 0 ? dfd : -errno;
	if (d)
		closedir(d);
	else
		cow_sys_close(dfd);
	if (*err < 0) {
		cow_free_names(names);
		return NULL;
	}
	qsort(names, n, sizeof(*names), cmp_names);
	return names;
}

void cow_free_names(char **names)
{
	char **p;

	for (p = names; p && *p; p++)
		free(*p);
	free(names);
}
