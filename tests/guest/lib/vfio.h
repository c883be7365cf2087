/* SPDX-License-Identifier: GPL-2.0-only OR MIT */
/*
 * vfio.h - VFIO devices of the guest tests: open through the group/container
 * API (type1 IOMMU), region info and capabilities, config space, region
 * reads and writes.  int helpers return 0 or -errno; setup failures are
 * also printed as TAP diagnostics.
 */
#ifndef MEMATTR_TEST_VFIO_H
#define MEMATTR_TEST_VFIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/vfio.h>

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
	bool noiommu;	/* a group of VFIO's no-IOMMU mode (/dev/vfio/noiommu-N) */
};

/*
 * MEMATTR_VFIO_MODE=cdev: the tests open devices through the VFIO device
 * cdev and iommufd (lab/init's second pass on the debug kernel); else
 * through the group/container API (type1v2 where there is one).
 */
enum vdev_mode vdev_mode(void);
/* "vfioN" of @bdf's device cdev (/sys/bus/pci/devices/BDF/vfio-dev/); 0 or -errno. */
int vdev_cdev_name(const char *bdf, char *out, size_t len);
/* Open bdf in vdev_mode()'s way. */
int vdev_open(struct vdev *d, const char *bdf);
/* Open bdf through the group/container API or the cdev + iommufd. */
int vdev_open_mode(struct vdev *d, const char *bdf, enum vdev_mode mode);
/*
 * A second device fd of the same device: another VFIO_GROUP_GET_DEVICE_FD,
 * or in VDEV_CDEV mode another open + bind of the cdev (which the kernel
 * refuses with EINVAL while the device is open: vfio_df_open()).
 */
int vdev_get_fd(struct vdev *d);
void vdev_close(struct vdev *d);

/* GET_REGION_INFO into a caller buffer (argsz = bufsz). */
int region_info_buf(int fd, uint32_t index, void *buf, size_t bufsz);
/* GET_REGION_INFO, fixed part only. */
int region_info(int fd, uint32_t index, struct vfio_region_info *ri);
/* Find capability id in a region info buffer; NULL if none. */
void *region_cap(void *buf, size_t bufsz, uint16_t id);

/* PCI config region helpers (VFIO_PCI_CONFIG_REGION_INDEX). */
int cfg_read16(int fd, uint32_t off, uint16_t *v);
int cfg_write16(int fd, uint32_t off, uint16_t v);
int cmd_memory(int fd, int enable);	/* set/clear PCI_COMMAND_MEMORY, read back */

/* pread/pwrite of exactly len bytes at off of region index. */
int region_pread(int fd, uint32_t index, uint64_t off, void *buf, size_t len);
int region_pwrite(int fd, uint32_t index, uint64_t off, const void *buf, size_t len);
int rawfd_pread(int fd, uint64_t abs_off, void *buf, size_t len);
int rawfd_pwrite(int fd, uint64_t abs_off, const void *buf, size_t len);

/* The offset of region @i in the device file (vfio-pci's layout). */
#define VFIO_PCI_INDEX_TO_OFFSET(i)	((uint64_t)(i) << 40)

/*
 * VFIO_DEVICE_IOEVENTFD of 4 bytes (VFIO_DEVICE_IOEVENTFD_32: 8 is refused
 * by some kernels) at @off of BAR @bar writing @data when @efd is
 * signalled; @efd -1 deletes the one of that BAR, offset and data.
 */
int vdev_ioeventfd(int fd, uint32_t bar, uint64_t off, uint64_t data, int efd);

/* Trigger @efd on the device request IRQ (an unbind asks for the device). */
int vdev_set_req_irq(int fd, int efd);
/*
 * Write one byte to @go_fd (it starts an unbinder process) and close it,
 * then wait up to @ms for the request IRQ on @efd.  Returns the number of
 * requests counted (0 if none came).
 */
uint64_t vdev_unbind_and_wait_req(int go_fd, int efd, int ms);

/* The core's VFIO_DEVICE_FEATURE_DMA_BUF (11, Linux 6.19 and later). */
#ifndef VFIO_DEVICE_FEATURE_DMA_BUF
#define VFIO_DEVICE_FEATURE_DMA_BUF 11
struct vfio_region_dma_range {
	__u64 offset;
	__u64 length;
};

struct vfio_device_feature_dma_buf {
	__u32 region_index;
	__u32 open_flags;
	__u32 flags;
	__u32 nr_ranges;
	struct vfio_region_dma_range dma_ranges[];
};
#endif

/*
 * Feature 11 of [off, off + len) of @bar (GET, or PROBE with @probe):
 * the DMABUF fd (0 for PROBE), or -errno.
 */
int core_dma_buf(int fd, uint32_t bar, uint64_t off, uint64_t len, int probe);

#endif /* MEMATTR_TEST_VFIO_H */
