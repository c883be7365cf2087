// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * vfio-memattr.c - userspace library for the vfio-pci-memattr uAPI
 *
 * See vfio-memattr.h and vfio_memattr(3).
 */
#define _GNU_SOURCE
#define _FILE_OFFSET_BITS 64
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <linux/pci_regs.h>
#include <linux/vfio.h>

#include "vfio-memattr.h"
#include "vfio-memattr-private.h"

#define EXPORT __attribute__((visibility("default")))

/*
 * iommufd and the VFIO device cdev appeared in Linux 6.2/6.6; older uAPI
 * headers (Debian 12 ships 6.1) lack them.  The values below are ABI.
 */
#ifndef VFIO_DEVICE_BIND_IOMMUFD
struct vfio_device_bind_iommufd {
	__u32 argsz;
	__u32 flags;
	__s32 iommufd;
	__u32 out_devid;
};
#define VFIO_DEVICE_BIND_IOMMUFD	_IO(VFIO_TYPE, VFIO_BASE + 18)
struct vfio_device_attach_iommufd_pt {
	__u32 argsz;
	__u32 flags;
	__u32 pt_id;
};
#define VFIO_DEVICE_ATTACH_IOMMUFD_PT	_IO(VFIO_TYPE, VFIO_BASE + 19)
#endif

#define VM_IOMMUFD_TYPE		(';')
struct vm_iommu_ioas_alloc {
	__u32 size;
	__u32 flags;
	__u32 out_ioas_id;
};
#define VM_IOMMU_IOAS_ALLOC	_IO(VM_IOMMUFD_TYPE, 0x81)
struct vm_iommu_ioas_map {
	__u32 size;
	__u32 flags;
	__u32 ioas_id;
	__u32 reserved;
	__aligned_u64 user_va;
	__aligned_u64 length;
	__aligned_u64 iova;
};
#define VM_IOMMU_IOAS_MAP	_IO(VM_IOMMUFD_TYPE, 0x85)
#define VM_IOAS_MAP_FIXED_IOVA	(1u << 0)
#define VM_IOAS_MAP_WRITEABLE	(1u << 1)
#define VM_IOAS_MAP_READABLE	(1u << 2)
struct vm_iommu_ioas_unmap {
	__u32 size;
	__u32 ioas_id;
	__aligned_u64 iova;
	__aligned_u64 length;
};
#define VM_IOMMU_IOAS_UNMAP	_IO(VM_IOMMUFD_TYPE, 0x86)

enum backend { BACKEND_ADOPTED, BACKEND_CONTAINER, BACKEND_IOMMUFD };

struct vfio_memattr_mapping {
	struct vfio_memattr_dev *dev;
	struct vfio_memattr_mapping *prev, *next;
	void *addr;
	uint64_t length;
	uint64_t offset;
	unsigned int bar;
	enum vfio_memattr attr;
	enum vfio_memattr_source source;
	uint32_t handle;
	void *fixed;		/* caller-chosen address (MAP_FIXED), or NULL */
	bool imported;		/* a handle of another process: never released */
};

struct log_sink {
	void (*fn)(void *ctx, int level, const char *msg);
	void *ctx;
};

struct vfio_memattr_dev {
	pthread_mutex_t lock;
	pid_t owner;		/* the process that opened or adopted it */
	bool own_log;		/* log goes to .log, not to the global sink */
	struct log_sink log;
	enum backend backend;
	int device_fd;
	int group_fd;
	int container_fd;
	int iommufd;
	uint32_t ioas_id;
	char group[64];		/* IOMMU group number (group API) */
	char bdf[32];		/* "" when unknown */
	int kernel_support;	/* -1 not probed yet, 0, 1 */
	uint32_t num_regions;
	struct vfio_memattr_mapping *maps;
};

/* ---- logging ---------------------------------------------------------- */

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static struct log_sink global_log;

/*
 * Messages raised while this thread holds a device lock wait here and are
 * delivered by dev_unlock() after the mutex is released: a callback never
 * runs under a library lock (it may call the library again).
 */
#define LOG_QUEUE	16
static _Thread_local struct {
	unsigned int depth, n, dropped;
	struct {
		struct log_sink sink;
		int level;
		char msg[512];
	} q[LOG_QUEUE];
} tls_log;

EXPORT void vfio_memattr_set_log(void (*fn)(void *ctx, int level, const char *msg),
				 void *ctx)
{
	pthread_mutex_lock(&log_lock);
	global_log.fn = fn;
	global_log.ctx = ctx;
	pthread_mutex_unlock(&log_lock);
}

static void log_flush(void)
{
	unsigned int i, n = tls_log.n, dropped = tls_log.dropped;
	struct log_sink last = { 0 };

	tls_log.n = tls_log.dropped = 0;
	for (i = 0; i < n; i++) {
		last = tls_log.q[i].sink;
		last.fn(last.ctx, tls_log.q[i].level, tls_log.q[i].msg);
	}
	if (dropped && last.fn) {
		char buf[64];

		snprintf(buf, sizeof(buf), "%u more messages dropped", dropped);
		last.fn(last.ctx, VFIO_MEMATTR_LOG_WARNING, buf);
	}
}

/* Lock a device; the messages raised meanwhile are delivered on unlock. */
static void dev_lock(struct vfio_memattr_dev *dev)
{
	pthread_mutex_lock(&dev->lock);
	tls_log.depth++;
}

static void dev_unlock(struct vfio_memattr_dev *dev)
{
	pthread_mutex_unlock(&dev->lock);
	if (--tls_log.depth == 0 && tls_log.n)
		log_flush();
}

EXPORT int vfio_memattr_dev_set_log(struct vfio_memattr_dev *dev,
				    void (*fn)(void *ctx, int level, const char *msg),
				    void *ctx)
{
	if (!dev)
		return -EINVAL;
	dev_lock(dev);
	dev->own_log = true;
	dev->log.fn = fn;
	dev->log.ctx = ctx;
	dev_unlock(dev);
	return 0;
}

void vfio_memattr__log(const struct vfio_memattr_dev *dev, int level, const char *fmt, ...)
{
	struct log_sink sink;
	char buf[512];
	va_list ap;

	if (dev && dev->own_log) {
		sink = dev->log;
	} else {
		pthread_mutex_lock(&log_lock);
		sink = global_log;
		pthread_mutex_unlock(&log_lock);
	}
	if (!sink.fn)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (!tls_log.depth) {
		sink.fn(sink.ctx, level, buf);
		return;
	}
	if (tls_log.n == LOG_QUEUE) {
		tls_log.dropped++;
		return;
	}
	tls_log.q[tls_log.n].sink = sink;
	tls_log.q[tls_log.n].level = level;
	memcpy(tls_log.q[tls_log.n].msg, buf, sizeof(buf));
	tls_log.n++;
}

#define log_err(d, ...)	vfio_memattr__log(d, VFIO_MEMATTR_LOG_ERR, __VA_ARGS__)
#define log_warn(d, ...)	vfio_memattr__log(d, VFIO_MEMATTR_LOG_WARNING, __VA_ARGS__)
#define log_info(d, ...)	vfio_memattr__log(d, VFIO_MEMATTR_LOG_INFO, __VA_ARGS__)
#define log_dbg(d, ...)	vfio_memattr__log(d, VFIO_MEMATTR_LOG_DEBUG, __VA_ARGS__)

