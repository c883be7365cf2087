// SPDX-License-Identifier: GPL-2.0-only OR MIT
/* harness.c - see harness.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "harness.h"

static unsigned int planned, ran, failed;
static bool plan_printed;

static void header(void)
{
	if (!plan_printed) {
		printf("TAP version 13\n");
		plan_printed = true;
	}
}

void harness_plan(unsigned int n)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	header();
	planned = n;
	printf("1..%u\n", n);
	fflush(stdout);
}

static void result(const char *status, const char *skip, const char *fmt, va_list ap)
{
	header();
	printf("%s %u - ", status, ++ran);
	vprintf(fmt, ap);
	if (skip)
		printf(" # SKIP %s", skip);
	printf("\n");
	fflush(stdout);
}

/* PAT helpers consulted on an architecture without the PAT list (harness.h) */
static bool pat_absent_neutral, pat_absent_unknown;

void harness_pat_absent(bool unknown)
{
	if (unknown)
		pat_absent_unknown = true;
	else
		pat_absent_neutral = true;
}

bool harness_ok(bool cond, const char *fmt, ...)
{
	va_list ap;
	bool skip = pat_absent_unknown || (pat_absent_neutral && cond);

	pat_absent_unknown = pat_absent_neutral = false;
	va_start(ap, fmt);
	if (skip) {
		result("ok", HARNESS_NO_PAT, fmt, ap);
		va_end(ap);
		return cond;
	}
	result(cond ? "ok" : "not ok", NULL, fmt, ap);
	va_end(ap);
	if (!cond)
		failed++;
	return cond;
}

void harness_pass(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	result("ok", NULL, fmt, ap);
	va_end(ap);
}

void harness_fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	result("not ok", NULL, fmt, ap);
	va_end(ap);
	failed++;
}

void harness_skip(const char *reason, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	result("ok", reason, fmt, ap);
	va_end(ap);
}

void harness_skip_rest(const char *reason)
{
	while (ran < planned)
		harness_skip(reason, "skipped");
}

