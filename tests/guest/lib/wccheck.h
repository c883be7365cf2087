/* SPDX-License-Identifier: GPL-2.0-only OR MIT */
/*
 * wccheck.h - for tests of libvfio-memattr's mappings: fill a mapping with
 * the pattern through the library's WC store helpers and barriers, read it
 * back through the mapping.  Header-only: only the tests that link the
 * library include it.
 */
#ifndef MEMATTR_TEST_WCCHECK_H
#define MEMATTR_TEST_WCCHECK_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "pattern.h"
#include "vfio-memattr.h"
#include "vfio-memattr-mmio.h"

/* The whole of @m written with @seed's pattern (wc_copy + flush) reads back. */
static inline bool wc_write_and_check(struct vfio_memattr_mapping *m, uint64_t seed)
{
	size_t len = (size_t)vfio_memattr_mapping_length(m), bad;
	void *buf = aligned_alloc(64, len);
	int ret;

	if (!buf)
		return false;
	pattern_fill(buf, len, seed);
	vfio_memattr_wc_start();
	ret = vfio_memattr_wc_copy(vfio_memattr_mapping_addr(m), buf, len);
	vfio_memattr_wc_flush();
	free(buf);
	if (ret) {
		tap_diag("wc_copy: %s", strerror(-ret));
		return false;
	}
	bad = pattern_check_mmio64(vfio_memattr_mapping_addr(m), len / 8, seed);
	if (bad != len / 8)
		tap_diag("read back differs at word %zu", bad);
	return bad == len / 8;
}

#endif /* MEMATTR_TEST_WCCHECK_H */
