// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * memattr_util.c - helpers for the vfio-pci-memattr guest tests.
 */
#define _GNU_SOURCE
#define _FILE_OFFSET_BITS 64
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/pci_regs.h>

#include "harness.h"
#include "memattr_util.h"
#include "pattern.h"

/* ---------------------------------------------------------------- TAP */
/* Thin wrappers over the project's harness (tests/guest/harness.h). */
static int tap_n, tap_planned, tap_failed;

void tap_plan(int n)
{
	tap_planned = n;
	harness_plan((unsigned int)n);
}

int tap_count(void)
{
	return tap_n;
}

int tap_ok(int cond, const char *fmt, ...)
{
	va_list ap;
	char desc[1024];

	va_start(ap, fmt);
	vsnprintf(desc, sizeof(desc), fmt, ap);
	va_end(ap);
	tap_n++;
	if (!cond)
		tap_failed++;
	return harness_ok(cond, "%s", desc);
}

void tap_skip(const char *reason, const char *fmt, ...)
{
	va_list ap;
	char desc[1024];

	va_start(ap, fmt);
	vsnprintf(desc, sizeof(desc), fmt, ap);
	va_end(ap);
	tap_n++;
	harness_skip(reason, "%s", desc);
}

void tap_diag(const char *fmt, ...)
{
	va_list ap;
	char msg[2048];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	harness_diag("%s", msg);
}

void tap_skip_rest_of(int n, const char *reason)
{
	while (n-- > 0)
		tap_skip(reason, "skipped");
}

void tap_fail_n(int n, const char *why)
{
	while (n-- > 0)
		tap_ok(0, "not reached: %s", why);
}

int tap_done(void)
{
	if (tap_n < tap_planned) {
		tap_diag("only %d of %d planned tests ran", tap_n, tap_planned);
		while (tap_n < tap_planned)
			tap_ok(0, "not reached");
	} else if (tap_n > tap_planned) {
		tap_diag("BUG: %d tests ran, %d planned", tap_n, tap_planned);
	}
	tap_diag("%d failed of %d", tap_failed, tap_n);
	return harness_exit();
}

const char *ma_errname(int e)
{
	static char buf[32];

	switch (e) {
	case 0: return "0";
	case EPERM: return "EPERM";
	case ENOENT: return "ENOENT";
	case EIO: return "EIO";
	case EBADF: return "EBADF";
	case ENOMEM: return "ENOMEM";
	case EACCES: return "EACCES";
	case EFAULT: return "EFAULT";
	case EBUSY: return "EBUSY";
	case EEXIST: return "EEXIST";
	case ENODEV: return "ENODEV";
	case EINVAL: return "EINVAL";
	case ENOSPC: return "ENOSPC";
	case ENOTTY: return "ENOTTY";
	case ERANGE: return "ERANGE";
	case ENXIO: return "ENXIO";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	case EOVERFLOW: return "EOVERFLOW";
	case E2BIG: return "E2BIG";
	case EAGAIN: return "EAGAIN";
	}
	snprintf(buf, sizeof(buf), "errno %d", e);
	return buf;
}

int tap_errno(int rc, int want, const char *fmt, ...)
{
	va_list ap;
	char desc[512];
	int got = rc < 0 ? -rc : 0;

	va_start(ap, fmt);
	vsnprintf(desc, sizeof(desc), fmt, ap);
	va_end(ap);
	if (got != want)
		tap_diag("%s: expected %s, got %s", desc, want ? ma_errname(want) : "success",
			 got ? ma_errname(got) : "success");
	return tap_ok(got == want, "%s -> %s", desc, want ? ma_errname(want) : "0");
}

/* ------------------------------------------------------------- devices */
const char *ma_bdf(const char *var, const char *dflt)
{
	const char *v = getenv(var);

	return (v && *v) ? v : dflt;
}

int ma_pci_driver(const char *bdf, char *out, size_t len)
{
	char path[256], link[PATH_MAX];
	ssize_t n;
	const char *b;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver", bdf);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0) {
		if (len)
			out[0] = 0;
		return -errno;
	}
	link[n] = 0;
	b = strrchr(link, '/');
	snprintf(out, len, "%s", b ? b + 1 : link);
	return 0;
}

