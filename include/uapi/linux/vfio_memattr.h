/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * vfio_memattr.h - memory attributes for VFIO PCI BAR mappings
 *
 * The uAPI of the vfio-pci-memattr variant driver: the owner of a VFIO
 * device fd asks for a page-aligned range of a BAR to be mapped with a
 * chosen memory attribute (NC, WC, DEV) and receives a *handle*: a region
 * index and an mmap offset on the same device fd.  Everything is carried
 * by VFIO_DEVICE_FEATURE and VFIO_DEVICE_GET_REGION_INFO; no new ioctl
 * numbers are defined.
 *
 * Feature numbers and the capability id are taken from 0xa000 up:
 * upstream allocates VFIO_DEVICE_FEATURE numbers (16 bits) and region
 * capability ids sequentially from a small number (below 16 in Linux 7.2),
 * so a collision with a future upstream number is unlikely for decades,
 * and a kernel that does not know them answers ENOTTY/EINVAL.
 *
 * Rules every feature follows:
 *  - VFIO_DEVICE_FEATURE_PROBE works with GET or SET as listed below.
 *  - argsz must cover the header and the whole payload struct.
 *  - Every "flags" field must be zero and every reserved field must be
 *    zero, or the call fails with EINVAL and changes nothing.
 *  - Nothing is changed by a call that fails.
 *
 * The mmap offsets handed out lie above 2^39 and need a 64-bit off_t
 * (they are served to 64-bit userspace, or to 32-bit userspace using
 * mmap64 with _FILE_OFFSET_BITS=64).
 *
 * While a BAR carries handles ("taken over"), the rest of the VFIO uAPI
 * behaves as under vfio-pci except:
 *  - mmap of the BAR's legacy region offset fails with EBUSY;
 *  - VFIO_DEVICE_IOEVENTFD on the BAR fails with EBUSY (create, and
 *    delete: none can exist), and MAP of any BAR fails with EBUSY while
 *    the device has any ioeventfd or such a call is in progress (the
 *    kernel's vfio-pci reads the call's argument itself, so the driver
 *    cannot know its BAR; since 2.2, per BAR before);
 *  - VFIO_DEVICE_FEATURE_DMA_BUF (Linux 6.19 and later) of the BAR fails
 *    with ENODEV; of other BARs it works as under vfio-pci.
 * A BAR is taken over while it carries handles or ranges of DMABUFs
 * exported by VFIO_DEVICE_FEATURE_MEMATTR_DMABUF (below).
 * pread/pwrite of a BAR that is not taken over are vfio-pci's own, and
 * MAP of the BAR fails with EBUSY while one is in progress (retry);
 * pread/pwrite of a taken-over BAR map each page for the access alone
 * with the attribute of the handle covering it (NC if none does).
 *
 * x86: a WC handle reserves write-combining for exactly its range in the
 * PAT tree (/sys/kernel/debug/x86/pat_memtype_list).  NC and DEV handles
 * reserve nothing: x86 maps MMIO without a reservation uncached-minus,
 * and MAP checks that no other type is reserved anywhere in the range.
 *
 * Not uAPI of the device fd, set by the administrator: the attribute of
 * legacy mmaps of a BAR (its region offset, for programs that know
 * nothing of this header) in sysfs, /sys/bus/pci/devices/BDF/memattr_default
 * ("BAR:ATTR", ATTR nc, wc or dev; only while the device is not open), or
 * at bind from the module parameter default_memattr, whose items
 * "[VVVV:DDDD@|SSSS:BB:DD.F@]BAR:ATTR" name the devices they are for
 * (docs/design.md).  MAP of another attribute in such a BAR fails with
 * EBUSY.
 */
#ifndef _UAPI_LINUX_VFIO_MEMATTR_H
#define _UAPI_LINUX_VFIO_MEMATTR_H

#include <linux/types.h>
#include <linux/vfio.h>

