// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * memattr_errno - bad input to the vfio-pci-memattr features: one TAP test
 * per case with the exact errno, and after each failing call a check that
 * nothing changed (nr_handles of every BAR and the PAT entries of BAR2).
 * Also: PROBE in both directions, max_handles (ENOSPC), the policy (EPERM),
 * unimplemented BARs (EOPNOTSUPP), overlaps (EBUSY), and how the stock
 * vfio-pci answers the features.
 *
 * Writes no data (maps ivshmem0 BAR2 [3 MiB, 4 MiB) without touching it).
 */
#define _GNU_SOURCE
#define _FILE_OFFSET_BITS 64
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lib/tap.h"
#include "lib/sysfs.h"
#include "lib/vfio.h"
#include "lib/memattr.h"
#include "lib/pat.h"

#define NTESTS 63

#define O3M	(3 * MA_MIB)
#define K64	(64 * 1024ull)

#define F_GET	VFIO_DEVICE_FEATURE_GET
#define F_SET	VFIO_DEVICE_FEATURE_SET
#define F_PROBE	VFIO_DEVICE_FEATURE_PROBE
#define HDR	((uint32_t)sizeof(struct vfio_device_feature))

static uint64_t bp, bsz;

/*
 * What a failing call must not change: the handles of every BAR, the PAT
 * entries of BAR2, and the handle ids and mmap offsets handed out.  The
 * last is seen through a probe: a one-page NC handle of BAR2's last page,
 * created and released by each snapshot, so consecutive snapshots see
 * consecutive ids and offsets unless something in between consumed one.
 */
#define PROBE_OFF	(4 * MA_MIB - MA_PAGE)

struct snap {
	int nr[6];
	int pat;
	int probe_rc;
	uint32_t id;
	uint64_t moff;
};

static void snap_take(int fd, struct snap *s)
{
	struct vfio_device_feature_memattr_map m;
	int i;

	for (i = 0; i < 6; i++)
		s->nr[i] = ma_nr_handles(fd, (uint32_t)i);
	s->pat = pat_count(bp, bp + bsz);
	s->probe_rc = ma_map1(fd, 2, PROBE_OFF, MA_PAGE, VFIO_MEMATTR_NC, &m);
	s->id = s->probe_rc ? 0 : m.handle;
	s->moff = s->probe_rc ? 0 : m.mmap_offset;
	if (!s->probe_rc)
		ma_unmap(fd, m.handle);
}

static int snap_same(int fd, const struct snap *a)
{
	struct snap b;
	int i, ok = 1;

	snap_take(fd, &b);
	for (i = 0; i < 6; i++)
		if (a->nr[i] != b.nr[i]) {
			tap_diag("BAR%d nr_handles %d -> %d", i, a->nr[i], b.nr[i]);
			ok = 0;
		}
	if (a->pat != b.pat) {
		tap_diag("PAT entries on BAR2 %d -> %d", a->pat, b.pat);
		pat_dump(bp, bp + bsz);
		ok = 0;
	}
	if (a->probe_rc != b.probe_rc) {
		tap_diag("probe MAP %s -> %s", ma_errname(-a->probe_rc), ma_errname(-b.probe_rc));
		ok = 0;
	} else if (!a->probe_rc && (b.id != a->id + 1 || b.moff != a->moff + MA_PAGE)) {
		tap_diag("handle ids or mmap offsets consumed: probe id 0x%x -> 0x%x, offset 0x%llx -> 0x%llx",
			 a->id, b.id, (unsigned long long)a->moff, (unsigned long long)b.moff);
		ok = 0;
	}
	return ok;
}

/* One feature call expected to fail with @want and to change nothing. */
static void call_case(int fd, uint32_t flags, void *payload, size_t len, uint32_t argsz,
		      int want, const char *desc)
{
	struct snap s;
	uint8_t out[256];
	int rc, ok;

	snap_take(fd, &s);
	rc = ma_feat_raw(fd, flags, payload, out, len, argsz);
	ok = rc == -want;
	if (!ok)
		tap_diag("%s: expected %s, got %s", desc, ma_errname(want), rc ? ma_errname(-rc) : "success");
	if (!rc && (flags & 0xffff) == VFIO_DEVICE_FEATURE_MEMATTR_MAP && !(flags & F_PROBE)) {
		struct vfio_device_feature_memattr_map *m = (void *)out;

		tap_diag("  (unexpectedly created handle 0x%x; releasing it)", m->handle);
		ma_unmap(fd, m->handle);
	}
	ok = snap_same(fd, &s) && ok;
	tap_ok(ok, "%s -> %s, nothing changed", desc, ma_errname(want));
}