/* iommufd and device cdev uAPI, defined here (the host's headers may lack it) */
#define VDEV_IOMMUFD_TYPE	(';')
struct vdev_ioas_alloc {
	uint32_t size, flags, out_ioas_id;
};
#define VDEV_IOMMU_IOAS_ALLOC	_IO(VDEV_IOMMUFD_TYPE, 0x81)
struct vdev_bind_iommufd {
	uint32_t argsz, flags;
	int32_t iommufd;
	uint32_t out_devid;
};
#define VDEV_DEVICE_BIND_IOMMUFD	_IO(VFIO_TYPE, VFIO_BASE + 18)
struct vdev_attach_pt {
	uint32_t argsz, flags, pt_id;
};
#define VDEV_DEVICE_ATTACH_IOMMUFD_PT	_IO(VFIO_TYPE, VFIO_BASE + 19)

enum vdev_mode vdev_mode(void)
{
	const char *m = getenv("MEMATTR_VFIO_MODE");

	return m && !strcmp(m, "cdev") ? VDEV_CDEV : VDEV_GROUP;
}

/* "vfioN" of @bdf's device cdev (/sys/bus/pci/devices/BDF/vfio-dev/). */
static int vdev_cdev_name(const char *bdf, char *out, size_t len)
{
	char path[256];
	struct dirent *de;
	DIR *dir;
	int rc = -ENOENT;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/vfio-dev", bdf);
	dir = opendir(path);
	if (!dir)
		return -errno;
	while ((de = readdir(dir)))
		if (!strncmp(de->d_name, "vfio", 4) && strlen(de->d_name) < len) {
			snprintf(out, len, "%s", de->d_name);
			rc = 0;
			break;
		}
	closedir(dir);
	return rc;
}

/*
 * A device fd from d->cdev, bound to d->container (the iommufd), attached
 * to d->ioas; @quiet: no diagnostics (the errno says it).
 */
static int vdev_cdev_fd(struct vdev *d, int quiet)
{
	struct vdev_bind_iommufd bind = { .argsz = sizeof(bind), .iommufd = d->container };
	struct vdev_attach_pt at = { .argsz = sizeof(at), .pt_id = d->ioas };
	char path[300];
	int fd, e;

	snprintf(path, sizeof(path), "/dev/vfio/devices/%s", d->cdev);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		e = errno;
		if (!quiet)
			tap_diag("open %s: %s", path, strerror(e));
		return -e;
	}
	if (ioctl(fd, VDEV_DEVICE_BIND_IOMMUFD, &bind) < 0) {
		e = errno;
		if (!quiet)
			tap_diag("%s: VFIO_DEVICE_BIND_IOMMUFD: %s", path, strerror(e));
		close(fd);
		return -e;
	}
	if (ioctl(fd, VDEV_DEVICE_ATTACH_IOMMUFD_PT, &at) < 0) {
		e = errno;
		if (!quiet)
			tap_diag("%s: VFIO_DEVICE_ATTACH_IOMMUFD_PT: %s", path, strerror(e));
		close(fd);
		return -e;
	}
	return fd;
}

static int vdev_open_cdev(struct vdev *d)
{
	struct vdev_ioas_alloc al = { .size = sizeof(al) };
	int rc;

	rc = vdev_cdev_name(d->bdf, d->cdev, sizeof(d->cdev));
	if (rc < 0) {
		tap_diag("%s: no VFIO device cdev (vfio-dev/ in sysfs): %s", d->bdf, strerror(-rc));
		return rc;
	}
	d->container = open("/dev/iommu", O_RDWR | O_CLOEXEC);
	if (d->container < 0) {
		rc = -errno;
		tap_diag("open /dev/iommu: %s", strerror(errno));
		return rc;
	}
	if (ioctl(d->container, VDEV_IOMMU_IOAS_ALLOC, &al) < 0) {
		rc = -errno;
		tap_diag("IOMMU_IOAS_ALLOC: %s", strerror(errno));
		return rc;
	}
	d->ioas = al.out_ioas_id;
	rc = vdev_cdev_fd(d, 0);
	if (rc < 0)
		return rc;
	d->fd = rc;
	return 0;
}

