// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * test_fake.c - the map fallback chain against a fake VFIO device.
 *
 * The test binary is linked with -Wl,--wrap=ioctl: every ioctl() of the
 * library on the fake fd (a memfd standing for the VFIO device file) is
 * answered here, like vfio-pci (no memattr uAPI) or vfio-pci-memattr
 * would; mmap() and pread/pwrite work on the memfd for real, so what is
 * written through a mapping can be checked at the file offset it must hit.
 */
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
#include "../common/procmaps.h"

#define MiB		(1ull << 20)
#define CFG_OFF		0
#define BAR0_OFF	(1 * MiB)
#define BAR0_SIZE	4096
#define BAR2_OFF	(2 * MiB)
#define BAR2_SIZE	(1 * MiB)
#define HANDLE_OFF	(8 * MiB)	/* mmap offset of handle 0x10000 */
#define FILE_SIZE	(16 * MiB)

int __real_ioctl(int fd, unsigned long req, ...);

static struct {
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
} fk = { .fd = -1 };

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
	case VFIO_PCI_BAR0_REGION_INDEX:
		ri->offset = BAR0_OFF;
		ri->size = BAR0_SIZE;
		ri->flags = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE |
			    VFIO_REGION_INFO_FLAG_MMAP;
		return 0;
	case VFIO_PCI_BAR2_REGION_INDEX:
		ri->offset = BAR2_OFF;
		ri->size = BAR2_SIZE;
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

