// SPDX-License-Identifier: GPL-2.0-only
/*
 * vfio-pci-memattr: mmap of handles, and the VMA set-up and faults that
 * handle mappings, DMABUF mappings and legacy mmaps under a default
 * attribute (legacy.c) share.
 *
 * Revocation is the core's: it zaps every mapping of the BAR windows of
 * the device file (or, on kernels with vdev->vma_list, every VMA on that
 * list) under memory_lock before it resets the device or disables its
 * memory decode.  Handle mappings live in those windows (or on that list),
 * and their fault handler takes memory_lock and refuses to map while the
 * memory is disabled, exactly as the core's does.
 */
#include <linux/mm.h>
#include <linux/pci.h>
#include <linux/slab.h>

#include "compat.h"
#include "memattr.h"

/* The span of a handle's VMA at @addr: the rest of the handle. */
static void memattr_handle_span(struct vm_area_struct *vma, unsigned long addr,
				struct memattr_span *s)
{
	struct memattr_handle *h = vma->vm_private_data;
	u64 pg = vma->vm_pgoff + ((addr - vma->vm_start) >> PAGE_SHIFT) -
		 (h->mmap_offset >> PAGE_SHIFT);

	s->pfn = PHYS_PFN(h->phys) + pg;
	s->pages = (h->length >> PAGE_SHIFT) - pg;
}

/*
 * The VMA of a handle or a DMABUF has the attribute's page protection:
 * the type of the object's reservation, or uncached-minus where there is
 * none, as MAP checked.
 */
void memattr_vma_setup(struct vm_area_struct *vma, u8 attr)
{
	vma->vm_page_prot = memattr_pgprot(attr, vma->vm_page_prot);
	vm_flags_set(vma, VM_IO | VM_PFNMAP | VM_DONTEXPAND | VM_DONTDUMP |
			  MEMATTR_VM_ALLOW_ANY_UNCACHED);
}

#if MEMATTR_VMA_LIST
/* A copy (fork, split) is not on the core's vma_list: let it fault itself in. */
void memattr_vma_copied(struct vm_area_struct *vma)
{
	zap_vma_ptes(vma, vma->vm_start, vma->vm_end - vma->vm_start);
}

/*
 * mremap() moves the page table entries into the new VMA after .open ran,
 * so the moved mapping would be populated without being on vma_list, out
 * of reach of the core's zap.  Empty it: its next access faults and puts
 * it on the list.
 */
int memattr_vm_mremap(struct vm_area_struct *vma)
{
	zap_vma_ptes(vma, vma->vm_start, vma->vm_end - vma->vm_start);
	return 0;
}

/*
 * A VMA has at most one entry (see memattr_fault()); entries are added
 * at the head, so the walk is as long as the number of VMAs that faulted
 * after this one, as in the core's own close.
 */
void memattr_vma_list_del(struct vfio_pci_core_device *vdev,
			  struct vm_area_struct *vma)
{
	struct memattr_core_mmap_vma *e;

	mutex_lock(&vdev->vma_lock);
	list_for_each_entry(e, &vdev->vma_list, vma_next) {
		if (e->vma == vma) {
			list_del(&e->vma_next);
			kfree(e);
			break;
		}
	}
	mutex_unlock(&vdev->vma_lock);
}

static int memattr_found_pte(pte_t *pte, unsigned long addr, void *data)
{
	return -EEXIST;		/* called for a present PTE only: stop */
}

/*
 * Does @vma have any page table entry?  Only set ones are visited, and
 * only existing page tables walked: nothing is visited in a VMA never
 * filled, and a zapped one costs a read of its page tables.
 */
static bool memattr_vma_populated(struct vm_area_struct *vma)
{
	return apply_to_existing_page_range(vma->vm_mm, vma->vm_start,
					    vma->vm_end - vma->vm_start,
					    memattr_found_pte, NULL) == -EEXIST;
}

