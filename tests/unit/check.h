/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What every unit test uses: CHECK() counts what failed, check_result()
 * reports it and gives the exit status. */
#ifndef COW_UNIT_CHECK_H
#define COW_UNIT_CHECK_H

#include <stdio.h>

static int failures;

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, \
				__LINE__, #cond);                              \
			failures++;                                            \
		}                                                              \
	} while (0)

static inline int check_result(void)
{
	if (failures)
		fprintf(stderr, "%d check(s) failed\n", failures);
	printf("%s\n", failures ? "FAIL" : "PASS");
	return failures ? 1 : 0;
}

#endif
