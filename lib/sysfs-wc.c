// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * sysfs-wc.c - the sysfs resourceN_wc fallback, checked against the x86 PAT list
 *
 * See vfio-memattr.h and vfio_memattr(3).
 */
#define _GNU_SOURCE
#define _FILE_OFFSET_BITS 64
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vfio-memattr.h"
#include "vfio-memattr-private.h"
#include "pat-list.h"

/*
 * Look up the physical range in the x86 PAT memtype list.  Returns 1 if
 * every reservation overlapping [start, end) is write-combining and there
 * is at least one, 0 if one is of another type, -errno if the list cannot
 * be read (no debugfs, not root, not x86).
 */
struct wc_check {
	int found, bad;
};

static void wc_check_one(const struct vfio_memattr__pat_entry *e, void *arg)
{
	struct wc_check *c = arg;

	if (!strcmp(e->type, "write-combining"))
		c->found = 1;
	else
		c->bad = 1;
}

int vfio_memattr__pat_check_wc(const char *list, uint64_t start, uint64_t end)
{
	struct wc_check c = { 0 };
	int ret = vfio_memattr__pat_foreach(list, start, end, wc_check_one, &c);

	if (ret < 0)
		return ret;
	if (c.bad)
		return 0;
	return c.found ? 1 : -ENOENT;
}

static int sysfs_bar_phys(const char *bdf, unsigned int bar, uint64_t *start)
{
	char path[PATH_MAX], line[128];
	unsigned long long s, e, fl;
	unsigned int i;
	FILE *f;
	int ret = -ENOENT;

	snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/resource",
		 vfio_memattr__sysfs_dir(), bdf);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	for (i = 0; fgets(line, sizeof(line), f); i++) {
		if (i == bar) {
			if (sscanf(line, "%llx %llx %llx", &s, &e, &fl) == 3) {
				*start = s;
				ret = 0;
			}
			break;
		}
	}
	fclose(f);
	return ret;
}

int vfio_memattr__map_sysfs_wc(struct vfio_memattr_dev *dev, struct vfio_memattr_mapping *m)
{
	char path[PATH_MAX];
	uint64_t phys = 0;
	struct stat st;
	void *addr;
	int fd, ret;

	if (!dev->bdf[0]) {
		log_dbg(dev, "sysfs WC fallback: PCI address unknown (use vfio_memattr_set_bdf)");
		return -EOPNOTSUPP;
	}
	snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/resource%u_wc",
		 vfio_memattr__sysfs_dir(), dev->bdf, m->bar);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		log_dbg(dev, "%s: %s", path, strerror(-ret));
		return ret == -ENOENT ? -EOPNOTSUPP : ret;
	}
	if (fstat(fd, &st) == 0 && st.st_size > 0 &&
	    (m->offset > (uint64_t)st.st_size ||
	     m->length > (uint64_t)st.st_size - m->offset)) {
		close(fd);
		return -EINVAL;
	}
	addr = vfio_memattr__map_range(m, fd, (off_t)m->offset);
	ret = addr == MAP_FAILED ? -errno : 0;
	close(fd);
	if (ret < 0) {
		log_err(dev, "%s: mmap: %s", path, strerror(-ret));
		return ret;
	}
	/* x86 PAT silently hands out the type already reserved for the
	 * range (e.g. UC- from vfio-pci's own mapping).  Report WC only when
	 * the PAT list says write-combining for the whole range: fail closed
	 * when it cannot be read (no debugfs, not root) or lacks the range. */
#if defined(__x86_64__)
	ret = sysfs_bar_phys(dev->bdf, m->bar, &phys);
	if (ret == 0)
		ret = vfio_memattr__pat_check_wc(vfio_memattr__pat_list, phys + m->offset,
						 phys + m->offset + m->length);
	if (ret <= 0) {
		if (ret == 0)
			log_err(dev, "%s: resource%u_wc was mapped with another memory type (PAT conflict): refusing",
				dev->bdf, m->bar);
		else
			log_err(dev, "%s: cannot verify the memory type of the resource%u_wc mapping in %s (%s): refusing",
				dev->bdf, m->bar, vfio_memattr__pat_list, strerror(-ret));
		vfio_memattr__unmap_range(m, addr);
		return ret == 0 ? -EBUSY : -EOPNOTSUPP;
	}
#else
	/* arm64: resourceN_wc is mapped Normal-NC, there is no PAT to differ */
	(void)phys;
	(void)sysfs_bar_phys;
#endif
	log_warn(dev, "%s: BAR%u mapped through sysfs resource%u_wc: not revoked by VFIO on reset",
		 dev->bdf, m->bar, m->bar);
	m->addr = addr;
	m->attr = VFIO_MEMATTR_WC;
	m->source = VFIO_MEMATTR_SRC_SYSFS_WC;
	m->handle = 0;
	return 0;
}

