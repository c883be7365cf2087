// SPDX-License-Identifier: GPL-2.0-only
/*
 * vfio-pci-memattr: the uAPI's VFIO_DEVICE_FEATURE payloads and the
 * region info of a handle index.
 *
 * Every VFIO_DEVICE_FEATURE call comes through memattr_device_feature():
 * MAP, UNMAP, HANDLE and BAR_INFO are answered here from the handles of
 * handle.c, the DMABUF features by dmabuf.c, every other feature by the
 * core.  The payload is read and checked here, with nothing held; the
 * handle table is then changed under mv->lock (handle.c).
 */
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vfio.h>

#include "compat.h"
#include "memattr.h"

static int memattr_feature_map(struct memattr_device *mv, u32 flags,
			       void __user *arg, size_t argsz)
{
	struct vfio_device_feature_memattr_map req;
	struct pci_dev *pdev = mv->core.pdev;
	struct memattr_handle *h = ERR_PTR(-EINVAL);
	bool forget;
	u64 end;
	int ret, i;

	ret = memattr_feature_in(flags, argsz, VFIO_DEVICE_FEATURE_SET,
				 arg, &req, sizeof(req));
	if (ret != 1)
		return ret;

	if (req.flags || req.reserved || req.index >= PCI_STD_NUM_BARS)
		return -EINVAL;
	if (!req.nr_prefs || !memattr_prefs_valid(req.prefs, req.nr_prefs))
		return -EINVAL;
	if (!req.length || !PAGE_ALIGNED(req.offset) ||
	    !PAGE_ALIGNED(req.length) ||
	    check_add_overflow(req.offset, req.length, &end))
		return -EINVAL;

	/* A BAR that can take no attribute at all. */
	ret = memattr_reason(mv, req.index, VFIO_MEMATTR_NC);
	if (ret)
		return memattr_reason_errno(ret);
	if (end > PAGE_ALIGN(pci_resource_len(pdev, req.index)))
		return -EINVAL;

	mutex_lock(&mv->lock);
	for (i = 0; i < req.nr_prefs; i++) {
		struct memattr_handle *t;

		t = memattr_try(mv, req.index, req.offset, req.length,
				req.prefs[i], MEMATTR_KIND_HANDLE);
		if (!IS_ERR(t)) {
			h = t;
			break;
		}
		if (!i)
			h = t;	/* the first preference's error is reported */
	}
	mutex_unlock(&mv->lock);
	if (IS_ERR(h))
		return PTR_ERR(h);

	req.attr = h->attr;
	req.handle = h->id;
	req.mmap_offset = h->mmap_offset;
	ret = copy_to_user(arg, &req, sizeof(req)) ? -EFAULT : 0;

	/*
	 * Only what the table still holds is taken back: the id was
	 * predictable, and another thread may have unmapped it meanwhile
	 * (then the table's reference is gone already).
	 */
	mutex_lock(&mv->lock);
	forget = ret && h->pending && !h->released &&
		 xa_load(&mv->handles, h->id - VFIO_MEMATTR_HANDLE_INDEX_BASE) == h;
	if (forget)
		memattr_forget(mv, h);
	h->pending = false;
	mutex_unlock(&mv->lock);
	if (forget)
		memattr_handle_put(h);	/* the table's reference */
	memattr_handle_put(h);
	return ret;
}

static int memattr_feature_unmap(struct memattr_device *mv, u32 flags,
				 void __user *arg, size_t argsz)
{
	struct vfio_device_feature_memattr_unmap req;
	struct memattr_handle *h;
	int ret;

	ret = memattr_feature_in(flags, argsz, VFIO_DEVICE_FEATURE_SET,
				 arg, &req, sizeof(req));
	if (ret != 1)
		return ret;
	if (req.flags)
		return -EINVAL;
	if (req.handle < VFIO_MEMATTR_HANDLE_INDEX_BASE)
		return -ENOENT;

	mutex_lock(&mv->lock);
	h = xa_erase(&mv->handles, req.handle - VFIO_MEMATTR_HANDLE_INDEX_BASE);
	if (h) {
		memattr_release(mv, h);
		h->pending = false;	/* MAP's rollback must leave it be */
	}
	mutex_unlock(&mv->lock);
	if (!h)
		return -ENOENT;
	memattr_handle_put(h);		/* the table's reference */
	return 0;
}

