// SPDX-License-Identifier: LGPL-2.1-or-later
/* fake.c - the fake VFIO device of the host tests: see fake.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/vfio.h>

#include "vfio-memattr.h"
#include "../../lib/vfio-memattr-private.h"
#include "test.h"
#include "fake.h"


int __real_ioctl(int fd, unsigned long req, ...);
int __wrap_ioctl(int fd, unsigned long req, ...);

struct fake_state fk = { .fd = -1 };
struct fake_vfio fv = { .set_iommu_type = -1 };
static char fv_sroot[64];

static int fake_region_info(struct vfio_region_info *ri)
{
	uint32_t argsz = ri->argsz, idx = ri->index;

	if (argsz < sizeof(*ri))
		return -EINVAL;
	memset(&ri->flags, 0, sizeof(*ri) - 2 * sizeof(uint32_t));
	ri->argsz = sizeof(*ri);
	switch (idx) {
	case VFIO_PCI_CONFIG_REGION_INDEX:
		ri->offset = CFG_OFF;
		ri->size = 256;
		ri->flags = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE;
		return 0;
	case VFIO_PCI_BAR0_REGION_INDEX: case VFIO_PCI_BAR2_REGION_INDEX:
		/* two mmap-able BARs, 0 and 2 */
		ri->offset = idx == VFIO_PCI_BAR0_REGION_INDEX ? BAR0_OFF : BAR2_OFF;
		ri->size = idx == VFIO_PCI_BAR0_REGION_INDEX ? BAR0_SIZE : BAR2_SIZE;
		ri->flags = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE |
			    VFIO_REGION_INFO_FLAG_MMAP;
		return 0;
	case VFIO_PCI_BAR1_REGION_INDEX: case VFIO_PCI_BAR3_REGION_INDEX:
	case VFIO_PCI_BAR4_REGION_INDEX: case VFIO_PCI_BAR5_REGION_INDEX:
	case VFIO_PCI_ROM_REGION_INDEX: case VFIO_PCI_VGA_REGION_INDEX:
		return 0;
	}
	if (fk.uapi && idx >= VFIO_MEMATTR_HANDLE_INDEX_BASE && idx < fk.next_handle) {
		struct vfio_region_info_cap_memattr *cap;
		unsigned int i;

		for (i = 0; i < fk.nreleased; i++)
			if (fk.released[i] == idx)
				return -EINVAL;
		ri->offset = HANDLE_OFF + (idx - VFIO_MEMATTR_HANDLE_INDEX_BASE) * MiB;
		ri->size = fk.handle_len;
		ri->flags = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE |
			    VFIO_REGION_INFO_FLAG_MMAP;
		if (fk.cap_attr < 0)
			return 0;
		ri->flags |= VFIO_REGION_INFO_FLAG_CAPS;
		ri->argsz = sizeof(*ri) + sizeof(*cap);
		if (argsz < ri->argsz)
			return 0;
		ri->cap_offset = sizeof(*ri);
		cap = (void *)(ri + 1);
		memset(cap, 0, sizeof(*cap));
		cap->header.id = VFIO_REGION_INFO_CAP_MEMATTR;
		cap->header.version = 1;
		cap->attr = (uint32_t)fk.cap_attr;
		cap->index = 2;
		return 0;
	}
	return -EINVAL;
}

struct fake_dmabuf *fake_dmabuf_of(int fd)
{
	unsigned int i;

	for (i = fk.nbufs; i-- > 0;)	/* the newest: fd numbers are reused */
		if (fk.bufs[i].fd == fd)
			return &fk.bufs[i];
	return NULL;
}

/* MEMATTR_DMABUF (GET): the new fd is a memfd of the DMABUF's size, so that
 * it can be mmapped; the checks are the uAPI's. */
