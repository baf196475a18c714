// SPDX-License-Identifier: GPL-2.0-or-later
/* What cowtool's command files share. */
#ifndef COWTOOL_H
#define COWTOOL_H

#include <stdio.h>
#include <stdlib.h>

#define die(...)                                                               \
	do {                                                                   \
		fprintf(stderr, __VA_ARGS__);                                  \
		fputc('\n', stderr);                                           \
		exit(1);                                                       \
	} while (0)

int cmd_copyrace(char **argv);

#endif