static int memattr_feature_handle(struct memattr_device *mv, u32 flags,
				  void __user *arg, size_t argsz)
{
	struct vfio_device_feature_memattr_handle req;
	struct memattr_handle *h;
	int ret;

	ret = memattr_feature_in(flags, argsz, VFIO_DEVICE_FEATURE_GET,
				 arg, &req, sizeof(req));
	if (ret != 1)
		return ret;
	if (req.flags)
		return -EINVAL;

	h = memattr_handle_get_by_id(mv, req.handle);
	if (!h)
		return -ENOENT;
	req.index = h->bar;
	req.attr = h->attr;
	req.offset = h->offset;
	req.length = h->length;
	req.mmap_offset = h->mmap_offset;
	memattr_handle_put(h);

	return copy_to_user(arg, &req, sizeof(req)) ? -EFAULT : 0;
}

static int memattr_feature_bar_info(struct memattr_device *mv, u32 flags,
				    void __user *arg, size_t argsz)
{
	struct vfio_device_feature_memattr_bar_info req;
	struct pci_dev *pdev = mv->core.pdev;
	unsigned long rflags;
	unsigned int bar;
	int ret, a;

	ret = memattr_feature_in(flags, argsz, VFIO_DEVICE_FEATURE_GET,
				 arg, &req, sizeof(req));
	if (ret != 1)
		return ret;
	if (req.flags || req.reserved || req.index >= PCI_STD_NUM_BARS)
		return -EINVAL;

	bar = req.index;
	rflags = pci_resource_flags(pdev, bar);
	memset(&req, 0, sizeof(req));
	req.index = bar;
	req.size = pci_resource_len(pdev, bar);
	if (req.size) {
		if (rflags & IORESOURCE_IO)
			req.bar_flags |= VFIO_MEMATTR_BAR_IO;
		if (rflags & IORESOURCE_PREFETCH)
			req.bar_flags |= VFIO_MEMATTR_BAR_PREFETCH;
		if (rflags & IORESOURCE_MEM_64)
			req.bar_flags |= VFIO_MEMATTR_BAR_MEM64;
		if ((rflags & IORESOURCE_MEM) && mv->core.bar_mmap_supported[bar])
			req.bar_flags |= VFIO_MEMATTR_BAR_MMAP;
	}
	BUILD_BUG_ON(MEMATTR_NR_ATTRS > VFIO_MEMATTR_REASON_SLOTS);
	for (a = 0; a < MEMATTR_NR_ATTRS; a++) {
		req.reason[a] = memattr_reason(mv, bar, a);
		if (!req.reason[a])
			req.supported |= 1U << a;
	}
	mutex_lock(&mv->lock);
	req.nr_handles = mv->bars[bar].nr_objs;
	mutex_unlock(&mv->lock);

	return copy_to_user(arg, &req, sizeof(req)) ? -EFAULT : 0;
}

/* Returns -ENOTTY for features that are not ours. */
static int memattr_feature(struct memattr_device *mv, u32 flags,
			   void __user *arg, size_t argsz)
{
	switch (flags & VFIO_DEVICE_FEATURE_MASK) {
	case VFIO_DEVICE_FEATURE_MEMATTR_DMABUF:
		return memattr_dmabuf_export(mv, flags, arg, argsz);
	case VFIO_DEVICE_FEATURE_MEMATTR_DMABUF_ATTR:
		return memattr_dmabuf_attr(mv, flags, arg, argsz);
	case VFIO_DEVICE_FEATURE_MEMATTR_DMABUF_REVOKE:
		return memattr_dmabuf_revoke(mv, flags, arg, argsz);
	case VFIO_DEVICE_FEATURE_MEMATTR_BAR_INFO:
		return memattr_feature_bar_info(mv, flags, arg, argsz);
	case VFIO_DEVICE_FEATURE_MEMATTR_MAP:
		return memattr_feature_map(mv, flags, arg, argsz);
	case VFIO_DEVICE_FEATURE_MEMATTR_HANDLE:
		return memattr_feature_handle(mv, flags, arg, argsz);
	case VFIO_DEVICE_FEATURE_MEMATTR_UNMAP:
		return memattr_feature_unmap(mv, flags, arg, argsz);
	}
	return -ENOTTY;
}

