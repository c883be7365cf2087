// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * memattr_pat - PAT honesty of vfio-pci-memattr handles, preference order,
 * mixing WC and NC on one BAR, the non-prefetchable policy (edu BAR0), and
 * the interplay with the legacy BAR region (mmap EBUSY both ways, pread and
 * pwrite in every state).
 *
 * Data written: ivshmem0 BAR2 [2 MiB + 256 KiB, 2 MiB + 768 KiB) only.
 */
#define _GNU_SOURCE
#define _FILE_OFFSET_BITS 64
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lib/tap.h"
#include "lib/sysfs.h"
#include "lib/vfio.h"
#include "lib/memattr.h"
#include "lib/mmio.h"
#include "lib/hostcheck.h"
#include "lib/pat.h"

#define NTESTS 31

#define P		(2 * MA_MIB + 256 * 1024)	/* our slice of ivshmem0 BAR2 */
#define K64		(64 * 1024ull)
#define WC_OFF		(P)				/* mixing: WC */
#define NC_OFF		(P + K64)			/* mixing: NC */
#define PREF_OFF	(P + 2 * K64)			/* {WC, NC} */
#define DEV_OFF		(P + 3 * K64)			/* {DEV} */
#define LEG_OFF		(P + 4 * K64)			/* legacy interplay */

#define SEED_WC		0xba7c000000000001ull
#define SEED_NC		0xba7c000000000002ull
#define SEED_PREF	0xba7c000000000003ull
#define SEED_DEV	0xba7c000000000004ull
#define SEED_LEGW	0xba7c000000000005ull
#define SEED_HWR	0xba7c000000000006ull
#define SEED_LMMAP	0xba7c000000000007ull

static const char *bdf, *edu;
static uint64_t bp, bsz;	/* ivshmem0 BAR2 */

static int ma_rebind(const char *dev)
{
	char path[256];
	int rc;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver/unbind", dev);
	rc = sysfs_write_str(path, dev);
	if (rc)
		return rc;
	return sysfs_write_str("/sys/bus/pci/drivers_probe", dev);
}

/* MAP WC of edu BAR0 page 0 on a fresh open: 0 (attr WC, PAT honest) or -errno. */
static int edu_try_wc(const char *dev, uint64_t ep, uint64_t esz)
{
	struct vfio_device_feature_memattr_map m;
	struct vdev e;
	int rc;

	rc = vdev_open(&e, dev);
	if (rc)
		return rc;
	rc = ma_map1(e.fd, 0, 0, MA_PAGE, VFIO_MEMATTR_WC, &m);
	if (!rc) {
		struct pat_expect x = { ep, ep + MA_PAGE, "write-combining" };

		if (m.attr != VFIO_MEMATTR_WC || !pat_check_bar(ep, ep + esz, &x, 1, 1)) {
			tap_diag("edu WC handle: attr %u", m.attr);
			rc = -EIO;
		}
	}
	vdev_close(&e);
	return rc;
}

