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

#include "harness.h"

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
			harness_diag("pread at 0x%llx: %s", (unsigned long long)(off + (off_t)done),
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
			harness_diag("pwrite at 0x%llx: %s", (unsigned long long)(off + (off_t)done),
				     n < 0 ? strerror(errno) : "short write");
			return false;
		}
		done += (size_t)n;
	}
	return true;
}

int main(void)
{
	const char *bdf = harness_env_bdf("MEMATTR_IVSHMEM1");
	struct vfio_device_info dinfo = { .argsz = sizeof(dinfo) };
	struct vfio_region_info bar2, bar0;
	int container = -1, group = -1, device = -1, ret;
	volatile uint64_t *map = MAP_FAILED;
	uint64_t phys = 0, psize = 0;
	unsigned char *buf = NULL;
	char type[32];
	bool good;

	harness_plan(NTESTS);
	if (!bdf) {
		harness_skip_rest("MEMATTR_IVSHMEM1 is not set");
		return harness_exit();
	}

	ret = harness_bind(bdf, "vfio-pci");
	if (!harness_ok(ret == 0, "%s bound to vfio-pci", bdf))
		harness_diag("bind: %s", strerror(-ret));

	ret = harness_vfio_open(bdf, &container, &group, &device);
	if (!harness_ok(ret == 0, "open %s through group/container (type1)", bdf)) {
		harness_skip_rest("cannot open the device");
		return harness_exit();
	}

	good = ioctl(device, VFIO_DEVICE_GET_INFO, &dinfo) == 0;
	if (!good)
		harness_diag("VFIO_DEVICE_GET_INFO: %s", strerror(errno));
	good = good && EXPECT_TRUE(dinfo.flags & VFIO_DEVICE_FLAGS_PCI) &&
	       EXPECT_GE(dinfo.num_regions, VFIO_PCI_CONFIG_REGION_INDEX + 1);
	harness_ok(good, "VFIO_DEVICE_GET_INFO: PCI device, %u regions", dinfo.num_regions);

	ret = harness_region_info(device, VFIO_PCI_BAR2_REGION_INDEX, &bar2);
	good = EXPECT_EQ(ret, 0) && EXPECT_EQ(bar2.size, BAR2_SIZE) &&
	       EXPECT_TRUE(bar2.flags & VFIO_REGION_INFO_FLAG_MMAP) &&
	       EXPECT_TRUE(bar2.flags & VFIO_REGION_INFO_FLAG_READ) &&
	       EXPECT_TRUE(bar2.flags & VFIO_REGION_INFO_FLAG_WRITE);
	harness_ok(good, "BAR2 region info: 4 MiB, read/write/mmap");

	if (good)
		map = mmap(NULL, BAR2_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, device,
			   (off_t)bar2.offset);
	if (map == MAP_FAILED) {
		if (good)
			harness_diag("mmap BAR2: %s", strerror(errno));
		harness_fail("mmap BAR2, write and read back slice 0");
	} else {
		volatile uint64_t *s = map + HARNESS_SLICE(0) / 8;
		size_t bad;

		pattern_fill_mmio64(s, HARNESS_SLICE_SIZE / 8, SEED_MMAP);
		bad = pattern_check_mmio64(s, HARNESS_SLICE_SIZE / 8, SEED_MMAP);
		if (bad != HARNESS_SLICE_SIZE / 8)
			harness_diag("mismatch at word %zu", bad);
		harness_ok(bad == HARNESS_SLICE_SIZE / 8, "mmap BAR2, write and read back slice 0");
		harness_hostcheck("ivshmem1", HARNESS_SLICE(0), HARNESS_SLICE_SIZE, SEED_MMAP,
				  "baseline mmap write of slice 0");
	}

	/* The PAT entry may only appear once the mapping was touched: check now. */
	ret = harness_bar_phys(bdf, 2, &phys, &psize);
	if (ret == 0 && psize == BAR2_SIZE) {
		int n = harness_pat_lookup(phys, phys + psize, type);

		good = n > 0 && !strcmp(type, "uncached-minus");
		if (!good)
			harness_pat_dump(phys, phys + psize);
		harness_ok(good, "PAT type of BAR2 [0x%" PRIx64 "+4M) is uncached-minus (%d entries, %s)",
			   phys, n, n > 0 ? type : "none");
	} else {
		harness_diag("BAR2 resource: ret %d size 0x%" PRIx64, ret, psize);
		harness_fail("PAT type of BAR2 is uncached-minus");
	}

	buf = malloc(HARNESS_SLICE_SIZE);
	good = buf && bar2.size == BAR2_SIZE &&
	       pread_all(device, buf, HARNESS_SLICE_SIZE, (off_t)(bar2.offset + HARNESS_SLICE(0)));
	if (good) {
		size_t bad = pattern_check(buf, HARNESS_SLICE_SIZE, SEED_MMAP);

		if (bad != HARNESS_SLICE_SIZE)
			harness_diag("pread mismatch at byte %zu", bad);
		good = bad == HARNESS_SLICE_SIZE;
	}
	harness_ok(good, "pread of BAR2 slice 0 sees what the mapping wrote");

	good = buf && bar2.size == BAR2_SIZE;
	if (good) {
		size_t bad;

		pattern_fill(buf, HARNESS_SLICE_SIZE, SEED_PWRITE);
		good = pwrite_all(device, buf, HARNESS_SLICE_SIZE,
				  (off_t)(bar2.offset + HARNESS_SLICE(1)));
		memset(buf, 0, HARNESS_SLICE_SIZE);
		good = good && pread_all(device, buf, HARNESS_SLICE_SIZE,
					 (off_t)(bar2.offset + HARNESS_SLICE(1)));
		bad = good ? pattern_check(buf, HARNESS_SLICE_SIZE, SEED_PWRITE) : 0;
		if (good && bad != HARNESS_SLICE_SIZE) {
			harness_diag("pread after pwrite: mismatch at byte %zu", bad);
			good = false;
		}
		if (good && map != MAP_FAILED) {
			bad = pattern_check_mmio64(map + HARNESS_SLICE(1) / 8,
						   HARNESS_SLICE_SIZE / 8, SEED_PWRITE);
			if (bad != HARNESS_SLICE_SIZE / 8) {
				harness_diag("mapping after pwrite: mismatch at word %zu", bad);
				good = false;
			}
		}
	}
	harness_ok(good, "pwrite/pread of BAR2 slice 1 round-trips (mapping agrees)");
	if (good)
		harness_hostcheck("ivshmem1", HARNESS_SLICE(1), HARNESS_SLICE_SIZE, SEED_PWRITE,
				  "baseline pwrite of slice 1");

	ret = harness_region_info(device, VFIO_PCI_BAR0_REGION_INDEX, &bar0);
	/* arm64 lab guests page-align (so resize) the ivshmem BAR0s: docs/lab.md */
	good = EXPECT_EQ(ret, 0) && EXPECT_EQ(bar0.size, IVSHMEM_BAR0_SIZE) && buf &&
	       pread_all(device, buf, 256, (off_t)bar0.offset);
	harness_ok(good, "pread of BAR0 (256 B registers) works");

	if (map != MAP_FAILED)
		munmap((void *)map, BAR2_SIZE);
	free(buf);
	harness_vfio_close(container, group, device);
	return harness_exit();
}
