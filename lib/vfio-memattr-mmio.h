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
#if defined(__x86_64__)
#include <cpuid.h>
#elif defined(VFIO_MEMATTR_WC64_ST64B)
#include <sys/auxv.h>
#endif

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
 *
 * Compared with rdma-core (util/udma_barrier.h) and DPDK:
 *  - dma_wmb, arm64: dmb oshst is DPDK's rte_io_wmb() and the kernel's
 *    dma_wmb().  rdma-core's udma_to_device_barrier() uses dsb st (DPDK's
 *    rte_wmb()), which also waits for the stores to complete; ordering is
 *    all a doorbell needs, and a DMB is much cheaper than a DSB.
 *  - dma_wmb, x86-64: a compiler barrier, as rdma-core's
 *    udma_to_device_barrier() and DPDK's rte_io_wmb(); DPDK's rte_wmb()
 *    is an sfence, needed only for weakly ordered (WC, non-temporal)
 *    stores, which is what vfio_memattr_wc_start()/_flush() are for.
 *  - dma_rmb: x86-64 lfence as rdma-core's udma_from_device_barrier()
 *    (DPDK's rte_io_rmb() is a compiler barrier: it does not cover WC or
 *    non-temporal loads); arm64 dmb oshld as DPDK's rte_io_rmb() and the
 *    kernel's dma_rmb(), where rdma-core uses dsb ld: ordering suffices.
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
 * rdma-core's mmio_wc_start() is its mmio_flush_writes(): sfence on
 * x86-64 (the same), dsb st on arm64: stronger than needed here, since
 * only the order of the older stores before the WC stores matters, not
 * their completion; DPDK's equivalent, rte_io_wmb(), is dmb oshst too.
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
 * This is rdma-core's mmio_flush_writes() on both architectures (sfence;
 * dsb st) and DPDK's rte_wmb() (sfence on x86-64; dsb st on arm64).  DPDK's
 * rte_io_wmb() (compiler barrier; dmb oshst) would not do on x86-64: it
 * leaves WC stores in the write-combining buffers, where a later UC
 * doorbell store may overtake them.
 */
static inline void vfio_memattr_wc_flush(void)
{
	VFIO_MEMATTR_BARRIER_("sfence", "dsb st");
}

/*
 * MMIO accessors: each is exactly one load or store instruction of the
 * given width, with no writeback of the address register (no pre- or
 * post-indexed addressing) and never paired with another access.
 *
 * That matters when the page is not really mapped but trapped and emulated
 * (a BAR page of a KVM guest that QEMU emulates, a page a hypervisor
 * intercepts): on arm64 KVM can only emulate a data abort whose syndrome
 * is valid (ESR_EL2.ISV), which the architecture provides only for a
 * single general-register load or store without writeback.  A plain
 * volatile access gives no such guarantee: in a loop gcc turns it into
 * "str w2, [x0], #4" (post-indexed) at -O2, which KVM cannot emulate
 * (the guest gets an external abort or KVM an error).  So arm64 uses
 * inline asm with a "Q" operand (a single base register, no offset), as
 * the kernel's __raw_writel() and DPDK's rte_write32_relaxed() do.
 *
 * x86-64: a plain volatile access.  Every x86 load or store is one
 * instruction with no address writeback (the ISA has none), and gcc and
 * clang emit an aligned volatile 32/64-bit access as one mov that KVM's
 * instruction emulator decodes; asm would add nothing.
 *
 * As with volatile, these order only against each other and other
 * volatile accesses: use the barriers above against ordinary memory.
 * @addr must be naturally aligned.
 */
#if defined(__aarch64__)
static inline void vfio_memattr_write32(volatile void *addr, uint32_t v)
{
	__asm__ __volatile__("str %w1, %0" : "=Q"(*(volatile uint32_t *)addr) : "rZ"(v));
}

static inline void vfio_memattr_write64(volatile void *addr, uint64_t v)
{
	__asm__ __volatile__("str %x1, %0" : "=Q"(*(volatile uint64_t *)addr) : "rZ"(v));
}

static inline uint32_t vfio_memattr_read32(const volatile void *addr)
{
	uint32_t v;

	__asm__ __volatile__("ldr %w0, %1" : "=r"(v) : "Q"(*(const volatile uint32_t *)addr));
	return v;
}

static inline uint64_t vfio_memattr_read64(const volatile void *addr)
{
	uint64_t v;

	__asm__ __volatile__("ldr %x0, %1" : "=r"(v) : "Q"(*(const volatile uint64_t *)addr));
	return v;
}
#else
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
#endif

/*
 * Hook for tests: when VFIO_MEMATTR_MMIO_STORE64 is defined before this
 * header is included, wc_copy performs every 8-byte store through it
 * (a macro taking (volatile uint64_t *dst, uint64_t value)).  By default
 * each is a vfio_memattr_write64(): one str without writeback on arm64.
 */
#ifndef VFIO_MEMATTR_MMIO_STORE64
#define VFIO_MEMATTR_MMIO_STORE64(p, v)	vfio_memattr_write64((p), (v))
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

