// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * open.c - open, open in a shared container, adopt
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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/vfio.h>

#include "vfio-memattr.h"
#include "vfio-memattr-private.h"

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

void vfio_memattr__dev_free_fds(struct vfio_memattr_dev *dev)
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
	int ret = vfio_memattr__xioctl(dev->device_fd, VFIO_DEVICE_GET_INFO, &info);

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

	snprintf(path, sizeof(path), "%s/devices/%s", vfio_memattr__dev_vfio_dir(), cdev_name);
	dev->device_fd = open(path, O_RDWR | O_CLOEXEC);
	if (dev->device_fd < 0)
		return -errno;
	/* shared: the same iommufd and IO address space as @with */
	dev->iommufd = with ? fcntl(with->iommufd, F_DUPFD_CLOEXEC, 0) :
			      open("/dev/iommu", O_RDWR | O_CLOEXEC);
	if (dev->iommufd < 0)
		return -errno;
	bind.iommufd = dev->iommufd;
	ret = vfio_memattr__xioctl(dev->device_fd, VFIO_DEVICE_BIND_IOMMUFD, &bind);
	if (ret < 0) {
		log_err(dev, "%s: VFIO_DEVICE_BIND_IOMMUFD: %s", path, strerror(-ret));
		return ret;
	}
	if (with) {
		alloc.out_ioas_id = with->ioas_id;
	} else {
		ret = vfio_memattr__xioctl(dev->iommufd, VM_IOMMU_IOAS_ALLOC, &alloc);
		if (ret < 0) {
			log_err(dev, "IOMMU_IOAS_ALLOC: %s", strerror(-ret));
			return ret;
		}
	}
	dev->ioas_id = alloc.out_ioas_id;
	attach.pt_id = alloc.out_ioas_id;
	ret = vfio_memattr__xioctl(dev->device_fd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &attach);
	if (ret < 0) {
		log_err(dev, "%s: VFIO_DEVICE_ATTACH_IOMMUFD_PT: %s", path, strerror(-ret));
		return ret;
	}
	dev->backend = BACKEND_IOMMUFD;
	log_dbg(dev, "%s: opened through iommufd (%s)", dev->bdf, path);
	return 0;
}

/*
 * The group node of IOMMU group @group: /dev/vfio/N, or for a group VFIO
 * made up in no-IOMMU mode /dev/vfio/noiommu-N.  Such a group is told by
 * its sysfs name ("vfio-noiommu"), or, when that cannot be read, by its
 * node: /dev/vfio/N missing and /dev/vfio/noiommu-N present.
 */
static void group_node(struct vfio_memattr_dev *dev, const char *group, char *path,
		       size_t len)
{
	char plain[PATH_MAX];

	snprintf(plain, sizeof(plain), "%s/%s", vfio_memattr__dev_vfio_dir(), group);
	snprintf(path, len, "%s/noiommu-%s", vfio_memattr__dev_vfio_dir(), group);
	dev->noiommu = vfio_memattr__group_is_noiommu(dev->bdf) ||
		       (access(plain, F_OK) < 0 && errno == ENOENT && access(path, F_OK) == 0);
	if (!dev->noiommu)
		snprintf(path, len, "%s", plain);
}

