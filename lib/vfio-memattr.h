/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vfio-memattr.h - map VFIO PCI BAR ranges with a memory attribute
 *
 * A small userspace library over the vfio-pci-memattr uAPI
 * (<linux/vfio_memattr.h>).  It opens a VFIO device (or adopts a device
 * fd opened by someone else), describes what each BAR can offer, and maps
 * BAR ranges with the first attribute of a preference list the kernel can
 * honour.  When the device is not bound to vfio-pci-memattr it falls back
 * to a plain VFIO mmap (reported NC), and, only when asked, to the sysfs
 * resourceN_wc file (reported WC, source SYSFS_WC, no VFIO revocation).
 * It also exports BAR ranges as DMABUF fds with a memory attribute, for
 * other processes to mmap, and revokes them (since 2.1).
 *
 * Conventions:
 *  - every function returning int returns 0 or a negative errno value
 *    (vfio_memattr_dmabuf_export(): the new fd, or a negative errno);
 *  - the library prints nothing: messages go to the callback installed
 *    with vfio_memattr_dev_set_log() for one device, else to the one of
 *    vfio_memattr_set_log() (none by default); a callback is never called
 *    with a library lock held, so it may call the library again;
 *  - a device handle may be used from several threads (a mutex per device
 *    protects its mapping list); a mapping must not be unmapped by one
 *    thread while another uses it;
 *  - an attribute is never reported that the mapping does not have;
 *  - fork(): kernel handles belong to the process that opened (or
 *    adopted) the device.  A child inherits the mappings and may use
 *    them, but vfio_memattr_unmap() and vfio_memattr_close() in a child
 *    only unmap and free its copies: they never release a kernel handle
 *    (the device fd is shared with the parent, whose mappings would go).
 *    vfio_memattr_map() in a child fails with -ECHILD;
 *  - $VFIO_MEMATTR_SYSFS, when set and not empty, replaces /sys (tests,
 *    containers), as it does for the vfio-memattr command.
 */
#ifndef VFIO_MEMATTR_H
#define VFIO_MEMATTR_H

#include <stddef.h>
#include <stdint.h>
#include <linux/vfio_memattr.h>	/* enum vfio_memattr, VFIO_MEMATTR_BAR_* */

