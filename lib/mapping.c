// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * mapping.c - the mmap primitives of a mapping: map its range of a file at
 * the address it asks for, and unmap it leaving what was there before.
 *
 * map.c (memattr handles, plain VFIO mmap) and sysfs-wc.c (the sysfs
 * resourceN_wc fallback) both call these; this file calls neither, so the
 * calls go one way: map.c -> sysfs-wc.c -> mapping.c, map.c -> mapping.c.
 */
#define _GNU_SOURCE
#define _FILE_OFFSET_BITS 64
#include <errno.h>
#include <sys/mman.h>

#include "vfio-memattr.h"
#include "vfio-memattr-private.h"

/* mmap @m's range of @fd at @off, at m->fixed when the caller chose it */
void *vfio_memattr__map_range(struct vfio_memattr_mapping *m, int fd, off_t off)
{
	void *a = mmap(m->fixed, m->length, PROT_READ | PROT_WRITE,
		       MAP_SHARED | (m->fixed ? MAP_FIXED : 0), fd, off);

	if (a == MAP_FAILED && m->fixed) {
		int e = errno;

		/* a failed MAP_FIXED may have unmapped the caller's reservation */
		mmap(m->fixed, m->length, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED |
		     MAP_NORESERVE, -1, 0);
		errno = e;
	}
	return a;
}

/* munmap; a mapping at a caller-chosen address leaves a PROT_NONE
 * reservation behind, as it was before */
int vfio_memattr__unmap_range(struct vfio_memattr_mapping *m, void *addr)
{
	if (!m->fixed)
		return munmap(addr, m->length);
	return mmap(addr, m->length, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED |
		    MAP_NORESERVE, -1, 0) == MAP_FAILED ? -1 : 0;
}
