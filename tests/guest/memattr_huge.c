// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * memattr_huge - huge (PMD) faults of handle mappings: a WC handle of
 * ivshmem0 BAR2 [0, 2 MiB) mapped at a 2 MiB aligned address is mapped by
 * one PMD fault where the kernel can map PMD PFN entries (debugfs stats
 * huge_pfnmap 1), by PTE faults at an unaligned address; revocation and
 * refault of the PMD; PAT of the range.
 *
 * Writes no data: [0, 2 MiB) belongs to other tests, it is only read.
 */
#define _GNU_SOURCE
#define _FILE_OFFSET_BITS 64
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
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
#include "lib/sigbus.h"
#include "lib/pat.h"

#define NTESTS 13
#define M2 (2 * MA_MIB)

static const char *bdf;

struct st {
	int64_t pte, pmd, pud;
};

static int stats(struct st *s)
{
	return ma_stat(bdf, "pte_faults", &s->pte) || ma_stat(bdf, "pmd_faults", &s->pmd) ||
	       ma_stat(bdf, "pud_faults", &s->pud) ? -1 : 0;
}

static int compare_legacy(int fd, volatile uint8_t *p, uint64_t bar_off, size_t len)
{
	uint8_t *b = ma_legacy_read(fd, bar_off, len);
	size_t i;
	int same = b != NULL;

	for (i = 0; same && i < len; i += 8)
		if (*(volatile uint64_t *)(p + i) != *(uint64_t *)(b + i)) {
			tap_diag("mapping and legacy pread differ at 0x%zx", (size_t)bar_off + i);
			same = 0;
		}
	free(b);
	return same;
}