/* Root of sysfs when set (host tests); else $VFIO_MEMATTR_SYSFS or /sys. */
const char *vfio_memattr__sysfs_root;

static const char *sysfs_root(void)
{
	const char *e;

	if (vfio_memattr__sysfs_root)
		return vfio_memattr__sysfs_root;
	e = secure_getenv("VFIO_MEMATTR_SYSFS");
	return e && *e ? e : "/sys";
}
/* The PAT memtype list; tests point it elsewhere. */
const char *vfio_memattr__pat_list = "/sys/kernel/debug/x86/pat_memtype_list";

/* ---- names ------------------------------------------------------------ */

_Static_assert(VFIO_MEMATTR_NUM_ATTRS <= VFIO_MEMATTR_BAR_ATTRS, "reason[] too small");
_Static_assert(sizeof(struct vfio_memattr_bar) == 64, "struct vfio_memattr_bar is ABI");

static const char *const attr_names[VFIO_MEMATTR_NUM_ATTRS] = {
	[VFIO_MEMATTR_NC] = "NC",
	[VFIO_MEMATTR_WC] = "WC",
	[VFIO_MEMATTR_DEV] = "DEV",
};

EXPORT const char *vfio_memattr_attr_name(enum vfio_memattr a)
{
	if ((unsigned int)a >= VFIO_MEMATTR_NUM_ATTRS)
		return "?";
	return attr_names[a];
}

EXPORT int vfio_memattr_attr_parse(const char *s, enum vfio_memattr *out)
{
	unsigned int i;

	if (!s || !out)
		return -EINVAL;
	for (i = 0; i < VFIO_MEMATTR_NUM_ATTRS; i++) {
		if (!strcasecmp(s, attr_names[i])) {
			*out = (enum vfio_memattr)i;
			return 0;
		}
	}
	return -EINVAL;
}

EXPORT const char *vfio_memattr_source_name(enum vfio_memattr_source s)
{
	switch (s) {
	case VFIO_MEMATTR_SRC_MEMATTR:
		return "memattr";
	case VFIO_MEMATTR_SRC_VFIO_MMAP:
		return "vfio-mmap";
	case VFIO_MEMATTR_SRC_SYSFS_WC:
		return "sysfs-wc";
	}
	return "?";
}

EXPORT const char *vfio_memattr_reason_name(uint32_t reason)
{
	switch (reason) {
	case VFIO_MEMATTR_OK:
		return "ok";
	case VFIO_MEMATTR_NOT_MEM_BAR:
		return "not a memory BAR";
	case VFIO_MEMATTR_NOT_MMAP:
		return "BAR not mmap capable";
	case VFIO_MEMATTR_NOT_PREFETCH:
		return "non-prefetchable BAR without opt-in";
	case VFIO_MEMATTR_NOT_ARCH:
		return "not provided by this architecture or kernel";
	}
	return "unknown reason";
}

/* ---- small helpers ---------------------------------------------------- */

static int xioctl(int fd, unsigned long req, void *arg)
{
	int ret;

	do {
		ret = ioctl(fd, req, arg);
	} while (ret < 0 && errno == EINTR);
	return ret < 0 ? -errno : ret;
}

/* Exactly @n hex digits at *@p (no sign, no 0x, no space); advances *@p. */
static int hex_field(const char **p, unsigned int n, unsigned int *out)
{
	unsigned int i, v = 0;

	for (i = 0; i < n; i++) {
		char c = (*p)[i];
		unsigned int d;

		if (c >= '0' && c <= '9')
			d = (unsigned int)(c - '0');
		else if (c >= 'a' && c <= 'f')
			d = (unsigned int)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			d = (unsigned int)(c - 'A' + 10);
		else
			return -EINVAL;
		v = v * 16 + d;
	}
	*p += n;
	*out = v;
	return 0;
}

EXPORT int vfio_memattr_parse_bdf(const char *in, char *out, size_t outsz)
{
	unsigned int dom = 0, bus, slot, fn;
	const char *p = in;

	if (!in || !out)
		return -EINVAL;
	/* "dddd:bb:ss.f" or "bb:ss.f": fixed widths, as sysfs and lspci print */
	if (strlen(in) == 12) {
		if (hex_field(&p, 4, &dom) < 0 || *p++ != ':')
			return -EINVAL;
	} else if (strlen(in) != 7) {
		return -EINVAL;
	}
	if (hex_field(&p, 2, &bus) < 0 || *p++ != ':' ||
	    hex_field(&p, 2, &slot) < 0 || *p++ != '.' ||
	    hex_field(&p, 1, &fn) < 0 || *p)
		return -EINVAL;
	if (slot > 0x1f || fn > 7)
		return -EINVAL;
	if ((size_t)snprintf(out, outsz, "%04x:%02x:%02x.%x", dom, bus, slot, fn) >= outsz)
		return -EINVAL;
	return 0;
}

static int read_link_base(const char *path, char *out, size_t outsz)
{
	char buf[PATH_MAX];
	ssize_t n = readlink(path, buf, sizeof(buf) - 1);
	const char *b;

	if (n < 0)
		return -errno;
	buf[n] = 0;
	b = strrchr(buf, '/');
	b = b ? b + 1 : buf;
	if (strlen(b) >= outsz)
		return -ENAMETOOLONG;
	strcpy(out, b);
	return 0;
}

static uint64_t page_size(void)
{
	long ps = sysconf(_SC_PAGESIZE);

	return ps > 0 ? (uint64_t)ps : 4096;
}

static struct vfio_memattr_dev *dev_alloc(void)
{
	struct vfio_memattr_dev *dev = calloc(1, sizeof(*dev));

	if (!dev)
		return NULL;
	pthread_mutex_init(&dev->lock, NULL);
	dev->owner = getpid();
	dev->device_fd = dev->group_fd = dev->container_fd = dev->iommufd = -1;
	dev->kernel_support = -1;
	return dev;
}

static void dev_free_fds(struct vfio_memattr_dev *dev)
{
	if (dev->backend != BACKEND_ADOPTED && dev->device_fd >= 0)
		close(dev->device_fd);
	if (dev->group_fd >= 0)
		close(dev->group_fd);
	if (dev->container_fd >= 0)
		close(dev->container_fd);
	if (dev->iommufd >= 0)
		close(dev->iommufd);
}

static int dev_get_info(struct vfio_memattr_dev *dev)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };
	int ret = xioctl(dev->device_fd, VFIO_DEVICE_GET_INFO, &info);

	if (ret < 0)
		return ret;
	if (!(info.flags & VFIO_DEVICE_FLAGS_PCI)) {
		log_err(dev, "device fd %d is not a VFIO PCI device", dev->device_fd);
		return -ENODEV;
	}
	dev->num_regions = info.num_regions;
	return 0;
}

/* ---- open ------------------------------------------------------------- */

