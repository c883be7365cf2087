// SPDX-License-Identifier: GPL-2.0-only
/*
 * vfio-pci-memattr: pread/pwrite of memory BARs and of handle regions.
 *
 * A BAR the driver has not taken over is read and written by the core,
 * exactly as under vfio-pci: the core uses its whole-BAR kernel mapping
 * across its copies from and to user memory, so those calls are counted
 * (memattr_bar.core_rw) and a takeover is refused (EBUSY) while one runs.
 * The count and the BAR's taken flag are ordered like Dekker's flags: a
 * call increments, then looks at the flag; a takeover sets the flag, then
 * looks at the count; full barriers on both sides mean at least one of
 * them sees the other.
 *
 * A taken-over BAR and the handle offsets are the driver's: each page is
 * accessed through a mapping with the memory type of the handle covering
 * it (or uncached where none does), so every page keeps exactly one type.
 * A write-combining page is mapped for the access alone: no speculatable
 * WC kernel alias outlives the call.  The last uncached page is kept
 * mapped for the next access (QEMU's trapped pages are accessed again and
 * again), so the hot path does no ioremap or PAT work.
 *
 * mv->lock is held only to look the page's type up and pick its mapping,
 * not across the device access: the access runs under the BAR's rw_sem,
 * taken for read under mv->lock and kept when mv->lock is dropped, and
 * under memory_lock with memory decode enabled.  Accesses of a BAR do not
 * exclude each other, and no ioctl of the device waits for one (nor for
 * memory_lock, held for write across a reset or a power state change).
 * Anything that reserves a type on the BAR (MAP, DMABUF export and SET,
 * handback, close) first calls memattr_rw_drop() (handle.c) under
 * mv->lock, which takes rw_sem for write: it waits for the accesses in
 * flight, whose mappings are then gone, and drops the cached page.  A
 * new mapping for the cache is installed the same way.  User memory is
 * only touched outside any lock of the driver or the core.  Accesses are
 * as wide as the core's of the same kernel (8 bytes only where the core
 * does 8).
 */
#include <linux/io.h>
#include <linux/pci.h>
#include <linux/pm_runtime.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "compat.h"
#include "memattr.h"

/* Is [pos, pos + len) inside the MSI-X table, which vfio-pci hides? */
static bool memattr_in_msix(struct vfio_pci_core_device *vdev,
			    unsigned int bar, u64 pos, unsigned int len)
{
	if (bar != vdev->msix_bar || !vdev->msix_size)
		return false;
	return pos < vdev->msix_offset + vdev->msix_size &&
	       vdev->msix_offset < pos + len;
}

/*
 * @buf is aligned like @pos within a page, so the naturally aligned device
 * accesses below are aligned in @buf too.
 */
static void memattr_io(struct vfio_pci_core_device *vdev, unsigned int bar,
		       void __iomem *io, u8 *buf, u64 pos, size_t len,
		       bool iswrite)
{
	size_t i = 0;

	while (i < len) {
		unsigned int w;

		if (MEMATTR_RW_IO64 && !((pos + i) % 8) && len - i >= 8)
			w = 8;
		else if (!((pos + i) % 4) && len - i >= 4)
			w = 4;
		else if (!((pos + i) % 2) && len - i >= 2)
			w = 2;
		else
			w = 1;

		if (memattr_in_msix(vdev, bar, pos + i, w)) {
			if (!iswrite)
				memset(buf + i, 0xff, w);
			i += w;
			continue;
		}
		if (iswrite) {
			switch (w) {
#if MEMATTR_RW_IO64
			case 8:
				writeq(le64_to_cpu(*(__le64 *)(buf + i)), io + i);
				break;
#endif
			case 4:
				iowrite32(le32_to_cpu(*(__le32 *)(buf + i)), io + i);
				break;
			case 2:
				iowrite16(le16_to_cpu(*(__le16 *)(buf + i)), io + i);
				break;
			default:
				iowrite8(buf[i], io + i);
			}
		} else {
			switch (w) {
#if MEMATTR_RW_IO64
			case 8:
				*(__le64 *)(buf + i) = cpu_to_le64(readq(io + i));
				break;
#endif
			case 4:
				*(__le32 *)(buf + i) = cpu_to_le32(ioread32(io + i));
				break;
			case 2:
				*(__le16 *)(buf + i) = cpu_to_le16(ioread16(io + i));
				break;
			default:
				buf[i] = ioread8(io + i);
			}
		}
		i += w;
	}
}

