// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * memattr_basic - discovery, handles, readback, region info capability,
 * release and close semantics of vfio-pci-memattr on ivshmem0.
 *
 * Data written: ivshmem0 BAR2 [2 MiB, 2 MiB + 256 KiB) only.
 */
#define _GNU_SOURCE
#define _FILE_OFFSET_BITS 64
#include <errno.h>
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
#include "lib/hostcheck.h"
#include "lib/pat.h"

#define NTESTS 35

#define BASE_OFF	(2 * MA_MIB)			/* our slice of BAR2 */
#define WC_OFF		(BASE_OFF)			/* 64 KiB WC handle */
#define NC_OFF		(BASE_OFF + 128 * 1024)		/* 64 KiB NC handle */
#define CL_OFF		(BASE_OFF + 192 * 1024)		/* 64 KiB for close tests */
#define LEN64K		(64 * 1024ull)

#define SEED_MMAP	0xba51c00000000001ull
#define SEED_PWRITE	0xba51c00000000002ull
#define SEED_PAGE1	0xba51c00000000003ull
#define SEED_NC		0xba51c00000000004ull
#define SEED_AFTER_REL	0xba51c00000000005ull
#define SEED_CLOSE	0xba51c00000000006ull

static const char *bdf;
static uint64_t bar2_phys, bar2_size;
static struct pat_snap fresh;	/* PAT of BAR2 on a fresh open */

static int bar_info_consistent(int fd, unsigned int bar)
{
	struct vfio_device_feature_memattr_bar_info bi;
	uint64_t ps = 0, sz = 0;
	unsigned int a;
	int rc, ok = 1;

	rc = ma_bar_info(fd, bar, &bi);
	if (rc) {
		tap_diag("BAR_INFO(%u): %s", bar, ma_errname(-rc));
		return 0;
	}
	ma_bar_phys(bdf, bar, &ps, &sz);
	tap_diag("BAR%u: size 0x%" PRIx64 " (sysfs 0x%" PRIx64 ") bar_flags 0x%x supported 0x%x "
		 "reason NC %u WC %u DEV %u nr_handles %u", bar, (uint64_t)bi.size, sz,
		 bi.bar_flags, bi.supported, bi.reason[0], bi.reason[1], bi.reason[2], bi.nr_handles);
	if (bi.size != sz) {
		tap_diag("BAR%u: size differs from sysfs", bar);
		ok = 0;
	}
	for (a = 0; a < MA_NR_ATTRS; a++) {
		int sup = !!(bi.supported & (1u << a));

		if (sup != (bi.reason[a] == VFIO_MEMATTR_OK)) {
			tap_diag("BAR%u attr %s: supported bit %d but reason %u", bar, attr_name(a),
				 sup, bi.reason[a]);
			ok = 0;
		}
		if (sz == 0 && bi.reason[a] != VFIO_MEMATTR_NOT_MEM_BAR) {
			tap_diag("BAR%u empty but reason[%s] = %u (want NOT_MEM_BAR)", bar,
				 attr_name(a), bi.reason[a]);
			ok = 0;
		}
	}
	if (bi.supported & ~((1u << MA_NR_ATTRS) - 1)) {
		tap_diag("BAR%u: unknown bits in supported 0x%x", bar, bi.supported);
		ok = 0;
	}
	if (bi.nr_handles != 0) {
		tap_diag("BAR%u: nr_handles %u on a fresh open", bar, bi.nr_handles);
		ok = 0;
	}
	return ok;
}

