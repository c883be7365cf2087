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

