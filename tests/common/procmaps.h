/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* procmaps.h - the permissions of a mapping in /proc/self/maps (tests). */
#ifndef VFIO_MEMATTR_PROCMAPS_H
#define VFIO_MEMATTR_PROCMAPS_H

#include <stdint.h>
#include <stdio.h>

/* "rw-s", "---p", ... of the mapping that holds @addr; "" if none. */
static inline const char *procmaps_prot(const void *addr)
{
	static char perms[8];
	char line[512];
	unsigned long s, e;
	FILE *f = fopen("/proc/self/maps", "r");

	perms[0] = 0;
	while (f && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx %7s", &s, &e, perms) == 3 &&
		    (uintptr_t)addr >= s && (uintptr_t)addr < e)
			break;
		perms[0] = 0;
	}
	if (f)
		fclose(f);
	return perms;
}

#endif
