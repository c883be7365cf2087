// SPDX-License-Identifier: GPL-2.0-only
/*
 * vfio-pci-memattr: handles and BAR takeover.
 *
 * A handle is (BAR, offset, length, attribute).  It holds the memory type
 * of its range (see memtype.c) and an mmap offset in the upper half of its
 * BAR's window of the device file.  While a BAR has handles the driver
 * "takes over" the BAR: the core's whole-BAR kernel mapping, which would
 * hold the range uncached-minus, is removed, and legacy mmaps and
 * ioeventfds of the BAR are refused (and no takeover while the device has
 * any ioeventfd).  The BAR is handed back when its last
 * handle goes.
 */
#include <linux/interval_tree_generic.h>
#include <linux/io.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/vfio.h>

#include "compat.h"
#include "memattr.h"

static unsigned int memattr_max_handles = 1024;
module_param_named(max_handles, memattr_max_handles, uint, 0644);
MODULE_PARM_DESC(max_handles,
		 "Most memattr handles per open device (default 1024)");

/*
 * Lookups on hot paths (fault, mmap, pread/pwrite, MAP) cost O(log n) in
 * the number of handles, as RDMA's mmap entries do: every object of a BAR
 * is in an interval tree of its BAR range (overlap checks, the handle
 * covering a page), and every unreleased handle is in a maple tree of the
 * pages of its mmap offsets.  The lists stay for debugfs.
 */
static inline u64 memattr_range_last_of(struct memattr_handle *h)
{
	return h->offset + h->length - 1;
}

#define MEMATTR_RANGE_START(h)	((h)->offset)
#define MEMATTR_RANGE_LAST(h)	memattr_range_last_of(h)

INTERVAL_TREE_DEFINE(struct memattr_handle, it_node, u64, it_subtree_last,
		     MEMATTR_RANGE_START, MEMATTR_RANGE_LAST, static,
		     memattr_range)

static unsigned long memattr_mmap_first(struct memattr_handle *h)
{
	return h->mmap_offset >> PAGE_SHIFT;
}

static unsigned long memattr_mmap_last(struct memattr_handle *h)
{
	return (h->mmap_offset + h->length - 1) >> PAGE_SHIFT;
}

/* @h leaves the table's lookups by offset.  Caller holds mv->lock. */
void memattr_release(struct memattr_device *mv, struct memattr_handle *h)
{
	if (h->id && !h->released)
		mtree_erase(&mv->offsets, memattr_mmap_first(h));
	h->released = true;
}

void memattr_device_init(struct memattr_device *mv)
{
	int i;

	mutex_init(&mv->lock);
	xa_init(&mv->handles);
	INIT_LIST_HEAD(&mv->dmabufs);
	mt_init(&mv->offsets);
	for (i = 0; i < PCI_STD_NUM_BARS; i++) {
		INIT_LIST_HEAD(&mv->bars[i].handles);
		INIT_LIST_HEAD(&mv->bars[i].free_windows);
		mv->bars[i].ranges = RB_ROOT_CACHED;
		atomic_set(&mv->bars[i].legacy_vmas, 0);
		init_rwsem(&mv->bars[i].rw_sem);
	}
}

/*
 * On kernels that map a BAR when it is first used (6.1, 6.12), the core's
 * read/write, mmap and VFIO_DEVICE_IOEVENTFD each request a BAR's region
 * and map it without a lock, so of two first uses at once one fails with
 * EBUSY (vfio-pci too, on a BAR's first use).  A handback gives the region
 * back, which makes every use after a takeover a first one here: the
 * driver sets the core's mapping up under mv->lock before the core looks,
 * as the core would, and the core finds it done.  A read/write sets up
 * its own BAR (rw.c); an ioeventfd call every memory BAR not taken over
 * (memattr_ioeventfd_begin()), since only the core may read its argument
 * and know which; the core's mmap runs under mv->lock already.  A
 * failure is left to the core to meet and report.
 * Caller holds mv->lock.
 */