/* Policy on edu BAR0 (non-prefetchable): 8 tests. */
static void edu_tests(void)
{
	struct vdev e;
	struct vfio_device_feature_memattr_map m;
	char attrp[256], saved[16] = "", drv[64] = "", pp[256], psaved[16] = "";
	uint64_t ep = 0, esz = 0;
	int rc, ok, nr, have_attr;
	struct pat_snap efresh;
	uint8_t prefs[2] = { VFIO_MEMATTR_WC, VFIO_MEMATTR_NC };

	snprintf(attrp, sizeof(attrp), "/sys/bus/pci/devices/%s/memattr_nonprefetchable_wc", edu);
	snprintf(pp, sizeof(pp), MA_PARAM_DIR "/nonprefetchable_wc");
	ma_pci_driver(edu, drv, sizeof(drv));
	if (strcmp(drv, "vfio-pci-memattr") || ma_bar_phys(edu, 0, &ep, &esz) || !esz) {
		tap_diag("edu %s: driver '%s', BAR0 size 0x%" PRIx64, edu, drv, esz);
		tap_fail_n(8, "edu device not bound to vfio-pci-memattr");
		return;
	}
	sysfs_read_str(pp, psaved, sizeof(psaved));
	rc = sysfs_read_str(attrp, saved, sizeof(saved));
	have_attr = !rc;
	if (rc)
		tap_diag("per-device attribute %s: %s", attrp, ma_errname(-rc));
	else if (sysfs_write_str(attrp, "0"))
		tap_diag("cannot write 0 to %s", attrp);
	if (!have_attr && (psaved[0] == 'Y' || psaved[0] == '1')) {
		tap_fail_n(8, "no per-device attribute and nonprefetchable_wc=Y: cannot test without opt-in");
		return;
	}
	if (vdev_open(&e, edu)) {
		tap_fail_n(8, "cannot open edu");
		return;
	}
	tap_diag("edu BAR0 phys 0x%" PRIx64 " size 0x%" PRIx64 ", opt-in was '%s', parameter '%s'", ep, esz,
		 saved, psaved);
	pat_snap_take(ep, ep + esz, &efresh);

	/* 1: {WC, NC} without opt-in -> NC */
	rc = ma_map(e.fd, 0, 0, MA_PAGE, prefs, 2, &m);
	ok = !rc && m.attr == VFIO_MEMATTR_NC;
	if (ok) {
		struct pat_expect x = { ep, ep + MA_PAGE, "uncached-minus" };
		volatile uint32_t *r = ma_map_fd(e.fd, m.mmap_offset, MA_PAGE);

		ok = pat_check_bar(ep, ep + esz, &x, 1, 1);
		if (r) {
			/* edu: 0x00 identification, 0x04 liveness (reads back ~value) */
			uint32_t id = r[0];

			r[1] = 0x12345678u;
			ok = ok && (id & 0xffff) == 0x00ed && r[1] == ~0x12345678u;
			if (!ok)
				tap_diag("edu id 0x%08x liveness 0x%08x", id, r[1]);
			munmap((void *)r, MA_PAGE);
		} else {
			tap_diag("mmap edu handle: %s", strerror(errno));
			ok = 0;
		}
		ma_unmap(e.fd, m.handle);
	} else {
		tap_diag("MAP edu {WC,NC}: %s attr %u", ma_errname(-rc), m.attr);
	}
	tap_ok(ok, "edu BAR0 {WC, NC} without opt-in -> NC, PAT uncached-minus, registers work");

	/* 2: {WC} -> EPERM, nothing created */
	nr = ma_nr_handles(e.fd, 0);
	rc = ma_map1(e.fd, 0, 0, MA_PAGE, VFIO_MEMATTR_WC, &m);
	tap_errno(rc, EPERM, "edu BAR0 {WC} without opt-in");
	/* 3 */
	{
		struct vfio_device_feature_memattr_bar_info bi;

		rc = ma_bar_info(e.fd, 0, &bi);
		ok = !rc && bi.nr_handles == (uint32_t)nr && bi.nr_handles == 0 &&
		     bi.reason[VFIO_MEMATTR_WC] == VFIO_MEMATTR_NOT_PREFETCH &&
		     bi.reason[VFIO_MEMATTR_DEV] == VFIO_MEMATTR_OK &&
		     bi.reason[VFIO_MEMATTR_NC] == VFIO_MEMATTR_OK &&
		     pat_snap_same(ep, ep + esz, &efresh);
		if (!ok) {
			tap_diag("BAR_INFO edu: rc %s nr %u reasons %u %u %u", ma_errname(-rc), bi.nr_handles,
				 bi.reason[0], bi.reason[1], bi.reason[2]);
			pat_dump(ep, ep + esz);
		}
		tap_ok(ok, "after EPERM: no handle, PAT as on a fresh open, BAR_INFO reason NOT_PREFETCH for WC, OK for DEV");
	}
	/* 4: {DEV} needs no opt-in: it is the kernel's own ioremap() type */
	{
		uint8_t a = VFIO_MEMATTR_DEV;
		struct pat_expect x = { ep, ep + MA_PAGE, "uncached-minus" };

		rc = ma_map(e.fd, 0, 0, MA_PAGE, &a, 1, &m);
		ok = !rc && m.attr == VFIO_MEMATTR_DEV && pat_check_bar(ep, ep + esz, &x, 1, 1);
		if (!rc)
			ma_unmap(e.fd, m.handle);
		tap_ok(ok, "edu BAR0 {DEV} without opt-in -> DEV, no other type in the PAT list (%s)",
		       rc ? ma_errname(-rc) : "ok");
	}

	/* 5: opt in through sysfs -> WC honest */
	ok = 0;
	rc = have_attr ? sysfs_write_str(attrp, "1") : -ENOENT;
	if (!rc) {
		struct vfio_device_feature_memattr_bar_info bi;

		rc = ma_map1(e.fd, 0, MA_PAGE, MA_PAGE, VFIO_MEMATTR_WC, &m);
		if (!rc && m.attr == VFIO_MEMATTR_WC) {
			struct pat_expect x = { ep + MA_PAGE, ep + 2 * MA_PAGE, "write-combining" };
			volatile uint32_t *r = ma_map_fd(e.fd, m.mmap_offset, MA_PAGE);

			ok = pat_check_bar(ep, ep + esz, &x, 1, 1) && r;
			if (r) {
				(void)r[0];
				ok = ok && pat_check_bar(ep, ep + esz, &x, 1, 1);
				munmap((void *)r, MA_PAGE);
			}
			ok = ok && !ma_bar_info(e.fd, 0, &bi) &&
			     bi.reason[VFIO_MEMATTR_WC] == VFIO_MEMATTR_OK;
			ma_unmap(e.fd, m.handle);
		} else {
			tap_diag("MAP edu WC with opt-in: %s attr %u", ma_errname(-rc), m.attr);
		}
	} else {
		tap_diag("write 1 to %s: %s", attrp, ma_errname(-rc));
	}
	tap_ok(ok, "per-device memattr_nonprefetchable_wc=1: edu BAR0 WC allowed, PAT write-combining, reason OK");

	/* 6: opt out again: new requests refused */
	if (have_attr) {
		rc = sysfs_write_str(attrp, "0");
		rc = rc ? rc : ma_map1(e.fd, 0, 2 * MA_PAGE, MA_PAGE, VFIO_MEMATTR_WC, &m);
		tap_errno(rc, EPERM, "per-device memattr_nonprefetchable_wc=0 again: new WC request");
	} else {
		tap_ok(0, "per-device memattr_nonprefetchable_wc=0 again: new WC request -> EPERM (attribute missing)");
	}
	vdev_close(&e);
	if (saved[0])
		sysfs_write_str(attrp, saved);

	/* 7-8: module parameter: default for devices bound later (behaviour, and the attribute if any) */
	{
		char v[16] = "";
		int bound;

		rc = sysfs_write_str(pp, "1");
		rc = rc ? rc : ma_rebind(edu);
		bound = !rc;
		ma_pci_driver(edu, drv, sizeof(drv));
		if (have_attr)
			sysfs_read_str(attrp, v, sizeof(v));
		ok = !rc && !strcmp(drv, "vfio-pci-memattr") && (!have_attr || !strcmp(v, "1"));
		if (ok) {
			rc = edu_try_wc(edu, ep, esz);
			ok = !rc;
		}
		if (!ok)
			tap_diag("param=1 rebind: rc %s driver '%s' device attr '%s'", ma_errname(-rc), drv, v);
		tap_ok(ok, "module parameter nonprefetchable_wc=1, edu rebound: WC allowed on BAR0 and honest");
		rc = sysfs_write_str(pp, (psaved[0] == 'Y' || psaved[0] == '1') ? "1" : "0");
		if (bound)
			rc = rc ? rc : ma_rebind(edu);
		ma_pci_driver(edu, drv, sizeof(drv));
		ok = !rc && !strcmp(drv, "vfio-pci-memattr");
		if (ok) {
			rc = edu_try_wc(edu, ep, esz);
			ok = rc == -EPERM;
		}
		if (!ok)
			tap_diag("restore: rc %s driver '%s' param was '%s'", ma_errname(-rc), drv, psaved);
		tap_ok(ok, "parameter restored, edu rebound: WC on BAR0 -> EPERM again");
		if (saved[0])
			sysfs_write_str(attrp, saved);
	}
}

