// SPDX-License-Identifier: GPL-2.0-only
/*
 * vfio-pci-memattr: a VFIO PCI variant driver that behaves like vfio-pci
 * and lets the owner of the device fd map BAR ranges with a chosen memory
 * attribute (NC, WC, DEV).  See include/uapi/linux/vfio_memattr.h and
 * docs/design.md.
 *
 * It matches no device by ID: bind through driver_override, as with
 * vfio-pci.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/pci.h>
#include <linux/vfio.h>

#include "compat.h"
#include "memattr.h"

static bool memattr_nonprefetchable_wc;
module_param_named(nonprefetchable_wc, memattr_nonprefetchable_wc, bool, 0644);
MODULE_PARM_DESC(nonprefetchable_wc,
		 "Allow WC on non-prefetchable BARs of devices bound from now on (default N; WC permits speculative reads)");

static bool disable_denylist;
module_param(disable_denylist, bool, 0444);
MODULE_PARM_DESC(disable_denylist,
		 "Disable use of the device denylist (devices with errata that may be exploited by untrusted users)");

/*
 * Devices that vfio-pci refuses unless disable_denylist is set: both
 * flavours refuse them, or driver_override would hand them out anyway.
 */
static bool memattr_in_denylist(struct pci_dev *pdev)
{
	static const unsigned short intel[] = {
		PCI_DEVICE_ID_INTEL_QAT_C3XXX,
		PCI_DEVICE_ID_INTEL_QAT_C3XXX_VF,
		PCI_DEVICE_ID_INTEL_QAT_C62X,
		PCI_DEVICE_ID_INTEL_QAT_C62X_VF,
		PCI_DEVICE_ID_INTEL_QAT_DH895XCC,
		PCI_DEVICE_ID_INTEL_QAT_DH895XCC_VF,
#ifdef PCI_DEVICE_ID_INTEL_DSA_SPR0
		PCI_DEVICE_ID_INTEL_DSA_SPR0,
#endif
#ifdef PCI_DEVICE_ID_INTEL_IAX_SPR0
		PCI_DEVICE_ID_INTEL_IAX_SPR0,
#endif
	};
	unsigned int i;

	if (pdev->vendor != PCI_VENDOR_ID_INTEL)
		return false;
	for (i = 0; i < ARRAY_SIZE(intel); i++)
		if (pdev->device == intel[i])
			return true;
	return false;
}

static int memattr_open_device(struct vfio_device *core_vdev)
{
	struct vfio_pci_core_device *vdev = &to_memattr(core_vdev)->core;
	int ret;

	ret = vfio_pci_core_enable(vdev);
	if (ret)
		return ret;
	vfio_pci_core_finish_enable(vdev);
	return 0;
}

static void memattr_close_device(struct vfio_device *core_vdev)
{
	struct memattr_device *mv = to_memattr(core_vdev);

	/* DMABUFs first: their ranges are objects of the BARs (handle.c). */
	memattr_dmabuf_close_all(mv);
	memattr_device_close(mv);
	vfio_pci_core_close_device(core_vdev);
}

/*
 * A BAR the driver has not taken over is read and written by the core
 * itself, as under vfio-pci (counted, so that no takeover unmaps the
 * core's mapping meanwhile); every other region too.  A taken-over BAR
 * and handle offsets are the driver's (rw.c).
 */
static ssize_t memattr_read(struct vfio_device *core_vdev, char __user *buf,
			    size_t count, loff_t *ppos)
{
	struct memattr_device *mv = to_memattr(core_vdev);
	loff_t pos = *ppos;
	ssize_t ret;

	if (!count)
		return 0;
	if (!memattr_rw_core_begin(mv, pos))
		return memattr_rw(mv, buf, count, ppos, false);
	ret = vfio_pci_core_read(core_vdev, buf, count, ppos);
	memattr_rw_core_end(mv, pos);
	return ret;
}

static ssize_t memattr_write(struct vfio_device *core_vdev,
			     const char __user *buf, size_t count, loff_t *ppos)
{
	struct memattr_device *mv = to_memattr(core_vdev);
	loff_t pos = *ppos;
	ssize_t ret;

	if (!count)
		return 0;
	if (!memattr_rw_core_begin(mv, pos))
		return memattr_rw(mv, (char __user *)buf, count, ppos, true);
	ret = vfio_pci_core_write(core_vdev, buf, count, ppos);
	memattr_rw_core_end(mv, pos);
	return ret;
}