/*
 * Memory attributes.  The names mirror the kernel's pgprot_*() helpers
 * (the same set the DMABUF memattr proposal on the kvm list uses):
 *
 *  value  name  kernel helper            x86 PAT type     arm64 type
 *  0      NC    pgprot_noncached()       uncached-minus   Device-nGnRnE
 *  1      WC    pgprot_writecombine()    write-combining  Normal-NC
 *  2      DEV   pgprot_device()          uncached-minus   Device-nGnRE
 *
 * The enum may grow; a value the driver does not know is refused with
 * EINVAL.  No cacheable attribute of MMIO is or will be offered here.
 */
enum vfio_memattr {
	VFIO_MEMATTR_NC = 0,
	VFIO_MEMATTR_WC = 1,
	VFIO_MEMATTR_DEV = 2,
};

#define VFIO_MEMATTR_MAX_PREFS	8	/* entries in a preference list */
#define VFIO_MEMATTR_REASON_SLOTS 8	/* entries of bar_info.reason[] */

/*
 * Why an attribute cannot be requested on a BAR (see BAR_INFO below).
 * Zero means it may be requested (it can still fail with EBUSY when the
 * range is in use with another attribute).
 */
enum vfio_memattr_reason {
	VFIO_MEMATTR_OK = 0,
	/* I/O BAR, unimplemented BAR: EOPNOTSUPP */
	VFIO_MEMATTR_NOT_MEM_BAR = 1,
	/* vfio-pci does not mmap this BAR (not page exclusive): EOPNOTSUPP */
	VFIO_MEMATTR_NOT_MMAP = 2,
	/* WC on a non-prefetchable BAR without the administrator's opt-in
	 * (DEV is the type of the kernel's own ioremap() and needs none):
	 * EPERM
	 */
	VFIO_MEMATTR_NOT_PREFETCH = 3,
	/* this architecture or kernel cannot provide it: EOPNOTSUPP */
	VFIO_MEMATTR_NOT_ARCH = 4,
};

/*
 * Region indexes of handles start here.  They are not counted in
 * vfio_device_info.num_regions (they come and go); they answer
 * VFIO_DEVICE_GET_REGION_INFO while the handle exists.
 */
#define VFIO_MEMATTR_HANDLE_INDEX_BASE	0x10000

/*
 * VFIO_DEVICE_FEATURE_MEMATTR_BAR_INFO: discovery.  GET, PROBE.
 *
 * In:  index (a BAR region index, 0..5), flags = 0, reserved = 0.
 * Out: size, bar_flags, supported (bit 1 << attr for every attribute that
 *      may be requested), reason[attr] for every attribute (0 when
 *      supported), nr_handles (live handles on this BAR, released ones
 *      that are still mapped included).
 *
 * Errors: EINVAL (argsz, flags, reserved, index out of range).
 */
#define VFIO_DEVICE_FEATURE_MEMATTR_BAR_INFO	0xa000

#define VFIO_MEMATTR_BAR_PREFETCH	(1 << 0)	/* prefetchable */
#define VFIO_MEMATTR_BAR_MEM64		(1 << 1)	/* 64-bit memory BAR */
#define VFIO_MEMATTR_BAR_MMAP		(1 << 2)	/* vfio-pci can mmap it */
#define VFIO_MEMATTR_BAR_IO		(1 << 3)	/* I/O port BAR */

struct vfio_device_feature_memattr_bar_info {
	__u32	flags;			/* in: must be 0 */
	__u32	index;			/* in: BAR region index */
	__aligned_u64 size;		/* out: BAR size in bytes */
	__u32	bar_flags;		/* out: VFIO_MEMATTR_BAR_* */
	__u32	supported;		/* out: 1 << enum vfio_memattr */
	__u32	nr_handles;		/* out */
	__u32	reserved;		/* in: must be 0 */
	/* out: enum vfio_memattr_reason, indexed by attribute */
	__u32	reason[VFIO_MEMATTR_REASON_SLOTS];
};

