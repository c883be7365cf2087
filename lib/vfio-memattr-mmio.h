/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vfio-memattr-mmio.h - MMIO accessors and write-combining store helpers
 *
 * Header only (static inline), x86-64 and arm64.
 *
 * A typical WC sequence (e.g. an NVMe command written into a CMB queue):
 *
 *	vfio_memattr_wc_start();                  // order earlier stores
 *	vfio_memattr_wc_copy(sq_slot, cmd, 64);   // 64-byte blocks, ascending
 *	vfio_memattr_wc_flush();                  // drain WC buffers
 *	vfio_memattr_write32(doorbell, tail);     // doorbell (NC mapping)
 *
 * Never use memcpy() into a WC (or NC) mapping: its store width and order
 * are unspecified and it may read the destination.
 */
#ifndef VFIO_MEMATTR_MMIO_H
#define VFIO_MEMATTR_MMIO_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#if !defined(__x86_64__) && !defined(__aarch64__)
#error "vfio-memattr-mmio.h supports x86-64 and arm64 only"
#endif

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Barrier before a sequence of WC stores: stores to normal memory (e.g.
 * data the device will DMA) issued before it are ordered before the WC
 * stores that follow.
 */
static inline void vfio_memattr_wc_start(void)
{
#if defined(__x86_64__)
	/* WC stores are weakly ordered against earlier stores: fence. */
	__asm__ __volatile__("sfence" ::: "memory");
#else
	__asm__ __volatile__("dsb st" ::: "memory");
#endif
}

/*
 * Make WC stores issued so far visible to the device before a following
 * store (typically a doorbell): sfence on x86-64, dsb st on arm64.
 */
static inline void vfio_memattr_wc_flush(void)
{
#if defined(__x86_64__)
	__asm__ __volatile__("sfence" ::: "memory");
#else
	__asm__ __volatile__("dsb st" ::: "memory");
#endif
}

static inline void vfio_memattr_write32(volatile void *addr, uint32_t v)
{
	*(volatile uint32_t *)addr = v;
}

static inline void vfio_memattr_write64(volatile void *addr, uint64_t v)
{
	*(volatile uint64_t *)addr = v;
}

static inline uint32_t vfio_memattr_read32(const volatile void *addr)
{
	return *(const volatile uint32_t *)addr;
}

static inline uint64_t vfio_memattr_read64(const volatile void *addr)
{
	return *(const volatile uint64_t *)addr;
}

/*
 * Hook for tests: when VFIO_MEMATTR_MMIO_STORE64 is defined before this
 * header is included, wc_copy performs every 8-byte store through it
 * (a macro taking (volatile uint64_t *dst, uint64_t value)).
 */
#ifndef VFIO_MEMATTR_MMIO_STORE64
#define VFIO_MEMATTR_MMIO_STORE64(p, v)	(*(p) = (v))
#endif

/*
 * Copy @len bytes from @src to the WC mapping @dst in 64-byte blocks, in
 * ascending address order, each block as eight 8-byte stores in ascending
 * order (so that a full WC buffer is written before the next one starts).
 * @dst must be 64-byte aligned and @len a multiple of 64; @src must be
 * 8-byte aligned.  Returns 0, or -EINVAL (nothing written) otherwise.
 * Does not flush: call vfio_memattr_wc_flush() before the doorbell.
 */
static inline int vfio_memattr_wc_copy(void *dst, const void *src, size_t len)
{
	volatile uint64_t *d = (volatile uint64_t *)dst;
	const uint64_t *s = (const uint64_t *)src;
	size_t blk;

	if (!dst || !src || ((uintptr_t)dst & 63) || ((uintptr_t)src & 7) ||
	    (len & 63))
		return -EINVAL;

	for (blk = 0; blk < len / 64; blk++) {
		VFIO_MEMATTR_MMIO_STORE64(&d[0], s[0]);
		VFIO_MEMATTR_MMIO_STORE64(&d[1], s[1]);
		VFIO_MEMATTR_MMIO_STORE64(&d[2], s[2]);
		VFIO_MEMATTR_MMIO_STORE64(&d[3], s[3]);
		VFIO_MEMATTR_MMIO_STORE64(&d[4], s[4]);
		VFIO_MEMATTR_MMIO_STORE64(&d[5], s[5]);
		VFIO_MEMATTR_MMIO_STORE64(&d[6], s[6]);
		VFIO_MEMATTR_MMIO_STORE64(&d[7], s[7]);
		d += 8;
		s += 8;
	}
	return 0;
}

#ifdef __cplusplus
}
#endif

#endif /* VFIO_MEMATTR_MMIO_H */
