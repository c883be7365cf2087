// SPDX-License-Identifier: GPL-2.0-only
/*
 * vfio-pci-memattr: DMABUF fds of BAR ranges, mmap-able with a memory
 * attribute, passed between processes, and revoked by the device's owner
 * (VFIO_DEVICE_FEATURE_MEMATTR_DMABUF*, see the uAPI header).
 *
 * A DMABUF holds each of its ranges as an object of the BAR (a handle
 * without id, MEMATTR_KIND_DMABUF), so that the policy, the memory type
 * reservation and the takeover of the BAR are those of handles.
 *
 * Its mmaps must be revoked with every other BAR mapping when the core
 * zaps (reset, memory disable, low power), and the core does not tell us
 * when it does.  So the VMAs are put where the core's zap finds them:
 *  - kernels with vdev->vma_list (6.1): the fault handler puts the VMA on
 *    that list, as for handles (fault.c);
 *  - later kernels zap the BAR windows of the device's inode mapping: the
 *    DMABUF file's f_mapping is that mapping (vfio does the same with
 *    every file of the device) and the VMAs' page offsets are a range of
 *    the BAR's window of its own.  The DMABUF holds the inode and its
 *    superblock, as its VMAs are linked into that mapping until they go.
 * A revoke zaps the DMABUF's range of its mapping.
 *
 * Lifetime: the memattr_dmabuf lives as long as its dma_buf, or as long
 * as it is on its device's list, whichever is longer (kref).  While it is
 * attached (d->mv set, under d->lock) the device is open: the last close
 * of the device detaches every DMABUF first, and a detached DMABUF never
 * touches the device again.
 *
 * Locking, outermost first: mmap_lock, d->lock, mv->lock (then, as
 * elsewhere, vma_lock and memory_lock).  Nothing copies from or to user
 * memory under d->lock: a user buffer may be a mapping of the DMABUF.
 */
#include <linux/dma-buf.h>
#include <linux/fcntl.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/overflow.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "compat.h"
#include "memattr.h"

MEMATTR_MODULE_IMPORT_NS(DMA_BUF);

struct memattr_dmabuf_range {
	u64 offset;			/* in the BAR */
	u64 length;
	u64 pgoff;			/* first page in the DMABUF */
	struct memattr_handle *h;	/* while attached */
};

struct memattr_dmabuf {
	struct kref ref;		/* the dma_buf; membership of mv->dmabufs */
	struct mutex lock;
	struct memattr_device *mv;	/* NULL once revoked */
	const void *owner;		/* the device, compared only */
	struct dma_buf *dmabuf;
	struct list_head node;		/* mv->dmabufs, under mv->lock */
	u64 window;			/* page offsets of its VMAs, in bytes */
	u64 size;
	unsigned int vmas;
	u8 bar;
	u8 attr;
	bool revoked;
#if MEMATTR_VDEV_INODE
	struct inode *inode;		/* the device's: its VMAs are linked there */
	struct super_block *sb;
#endif
	unsigned int nr_ranges;
	struct memattr_dmabuf_range ranges[] __counted_by(nr_ranges);
};

static void memattr_dmabuf_free(struct kref *ref)
{
	struct memattr_dmabuf *d = container_of(ref, struct memattr_dmabuf, ref);

	mutex_destroy(&d->lock);
	kfree(d);
}

static void memattr_dmabuf_put(struct memattr_dmabuf *d)
{
	kref_put(&d->ref, memattr_dmabuf_free);
}

/*
 * What /proc/PID/maps shows after "/dmabuf:".  Only a label: any holder of
 * the fd can rename it with DMA_BUF_SET_NAME; DMABUF_ATTR GET is the
 * authority on the attribute and the state.
 */
static void memattr_dmabuf_name(struct memattr_dmabuf *d, const char *pci)
{
	const char *old;
	char *name;

	if (d->revoked)
		name = kasprintf(GFP_KERNEL, "memattr %s revoked", pci);
	else
		name = kasprintf(GFP_KERNEL, "memattr %s BAR%u %s", pci, d->bar,
				 memattr_attr_names[d->attr].upper);
	if (!name)
		return;		/* the old name stays: only a label */
	/* dma-buf guards the name with name_lock alone (DMA_BUF_SET_NAME) */
	spin_lock(&d->dmabuf->name_lock);
	old = d->dmabuf->name;
	d->dmabuf->name = name;
	spin_unlock(&d->dmabuf->name_lock);
	kfree(old);
}

