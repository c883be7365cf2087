// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * baseline - the control group: stock vfio-pci on ivshmem1 (MEMATTR_IVSHMEM1).
 *
 * Shows what an unmodified vfio-pci gives: BAR2 mmap works, data reaches the
 * host file, and the PAT type of the BAR is uncached-minus.
 * Slices owned (docs/lab.md): ivshmem1 slices 0 and 1.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lib/tap.h"
#include "lib/sysfs.h"
#include "lib/vfio.h"
#include "lib/hostcheck.h"
#include "lib/pat.h"

#if defined(__aarch64__)
#define IVSHMEM_BAR0_SIZE 4096
#else
#define IVSHMEM_BAR0_SIZE 256
#endif
#include "../common/pattern.h"

#define BAR2_SIZE (4u << 20)
#define SEED_MMAP  0xba5e11e000000001ull
#define SEED_PWRITE 0xba5e11e000000002ull
#define NTESTS 9

static bool pread_all(int fd, void *buf, size_t len, off_t off)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = pread(fd, (char *)buf + done, len - done, off + (off_t)done);

		if (n <= 0) {
			tap_diag("pread at 0x%llx: %s", (unsigned long long)(off + (off_t)done),
				 n < 0 ? strerror(errno) : "short read");
			return false;
		}
		done += (size_t)n;
	}
	return true;
}

static bool pwrite_all(int fd, const void *buf, size_t len, off_t off)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = pwrite(fd, (const char *)buf + done, len - done, off + (off_t)done);

		if (n <= 0) {
			tap_diag("pwrite at 0x%llx: %s", (unsigned long long)(off + (off_t)done),
				 n < 0 ? strerror(errno) : "short write");
			return false;
		}
		done += (size_t)n;
	}
	return true;
}

