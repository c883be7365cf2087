// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * dmabuf.c - DMABUF fds of BAR ranges: export, memory attribute, revoke
 *
 * The uAPI is VFIO_DEVICE_FEATURE_MEMATTR_DMABUF, _DMABUF_ATTR and
 * _DMABUF_REVOKE (<linux/vfio_memattr.h>).  The library keeps no list of
 * DMABUFs: the fd is the caller's, to mmap, pass on (SCM_RIGHTS) and close.
 * See vfio-memattr.h and vfio_memattr(3).
 */
#define _GNU_SOURCE
#define _FILE_OFFSET_BITS 64
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/vfio.h>

#include "vfio-memattr.h"
#include "vfio-memattr-private.h"

/* One GET of the DMABUF's attribute, state and size. */
static int dmabuf_get(struct vfio_memattr_dev *dev, int fd,
		      struct vfio_device_feature_memattr_dmabuf_attr *a)
{
	memset(a, 0, sizeof(*a));
	a->dmabuf_fd = fd;
	return vfio_memattr__feature(dev->device_fd, VFIO_DEVICE_FEATURE_GET,
				     VFIO_DEVICE_FEATURE_MEMATTR_DMABUF_ATTR, a, sizeof(*a));
}

EXPORT int vfio_memattr_dmabuf_export(struct vfio_memattr_dev *dev, unsigned int bar,
				      const struct vfio_memattr_dma_range *ranges,
				      unsigned int nr_ranges, unsigned int open_flags)
{
	/* header, export struct and the largest range list, 8-byte aligned */
	uint64_t buf[(sizeof(struct vfio_device_feature) +
		      sizeof(struct vfio_device_feature_memattr_dmabuf) +
		      VFIO_MEMATTR_DMABUF_MAX_RANGES * sizeof(struct vfio_memattr_dma_range)) / 8];
	struct vfio_device_feature *hdr = (struct vfio_device_feature *)buf;
	struct vfio_device_feature_memattr_dmabuf *db = (void *)hdr->data;
	struct vfio_device_feature_memattr_dmabuf_attr a;
	uint64_t ps = vfio_memattr__page_size(), total = 0;
	unsigned int i;
	int fd, ret;

	if (!dev || !ranges || !nr_ranges || nr_ranges > VFIO_MEMATTR_DMABUF_MAX_RANGES ||
	    bar > VFIO_PCI_BAR5_REGION_INDEX ||
	    (open_flags & ~(unsigned int)(O_CLOEXEC | O_ACCMODE)) ||
	    ((open_flags & O_ACCMODE) != O_RDWR && (open_flags & O_ACCMODE) != O_RDONLY))
		return -EINVAL;
	for (i = 0; i < nr_ranges; i++) {
		const struct vfio_memattr_dma_range *r = &ranges[i];

		if (!r->length || (r->offset & (ps - 1)) || (r->length & (ps - 1)) ||
		    r->offset + r->length < r->offset || total + r->length < total)
			return -EINVAL;
		total += r->length;
	}

	memset(buf, 0, sizeof(buf));
	hdr->argsz = (uint32_t)(sizeof(*hdr) + sizeof(*db) + nr_ranges * sizeof(ranges[0]));
	hdr->flags = VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_MEMATTR_DMABUF;
	db->region_index = bar;
	db->open_flags = open_flags;
	db->nr_ranges = nr_ranges;
	memcpy(db->dma_ranges, ranges, nr_ranges * sizeof(ranges[0]));

	vfio_memattr__dev_lock(dev);
	fd = vfio_memattr__xioctl(dev->device_fd, VFIO_DEVICE_FEATURE, hdr);
	if (fd < 0) {
		/* stock vfio-pci and drivers before DMABUF support: ENOTTY */
		log_dbg(dev, "%s: BAR%u, %u range(s): MEMATTR_DMABUF: %s", dev->bdf, bar,
			nr_ranges, strerror(-fd));
		vfio_memattr__dev_unlock(dev);
		return fd;
	}
	/* Read it back: never hand out a DMABUF that is not what was asked. */
	ret = dmabuf_get(dev, fd, &a);
	if (ret == 0 && (a.size != total || a.attr != VFIO_MEMATTR_NC || a.state)) {
		log_err(dev, "%s: new DMABUF fd %d: size %llu (asked %llu), attribute %u, "
			"state 0x%x: refusing", dev->bdf, fd, (unsigned long long)a.size,
			(unsigned long long)total, a.attr, a.state);
		ret = -EPROTO;
	} else if (ret < 0) {
		log_err(dev, "%s: new DMABUF fd %d: MEMATTR_DMABUF_ATTR GET: %s", dev->bdf, fd,
			strerror(-ret));
	}
	if (ret < 0) {
		close(fd);	/* the last reference: the DMABUF goes with it */
		fd = ret;
	} else {
		log_dbg(dev, "%s: BAR%u, %u range(s), %llu bytes: DMABUF fd %d", dev->bdf, bar,
			nr_ranges, (unsigned long long)total, fd);
	}
	vfio_memattr__dev_unlock(dev);
	return fd;
}

