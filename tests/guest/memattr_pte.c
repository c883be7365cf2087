// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * memattr_pte - the user page table entries of handle mappings, read back
 * through the test-only oracle tests/ptecheck (memattr_ptecheck.ko):
 * WC handles of ivshmem0 BAR2 and of the NVMe CMB (BAR2) really are WC
 * (x86: PAT index -> PAT MSR entry WC; arm64: AttrIndx -> MAIR Normal-NC),
 * NC handles UC- (arm64 Device-nGnRnE), DEV handles UC- (arm64
 * Device-nGnRE), at 4 KiB and at PMD size where the kernel maps huge PFN
 * entries; the entry's PFN is the BAR's; the VMA carries VM_IO, VM_PFNMAP
 * and, where the kernel has it, VM_ALLOW_ANY_UNCACHED (as vfio-pci's own
 * BAR mmaps do since 6.9); a stock vfio-pci mapping (ivshmem1) is
 * UC-/Device-nGnRnE.
 * This is the arm64 replacement of the x86 PAT list checks too.
 *
 * Writes no data: it only reads one word at each end of what it maps
 * (ivshmem0 BAR2 [0, 4 MiB), NVMe CMB [0, 4 MiB), ivshmem1 BAR2 [0, 64K)).
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
#include "lib/sigbus.h"
#include "lib/ptecheck.h"

#define NTESTS 13
#define M2 (2 * MA_MIB)
#define K64 (64 * 1024ull)

/*
 * Check the entries mapping the first and the last page of [p, p + len):
 * mode, level, PFN (BAR physical @phys), VM_IO|VM_PFNMAP.  Returns 1 if
 * right; @first gets the first page's answer.
 */
static int check_entries(volatile uint8_t *p, size_t len, uint64_t phys, const char *mode,
			 const char *level, struct pte_info *first)
{
	size_t offs[2] = { 0, len - MA_PAGE };
	int i, ok = 1;

	for (i = 0; i < 2; i++) {
		struct pte_info pi;
		uint64_t want_pfn = (phys + offs[i]) / MA_PAGE;
		int sig, rc;

		sig = probe_access((volatile uint64_t *)(p + offs[i]), 0, 0, NULL);
		rc = sig ? -EFAULT : pte_query(p + offs[i], &pi);
		if (rc) {
			tap_diag("page +0x%zx: %s", offs[i], sig ? "access raised a signal" : ma_errname(-rc));
			ok = 0;
			continue;
		}
		tap_diag("page +0x%zx: %s", offs[i], strtok(pi.line, "\n"));
		if (strcmp(pi.mode, mode) || strcmp(pi.level, level) || pi.pfn != want_pfn ||
		    !pi.io || !pi.pfnmap) {
			tap_diag("  want mode=%s level=%s pfn=0x%" PRIx64 " io=1 pfnmap=1", mode, level, want_pfn);
			ok = 0;
		}
		if (i == 0 && first)
			*first = pi;
	}
	return ok;
}

struct hcase {
	const char *name;	/* device name for the description */
	int fd;
	uint64_t bar_phys;
	uint64_t off, len;
	uint8_t attr;
	int huge;		/* mapped at a 2 MiB aligned address, PMD expected */
};

