// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * util.c - small helpers shared by the library files
 *
 * See vfio-memattr.h and vfio_memattr(3).
 */
#define _GNU_SOURCE
#define _FILE_OFFSET_BITS 64
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "vfio-memattr.h"
#include "vfio-memattr-private.h"
#include "pat-list.h"

/* Root of sysfs when set (host tests); else $VFIO_MEMATTR_SYSFS or /sys. */
const char *vfio_memattr__sysfs_root;

const char *vfio_memattr__sysfs_dir(void)
{
	const char *e;

	if (vfio_memattr__sysfs_root)
		return vfio_memattr__sysfs_root;
	e = secure_getenv("VFIO_MEMATTR_SYSFS");
	return e && *e ? e : "/sys";
}
/* /dev/vfio; the host tests point it at a directory of their own. */
const char *vfio_memattr__dev_vfio;

const char *vfio_memattr__dev_vfio_dir(void)
{
	return vfio_memattr__dev_vfio ? vfio_memattr__dev_vfio : "/dev/vfio";
}

int vfio_memattr__group_is_noiommu(const char *bdf)
{
	char path[PATH_MAX], name[32];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/iommu_group/name",
		 vfio_memattr__sysfs_dir(), bdf);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, name, sizeof(name) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	name[n] = 0;
	name[strcspn(name, "\n")] = 0;
	return !strcmp(name, "vfio-noiommu");
}

/* The PAT memtype list; tests point it elsewhere. */
const char *vfio_memattr__pat_list = VFIO_MEMATTR__PAT_LIST;


int vfio_memattr__xioctl(int fd, unsigned long req, void *arg)
{
	int ret;

	do {
		ret = ioctl(fd, req, arg);
	} while (ret < 0 && errno == EINTR);
	return ret < 0 ? -errno : ret;
}


int vfio_memattr__read_link_base(const char *path, char *out, size_t outsz)
{
	char buf[PATH_MAX];
	ssize_t n = readlink(path, buf, sizeof(buf) - 1);
	const char *b;

	if (n < 0)
		return -errno;
	buf[n] = 0;
	b = strrchr(buf, '/');
	b = b ? b + 1 : buf;
	if (strlen(b) >= outsz)
		return -ENAMETOOLONG;
	strcpy(out, b);
	return 0;
}

uint64_t vfio_memattr__page_size(void)
{
	long ps = sysconf(_SC_PAGESIZE);

	return ps > 0 ? (uint64_t)ps : 4096;
}