/* VFIO_DEVICE_GET_REGION_INFO for a handle index. */
static int memattr_region_info(struct memattr_device *mv,
			       struct vfio_region_info *info,
			       struct vfio_info_cap *caps)
{
	struct vfio_region_info_cap_memattr cap = {
		.header.id = VFIO_REGION_INFO_CAP_MEMATTR,
		.header.version = 1,
	};
	struct memattr_handle *h;

	h = memattr_handle_get_by_id(mv, info->index);
	if (!h)
		return -EINVAL;
	info->offset = h->mmap_offset;
	info->size = h->length;
	info->flags = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE |
		      VFIO_REGION_INFO_FLAG_MMAP;
	cap.index = h->bar;
	cap.attr = h->attr;
	cap.offset = h->offset;
	cap.length = h->length;
	memattr_handle_put(h);

	return vfio_info_add_capability(caps, &cap.header, sizeof(cap));
}

/* The device's .device_feature: ours, else the core's. */
int memattr_device_feature(struct vfio_device *core_vdev, u32 flags,
			   void __user *arg, size_t argsz)
{
	int ret = memattr_feature(to_memattr(core_vdev), flags, arg, argsz);

	if (ret != -ENOTTY)
		return ret;
	return vfio_pci_core_ioctl_feature(core_vdev, flags, arg, argsz);
}

/*
 * VFIO_DEVICE_GET_REGION_INFO: a handle index is ours, every other index
 * the core's; through the .get_region_info_caps op where the kernel has
 * it, else in .ioctl.
 */
#if MEMATTR_REGION_INFO_CAPS
int memattr_get_region_info_caps(struct vfio_device *core_vdev,
				 struct vfio_region_info *info,
				 struct vfio_info_cap *caps)
{
	if (info->index >= VFIO_MEMATTR_HANDLE_INDEX_BASE)
		return memattr_region_info(to_memattr(core_vdev), info, caps);
	return vfio_pci_ioctl_get_region_info(core_vdev, info, caps);
}
#else
long memattr_ioctl_region_info(struct vfio_device *core_vdev,
			       unsigned int cmd, unsigned long arg)
{
	unsigned long minsz = offsetofend(struct vfio_region_info, offset);
	struct vfio_region_info __user *uarg = (void __user *)arg;
	struct vfio_info_cap caps = {};
	struct vfio_region_info info;
	int ret;

	if (copy_from_user(&info, uarg, minsz))
		return -EFAULT;
	if (info.index < VFIO_MEMATTR_HANDLE_INDEX_BASE)
		return vfio_pci_core_ioctl(core_vdev, cmd, arg);
	if (info.argsz < minsz)
		return -EINVAL;

	ret = memattr_region_info(to_memattr(core_vdev), &info, &caps);
	if (ret)
		goto out;
	if (caps.size) {
		info.flags |= VFIO_REGION_INFO_FLAG_CAPS;
		if (info.argsz < sizeof(info) + caps.size) {
			info.argsz = sizeof(info) + caps.size;
			info.cap_offset = 0;
		} else {
			vfio_info_cap_shift(&caps, sizeof(info));
			if (copy_to_user(uarg + 1, caps.buf, caps.size)) {
				ret = -EFAULT;
				goto out;
			}
			info.cap_offset = sizeof(info);
		}
	}
	if (copy_to_user(uarg, &info, minsz))
		ret = -EFAULT;
out:
	kfree(caps.buf);
	return ret;
}
#endif