/*
 * VFIO_DEVICE_FEATURE_MEMATTR_MAP: create (or find) a handle.  SET, PROBE.
 *
 * In:  index: BAR region index (0..5; a handle index is refused: no
 *             handle of a handle);
 *      offset, length: page aligned, length > 0, offset + length within
 *             the page-aligned BAR size, no overflow;
 *      nr_prefs (1..VFIO_MEMATTR_MAX_PREFS) attributes in prefs[], most
 *             wanted first; unused prefs[] entries and reserved = 0.
 * Out: attr: the attribute in force, which is the first entry of prefs[]
 *             that could be honoured, and the type the kernel really
 *             reserved for the range (on x86 checked against PAT);
 *      handle: a region index >= VFIO_MEMATTR_HANDLE_INDEX_BASE;
 *      mmap_offset: where to mmap the range on the device fd; page k of
 *             the range is at mmap_offset + k * page size.
 *
 * Asking again for the same (index, offset, length) with a list whose
 * first honourable entry is the attribute of an existing handle returns
 * that handle unchanged.  An offset, once handed out, never means
 * anything else while the device fd is open (offsets are not reused).
 *
 * Errors (nothing is created on error):
 *  EINVAL     argsz too small, flags or reserved non-zero, index not a
 *             BAR, offset/length not page aligned, zero length,
 *             overflow, range past the end of the BAR, nr_prefs 0 or
 *             too large, an attribute value not in enum vfio_memattr.
 *  EOPNOTSUPP the BAR cannot be mapped at all (I/O, empty, not mmap
 *             capable), or the first preferred attribute is not
 *             available on this architecture/kernel and none other is.
 *  EPERM      the first preferred attribute is refused by policy
 *             (WC on a non-prefetchable BAR without opt-in, or on pages
 *             of the MSI-X table, which take NC and DEV) and no later one
 *             could be honoured.
 *  EBUSY      the range is in use with another attribute: an overlapping
 *             handle, a live mmap of the BAR through its legacy region
 *             offset, any ioeventfd of the device (or a
 *             VFIO_DEVICE_IOEVENTFD call in progress), a pread/pwrite of
 *             the BAR in progress while it is not taken over yet, or a
 *             memory type already reserved by someone else (the PAT check
 *             failed).
 *  EFAULT     the argument cannot be read, or the answer cannot be
 *             written back: a handle this call created is taken back, with
 *             its id and mmap offset, as if the call had not happened.
 *  ENOSPC     the per-device handle limit (module parameter max_handles)
 *             or the BAR's mmap offset window is exhausted.
 *  ENOMEM     out of memory.
 * When several preferences fail, the errno is that of the first one.
 */
#define VFIO_DEVICE_FEATURE_MEMATTR_MAP		0xa001

struct vfio_device_feature_memattr_map {
	__u32	flags;			/* in: must be 0 */
	__u32	index;			/* in: BAR region index */
	__aligned_u64 offset;		/* in: offset into the BAR */
	__aligned_u64 length;		/* in: bytes */
	__u32	nr_prefs;		/* in: entries used in prefs[] */
	__u32	reserved;		/* in: must be 0 */
	__u8	prefs[VFIO_MEMATTR_MAX_PREFS];	/* in: enum vfio_memattr */
	__u32	attr;			/* out: attribute in force */
	__u32	handle;			/* out: handle region index */
	__aligned_u64 mmap_offset;	/* out: offset for mmap(2) */
};

/*
 * VFIO_DEVICE_FEATURE_MEMATTR_HANDLE: read a handle back.  GET, PROBE.
 *
 * In:  handle, flags = 0.
 * Out: index (source BAR), attr (in force), offset, length, mmap_offset.
 * Errors: EINVAL (argsz, flags), ENOENT (no such live handle).
 */
#define VFIO_DEVICE_FEATURE_MEMATTR_HANDLE	0xa002