/* One handle: MAP, mmap, check, unmap; one TAP line.  -1: not reached. */
static int run_case(const struct hcase *c, int huge_ok, struct pte_info *first)
{
	struct vfio_device_feature_memattr_map m;
	const char *mode = pte_expected_mode(c->attr);
	const char *level = "pte";
	volatile uint8_t *p;
	void *res = NULL;
	size_t reslen = 0;
	int rc, ok;

	if (c->huge) {
		if (!huge_ok) {
			tap_skip("this kernel maps no huge PFN entries (debugfs huge_pfnmap 0)",
				 "%s BAR2 %s handle [0x%" PRIx64 ", +2M) at a 2 MiB aligned address: PMD entries %s",
				 c->name, attr_name(c->attr), c->off, mode);
			return -1;
		}
		if ((c->bar_phys + c->off) % M2)
			tap_diag("BAR2 + 0x%" PRIx64 " is not 2 MiB aligned physically: PTEs expected", c->off);
		else
			level = "pmd";
	}
	rc = ma_map1(c->fd, 2, c->off, c->len, c->attr, &m);
	if (rc || m.attr != c->attr) {
		tap_ok(0, "%s BAR2 %s handle [0x%" PRIx64 ", +0x%" PRIx64 "): MAP failed (%s, attr %u)",
		       c->name, attr_name(c->attr), c->off, c->len, ma_errname(-rc), rc ? 0 : m.attr);
		return 0;
	}
	p = ma_map_aligned(c->fd, m.mmap_offset, c->len, c->huge ? 0 : MA_PAGE, &res, &reslen);
	if (!p) {
		tap_diag("mmap: %s", strerror(errno));
		ok = 0;
	} else {
		ok = check_entries(p, c->len, c->bar_phys + c->off, mode, level, first);
		munmap(res, reslen);
	}
	ma_unmap(c->fd, m.handle);
	tap_ok(ok, "%s BAR2 %s handle [0x%" PRIx64 ", +0x%" PRIx64 "): user %s entries %s, PFNs of the BAR",
	       c->name, attr_name(c->attr), c->off, c->len, level, mode);
	return ok;
}

