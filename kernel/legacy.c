// SPDX-License-Identifier: GPL-2.0-only
/*
 * vfio-pci-memattr: legacy BAR mmaps (a BAR's offsets of the device file,
 * as under vfio-pci) and their default attribute.
 *
 * A legacy mmap of a BAR whose default is NC is the core's, its VMA
 * counted so that no handle changes the memory type under it
 * (memattr_wrap_legacy()).  The administrator may give a BAR another
 * default (module parameter default_memattr at bind, sysfs
 * memattr_default while the device is closed): its legacy mmaps are then
 * served by the BAR's legacy handle, as honest as a handle
 * (memattr_legacy_handle()).
 */
#include <linux/ctype.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/string.h>

#include "compat.h"
#include "memattr.h"

static char *memattr_default_param;
module_param_named(default_memattr, memattr_default_param, charp, 0644);
MODULE_PARM_DESC(default_memattr,
		 "Default attribute of legacy BAR mmaps for devices bound from now on: ITEM[,ITEM...], ITEM [VVVV:DDDD@|SSSS:BB:DD.F@]BAR:ATTR with ATTR nc, wc or dev (e.g. 1d0f:ec20@2:wc); an item without a vendor:device or PCI address selector applies to every device; see memattr_default in sysfs");

/* Is the MSI-X table (from config space: the device may be closed) in @bar? */
static bool memattr_msix_bar(struct pci_dev *pdev, unsigned int bar)
{
	u32 table;

	if (!pdev->msix_cap ||
	    pci_read_config_dword(pdev, pdev->msix_cap + PCI_MSIX_TABLE, &table))
		return false;
	return (table & PCI_MSIX_TABLE_BIR) == bar;
}

/*
 * Set the default attribute of @bar's legacy mmaps.  The checks are those
 * of MAP that can be made while the device is closed; the reservation and
 * its read-back come with the first legacy mmap.  Not while the device is
 * open: mmaps of the old attribute may exist.
 */
static int memattr_set_default(struct memattr_device *mv, unsigned int bar,
			       u8 attr)
{
	struct pci_dev *pdev = mv->core.pdev;
	unsigned long flags = pci_resource_flags(pdev, bar);
	resource_size_t len = pci_resource_len(pdev, bar);
	int ret = 0;

	if (bar >= PCI_STD_NUM_BARS || attr >= MEMATTR_NR_ATTRS)
		return -EINVAL;
	if (attr != VFIO_MEMATTR_NC) {
		if (!len || !(flags & IORESOURCE_MEM) || len > MEMATTR_WINDOW_SIZE ||
		    !PAGE_ALIGNED(pci_resource_start(pdev, bar)))
			return -EOPNOTSUPP;
		if (memattr_arch_reason(attr))
			return -EOPNOTSUPP;
		if (attr == VFIO_MEMATTR_WC &&
		    ((!(flags & IORESOURCE_PREFETCH) &&
		      !READ_ONCE(mv->allow_nonprefetchable)) ||
		     memattr_msix_bar(pdev, bar)))
			return -EPERM;
	}
	mutex_lock(&mv->lock);
	if (READ_ONCE(mv->core.vdev.open_count))
		ret = -EBUSY;
	else
		mv->default_attr[bar] = attr;
	mutex_unlock(&mv->lock);
	return ret;
}

/* "B:attr" -> bar, attr; 0 or -EINVAL. */
static int memattr_parse_default(const char *s, size_t n, unsigned int *bar,
				 u8 *attr)
{
	unsigned int a;

	while (n && isspace(s[n - 1]))
		n--;
	if (n < 3 || s[0] < '0' || s[0] > '5' || s[1] != ':')
		return -EINVAL;
	for (a = 0; a < MEMATTR_NR_ATTRS; a++) {
		if (n - 2 == strlen(memattr_attr_names[a].lower) &&
		    !strncasecmp(s + 2, memattr_attr_names[a].lower, n - 2)) {
			*bar = s[0] - '0';
			*attr = a;
			return 0;
		}
	}
	return -EINVAL;
}

/* Exactly @width hex digits at @s -> *val; false if not. */
static bool memattr_parse_hex(const char *s, unsigned int width, u32 *val)
{
	unsigned int i;
	u32 v = 0;

	for (i = 0; i < width; i++) {
		if (!isxdigit(s[i]))
			return false;
		v = v << 4 | (isdigit(s[i]) ? s[i] - '0' : tolower(s[i]) - 'a' + 10);
	}
	*val = v;
	return true;
}

