// SPDX-License-Identifier: LGPL-2.1-or-later
/* cmd_info.c - vfio-memattr info: regions, attributes per BAR, live handles. */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <linux/vfio.h>

#include "vfio-memattr.h"
#include "cli.h"

static const char *region_name(unsigned int i, char *buf, size_t len)
{
	if (i <= VFIO_PCI_BAR5_REGION_INDEX)
		snprintf(buf, len, "BAR%u", i);
	else if (i == VFIO_PCI_ROM_REGION_INDEX)
		snprintf(buf, len, "ROM");
	else if (i == VFIO_PCI_CONFIG_REGION_INDEX)
		snprintf(buf, len, "config");
	else if (i == VFIO_PCI_VGA_REGION_INDEX)
		snprintf(buf, len, "VGA");
	else
		snprintf(buf, len, "region%u", i);
	return buf;
}

static void region_flags_str(uint32_t f, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%s%s", f & VFIO_REGION_INFO_FLAG_READ ? "read," : "",
		 f & VFIO_REGION_INFO_FLAG_WRITE ? "write," : "",
		 f & VFIO_REGION_INFO_FLAG_MMAP ? "mmap," : "",
		 f & VFIO_REGION_INFO_FLAG_CAPS ? "caps," : "");
	if (buf[0])
		buf[strlen(buf) - 1] = 0;
	else
		snprintf(buf, len, "-");
}

static void bar_flags_str(uint32_t f, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%s%s", f & VFIO_MEMATTR_BAR_IO ? "io" : "mem",
		 f & VFIO_MEMATTR_BAR_MEM64 ? ",64-bit" : "",
		 f & VFIO_MEMATTR_BAR_PREFETCH ? ",prefetchable" : "",
		 f & VFIO_MEMATTR_BAR_MMAP ? ",mmap" : "");
}

/*
 * Live memattr handles of the device, whoever holds it, from the driver's
 * debugfs file (root, debugfs mounted): "handles" is an array, or null
 * when unknown.  Returns their number, or -errno.
 */
static int print_handles(const char *bdf, struct json *j)
{
	char path[PATH_MAX], line[256], attr[8], state[16];
	unsigned int id, bar;
	unsigned long long off, len, moff;
	int n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/kernel/debug/vfio-pci-memattr/%s/handles", bdf);
	f = fopen(path, "re");
	if (!f && errno == ENOENT) {
		/* the vfio-pci flavour of the driver (module vfio_pci) */
		snprintf(path, sizeof(path), "/sys/kernel/debug/vfio-pci/%s/handles", bdf);
		f = fopen(path, "re");
	}
	if (!f) {
		int e = errno;

		if (j)
			json_null(j, "handles");
		else
			printf("live memattr handles: unknown (%s: %s; needs root and debugfs)\n",
			       path, strerror(e));
		return -e;
	}
	if (j)
		json_arr(j, "handles");
	else
		printf("live memattr handles (any process):\n");
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%x %u %llx %llx %7s %llx %15s", &id, &bar, &off, &len, attr,
			   &moff, state) != 7)
			continue;
		if (j)
			json_record(j, NULL, "uuuusus", "handle", (uint64_t)id, "bar", (uint64_t)bar,
				    "offset", (uint64_t)off, "length", (uint64_t)len, "attr", attr,
				    "mmap_offset", (uint64_t)moff, "state", state);
		else
			printf("  handle 0x%x BAR%u 0x%llx+0x%llx %s mmap offset 0x%llx (%s)\n",
			       id, bar, off, len, attr, moff, state);
		n++;
	}
	fclose(f);
	if (j)
		json_end(j);
	else if (!n)
		printf("  none\n");
	return n;
}