int main(void)
{
	struct vdev d;
	struct vfio_device_feature_memattr_bar_info bi;
	struct vfio_device_feature_memattr_map wc = { 0 }, wc2 = { 0 }, nc = { 0 }, m;
	struct vfio_device_feature_memattr_handle hd;
	char drv[64];
	uint64_t regbuf[64];
	volatile uint8_t *wmap = NULL, *p1;
	int rc, ok, have_wc = 0, have_nc = 0, bar;
	/* the vfio-pci flavour's phase (lab/vfiopci) runs this as vfio-pci */
	const char *want = getenv("MEMATTR_FLAVOUR_DRIVER") ?: "vfio-pci-memattr";

	tap_plan(NTESTS);
	bdf = ma_bdf_or_skip("MEMATTR_IVSHMEM0");

	/* 1 */
	ma_pci_driver(bdf, drv, sizeof(drv));
	tap_ok(!strcmp(drv, want), "%s is bound to %s (driver '%s')", bdf, want, drv);

	rc = vdev_open(&d, bdf);
	if (rc) {
		tap_fail_n(NTESTS - 1, "cannot open the VFIO device");
		return tap_done();
	}
	if (ma_bar_phys(bdf, 2, &bar2_phys, &bar2_size) || bar2_size < 4 * MA_MIB) {
		tap_diag("BAR2 of %s: 0x%" PRIx64 " bytes", bdf, bar2_size);
		tap_fail_n(NTESTS - 1, "ivshmem0 BAR2 is not 4 MiB");
		return tap_done();
	}
	tap_diag("BAR2 phys 0x%" PRIx64 " size 0x%" PRIx64, bar2_phys, bar2_size);
	pat_snap_take(bar2_phys, bar2_phys + bar2_size, &fresh);

	/* 2: probe */
	rc = ma_feat_raw(d.fd, VFIO_DEVICE_FEATURE_PROBE | VFIO_DEVICE_FEATURE_GET |
		      VFIO_DEVICE_FEATURE_MEMATTR_BAR_INFO, NULL, NULL, 0, 0);
	tap_errno(rc, 0, "PROBE|GET BAR_INFO");

	/* 3: BAR2 description */
	rc = ma_bar_info(d.fd, 2, &bi);
	ok = !rc && bi.size == bar2_size &&
	     (bi.bar_flags & (VFIO_MEMATTR_BAR_PREFETCH | VFIO_MEMATTR_BAR_MEM64 | VFIO_MEMATTR_BAR_MMAP)) ==
		(VFIO_MEMATTR_BAR_PREFETCH | VFIO_MEMATTR_BAR_MEM64 | VFIO_MEMATTR_BAR_MMAP) &&
	     !(bi.bar_flags & VFIO_MEMATTR_BAR_IO) && bi.supported == 7 &&
	     !bi.reason[0] && !bi.reason[1] && !bi.reason[2] && bi.nr_handles == 0;
	if (!ok)
		tap_diag("BAR2: rc %d size 0x%llx bar_flags 0x%x supported 0x%x reasons %u %u %u nr_handles %u",
			 rc, (unsigned long long)bi.size, bi.bar_flags, bi.supported,
			 bi.reason[0], bi.reason[1], bi.reason[2], bi.nr_handles);
	tap_ok(ok, "BAR_INFO BAR2: 4 MiB, PREFETCH|MEM64|MMAP, NC WC DEV supported, no handles");

	/* 4: BAR0 is non-prefetchable */
	{
		char path[256], v[16] = "";

		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/memattr_nonprefetchable_wc", bdf);
		sysfs_read_str(path, v, sizeof(v));
		rc = ma_bar_info(d.fd, 0, &bi);
		if (!strcmp(v, "1")) {
			tap_skip("memattr_nonprefetchable_wc is 1 on this device",
				 "BAR_INFO BAR0: not prefetchable, WC refused, DEV offered");
		} else {
			uint32_t want = (bi.bar_flags & VFIO_MEMATTR_BAR_MMAP) ?
				VFIO_MEMATTR_NOT_PREFETCH : VFIO_MEMATTR_NOT_MMAP;

			/* DEV is the kernel's own ioremap() type: no opt-in needed */
			ok = !rc && !(bi.bar_flags & VFIO_MEMATTR_BAR_PREFETCH) &&
			     bi.reason[VFIO_MEMATTR_WC] == want &&
			     bi.reason[VFIO_MEMATTR_DEV] == (want == VFIO_MEMATTR_NOT_MMAP ? want : 0) &&
			     !(bi.supported & (1u << VFIO_MEMATTR_WC));
			if (!ok)
				tap_diag("BAR0: rc %d bar_flags 0x%x supported 0x%x reasons %u %u %u (sysfs opt-in '%s')",
					 rc, bi.bar_flags, bi.supported, bi.reason[0], bi.reason[1],
					 bi.reason[2], v);
			tap_ok(ok, "BAR_INFO BAR0: not prefetchable, WC refused (reason %u), DEV offered", want);
		}
	}

	/* 5: consistency for every BAR */
	ok = 1;
	for (bar = 0; bar < 6; bar++)
		ok &= bar_info_consistent(d.fd, (unsigned int)bar);
	tap_ok(ok, "BAR_INFO of BARs 0-5: size matches sysfs, supported matches reason, empty BARs NOT_MEM_BAR");

	/* 6: MAP WC */
	rc = ma_map1(d.fd, 2, WC_OFF, LEN64K, VFIO_MEMATTR_WC, &wc);
	have_wc = !rc;
	ok = !rc && wc.attr == VFIO_MEMATTR_WC && wc.handle >= VFIO_MEMATTR_HANDLE_INDEX_BASE &&
	     wc.mmap_offset >= (1ull << 39) && !(wc.mmap_offset % MA_PAGE);
	if (!ok)
		tap_diag("MAP WC: rc %s attr %u handle 0x%x mmap_offset 0x%llx", ma_errname(-rc),
			 wc.attr, wc.handle, (unsigned long long)wc.mmap_offset);
	tap_ok(ok, "MAP BAR2 [2M, 2M+64K) WC: attr WC, handle >= 0x10000, mmap_offset >= 2^39 page aligned");

	/* 7: HANDLE GET */
	rc = have_wc ? ma_handle(d.fd, wc.handle, &hd) : -ENOENT;
	ok = !rc && hd.index == 2 && hd.attr == VFIO_MEMATTR_WC && hd.offset == WC_OFF &&
	     hd.length == LEN64K && hd.mmap_offset == wc.mmap_offset;
	if (!ok)
		tap_diag("HANDLE GET: rc %s index %u attr %u off 0x%llx len 0x%llx mmap 0x%llx",
			 ma_errname(-rc), hd.index, hd.attr, (unsigned long long)hd.offset,
			 (unsigned long long)hd.length, (unsigned long long)hd.mmap_offset);
	tap_ok(ok, "HANDLE GET reads back index, attr, offset, length, mmap_offset");

	/* 8: GET_REGION_INFO of the handle with the capability */
	ok = 0;
	if (have_wc) {
		struct vfio_region_info *ri = (void *)regbuf;
		struct vfio_region_info_cap_memattr *cap;

		rc = region_info_buf(d.fd, wc.handle, regbuf, sizeof(regbuf));
		if (rc) {
			tap_diag("GET_REGION_INFO(0x%x): %s", wc.handle, ma_errname(-rc));
		} else {
			uint32_t want = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE |
					VFIO_REGION_INFO_FLAG_MMAP;

			cap = region_cap(regbuf, sizeof(regbuf), VFIO_REGION_INFO_CAP_MEMATTR);
			ok = ri->size == LEN64K && ri->offset == wc.mmap_offset &&
			     (ri->flags & want) == want && cap && cap->header.version == 1 &&
			     cap->index == 2 && cap->attr == VFIO_MEMATTR_WC &&
			     cap->offset == WC_OFF && cap->length == LEN64K;
			if (!ok)
				tap_diag("region info: size 0x%llx offset 0x%llx flags 0x%x cap %p "
					 "(v%u index %u attr %u off 0x%llx len 0x%llx)",
					 (unsigned long long)ri->size, (unsigned long long)ri->offset,
					 ri->flags, (void *)cap, cap ? cap->header.version : 0,
					 cap ? cap->index : 0, cap ? cap->attr : 0,
					 cap ? (unsigned long long)cap->offset : 0,
					 cap ? (unsigned long long)cap->length : 0);
		}
	}
	tap_ok(ok, "GET_REGION_INFO(handle): size, offset = mmap_offset, R|W|MMAP, CAP_MEMATTR v1");

	/* 9: GET_REGION_INFO with argsz of the fixed part only asks for more room */
	ok = 0;
	if (have_wc) {
		struct vfio_region_info ri;

		rc = region_info(d.fd, wc.handle, &ri);
		ok = !rc && ri.size == LEN64K && ri.offset == wc.mmap_offset &&
		     (ri.flags & VFIO_REGION_INFO_FLAG_CAPS) && ri.argsz > sizeof(ri);
		if (!ok)
			tap_diag("short region info: rc %s size 0x%llx flags 0x%x argsz %u", ma_errname(-rc),
				 (unsigned long long)ri.size, ri.flags, ri.argsz);
	}
	tap_ok(ok, "GET_REGION_INFO(handle) with a short argsz reports the size needed for caps");

	/* 10 */
	tap_ok(ma_nr_handles(d.fd, 2) == 1, "BAR_INFO nr_handles = 1 after one MAP");

	/* 10b: handles are not counted in num_regions */
	{
		struct vfio_device_info di = { .argsz = sizeof(di) };

		rc = ioctl(d.fd, VFIO_DEVICE_GET_INFO, &di) ? -errno : 0;
		tap_ok(!rc && di.num_regions == d.info.num_regions,
		       "VFIO_DEVICE_GET_INFO num_regions unchanged by a live handle (%u, at open %u)",
		       di.num_regions, d.info.num_regions);
	}

	/* 11: same request -> same handle */
	rc = ma_map1(d.fd, 2, WC_OFF, LEN64K, VFIO_MEMATTR_WC, &wc2);
	ok = !rc && have_wc && wc2.handle == wc.handle && wc2.mmap_offset == wc.mmap_offset &&
	     wc2.attr == VFIO_MEMATTR_WC && ma_nr_handles(d.fd, 2) == 1;
	if (!ok)
		tap_diag("second MAP: rc %s handle 0x%x/0x%x mmap 0x%llx/0x%llx nr %d", ma_errname(-rc),
			 wc2.handle, wc.handle, (unsigned long long)wc2.mmap_offset,
			 (unsigned long long)wc.mmap_offset, ma_nr_handles(d.fd, 2));
	tap_ok(ok, "identical MAP returns the same handle and mmap_offset, nr_handles stays 1");

	/* 12: {WC, NC} for the same range gives the same WC handle */
	{
		uint8_t prefs[2] = { VFIO_MEMATTR_WC, VFIO_MEMATTR_NC };

		rc = ma_map(d.fd, 2, WC_OFF, LEN64K, prefs, 2, &m);
		ok = !rc && have_wc && m.handle == wc.handle && m.attr == VFIO_MEMATTR_WC &&
		     m.mmap_offset == wc.mmap_offset && ma_nr_handles(d.fd, 2) == 1;
		if (!ok)
			tap_diag("MAP {WC,NC}: rc %s handle 0x%x attr %u", ma_errname(-rc), m.handle, m.attr);
		tap_ok(ok, "MAP prefs {WC, NC} of the same range returns the existing WC handle");
	}

	/* 13: mmap and write, PAT */
	if (have_wc)
		wmap = ma_map_fd(d.fd, wc.mmap_offset, LEN64K);
	if (have_wc && !wmap)
		tap_diag("mmap handle: %s", strerror(errno));
	ok = wmap && ma_fill_check(wmap, 32 * 1024, SEED_MMAP);
	if (ok) {
		struct pat_expect e = { bar2_phys + WC_OFF, bar2_phys + WC_OFF + LEN64K, "write-combining" };

		ok = pat_check_bar(bar2_phys, bar2_phys + bar2_size, &e, 1, 1);
	}
	tap_ok(ok, "mmap WC handle, 64-bit stores read back; PAT: exactly the range write-combining, nothing else on BAR2");

	/* 14: legacy pread sees it */
	ok = wmap && ma_legacy_check(d.fd, WC_OFF, 32 * 1024, SEED_MMAP);
	if (ok)
		ma_hostcheck(WC_OFF, 32 * 1024, SEED_MMAP, "memattr_basic: WC mmap stores");
	tap_ok(ok, "pread on the legacy BAR2 region reads what the WC mapping wrote");

	/* 15: pwrite/pread at the handle's region offset */
	ok = 0;
	if (have_wc && wmap) {
		uint8_t *buf = malloc(32 * 1024), *rb = malloc(32 * 1024);

		buf_fill(buf, 32 * 1024, SEED_PWRITE);
		rc = rawfd_pwrite(d.fd, wc.mmap_offset + 32 * 1024, buf, 32 * 1024);
		if (rc)
			tap_diag("pwrite at handle offset: %s", ma_errname(-rc));
		ok = !rc && mmio_check(wmap + 32 * 1024, 32 * 1024, SEED_PWRITE) == 32 * 1024;
		rc = rawfd_pread(d.fd, wc.mmap_offset, rb, 32 * 1024);
		if (rc)
			tap_diag("pread at handle offset: %s", ma_errname(-rc));
		ok = ok && !rc && buf_check(rb, 32 * 1024, SEED_MMAP) == 32 * 1024 &&
		     ma_legacy_check(d.fd, WC_OFF + 32 * 1024, 32 * 1024, SEED_PWRITE);
		if (ok)
			ma_hostcheck(WC_OFF + 32 * 1024, 32 * 1024, SEED_PWRITE, "memattr_basic: pwrite at handle offset");
		free(buf);
		free(rb);
	}
	tap_ok(ok, "pwrite/pread at the handle's region offset access the handle's BAR range");

	/* 16: pread past the end of the handle fails */
	ok = 0;
	if (have_wc) {
		uint64_t v;
		ssize_t n = pread(d.fd, &v, 8, (off_t)(wc.mmap_offset + LEN64K));

		ok = n <= 0;
		if (!ok)
			tap_diag("pread past the handle returned %zd", n);
	}
	tap_ok(ok, "pread past the end of the handle's region transfers nothing");

	/* 17: mmap past the handle's length fails */
	ok = 0;
	if (have_wc) {
		void *p = mmap(NULL, LEN64K + MA_PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, d.fd,
			       (off_t)wc.mmap_offset);

		ok = p == MAP_FAILED;
		if (ok)
			tap_diag("mmap of length+4K fails with %s", ma_errname(errno));
		else
			munmap(p, LEN64K + MA_PAGE);
	}
	tap_ok(ok, "mmap longer than the handle is refused");

	/* 18: page k at mmap_offset + k * page */
	ok = 0;
	if (have_wc && wmap) {
		p1 = ma_map_fd(d.fd, wc.mmap_offset + MA_PAGE, MA_PAGE);
		if (!p1) {
			tap_diag("mmap page 1: %s", strerror(errno));
		} else {
			ok = ma_fill_check(p1, MA_PAGE, SEED_PAGE1) &&
			     mmio_check(wmap + MA_PAGE, MA_PAGE, SEED_PAGE1) == MA_PAGE;
			/* restore page 1 of the mmap pattern for the host check above */
			mmio_fill(wmap, 32 * 1024, SEED_MMAP);
			mmio_sfence();
			munmap((void *)p1, MA_PAGE);
		}
	}
	tap_ok(ok, "mmap at mmap_offset + 4K maps page 1 of the range");

	/* 19: NC handle next to it */
	rc = ma_map1(d.fd, 2, NC_OFF, LEN64K, VFIO_MEMATTR_NC, &nc);
	have_nc = !rc;
	ok = !rc && nc.attr == VFIO_MEMATTR_NC && nc.handle != wc.handle &&
	     nc.mmap_offset != wc.mmap_offset && ma_nr_handles(d.fd, 2) == 2;
	if (!ok)
		tap_diag("MAP NC: rc %s attr %u handle 0x%x mmap 0x%llx nr %d", ma_errname(-rc), nc.attr,
			 nc.handle, (unsigned long long)nc.mmap_offset, ma_nr_handles(d.fd, 2));
	tap_ok(ok, "MAP NC of another range: new handle, new mmap_offset, nr_handles = 2");

	/* 20: NC mapping data and PAT */
	ok = 0;
	if (have_nc) {
		volatile uint8_t *np = ma_map_fd(d.fd, nc.mmap_offset, LEN64K);

		if (np) {
			struct pat_expect e[2] = {
				{ bar2_phys + WC_OFF, bar2_phys + WC_OFF + LEN64K, "write-combining" },
				{ bar2_phys + NC_OFF, bar2_phys + NC_OFF + LEN64K, "uncached-minus" },
			};

			ok = ma_fill_check(np, LEN64K, SEED_NC) &&
			     ma_legacy_check(d.fd, NC_OFF, LEN64K, SEED_NC) &&
			     pat_check_bar(bar2_phys, bar2_phys + bar2_size, e, 2, 1);
			if (ok)
				ma_hostcheck(NC_OFF, LEN64K, SEED_NC, "memattr_basic: NC mmap stores");
			munmap((void *)np, LEN64K);
		} else {
			tap_diag("mmap NC handle: %s", strerror(errno));
		}
	}
	tap_ok(ok, "NC handle: data reads back, PAT uncached-minus for its range, WC range unchanged");

	/* 21-25: release semantics */
	if (!have_wc) {
		tap_fail_n(5, "no WC handle to release");
	} else {
		struct vfio_region_info ri;
		void *p;
		int e;

		rc = ma_unmap(d.fd, wc.handle);
		tap_errno(rc, 0, "UNMAP of the (mmapped) WC handle");
		rc = region_info(d.fd, wc.handle, &ri);
		tap_errno(rc, EINVAL, "GET_REGION_INFO of a released handle");
		p = mmap(NULL, LEN64K, PROT_READ | PROT_WRITE, MAP_SHARED, d.fd, (off_t)wc.mmap_offset);
		e = errno;
		if (p != MAP_FAILED)
			munmap(p, LEN64K);
		tap_errno(p == MAP_FAILED ? -e : 0, EINVAL, "mmap at a released handle's mmap_offset");
		rc = ma_handle(d.fd, wc.handle, &hd);
		tap_errno(rc, ENOENT, "HANDLE GET of a released handle");
		rc = ma_unmap(d.fd, wc.handle);
		tap_errno(rc, ENOENT, "second UNMAP of the same handle");
	}

	/* 26: the old mapping keeps working with its type */
	ok = 0;
	if (have_wc && wmap) {
		struct pat_expect e[2] = {
			{ bar2_phys + WC_OFF, bar2_phys + WC_OFF + LEN64K, "write-combining" },
			{ bar2_phys + NC_OFF, bar2_phys + NC_OFF + LEN64K, "uncached-minus" },
		};

		ok = ma_fill_check(wmap, 32 * 1024, SEED_AFTER_REL) &&
		     ma_legacy_check(d.fd, WC_OFF, 32 * 1024, SEED_AFTER_REL) &&
		     pat_check_bar(bar2_phys, bar2_phys + bar2_size, e, 2, 1);
		/* put the host-checked pattern back */
		mmio_fill(wmap, 32 * 1024, SEED_MMAP);
		mmio_sfence();
	}
	tap_ok(ok, "a mapping made before release keeps working and stays write-combining");

	/* 27: nr_handles counts released-but-mapped */
	rc = ma_nr_handles(d.fd, 2);
	tap_ok(rc == 2, "nr_handles = 2 while the released WC handle is still mapped (got %d)", rc);

	/* 28: munmap drops it */
	if (wmap)
		munmap((void *)wmap, LEN64K);
	wmap = NULL;
	rc = ma_nr_handles(d.fd, 2);
	ok = rc == 1;
	if (ok) {
		struct pat_expect e = { bar2_phys + NC_OFF, bar2_phys + NC_OFF + LEN64K, "uncached-minus" };

		ok = pat_check_bar(bar2_phys, bar2_phys + bar2_size, &e, 1, 1);
	}
	tap_ok(ok, "after munmap: nr_handles = 1 (got %d), the WC PAT entry is gone", rc);

	/* 29: offsets are not reused */
	rc = ma_map1(d.fd, 2, WC_OFF, LEN64K, VFIO_MEMATTR_WC, &m);
	ok = !rc && have_wc && m.mmap_offset != wc.mmap_offset;
	if (!ok)
		tap_diag("re-MAP: rc %s mmap 0x%llx old 0x%llx", ma_errname(-rc),
			 (unsigned long long)m.mmap_offset, (unsigned long long)wc.mmap_offset);
	tap_ok(ok, "MAP after release hands out a new mmap_offset");
	if (!rc)
		ma_unmap(d.fd, m.handle);
	if (have_nc)
		ma_unmap(d.fd, nc.handle);

	/* 30: all released, nothing mapped: no PAT entry on BAR2 */
	rc = ma_nr_handles(d.fd, 2);
	ok = rc == 0 && pat_snap_same(bar2_phys, bar2_phys + bar2_size, &fresh);
	tap_ok(ok, "all handles released and unmapped: nr_handles 0 (got %d), BAR2 PAT as on a fresh open", rc);

	/* 31: close with a live handle (not mapped) releases it */
	rc = ma_map1(d.fd, 2, CL_OFF, LEN64K, VFIO_MEMATTR_WC, &m);
	vdev_close(&d);
	ok = !rc && pat_check_bar(bar2_phys, bar2_phys + bar2_size, NULL, 0, 0);
	if (rc)
		tap_diag("MAP before close: %s", ma_errname(-rc));
	tap_ok(ok, "close with a live handle: no PAT entry on BAR2 remains");

	/* 32: reopen: no handles, old handle unknown */
	rc = vdev_open(&d, bdf);
	if (rc) {
		tap_fail_n(NTESTS - tap_count(), "cannot reopen the device");
		return tap_done();
	}
	{
		int nr = ma_nr_handles(d.fd, 2);

		rc = ma_handle(d.fd, m.handle, &hd);
		ok = nr == 0 && rc == -ENOENT;
		tap_ok(ok, "after reopen: nr_handles 0 (got %d), old handle -> ENOENT (got %s)", nr,
		       ma_errname(-rc));
	}

	/* 33-34: close while mapped: the mapping holds the device */
	rc = ma_map1(d.fd, 2, CL_OFF, LEN64K, VFIO_MEMATTR_WC, &m);
	wmap = rc ? NULL : ma_map_fd(d.fd, m.mmap_offset, LEN64K);
	vdev_close(&d);
	ok = wmap && ma_fill_check(wmap, LEN64K, SEED_CLOSE);
	if (ok) {
		struct pat_expect e = { bar2_phys + CL_OFF, bar2_phys + CL_OFF + LEN64K, "write-combining" };

		ok = pat_check_bar(bar2_phys, bar2_phys + bar2_size, &e, 1, 1);
		ma_hostcheck(CL_OFF, LEN64K, SEED_CLOSE, "memattr_basic: WC mapping used after close of all fds");
	}
	tap_ok(ok, "fds closed, mapping still works and stays write-combining");
	if (wmap)
		munmap((void *)wmap, LEN64K);
	ok = pat_check_bar(bar2_phys, bar2_phys + bar2_size, NULL, 0, 0);
	if (ok) {
		rc = vdev_open(&d, bdf);
		ok = !rc && ma_nr_handles(d.fd, 2) == 0;
		if (!rc)
			vdev_close(&d);
	}
	tap_ok(ok, "munmap after close drops the last reference: no PAT entry, reopen shows no handles");

	return tap_done();
}
