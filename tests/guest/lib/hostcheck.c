// SPDX-License-Identifier: GPL-2.0-only OR MIT
/* hostcheck.c - data the host verifies, see hostcheck.h. */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>

#include "hostcheck.h"

void hostcheck(const char *dev, uint64_t offset, uint64_t length,
	       uint64_t seed, const char *fmt, ...)
{
	char desc[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(desc, sizeof(desc), fmt, ap);
	va_end(ap);
	tap_diag("HOSTCHECK %s %" PRIu64 " %" PRIu64 " 0x%016" PRIx64 " %s",
		 dev, offset, length, seed, desc);
}

void ma_hostcheck(uint64_t off, uint64_t len, uint64_t seed, const char *desc)
{
	hostcheck("ivshmem0", off, len, seed, "%s", desc);
}
