// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * map.c - mapping BAR ranges: memattr handles, plain VFIO mmap, unmap
 *
 * See vfio-memattr.h and vfio_memattr(3).
 */
#define _GNU_SOURCE
#define _FILE_OFFSET_BITS 64
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/vfio.h>

#include "vfio-memattr.h"
#include "vfio-memattr-private.h"

static void list_add(struct vfio_memattr_dev *dev, struct vfio_memattr_mapping *m)
{
	m->prev = NULL;
	m->next = dev->maps;
	if (dev->maps)
		dev->maps->prev = m;
	dev->maps = m;
}

static void list_del(struct vfio_memattr_dev *dev, struct vfio_memattr_mapping *m)
{
	if (m->prev)
		m->prev->next = m->next;
	else
		dev->maps = m->next;
	if (m->next)
		m->next->prev = m->prev;
	m->prev = m->next = NULL;
}

static int release_handle(struct vfio_memattr_dev *dev, uint32_t handle)
{
	struct vfio_device_feature_memattr_unmap u = { .handle = handle };

	/* A forked child shares the device fd: releasing would revoke the
	 * parent's mappings of the handle. */
	if (getpid() != dev->owner) {
		log_dbg(dev, "%s: handle %u not released by forked child %d", dev->bdf, handle,
			(int)getpid());
		return 0;
	}

	return vfio_memattr__feature(dev->device_fd, VFIO_DEVICE_FEATURE_SET,
				     VFIO_DEVICE_FEATURE_MEMATTR_UNMAP, &u, sizeof(u));
}

static bool handle_in_use(struct vfio_memattr_dev *dev, uint32_t handle)
{
	struct vfio_memattr_mapping *m;

	for (m = dev->maps; m; m = m->next)
		if (m->source == VFIO_MEMATTR_SRC_MEMATTR && !m->imported && m->handle == handle)
			return true;	/* imported mappings do not hold a handle */
	return false;
}

/*
 * Read the memattr capability of a handle's region, if the driver gives
 * one: returns the attribute (>= 0), or a negative errno.  Only
 * map_memattr()'s cross-check of MAP's answer uses it.
 */
static int handle_cap_attr(struct vfio_memattr_dev *dev, uint32_t handle)
{
	struct vfio_region_info *ri;
	struct vfio_info_cap_header *h;
	uint32_t argsz = 256, off;
	int ret, tries;

	for (tries = 0; tries < 2; tries++) {
		ri = calloc(1, argsz);
		if (!ri)
			return -ENOMEM;
		ri->argsz = argsz;
		ri->index = handle;
		ret = vfio_memattr__xioctl(dev->device_fd, VFIO_DEVICE_GET_REGION_INFO, ri);
		if (ret < 0) {
			free(ri);
			return ret;
		}
		if (ri->argsz <= argsz)
			break;
		argsz = ri->argsz;
		free(ri);
		ri = NULL;
	}
	if (!ri)
		return -EIO;
	ret = -ENOENT;
	if (ri->flags & VFIO_REGION_INFO_FLAG_CAPS) {
		for (off = ri->cap_offset; off && off + sizeof(*h) <= argsz;
		     off = h->next) {
			h = (struct vfio_info_cap_header *)((char *)ri + off);
			if (h->id == VFIO_REGION_INFO_CAP_MEMATTR &&
			    off + sizeof(struct vfio_region_info_cap_memattr) <= argsz) {
				ret = (int)((struct vfio_region_info_cap_memattr *)h)->attr;
				break;
			}
			if (h->next <= off)
				break;
		}
	}
	free(ri);
	return ret;
}