static int fake_dmabuf_export(struct vfio_device_feature *f)
{
	struct vfio_device_feature_memattr_dmabuf *db = (void *)f->data;
	uint64_t total = 0;
	unsigned int i;
	int fd;

	if (f->argsz < sizeof(*f) + sizeof(*db))
		return -EINVAL;
	if (f->flags & VFIO_DEVICE_FEATURE_PROBE)
		return (f->flags & VFIO_DEVICE_FEATURE_GET) ? 0 : -EINVAL;
	fk.export_calls++;
	fk.last_argsz = fk.export_argsz = f->argsz;
	fk.last_flags = f->flags;
	fk.last_db.region_index = db->region_index;
	fk.last_db.open_flags = db->open_flags;
	fk.last_db.flags = db->flags;
	fk.last_db.nr_ranges = db->nr_ranges;
	if (!(f->flags & VFIO_DEVICE_FEATURE_GET) || (f->flags & VFIO_DEVICE_FEATURE_SET) ||
	    db->flags || !db->nr_ranges || db->nr_ranges > VFIO_MEMATTR_DMABUF_MAX_RANGES ||
	    f->argsz < sizeof(*f) + sizeof(*db) + db->nr_ranges * sizeof(db->dma_ranges[0]) ||
	    db->region_index > 5 || (db->open_flags & ~(unsigned int)(O_CLOEXEC | O_ACCMODE)))
		return -EINVAL;
	memcpy(fk.last_ranges, db->dma_ranges, db->nr_ranges * sizeof(db->dma_ranges[0]));
	for (i = 0; i < db->nr_ranges; i++) {
		struct vfio_memattr_dma_range *r = &db->dma_ranges[i];

		if (!r->length || (r->offset | r->length) & 4095 ||
		    r->offset + r->length < r->offset || r->offset + r->length > BAR2_SIZE)
			return -EINVAL;
		total += r->length;
	}
	if (db->region_index != 2)
		return -EOPNOTSUPP;	/* the fake has one mappable BAR */
	if (fk.dmabuf_errno)
		return -fk.dmabuf_errno;
	if (fk.nbufs == 8)
		return -ENOSPC;
	fd = memfd_create("fake-dmabuf", (db->open_flags & O_CLOEXEC) ? MFD_CLOEXEC : 0);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)total) < 0) {
		close(fd);
		return -ENOMEM;
	}
	fk.bufs[fk.nbufs].fd = fd;
	fk.bufs[fk.nbufs].attr = VFIO_MEMATTR_NC;
	fk.bufs[fk.nbufs].state = 0;
	fk.bufs[fk.nbufs].size = total;
	fk.nbufs++;
	return fd;
}

static int fake_dmabuf_attr(struct vfio_device_feature *f)
{
	struct vfio_device_feature_memattr_dmabuf_attr *a = (void *)f->data;
	struct fake_dmabuf *b;
	unsigned int i;

	if (f->argsz < sizeof(*f) + sizeof(*a))
		return -EINVAL;
	if (f->flags & VFIO_DEVICE_FEATURE_PROBE)
		return 0;
	fk.attr_calls++;
	fk.last_argsz = f->argsz;
	fk.last_flags = f->flags;
	fk.last_attr = *a;
	if (a->flags || a->reserved)
		return -EINVAL;
	if (a->dmabuf_fd == fk.foreign_fd && fk.foreign_fd > 0)
		return -ENODEV;
	b = fake_dmabuf_of(a->dmabuf_fd);
	if (!b)
		return -EINVAL;
	if (f->flags & VFIO_DEVICE_FEATURE_GET) {
		if (a->nr_prefs)
			return -EINVAL;
		for (i = 0; i < VFIO_MEMATTR_MAX_PREFS; i++)
			if (a->prefs[i])
				return -EINVAL;
	} else {
		uint32_t mask = fk.set_mask ? fk.set_mask : 0x7;

		if (!a->nr_prefs || a->nr_prefs > VFIO_MEMATTR_MAX_PREFS)
			return -EINVAL;
		for (i = 0; i < VFIO_MEMATTR_MAX_PREFS; i++)
			if ((i < a->nr_prefs && a->prefs[i] > VFIO_MEMATTR_DEV) ||
			    (i >= a->nr_prefs && a->prefs[i]))
				return -EINVAL;
		if (b->state & VFIO_MEMATTR_DMABUF_REVOKED)
			return -ENODEV;
		if (fk.set_errno)
			return -fk.set_errno;
		for (i = 0; i < a->nr_prefs; i++)
			if (mask & (1u << a->prefs[i]))
				break;
		if (i == a->nr_prefs)
			return -EOPNOTSUPP;
		b->attr = fk.set_lie >= 0 ? (uint32_t)fk.set_lie : a->prefs[i];
	}
	a->attr = b->attr;
	a->state = b->state;
	a->size = b->size + (uint64_t)fk.get_size_delta;
	return 0;
}