static bool memattr_pte_present(struct vm_area_struct *vma,
				unsigned long addr)
{
	spinlock_t *ptl;	/* the page table lock follow_pte() takes */
	pte_t *ptep;

	if (follow_pte(vma->vm_mm, addr, &ptep, &ptl))
		return false;
	__acquire(ptl);		/* follow_pte() returned with it held */
	pte_unmap_unlock(ptep, ptl);
	return true;
}

/*
 * [addr, addr + len) of @mm gets PTEs of consecutive PFNs from @pfn, where
 * none is set yet.  apply_to_page_range() without a callback only makes
 * the page tables; the PTEs of each page table are then set in one loop,
 * as remap_pfn_range() does, and not through an indirect call per PTE
 * (dear with retpolines, and under TCG).  Callers hold mmap_lock, and the
 * VMA (VM_PFNMAP, 6.1) has no huge entries.
 */
static int memattr_fill_range(struct mm_struct *mm, unsigned long addr,
			      unsigned long len, unsigned long pfn,
			      pgprot_t prot)
{
	unsigned long end = addr + len, next;
	int err;

	err = apply_to_page_range(mm, addr, len, NULL, NULL);
	if (err)
		return err;
	for (; addr < end; addr = next) {
		pgd_t *pgd = pgd_offset(mm, addr);
		p4d_t *p4d = p4d_offset(pgd, addr);
		pud_t *pud = pud_offset(p4d, addr);
		pmd_t *pmd = pmd_offset(pud, addr);
		pte_t *start, *pte;
		spinlock_t *ptl;	/* the page table's, as remap_pfn_range() */

		next = pmd_addr_end(addr, end);
		if (pmd_none(*pmd) || pmd_bad(*pmd))
			return -EFAULT;
		start = pte_offset_map_lock(mm, pmd, addr, &ptl);
		pte = start;
		arch_enter_lazy_mmu_mode();
		for (; addr < next; addr += PAGE_SIZE, pte++, pfn++)
			if (pte_none(ptep_get(pte)))
				set_pte_at(mm, addr, pte,
					   pte_mkspecial(pfn_pte(pfn, prot)));
		arch_leave_lazy_mmu_mode();
		pte_unmap_unlock(start, ptl);
	}
	return 0;
}

/*
 * Map the whole VMA, one run of contiguous PFNs at a time.
 *
 * With x86 PAT, remap_pfn_range() would reserve the memory type of the
 * VMA (VM_PAT) or look it up per page, so the PTEs are set by
 * memattr_fill_range().  Without memory type tracking (arm64)
 * remap_pfn_range() does nothing but fill; it must not find a PTE
 * present, so the VMA is emptied first (cheap when it is empty, as it is
 * here: only this handler fills it, under vma_lock and mmap_lock).
 */
static int memattr_fill_vma(struct vm_area_struct *vma, memattr_span_fn span)
{
	unsigned long addr = vma->vm_start;
	pgprot_t prot = vma->vm_page_prot;
	struct memattr_span sp;
	int err = 0;

	if (!IS_ENABLED(CONFIG_X86_PAT))
		zap_vma_ptes(vma, vma->vm_start, vma->vm_end - vma->vm_start);
	while (!err && addr < vma->vm_end) {
		unsigned long len;

		span(vma, addr, &sp);
		len = min_t(u64, (u64)sp.pages << PAGE_SHIFT, vma->vm_end - addr);
		if (IS_ENABLED(CONFIG_X86_PAT))
			err = memattr_fill_range(vma->vm_mm, addr, len, sp.pfn,
						 prot);
		else
			err = remap_pfn_range(vma, addr, sp.pfn, len, prot);
		addr += len;
	}
	return err;
}