int main(void)
{
	struct vdev d;
	struct vfio_device_feature_memattr_map m;
	struct st s0, s1, s2;
	volatile uint8_t *p = NULL;
	void *res = NULL;
	size_t reslen = 0;
	uint64_t bp, bsz;
	int64_t huge = -1;
	int rc, ok, sig;

	tap_plan(NTESTS);
	bdf = ma_bdf_or_skip("MEMATTR_IVSHMEM0");
	if (vdev_open(&d, bdf) || ma_bar_phys(bdf, 2, &bp, &bsz) || bsz < 4 * MA_MIB) {
		tap_fail_n(NTESTS, "cannot open ivshmem0 or BAR2 is not 4 MiB");
		return tap_done();
	}

	struct pat_snap fresh;

	pat_snap_take(bp, bp + bsz, &fresh);
	/* 1 */
	rc = ma_stat(bdf, "huge_pfnmap", &huge);
	ok = !rc && (huge == 0 || huge == 1) && !stats(&s0);
	tap_ok(ok, "debugfs vfio-pci-memattr/%s/stats: huge_pfnmap %" PRId64 ", fault counters readable", bdf, huge);
	tap_diag("BAR2 phys 0x%" PRIx64 " (2 MiB aligned: %s)", bp, (bp % M2) ? "no" : "yes");

	/* 2 */
	rc = ma_map1(d.fd, 2, 0, M2, VFIO_MEMATTR_WC, &m);
	ok = !rc && m.attr == VFIO_MEMATTR_WC;
	tap_ok(ok, "MAP WC BAR2 [0, 2M) (%s)", ma_errname(-rc));
	if (!ok) {
		tap_fail_n(NTESTS - 2, "no handle");
		return tap_done();
	}

	/* 3 */
	p = ma_map_aligned(d.fd, m.mmap_offset, M2, 0, &res, &reslen);
	ok = p && !((uintptr_t)p % M2);
	if (!p)
		tap_diag("mmap: %s", strerror(errno));
	tap_ok(ok, "handle mmapped at a 2 MiB aligned address (%p)", (void *)p);
	if (!p) {
		tap_fail_n(NTESTS - 3, "no mapping");
		return tap_done();
	}

	/* 4: one touch */
	stats(&s0);
	sig = probe_access((volatile uint64_t *)(p + 4096 * 3), 0, 0, NULL);
	stats(&s1);
	tap_diag("after one touch: pte %" PRId64 "->%" PRId64 " pmd %" PRId64 "->%" PRId64 " pud %" PRId64 "->%" PRId64,
		 s0.pte, s1.pte, s0.pmd, s1.pmd, s0.pud, s1.pud);
	if (huge != 1) {
		tap_skip("kernel cannot map PMD PFN entries (huge_pfnmap 0)",
			 "one touch of an aligned 2 MiB WC mapping -> exactly one PMD fault, no PTE fault");
	} else {
		ok = !sig && s1.pmd == s0.pmd + 1 && s1.pte == s0.pte && s1.pud == s0.pud;
		tap_ok(ok, "one touch of an aligned 2 MiB WC mapping -> exactly one PMD fault, no PTE fault");
	}

	/* 5: reading all 2 MiB faults no more (PMD) and matches the legacy region */
	ok = compare_legacy(d.fd, p, 0, M2);
	stats(&s2);
	if (huge != 1) {
		tap_ok(ok, "whole 2 MiB readable through the mapping, equal to the legacy region");
	} else {
		ok = ok && s2.pmd == s1.pmd && s2.pte == s1.pte;
		if (!ok)
			tap_diag("after reading 2 MiB: pte %" PRId64 " pmd %" PRId64, s2.pte, s2.pmd);
		tap_ok(ok, "whole 2 MiB read with no further fault, equal to the legacy region");
	}

	/* 6: PAT */
	{
		struct pat_expect x = { bp, bp + M2, "write-combining" };

		tap_ok(pat_check_bar(bp, bp + bsz, &x, 1, 1), "PAT: [BAR2, BAR2+2M) write-combining exactly, nothing else");
	}

	/* 7-9: revoke and refault of the PMD */
	rc = cmd_memory(d.fd, 0);
	sig = rc ? 0 : probe_access((volatile uint64_t *)p, 0, 0, NULL);
	tap_ok(!rc && sig == SIGBUS, "memory disabled: the huge mapping raises SIGBUS (%s)",
	       sig == SIGBUS ? "SIGBUS" : sig ? "other signal" : "no signal");
	rc = cmd_memory(d.fd, 1);
	stats(&s0);
	sig = rc ? -1 : probe_access((volatile uint64_t *)(p + M2 - 8), 0, 0, NULL);
	stats(&s1);
	if (huge != 1)
		tap_ok(!sig && (s1.pte > s0.pte || s1.pmd > s0.pmd), "memory enabled: the mapping refaults");
	else
		tap_ok(!sig && s1.pmd == s0.pmd + 1 && s1.pte == s0.pte,
		       "memory enabled: the mapping refaults with one PMD fault (pte +%" PRId64 ", pmd +%" PRId64 ")",
		       s1.pte - s0.pte, s1.pmd - s0.pmd);
	{
		struct pat_expect x = { bp, bp + M2, "write-combining" };

		tap_ok(!sig && pat_check_bar(bp, bp + bsz, &x, 1, 1), "after refault: PAT still write-combining exactly");
	}
	munmap(res, reslen);
	p = NULL;

	/* 10-11: unaligned mapping of a 1 MiB handle at aligned + 4K: PTE faults only */
	{
		struct vfio_device_feature_memattr_map m2;

		rc = ma_map1(d.fd, 2, 0, MA_MIB, VFIO_MEMATTR_WC, &m2);
		p = rc ? NULL : ma_map_aligned(d.fd, m2.mmap_offset, MA_MIB, MA_PAGE, &res, &reslen);
		ok = p != NULL;
		tap_ok(ok, "a second WC handle [0, 1M) inside the first, mmapped at aligned + 4K (%s)", ma_errname(-rc));
		if (p) {
			stats(&s0);
			sig = probe_access((volatile uint64_t *)p, 0, 0, NULL);
			stats(&s1);
			ok = !sig && s1.pte >= s0.pte + 1 && s1.pmd == s0.pmd && s1.pud == s0.pud &&
			     compare_legacy(d.fd, p, 0, 64 * 1024);
			if (!ok)
				tap_diag("unaligned: sig %d pte %" PRId64 "->%" PRId64 " pmd %" PRId64 "->%" PRId64,
					 sig, s0.pte, s1.pte, s0.pmd, s1.pmd);
			munmap(res, reslen);
		}
		tap_ok(p && ok, "a touch of an unaligned mapping -> PTE fault(s), no PMD fault; data equal");
		if (!rc)
			ma_unmap(d.fd, m2.handle);
	}

	/* 12-13 */
	rc = ma_unmap(d.fd, m.handle);
	tap_ok(!rc && ma_nr_handles(d.fd, 2) == 0 && pat_snap_same(bp, bp + bsz, &fresh),
	       "released and unmapped: nr_handles 0, BAR2 PAT as on a fresh open");
	vdev_close(&d);
	tap_ok(pat_check_bar(bp, bp + bsz, NULL, 0, 0), "closed: no PAT entry on BAR2");
	return tap_done();
}