static int map_memattr(struct vfio_memattr_dev *dev, struct vfio_memattr_mapping *m,
		       const enum vfio_memattr *prefs, unsigned int nr_prefs)
{
	struct vfio_device_feature_memattr_map mp;
	unsigned int i;
	void *addr;
	int ret, cap;

	memset(&mp, 0, sizeof(mp));
	mp.index = m->bar;
	mp.offset = m->offset;
	mp.length = m->length;
	mp.nr_prefs = nr_prefs;
	for (i = 0; i < nr_prefs; i++)
		mp.prefs[i] = (uint8_t)prefs[i];
	ret = vfio_memattr__feature(dev->device_fd, VFIO_DEVICE_FEATURE_SET,
				    VFIO_DEVICE_FEATURE_MEMATTR_MAP, &mp, sizeof(mp));
	if (ret < 0) {
		log_dbg(dev, "%s: BAR%u 0x%llx+0x%llx: MEMATTR_MAP: %s", dev->bdf, m->bar,
			(unsigned long long)m->offset, (unsigned long long)m->length,
			strerror(-ret));
		return ret;
	}
	if (mp.attr >= VFIO_MEMATTR_NUM_ATTRS) {
		log_err(dev, "%s: kernel reported unknown attribute %u", dev->bdf, mp.attr);
		if (!handle_in_use(dev, mp.handle))
			release_handle(dev, mp.handle);
		return -EPROTO;
	}
	/*
	 * The attribute in force is MAP's answer, mp.attr, used as is below:
	 * this region-info trip does not ask for it again, it can only veto
	 * it.  When the handle's VFIO_REGION_INFO_CAP_MEMATTR names another
	 * attribute the kernel contradicts itself, and the mapping is refused
	 * (-EPROTO, handle given back) rather than reported with an attribute
	 * it may not have.  Kept on purpose: vfio_memattr(3) and
	 * docs/library.md promise the check, and the host test "fake
	 * memattr: capability disagreeing with MAP is refused" checks it.  A
	 * region without the capability, or a failed trip, leaves MAP's
	 * answer standing.
	 */
	cap = handle_cap_attr(dev, mp.handle);
	if (cap >= 0 && (uint32_t)cap != mp.attr) {
		log_err(dev, "%s: handle %u: MAP said %s, region capability says %s",
			dev->bdf, mp.handle, vfio_memattr_attr_name(mp.attr),
			vfio_memattr_attr_name((enum vfio_memattr)cap));
		if (!handle_in_use(dev, mp.handle))
			release_handle(dev, mp.handle);
		return -EPROTO;
	}
	addr = vfio_memattr__map_range(m, dev->device_fd, (off_t)mp.mmap_offset);
	if (addr == MAP_FAILED) {
		ret = -errno;
		log_err(dev, "%s: mmap of handle %u at 0x%llx: %s", dev->bdf, mp.handle,
			(unsigned long long)mp.mmap_offset, strerror(-ret));
		if (!handle_in_use(dev, mp.handle))
			release_handle(dev, mp.handle);
		return ret;
	}
	m->addr = addr;
	m->attr = (enum vfio_memattr)mp.attr;
	m->handle = mp.handle;
	m->source = VFIO_MEMATTR_SRC_MEMATTR;
	return 0;
}

static int map_vfio(struct vfio_memattr_dev *dev, struct vfio_memattr_mapping *m)
{
	struct vfio_region_info ri;
	void *addr;
	int ret;

	ret = vfio_memattr__region_info(dev, m->bar, &ri);
	if (ret < 0)
		return ret;
	if (!ri.size || !(ri.flags & VFIO_REGION_INFO_FLAG_MMAP)) {
		log_err(dev, "%s: BAR%u cannot be mmapped through VFIO", dev->bdf, m->bar);
		return -EOPNOTSUPP;
	}
	if (m->offset > ri.size || m->length > ri.size - m->offset)
		return -EINVAL;
	addr = vfio_memattr__map_range(m, dev->device_fd, (off_t)(ri.offset + m->offset));
	if (addr == MAP_FAILED) {
		ret = -errno;
		log_err(dev, "%s: mmap of BAR%u: %s", dev->bdf, m->bar, strerror(-ret));
		return ret;
	}
	m->addr = addr;
	m->attr = VFIO_MEMATTR_NC;
	m->source = VFIO_MEMATTR_SRC_VFIO_MMAP;
	m->handle = 0;
	return 0;
}


