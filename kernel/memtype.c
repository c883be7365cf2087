// SPDX-License-Identifier: GPL-2.0-only
/*
 * vfio-pci-memattr: memory types, their names, and proof that the kernel
 * granted them.
 *
 * A WC handle reserves the memory type of exactly its range (on x86 an
 * entry of the PAT tree, arch_io_reserve_memtype_wc()) and keeps no kernel
 * mapping of it; user mappings made later take their type from that
 * reservation.  The PAT code does not fail a request that overlaps a
 * reservation of another type: it silently hands out the type already
 * reserved.  So after reserving, one page of the range is mapped with the
 * handle's type for a moment and its page table entry is read back: the
 * reservation covers the range with one type, so one page tells.  A
 * handle whose range did not get its type is refused instead of lying.
 *
 * NC and DEV handles have the type a range with no reservation gets on
 * x86 (uncached-minus), and reserve nothing; the same read-back, over the
 * whole range for a moment in a few pieces mapped with the largest pages
 * that fit (memattr_piece()), proves that nothing else reserved another
 * type there.
 *
 * pread and pwrite map the page they touch, with the type of the handle
 * covering it (or uncached), for the duration of the access only.
 */
#include <linux/io.h>
#include <linux/pgtable.h>
#include <linux/sizes.h>

#include "memattr.h"

/*
 * The attributes' names, the one table of them: lower case where the
 * administrator writes them (default_memattr, sysfs memattr_default),
 * upper case, as in the uAPI's VFIO_MEMATTR_*, where they label an object
 * (debugfs, DMABUF names).
 */
const struct memattr_attr_name memattr_attr_names[MEMATTR_NR_ATTRS] = {
	[VFIO_MEMATTR_NC] = { .lower = "nc", .upper = "NC" },
	[VFIO_MEMATTR_WC] = { .lower = "wc", .upper = "WC" },
	[VFIO_MEMATTR_DEV] = { .lower = "dev", .upper = "DEV" },
};

static void __iomem *memattr_ioremap(phys_addr_t phys, u64 len, u8 attr)
{
	return attr == VFIO_MEMATTR_WC ? ioremap_wc(phys, len) : ioremap(phys, len);
}

void __iomem *memattr_map_page(phys_addr_t phys, u8 attr)
{
	return memattr_ioremap(phys & PAGE_MASK, PAGE_SIZE, attr);
}

pgprot_t memattr_pgprot(u8 attr, pgprot_t prot)
{
	switch (attr) {
	case VFIO_MEMATTR_WC:
		prot = pgprot_writecombine(prot);
		break;
	case VFIO_MEMATTR_DEV:
		prot = pgprot_device(prot);
		break;
	default:
		prot = pgprot_noncached(prot);
		break;
	}
	return pgprot_decrypted(prot);
}

#ifdef CONFIG_X86_PAT
#include <asm/pgtable_types.h>
#include <asm/memtype.h>

static enum page_cache_mode memattr_x86_mode(u8 attr)
{
	return attr == VFIO_MEMATTR_WC ? _PAGE_CACHE_MODE_WC :
					 _PAGE_CACHE_MODE_UC_MINUS;
}

u32 memattr_arch_reason(u8 attr)
{
	/* Without PAT, ioremap_wc() and pgprot_writecombine() give UC-. */
	if (attr == VFIO_MEMATTR_WC && !pat_enabled())
		return VFIO_MEMATTR_NOT_ARCH;
	return VFIO_MEMATTR_OK;
}

static bool memattr_kernel_map_honest(void __iomem *kva, u8 attr)
{
	unsigned int level;
	unsigned long val;
	pte_t *pte;

	pte = lookup_address((unsigned long)kva, &level);
	if (!pte)
		return false;
	val = pte_val(*pte);
	if (level != PG_LEVEL_4K)
		val = protval_large_2_4k(val);
	return (val & _PAGE_CACHE_MASK) ==
	       cachemode2protval(memattr_x86_mode(attr));
}

/*
 * The next piece of [phys, phys + len) for the proof: the kernel maps an
 * ioremap() with the largest pages that the physical and the virtual
 * address allow, and aligns the virtual address of a mapping like its
 * size (up to IOREMAP_MAX_ORDER).  So a range is proven in at most five
 * pieces: 4 KiB pages up to the first 2 MiB boundary, 2 MiB pages up to
 * the first 1 GiB boundary, 1 GiB pages, and the same down at the end.
 * The page tables built (and never freed by vunmap) and the time taken
 * are bounded by about a thousand entries, whatever the range's size.
 */
static u64 memattr_piece(phys_addr_t phys, u64 len)
{
	/* Aligned to 1 GiB: every whole GiB at once. */
	if (IS_ALIGNED(phys, SZ_1G) && len >= SZ_1G)
		return round_down(len, SZ_1G);
	/* Aligned to 2 MiB: whole 2 MiB pages up to the next GiB boundary. */
	if (IS_ALIGNED(phys, SZ_2M) && len >= SZ_2M)
		return min_t(u64, round_down(len, SZ_2M),
			     ALIGN(phys + 1, SZ_1G) - phys);
	/* Else 4 KiB pages up to the next 2 MiB boundary. */
	return min_t(u64, len, ALIGN(phys + 1, SZ_2M) - phys);
}

/*
 * Does [phys, phys + len) get @attr when mapped now?  Each piece is one
 * reservation of one type (the PAT code hands a request the type already
 * reserved over it, or fails), so one page table entry of a piece tells
 * its type.  -ENOMEM when a piece cannot be mapped, -EBUSY when it comes
 * out with another type.
 */
static int memattr_granted(phys_addr_t phys, u64 len, u8 attr)
{
	while (len) {
		u64 n = memattr_piece(phys, len);
		void __iomem *kva = memattr_ioremap(phys, n, attr);
		bool ok;

		if (!kva)
			return -ENOMEM;
		ok = memattr_kernel_map_honest(kva, attr);
		iounmap(kva);
		if (!ok)
			return -EBUSY;
		phys += n;
		len -= n;
	}
	return 0;
}

int memattr_reserve(phys_addr_t phys, u64 len, u8 attr, bool *reserved)
{
	int ret;

	*reserved = false;
	if (attr != VFIO_MEMATTR_WC)
		return memattr_granted(phys, len, attr);

	ret = arch_io_reserve_memtype_wc(phys, len);
	if (ret)
		return ret == -ENOMEM ? ret : -EBUSY;
	ret = memattr_granted(phys, PAGE_SIZE, attr);
	if (ret) {
		arch_io_free_memtype_wc(phys, len);
		return ret;
	}
	*reserved = true;
	return 0;
}

void memattr_unreserve(phys_addr_t phys, u64 len, u8 attr)
{
	if (attr == VFIO_MEMATTR_WC)
		arch_io_free_memtype_wc(phys, len);
}
#else
u32 memattr_arch_reason(u8 attr)
{
	return VFIO_MEMATTR_OK;
}

/* No memory type tracking: a mapping has the attribute it is made with. */
int memattr_reserve(phys_addr_t phys, u64 len, u8 attr, bool *reserved)
{
	*reserved = false;
	return 0;
}

void memattr_unreserve(phys_addr_t phys, u64 len, u8 attr)
{
}
#endif