#if MEMATTR_VMA_LIST
/*
 * The core's vma_list must not keep a VMA of a detached DMABUF: its close
 * would not find the device any more.  A VMA on the list is alive while
 * vma_lock is held (its close takes the entry off under it, and waits for
 * d->lock, held by the caller).
 */
static const struct vm_operations_struct memattr_dmabuf_vm_ops;

static void memattr_dmabuf_unlist(struct memattr_dmabuf *d)
{
	struct vfio_pci_core_device *vdev = &d->mv->core;
	struct memattr_core_mmap_vma *e, *n;

	mutex_lock(&vdev->vma_lock);
	list_for_each_entry_safe(e, n, &vdev->vma_list, vma_next) {
		if (e->vma->vm_ops == &memattr_dmabuf_vm_ops &&
		    e->vma->vm_private_data == d) {
			list_del(&e->vma_next);
			kfree(e);
		}
	}
	mutex_unlock(&vdev->vma_lock);
}
#else
static void memattr_dmabuf_unlist(struct memattr_dmabuf *d)
{
}
#endif

/*
 * Revoke @d for good: zap its mappings, take it off its device and give
 * its ranges back.  Caller holds d->lock, d is attached.  Returns true if
 * the caller must drop the reference of the device's list.
 */
static bool memattr_dmabuf_detach(struct memattr_dmabuf *d)
{
	struct memattr_device *mv = d->mv;
	bool listed = false;
	unsigned int i;

	d->revoked = true;
	if (d->dmabuf) {
		unmap_mapping_range(d->dmabuf->file->f_mapping, d->window,
				    d->size, 1);
		memattr_dmabuf_unlist(d);
		memattr_dmabuf_name(d, pci_name(mv->core.pdev));
	}

	mutex_lock(&mv->lock);
	if (!list_empty(&d->node)) {
		list_del_init(&d->node);
		listed = true;
	}
	memattr_window_free(mv, d->bar, d->window, d->size);
	mutex_unlock(&mv->lock);
	for (i = 0; i < d->nr_ranges; i++) {
		if (!d->ranges[i].h)
			continue;
		d->ranges[i].h->released = true;
		memattr_handle_put(d->ranges[i].h);
		d->ranges[i].h = NULL;
	}
	d->mv = NULL;
	return listed;
}

/* The last close of the device: revoke every DMABUF it exported. */
void memattr_dmabuf_close_all(struct memattr_device *mv)
{
	struct memattr_dmabuf *d;

	for (;;) {
		mutex_lock(&mv->lock);
		d = list_first_entry_or_null(&mv->dmabufs, struct memattr_dmabuf,
					     node);
		if (d)
			list_del_init(&d->node);	/* its reference is ours */
		mutex_unlock(&mv->lock);
		if (!d)
			return;
		mutex_lock(&d->lock);
		if (d->mv)
			memattr_dmabuf_detach(d);
		mutex_unlock(&d->lock);
		memattr_dmabuf_put(d);
	}
}

/* ------------------------------------------------------------ VMAs */

/* The span of a DMABUF's VMA at @addr: the rest of its range there. */
static void memattr_dmabuf_span(struct vm_area_struct *vma, unsigned long addr,
				struct memattr_span *s)
{
	struct memattr_dmabuf *d = vma->vm_private_data;
	u64 pg = vma->vm_pgoff + ((addr - vma->vm_start) >> PAGE_SHIFT) -
		 (d->window >> PAGE_SHIFT);
	unsigned int lo = 0, hi = d->nr_ranges - 1;
	struct memattr_dmabuf_range *r;
	struct memattr_handle *h;

	while (lo < hi) {		/* the last range starting at or before pg */
		unsigned int mid = (lo + hi + 1) / 2;

		if (d->ranges[mid].pgoff <= pg)
			lo = mid;
		else
			hi = mid - 1;
	}
	r = &d->ranges[lo];
	h = r->h;
	s->pfn = PHYS_PFN(h->phys) + pg - r->pgoff;
	s->pages = (r->length >> PAGE_SHIFT) - (pg - r->pgoff);
}

static void memattr_dmabuf_vm_open(struct vm_area_struct *vma)
{
	struct memattr_dmabuf *d = vma->vm_private_data;

	mutex_lock(&d->lock);
	d->vmas++;
	mutex_unlock(&d->lock);
	memattr_vma_copied(vma);
}

