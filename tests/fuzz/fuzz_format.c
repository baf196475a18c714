// SPDX-License-Identifier: GPL-2.0-or-later
/* libFuzzer target: STORE's meta/format file. */
#include "store.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cow_store_format f;
	char *text = malloc(size + 1), why[512];

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	(void)cow_store_parse_format(text, &f, why, sizeof(why));
	free(text);
	return 0;
}
