/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fake.h - a fake VFIO device for the host tests (fake.c).
 *
 * The test binary is linked with -Wl,--wrap=ioctl: every ioctl() of the
 * library on the fake fd (a memfd standing for the VFIO device file) is
 * answered by fake.c, like vfio-pci (no memattr uAPI) or vfio-pci-memattr
 * would; mmap() and pread/pwrite work on the memfd for real, so what is
 * written through a mapping can be checked at the file offset it must hit.
 */
#ifndef VFIO_MEMATTR_HOST_FAKE_H
#define VFIO_MEMATTR_HOST_FAKE_H

#include <stdint.h>

#include <linux/vfio.h>

#include "vfio-memattr.h"

#define MiB		(1ull << 20)
#define CFG_OFF		0
#define BAR0_OFF	(1 * MiB)
#define BAR0_SIZE	4096
#define BAR2_OFF	(2 * MiB)
#define BAR2_SIZE	(1 * MiB)
#define HANDLE_OFF	(8 * MiB)	/* mmap offset of handle 0x10000 */
#define FILE_SIZE	(16 * MiB)

struct fake_state {
	int fd;
	int uapi;		/* answers the memattr uAPI */
	int map_errno;		/* MEMATTR_MAP fails with this */
	int map_attr;		/* attribute MEMATTR_MAP reports */
	int cap_attr;		/* attribute of the region capability, -1: none */
	uint32_t next_handle;
	int same_handle;	/* return handle 0x10000 every time */
	unsigned int map_calls, probe_calls, get_calls;
	struct vfio_device_feature_memattr_map last;
	uint32_t released[32];
	unsigned int nreleased;
	uint64_t handle_len;
	/* DMABUFs (MEMATTR_DMABUF, _DMABUF_ATTR, _DMABUF_REVOKE) */
	int no_dmabuf;		/* memattr uAPI without the DMABUF features (ENOTTY) */
	int dmabuf_errno;	/* export fails with this */
	int set_errno;		/* DMABUF_ATTR SET fails with this */
	uint32_t set_mask;	/* attributes SET can honour (1 << attr); 0: all */
	int set_lie;		/* >= 0: SET answers this attribute whatever was asked */
	int64_t get_size_delta;	/* GET reports the size off by this much */
	int foreign_fd;		/* a "DMABUF of another device": ENODEV */
	unsigned int export_calls, attr_calls, revoke_calls;
	uint32_t last_argsz, last_flags;	/* of the last DMABUF feature call */
	uint32_t export_argsz;			/* of the last export */
	struct {		/* the fixed part of the last export's argument */
		uint32_t region_index, open_flags, flags, nr_ranges;
	} last_db;
	struct vfio_memattr_dma_range last_ranges[VFIO_MEMATTR_DMABUF_MAX_RANGES];
	struct vfio_device_feature_memattr_dmabuf_attr last_attr;
	struct fake_dmabuf {
		int fd;
		uint32_t attr, state;
		uint64_t size;
	} bufs[8];
	unsigned int nbufs;
};
extern struct fake_state fk;

/*
 * A fake /dev/vfio for vfio_memattr_open() (group API): a directory of
 * regular files (vfio, N, noiommu-N) that vfio_memattr__dev_vfio points
 * at; ioctls on fds of its files are answered here as VFIO's container and
 * group would (GET_DEVICE_FD gives a dup of the fake device's memfd).
 */
struct fake_vfio {
	char dir[64];		/* "" when not set up */
	int type1;		/* the container offers VFIO_TYPE1v2_IOMMU */
	int noiommu;		/* ... VFIO_NOIOMMU_IOMMU (enable_unsafe_noiommu_mode=Y) */
	int set_iommu_type;	/* the type of the last VFIO_SET_IOMMU, -1: none */
	unsigned int set_iommu_calls, set_container_calls, dma_calls, get_fd_calls;
	char last_group[32];	/* node name of the group of the last SET_CONTAINER */
};
extern struct fake_vfio fv;

/*
 * Fake sysfs (under @sroot) and /dev/vfio (fv.dir) for device @bdf in
 * IOMMU group @grp: @noiommu: the group's sysfs name is "vfio-noiommu"
 * (@name_file: written at all) and its node is noiommu-@grp, else @grp.
 * The first call makes both trees and points the library at them.
 */
int fake_vfio_setup(const char *bdf, unsigned int grp, int noiommu, int name_file);
void fake_vfio_teardown(void);
/* The fake device's memfd (fk) for vfio_memattr_open(), not adopted. */
int fake_device_init(int uapi);

/* A fake device (@uapi: answering the memattr uAPI), adopted. */
struct vfio_memattr_dev *fake_open(int uapi);
void fake_close(struct vfio_memattr_dev *dev);
/* The fake DMABUF of @fd, NULL if none. */
struct fake_dmabuf *fake_dmabuf_of(int fd);
/* Write a word through the mapping and read it back from the file. */
int hits_file_at(struct vfio_memattr_mapping *m, uint64_t off_in_map, uint64_t file_off);

static const enum vfio_memattr P_WC[] = { VFIO_MEMATTR_WC };
static const enum vfio_memattr P_WC_NC[] = { VFIO_MEMATTR_WC, VFIO_MEMATTR_NC };
static const enum vfio_memattr P_DEV_NC[] = { VFIO_MEMATTR_DEV, VFIO_MEMATTR_NC };
static const enum vfio_memattr P_NC[] = { VFIO_MEMATTR_NC };

#endif
