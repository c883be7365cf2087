/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vfio-pci-memattr: declarations shared by the files of the driver.
 *
 * Locking, outermost first:
 *   mmap_lock (held by the mm around mmap and faults)
 *     memattr_device.lock   handles, BAR takeover, legacy mmap counts
 *       memattr_bar.rw_sem     write: rw.c's page mapping changes, or a
 *                              memory type on the BAR is about to change
 *   memattr_bar.rw_sem      read, taken under .lock, held (without .lock)
 *                           across rw.c's access of one page
 *     core_vdev.memory_lock   read, for that access
 *   core_vdev.memory_lock   else taken alone (faults), never before .lock
 * User memory is never touched while .lock is held, and the core is never
 * called with it held.  The core's kernel mapping of a BAR (barmap) is
 * used by the core's ioeventfds and by the core's reads and writes of
 * BARs that are not taken over, counted in memattr_bar.core_rw (rw.c).
 * A takeover of any BAR and the device's ioeventfds exclude each other:
 * the core's ioeventfds_nr (under its ioeventfds_lock, taken under .lock)
 * and the count of VFIO_DEVICE_IOEVENTFD calls in the core, device-wide
 * because the core reads the call's argument itself.
 */
#ifndef VFIO_PCI_MEMATTR_H
#define VFIO_PCI_MEMATTR_H

#include <linux/kref.h>
#include <linux/maple_tree.h>
#include <linux/mutex.h>
#include <linux/rbtree.h>
#include <linux/rwsem.h>
#include <linux/uaccess.h>
#include <linux/vfio_pci_core.h>
#include <linux/xarray.h>

#include "../include/uapi/linux/vfio_memattr.h"

/*
 * The same sources build two modules (kernel/Kbuild): vfio_pci_memattr
 * (PCI driver "vfio-pci-memattr") and, with MEMATTR_FLAVOUR_VFIO_PCI, a
 * replacement vfio_pci (PCI driver "vfio-pci") with vfio-pci's module
 * parameters and behaviour (flavour.c).
 */
#ifdef MEMATTR_FLAVOUR_VFIO_PCI
#define MEMATTR_DRIVER_NAME	"vfio-pci"
#else
#define MEMATTR_DRIVER_NAME	"vfio-pci-memattr"
#endif

/*
 * Handles are mmapped in the upper half of their BAR's 1 TiB window of
 * the device file: the core zaps the whole BAR windows on reset and
 * memory disable, so handle mappings are revoked with the legacy ones.
 */
#define MEMATTR_WINDOW_START	(1ULL << (VFIO_PCI_OFFSET_SHIFT - 1))
#define MEMATTR_WINDOW_SIZE	(1ULL << (VFIO_PCI_OFFSET_SHIFT - 1))

struct memattr_device;

/* Attributes the driver knows (enum vfio_memattr); not uAPI, it may grow. */
#define MEMATTR_NR_ATTRS	(VFIO_MEMATTR_DEV + 1)

struct memattr_handle {
	struct kref ref;		/* table + one per VMA + lookups */
	struct memattr_device *mv;
	struct list_head bar_node;	/* memattr_bar.handles */
	struct rb_node it_node;		/* memattr_bar.ranges */
	u64 it_subtree_last;
	u32 id;				/* region index */
	u8 bar;
	u8 attr;
	u8 kind;			/* enum memattr_kind */
	bool released;			/* out of the table */
	bool pending;			/* MAP has not answered its creator yet */
	bool reserved;			/* holds a memory type reservation */
	u64 offset;			/* in the BAR */
	u64 length;
	u64 mmap_offset;		/* in the device file */
	phys_addr_t phys;
};

struct memattr_bar {
	struct list_head handles;	/* every live object, released ones too */
	struct rb_root_cached ranges;	/* the same objects by BAR range */
	unsigned int nr_objs;
	u64 next_mmap;			/* bytes of the window handed out */
	struct list_head free_windows;	/* given back by DMABUFs, reusable */
	atomic_t legacy_vmas;		/* mmaps of the legacy region offset */
	atomic_t core_rw;		/* core reads/writes of the BAR running */
	bool taken;			/* the driver owns the kernel mapping */
	struct rw_semaphore rw_sem;	/* rw.c's page accesses (see rw.c) */
	void __iomem *rw_io;		/* rw.c's last uncached page, or NULL */
	phys_addr_t rw_page;		/* its physical address */
	bool legacy_untracked;		/* a legacy mmap the driver cannot count */
	struct memattr_handle *legacy;	/* serves legacy mmaps (default_attr) */
};

/* What an object of a BAR range is (see memattr_try()). */
enum memattr_kind {
	MEMATTR_KIND_HANDLE,
	MEMATTR_KIND_LEGACY,
	MEMATTR_KIND_DMABUF,
};