/*
 * As the core's own handler does, the first fault of a VMA since the last
 * zap maps the whole VMA and puts it on vdev->vma_list, so that the core's
 * zap revokes it: one fault per VMA, not one per page.  Unlike the core's
 * io_remap_pfn_range(), it adds no VM_PAT reservation to the VMA (6.1
 * frees those wrongly when a VMA is split or moved) and looks up no memory
 * type per page: the VMA's page protection carries the object's type
 * (memattr_vma_setup()), which is the type vmf_insert_pfn() would look up
 * in the PAT tree for every page.
 *
 * A VMA on the list is therefore mapped whole (a split-off or moved copy
 * is emptied by .open or .mremap and is not on the list), so a fault whose
 * page is still unmapped under vma_lock is the first one of its VMA and
 * needs no walk of the list; a page found mapped was populated by a
 * concurrent fault.  So a VMA is on the list exactly when it has page
 * table entries: one whose page is unmapped but which has others is a
 * listed VMA with a hole (memattr_vma_populated()), filled again without
 * a second entry.
 */
vm_fault_t memattr_fault(struct memattr_device *mv, struct vm_fault *vmf,
			 unsigned int order, memattr_span_fn span)
{
	struct vm_area_struct *vma = vmf->vma;
	struct vfio_pci_core_device *vdev = &mv->core;
	struct memattr_core_mmap_vma *e;
	vm_fault_t ret = VM_FAULT_NOPAGE;
	int err;

	mutex_lock(&vdev->vma_lock);
	down_read(&vdev->memory_lock);

	if (vdev->pm_runtime_engaged || !memattr_memory_enabled(vdev)) {
		atomic64_inc(&mv->stats.sigbus);
		ret = VM_FAULT_SIGBUS;
		goto out;
	}
	if (memattr_pte_present(vma, vmf->address & PAGE_MASK))
		goto out;
	if (memattr_vma_populated(vma)) {
		/*
		 * Listed, with a hole: the mm's failure unwinding of a split
		 * or a move (__split_vma(), move_vma() in 6.1) zapped part of
		 * it.  A second entry would outlive the VMA (close removes
		 * one), so fill the hole only.
		 */
		err = memattr_fill_vma(vma, span);
		if (!err)
			goto out;
		/* Off the list and empty, as after a zap of the core. */
		ret = vmf_error(err);
		zap_vma_ptes(vma, vma->vm_start, vma->vm_end - vma->vm_start);
		list_for_each_entry(e, &vdev->vma_list, vma_next) {
			if (e->vma == vma) {
				list_del(&e->vma_next);
				kfree(e);
				break;
			}
		}
		goto out;
	}
	e = kmalloc_obj(*e, GFP_KERNEL_ACCOUNT);
	if (!e) {
		ret = VM_FAULT_OOM;
		goto out;
	}
	e->vma = vma;
	list_add(&e->vma_next, &vdev->vma_list);
	err = memattr_fill_vma(vma, span);
	if (err)
		ret = vmf_error(err);
	if (ret == VM_FAULT_NOPAGE) {
		atomic64_inc(&mv->stats.pte_faults);
	} else {
		/* Neither on the list nor mapped: the next fault starts over. */
		zap_vma_ptes(vma, vma->vm_start, vma->vm_end - vma->vm_start);
		list_del(&e->vma_next);
		kfree(e);
	}
out:
	up_read(&vdev->memory_lock);
	mutex_unlock(&vdev->vma_lock);
	return ret;
}
#else
void memattr_vma_copied(struct vm_area_struct *vma)
{
}

void memattr_vma_list_del(struct vfio_pci_core_device *vdev,
			  struct vm_area_struct *vma)
{
}

static vm_fault_t memattr_insert(struct vfio_pci_core_device *vdev,
				 struct vm_fault *vmf, unsigned long pfn,
				 unsigned int order)
{
#if MEMATTR_VMF_INSERT_PFN_HELPER
	return vfio_pci_vmf_insert_pfn(vdev, vmf, pfn, order);
#else
	if (vdev->pm_runtime_engaged || !memattr_memory_enabled(vdev))
		return VM_FAULT_SIGBUS;
	if (!order)
		return vmf_insert_pfn(vmf->vma, vmf->address, pfn);
#if MEMATTR_HUGE_PFNMAP
	if (order == PMD_ORDER)
		return memattr_insert_pmd(vmf, pfn);
	if (order == PUD_ORDER)
		return memattr_insert_pud(vmf, pfn);
#endif
	return VM_FAULT_FALLBACK;
#endif
}

