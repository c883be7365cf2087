/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Internal declarations of libvfio-memattr.  Not installed.  The symbols
 * are global in libvfio-memattr.a (so that the host tests can reach them)
 * but not exported from the shared library (see libvfio-memattr.map).
 */
#ifndef VFIO_MEMATTR_PRIVATE_H
#define VFIO_MEMATTR_PRIVATE_H

#include <stdint.h>

/* Root of sysfs ("/sys") and path of the x86 PAT memtype list. */
extern const char *vfio_memattr__sysfs_root;
extern const char *vfio_memattr__pat_list;

struct vfio_memattr_dev;
void vfio_memattr__log(const struct vfio_memattr_dev *dev, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
uint32_t vfio_memattr__decode_bar_reg(uint32_t reg);
int vfio_memattr__pat_check_wc(const char *list, uint64_t start, uint64_t end);

#endif