struct vfio_device_feature_memattr_handle {
	__u32	flags;			/* in: must be 0 */
	__u32	handle;			/* in */
	__u32	index;			/* out: source BAR */
	__u32	attr;			/* out */
	__aligned_u64 offset;		/* out */
	__aligned_u64 length;		/* out */
	__aligned_u64 mmap_offset;	/* out */
};

/*
 * VFIO_DEVICE_FEATURE_MEMATTR_UNMAP: release a handle.  SET, PROBE.
 *
 * The handle's mmap offset and region index stop answering at once (mmap
 * and GET_REGION_INFO fail with EINVAL).  Mappings already made keep
 * their attribute and their memory type reservation until they are
 * unmapped, as RDMA mmap entries do; they are revoked like every other
 * BAR mapping on reset or memory disable.  All handles are released
 * when the last reference to the device fd goes.
 * Errors: EINVAL (argsz, flags), ENOENT (no such live handle).
 */
#define VFIO_DEVICE_FEATURE_MEMATTR_UNMAP	0xa003

struct vfio_device_feature_memattr_unmap {
	__u32	flags;			/* in: must be 0 */
	__u32	handle;			/* in */
};

/*
 * Region info capability carried by VFIO_DEVICE_GET_REGION_INFO for a
 * handle index: which BAR range the region is, and with which attribute
 * it is mapped.  The region itself has size = length, offset =
 * mmap_offset, and flags READ | WRITE | MMAP (pread/pwrite at the
 * region's offset access the BAR range through a kernel mapping of the
 * same attribute made for the access; on a BAR smaller than a page they
 * stop at the end of the BAR).
 */
#define VFIO_REGION_INFO_CAP_MEMATTR		0xa000

struct vfio_region_info_cap_memattr {
	struct vfio_info_cap_header header;	/* version 1 */
	__u32	index;			/* source BAR region index */
	__u32	attr;			/* enum vfio_memattr in force */
	__aligned_u64 offset;		/* offset into the source BAR */
	__aligned_u64 length;		/* bytes */
};