/*
 * The device selector of a default_memattr item (the part before '@'):
 * "VVVV:DDDD" (vendor:device) or "SSSS:BB:DD.F" (PCI address), hex digits
 * of exactly these widths.  1 if it names @pdev, 0 if not, -EINVAL if
 * malformed.
 */
static int memattr_match_selector(struct pci_dev *pdev, const char *s,
				  size_t n)
{
	u32 vendor, device, domain, bus, slot, fn;

	if (n == 9 && s[4] == ':' && memattr_parse_hex(s, 4, &vendor) &&
	    memattr_parse_hex(s + 5, 4, &device))
		return pdev->vendor == vendor && pdev->device == device;
	if (n == 12 && s[4] == ':' && s[7] == ':' && s[10] == '.' &&
	    memattr_parse_hex(s, 4, &domain) &&
	    memattr_parse_hex(s + 5, 2, &bus) &&
	    memattr_parse_hex(s + 8, 2, &slot) && slot < 32 &&
	    memattr_parse_hex(s + 11, 1, &fn) && fn < 8)
		return pci_domain_nr(pdev->bus) == domain &&
		       pdev->bus->number == bus &&
		       pdev->devfn == PCI_DEVFN(slot, fn);
	return -EINVAL;
}

/*
 * One default_memattr item, "[SELECTOR@]B:attr" without surrounding
 * blanks, for @mv's device: applied if it names the device or names none,
 * else left alone.  Malformed and refused items are logged.
 */
static void memattr_apply_default_item(struct memattr_device *mv,
				       const char *s, size_t n)
{
	struct pci_dev *pdev = mv->core.pdev;
	const char *at = memchr(s, '@', n);
	size_t skip = at ? at - s + 1 : 0;
	unsigned int bar;
	int match = 1;
	u8 attr;
	int ret;

	if (at)
		match = memattr_match_selector(pdev, s, at - s);
	ret = match < 0 ? match :
	      memattr_parse_default(s + skip, n - skip, &bar, &attr);
	if (ret) {
		pci_warn(pdev, "default_memattr: item '%.*s' is malformed (%d), ignored; want [VVVV:DDDD@|SSSS:BB:DD.F@]BAR:nc|wc|dev\n",
			 (int)n, s, ret);
		return;
	}
	if (!match)
		return;
	ret = memattr_set_default(mv, bar, attr);
	if (ret)
		pci_warn(pdev, "default_memattr: item '%.*s' not applied (%d)\n",
			 (int)n, s, ret);
	else
		pci_info(pdev, "default_memattr: item '%.*s' applied: legacy mmaps of BAR%u are %s\n",
			 (int)n, s, bar, memattr_attr_names[attr].lower);
}

/*
 * The module parameter, for a device being bound: items are applied in
 * order (a later item for the same BAR wins), bad ones are skipped.
 */
void memattr_apply_default_param(struct memattr_device *mv)
{
	const char *p;

	kernel_param_lock(THIS_MODULE);
	p = memattr_default_param;
	while (p && *p) {
		size_t n = strcspn(p, ",");
		const char *item = p;
		size_t len = n;

		while (len && isspace(*item)) {
			item++;
			len--;
		}
		while (len && isspace(item[len - 1]))
			len--;
		if (len)
			memattr_apply_default_item(mv, item, len);
		p += n;
		if (*p)
			p++;
	}
	kernel_param_unlock(THIS_MODULE);
}

/*
 * memattr_default: the attribute of legacy VFIO mmaps of each BAR, for
 * programs that know nothing of memattr (DPDK, SPDK).  Reads "B:attr" for
 * every BAR whose default is not nc; "B:attr" written sets one.
 */
static ssize_t memattr_default_show(struct device *dev,
				    struct device_attribute *attr, char *buf)
{
	struct memattr_device *mv = memattr_from_dev(dev);
	int bar, len = 0;

	mutex_lock(&mv->lock);
	for (bar = 0; bar < PCI_STD_NUM_BARS; bar++)
		if (mv->default_attr[bar] != VFIO_MEMATTR_NC)
			len += sysfs_emit_at(buf, len, "%s%d:%s", len ? " " : "", bar,
					     memattr_attr_names[mv->default_attr[bar]].lower);
	mutex_unlock(&mv->lock);
	return len + sysfs_emit_at(buf, len, "\n");
}

