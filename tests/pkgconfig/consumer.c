// SPDX-License-Identifier: GPL-2.0-only
/*
 * A program outside the tree, built only with what an installed
 * libvfio-memattr offers: `pkg-config --cflags --libs vfio-memattr` against
 * `make -C lib install DESTDIR=...` (see lab/build).  In the guest it opens
 * ivshmem0 and maps a page range of BAR2 write-combined.  TAP output.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vfio-memattr.h>
#include <vfio-memattr-mmio.h>

int main(void)
{
	const char *bdf = getenv("MEMATTR_IVSHMEM0");
	enum vfio_memattr prefs[] = { VFIO_MEMATTR_WC, VFIO_MEMATTR_NC };
	struct vfio_memattr_mapping *m = NULL;
	struct vfio_memattr_dev *dev = NULL;
	int ret;

	printf("TAP version 13\n1..3\n");
	printf("ok 1 - built with pkg-config against an installed libvfio-memattr, runs\n");
	if (!bdf) {
		printf("ok 2 # SKIP MEMATTR_IVSHMEM0 not set\nok 3 # SKIP MEMATTR_IVSHMEM0 not set\n");
		return 0;
	}
	ret = vfio_memattr_open(bdf, 0, &dev);
	printf("%sok 2 - vfio_memattr_open(%s) -> %d\n", ret ? "not " : "", bdf, ret);
	if (ret) {
		printf("not ok 3 - no device\n");
		return 1;
	}
	/* read-only use of the last 64 KiB of BAR2: no data slice needed */
	ret = vfio_memattr_map(dev, 2, 0x3f0000, 0x10000, prefs, 2, 0, &m);
	printf("%sok 3 - map BAR2 {WC, NC} -> %d, attribute %s, source %d\n",
	       !ret && vfio_memattr_mapping_attr(m) == VFIO_MEMATTR_WC &&
	       vfio_memattr_mapping_source(m) == VFIO_MEMATTR_SRC_MEMATTR ? "" : "not ",
	       ret, ret ? "-" : vfio_memattr_attr_name(vfio_memattr_mapping_attr(m)),
	       ret ? 0 : (int)vfio_memattr_mapping_source(m));
	if (!ret) {
		(void)vfio_memattr_read32((char *)vfio_memattr_mapping_addr(m));
		vfio_memattr_unmap(m);
	}
	vfio_memattr_close(dev);
	return ret ? 1 : 0;
}
