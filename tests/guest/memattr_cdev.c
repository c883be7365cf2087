// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * memattr_cdev - the memattr uAPI through the VFIO device cdev
 * (/dev/vfio/devices/vfioN bound to /dev/iommu) behaves exactly as through
 * the group/container API, and the library's public API opens and uses
 * the cdev path when the kernel has one.
 *
 * The same sequence (BAR_INFO, MAP, identical MAP, conflicting MAP,
 * garbage MAP, HANDLE, REGION_INFO, mmap + write + pread back, PAT,
 * UNMAP twice, unmappable BARs) runs on a device fd from raw cdev ioctls
 * (BIND_IOMMUFD, IOAS_ALLOC, ATTACH_IOMMUFD_PT) and on one from the group
 * API; every answer must be the same.
 *
 * Skipped (with the reason) on kernels without VFIO_DEVICE_CDEV and
 * IOMMUFD (Debian's); runs on the lab's debug kernel.
 * Writes ivshmem0 BAR2 0x190000-0x19ffff (read back in the guest).
 */
#define _GNU_SOURCE
#define _FILE_OFFSET_BITS 64
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lib/tap.h"
#include "lib/sysfs.h"
#include "lib/vfio.h"
#include "lib/memattr.h"
#include "lib/mmio.h"
#include "lib/pat.h"
#include "vfio-memattr.h"

#define OFF	0x190000ull
#define LEN	0x10000ull

/* iommufd uAPI, defined here as the library does (old headers lack it) */
#define T_IOMMUFD_TYPE	(';')
struct t_ioas_alloc {
	uint32_t size, flags, out_ioas_id;
};
#define T_IOMMU_IOAS_ALLOC	_IO(T_IOMMUFD_TYPE, 0x81)
#ifndef VFIO_DEVICE_BIND_IOMMUFD
struct vfio_device_bind_iommufd {
	uint32_t argsz, flags;
	int32_t iommufd;
	uint32_t out_devid;
};
#define VFIO_DEVICE_BIND_IOMMUFD	_IO(VFIO_TYPE, VFIO_BASE + 18)
struct vfio_device_attach_iommufd_pt {
	uint32_t argsz, flags, pt_id;
};
#define VFIO_DEVICE_ATTACH_IOMMUFD_PT	_IO(VFIO_TYPE, VFIO_BASE + 19)
#endif

#define NSEQ 15
#define ANY (-999999)
struct result {
	const char *what;
	long long v, want;	/* want: what the uAPI says, ANY if the kernel decides */
};

static uint64_t bphys;

/* The sequence; every answer goes to r[] (errnos as negative values). */
static int run_seq(int fd, struct result *r)
{
	struct vfio_device_feature_memattr_bar_info bi;
	struct vfio_device_feature_memattr_map m, m2, m3;
	struct vfio_device_feature_memattr_handle q;
	struct vfio_region_info ri;
	static uint8_t buf[LEN];
	int n = 0, rc;
	void *p;

	rc = ma_bar_info(fd, 2, &bi);
	r[n++] = (struct result){ "BAR_INFO(2): rc, supported, nr_handles", rc ? rc : (long long)bi.supported * 1000 + bi.nr_handles, ANY };
	rc = ma_map1(fd, 2, OFF, LEN, VFIO_MEMATTR_WC, &m);
	r[n++] = (struct result){ "MAP WC 64 KiB: rc, attr", rc ? rc : (long long)m.attr, VFIO_MEMATTR_WC };
	rc = ma_map1(fd, 2, OFF, LEN, VFIO_MEMATTR_WC, &m2);
	r[n++] = (struct result){ "identical MAP: same handle and offset", rc ? rc : m2.handle == m.handle && m2.mmap_offset == m.mmap_offset, 1 };
	rc = ma_map1(fd, 2, OFF + 0x1000, 0x1000, VFIO_MEMATTR_NC, &m3);
	r[n++] = (struct result){ "overlapping NC MAP: errno", rc, -EBUSY };
	memset(&m3, 0, sizeof(m3));
	m3.flags = 1;
	m3.index = 2;
	m3.offset = OFF;
	m3.length = LEN;
	m3.nr_prefs = 1;
	rc = ma_feat(fd, VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_MEMATTR_MAP, &m3, sizeof(m3));
	r[n++] = (struct result){ "MAP with flags 1: errno", rc, -EINVAL };
	rc = ma_handle(fd, m.handle, &q);
	r[n++] = (struct result){ "HANDLE: index, attr, offset, length", rc ? rc :
		(long long)(q.index == 2 && q.attr == VFIO_MEMATTR_WC && q.offset == OFF && q.length == LEN &&
			    q.mmap_offset == m.mmap_offset), 1 };
	rc = region_info(fd, m.handle, &ri);
	r[n++] = (struct result){ "REGION_INFO of the handle: size == length, offset == mmap_offset", rc ? rc :
		(long long)(ri.size == LEN && ri.offset == m.mmap_offset), 1 };
	p = ma_map_fd(fd, m.mmap_offset, LEN);
	rc = p ? 0 : -errno;
	if (p) {
		int ok;

		mmio_fill(p, LEN, 0xcde7 + (uint64_t)fd);
		mmio_sfence();
		ok = rawfd_pread(fd, m.mmap_offset, buf, LEN) == 0 && buf_check(buf, LEN, 0xcde7 + (uint64_t)fd) == LEN;
		rc = ok;
		munmap(p, LEN);
	}
	r[n++] = (struct result){ "mmap of the handle, write, pread back", rc, 1 };
	rc = ma_map1(fd, 2, OFF, LEN, VFIO_MEMATTR_WC, &m2);
	r[n++] = (struct result){ "PAT: write-combining for exactly the range", rc ? rc :
		pat_has_exact(bphys + OFF, bphys + OFF + LEN, "write-combining"), 1 };
	rc = ma_unmap(fd, m.handle);
	r[n++] = (struct result){ "UNMAP: rc", rc, 0 };
	rc = ma_unmap(fd, m.handle);
	r[n++] = (struct result){ "second UNMAP: errno", rc, -ENOENT };
	rc = ma_bar_info(fd, 2, &bi);
	r[n++] = (struct result){ "BAR_INFO(2) after UNMAP: nr_handles", rc ? rc : (long long)bi.nr_handles, 0 };
	rc = ma_bar_info(fd, 3, &bi);
	r[n++] = (struct result){ "BAR_INFO(3): supported, reason[NC]", rc ? rc : (long long)bi.supported * 100 + bi.reason[0], ANY };
	rc = ma_map1(fd, 0, 0, 0x1000, VFIO_MEMATTR_NC, &m3);
	r[n++] = (struct result){ "MAP NC of BAR0 (256-byte registers): rc", rc ? rc : (long long)m3.attr, ANY };
	if (!rc)
		ma_unmap(fd, m3.handle);
	rc = ma_map1(fd, 6, 0, 0x1000, VFIO_MEMATTR_NC, &m3);
	r[n++] = (struct result){ "MAP of index 6: errno", rc, -EINVAL };
	return n;
}

static int cdev_open(const char *name, int *iommufd)
{
	struct vfio_device_bind_iommufd bind = { .argsz = sizeof(bind) };
	struct vfio_device_attach_iommufd_pt at = { .argsz = sizeof(at) };
	struct t_ioas_alloc al = { .size = sizeof(al) };
	char path[300];
	int fd;

	snprintf(path, sizeof(path), "/dev/vfio/devices/%s", name);
	fd = open(path, O_RDWR | O_CLOEXEC);
	*iommufd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
	if (fd < 0 || *iommufd < 0) {
		tap_diag("open %s or /dev/iommu: %s", path, strerror(errno));
		return -1;
	}
	bind.iommufd = *iommufd;
	if (ioctl(fd, VFIO_DEVICE_BIND_IOMMUFD, &bind)) {
		tap_diag("VFIO_DEVICE_BIND_IOMMUFD: %s", strerror(errno));
		return -1;
	}
	if (ioctl(*iommufd, T_IOMMU_IOAS_ALLOC, &al)) {
		tap_diag("IOMMU_IOAS_ALLOC: %s", strerror(errno));
		return -1;
	}
	at.pt_id = al.out_ioas_id;
	if (ioctl(fd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &at)) {
		tap_diag("VFIO_DEVICE_ATTACH_IOMMUFD_PT: %s", strerror(errno));
		return -1;
	}
	return fd;
}

int main(void)
{
	const char *bdf = ma_bdf_or_skip("MEMATTR_IVSHMEM0");
	struct result rc_[NSEQ], rg[NSEQ];
	struct vfio_memattr_dev *ld = NULL;
	struct vfio_memattr_mapping *lm = NULL;
	enum vfio_memattr wc = VFIO_MEMATTR_WC;
	char name[256], path[64], target[256];
	uint64_t bsz;
	struct vdev g;
	int fd, iommufd = -1, n1, n2, i, rc;
	ssize_t tl;

	tap_plan(5 + NSEQ);
	if (vdev_cdev_name(bdf, name, sizeof(name)) || access("/dev/iommu", F_OK)) {
		tap_skip_rest_of(5 + NSEQ, "this kernel has no VFIO device cdev or no /dev/iommu "
				 "(CONFIG_VFIO_DEVICE_CDEV/CONFIG_IOMMUFD not set)");
		return tap_done();
	}
	if (ma_bar_phys(bdf, 2, &bphys, &bsz)) {
		tap_fail_n(5 + NSEQ, "no BAR2");
		return tap_done();
	}

	/* the library's public API */
	rc = vfio_memattr_open(bdf, 0, &ld);
	tl = -1;
	if (!rc) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", vfio_memattr_device_fd(ld));
		tl = readlink(path, target, sizeof(target) - 1);
	}
	if (tl >= 0)
		target[tl] = 0;
	tap_ok(!rc && tl > 0 && !strncmp(target, "/dev/vfio/devices/vfio", 22),
	       "vfio_memattr_open() opens %s through the cdev (device fd is %s)", bdf, tl > 0 ? target : "?");
	rc = ld ? vfio_memattr_map(ld, 2, OFF, LEN, &wc, 1, 0, &lm) : -ENODEV;
	if (!rc) {
		static uint8_t b[LEN];
		void *a = vfio_memattr_mapping_addr(lm);

		mmio_fill(a, LEN, 0x1ce7);
		mmio_sfence();
		rc = vfio_memattr_region_read(ld, vfio_memattr_mapping_handle(lm), 0, b, LEN);
		tap_ok(!rc && vfio_memattr_mapping_attr(lm) == VFIO_MEMATTR_WC && buf_check(b, LEN, 0x1ce7) == LEN &&
		       pat_has_exact(bphys + OFF, bphys + OFF + LEN, "write-combining"),
		       "library over the cdev: WC mapping written, read back through the handle region, PAT WC");
		tap_ok(vfio_memattr_unmap(lm) == 0 && ma_nr_handles(vfio_memattr_device_fd(ld), 2) == 0,
		       "library over the cdev: unmap releases the handle");
	} else {
		tap_diag("vfio_memattr_map: %s", strerror(-rc));
		tap_fail_n(2, "library map over the cdev failed");
	}
	{
		void *dma = mmap(NULL, 1 << 16, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		rc = ld && dma != MAP_FAILED ? vfio_memattr_dma_map(ld, dma, 1 << 20, 1 << 16) : -ENODEV;
		if (!rc)
			rc = vfio_memattr_dma_unmap(ld, 1 << 20, 1 << 16);
		tap_ok(rc == 0, "library over the cdev: DMA map and unmap through iommufd (%s)", rc ? strerror(-rc) : "ok");
	}
	if (ld)
		vfio_memattr_close(ld);

	/* raw cdev ioctls vs the group API */
	fd = cdev_open(name, &iommufd);
	if (fd < 0) {
		tap_fail_n(1 + NSEQ, "cdev open failed");
		return tap_done();
	}
	n1 = run_seq(fd, rc_);
	close(fd);
	close(iommufd);
	if (vdev_open_mode(&g, bdf, VDEV_GROUP)) {
		tap_fail_n(1 + NSEQ, "group open failed");
		return tap_done();
	}
	n2 = run_seq(g.fd, rg);
	vdev_close(&g);
	tap_ok(n1 == n2 && n1 == NSEQ, "the sequence ran on both (%d and %d steps)", n1, n2);
	for (i = 0; i < NSEQ; i++)
		tap_ok(i < n1 && i < n2 && rc_[i].v == rg[i].v && (rg[i].want == ANY || rg[i].v == rg[i].want),
		       "cdev and group agree: %s (cdev %lld, group %lld, uAPI %s%lld)", rg[i].what,
		       rc_[i].v, rg[i].v, rg[i].want == ANY ? "any " : "", rg[i].want == ANY ? 0 : rg[i].want);
	return tap_done();
}
