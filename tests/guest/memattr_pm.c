// SPDX-License-Identifier: GPL-2.0-only
/*
 * memattr_pm: handle mappings and runtime power management.
 *
 * VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY revokes BAR mappings, as memory
 * disable does: a handle mapping raises SIGBUS while the device is in low
 * power.  pread/pwrite through the device fd wake the device as the core's
 * do, also on a BAR the driver has taken over.  After LOW_POWER_EXIT the
 * mapping faults back in with the same memory type and the data.
 *
 * Slices: ivshmem0 0x330000-0x33ffff.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include <linux/vfio.h>
#include <linux/vfio_memattr.h>

#include "lib/tap.h"
#include "lib/sysfs.h"
#include "lib/vfio.h"
#include "lib/memattr.h"
#include "lib/mmio.h"
#include "lib/sigbus.h"
#include "lib/hostcheck.h"
#include "lib/pat.h"

#define OFF	0x330000ull
#define LEN	0x10000ull
#define SEED	0x90e3000000000001ull

static int low_power(int fd, uint32_t feature)
{
	struct vfio_device_feature f = {
		.argsz = sizeof(f),
		.flags = VFIO_DEVICE_FEATURE_SET | feature,
	};

	return ioctl(fd, VFIO_DEVICE_FEATURE, &f) ? -errno : 0;
}

int main(void)
{
	const char *bdf = ma_bdf_or_skip("MEMATTR_IVSHMEM0");
	struct vfio_device_feature_memattr_map mp;
	uint64_t phys, size, word = 0;
	volatile uint64_t *w = NULL;
	char path[256], rs[32] = "";
	struct vdev d;
	int ret, sig;

	tap_plan(6);
	if (vdev_open(&d, bdf) || ma_bar_phys(bdf, 2, &phys, &size)) {
		tap_fail_n(6, "cannot open ivshmem0");
		return tap_done();
	}
	ret = ma_map1(d.fd, 2, OFF, LEN, VFIO_MEMATTR_WC, &mp);
	if (!ret)
		w = ma_map_fd(d.fd, mp.mmap_offset, LEN);
	if (!tap_ok(w && ma_fill_check((volatile uint8_t *)w, LEN, SEED),
		    "WC handle mapped, pattern written and read back")) {
		tap_fail_n(5, "no mapping");
		vdev_close(&d);
		return tap_done();
	}
	ma_hostcheck(OFF, LEN, SEED, "memattr_pm: WC mapping across low power");

	ret = low_power(d.fd, VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY);
	if (ret) {
		/* every lab kernel (6.1 and later) implements low power entry for
		 * vfio-pci devices: ENOTTY/EINVAL mean the variant driver lost it */
		tap_diag("LOW_POWER_ENTRY -> %s: every lab kernel (6.1 and later) has it",
			 ma_errname(-ret));
		tap_fail_n(5, "LOW_POWER_ENTRY failed");
		munmap((void *)w, LEN);
		vdev_close(&d);
		return tap_done();
	}
	/* VFIO now holds the device in low power: a second entry is refused */
	ret = low_power(d.fd, VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY);
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/power/runtime_status", bdf);
	if (sysfs_read_str(path, rs, sizeof(rs)) < 0)
		snprintf(rs, sizeof(rs), "(unreadable)");
	tap_diag("runtime_status in low power: %s", rs);
	tap_ok(ret == -EINVAL, "LOW_POWER_ENTRY -> 0, and a second entry is refused (%s)",
	       ret ? ma_errname(-ret) : "0");

	sig = probe_access(w, 0, 0, NULL);
	tap_ok(sig == SIGBUS, "in low power the handle mapping raises SIGBUS (%d)", sig);

	ret = region_pread(d.fd, 2, OFF, &word, sizeof(word));
	tap_ok(!ret && buf_check(&word, sizeof(word), SEED) == sizeof(word),
	       "pread of the taken-over BAR wakes the device and reads the data (%s)",
	       ret ? ma_errname(-ret) : "0");

	ret = low_power(d.fd, VFIO_DEVICE_FEATURE_LOW_POWER_EXIT);
	tap_ok(!ret, "LOW_POWER_EXIT -> %s", ret ? ma_errname(-ret) : "0");

	tap_ok(mmio_check(w, LEN, SEED) == LEN &&
	       pat_has_exact(phys + OFF, phys + OFF + LEN, "write-combining"),
	       "after exit: the mapping faults back in, data intact, PAT write-combining");

	munmap((void *)w, LEN);
	vdev_close(&d);
	return tap_done();
}
