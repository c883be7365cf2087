// SPDX-License-Identifier: LGPL-2.1-or-later
/* sysfs.c - the PCI device tree as the vfio-memattr command reads it. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vfio-memattr.h"
#include "cli.h"

int read_str(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");
	size_t n;

	if (!f)
		return -errno;
	n = fread(buf, 1, len - 1, f);
	fclose(f);
	buf[n] = 0;
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = 0;
	return 0;
}

int write_str(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, val, strlen(val));
	if (n < 0) {
		int e = -errno;

		close(fd);
		return e;
	}
	close(fd);
	return (size_t)n == strlen(val) ? 0 : -EIO;
}

int link_base(const char *path, char *out, size_t len)
{
	char buf[PATH_MAX];
	ssize_t n = readlink(path, buf, sizeof(buf) - 1);
	const char *b;

	out[0] = 0;
	if (n < 0)
		return -errno;
	buf[n] = 0;
	b = strrchr(buf, '/');
	b = b ? b + 1 : buf;
	if (strlen(b) >= len)
		return -ENAMETOOLONG;
	memcpy(out, b, strlen(b) + 1);
	return 0;
}

void dev_path(char *out, size_t len, const char *bdf, const char *attr)
{
	snprintf(out, len, "%s/devices/%s%s%s", sysfs_pci, bdf, attr ? "/" : "", attr ? attr : "");
}

void cur_driver(const char *bdf, char *out, size_t len)
{
	char p[PATH_MAX];

	dev_path(p, sizeof(p), bdf, "driver");
	link_base(p, out, len);
}

int iommu_group(const char *bdf, char *out, size_t len)
{
	char p[PATH_MAX];

	dev_path(p, sizeof(p), bdf, "iommu_group");
	return link_base(p, out, len);
}

bool group_is_noiommu(const char *bdf)
{
	char p[PATH_MAX], name[32];

	dev_path(p, sizeof(p), bdf, "iommu_group/name");
	return read_str(p, name, sizeof(name)) == 0 && !strcmp(name, "vfio-noiommu");
}

int noiommu_param(void)
{
	char p[PATH_MAX], v[8];

	module_param_path(p, sizeof(p), "vfio", "enable_unsafe_noiommu_mode");
	if (read_str(p, v, sizeof(v)) < 0)
		return -1;
	return v[0] == 'Y' || v[0] == 'y' || v[0] == '1';
}

void module_param_path(char *out, size_t len, const char *mod, const char *name)
{
	snprintf(out, len, "%s/module/%s/parameters/%s", sysfs_root, mod, name);
}

int vfio_pci_is_flavour(void)
{
	char p[PATH_MAX];

	module_param_path(p, sizeof(p), FLAVOUR_MODULE, "max_handles");
	if (access(p, F_OK) == 0)
		return 1;
	snprintf(p, sizeof(p), "%s/module/%s", sysfs_root, FLAVOUR_MODULE);
	return access(p, F_OK) == 0 ? 0 : -1;
}

enum drv_kind driver_kind(const char *bdf, char *drv, size_t len)
{
	char p[PATH_MAX];

	cur_driver(bdf, drv, len);
	if (!drv[0])
		return DRV_NONE;
	if (!strcmp(drv, DRIVER))
		return DRV_MEMATTR;
	if (strcmp(drv, FLAVOUR_DRIVER))
		return DRV_OTHER;
	dev_path(p, sizeof(p), bdf, "memattr_default");
	if (access(p, F_OK) == 0 || vfio_pci_is_flavour() == 1)
		return DRV_FLAVOUR;
	return DRV_STOCK_VFIO_PCI;
}

bool is_vfio_driver(const char *drv)
{
	return !strncmp(drv, "vfio", 4);
}

/* BARs 0..5 from the sysfs resource file. */
int sys_bars(const char *bdf, struct sys_bar bars[6])
{
	char p[PATH_MAX], line[128];
	unsigned long long s, e, fl;
	unsigned int i;
	FILE *f;

	memset(bars, 0, 6 * sizeof(*bars));
	dev_path(p, sizeof(p), bdf, "resource");
	f = fopen(p, "re");
	if (!f)
		return -errno;
	for (i = 0; i < 6 && fgets(line, sizeof(line), f); i++) {
		if (sscanf(line, "%llx %llx %llx", &s, &e, &fl) != 3)
			continue;
		bars[i].start = s;
		bars[i].flags = (unsigned long)fl;
		bars[i].size = (e > s || (s && e == s)) ? e - s + 1 : 0;
	}
	fclose(f);
	return 0;
}

int check_bdf(const char *in, char *bdf, size_t len)
{
	char p[PATH_MAX];
	struct stat st;

	if (vfio_memattr_parse_bdf(in, bdf, len) < 0) {
		fail(EINVAL, NULL, "\"%s\" is not a PCI address (want DDDD:BB:SS.F or BB:SS.F)", in);
		return -EINVAL;
	}
	dev_path(p, sizeof(p), bdf, NULL);
	if (stat(p, &st) < 0) {
		fail(ENODEV, NULL, "%s: no such PCI device (see \"%s list\")", bdf, prog);
		return -ENODEV;
	}
	return 0;
}

