// SPDX-License-Identifier: GPL-2.0-only OR MIT
/* vfio.c - VFIO devices of the guest tests, see vfio.h. */
#define _GNU_SOURCE
#define _FILE_OFFSET_BITS 64
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/pci_regs.h>

#include "tap.h"
#include "vfio.h"

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

int vdev_cdev_name(const char *bdf, char *out, size_t len)
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
	/* VFIO's unsafe no-IOMMU mode names its made-up groups noiommu-N */
	snprintf(path, sizeof(path), "/dev/vfio/%s", g);
	if (access(path, F_OK)) {
		snprintf(path, sizeof(path), "/dev/vfio/noiommu-%s", g);
		d->noiommu = !access(path, F_OK);
		if (!d->noiommu)
			snprintf(path, sizeof(path), "/dev/vfio/%s", g);
	}
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
	if (d->noiommu)
		type = VFIO_NOIOMMU_IOMMU;
	else
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
	int *fds[] = { &d->fd, &d->group, &d->container };	/* in this order */
	size_t i;

	for (i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
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

int vdev_ioeventfd(int fd, uint32_t bar, uint64_t off, uint64_t data, int efd)
{
	struct vfio_device_ioeventfd ie = {
		.argsz = sizeof(ie),
		.flags = VFIO_DEVICE_IOEVENTFD_32,
		.offset = VFIO_PCI_INDEX_TO_OFFSET(bar) + off,
		.data = data,
		.fd = efd,
	};

	return ioctl(fd, VFIO_DEVICE_IOEVENTFD, &ie) ? -errno : 0;
}

int vdev_set_req_irq(int fd, int efd)
{
	char buf[sizeof(struct vfio_irq_set) + sizeof(int)];
	struct vfio_irq_set *s = (struct vfio_irq_set *)buf;

	memset(buf, 0, sizeof(buf));
	s->argsz = sizeof(buf);
	s->flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER;
	s->index = VFIO_PCI_REQ_IRQ_INDEX;
	s->count = 1;
	memcpy(s->data, &efd, sizeof(efd));
	return ioctl(fd, VFIO_DEVICE_SET_IRQS, s) ? -errno : 0;
}

int core_dma_buf(int fd, uint32_t bar, uint64_t off, uint64_t len, int probe)
{
	struct {
		struct vfio_device_feature hdr;
		struct vfio_device_feature_dma_buf b;
		struct vfio_region_dma_range r;
	} req;
	int rc;

	memset(&req, 0, sizeof(req));
	req.hdr.argsz = sizeof(req);
	req.hdr.flags = VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_DMA_BUF |
			(probe ? VFIO_DEVICE_FEATURE_PROBE : 0);
	req.b.region_index = bar;
	req.b.open_flags = O_CLOEXEC | O_RDWR;
	req.b.nr_ranges = 1;
	req.r.offset = off;
	req.r.length = len;
	rc = ioctl(fd, VFIO_DEVICE_FEATURE, &req);
	return rc < 0 ? -errno : rc;
}

uint64_t vdev_unbind_and_wait_req(int go_fd, int efd, int ms)
{
	struct pollfd pf = { .fd = efd, .events = POLLIN };
	uint64_t ev = 0;

	if (write(go_fd, "g", 1) != 1)
		tap_diag("cannot start the unbind: %s", strerror(errno));
	close(go_fd);
	if (poll(&pf, 1, ms) == 1 && read(efd, &ev, sizeof(ev)) != sizeof(ev))
		ev = 0;
	return ev;
}