struct memattr_stats {
	atomic64_t pte_faults;
	atomic64_t pmd_faults;
	atomic64_t pud_faults;
	atomic64_t sigbus;
};

struct memattr_device {
	struct vfio_pci_core_device core;	/* must be first */
	struct mutex lock;
	struct xarray handles;			/* id - base -> handle */
	struct maple_tree offsets;		/* mmap pages -> unreleased handle */
	u32 next_id;
	unsigned int nr_handles;		/* live objects, all BARs */
	struct memattr_bar bars[PCI_STD_NUM_BARS];
	struct list_head dmabufs;		/* attached memattr_dmabuf */
	unsigned int ioeventfd_calls;		/* VFIO_DEVICE_IOEVENTFD in the core */
	bool allow_nonprefetchable;
	u8 default_attr[PCI_STD_NUM_BARS];	/* of legacy mmaps; NC: the core's */
	struct memattr_stats stats;
	struct dentry *debugfs;
};

static inline struct memattr_device *
to_memattr(struct vfio_device *core_vdev)
{
	return container_of(core_vdev, struct memattr_device, core.vdev);
}

/* The device of a PCI device bound to the driver (sysfs, remove). */
static inline struct memattr_device *memattr_from_dev(struct device *dev)
{
	struct vfio_pci_core_device *vdev = dev_get_drvdata(dev);

	return container_of(vdev, struct memattr_device, core);
}

/* handle.c */
void memattr_device_init(struct memattr_device *mv);
void memattr_device_close(struct memattr_device *mv);
struct memattr_handle *memattr_handle_get_by_id(struct memattr_device *mv,
						u32 id);
struct memattr_handle *memattr_handle_get_by_offset(struct memattr_device *mv,
						    unsigned int bar,
						    u64 window_off);
void memattr_handle_put(struct memattr_handle *h);
void memattr_handle_get(struct memattr_handle *h);
u8 memattr_cover_attr(struct memattr_device *mv, unsigned int bar, u64 pos);
void memattr_ioeventfd_begin(struct memattr_device *mv);
void memattr_ioeventfd_end(struct memattr_device *mv);
void memattr_core_barmap_locked(struct memattr_device *mv, unsigned int bar);
void memattr_rw_drop(struct memattr_device *mv, unsigned int bar);
void memattr_handback_retry(struct memattr_device *mv, unsigned int bar);
struct memattr_handle *memattr_try(struct memattr_device *mv, unsigned int bar,
				   u64 off, u64 len, u8 attr,
				   enum memattr_kind kind);
u32 memattr_reason(struct memattr_device *mv, unsigned int bar, u8 attr);
int memattr_reason_errno(u32 reason);
void memattr_release(struct memattr_device *mv, struct memattr_handle *h);
void memattr_forget(struct memattr_device *mv, struct memattr_handle *h);
int memattr_retype(struct memattr_device *mv, struct memattr_handle *h,
		   u8 attr, bool *lost);
bool memattr_window_reuse(struct memattr_device *mv, unsigned int bar,
			  u64 size, u64 *start);
void memattr_window_free(struct memattr_device *mv, unsigned int bar,
			 u64 start, u64 size);

/*
 * feature.c: VFIO_DEVICE_FEATURE and the region info of handle indexes.
 * The payload helpers below serve dmabuf.c's features too; they are here
 * so that dmabuf.c, which feature.c calls, does not call back up.
 */
int memattr_device_feature(struct vfio_device *core_vdev, u32 flags,
			   void __user *arg, size_t argsz);
/* One of the two exists, after MEMATTR_REGION_INFO_CAPS (compat.h). */
int memattr_get_region_info_caps(struct vfio_device *core_vdev,
				 struct vfio_region_info *info,
				 struct vfio_info_cap *caps);
long memattr_ioctl_region_info(struct vfio_device *core_vdev,
			       unsigned int cmd, unsigned long arg);

/*
 * What every feature does first: check the operation and the size, and
 * read the payload.  Returns 1 when there is work to do, else what the
 * caller returns (0 for PROBE).
 */
static inline int memattr_feature_in(u32 flags, size_t argsz, u32 ops,
				     void __user *arg, void *req, size_t size)
{
	int ret = vfio_check_feature(flags, argsz, ops, size);

	if (ret != 1)
		return ret;
	if (copy_from_user(req, arg, size))
		return -EFAULT;
	return 1;
}

/*
 * A preference list of the uAPI: @nr (at most VFIO_MEMATTR_MAX_PREFS)
 * attributes the driver knows, the unused entries zero.
 */
static inline bool memattr_prefs_valid(const u8 *prefs, u32 nr)
{
	int i;

	if (nr > VFIO_MEMATTR_MAX_PREFS)
		return false;
	for (i = 0; i < VFIO_MEMATTR_MAX_PREFS; i++) {
		if (i < nr ? prefs[i] >= MEMATTR_NR_ATTRS : prefs[i] != 0)
			return false;
	}
	return true;
}

