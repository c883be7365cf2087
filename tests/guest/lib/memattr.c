// SPDX-License-Identifier: GPL-2.0-only OR MIT
/* memattr.c - the vfio-pci-memattr device features, raw, see memattr.h. */
#define _GNU_SOURCE
#define _FILE_OFFSET_BITS 64
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "memattr.h"
#include "sysfs.h"

int ma_feat_raw(int fd, uint32_t flags, const void *in, void *out, size_t len, uint32_t argsz_override)
{
	uint64_t buf[64];
	struct vfio_device_feature *f = (void *)buf;

	if (sizeof(*f) + len > sizeof(buf))
		return -E2BIG;
	memset(buf, 0, sizeof(buf));
	f->argsz = argsz_override ? argsz_override : (uint32_t)(sizeof(*f) + len);
	f->flags = flags;
	if (in && len)
		memcpy(f->data, in, len);
	if (ioctl(fd, VFIO_DEVICE_FEATURE, f) < 0)
		return -errno;
	if (out && len)
		memcpy(out, f->data, len);
	return 0;
}

int ma_feat(int fd, uint32_t flags, void *payload, size_t len)
{
	return ma_feat_raw(fd, flags, payload, payload, len, 0);
}

int ma_dmabuf_export(int fd, uint32_t index, uint32_t open_flags,
		     const struct vfio_memattr_dma_range *r, uint32_t n)
{
	uint64_t buf[(sizeof(struct vfio_device_feature) +
		      sizeof(struct vfio_device_feature_memattr_dmabuf) +
		      VFIO_MEMATTR_DMABUF_MAX_RANGES * sizeof(*r)) / 8 + 1];
	struct vfio_device_feature *f = (void *)buf;
	struct vfio_device_feature_memattr_dmabuf *x = (void *)f->data;
	int rc;

	if (n > VFIO_MEMATTR_DMABUF_MAX_RANGES)
		return -E2BIG;
	memset(buf, 0, sizeof(buf));
	f->argsz = (uint32_t)(sizeof(*f) + sizeof(*x) + n * sizeof(*r));
	f->flags = VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_MEMATTR_DMABUF;
	x->region_index = index;
	x->open_flags = open_flags;
	x->nr_ranges = n;
	memcpy(x->dma_ranges, r, n * sizeof(*r));
	rc = ioctl(fd, VFIO_DEVICE_FEATURE, f);
	return rc < 0 ? -errno : rc;
}

int ma_dmabuf_attr(int fd, int dfd, const uint8_t *prefs, uint32_t nr,
		   struct vfio_device_feature_memattr_dmabuf_attr *out)
{
	struct vfio_device_feature_memattr_dmabuf_attr a;
	int rc;

	memset(&a, 0, sizeof(a));
	a.dmabuf_fd = dfd;
	a.nr_prefs = nr;
	if (nr)
		memcpy(a.prefs, prefs, nr < VFIO_MEMATTR_MAX_PREFS ? nr : VFIO_MEMATTR_MAX_PREFS);
	rc = ma_feat(fd, (nr ? VFIO_DEVICE_FEATURE_SET : VFIO_DEVICE_FEATURE_GET) |
		     VFIO_DEVICE_FEATURE_MEMATTR_DMABUF_ATTR, &a, sizeof(a));
	if (out)
		*out = a;
	return rc;
}

int ma_dmabuf_revoke(int fd, int dfd)
{
	struct vfio_device_feature_memattr_dmabuf_revoke r = { .dmabuf_fd = dfd };

	return ma_feat(fd, VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_MEMATTR_DMABUF_REVOKE,
		       &r, sizeof(r));
}

