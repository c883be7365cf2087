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
 * struct vfio_device_ops members that only some kernels have, each set
 * as vfio-pci sets it: expanded in main.c's ops table.  Where the member
 * exists it must be set (a NULL match_token_uuid oopses on 7.2).
 */
#ifdef MEMATTR_HAVE_MATCH_TOKEN_UUID
#define MEMATTR_OPS_MATCH_TOKEN_UUID \
	.match_token_uuid = vfio_pci_core_match_token_uuid,
#else
#define MEMATTR_OPS_MATCH_TOKEN_UUID
#endif

#ifdef MEMATTR_HAVE_IOMMUFD_OPS
#define MEMATTR_OPS_IOMMUFD \
	.bind_iommufd	= vfio_iommufd_physical_bind, \
	.unbind_iommufd	= vfio_iommufd_physical_unbind, \
	.attach_ioas	= vfio_iommufd_physical_attach_ioas,
#else
#define MEMATTR_OPS_IOMMUFD
#endif

#ifdef MEMATTR_HAVE_DETACH_IOAS
#define MEMATTR_OPS_DETACH_IOAS \
	.detach_ioas	= vfio_iommufd_physical_detach_ioas,
#else
#define MEMATTR_OPS_DETACH_IOAS
#endif

#ifdef MEMATTR_HAVE_PASID_OPS
#define MEMATTR_OPS_PASID \
	.pasid_attach_ioas = vfio_iommufd_physical_pasid_attach_ioas, \
	.pasid_detach_ioas = vfio_iommufd_physical_pasid_detach_ioas,
#else
#define MEMATTR_OPS_PASID
#endif

/*
 * The region info of a handle index is given through the ops' own
 * .get_region_info_caps where it exists (7.2), else by answering
 * VFIO_DEVICE_GET_REGION_INFO in .ioctl (feature.c).
 */
#ifdef MEMATTR_HAVE_GET_REGION_INFO_CAPS
#define MEMATTR_REGION_INFO_CAPS	1
#else
#define MEMATTR_REGION_INFO_CAPS	0
#endif

/*
 * The core exports DMABUFs of BAR ranges itself (VFIO_DEVICE_FEATURE_DMA_BUF,
 * 7.2) for a driver that gives it vdev->pci_ops.
 */
#ifdef MEMATTR_HAVE_DMABUF_PHYS
#define MEMATTR_DMABUF_PHYS	1
#else
#define MEMATTR_DMABUF_PHYS	0
#endif

/*
 * vfio-pci's knobs (nointxmask, disable_vga, disable_idle_d3): one call to
 * vfio_pci_core_set_params() at load (6.1, 6.12), else per-device fields
 * set before vfio_pci_core_init_dev() (flavour.c).
 */
#ifdef MEMATTR_HAVE_CORE_SET_PARAMS
#define MEMATTR_CORE_SET_PARAMS	1
#else
#define MEMATTR_CORE_SET_PARAMS	0
#endif

/*
 * struct vfio_device has the inode whose mapping the core zaps, where a
 * DMABUF links its VMAs (dmabuf.c).
 */
#ifdef MEMATTR_HAVE_VDEV_INODE
#define MEMATTR_VDEV_INODE	1
#else
#define MEMATTR_VDEV_INODE	0
#endif

/* MODULE_IMPORT_NS() takes a string (7.2) or a bare name (6.1, 6.12). */
#ifdef MEMATTR_HAVE_MODULE_IMPORT_NS_STRING
#define MEMATTR_MODULE_IMPORT_NS(ns)	MODULE_IMPORT_NS(#ns)
#else
#define MEMATTR_MODULE_IMPORT_NS(ns)	MODULE_IMPORT_NS(ns)
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

/* The core's PFN insertion helper for fault handlers (7.2; fault.c). */
#ifdef MEMATTR_HAVE_VMF_INSERT_PFN_HELPER
#define MEMATTR_VMF_INSERT_PFN_HELPER	1
#else
#define MEMATTR_VMF_INSERT_PFN_HELPER	0
#endif

/* Huge PFN mappings from fault handlers (6.12 and later). */
#if defined(CONFIG_ARCH_SUPPORTS_HUGE_PFNMAP) && !MEMATTR_VMA_LIST
#define MEMATTR_HUGE_PFNMAP	1
#else
#define MEMATTR_HUGE_PFNMAP	0
#endif

#if MEMATTR_HUGE_PFNMAP && !MEMATTR_VMF_INSERT_PFN_HELPER
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
