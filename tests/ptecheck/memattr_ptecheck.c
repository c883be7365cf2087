// SPDX-License-Identifier: GPL-2.0-only
/*
 * memattr_ptecheck - test-only oracle of the vfio-memattr lab.
 *
 * Never installed or shipped: the lab loads it into its guests so that a
 * test can ask what the page tables really say about one of its own
 * mappings.  A pread() of /sys/kernel/debug/memattr_ptecheck at file offset
 * ADDR (a user address of the calling process) returns one line:
 *
 *   addr=0x... level=pte|pmd|pud pfn=0x... prot=0x... idx=N attr=0x..
 *   mode=WC cont=0 vm_flags=0x... io=1 pfnmap=1 allow_any_uncached=1
 *
 * level is the page table level of the entry mapping ADDR; prot its
 * attribute bits; mode the cache mode those bits select:
 *   x86: PAT index (PAT, PCD, PWT) looked up in the PAT MSR -> WB, WC,
 *        UC-, UC, WT, WP;
 *   arm64: AttrIndx looked up in MAIR_EL1 -> Normal, Normal-NC,
 *        Device-nGnRnE, Device-nGnRE, Device-nGRE, Device-GRE, Normal-WT,
 *        Normal-tagged (cont is the contiguous bit).
 * allow_any_uncached is -1 where the kernel has no VM_ALLOW_ANY_UNCACHED.
 * Only VM_IO/VM_PFNMAP mappings that are populated are answered; else the
 * read fails with EFAULT (no VMA), EINVAL (not a PFN map) or ENOENT (not
 * populated: touch the address first).
 */
#include <linux/debugfs.h>
#include <linux/kernel.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/sched.h>
#include <linux/uaccess.h>

enum ptecheck_level { PTECHECK_PTE, PTECHECK_PMD, PTECHECK_PUD };

static const char * const ptecheck_level_name[] = { "pte", "pmd", "pud" };

struct ptecheck_entry {
	enum ptecheck_level level;
	unsigned long pfn;
	u64 prot;
};

static struct dentry *ptecheck_file;

#ifdef PTECHECK_HAVE_FOLLOW_PFNMAP
#ifndef PTECHECK_HAVE_PFNMAP_ADDR_MASK
/*
 * follow_pfnmap_args without addr_mask: a huge entry was found when the
 * walk kept no PTE pointer; the PUD tells PUD from PMD (upper tables are
 * not freed while mmap_lock is held).
 */
static enum ptecheck_level ptecheck_huge_level(struct vm_area_struct *vma,
					       unsigned long addr,
					       const struct follow_pfnmap_args *args)
{
	pud_t *pudp;

	if (args->ptep)
		return PTECHECK_PTE;
	pudp = pud_offset(p4d_offset(pgd_offset(vma->vm_mm, addr), addr), addr);
	return pud_leaf(READ_ONCE(*pudp)) ? PTECHECK_PUD : PTECHECK_PMD;
}
#endif

static int ptecheck_walk(struct vm_area_struct *vma, unsigned long addr,
			 struct ptecheck_entry *e)
{
	struct follow_pfnmap_args args = { .vma = vma, .address = addr };
	int ret;

	ret = follow_pfnmap_start(&args);
	if (ret)
		return -ENOENT;
	e->pfn = args.pfn;
	e->prot = (u64)pgprot_val(args.pgprot);
#ifdef PTECHECK_HAVE_PFNMAP_ADDR_MASK
	if (args.addr_mask == PAGE_MASK)
		e->level = PTECHECK_PTE;
	else if (args.addr_mask == PMD_MASK)
		e->level = PTECHECK_PMD;
	else
		e->level = PTECHECK_PUD;
#else
	e->level = ptecheck_huge_level(vma, addr, &args);
#endif
	follow_pfnmap_end(&args);
	return 0;
}
#elif defined(PTECHECK_HAVE_FOLLOW_PTE_MM)
/* Kernels without huge PFN maps: the entry is always a PTE. */
static int ptecheck_walk(struct vm_area_struct *vma, unsigned long addr,
			 struct ptecheck_entry *e)
{
	spinlock_t *ptl;	/* the PTE table lock, taken by follow_pte() */
	pte_t *ptep;
	pte_t pte;

	if (follow_pte(vma->vm_mm, addr, &ptep, &ptl))
		return -ENOENT;
	__acquire(ptl);	/* follow_pte() returned with ptl held */
	pte = *ptep;
	pte_unmap_unlock(ptep, ptl);
	e->level = PTECHECK_PTE;
	e->pfn = pte_pfn(pte);
	e->prot = (u64)pgprot_val(pte_pgprot(pte));
	return 0;
}
#else
#error "memattr_ptecheck: neither follow_pfnmap_start() nor follow_pte(mm, ...) in these headers"
#endif

