// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * names.c - names of attributes, sources, reasons; PCI addresses
 *
 * See vfio-memattr.h and vfio_memattr(3).
 */
#define _GNU_SOURCE
#define _FILE_OFFSET_BITS 64
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "vfio-memattr.h"
#include "vfio-memattr-private.h"

_Static_assert(VFIO_MEMATTR_NUM_ATTRS <= VFIO_MEMATTR_BAR_ATTRS, "reason[] too small");
_Static_assert(sizeof(struct vfio_memattr_bar) == 64, "struct vfio_memattr_bar is ABI");

static const char *const attr_names[VFIO_MEMATTR_NUM_ATTRS] = {
	[VFIO_MEMATTR_NC] = "NC",
	[VFIO_MEMATTR_WC] = "WC",
	[VFIO_MEMATTR_DEV] = "DEV",
};

EXPORT const char *vfio_memattr_attr_name(enum vfio_memattr a)
{
	if ((unsigned int)a >= VFIO_MEMATTR_NUM_ATTRS)
		return "?";
	return attr_names[a];
}

EXPORT int vfio_memattr_attr_parse(const char *s, enum vfio_memattr *out)
{
	unsigned int i;

	if (!s || !out)
		return -EINVAL;
	for (i = 0; i < VFIO_MEMATTR_NUM_ATTRS; i++) {
		if (!strcasecmp(s, attr_names[i])) {
			*out = (enum vfio_memattr)i;
			return 0;
		}
	}
	return -EINVAL;
}

EXPORT const char *vfio_memattr_source_name(enum vfio_memattr_source s)
{
	switch (s) {
	case VFIO_MEMATTR_SRC_MEMATTR:
		return "memattr";
	case VFIO_MEMATTR_SRC_VFIO_MMAP:
		return "vfio-mmap";
	case VFIO_MEMATTR_SRC_SYSFS_WC:
		return "sysfs-wc";
	}
	return "?";
}

EXPORT const char *vfio_memattr_reason_name(uint32_t reason)
{
	switch (reason) {
	case VFIO_MEMATTR_OK:
		return "ok";
	case VFIO_MEMATTR_NOT_MEM_BAR:
		return "not a memory BAR";
	case VFIO_MEMATTR_NOT_MMAP:
		return "BAR not mmap capable";
	case VFIO_MEMATTR_NOT_PREFETCH:
		return "non-prefetchable BAR without opt-in";
	case VFIO_MEMATTR_NOT_ARCH:
		return "not provided by this architecture or kernel";
	}
	return "unknown reason";
}


/* Exactly @n hex digits at *@p (no sign, no 0x, no space); advances *@p. */
static int hex_field(const char **p, unsigned int n, unsigned int *out)
{
	unsigned int i, v = 0;

	for (i = 0; i < n; i++) {
		char c = (*p)[i];
		unsigned int d;

		if (c >= '0' && c <= '9')
			d = (unsigned int)(c - '0');
		else if (c >= 'a' && c <= 'f')
			d = (unsigned int)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			d = (unsigned int)(c - 'A' + 10);
		else
			return -EINVAL;
		v = v * 16 + d;
	}
	*p += n;
	*out = v;
	return 0;
}

EXPORT int vfio_memattr_parse_bdf(const char *in, char *out, size_t outsz)
{
	unsigned int dom = 0, bus, slot, fn;
	const char *p = in;

	if (!in || !out)
		return -EINVAL;
	/* "dddd:bb:ss.f" or "bb:ss.f": fixed widths, as sysfs and lspci print */
	if (strlen(in) == 12) {
		if (hex_field(&p, 4, &dom) < 0 || *p++ != ':')
			return -EINVAL;
	} else if (strlen(in) != 7) {
		return -EINVAL;
	}
	if (hex_field(&p, 2, &bus) < 0 || *p++ != ':' ||
	    hex_field(&p, 2, &slot) < 0 || *p++ != '.' ||
	    hex_field(&p, 1, &fn) < 0 || *p)
		return -EINVAL;
	if (slot > 0x1f || fn > 7)
		return -EINVAL;
	if ((size_t)snprintf(out, outsz, "%04x:%02x:%02x.%x", dom, bus, slot, fn) >= outsz)
		return -EINVAL;
	return 0;
}

