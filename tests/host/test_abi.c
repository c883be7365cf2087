// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * test_abi.c - the layout of the library's public structs is ABI: a
 * change of size or offset breaks every program built against an older
 * header.  The values below are the recorded layout of version 1.
 */
#include <stddef.h>

#include "vfio-memattr.h"
#include "test.h"

static void bar_layout(void)
{
	CHECK_EQ(sizeof(struct vfio_memattr_bar), 64);
	CHECK_EQ(offsetof(struct vfio_memattr_bar, size), 0);
	CHECK_EQ(offsetof(struct vfio_memattr_bar, flags), 8);
	CHECK_EQ(offsetof(struct vfio_memattr_bar, supported), 12);
	CHECK_EQ(offsetof(struct vfio_memattr_bar, reason), 16);
	CHECK_EQ(sizeof(((struct vfio_memattr_bar *)0)->reason), 32);
	CHECK_EQ(offsetof(struct vfio_memattr_bar, kernel_support), 48);
	CHECK_EQ(offsetof(struct vfio_memattr_bar, reserved), 52);
}

static void constants(void)
{
	/* values that are compiled into callers */
	CHECK_EQ(VFIO_MEMATTR_BAR_ATTRS, 8);
	CHECK(VFIO_MEMATTR_NUM_ATTRS <= VFIO_MEMATTR_BAR_ATTRS);
	CHECK_EQ(VFIO_MEMATTR_SRC_MEMATTR, 1);
	CHECK_EQ(VFIO_MEMATTR_SRC_VFIO_MMAP, 2);
	CHECK_EQ(VFIO_MEMATTR_SRC_SYSFS_WC, 3);
	CHECK_EQ(VFIO_MEMATTR_MAP_ALLOW_SYSFS, 1);
}

void run_abi_tests(void)
{
	t_run("abi: struct vfio_memattr_bar layout (64 bytes, fixed reason[8])", bar_layout);
	t_run("abi: public constants", constants);
}