/*
 * The mapping of the page at @phys with @attr, returned with the BAR's
 * rw_sem held for read (memattr_rw_put() ends the access), or NULL.
 * Caller holds mv->lock.
 */
static void __iomem *memattr_rw_get(struct memattr_device *mv,
				    unsigned int bar, phys_addr_t phys,
				    u8 attr)
{
	struct memattr_bar *b = &mv->bars[bar];
	phys_addr_t page = phys & PAGE_MASK;
	void __iomem *io, *old;

	lockdep_assert_held(&mv->lock);
	if (attr != VFIO_MEMATTR_WC && b->rw_io && b->rw_page == page) {
		down_read(&b->rw_sem);
		return b->rw_io;
	}
	io = memattr_map_page(page, attr);
	if (!io)
		return NULL;
	if (attr == VFIO_MEMATTR_WC) {
		down_read(&b->rw_sem);
		return io;
	}
	/* The new page replaces the cached one once no access uses that. */
	down_write(&b->rw_sem);
	old = b->rw_io;
	b->rw_io = io;
	b->rw_page = page;
	downgrade_write(&b->rw_sem);
	if (old)
		iounmap(old);
	return io;
}

/* End an access of memattr_rw_get(): the WC mapping goes before rw_sem. */
static void memattr_rw_put(struct memattr_device *mv, unsigned int bar,
			   void __iomem *io, u8 attr)
{
	if (attr == VFIO_MEMATTR_WC)
		iounmap(io);
	up_read(&mv->bars[bar].rw_sem);
}

/* Access [pos, pos + count) of @bar one page at a time. */
static ssize_t memattr_bar_rw(struct memattr_device *mv, unsigned int bar,
			      char __user *ubuf, size_t count, u64 pos,
			      bool iswrite)
{
	struct vfio_pci_core_device *vdev = &mv->core;
	phys_addr_t start = pci_resource_start(vdev->pdev, bar);
	u64 small[MEMATTR_RW_SMALL / 8 + 1];	/* + the offset in a u64 */
	size_t done = 0;
	ssize_t ret = 0;
	u8 *buf, *b;

	if (count <= MEMATTR_RW_SMALL) {
		buf = (u8 *)small;
	} else {
		buf = kmalloc(PAGE_SIZE, GFP_KERNEL);
		if (!buf)
			return -ENOMEM;
	}

	while (done < count) {
		size_t n = min_t(size_t, count - done,
				 PAGE_SIZE - offset_in_page(pos));
		void __iomem *io;
		u8 attr;

		b = buf + (buf == (u8 *)small ? pos % 8 : offset_in_page(pos));
		if (iswrite && copy_from_user(b, ubuf + done, n)) {
			ret = -EFAULT;
			break;
		}

		/*
		 * The type is looked up after the user copy, which may sleep
		 * for long, so a handle created meanwhile is honoured; the
		 * page's mapping keeps rw_sem held for read until it is gone,
		 * so no type is reserved over the page while it exists.
		 */
		mutex_lock(&mv->lock);
		attr = memattr_cover_attr(mv, bar, pos);
		io = memattr_rw_get(mv, bar, start + pos, attr);
		mutex_unlock(&mv->lock);
		if (io) {
			down_read(&vdev->memory_lock);
			if (memattr_memory_enabled(vdev)) {
				memattr_io(vdev, bar,
					   io + offset_in_page(start + pos),
					   b, pos, n, iswrite);
				if (iswrite && attr == VFIO_MEMATTR_WC)
					wmb();	/* drain the write-combining buffers */
			} else {
				ret = -EIO;
			}
			up_read(&vdev->memory_lock);
			memattr_rw_put(mv, bar, io, attr);
		} else {
			ret = -ENOMEM;
		}

		if (!ret && !iswrite && copy_to_user(ubuf + done, b, n))
			ret = -EFAULT;
		if (ret)
			break;
		done += n;
		pos += n;
	}
	if (buf != (u8 *)small)
		kfree(buf);
	/* As the core: an error is the answer, not a partial count. */
	return ret ? ret : done;
}

