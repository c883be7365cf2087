// SPDX-License-Identifier: GPL-2.0-only
/*
 * memattr_dropin: with no memattr request, a device under vfio-pci-memattr
 * behaves as under vfio-pci.
 *
 * ivshmem0 (vfio-pci-memattr) and ivshmem1 (vfio-pci) are the same device
 * model, so everything VFIO reports about them must be equal; then legacy
 * BAR mmap, pread/pwrite, config space, INTx and MSI interrupts and DMA
 * through the IOMMU are exercised on devices bound to vfio-pci-memattr
 * (ivshmem0 and edu).
 *
 * Slices: ivshmem0 0x180000-0x18ffff.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <linux/vfio.h>

#include "lib/tap.h"
#include "lib/sysfs.h"
#include "lib/vfio.h"
#include "lib/hostcheck.h"
#include "lib/pat.h"
#include "pattern.h"

#define DROPIN_SLICE	0x180000ull
#define DROPIN_SEED	0xd509100000000001ull

#define EDU_LIVENESS	0x04
#define EDU_IRQ_STATUS	0x24
#define EDU_IRQ_RAISE	0x60
#define EDU_IRQ_ACK	0x64
#define EDU_DMA_SRC	0x80
#define EDU_DMA_DST	0x88
#define EDU_DMA_COUNT	0x90
#define EDU_DMA_CMD	0x98
#define EDU_DMA_BUF	0x40000ull
#define EDU_IOVA	0x100000ull	/* edu's DMA mask is 28 bits */
/* QEMU 7.2's edu refuses a transfer that ends on its buffer's last byte. */
#define EDU_DMA_LEN	2048

static uint64_t region_offset(struct vdev *d, unsigned int index)
{
	struct vfio_region_info ri;

	if (region_info(d->fd, index, &ri))
		return ~0ull;
	return ri.offset;
}

static int rd32(struct vdev *d, unsigned int index, uint64_t off, uint32_t *v)
{
	return pread(d->fd, v, 4, region_offset(d, index) + off) == 4 ? 0 : -1;
}

static int wr32(struct vdev *d, unsigned int index, uint64_t off, uint32_t v)
{
	return pwrite(d->fd, &v, 4, region_offset(d, index) + off) == 4 ? 0 : -1;
}

static int wr64(struct vdev *d, unsigned int index, uint64_t off, uint64_t v)
{
	return pwrite(d->fd, &v, 8, region_offset(d, index) + off) == 8 ? 0 : -1;
}

/* Region info, caps included, into a buffer of its own. */
static struct vfio_region_info *region_full(int fd, unsigned int index)
{
	struct vfio_region_info *ri = calloc(1, sizeof(*ri));
	uint32_t sz;

	if (!ri)
		return NULL;
	ri->argsz = sizeof(*ri);
	ri->index = index;
	if (ioctl(fd, VFIO_DEVICE_GET_REGION_INFO, ri)) {
		free(ri);
		return NULL;
	}
	sz = ri->argsz;
	if (sz > sizeof(*ri)) {
		struct vfio_region_info *big = calloc(1, sz);

		if (!big) {
			free(ri);
			return NULL;
		}
		big->argsz = sz;
		big->index = index;
		free(ri);
		ri = big;
		if (ioctl(fd, VFIO_DEVICE_GET_REGION_INFO, ri)) {
			free(ri);
			return NULL;
		}
	}
	return ri;
}

