/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * pat-list.h - the one parser of the x86 PAT memtype list
 * (/sys/kernel/debug/x86/pat_memtype_list), internal to the project.
 *
 * The library uses it for the sysfs resourceN_wc fallback check
 * (sysfs-wc.c); the guest tests (tests/guest/lib/pat.c) and the host unit
 * tests (tests/host/test_lib.c) compile the same pat-list.c.  Nothing here
 * is exported from libvfio-memattr.so (-fvisibility=hidden and the version
 * script keep it local).
 *
 * A line of the list, as the kernel prints it (arch/x86/mm/pat/memtype.c):
 *     PAT: [mem 0x00000000fe000000-0x00000000fe400000] write-combining
 * [start, end) in hex, then the type: write-back, uncached, write-combining,
 * write-through, write-protected or uncached-minus.
 */
#ifndef VFIO_MEMATTR_PAT_LIST_H
#define VFIO_MEMATTR_PAT_LIST_H

#include <stdint.h>

#define VFIO_MEMATTR__PAT_LIST "/sys/kernel/debug/x86/pat_memtype_list"

struct vfio_memattr__pat_entry {
	uint64_t start, end;	/* [start, end) as listed */
	char type[32];		/* "write-combining", "uncached-minus", ... */
};

/*
 * Parses one line of the list into *e.  Returns 1 for an entry, 0 for any
 * other line (the "PAT memtype list:" header, a malformed or empty range).
 */
int vfio_memattr__pat_parse_line(const char *line, struct vfio_memattr__pat_entry *e);

/*
 * Reads the list at path and calls fn(e, arg) for each entry overlapping
 * [start, end) (fn may be NULL).  Returns the number of such entries, or
 * -errno if the list cannot be opened.
 */
int vfio_memattr__pat_foreach(const char *path, uint64_t start, uint64_t end,
			      void (*fn)(const struct vfio_memattr__pat_entry *e, void *arg),
			      void *arg);

/*
 * The entries overlapping [start, end): stores the first max of them in out
 * (in list order) and returns how many overlap (which may be more than
 * max), or -errno.
 */
int vfio_memattr__pat_overlapping(const char *path, uint64_t start, uint64_t end,
				  struct vfio_memattr__pat_entry *out, unsigned int max);

#endif /* VFIO_MEMATTR_PAT_LIST_H */