static bool memattr_core_counted(struct memattr_device *mv, loff_t pos,
				 unsigned int *bar)
{
	u64 index = VFIO_PCI_OFFSET_TO_INDEX((u64)pos);

	if (index >= PCI_STD_NUM_BARS ||
	    !(pci_resource_flags(mv->core.pdev, index) & IORESOURCE_MEM))
		return false;
	*bar = index;
	return true;
}

/* Caller counts a core access of @bar (it cannot be taken). */
static void memattr_rw_core_barmap(struct memattr_device *mv,
				   unsigned int bar)
{
	if (MEMATTR_EAGER_BARMAP || READ_ONCE(mv->core.barmap[bar]))
		return;
	mutex_lock(&mv->lock);
	memattr_core_barmap_locked(mv, bar);
	mutex_unlock(&mv->lock);
}

/*
 * Is the access at @pos the core's?  Every region but the memory BARs is;
 * a memory BAR's legacy offsets are while the BAR is not taken over, and
 * then the call is counted until memattr_rw_core_end().
 */
bool memattr_rw_core_begin(struct memattr_device *mv, loff_t pos)
{
	struct memattr_bar *b;
	unsigned int bar;

	if (!memattr_core_counted(mv, pos, &bar))
		return true;
	if (((u64)pos & VFIO_PCI_OFFSET_MASK) >= MEMATTR_WINDOW_START)
		return false;
	b = &mv->bars[bar];
	atomic_inc(&b->core_rw);
	smp_mb__after_atomic();		/* pairs with memattr_takeover() */
	if (!READ_ONCE(b->taken)) {
		memattr_rw_core_barmap(mv, bar);
		return true;
	}
	atomic_dec(&b->core_rw);
	return false;
}

void memattr_rw_core_end(struct memattr_device *mv, loff_t pos)
{
	unsigned int bar;

	if (memattr_core_counted(mv, pos, &bar))
		atomic_dec(&mv->bars[bar].core_rw);
}

/* A read or write the driver serves (memattr_rw_core_begin() said no). */
ssize_t memattr_rw(struct memattr_device *mv, char __user *buf, size_t count,
		   loff_t *ppos, bool iswrite)
{
	struct pci_dev *pdev = mv->core.pdev;
	u64 index = VFIO_PCI_OFFSET_TO_INDEX((u64)*ppos);
	u64 off = (u64)*ppos & VFIO_PCI_OFFSET_MASK;
	u64 pos, limit;
	ssize_t ret;

	if (index >= PCI_STD_NUM_BARS ||
	    !(pci_resource_flags(pdev, index) & IORESOURCE_MEM) ||
	    !pci_resource_start(pdev, index))
		return -EINVAL;
	limit = pci_resource_len(pdev, index);

	if (off >= MEMATTR_WINDOW_START) {
		struct memattr_handle *h;

		h = memattr_handle_get_by_offset(mv, index, off);
		if (!h)
			return -EINVAL;
		pos = h->offset + ((u64)*ppos - h->mmap_offset);
		/* A handle of a sub-page BAR covers more than the BAR. */
		limit = min(limit, h->offset + h->length);
		memattr_handle_put(h);
	} else {
		pos = off;
	}
	if (pos >= limit)
		return -EINVAL;

	count = min_t(u64, count, limit - pos);
	/* As the core's read/write: wake the device from runtime suspend. */
	ret = pm_runtime_resume_and_get(&pdev->dev);
	if (ret) {
		pci_info_ratelimited(pdev, "runtime resume failed %zd\n", ret);
		return -EIO;
	}
	ret = memattr_bar_rw(mv, index, buf, count, pos, iswrite);
	pm_runtime_put(&pdev->dev);
	if (ret > 0)
		*ppos += ret;
	return ret;
}