/*
 * .mmap: a handle's offsets (the upper half of a BAR's window) are served
 * by fault.c, a BAR's legacy offsets by legacy.c, every other region by
 * the core.
 */
static int memattr_mmap(struct vfio_device *core_vdev,
			struct vm_area_struct *vma)
{
	struct memattr_device *mv = to_memattr(core_vdev);
	u64 index = vma->vm_pgoff >> (VFIO_PCI_OFFSET_SHIFT - PAGE_SHIFT);
	u64 window_off = ((u64)vma->vm_pgoff << PAGE_SHIFT) & VFIO_PCI_OFFSET_MASK;

	if (index >= PCI_STD_NUM_BARS)
		return vfio_pci_core_mmap(core_vdev, vma);
	if (!(vma->vm_flags & VM_SHARED))
		return -EINVAL;
	if (window_off >= MEMATTR_WINDOW_START)
		return memattr_mmap_handle(mv, vma, index, window_off);
	return memattr_mmap_legacy(mv, vma, index);
}

/*
 * An ioeventfd points into the core's mapping of its BAR: while the core
 * runs the call, no BAR is taken over (handle.c).  The argument is not
 * read here: the core reads it, and only its own copy counts.
 */
static long memattr_ioctl_ioeventfd(struct vfio_device *core_vdev,
				    unsigned int cmd, unsigned long arg)
{
	struct memattr_device *mv = to_memattr(core_vdev);
	long ret;

	memattr_ioeventfd_begin(mv);
	ret = vfio_pci_core_ioctl(core_vdev, cmd, arg);
	memattr_ioeventfd_end(mv);
	return ret;
}

static long memattr_ioctl(struct vfio_device *core_vdev, unsigned int cmd,
			  unsigned long arg)
{
	switch (cmd) {
#if !MEMATTR_REGION_INFO_CAPS
	case VFIO_DEVICE_GET_REGION_INFO:
		return memattr_ioctl_region_info(core_vdev, cmd, arg);
#endif
	case VFIO_DEVICE_IOEVENTFD:
		return memattr_ioctl_ioeventfd(core_vdev, cmd, arg);
	}
	return vfio_pci_core_ioctl(core_vdev, cmd, arg);
}

static int memattr_init_dev(struct vfio_device *core_vdev)
{
	memattr_device_init(to_memattr(core_vdev));
	memattr_flavour_init_dev(to_memattr(core_vdev));
	return vfio_pci_core_init_dev(core_vdev);
}

static void memattr_release_dev(struct vfio_device *core_vdev)
{
	struct memattr_device *mv = to_memattr(core_vdev);

	xa_destroy(&mv->handles);
	mutex_destroy(&mv->lock);
	vfio_pci_core_release_dev(core_vdev);
}

static const struct vfio_device_ops memattr_ops = {
	.name		= MEMATTR_DRIVER_NAME,
	.init		= memattr_init_dev,
	.release	= memattr_release_dev,
	.open_device	= memattr_open_device,
	.close_device	= memattr_close_device,
	.ioctl		= memattr_ioctl,
#if MEMATTR_REGION_INFO_CAPS
	.get_region_info_caps = memattr_get_region_info_caps,
#endif
	.device_feature	= memattr_device_feature,
	.read		= memattr_read,
	.write		= memattr_write,
	.mmap		= memattr_mmap,
	.request	= vfio_pci_core_request,
	.match		= vfio_pci_core_match,
	MEMATTR_OPS_MATCH_TOKEN_UUID
	MEMATTR_OPS_IOMMUFD
	MEMATTR_OPS_DETACH_IOAS
	MEMATTR_OPS_PASID
};

#if MEMATTR_DMABUF_PHYS
/*
 * VFIO_DEVICE_FEATURE_DMA_BUF, as vfio-pci has it.  The core refuses a BAR
 * the driver has taken over (its mapping is an error pointer then) with
 * ENODEV; see docs/design.md.
 */
static const struct vfio_pci_device_ops memattr_pci_dev_ops = {
	.get_dmabuf_phys = vfio_pci_core_get_dmabuf_phys,
};
#endif

static ssize_t memattr_nonprefetchable_wc_show(struct device *dev,
					       struct device_attribute *attr,
					       char *buf)
{
	return sysfs_emit(buf, "%d\n",
			  READ_ONCE(memattr_from_dev(dev)->allow_nonprefetchable));
}