static int open_iommufd(struct vfio_memattr_dev *dev, const char *cdev_name,
			const struct vfio_memattr_dev *with)
{
	struct vfio_device_bind_iommufd bind = { .argsz = sizeof(bind) };
	struct vfio_device_attach_iommufd_pt attach = { .argsz = sizeof(attach) };
	struct vm_iommu_ioas_alloc alloc = { .size = sizeof(alloc) };
	char path[PATH_MAX];
	int ret;

	snprintf(path, sizeof(path), "/dev/vfio/devices/%s", cdev_name);
	dev->device_fd = open(path, O_RDWR | O_CLOEXEC);
	if (dev->device_fd < 0)
		return -errno;
	/* shared: the same iommufd and IO address space as @with */
	dev->iommufd = with ? fcntl(with->iommufd, F_DUPFD_CLOEXEC, 0) :
			      open("/dev/iommu", O_RDWR | O_CLOEXEC);
	if (dev->iommufd < 0)
		return -errno;
	bind.iommufd = dev->iommufd;
	ret = xioctl(dev->device_fd, VFIO_DEVICE_BIND_IOMMUFD, &bind);
	if (ret < 0) {
		log_err(dev, "%s: VFIO_DEVICE_BIND_IOMMUFD: %s", path, strerror(-ret));
		return ret;
	}
	if (with) {
		alloc.out_ioas_id = with->ioas_id;
	} else {
		ret = xioctl(dev->iommufd, VM_IOMMU_IOAS_ALLOC, &alloc);
		if (ret < 0) {
			log_err(dev, "IOMMU_IOAS_ALLOC: %s", strerror(-ret));
			return ret;
		}
	}
	dev->ioas_id = alloc.out_ioas_id;
	attach.pt_id = alloc.out_ioas_id;
	ret = xioctl(dev->device_fd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &attach);
	if (ret < 0) {
		log_err(dev, "%s: VFIO_DEVICE_ATTACH_IOMMUFD_PT: %s", path, strerror(-ret));
		return ret;
	}
	dev->backend = BACKEND_IOMMUFD;
	log_dbg(dev, "%s: opened through iommufd (%s)", dev->bdf, path);
	return 0;
}

static int open_group(struct vfio_memattr_dev *dev, const struct vfio_memattr_dev *with)
{
	struct vfio_group_status status = { .argsz = sizeof(status) };
	char path[PATH_MAX], group[64];
	int ret, type;

	snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/iommu_group",
		 sysfs_root(), dev->bdf);
	ret = read_link_base(path, group, sizeof(group));
	if (ret < 0) {
		log_err(dev, "%s: no IOMMU group (is the IOMMU enabled?)", dev->bdf);
		return -ENOENT;
	}
	snprintf(dev->group, sizeof(dev->group), "%s", group);
	if (with && !strcmp(with->group, group)) {
		/* the same group: it is already in the container */
		dev->group_fd = fcntl(with->group_fd, F_DUPFD_CLOEXEC, 0);
		dev->container_fd = fcntl(with->container_fd, F_DUPFD_CLOEXEC, 0);
		if (dev->group_fd < 0 || dev->container_fd < 0)
			return -errno;
		type = 0;
		goto get_device;
	}
	snprintf(path, sizeof(path), "/dev/vfio/%s", group);
	dev->group_fd = open(path, O_RDWR | O_CLOEXEC);
	if (dev->group_fd < 0) {
		ret = -errno;
		log_err(dev, "%s: %s: %s (is the device bound to a VFIO driver?)",
			dev->bdf, path, strerror(-ret));
		return ret;
	}
	ret = xioctl(dev->group_fd, VFIO_GROUP_GET_STATUS, &status);
	if (ret < 0)
		return ret;
	if (!(status.flags & VFIO_GROUP_FLAGS_VIABLE)) {
		log_err(dev, "%s: IOMMU group %s is not viable: every device in it must be bound to a VFIO driver (or none)",
			dev->bdf, group);
		return -EBUSY;
	}
	if (with) {
		/* another group into @with's container, whose IOMMU is set */
		dev->container_fd = fcntl(with->container_fd, F_DUPFD_CLOEXEC, 0);
		if (dev->container_fd < 0)
			return -errno;
		ret = xioctl(dev->group_fd, VFIO_GROUP_SET_CONTAINER, &dev->container_fd);
		if (ret < 0) {
			log_err(dev, "%s: VFIO_GROUP_SET_CONTAINER (shared): %s", dev->bdf,
				strerror(-ret));
			return ret;
		}
		type = 0;
		goto get_device;
	}
	dev->container_fd = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	if (dev->container_fd < 0)
		return -errno;
	ret = xioctl(dev->container_fd, VFIO_GET_API_VERSION, NULL);
	if (ret < 0)
		return ret;
	if (ret != VFIO_API_VERSION)
		return -EPROTO;
	if (xioctl(dev->container_fd, VFIO_CHECK_EXTENSION, (void *)(long)VFIO_TYPE1v2_IOMMU) > 0)
		type = VFIO_TYPE1v2_IOMMU;
	else if (xioctl(dev->container_fd, VFIO_CHECK_EXTENSION, (void *)(long)VFIO_TYPE1_IOMMU) > 0)
		type = VFIO_TYPE1_IOMMU;
	else {
		log_err(dev, "%s: the VFIO container offers no type1 IOMMU", dev->bdf);
		return -EOPNOTSUPP;
	}
	ret = xioctl(dev->group_fd, VFIO_GROUP_SET_CONTAINER, &dev->container_fd);
	if (ret < 0) {
		log_err(dev, "%s: VFIO_GROUP_SET_CONTAINER: %s", dev->bdf, strerror(-ret));
		return ret;
	}
	ret = xioctl(dev->container_fd, VFIO_SET_IOMMU, (void *)(long)type);
	if (ret < 0) {
		log_err(dev, "%s: VFIO_SET_IOMMU: %s", dev->bdf, strerror(-ret));
		return ret;
	}
get_device:
	ret = ioctl(dev->group_fd, VFIO_GROUP_GET_DEVICE_FD, dev->bdf);
	if (ret < 0) {
		ret = -errno;
		log_err(dev, "%s: VFIO_GROUP_GET_DEVICE_FD: %s", dev->bdf, strerror(-ret));
		return ret;
	}
	dev->device_fd = ret;
	if (fcntl(dev->device_fd, F_SETFD, FD_CLOEXEC) < 0)
		return -errno;
	dev->backend = BACKEND_CONTAINER;
	log_dbg(dev, "%s: opened through IOMMU group %s (type %d)", dev->bdf, group, type);
	return 0;
}

/* Name of the vfio-dev cdev ("vfioN") of a device, if any. */
static int find_cdev(const char *bdf, char *out, size_t outsz)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d;
	int ret = -ENOENT;

	snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/vfio-dev", sysfs_root(), bdf);
	d = opendir(path);
	if (!d)
		return -ENOENT;
	while ((de = readdir(d))) {
		if (!strncmp(de->d_name, "vfio", 4) && strlen(de->d_name) < outsz) {
			strcpy(out, de->d_name);
			ret = 0;
			break;
		}
	}
	closedir(d);
	return ret;
}

static int open_common(const char *bdf, unsigned int flags, const struct vfio_memattr_dev *with,
		       struct vfio_memattr_dev **out)
{
	struct vfio_memattr_dev *dev;
	char path[PATH_MAX], cdev[64];
	struct stat st;
	int ret;