/* HANDLE GET of handle with flags (short: argsz one byte short of the payload) */
static void handle_case(int fd, uint32_t handle, uint32_t flags, bool short_argsz, int want,
			const char *desc)
{
	struct vfio_device_feature_memattr_handle hg = { .handle = handle, .flags = flags };

	call_case(fd, F_GET | VFIO_DEVICE_FEATURE_MEMATTR_HANDLE, &hg, sizeof(hg),
		  short_argsz ? HDR + sizeof(hg) - 1 : 0, want, desc);
}

static void unmap_case(int fd, uint32_t handle, uint32_t flags, int want, const char *desc)
{
	struct vfio_device_feature_memattr_unmap u = { .handle = handle, .flags = flags };

	call_case(fd, F_SET | VFIO_DEVICE_FEATURE_MEMATTR_UNMAP, &u, sizeof(u), 0, want, desc);
}

/* BAR_INFO GET that must fail with EINVAL */
static void bar_info_case(int fd, uint32_t index, uint32_t flags, uint32_t reserved,
			  bool short_argsz, const char *desc)
{
	struct vfio_device_feature_memattr_bar_info bi;

	memset(&bi, 0, sizeof(bi));
	bi.index = index;
	bi.flags = flags;
	bi.reserved = reserved;
	call_case(fd, F_GET | VFIO_DEVICE_FEATURE_MEMATTR_BAR_INFO, &bi, sizeof(bi),
		  short_argsz ? HDR + sizeof(bi) - 1 : 0, EINVAL, desc);
}

static struct vfio_device_feature_memattr_map good_map(void)
{
	struct vfio_device_feature_memattr_map m;

	memset(&m, 0, sizeof(m));
	m.index = 2;
	m.offset = O3M;
	m.length = K64;
	m.nr_prefs = 1;
	m.prefs[0] = VFIO_MEMATTR_WC;
	return m;
}

static void map_case(int fd, struct vfio_device_feature_memattr_map m, int want, const char *desc)
{
	call_case(fd, F_SET | VFIO_DEVICE_FEATURE_MEMATTR_MAP, &m, sizeof(m), 0, want, desc);
}

static void probe_case(int fd, uint32_t dir, uint32_t feature, int want, const char *desc)
{
	int rc = ma_feat_raw(fd, F_PROBE | dir | feature, NULL, NULL, 0, 0);

	tap_errno(rc, want, "%s", desc);
}

