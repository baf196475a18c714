// SPDX-License-Identifier: GPL-2.0-or-later
/* libFuzzer target: requests on the daemon's control socket. */
#include "control_proto.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cow_control_req r;
	char *req = malloc(size + 1);
	const char *p;
	size_t n = 0;

	if (!req)
		return 0;
	memcpy(req, data, size);
	req[size] = '\0'; /* as the daemon's reader leaves it */
	if (cow_control_parse(req, size, &r) == 0)
		for (p = r.paths; p < r.end; p += strlen(p) + 1)
			n += strlen(p);
	free(req);
	return (int)(n & 0);
}
