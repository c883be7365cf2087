// SPDX-License-Identifier: LGPL-2.1-or-later
/* cmd_list.c - vfio-memattr list: PCI devices from sysfs. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vfio-memattr.h"
#include "cli.h"

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted names of the PCI devices; NULL (and *n = 0) on error. */
static char **device_names(size_t *count)
{
	char **names = NULL, p[PATH_MAX];
	size_t n = 0, cap = 0;
	struct dirent *de;
	DIR *d;

	*count = 0;
	snprintf(p, sizeof(p), "%s/devices", sysfs_pci);
	d = opendir(p);
	if (!d) {
		fail(errno, NULL, "%s: %s", p, strerror(errno));
		return NULL;
	}
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (n == cap) {
			char **nn = realloc(names, (cap = cap ? cap * 2 : 64) * sizeof(*names));

			if (!nn)
				break;
			names = nn;
		}
		names[n] = strdup(de->d_name);
		if (names[n])
			n++;
	}
	closedir(d);
	if (n)
		qsort(names, n, sizeof(*names), cmp_str);
	if (!names)
		names = calloc(1, sizeof(*names));
	*count = n;
	return names;
}

static const char *hex_tail(const char *s)
{
	return s[0] ? s + (strncmp(s, "0x", 2) ? 0 : 2) : "?";
}

struct dev_row {
	const char *bdf;
	char drv[64], grp[64], ven[16], did[16], cls[16];
	enum drv_kind kind;
	bool noiommu;		/* a group VFIO made up in no-IOMMU mode */
	struct sys_bar bars[6];
	struct vfio_memattr_dev *dev;
	const char *why;	/* why the attributes are unknown, NULL if known */
};

static void read_row(struct dev_row *r, bool open)
{
	char p[PATH_MAX];

	r->kind = driver_kind(r->bdf, r->drv, sizeof(r->drv));
	if (iommu_group(r->bdf, r->grp, sizeof(r->grp)) < 0)
		r->grp[0] = 0;
	r->noiommu = r->grp[0] && group_is_noiommu(r->bdf);
	dev_path(p, sizeof(p), r->bdf, "vendor");
	if (read_str(p, r->ven, sizeof(r->ven)))
		r->ven[0] = 0;
	dev_path(p, sizeof(p), r->bdf, "device");
	if (read_str(p, r->did, sizeof(r->did)))
		r->did[0] = 0;
	dev_path(p, sizeof(p), r->bdf, "class");
	if (read_str(p, r->cls, sizeof(r->cls)))
		r->cls[0] = 0;
	sys_bars(r->bdf, r->bars);
	r->dev = NULL;
	if (r->kind == DRV_STOCK_VFIO_PCI)
		r->why = "bound to the kernel's " FLAVOUR_DRIVER " (no memattr uAPI)";
	else if (!kind_is_memattr(r->kind))
		r->why = "not bound to " DRIVER " or the vfio-memattr " FLAVOUR_DRIVER;
	else if (!open)
		r->why = "not opened (use --open)";
	else if (vfio_memattr_open(r->bdf, 0, &r->dev) < 0)
		r->why = "cannot open the device (in use?)";
	else
		r->why = NULL;
}

static void print_row(struct json *j, struct dev_row *r)
{
	unsigned int b;

	if (j) {
		json_obj(j, NULL);
		json_str(j, "bdf", r->bdf);
		json_str(j, "vendor", r->ven);
		json_str(j, "device", r->did);
		json_str(j, "class", r->cls);
		json_str(j, "driver", r->drv[0] ? r->drv : NULL);
		json_bool(j, "memattr_driver", kind_is_memattr(r->kind));
		if (r->grp[0])
			json_u64(j, "iommu_group", strtoull(r->grp, NULL, 10));
		else
			json_null(j, "iommu_group");
		json_bool(j, "noiommu", r->noiommu);
		json_bool(j, "attributes_known", !r->why);
		json_str(j, "attributes_unknown_reason", r->why);
		json_arr(j, "bars");
	} else {
		printf("%s %s:%s class %s driver %s%s iommu_group %s%s\n", r->bdf, hex_tail(r->ven),
		       hex_tail(r->did), hex_tail(r->cls), r->drv[0] ? r->drv : "-",
		       r->kind == DRV_FLAVOUR ? " (vfio-memattr)" :
		       r->kind == DRV_STOCK_VFIO_PCI ? " (kernel's)" : "",
		       r->noiommu ? "noiommu-" : "", r->grp[0] ? r->grp : "-");
	}
	for (b = 0; b < 6; b++) {
		struct vfio_memattr_bar bi;
		char sz[32], at[32];
		bool io = r->bars[b].flags & IORES_IO;
		bool pf = r->bars[b].flags & IORES_PREFETCH;
		bool m64 = r->bars[b].flags & IORES_MEM_64;
		bool known = false;

		if (!r->bars[b].size)
			continue;
		if (r->dev && vfio_memattr_bar_info(r->dev, b, &bi) == 0 && bi.kernel_support) {
			known = true;
			attrs_str(bi.supported, at, sizeof(at));
		}
		if (j) {
			json_record(j, NULL, "uusbb+", "bar", (uint64_t)b, "size", r->bars[b].size,
				    "type", io ? "io" : "mem", "prefetchable", pf, "mem64", m64);
			json_bar_attrs(j, known ? &bi : NULL);
			json_end(j);
		} else {
			printf("  BAR%u %-9s %-4s%s%s  attributes: %s\n", b,
			       human_size(r->bars[b].size, sz, sizeof(sz)), io ? "io" : "mem",
			       m64 ? " 64-bit" : "", pf ? " prefetchable" : "",
			       known ? at : "unknown");
		}
	}
	if (j) {
		json_end(j);
		json_end(j);
	} else if (r->why && verbose) {
		printf("  (attributes unknown: %s)\n", r->why);
	}
}

int cmd_list(struct cli_args *a)
{
	struct json j;
	size_t n, i;
	char **names = device_names(&n);

	if (!names)
		return 1;
	json_init(&j, stdout);
	if (a->json) {
		json_obj(&j, NULL);
		json_arr(&j, "devices");
	}
	for (i = 0; i < n; i++) {
		struct dev_row r = { .bdf = names[i] };

		read_row(&r, a->open);
		print_row(a->json ? &j : NULL, &r);
		vfio_memattr_close(r.dev);
		free(names[i]);
	}
	if (a->json) {
		json_end(&j);
		json_null(&j, "error");
		json_end(&j);
	}
	free(names);
	return 0;
}