	if (!out || flags)
		return -EINVAL;
	*out = NULL;
	dev = dev_alloc();
	if (!dev)
		return -ENOMEM;
	ret = vfio_memattr_parse_bdf(bdf, dev->bdf, sizeof(dev->bdf));
	if (ret < 0) {
		log_err(dev, "\"%s\" is not a PCI address", bdf ? bdf : "(null)");
		goto fail;
	}
	snprintf(path, sizeof(path), "%s/bus/pci/devices/%s", sysfs_root(), dev->bdf);
	if (stat(path, &st) < 0) {
		log_err(dev, "%s: no such PCI device", dev->bdf);
		ret = -ENODEV;
		goto fail;
	}

	if ((!with || with->backend == BACKEND_IOMMUFD) &&
	    find_cdev(dev->bdf, cdev, sizeof(cdev)) == 0 &&
	    access("/dev/iommu", R_OK | W_OK) == 0) {
		snprintf(path, sizeof(path), "/dev/vfio/devices/%s", cdev);
		if (access(path, F_OK) == 0) {
			ret = open_iommufd(dev, cdev, with);
			if (ret == 0)
				goto opened;
			log_info(dev, "%s: iommufd open failed (%s), trying the group API",
				 dev->bdf, strerror(-ret));
			dev_free_fds(dev);
			dev->device_fd = dev->iommufd = -1;
		}
	}
	if (with && with->backend == BACKEND_IOMMUFD) {
		log_err(dev, "%s: no iommufd device node to share %s's address space",
			dev->bdf, with->bdf);
		ret = -EOPNOTSUPP;
		goto fail;
	}
	ret = open_group(dev, with);
	if (ret < 0)
		goto fail;
opened:
	ret = dev_get_info(dev);
	if (ret < 0)
		goto fail;
	*out = dev;
	return 0;
fail:
	dev_free_fds(dev);
	pthread_mutex_destroy(&dev->lock);
	free(dev);
	return ret;
}

EXPORT int vfio_memattr_open(const char *bdf, unsigned int flags,
			     struct vfio_memattr_dev **out)
{
	return open_common(bdf, flags, NULL, out);
}

EXPORT int vfio_memattr_open_shared(const char *bdf, struct vfio_memattr_dev *with,
				    unsigned int flags, struct vfio_memattr_dev **out)
{
	if (out)
		*out = NULL;
	if (!with || with->backend == BACKEND_ADOPTED)
		return with ? -EOPNOTSUPP : -EINVAL;
	return open_common(bdf, flags, with, out);
}

/* For an adopted cdev fd, find the PCI address through sysfs. */
static void adopt_find_bdf(struct vfio_memattr_dev *dev)
{
	char path[64], target[PATH_MAX], name[64];
	ssize_t n;
	const char *b;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", dev->device_fd);
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return;
	target[n] = 0;
	if (strncmp(target, "/dev/vfio/devices/", 18))
		return;
	b = target + 18;
	snprintf(path, sizeof(path), "%s/class/vfio-dev/%.32s/device", sysfs_root(), b);
	if (read_link_base(path, name, sizeof(name)) == 0)
		vfio_memattr_parse_bdf(name, dev->bdf, sizeof(dev->bdf));
}

EXPORT int vfio_memattr_adopt(int device_fd, unsigned int flags,
			      struct vfio_memattr_dev **out)
{
	struct vfio_memattr_dev *dev;
	int ret;

	if (!out || flags || device_fd < 0)
		return -EINVAL;
	*out = NULL;
	dev = dev_alloc();
	if (!dev)
		return -ENOMEM;
	dev->backend = BACKEND_ADOPTED;
	dev->device_fd = device_fd;
	ret = dev_get_info(dev);
	if (ret < 0) {
		pthread_mutex_destroy(&dev->lock);
		free(dev);
		return ret;
	}
	adopt_find_bdf(dev);
	*out = dev;
	return 0;
}

EXPORT int vfio_memattr_set_bdf(struct vfio_memattr_dev *dev, const char *bdf)
{
	char tmp[32];
	int ret;

	if (!dev)
		return -EINVAL;
	ret = vfio_memattr_parse_bdf(bdf, tmp, sizeof(tmp));
	if (ret < 0)
		return ret;
	dev_lock(dev);
	strcpy(dev->bdf, tmp);
	dev_unlock(dev);
	return 0;
}

EXPORT const char *vfio_memattr_bdf(const struct vfio_memattr_dev *dev)
{
	return dev && dev->bdf[0] ? dev->bdf : NULL;
}

EXPORT int vfio_memattr_device_fd(const struct vfio_memattr_dev *dev)
{
	return dev ? dev->device_fd : -EINVAL;
}

/* ---- kernel feature calls --------------------------------------------- */

struct feat_buf {
	struct vfio_device_feature hdr;
	union {
		struct vfio_device_feature_memattr_bar_info bar_info;
		struct vfio_device_feature_memattr_map map;
		struct vfio_device_feature_memattr_handle handle;
		struct vfio_device_feature_memattr_unmap unmap;
	} u;
};

static int feature(int fd, uint32_t flags, uint32_t feat, void *payload, size_t len)
{
	struct feat_buf buf;
	int ret;

	memset(&buf, 0, sizeof(buf));
	buf.hdr.argsz = (uint32_t)(sizeof(buf.hdr) + len);
	buf.hdr.flags = flags | feat;
	memcpy(&buf.u, payload, len);
	ret = xioctl(fd, VFIO_DEVICE_FEATURE, &buf);
	if (ret < 0)
		return ret;
	memcpy(payload, &buf.u, len);
	return 0;
}

/* 1 if the driver answers the memattr uAPI, 0 if not, negative errno. */
static int probe_kernel(struct vfio_memattr_dev *dev)
{
	struct vfio_device_feature_memattr_map m;
	int ret;

	if (dev->kernel_support >= 0)
		return dev->kernel_support;
	memset(&m, 0, sizeof(m));
	ret = feature(dev->device_fd, VFIO_DEVICE_FEATURE_PROBE | VFIO_DEVICE_FEATURE_SET,
		      VFIO_DEVICE_FEATURE_MEMATTR_MAP, &m, sizeof(m));
	if (ret == 0) {
		dev->kernel_support = 1;
	} else if (ret == -ENOTTY || ret == -EINVAL || ret == -EOPNOTSUPP) {
		log_dbg(dev, "%s: driver does not answer the memattr uAPI (%s)",
			dev->bdf[0] ? dev->bdf : "device", strerror(-ret));
		dev->kernel_support = 0;
	} else {
		return ret;
	}
	return dev->kernel_support;
}

EXPORT int vfio_memattr_kernel_support(struct vfio_memattr_dev *dev)
{
	int ret;

	if (!dev)
		return -EINVAL;
	dev_lock(dev);
	ret = probe_kernel(dev);
	dev_unlock(dev);
	return ret;
}

static int region_info(struct vfio_memattr_dev *dev, unsigned int index,
		       struct vfio_region_info *ri)
{
	memset(ri, 0, sizeof(*ri));
	ri->argsz = sizeof(*ri);
	ri->index = index;
	return xioctl(dev->device_fd, VFIO_DEVICE_GET_REGION_INFO, ri);
}