int vdev_open(struct vdev *d, const char *bdf)
{
	return vdev_open_mode(d, bdf, vdev_mode());
}

int vdev_open_mode(struct vdev *d, const char *bdf, enum vdev_mode mode)
{
	char path[PATH_MAX + 64], link[PATH_MAX];
	struct vfio_group_status gs = { .argsz = sizeof(gs) };
	const char *g;
	ssize_t n;
	int type, rc;

	memset(d, 0, sizeof(*d));
	d->container = d->group = d->fd = -1;
	snprintf(d->bdf, sizeof(d->bdf), "%s", bdf);
	d->mode = mode;
	if (mode == VDEV_CDEV) {
		rc = vdev_open_cdev(d);
		if (rc < 0)
			goto fail;
		goto info;
	}

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/iommu_group", bdf);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0) {
		rc = -errno;
		tap_diag("%s: %s", path, strerror(errno));
		return rc;
	}
	link[n] = 0;
	g = strrchr(link, '/');
	g = g ? g + 1 : link;

	d->container = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	if (d->container < 0) {
		rc = -errno;
		tap_diag("open /dev/vfio/vfio: %s", strerror(errno));
		goto fail;
	}
	if (ioctl(d->container, VFIO_GET_API_VERSION) != VFIO_API_VERSION) {
		tap_diag("VFIO API version mismatch");
		rc = -EINVAL;
		goto fail;
	}
	snprintf(path, sizeof(path), "/dev/vfio/%s", g);
	d->group = open(path, O_RDWR | O_CLOEXEC);
	if (d->group < 0) {
		rc = -errno;
		tap_diag("open %s: %s", path, strerror(errno));
		goto fail;
	}
	if (ioctl(d->group, VFIO_GROUP_GET_STATUS, &gs) < 0) {
		rc = -errno;
		tap_diag("VFIO_GROUP_GET_STATUS: %s", strerror(errno));
		goto fail;
	}
	if (!(gs.flags & VFIO_GROUP_FLAGS_VIABLE)) {
		tap_diag("group %s not viable (all devices must be bound to vfio drivers)", g);
		rc = -EBUSY;
		goto fail;
	}
	if (ioctl(d->group, VFIO_GROUP_SET_CONTAINER, &d->container) < 0) {
		rc = -errno;
		tap_diag("VFIO_GROUP_SET_CONTAINER: %s", strerror(errno));
		goto fail;
	}
	type = ioctl(d->container, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU) > 0 ?
		VFIO_TYPE1v2_IOMMU : VFIO_TYPE1_IOMMU;
	if (ioctl(d->container, VFIO_SET_IOMMU, type) < 0) {
		rc = -errno;
		tap_diag("VFIO_SET_IOMMU: %s", strerror(errno));
		goto fail;
	}
	rc = vdev_get_fd(d);
	if (rc < 0)
		goto fail;
	d->fd = rc;
info:
	d->info.argsz = sizeof(d->info);
	if (ioctl(d->fd, VFIO_DEVICE_GET_INFO, &d->info) < 0) {
		rc = -errno;
		tap_diag("VFIO_DEVICE_GET_INFO: %s", strerror(errno));
		goto fail;
	}
	return 0;
fail:
	vdev_close(d);
	return rc;
}

int vdev_get_fd(struct vdev *d)
{
	int fd;

	if (d->mode == VDEV_CDEV)
		return vdev_cdev_fd(d, 1);
	fd = ioctl(d->group, VFIO_GROUP_GET_DEVICE_FD, d->bdf);

	if (fd < 0) {
		int e = errno;

		tap_diag("VFIO_GROUP_GET_DEVICE_FD %s: %s", d->bdf, strerror(e));
		return -e;
	}
	return fd;
}