static int open_group(struct vfio_memattr_dev *dev, const struct vfio_memattr_dev *with)
{
	struct vfio_group_status status = { .argsz = sizeof(status) };
	char path[PATH_MAX], group[64];
	int ret, type;

	snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/iommu_group",
		 vfio_memattr__sysfs_dir(), dev->bdf);
	ret = vfio_memattr__read_link_base(path, group, sizeof(group));
	if (ret < 0) {
		log_err(dev, "%s: no IOMMU group (is the IOMMU enabled, or, without one, VFIO's "
			"enable_unsafe_noiommu_mode?)", dev->bdf);
		return -ENOENT;
	}
	snprintf(dev->group, sizeof(dev->group), "%s", group);
	if (with && !strcmp(with->group, group)) {
		/* the same group: it is already in the container */
		dev->noiommu = with->noiommu;
		dev->group_fd = fcntl(with->group_fd, F_DUPFD_CLOEXEC, 0);
		dev->container_fd = fcntl(with->container_fd, F_DUPFD_CLOEXEC, 0);
		if (dev->group_fd < 0 || dev->container_fd < 0)
			return -errno;
		type = 0;
		goto get_device;
	}
	group_node(dev, group, path, sizeof(path));
	if (with && with->noiommu != dev->noiommu) {
		/* VFIO refuses it (EPERM): say why */
		log_err(dev, "%s: cannot share the container of %s: a no-IOMMU group and an "
			"IOMMU group never share one", dev->bdf, with->bdf);
		return -EOPNOTSUPP;
	}
	dev->group_fd = open(path, O_RDWR | O_CLOEXEC);
	if (dev->group_fd < 0) {
		ret = -errno;
		if (dev->noiommu && (ret == -EPERM || ret == -EACCES))
			log_err(dev, "%s: %s: %s (a no-IOMMU group needs CAP_SYS_RAWIO)",
				dev->bdf, path, strerror(-ret));
		else
			log_err(dev, "%s: %s: %s (is the device bound to a VFIO driver?)",
				dev->bdf, path, strerror(-ret));
		return ret;
	}
	ret = vfio_memattr__xioctl(dev->group_fd, VFIO_GROUP_GET_STATUS, &status);
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
		ret = vfio_memattr__xioctl(dev->group_fd, VFIO_GROUP_SET_CONTAINER,
					   &dev->container_fd);
		if (ret < 0) {
			log_err(dev, "%s: VFIO_GROUP_SET_CONTAINER (shared): %s", dev->bdf,
				strerror(-ret));
			return ret;
		}
		type = 0;
		goto get_device;
	}
	snprintf(path, sizeof(path), "%s/vfio", vfio_memattr__dev_vfio_dir());
	dev->container_fd = open(path, O_RDWR | O_CLOEXEC);
	if (dev->container_fd < 0)
		return -errno;
	ret = vfio_memattr__xioctl(dev->container_fd, VFIO_GET_API_VERSION, NULL);
	if (ret < 0)
		return ret;
	if (ret != VFIO_API_VERSION)
		return -EPROTO;
	if (dev->noiommu) {
		/* no IOMMU, no DMA mapping: VFIO's noiommu driver or nothing */
		if (vfio_memattr__xioctl(dev->container_fd, VFIO_CHECK_EXTENSION,
					 (void *)(long)VFIO_NOIOMMU_IOMMU) <= 0) {
			log_err(dev, "%s: IOMMU group %s is a no-IOMMU group, but the VFIO "
				"container offers no VFIO_NOIOMMU_IOMMU (vfio's "
				"enable_unsafe_noiommu_mode is off)", dev->bdf, group);
			return -EOPNOTSUPP;
		}
		type = VFIO_NOIOMMU_IOMMU;
	} else if (vfio_memattr__xioctl(dev->container_fd, VFIO_CHECK_EXTENSION,
					(void *)(long)VFIO_TYPE1v2_IOMMU) > 0)
		type = VFIO_TYPE1v2_IOMMU;
	else if (vfio_memattr__xioctl(dev->container_fd, VFIO_CHECK_EXTENSION,
				      (void *)(long)VFIO_TYPE1_IOMMU) > 0)
		type = VFIO_TYPE1_IOMMU;
	else {
		log_err(dev, "%s: the VFIO container offers no type1 IOMMU", dev->bdf);
		return -EOPNOTSUPP;
	}
	ret = vfio_memattr__xioctl(dev->group_fd, VFIO_GROUP_SET_CONTAINER, &dev->container_fd);
	if (ret < 0) {
		log_err(dev, "%s: VFIO_GROUP_SET_CONTAINER: %s", dev->bdf, strerror(-ret));
		return ret;
	}
	ret = vfio_memattr__xioctl(dev->container_fd, VFIO_SET_IOMMU, (void *)(long)type);
	if (ret < 0) {
		log_err(dev, "%s: VFIO_SET_IOMMU: %s%s", dev->bdf, strerror(-ret),
			dev->noiommu && ret == -EPERM ? " (no-IOMMU mode needs CAP_SYS_RAWIO)" : "");
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
	if (dev->noiommu)
		log_warn(dev, "%s: opened in VFIO's unsafe no-IOMMU mode (group noiommu-%s): no "
			 "DMA isolation, no DMA mapping", dev->bdf, group);
	else
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

	snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/vfio-dev",
		 vfio_memattr__sysfs_dir(), bdf);
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
	snprintf(path, sizeof(path), "%s/bus/pci/devices/%s", vfio_memattr__sysfs_dir(), dev->bdf);
	if (stat(path, &st) < 0) {
		log_err(dev, "%s: no such PCI device", dev->bdf);
		ret = -ENODEV;
		goto fail;
	}

	/* a no-IOMMU device: the group API (its cdev binds to no iommufd) */
	if ((!with || with->backend == BACKEND_IOMMUFD) &&
	    !vfio_memattr__group_is_noiommu(dev->bdf) &&
	    find_cdev(dev->bdf, cdev, sizeof(cdev)) == 0 &&
	    access("/dev/iommu", R_OK | W_OK) == 0) {
		snprintf(path, sizeof(path), "%s/devices/%s", vfio_memattr__dev_vfio_dir(), cdev);
		if (access(path, F_OK) == 0) {
			ret = open_iommufd(dev, cdev, with);
			if (ret == 0)
				goto opened;
			log_info(dev, "%s: iommufd open failed (%s), trying the group API",
				 dev->bdf, strerror(-ret));
			vfio_memattr__dev_free_fds(dev);
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
	vfio_memattr__dev_free_fds(dev);
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
	snprintf(path, sizeof(path), "%s/class/vfio-dev/%.32s/device",
		 vfio_memattr__sysfs_dir(), b);
	if (vfio_memattr__read_link_base(path, name, sizeof(name)) == 0)
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
	vfio_memattr__dev_lock(dev);
	strcpy(dev->bdf, tmp);
	vfio_memattr__dev_unlock(dev);
	return 0;
}

EXPORT const char *vfio_memattr_bdf(const struct vfio_memattr_dev *dev)
{
	return dev && dev->bdf[0] ? dev->bdf : NULL;
}

EXPORT int vfio_memattr_is_noiommu(const struct vfio_memattr_dev *dev)
{
	if (!dev)
		return -EINVAL;
	if (dev->backend == BACKEND_ADOPTED)	/* the caller opened it: ask sysfs */
		return dev->bdf[0] ? vfio_memattr__group_is_noiommu(dev->bdf) : 0;
	return dev->noiommu;
}

EXPORT int vfio_memattr_device_fd(const struct vfio_memattr_dev *dev)
{
	return dev ? dev->device_fd : -EINVAL;
}