EXPORT int vfio_memattr_region_info(struct vfio_memattr_dev *dev, unsigned int index,
				    uint64_t *size, uint64_t *offset, uint32_t *flags)
{
	struct vfio_region_info ri;
	int ret;

	if (!dev)
		return -EINVAL;
	ret = region_info(dev, index, &ri);
	if (ret < 0)
		return ret;
	if (size)
		*size = ri.size;
	if (offset)
		*offset = ri.offset;
	if (flags)
		*flags = ri.flags;
	return 0;
}

EXPORT int vfio_memattr_num_regions(const struct vfio_memattr_dev *dev)
{
	return dev ? (int)dev->num_regions : -EINVAL;
}

/* Decode a BAR register (low dword) into VFIO_MEMATTR_BAR_* flags. */
uint32_t vfio_memattr__decode_bar_reg(uint32_t reg)
{
	uint32_t f = 0;

	if (reg & PCI_BASE_ADDRESS_SPACE_IO)
		return VFIO_MEMATTR_BAR_IO;
	if (reg & PCI_BASE_ADDRESS_MEM_PREFETCH)
		f |= VFIO_MEMATTR_BAR_PREFETCH;
	if ((reg & PCI_BASE_ADDRESS_MEM_TYPE_MASK) == PCI_BASE_ADDRESS_MEM_TYPE_64)
		f |= VFIO_MEMATTR_BAR_MEM64;
	return f;
}

static int bar_info_locked(struct vfio_memattr_dev *dev, unsigned int bar,
			   struct vfio_memattr_bar *out)
{
	struct vfio_device_feature_memattr_bar_info bi;
	struct vfio_region_info ri;
	uint32_t reg = 0;
	unsigned int a;
	int ret;

	memset(out, 0, sizeof(*out));
	ret = probe_kernel(dev);
	if (ret < 0)
		return ret;
	if (ret == 1) {
		memset(&bi, 0, sizeof(bi));
		bi.index = bar;
		ret = feature(dev->device_fd, VFIO_DEVICE_FEATURE_GET,
			      VFIO_DEVICE_FEATURE_MEMATTR_BAR_INFO, &bi, sizeof(bi));
		if (ret < 0)
			return ret;
		out->size = bi.size;
		out->flags = bi.bar_flags;
		out->supported = bi.supported;
		for (a = 0; a < VFIO_MEMATTR_NUM_ATTRS; a++)
			out->reason[a] = bi.reason[a];
		out->kernel_support = 1;
		return 0;
	}

	/* No memattr driver: derive what we can from VFIO and config space. */
	ret = region_info(dev, bar, &ri);
	if (ret < 0)
		return ret;
	out->size = ri.size;
	if (ri.size) {
		struct vfio_region_info cfg;

		if (region_info(dev, VFIO_PCI_CONFIG_REGION_INDEX, &cfg) == 0 &&
		    pread(dev->device_fd, &reg, 4,
			  (off_t)(cfg.offset + PCI_BASE_ADDRESS_0 + 4 * bar)) == 4)
			out->flags = vfio_memattr__decode_bar_reg(reg);
		if ((ri.flags & VFIO_REGION_INFO_FLAG_MMAP) &&
		    !(out->flags & VFIO_MEMATTR_BAR_IO))
			out->flags |= VFIO_MEMATTR_BAR_MMAP;
	}
	for (a = 0; a < VFIO_MEMATTR_NUM_ATTRS; a++) {
		if (!ri.size || (out->flags & VFIO_MEMATTR_BAR_IO))
			out->reason[a] = VFIO_MEMATTR_NOT_MEM_BAR;
		else if (!(out->flags & VFIO_MEMATTR_BAR_MMAP))
			out->reason[a] = VFIO_MEMATTR_NOT_MMAP;
		else if (a != VFIO_MEMATTR_NC)
			out->reason[a] = VFIO_MEMATTR_NOT_ARCH;
	}
	if (!out->reason[VFIO_MEMATTR_NC])
		out->supported = 1u << VFIO_MEMATTR_NC;
	out->kernel_support = 0;
	return 0;
}

EXPORT int vfio_memattr_bar_info(struct vfio_memattr_dev *dev, unsigned int bar,
				 struct vfio_memattr_bar *out)
{
	int ret;

	if (!dev || !out || bar > VFIO_PCI_BAR5_REGION_INDEX)
		return -EINVAL;
	dev_lock(dev);
	ret = bar_info_locked(dev, bar, out);
	dev_unlock(dev);
	return ret;
}

/* ---- mapping ---------------------------------------------------------- */

static void list_add(struct vfio_memattr_dev *dev, struct vfio_memattr_mapping *m)
{
	m->prev = NULL;
	m->next = dev->maps;
	if (dev->maps)
		dev->maps->prev = m;
	dev->maps = m;
}

static void list_del(struct vfio_memattr_dev *dev, struct vfio_memattr_mapping *m)
{
	if (m->prev)
		m->prev->next = m->next;
	else
		dev->maps = m->next;
	if (m->next)
		m->next->prev = m->prev;
	m->prev = m->next = NULL;
}

static int release_handle(struct vfio_memattr_dev *dev, uint32_t handle)
{
	struct vfio_device_feature_memattr_unmap u = { .handle = handle };

	/* A forked child shares the device fd: releasing would revoke the
	 * parent's mappings of the handle. */
	if (getpid() != dev->owner) {
		log_dbg(dev, "%s: handle %u not released by forked child %d", dev->bdf, handle,
			(int)getpid());
		return 0;
	}

	return feature(dev->device_fd, VFIO_DEVICE_FEATURE_SET,
		       VFIO_DEVICE_FEATURE_MEMATTR_UNMAP, &u, sizeof(u));
}

static bool handle_in_use(struct vfio_memattr_dev *dev, uint32_t handle)
{
	struct vfio_memattr_mapping *m;

	for (m = dev->maps; m; m = m->next)
		if (m->source == VFIO_MEMATTR_SRC_MEMATTR && !m->imported && m->handle == handle)
			return true;	/* imported mappings do not hold a handle */
	return false;
}

/*
 * Read the memattr capability of a handle's region, if the driver gives
 * one: returns the attribute (>= 0), or a negative errno.
 */
static int handle_cap_attr(struct vfio_memattr_dev *dev, uint32_t handle)
{
	struct vfio_region_info *ri;
	struct vfio_info_cap_header *h;
	uint32_t argsz = 256, off;
	int ret, tries;

	for (tries = 0; tries < 2; tries++) {
		ri = calloc(1, argsz);
		if (!ri)
			return -ENOMEM;
		ri->argsz = argsz;
		ri->index = handle;
		ret = xioctl(dev->device_fd, VFIO_DEVICE_GET_REGION_INFO, ri);
		if (ret < 0) {
			free(ri);
			return ret;
		}
		if (ri->argsz <= argsz)
			break;
		argsz = ri->argsz;
		free(ri);
		ri = NULL;
	}
	if (!ri)
		return -EIO;
	ret = -ENOENT;
	if (ri->flags & VFIO_REGION_INFO_FLAG_CAPS) {
		for (off = ri->cap_offset; off && off + sizeof(*h) <= argsz;
		     off = h->next) {
			h = (struct vfio_info_cap_header *)((char *)ri + off);
			if (h->id == VFIO_REGION_INFO_CAP_MEMATTR &&
			    off + sizeof(struct vfio_region_info_cap_memattr) <= argsz) {
				ret = (int)((struct vfio_region_info_cap_memattr *)h)->attr;
				break;
			}
			if (h->next <= off)
				break;
		}
	}
	free(ri);
	return ret;
}