static void memattr_dmabuf_vm_close(struct vm_area_struct *vma)
{
	struct memattr_dmabuf *d = vma->vm_private_data;

	mutex_lock(&d->lock);
	d->vmas--;
	if (d->mv)
		memattr_vma_list_del(&d->mv->core, vma);
	mutex_unlock(&d->lock);
}

static vm_fault_t memattr_dmabuf_vm_huge_fault(struct vm_fault *vmf,
					       unsigned int order)
{
	struct memattr_dmabuf *d = vmf->vma->vm_private_data;
	vm_fault_t ret;

	mutex_lock(&d->lock);
	if (d->mv)
		ret = memattr_fault(d->mv, vmf, order, memattr_dmabuf_span);
	else
		ret = VM_FAULT_SIGBUS;
	mutex_unlock(&d->lock);
	return ret;
}

static vm_fault_t memattr_dmabuf_vm_fault(struct vm_fault *vmf)
{
	return memattr_dmabuf_vm_huge_fault(vmf, 0);
}

static const struct vm_operations_struct memattr_dmabuf_vm_ops = {
	.open = memattr_dmabuf_vm_open,
	.close = memattr_dmabuf_vm_close,
	.fault = memattr_dmabuf_vm_fault,
#if MEMATTR_HUGE_PFNMAP
	.huge_fault = memattr_dmabuf_vm_huge_fault,
#endif
#if MEMATTR_VMA_LIST
	.mremap = memattr_vm_mremap,
#endif
};

/* ------------------------------------------------------- dma_buf_ops */

static int memattr_dmabuf_mmap(struct dma_buf *dmabuf,
			       struct vm_area_struct *vma)
{
	struct memattr_dmabuf *d = dmabuf->priv;
	int ret = 0;

	/* do_mmap() drops VM_SHARED of a shared mapping of a read-only file */
	if (!(vma->vm_flags & VM_MAYSHARE))
		return -EINVAL;
	mutex_lock(&d->lock);
	if (!d->mv) {
		ret = -ENODEV;
	} else {
		/* dma-buf checked vm_pgoff against the size */
		vma->vm_pgoff += d->window >> PAGE_SHIFT;
		vma->vm_private_data = d;
		memattr_vma_setup(vma, d->attr);
		vma->vm_ops = &memattr_dmabuf_vm_ops;
		d->vmas++;
	}
	mutex_unlock(&d->lock);
	return ret;
}

static void memattr_dmabuf_release(struct dma_buf *dmabuf)
{
	struct memattr_dmabuf *d = dmabuf->priv;
	bool listed = false;

	/* No VMA is left (they hold the file), nothing to zap or rename. */
	mutex_lock(&d->lock);
	d->dmabuf = NULL;
	if (d->mv)
		listed = memattr_dmabuf_detach(d);
	mutex_unlock(&d->lock);
#if MEMATTR_VDEV_INODE
	if (d->inode) {
		iput(d->inode);
		deactivate_super(d->sb);
	}
#endif
	if (listed)
		memattr_dmabuf_put(d);
	memattr_dmabuf_put(d);
}

/* For CPU mappings only: importers use VFIO_DEVICE_FEATURE_DMA_BUF. */
static int memattr_dmabuf_attach(struct dma_buf *dmabuf,
				 struct dma_buf_attachment *attach)
{
	return -EOPNOTSUPP;
}

static struct sg_table *memattr_dmabuf_map(struct dma_buf_attachment *attach,
					   enum dma_data_direction dir)
{
	return ERR_PTR(-EOPNOTSUPP);	/* not reached: attach fails */
}

static void memattr_dmabuf_unmap(struct dma_buf_attachment *attach,
				 struct sg_table *sgt,
				 enum dma_data_direction dir)
{
}

static const struct dma_buf_ops memattr_dmabuf_ops = {
	.attach = memattr_dmabuf_attach,
	.map_dma_buf = memattr_dmabuf_map,
	.unmap_dma_buf = memattr_dmabuf_unmap,
	.mmap = memattr_dmabuf_mmap,
	.release = memattr_dmabuf_release,
};

/* ------------------------------------------------------------ export */