/*
 * DMABUFs of BAR ranges: an fd that can be mmapped, passed to another
 * process (SCM_RIGHTS), given a memory attribute and revoked for good by
 * the owner of the device fd.
 *
 * This follows the proposal on the kvm list (Matt Evans, "vfio/pci: Add
 * mmap() for DMABUFs" and "vfio/pci: Add mmap() attributes to DMABUF
 * feature", April-May 2026, not merged in any released kernel): export
 * with the layout of VFIO_DEVICE_FEATURE_DMA_BUF, the attribute an enum
 * mirroring pgprot_*() (enum vfio_memattr: NC = 0, WC = 1, DEV = 2), GET
 * reporting the attribute in force, and a permanent revoke.  The feature
 * numbers are ours, so that a program can move to upstream's when it lands
 * by changing numbers, not logic.  Differences from the proposal:
 *  - SET takes a preference list, as MEMATTR_MAP does, and answers the
 *    attribute it set;
 *  - SET fails with EBUSY while the DMABUF has live mmaps and the
 *    attribute would change (upstream: "applies to later mmaps").  Under
 *    x86 PAT a range has one memory type at a time, and arm64 forbids
 *    mismatched aliases, so two mappings of one range with two types
 *    cannot be made honestly;
 *  - these DMABUFs are for CPU mappings: importers (dma_buf_attach())
 *    are refused with EOPNOTSUPP.  On Linux 6.19 and later, importers
 *    (iommufd, RDMA) use VFIO_DEVICE_FEATURE_DMA_BUF, which answers ENODEV
 *    on a BAR that carries memattr handles or DMABUFs.
 *
 * A DMABUF holds the BAR ranges as handles do (policy, memory type
 * reservation, takeover of the BAR, the max_handles limit: one per
 * range), but has no handle id and no mmap offset on the device fd.
 * Its mmaps are revoked with every other BAR mapping (reset, memory
 * disable, low power) and refault afterwards with the same attribute; an
 * access while the memory is disabled gets SIGBUS.  Revoke, or the last
 * close of the device fd, revokes the DMABUF for good: its mmaps get
 * SIGBUS, later mmaps fail with ENODEV, and it holds nothing of the device
 * any more (it may outlive the device fd, the driver's binding and the
 * device itself as a revoked object).
 *
 * mmap(2) of a DMABUF fd: MAP_SHARED only (EINVAL), at offsets 0 to its
 * size (EINVAL past it), PROT_WRITE only if it was opened O_RDWR (EACCES).
 * /proc/PID/maps names the mapping "/dmabuf:memattr <pci name> BAR<n>
 * <attr>", e.g. "/dmabuf:memattr 0000:00:02.0 BAR2 WC", and "/dmabuf:memattr
 * <pci name> revoked" once revoked; its offset column is where the DMABUF
 * lies in the device file's BAR window (the mmap offset is 0-based).
 * The name is a label for people: any holder of the fd can rewrite it with
 * DMA_BUF_SET_NAME.  DMABUF_ATTR GET is the authority on the attribute in
 * force and on the state.
 * read(2)/write(2) of a DMABUF fd are not supported.
 *
 * Lifetime: a DMABUF lives as long as its last reference, which need not
 * be an fd: an O_PATH open of /proc/PID/fd/N keeps it past the close of
 * every fd.  Until then a closed DMABUF keeps its ranges, with its
 * attribute, until it is revoked or the device fd's last close: a new
 * export over such a range with another attribute gets EBUSY meanwhile.
 *
 * Moving to upstream's uAPI when it lands: export is layout-compatible
 * (struct vfio_device_feature_dma_buf; change the feature number); the
 * attribute and revoke are not: upstream sets the attribute at export
 * or for later mmaps and has no preference list, and its revoke is a
 * separate feature.  A program that keeps its own shim with three calls,
 * export, set-attribute (one attribute, read back with GET) and revoke
 * (EBADFD meaning "already revoked"), moves by changing that shim only.
 */
#define VFIO_MEMATTR_DMABUF_MAX_RANGES	64

struct vfio_memattr_dma_range {
	__aligned_u64 offset;		/* in the BAR, page aligned */
	__aligned_u64 length;		/* page aligned, > 0 */
};

/*
 * VFIO_DEVICE_FEATURE_MEMATTR_DMABUF: export a DMABUF.  GET, PROBE.
 *
 * The layout of upstream's struct vfio_device_feature_dma_buf.
 * In:  region_index: a BAR (0..5);
 *      open_flags: O_CLOEXEC and an access mode, O_RDWR or O_RDONLY
 *      (O_WRONLY is refused: an fd that cannot be read cannot be mmapped);
 *      flags = 0;
 *      nr_ranges (1..VFIO_MEMATTR_DMABUF_MAX_RANGES) ranges of the BAR,
 *      each as in MEMATTR_MAP; they are mapped one after the other, range
 *      k at the sum of the lengths before it.  argsz covers them all.
 * Returns the new DMABUF fd.  Its attribute is NC until SET changes it.
 *
 * Errors (nothing is created on error):
 *  EINVAL     argsz, flags, open_flags, region_index, nr_ranges, a range
 *             not page aligned, empty, overflowing or past the end of the
 *             page-aligned BAR.
 *  EOPNOTSUPP the BAR cannot be mapped (I/O, empty, not mmap capable).
 *  EBUSY      a range is in use with another attribute (as MAP).
 *  ENOSPC     max_handles, or the BAR's offset window, exhausted.
 *  ENOMEM, EMFILE, ENFILE.
 */
#define VFIO_DEVICE_FEATURE_MEMATTR_DMABUF	0xa004

struct vfio_device_feature_memattr_dmabuf {
	__u32	region_index;		/* in: BAR */
	__u32	open_flags;		/* in: O_CLOEXEC | O_RDWR or O_RDONLY */
	__u32	flags;			/* in: must be 0 */
	__u32	nr_ranges;		/* in */
	struct vfio_memattr_dma_range dma_ranges[];
};