/* mmap @m's range of @fd at @off, at m->fixed when the caller chose it */
static void *map_range(struct vfio_memattr_mapping *m, int fd, off_t off)
{
	void *a = mmap(m->fixed, m->length, PROT_READ | PROT_WRITE,
		       MAP_SHARED | (m->fixed ? MAP_FIXED : 0), fd, off);

	if (a == MAP_FAILED && m->fixed) {
		int e = errno;

		/* a failed MAP_FIXED may have unmapped the caller's reservation */
		mmap(m->fixed, m->length, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED |
		     MAP_NORESERVE, -1, 0);
		errno = e;
	}
	return a;
}

/* munmap; a mapping at a caller-chosen address leaves a PROT_NONE
 * reservation behind, as it was before */
static int unmap_range(struct vfio_memattr_mapping *m, void *addr)
{
	if (!m->fixed)
		return munmap(addr, m->length);
	return mmap(addr, m->length, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED |
		    MAP_NORESERVE, -1, 0) == MAP_FAILED ? -1 : 0;
}

static int map_memattr(struct vfio_memattr_dev *dev, struct vfio_memattr_mapping *m,
		       const enum vfio_memattr *prefs, unsigned int nr_prefs)
{
	struct vfio_device_feature_memattr_map mp;
	unsigned int i;
	void *addr;
	int ret, cap;

	memset(&mp, 0, sizeof(mp));
	mp.index = m->bar;
	mp.offset = m->offset;
	mp.length = m->length;
	mp.nr_prefs = nr_prefs;
	for (i = 0; i < nr_prefs; i++)
		mp.prefs[i] = (uint8_t)prefs[i];
	ret = feature(dev->device_fd, VFIO_DEVICE_FEATURE_SET,
		      VFIO_DEVICE_FEATURE_MEMATTR_MAP, &mp, sizeof(mp));
	if (ret < 0) {
		log_dbg(dev, "%s: BAR%u 0x%llx+0x%llx: MEMATTR_MAP: %s", dev->bdf, m->bar,
			(unsigned long long)m->offset, (unsigned long long)m->length,
			strerror(-ret));
		return ret;
	}
	if (mp.attr >= VFIO_MEMATTR_NUM_ATTRS) {
		log_err(dev, "%s: kernel reported unknown attribute %u", dev->bdf, mp.attr);
		if (!handle_in_use(dev, mp.handle))
			release_handle(dev, mp.handle);
		return -EPROTO;
	}
	/* Cross-check with the region capability; never report what the
	 * mapping does not have. */
	cap = handle_cap_attr(dev, mp.handle);
	if (cap >= 0 && (uint32_t)cap != mp.attr) {
		log_err(dev, "%s: handle %u: MAP said %s, region capability says %s",
			dev->bdf, mp.handle, vfio_memattr_attr_name(mp.attr),
			vfio_memattr_attr_name((enum vfio_memattr)cap));
		if (!handle_in_use(dev, mp.handle))
			release_handle(dev, mp.handle);
		return -EPROTO;
	}
	addr = map_range(m, dev->device_fd, (off_t)mp.mmap_offset);
	if (addr == MAP_FAILED) {
		ret = -errno;
		log_err(dev, "%s: mmap of handle %u at 0x%llx: %s", dev->bdf, mp.handle,
			(unsigned long long)mp.mmap_offset, strerror(-ret));
		if (!handle_in_use(dev, mp.handle))
			release_handle(dev, mp.handle);
		return ret;
	}
	m->addr = addr;
	m->attr = (enum vfio_memattr)mp.attr;
	m->handle = mp.handle;
	m->source = VFIO_MEMATTR_SRC_MEMATTR;
	return 0;
}

static int map_vfio(struct vfio_memattr_dev *dev, struct vfio_memattr_mapping *m)
{
	struct vfio_region_info ri;
	void *addr;
	int ret;

	ret = region_info(dev, m->bar, &ri);
	if (ret < 0)
		return ret;
	if (!ri.size || !(ri.flags & VFIO_REGION_INFO_FLAG_MMAP)) {
		log_err(dev, "%s: BAR%u cannot be mmapped through VFIO", dev->bdf, m->bar);
		return -EOPNOTSUPP;
	}
	if (m->offset > ri.size || m->length > ri.size - m->offset)
		return -EINVAL;
	addr = map_range(m, dev->device_fd, (off_t)(ri.offset + m->offset));
	if (addr == MAP_FAILED) {
		ret = -errno;
		log_err(dev, "%s: mmap of BAR%u: %s", dev->bdf, m->bar, strerror(-ret));
		return ret;
	}
	m->addr = addr;
	m->attr = VFIO_MEMATTR_NC;
	m->source = VFIO_MEMATTR_SRC_VFIO_MMAP;
	m->handle = 0;
	return 0;
}

/*
 * Look up the physical range in the x86 PAT memtype list.  Returns 1 if
 * every reservation overlapping [start, end) is write-combining and there
 * is at least one, 0 if one is of another type, -errno if the list cannot
 * be read (no debugfs, not root, not x86).
 */
int vfio_memattr__pat_check_wc(const char *list, uint64_t start, uint64_t end)
{
	char line[256], type[64];
	unsigned long long s, e;
	int found = 0, bad = 0;
	FILE *f = fopen(list, "re");

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		const char *p = strstr(line, "[mem ");

		if (!p || sscanf(p, "[mem %llx-%llx] %63s", &s, &e, type) != 3)
			continue;
		if (e <= start || s >= end)
			continue;
		if (!strcmp(type, "write-combining"))
			found = 1;
		else
			bad = 1;
	}
	fclose(f);
	if (bad)
		return 0;
	return found ? 1 : -ENOENT;
}

static int sysfs_bar_phys(const char *bdf, unsigned int bar, uint64_t *start)
{
	char path[PATH_MAX], line[128];
	unsigned long long s, e, fl;
	unsigned int i;
	FILE *f;
	int ret = -ENOENT;

	snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/resource", sysfs_root(), bdf);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	for (i = 0; fgets(line, sizeof(line), f); i++) {
		if (i == bar) {
			if (sscanf(line, "%llx %llx %llx", &s, &e, &fl) == 3) {
				*start = s;
				ret = 0;
			}
			break;
		}
	}
	fclose(f);
	return ret;
}