static int map_common(struct vfio_memattr_dev *dev, unsigned int bar, uint64_t offset,
		      uint64_t length, const enum vfio_memattr *prefs, unsigned int nr_prefs,
		      unsigned int flags, void *addr, struct vfio_memattr_mapping **out)
{
	struct vfio_memattr_mapping *m;
	uint64_t ps = vfio_memattr__page_size();
	unsigned int i;
	int ret, first_err = 0;

	if (out)
		*out = NULL;
	if (!dev || !out || !prefs || !nr_prefs || nr_prefs > VFIO_MEMATTR_MAX_PREFS ||
	    (flags & ~VFIO_MEMATTR_MAP_ALLOW_SYSFS) || bar > VFIO_PCI_BAR5_REGION_INDEX ||
	    !length || (offset & (ps - 1)) || (length & (ps - 1)) ||
	    offset + length < offset || length > SIZE_MAX || ((uintptr_t)addr & (ps - 1)))
		return -EINVAL;
	for (i = 0; i < nr_prefs; i++)
		if ((unsigned int)prefs[i] >= VFIO_MEMATTR_NUM_ATTRS)
			return -EINVAL;

	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->dev = dev;
	m->bar = bar;
	m->offset = offset;
	m->length = length;
	m->fixed = addr;

	vfio_memattr__dev_lock(dev);
	if (getpid() != dev->owner) {
		log_err(dev, "%s: vfio_memattr_map() in a forked child: open the device again",
			dev->bdf);
		ret = -ECHILD;
		goto out;
	}
	ret = vfio_memattr__probe_kernel(dev);
	if (ret < 0)
		goto out;
	if (ret == 1) {
		ret = map_memattr(dev, m, prefs, nr_prefs);
		goto out;
	}
	/* The driver does not answer the uAPI: try each preference in order
	 * with what can honestly provide it. */
	ret = -EOPNOTSUPP;
	for (i = 0; i < nr_prefs; i++) {
		if (prefs[i] == VFIO_MEMATTR_NC)
			ret = map_vfio(dev, m);
		else if (prefs[i] == VFIO_MEMATTR_WC && (flags & VFIO_MEMATTR_MAP_ALLOW_SYSFS))
			ret = vfio_memattr__map_sysfs_wc(dev, m);
		else
			continue;	/* nothing can provide it: EOPNOTSUPP */
		if (ret == 0)
			break;
		if (!first_err)
			first_err = ret;
	}
	/* the error of the first mechanism that was tried, else EOPNOTSUPP */
	if (ret < 0)
		ret = first_err ? first_err : -EOPNOTSUPP;
out:
	if (ret == 0) {
		list_add(dev, m);
		*out = m;
		log_dbg(dev, "%s: BAR%u 0x%llx+0x%llx mapped %s (%s) at %p", dev->bdf, bar,
			(unsigned long long)offset, (unsigned long long)length,
			vfio_memattr_attr_name(m->attr), vfio_memattr_source_name(m->source),
			m->addr);
	} else {
		free(m);
	}
	vfio_memattr__dev_unlock(dev);
	return ret;
}

EXPORT int vfio_memattr_map(struct vfio_memattr_dev *dev, unsigned int bar,
			    uint64_t offset, uint64_t length,
			    const enum vfio_memattr *prefs, unsigned int nr_prefs,
			    unsigned int flags, struct vfio_memattr_mapping **out)
{
	return map_common(dev, bar, offset, length, prefs, nr_prefs, flags, NULL, out);
}

EXPORT int vfio_memattr_map_at(struct vfio_memattr_dev *dev, unsigned int bar,
			       uint64_t offset, uint64_t length,
			       const enum vfio_memattr *prefs, unsigned int nr_prefs,
			       unsigned int flags, void *addr, struct vfio_memattr_mapping **out)
{
	if (!addr) {
		if (out)
			*out = NULL;
		return -EINVAL;
	}
	return map_common(dev, bar, offset, length, prefs, nr_prefs, flags, addr, out);
}

EXPORT int vfio_memattr_map_handle(struct vfio_memattr_dev *dev, uint32_t handle, void *addr,
				   struct vfio_memattr_mapping **out)
{
	struct vfio_device_feature_memattr_handle h = { .handle = handle };
	struct vfio_memattr_mapping *m;
	uint64_t ps = vfio_memattr__page_size();
	int ret;