/* Explain why a device could not be opened, with what to do next; returns
 * the explanation (static buffer). */
const char *explain_open(const char *bdf, int e)
{
	static char msg[512];
	char drv[64], grp[64];

	cur_driver(bdf, drv, sizeof(drv));
	if (iommu_group(bdf, grp, sizeof(grp)) < 0)
		snprintf(msg, sizeof(msg), "the device has no IOMMU group: enable the IOMMU "
			 "(intel_iommu=on or amd_iommu=on on the kernel command line), or without "
			 "one VFIO's unsafe no-IOMMU mode (see \"%s bind\")", prog);
	else if (group_is_noiommu(bdf) && (e == -EACCES || e == -EPERM))
		snprintf(msg, sizeof(msg), "%s: the device is in VFIO's unsafe no-IOMMU mode "
			 "(/dev/vfio/noiommu-%s): opening it needs CAP_SYS_RAWIO (root)",
			 strerror(-e), grp);
	else if (!is_vfio_driver(drv))
		snprintf(msg, sizeof(msg), "bound to %s, not to a VFIO driver: run \"%s bind %s\"",
			 drv[0] ? drv : "no driver", prog, bdf);
	else if (e == -EBUSY)
		snprintf(msg, sizeof(msg), "%s: the device is in use by another process, or IOMMU "
			 "group %s is not viable (every device in it must be bound to a VFIO driver)",
			 strerror(-e), grp);
	else if (e == -EACCES || e == -EPERM)
		snprintf(msg, sizeof(msg), "%s: run as root or give access to /dev/vfio/%s",
			 strerror(-e), grp);
	else
		snprintf(msg, sizeof(msg), "%s (driver %s, IOMMU group %s)", strerror(-e), drv, grp);
	fail(-e, msg, "%s: cannot open", bdf);
	return msg;
}

/* Is /dev/@name (or a partition of it) mounted or used as swap? */
static bool dev_listed(const char *file, const char *name)
{
	char line[1024], want[128];
	size_t n;
	FILE *f = fopen(file, "re");
	bool found = false;

	if (!f)
		return false;
	n = (size_t)snprintf(want, sizeof(want), "/dev/%s", name);
	while (!found && fgets(line, sizeof(line), f)) {
		/* the disk itself, or a partition: "/dev/vda ", "/dev/vda1 ", "/dev/nvme0n1p2 " */
		if (!strncmp(line, want, n) &&
		    (line[n] == ' ' || line[n] == '\t' || (line[n] >= '0' && line[n] <= '9') ||
		     line[n] == 'p'))
			found = true;
	}
	fclose(f);
	return found;
}

static int in_use_walk(const char *dir, int depth, char *why, size_t len)
{
	char p[PATH_MAX], sub[64];
	struct dirent *de;
	struct stat st;
	int ret = 0;
	DIR *d;

	snprintf(p, sizeof(p), "%s/subsystem", dir);
	if (link_base(p, sub, sizeof(sub)) == 0) {
		const char *name = strrchr(dir, '/') + 1;
		char v[32];

		if (!strcmp(sub, "net")) {
			snprintf(p, sizeof(p), "%s/flags", dir);
			if (read_str(p, v, sizeof(v)) == 0 && (strtoul(v, NULL, 16) & 1)) {
				snprintf(why, len, "network interface %s is up (ip link set %s down)",
					 name, name);
				return 1;
			}
		} else if (!strcmp(sub, "block")) {
			char mounts[PATH_MAX], swaps[PATH_MAX];

			snprintf(mounts, sizeof(mounts), "%s/mounts", proc_root);
			snprintf(swaps, sizeof(swaps), "%s/swaps", proc_root);
			if (dev_listed(mounts, name) || dev_listed(swaps, name)) {
				snprintf(why, len, "disk %s (or a partition of it) is mounted or used "
					 "as swap", name);
				return 1;
			}
			snprintf(p, sizeof(p), "%s/holders", dir);
			d = opendir(p);
			while (d && (de = readdir(d))) {
				if (de->d_name[0] != '.') {
					snprintf(why, len, "disk %s is held by %s", name, de->d_name);
					ret = 1;
					break;
				}
			}
			if (d)
				closedir(d);
			if (ret)
				return 1;
		}
	}
	if (depth >= 6)
		return 0;
	d = opendir(dir);
	if (!d)
		return 0;
	while (!ret && (de = readdir(d))) {
		if (de->d_name[0] == '.' || !strcmp(de->d_name, "subsystem") ||
		    !strcmp(de->d_name, "driver") || !strcmp(de->d_name, "holders"))
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
		if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))	/* never follow links */
			ret = in_use_walk(p, depth + 1, why, len);
	}
	closedir(d);
	return ret;
}

int device_in_use(const char *bdf, char *why, size_t len)
{
	char p[PATH_MAX];

	dev_path(p, sizeof(p), bdf, NULL);
	why[0] = 0;
	return in_use_walk(p, 0, why, len);
}
