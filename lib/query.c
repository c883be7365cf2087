// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * query.c - kernel feature calls, regions, BAR info
 *
 * See vfio-memattr.h and vfio_memattr(3).
 */
#define _GNU_SOURCE
#define _FILE_OFFSET_BITS 64
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/pci_regs.h>
#include <linux/vfio.h>

#include "vfio-memattr.h"
#include "vfio-memattr-private.h"

/*
 * The header and the payload in one buffer.  struct vfio_device_feature
 * ends in a flexible array member (data[]), so it cannot be the first
 * member of a struct (a GNU extension: clang -Wgnu-variable-sized-type-
 * not-at-end); a union with a byte array of the right size can hold it.
 */
union feat_payload {
	struct vfio_device_feature_memattr_bar_info bar_info;
	struct vfio_device_feature_memattr_map map;
	struct vfio_device_feature_memattr_handle handle;
	struct vfio_device_feature_memattr_unmap unmap;
	struct vfio_device_feature_memattr_dmabuf_attr dmabuf_attr;
	struct vfio_device_feature_memattr_dmabuf_revoke dmabuf_revoke;
};

union feat_buf {
	struct vfio_device_feature hdr;
	unsigned char bytes[sizeof(struct vfio_device_feature) + sizeof(union feat_payload)];
	uint64_t align_;
};

int vfio_memattr__feature(int fd, uint32_t flags, uint32_t feat, void *payload, size_t len)
{
	union feat_buf buf;
	int ret;

	memset(&buf, 0, sizeof(buf));
	buf.hdr.argsz = (uint32_t)(sizeof(buf.hdr) + len);
	buf.hdr.flags = flags | feat;
	if (len > sizeof(union feat_payload))
		return -EINVAL;
	memcpy(buf.bytes + sizeof(buf.hdr), payload, len);
	ret = vfio_memattr__xioctl(fd, VFIO_DEVICE_FEATURE, &buf);
	if (ret < 0)
		return ret;
	memcpy(payload, buf.bytes + sizeof(buf.hdr), len);
	return 0;
}

/* 1 if the driver answers the memattr uAPI, 0 if not, negative errno. */
int vfio_memattr__probe_kernel(struct vfio_memattr_dev *dev)
{
	struct vfio_device_feature_memattr_map m;
	int ret;

	if (dev->kernel_support >= 0)
		return dev->kernel_support;
	memset(&m, 0, sizeof(m));
	ret = vfio_memattr__feature(dev->device_fd,
				    VFIO_DEVICE_FEATURE_PROBE | VFIO_DEVICE_FEATURE_SET,
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
	vfio_memattr__dev_lock(dev);
	ret = vfio_memattr__probe_kernel(dev);
	vfio_memattr__dev_unlock(dev);
	return ret;
}

int vfio_memattr__region_info(struct vfio_memattr_dev *dev, unsigned int index,
			      struct vfio_region_info *ri)
{
	memset(ri, 0, sizeof(*ri));
	ri->argsz = sizeof(*ri);
	ri->index = index;
	return vfio_memattr__xioctl(dev->device_fd, VFIO_DEVICE_GET_REGION_INFO, ri);
}

EXPORT int vfio_memattr_region_info(struct vfio_memattr_dev *dev, unsigned int index,
				    uint64_t *size, uint64_t *offset, uint32_t *flags)
{
	struct vfio_region_info ri;
	int ret;

	if (!dev)
		return -EINVAL;
	ret = vfio_memattr__region_info(dev, index, &ri);
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
	ret = vfio_memattr__probe_kernel(dev);
	if (ret < 0)
		return ret;
	if (ret == 1) {
		memset(&bi, 0, sizeof(bi));
		bi.index = bar;
		ret = vfio_memattr__feature(dev->device_fd, VFIO_DEVICE_FEATURE_GET,
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
	ret = vfio_memattr__region_info(dev, bar, &ri);
	if (ret < 0)
		return ret;
	out->size = ri.size;
	if (ri.size) {
		struct vfio_region_info cfg;

		if (vfio_memattr__region_info(dev, VFIO_PCI_CONFIG_REGION_INDEX, &cfg) == 0 &&
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
	vfio_memattr__dev_lock(dev);
	ret = bar_info_locked(dev, bar, out);
	vfio_memattr__dev_unlock(dev);
	return ret;
}