void memattr_core_barmap_locked(struct memattr_device *mv, unsigned int bar)
{
	struct vfio_pci_core_device *vdev = &mv->core;
	struct pci_dev *pdev = vdev->pdev;
	void __iomem *io;

	lockdep_assert_held(&mv->lock);
	if (MEMATTR_EAGER_BARMAP || mv->bars[bar].taken || vdev->barmap[bar] ||
	    !(pci_resource_flags(pdev, bar) & IORESOURCE_MEM) ||
	    !pci_resource_start(pdev, bar) ||
	    pci_request_selected_regions(pdev, 1 << bar, "vfio"))
		return;
	io = pci_iomap(pdev, bar, 0);
	if (io)
		WRITE_ONCE(vdev->barmap[bar], io);
	else
		pci_release_selected_regions(pdev, 1 << bar);
}

/*
 * The core's ioeventfds point into its kernel mapping of a BAR, so a
 * VFIO_DEVICE_IOEVENTFD call and a takeover exclude each other.  The core
 * copies the call's argument from user memory itself, after anything the
 * driver could read of it, so which BAR the call acts on is unknown here:
 * every call is counted while the core runs it (without mv->lock: the
 * core touches user memory), and takeover refuses while any call runs or
 * the device has any ioeventfd (memattr_ioeventfds_busy()).  A call that
 * comes after a takeover finds the core's mapping of that BAR gone and
 * fails in the core (EBUSY), as it would for a BAR the core cannot map.
 */
void memattr_ioeventfd_begin(struct memattr_device *mv)
{
	unsigned int bar;

	mutex_lock(&mv->lock);
	mv->ioeventfd_calls++;
	/* The core's set-up of the call's BAR finds it done (rw.c). */
	for (bar = 0; bar < PCI_STD_NUM_BARS; bar++)
		memattr_core_barmap_locked(mv, bar);
	mutex_unlock(&mv->lock);
}

void memattr_ioeventfd_end(struct memattr_device *mv)
{
	mutex_lock(&mv->lock);
	mv->ioeventfd_calls--;
	mutex_unlock(&mv->lock);
}

/* Caller holds mv->lock. */
static bool memattr_ioeventfds_busy(struct memattr_device *mv)
{
	struct vfio_pci_core_device *vdev = &mv->core;
	bool busy;

	lockdep_assert_held(&mv->lock);
	if (mv->ioeventfd_calls)
		return true;
	mutex_lock(&vdev->ioeventfds_lock);
	busy = vdev->ioeventfds_nr;
	mutex_unlock(&vdev->ioeventfds_lock);
	return busy;
}

/* Why @attr cannot be requested on @bar; VFIO_MEMATTR_OK if it can. */
u32 memattr_reason(struct memattr_device *mv, unsigned int bar, u8 attr)
{
	struct pci_dev *pdev = mv->core.pdev;
	unsigned long flags = pci_resource_flags(pdev, bar);

	if (!pci_resource_len(pdev, bar) || !(flags & IORESOURCE_MEM))
		return VFIO_MEMATTR_NOT_MEM_BAR;
	if (!mv->core.bar_mmap_supported[bar] ||
	    pci_resource_len(pdev, bar) > MEMATTR_WINDOW_SIZE)
		return VFIO_MEMATTR_NOT_MMAP;
	/* DEV is the type of the kernel's own ioremap(): only WC needs it. */
	if (attr == VFIO_MEMATTR_WC && !(flags & IORESOURCE_PREFETCH) &&
	    !READ_ONCE(mv->allow_nonprefetchable))
		return VFIO_MEMATTR_NOT_PREFETCH;
	return memattr_arch_reason(attr);
}

int memattr_reason_errno(u32 reason)
{
	switch (reason) {
	case VFIO_MEMATTR_OK:
		return 0;
	case VFIO_MEMATTR_NOT_PREFETCH:
		return -EPERM;
	default:
		return -EOPNOTSUPP;
	}
}

/*
 * Forget the cached page of @bar, after the accesses in flight on the BAR
 * (and their mappings) are gone.  Caller holds mv->lock.
 */