EXPORT int vfio_memattr_dmabuf_set_attr(struct vfio_memattr_dev *dev, int dmabuf_fd,
					const enum vfio_memattr *prefs, unsigned int nr_prefs,
					enum vfio_memattr *attr)
{
	struct vfio_device_feature_memattr_dmabuf_attr a;
	unsigned int i;
	bool listed = false;
	int ret;

	if (!dev || dmabuf_fd < 0 || !prefs || !nr_prefs || nr_prefs > VFIO_MEMATTR_MAX_PREFS)
		return -EINVAL;
	for (i = 0; i < nr_prefs; i++)
		if ((unsigned int)prefs[i] >= VFIO_MEMATTR_NUM_ATTRS)
			return -EINVAL;
	memset(&a, 0, sizeof(a));
	a.dmabuf_fd = dmabuf_fd;
	a.nr_prefs = nr_prefs;
	for (i = 0; i < nr_prefs; i++)
		a.prefs[i] = (uint8_t)prefs[i];
	vfio_memattr__dev_lock(dev);
	ret = vfio_memattr__feature(dev->device_fd, VFIO_DEVICE_FEATURE_SET,
				    VFIO_DEVICE_FEATURE_MEMATTR_DMABUF_ATTR, &a, sizeof(a));
	if (ret < 0) {
		log_dbg(dev, "%s: DMABUF fd %d: MEMATTR_DMABUF_ATTR SET: %s", dev->bdf, dmabuf_fd,
			strerror(-ret));
		goto out;
	}
	for (i = 0; i < nr_prefs; i++)
		if (a.attr == (uint32_t)prefs[i])
			listed = true;
	if (!listed || (a.state & VFIO_MEMATTR_DMABUF_REVOKED)) {
		log_err(dev, "%s: DMABUF fd %d: SET answered attribute %u, state 0x%x: "
			"not one that was asked for", dev->bdf, dmabuf_fd, a.attr, a.state);
		ret = -EPROTO;
		goto out;
	}
	if (attr)
		*attr = (enum vfio_memattr)a.attr;
out:
	vfio_memattr__dev_unlock(dev);
	return ret;
}

EXPORT int vfio_memattr_dmabuf_info(struct vfio_memattr_dev *dev, int dmabuf_fd,
				    struct vfio_memattr_dmabuf_info *out)
{
	struct vfio_device_feature_memattr_dmabuf_attr a;
	int ret;

	if (out)
		memset(out, 0, sizeof(*out));
	if (!dev || dmabuf_fd < 0 || !out)
		return -EINVAL;
	vfio_memattr__dev_lock(dev);
	ret = dmabuf_get(dev, dmabuf_fd, &a);
	vfio_memattr__dev_unlock(dev);
	if (ret < 0)
		return ret;
	if (a.attr >= VFIO_MEMATTR_NUM_ATTRS)
		return -EPROTO;		/* never report an attribute we do not know */
	out->size = a.size;
	out->attr = a.attr;
	out->state = a.state;
	return 0;
}

EXPORT int vfio_memattr_dmabuf_revoke(struct vfio_memattr_dev *dev, int dmabuf_fd)
{
	struct vfio_device_feature_memattr_dmabuf_revoke r = { .dmabuf_fd = dmabuf_fd };
	int ret;

	if (!dev || dmabuf_fd < 0)
		return -EINVAL;
	vfio_memattr__dev_lock(dev);
	ret = vfio_memattr__feature(dev->device_fd, VFIO_DEVICE_FEATURE_SET,
				    VFIO_DEVICE_FEATURE_MEMATTR_DMABUF_REVOKE, &r, sizeof(r));
	/* Drivers since 2.2 answer EBADFD for a revoked DMABUF: it is. */
	if (ret == -EBADFD)
		ret = 0;
	if (ret < 0)
		log_dbg(dev, "%s: DMABUF fd %d: MEMATTR_DMABUF_REVOKE: %s", dev->bdf, dmabuf_fd,
			strerror(-ret));
	vfio_memattr__dev_unlock(dev);
	return ret;
}