/* Check the ranges and lay them out.  Returns the size or -EINVAL. */
static s64 memattr_dmabuf_layout(struct memattr_device *mv, unsigned int bar,
				 struct memattr_dmabuf *d,
				 const struct vfio_memattr_dma_range *in)
{
	u64 bar_end = PAGE_ALIGN(pci_resource_len(mv->core.pdev, bar));
	u64 size = 0, end, next;
	unsigned int i;

	for (i = 0; i < d->nr_ranges; i++) {
		if (!in[i].length || !PAGE_ALIGNED(in[i].offset) ||
		    !PAGE_ALIGNED(in[i].length) ||
		    check_add_overflow(in[i].offset, in[i].length, &end) ||
		    end > bar_end ||
		    check_add_overflow(size, in[i].length, &next) ||
		    next > S64_MAX)
			return -EINVAL;
		d->ranges[i].offset = in[i].offset;
		d->ranges[i].length = in[i].length;
		d->ranges[i].pgoff = size >> PAGE_SHIFT;
		size = next;
	}
	return size;
}

/* Create the BAR objects of @d's ranges, NC.  Caller holds mv->lock. */
static int memattr_dmabuf_hold(struct memattr_device *mv,
			       struct memattr_dmabuf *d)
{
	struct memattr_bar *b = &mv->bars[d->bar];
	unsigned int i;

	bool reused;

	reused = memattr_window_reuse(mv, d->bar, d->size, &d->window);
	if (!reused && d->size > MEMATTR_WINDOW_SIZE - b->next_mmap)
		return -ENOSPC;
	if (!reused)
		d->window = VFIO_PCI_INDEX_TO_OFFSET(d->bar) +
			    MEMATTR_WINDOW_START + b->next_mmap;
	for (i = 0; i < d->nr_ranges; i++) {
		struct memattr_dmabuf_range *r = &d->ranges[i];
		struct memattr_handle *h;

		h = memattr_try(mv, d->bar, r->offset, r->length,
				VFIO_MEMATTR_NC, MEMATTR_KIND_DMABUF);
		if (IS_ERR(h)) {
			if (reused)
				memattr_window_free(mv, d->bar, d->window,
						    d->size);
			return PTR_ERR(h);
		}
		h->mmap_offset = d->window + (r->pgoff << PAGE_SHIFT);
		r->h = h;
	}
	if (!reused)
		b->next_mmap += d->size;
	d->mv = mv;
	d->owner = mv;
	list_add_tail(&d->node, &mv->dmabufs);
	kref_get(&d->ref);			/* the list's */
	return 0;
}

static void memattr_dmabuf_drop(struct memattr_dmabuf *d)
{
	unsigned int i;

	for (i = 0; i < d->nr_ranges; i++) {
		if (d->ranges[i].h)
			memattr_handle_put(d->ranges[i].h);
		d->ranges[i].h = NULL;
	}
}

#if MEMATTR_VDEV_INODE
/* Link the DMABUF's VMAs where the core's zap finds them (see the top). */
static int memattr_dmabuf_link(struct memattr_device *mv,
			       struct memattr_dmabuf *d)
{
	struct inode *inode = mv->core.vdev.inode;

	if (!atomic_inc_not_zero(&inode->i_sb->s_active))
		return -ENODEV;
	d->sb = inode->i_sb;
	ihold(inode);
	d->inode = inode;
	d->dmabuf->file->f_mapping = inode->i_mapping;
	return 0;
}
#else
static int memattr_dmabuf_link(struct memattr_device *mv,
			       struct memattr_dmabuf *d)
{
	return 0;
}
#endif