int main(void)
{
	struct vdev d;
	struct vfio_device_feature_memattr_map wc, nc, m;
	struct vfio_region_info ri2;
	volatile uint8_t *wmap = NULL, *nmap = NULL;
	uint8_t buf[4096];
	int rc, ok, have_wc, have_nc, stock_entries = -1;
	struct pat_snap fresh;
	char edu_why[256];

	tap_plan(NTESTS);
	bdf = ma_bdf_or_skip("MEMATTR_IVSHMEM0");
	edu = ma_bdf("MEMATTR_EDU", edu_why, sizeof(edu_why));

	/* control: what the stock vfio-pci holds on ivshmem1 while open */
	{
		const char *b1 = ma_bdf("MEMATTR_IVSHMEM1", NULL, 0);
		uint64_t s1, z1;
		struct vdev s;

		if (b1 && !ma_bar_phys(b1, 2, &s1, &z1) && z1 && !vdev_open(&s, b1)) {
			stock_entries = pat_count(s1, s1 + z1);
			tap_diag("control: stock vfio-pci ivshmem1 open, BAR2 PAT entries: %d", stock_entries);
			pat_dump(s1, s1 + z1);
			vdev_close(&s);
		}
	}

	/* 1 */
	ok = pat_available();
	tap_ok(ok, "PAT list /sys/kernel/debug/x86/pat_memtype_list is readable");
	if (vdev_open(&d, bdf) || ma_bar_phys(bdf, 2, &bp, &bsz) || bsz < 4 * MA_MIB) {
		tap_fail_n(NTESTS - 1, "cannot open ivshmem0 or BAR2 is not 4 MiB");
		return tap_done();
	}
	tap_diag("fresh open of ivshmem0: PAT entries on BAR2 before any handle:");
	pat_dump(bp, bp + bsz);
	pat_snap_take(bp, bp + bsz, &fresh);
	if (region_info(d.fd, 2, &ri2)) {
		tap_fail_n(NTESTS - 1, "GET_REGION_INFO(BAR2) failed");
		return tap_done();
	}

	/* 2: legacy pread first (vfio-pci maps the BAR for rw), then WC must still be honest */
	rc = region_pread(d.fd, 2, WC_OFF, buf, sizeof(buf));
	if (rc)
		tap_diag("pread legacy BAR2 before MAP: %s", ma_errname(-rc));
	rc = rc ? rc : ma_map1(d.fd, 2, WC_OFF, K64, VFIO_MEMATTR_WC, &wc);
	have_wc = !rc && wc.attr == VFIO_MEMATTR_WC;
	ok = have_wc;
	if (ok) {
		struct pat_expect x = { bp + WC_OFF, bp + WC_OFF + K64, "write-combining" };

		ok = pat_check_bar(bp, bp + bsz, &x, 1, 1);
	} else {
		tap_diag("MAP WC: %s attr %u", ma_errname(-rc), wc.attr);
	}
	tap_ok(ok, "legacy pread, then MAP WC: PAT exactly the range write-combining, no other entry on BAR2");

	/* 3: NC next to it */
	rc = ma_map1(d.fd, 2, NC_OFF, K64, VFIO_MEMATTR_NC, &nc);
	have_nc = !rc && nc.attr == VFIO_MEMATTR_NC;
	ok = have_nc && have_wc;
	if (ok) {
		struct pat_expect x[2] = {
			{ bp + WC_OFF, bp + WC_OFF + K64, "write-combining" },
			{ bp + NC_OFF, bp + NC_OFF + K64, "uncached-minus" },
		};

		ok = pat_check_bar(bp, bp + bsz, x, 2, 1);
	} else {
		tap_diag("MAP NC: %s attr %u", ma_errname(-rc), nc.attr);
	}
	tap_ok(ok, "MAP NC adjacent: two PAT entries, write-combining and uncached-minus, exact ranges");

	/* 4: write through both, legacy readback, PAT after touch */
	ok = 0;
	if (have_wc && have_nc) {
		wmap = ma_map_fd(d.fd, wc.mmap_offset, K64);
		nmap = ma_map_fd(d.fd, nc.mmap_offset, K64);
		if (wmap && nmap) {
			struct pat_expect x[2] = {
				{ bp + WC_OFF, bp + WC_OFF + K64, "write-combining" },
				{ bp + NC_OFF, bp + NC_OFF + K64, "uncached-minus" },
			};

			ok = ma_fill_check(wmap, K64, SEED_WC) & ma_fill_check(nmap, K64, SEED_NC);
			ok = ok && ma_legacy_check(d.fd, WC_OFF, K64, SEED_WC) &&
			     ma_legacy_check(d.fd, NC_OFF, K64, SEED_NC) &&
			     pat_check_bar(bp, bp + bsz, x, 2, 1);
			if (ok) {
				ma_hostcheck(WC_OFF, K64, SEED_WC, "memattr_pat: mixing, WC half");
				ma_hostcheck(NC_OFF, K64, SEED_NC, "memattr_pat: mixing, NC half");
			}
		} else {
			tap_diag("mmap: %s", strerror(errno));
		}
	}
	tap_ok(ok, "mixing: data through WC and NC mappings reaches the BAR, PAT types unchanged after touch");

	/* 5: handle region pread/pwrite for the NC handle */
	ok = 0;
	if (have_nc && nmap) {
		uint8_t w[4096];

		buf_fill(w, sizeof(w), SEED_HWR);
		rc = rawfd_pwrite(d.fd, nc.mmap_offset + K64 - sizeof(w), w, sizeof(w));
		ok = !rc && mmio_check(nmap + K64 - sizeof(w), sizeof(w), SEED_HWR) == sizeof(w);
		memset(buf, 0, sizeof(buf));
		rc = rc ? rc : rawfd_pread(d.fd, nc.mmap_offset, buf, sizeof(buf));
		ok = ok && !rc && buf_check(buf, sizeof(buf), SEED_NC) == sizeof(buf);
		if (rc)
			tap_diag("handle rw: %s", ma_errname(-rc));
		/* restore the host-checked pattern */
		mmio_fill(nmap, K64, SEED_NC);
		mmio_sfence();
	}
	tap_ok(ok, "pread/pwrite at the NC handle's region offset access its BAR range");

	/* 6: legacy pwrite inside a live WC handle shows through the WC mapping */
	ok = 0;
	if (wmap) {
		uint8_t w[4096];

		buf_fill(w, sizeof(w), SEED_LEGW);
		rc = region_pwrite(d.fd, 2, WC_OFF + MA_PAGE, w, sizeof(w));
		ok = !rc && mmio_check(wmap + MA_PAGE, sizeof(w), SEED_LEGW) == sizeof(w);
		if (rc)
			tap_diag("legacy pwrite: %s", ma_errname(-rc));
		mmio_fill(wmap, K64, SEED_WC);
		mmio_sfence();
		ok = ok && ma_legacy_check(d.fd, WC_OFF, K64, SEED_WC);
	}
	tap_ok(ok, "legacy pwrite/pread while WC handles live: data consistent with the WC mapping");

	/* 7: {WC, NC} on a prefetchable BAR -> WC */
	{
		uint8_t prefs[2] = { VFIO_MEMATTR_WC, VFIO_MEMATTR_NC };

		rc = ma_map(d.fd, 2, PREF_OFF, K64, prefs, 2, &m);
		ok = !rc && m.attr == VFIO_MEMATTR_WC && pat_has_exact(bp + PREF_OFF, bp + PREF_OFF + K64,
									 "write-combining");
		if (!ok) {
			tap_diag("MAP {WC,NC}: %s attr %u", ma_errname(-rc), m.attr);
			pat_dump(bp, bp + bsz);
		}
		if (!rc) {
			volatile uint8_t *p = ma_map_fd(d.fd, m.mmap_offset, K64);

			ok = ok && p && ma_fill_check(p, K64, SEED_PREF) &&
			     ma_legacy_check(d.fd, PREF_OFF, K64, SEED_PREF);
			if (ok)
				ma_hostcheck(PREF_OFF, K64, SEED_PREF, "memattr_pat: {WC,NC} mapping");
			if (p)
				munmap((void *)p, K64);
			ma_unmap(d.fd, m.handle);
		}
		tap_ok(ok, "prefs {WC, NC} on prefetchable BAR2 -> WC, PAT write-combining, data arrives");
	}

	/* 8: {DEV} -> DEV, UC- */
	{
		uint8_t a = VFIO_MEMATTR_DEV;

		rc = ma_map(d.fd, 2, DEV_OFF, K64, &a, 1, &m);
		ok = !rc && m.attr == VFIO_MEMATTR_DEV;
		if (ok) {
			volatile uint8_t *p = ma_map_fd(d.fd, m.mmap_offset, K64);
			struct pat_expect x[3] = {
				{ bp + WC_OFF, bp + WC_OFF + K64, "write-combining" },
				{ bp + NC_OFF, bp + NC_OFF + K64, "uncached-minus" },
				{ bp + DEV_OFF, bp + DEV_OFF + K64, "uncached-minus" },
			};

			ok = p && ma_fill_check(p, K64, SEED_DEV) && ma_legacy_check(d.fd, DEV_OFF, K64, SEED_DEV) &&
			     pat_check_bar(bp, bp + bsz, x, 3, 1);
			if (ok)
				ma_hostcheck(DEV_OFF, K64, SEED_DEV, "memattr_pat: DEV mapping");
			if (p)
				munmap((void *)p, K64);
			ma_unmap(d.fd, m.handle);
		} else {
			tap_diag("MAP {DEV}: %s attr %u", ma_errname(-rc), m.attr);
		}
		tap_ok(ok, "prefs {DEV} on x86 -> DEV, PAT uncached-minus, data arrives");
	}

	/* 9: same-attribute overlap is allowed and honest */
	rc = ma_map1(d.fd, 2, WC_OFF + 16 * 1024, 16 * 1024, VFIO_MEMATTR_WC, &m);
	ok = !rc && m.attr == VFIO_MEMATTR_WC && m.handle != wc.handle;
	if (ok) {
		struct pat_expect x[3] = {
			{ bp + WC_OFF, bp + WC_OFF + K64, "write-combining" },
			{ bp + NC_OFF, bp + NC_OFF + K64, "uncached-minus" },
			{ bp + WC_OFF + 16 * 1024, bp + WC_OFF + 32 * 1024, "write-combining" },
		};

		ok = pat_check_bar(bp, bp + bsz, x, 3, 1);
	} else {
		tap_diag("overlapping WC MAP: %s handle 0x%x", ma_errname(-rc), m.handle);
	}
	if (!rc)
		ma_unmap(d.fd, m.handle);
	tap_ok(ok, "WC handle inside a WC handle: allowed, its own write-combining entry");

	/* 10: legacy mmap refused while handles live */
	{
		void *p = mmap(NULL, MA_PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, d.fd,
			       (off_t)(ri2.offset + LEG_OFF));
		int e = errno;

		if (p != MAP_FAILED)
			munmap(p, MA_PAGE);
		tap_errno(p == MAP_FAILED ? -e : 0, EBUSY, "mmap of the legacy BAR2 offset while handles live");
	}

	/* 11: released but still mapped also blocks the legacy mmap */
	ma_unmap(d.fd, wc.handle);
	ma_unmap(d.fd, nc.handle);
	{
		void *p = mmap(NULL, MA_PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, d.fd,
			       (off_t)(ri2.offset + LEG_OFF));
		int e = errno;

		if (p != MAP_FAILED)
			munmap(p, MA_PAGE);
		tap_errno(p == MAP_FAILED ? -e : 0, EBUSY,
			  "mmap of the legacy BAR2 offset while released handles are still mapped");
	}

	/* 12: after munmap, no PAT entry, legacy mmap works */
	if (wmap)
		munmap((void *)wmap, K64);
	if (nmap)
		munmap((void *)nmap, K64);
	wmap = nmap = NULL;
	rc = ma_nr_handles(d.fd, 2);
	ok = rc == 0 && pat_snap_same(bp, bp + bsz, &fresh);
	tap_ok(ok, "handles released and unmapped: nr_handles 0 (got %d), BAR2 PAT as on a fresh open (stock control: %d entries)",
	       rc, stock_entries);

	/* 13: legacy mmap now allowed */
	{
		volatile uint8_t *lm = mmap(NULL, K64, PROT_READ | PROT_WRITE, MAP_SHARED, d.fd,
					    (off_t)(ri2.offset + LEG_OFF));

		if (lm == MAP_FAILED) {
			tap_diag("legacy mmap: %s", strerror(errno));
			lm = NULL;
		}
		ok = lm && ma_fill_check(lm, K64, SEED_LMMAP) && ma_legacy_check(d.fd, LEG_OFF, K64, SEED_LMMAP);
		if (ok)
			ma_hostcheck(LEG_OFF, K64, SEED_LMMAP, "memattr_pat: legacy mmap");
		tap_ok(ok, "legacy mmap of BAR2 works with no handle; data arrives");
		if (lm) {
			struct vfio_memattr__pat_entry ents[16];
			int i, n = pat_overlapping(bp, bp + bsz, ents, 16);

			for (i = 0; i < n; i++)
				tap_diag("legacy mmap PAT: [0x%" PRIx64 "-0x%" PRIx64 "] %s", ents[i].start,
					 ents[i].end, ents[i].type);
		}

		/* 14: MAP refused while the legacy mmap exists, nothing created */
		rc = ma_map1(d.fd, 2, WC_OFF, K64, VFIO_MEMATTR_WC, &m);
		tap_errno(rc, EBUSY, "MAP WC while a legacy mmap of BAR2 exists");
		/* 15 */
		rc = ma_map1(d.fd, 2, WC_OFF, K64, VFIO_MEMATTR_NC, &m);
		ok = rc == -EBUSY && ma_nr_handles(d.fd, 2) == 0;
		tap_ok(ok, "MAP NC while a legacy mmap exists -> EBUSY (got %s), nr_handles 0",
		       ma_errname(-rc));

		/* 16: pread/pwrite still work with a legacy mmap */
		ok = 0;
		if (lm) {
			uint8_t w[4096];

			buf_fill(w, sizeof(w), SEED_LEGW);
			rc = region_pwrite(d.fd, 2, LEG_OFF, w, sizeof(w));
			ok = !rc && mmio_check(lm, sizeof(w), SEED_LEGW) == sizeof(w);
			mmio_fill(lm, K64, SEED_LMMAP);
			mmio_sfence();
			ok = ok && ma_legacy_check(d.fd, LEG_OFF, K64, SEED_LMMAP);
		}
		tap_ok(ok, "pread/pwrite of the legacy region work while it is mmapped");
		if (lm)
			munmap((void *)lm, K64);
	}

	/* 17: after legacy munmap MAP succeeds and is honest */
	rc = ma_map1(d.fd, 2, WC_OFF, K64, VFIO_MEMATTR_WC, &m);
	ok = !rc && m.attr == VFIO_MEMATTR_WC;
	if (ok) {
		volatile uint8_t *p = ma_map_fd(d.fd, m.mmap_offset, K64);
		struct pat_expect x = { bp + WC_OFF, bp + WC_OFF + K64, "write-combining" };

		ok = p && mmio_check(p, K64, SEED_WC) == K64 && pat_check_bar(bp, bp + bsz, &x, 1, 1);
		if (p)
			munmap((void *)p, K64);
		ma_unmap(d.fd, m.handle);
	} else {
		tap_diag("MAP after legacy munmap: %s", ma_errname(-rc));
	}
	tap_ok(ok, "after legacy munmap, MAP WC succeeds: old data visible, PAT write-combining only");

	/* 18: close: nothing left */
	vdev_close(&d);
	ok = pat_check_bar(bp, bp + bsz, NULL, 0, 0);
	tap_ok(ok, "after close: no PAT entry on ivshmem0 BAR2");

	/* 19-26: edu policy */
	if (edu)
		edu_tests();
	else
		tap_skip_rest_of(8, edu_why);

	/* 27-31: x86 PAT of NVMe CMB through memattr (another prefetchable BAR?) */
	{
		char why[256];
		const char *nv = ma_bdf("MEMATTR_NVME", why, sizeof(why));
		struct vdev n;
		int bar, cmb = -1;
		uint64_t np = 0, nsz = 0;

		if (!nv) {
			tap_skip_rest_of(5, why);
			return tap_done();
		}
		if (vdev_open(&n, nv)) {
			tap_fail_n(5, "cannot open the NVMe device");
			return tap_done();
		}
		for (bar = 2; bar <= 4; bar += 2) {
			struct vfio_device_feature_memattr_bar_info bi;

			if (!ma_bar_info(n.fd, (uint32_t)bar, &bi) && bi.size >= 16 * MA_MIB) {
				cmb = bar;
				break;
			}
		}
		/* 27 */
		tap_ok(cmb >= 0 && !ma_bar_phys(nv, (unsigned int)cmb, &np, &nsz),
		       "NVMe: a BAR of >= 16 MiB (the CMB) found: BAR%d", cmb);
		if (cmb < 0) {
			tap_fail_n(4, "no CMB BAR");
			vdev_close(&n);
			return tap_done();
		}
		/* 28: WC over the whole CMB */
		rc = ma_map1(n.fd, (uint32_t)cmb, 0, nsz, VFIO_MEMATTR_WC, &m);
		ok = !rc && m.attr == VFIO_MEMATTR_WC;
		if (ok) {
			struct pat_expect x = { np, np + nsz, "write-combining" };

			ok = pat_check_bar(np, np + nsz, &x, 1, 1);
		} else {
			tap_diag("MAP CMB WC: %s attr %u", ma_errname(-rc), m.attr);
		}
		tap_ok(ok, "NVMe CMB BAR%d whole-BAR WC handle: PAT write-combining exactly", cmb);
		/* 29: data through the CMB */
		ok = 0;
		if (!rc) {
			volatile uint8_t *p = ma_map_fd(n.fd, m.mmap_offset, 1 * MA_MIB);

			if (p) {
				ok = ma_fill_check(p, K64, 0xcb0000000000001ull);
				{
					uint8_t *b = malloc(K64);

					ok = ok && b && !region_pread(n.fd, (uint32_t)cmb, 0, b, K64) &&
					     buf_check(b, K64, 0xcb0000000000001ull) == K64;
					free(b);
				}
				munmap((void *)p, 1 * MA_MIB);
			} else {
				tap_diag("mmap CMB: %s", strerror(errno));
			}
		}
		tap_ok(ok, "NVMe CMB: WC stores read back through the mapping and the legacy region");
		/* 30: NC overlapping the WC handle -> EBUSY */
		{
			struct vfio_device_feature_memattr_map m2;

			int rc2 = ma_map1(n.fd, (uint32_t)cmb, MA_MIB, MA_PAGE, VFIO_MEMATTR_NC, &m2);

			tap_errno(rc2, EBUSY, "NVMe CMB NC page inside the WC handle");
		}
		if (!rc)
			ma_unmap(n.fd, m.handle);
		vdev_close(&n);
		/* 31 */
		ok = pat_check_bar(np, np + nsz, NULL, 0, 0);
		tap_ok(ok, "NVMe closed: no PAT entry on the CMB BAR");
	}

	return tap_done();
}