static int map_sysfs_wc(struct vfio_memattr_dev *dev, struct vfio_memattr_mapping *m)
{
	char path[PATH_MAX];
	uint64_t phys = 0;
	struct stat st;
	void *addr;
	int fd, ret;

	if (!dev->bdf[0]) {
		log_dbg(dev, "sysfs WC fallback: PCI address unknown (use vfio_memattr_set_bdf)");
		return -EOPNOTSUPP;
	}
	snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/resource%u_wc",
		 sysfs_root(), dev->bdf, m->bar);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		log_dbg(dev, "%s: %s", path, strerror(-ret));
		return ret == -ENOENT ? -EOPNOTSUPP : ret;
	}
	if (fstat(fd, &st) == 0 && st.st_size > 0 &&
	    (m->offset > (uint64_t)st.st_size ||
	     m->length > (uint64_t)st.st_size - m->offset)) {
		close(fd);
		return -EINVAL;
	}
	addr = map_range(m, fd, (off_t)m->offset);
	ret = addr == MAP_FAILED ? -errno : 0;
	close(fd);
	if (ret < 0) {
		log_err(dev, "%s: mmap: %s", path, strerror(-ret));
		return ret;
	}
	/* x86 PAT silently hands out the type already reserved for the
	 * range (e.g. UC- from vfio-pci's own mapping).  Report WC only when
	 * the PAT list says write-combining for the whole range: fail closed
	 * when it cannot be read (no debugfs, not root) or lacks the range. */
#if defined(__x86_64__)
	ret = sysfs_bar_phys(dev->bdf, m->bar, &phys);
	if (ret == 0)
		ret = vfio_memattr__pat_check_wc(vfio_memattr__pat_list, phys + m->offset,
						 phys + m->offset + m->length);
	if (ret <= 0) {
		if (ret == 0)
			log_err(dev, "%s: resource%u_wc was mapped with another memory type (PAT conflict): refusing",
				dev->bdf, m->bar);
		else
			log_err(dev, "%s: cannot verify the memory type of the resource%u_wc mapping in %s (%s): refusing",
				dev->bdf, m->bar, vfio_memattr__pat_list, strerror(-ret));
		unmap_range(m, addr);
		return ret == 0 ? -EBUSY : -EOPNOTSUPP;
	}
#else
	/* arm64: resourceN_wc is mapped Normal-NC, there is no PAT to differ */
	(void)phys;
	(void)sysfs_bar_phys;
#endif
	log_warn(dev, "%s: BAR%u mapped through sysfs resource%u_wc: not revoked by VFIO on reset",
		 dev->bdf, m->bar, m->bar);
	m->addr = addr;
	m->attr = VFIO_MEMATTR_WC;
	m->source = VFIO_MEMATTR_SRC_SYSFS_WC;
	m->handle = 0;
	return 0;
}

static int map_common(struct vfio_memattr_dev *dev, unsigned int bar, uint64_t offset,
		      uint64_t length, const enum vfio_memattr *prefs, unsigned int nr_prefs,
		      unsigned int flags, void *addr, struct vfio_memattr_mapping **out)
{
	struct vfio_memattr_mapping *m;
	uint64_t ps = page_size();
	unsigned int i;
	int ret, first_err = 0;

	if (out)
		*out = NULL;
	if (!dev || !out || !prefs || !nr_prefs || nr_prefs > VFIO_MEMATTR_MAX_PREFS ||
	    (flags & ~VFIO_MEMATTR_MAP_ALLOW_SYSFS) || bar > VFIO_PCI_BAR5_REGION_INDEX ||
	    !length || (offset & (ps - 1)) || (length & (ps - 1)) ||
	    offset + length < offset || length > SIZE_MAX || ((uintptr_t)addr & (ps - 1)))
		return -EINVAL;
	for (i = 0; i < nr_prefs; i++)
		if ((unsigned int)prefs[i] >= VFIO_MEMATTR_NUM_ATTRS)
			return -EINVAL;

	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->dev = dev;
	m->bar = bar;
	m->offset = offset;
	m->length = length;
	m->fixed = addr;

	dev_lock(dev);
	if (getpid() != dev->owner) {
		log_err(dev, "%s: vfio_memattr_map() in a forked child: open the device again",
			dev->bdf);
		ret = -ECHILD;
		goto out;
	}
	ret = probe_kernel(dev);
	if (ret < 0)
		goto out;
	if (ret == 1) {
		ret = map_memattr(dev, m, prefs, nr_prefs);
		goto out;
	}
	/* The driver does not answer the uAPI: try each preference in order
	 * with what can honestly provide it. */
	ret = -EOPNOTSUPP;
	for (i = 0; i < nr_prefs; i++) {
		if (prefs[i] == VFIO_MEMATTR_NC)
			ret = map_vfio(dev, m);
		else if (prefs[i] == VFIO_MEMATTR_WC && (flags & VFIO_MEMATTR_MAP_ALLOW_SYSFS))
			ret = map_sysfs_wc(dev, m);
		else
			continue;	/* nothing can provide it: EOPNOTSUPP */
		if (ret == 0)
			break;
		if (!first_err)
			first_err = ret;
	}
	/* the error of the first mechanism that was tried, else EOPNOTSUPP */
	if (ret < 0)
		ret = first_err ? first_err : -EOPNOTSUPP;
out:
	if (ret == 0) {
		list_add(dev, m);
		*out = m;
		log_dbg(dev, "%s: BAR%u 0x%llx+0x%llx mapped %s (%s) at %p", dev->bdf, bar,
			(unsigned long long)offset, (unsigned long long)length,
			vfio_memattr_attr_name(m->attr), vfio_memattr_source_name(m->source),
			m->addr);
	} else {
		free(m);
	}
	dev_unlock(dev);
	return ret;
}

EXPORT int vfio_memattr_map(struct vfio_memattr_dev *dev, unsigned int bar,
			    uint64_t offset, uint64_t length,
			    const enum vfio_memattr *prefs, unsigned int nr_prefs,
			    unsigned int flags, struct vfio_memattr_mapping **out)
{
	return map_common(dev, bar, offset, length, prefs, nr_prefs, flags, NULL, out);
}

EXPORT int vfio_memattr_map_at(struct vfio_memattr_dev *dev, unsigned int bar,
			       uint64_t offset, uint64_t length,
			       const enum vfio_memattr *prefs, unsigned int nr_prefs,
			       unsigned int flags, void *addr, struct vfio_memattr_mapping **out)
{
	if (!addr) {
		if (out)
			*out = NULL;
		return -EINVAL;
	}
	return map_common(dev, bar, offset, length, prefs, nr_prefs, flags, addr, out);
}

EXPORT int vfio_memattr_map_handle(struct vfio_memattr_dev *dev, uint32_t handle, void *addr,
				   struct vfio_memattr_mapping **out)
{
	struct vfio_device_feature_memattr_handle h = { .handle = handle };
	struct vfio_memattr_mapping *m;
	uint64_t ps = page_size();
	int ret;

	if (out)
		*out = NULL;
	if (!dev || !out || handle < VFIO_MEMATTR_HANDLE_INDEX_BASE || ((uintptr_t)addr & (ps - 1)))
		return -EINVAL;
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	dev_lock(dev);
	ret = feature(dev->device_fd, VFIO_DEVICE_FEATURE_GET, VFIO_DEVICE_FEATURE_MEMATTR_HANDLE,
		      &h, sizeof(h));
	if (ret == 0 && (h.attr >= VFIO_MEMATTR_NUM_ATTRS || !h.length || h.length > SIZE_MAX)) {
		log_err(dev, "%s: handle %u: attribute %u, length %llu: refusing", dev->bdf, handle,
			h.attr, (unsigned long long)h.length);
		ret = -EPROTO;
	}
	if (ret == 0) {
		m->dev = dev;
		m->bar = h.index;
		m->offset = h.offset;
		m->length = h.length;
		m->fixed = addr;
		m->attr = (enum vfio_memattr)h.attr;
		m->handle = handle;
		m->source = VFIO_MEMATTR_SRC_MEMATTR;
		m->imported = true;
		m->addr = map_range(m, dev->device_fd, (off_t)h.mmap_offset);
		if (m->addr == MAP_FAILED) {
			ret = -errno;
			log_err(dev, "%s: mmap of handle %u: %s", dev->bdf, handle, strerror(-ret));
		}
	} else if (ret != -EPROTO) {
		log_dbg(dev, "%s: MEMATTR_HANDLE %u: %s", dev->bdf, handle, strerror(-ret));
	}
	if (ret == 0) {
		list_add(dev, m);
		*out = m;
	} else {
		free(m);
	}
	dev_unlock(dev);
	return ret;
}

