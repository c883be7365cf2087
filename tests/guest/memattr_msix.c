// SPDX-License-Identifier: GPL-2.0-only
/*
 * memattr_msix: the pages of the MSI-X table take NC only.
 *
 * The PCI core maps the MSI-X table uncached-minus when MSI-X is enabled;
 * on x86 that mapping would silently inherit the type of a WC handle over
 * the table.  So WC is refused (EPERM) on the table's pages even
 * where the BAR otherwise allows them, NC is allowed there as vfio-pci
 * allows mmap of those pages, and the rest of the BAR is unaffected.
 *
 * Device: the NVMe controller (its MSI-X table lives in a memory BAR).
 * Its BAR is non-prefetchable, so the per-device opt-in is set for the
 * test and restored afterwards.  Nothing is written to the device.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/pci_regs.h>
#include <linux/vfio.h>
#include <linux/vfio_memattr.h>

#include "lib/tap.h"
#include "lib/sysfs.h"
#include "lib/vfio.h"
#include "lib/memattr.h"
#include "lib/pat.h"

static int cfg_read32(int fd, uint32_t off, uint32_t *v)
{
	return region_pread(fd, VFIO_PCI_CONFIG_REGION_INDEX, off, v, 4);
}

/* MSI-X table BIR and offset from the capability list; -ENOENT if none. */
static int msix_table(int fd, uint32_t *bir, uint32_t *off, uint32_t *entries)
{
	uint8_t pos = 0;
	uint16_t ctrl;
	uint32_t v;
	int n;

	if (region_pread(fd, VFIO_PCI_CONFIG_REGION_INDEX, PCI_CAPABILITY_LIST, &pos, 1))
		return -EIO;
	for (n = 0; pos >= 0x40 && n < 48; n++) {
		if (cfg_read32(fd, pos, &v))
			return -EIO;
		if ((v & 0xff) == PCI_CAP_ID_MSIX) {
			ctrl = (uint16_t)(v >> 16);
			if (cfg_read32(fd, pos + PCI_MSIX_TABLE, &v))
				return -EIO;
			*bir = v & PCI_MSIX_TABLE_BIR;
			*off = v & PCI_MSIX_TABLE_OFFSET;
			*entries = (ctrl & PCI_MSIX_FLAGS_QSIZE) + 1u;
			return 0;
		}
		pos = (uint8_t)(v >> 8);
	}
	return -ENOENT;
}

/* One MSI-X vector triggering @efd, or (efd < 0) MSI-X off; 0 or -errno. */
static int msix_set(int fd, int efd)
{
	struct {
		struct vfio_irq_set s;
		int32_t fd;
	} req = {
		.s.argsz = sizeof(req),
		.s.index = VFIO_PCI_MSIX_IRQ_INDEX,
	};

	if (efd >= 0) {
		req.s.flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER;
		req.s.count = 1;
		req.fd = efd;
	} else {
		req.s.flags = VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER;
		req.s.argsz = sizeof(req.s);
	}
	return ioctl(fd, VFIO_DEVICE_SET_IRQS, &req) ? -errno : 0;
}

int main(void)
{
	const char *bdf = ma_bdf_or_skip("MEMATTR_NVME");
	struct vfio_device_feature_memattr_map mp;
	uint32_t bir = 0, toff = 0, entries = 0;
	uint64_t tpage, tend, other, bsz, bphys;
	char attr_path[256], old[8] = "0";
	struct vdev d;
	int ret, nr;

	tap_plan(6);
	if (vdev_open(&d, bdf)) {
		tap_fail_n(6, "cannot open the NVMe controller");
		return tap_done();
	}
	ret = msix_table(d.fd, &bir, &toff, &entries);
	if (ret || ma_bar_phys(bdf, bir, &bphys, &bsz)) {
		tap_skip_rest_of(6, "the device has no MSI-X table in a memory BAR");
		vdev_close(&d);
		return tap_done();
	}
	tpage = toff & ~(MA_PAGE - 1);
	tend = (toff + entries * 16ull + MA_PAGE - 1) & ~(MA_PAGE - 1);
	/* a page of the BAR outside the table's pages (and not the PBA's, which
	 * vfio-pci treats like any other page) */
	other = tpage ? 0 : tend;
	tap_diag("MSI-X: BAR%u, table at 0x%x, %u entries, pages [0x%llx, 0x%llx); BAR size 0x%llx",
		 bir, toff, entries, (unsigned long long)tpage, (unsigned long long)tend,
		 (unsigned long long)bsz);
	if (other + MA_PAGE > bsz) {
		tap_skip_rest_of(6, "the MSI-X table's BAR has no page outside the table");
		vdev_close(&d);
		return tap_done();
	}

	snprintf(attr_path, sizeof(attr_path),
		 "/sys/bus/pci/devices/%s/memattr_nonprefetchable_wc", bdf);
	sysfs_read_str(attr_path, old, sizeof(old));
	tap_ok(!sysfs_write_str(attr_path, "1"), "per-device opt-in for non-prefetchable WC set");

	nr = ma_nr_handles(d.fd, bir);
	ret = ma_map1(d.fd, bir, tpage, tend - tpage, VFIO_MEMATTR_WC, &mp);
	tap_errno(ret, EPERM, "WC over the MSI-X table's pages, even with the opt-in");
	/* DEV is the table mapping's own type (ioremap): allowed */
	ret = ma_map1(d.fd, bir, tpage, tend - tpage, VFIO_MEMATTR_DEV, &mp);
	tap_ok(!ret && mp.attr == VFIO_MEMATTR_DEV && ma_nr_handles(d.fd, bir) == nr + 1,
	       "DEV over the MSI-X table's pages is allowed (%s)",
	       ret ? ma_errname(-ret) : "0");
	if (!ret)
		ma_unmap(d.fd, mp.handle);

	ret = ma_map1(d.fd, bir, tpage, tend - tpage, VFIO_MEMATTR_NC, &mp);
	tap_ok(!ret && mp.attr == VFIO_MEMATTR_NC,
	       "NC over the MSI-X table's pages is allowed (%s)", ret ? ma_errname(-ret) : "0");
	if (!ret)
		ma_unmap(d.fd, mp.handle);

	ret = ma_map1(d.fd, bir, other, MA_PAGE, VFIO_MEMATTR_WC, &mp);
	tap_ok(!ret && mp.attr == VFIO_MEMATTR_WC,
	       "WC on a page of the same BAR outside the table is allowed with the opt-in (%s)",
	       ret ? ma_errname(-ret) : "0");

	/* MSI-X really enabled next to the live WC handle of the same BAR. */
	if (!ret) {
		uint64_t bp = 0, bl = 0;
		int efd = eventfd(0, EFD_CLOEXEC), irq;

		irq = msix_set(d.fd, efd);
		ma_bar_phys(bdf, bir, &bp, &bl);
		tap_ok(!irq && bp &&
		       pat_check_bar(bp, bp + bl, (struct pat_expect[]){
				{ bp + other, bp + other + MA_PAGE, "write-combining" },
				{ bp + tpage, bp + tend, "uncached-minus" } }, 2, 1),
		       "MSI-X enabled (SET_IRQS %s) beside the WC handle: handle page write-combining, table uncached-minus",
		       irq ? ma_errname(-irq) : "ok");
		if (!irq)
			msix_set(d.fd, -1);
		if (efd >= 0)
			close(efd);
		ma_unmap(d.fd, mp.handle);
	} else {
		tap_fail_n(1, "no WC handle");
	}

	sysfs_write_str(attr_path, old[0] == '1' ? "1" : "0");
	vdev_close(&d);
	return tap_done();
}
