/* SPDX-License-Identifier: GPL-2.0-only OR MIT */
/*
 * memattr_util.h - helpers shared by the guest tests of vfio-pci-memattr:
 * kselftest-style TAP output, VFIO group/container device open, the
 * memattr features, the x86 PAT list, sysfs/debugfs files, SIGBUS probing.
 *
 * Every helper returning int returns 0 (or a count) on success and a
 * negative errno value on failure, unless documented otherwise.
 */
#ifndef MEMATTR_UTIL_H
#define MEMATTR_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <linux/vfio.h>
#include <linux/vfio_memattr.h>

#define MA_PAGE		4096ull
#define MA_MIB		(1024ull * 1024ull)
/* attributes known to these tests (the uAPI enum may grow) */
#define MA_NR_ATTRS	(VFIO_MEMATTR_DEV + 1)

/* ---------------------------------------------------------------- TAP */
void tap_plan(int n);
/* One result; returns cond (so callers can chain). */
int tap_ok(int cond, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void tap_skip(const char *reason, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void tap_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Skip the remaining planned tests with @reason (setup failure of an optional part). */
void tap_skip_rest_of(int n, const char *reason);
/* Fail @n tests with a "not reached" description (setup failure of a required part). */
void tap_fail_n(int n, const char *why);
/* Pads missing results as failures; returns the exit status. */
int tap_done(void);
int tap_count(void);

/* errno check helper: rc is 0 or -errno. */
int tap_errno(int rc, int want, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
const char *ma_errname(int e);	/* "EINVAL", ... for positive e */

/* ------------------------------------------------------------- devices */
/* BDF from env var @var or @dflt. */
const char *ma_bdf(const char *var, const char *dflt);

enum vdev_mode {
	VDEV_GROUP,	/* /dev/vfio/vfio container + /dev/vfio/N group */
	VDEV_CDEV,	/* /dev/vfio/devices/vfioN bound to /dev/iommu */
};

struct vdev {
	int container;	/* the container; the iommufd in VDEV_CDEV mode */
	int group;	/* -1 in VDEV_CDEV mode */
	int fd;
	char bdf[32];
	struct vfio_device_info info;
	enum vdev_mode mode;
	char cdev[32];	/* VDEV_CDEV: "vfioN" */
	uint32_t ioas;	/* VDEV_CDEV: the IO address space the device is attached to */
};

/*
 * MEMATTR_VFIO_MODE=cdev: the tests open devices through the VFIO device
 * cdev and iommufd (lab/init's second pass on the debug kernel); else
 * through the group/container API.
 */
enum vdev_mode vdev_mode(void);
/* Open @bdf in vdev_mode()'s way. */
int vdev_open(struct vdev *d, const char *bdf);
/* Open @bdf through the group/container API or the cdev + iommufd. */
int vdev_open_mode(struct vdev *d, const char *bdf, enum vdev_mode mode);
/*
 * A second device fd of the same device: another VFIO_GROUP_GET_DEVICE_FD,
 * or in VDEV_CDEV mode another open + bind of the cdev (which the kernel
 * refuses with EINVAL while the device is open: vfio_df_open()).
 */
int vdev_get_fd(struct vdev *d);
void vdev_close(struct vdev *d);
/* Name of the driver bound to bdf ("" if none). */
int ma_pci_driver(const char *bdf, char *out, size_t len);

/* GET_REGION_INFO into a caller buffer (argsz = bufsz); rc 0 / -errno. */
int region_info_buf(int fd, uint32_t index, void *buf, size_t bufsz);
int region_info(int fd, uint32_t index, struct vfio_region_info *ri);
/* Find capability @id in a region info buffer; NULL if none. */
void *region_cap(void *buf, size_t bufsz, uint16_t id);

/* PCI config region helpers (VFIO_PCI_CONFIG_REGION_INDEX). */
int cfg_read16(int fd, uint32_t off, uint16_t *v);
int cfg_write16(int fd, uint32_t off, uint16_t v);
int cmd_memory(int fd, int enable);	/* set/clear PCI_COMMAND_MEMORY */

/* pread/pwrite of exactly len bytes at @off of region @index. */
int region_pread(int fd, uint32_t index, uint64_t off, void *buf, size_t len);
int region_pwrite(int fd, uint32_t index, uint64_t off, const void *buf, size_t len);
int rawfd_pread(int fd, uint64_t abs_off, void *buf, size_t len);
int rawfd_pwrite(int fd, uint64_t abs_off, const void *buf, size_t len);

/* Physical start/size of BAR @bar from sysfs "resource". */
int ma_bar_phys(const char *bdf, unsigned int bar, uint64_t *start, uint64_t *size);

/* ------------------------------------------------------------- features */
/* VFIO_DEVICE_FEATURE with payload; argsz = sizeof(hdr) + len unless argsz_override != 0. */
int ma_feat_raw(int fd, uint32_t flags, const void *in, void *out, size_t len, uint32_t argsz_override);
int ma_feat(int fd, uint32_t flags, void *payload, size_t len);	/* flags incl. feature number */

int ma_bar_info(int fd, uint32_t index, struct vfio_device_feature_memattr_bar_info *out);
int ma_map(int fd, uint32_t index, uint64_t off, uint64_t len, const uint8_t *prefs,
	   unsigned int nr, struct vfio_device_feature_memattr_map *out);
int ma_map1(int fd, uint32_t index, uint64_t off, uint64_t len, uint8_t attr,
	    struct vfio_device_feature_memattr_map *out);
int ma_handle(int fd, uint32_t handle, struct vfio_device_feature_memattr_handle *out);
int ma_unmap(int fd, uint32_t handle);
/* nr_handles of BAR @index, or -errno. */
int ma_nr_handles(int fd, uint32_t index);
/* 1 if the device answers the memattr features (BAR_INFO PROBE). */
int ma_driver_present(int fd);

const char *attr_name(unsigned int a);
/* The PAT type string for an attribute (x86). */
const char *attr_pat_type(unsigned int a);

/* mmap @len at @off of fd (shared, rw). MAP_FAILED -> NULL and errno set. */
void *ma_map_fd(int fd, uint64_t off, size_t len);
void *ma_map_fd_at(int fd, uint64_t off, size_t len, void *addr);
/*
 * mmap @len of fd at @off at an address 2 MiB aligned + @skew, inside a
 * PROT_NONE reservation the caller munmaps (*res, *reslen) when done.
 * NULL and errno set on failure (nothing left mapped).
 */
volatile uint8_t *ma_map_aligned(int fd, uint64_t off, size_t len, size_t skew,
				 void **res, size_t *reslen);

/* ------------------------------------------------------------------ PAT */
struct pat_ent {
	uint64_t start, end;	/* [start, end) */
	char type[32];
};
#define PAT_MAX 4096
int pat_available(void);
/* Entries overlapping [s, e); returns count or -errno. */
int pat_overlapping(uint64_t s, uint64_t e, struct pat_ent *out, int max);
void pat_dump(uint64_t s, uint64_t e);	/* diagnostics */

struct pat_expect {
	uint64_t start, end;	/* physical range covered */
	const char *type;
};
/*
 * The PAT honesty rule for one BAR [bs, be): every entry overlapping it lies
 * inside one of @exp and has its type, and with must_exact each
 * write-combining @exp has an entry of exactly its range (an uncached-minus
 * @exp needs none: NC and DEV handles reserve nothing, and x86 maps a range
 * without an entry uncached-minus).  Returns 1 if honest (else prints
 * diagnostics and returns 0).
 */
int pat_check_bar(uint64_t bs, uint64_t be, const struct pat_expect *exp, int n, int must_exact);
/* Number of entries overlapping [s, e) (or -errno). */
int pat_count(uint64_t s, uint64_t e);
/* 1 if an entry of exactly [s, e) has type @type. */
int pat_has_exact(uint64_t s, uint64_t e, const char *type);

/*
 * A snapshot of the PAT entries of a range, to compare a later state with
 * the state of a fresh open (on 7.2 vfio-pci maps every BAR at open, so an
 * open device with no handle holds a whole-BAR uncached-minus entry).
 */
struct pat_snap {
	int n;
	struct pat_ent e[16];
};
int pat_snap_take(uint64_t s, uint64_t e, struct pat_snap *sn);
/* 1 if the entries of [s, e) are exactly those of @sn (else diagnostics). */
int pat_snap_same(uint64_t s, uint64_t e, const struct pat_snap *sn);

/* -------------------------------------------------------------- sysfs */
int sysfs_read_str(const char *path, char *buf, size_t len);
int sysfs_write_str(const char *path, const char *s);
int sysfs_read_u64(const char *path, uint64_t *v);

#define MA_PARAM_DIR "/sys/module/vfio_pci_memattr/parameters"
/* debugfs stats value for @key ("pmd_faults"); -errno if absent. */
int ma_stat(const char *bdf, const char *key, int64_t *v);

/* ----------------------------------------------------------- MMIO/SIGBUS */
void mmio_sfence(void);
/*
 * Touch one 64-bit word: read (write=0) or write @val (write=1).  Returns 0,
 * or SIGBUS/SIGSEGV number if the access raised that signal.
 */
int probe_access(volatile uint64_t *p, int write, uint64_t val, uint64_t *readval);

/* Pattern helpers over MMIO: 64-bit stores/loads. */
void mmio_fill(volatile void *dst, size_t len, uint64_t seed);
/* len if ok, else index of first bad byte (word-granular). */
size_t mmio_check(const volatile void *src, size_t len, uint64_t seed);
/* Check a byte buffer (from pread) against the pattern; len if ok. */
size_t buf_check(const void *buf, size_t len, uint64_t seed);
/* Fill a mapping with the pattern, sfence, read it back; 1 if intact. */
int ma_fill_check(volatile uint8_t *p, size_t len, uint64_t seed);
/* pread of the legacy BAR2 region at @off holds the pattern; 1 if so. */
int ma_legacy_check(int fd, uint64_t off, size_t len, uint64_t seed);
void buf_fill(void *buf, size_t len, uint64_t seed);
/* Print the HOSTCHECK line for ivshmem0 BAR2. */
void ma_hostcheck(uint64_t off, uint64_t len, uint64_t seed, const char *desc);

#endif /* MEMATTR_UTIL_H */