int memattr_dmabuf_export(struct memattr_device *mv, u32 flags,
			  void __user *arg, size_t argsz)
{
	struct vfio_device_feature_memattr_dmabuf req;
	struct vfio_device_feature_memattr_dmabuf __user *uarg = arg;
	struct vfio_memattr_dma_range *in;
	DEFINE_DMA_BUF_EXPORT_INFO(exp_info);
	struct memattr_dmabuf *d;
	struct dma_buf *dmabuf;
	s64 size;
	int ret;

	ret = memattr_feature_in(flags, argsz, VFIO_DEVICE_FEATURE_GET, arg,
				 &req, sizeof(req));
	if (ret != 1)
		return ret;
	/* An fd that cannot be read cannot be mmapped: O_WRONLY is refused. */
	if (req.flags || (req.open_flags & ~(O_CLOEXEC | O_ACCMODE)) ||
	    ((req.open_flags & O_ACCMODE) != O_RDONLY &&
	     (req.open_flags & O_ACCMODE) != O_RDWR) ||
	    req.region_index >= PCI_STD_NUM_BARS || !req.nr_ranges ||
	    req.nr_ranges > VFIO_MEMATTR_DMABUF_MAX_RANGES ||
	    argsz < struct_size(&req, dma_ranges, req.nr_ranges))
		return -EINVAL;

	in = memdup_user(&uarg->dma_ranges,
			 array_size(req.nr_ranges, sizeof(*in)));
	if (IS_ERR(in))
		return PTR_ERR(in);
	d = kzalloc(struct_size(d, ranges, req.nr_ranges), GFP_KERNEL_ACCOUNT);
	if (!d) {
		kfree(in);
		return -ENOMEM;
	}
	kref_init(&d->ref);			/* the dma_buf's */
	mutex_init(&d->lock);
	INIT_LIST_HEAD(&d->node);
	d->nr_ranges = req.nr_ranges;
	d->bar = req.region_index;
	d->attr = VFIO_MEMATTR_NC;
	/* A BAR that can take no attribute at all, as MAP. */
	if (memattr_reason(mv, d->bar, VFIO_MEMATTR_NC)) {
		ret = -EOPNOTSUPP;
	} else {
		size = memattr_dmabuf_layout(mv, d->bar, d, in);
		ret = size < 0 ? size : 0;
		d->size = size;
	}
	kfree(in);
	if (ret)
		goto err_free;

	mutex_lock(&mv->lock);
	ret = memattr_dmabuf_hold(mv, d);
	mutex_unlock(&mv->lock);
	if (ret)
		goto err_drop;

	exp_info.ops = &memattr_dmabuf_ops;
	exp_info.size = d->size;
	exp_info.flags = req.open_flags & O_ACCMODE;
	exp_info.priv = d;
	dmabuf = dma_buf_export(&exp_info);
	if (IS_ERR(dmabuf)) {
		ret = PTR_ERR(dmabuf);
		goto err_detach;
	}
	/* dma_buf_put() now revokes and frees d (memattr_dmabuf_release). */
	mutex_lock(&d->lock);
	d->dmabuf = dmabuf;
	ret = memattr_dmabuf_link(mv, d);
	if (!ret)
		memattr_dmabuf_name(d, pci_name(mv->core.pdev));
	mutex_unlock(&d->lock);
	if (!ret)
		ret = dma_buf_fd(dmabuf, req.open_flags & O_CLOEXEC);
	if (ret < 0)
		dma_buf_put(dmabuf);
	return ret;

err_detach:
	mutex_lock(&d->lock);
	if (memattr_dmabuf_detach(d))
		memattr_dmabuf_put(d);
	mutex_unlock(&d->lock);
	memattr_dmabuf_put(d);
	return ret;
err_drop:
	memattr_dmabuf_drop(d);
err_free:
	memattr_dmabuf_put(d);
	return ret;
}

/* ------------------------------------------------ attribute, revoke */

/*
 * The DMABUF of @fd, exported by this driver, with a reference on its
 * dma_buf; -EINVAL for anything else.
 */
static struct memattr_dmabuf *memattr_dmabuf_lookup(int fd,
						    struct dma_buf **out)
{
	struct dma_buf *dmabuf = dma_buf_get(fd);

	if (IS_ERR(dmabuf))
		return ERR_PTR(-EINVAL);
	if (dmabuf->ops != &memattr_dmabuf_ops) {
		dma_buf_put(dmabuf);
		return ERR_PTR(-EINVAL);
	}
	*out = dmabuf;
	return dmabuf->priv;
}

/* Set @attr on every range of @d, or nothing.  Holds d->lock and mv->lock. */
static int memattr_dmabuf_retype(struct memattr_dmabuf *d, u8 attr, bool *lost)
{
	struct memattr_device *mv = d->mv;
	unsigned int i, j;
	bool gone;
	int ret;

	*lost = false;
	for (i = 0; i < d->nr_ranges; i++) {
		ret = memattr_retype(mv, d->ranges[i].h, attr, lost);
		if (ret)
			break;
	}
	if (i == d->nr_ranges) {
		d->attr = attr;
		return 0;
	}
	/*
	 * A range that cannot be given its old type back (an allocation of
	 * the proof failed, or the rules changed meanwhile) must not stay
	 * with the new one under a DMABUF that reports the old: *@lost makes
	 * the caller revoke the DMABUF.
	 */
	for (j = 0; j < i; j++) {
		if (memattr_retype(mv, d->ranges[j].h, d->attr, &gone) || gone)
			*lost = true;
	}
	return ret;
}