/* fault.c: VMA set-up and faults shared by handle and DMABUF mappings */
struct memattr_span {
	unsigned long pfn;		/* of the page asked for */
	unsigned long pages;		/* contiguous PFNs from it */
};

typedef void (*memattr_span_fn)(struct vm_area_struct *vma,
				unsigned long addr, struct memattr_span *s);
vm_fault_t memattr_fault(struct memattr_device *mv, struct vm_fault *vmf,
			 unsigned int order, memattr_span_fn span);
void memattr_vma_setup(struct vm_area_struct *vma, u8 attr);
void memattr_vma_copied(struct vm_area_struct *vma);
void memattr_vma_list_del(struct vfio_pci_core_device *vdev,
			  struct vm_area_struct *vma);
int memattr_vm_mremap(struct vm_area_struct *vma);
int memattr_mmap_setup(struct memattr_handle *h, struct vm_area_struct *vma,
		       u64 start);
int memattr_mmap_handle(struct memattr_device *mv, struct vm_area_struct *vma,
			unsigned int bar, u64 window_off);

/* legacy.c: legacy BAR mmaps and their default attribute */
void memattr_apply_default_param(struct memattr_device *mv);
int memattr_mmap_legacy(struct memattr_device *mv, struct vm_area_struct *vma,
			unsigned int bar);
extern struct device_attribute dev_attr_memattr_default;

/* dmabuf.c */
#if IS_ENABLED(CONFIG_DMA_SHARED_BUFFER)
int memattr_dmabuf_export(struct memattr_device *mv, u32 flags,
			  void __user *arg, size_t argsz);
int memattr_dmabuf_attr(struct memattr_device *mv, u32 flags,
			void __user *arg, size_t argsz);
int memattr_dmabuf_revoke(struct memattr_device *mv, u32 flags,
			  void __user *arg, size_t argsz);
void memattr_dmabuf_close_all(struct memattr_device *mv);
#else
static inline int memattr_dmabuf_export(struct memattr_device *mv, u32 flags,
					void __user *arg, size_t argsz)
{
	return -ENOTTY;
}

static inline int memattr_dmabuf_attr(struct memattr_device *mv, u32 flags,
				      void __user *arg, size_t argsz)
{
	return -ENOTTY;
}

static inline int memattr_dmabuf_revoke(struct memattr_device *mv, u32 flags,
					void __user *arg, size_t argsz)
{
	return -ENOTTY;
}

static inline void memattr_dmabuf_close_all(struct memattr_device *mv) {}
#endif

/* rw.c */
bool memattr_rw_core_begin(struct memattr_device *mv, loff_t pos);
void memattr_rw_core_end(struct memattr_device *mv, loff_t pos);
ssize_t memattr_rw(struct memattr_device *mv, char __user *buf, size_t count,
		   loff_t *ppos, bool iswrite);

/* memtype.c */
struct memattr_attr_name {
	const char *lower;		/* as the administrator writes it */
	const char *upper;		/* as labels show it */
};

extern const struct memattr_attr_name memattr_attr_names[MEMATTR_NR_ATTRS];
int memattr_reserve(phys_addr_t phys, u64 len, u8 attr, bool *reserved);
void memattr_unreserve(phys_addr_t phys, u64 len, u8 attr);
void __iomem *memattr_map_page(phys_addr_t phys, u8 attr);
pgprot_t memattr_pgprot(u8 attr, pgprot_t prot);
u32 memattr_arch_reason(u8 attr);

/* debugfs.c */
void memattr_debugfs_init(void);
void memattr_debugfs_exit(void);
void memattr_debugfs_add(struct memattr_device *mv);
void memattr_debugfs_remove(struct memattr_device *mv);

/* flavour.c: what the vfio-pci flavour adds; nothing in the other one */
#ifdef MEMATTR_FLAVOUR_VFIO_PCI
void memattr_flavour_init(void);
void memattr_flavour_add_ids(struct pci_driver *drv);
int memattr_flavour_probe(struct memattr_device *mv);
void memattr_flavour_init_dev(struct memattr_device *mv);
int memattr_flavour_sriov_configure(struct pci_dev *pdev, int nr_virtfn);
#else
static inline void memattr_flavour_init(void) {}
static inline void memattr_flavour_add_ids(struct pci_driver *drv) {}
static inline int memattr_flavour_probe(struct memattr_device *mv)
{
	return 0;
}

static inline void memattr_flavour_init_dev(struct memattr_device *mv) {}
#define memattr_flavour_sriov_configure	NULL
#endif

#endif /* VFIO_PCI_MEMATTR_H */