static void test_same_as_vfio_pci(struct vdev *a, struct vdev *b)
{
	unsigned int i;
	bool same;

	tap_ok(a->info.flags == b->info.flags &&
	       a->info.num_regions == b->info.num_regions &&
	       a->info.num_irqs == b->info.num_irqs,
	       "DEVICE_GET_INFO equal to vfio-pci's (flags %#x/%#x, regions %u/%u, irqs %u/%u)",
	       a->info.flags, b->info.flags, a->info.num_regions,
	       b->info.num_regions, a->info.num_irqs, b->info.num_irqs);

	same = a->info.num_regions == b->info.num_regions;
	for (i = 0; same && i < a->info.num_regions; i++) {
		struct vfio_region_info *ra = region_full(a->fd, i);
		struct vfio_region_info *rb = region_full(b->fd, i);

		if (!ra != !rb) {
			tap_diag("region %u: answered by only one driver", i);
			same = false;
		} else if (ra && (ra->argsz != rb->argsz || ra->flags != rb->flags ||
				  ra->size != rb->size || ra->offset != rb->offset ||
				  memcmp(ra + 1, rb + 1, ra->argsz - sizeof(*ra)))) {
			tap_diag("region %u: flags %#x/%#x size %#llx/%#llx argsz %u/%u",
				 i, ra->flags, rb->flags,
				 (unsigned long long)ra->size,
				 (unsigned long long)rb->size, ra->argsz, rb->argsz);
			same = false;
		}
		free(ra);
		free(rb);
	}
	tap_ok(same, "GET_REGION_INFO of every region (caps included) equal to vfio-pci's");

	same = a->info.num_irqs == b->info.num_irqs;
	for (i = 0; same && i < a->info.num_irqs; i++) {
		struct vfio_irq_info ia = { .argsz = sizeof(ia), .index = i };
		struct vfio_irq_info ib = { .argsz = sizeof(ib), .index = i };
		int ra = ioctl(a->fd, VFIO_DEVICE_GET_IRQ_INFO, &ia);
		int rb = ioctl(b->fd, VFIO_DEVICE_GET_IRQ_INFO, &ib);

		if (ra != rb || ia.flags != ib.flags || ia.count != ib.count) {
			tap_diag("irq %u: rc %d/%d flags %#x/%#x count %u/%u",
				 i, ra, rb, ia.flags, ib.flags, ia.count, ib.count);
			same = false;
		}
	}
	tap_ok(same, "GET_IRQ_INFO of every IRQ index equal to vfio-pci's");

	{
		uint8_t ca[256], cb[256];
		uint64_t oa = region_offset(a, VFIO_PCI_CONFIG_REGION_INDEX);
		uint64_t ob = region_offset(b, VFIO_PCI_CONFIG_REGION_INDEX);
		bool ok = pread(a->fd, ca, sizeof(ca), oa) == sizeof(ca) &&
			  pread(b->fd, cb, sizeof(cb), ob) == sizeof(cb);

		/* BAR addresses differ; everything else is the same model. */
		memset(ca + 0x10, 0, 24);
		memset(cb + 0x10, 0, 24);
		tap_ok(ok && !memcmp(ca, cb, sizeof(ca)),
		       "virtual config space equal to vfio-pci's (BAR addresses aside)");
	}
}

static void test_legacy_paths(struct vdev *d, const char *bdf)
{
	struct vfio_region_info ri;
	uint64_t phys, size;
	char type[32] = "";
	uint32_t v = 0;
	void *map;
	bool ok;

	if (region_info(d->fd, 2, &ri) || ma_bar_phys(bdf, 2, &phys, &size)) {
		tap_fail("BAR2 region info");
		tap_fail("BAR2 legacy mmap");
		tap_fail("BAR0 registers");
		return;
	}
	map = mmap(NULL, ri.size, PROT_READ | PROT_WRITE, MAP_SHARED, d->fd, ri.offset);
	if (map == MAP_FAILED) {
		tap_fail("legacy mmap of BAR2: %s", strerror(errno));
		tap_fail("BAR2 legacy mmap: PAT");
	} else {
		volatile uint64_t *w = (volatile uint64_t *)((char *)map + DROPIN_SLICE);
		uint64_t back[8];
		ssize_t got;
		size_t good;

		pattern_fill_mmio64(w, MA_SLICE_SIZE / 8, DROPIN_SEED);
		good = pattern_check_mmio64(w, MA_SLICE_SIZE / 8, DROPIN_SEED);
		got = pread(d->fd, back, sizeof(back), ri.offset + DROPIN_SLICE);
		tap_ok(good == MA_SLICE_SIZE / 8 && got == sizeof(back) &&
		       back[3] == w[3],
		       "legacy BAR2 mmap: stores read back (%zu good words), pread agrees (%zd, %#llx/%#llx)",
		       good, got, (unsigned long long)back[3], (unsigned long long)w[3]);
		hostcheck("ivshmem0", DROPIN_SLICE, MA_SLICE_SIZE, DROPIN_SEED,
			  "memattr_dropin: legacy BAR2 mmap");
		tap_ok(pat_lookup(phys, phys + size, type) >= 1 &&
		       !strcmp(type, "uncached-minus"),
		       "legacy BAR2 mmap is uncached-minus, as under vfio-pci (%s)", type);
		munmap(map, ri.size);
	}

	/* ivshmem BAR0: IntrMask is read/write. */
	ok = !wr32(d, 0, 0, 0x5a5aa5a5) && !rd32(d, 0, 0, &v);
	tap_ok(ok && v == 0x5a5aa5a5 && !wr32(d, 0, 0, 0),
	       "pwrite/pread of BAR0 registers (IntrMask %#x)", v);
}