void vdev_close(struct vdev *d)
{
	if (d->fd >= 0)
		close(d->fd);
	if (d->group >= 0)
		close(d->group);
	if (d->container >= 0)
		close(d->container);
	d->fd = d->group = d->container = -1;
}

int region_info_buf(int fd, uint32_t index, void *buf, size_t bufsz)
{
	struct vfio_region_info *ri = buf;

	memset(buf, 0, bufsz);
	ri->argsz = (uint32_t)bufsz;
	ri->index = index;
	if (ioctl(fd, VFIO_DEVICE_GET_REGION_INFO, ri) < 0)
		return -errno;
	return 0;
}

int region_info(int fd, uint32_t index, struct vfio_region_info *ri)
{
	return region_info_buf(fd, index, ri, sizeof(*ri));
}

void *region_cap(void *buf, size_t bufsz, uint16_t id)
{
	struct vfio_region_info *ri = buf;
	uint32_t off;
	int guard = 0;

	if (!(ri->flags & VFIO_REGION_INFO_FLAG_CAPS))
		return NULL;
	off = ri->cap_offset;
	while (off && off + sizeof(struct vfio_info_cap_header) <= bufsz && guard++ < 64) {
		struct vfio_info_cap_header *h = (void *)((char *)buf + off);

		if (h->id == id)
			return h;
		off = h->next;
	}
	return NULL;
}

