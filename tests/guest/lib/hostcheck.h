/* SPDX-License-Identifier: GPL-2.0-only OR MIT */
/*
 * hostcheck.h - data the host verifies after the guest finished.
 *
 * After writing tests/common/pattern.h data through a BAR, a test calls
 * hostcheck(); the lab verifies the data in the host's backing file
 * (tests/host/hostcheck.c) and counts each check as one test.  Each test
 * owns the 64 KiB slices of ivshmem BAR2 it declares in docs/lab.md.
 */
#ifndef MEMATTR_TEST_HOSTCHECK_H
#define MEMATTR_TEST_HOSTCHECK_H

#include <stdint.h>

#include "tap.h"

#define MA_SLICE_SIZE (64u * 1024u)
#define MA_SLICE(n) ((uint64_t)(n) * MA_SLICE_SIZE)

/*
 * Announce that [offset, offset+length) of dev's backing store now holds
 * pattern(seed).  dev: ivshmem0, ivshmem1 or nvme-disk.  Prints
 *     # HOSTCHECK <dev> <offset> <length> <seed> <desc>
 */
void hostcheck(const char *dev, uint64_t offset, uint64_t length,
	       uint64_t seed, const char *fmt, ...) TAP_PRINTF(5, 6);
/* The same for ivshmem0 BAR2. */
void ma_hostcheck(uint64_t off, uint64_t len, uint64_t seed, const char *desc);

#endif /* MEMATTR_TEST_HOSTCHECK_H */