	if (out)
		*out = NULL;
	if (!dev || !out || handle < VFIO_MEMATTR_HANDLE_INDEX_BASE || ((uintptr_t)addr & (ps - 1)))
		return -EINVAL;
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	vfio_memattr__dev_lock(dev);
	ret = vfio_memattr__feature(dev->device_fd, VFIO_DEVICE_FEATURE_GET,
				    VFIO_DEVICE_FEATURE_MEMATTR_HANDLE, &h, sizeof(h));
	if (ret == 0 && (h.attr >= VFIO_MEMATTR_NUM_ATTRS || !h.length || h.length > SIZE_MAX)) {
		log_err(dev, "%s: handle %u: attribute %u, length %llu: refusing", dev->bdf, handle,
			h.attr, (unsigned long long)h.length);
		ret = -EPROTO;
	}
	if (ret == 0) {
		m->dev = dev;
		m->bar = h.index;
		m->offset = h.offset;
		m->length = h.length;
		m->fixed = addr;
		m->attr = (enum vfio_memattr)h.attr;
		m->handle = handle;
		m->source = VFIO_MEMATTR_SRC_MEMATTR;
		m->imported = true;
		m->addr = vfio_memattr__map_range(m, dev->device_fd, (off_t)h.mmap_offset);
		if (m->addr == MAP_FAILED) {
			ret = -errno;
			log_err(dev, "%s: mmap of handle %u: %s", dev->bdf, handle, strerror(-ret));
		}
	} else if (ret != -EPROTO) {
		log_dbg(dev, "%s: MEMATTR_HANDLE %u: %s", dev->bdf, handle, strerror(-ret));
	}
	if (ret == 0) {
		list_add(dev, m);
		*out = m;
	} else {
		free(m);
	}
	vfio_memattr__dev_unlock(dev);
	return ret;
}

static int unmap_locked(struct vfio_memattr_dev *dev, struct vfio_memattr_mapping *m)
{
	int ret = 0, r;

	list_del(dev, m);
	if (vfio_memattr__unmap_range(m, m->addr) < 0)
		ret = -errno;
	if (m->source == VFIO_MEMATTR_SRC_MEMATTR && !m->imported &&
	    !handle_in_use(dev, m->handle)) {
		r = release_handle(dev, m->handle);
		/* ENOENT: already released (e.g. the fd was reset). */
		if (r < 0 && r != -ENOENT && !ret)
			ret = r;
	}
	free(m);
	return ret;
}

EXPORT int vfio_memattr_unmap(struct vfio_memattr_mapping *m)
{
	struct vfio_memattr_dev *dev;
	int ret;

	if (!m)
		return -EINVAL;
	dev = m->dev;
	vfio_memattr__dev_lock(dev);
	ret = unmap_locked(dev, m);
	vfio_memattr__dev_unlock(dev);
	return ret;
}

EXPORT void vfio_memattr_close(struct vfio_memattr_dev *dev)
{
	if (!dev)
		return;
	vfio_memattr__dev_lock(dev);
	while (dev->maps)
		unmap_locked(dev, dev->maps);
	vfio_memattr__dev_unlock(dev);
	vfio_memattr__dev_free_fds(dev);
	pthread_mutex_destroy(&dev->lock);
	free(dev);
}

EXPORT void *vfio_memattr_mapping_addr(const struct vfio_memattr_mapping *m)
{
	return m ? m->addr : NULL;
}

EXPORT uint64_t vfio_memattr_mapping_length(const struct vfio_memattr_mapping *m)
{
	return m ? m->length : 0;
}

EXPORT enum vfio_memattr vfio_memattr_mapping_attr(const struct vfio_memattr_mapping *m)
{
	return m ? m->attr : VFIO_MEMATTR_NC;
}

EXPORT enum vfio_memattr_source vfio_memattr_mapping_source(const struct vfio_memattr_mapping *m)
{
	return m ? m->source : (enum vfio_memattr_source)0;
}

EXPORT uint32_t vfio_memattr_mapping_handle(const struct vfio_memattr_mapping *m)
{
	return m ? m->handle : 0;
}

EXPORT unsigned int vfio_memattr_mapping_bar(const struct vfio_memattr_mapping *m)
{
	return m ? m->bar : 0;
}

EXPORT uint64_t vfio_memattr_mapping_offset(const struct vfio_memattr_mapping *m)
{
	return m ? m->offset : 0;
}

