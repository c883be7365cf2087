// SPDX-License-Identifier: GPL-2.0-only
/*
 * vfio-pci-memattr: memory types, and proof that the kernel granted them.
 *
 * Every handle keeps a kernel mapping of exactly its range, made with the
 * handle's attribute.  On x86 that mapping is what reserves the range's
 * memory type in the PAT tree; user mappings made later inherit the type
 * from that reservation.  The PAT code does not fail a request that
 * overlaps a reservation of another type: it silently hands out the type
 * already reserved.  So after mapping, the page table entry of the kernel
 * mapping is read back and compared with what was asked; a handle whose
 * range did not get its type is refused instead of lying.
 */
#include <linux/io.h>
#include <linux/pgtable.h>

#include "memattr.h"

void __iomem *memattr_kernel_map(phys_addr_t phys, u64 len, u8 attr)
{
	switch (attr) {
	case VFIO_MEMATTR_WC:
		return ioremap_wc(phys, len);
	case VFIO_MEMATTR_NC:
	case VFIO_MEMATTR_DEV:
		return ioremap(phys, len);
	}
	return NULL;
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

bool memattr_kernel_map_honest(void __iomem *kva, u8 attr)
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
#else
u32 memattr_arch_reason(u8 attr)
{
	return VFIO_MEMATTR_OK;
}

/* No memory type tracking: the mapping has the attribute it was made with. */
bool memattr_kernel_map_honest(void __iomem *kva, u8 attr)
{
	return true;
}
#endif