void harness_diag(const char *fmt, ...)
{
	va_list ap;

	header();
	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

int harness_exit(void)
{
	if (ran != planned) {
		harness_diag("planned %u tests but ran %u", planned, ran);
		return 1;
	}
	return failed ? 1 : 0;
}

bool harness_expect_cmp(const char *file, int line, const char *expr,
			unsigned long long a, bool a_neg,
			unsigned long long b, bool b_neg, enum harness_op op)
{
	/* -1: a < b, 0: equal, 1: a > b, by mathematical value */
	int c = a_neg != b_neg ? (a_neg ? -1 : 1) : (a < b ? -1 : a > b);
	bool r;

	switch (op) {
	case HARNESS_EQ: r = c == 0; break;
	case HARNESS_NE: r = c != 0; break;
	case HARNESS_LT: r = c < 0; break;
	case HARNESS_LE: r = c <= 0; break;
	case HARNESS_GT: r = c > 0; break;
	default:         r = c >= 0; break;
	}
	if (!r)
		harness_diag("%s:%d: EXPECT failed: %s (left %s%llu = 0x%llx, right %s%llu = 0x%llx)",
			     file, line, expr, a_neg ? "-" : "", a_neg ? 0 - a : a, a,
			     b_neg ? "-" : "", b_neg ? 0 - b : b, b);
	return r;
}

bool harness_expect_fail(const char *file, int line, const char *expr,
			 unsigned long long a, unsigned long long b)
{
	harness_diag("%s:%d: EXPECT failed: %s (left %lld = 0x%llx, right %lld = 0x%llx)",
		     file, line, expr, (long long)a, a, (long long)b, b);
	return false;
}

ssize_t harness_read_file(const char *path, char *buf, size_t size)
{
	size_t done = 0;
	int fd;

	if (!size)
		return -EINVAL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while (done < size - 1) {
		ssize_t n = read(fd, buf + done, size - 1 - done);

		if (n < 0) {
			int e = errno;

			if (e == EINTR)
				continue;
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

int harness_sysfs_write(const char *path, const char *val)
{
	size_t len = strlen(val);
	ssize_t n;
	int fd, ret = 0;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, val, len);
	if (n < 0)
		ret = -errno;
	else if ((size_t)n != len)
		ret = -EIO;
	close(fd);
	return ret;
}

const char *harness_env_bdf(const char *var)
{
	const char *v = getenv(var);

	return (v && *v) ? v : NULL;
}

int harness_current_driver(const char *bdf, char *buf, size_t size)
{
	char path[PATH_MAX], target[PATH_MAX];
	ssize_t n;
	const char *base;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver", bdf);
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0) {
		if (errno == ENOENT) {
			if (size)
				buf[0] = '\0';
			return 0;
		}
		return -errno;
	}
	target[n] = '\0';
	base = strrchr(target, '/');
	base = base ? base + 1 : target;
	snprintf(buf, size, "%s", base);
	return 0;
}

int harness_bind(const char *bdf, const char *driver)
{
	char path[PATH_MAX], cur[256];
	int ret;

	ret = harness_current_driver(bdf, cur, sizeof(cur));
	if (ret)
		return ret;
	if (!strcmp(cur, driver))
		return 0;
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver_override", bdf);
	ret = harness_sysfs_write(path, driver);
	if (ret)
		return ret;
	if (cur[0]) {
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver/unbind", bdf);
		ret = harness_sysfs_write(path, bdf);
		if (ret)
			return ret;
	}
	ret = harness_sysfs_write("/sys/bus/pci/drivers_probe", bdf);
	if (ret)
		return ret;
	ret = harness_current_driver(bdf, cur, sizeof(cur));
	if (ret)
		return ret;
	return strcmp(cur, driver) ? -ENODEV : 0;
}

int harness_bar_phys(const char *bdf, int bar, uint64_t *start, uint64_t *size)
{
	char path[PATH_MAX], buf[4096], *line, *save = NULL;
	ssize_t n;
	int i = 0;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/resource", bdf);
	n = harness_read_file(path, buf, sizeof(buf));
	if (n < 0)
		return (int)n;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save), i++) {
		unsigned long long s, e, f;

		if (i != bar)
			continue;
		if (sscanf(line, "%llx %llx %llx", &s, &e, &f) != 3)
			return -EINVAL;
		*start = s;
		*size = (s == 0 && e == 0) ? 0 : e - s + 1;
		return 0;
	}
	return -ENOENT;
}

#define PAT_LIST "/sys/kernel/debug/x86/pat_memtype_list"

int harness_pat_entries(uint64_t start, uint64_t end,
			struct harness_pat_entry *out, int max)
{
	FILE *f;
	char line[256];
	int count = 0;

#if !defined(__x86_64__) && !defined(__i386__)
	harness_pat_absent(true);
	return -ENOENT;
#endif
	f = fopen(PAT_LIST, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long s, e;
		char type[32];

		/* PAT: [mem 0x00000000fe000000-0x00000000fe400000] write-combining */
		if (sscanf(line, "PAT: [mem 0x%llx-0x%llx] %31s", &s, &e, type) != 3)
			continue;
		if (s >= end || e <= start)
			continue;
		if (count < max) {
			out[count].start = s;
			out[count].end = e;
			snprintf(out[count].type, sizeof(out[count].type), "%s", type);
		}
		count++;
	}
	fclose(f);
	return count;
}

int harness_pat_lookup(uint64_t start, uint64_t end, char *type_out)
{
	struct harness_pat_entry e[64];
	int n = harness_pat_entries(start, end, e, 64), i;

	type_out[0] = '\0';
	if (n <= 0)
		return n;
	snprintf(type_out, 32, "%s", e[0].type);
	for (i = 1; i < n && i < 64; i++)
		if (strcmp(e[i].type, e[0].type))
			snprintf(type_out, 32, "mixed");
	return n;
}