static int fake_dmabuf_revoke(struct vfio_device_feature *f)
{
	struct vfio_device_feature_memattr_dmabuf_revoke *r = (void *)f->data;
	struct fake_dmabuf *b;

	if (f->argsz < sizeof(*f) + sizeof(*r))
		return -EINVAL;
	if (f->flags & VFIO_DEVICE_FEATURE_PROBE)
		return (f->flags & VFIO_DEVICE_FEATURE_SET) ? 0 : -EINVAL;
	fk.revoke_calls++;
	fk.last_argsz = f->argsz;
	fk.last_flags = f->flags;
	if (!(f->flags & VFIO_DEVICE_FEATURE_SET) || r->flags)
		return -EINVAL;
	if (r->dmabuf_fd == fk.foreign_fd && fk.foreign_fd > 0)
		return -ENODEV;
	b = fake_dmabuf_of(r->dmabuf_fd);
	if (!b)
		return -EINVAL;
	if (b->state & VFIO_MEMATTR_DMABUF_REVOKED)
		return -EBADFD;		/* as the driver since 2.2 */
	b->state = VFIO_MEMATTR_DMABUF_REVOKED;
	return 0;
}

static int fake_feature(struct vfio_device_feature *f)
{
	uint32_t feat = f->flags & VFIO_DEVICE_FEATURE_MASK;
	void *p = f->data;

	if (!fk.uapi)
		return -ENOTTY;		/* like vfio-pci: unknown feature */
	switch (feat) {
	case VFIO_DEVICE_FEATURE_MEMATTR_DMABUF:
		return fk.no_dmabuf ? -ENOTTY : fake_dmabuf_export(f);
	case VFIO_DEVICE_FEATURE_MEMATTR_DMABUF_ATTR:
		return fk.no_dmabuf ? -ENOTTY : fake_dmabuf_attr(f);
	case VFIO_DEVICE_FEATURE_MEMATTR_DMABUF_REVOKE:
		return fk.no_dmabuf ? -ENOTTY : fake_dmabuf_revoke(f);
	case VFIO_DEVICE_FEATURE_MEMATTR_MAP: {
		struct vfio_device_feature_memattr_map *m = p;

		if (f->argsz < sizeof(*f) + sizeof(*m))
			return -EINVAL;
		if (f->flags & VFIO_DEVICE_FEATURE_PROBE) {
			fk.probe_calls++;
			return (f->flags & VFIO_DEVICE_FEATURE_SET) ? 0 : -EINVAL;
		}
		if (!(f->flags & VFIO_DEVICE_FEATURE_SET) || m->flags || m->reserved)
			return -EINVAL;
		fk.map_calls++;
		fk.last = *m;
		if (fk.map_errno)
			return -fk.map_errno;
		m->attr = (uint32_t)fk.map_attr;
		m->handle = fk.same_handle ? VFIO_MEMATTR_HANDLE_INDEX_BASE : fk.next_handle++;
		if (fk.same_handle && fk.next_handle == VFIO_MEMATTR_HANDLE_INDEX_BASE)
			fk.next_handle++;
		m->mmap_offset = HANDLE_OFF + (m->handle - VFIO_MEMATTR_HANDLE_INDEX_BASE) * MiB;
		fk.handle_len = m->length;
		return 0;
	}
	case VFIO_DEVICE_FEATURE_MEMATTR_BAR_INFO: {
		struct vfio_device_feature_memattr_bar_info *b = p;

		if (f->flags & VFIO_DEVICE_FEATURE_PROBE)
			return 0;
		if (!(f->flags & VFIO_DEVICE_FEATURE_GET) || b->flags || b->reserved || b->index > 5)
			return -EINVAL;
		fk.get_calls++;
		b->size = b->index == 2 ? BAR2_SIZE : 0;
		b->bar_flags = b->index == 2 ? (VFIO_MEMATTR_BAR_PREFETCH | VFIO_MEMATTR_BAR_MEM64 |
						VFIO_MEMATTR_BAR_MMAP) : 0;
		b->supported = b->index == 2 ? 0x5 : 0;	/* NC, DEV: not WC */
		b->reason[VFIO_MEMATTR_WC] = VFIO_MEMATTR_NOT_ARCH;
		b->nr_handles = 3;
		return 0;
	}
	case VFIO_DEVICE_FEATURE_MEMATTR_HANDLE: {
		struct vfio_device_feature_memattr_handle *h = p;
		unsigned int i;

		if (f->flags & VFIO_DEVICE_FEATURE_PROBE)
			return 0;
		if (!(f->flags & VFIO_DEVICE_FEATURE_GET) || h->flags)
			return -EINVAL;
		if (h->handle < VFIO_MEMATTR_HANDLE_INDEX_BASE || h->handle >= fk.next_handle)
			return -ENOENT;
		for (i = 0; i < fk.nreleased; i++)
			if (fk.released[i] == h->handle)
				return -ENOENT;
		h->index = fk.last.index;
		h->attr = (uint32_t)fk.map_attr;
		h->offset = fk.last.offset;
		h->length = fk.handle_len;
		h->mmap_offset = HANDLE_OFF + (h->handle - VFIO_MEMATTR_HANDLE_INDEX_BASE) * MiB;
		return 0;
	}
	case VFIO_DEVICE_FEATURE_MEMATTR_UNMAP: {
		struct vfio_device_feature_memattr_unmap *u = p;

		if (f->flags & VFIO_DEVICE_FEATURE_PROBE)
			return 0;
		if (u->flags)
			return -EINVAL;
		if (fk.nreleased < 32)
			fk.released[fk.nreleased++] = u->handle;
		return 0;
	}
	}
	return -ENOTTY;
}

