// SPDX-License-Identifier: GPL-2.0-only OR MIT
/* kmem.c - the kernel's own memory figures, see kmem.h. */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>

#include "kmem.h"

long long ma_ioremap_bytes(void)
{
	FILE *f = fopen("/proc/vmallocinfo", "r");
	long long sum = 0;
	char line[512];

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		long long size;

		/* "start-end size caller ... ioremap" (addresses may be hashed) */
		if (strstr(line, "ioremap") && sscanf(line, "%*s %lld", &size) == 1)
			sum += size;
	}
	fclose(f);
	return sum;
}

long long ma_meminfo_kib(const char *key)
{
	FILE *f = fopen("/proc/meminfo", "r");
	size_t n = strlen(key);
	char line[256];
	long long v = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, n) && line[n] == ':' &&
		    sscanf(line + n + 1, "%lld", &v) == 1)
			break;
	fclose(f);
	return v;
}
