/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vfio-pci-memattr: the one place where kernel differences live.
 *
 * The MEMATTR_HAVE_* macros come from the feature probes in Kbuild, run
 * against the headers of the kernel being built for; nothing here tests
 * a version number.
 */
#ifndef VFIO_PCI_MEMATTR_COMPAT_H
#define VFIO_PCI_MEMATTR_COMPAT_H

#include <linux/mm.h>
#include <linux/huge_mm.h>
#include <linux/slab.h>
#ifdef MEMATTR_HAVE_PFN_T
#include <linux/pfn_t.h>
#endif
#include <linux/vfio_pci_core.h>

#ifndef __counted_by
#define __counted_by(member)
#endif

#ifndef MEMATTR_HAVE_VM_FLAGS_SET
static inline void vm_flags_set(struct vm_area_struct *vma, unsigned long flags)
{
	vma->vm_flags |= flags;
}
#endif

#ifndef MEMATTR_HAVE_KZALLOC_OBJ
#define kzalloc_obj(P, GFP)	kzalloc(sizeof(P), GFP)
#define kmalloc_obj(P, GFP)	kmalloc(sizeof(P), GFP)
#endif

#ifdef MEMATTR_HAVE_VM_ALLOW_ANY_UNCACHED
#define MEMATTR_VM_ALLOW_ANY_UNCACHED	VM_ALLOW_ANY_UNCACHED
#else
#define MEMATTR_VM_ALLOW_ANY_UNCACHED	0
#endif

/*
 * The kernel's own mapping of a BAR: eager kernels map every BAR at
 * open and mark unusable BARs with an error pointer; lazy kernels map on
 * first use and leave NULL.
 */
static inline bool memattr_barmap_valid(void __iomem *io)
{
	return !IS_ERR_OR_NULL(io);
}

#ifdef MEMATTR_HAVE_EAGER_BARMAP
#define MEMATTR_EAGER_BARMAP	1
#else
#define MEMATTR_EAGER_BARMAP	0
#endif

/*
 * pread/pwrite of a taken-over BAR access the device as the core of the
 * same kernel would: 8 bytes at a time only where the core does (6.9+).
 */
#if defined(MEMATTR_HAVE_CORE_IO64) && defined(CONFIG_64BIT)
#define MEMATTR_RW_IO64		1
#else
#define MEMATTR_RW_IO64		0
#endif

/* Accesses up to this size need no page-sized bounce buffer. */
#define MEMATTR_RW_SMALL	64

/*
 * Same test as the core's __vfio_pci_memory_enabled() (exported only on
 * recent kernels): the device's memory decode as the user sees it.
 */
static inline bool memattr_memory_enabled(struct vfio_pci_core_device *vdev)
{
	struct pci_dev *pdev = vdev->pdev;
	u16 cmd = le16_to_cpu(*(__le16 *)&vdev->vconfig[PCI_COMMAND]);

	return (__force int)pdev->current_state < (__force int)PCI_D3hot &&
	       (pdev->no_command_memory || (cmd & PCI_COMMAND_MEMORY));
}

/*
 * Kernels with vdev->vma_list (6.1) populate whole VMAs at fault time
 * with io_remap_pfn_range() and zap only the VMAs on that list.  The
 * list entry is private to vfio_pci_core.c; its layout has been the same
 * since the list was introduced, and the core frees entries with kfree().
 */
#ifdef MEMATTR_HAVE_VMA_LIST
struct memattr_core_mmap_vma {
	struct vm_area_struct *vma;
	struct list_head vma_next;
};

#define MEMATTR_VMA_LIST	1
#else
#define MEMATTR_VMA_LIST	0
#endif

/* Huge PFN mappings from fault handlers (6.12 and later). */
#if defined(CONFIG_ARCH_SUPPORTS_HUGE_PFNMAP) && !MEMATTR_VMA_LIST
#define MEMATTR_HUGE_PFNMAP	1
#else
#define MEMATTR_HUGE_PFNMAP	0
#endif

#if MEMATTR_HUGE_PFNMAP && !defined(MEMATTR_HAVE_VMF_INSERT_PFN_HELPER)
static inline vm_fault_t memattr_insert_pmd(struct vm_fault *vmf,
					    unsigned long pfn)
{
#ifdef CONFIG_ARCH_SUPPORTS_PMD_PFNMAP
#ifdef MEMATTR_HAVE_PFN_T
	return vmf_insert_pfn_pmd(vmf, __pfn_to_pfn_t(pfn, PFN_DEV), false);
#else
	return vmf_insert_pfn_pmd(vmf, pfn, false);
#endif
#else
	return VM_FAULT_FALLBACK;
#endif
}

static inline vm_fault_t memattr_insert_pud(struct vm_fault *vmf,
					    unsigned long pfn)
{
#ifdef CONFIG_ARCH_SUPPORTS_PUD_PFNMAP
#ifdef MEMATTR_HAVE_PFN_T
	return vmf_insert_pfn_pud(vmf, __pfn_to_pfn_t(pfn, PFN_DEV), false);
#else
	return vmf_insert_pfn_pud(vmf, pfn, false);
#endif
#else
	return VM_FAULT_FALLBACK;
#endif
}
#endif

#endif /* VFIO_PCI_MEMATTR_COMPAT_H */