/* SET: the first preference that can be honoured.  Holds d->lock. */
static int memattr_dmabuf_set(struct memattr_dmabuf *d, const u8 *prefs,
			      unsigned int nr, bool *lost)
{
	struct memattr_device *mv = d->mv;
	int ret = 0, first = 0;
	unsigned int i;

	*lost = false;
	for (i = 0; i < nr; i++) {
		if (prefs[i] == d->attr)
			return 0;
		if (d->vmas) {
			ret = -EBUSY;
		} else {
			mutex_lock(&mv->lock);
			ret = memattr_dmabuf_retype(d, prefs[i], lost);
			mutex_unlock(&mv->lock);
			if (!ret || *lost)
				return ret;
		}
		if (!i)
			first = ret;
	}
	return first;
}

/*
 * After a SET changed @d's attribute: rename it, or, if a range lost its
 * memory type (memattr_retype()), revoke it.  Holds d->lock, d attached;
 * the caller's reference on the dma_buf keeps d when the list's goes.
 */
static void memattr_dmabuf_settle(struct memattr_dmabuf *d, bool lost)
{
	if (!lost)
		memattr_dmabuf_name(d, pci_name(d->mv->core.pdev));
	else if (memattr_dmabuf_detach(d))
		memattr_dmabuf_put(d);
}

int memattr_dmabuf_attr(struct memattr_device *mv, u32 flags,
			void __user *arg, size_t argsz)
{
	struct vfio_device_feature_memattr_dmabuf_attr req;
	bool set = flags & VFIO_DEVICE_FEATURE_SET;
	struct memattr_dmabuf *d;
	struct dma_buf *dmabuf;
	bool lost = false;
	u8 old = 0;
	int ret;

	ret = memattr_feature_in(flags, argsz,
				 VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_SET,
				 arg, &req, sizeof(req));
	if (ret != 1)
		return ret;
	/* GET takes an empty list: nr_prefs 0, every entry zero. */
	if (req.flags || req.reserved || (set && !req.nr_prefs) ||
	    (!set && req.nr_prefs) ||
	    !memattr_prefs_valid(req.prefs, req.nr_prefs))
		return -EINVAL;
	d = memattr_dmabuf_lookup(req.dmabuf_fd, &dmabuf);
	if (IS_ERR(d))
		return PTR_ERR(d);

	ret = 0;
	mutex_lock(&d->lock);
	if (d->owner != mv) {
		ret = -ENODEV;
	} else if (set) {
		old = d->attr;
		ret = d->mv ? memattr_dmabuf_set(d, req.prefs, req.nr_prefs,
						 &lost) : -ENODEV;
		if (lost || (!ret && old != d->attr))
			memattr_dmabuf_settle(d, lost);
	}
	req.attr = d->attr;
	req.state = (d->revoked ? VFIO_MEMATTR_DMABUF_REVOKED : 0) |
		    (d->vmas ? VFIO_MEMATTR_DMABUF_MAPPED : 0);
	req.size = d->size;
	mutex_unlock(&d->lock);

	if (!ret && copy_to_user(arg, &req, sizeof(req))) {
		ret = -EFAULT;
		/* Undo a change nobody could be told about, if nothing maps it. */
		mutex_lock(&d->lock);
		if (set && d->mv && d->attr != old && !d->vmas) {
			memattr_dmabuf_set(d, &old, 1, &lost);
			memattr_dmabuf_settle(d, lost);
		}
		mutex_unlock(&d->lock);
	}
	dma_buf_put(dmabuf);
	return ret;
}

int memattr_dmabuf_revoke(struct memattr_device *mv, u32 flags,
			  void __user *arg, size_t argsz)
{
	struct vfio_device_feature_memattr_dmabuf_revoke req;
	struct memattr_dmabuf *d;
	struct dma_buf *dmabuf;
	bool listed = false;
	int ret;

	ret = memattr_feature_in(flags, argsz, VFIO_DEVICE_FEATURE_SET, arg,
				 &req, sizeof(req));
	if (ret != 1)
		return ret;
	if (req.flags)
		return -EINVAL;
	d = memattr_dmabuf_lookup(req.dmabuf_fd, &dmabuf);
	if (IS_ERR(d))
		return PTR_ERR(d);

	ret = 0;
	mutex_lock(&d->lock);
	if (d->owner != mv)
		ret = -ENODEV;
	else if (!d->mv)
		ret = -EBADFD;		/* revoked already, as upstream's revoke */
	else
		listed = memattr_dmabuf_detach(d);
	mutex_unlock(&d->lock);
	if (listed)
		memattr_dmabuf_put(d);
	dma_buf_put(dmabuf);
	return ret;
}