/*
 * vfio_memattr_wc_copy64() - copy one 64-byte block from @src to the WC
 * mapping @dst, as a single 64-byte store where the CPU has one:
 *  x86-64: MOVDIR64B (CPUID.(EAX=7,ECX=0):ECX bit 28), a 64-byte direct
 *	store, written with .byte so that old assemblers take it.
 *  arm64: ST64B only when the program opts in by defining
 *	VFIO_MEMATTR_WC64_ST64B before including this header, and the
 *	kernel reports FEAT_LS64 (getauxval(AT_HWCAP3) & HWCAP3_LS64, Linux
 *	7.0 and later; older kernels answer 0).  The hwcap says the CPU
 *	implements ST64B, not that the device behind @dst accepts a 64-byte
 *	single-copy-atomic store: where it does not, the store aborts
 *	(SIGBUS; in a KVM guest, an exit to the VMM), so only the program
 *	can know that it is safe.
 *  otherwise: eight ordered 8-byte stores, exactly one block of
 *	vfio_memattr_wc_copy().
 * @dst must be 64-byte aligned (MOVDIR64B and ST64B require it) and @src
 * 8-byte aligned (MOVDIR64B takes any source, but the fallback loads
 * 8-byte words, and the rule must not depend on the CPU).  Returns 0, or
 * -EINVAL (nothing written) otherwise.
 * Weakly ordered like any WC store and does not flush: the same
 * vfio_memattr_wc_start() / vfio_memattr_wc_flush() around it.  A burst is
 * not single-copy atomic at the device unless the platform says so; and
 * MOVDIR64B/ST64B to a page a hypervisor traps and emulates may not be
 * emulated (use vfio_memattr_wc_copy() there).
 * The CPU check runs once per translation unit and is cached (relaxed
 * atomics: threads that race compute and store the same value).
 */
#define VFIO_MEMATTR_HAVE_WC_COPY64	1

/* modes of vfio_memattr_wc_copy64(); tests may force STORES_ or BURST_ */
#define VFIO_MEMATTR_WC64_UNKNOWN_	0
#define VFIO_MEMATTR_WC64_STORES_	1
#define VFIO_MEMATTR_WC64_BURST_	2

struct vfio_memattr_block64_ {
	uint64_t q[8];
};

static inline int *vfio_memattr_wc64_mode_(void)
{
	static int mode;	/* one per translation unit */

	return &mode;
}

/* what the CPU (and, on arm64, the program) allows: STORES_ or BURST_ */
static inline int vfio_memattr_wc64_detect_(void)
{
#if defined(__x86_64__)
	unsigned int a, b, c, d;

	if (!__get_cpuid_count(7, 0, &a, &b, &c, &d))
		return VFIO_MEMATTR_WC64_STORES_;
	return (c & (1u << 28)) ? VFIO_MEMATTR_WC64_BURST_ : VFIO_MEMATTR_WC64_STORES_;
#elif defined(VFIO_MEMATTR_WC64_ST64B)
#ifndef AT_HWCAP3
#define AT_HWCAP3	29
#endif
	/* HWCAP3_LS64: bit 3 of AT_HWCAP3 (arch/arm64/include/uapi/asm/hwcap.h) */
	return (getauxval(AT_HWCAP3) & (1ul << 3)) ? VFIO_MEMATTR_WC64_BURST_ :
						     VFIO_MEMATTR_WC64_STORES_;
#else
	return VFIO_MEMATTR_WC64_STORES_;
#endif
}

static inline int vfio_memattr_wc64_mode_get_(void)
{
	int m = __atomic_load_n(vfio_memattr_wc64_mode_(), __ATOMIC_RELAXED);

	if (m == VFIO_MEMATTR_WC64_UNKNOWN_) {
		m = vfio_memattr_wc64_detect_();
		__atomic_store_n(vfio_memattr_wc64_mode_(), m, __ATOMIC_RELAXED);
	}
	return m;
}

/* the one 64-byte store; only called in BURST_ mode */
static inline void vfio_memattr_wc64_burst_(void *dst, const void *src)
{
#if defined(__x86_64__)
	/* movdir64b (%rdx), %rax: 66 0f 38 f8, ModRM 02 (reg rax, rm [rdx]) */
	__asm__ __volatile__(".byte 0x66, 0x0f, 0x38, 0xf8, 0x02"
			     : "=m"(*(struct vfio_memattr_block64_ *)dst)
			     : "m"(*(const struct vfio_memattr_block64_ *)src),
			       "a"(dst), "d"(src));
#elif defined(VFIO_MEMATTR_WC64_ST64B)
	const uint64_t *s = (const uint64_t *)src;
	register uint64_t x0 __asm__("x0") = s[0];
	register uint64_t x1 __asm__("x1") = s[1];
	register uint64_t x2 __asm__("x2") = s[2];
	register uint64_t x3 __asm__("x3") = s[3];
	register uint64_t x4 __asm__("x4") = s[4];
	register uint64_t x5 __asm__("x5") = s[5];
	register uint64_t x6 __asm__("x6") = s[6];
	register uint64_t x7 __asm__("x7") = s[7];
	register void *x8 __asm__("x8") = dst;

	/* st64b x0, [x8]: x0..x7 to [x8], one 64-byte store, no writeback */
	__asm__ __volatile__(".inst 0xf83f9100"
			     : "=m"(*(struct vfio_memattr_block64_ *)dst)
			     : "r"(x0), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5),
			       "r"(x6), "r"(x7), "r"(x8));
#else
	(void)dst;
	(void)src;
#endif
}

static inline int vfio_memattr_wc_copy64(void *dst, const void *src)
{
	if (!dst || !src || ((uintptr_t)dst & 63) || ((uintptr_t)src & 7))
		return -EINVAL;
	if (vfio_memattr_wc64_mode_get_() == VFIO_MEMATTR_WC64_BURST_) {
		vfio_memattr_wc64_burst_(dst, src);
		return 0;
	}
	return vfio_memattr_wc_copy(dst, src, 64);
}

#ifdef __cplusplus
}
#endif

#endif /* VFIO_MEMATTR_MMIO_H */