#if defined(CONFIG_X86)
/* PAT MSR entry types (Intel SDM vol. 3, 13.12.2) */
static const char *ptecheck_pat_type(unsigned int t)
{
	switch (t) {
	case 0: return "UC";
	case 1: return "WC";
	case 4: return "WT";
	case 5: return "WP";
	case 6: return "WB";
	case 7: return "UC-";
	default: return "reserved";
	}
}

static int ptecheck_decode(const struct ptecheck_entry *e, char *buf, size_t len)
{
	unsigned int pat_bit = e->level == PTECHECK_PTE ? 7 : 12;
	unsigned int idx, type;
	u32 lo, hi;
	u64 pat;

	asm volatile("rdmsr" : "=a" (lo), "=d" (hi) : "c" (0x277));
	pat = (u64)hi << 32 | lo;
	idx = ((e->prot >> pat_bit) & 1) << 2 | ((e->prot >> 4) & 1) << 1 | ((e->prot >> 3) & 1);
	type = (pat >> (idx * 8)) & 7;
	return scnprintf(buf, len, "idx=%u attr=0x%02x mode=%s cont=0", idx, type,
			 ptecheck_pat_type(type));
}
#elif defined(CONFIG_ARM64)
/* MAIR attribute encodings (Arm ARM D8.5) */
static const char *ptecheck_mair_type(unsigned int a)
{
	switch (a) {
	case 0x00: return "Device-nGnRnE";
	case 0x04: return "Device-nGnRE";
	case 0x08: return "Device-nGRE";
	case 0x0c: return "Device-GRE";
	case 0x44: return "Normal-NC";
	case 0xbb: return "Normal-WT";
	case 0xf0: return "Normal-tagged";
	case 0xff: return "Normal";
	default: return "other";
	}
}

static int ptecheck_decode(const struct ptecheck_entry *e, char *buf, size_t len)
{
	unsigned int idx = (e->prot >> 2) & 7;
	unsigned int attr;
	u64 mair;

	mair = read_sysreg(mair_el1);
	attr = (mair >> (idx * 8)) & 0xff;
	return scnprintf(buf, len, "idx=%u attr=0x%02x mode=%s cont=%u", idx, attr,
			 ptecheck_mair_type(attr), (unsigned int)((e->prot >> 52) & 1));
}
#else
#error "memattr_ptecheck: x86 and arm64 only"
#endif

static int ptecheck_allow_any_uncached(const struct vm_area_struct *vma)
{
#ifdef VM_ALLOW_ANY_UNCACHED
	return !!(vma->vm_flags & VM_ALLOW_ANY_UNCACHED);
#else
	return -1;
#endif
}

static ssize_t ptecheck_read(struct file *file, char __user *ubuf, size_t count,
			     loff_t *ppos)
{
	unsigned long addr = (unsigned long)*ppos;
	struct mm_struct *mm = current->mm;
	struct ptecheck_entry e;
	struct vm_area_struct *vma;
	unsigned long vm_flags;
	char buf[320];
	int n, ret, any_uc;

	if (!mm)
		return -EINVAL;
	mmap_read_lock(mm);
	vma = find_vma(mm, addr);
	if (!vma || vma->vm_start > addr) {
		mmap_read_unlock(mm);
		return -EFAULT;
	}
	if (!(vma->vm_flags & (VM_IO | VM_PFNMAP))) {
		mmap_read_unlock(mm);
		return -EINVAL;
	}
	vm_flags = vma->vm_flags;
	any_uc = ptecheck_allow_any_uncached(vma);
	ret = ptecheck_walk(vma, addr, &e);
	mmap_read_unlock(mm);
	if (ret)
		return ret;

	n = scnprintf(buf, sizeof(buf), "addr=0x%lx level=%s pfn=0x%lx prot=0x%llx ",
		      addr, ptecheck_level_name[e.level], e.pfn, (unsigned long long)e.prot);
	n += ptecheck_decode(&e, buf + n, sizeof(buf) - n);
	n += scnprintf(buf + n, sizeof(buf) - n,
		       " vm_flags=0x%lx io=%d pfnmap=%d allow_any_uncached=%d\n",
		       vm_flags, !!(vm_flags & VM_IO), !!(vm_flags & VM_PFNMAP), any_uc);
	if (count < (size_t)n)
		return -EINVAL;
	if (copy_to_user(ubuf, buf, n))
		return -EFAULT;
	return n;
}

static const struct file_operations ptecheck_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.read = ptecheck_read,
	.llseek = default_llseek,
};

static int __init ptecheck_init(void)
{
	ptecheck_file = debugfs_create_file("memattr_ptecheck", 0400, NULL, NULL,
					    &ptecheck_fops);
	return IS_ERR(ptecheck_file) ? PTR_ERR(ptecheck_file) : 0;
}

static void __exit ptecheck_exit(void)
{
	debugfs_remove(ptecheck_file);
}

module_init(ptecheck_init);
module_exit(ptecheck_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("vfio-memattr lab: cache attributes of a user page table entry (test only)");
