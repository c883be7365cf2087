/* SPDX-License-Identifier: GPL-2.0-only OR MIT */
/*
 * ptecheck.h - the guest side of the test-only page table oracle
 * (tests/ptecheck, /sys/kernel/debug/memattr_ptecheck): what the user page
 * table entry mapping an address of this process says, decoded by the
 * kernel module through the PAT MSR (x86) or MAIR_EL1 (arm64).
 */
#ifndef MEMATTR_TEST_PTECHECK_H
#define MEMATTR_TEST_PTECHECK_H

#include <stdint.h>

#define PTECHECK_PATH "/sys/kernel/debug/memattr_ptecheck"

struct pte_info {
	char level[8];		/* "pte", "pmd", "pud" */
	char mode[24];		/* "WC", "UC-", "Normal-NC", "Device-nGnRnE", ... */
	uint64_t pfn, prot, vm_flags;
	unsigned int idx, attr;
	int cont;		/* arm64 contiguous bit */
	int io, pfnmap;
	int allow_any_uncached;	/* -1: the kernel has no VM_ALLOW_ANY_UNCACHED */
	char line[320];		/* the oracle's raw answer */
};

/* 1 if the oracle is loaded. */
int pte_oracle_available(void);
/* Query the entry mapping @addr (touch it first); 0 or -errno. */
int pte_query(const volatile void *addr, struct pte_info *out);

/*
 * The cache mode the page tables must show for a memattr attribute
 * (VFIO_MEMATTR_WC/NC/DEV), or for a stock vfio-pci mapping (attr -1):
 * x86 WC, UC-, UC-, UC-; arm64 Normal-NC, Device-nGnRnE, Device-nGnRE,
 * Device-nGnRnE.
 */
const char *pte_expected_mode(int attr);

#define PTECHECK_PAGE 4096ull

/*
 * The user PTE of @p (touched here first, under a guard) is @mode with the
 * PFN of @phys, io=1, pfnmap=1; 1 if so, else 0 with TAP diagnostics
 * naming @what.
 */
int pte_is(const volatile void *p, const char *mode, uint64_t phys, const char *what);
/*
 * The oracle finds no populated entry at @p (ENOENT: not touched since
 * it was mapped or zapped); 1 if so, else 0 with a diagnostic.  Does not
 * touch @p.
 */
int pte_zapped(const volatile void *p, const char *what);

#endif /* MEMATTR_TEST_PTECHECK_H */