void memattr_rw_drop(struct memattr_device *mv, unsigned int bar)
{
	struct memattr_bar *b = &mv->bars[bar];

	lockdep_assert_held(&mv->lock);
	down_write(&b->rw_sem);
	if (b->rw_io) {
		iounmap(b->rw_io);
		b->rw_io = NULL;
	}
	up_write(&b->rw_sem);
}

/*
 * Take the kernel-side mapping of @bar over: the core's mapping covers the
 * whole BAR uncached-minus and would turn every later request for another
 * type into uncached-minus.  Fails without changing anything.  Caller
 * holds mv->lock.
 */
static int memattr_takeover(struct memattr_device *mv, unsigned int bar)
{
	struct vfio_pci_core_device *vdev = &mv->core;
	struct pci_dev *pdev = vdev->pdev;
	struct memattr_bar *b = &mv->bars[bar];
	void __iomem *io = vdev->barmap[bar];

	if (b->taken)
		return 0;
	/* ioeventfds keep pointers into the core's mapping. */
	if (memattr_ioeventfds_busy(mv))
		return -EBUSY;
	/*
	 * So do the core's reads and writes while they run: the flag first,
	 * then their count (rw.c); from here on new ones are the driver's.
	 */
	WRITE_ONCE(b->taken, true);
	smp_mb();	/* pairs with memattr_rw_core_begin()'s */
	if (atomic_read(&b->core_rw))
		goto busy;

	if (MEMATTR_EAGER_BARMAP) {
		/* The region stays requested by the core; only unmap. */
		if (!memattr_barmap_valid(io))
			goto busy;
		pci_iounmap(pdev, io);
		vdev->barmap[bar] = IOMEM_ERR_PTR(-EBUSY);
	} else if (memattr_barmap_valid(io)) {
		/* Keep the core's request of the region; only unmap. */
		pci_iounmap(pdev, io);
		vdev->barmap[bar] = NULL;
	} else if (pci_request_selected_regions(pdev, 1 << bar,
						MEMATTR_DRIVER_NAME)) {
		goto busy;
	}
	return 0;
busy:
	WRITE_ONCE(b->taken, false);
	return -EBUSY;
}

/*
 * Hand @bar back to the core in the state it expects.  On eager kernels
 * that means mapping it again, which can fail (an allocation): then the
 * BAR stays taken over, as good a state as any for every path, and the
 * handback is tried again when the BAR is next empty or legacy-mmapped;
 * at close (@closing) the core gets what it has when its own mapping
 * failed at open (ERR_PTR(-ENOMEM), the region released).  Holds mv->lock.
 */
static void memattr_handback(struct memattr_device *mv, unsigned int bar,
			     bool closing)
{
	struct vfio_pci_core_device *vdev = &mv->core;
	struct pci_dev *pdev = vdev->pdev;
	struct memattr_bar *b = &mv->bars[bar];

	if (!b->taken)
		return;
	memattr_rw_drop(mv, bar);
	if (MEMATTR_EAGER_BARMAP) {
		void __iomem *io = pci_iomap(pdev, bar, 0);

		if (io) {
			vdev->barmap[bar] = io;
		} else {
			if (!closing)
				return;	/* stays taken over, tried again */
			pci_release_selected_regions(pdev, 1 << bar);
			vdev->barmap[bar] = IOMEM_ERR_PTR(-ENOMEM);
		}
	} else {
		/* The core requests and maps the BAR again when it needs it. */
		pci_release_selected_regions(pdev, 1 << bar);
	}
	/* The core's reads and writes may use its mapping from now on. */
	smp_store_release(&b->taken, false);
}

/* A legacy mmap of @bar: an empty BAR whose handback failed gets another try. */
void memattr_handback_retry(struct memattr_device *mv, unsigned int bar)
{
	lockdep_assert_held(&mv->lock);
	if (mv->bars[bar].taken && !mv->bars[bar].nr_objs)
		memattr_handback(mv, bar, false);
}

void memattr_handle_get(struct memattr_handle *h)
{
	kref_get(&h->ref);
}