int rawfd_pread(int fd, uint64_t abs_off, void *buf, size_t len)
{
	ssize_t n = pread(fd, buf, len, (off_t)abs_off);

	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

int rawfd_pwrite(int fd, uint64_t abs_off, const void *buf, size_t len)
{
	ssize_t n = pwrite(fd, buf, len, (off_t)abs_off);

	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

int region_pread(int fd, uint32_t index, uint64_t off, void *buf, size_t len)
{
	struct vfio_region_info ri;
	int rc = region_info(fd, index, &ri);

	if (rc)
		return rc;
	return rawfd_pread(fd, ri.offset + off, buf, len);
}

int region_pwrite(int fd, uint32_t index, uint64_t off, const void *buf, size_t len)
{
	struct vfio_region_info ri;
	int rc = region_info(fd, index, &ri);

	if (rc)
		return rc;
	return rawfd_pwrite(fd, ri.offset + off, buf, len);
}

int cfg_read16(int fd, uint32_t off, uint16_t *v)
{
	return region_pread(fd, VFIO_PCI_CONFIG_REGION_INDEX, off, v, 2);
}

int cfg_write16(int fd, uint32_t off, uint16_t v)
{
	return region_pwrite(fd, VFIO_PCI_CONFIG_REGION_INDEX, off, &v, 2);
}

int cmd_memory(int fd, int enable)
{
	uint16_t cmd;
	int rc = cfg_read16(fd, PCI_COMMAND, &cmd);

	if (rc)
		return rc;
	if (enable)
		cmd |= PCI_COMMAND_MEMORY;
	else
		cmd &= (uint16_t)~PCI_COMMAND_MEMORY;
	rc = cfg_write16(fd, PCI_COMMAND, cmd);
	if (rc)
		return rc;
	rc = cfg_read16(fd, PCI_COMMAND, &cmd);
	if (rc)
		return rc;
	if (!!(cmd & PCI_COMMAND_MEMORY) != !!enable) {
		tap_diag("PCI_COMMAND reads 0x%04x after %s memory", cmd, enable ? "enabling" : "disabling");
		return -EIO;
	}
	return 0;
}

int ma_bar_phys(const char *bdf, unsigned int bar, uint64_t *start, uint64_t *size)
{
	char path[256], line[256];
	unsigned long long s, e, f;
	unsigned int i = 0;
	FILE *fp;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/resource", bdf);
	fp = fopen(path, "r");
	if (!fp)
		return -errno;
	while (fgets(line, sizeof(line), fp)) {
		if (i++ != bar)
			continue;
		fclose(fp);
		if (sscanf(line, "%llx %llx %llx", &s, &e, &f) != 3)
			return -EIO;
		*start = s;
		*size = (s || e) ? e - s + 1 : 0;
		return 0;
	}
	fclose(fp);
	return -ENOENT;
}

/* ------------------------------------------------------------- features */
int ma_feat_raw(int fd, uint32_t flags, const void *in, void *out, size_t len, uint32_t argsz_override)
{
	uint64_t buf[64];
	struct vfio_device_feature *f = (void *)buf;

	if (sizeof(*f) + len > sizeof(buf))
		return -E2BIG;
	memset(buf, 0, sizeof(buf));
	f->argsz = argsz_override ? argsz_override : (uint32_t)(sizeof(*f) + len);
	f->flags = flags;
	if (in && len)
		memcpy(f->data, in, len);
	if (ioctl(fd, VFIO_DEVICE_FEATURE, f) < 0)
		return -errno;
	if (out && len)
		memcpy(out, f->data, len);
	return 0;
}

int ma_feat(int fd, uint32_t flags, void *payload, size_t len)
{
	return ma_feat_raw(fd, flags, payload, payload, len, 0);
}

int ma_bar_info(int fd, uint32_t index, struct vfio_device_feature_memattr_bar_info *out)
{
	memset(out, 0, sizeof(*out));
	out->index = index;
	return ma_feat(fd, VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_MEMATTR_BAR_INFO,
		    out, sizeof(*out));
}

int ma_map(int fd, uint32_t index, uint64_t off, uint64_t len, const uint8_t *prefs,
	   unsigned int nr, struct vfio_device_feature_memattr_map *out)
{
	struct vfio_device_feature_memattr_map m;
	int rc;

	memset(&m, 0, sizeof(m));
	m.index = index;
	m.offset = off;
	m.length = len;
	m.nr_prefs = nr;
	memcpy(m.prefs, prefs, nr < VFIO_MEMATTR_MAX_PREFS ? nr : VFIO_MEMATTR_MAX_PREFS);
	rc = ma_feat(fd, VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_MEMATTR_MAP, &m, sizeof(m));
	if (out)
		*out = m;
	return rc;
}

int ma_map1(int fd, uint32_t index, uint64_t off, uint64_t len, uint8_t attr,
	    struct vfio_device_feature_memattr_map *out)
{
	return ma_map(fd, index, off, len, &attr, 1, out);
}

int ma_handle(int fd, uint32_t handle, struct vfio_device_feature_memattr_handle *out)
{
	memset(out, 0, sizeof(*out));
	out->handle = handle;
	return ma_feat(fd, VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_MEMATTR_HANDLE,
		    out, sizeof(*out));
}

int ma_unmap(int fd, uint32_t handle)
{
	struct vfio_device_feature_memattr_unmap u = { .handle = handle };

	return ma_feat(fd, VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_MEMATTR_UNMAP, &u, sizeof(u));
}

int ma_nr_handles(int fd, uint32_t index)
{
	struct vfio_device_feature_memattr_bar_info bi;
	int rc = ma_bar_info(fd, index, &bi);

	return rc ? rc : (int)bi.nr_handles;
}

int ma_driver_present(int fd)
{
	return ma_feat_raw(fd, VFIO_DEVICE_FEATURE_PROBE | VFIO_DEVICE_FEATURE_GET |
			VFIO_DEVICE_FEATURE_MEMATTR_BAR_INFO, NULL, NULL, 0, 0) == 0;
}

const char *attr_name(unsigned int a)
{
	switch (a) {
	case VFIO_MEMATTR_NC: return "NC";
	case VFIO_MEMATTR_WC: return "WC";
	case VFIO_MEMATTR_DEV: return "DEV";
	}
	return "?";
}

const char *attr_pat_type(unsigned int a)
{
	return a == VFIO_MEMATTR_WC ? "write-combining" : "uncached-minus";
}

void *ma_map_fd_at(int fd, uint64_t off, size_t len, void *addr)
{
	void *p = mmap(addr, len, PROT_READ | PROT_WRITE,
		       MAP_SHARED | (addr ? MAP_FIXED : 0), fd, (off_t)off);

	return p == MAP_FAILED ? NULL : p;
}

volatile uint8_t *ma_map_aligned(int fd, uint64_t off, size_t len, size_t skew,
				 void **res, size_t *reslen)
{
	const uintptr_t m2 = 2 * MA_MIB;
	size_t rl = len + 2 * m2;
	uint8_t *r = mmap(NULL, rl, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	uintptr_t a;
	void *p;

	if (r == MAP_FAILED)
		return NULL;
	a = (((uintptr_t)r + m2 - 1) & ~(m2 - 1)) + skew;
	p = mmap((void *)a, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, (off_t)off);
	if (p == MAP_FAILED) {
		int e = errno;

		munmap(r, rl);
		errno = e;
		return NULL;
	}
	*res = r;
	*reslen = rl;
	return p;
}

void *ma_map_fd(int fd, uint64_t off, size_t len)
{
	return ma_map_fd_at(fd, off, len, NULL);
}

/* ------------------------------------------------------------------ PAT */
#define PAT_PATH "/sys/kernel/debug/x86/pat_memtype_list"

/* No PAT list on this architecture: see harness_pat_absent() in harness.h. */
#if defined(__x86_64__) || defined(__i386__)
#define PAT_ABSENT(unknown, ret) do { } while (0)
#else
#define PAT_ABSENT(unknown, ret) do { harness_pat_absent(unknown); return ret; } while (0)
#endif
#if defined(__x86_64__) || defined(__i386__)
#define PAT_NONE(ret) do { } while (0)
#else
/* "no entry", "unchanged": true where the kernel keeps no memtype reservations */
#define PAT_NONE(ret) return ret
#endif

int pat_available(void)
{
	PAT_ABSENT(false, 1);
	return access(PAT_PATH, R_OK) == 0;
}

int pat_overlapping(uint64_t s, uint64_t e, struct pat_ent *out, int max)
{
	char line[256];
	int n = 0;
	FILE *fp;

	PAT_NONE(0);
	fp = fopen(PAT_PATH, "r");
	if (!fp)
		return -errno;
	while (fgets(line, sizeof(line), fp)) {
		unsigned long long a, b;
		char type[32];

		if (sscanf(line, "PAT: [mem 0x%llx-0x%llx] %31s", &a, &b, type) != 3)
			continue;
		if (a < e && b > s) {
			if (n < max) {
				out[n].start = a;
				out[n].end = b;
				snprintf(out[n].type, sizeof(out[n].type), "%s", type);
			}
			n++;
		}
	}
	fclose(fp);
	return n < max ? n : max;
}

static struct pat_ent pat_buf[PAT_MAX];

void pat_dump(uint64_t s, uint64_t e)
{
	int i, n;

#if !defined(__x86_64__) && !defined(__i386__)
	return;	/* diagnostics only */
#endif
	n = pat_overlapping(s, e, pat_buf, PAT_MAX);

	if (n < 0) {
		tap_diag("PAT list unreadable: %s", strerror(-n));
		return;
	}
	tap_diag("PAT entries overlapping [0x%" PRIx64 "-0x%" PRIx64 "): %d", s, e, n);
	for (i = 0; i < n; i++)
		tap_diag("  [0x%" PRIx64 "-0x%" PRIx64 "] %s", pat_buf[i].start, pat_buf[i].end,
			 pat_buf[i].type);
}

int pat_count(uint64_t s, uint64_t e)
{
	return pat_overlapping(s, e, pat_buf, PAT_MAX);
}

int pat_has_exact(uint64_t s, uint64_t e, const char *type)
{
	int i, n;

	PAT_ABSENT(false, 1);
	n = pat_overlapping(s, e, pat_buf, PAT_MAX);

	for (i = 0; i < n; i++)
		if (pat_buf[i].start == s && pat_buf[i].end == e && !strcmp(pat_buf[i].type, type))
			return 1;
	return 0;
}

int pat_check_bar(uint64_t bs, uint64_t be, const struct pat_expect *exp, int n, int must_exact)
{
	int i, j, cnt, ok = 1;

	if (!n)
		PAT_NONE(1);
	PAT_ABSENT(false, 1);
	cnt = pat_overlapping(bs, be, pat_buf, PAT_MAX);
	if (cnt < 0) {
		tap_diag("PAT list unreadable: %s", strerror(-cnt));
		return 0;
	}
	for (i = 0; i < cnt; i++) {
		int covered = 0;

		for (j = 0; j < n; j++)
			if (exp[j].start <= pat_buf[i].start && pat_buf[i].end <= exp[j].end &&
			    !strcmp(exp[j].type, pat_buf[i].type))
				covered = 1;
		if (!covered) {
			tap_diag("PAT entry [0x%" PRIx64 "-0x%" PRIx64 "] %s is not inside a range expected with that type",
				 pat_buf[i].start, pat_buf[i].end, pat_buf[i].type);
			ok = 0;
		}
	}
	if (must_exact) {
		for (j = 0; j < n; j++) {
			int found = 0;

			/*
			 * NC and DEV handles reserve nothing: a range without an
			 * entry is uncached-minus on x86, and an entry of another
			 * type inside it was already refused above.
			 */
			if (!strcmp(exp[j].type, "uncached-minus"))
				continue;

			for (i = 0; i < cnt; i++)
				if (pat_buf[i].start == exp[j].start && pat_buf[i].end == exp[j].end &&
				    !strcmp(pat_buf[i].type, exp[j].type))
					found = 1;
			if (!found) {
				tap_diag("no PAT entry of exactly [0x%" PRIx64 "-0x%" PRIx64 "] %s",
					 exp[j].start, exp[j].end, exp[j].type);
				ok = 0;
			}
		}
	}
	if (!ok)
		pat_dump(bs, be);
	return ok;
}

int pat_snap_take(uint64_t s, uint64_t e, struct pat_snap *sn)
{
	int n;

	sn->n = 0;
#if !defined(__x86_64__) && !defined(__i386__)
	return 0;	/* a snapshot is no check: pat_snap_same() reports */
#endif
	n = pat_overlapping(s, e, sn->e, 16);

	sn->n = n < 0 ? 0 : n;
	return n < 0 ? n : 0;
}

int pat_snap_same(uint64_t s, uint64_t e, const struct pat_snap *sn)
{
	struct pat_snap now;
	int i, ok;

	PAT_NONE(1);
	pat_snap_take(s, e, &now);
	ok = now.n == sn->n;
	for (i = 0; ok && i < now.n; i++)
		ok = now.e[i].start == sn->e[i].start && now.e[i].end == sn->e[i].end &&
		     !strcmp(now.e[i].type, sn->e[i].type);
	if (!ok) {
		tap_diag("PAT entries differ from the fresh-open state (%d entries then):", sn->n);
		for (i = 0; i < sn->n; i++)
			tap_diag("  then [0x%" PRIx64 "-0x%" PRIx64 "] %s", sn->e[i].start, sn->e[i].end,
				 sn->e[i].type);
		pat_dump(s, e);
	} else if (sn->n) {
		tap_diag("PAT of [0x%" PRIx64 "-0x%" PRIx64 ") as on a fresh open: %d entr%s (first: %s)", s, e,
			 sn->n, sn->n == 1 ? "y" : "ies", sn->e[0].type);
	}
	return ok;
}

/* -------------------------------------------------------------- sysfs */
int sysfs_read_str(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	if (n < 0) {
		int e = errno;

		close(fd);
		return -e;
	}
	close(fd);
	buf[n] = 0;
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = 0;
	return 0;
}

int sysfs_write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, s, strlen(s));
	if (n < 0) {
		int e = errno;

		close(fd);
		return -e;
	}
	close(fd);
	return 0;
}

int sysfs_read_u64(const char *path, uint64_t *v)
{
	char buf[64], *end;
	int rc = sysfs_read_str(path, buf, sizeof(buf));

	if (rc)
		return rc;
	errno = 0;
	*v = strtoull(buf, &end, 0);
	if (errno || end == buf)
		return -EINVAL;
	return 0;
}

int ma_stat(const char *bdf, const char *key, int64_t *v)
{
	char path[256], line[256];
	size_t kl = strlen(key);
	FILE *fp;

	snprintf(path, sizeof(path), "/sys/kernel/debug/vfio-pci-memattr/%s/stats", bdf);
	fp = fopen(path, "r");
	if (!fp)
		return -errno;
	while (fgets(line, sizeof(line), fp)) {
		if (!strncmp(line, key, kl) && (line[kl] == ' ' || line[kl] == '\t' || line[kl] == ':')) {
			char *p = line + kl;

			while (*p == ' ' || *p == '\t' || *p == ':')
				p++;
			*v = strtoll(p, NULL, 0);
			fclose(fp);
			return 0;
		}
	}
	fclose(fp);
	return -ENOENT;
}

/* ----------------------------------------------------------- MMIO/SIGBUS */
void mmio_sfence(void)
{
#if defined(__x86_64__)
	__asm__ __volatile__("sfence" ::: "memory");
#elif defined(__aarch64__)
	__asm__ __volatile__("dsb st" ::: "memory");
#else
	__sync_synchronize();
#endif
}

static sigjmp_buf probe_env;
static volatile sig_atomic_t probe_sig;

static void probe_handler(int sig)
{
	probe_sig = sig;
	siglongjmp(probe_env, 1);
}

int probe_access(volatile uint64_t *p, int write, uint64_t val, uint64_t *readval)
{
	struct sigaction sa, obus, osegv;
	int ret = 0;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = probe_handler;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, &obus);
	sigaction(SIGSEGV, &sa, &osegv);
	probe_sig = 0;
	if (sigsetjmp(probe_env, 1) == 0) {
		if (write) {
			*p = val;
			mmio_sfence();
		} else {
			uint64_t v = *p;

			if (readval)
				*readval = v;
		}
	} else {
		ret = probe_sig;
	}
	sigaction(SIGBUS, &obus, NULL);
	sigaction(SIGSEGV, &osegv, NULL);
	return ret;
}

