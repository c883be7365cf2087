/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Internal declarations of libvfio-memattr.  Not installed.  The symbols
 * are global in libvfio-memattr.a (so that the host tests can reach them;
 * all are named vfio_memattr__*) but not exported from the shared library
 * (see libvfio-memattr.map).
 */
#ifndef VFIO_MEMATTR_PRIVATE_H
#define VFIO_MEMATTR_PRIVATE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <linux/vfio.h>

#include "vfio-memattr.h"

/* Root of sysfs when set (host tests; else $VFIO_MEMATTR_SYSFS or /sys) and
 * path of the x86 PAT memtype list. */
extern const char *vfio_memattr__sysfs_root;
extern const char *vfio_memattr__pat_list;
/* Directory of the VFIO group nodes and the container when set (host
 * tests); else /dev/vfio.  Not read from the environment: a setuid program
 * using the library must not be pointed at other files. */
extern const char *vfio_memattr__dev_vfio;

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

#ifndef VFIO_NOIOMMU_IOMMU
#define VFIO_NOIOMMU_IOMMU	8	/* ABI (Linux 4.5) */
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
	bool noiommu;		/* opened in VFIO's unsafe no-IOMMU mode: no DMA mapping */
	char bdf[32];		/* "" when unknown */
	int kernel_support;	/* -1 not probed yet, 0, 1 */
	uint32_t num_regions;
	struct vfio_memattr_mapping *maps;
};


struct vfio_memattr_dev;
void vfio_memattr__log(const struct vfio_memattr_dev *dev, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
#define log_err(d, ...)	vfio_memattr__log(d, VFIO_MEMATTR_LOG_ERR, __VA_ARGS__)
#define log_warn(d, ...)	vfio_memattr__log(d, VFIO_MEMATTR_LOG_WARNING, __VA_ARGS__)
#define log_info(d, ...)	vfio_memattr__log(d, VFIO_MEMATTR_LOG_INFO, __VA_ARGS__)
#define log_dbg(d, ...)	vfio_memattr__log(d, VFIO_MEMATTR_LOG_DEBUG, __VA_ARGS__)

uint32_t vfio_memattr__decode_bar_reg(uint32_t reg);
int vfio_memattr__pat_check_wc(const char *list, uint64_t start, uint64_t end);

/* shared between the library's files, called by their real names */
void vfio_memattr__dev_lock(struct vfio_memattr_dev *dev);
void vfio_memattr__dev_unlock(struct vfio_memattr_dev *dev);
const char *vfio_memattr__sysfs_dir(void);
int vfio_memattr__xioctl(int fd, unsigned long req, void *arg);
int vfio_memattr__read_link_base(const char *path, char *out, size_t outsz);
uint64_t vfio_memattr__page_size(void);
int vfio_memattr__feature(int fd, uint32_t flags, uint32_t feat, void *payload, size_t len);
int vfio_memattr__probe_kernel(struct vfio_memattr_dev *dev);
int vfio_memattr__region_info(struct vfio_memattr_dev *dev, unsigned int index,
			      struct vfio_region_info *ri);
/* mapping.c: the mmap primitives map.c and sysfs-wc.c share (it calls
 * neither of them) */
void *vfio_memattr__map_range(struct vfio_memattr_mapping *m, int fd, off_t off);
int vfio_memattr__unmap_range(struct vfio_memattr_mapping *m, void *addr);
/* sysfs-wc.c: the resourceN_wc fallback, called by map.c only */
int vfio_memattr__map_sysfs_wc(struct vfio_memattr_dev *dev, struct vfio_memattr_mapping *m);
/* open.c, util.c */
void vfio_memattr__dev_free_fds(struct vfio_memattr_dev *dev);
const char *vfio_memattr__dev_vfio_dir(void);
/* 1 if the IOMMU group of @bdf is a VFIO no-IOMMU group (its sysfs name is
 * "vfio-noiommu"), 0 if not or if it has none. */
int vfio_memattr__group_is_noiommu(const char *bdf);

#endif