static ssize_t memattr_default_store(struct device *dev,
				     struct device_attribute *attr,
				     const char *buf, size_t count)
{
	unsigned int bar;
	u8 a;
	int ret;

	ret = memattr_parse_default(buf, count, &bar, &a);
	if (!ret)
		ret = memattr_set_default(memattr_from_dev(dev), bar, a);
	return ret ? ret : count;
}
DEVICE_ATTR_RW(memattr_default);

/*
 * The administrator's default attribute for the legacy mmaps of a BAR
 * (sysfs memattr_default, module parameter default_memattr): a handle of
 * the whole BAR without id, made at the first legacy mmap after the
 * device is opened and kept until it is closed, so that legacy mmaps are
 * exactly as honest as handles.  Caller holds mv->lock.  Returns the
 * handle with a reference for the caller.
 */
static struct memattr_handle *memattr_legacy_handle(struct memattr_device *mv,
						    unsigned int bar)
{
	struct memattr_bar *b = &mv->bars[bar];
	struct memattr_handle *h = b->legacy;
	u64 len = PAGE_ALIGN(pci_resource_len(mv->core.pdev, bar));

	if (h) {
		memattr_handle_get(h);
		return h;
	}
	h = memattr_try(mv, bar, 0, len, mv->default_attr[bar],
			MEMATTR_KIND_LEGACY);
	if (!IS_ERR(h))
		b->legacy = h;		/* keeps the table's reference */
	return h;
}

/*
 * A legacy mmap of a BAR whose default attribute the administrator set:
 * served by the BAR's legacy handle, so that it is as honest as a handle.
 * Caller holds mv->lock.
 */
static int memattr_mmap_default(struct memattr_device *mv,
				struct vm_area_struct *vma, unsigned int bar)
{
	struct memattr_handle *h;
	int ret;

	if (!mv->core.bar_mmap_supported[bar])
		return -EINVAL;
	h = memattr_legacy_handle(mv, bar);
	if (IS_ERR(h))
		return PTR_ERR(h);
	ret = memattr_mmap_setup(h, vma, (u64)vma->vm_pgoff << PAGE_SHIFT);
	if (ret) {
		/* Not the last reference: the BAR's legacy handle keeps one. */
		mutex_unlock(&mv->lock);
		memattr_handle_put(h);
		mutex_lock(&mv->lock);
	}
	return ret;
}

/*
 * Legacy BAR mmaps are served by the core's vm_ops, wrapped so that the
 * driver knows when a BAR has such a mapping: a handle on that BAR would
 * change the memory type under it.  The wrapper forwards every operation
 * the core's vm_ops has; a core whose vm_ops has an operation the wrapper
 * does not know, or whose VMAs carry other private data, is not wrapped:
 * the BAR of such a mapping then takes no handles until the device is
 * closed, instead of losing an operation of the core.
 */
static const struct vm_operations_struct *memattr_core_vm_ops;

static bool memattr_core_vm_ops_known(const struct vm_operations_struct *ops)
{
	const u8 *p = (const u8 *)ops;
	size_t i;

	/* Every member is a pointer; the ones forwarded may be set. */
	for (i = 0; i < sizeof(*ops); i += sizeof(void *)) {
		if (i == offsetof(typeof(*ops), open) ||
		    i == offsetof(typeof(*ops), close) ||
#if MEMATTR_HUGE_PFNMAP
		    i == offsetof(typeof(*ops), huge_fault) ||
#endif
		    i == offsetof(typeof(*ops), fault))
			continue;
		if (memchr_inv(p + i, 0, min(sizeof(void *), sizeof(*ops) - i)))
			return false;
	}
	return ops->fault;
}

static int memattr_legacy_bar(struct vm_area_struct *vma)
{
	struct vfio_pci_core_device *vdev = vma->vm_private_data;
	int bar;

	if (!MEMATTR_VMA_LIST)
		return vma->vm_pgoff >> (VFIO_PCI_OFFSET_SHIFT - PAGE_SHIFT);
	/* These kernels replace vm_pgoff with the PFN. */
	for (bar = 0; bar < PCI_STD_NUM_BARS; bar++) {
		unsigned long first = PHYS_PFN(pci_resource_start(vdev->pdev, bar));
		unsigned long n = PHYS_PFN(PAGE_ALIGN(pci_resource_len(vdev->pdev, bar)));

		if (n && vma->vm_pgoff >= first && vma->vm_pgoff - first < n)
			return bar;
	}
	return -1;
}