static int wait_eventfd(int efd, int ms)
{
	struct pollfd p = { .fd = efd, .events = POLLIN };
	uint64_t n;

	if (poll(&p, 1, ms) != 1)
		return -ETIMEDOUT;
	if (read(efd, &n, sizeof(n)) != sizeof(n))
		return -EIO;
	return (int)n;
}

static int set_irq(struct vdev *d, unsigned int index, uint32_t action, int efd)
{
	char buf[sizeof(struct vfio_irq_set) + sizeof(int)];
	struct vfio_irq_set *s = (struct vfio_irq_set *)buf;

	memset(buf, 0, sizeof(buf));
	s->argsz = sizeof(buf);
	s->index = index;
	s->start = 0;
	if (efd >= 0) {
		s->flags = VFIO_IRQ_SET_DATA_EVENTFD | action;
		s->count = 1;
		memcpy(s->data, &efd, sizeof(efd));
	} else {
		s->flags = VFIO_IRQ_SET_DATA_NONE | action;
		s->count = action == VFIO_IRQ_SET_ACTION_TRIGGER ? 0 : 1;
		s->argsz = sizeof(*s);
	}
	return ioctl(d->fd, VFIO_DEVICE_SET_IRQS, s) ? -errno : 0;
}

static void test_edu(struct vdev *d)
{
	uint32_t v = 0, cmd = 0;
	uint16_t pcicmd = 0;
	uint64_t cfg = region_offset(d, VFIO_PCI_CONFIG_REGION_INDEX);
	int efd, n, i;
	uint8_t *ram;

	n = !wr32(d, 0, EDU_LIVENESS, 0x12345678) && !rd32(d, 0, EDU_LIVENESS, &v);
	tap_ok(n && v == ~0x12345678u,
	       "edu liveness register through pwrite/pread (%#x)", v);

	/* Memory decode and bus mastering, as a driver would. */
	if (pread(d->fd, &pcicmd, 2, cfg + 4) == 2) {
		pcicmd |= 0x6;
		pcicmd &= ~0x400;	/* INTx enabled */
		if (pwrite(d->fd, &pcicmd, 2, cfg + 4) != 2)
			tap_diag("config write of PCI_COMMAND: %s", strerror(errno));
	}

	efd = eventfd(0, EFD_CLOEXEC);
	n = set_irq(d, VFIO_PCI_INTX_IRQ_INDEX, VFIO_IRQ_SET_ACTION_TRIGGER, efd);
	if (!n && !wr32(d, 0, EDU_IRQ_RAISE, 1))
		n = wait_eventfd(efd, 5000);
	else if (!n)
		n = -EIO;
	tap_ok(n >= 1, "INTx: edu raises an interrupt, the eventfd fires (%d)", n);
	wr32(d, 0, EDU_IRQ_ACK, 1);
	set_irq(d, VFIO_PCI_INTX_IRQ_INDEX, VFIO_IRQ_SET_ACTION_UNMASK, -1);
	set_irq(d, VFIO_PCI_INTX_IRQ_INDEX, VFIO_IRQ_SET_ACTION_TRIGGER, -1);

	n = set_irq(d, VFIO_PCI_MSI_IRQ_INDEX, VFIO_IRQ_SET_ACTION_TRIGGER, efd);
	if (!n && !wr32(d, 0, EDU_IRQ_RAISE, 2))
		n = wait_eventfd(efd, 5000);
	else if (!n)
		n = -EIO;
	tap_ok(n >= 1, "MSI: edu raises an interrupt, the eventfd fires (%d)", n);
	wr32(d, 0, EDU_IRQ_ACK, 2);
	set_irq(d, VFIO_PCI_MSI_IRQ_INDEX, VFIO_IRQ_SET_ACTION_TRIGGER, -1);
	close(efd);

	/* DMA: RAM -> edu buffer -> RAM through the IOMMU. */
	ram = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (ram == MAP_FAILED) {
		tap_fail("DMA: no memory");
		return;
	}
	pattern_fill(ram, 4096, DROPIN_SEED + 1);
	memset(ram + 4096, 0, 4096);
	{
		struct vfio_iommu_type1_dma_map map = {
			.argsz = sizeof(map),
			.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
			.vaddr = (uintptr_t)ram,
			.iova = EDU_IOVA,
			.size = 8192,
		};
		struct vfio_iommu_type1_dma_unmap unmap = {
			.argsz = sizeof(unmap), .iova = EDU_IOVA, .size = 8192,
		};
		bool ok = !ioctl(d->container, VFIO_IOMMU_MAP_DMA, &map);

		for (i = 0; ok && i < 2; i++) {
			int t;

			ok = !wr64(d, 0, EDU_DMA_SRC, i ? EDU_DMA_BUF : EDU_IOVA) &&
			     !wr64(d, 0, EDU_DMA_DST, i ? EDU_IOVA + 4096 : EDU_DMA_BUF) &&
			     !wr64(d, 0, EDU_DMA_COUNT, EDU_DMA_LEN) &&
			     !wr64(d, 0, EDU_DMA_CMD, i ? 3 : 1);
			for (t = 0; ok && t < 500; t++) {
				if (rd32(d, 0, EDU_DMA_CMD, &cmd) || !(cmd & 1))
					break;
				usleep(10000);
			}
			ok = ok && !(cmd & 1);
		}
		tap_ok(ok && pattern_check(ram + 4096, EDU_DMA_LEN, DROPIN_SEED + 1) == EDU_DMA_LEN,
		       "DMA through the IOMMU: edu copies RAM -> device -> RAM intact");
		ioctl(d->container, VFIO_IOMMU_UNMAP_DMA, &unmap);
	}
	munmap(ram, 8192);
}