void mmio_fill(volatile void *dst, size_t len, uint64_t seed)
{
	pattern_fill_mmio64((volatile uint64_t *)dst, len / 8, seed);
}

size_t mmio_check(const volatile void *src, size_t len, uint64_t seed)
{
	size_t k = pattern_check_mmio64((const volatile uint64_t *)src, len / 8, seed);

	return k == len / 8 ? len : k * 8;
}

size_t buf_check(const void *buf, size_t len, uint64_t seed)
{
	return pattern_check(buf, len, seed);
}

void buf_fill(void *buf, size_t len, uint64_t seed)
{
	pattern_fill(buf, len, seed);
}

void ma_hostcheck(uint64_t off, uint64_t len, uint64_t seed, const char *desc)
{
	harness_hostcheck("ivshmem0", off, len, seed, "%s", desc);
}

int ma_fill_check(volatile uint8_t *p, size_t len, uint64_t seed)
{
	size_t bad;

	mmio_fill(p, len, seed);
	mmio_sfence();
	bad = mmio_check(p, len, seed);
	if (bad != len)
		tap_diag("readback through the mapping differs at byte %zu", bad);
	return bad == len;
}

int ma_legacy_check(int fd, uint64_t off, size_t len, uint64_t seed)
{
	uint8_t *buf = malloc(len);
	size_t bad;
	int rc;

	if (!buf)
		return 0;
	rc = region_pread(fd, 2, off, buf, len);
	bad = rc ? 0 : buf_check(buf, len, seed);
	if (rc)
		tap_diag("pread legacy BAR2 at 0x%" PRIx64 ": %s", off, ma_errname(-rc));
	else if (bad != len)
		tap_diag("pread legacy BAR2 at 0x%" PRIx64 " differs at byte %zu", off, bad);
	free(buf);
	return !rc && bad == len;
}
