// SPDX-License-Identifier: GPL-2.0-only
/*
 * vfio-pci-memattr: pread/pwrite of memory BARs and of handle regions.
 *
 * Every access to a memory BAR is the driver's, never the core's: the
 * core would use its whole-BAR kernel mapping across its copies from and
 * to user memory, and a MAP taking the BAR over meanwhile would unmap it
 * under the core's feet.  Each page is mapped for the access alone, with
 * the memory type of the handle covering it (or uncached where none
 * does), so every page keeps exactly one type and nothing outlives the
 * call.  Device memory is only touched under memory_lock with memory
 * decode enabled; user memory is only touched outside any lock of the
 * driver or the core.
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

		if (IS_ENABLED(CONFIG_64BIT) && !((pos + i) % 8) && len - i >= 8)
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
#ifdef CONFIG_64BIT
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
#ifdef CONFIG_64BIT
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

/* The attribute of the handle covering @pos of @bar, NC if none does. */
static u8 memattr_cover(struct memattr_device *mv, unsigned int bar, u64 pos)
{
	struct memattr_handle *h;
	u8 attr = VFIO_MEMATTR_NC;

	mutex_lock(&mv->lock);
	list_for_each_entry(h, &mv->bars[bar].handles, bar_node) {
		if (pos >= h->offset && pos - h->offset < h->length) {
			attr = h->attr;
			break;
		}
	}
	mutex_unlock(&mv->lock);
	return attr;
}

/* Access [pos, pos + count) of @bar one page at a time. */
static ssize_t memattr_bar_rw(struct memattr_device *mv, unsigned int bar,
			      char __user *ubuf, size_t count, u64 pos,
			      bool iswrite)
{
	struct vfio_pci_core_device *vdev = &mv->core;
	phys_addr_t start = pci_resource_start(vdev->pdev, bar);
	size_t done = 0;
	ssize_t ret = 0;
	u8 *buf, *b;

	buf = kmalloc(PAGE_SIZE, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;

	while (done < count) {
		size_t n = min_t(size_t, count - done,
				 PAGE_SIZE - offset_in_page(pos));
		void __iomem *io;
		u8 attr;

		b = buf + offset_in_page(pos);
		if (iswrite && copy_from_user(b, ubuf + done, n)) {
			ret = -EFAULT;
			break;
		}

		/*
		 * The type is looked up after the user copy, which may sleep
		 * for long: a handle created meanwhile is honoured.  A handle
		 * created between the lookup and the access would find this
		 * page's mapping in the PAT tree and fail its MAP with EBUSY
		 * rather than be granted a type it does not have.
		 */
		attr = memattr_cover(mv, bar, pos);
		io = memattr_map_page(start + pos, attr);
		if (!io) {
			ret = -ENOMEM;
			break;
		}
		io += offset_in_page(start + pos);

		down_read(&vdev->memory_lock);
		if (memattr_memory_enabled(vdev)) {
			memattr_io(vdev, bar, io, b, pos, n, iswrite);
			if (iswrite && attr == VFIO_MEMATTR_WC)
				wmb();	/* drain the write-combining buffers */
		} else {
			ret = -EIO;
		}
		up_read(&vdev->memory_lock);
		iounmap((void __iomem *)((unsigned long)io & PAGE_MASK));

		if (!ret && !iswrite && copy_to_user(ubuf + done, b, n))
			ret = -EFAULT;
		if (ret)
			break;
		done += n;
		pos += n;
	}
	kfree(buf);
	return done ? done : ret;
}

/*
 * Returns with *handled false when the access is the core's business: a
 * region other than a memory BAR.
 */
ssize_t memattr_rw(struct memattr_device *mv, char __user *buf, size_t count,
		   loff_t *ppos, bool iswrite, bool *handled)
{
	struct pci_dev *pdev = mv->core.pdev;
	u64 index = VFIO_PCI_OFFSET_TO_INDEX((u64)*ppos);
	u64 off = (u64)*ppos & VFIO_PCI_OFFSET_MASK;
	u64 pos, limit;
	ssize_t ret;

	*handled = false;
	if (index >= PCI_STD_NUM_BARS ||
	    !(pci_resource_flags(pdev, index) & IORESOURCE_MEM))
		return 0;
	*handled = true;
	if (!pci_resource_start(pdev, index))
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