int ma_nvme_cmb_bar(int fd, const char *bdf, uint64_t *phys)
{
	int i;

	for (i = 2; i <= 4; i += 2) {
		struct vfio_device_feature_memattr_bar_info bi;
		uint64_t sz;

		if (!ma_bar_info(fd, (uint32_t)i, &bi) && bi.size >= 16 * MA_MIB &&
		    (bi.bar_flags & VFIO_MEMATTR_BAR_PREFETCH) &&
		    !ma_bar_phys(bdf, (unsigned int)i, phys, &sz))
			return i;
	}
	return -1;
}

int ma_bar_info(int fd, uint32_t index, struct vfio_device_feature_memattr_bar_info *out)
{
	memset(out, 0, sizeof(*out));
	out->index = index;
	return ma_feat(fd, VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_MEMATTR_BAR_INFO,
		    out, sizeof(*out));
}

int ma_map(int fd, uint32_t index, uint64_t off, uint64_t len, const uint8_t *prefs,
	   unsigned int nr, struct vfio_device_feature_memattr_map *out)
{
	struct vfio_device_feature_memattr_map m;
	int rc;

	memset(&m, 0, sizeof(m));
	m.index = index;
	m.offset = off;
	m.length = len;
	m.nr_prefs = nr;
	memcpy(m.prefs, prefs, nr < VFIO_MEMATTR_MAX_PREFS ? nr : VFIO_MEMATTR_MAX_PREFS);
	rc = ma_feat(fd, VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_MEMATTR_MAP, &m, sizeof(m));
	if (out)
		*out = m;
	return rc;
}

int ma_map1(int fd, uint32_t index, uint64_t off, uint64_t len, uint8_t attr,
	    struct vfio_device_feature_memattr_map *out)
{
	return ma_map(fd, index, off, len, &attr, 1, out);
}

struct vfio_device_feature *ma_map_arg_ro(uint32_t index, uint64_t off, uint64_t len, uint8_t attr)
{
	struct {
		struct vfio_device_feature hdr;
		struct vfio_device_feature_memattr_map m;
	} *a;

	a = mmap(NULL, MA_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (a == MAP_FAILED)
		return NULL;
	memset(a, 0, sizeof(*a));
	a->hdr.argsz = sizeof(*a);
	a->hdr.flags = VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_MEMATTR_MAP;
	a->m.index = index;
	a->m.offset = off;
	a->m.length = len;
	a->m.nr_prefs = 1;
	a->m.prefs[0] = attr;
	if (mprotect(a, MA_PAGE, PROT_READ)) {
		munmap(a, MA_PAGE);
		return NULL;
	}
	return &a->hdr;
}

int ma_handle(int fd, uint32_t handle, struct vfio_device_feature_memattr_handle *out)
{
	memset(out, 0, sizeof(*out));
	out->handle = handle;
	return ma_feat(fd, VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_MEMATTR_HANDLE,
		    out, sizeof(*out));
}

int ma_unmap(int fd, uint32_t handle)
{
	struct vfio_device_feature_memattr_unmap u = { .handle = handle };

	return ma_feat(fd, VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_MEMATTR_UNMAP, &u, sizeof(u));
}

int ma_nr_handles(int fd, uint32_t index)
{
	struct vfio_device_feature_memattr_bar_info bi;
	int rc = ma_bar_info(fd, index, &bi);

	return rc ? rc : (int)bi.nr_handles;
}

int ma_driver_present(int fd)
{
	return ma_feat_raw(fd, VFIO_DEVICE_FEATURE_PROBE | VFIO_DEVICE_FEATURE_GET |
			VFIO_DEVICE_FEATURE_MEMATTR_BAR_INFO, NULL, NULL, 0, 0) == 0;
}

const char *attr_name(unsigned int a)
{
	switch (a) {
	case VFIO_MEMATTR_NC: return "NC";
	case VFIO_MEMATTR_WC: return "WC";
	case VFIO_MEMATTR_DEV: return "DEV";
	}
	return "?";
}

const char *attr_pat_type(unsigned int a)
{
	return a == VFIO_MEMATTR_WC ? "write-combining" : "uncached-minus";
}
