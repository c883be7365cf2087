/* SPDX-License-Identifier: GPL-2.0-only OR MIT */
/*
 * memattr.h - the vfio-pci-memattr device features (include/uapi/linux/
 * vfio_memattr.h), raw, as the guest tests exercise them: BAR_INFO, MAP,
 * HANDLE, UNMAP, the DMABUF features.  int helpers return 0 (or a count) or -errno.
 */
#ifndef MEMATTR_TEST_MEMATTR_H
#define MEMATTR_TEST_MEMATTR_H

#include <stddef.h>
#include <stdint.h>
#include <linux/vfio.h>
#include <linux/vfio_memattr.h>

#define MA_PAGE		4096ull
#define MA_MIB		(1024ull * 1024ull)
/* attributes known to these tests (the uAPI enum may grow) */
#define MA_NR_ATTRS	(VFIO_MEMATTR_DEV + 1)

/* VFIO_DEVICE_FEATURE with payload; argsz = sizeof(hdr) + len unless argsz_override != 0. */
int ma_feat_raw(int fd, uint32_t flags, const void *in, void *out, size_t len, uint32_t argsz_override);
int ma_feat(int fd, uint32_t flags, void *payload, size_t len);	/* flags incl. feature number */

int ma_bar_info(int fd, uint32_t index, struct vfio_device_feature_memattr_bar_info *out);
int ma_map(int fd, uint32_t index, uint64_t off, uint64_t len, const uint8_t *prefs,
	   unsigned int nr, struct vfio_device_feature_memattr_map *out);
int ma_map1(int fd, uint32_t index, uint64_t off, uint64_t len, uint8_t attr,
	    struct vfio_device_feature_memattr_map *out);
/*
 * A page of its own holding the VFIO_DEVICE_FEATURE argument of a MAP of
 * (index, off, len, attr), made read-only: MAP reads it but cannot write
 * its answer (EFAULT).  munmap(p, MA_PAGE) when done; NULL on failure.
 */
struct vfio_device_feature *ma_map_arg_ro(uint32_t index, uint64_t off, uint64_t len, uint8_t attr);
int ma_handle(int fd, uint32_t handle, struct vfio_device_feature_memattr_handle *out);
int ma_unmap(int fd, uint32_t handle);
/* nr_handles of BAR index, or -errno. */
int ma_nr_handles(int fd, uint32_t index);
/* 1 if the device answers the memattr features (BAR_INFO PROBE). */
int ma_driver_present(int fd);

/*
 * DMABUFs (MEMATTR_DMABUF, _ATTR, _REVOKE): export of @n ranges
 * ({offset, length} pairs) of BAR @index, returns the fd or -errno; the
 * attribute GET (@nr 0) or SET (@prefs, @nr), answer in @out; revoke.
 */
int ma_dmabuf_export(int fd, uint32_t index, uint32_t open_flags,
		     const struct vfio_memattr_dma_range *r, uint32_t n);
int ma_dmabuf_attr(int fd, int dfd, const uint8_t *prefs, uint32_t nr,
		   struct vfio_device_feature_memattr_dmabuf_attr *out);
int ma_dmabuf_revoke(int fd, int dfd);

/* The NVMe CMB BAR (2 or 4, >= 16 MiB, prefetchable) of @bdf, its start in *phys; -1 if none. */
int ma_nvme_cmb_bar(int fd, const char *bdf, uint64_t *phys);

const char *attr_name(unsigned int a);
/* The PAT type string for an attribute (x86). */
const char *attr_pat_type(unsigned int a);

#endif /* MEMATTR_TEST_MEMATTR_H */
