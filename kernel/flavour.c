// SPDX-License-Identifier: GPL-2.0-only
/*
 * vfio-pci-memattr, vfio-pci flavour: what makes the module built with
 * MEMATTR_FLAVOUR_VFIO_PCI a replacement for the distribution's vfio_pci
 * (module vfio_pci, PCI driver "vfio-pci"): vfio-pci's module parameters
 * with their meaning, SR-IOV gated by enable_sriov (the device denylist
 * is main.c's, for both flavours).
 * VGA arbitration, INTx masking and idle D3 live in vfio-pci-core; this
 * file passes the parameters to it the way the kernel's own vfio-pci
 * does: once at load time through vfio_pci_core_set_params() where that
 * exists, else latched per device before the core initialises it.  The DMABUF export ops of
 * newer kernels (vdev->pci_ops) are main.c's business, for both flavours.
 *
 * Not provided: the Intel IGD OpRegion and bridge regions (the kernel's
 * vfio_pci_igd.c is part of vfio-pci.ko, not of the core).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/pci.h>
#include <linux/string.h>

#include "compat.h"
#include "memattr.h"

#ifndef MEMATTR_FLAVOUR_VFIO_PCI
#error "flavour.c belongs to the vfio-pci flavour only"
#endif

static char ids[1024] __initdata;
module_param_string(ids, ids, sizeof(ids), 0);
MODULE_PARM_DESC(ids,
		 "Initial PCI IDs to add to the vfio driver, format is \"vendor:device[:subvendor[:subdevice[:class[:class_mask]]]]\" and multiple comma separated entries can be specified");

static bool nointxmask;
module_param(nointxmask, bool, 0644);
MODULE_PARM_DESC(nointxmask,
		 "Disable support for PCI 2.3 style INTx masking (as vfio-pci)");

#ifdef CONFIG_VFIO_PCI_VGA
static bool disable_vga;
module_param(disable_vga, bool, 0444);
MODULE_PARM_DESC(disable_vga, "Disable VGA resource access through vfio-pci");
#endif

static bool disable_idle_d3;
module_param(disable_idle_d3, bool, 0644);
MODULE_PARM_DESC(disable_idle_d3,
		 "Disable using the PCI D3 low power state for idle, unused devices");

static bool enable_sriov;
#ifdef CONFIG_PCI_IOV
module_param(enable_sriov, bool, 0644);
MODULE_PARM_DESC(enable_sriov,
		 "Enable support for SR-IOV configuration (needs a userspace PF driver that supports it)");
#endif

static bool memattr_disable_vga(void)
{
#ifdef CONFIG_VFIO_PCI_VGA
	return disable_vga;
#else
	return true;
#endif
}

int memattr_flavour_probe(struct memattr_device *mv)
{
	struct pci_dev *pdev = mv->core.pdev;

	if ((pdev->class >> 8) == PCI_CLASS_DISPLAY_VGA &&
	    pdev->vendor == PCI_VENDOR_ID_INTEL)
		pci_info(pdev, "Intel IGD regions (OpRegion, bridges) are not provided by this vfio-pci\n");
	return 0;
}

/* Kernels without vfio_pci_core_set_params() keep the knobs per device. */
void memattr_flavour_init_dev(struct memattr_device *mv)
{
#if !MEMATTR_CORE_SET_PARAMS
	mv->core.nointxmask = nointxmask;
	mv->core.disable_idle_d3 = disable_idle_d3;
	mv->core.disable_vga = memattr_disable_vga();
#endif
}

int memattr_flavour_sriov_configure(struct pci_dev *pdev, int nr_virtfn)
{
	struct vfio_pci_core_device *vdev = dev_get_drvdata(&pdev->dev);

	if (!enable_sriov)
		return -ENOENT;
	return vfio_pci_core_sriov_configure(vdev, nr_virtfn);
}

/* Before pci_register_driver(), as vfio-pci does. */
void __init memattr_flavour_init(void)
{
	pr_info("vfio-pci provided by vfio-memattr %s (VFIO PCI variant driver with memory attributes)\n",
		MEMATTR_VERSION);
#if MEMATTR_CORE_SET_PARAMS
	vfio_pci_core_set_params(nointxmask, memattr_disable_vga(),
				 disable_idle_d3);
#endif
}

/*
 * After pci_register_driver(): ids=
 * "vendor:device[:subvendor[:subdevice[:class[:class_mask]]]]",...
 */
void __init memattr_flavour_add_ids(struct pci_driver *drv)
{
	char *p = ids, *id;

	while ((id = strsep(&p, ","))) {
		unsigned int vendor, device, subvendor = PCI_ANY_ID;
		unsigned int subdevice = PCI_ANY_ID, class = 0, class_mask = 0;
		int n, ret;

		if (!*id)
			continue;
		n = sscanf(id, "%x:%x:%x:%x:%x:%x", &vendor, &device,
			   &subvendor, &subdevice, &class, &class_mask);
		if (n < 2) {
			pr_warn("invalid id string \"%s\"\n", id);
			continue;
		}
		ret = pci_add_dynid(drv, vendor, device, subvendor, subdevice,
				    class, class_mask, 0);
		if (ret)
			pr_warn("failed to add dynamic id [%04x:%04x[%04x:%04x]] class %#08x/%08x (%d)\n",
				vendor, device, subvendor, subdevice, class,
				class_mask, ret);
		else
			pr_info("add [%04x:%04x[%04x:%04x]] class %#08x/%08x\n",
				vendor, device, subvendor, subdevice, class,
				class_mask);
	}
}