void harness_pat_dump(uint64_t start, uint64_t end)
{
	struct harness_pat_entry e[64];
	int n, i;

#if !defined(__x86_64__) && !defined(__i386__)
	return;	/* diagnostics only */
#endif
	n = harness_pat_entries(start, end, e, 64);
	if (n < 0) {
		harness_diag("cannot read " PAT_LIST ": %s", strerror(-n));
		return;
	}
	harness_diag("PAT entries overlapping [0x%" PRIx64 "-0x%" PRIx64 "): %d", start, end, n);
	for (i = 0; i < n && i < 64; i++)
		harness_diag("  [0x%" PRIx64 "-0x%" PRIx64 ") %s", e[i].start, e[i].end, e[i].type);
}

int harness_vfio_open(const char *bdf, int *container, int *group, int *device)
{
	char path[PATH_MAX], target[PATH_MAX];
	struct vfio_group_status status = { .argsz = sizeof(status) };
	const char *num;
	ssize_t n;
	int c = -1, g = -1, d = -1, ret;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/iommu_group", bdf);
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0) {
		ret = -errno;
		harness_diag("%s: no iommu_group: %s", bdf, strerror(errno));
		return ret;
	}
	target[n] = '\0';
	num = strrchr(target, '/');
	num = num ? num + 1 : target;

	c = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	if (c < 0) {
		ret = -errno;
		harness_diag("open /dev/vfio/vfio: %s", strerror(errno));
		return ret;
	}
	if (ioctl(c, VFIO_GET_API_VERSION) != VFIO_API_VERSION) {
		harness_diag("VFIO_GET_API_VERSION mismatch");
		ret = -EINVAL;
		goto err;
	}
	if (ioctl(c, VFIO_CHECK_EXTENSION, VFIO_TYPE1_IOMMU) != 1) {
		harness_diag("VFIO_TYPE1_IOMMU not supported");
		ret = -EOPNOTSUPP;
		goto err;
	}
	snprintf(path, sizeof(path), "/dev/vfio/%.64s", num);
	g = open(path, O_RDWR | O_CLOEXEC);
	if (g < 0) {
		ret = -errno;
		harness_diag("open %s: %s", path, strerror(errno));
		goto err;
	}
	if (ioctl(g, VFIO_GROUP_GET_STATUS, &status) < 0) {
		ret = -errno;
		harness_diag("VFIO_GROUP_GET_STATUS: %s", strerror(errno));
		goto err;
	}
	if (!(status.flags & VFIO_GROUP_FLAGS_VIABLE)) {
		harness_diag("group %s not viable (all devices bound to vfio drivers?)", num);
		ret = -EBUSY;
		goto err;
	}
	if (ioctl(g, VFIO_GROUP_SET_CONTAINER, &c) < 0) {
		ret = -errno;
		harness_diag("VFIO_GROUP_SET_CONTAINER: %s", strerror(errno));
		goto err;
	}
	if (ioctl(c, VFIO_SET_IOMMU, VFIO_TYPE1_IOMMU) < 0) {
		ret = -errno;
		harness_diag("VFIO_SET_IOMMU: %s", strerror(errno));
		goto err;
	}
	d = ioctl(g, VFIO_GROUP_GET_DEVICE_FD, bdf);
	if (d < 0) {
		ret = -errno;
		harness_diag("VFIO_GROUP_GET_DEVICE_FD %s: %s", bdf, strerror(errno));
		goto err;
	}
	*container = c;
	*group = g;
	*device = d;
	return 0;
err:
	if (g >= 0)
		close(g);
	close(c);
	return ret;
}

void harness_vfio_close(int container, int group, int device)
{
	if (device >= 0)
		close(device);
	if (group >= 0)
		close(group);
	if (container >= 0)
		close(container);
}

int harness_region_info(int device, unsigned int index, struct vfio_region_info *info)
{
	memset(info, 0, sizeof(*info));
	info->argsz = sizeof(*info);
	info->index = index;
	return ioctl(device, VFIO_DEVICE_GET_REGION_INFO, info) < 0 ? -errno : 0;
}

void harness_hostcheck(const char *dev, uint64_t offset, uint64_t length,
		       uint64_t seed, const char *fmt, ...)
{
	va_list ap;

	header();
	printf("# HOSTCHECK %s %" PRIu64 " %" PRIu64 " 0x%016" PRIx64 " ", dev, offset, length, seed);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}
