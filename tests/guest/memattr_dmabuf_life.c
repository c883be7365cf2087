// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * memattr_dmabuf_life - what becomes of a DMABUF's place when it goes:
 *
 *  1. Windows are reused: a broker that exports a whole BAR and revokes
 *     (or closes) it again and again never runs out of the BAR's 512 GiB
 *     window of the device file (bench0 BAR2: 512 GiB / its size + 8
 *     exports; before 2.2 the export after the window's end got ENOSPC).
 *  2. A revoked DMABUF's window serves the next export that fits: its
 *     mapping lies at the same offset of the device file (/proc/self/maps
 *     offset column), between two live DMABUFs.
 *  3. An O_PATH open of /proc/self/fd/N keeps the DMABUF past the close of
 *     its fd, and with it its range: a new export over the range (WC)
 *     gets EBUSY (the uAPI header's lifetime notes).
 *  4. Then VFIO_DEVICE_RESET and the device's last close, the O_PATH file
 *     still open, are harmless (an upstream 7.3-rc exporter had a use
 *     after free exactly there; the lab fails the test on any kernel
 *     report): the range's WC reservation is gone from the PAT list.
 *  5. Reopened, the range exports and takes WC again; revoking it twice
 *     answers EBADFD the second time.
 *
 * Devices: MEMATTR_BENCH0 (1, 2: no data written), MEMATTR_NVME's CMB BAR
 * (3-5: VFIO_DEVICE_RESET needs a device that has one; no data written).
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
#include <time.h>
#include <unistd.h>

#include "lib/tap.h"
#include "lib/vfio.h"
#include "lib/memattr.h"
#include "lib/pat.h"
#include "lib/sysfs.h"

#define NTESTS		5
#define WINDOW		(1ull << 39)	/* a BAR's window for handles and DMABUFs */
#define MAX_LOOPS	20000
#define R_OFF		(8 * MA_MIB)	/* in the NVMe CMB */
#define R_LEN		(64 * 1024ull)

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The offset column of the mapping holding @addr in /proc/self/maps. */
static long long maps_offset(const void *addr)
{
	char line[512];
	unsigned long s, e;
	unsigned long long off;
	long long ret = -1;
	FILE *f = fopen("/proc/self/maps", "r");

	while (f && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx %*s %llx", &s, &e, &off) == 3 &&
		    (uintptr_t)addr >= s && (uintptr_t)addr < e) {
			ret = (long long)off;
			break;
		}
	}
	if (f)
		fclose(f);
	return ret;
}

/* Where DMABUF @dfd lies in the device file: its mapping's offset column; -1 if none. */
static long long dmabuf_file_offset(int dfd)
{
	long long off;
	void *p;

	if (dfd < 0)
		return -1;
	p = mmap(NULL, MA_PAGE, PROT_READ, MAP_SHARED, dfd, 0);
	if (p == MAP_FAILED)
		return -1;
	off = maps_offset(p);
	munmap(p, MA_PAGE);
	return off;
}

/* 1: export, then revoke (odd) or close (even), past the window's end. */
static void test_reuse_loop(int fd, uint64_t bsz)
{
	struct vfio_memattr_dma_range r = { .offset = 0, .length = bsz };
	uint64_t loops = WINDOW / bsz + 8, i, bad = 0;
	int first_rc = 0;
	double t0 = now_s();

	if (loops > MAX_LOOPS) {
		tap_skip("bench0 BAR2 is too small to go past the window in time",
			 "%" PRIu64 " exports of the whole BAR", loops);
		return;
	}
	for (i = 0; i < loops; i++) {
		int dfd = ma_dmabuf_export(fd, 2, O_RDWR | O_CLOEXEC, &r, 1);

		if (dfd < 0) {
			if (!bad++) {
				first_rc = dfd;
				tap_diag("export %" PRIu64 " of %" PRIu64 ": %s", i + 1, loops,
					 ma_errname(-dfd));
			}
			continue;
		}
		if ((i & 1) && ma_dmabuf_revoke(fd, dfd) && !bad++)
			tap_diag("revoke %" PRIu64 " failed", i + 1);
		close(dfd);
	}
	tap_diag("%" PRIu64 " exports of %" PRIu64 " MiB in %.1f s", loops, (uint64_t)(bsz / MA_MIB),
		 now_s() - t0);
	tap_ok(!bad && ma_nr_handles(fd, 2) == 0,
	       "%" PRIu64 " exports of the whole BAR (%" PRIu64 " GiB in all, window 512 GiB), each revoked or closed: all succeed (%" PRIu64 " failed, first %s), nothing left",
	       loops, (uint64_t)(loops * bsz >> 30), bad, ma_errname(-first_rc));
}

/* 2: A B C exported, A and C revoked; the next export of A's size is at A's place. */
static void test_reuse_place(int fd, uint64_t bsz)
{
	struct vfio_memattr_dma_range r = { .offset = 0, .length = bsz / 4 };
	int a, b, c, n;
	long long off_a = -1, off_n = -1;

	a = ma_dmabuf_export(fd, 2, O_RDWR | O_CLOEXEC, &r, 1);
	r.offset = bsz / 4;
	b = ma_dmabuf_export(fd, 2, O_RDWR | O_CLOEXEC, &r, 1);
	r.offset = bsz / 2;
	c = ma_dmabuf_export(fd, 2, O_RDWR | O_CLOEXEC, &r, 1);
	off_a = dmabuf_file_offset(a);
	if (a >= 0)
		ma_dmabuf_revoke(fd, a);
	if (c >= 0)
		ma_dmabuf_revoke(fd, c);
	r.offset = 3 * (bsz / 4);
	n = ma_dmabuf_export(fd, 2, O_RDWR | O_CLOEXEC, &r, 1);
	off_n = dmabuf_file_offset(n);
	tap_ok(a >= 0 && b >= 0 && c >= 0 && n >= 0 && off_a >= 0 && off_n == off_a,
	       "a revoked DMABUF's window serves the next export of its size, between live ones (file offset %#llx, then %#llx)",
	       (unsigned long long)off_a, (unsigned long long)off_n);
	if (a >= 0)
		close(a);
	if (b >= 0)
		close(b);
	if (c >= 0)
		close(c);
	if (n >= 0)
		close(n);
}

/* 3-5: O_PATH across release, reset and close. */
static void test_opath(const char *nvme)
{
	struct vfio_device_feature_memattr_dmabuf_attr at;
	struct vfio_memattr_dma_range r;
	uint8_t wc = VFIO_MEMATTR_WC;
	struct vdev d;
	uint64_t phys = 0;
	char path[64];
	int bar, dfd, opath = -1, rc, rc2, opened, x86 = pat_available();

	if (vdev_open(&d, nvme)) {
		tap_fail_n(3, "cannot open the NVMe device");
		return;
	}
	bar = ma_nvme_cmb_bar(d.fd, nvme, &phys);
	if (bar < 0 || !(d.info.flags & VFIO_DEVICE_FLAGS_RESET)) {
		tap_skip_rest_of(3, "the NVMe device has no CMB BAR or no VFIO_DEVICE_RESET");
		vdev_close(&d);
		return;
	}
	r.offset = R_OFF;
	r.length = R_LEN;
	dfd = ma_dmabuf_export(d.fd, (uint32_t)bar, O_RDWR | O_CLOEXEC, &r, 1);
	rc = dfd < 0 ? dfd : ma_dmabuf_attr(d.fd, dfd, &wc, 1, &at);
	if (!rc) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", dfd);
		opath = open(path, O_PATH | O_CLOEXEC);
	}
	if (dfd >= 0)
		close(dfd);
	/* the closed DMABUF, kept by the O_PATH file, keeps its WC range */
	rc2 = ma_dmabuf_export(d.fd, (uint32_t)bar, O_RDWR | O_CLOEXEC, &r, 1);
	if (rc2 >= 0)
		close(rc2);
	tap_ok(!rc && opath >= 0 && rc2 == -EBUSY &&
	       (!x86 || pat_exact(phys + R_OFF, phys + R_OFF + R_LEN, "write-combining")),
	       "O_PATH of a WC DMABUF kept past its close: a new export over its range gets EBUSY (rc %s, O_PATH %d, export %s)",
	       ma_errname(-rc), opath, ma_errname(rc2 < 0 ? -rc2 : 0));

	rc = ioctl(d.fd, VFIO_DEVICE_RESET) ? -errno : 0;
	vdev_close(&d);
	tap_ok(!rc && (!x86 || pat_none_of(phys + R_OFF, phys + R_OFF + R_LEN, "write-combining")),
	       "VFIO_DEVICE_RESET and the device's last close with the O_PATH file open: the range's WC reservation is gone (reset %s)",
	       ma_errname(-rc));

	opened = !vdev_open(&d, nvme);
	dfd = !opened ? -ENODEV : ma_dmabuf_export(d.fd, (uint32_t)bar, O_RDWR | O_CLOEXEC, &r, 1);
	rc = dfd < 0 ? dfd : ma_dmabuf_attr(d.fd, dfd, &wc, 1, &at);
	rc2 = dfd < 0 ? dfd : ma_dmabuf_revoke(d.fd, dfd);
	rc2 = rc2 ? rc2 : ma_dmabuf_revoke(d.fd, dfd);
	tap_ok(dfd >= 0 && !rc && at.attr == VFIO_MEMATTR_WC && rc2 == -EBADFD,
	       "reopened: the range exports and takes WC again; the second REVOKE answers EBADFD (SET %s, revoke %s)",
	       ma_errname(-rc), ma_errname(rc2 < 0 ? -rc2 : 0));
	if (dfd >= 0)
		close(dfd);
	if (opath >= 0)
		close(opath);
	if (opened)
		vdev_close(&d);
}

int main(void)
{
	char why_b[256], why_n[256];
	const char *bench = ma_bdf("MEMATTR_BENCH0", why_b, sizeof(why_b));
	const char *nvme = ma_bdf("MEMATTR_NVME", why_n, sizeof(why_n));
	struct vfio_device_feature_memattr_bar_info bi;
	struct vdev d;

	tap_plan(NTESTS);
	if (!bench) {
		tap_skip_rest_of(2, why_b);
	} else if (vdev_open(&d, bench) || ma_bar_info(d.fd, 2, &bi) || bi.size < 4 * MA_PAGE) {
		tap_fail_n(2, "cannot open bench0 or its BAR2");
	} else {
		test_reuse_loop(d.fd, bi.size);
		test_reuse_place(d.fd, bi.size);
		vdev_close(&d);
	}
	if (nvme)
		test_opath(nvme);
	else
		tap_skip_rest_of(3, why_n);
	return tap_done();
}