/* vfio_device_feature_memattr_dmabuf_attr.state */
#define VFIO_MEMATTR_DMABUF_REVOKED	(1 << 0)	/* for good */
#define VFIO_MEMATTR_DMABUF_MAPPED	(1 << 1)	/* has live mmaps */

/*
 * VFIO_DEVICE_FEATURE_MEMATTR_DMABUF_ATTR: the memory attribute of a
 * DMABUF.  SET, GET, PROBE.
 *
 * SET in:  dmabuf_fd, flags = 0, reserved = 0, nr_prefs
 *          (1..VFIO_MEMATTR_MAX_PREFS) attributes in prefs[], most wanted
 *          first, unused entries 0.  The first one that can be honoured
 *          for every range of the DMABUF is set, under the rules and with
 *          the PAT check of MAP; setting the attribute in force succeeds
 *          and changes nothing.
 * GET in:  dmabuf_fd, flags = 0, reserved = 0, nr_prefs = 0, prefs[] = 0.
 * Out (both): attr (in force; the last one for a revoked DMABUF), state
 *          (VFIO_MEMATTR_DMABUF_*), size (bytes).
 *
 * Errors (nothing is changed on error):
 *  EINVAL     argsz, flags, reserved, nr_prefs, prefs[], dmabuf_fd not a
 *             DMABUF exported by MEMATTR_DMABUF of this driver.
 *  ENODEV     a DMABUF of another device; SET of a revoked DMABUF (GET
 *             reports it revoked when it comes from this device, also
 *             from an earlier open of it).
 *  EBUSY      SET: the DMABUF has live mmaps and the attribute would
 *             change, or a range is in use with another attribute.
 *  EPERM, EOPNOTSUPP   SET: as MAP, for the first preference.
 */
#define VFIO_DEVICE_FEATURE_MEMATTR_DMABUF_ATTR	0xa005

struct vfio_device_feature_memattr_dmabuf_attr {
	__s32	dmabuf_fd;		/* in */
	__u32	flags;			/* in: must be 0 */
	__u32	nr_prefs;		/* in: SET 1..MAX_PREFS, GET 0 */
	__u32	reserved;		/* in: must be 0 */
	__u8	prefs[VFIO_MEMATTR_MAX_PREFS];	/* in: enum vfio_memattr */
	__u32	attr;			/* out: enum vfio_memattr in force */
	__u32	state;			/* out: VFIO_MEMATTR_DMABUF_* */
	__aligned_u64 size;		/* out: bytes */
};

/*
 * VFIO_DEVICE_FEATURE_MEMATTR_DMABUF_REVOKE: revoke a DMABUF for good.
 * SET, PROBE.
 *
 * Every mmap of it is zapped before the call returns (the next access
 * gets SIGBUS), later mmaps fail with ENODEV, and its ranges are given
 * back (memory type reservations, takeover of the BAR, and its offsets in
 * the device file, which later DMABUFs may reuse).
 * Errors: EINVAL (argsz, flags, dmabuf_fd as in _ATTR), ENODEV (a DMABUF
 * of another device), EBADFD (revoked already: by REVOKE, or by the last
 * close of the device fd).
 * uAPI change in 2.2: revoking a revoked DMABUF failed with EBADFD from
 * then on, as upstream's proposed revoke does; it succeeded before.
 * (libvfio-memattr's vfio_memattr_dmabuf_revoke() still answers 0.)
 */
#define VFIO_DEVICE_FEATURE_MEMATTR_DMABUF_REVOKE	0xa006

struct vfio_device_feature_memattr_dmabuf_revoke {
	__s32	dmabuf_fd;		/* in */
	__u32	flags;			/* in: must be 0 */
};

#endif /* _UAPI_LINUX_VFIO_MEMATTR_H */