/* Called by kref_put_mutex() with mv->lock held; drops it. */
static void memattr_handle_free(struct kref *ref)
{
	struct memattr_handle *h = container_of(ref, struct memattr_handle, ref);
	struct memattr_device *mv = h->mv;
	struct memattr_bar *b = &mv->bars[h->bar];

	list_del(&h->bar_node);
	memattr_range_remove(h, &b->ranges);
	if (h->reserved)
		memattr_unreserve(h->phys, h->length, h->attr);
	mv->nr_handles--;
	if (!--b->nr_objs)
		memattr_handback(mv, h->bar, false);
	mutex_unlock(&mv->lock);
	kfree(h);
}

/* Must not be called with mv->lock held. */
void memattr_handle_put(struct memattr_handle *h)
{
	kref_put_mutex(&h->ref, memattr_handle_free, &h->mv->lock);
}

struct memattr_handle *memattr_handle_get_by_id(struct memattr_device *mv,
						u32 id)
{
	struct memattr_handle *h = NULL;

	if (id < VFIO_MEMATTR_HANDLE_INDEX_BASE)
		return NULL;
	mutex_lock(&mv->lock);
	h = xa_load(&mv->handles, id - VFIO_MEMATTR_HANDLE_INDEX_BASE);
	if (h)
		memattr_handle_get(h);
	mutex_unlock(&mv->lock);
	return h;
}

/* @window_off: offset of the request inside the BAR's window of the file. */
struct memattr_handle *memattr_handle_get_by_offset(struct memattr_device *mv,
						    unsigned int bar,
						    u64 window_off)
{
	struct memattr_handle *h;
	u64 off = VFIO_PCI_INDEX_TO_OFFSET(bar) + window_off;

	mutex_lock(&mv->lock);
	h = mtree_load(&mv->offsets, off >> PAGE_SHIFT);
	if (h && (h->released || h->bar != bar || off < h->mmap_offset ||
		  off - h->mmap_offset >= h->length))
		h = NULL;
	if (h)
		memattr_handle_get(h);
	mutex_unlock(&mv->lock);
	return h;
}

/*
 * The attribute of an object covering @pos of @bar, NC if none does.
 * Caller holds mv->lock.
 */
u8 memattr_cover_attr(struct memattr_device *mv, unsigned int bar, u64 pos)
{
	struct memattr_handle *h;

	lockdep_assert_held(&mv->lock);
	h = memattr_range_iter_first(&mv->bars[bar].ranges, pos, pos);
	return h ? h->attr : VFIO_MEMATTR_NC;
}

/*
 * The PCI core maps the MSI-X table uncached-minus when MSI-X is enabled;
 * on x86 that request would silently inherit the type of a WC handle
 * over the table, so WC is not offered on the table's pages (NC and DEV
 * are the table mapping's own type).
 */
static bool memattr_hits_msix(struct memattr_device *mv, unsigned int bar,
			      u64 off, u64 len)
{
	struct vfio_pci_core_device *vdev = &mv->core;
	u64 start, end;

	if (bar != vdev->msix_bar || !vdev->msix_size)
		return false;
	start = round_down(vdev->msix_offset, PAGE_SIZE);
	end = round_up((u64)vdev->msix_offset + vdev->msix_size, PAGE_SIZE);
	return off < end && start < off + len;
}

/*
 * Find or create an object holding [off, off + len) of @bar with @attr:
 * a handle (MEMATTR_KIND_HANDLE: id, mmap offset, found again by an equal
 * request), the legacy default handle of a BAR (no id, the legacy
 * offsets) or a range of a DMABUF (no id; its mmap offset is the DMABUF's
 * business).  Caller holds mv->lock.  Returns the object with a reference
 * for the caller (handles also have the table's), or an ERR_PTR.
 */
struct memattr_handle *memattr_try(struct memattr_device *mv, unsigned int bar,
				   u64 off, u64 len, u8 attr,
				   enum memattr_kind kind)
{
	bool legacy = kind == MEMATTR_KIND_LEGACY;
	struct pci_dev *pdev = mv->core.pdev;
	struct memattr_bar *b = &mv->bars[bar];
	struct memattr_handle *h;
	int ret;