static void print_regions(struct vfio_memattr_dev *dev, struct json *j)
{
	int n = vfio_memattr_num_regions(dev);
	char name[24], fl[64];
	unsigned int i;

	if (j)
		json_arr(j, "regions");
	else
		printf("regions:\n  %-5s %-7s %-18s %-18s %s\n", "index", "name", "size",
		       "offset", "flags");
	for (i = 0; i < (unsigned int)(n > 0 ? n : 0); i++) {
		uint64_t size, off;
		uint32_t f;

		if (vfio_memattr_region_info(dev, i, &size, &off, &f) < 0)
			continue;
		region_name(i, name, sizeof(name));
		region_flags_str(f, fl, sizeof(fl));
		if (j)
			json_record(j, NULL, "usuuus", "index", (uint64_t)i, "name", name, "size", size,
				    "offset", off, "flags", (uint64_t)f, "flags_text", fl);
		else
			printf("  %-5u %-7s 0x%-16" PRIx64 " 0x%-16" PRIx64 " %s\n", i, name,
			       size, off, fl);
	}
	if (j)
		json_end(j);
}

static void print_bars(struct vfio_memattr_dev *dev, struct json *j)
{
	unsigned int i, a;
	char fl[64], sz[32];

	if (j)
		json_arr(j, "bars");
	else
		printf("BARs (attributes that may be requested):\n");
	for (i = 0; i <= VFIO_PCI_BAR5_REGION_INDEX; i++) {
		struct vfio_memattr_bar b;

		if (vfio_memattr_bar_info(dev, i, &b) < 0 || !b.size)
			continue;
		bar_flags_str(b.flags, fl, sizeof(fl));
		if (j) {
			json_record(j, NULL, "uuusb+", "bar", (uint64_t)i, "size", b.size, "flags",
				    (uint64_t)b.flags, "flags_text", fl, "kernel_support",
				    b.kernel_support);
			json_bar_attrs(j, &b);
			json_end(j);
		} else {
			printf("  BAR%u %-9s %s\n", i, human_size(b.size, sz, sizeof(sz)), fl);
			for (a = 0; a < VFIO_MEMATTR_NUM_ATTRS; a++)
				printf("      %-3s %s\n", vfio_memattr_attr_name((enum vfio_memattr)a),
				       b.supported & (1u << a) ? "yes" :
				       vfio_memattr_reason_name(b.reason[a]));
		}
	}
	if (j)
		json_end(j);
}

int cmd_info(struct cli_args *a)
{
	struct vfio_memattr_dev *dev;
	struct json js, *j = NULL;
	char bdf[32], drv[64];
	int ret, ks;

	if (check_bdf(a->pos[0], bdf, sizeof(bdf)))
		return 1;
	json_init(&js, stdout);
	if (a->json)
		j = &js;
	cur_driver(bdf, drv, sizeof(drv));
	ret = vfio_memattr_open(bdf, 0, &dev);
	if (ret < 0) {
		explain_open(bdf, ret);
		/* in use by another process: its handles are still worth seeing */
		if (j) {
			json_obj(j, NULL);
			json_str(j, "bdf", bdf);
			json_str(j, "driver", drv[0] ? drv : NULL);
			json_bool(j, "in_use", ret == -EBUSY);
			json_error(j, "error", -ret);
			print_handles(bdf, j);
			json_end(j);
		} else if (ret == -EBUSY) {
			print_handles(bdf, NULL);
		}
		return 1;
	}
	ks = vfio_memattr_kernel_support(dev);
	if (j) {
		json_obj(j, NULL);
		json_str(j, "bdf", bdf);
		json_str(j, "driver", drv[0] ? drv : NULL);
		json_bool(j, "in_use", false);
		json_bool(j, "memattr_uapi", ks == 1);
		json_bool(j, "noiommu", vfio_memattr_is_noiommu(dev) == 1);
	} else {
		printf("%s: driver %s, memattr uAPI: %s\n", bdf, drv[0] ? drv : "-",
		       ks == 1 ? "yes" : "no (plain VFIO: NC only)");
		if (vfio_memattr_is_noiommu(dev) == 1)
			printf("%s: VFIO's unsafe no-IOMMU mode: no DMA isolation, no DMA "
			       "mapping (physical addresses)\n", bdf);
	}
	print_regions(dev, j);
	print_bars(dev, j);
	print_handles(bdf, j);
	if (j) {
		json_null(j, "error");
		json_end(j);
	}
	vfio_memattr_close(dev);
	return 0;
}