/* What fd is: 'c' (fake container), 'g' (fake group, name in @name), 'd' (a
 * dup of the fake device), 0 (none of them). */
static int fake_vfio_kind(int fd, char *name, size_t len)
{
	char p[64], t[512];
	size_t n = strlen(fv.dir);
	ssize_t r;

	snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
	r = readlink(p, t, sizeof(t) - 1);
	if (r < 0)
		return 0;
	t[r] = 0;
	if (!strncmp(t, "/memfd:fake-vfio-device", 23))
		return 'd';
	if (!n || strncmp(t, fv.dir, n) || t[n] != '/')
		return 0;
	snprintf(name, len, "%s", t + n + 1);
	return strcmp(name, "vfio") ? 'g' : 'c';
}

/* VFIO's container and group ioctls; -ENOSYS: not a fake fd */
static int fake_vfio_ioctl(int fd, unsigned long req, void *arg)
{
	char name[64] = "";
	int kind = fv.dir[0] ? fake_vfio_kind(fd, name, sizeof(name)) : 0;
	int noiommu_grp = !strncmp(fv.last_group, "noiommu-", 8);

	if (kind == 'd') {		/* the device through GET_DEVICE_FD */
		int saved = fk.fd, ret;

		fk.fd = fd;
		ret = __wrap_ioctl(fd, req, arg);
		fk.fd = saved;
		return ret < 0 ? -errno : ret;
	}
	if (kind == 'c') {
		switch (req) {
		case VFIO_GET_API_VERSION:
			return VFIO_API_VERSION;
		case VFIO_CHECK_EXTENSION:
			if ((long)arg == VFIO_TYPE1v2_IOMMU || (long)arg == VFIO_TYPE1_IOMMU)
				return fv.type1;
			if ((long)arg == VFIO_NOIOMMU_IOMMU)
				return fv.noiommu;
			return 0;
		case VFIO_SET_IOMMU:
			fv.set_iommu_calls++;
			fv.set_iommu_type = (int)(long)arg;
			if (!fv.set_container_calls)
				return -EINVAL;
			/* only the noiommu driver for a noiommu container, never for another */
			if (noiommu_grp != ((long)arg == VFIO_NOIOMMU_IOMMU))
				return -ENODEV;
			if ((long)arg == VFIO_NOIOMMU_IOMMU ? !fv.noiommu : !fv.type1)
				return -ENODEV;
			return 0;
		case VFIO_IOMMU_MAP_DMA: case VFIO_IOMMU_UNMAP_DMA:
			fv.dma_calls++;
			return noiommu_grp ? -ENOTTY : 0;	/* the noiommu driver has none */
		}
		return -ENOTTY;
	}
	if (kind == 'g') {
		switch (req) {
		case VFIO_GROUP_GET_STATUS: {
			struct vfio_group_status *st = arg;

			st->flags = VFIO_GROUP_FLAGS_VIABLE |
				    (fv.set_container_calls ? VFIO_GROUP_FLAGS_CONTAINER_SET : 0);
			return 0;
		}
		case VFIO_GROUP_SET_CONTAINER:
			fv.set_container_calls++;
			snprintf(fv.last_group, sizeof(fv.last_group), "%s", name);
			return 0;
		case VFIO_GROUP_GET_DEVICE_FD:
			fv.get_fd_calls++;
			if (fk.fd < 0)
				return -ENODEV;
			return fcntl(fk.fd, F_DUPFD_CLOEXEC, 0);
		}
		return -ENOTTY;
	}
	return -ENOSYS;
}