	ret = memattr_reason_errno(memattr_reason(mv, bar, attr));
	if (ret)
		return ERR_PTR(ret);

	for (h = memattr_range_iter_first(&b->ranges, off, off + len - 1); h;
	     h = memattr_range_iter_next(h, off, off + len - 1)) {
		if (h->attr != attr)
			return ERR_PTR(-EBUSY);
		if (kind == MEMATTR_KIND_HANDLE && !h->released && h->id &&
		    h->offset == off && h->length == len) {
			h->pending = false;	/* now another caller's too */
			memattr_handle_get(h);
			return h;
		}
	}
	if (attr == VFIO_MEMATTR_WC && memattr_hits_msix(mv, bar, off, len))
		return ERR_PTR(-EPERM);
	if (atomic_read(&b->legacy_vmas) || b->legacy_untracked)
		return ERR_PTR(-EBUSY);
	if (!legacy && mv->nr_handles >= READ_ONCE(memattr_max_handles))
		return ERR_PTR(-ENOSPC);
	if (kind == MEMATTR_KIND_HANDLE &&
	    len > MEMATTR_WINDOW_SIZE - b->next_mmap)
		return ERR_PTR(-ENOSPC);

	h = kzalloc_obj(*h, GFP_KERNEL_ACCOUNT);
	if (!h)
		return ERR_PTR(-ENOMEM);
	ret = memattr_takeover(mv, bar);
	if (ret)
		goto err_free;

	h->phys = pci_resource_start(pdev, bar) + off;
	memattr_rw_drop(mv, bar);	/* its uncached page must not hold a type */
	ret = memattr_reserve(h->phys, len, attr, &h->reserved);
	if (ret) {
		pci_dbg(pdev, "BAR %u [%#llx+%#llx]: memory type %s not granted\n",
			bar, off, len, attr == VFIO_MEMATTR_WC ? "WC" : "UC-");
		goto err_handback;
	}

	if (legacy) {
		/* No id, and the legacy offsets of the BAR (see legacy.c). */
		h->mmap_offset = VFIO_PCI_INDEX_TO_OFFSET(bar);
	} else if (kind == MEMATTR_KIND_HANDLE) {
		h->id = VFIO_MEMATTR_HANDLE_INDEX_BASE + mv->next_id;
		ret = xa_err(xa_store(&mv->handles, mv->next_id, h,
				      GFP_KERNEL_ACCOUNT));
		if (ret)
			goto err_unmap;
		mv->next_id++;
		h->mmap_offset = VFIO_PCI_INDEX_TO_OFFSET(bar) +
				 MEMATTR_WINDOW_START + b->next_mmap;
		h->length = len;
		ret = mtree_store_range(&mv->offsets, memattr_mmap_first(h),
					memattr_mmap_last(h), h,
					GFP_KERNEL_ACCOUNT);
		if (ret) {
			xa_erase(&mv->handles, mv->next_id - 1);
			mv->next_id--;
			goto err_unmap;
		}
		b->next_mmap += len;
		h->pending = true;
	}

	kref_init(&h->ref);		/* the table's, or the caller's */
	if (kind != MEMATTR_KIND_DMABUF)
		memattr_handle_get(h);	/* the caller's */
	h->mv = mv;
	h->bar = bar;
	h->attr = attr;
	h->kind = kind;
	h->offset = off;
	h->length = len;
	list_add_tail(&h->bar_node, &b->handles);
	memattr_range_insert(h, &b->ranges);
	b->nr_objs++;
	mv->nr_handles++;
	return h;

err_unmap:
	if (h->reserved)
		memattr_unreserve(h->phys, len, attr);
err_handback:
	if (!b->nr_objs)
		memattr_handback(mv, bar, false);
err_free:
	kfree(h);
	return ERR_PTR(ret);
}

/*
 * Give @h, an object that no VMA maps and no id names (a range of a
 * DMABUF), the attribute @attr, under the rules of memattr_try().  Fails
 * without changing anything, unless the old type cannot be had back
 * (someone else reserved the range in between): then *@lost is set, @h
 * holds no memory type, and the caller must revoke what it serves.
 * Caller holds mv->lock.
 */