int main(void)
{
	struct vdev iv0, nvme, iv1;
	struct pte_info wc_first, leg;
	uint64_t bp0, bs0, bpn, bsn, bp1, bs1;
	int64_t huge = -1;
	const char *b0, *bn, *b1;
	int ok, rc, have_iv0, have_nvme, have_iv1;

	b0 = ma_bdf_or_skip("MEMATTR_IVSHMEM0");
	bn = ma_bdf_or_skip("MEMATTR_NVME");
	b1 = ma_bdf_or_skip("MEMATTR_IVSHMEM1");
	tap_plan(NTESTS);
	tap_diag("arch %s; expected: WC %s, NC %s, DEV %s, stock vfio-pci %s",
#if defined(__aarch64__)
		 "arm64 (AttrIndx through MAIR_EL1)",
#else
		 "x86-64 (PAT/PCD/PWT through the PAT MSR)",
#endif
		 pte_expected_mode(VFIO_MEMATTR_WC), pte_expected_mode(VFIO_MEMATTR_NC),
		 pte_expected_mode(VFIO_MEMATTR_DEV), pte_expected_mode(-1));

	/* 1 */
	if (!tap_ok(pte_oracle_available(), "page table oracle %s is loaded (tests/ptecheck)", PTECHECK_PATH)) {
		tap_fail_n(NTESTS - 1, "no oracle");
		return tap_done();
	}
	have_iv0 = !vdev_open(&iv0, b0) && !ma_bar_phys(b0, 2, &bp0, &bs0) && bs0 >= 4 * MA_MIB;
	have_nvme = !vdev_open(&nvme, bn) && !ma_bar_phys(bn, 2, &bpn, &bsn) && bsn >= 4 * MA_MIB;
	have_iv1 = !vdev_open(&iv1, b1) && !ma_bar_phys(b1, 2, &bp1, &bs1) && bs1 >= K64;
	rc = ma_stat(b0, "huge_pfnmap", &huge);
	/* 2 */
	ok = have_iv0 && have_nvme && have_iv1 && !rc && (huge == 0 || huge == 1);
	tap_ok(ok, "ivshmem0, NVMe and ivshmem1 open, BAR2s found, huge_pfnmap %" PRId64, huge);
	if (!ok) {
		tap_fail_n(NTESTS - 2, "devices missing");
		return tap_done();
	}
	tap_diag("ivshmem0 BAR2 0x%" PRIx64 "+0x%" PRIx64 ", NVMe CMB 0x%" PRIx64 "+0x%" PRIx64
		 ", ivshmem1 BAR2 0x%" PRIx64, bp0, bs0, bpn, bsn, bp1);

	const struct hcase cases[] = {
		{ "ivshmem0", iv0.fd, bp0, 0x3d0000, K64, VFIO_MEMATTR_WC, 0 },	/* 3 */
		{ "ivshmem0", iv0.fd, bp0, 0x3e0000, K64, VFIO_MEMATTR_NC, 0 },	/* 4 */
		{ "ivshmem0", iv0.fd, bp0, 0x3f0000, K64, VFIO_MEMATTR_DEV, 0 },	/* 5 */
		{ "ivshmem0", iv0.fd, bp0, 0, M2, VFIO_MEMATTR_WC, 1 },		/* 6 */
		{ "ivshmem0", iv0.fd, bp0, M2, M2, VFIO_MEMATTR_NC, 1 },		/* 7 */
		{ "NVMe CMB", nvme.fd, bpn, 0, K64, VFIO_MEMATTR_WC, 0 },		/* 8 */
		{ "NVMe CMB", nvme.fd, bpn, K64, K64, VFIO_MEMATTR_NC, 0 },		/* 9 */
		{ "NVMe CMB", nvme.fd, bpn, M2, M2, VFIO_MEMATTR_WC, 1 },		/* 10 */
	};
	int first_ok;
	size_t i;

	memset(&wc_first, 0, sizeof(wc_first));
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		run_case(&cases[i], huge == 1, i == 0 ? &wc_first : NULL);
	first_ok = wc_first.line[0] != 0;	/* the WC handle's first entry was read */

	/* 11: vfio-pci's own mapping: the type of pgprot_noncached() */
	{
		volatile uint8_t *p = ma_map_fd(iv1.fd, ((uint64_t)2 << 40), K64);
		int sig = p ? probe_access((volatile uint64_t *)p, 0, 0, NULL) : -1;

		rc = p && !sig ? pte_query(p, &leg) : -EFAULT;
		if (!rc)
			tap_diag("ivshmem1 (vfio-pci) BAR2 legacy mmap: %s", strtok(leg.line, "\n"));
		ok = !rc && !strcmp(leg.mode, pte_expected_mode(-1)) && leg.pfn == bp1 / MA_PAGE;
		tap_ok(ok, "stock vfio-pci BAR2 mmap (ivshmem1): %s at the BAR's PFN (%s)",
		       pte_expected_mode(-1), rc ? ma_errname(-rc) : leg.mode);
		if (p)
			munmap((void *)p, K64);
	}
	/* 12: VM_ALLOW_ANY_UNCACHED: on handle VMAs exactly where vfio-pci sets it */
	if (!first_ok) {
		tap_ok(0, "VM_ALLOW_ANY_UNCACHED on a WC handle VMA: no entry read");
	} else if (wc_first.allow_any_uncached < 0) {
		tap_ok(wc_first.io && wc_first.pfnmap,
		       "WC handle VMA: VM_IO|VM_PFNMAP (vm_flags 0x%" PRIx64 "); this kernel has no VM_ALLOW_ANY_UNCACHED",
		       wc_first.vm_flags);
	} else {
		tap_ok(wc_first.allow_any_uncached == 1,
		       "WC handle VMA carries VM_ALLOW_ANY_UNCACHED (vm_flags 0x%" PRIx64 "; vfio-pci's: %d)",
		       wc_first.vm_flags, rc ? -2 : leg.allow_any_uncached);
	}
	/* 13: the oracle answers only for populated PFN maps of this process */
	{
		struct pte_info pi;
		volatile uint64_t *anon = mmap(NULL, MA_PAGE, PROT_READ | PROT_WRITE,
					       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		int ra = -1, rh = -1;

		if (anon != MAP_FAILED) {
			*anon = 1;
			ra = pte_query(anon, &pi);
			munmap((void *)anon, MA_PAGE);
			rh = pte_query(anon, &pi);	/* now unmapped */
		}
		tap_ok(ra == -EINVAL && rh == -EFAULT,
		       "oracle: anonymous memory -> EINVAL (%s), an unmapped address -> EFAULT (%s)",
		       ra ? ma_errname(-ra) : "answered", rh ? ma_errname(-rh) : "answered");
	}
	vdev_close(&iv1);
	vdev_close(&nvme);
	vdev_close(&iv0);
	return tap_done();
}