static void fv_put(const char *rel, const char *content)
{
	char p[512];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", fv_sroot, rel);
	f = fopen(p, "w");
	if (f) {
		fputs(content, f);
		fclose(f);
	}
}

static void fv_mkdirs(const char *rel)
{
	char p[512], *s;

	snprintf(p, sizeof(p), "%s/%s", fv_sroot, rel);
	for (s = p + strlen(fv_sroot) + 1; (s = strchr(s, '/')); s++) {
		*s = 0;
		mkdir(p, 0755);
		*s = '/';
	}
	mkdir(p, 0755);
}

int fake_vfio_setup(const char *bdf, unsigned int grp, int noiommu, int name_file)
{
	char rel[256], target[128], p[512];
	int fd;

	if (!fv.dir[0]) {
		snprintf(fv_sroot, sizeof(fv_sroot), "/tmp/vfio-memattr-fvsys-XXXXXX");
		snprintf(fv.dir, sizeof(fv.dir), "/tmp/vfio-memattr-fvdev-XXXXXX");
		if (!mkdtemp(fv_sroot) || !mkdtemp(fv.dir)) {
			fv.dir[0] = 0;
			return -1;
		}
		vfio_memattr__sysfs_root = fv_sroot;
		vfio_memattr__dev_vfio = fv.dir;
		snprintf(p, sizeof(p), "%s/vfio", fv.dir);
		fd = open(p, O_RDWR | O_CREAT, 0600);
		if (fd < 0)
			return -1;
		close(fd);
	}
	fv.type1 = fv.noiommu = 1;
	fv.set_iommu_type = -1;
	fv.set_iommu_calls = fv.set_container_calls = fv.dma_calls = fv.get_fd_calls = 0;
	fv.last_group[0] = 0;
	snprintf(rel, sizeof(rel), "bus/pci/devices/%s", bdf);
	fv_mkdirs(rel);
	snprintf(rel, sizeof(rel), "kernel/iommu_groups/%u", grp);
	fv_mkdirs(rel);
	snprintf(rel, sizeof(rel), "kernel/iommu_groups/%u/name", grp);
	if (noiommu && name_file)
		fv_put(rel, "vfio-noiommu\n");
	snprintf(p, sizeof(p), "%s/bus/pci/devices/%s/iommu_group", fv_sroot, bdf);
	snprintf(target, sizeof(target), "../../../../kernel/iommu_groups/%u", grp);
	unlink(p);
	if (symlink(target, p) < 0)
		return -1;
	snprintf(p, sizeof(p), "%s/%s%u", fv.dir, noiommu ? "noiommu-" : "", grp);
	fd = open(p, O_RDWR | O_CREAT, 0600);
	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

void fake_vfio_teardown(void)
{
	char cmd[256];

	if (!fv.dir[0])
		return;
	vfio_memattr__sysfs_root = NULL;
	vfio_memattr__dev_vfio = NULL;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s' '%s'", fv_sroot, fv.dir);
	if (system(cmd) != 0)
		printf("    cannot remove %s, %s\n", fv_sroot, fv.dir);
	fv.dir[0] = 0;
}

int __wrap_ioctl(int fd, unsigned long req, ...)
{
	va_list ap;
	void *arg;
	int ret;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (fd < 0)
		return __real_ioctl(fd, req, arg);
	if (fd != fk.fd) {
		ret = fake_vfio_ioctl(fd, req, arg);
		if (ret == -ENOSYS)
			return __real_ioctl(fd, req, arg);
		if (ret < 0) {
			errno = -ret;
			return -1;
		}
		return ret;
	}

	switch (req) {
	case VFIO_DEVICE_GET_INFO: {
		struct vfio_device_info *di = arg;

		di->flags = VFIO_DEVICE_FLAGS_PCI | VFIO_DEVICE_FLAGS_RESET;
		di->num_regions = VFIO_PCI_NUM_REGIONS;
		di->num_irqs = 0;
		ret = 0;
		break;
	}
	case VFIO_DEVICE_GET_REGION_INFO:
		ret = fake_region_info(arg);
		break;
	case VFIO_DEVICE_FEATURE:
		ret = fake_feature(arg);
		break;
	default:
		ret = -ENOTTY;
	}
	if (ret < 0) {
		errno = -ret;
		return -1;
	}
	return ret;
}

int fake_device_init(int uapi)
{
	uint32_t bar[6] = { 0xfebf0000, 0, 0xfd00000c, 0, 0, 0 };

	memset(&fk, 0, sizeof(fk));
	fk.fd = memfd_create("fake-vfio-device", MFD_CLOEXEC);
	fk.uapi = uapi;
	fk.cap_attr = -1;
	fk.next_handle = VFIO_MEMATTR_HANDLE_INDEX_BASE;
	fk.set_lie = -1;
	if (fk.fd < 0 || ftruncate(fk.fd, FILE_SIZE) < 0 ||
	    pwrite(fk.fd, bar, sizeof(bar), CFG_OFF + 0x10) != sizeof(bar))
		return -1;
	return 0;
}

struct vfio_memattr_dev *fake_open(int uapi)
{
	struct vfio_memattr_dev *dev = NULL;

	if (fake_device_init(uapi) < 0)
		return NULL;
	if (vfio_memattr_adopt(fk.fd, 0, &dev) < 0)
		return NULL;
	return dev;
}

void fake_close(struct vfio_memattr_dev *dev)
{
	vfio_memattr_close(dev);
	close(fk.fd);
	fk.fd = -1;
	fk.nbufs = 0;		/* DMABUF fds are the tests' to close, as the library's callers' */
}

/* Write a word through the mapping and read it back from the file. */
int hits_file_at(struct vfio_memattr_mapping *m, uint64_t off_in_map, uint64_t file_off)
{
	volatile uint64_t *p = (volatile uint64_t *)((char *)vfio_memattr_mapping_addr(m) + off_in_map);
	uint64_t v = 0x5a5a000000000000ull ^ file_off, r = 0;

	*p = v;
	if (pread(fk.fd, &r, sizeof(r), (off_t)file_off) != sizeof(r))
		return 0;
	return r == v;
}