int main(void)
{
	const char *iv0 = ma_bdf_or_skip("MEMATTR_IVSHMEM0");
	const char *iv1 = ma_bdf_or_skip("MEMATTR_IVSHMEM1");
	const char *edu = ma_bdf_or_skip("MEMATTR_EDU");
	/* the vfio-pci flavour's phase (lab/vfiopci) runs this as vfio-pci */
	const char *want = getenv("MEMATTR_FLAVOUR_DRIVER") ?: "vfio-pci-memattr";
	struct vdev a, b, e;
	char drv[64] = "";

	tap_plan(12);
	ma_pci_driver(iv0, drv, sizeof(drv));
	if (!tap_ok(!strcmp(drv, want),
		    "%s is bound to %s (%s)", iv0, want, drv) ||
	    vdev_open_mode(&a, iv0, VDEV_GROUP) || vdev_open_mode(&b, iv1, VDEV_GROUP)) {
		tap_skip_rest("cannot open both ivshmem devices");
		return tap_done();
	}
	test_same_as_vfio_pci(&a, &b);
	test_legacy_paths(&a, iv0);
	vdev_close(&b);
	vdev_close(&a);

	ma_pci_driver(edu, drv, sizeof(drv));
	if (strcmp(drv, want) || vdev_open_mode(&e, edu, VDEV_GROUP)) {
		tap_skip_rest("edu not bound to the driver under test or not openable");
		return tap_done();
	}
	test_edu(&e);
	vdev_close(&e);
	return tap_done();
}