#ifdef __cplusplus
extern "C" {
#endif

struct vfio_memattr_dev;	/* an open VFIO device (opaque) */
struct vfio_memattr_mapping;	/* one mapped BAR range (opaque) */

/* Where a mapping came from. */
enum vfio_memattr_source {
	VFIO_MEMATTR_SRC_MEMATTR = 1,	/* kernel memattr handle */
	VFIO_MEMATTR_SRC_VFIO_MMAP = 2,	/* plain VFIO BAR mmap, reported NC */
	VFIO_MEMATTR_SRC_SYSFS_WC = 3,	/* sysfs resourceN_wc: no VFIO revocation */
};

/* vfio_memattr_map() flags */
#define VFIO_MEMATTR_MAP_ALLOW_SYSFS	0x1u	/* allow the resourceN_wc fallback */

/* Log levels passed to the log callback (syslog numbering). */
#define VFIO_MEMATTR_LOG_ERR		3
#define VFIO_MEMATTR_LOG_WARNING	4
#define VFIO_MEMATTR_LOG_INFO		6
#define VFIO_MEMATTR_LOG_DEBUG		7

/*
 * Attributes this version of the library knows (NC, WC, DEV: values
 * 0 .. VFIO_MEMATTR_NUM_ATTRS - 1).  It may grow in a later version, never
 * beyond VFIO_MEMATTR_BAR_ATTRS.
 */
#define VFIO_MEMATTR_NUM_ATTRS		3

/* Entries of vfio_memattr_bar.reason[]: fixed, part of the ABI. */
#define VFIO_MEMATTR_BAR_ATTRS		8

/*
 * What a BAR offers (vfio_memattr_bar_info()).  The layout is fixed (64
 * bytes, checked by the host tests): a newer library fills reason[] of
 * attributes it knows and leaves the rest zero, never more than
 * VFIO_MEMATTR_BAR_ATTRS entries.
 */
struct vfio_memattr_bar {
	uint64_t size;			/* BAR size in bytes (0: not implemented) */
	uint32_t flags;			/* VFIO_MEMATTR_BAR_* from the uAPI */
	uint32_t supported;		/* 1u << attr for each attribute that may be requested */
	uint32_t reason[VFIO_MEMATTR_BAR_ATTRS]; /* enum vfio_memattr_reason per attribute */
	int32_t kernel_support;		/* 1 if the driver answers the memattr uAPI */
	uint32_t reserved[3];		/* zero */
};

/*
 * Open the VFIO device at PCI address @bdf ("0000:00:02.0"; "00:02.0" is
 * taken as domain 0000).  Uses the iommufd device cdev when
 * /dev/vfio/devices/vfioN exists for the device and /dev/iommu exists,
 * otherwise the group/container API (VFIO_TYPE1v2_IOMMU, then
 * VFIO_TYPE1_IOMMU).  A device in VFIO's unsafe no-IOMMU mode (its IOMMU
 * group is one VFIO made up, node /dev/vfio/noiommu-N, sysfs name
 * "vfio-noiommu"; vfio's enable_unsafe_noiommu_mode=1) is opened through
 * that group with VFIO_NOIOMMU_IOMMU: see vfio_memattr_is_noiommu() (since
 * 2.3).  @flags must be 0.
 * Errors: -ENODEV (no such device), -ENOENT (device has no IOMMU group or
 * is not bound to a VFIO driver), -EBUSY (group in use / not viable),
 * -EPERM (a no-IOMMU group without CAP_SYS_RAWIO), -EOPNOTSUPP (no-IOMMU
 * group, but the container has no VFIO_NOIOMMU_IOMMU), ...
 */
int vfio_memattr_open(const char *bdf, unsigned int flags,
		      struct vfio_memattr_dev **out);

/*
 * Wrap a VFIO device fd opened by the caller (DPDK, SPDK, ...).  The fd is
 * not closed by vfio_memattr_close(); DMA mapping functions return
 * -EOPNOTSUPP on an adopted device (the caller owns the container).
 * @flags must be 0.
 */
int vfio_memattr_adopt(int device_fd, unsigned int flags,
		       struct vfio_memattr_dev **out);

/*
 * Tell the library the PCI address of an adopted device (needed for the
 * sysfs fallback and found automatically only for iommufd cdev fds).
 */
int vfio_memattr_set_bdf(struct vfio_memattr_dev *dev, const char *bdf);
/* The device's PCI address ("0000:00:02.0"), NULL when unknown. */
const char *vfio_memattr_bdf(const struct vfio_memattr_dev *dev);
/*
 * Normalise a PCI address: "00:02.0" or "0000:00:02.0" (hex, any case)
 * into "dddd:bb:ss.f" in @out (at least 13 bytes).  -EINVAL if malformed.
 */
int vfio_memattr_parse_bdf(const char *in, char *out, size_t outsz);

/*
 * Open the VFIO device @bdf in the container (group API) or the IO address
 * space (iommufd) of the already open device @with: the DMA mappings made
 * through either device are those of both, so they can DMA to the same
 * IOVAs (and, where the platform routes it, to each other).  A device of
 * @with's own IOMMU group shares its group; one of another group is added
 * to the container.  The devices can be closed in any order.  @flags must
 * be 0.  -EOPNOTSUPP for an adopted @with, when @with uses iommufd and
 * @bdf has no VFIO device node, or when one of the two is in no-IOMMU mode
 * and the other is not (VFIO never mixes them in a container).
 */
int vfio_memattr_open_shared(const char *bdf, struct vfio_memattr_dev *with,
			     unsigned int flags, struct vfio_memattr_dev **out);

/* Unmap every mapping still mapped, close what the library opened, free. */
void vfio_memattr_close(struct vfio_memattr_dev *dev);

/*
 * 1 if @dev runs in VFIO's unsafe no-IOMMU mode, 0 if not, -EINVAL for a
 * NULL @dev (since 2.3, symbol version VFIO_MEMATTR_2.3).  Such a device
 * has no DMA isolation and no IOVA: it DMAs to physical addresses (DPDK's
 * --iova-mode=pa), vfio_memattr_dma_map() and vfio_memattr_dma_unmap()
 * fail with -EOPNOTSUPP without calling the kernel, and opening it needs
 * CAP_SYS_RAWIO.  BAR mappings (with attributes) work as on any device.
 * For an adopted device the answer comes from sysfs (the name of its IOMMU
 * group) when its PCI address is known, else it is 0.
 */
int vfio_memattr_is_noiommu(const struct vfio_memattr_dev *dev);

/* The VFIO device fd (owned by the library unless adopted). */
int vfio_memattr_device_fd(const struct vfio_memattr_dev *dev);

/* 1 if the bound driver answers the memattr uAPI, 0 if not, or -errno. */
int vfio_memattr_kernel_support(struct vfio_memattr_dev *dev);

/* Number of regions (VFIO_DEVICE_GET_INFO; handles are not counted). */
int vfio_memattr_num_regions(const struct vfio_memattr_dev *dev);

/* VFIO_DEVICE_GET_REGION_INFO of region @index; any out pointer may be NULL.
 * @flags receives VFIO_REGION_INFO_FLAG_*. */
int vfio_memattr_region_info(struct vfio_memattr_dev *dev, unsigned int index,
			     uint64_t *size, uint64_t *offset, uint32_t *flags);

/*
 * Describe BAR @bar (0..5).  With a driver answering the memattr uAPI the
 * kernel's answer is returned (kernel_support = 1); otherwise the fields
 * are derived from VFIO_DEVICE_GET_REGION_INFO (and sysfs when the PCI
 * address is known), supported = NC only if the BAR is mmap capable, and
 * kernel_support = 0.
 */
int vfio_memattr_bar_info(struct vfio_memattr_dev *dev, unsigned int bar,
			  struct vfio_memattr_bar *out);

/*
 * Map [@offset, @offset + @length) of BAR @bar with the first attribute in
 * @prefs[0..@nr_prefs) that can be honoured (1 <= nr_prefs <=
 * VFIO_MEMATTR_MAX_PREFS).  Offset and length must be page aligned.
 * Fallback chain:
 *  1. the memattr uAPI, all preferences in one kernel call;
 *  2. if the driver does not answer the uAPI: a plain VFIO mmap of the
 *     BAR region, reported NC, source VFIO_MMAP, only if NC is in @prefs
 *     (else -EOPNOTSUPP);
 *  3. only with VFIO_MEMATTR_MAP_ALLOW_SYSFS and WC in @prefs (and before
 *     step 2 when WC is preferred to NC): mmap of
 *     /sys/bus/pci/devices/<bdf>/resource<bar>_wc when it exists
 *     (prefetchable BARs only), source SYSFS_WC.
 * Errors are those of the uAPI (EINVAL, EOPNOTSUPP, EPERM, EBUSY, ENOSPC,
 * ENOMEM) or of mmap(2).
 */
int vfio_memattr_map(struct vfio_memattr_dev *dev, unsigned int bar,
		     uint64_t offset, uint64_t length,
		     const enum vfio_memattr *prefs, unsigned int nr_prefs,
		     unsigned int flags, struct vfio_memattr_mapping **out);

/*
 * vfio_memattr_map() at the caller's address @addr (page aligned, not
 * NULL), with MAP_FIXED: it replaces what is mapped there, typically part
 * of a PROT_NONE reservation made with mmap(2) (as DPDK lays a BAR out
 * around its MSI-X table).  Unmapping it puts a PROT_NONE reservation back
 * in its place; so does a failed call.
 */
int vfio_memattr_map_at(struct vfio_memattr_dev *dev, unsigned int bar,
			uint64_t offset, uint64_t length,
			const enum vfio_memattr *prefs, unsigned int nr_prefs,
			unsigned int flags, void *addr, struct vfio_memattr_mapping **out);

/*
 * Map the existing kernel handle @handle of the device fd (made by another
 * process that shares the fd, e.g. a DPDK primary that passed it to this
 * secondary over a UNIX socket, which then adopted it): the BAR range,
 * length and attribute are the handle's (VFIO_DEVICE_FEATURE_MEMATTR_HANDLE).
 * @addr: NULL, or a page-aligned address as for vfio_memattr_map_at().
 * The handle is not this process's: unmap and close never release it.
 * Errors: -ENOENT (no such live handle), -EINVAL, errors of mmap(2).
 */
int vfio_memattr_map_handle(struct vfio_memattr_dev *dev, uint32_t handle, void *addr,
			    struct vfio_memattr_mapping **out);

/* munmap (or re-reserve, see vfio_memattr_map_at()), release the kernel
 * handle unless it was imported, free @m. */
int vfio_memattr_unmap(struct vfio_memattr_mapping *m);

void *vfio_memattr_mapping_addr(const struct vfio_memattr_mapping *m);
uint64_t vfio_memattr_mapping_length(const struct vfio_memattr_mapping *m);
/* The attribute really in force. */
enum vfio_memattr vfio_memattr_mapping_attr(const struct vfio_memattr_mapping *m);
enum vfio_memattr_source vfio_memattr_mapping_source(const struct vfio_memattr_mapping *m);
/* Kernel handle (region index), 0 if the mapping is not a kernel handle. */
uint32_t vfio_memattr_mapping_handle(const struct vfio_memattr_mapping *m);
/* The BAR and offset the mapping was made for. */
unsigned int vfio_memattr_mapping_bar(const struct vfio_memattr_mapping *m);
uint64_t vfio_memattr_mapping_offset(const struct vfio_memattr_mapping *m);

/*
 * pread/pwrite @len bytes at @off of VFIO region @index (BARs, config
 * space = VFIO_PCI_CONFIG_REGION_INDEX, handle indexes).  A short transfer
 * is an error (-EIO).
 */
int vfio_memattr_region_read(struct vfio_memattr_dev *dev, unsigned int index,
			     uint64_t off, void *buf, size_t len);
int vfio_memattr_region_write(struct vfio_memattr_dev *dev, unsigned int index,
			      uint64_t off, const void *buf, size_t len);

/* IOMMU DMA mapping (read + write) of @size bytes of @vaddr at @iova.
 * -EOPNOTSUPP on an adopted device and on a device in no-IOMMU mode
 * (vfio_memattr_is_noiommu()), before any kernel call. */
int vfio_memattr_dma_map(struct vfio_memattr_dev *dev, void *vaddr,
			 uint64_t iova, uint64_t size);
int vfio_memattr_dma_unmap(struct vfio_memattr_dev *dev, uint64_t iova,
			   uint64_t size);

/* VFIO_DEVICE_RESET.  Mappings are revoked by the kernel until the memory
 * space is enabled again; they stay in the library's list. */
int vfio_memattr_reset(struct vfio_memattr_dev *dev);

/*
 * DMABUFs of BAR ranges (2.1; <linux/vfio_memattr.h> is the spec): an fd
 * the caller may mmap (MAP_SHARED, offsets 0 to its size), pass to another
 * process (SCM_RIGHTS: the caller's job) and close; the owner of the
 * device revokes it for good.  The library keeps no list of them: closing
 * the device does not close them, and the kernel revokes them when the
 * last reference to the device fd goes.
 *
 * A driver without the feature (stock vfio-pci, vfio-pci-memattr before
 * 2.1) answers -ENOTTY to each of these functions.  There is no fallback:
 * nothing else gives a DMABUF.
 */

/* What vfio_memattr_dmabuf_info() reports.  Fixed layout (32 bytes). */
struct vfio_memattr_dmabuf_info {
	uint64_t size;			/* bytes: the sum of the ranges' lengths */
	uint32_t attr;			/* enum vfio_memattr in force (the last one if revoked) */
	uint32_t state;			/* VFIO_MEMATTR_DMABUF_REVOKED, _MAPPED (uAPI) */
	uint32_t reserved[4];		/* zero */
};

/*
 * Export @nr_ranges (1..VFIO_MEMATTR_DMABUF_MAX_RANGES) page-aligned ranges
 * of BAR @bar (0..5) as one DMABUF, range k at the sum of the lengths
 * before it.  @open_flags: O_RDWR or O_RDONLY, optionally | O_CLOEXEC.
 * Its attribute is NC until vfio_memattr_dmabuf_set_attr().  The new
 * DMABUF is read back (size, attribute NC, not revoked) before it is
 * returned; a disagreement closes it and returns -EPROTO.
 * Returns the DMABUF fd (>= 0), or -EINVAL (arguments, checked before any
 * call), -ENOTTY (no such feature), or the kernel's errno (EOPNOTSUPP,
 * EBUSY, ENOSPC, ENOMEM, EMFILE, ENFILE, EINVAL).
 */
int vfio_memattr_dmabuf_export(struct vfio_memattr_dev *dev, unsigned int bar,
			       const struct vfio_memattr_dma_range *ranges,
			       unsigned int nr_ranges, unsigned int open_flags);

/*
 * Give DMABUF @dmabuf_fd of @dev the first attribute of @prefs[0..@nr_prefs)
 * (1 <= nr_prefs <= VFIO_MEMATTR_MAX_PREFS) the kernel can honour for every
 * range, in one call; @attr (may be NULL) receives it.  Setting the
 * attribute in force changes nothing.  Errors: -EINVAL (arguments, not a
 * DMABUF of this driver), -ENODEV (a DMABUF of another device, or revoked),
 * -EBUSY (live mmaps and the attribute would change; a range in use with
 * another attribute), -EPERM and -EOPNOTSUPP (as vfio_memattr_map(), for
 * the first preference), -ENOTTY, -EPROTO (the kernel answered an attribute
 * that was not asked for).
 */
int vfio_memattr_dmabuf_set_attr(struct vfio_memattr_dev *dev, int dmabuf_fd,
				 const enum vfio_memattr *prefs, unsigned int nr_prefs,
				 enum vfio_memattr *attr);

/*
 * Attribute in force, state and size of DMABUF @dmabuf_fd of @dev (also of a
 * revoked one, state VFIO_MEMATTR_DMABUF_REVOKED).  Errors: -EINVAL, -ENODEV
 * (a DMABUF of another device), -ENOTTY, -EPROTO (an attribute this library
 * does not know).
 */
int vfio_memattr_dmabuf_info(struct vfio_memattr_dev *dev, int dmabuf_fd,
			     struct vfio_memattr_dmabuf_info *out);

/*
 * Revoke DMABUF @dmabuf_fd of @dev for good: its mmaps (in every process)
 * get SIGBUS at their next access, later mmaps fail with ENODEV, and its
 * ranges are given back.  Revoking a revoked DMABUF succeeds (the kernel
 * answers EBADFD since 2.3; this call answers 0 for it).  The fd stays
 * open (close it).  Errors: -EINVAL, -ENODEV (another device's), -ENOTTY.
 */
int vfio_memattr_dmabuf_revoke(struct vfio_memattr_dev *dev, int dmabuf_fd);

/* "NC", "WC", "DEV"; "?" for an unknown value. */
const char *vfio_memattr_attr_name(enum vfio_memattr a);
/* Case-insensitive inverse of vfio_memattr_attr_name(); -EINVAL if unknown. */
int vfio_memattr_attr_parse(const char *s, enum vfio_memattr *out);
/* "memattr", "vfio-mmap", "sysfs-wc"; "?" for an unknown value. */
const char *vfio_memattr_source_name(enum vfio_memattr_source s);
/* Text for enum vfio_memattr_reason ("ok", "not a memory BAR", ...). */
const char *vfio_memattr_reason_name(uint32_t reason);

/*
 * Install the process-wide default log callback (NULL: no logging).
 * @level is one of VFIO_MEMATTR_LOG_*; @msg has no trailing newline.  The
 * callback may be called from any thread using the library, never with a
 * library lock held (messages raised while a device is locked are
 * delivered when it is unlocked, at most 16 per call).
 */
void vfio_memattr_set_log(void (*fn)(void *ctx, int level, const char *msg),
			  void *ctx);

/*
 * Log callback of one device, used instead of the process-wide one for
 * every message about @dev (NULL @fn: no messages for @dev).
 */
int vfio_memattr_dev_set_log(struct vfio_memattr_dev *dev,
			     void (*fn)(void *ctx, int level, const char *msg),
			     void *ctx);

#ifdef __cplusplus
}
#endif

#endif /* VFIO_MEMATTR_H */