int main(void)
{
	const char *bdf = ma_bdf_or_skip("MEMATTR_IVSHMEM0");
	struct vfio_device_feature_memattr_map m, h1, h2;
	struct vdev d;
	int rc, ok;

	tap_plan(NTESTS);
	if (vdev_open(&d, bdf) || ma_bar_phys(bdf, 2, &bp, &bsz) || bsz < 4 * MA_MIB) {
		tap_fail_n(NTESTS, "cannot open ivshmem0 or BAR2 is not 4 MiB");
		return tap_done();
	}

	/* PROBE: 8 tests */
	probe_case(d.fd, F_GET, VFIO_DEVICE_FEATURE_MEMATTR_BAR_INFO, 0, "PROBE|GET BAR_INFO");
	probe_case(d.fd, F_SET, VFIO_DEVICE_FEATURE_MEMATTR_MAP, 0, "PROBE|SET MAP");
	probe_case(d.fd, F_GET, VFIO_DEVICE_FEATURE_MEMATTR_HANDLE, 0, "PROBE|GET HANDLE");
	probe_case(d.fd, F_SET, VFIO_DEVICE_FEATURE_MEMATTR_UNMAP, 0, "PROBE|SET UNMAP");
	probe_case(d.fd, F_SET, VFIO_DEVICE_FEATURE_MEMATTR_BAR_INFO, EINVAL, "PROBE|SET BAR_INFO (wrong direction)");
	probe_case(d.fd, F_GET, VFIO_DEVICE_FEATURE_MEMATTR_MAP, EINVAL, "PROBE|GET MAP (wrong direction)");
	probe_case(d.fd, F_SET, VFIO_DEVICE_FEATURE_MEMATTR_HANDLE, EINVAL, "PROBE|SET HANDLE (wrong direction)");
	probe_case(d.fd, F_GET, VFIO_DEVICE_FEATURE_MEMATTR_UNMAP, EINVAL, "PROBE|GET UNMAP (wrong direction)");

	/* MAP input validation: 24 tests */
	m = good_map();
	call_case(d.fd, F_SET | VFIO_DEVICE_FEATURE_MEMATTR_MAP, &m, sizeof(m), HDR + sizeof(m) - 1, EINVAL,
		  "MAP argsz one byte short");
	call_case(d.fd, F_SET | VFIO_DEVICE_FEATURE_MEMATTR_MAP, &m, sizeof(m),
		  HDR + offsetof(struct vfio_device_feature_memattr_map, attr), EINVAL,
		  "MAP argsz without the output fields");
	call_case(d.fd, F_GET | VFIO_DEVICE_FEATURE_MEMATTR_MAP, &m, sizeof(m), 0, EINVAL,
		  "MAP with GET instead of SET");
	m = good_map(); m.flags = 1;
	map_case(d.fd, m, EINVAL, "MAP flags 1");
	m = good_map(); m.flags = 0x80000000u;
	map_case(d.fd, m, EINVAL, "MAP flags 0x80000000");
	m = good_map(); m.reserved = 1;
	map_case(d.fd, m, EINVAL, "MAP reserved != 0");
	m = good_map(); m.prefs[1] = VFIO_MEMATTR_WC;
	map_case(d.fd, m, EINVAL, "MAP unused prefs[1] != 0");
	m = good_map(); m.prefs[7] = VFIO_MEMATTR_NC + 2;
	map_case(d.fd, m, EINVAL, "MAP unused prefs[7] != 0");
	m = good_map(); m.index = VFIO_PCI_ROM_REGION_INDEX;
	map_case(d.fd, m, EINVAL, "MAP index 6 (ROM)");
	m = good_map(); m.index = VFIO_PCI_CONFIG_REGION_INDEX;
	map_case(d.fd, m, EINVAL, "MAP index 7 (config)");
	m = good_map(); m.index = VFIO_PCI_VGA_REGION_INDEX;
	map_case(d.fd, m, EINVAL, "MAP index 8 (VGA)");
	m = good_map(); m.index = 0xffffffffu;
	map_case(d.fd, m, EINVAL, "MAP index 0xffffffff");
	/* a handle index as index */
	rc = ma_map1(d.fd, 2, O3M, K64, VFIO_MEMATTR_NC, &h1);
	m = good_map(); m.index = rc ? VFIO_MEMATTR_HANDLE_INDEX_BASE : h1.handle; m.offset = 0;
	map_case(d.fd, m, EINVAL, "MAP with a live handle index as index");
	if (!rc)
		ma_unmap(d.fd, h1.handle);
	m = good_map(); m.offset = O3M + 8;
	map_case(d.fd, m, EINVAL, "MAP offset not page aligned");
	m = good_map(); m.length = K64 - 8;
	map_case(d.fd, m, EINVAL, "MAP length not page aligned");
	m = good_map(); m.length = 0;
	map_case(d.fd, m, EINVAL, "MAP length 0");
	m = good_map(); m.offset = ~0ull & ~(MA_PAGE - 1); m.length = MA_PAGE;
	map_case(d.fd, m, EINVAL, "MAP offset ~0 & PAGE_MASK (offset + length overflows)");
	m = good_map(); m.offset = MA_PAGE; m.length = ~0ull & ~(MA_PAGE - 1);
	map_case(d.fd, m, EINVAL, "MAP length ~0 & PAGE_MASK (overflow)");
	m = good_map(); m.offset = bsz - MA_PAGE; m.length = 2 * MA_PAGE;
	map_case(d.fd, m, EINVAL, "MAP range crossing the end of BAR2");
	m = good_map(); m.offset = bsz; m.length = MA_PAGE;
	map_case(d.fd, m, EINVAL, "MAP range starting at the end of BAR2");
	m = good_map(); m.nr_prefs = 0; m.prefs[0] = 0;
	map_case(d.fd, m, EINVAL, "MAP nr_prefs 0");
	m = good_map(); m.nr_prefs = VFIO_MEMATTR_MAX_PREFS + 1;
	map_case(d.fd, m, EINVAL, "MAP nr_prefs 9");
	m = good_map(); m.prefs[0] = 3;
	map_case(d.fd, m, EINVAL, "MAP attr 3");
	m = good_map(); m.prefs[0] = 255;
	map_case(d.fd, m, EINVAL, "MAP attr 255");

	/* 33: an unknown attribute later in the list */
	m = good_map(); m.nr_prefs = 2; m.prefs[1] = 3;
	map_case(d.fd, m, EINVAL, "MAP prefs {WC, 3}");

	/* 34-35: unimplemented BAR -> EOPNOTSUPP, BAR_INFO NOT_MEM_BAR */
	{
		int bar, empty = -1;
		struct vfio_device_feature_memattr_bar_info bi;

		for (bar = 1; bar < 6 && empty < 0; bar++) {
			uint64_t s = 0, z = 0;

			if (bar != 2 && !ma_bar_phys(bdf, (unsigned int)bar, &s, &z) && z == 0)
				empty = bar;
		}
		if (empty < 0) {
			tap_fail_n(2, "no unimplemented BAR on ivshmem0");
		} else {
			m = good_map(); m.index = (uint32_t)empty; m.offset = 0; m.length = MA_PAGE;
			m.prefs[0] = VFIO_MEMATTR_NC;
			{
				char desc[64];

				snprintf(desc, sizeof(desc), "MAP NC of unimplemented BAR%d", empty);
				map_case(d.fd, m, EOPNOTSUPP, desc);
			}
			rc = ma_bar_info(d.fd, (uint32_t)empty, &bi);
			ok = !rc && bi.size == 0 && bi.supported == 0 &&
			     bi.reason[0] == VFIO_MEMATTR_NOT_MEM_BAR && bi.reason[1] == VFIO_MEMATTR_NOT_MEM_BAR &&
			     bi.reason[2] == VFIO_MEMATTR_NOT_MEM_BAR;
			if (!ok)
				tap_diag("BAR_INFO BAR%d: rc %s size 0x%llx supported 0x%x reasons %u %u %u", empty,
					 ma_errname(-rc), (unsigned long long)bi.size, bi.supported,
					 bi.reason[0], bi.reason[1], bi.reason[2]);
			tap_ok(ok, "BAR_INFO of unimplemented BAR%d: size 0, nothing supported, NOT_MEM_BAR", empty);
		}
	}

	/* 36-40: overlaps */
	rc = ma_map1(d.fd, 2, O3M, K64, VFIO_MEMATTR_WC, &h1);
	tap_errno(rc, 0, "MAP WC [3M, 3M+64K)");
	m = good_map(); m.offset = O3M + K64 / 2; m.prefs[0] = VFIO_MEMATTR_NC;
	map_case(d.fd, m, EBUSY, "MAP NC overlapping the WC handle");
	m = good_map(); m.offset = O3M - MA_PAGE; m.length = 2 * MA_PAGE; m.prefs[0] = VFIO_MEMATTR_DEV;
	map_case(d.fd, m, EBUSY, "MAP DEV overlapping the first page of the WC handle");
	{
		uint8_t prefs[2] = { VFIO_MEMATTR_NC, VFIO_MEMATTR_WC };

		rc = ma_map(d.fd, 2, O3M + K64 / 2, K64, prefs, 2, &h2);
		ok = !rc && h2.attr == VFIO_MEMATTR_WC;
		if (!ok)
			tap_diag("MAP {NC, WC} overlapping WC: %s attr %u", ma_errname(-rc), h2.attr);
		tap_ok(ok, "MAP prefs {NC, WC} overlapping a WC handle -> WC (first honourable entry)");
		if (!rc)
			ma_unmap(d.fd, h2.handle);
	}
	{
		uint8_t prefs[2] = { VFIO_MEMATTR_NC, VFIO_MEMATTR_DEV };

		m = good_map(); m.offset = O3M + K64 / 2; m.nr_prefs = 2;
		memcpy(m.prefs, prefs, 2);
		map_case(d.fd, m, EBUSY, "MAP prefs {NC, DEV} both overlapping a WC handle (errno of the first)");
	}

	/* 41-44: ENOSPC with max_handles = 2 (one live: h1) */
	{
		char saved[32] = "";
		const char *pp = MA_PARAM_DIR "/max_handles";
		struct vfio_device_feature_memattr_map a, b;

		rc = sysfs_read_str(pp, saved, sizeof(saved));
		tap_diag("max_handles was '%s'", saved);
		rc = rc ? rc : sysfs_write_str(pp, "2");
		if (rc) {
			tap_diag("%s: %s", pp, ma_errname(-rc));
			tap_fail_n(4, "cannot set max_handles");
		} else {
			rc = ma_map1(d.fd, 2, O3M + 2 * K64, MA_PAGE, VFIO_MEMATTR_NC, &a);
			tap_errno(rc, 0, "max_handles 2: second handle");
			m = good_map(); m.offset = O3M + 3 * K64; m.length = MA_PAGE;
			map_case(d.fd, m, ENOSPC, "max_handles 2: third handle");
			rc = ma_map1(d.fd, 2, O3M, K64, VFIO_MEMATTR_WC, &b);
			ok = !rc && b.handle == h1.handle;
			tap_ok(ok, "max_handles 2: identical request still returns the existing handle (%s)",
			       ma_errname(-rc));
			ma_unmap(d.fd, a.handle);
			rc = ma_map1(d.fd, 2, O3M + 3 * K64, MA_PAGE, VFIO_MEMATTR_WC, &b);
			tap_errno(rc, 0, "max_handles 2: after a release a new handle fits");
			if (!rc)
				ma_unmap(d.fd, b.handle);
			sysfs_write_str(pp, saved[0] ? saved : "1024");
		}
	}

	/* 45-50: HANDLE and UNMAP */
	handle_case(d.fd, VFIO_MEMATTR_HANDLE_INDEX_BASE + 0xfffff, 0, false, ENOENT,
		    "HANDLE GET of a bogus handle");
	handle_case(d.fd, 0, 0, false, ENOENT, "HANDLE GET of handle 0 (a BAR index)");
	handle_case(d.fd, h1.handle, 1, false, EINVAL, "HANDLE GET flags 1");
	handle_case(d.fd, h1.handle, 0, true, EINVAL, "HANDLE GET argsz one byte short");
	unmap_case(d.fd, VFIO_MEMATTR_HANDLE_INDEX_BASE + 0xfffff, 0, ENOENT, "UNMAP of a bogus handle");
	unmap_case(d.fd, h1.handle, 1, EINVAL, "UNMAP flags 1 (the live handle survives)");

	/* 51-54: BAR_INFO */
	bar_info_case(d.fd, 2, 1, 0, false, "BAR_INFO flags 1");
	bar_info_case(d.fd, 2, 0, 1, false, "BAR_INFO reserved != 0");
	bar_info_case(d.fd, VFIO_PCI_ROM_REGION_INDEX, 0, 0, false, "BAR_INFO index 6");
	bar_info_case(d.fd, h1.handle, 0, 0, false, "BAR_INFO with a live handle index as index");
	bar_info_case(d.fd, 2, 0, 0, true, "BAR_INFO argsz one byte short");

	/* 55: GET_REGION_INFO of an index that is no handle */
	{
		struct vfio_region_info ri;

		rc = region_info(d.fd, VFIO_MEMATTR_HANDLE_INDEX_BASE + 0xfffff, &ri);
		tap_errno(rc, EINVAL, "GET_REGION_INFO of a handle index never handed out");
	}

	/* 56: the WC handle survived all of it */
	{
		struct vfio_device_feature_memattr_handle hg;

		rc = ma_handle(d.fd, h1.handle, &hg);
		ok = !rc && hg.attr == VFIO_MEMATTR_WC && hg.offset == O3M && hg.length == K64 &&
		     ma_nr_handles(d.fd, 2) == 1 &&
		     pat_check_bar(bp, bp + bsz, &(struct pat_expect){ bp + O3M, bp + O3M + K64, "write-combining" },
				   1, 1);
		tap_ok(ok, "after all failed calls the WC handle is intact and the only one (PAT exact)");
		ma_unmap(d.fd, h1.handle);
	}
	/* 57: a live ioeventfd on BAR0 -> MAP of BAR0 EBUSY */
	{
		struct vfio_region_info ri0;
		struct vfio_device_ioeventfd ie;
		int efd = eventfd(0, EFD_CLOEXEC);

		memset(&ie, 0, sizeof(ie));
		ie.argsz = sizeof(ie);
		ie.flags = VFIO_DEVICE_IOEVENTFD_32;
		ie.data = 0;
		rc = efd < 0 ? -errno : region_info(d.fd, 0, &ri0);
		if (!rc) {
			ie.offset = ri0.offset;
			ie.fd = efd;
			rc = ioctl(d.fd, VFIO_DEVICE_IOEVENTFD, &ie) ? -errno : 0;
		}
		if (rc) {
			tap_diag("VFIO_DEVICE_IOEVENTFD on BAR0: %s", ma_errname(-rc));
			tap_fail_n(1, "cannot set an ioeventfd on ivshmem0 BAR0");
		} else {
			m = good_map(); m.index = 0; m.offset = 0; m.length = MA_PAGE; m.prefs[0] = VFIO_MEMATTR_NC;
			map_case(d.fd, m, EBUSY, "MAP NC of BAR0 while an ioeventfd is set on it");
			ie.fd = -1;
			if (ioctl(d.fd, VFIO_DEVICE_IOEVENTFD, &ie))
				tap_diag("removing the ioeventfd: %s", strerror(errno));
		}
		if (efd >= 0)
			close(efd);
	}
	vdev_close(&d);

	/* 58: EPERM on edu BAR0 */
	{
		char attrp[256], saved[16] = "", why[256];
		const char *edu = ma_bdf("MEMATTR_EDU", why, sizeof(why));
		struct vdev e;

		if (!edu) {
			tap_skip_rest_of(1, why);
		} else {
			snprintf(attrp, sizeof(attrp), "/sys/bus/pci/devices/%s/memattr_nonprefetchable_wc", edu);
			rc = sysfs_read_str(attrp, saved, sizeof(saved));
			if (rc)	/* the attribute is tested in memattr_pat; the default is no opt-in */
				tap_diag("%s: %s", attrp, ma_errname(-rc));
			rc = rc ? 0 : sysfs_write_str(attrp, "0");
			if (rc || vdev_open(&e, edu)) {
				tap_diag("edu setup: %s", ma_errname(-rc));
				tap_fail_n(1, "cannot set up edu");
			} else {
				int nr = ma_nr_handles(e.fd, 0);

				rc = ma_map1(e.fd, 0, 0, MA_PAGE, VFIO_MEMATTR_WC, &m);
				ok = rc == -EPERM && ma_nr_handles(e.fd, 0) == nr && nr == 0;
				tap_ok(ok, "MAP WC on edu BAR0 (non-prefetchable, no opt-in) -> EPERM (got %s), nothing created",
				       ma_errname(-rc));
				vdev_close(&e);
			}
			if (saved[0])
				sysfs_write_str(attrp, saved);
		}
	}

	/* 59-62: stock vfio-pci on ivshmem1 */
	{
		char drv[64] = "", why[256];
		const char *b1 = ma_bdf("MEMATTR_IVSHMEM1", why, sizeof(why));
		struct vdev s;

		if (!b1) {
			tap_skip_rest_of(4, why);
		} else if (ma_pci_driver(b1, drv, sizeof(drv)) || strcmp(drv, "vfio-pci") ||
			   vdev_open(&s, b1)) {
			tap_diag("ivshmem1 %s driver '%s'", b1, drv);
			tap_fail_n(4, "ivshmem1 not usable with stock vfio-pci");
		} else {
			uint32_t feats[4] = { VFIO_DEVICE_FEATURE_MEMATTR_BAR_INFO, VFIO_DEVICE_FEATURE_MEMATTR_MAP,
					      VFIO_DEVICE_FEATURE_MEMATTR_HANDLE, VFIO_DEVICE_FEATURE_MEMATTR_UNMAP };
			uint32_t dirs[4] = { F_GET, F_SET, F_GET, F_SET };
			int i;

			for (i = 0; i < 4; i++) {
				rc = ma_feat_raw(s.fd, F_PROBE | dirs[i] | feats[i], NULL, NULL, 0, 0);
				tap_diag("stock vfio-pci PROBE of feature 0x%x: %s", feats[i],
					 rc ? ma_errname(-rc) : "success");
				tap_ok(rc == -ENOTTY || rc == -EINVAL,
				       "stock vfio-pci: PROBE of feature 0x%x fails (%s)", feats[i],
				       rc ? ma_errname(-rc) : "success");
			}
			vdev_close(&s);
		}
	}

	return tap_done();
}