/*
 * One PTE, PMD or PUD of the object at the fault address, under
 * memory_lock as the core's fault handler does: a zap of the core (reset,
 * memory disable) cannot run in between, and the memory must be enabled.
 */
vm_fault_t memattr_fault(struct memattr_device *mv, struct vm_fault *vmf,
			 unsigned int order, memattr_span_fn span)
{
	struct vm_area_struct *vma = vmf->vma;
	unsigned long size = PAGE_SIZE << order;
	unsigned long addr = vmf->address & ~(size - 1);
	struct memattr_span sp;
	vm_fault_t ret;

	if (order && (addr < vma->vm_start || addr + size > vma->vm_end))
		return VM_FAULT_FALLBACK;
	span(vma, addr, &sp);
	if (order && ((sp.pfn & ((1UL << order) - 1)) ||
		      sp.pages < (1UL << order)))
		return VM_FAULT_FALLBACK;

	down_read(&mv->core.memory_lock);
	ret = memattr_insert(&mv->core, vmf, sp.pfn, order);
	up_read(&mv->core.memory_lock);

	if (ret == VM_FAULT_NOPAGE) {
		if (order == 0)
			atomic64_inc(&mv->stats.pte_faults);
		else if (order == PMD_ORDER)
			atomic64_inc(&mv->stats.pmd_faults);
		else
			atomic64_inc(&mv->stats.pud_faults);
	} else if (ret & VM_FAULT_SIGBUS) {
		atomic64_inc(&mv->stats.sigbus);
	}
	return ret;
}
#endif

static void memattr_vm_open(struct vm_area_struct *vma)
{
	memattr_handle_get(vma->vm_private_data);
	memattr_vma_copied(vma);
}

static vm_fault_t memattr_vm_huge_fault(struct vm_fault *vmf,
					unsigned int order)
{
	struct memattr_handle *h = vmf->vma->vm_private_data;

	return memattr_fault(h->mv, vmf, order, memattr_handle_span);
}

static vm_fault_t memattr_vm_fault(struct vm_fault *vmf)
{
	return memattr_vm_huge_fault(vmf, 0);
}

static void memattr_vm_close(struct vm_area_struct *vma)
{
	struct memattr_handle *h = vma->vm_private_data;

	memattr_vma_list_del(&h->mv->core, vma);
	memattr_handle_put(h);
}

static const struct vm_operations_struct memattr_vm_ops = {
	.open = memattr_vm_open,
	.close = memattr_vm_close,
	.fault = memattr_vm_fault,
#if MEMATTR_HUGE_PFNMAP
	.huge_fault = memattr_vm_huge_fault,
#endif
#if MEMATTR_VMA_LIST
	.mremap = memattr_vm_mremap,
#endif
};

/* Make @vma a mapping of @h; the VMA keeps the caller's reference. */
int memattr_mmap_setup(struct memattr_handle *h, struct vm_area_struct *vma,
		       u64 start)
{
	u64 len = vma->vm_end - vma->vm_start;

	if (start < h->mmap_offset || start - h->mmap_offset >= h->length ||
	    len > h->length - (start - h->mmap_offset))
		return -EINVAL;
	vma->vm_private_data = h;
	memattr_vma_setup(vma, h->attr);
	vma->vm_ops = &memattr_vm_ops;
	return 0;
}

/* An mmap of the offsets of a handle: @window_off in the window of @bar. */
int memattr_mmap_handle(struct memattr_device *mv, struct vm_area_struct *vma,
			unsigned int bar, u64 window_off)
{
	struct memattr_handle *h;
	int ret;

	h = memattr_handle_get_by_offset(mv, bar, window_off);
	if (!h)
		return -EINVAL;
	ret = memattr_mmap_setup(h, vma, VFIO_PCI_INDEX_TO_OFFSET(bar) + window_off);
	if (ret)
		memattr_handle_put(h);
	return ret;
}