int memattr_retype(struct memattr_device *mv, struct memattr_handle *h,
		   u8 attr, bool *lost)
{
	struct memattr_bar *b = &mv->bars[h->bar];
	u64 last = memattr_range_last_of(h);
	struct memattr_handle *o;
	u8 old = h->attr;
	int ret;

	lockdep_assert_held(&mv->lock);
	*lost = false;
	if (attr == old)
		return 0;
	ret = memattr_reason_errno(memattr_reason(mv, h->bar, attr));
	if (ret)
		return ret;
	for (o = memattr_range_iter_first(&b->ranges, h->offset, last); o;
	     o = memattr_range_iter_next(o, h->offset, last)) {
		if (o != h && o->attr != attr)
			return -EBUSY;
	}
	if (attr == VFIO_MEMATTR_WC &&
	    memattr_hits_msix(mv, h->bar, h->offset, h->length))
		return -EPERM;

	/* The old type must go first: PAT would hand it out again. */
	memattr_rw_drop(mv, h->bar);
	if (h->reserved)
		memattr_unreserve(h->phys, h->length, old);
	ret = memattr_reserve(h->phys, h->length, attr, &h->reserved);
	if (!ret) {
		h->attr = attr;
		return 0;
	}
	if (memattr_reserve(h->phys, h->length, old, &h->reserved)) {
		pci_warn(mv->core.pdev, "BAR %u [%#llx+%#llx]: memory type lost\n",
			 h->bar, h->offset, h->length);
		*lost = true;
	}
	return ret;
}

/*
 * MAP could not tell its caller about the handle it created: take it back
 * as if the call had never happened, giving back its id and its mmap
 * offset unless another handle got one after it or someone else holds it
 * (a VMA or a lookup).  Caller holds mv->lock and a reference, and drops
 * the table's reference after unlocking.
 */
void memattr_forget(struct memattr_device *mv, struct memattr_handle *h)
{
	struct memattr_bar *b = &mv->bars[h->bar];
	u64 window = VFIO_PCI_INDEX_TO_OFFSET(h->bar) + MEMATTR_WINDOW_START;

	xa_erase(&mv->handles, h->id - VFIO_MEMATTR_HANDLE_INDEX_BASE);
	memattr_release(mv, h);
	if (kref_read(&h->ref) == 2) {
		if (h->id == VFIO_MEMATTR_HANDLE_INDEX_BASE + mv->next_id - 1)
			mv->next_id--;
		if (h->mmap_offset + h->length == window + b->next_mmap)
			b->next_mmap -= h->length;
	}
}

/*
 * The upper half of a BAR's window of the device file is handed out to
 * handles and DMABUFs from the bottom up (next_mmap).  A DMABUF gives its
 * part back when it is revoked or released: none of its VMAs can hold a
 * page table entry any more (a revoked DMABUF's fault is SIGBUS), so the
 * offsets can serve another object, and a broker that exports and revokes
 * sub-ranges for short-lived clients never runs out.  A part at the top is
 * returned to next_mmap; others wait on free_windows, merged with their
 * neighbours, for a DMABUF that fits (first fit).  Caller holds mv->lock.
 */
struct memattr_window {
	struct list_head node;
	u64 start;			/* device file offset */
	u64 size;
};

bool memattr_window_reuse(struct memattr_device *mv, unsigned int bar,
			  u64 size, u64 *start)
{
	struct memattr_bar *b = &mv->bars[bar];
	struct memattr_window *w;

	lockdep_assert_held(&mv->lock);
	list_for_each_entry(w, &b->free_windows, node) {
		if (w->size < size)
			continue;
		*start = w->start;
		w->start += size;
		w->size -= size;
		if (!w->size) {
			list_del(&w->node);
			kfree(w);
		}
		return true;
	}
	return false;
}

