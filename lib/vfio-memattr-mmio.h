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
 *	vfio_memattr_wc_flush();                  // order them before the doorbell
 *	vfio_memattr_write32(doorbell, tail);     // doorbell (NC mapping)
 *
 * and for a queue in host memory (DMA):
 *
 *	sq[tail] = cmd;                           // ordinary stores
 *	vfio_memattr_dma_wmb();                   // to device
 *	vfio_memattr_write32(doorbell, tail);
 *	...
 *	while ((cq[head].status & 1) != phase) ;  // poll
 *	vfio_memattr_dma_rmb();                   // from device
 *	use(cq[head]);
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

/* one instruction (or none: a compiler barrier) per architecture */
#if defined(__x86_64__)
#define VFIO_MEMATTR_BARRIER_(x86_64, arm64)	__asm__ __volatile__(x86_64 ::: "memory")
#else
#define VFIO_MEMATTR_BARRIER_(x86_64, arm64)	__asm__ __volatile__(arm64 ::: "memory")
#endif

/*
 * DMA ordering barriers, for memory a device reads or writes by DMA
 * (ordinary cache-coherent write-back memory mapped for the device with
 * vfio_memattr_dma_map()), in the spirit of the kernel's dma_wmb() and
 * dma_rmb().
 *
 * vfio_memattr_dma_wmb() - to device: CPU stores to DMA memory issued
 * before it are observed by the device before any store issued after it,
 * typically the MMIO doorbell that tells the device to fetch them:
 *	fill the descriptor / SQE in host memory;
 *	vfio_memattr_dma_wmb();
 *	vfio_memattr_write32(doorbell, tail);	// NC or DEV mapping
 *  x86-64: stores are not reordered with older stores, and an uncached
 *	(UC-) MMIO store is not reordered with older write-back stores, so
 *	only the compiler must be kept from reordering: a compiler barrier.
 *  arm64: dmb oshst: orders the older stores before the younger ones
 *	for every observer in the outer-shareable domain, which includes the
 *	device's DMA and the path to its MMIO (what the kernel's writel()
 *	uses before the register store).
 *
 * vfio_memattr_dma_rmb() - from device: after a load that saw the device's
 * DMA write (a completion entry's phase bit, a status word), loads issued
 * after it do not return older data (the rest of the entry, the buffer):
 *  x86-64: lfence.  Loads from write-back memory are already ordered, but
 *	loads from WC memory (a status word in a WC-mapped device buffer) and
 *	non-temporal loads are not; lfence orders those too, at little cost.
 *  arm64: dmb oshld: orders the older loads before the younger loads and
 *	stores in the outer-shareable domain.
 *
 * Neither is needed between stores to the same NC or DEV mapping: those
 * reach the device in program order on both architectures.
 */
static inline void vfio_memattr_dma_wmb(void)
{
	VFIO_MEMATTR_BARRIER_("", "dmb oshst");
}

static inline void vfio_memattr_dma_rmb(void)
{
	VFIO_MEMATTR_BARRIER_("lfence", "dmb oshld");
}

/*
 * Barrier before a sequence of WC stores: stores (to DMA memory, or to
 * other mappings) issued before it are ordered before the WC stores that
 * follow.
 *  x86-64: sfence.  WC stores are weakly ordered: without a fence they may
 *	become visible before older write-back stores.
 *  arm64: dmb oshst, as vfio_memattr_dma_wmb(): a WC mapping is Normal
 *	Non-cacheable memory, whose stores a store barrier orders like any
 *	other.
 */
static inline void vfio_memattr_wc_start(void)
{
	VFIO_MEMATTR_BARRIER_("sfence", "dmb oshst");
}

/*
 * Order the WC stores issued so far before any later store, typically the
 * doorbell on an NC/DEV mapping that makes the device read them.
 *  x86-64: sfence: the WC buffers are drained and the stores become
 *	globally visible before any later store.
 *  arm64: dsb st: waits until the earlier stores have completed (as the
 *	kernel's wmb()); stronger than the dmb the ordering alone needs, so
 *	that it also holds when the following store is not to a mapping.
 * What neither architecture promises: that the data has reached the
 * device, or that it arrives in 64-byte or any other bursts (the CPU may
 * split or merge WC stores).  It is ordered before what follows, which,
 * for posted PCIe writes, means the device sees it before the doorbell.
 * Only a read from the device shows that a write arrived.
 */
static inline void vfio_memattr_wc_flush(void)
{
	VFIO_MEMATTR_BARRIER_("sfence", "dsb st");
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
 * order (this gives a CPU the best chance to fill a whole WC buffer before
 * the next one starts; no architecture guarantees that it will).
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
