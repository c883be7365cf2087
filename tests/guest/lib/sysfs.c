// SPDX-License-Identifier: GPL-2.0-only OR MIT
/* sysfs.c - files, sysfs and PCI devices of the guest tests, see sysfs.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sysfs.h"
#include "tap.h"

ssize_t sysfs_read_file(const char *path, char *buf, size_t size)
{
	size_t done = 0;
	int fd, e;

	if (!size)
		return -EINVAL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while (done < size - 1) {
		ssize_t n = read(fd, buf + done, size - 1 - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			e = errno;
			close(fd);
			buf[done] = '\0';
			return -e;
		}
		if (n == 0)
			break;
		done += (size_t)n;
	}
	buf[done] = '\0';
	close(fd);
	return (ssize_t)done;
}

int sysfs_read_str(const char *path, char *buf, size_t len)
{
	ssize_t n = sysfs_read_file(path, buf, len);

	if (n < 0)
		return (int)n;
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = 0;
	return 0;
}

int sysfs_write_str(const char *path, const char *s)
{
	size_t len = strlen(s);
	ssize_t n;
	int fd, ret = 0;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, s, len);
	if (n < 0)
		ret = -errno;
	else if ((size_t)n != len)
		ret = -EIO;
	close(fd);
	return ret;
}

int sysfs_read_u64(const char *path, uint64_t *v)
{
	char buf[64], *end;
	int rc = sysfs_read_str(path, buf, sizeof(buf));

	if (rc)
		return rc;
	errno = 0;
	*v = strtoull(buf, &end, 0);
	if (errno || end == buf)
		return -EINVAL;
	return 0;
}

const char *ma_bdf(const char *var, char *why, size_t len)
{
	const char *v = getenv(var);
	char path[PATH_MAX];

	if (!v || !*v) {
		if (why)
			snprintf(why, len, "%s not set", var);
		return NULL;
	}
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s", v);
	if (strchr(v, '/') || access(path, F_OK)) {
		if (why)
			snprintf(why, len, "%s=%s: no such PCI device", var, v);
		return NULL;
	}
	return v;
}

const char *ma_bdf_or_skip(const char *var)
{
	char why[256];
	const char *bdf = ma_bdf(var, why, sizeof(why));

	if (!bdf)
		tap_skip_all(why);
	return bdf;
}

int ma_pci_driver(const char *bdf, char *out, size_t len)
{
	char path[PATH_MAX], link[PATH_MAX];
	const char *b;
	ssize_t n;

	if (len)
		out[0] = '\0';
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver", bdf);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return errno == ENOENT ? 0 : -errno;
	link[n] = '\0';
	b = strrchr(link, '/');
	snprintf(out, len, "%s", b ? b + 1 : link);
	return 0;
}

int ma_pci_bind(const char *bdf, const char *driver)
{
	char path[PATH_MAX], cur[256];
	int ret;

	ret = ma_pci_driver(bdf, cur, sizeof(cur));
	if (ret)
		return ret;
	if (!strcmp(cur, driver))
		return 0;
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver_override", bdf);
	ret = sysfs_write_str(path, driver);
	if (ret)
		return ret;
	if (cur[0]) {
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver/unbind", bdf);
		ret = sysfs_write_str(path, bdf);
		if (ret)
			return ret;
	}
	ret = sysfs_write_str("/sys/bus/pci/drivers_probe", bdf);
	if (ret)
		return ret;
	ret = ma_pci_driver(bdf, cur, sizeof(cur));
	if (ret)
		return ret;
	return strcmp(cur, driver) ? -ENODEV : 0;
}

int ma_bar_phys(const char *bdf, unsigned int bar, uint64_t *start, uint64_t *size)
{
	char path[PATH_MAX], line[256];
	unsigned long long s, e, f;
	unsigned int i = 0;
	FILE *fp;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/resource", bdf);
	fp = fopen(path, "re");
	if (!fp)
		return -errno;
	while (fgets(line, sizeof(line), fp)) {
		if (i++ != bar)
			continue;
		fclose(fp);
		if (sscanf(line, "%llx %llx %llx", &s, &e, &f) != 3)
			return -EIO;
		*start = s;
		*size = (s || e) ? e - s + 1 : 0;
		return 0;
	}
	fclose(fp);
	return -ENOENT;
}

int ma_stat(const char *bdf, const char *key, int64_t *v)
{
	char path[PATH_MAX], buf[4096], *line, *save = NULL;
	size_t kl = strlen(key);
	ssize_t n;

	snprintf(path, sizeof(path), "/sys/kernel/debug/vfio-pci-memattr/%s/stats", bdf);
	n = sysfs_read_file(path, buf, sizeof(buf));
	if (n < 0)
		return (int)n;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, key, kl) || !strchr(" \t:", line[kl]) || !line[kl])
			continue;
		line += kl;
		line += strspn(line, " \t:");
		*v = strtoll(line, NULL, 0);
		return 0;
	}
	return -ENOENT;
}