static int fake_feature(struct vfio_device_feature *f)
{
	uint32_t feat = f->flags & VFIO_DEVICE_FEATURE_MASK;
	void *p = f->data;

	if (!fk.uapi)
		return -ENOTTY;		/* like vfio-pci: unknown feature */
	switch (feat) {
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

int __wrap_ioctl(int fd, unsigned long req, ...)
{
	va_list ap;
	void *arg;
	int ret;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (fd != fk.fd || fd < 0)
		return __real_ioctl(fd, req, arg);

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

static struct vfio_memattr_dev *fake_open(int uapi)
{
	struct vfio_memattr_dev *dev = NULL;
	uint32_t bar[6] = { 0xfebf0000, 0, 0xfd00000c, 0, 0, 0 };

	memset(&fk, 0, sizeof(fk));
	fk.fd = memfd_create("fake-vfio-device", MFD_CLOEXEC);
	fk.uapi = uapi;
	fk.cap_attr = -1;
	fk.next_handle = VFIO_MEMATTR_HANDLE_INDEX_BASE;
	if (fk.fd < 0 || ftruncate(fk.fd, FILE_SIZE) < 0 ||
	    pwrite(fk.fd, bar, sizeof(bar), CFG_OFF + 0x10) != sizeof(bar))
		return NULL;
	if (vfio_memattr_adopt(fk.fd, 0, &dev) < 0)
		return NULL;
	return dev;
}

static void fake_close(struct vfio_memattr_dev *dev)
{
	vfio_memattr_close(dev);
	close(fk.fd);
	fk.fd = -1;
}

/* Write a word through the mapping and read it back from the file. */
static int hits_file_at(struct vfio_memattr_mapping *m, uint64_t off_in_map, uint64_t file_off)
{
	volatile uint64_t *p = (volatile uint64_t *)((char *)vfio_memattr_mapping_addr(m) + off_in_map);
	uint64_t v = 0x5a5a000000000000ull ^ file_off, r = 0;

	*p = v;
	if (pread(fk.fd, &r, sizeof(r), (off_t)file_off) != sizeof(r))
		return 0;
	return r == v;
}

static const enum vfio_memattr P_WC[] = { VFIO_MEMATTR_WC };
static const enum vfio_memattr P_WC_NC[] = { VFIO_MEMATTR_WC, VFIO_MEMATTR_NC };
static const enum vfio_memattr P_DEV_NC[] = { VFIO_MEMATTR_DEV, VFIO_MEMATTR_NC };
static const enum vfio_memattr P_NC[] = { VFIO_MEMATTR_NC };

static void no_uapi_wc_refused(void)
{
	struct vfio_memattr_dev *dev = fake_open(0);
	struct vfio_memattr_mapping *m = (void *)1;

	REQUIRE(dev != NULL);
	CHECK_EQ(vfio_memattr_kernel_support(dev), 0);
	CHECK_EQ(vfio_memattr_map(dev, 2, 0, 65536, P_WC, 1, 0, &m), -EOPNOTSUPP);
	CHECK(m == NULL);
	/* DEV cannot be provided by a plain VFIO mmap either */
	CHECK_EQ(vfio_memattr_map(dev, 2, 0, 65536, (const enum vfio_memattr[]){ VFIO_MEMATTR_DEV },
				  1, 0, &m), -EOPNOTSUPP);
	fake_close(dev);
}

static void no_uapi_nc_fallback(void)
{
	struct vfio_memattr_dev *dev = fake_open(0);
	struct vfio_memattr_mapping *m = NULL, *m2 = NULL;

	REQUIRE(dev != NULL);
	CHECK_EQ(vfio_memattr_map(dev, 2, 0x10000, 0x10000, P_WC_NC, 2, 0, &m), 0);
	CHECK(m != NULL);
	if (!m)
		goto out;
	CHECK_EQ(vfio_memattr_mapping_attr(m), VFIO_MEMATTR_NC);	/* never WC */
	CHECK_EQ(vfio_memattr_mapping_source(m), VFIO_MEMATTR_SRC_VFIO_MMAP);
	CHECK_EQ(vfio_memattr_mapping_handle(m), 0);
	CHECK_EQ(vfio_memattr_mapping_length(m), 0x10000);
	CHECK_EQ(vfio_memattr_mapping_bar(m), 2);
	CHECK_EQ(vfio_memattr_mapping_offset(m), 0x10000);
	/* region offset + BAR offset: */
	CHECK(hits_file_at(m, 0x100, BAR2_OFF + 0x10000 + 0x100));
	CHECK(hits_file_at(m, 0xfff8, BAR2_OFF + 0x1fff8));
	CHECK_EQ(vfio_memattr_map(dev, 2, 0, 4096, P_DEV_NC, 2, 0, &m2), 0);
	CHECK_EQ(vfio_memattr_mapping_attr(m2), VFIO_MEMATTR_NC);
	CHECK_EQ(vfio_memattr_unmap(m), 0);
out:
	fake_close(dev);	/* unmaps m2 */
}

static void map_arg_checks(void)
{
	struct vfio_memattr_dev *dev = fake_open(0);
	struct vfio_memattr_mapping *m;
	const enum vfio_memattr nine[9] = { 0 };
	const enum vfio_memattr bad[] = { (enum vfio_memattr)3 };

	REQUIRE(dev != NULL);
	CHECK_EQ(vfio_memattr_map(dev, 2, 0x800, 4096, P_NC, 1, 0, &m), -EINVAL);
	CHECK_EQ(vfio_memattr_map(dev, 2, 0, 4095, P_NC, 1, 0, &m), -EINVAL);
	CHECK_EQ(vfio_memattr_map(dev, 2, 0, 0, P_NC, 1, 0, &m), -EINVAL);
	CHECK_EQ(vfio_memattr_map(dev, 2, BAR2_SIZE - 4096, 8192, P_NC, 1, 0, &m), -EINVAL);
	CHECK_EQ(vfio_memattr_map(dev, 2, BAR2_SIZE, 4096, P_NC, 1, 0, &m), -EINVAL);
	/* the mechanism that was tried reports its own error */
	CHECK_EQ(vfio_memattr_map(dev, 2, BAR2_SIZE, 4096, P_WC_NC, 2, 0, &m), -EINVAL);
	CHECK_EQ(vfio_memattr_map(dev, 2, 0xfffffffffffff000ull, 0x2000, P_NC, 1, 0, &m), -EINVAL);
	CHECK_EQ(vfio_memattr_map(dev, 2, 0, 4096, P_NC, 0, 0, &m), -EINVAL);
	CHECK_EQ(vfio_memattr_map(dev, 2, 0, 4096, nine, 9, 0, &m), -EINVAL);
	CHECK_EQ(vfio_memattr_map(dev, 2, 0, 4096, bad, 1, 0, &m), -EINVAL);
	CHECK_EQ(vfio_memattr_map(dev, 2, 0, 4096, NULL, 1, 0, &m), -EINVAL);
	CHECK_EQ(vfio_memattr_map(dev, 6, 0, 4096, P_NC, 1, 0, &m), -EINVAL);
	CHECK_EQ(vfio_memattr_map(dev, 2, 0, 4096, P_NC, 1, 0x2, &m), -EINVAL);
	CHECK_EQ(vfio_memattr_map(dev, 1, 0, 4096, P_NC, 1, 0, &m), -EOPNOTSUPP);	/* empty BAR */
	CHECK_EQ(vfio_memattr_map(NULL, 2, 0, 4096, P_NC, 1, 0, &m), -EINVAL);
	CHECK_EQ(vfio_memattr_dma_map(dev, &m, 0, 4096), -EOPNOTSUPP);	/* adopted */
	fake_close(dev);
}

static char sroot[64];

static void sysfs_setup(const char *pat)
{
	static const char *const dirs[] = { "bus", "bus/pci", "bus/pci/devices",
					    "bus/pci/devices/0000:00:02.0" };
	char p[256];
	unsigned int i;
	FILE *f;
	int fd;

	snprintf(sroot, sizeof(sroot), "/tmp/vfio-memattr-sysfs-XXXXXX");
	if (!mkdtemp(sroot))
		return;
	for (i = 0; i < 4; i++) {
		snprintf(p, sizeof(p), "%s/%s", sroot, dirs[i]);
		mkdir(p, 0755);
	}
	snprintf(p, sizeof(p), "%s/bus/pci/devices/0000:00:02.0/resource", sroot);
	f = fopen(p, "w");
	if (f) {
		fputs("0x00000000febf0000 0x00000000febf0fff 0x0000000000040200\n"
		      "0x0000000000000000 0x0000000000000000 0x0000000000000000\n"
		      "0x00000000fd000000 0x00000000fd0fffff 0x000000000014220c\n", f);
		fclose(f);
	}
	snprintf(p, sizeof(p), "%s/bus/pci/devices/0000:00:02.0/resource2_wc", sroot);
	fd = open(p, O_RDWR | O_CREAT, 0600);
	if (fd >= 0) {
		if (ftruncate(fd, BAR2_SIZE) < 0)
			perror("ftruncate");
		close(fd);
	}
	snprintf(p, sizeof(p), "%s/pat", sroot);
	f = fopen(p, "w");
	if (f) {
		fputs(pat, f);
		fclose(f);
	}
	vfio_memattr__sysfs_root = sroot;
	snprintf(p, sizeof(p), "%s/pat", sroot);
	vfio_memattr__pat_list = strdup(p);
}

static void sysfs_teardown(void)
{
	char cmd[128];

	free((void *)vfio_memattr__pat_list);
	vfio_memattr__pat_list = "/sys/kernel/debug/x86/pat_memtype_list";
	vfio_memattr__sysfs_root = NULL;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", sroot);
	if (system(cmd) != 0)
		printf("    cannot remove %s\n", sroot);
}

static void sysfs_wc_fallback(void)
{
	struct vfio_memattr_dev *dev = fake_open(0);
	struct vfio_memattr_mapping *m = NULL;
	char p[256];
	uint64_t v = 0;
	int fd;

	REQUIRE(dev != NULL);
	sysfs_setup("PAT: [mem 0x00000000fd010000-0x00000000fd020000] write-combining\n");
	/* PCI address unknown for an adopted memfd */
	CHECK(vfio_memattr_bdf(dev) == NULL);
	CHECK_EQ(vfio_memattr_map(dev, 2, 0x10000, 0x10000, P_WC, 1,
				  VFIO_MEMATTR_MAP_ALLOW_SYSFS, &m), -EOPNOTSUPP);
	CHECK_EQ(vfio_memattr_set_bdf(dev, "00:02.0"), 0);
	CHECK_STR(vfio_memattr_bdf(dev), "0000:00:02.0");
	/* not without the flag */
	CHECK_EQ(vfio_memattr_map(dev, 2, 0x10000, 0x10000, P_WC, 1, 0, &m), -EOPNOTSUPP);
	CHECK_EQ(vfio_memattr_map(dev, 2, 0x10000, 0x10000, P_WC, 1,
				  VFIO_MEMATTR_MAP_ALLOW_SYSFS, &m), 0);
	if (m) {
		CHECK_EQ(vfio_memattr_mapping_attr(m), VFIO_MEMATTR_WC);
		CHECK_EQ(vfio_memattr_mapping_source(m), VFIO_MEMATTR_SRC_SYSFS_WC);
		CHECK_EQ(vfio_memattr_mapping_handle(m), 0);
		*(volatile uint64_t *)((char *)vfio_memattr_mapping_addr(m) + 8) = 0x1122334455667788ull;
		snprintf(p, sizeof(p), "%s/bus/pci/devices/0000:00:02.0/resource2_wc", sroot);
		fd = open(p, O_RDONLY);
		CHECK(fd >= 0 && pread(fd, &v, 8, 0x10008) == 8);
		CHECK_EQ(v, 0x1122334455667788ll);
		if (fd >= 0)
			close(fd);
		CHECK_EQ(vfio_memattr_unmap(m), 0);
	}
#if defined(__x86_64__)
	/* PAT gave the range another type: refuse rather than lie */
	{
		FILE *f = fopen(vfio_memattr__pat_list, "w");

		if (f) {
			fputs("PAT: [mem 0x00000000fd000000-0x00000000fd100000] uncached-minus\n", f);
			fclose(f);
		}
		m = NULL;
		CHECK_EQ(vfio_memattr_map(dev, 2, 0x10000, 0x10000, P_WC, 1,
					  VFIO_MEMATTR_MAP_ALLOW_SYSFS, &m), -EBUSY);
		CHECK(m == NULL);
		/* with NC as second choice: NC through VFIO */
		CHECK_EQ(vfio_memattr_map(dev, 2, 0x10000, 0x10000, P_WC_NC, 2,
					  VFIO_MEMATTR_MAP_ALLOW_SYSFS, &m), 0);
		CHECK_EQ(vfio_memattr_mapping_attr(m), VFIO_MEMATTR_NC);
		CHECK_EQ(vfio_memattr_mapping_source(m), VFIO_MEMATTR_SRC_VFIO_MMAP);
	}
#endif
#if defined(__x86_64__)
	/* the PAT list cannot be read: fail closed, never an unchecked WC */
	unlink(vfio_memattr__pat_list);
	m = (void *)1;
	CHECK_EQ(vfio_memattr_map(dev, 2, 0x10000, 0x10000, P_WC, 1,
				  VFIO_MEMATTR_MAP_ALLOW_SYSFS, &m), -EOPNOTSUPP);
	CHECK(m == NULL);
	/* the list is readable but does not cover the range: unverified too */
	{
		FILE *f = fopen(vfio_memattr__pat_list, "w");

		if (f) {
			fputs("PAT: [mem 0x00000000fe000000-0x00000000fe100000] write-combining\n", f);
			fclose(f);
		}
	}
	m = (void *)1;
	CHECK_EQ(vfio_memattr_map(dev, 2, 0x10000, 0x10000, P_WC, 1,
				  VFIO_MEMATTR_MAP_ALLOW_SYSFS, &m), -EOPNOTSUPP);
	CHECK(m == NULL);
	m = NULL;
	CHECK_EQ(vfio_memattr_map(dev, 2, 0x10000, 0x10000, P_WC_NC, 2,
				  VFIO_MEMATTR_MAP_ALLOW_SYSFS, &m), 0);
	CHECK_EQ(vfio_memattr_mapping_attr(m), VFIO_MEMATTR_NC);
	CHECK_EQ(vfio_memattr_mapping_source(m), VFIO_MEMATTR_SRC_VFIO_MMAP);
#endif
	/* BAR0 has no resource0_wc (non-prefetchable): not available */
	CHECK_EQ(vfio_memattr_map(dev, 0, 0, 4096, P_WC, 1, VFIO_MEMATTR_MAP_ALLOW_SYSFS, &m),
		 -EOPNOTSUPP);
	sysfs_teardown();
	fake_close(dev);
}

static void uapi_map(void)
{
	struct vfio_memattr_dev *dev = fake_open(1);
	struct vfio_memattr_mapping *m = NULL;

	REQUIRE(dev != NULL);
	fk.map_attr = VFIO_MEMATTR_WC;
	fk.cap_attr = VFIO_MEMATTR_WC;
	CHECK_EQ(vfio_memattr_kernel_support(dev), 1);
	CHECK_EQ(vfio_memattr_map(dev, 2, 0x10000, 0x20000, P_WC_NC, 2, 0, &m), 0);
	/* one kernel call carrying the whole preference list */
	CHECK_EQ(fk.map_calls, 1);
	CHECK_EQ(fk.last.index, 2);
	CHECK_EQ(fk.last.offset, 0x10000);
	CHECK_EQ(fk.last.length, 0x20000);
	CHECK_EQ(fk.last.nr_prefs, 2);
	CHECK_EQ(fk.last.prefs[0], VFIO_MEMATTR_WC);
	CHECK_EQ(fk.last.prefs[1], VFIO_MEMATTR_NC);
	CHECK_EQ(fk.last.prefs[2], 0);
	if (m) {
		CHECK_EQ(vfio_memattr_mapping_attr(m), VFIO_MEMATTR_WC);
		CHECK_EQ(vfio_memattr_mapping_source(m), VFIO_MEMATTR_SRC_MEMATTR);
		CHECK_EQ(vfio_memattr_mapping_handle(m), VFIO_MEMATTR_HANDLE_INDEX_BASE);
		CHECK(hits_file_at(m, 0x1ff8, HANDLE_OFF + 0x1ff8));	/* at mmap_offset */
		CHECK_EQ(fk.nreleased, 0);
		CHECK_EQ(vfio_memattr_unmap(m), 0);
		CHECK_EQ(fk.nreleased, 1);
		CHECK_EQ(fk.released[0], VFIO_MEMATTR_HANDLE_INDEX_BASE);
	}
	/* the kernel honoured the second choice: report it */
	fk.map_attr = fk.cap_attr = VFIO_MEMATTR_NC;
	m = NULL;
	CHECK_EQ(vfio_memattr_map(dev, 2, 0, 4096, P_WC_NC, 2, 0, &m), 0);
	CHECK_EQ(vfio_memattr_mapping_attr(m), VFIO_MEMATTR_NC);
	CHECK_EQ(vfio_memattr_mapping_source(m), VFIO_MEMATTR_SRC_MEMATTR);
	fake_close(dev);
	CHECK_EQ(fk.nreleased, 2);	/* close released the second handle */
}

static void uapi_errors_no_fallback(void)
{
	static const int errs[] = { EPERM, EBUSY, EOPNOTSUPP, ENOSPC, EINVAL };
	struct vfio_memattr_dev *dev = fake_open(1);
	struct vfio_memattr_mapping *m;
	unsigned int i;

	REQUIRE(dev != NULL);
	for (i = 0; i < sizeof(errs) / sizeof(errs[0]); i++) {
		m = (void *)1;
		fk.map_errno = errs[i];
		/* NC is in the list and a plain VFIO mmap would succeed: the
		 * kernel's answer must still be final */
		CHECK_EQ(vfio_memattr_map(dev, 2, 0, 4096, P_WC_NC, 2,
					  VFIO_MEMATTR_MAP_ALLOW_SYSFS, &m), -errs[i]);
		CHECK(m == NULL);
	}
	CHECK_EQ(fk.map_calls, 5);
	fake_close(dev);
}

static void uapi_cap_mismatch(void)
{
	struct vfio_memattr_dev *dev = fake_open(1);
	struct vfio_memattr_mapping *m = (void *)1;

	REQUIRE(dev != NULL);
	fk.map_attr = VFIO_MEMATTR_WC;
	fk.cap_attr = VFIO_MEMATTR_NC;
	CHECK_EQ(vfio_memattr_map(dev, 2, 0, 4096, P_WC, 1, 0, &m), -EPROTO);
	CHECK(m == NULL);
	CHECK_EQ(fk.nreleased, 1);		/* the handle was given back */
	fk.map_attr = 7;			/* unknown attribute */
	fk.cap_attr = -1;
	CHECK_EQ(vfio_memattr_map(dev, 2, 0, 4096, P_WC, 1, 0, &m), -EPROTO);
	CHECK_EQ(fk.nreleased, 2);
	fake_close(dev);
}

static void uapi_shared_handle(void)
{
	struct vfio_memattr_dev *dev = fake_open(1);
	struct vfio_memattr_mapping *a = NULL, *b = NULL;

	REQUIRE(dev != NULL);
	fk.map_attr = VFIO_MEMATTR_WC;
	fk.same_handle = 1;
	CHECK_EQ(vfio_memattr_map(dev, 2, 0, 8192, P_WC, 1, 0, &a), 0);
	CHECK_EQ(vfio_memattr_map(dev, 2, 0, 8192, P_WC, 1, 0, &b), 0);
	CHECK(a && b && a != b);
	CHECK_EQ(vfio_memattr_mapping_handle(a), vfio_memattr_mapping_handle(b));
	CHECK_EQ(vfio_memattr_unmap(a), 0);
	CHECK_EQ(fk.nreleased, 0);		/* b still uses it */
	CHECK_EQ(vfio_memattr_unmap(b), 0);
	CHECK_EQ(fk.nreleased, 1);
	fake_close(dev);
}

static void bar_info_both(void)
{
	struct vfio_memattr_dev *dev = fake_open(0);
	struct vfio_memattr_bar b;

	REQUIRE(dev != NULL);
	CHECK_EQ(vfio_memattr_bar_info(dev, 2, &b), 0);
	CHECK_EQ(b.kernel_support, 0);
	CHECK_EQ(b.size, BAR2_SIZE);
	CHECK_EQ(b.flags, VFIO_MEMATTR_BAR_PREFETCH | VFIO_MEMATTR_BAR_MEM64 | VFIO_MEMATTR_BAR_MMAP);
	CHECK_EQ(b.supported, 1u << VFIO_MEMATTR_NC);
	CHECK_EQ(b.reason[VFIO_MEMATTR_NC], VFIO_MEMATTR_OK);
	CHECK_EQ(b.reason[VFIO_MEMATTR_WC], VFIO_MEMATTR_NOT_ARCH);
	CHECK_EQ(vfio_memattr_bar_info(dev, 0, &b), 0);
	CHECK_EQ(b.flags, VFIO_MEMATTR_BAR_MMAP);		/* mem32, not prefetchable */
	CHECK_EQ(b.size, BAR0_SIZE);
	CHECK_EQ(vfio_memattr_bar_info(dev, 1, &b), 0);
	CHECK_EQ(b.size, 0);
	CHECK_EQ(b.supported, 0);
	CHECK_EQ(b.reason[VFIO_MEMATTR_NC], VFIO_MEMATTR_NOT_MEM_BAR);
	CHECK_EQ(vfio_memattr_bar_info(dev, 6, &b), -EINVAL);
	fake_close(dev);

	dev = fake_open(1);
	REQUIRE(dev != NULL);
	CHECK_EQ(vfio_memattr_bar_info(dev, 2, &b), 0);
	CHECK_EQ(fk.get_calls, 1);
	CHECK_EQ(b.kernel_support, 1);
	CHECK_EQ(b.supported, 0x5);
	CHECK_EQ(b.reason[VFIO_MEMATTR_WC], VFIO_MEMATTR_NOT_ARCH);
	fake_close(dev);
}

static void region_rw(void)
{
	struct vfio_memattr_dev *dev = fake_open(0);
	uint32_t v = 0xdeadbeef, r = 0;

	REQUIRE(dev != NULL);
	CHECK_EQ(vfio_memattr_num_regions(dev), VFIO_PCI_NUM_REGIONS);
	CHECK_EQ(vfio_memattr_region_write(dev, VFIO_PCI_CONFIG_REGION_INDEX, 0x40, &v, 4), 0);
	CHECK(pread(fk.fd, &r, 4, CFG_OFF + 0x40) == 4 && r == v);
	r = 0;
	CHECK_EQ(vfio_memattr_region_read(dev, VFIO_PCI_CONFIG_REGION_INDEX, 0x18, &r, 4), 0);
	CHECK_EQ(r, 0xfd00000c);
	CHECK_EQ(vfio_memattr_region_read(dev, VFIO_PCI_CONFIG_REGION_INDEX, 254, &r, 4), -EINVAL);
	CHECK_EQ(vfio_memattr_region_read(dev, 0x9999, 0, &r, 4), -EINVAL);
	fake_close(dev);
}

struct thr {
	struct vfio_memattr_dev *dev;
	unsigned int id, errors;
};

static void *thr_fn(void *arg)
{
	struct thr *t = arg;
	unsigned int i;

	for (i = 0; i < 200; i++) {
		struct vfio_memattr_mapping *m = NULL;
		uint64_t off = (uint64_t)(t->id * 4 + i % 4) * 4096;

		if (vfio_memattr_map(t->dev, 2, off, 4096, P_NC, 1, 0, &m) < 0 || !m) {
			t->errors++;
			continue;
		}
		*(volatile uint32_t *)vfio_memattr_mapping_addr(m) = t->id;
		if (i % 3 && vfio_memattr_unmap(m) < 0)	/* leave some for close() */
			t->errors++;
	}
	return NULL;
}

static void threads(void)
{
	struct vfio_memattr_dev *dev = fake_open(0);
	struct thr t[4];
	pthread_t th[4];
	unsigned int i;

	REQUIRE(dev != NULL);
	for (i = 0; i < 4; i++) {
		t[i] = (struct thr){ .dev = dev, .id = i };
		CHECK_EQ(pthread_create(&th[i], NULL, thr_fn, &t[i]), 0);
	}
	for (i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		CHECK_EQ(t[i].errors, 0);
	}
	fake_close(dev);	/* unmaps the ~270 mappings left in the list */
}

/* A log callback that calls the library again (the device is locked
 * while a mapping is made). */
static struct vfio_memattr_dev *reent_dev;
static int reent_calls, reent_global;

static void reent_log(void *ctx, int level, const char *msg)
{
	(void)level;
	(void)msg;
	if (ctx == &reent_global)
		reent_global++;
	if (reent_dev && vfio_memattr_kernel_support(reent_dev) == 1)
		reent_calls++;
}

static void log_reentrant(void)
{
	struct vfio_memattr_mapping *m = NULL;
	pid_t pid;
	int st = -1;

	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		alarm(5);	/* a deadlock ends here */
		reent_dev = fake_open(1);
		if (!reent_dev)
			_exit(3);
		fk.map_attr = VFIO_MEMATTR_WC;
		vfio_memattr_set_log(reent_log, NULL);
		if (vfio_memattr_map(reent_dev, 2, 0, 4096, P_WC, 1, 0, &m) < 0)
			_exit(4);
		vfio_memattr_set_log(NULL, NULL);
		fake_close(reent_dev);
		_exit(reent_calls > 0 ? 0 : 5);
	}
	CHECK(pid > 0 && waitpid(pid, &st, 0) == pid);
	if (WIFSIGNALED(st))
		printf("    child killed by signal %d (deadlock in the log callback)\n",
		       WTERMSIG(st));
	CHECK(WIFEXITED(st));
	CHECK_EQ(WIFEXITED(st) ? WEXITSTATUS(st) : -1, 0);
}

static int dev_msgs;

static void dev_log(void *ctx, int level, const char *msg)
{
	(void)level;
	(void)msg;
	if (ctx == &dev_msgs)
		dev_msgs++;
}

static void log_per_device(void)
{
	struct vfio_memattr_dev *dev = fake_open(1);
	struct vfio_memattr_mapping *m = NULL;

	REQUIRE(dev != NULL);
	fk.map_attr = VFIO_MEMATTR_WC;
	reent_dev = NULL;
	reent_global = dev_msgs = 0;
	vfio_memattr_set_log(reent_log, &reent_global);
	CHECK_EQ(vfio_memattr_dev_set_log(dev, dev_log, &dev_msgs), 0);
	CHECK_EQ(vfio_memattr_map(dev, 2, 0, 4096, P_WC, 1, 0, &m), 0);
	CHECK(dev_msgs > 0);
	CHECK_EQ(reent_global, 0);		/* this device's messages only go to its callback */
	dev_msgs = 0;
	CHECK_EQ(vfio_memattr_dev_set_log(dev, NULL, NULL), 0);	/* silence this one */
	fk.map_errno = EBUSY;
	CHECK_EQ(vfio_memattr_map(dev, 2, 0, 4096, P_WC, 1, 0, &m), -EBUSY);
	CHECK_EQ(dev_msgs, 0);
	CHECK_EQ(reent_global, 0);
	CHECK_EQ(vfio_memattr_dev_set_log(NULL, dev_log, NULL), -EINVAL);
	vfio_memattr_set_log(NULL, NULL);
	fake_close(dev);
}

/* A forked child's close must not release the parent's kernel handles. */
static void fork_child_close(void)
{
	struct vfio_memattr_dev *dev = fake_open(1);
	struct vfio_memattr_mapping *m = NULL, *m2 = NULL;
	pid_t pid;
	int st = -1;

	REQUIRE(dev != NULL);
	fk.map_attr = VFIO_MEMATTR_WC;
	CHECK_EQ(vfio_memattr_map(dev, 2, 0, 4096, P_WC, 1, 0, &m), 0);
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		unsigned int before = fk.nreleased;
		int r = vfio_memattr_map(dev, 2, 0x1000, 4096, P_WC, 1, 0, &m2);

		vfio_memattr_close(dev);	/* the child's copy */
		/* exit status: handles the child released, +16 if it could map */
		_exit((int)(fk.nreleased - before) + (r == 0 ? 16 : 0));
	}
	CHECK(pid > 0 && waitpid(pid, &st, 0) == pid);
	CHECK(WIFEXITED(st));
	CHECK_EQ(WIFEXITED(st) ? WEXITSTATUS(st) : -1, 0);
	CHECK(hits_file_at(m, 0, HANDLE_OFF));	/* the parent's mapping still works */
	CHECK_EQ(vfio_memattr_unmap(m), 0);
	CHECK_EQ(fk.nreleased, 1);		/* released by its owner */
	fake_close(dev);
}

static void map_at_reservation(void)
{
	struct vfio_memattr_dev *dev = fake_open(0);
	struct vfio_memattr_mapping *m = (void *)1;
	char *r;

	REQUIRE(dev != NULL);
	r = mmap(NULL, 4 * 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	CHECK(r != MAP_FAILED);
	CHECK_EQ(vfio_memattr_map_at(dev, 2, 0x3000, 4096, P_NC, 1, 0, NULL, &m), -EINVAL);
	CHECK(m == NULL);
	CHECK_EQ(vfio_memattr_map_at(dev, 2, 0x3000, 4096, P_NC, 1, 0, r + 8, &m), -EINVAL);
	CHECK_EQ(vfio_memattr_map_at(dev, 2, 0x3000, 8192, P_NC, 1, 0, r + 4096, &m), 0);
	CHECK(vfio_memattr_mapping_addr(m) == r + 4096);
	CHECK_STR(procmaps_prot(r + 4096), "rw-s");
	CHECK_STR(procmaps_prot(r), "---p");		/* the rest of the reservation stays */
	CHECK_STR(procmaps_prot(r + 3 * 4096), "---p");
	CHECK(hits_file_at(m, 0x1008, BAR2_OFF + 0x4008));
	CHECK_EQ(vfio_memattr_unmap(m), 0);
	CHECK_STR(procmaps_prot(r + 4096), "---p");	/* reserved again, not a hole */
	CHECK_STR(procmaps_prot(r + 2 * 4096), "---p");
	/* a failed map leaves the reservation in place */
	CHECK_EQ(vfio_memattr_map_at(dev, 2, BAR2_SIZE, 4096, P_NC, 1, 0, r + 4096, &m), -EINVAL);
	CHECK_STR(procmaps_prot(r + 4096), "---p");
	munmap(r, 4 * 4096);
	fake_close(dev);
}

/* a secondary process maps the primary's handle and never releases it */
static void map_imported_handle(void)
{
	struct vfio_memattr_dev *dev = fake_open(1);
	struct vfio_memattr_mapping *own = NULL, *imp = (void *)1;

	REQUIRE(dev != NULL);
	fk.map_attr = VFIO_MEMATTR_WC;
	CHECK_EQ(vfio_memattr_map(dev, 2, 0x20000, 0x10000, P_WC, 1, 0, &own), 0);
	CHECK_EQ(vfio_memattr_map_handle(dev, 0x10077, NULL, &imp), -ENOENT);
	CHECK(imp == NULL);
	CHECK_EQ(vfio_memattr_map_handle(dev, 5, NULL, &imp), -EINVAL);
	CHECK_EQ(vfio_memattr_map_handle(dev, VFIO_MEMATTR_HANDLE_INDEX_BASE, NULL, &imp), 0);
	CHECK(imp && imp != own);
	CHECK(vfio_memattr_mapping_addr(imp) != vfio_memattr_mapping_addr(own));
	CHECK_EQ(vfio_memattr_mapping_attr(imp), VFIO_MEMATTR_WC);
	CHECK_EQ(vfio_memattr_mapping_source(imp), VFIO_MEMATTR_SRC_MEMATTR);
	CHECK_EQ(vfio_memattr_mapping_bar(imp), 2);
	CHECK_EQ(vfio_memattr_mapping_offset(imp), 0x20000);
	CHECK_EQ(vfio_memattr_mapping_length(imp), 0x10000);
	CHECK(hits_file_at(imp, 0xff8, HANDLE_OFF + 0xff8));	/* at the handle's offset */
	CHECK_EQ(vfio_memattr_unmap(own), 0);
	CHECK_EQ(fk.nreleased, 1);
	fk.nreleased = 0;		/* pretend the primary still holds it */
	CHECK_EQ(vfio_memattr_unmap(imp), 0);
	CHECK_EQ(fk.nreleased, 0);		/* an imported handle is never released */
	fake_close(dev);
}

static void open_shared_args(void)
{
	struct vfio_memattr_dev *dev = fake_open(0), *d2 = (void *)1;

	REQUIRE(dev != NULL);
	CHECK_EQ(vfio_memattr_open_shared("00:02.0", NULL, 0, &d2), -EINVAL);
	CHECK(d2 == NULL);
	d2 = (void *)1;
	/* an adopted device: the caller owns the container */
	CHECK_EQ(vfio_memattr_open_shared("00:02.0", dev, 0, &d2), -EOPNOTSUPP);
	CHECK(d2 == NULL);
	fake_close(dev);
}

void run_fake_tests(void)
{
	t_run("fake vfio-pci: WC-only request refused (EOPNOTSUPP)", no_uapi_wc_refused);
	t_run("fake vfio-pci: WC,NC falls back to NC via VFIO mmap", no_uapi_nc_fallback);
	t_run("fake vfio-pci: map argument checks", map_arg_checks);
	t_run("fake vfio-pci: sysfs resourceN_wc fallback (opt-in, PAT check)", sysfs_wc_fallback);
	t_run("fake memattr: one MAP call with the preference list, unmap releases", uapi_map);
	t_run("fake memattr: kernel errors are final (no fallback)", uapi_errors_no_fallback);
	t_run("fake memattr: capability disagreeing with MAP is refused", uapi_cap_mismatch);
	t_run("fake memattr: shared handle released after last unmap", uapi_shared_handle);
	t_run("bar_info: derived (plain VFIO) and from the kernel", bar_info_both);
	t_run("region read/write", region_rw);
	t_run("log callback may call the library (never called under the device lock)",
	      log_reentrant);
	t_run("per-device log callback", log_per_device);
	t_run("fork: the child's close does not release the parent's handles", fork_child_close);
	t_run("map_at: into a PROT_NONE reservation, which unmap restores", map_at_reservation);
	t_run("map_handle: another process's handle, never released", map_imported_handle);
	t_run("open_shared: argument checks", open_shared_args);
	t_run("4 threads mapping and unmapping on one device, close unmaps the rest", threads);
}
