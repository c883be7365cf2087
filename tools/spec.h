/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * spec.h - parsing of the vfio-memattr command line: sizes and mapping
 * SPECs.  Shared by tools/cmd_map.c and the host unit tests.
 */
#ifndef VFIO_MEMATTR_TOOLS_SPEC_H
#define VFIO_MEMATTR_TOOLS_SPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/vfio_memattr.h>

/* BAR:OFFSET:LENGTH:ATTR[,ATTR...] */
struct vm_spec {
	unsigned int bar;			/* 0..5 */
	uint64_t offset;
	uint64_t length;			/* > 0 */
	enum vfio_memattr prefs[VFIO_MEMATTR_MAX_PREFS];
	unsigned int nr_prefs;			/* 1..VFIO_MEMATTR_MAX_PREFS */
};

/*
 * A number: decimal, or 0x-prefixed hex, optionally followed by one
 * suffix K, M or G (binary: 2^10, 2^20, 2^30; either case).  Returns 0,
 * -EINVAL (malformed) or -ERANGE (does not fit in 64 bits).
 */
int vm_parse_size(const char *s, uint64_t *out);

/*
 * Parse a SPEC.  Returns 0 or -EINVAL/-ERANGE; on error @err (if not
 * NULL) receives a message saying which part is wrong.
 */
int vm_parse_spec(const char *s, struct vm_spec *out, char *err, size_t errlen);

/*
 * An attribute list "WC,NC" (names of vfio_memattr_attr_parse(), up to
 * VFIO_MEMATTR_MAX_PREFS, none twice) into @prefs, @nr.  0 or -EINVAL.
 */
int vm_parse_attrs(const char *s, enum vfio_memattr *prefs, unsigned int *nr, char *err,
		   size_t errlen);

/* BAR:OFFSET:LENGTH[,OFFSET:LENGTH...]: the ranges of one DMABUF */
struct vm_dmabuf_spec {
	unsigned int bar;			/* 0..5 */
	unsigned int nr_ranges;			/* 1..VFIO_MEMATTR_DMABUF_MAX_RANGES */
	struct vfio_memattr_dma_range ranges[VFIO_MEMATTR_DMABUF_MAX_RANGES];
	uint64_t size;				/* sum of the lengths */
};

/* Parse a DMABUF SPEC: 0, -EINVAL or -ERANGE, a message in @err. */
int vm_parse_dmabuf(const char *s, struct vm_dmabuf_spec *out, char *err, size_t errlen);

/*
 * An item of the module parameter default_memattr, as the kernel reads it
 * (kernel/main.c, docs/design.md): "[SELECTOR@]BAR:ATTR", SELECTOR
 * "VVVV:DDDD" (vendor:device) or "SSSS:BB:DD.F" (PCI address), hex digits
 * of exactly these widths in either case, BAR 0..5, ATTR nc, wc or dev in
 * any case; nothing else, no blanks.  "BAR:ATTR" is also what the sysfs
 * attribute memattr_default takes (vfio-memattr default).
 */
enum vm_default_sel { VM_SEL_ANY, VM_SEL_ID, VM_SEL_ADDR };

struct vm_default_item {
	enum vm_default_sel sel;
	unsigned int vendor, device;		/* VM_SEL_ID */
	char addr[16];				/* VM_SEL_ADDR, lower case */
	unsigned int bar;
	enum vfio_memattr attr;
};

/* Parse the @n bytes at @s: 0 or -EINVAL with a message in @err. */
int vm_parse_default_item(const char *s, size_t n, struct vm_default_item *out, char *err,
			  size_t errlen);

/* Does @it apply to the device at @bdf with @vendor:@device? */
bool vm_default_item_applies(const struct vm_default_item *it, const char *bdf,
			     unsigned int vendor, unsigned int device);

#endif
