// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * dma.c - region access, IOMMU DMA mapping, reset
 *
 * See vfio-memattr.h and vfio_memattr(3).
 */
#define _GNU_SOURCE
#define _FILE_OFFSET_BITS 64
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>
#include <linux/vfio.h>

#include "vfio-memattr.h"
#include "vfio-memattr-private.h"

static int region_rw(struct vfio_memattr_dev *dev, unsigned int index, uint64_t off,
		     void *buf, size_t len, bool write)
{
	struct vfio_region_info ri;
	ssize_t n;
	int ret;

	if (!dev || (!buf && len))
		return -EINVAL;
	ret = vfio_memattr__region_info(dev, index, &ri);
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

/* Map (@vaddr not NULL) or unmap [@iova, @iova + @size) in the device's
 * container or IO address space. */
static int dma_op(struct vfio_memattr_dev *dev, void *vaddr, uint64_t iova, uint64_t size)
{
	union {
		struct vfio_iommu_type1_dma_map map;
		struct vfio_iommu_type1_dma_unmap unmap;
		struct vm_iommu_ioas_map ioas_map;
		struct vm_iommu_ioas_unmap ioas_unmap;
	} a;
	unsigned long req;
	int fd, ret;

	memset(&a, 0, sizeof(a));
	if (dev->noiommu)
		return -EOPNOTSUPP;	/* no IOMMU: DMA uses physical addresses */
	if (dev->backend == BACKEND_CONTAINER && vaddr) {
		a.map = (struct vfio_iommu_type1_dma_map){ .argsz = sizeof(a.map),
			.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
			.vaddr = (uintptr_t)vaddr, .iova = iova, .size = size };
		req = VFIO_IOMMU_MAP_DMA;
	} else if (dev->backend == BACKEND_CONTAINER) {
		a.unmap = (struct vfio_iommu_type1_dma_unmap){ .argsz = sizeof(a.unmap),
			.iova = iova, .size = size };
		req = VFIO_IOMMU_UNMAP_DMA;
	} else if (dev->backend == BACKEND_IOMMUFD && vaddr) {
		a.ioas_map = (struct vm_iommu_ioas_map){ .size = sizeof(a.ioas_map),
			.flags = VM_IOAS_MAP_FIXED_IOVA | VM_IOAS_MAP_READABLE | VM_IOAS_MAP_WRITEABLE,
			.ioas_id = dev->ioas_id, .user_va = (uintptr_t)vaddr, .length = size,
			.iova = iova };
		req = VM_IOMMU_IOAS_MAP;
	} else if (dev->backend == BACKEND_IOMMUFD) {
		a.ioas_unmap = (struct vm_iommu_ioas_unmap){ .size = sizeof(a.ioas_unmap),
			.ioas_id = dev->ioas_id, .iova = iova, .length = size };
		req = VM_IOMMU_IOAS_UNMAP;
	} else {
		return -EOPNOTSUPP;	/* adopted: the caller owns the container */
	}
	fd = dev->backend == BACKEND_CONTAINER ? dev->container_fd : dev->iommufd;
	ret = vfio_memattr__xioctl(fd, req, &a);
	return ret < 0 ? ret : 0;
}

EXPORT int vfio_memattr_dma_map(struct vfio_memattr_dev *dev, void *vaddr,
				uint64_t iova, uint64_t size)
{
	if (!dev || !vaddr || !size)
		return -EINVAL;
	return dma_op(dev, vaddr, iova, size);
}

EXPORT int vfio_memattr_dma_unmap(struct vfio_memattr_dev *dev, uint64_t iova,
				  uint64_t size)
{
	if (!dev || !size)
		return -EINVAL;
	return dma_op(dev, NULL, iova, size);
}

EXPORT int vfio_memattr_reset(struct vfio_memattr_dev *dev)
{
	int ret;

	if (!dev)
		return -EINVAL;
	ret = vfio_memattr__xioctl(dev->device_fd, VFIO_DEVICE_RESET, NULL);
	return ret < 0 ? ret : 0;
}