static int unmap_locked(struct vfio_memattr_dev *dev, struct vfio_memattr_mapping *m)
{
	int ret = 0, r;

	list_del(dev, m);
	if (unmap_range(m, m->addr) < 0)
		ret = -errno;
	if (m->source == VFIO_MEMATTR_SRC_MEMATTR && !m->imported &&
	    !handle_in_use(dev, m->handle)) {
		r = release_handle(dev, m->handle);
		/* ENOENT: already released (e.g. the fd was reset). */
		if (r < 0 && r != -ENOENT && !ret)
			ret = r;
	}
	free(m);
	return ret;
}

EXPORT int vfio_memattr_unmap(struct vfio_memattr_mapping *m)
{
	struct vfio_memattr_dev *dev;
	int ret;

	if (!m)
		return -EINVAL;
	dev = m->dev;
	dev_lock(dev);
	ret = unmap_locked(dev, m);
	dev_unlock(dev);
	return ret;
}

EXPORT void vfio_memattr_close(struct vfio_memattr_dev *dev)
{
	if (!dev)
		return;
	dev_lock(dev);
	while (dev->maps)
		unmap_locked(dev, dev->maps);
	dev_unlock(dev);
	dev_free_fds(dev);
	pthread_mutex_destroy(&dev->lock);
	free(dev);
}

EXPORT void *vfio_memattr_mapping_addr(const struct vfio_memattr_mapping *m)
{
	return m ? m->addr : NULL;
}

EXPORT uint64_t vfio_memattr_mapping_length(const struct vfio_memattr_mapping *m)
{
	return m ? m->length : 0;
}

EXPORT enum vfio_memattr vfio_memattr_mapping_attr(const struct vfio_memattr_mapping *m)
{
	return m ? m->attr : VFIO_MEMATTR_NC;
}

EXPORT enum vfio_memattr_source vfio_memattr_mapping_source(const struct vfio_memattr_mapping *m)
{
	return m ? m->source : (enum vfio_memattr_source)0;
}

EXPORT uint32_t vfio_memattr_mapping_handle(const struct vfio_memattr_mapping *m)
{
	return m ? m->handle : 0;
}

EXPORT unsigned int vfio_memattr_mapping_bar(const struct vfio_memattr_mapping *m)
{
	return m ? m->bar : 0;
}

EXPORT uint64_t vfio_memattr_mapping_offset(const struct vfio_memattr_mapping *m)
{
	return m ? m->offset : 0;
}

/* ---- region access, DMA, reset ----------------------------------------- */

static int region_rw(struct vfio_memattr_dev *dev, unsigned int index, uint64_t off,
		     void *buf, size_t len, bool write)
{
	struct vfio_region_info ri;
	ssize_t n;
	int ret;

	if (!dev || (!buf && len))
		return -EINVAL;
	ret = region_info(dev, index, &ri);
	if (ret < 0)
		return ret;
	if (!(ri.flags & (write ? VFIO_REGION_INFO_FLAG_WRITE : VFIO_REGION_INFO_FLAG_READ)))
		return -EACCES;
	if (off > ri.size || len > ri.size - off)
		return -EINVAL;
	while (len) {
		if (write)
			n = pwrite(dev->device_fd, buf, len, (off_t)(ri.offset + off));
		else
			n = pread(dev->device_fd, buf, len, (off_t)(ri.offset + off));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EIO;
		buf = (char *)buf + n;
		off += (uint64_t)n;
		len -= (size_t)n;
	}
	return 0;
}

EXPORT int vfio_memattr_region_read(struct vfio_memattr_dev *dev, unsigned int index,
				    uint64_t off, void *buf, size_t len)
{
	return region_rw(dev, index, off, buf, len, false);
}

EXPORT int vfio_memattr_region_write(struct vfio_memattr_dev *dev, unsigned int index,
				     uint64_t off, const void *buf, size_t len)
{
	return region_rw(dev, index, off, (void *)buf, len, true);
}

EXPORT int vfio_memattr_dma_map(struct vfio_memattr_dev *dev, void *vaddr,
				uint64_t iova, uint64_t size)
{
	int ret;

	if (!dev || !vaddr || !size)
		return -EINVAL;
	if (dev->backend == BACKEND_CONTAINER) {
		struct vfio_iommu_type1_dma_map dm = {
			.argsz = sizeof(dm),
			.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
			.vaddr = (uintptr_t)vaddr,
			.iova = iova,
			.size = size,
		};
		ret = xioctl(dev->container_fd, VFIO_IOMMU_MAP_DMA, &dm);
		return ret < 0 ? ret : 0;
	}
	if (dev->backend == BACKEND_IOMMUFD) {
		struct vm_iommu_ioas_map im = {
			.size = sizeof(im),
			.flags = VM_IOAS_MAP_FIXED_IOVA | VM_IOAS_MAP_READABLE |
				 VM_IOAS_MAP_WRITEABLE,
			.ioas_id = dev->ioas_id,
			.user_va = (uintptr_t)vaddr,
			.length = size,
			.iova = iova,
		};
		ret = xioctl(dev->iommufd, VM_IOMMU_IOAS_MAP, &im);
		return ret < 0 ? ret : 0;
	}
	return -EOPNOTSUPP;
}

EXPORT int vfio_memattr_dma_unmap(struct vfio_memattr_dev *dev, uint64_t iova,
				  uint64_t size)
{
	int ret;

	if (!dev || !size)
		return -EINVAL;
	if (dev->backend == BACKEND_CONTAINER) {
		struct vfio_iommu_type1_dma_unmap du = {
			.argsz = sizeof(du),
			.iova = iova,
			.size = size,
		};
		ret = xioctl(dev->container_fd, VFIO_IOMMU_UNMAP_DMA, &du);
		return ret < 0 ? ret : 0;
	}
	if (dev->backend == BACKEND_IOMMUFD) {
		struct vm_iommu_ioas_unmap iu = {
			.size = sizeof(iu),
			.ioas_id = dev->ioas_id,
			.iova = iova,
			.length = size,
		};
		ret = xioctl(dev->iommufd, VM_IOMMU_IOAS_UNMAP, &iu);
		return ret < 0 ? ret : 0;
	}
	return -EOPNOTSUPP;
}

EXPORT int vfio_memattr_reset(struct vfio_memattr_dev *dev)
{
	int ret;

	if (!dev)
		return -EINVAL;
	ret = xioctl(dev->device_fd, VFIO_DEVICE_RESET, NULL);
	return ret < 0 ? ret : 0;
}