static void memattr_legacy_count(struct vm_area_struct *vma, int delta)
{
	struct vfio_pci_core_device *vdev = vma->vm_private_data;
	struct memattr_device *mv = to_memattr(&vdev->vdev);
	int bar = memattr_legacy_bar(vma);

	if (bar >= 0)
		atomic_add(delta, &mv->bars[bar].legacy_vmas);
}

static void memattr_legacy_open(struct vm_area_struct *vma)
{
#if MEMATTR_VMA_LIST
	unsigned long pfn;

	/*
	 * The core's open zaps the new VMA.  A copy made by mremap() has no
	 * entries yet but carries the VM_PAT reservation, and zapping it makes
	 * untrack_pfn() WARN; the .mremap hook zaps it once the entries moved.
	 */
	if (follow_pfn(vma, vma->vm_start, &pfn)) {
		memattr_legacy_count(vma, 1);
		return;
	}
#endif
	if (memattr_core_vm_ops->open)
		memattr_core_vm_ops->open(vma);
	memattr_legacy_count(vma, 1);
}

static void memattr_legacy_close(struct vm_area_struct *vma)
{
	if (memattr_core_vm_ops->close)
		memattr_core_vm_ops->close(vma);
	memattr_legacy_count(vma, -1);
}

static vm_fault_t memattr_legacy_fault(struct vm_fault *vmf)
{
	return memattr_core_vm_ops->fault(vmf);
}

#if MEMATTR_HUGE_PFNMAP
static vm_fault_t memattr_legacy_huge_fault(struct vm_fault *vmf,
					    unsigned int order)
{
	if (!memattr_core_vm_ops->huge_fault)
		return VM_FAULT_FALLBACK;
	return memattr_core_vm_ops->huge_fault(vmf, order);
}
#endif

static const struct vm_operations_struct memattr_legacy_vm_ops = {
	.open = memattr_legacy_open,
	.close = memattr_legacy_close,
	.fault = memattr_legacy_fault,
#if MEMATTR_HUGE_PFNMAP
	.huge_fault = memattr_legacy_huge_fault,
#endif
#if MEMATTR_VMA_LIST
	/* The same hole exists in the core's own vm_ops on these kernels. */
	.mremap = memattr_vm_mremap,
#endif
};

/* Caller holds mv->lock.  True if @vma is now counted. */
static bool memattr_wrap_legacy(struct memattr_device *mv,
				struct vm_area_struct *vma)
{
	const struct vm_operations_struct *ops = vma->vm_ops;

	if (!ops || vma->vm_private_data != &mv->core ||
	    !memattr_core_vm_ops_known(ops))
		return false;
	/* All BAR mmaps of the core share one vm_ops. */
	cmpxchg(&memattr_core_vm_ops, NULL, ops);
	if (ops != READ_ONCE(memattr_core_vm_ops))
		return false;
	vma->vm_ops = &memattr_legacy_vm_ops;
	return true;
}

/*
 * A legacy mmap of @bar: under the BAR's default attribute if the
 * administrator set one, else the core's, counted.
 */
int memattr_mmap_legacy(struct memattr_device *mv, struct vm_area_struct *vma,
			unsigned int bar)
{
	int ret;

	mutex_lock(&mv->lock);
	if (mv->default_attr[bar] != VFIO_MEMATTR_NC) {
		ret = memattr_mmap_default(mv, vma, bar);
		goto out;
	}
	memattr_handback_retry(mv, bar);
	if (mv->bars[bar].taken) {
		ret = -EBUSY;
		goto out;
	}
	ret = vfio_pci_core_mmap(&mv->core.vdev, vma);
	if (ret)
		goto out;
	if (memattr_wrap_legacy(mv, vma)) {
		memattr_legacy_count(vma, 1);
	} else {
		pci_warn_once(mv->core.pdev,
			      "BAR %u: legacy mmap not tracked; no memattr handles on it until close\n",
			      bar);
		mv->bars[bar].legacy_untracked = true;
	}
out:
	mutex_unlock(&mv->lock);
	return ret;
}