static ssize_t memattr_nonprefetchable_wc_store(struct device *dev,
						struct device_attribute *attr,
						const char *buf, size_t count)
{
	bool val;
	int ret;

	ret = kstrtobool(buf, &val);
	if (ret)
		return ret;
	WRITE_ONCE(memattr_from_dev(dev)->allow_nonprefetchable, val);
	return count;
}
static DEVICE_ATTR_RW(memattr_nonprefetchable_wc);

static struct attribute *memattr_dev_attrs[] = {
	&dev_attr_memattr_nonprefetchable_wc.attr,
	&dev_attr_memattr_default.attr,
	NULL,
};
ATTRIBUTE_GROUPS(memattr_dev);

static int memattr_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct memattr_device *mv;
	int ret;

	if (memattr_in_denylist(pdev)) {
		if (!disable_denylist) {
			pci_warn(pdev, "%04x:%04x exists in vfio-pci device denylist, driver probing disallowed.\n",
				 pdev->vendor, pdev->device);
			return -EINVAL;
		}
		pci_warn(pdev, "device denylist disabled - allowing device %04x:%04x.\n",
			 pdev->vendor, pdev->device);
	}

	mv = vfio_alloc_device(memattr_device, core.vdev, &pdev->dev,
			       &memattr_ops);
	if (IS_ERR(mv))
		return PTR_ERR(mv);

	mv->allow_nonprefetchable = READ_ONCE(memattr_nonprefetchable_wc);
	memattr_apply_default_param(mv);
#if MEMATTR_DMABUF_PHYS
	mv->core.pci_ops = &memattr_pci_dev_ops;
#endif
	dev_set_drvdata(&pdev->dev, &mv->core);
	ret = memattr_flavour_probe(mv);
	if (ret) {
		vfio_put_device(&mv->core.vdev);
		return ret;
	}
	ret = vfio_pci_core_register_device(&mv->core);
	if (ret) {
		vfio_put_device(&mv->core.vdev);
		return ret;
	}
	memattr_debugfs_add(mv);
	return 0;
}

static void memattr_remove(struct pci_dev *pdev)
{
	struct memattr_device *mv = memattr_from_dev(&pdev->dev);

	memattr_debugfs_remove(mv);
	vfio_pci_core_unregister_device(&mv->core);
	vfio_put_device(&mv->core.vdev);
}

static const struct pci_device_id memattr_table[] = {
	{ PCI_DRIVER_OVERRIDE_DEVICE_VFIO(PCI_ANY_ID, PCI_ANY_ID) },
	{}
};

#ifdef MEMATTR_FLAVOUR_VFIO_PCI
MODULE_DEVICE_TABLE(pci, memattr_table);
#endif

static struct pci_driver memattr_driver = {
	.name			= MEMATTR_DRIVER_NAME,
	.id_table		= memattr_table,
	.probe			= memattr_probe,
	.remove			= memattr_remove,
	.sriov_configure	= memattr_flavour_sriov_configure,
	.err_handler		= &vfio_pci_core_err_handlers,
	.driver_managed_dma	= true,
	.dev_groups		= memattr_dev_groups,
};

static int __init memattr_init(void)
{
	int ret;

	memattr_debugfs_init();
	memattr_flavour_init();
	ret = pci_register_driver(&memattr_driver);
	if (ret) {
		memattr_debugfs_exit();
		return ret;
	}
	memattr_flavour_add_ids(&memattr_driver);
	if (disable_denylist)
		pr_warn("device denylist disabled.\n");
	return 0;
}

static void __exit memattr_exit(void)
{
	pci_unregister_driver(&memattr_driver);
	memattr_debugfs_exit();
}

module_init(memattr_init);
module_exit(memattr_exit);

MODULE_LICENSE("GPL");
MODULE_VERSION(MEMATTR_VERSION);
MODULE_AUTHOR("vfio-memattr developers");
#ifdef MEMATTR_FLAVOUR_VFIO_PCI
MODULE_DESCRIPTION("VFIO PCI - User Level meta-driver (vfio-pci from vfio-memattr, with per-mapping memory attributes)");
#else
MODULE_DESCRIPTION("VFIO PCI variant driver with per-mapping memory attributes (NC, WC, DEV)");
#endif