int main(void)
{
	const char *bdf = ma_bdf_or_skip("MEMATTR_IVSHMEM1");
	struct vfio_device_info dinfo = { .argsz = sizeof(dinfo) };
	struct vfio_region_info bar2, bar0;
	struct vdev dv;
	int device = -1, ret;
	volatile uint64_t *map = MAP_FAILED;
	uint64_t phys = 0, psize = 0;
	unsigned char *buf = NULL;
	char type[32];
	bool good;

	tap_plan(NTESTS);

	ret = ma_pci_bind(bdf, "vfio-pci");
	if (!tap_ok(ret == 0, "%s bound to vfio-pci", bdf))
		tap_diag("bind: %s", strerror(-ret));

	ret = vdev_open_mode(&dv, bdf, VDEV_GROUP);
	device = dv.fd;
	if (!tap_ok(ret == 0, "open %s through group/container (type1)", bdf)) {
		tap_skip_rest("cannot open the device");
		return tap_done();
	}

	good = ioctl(device, VFIO_DEVICE_GET_INFO, &dinfo) == 0;
	if (!good)
		tap_diag("VFIO_DEVICE_GET_INFO: %s", strerror(errno));
	good = good && EXPECT_TRUE(dinfo.flags & VFIO_DEVICE_FLAGS_PCI) &&
	       EXPECT_GE(dinfo.num_regions, VFIO_PCI_CONFIG_REGION_INDEX + 1);
	tap_ok(good, "VFIO_DEVICE_GET_INFO: PCI device, %u regions", dinfo.num_regions);

	ret = region_info(device, VFIO_PCI_BAR2_REGION_INDEX, &bar2);
	good = EXPECT_EQ(ret, 0) && EXPECT_EQ(bar2.size, BAR2_SIZE) &&
	       EXPECT_TRUE(bar2.flags & VFIO_REGION_INFO_FLAG_MMAP) &&
	       EXPECT_TRUE(bar2.flags & VFIO_REGION_INFO_FLAG_READ) &&
	       EXPECT_TRUE(bar2.flags & VFIO_REGION_INFO_FLAG_WRITE);
	tap_ok(good, "BAR2 region info: 4 MiB, read/write/mmap");

	if (good)
		map = mmap(NULL, BAR2_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, device,
			   (off_t)bar2.offset);
	if (map == MAP_FAILED) {
		if (good)
			tap_diag("mmap BAR2: %s", strerror(errno));
		tap_fail("mmap BAR2, write and read back slice 0");
	} else {
		volatile uint64_t *s = map + MA_SLICE(0) / 8;
		size_t bad;

		pattern_fill_mmio64(s, MA_SLICE_SIZE / 8, SEED_MMAP);
		bad = pattern_check_mmio64(s, MA_SLICE_SIZE / 8, SEED_MMAP);
		if (bad != MA_SLICE_SIZE / 8)
			tap_diag("mismatch at word %zu", bad);
		tap_ok(bad == MA_SLICE_SIZE / 8, "mmap BAR2, write and read back slice 0");
		hostcheck("ivshmem1", MA_SLICE(0), MA_SLICE_SIZE, SEED_MMAP,
			  "baseline mmap write of slice 0");
	}

	/* The PAT entry may only appear once the mapping was touched: check now. */
	ret = ma_bar_phys(bdf, 2, &phys, &psize);
	if (ret == 0 && psize == BAR2_SIZE) {
		int n = pat_lookup(phys, phys + psize, type);

		good = n > 0 && !strcmp(type, "uncached-minus");
		if (!good)
			pat_dump(phys, phys + psize);
		tap_ok(good, "PAT type of BAR2 [0x%" PRIx64 "+4M) is uncached-minus (%d entries, %s)",
			   phys, n, n > 0 ? type : "none");
	} else {
		tap_diag("BAR2 resource: ret %d size 0x%" PRIx64, ret, psize);
		tap_fail("PAT type of BAR2 is uncached-minus");
	}

	buf = malloc(MA_SLICE_SIZE);
	good = buf && bar2.size == BAR2_SIZE &&
	       pread_all(device, buf, MA_SLICE_SIZE, (off_t)(bar2.offset + MA_SLICE(0)));
	if (good) {
		size_t bad = pattern_check(buf, MA_SLICE_SIZE, SEED_MMAP);

		if (bad != MA_SLICE_SIZE)
			tap_diag("pread mismatch at byte %zu", bad);
		good = bad == MA_SLICE_SIZE;
	}
	tap_ok(good, "pread of BAR2 slice 0 sees what the mapping wrote");

	good = buf && bar2.size == BAR2_SIZE;
	if (good) {
		size_t bad;

		pattern_fill(buf, MA_SLICE_SIZE, SEED_PWRITE);
		good = pwrite_all(device, buf, MA_SLICE_SIZE,
				  (off_t)(bar2.offset + MA_SLICE(1)));
		memset(buf, 0, MA_SLICE_SIZE);
		good = good && pread_all(device, buf, MA_SLICE_SIZE,
					 (off_t)(bar2.offset + MA_SLICE(1)));
		bad = good ? pattern_check(buf, MA_SLICE_SIZE, SEED_PWRITE) : 0;
		if (good && bad != MA_SLICE_SIZE) {
			tap_diag("pread after pwrite: mismatch at byte %zu", bad);
			good = false;
		}
		if (good && map != MAP_FAILED) {
			bad = pattern_check_mmio64(map + MA_SLICE(1) / 8,
						   MA_SLICE_SIZE / 8, SEED_PWRITE);
			if (bad != MA_SLICE_SIZE / 8) {
				tap_diag("mapping after pwrite: mismatch at word %zu", bad);
				good = false;
			}
		}
	}
	tap_ok(good, "pwrite/pread of BAR2 slice 1 round-trips (mapping agrees)");
	if (good)
		hostcheck("ivshmem1", MA_SLICE(1), MA_SLICE_SIZE, SEED_PWRITE,
			  "baseline pwrite of slice 1");

	ret = region_info(device, VFIO_PCI_BAR0_REGION_INDEX, &bar0);
	/* arm64 lab guests page-align (so resize) the ivshmem BAR0s: docs/lab.md */
	good = EXPECT_EQ(ret, 0) && EXPECT_EQ(bar0.size, IVSHMEM_BAR0_SIZE) && buf &&
	       pread_all(device, buf, 256, (off_t)bar0.offset);
	tap_ok(good, "pread of BAR0 (256 B registers) works");

	if (map != MAP_FAILED)
		munmap((void *)map, BAR2_SIZE);
	free(buf);
	vdev_close(&dv);
	return tap_done();
}