void memattr_window_free(struct memattr_device *mv, unsigned int bar,
			 u64 start, u64 size)
{
	struct memattr_bar *b = &mv->bars[bar];
	u64 top = VFIO_PCI_INDEX_TO_OFFSET(bar) + MEMATTR_WINDOW_START +
		  b->next_mmap;
	struct memattr_window *w, *below = NULL, *above = NULL;

	lockdep_assert_held(&mv->lock);
	if (!size)
		return;
	list_for_each_entry(w, &b->free_windows, node) {
		if (w->start + w->size == start)
			below = w;
		else if (start + size == w->start)
			above = w;
	}
	if (below) {
		start = below->start;
		size += below->size;
	}
	if (above) {
		size += above->size;
		if (below) {
			list_del(&above->node);
			kfree(above);
		}
	}
	w = below ? below : above;
	if (start + size == top) {
		b->next_mmap -= size;
		if (w) {
			list_del(&w->node);
			kfree(w);
		}
		return;
	}
	if (!w) {
		w = kmalloc_obj(*w, GFP_KERNEL_ACCOUNT);
		if (!w)
			return;	/* not reused: only window space is lost */
		list_add(&w->node, &b->free_windows);
	}
	w->start = start;
	w->size = size;
}

static void memattr_windows_reset(struct memattr_bar *b)
{
	struct memattr_window *w, *tmp;

	list_for_each_entry_safe(w, tmp, &b->free_windows, node) {
		list_del(&w->node);
		kfree(w);
	}
	b->next_mmap = 0;
}

/*
 * Objects of @bar left when the device closes hold references nobody will
 * drop: 6.1's mmap_region() does not call .close for a VMA whose mmap
 * failed after the driver's .mmap succeeded.  No VMA of the device can
 * exist any more (each holds the file), and DMABUF ranges went with
 * memattr_dmabuf_close_all(): free them, so that neither the BAR's
 * region request nor a memory type reservation outlives the device's
 * use.  Caller holds mv->lock.
 */
static void memattr_reap(struct memattr_device *mv, unsigned int bar)
{
	struct memattr_bar *b = &mv->bars[bar];
	struct memattr_handle *h, *tmp;

	list_for_each_entry_safe(h, tmp, &b->handles, bar_node) {
		if (h->kind == MEMATTR_KIND_DMABUF)
			continue;
		pci_warn(mv->core.pdev, "BAR %u [%#llx+%#llx]: %u references left at close, freed\n",
			 bar, h->offset, h->length, kref_read(&h->ref));
		list_del(&h->bar_node);
		memattr_range_remove(h, &b->ranges);
		if (h->reserved)
			memattr_unreserve(h->phys, h->length, h->attr);
		mv->nr_handles--;
		b->nr_objs--;
		kfree(h);
	}
	if (!b->nr_objs)
		memattr_handback(mv, bar, true);
}

/*
 * The device's last user is gone: no VMA can still hold a handle, and
 * every DMABUF was detached (memattr_dmabuf_close_all(), called first).
 */
void memattr_device_close(struct memattr_device *mv)
{
	struct memattr_handle *h;
	unsigned long id;

	mutex_lock(&mv->lock);
	xa_for_each(&mv->handles, id, h) {
		xa_erase(&mv->handles, id);
		memattr_release(mv, h);
		mutex_unlock(&mv->lock);
		memattr_handle_put(h);
		mutex_lock(&mv->lock);
	}
	for (id = 0; id < PCI_STD_NUM_BARS; id++) {
		h = mv->bars[id].legacy;
		if (!h)
			continue;
		mv->bars[id].legacy = NULL;
		h->released = true;
		mutex_unlock(&mv->lock);
		memattr_handle_put(h);
		mutex_lock(&mv->lock);
	}
	mtree_destroy(&mv->offsets);
	mv->next_id = 0;
	for (id = 0; id < PCI_STD_NUM_BARS; id++) {
		struct memattr_bar *b = &mv->bars[id];

		memattr_reap(mv, id);
		memattr_rw_drop(mv, id);

		/* The core removes every ioeventfd; no VMA can be left. */
		memattr_windows_reset(b);
		b->legacy_untracked = false;
		atomic_set(&b->legacy_vmas, 0);
	}
	mutex_unlock(&mv->lock);
}
