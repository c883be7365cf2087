// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * vfio-memattr - inspect PCI devices, bind them to vfio-pci-memattr, and map
 * BAR ranges with a memory attribute.  See vfio-memattr(1).
 */
#define _GNU_SOURCE
#define _FILE_OFFSET_BITS 64
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/vfio.h>

#include "vfio-memattr.h"
#include "vfio-memattr-mmio.h"
#include "spec.h"
#include "../tests/common/pattern.h"

#define DRIVER		"vfio-pci-memattr"
#define MODULE		"vfio_pci_memattr"
#define STATE_DIR	"/run/vfio-memattr"

/* $VFIO_MEMATTR_SYSFS (default /sys) + /bus/pci, and $VFIO_MEMATTR_STATE_DIR:
 * the host tests point them at a fake tree. */
static char sysfs_pci[1024] = "/sys/bus/pci";
static const char *state_dir = STATE_DIR;

/* IORESOURCE_* flags of the sysfs "resource" file (include/linux/ioport.h) */
#define IORES_IO	0x00000100ul
#define IORES_MEM	0x00000200ul
#define IORES_PREFETCH	0x00002000ul
#define IORES_MEM_64	0x00100000ul

static const char *prog = "vfio-memattr";
static int verbose;

/* ---- output helpers ---------------------------------------------------- */

__attribute__((format(printf, 1, 2)))
static void err(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void lib_log(void *ctx, int level, const char *msg)
{
	(void)ctx;
	if (level == VFIO_MEMATTR_LOG_WARNING || verbose)
		fprintf(stderr, "%s: lib: %s\n", prog, msg);
}

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", f);
		else if (c == '\t')
			fputs("\\t", f);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static const char *human_size(uint64_t v, char *buf, size_t len)
{
	if (v >= (1ull << 30) && !(v & ((1ull << 30) - 1)))
		snprintf(buf, len, "%" PRIu64 " GiB", v >> 30);
	else if (v >= (1ull << 20) && !(v & ((1ull << 20) - 1)))
		snprintf(buf, len, "%" PRIu64 " MiB", v >> 20);
	else if (v >= (1ull << 10) && !(v & ((1ull << 10) - 1)))
		snprintf(buf, len, "%" PRIu64 " KiB", v >> 10);
	else
		snprintf(buf, len, "%" PRIu64 " B", v);
	return buf;
}

static void attrs_str(uint32_t mask, char *buf, size_t len)
{
	unsigned int a;
	size_t n = 0;

	buf[0] = 0;
	for (a = 0; a < VFIO_MEMATTR_NR; a++)
		if (mask & (1u << a))
			n += (size_t)snprintf(buf + n, n < len ? len - n : 0, "%s%s",
					      n ? "," : "", vfio_memattr_attr_name((enum vfio_memattr)a));
	if (!n)
		snprintf(buf, len, "none");
}

/* ---- sysfs helpers ------------------------------------------------------ */

static int read_str(const char *path, char *buf, size_t len)
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

static int write_str(const char *path, const char *val)
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

static int link_base(const char *path, char *out, size_t len)
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

static void dev_path(char *out, size_t len, const char *bdf, const char *attr)
{
	snprintf(out, len, "%s/devices/%s%s%s", sysfs_pci, bdf, attr ? "/" : "", attr ? attr : "");
}

static void cur_driver(const char *bdf, char *out, size_t len)
{
	char p[PATH_MAX];

	dev_path(p, sizeof(p), bdf, "driver");
	link_base(p, out, len);
}

static int iommu_group(const char *bdf, char *out, size_t len)
{
	char p[PATH_MAX];

	dev_path(p, sizeof(p), bdf, "iommu_group");
	return link_base(p, out, len);
}

static bool is_vfio_driver(const char *drv)
{
	return !strncmp(drv, "vfio", 4);
}

struct sys_bar {
	uint64_t start, size;
	unsigned long flags;
};

/* BARs 0..5 from the sysfs resource file. */
static int sys_bars(const char *bdf, struct sys_bar bars[6])
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

static int check_bdf(const char *in, char *bdf, size_t len)
{
	char p[PATH_MAX];
	struct stat st;

	if (vfio_memattr_parse_bdf(in, bdf, len) < 0) {
		err("\"%s\" is not a PCI address (want DDDD:BB:SS.F or BB:SS.F)", in);
		return -EINVAL;
	}
	dev_path(p, sizeof(p), bdf, NULL);
	if (stat(p, &st) < 0) {
		err("%s: no such PCI device (see \"%s list\")", bdf, prog);
		return -ENODEV;
	}
	return 0;
}

/* Explain why a device could not be opened, with what to do next; returns
 * the explanation (static buffer). */
static const char *explain_open(const char *bdf, int e)
{
	static char msg[512];
	char drv[64], grp[64];

	cur_driver(bdf, drv, sizeof(drv));
	if (iommu_group(bdf, grp, sizeof(grp)) < 0)
		snprintf(msg, sizeof(msg), "the device has no IOMMU group: enable the IOMMU "
			 "(intel_iommu=on or amd_iommu=on on the kernel command line)");
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
	err("%s: cannot open: %s", bdf, msg);
	return msg;
}

/* ---- list ----------------------------------------------------------------- */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmd_list(bool json, bool no_open)
{
	char **names = NULL, p[PATH_MAX], drv[64], grp[64], ven[16], did[16], cls[16];
	size_t n = 0, cap = 0, i;
	struct dirent *de;
	DIR *d;

	snprintf(p, sizeof(p), "%s/devices", sysfs_pci);
	d = opendir(p);
	if (!d) {
		err("%s: %s", p, strerror(errno));
		return 1;
	}
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (n == cap) {
			char **nn = realloc(names, (cap = cap ? cap * 2 : 64) * sizeof(*names));

			if (!nn)
				return 1;
			names = nn;
		}
		names[n++] = strdup(de->d_name);
	}
	closedir(d);
	if (n)
		qsort(names, n, sizeof(*names), cmp_str);

	if (json)
		printf("{\"devices\":[");
	for (i = 0; i < n; i++) {
		const char *bdf = names[i];
		struct sys_bar bars[6];
		struct vfio_memattr_dev *dev = NULL;
		const char *why = NULL;
		unsigned int b, nb = 0;

		cur_driver(bdf, drv, sizeof(drv));
		if (iommu_group(bdf, grp, sizeof(grp)) < 0)
			grp[0] = 0;
		dev_path(p, sizeof(p), bdf, "vendor");
		if (read_str(p, ven, sizeof(ven)))
			ven[0] = 0;
		dev_path(p, sizeof(p), bdf, "device");
		if (read_str(p, did, sizeof(did)))
			did[0] = 0;
		dev_path(p, sizeof(p), bdf, "class");
		if (read_str(p, cls, sizeof(cls)))
			cls[0] = 0;
		sys_bars(bdf, bars);

		if (strcmp(drv, DRIVER))
			why = "not bound to " DRIVER;
		else if (no_open)
			why = "not opened (--no-open)";
		else if (vfio_memattr_open(bdf, 0, &dev) < 0)
			why = "cannot open the device (in use?)";

		if (json) {
			printf("%s{\"bdf\":", i ? "," : "");
			json_str(stdout, bdf);
			printf(",\"vendor\":");
			json_str(stdout, ven);
			printf(",\"device\":");
			json_str(stdout, did);
			printf(",\"class\":");
			json_str(stdout, cls);
			printf(",\"driver\":");
			if (drv[0])
				json_str(stdout, drv);
			else
				printf("null");
			printf(",\"iommu_group\":%s%s%s", grp[0] ? "" : "null", grp, "");
			if (why) {
				printf(",\"attributes_unknown_reason\":");
				json_str(stdout, why);
			}
			printf(",\"bars\":[");
		} else {
			printf("%s %s:%s class %s driver %s iommu_group %s\n", bdf,
			       ven[0] ? ven + (strncmp(ven, "0x", 2) ? 0 : 2) : "?",
			       did[0] ? did + (strncmp(did, "0x", 2) ? 0 : 2) : "?",
			       cls[0] ? cls + (strncmp(cls, "0x", 2) ? 0 : 2) : "?",
			       drv[0] ? drv : "-", grp[0] ? grp : "-");
		}
		for (b = 0; b < 6; b++) {
			struct vfio_memattr_bar bi;
			char sz[32], at[32];
			bool io = bars[b].flags & IORES_IO;
			bool pf = bars[b].flags & IORES_PREFETCH;
			bool m64 = bars[b].flags & IORES_MEM_64;
			bool known = false;

			if (!bars[b].size)
				continue;
			if (dev && vfio_memattr_bar_info(dev, b, &bi) == 0 && bi.kernel_support) {
				known = true;
				attrs_str(bi.supported, at, sizeof(at));
			}
			if (json) {
				printf("%s{\"bar\":%u,\"size\":%" PRIu64 ",\"type\":\"%s\","
				       "\"prefetchable\":%s,\"mem64\":%s,\"attributes\":",
				       nb++ ? "," : "", b, bars[b].size,
				       io ? "io" : "mem", pf ? "true" : "false",
				       m64 ? "true" : "false");
				if (known) {
					unsigned int a, k = 0;

					printf("[");
					for (a = 0; a < VFIO_MEMATTR_NR; a++)
						if (bi.supported & (1u << a))
							printf("%s\"%s\"", k++ ? "," : "",
							       vfio_memattr_attr_name((enum vfio_memattr)a));
					printf("]}");
				} else {
					printf("\"unknown\"}");
				}
			} else {
				printf("  BAR%u %-9s %-4s%s%s  attributes: %s\n", b,
				       human_size(bars[b].size, sz, sizeof(sz)),
				       io ? "io" : "mem", m64 ? " 64-bit" : "",
				       pf ? " prefetchable" : "",
				       known ? at : "unknown");
			}
		}
		if (json)
			printf("]}");
		else if (why && verbose)
			printf("  (attributes unknown: %s)\n", why);
		vfio_memattr_close(dev);
		free(names[i]);
	}
	if (json)
		printf("]}\n");
	free(names);
	return 0;
}

/* ---- bind / unbind -------------------------------------------------------- */

static int run_modprobe(void)
{
	pid_t pid = fork();
	int st;

	if (pid < 0)
		return -errno;
	if (pid == 0) {
		execlp("modprobe", "modprobe", MODULE, (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &st, 0) < 0)
		return -errno;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -ENOENT;
}

/* Every other device of the group must be unbound or bound to a driver that
 * VFIO accepts in a viable group. */
static int group_viable(const char *bdf, const char *grp)
{
	char p[PATH_MAX], drv[64];
	struct dirent *de;
	int bad = 0;
	DIR *d;

	dev_path(p, sizeof(p), bdf, "iommu_group/devices");
	d = opendir(p);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' || !strcmp(de->d_name, bdf))
			continue;
		cur_driver(de->d_name, drv, sizeof(drv));
		if (!drv[0] || is_vfio_driver(drv) || !strcmp(drv, "pci-stub") ||
		    !strcmp(drv, "pcieport"))
			continue;
		err("%s: IOMMU group %s is not viable: %s is bound to %s; bind it to a VFIO "
		    "driver (\"%s bind %s\") or unbind it first", bdf, grp, de->d_name, drv,
		    prog, de->d_name);
		bad = 1;
	}
	closedir(d);
	return bad ? -EBUSY : 0;
}

static int cmd_bind(const char *arg)
{
	char bdf[32], drv[64], grp[64], p[PATH_MAX], state[PATH_MAX], cur[64];
	struct stat st;
	int ret;

	if (check_bdf(arg, bdf, sizeof(bdf)))
		return 1;
	cur_driver(bdf, drv, sizeof(drv));
	if (!strcmp(drv, DRIVER)) {
		printf("%s: already bound to %s\n", bdf, DRIVER);
		return 0;
	}
	if (iommu_group(bdf, grp, sizeof(grp)) < 0) {
		err("%s: the device has no IOMMU group: enable the IOMMU (intel_iommu=on or "
		    "amd_iommu=on on the kernel command line); refusing to bind", bdf);
		return 1;
	}
	ret = group_viable(bdf, grp);
	if (ret < 0) {
		if (ret != -EBUSY)
			err("%s: cannot list the devices of IOMMU group %s: %s", bdf, grp,
			    strerror(-ret));
		return 1;
	}
	snprintf(p, sizeof(p), "%s/drivers/" DRIVER, sysfs_pci);
	if (stat(p, &st) < 0) {
		if (run_modprobe() < 0 || stat(p, &st) < 0) {
			err("driver %s is not available: \"modprobe %s\" failed (build and install "
			    "the module from kernel/)", DRIVER, MODULE);
			return 1;
		}
	}
	if (mkdir(state_dir, 0755) < 0 && errno != EEXIST) {
		err("%s: %s", state_dir, strerror(errno));
		return 1;
	}
	snprintf(state, sizeof(state), "%s/%s.driver", state_dir, bdf);
	/* Keep the first remembered driver if we are re-binding from a VFIO
	 * driver we bound ourselves. */
	if (access(state, F_OK) < 0 || !is_vfio_driver(drv)) {
		FILE *f = fopen(state, "we");

		if (!f) {
			err("%s: %s", state, strerror(errno));
			return 1;
		}
		char ovr[64] = "";

		/* line 1: the driver, line 2: the driver_override to restore */
		dev_path(p, sizeof(p), bdf, "driver_override");
		if (read_str(p, ovr, sizeof(ovr)) < 0 || !strcmp(ovr, "(null)"))
			ovr[0] = 0;
		fprintf(f, "%s\n%s\n", drv, ovr);
		if (fclose(f)) {
			err("%s: %s", state, strerror(errno));
			return 1;
		}
	}
	dev_path(p, sizeof(p), bdf, "driver_override");
	ret = write_str(p, DRIVER);
	if (ret < 0) {
		err("%s: %s (run as root)", p, strerror(-ret));
		return 1;
	}
	if (drv[0]) {
		dev_path(p, sizeof(p), bdf, "driver/unbind");
		ret = write_str(p, bdf);
		if (ret < 0) {
			err("%s: unbind from %s: %s", bdf, drv, strerror(-ret));
			return 1;
		}
	}
	snprintf(p, sizeof(p), "%s/drivers_probe", sysfs_pci);
	ret = write_str(p, bdf);
	cur_driver(bdf, cur, sizeof(cur));
	if (strcmp(cur, DRIVER)) {
		err("%s: binding to %s failed (%s); see dmesg", bdf, DRIVER,
		    ret < 0 ? strerror(-ret) : "driver did not take the device");
		return 1;
	}
	printf("%s: bound to %s (was %s, IOMMU group %s)\n", bdf, DRIVER,
	       drv[0] ? drv : "no driver", grp);
	return 0;
}

static int cmd_unbind(const char *arg)
{
	char bdf[32], drv[64], prev[64] = "", ovr[64] = "", p[PATH_MAX], state[PATH_MAX];
	bool remembered = false;
	FILE *f;
	int ret;

	if (check_bdf(arg, bdf, sizeof(bdf)))
		return 1;
	snprintf(state, sizeof(state), "%s/%s.driver", state_dir, bdf);
	f = fopen(state, "re");
	if (f) {
		remembered = true;
		if (!fgets(prev, sizeof(prev), f) || !fgets(ovr, sizeof(ovr), f))
			ovr[0] = 0;
		fclose(f);
		prev[strcspn(prev, "\n")] = 0;
		ovr[strcspn(ovr, "\n")] = 0;
	}
	cur_driver(bdf, drv, sizeof(drv));
	if (strcmp(drv, DRIVER)) {
		err("%s: not bound to %s (driver: %s); nothing to do", bdf, DRIVER,
		    drv[0] ? drv : "none");
		return 1;
	}
	/* The previous driver may match the device only through
	 * driver_override (vfio-pci): probe with the override set to it, then
	 * restore the override that was there before "bind". */
	dev_path(p, sizeof(p), bdf, "driver_override");
	ret = write_str(p, prev[0] ? prev : "\n");
	if (ret < 0) {
		err("%s: %s (run as root)", p, strerror(-ret));
		return 1;
	}
	dev_path(p, sizeof(p), bdf, "driver/unbind");
	ret = write_str(p, bdf);
	if (ret < 0) {
		err("%s: unbind from %s: %s", bdf, DRIVER, strerror(-ret));
		return 1;
	}
	if (prev[0] || !remembered) {
		snprintf(p, sizeof(p), "%s/drivers_probe", sysfs_pci);
		write_str(p, bdf);
	}
	dev_path(p, sizeof(p), bdf, "driver_override");
	ret = write_str(p, ovr[0] ? ovr : "\n");
	if (ret < 0)
		err("%s: restoring \"%s\": %s", p, ovr, strerror(-ret));
	unlink(state);
	cur_driver(bdf, drv, sizeof(drv));
	if (prev[0] && strcmp(drv, prev)) {
		err("%s: unbound, but could not bind %s again (now: %s)", bdf, prev,
		    drv[0] ? drv : "no driver");
		return 1;
	}
	printf("%s: unbound from %s, now %s\n", bdf, DRIVER, drv[0] ? drv : "without driver");
	return 0;
}

/* ---- info ------------------------------------------------------------------ */

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
 * debugfs file (root, debugfs mounted).  Prints them (JSON: an array, or
 * null when unknown) and returns their number, or -errno.
 */
static int print_handles(const char *bdf, bool json, const char *lead)
{
	char path[PATH_MAX], line[256], attr[8], state[16];
	unsigned int id, bar;
	unsigned long long off, len, moff;
	int n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/kernel/debug/vfio-pci-memattr/%s/handles", bdf);
	f = fopen(path, "r");
	if (!f && errno == ENOENT) {
		/* the vfio-pci flavour of the driver (module vfio_pci) */
		snprintf(path, sizeof(path), "/sys/kernel/debug/vfio-pci/%s/handles", bdf);
		f = fopen(path, "r");
	}
	if (!f) {
		int e = errno;

		if (json)
			printf("%s\"handles\":null", lead);
		else
			printf("live memattr handles: unknown (%s: %s; needs root and debugfs)\n",
			       path, strerror(e));
		return -e;
	}
	if (json)
		printf("%s\"handles\":[", lead);
	else
		printf("live memattr handles (any process):\n");
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%x %u %llx %llx %7s %llx %15s", &id, &bar, &off, &len, attr,
			   &moff, state) != 7)
			continue;
		if (json)
			printf("%s{\"handle\":%u,\"bar\":%u,\"offset\":%llu,\"length\":%llu,"
			       "\"attr\":\"%s\",\"mmap_offset\":%llu,\"state\":\"%s\"}",
			       n ? "," : "", id, bar, off, len, attr, moff, state);
		else
			printf("  handle 0x%x BAR%u 0x%llx+0x%llx %s mmap offset 0x%llx (%s)\n",
			       id, bar, off, len, attr, moff, state);
		n++;
	}
	fclose(f);
	if (json)
		printf("]");
	else if (!n)
		printf("  none\n");
	return n;
}

static int cmd_info(const char *arg, bool json)
{
	struct vfio_memattr_dev *dev;
	char bdf[32], drv[64], name[24], fl[64];
	int ret, n, ks;
	unsigned int i, a;

	if (check_bdf(arg, bdf, sizeof(bdf)))
		return 1;
	ret = vfio_memattr_open(bdf, 0, &dev);
	if (ret < 0) {
		explain_open(bdf, ret);
		/* in use by another process: its handles are still worth seeing */
		if (ret == -EBUSY) {
			if (json)
				printf("{\"bdf\":\"%s\",\"in_use\":true", bdf);
			print_handles(bdf, json, ",");
			if (json)
				printf("}\n");
		}
		return 1;
	}
	cur_driver(bdf, drv, sizeof(drv));
	n = vfio_memattr_num_regions(dev);
	ks = vfio_memattr_kernel_support(dev);
	if (json) {
		printf("{\"bdf\":\"%s\",\"driver\":", bdf);
		json_str(stdout, drv);
		printf(",\"memattr_uapi\":%s,\"regions\":[", ks == 1 ? "true" : "false");
	} else {
		printf("%s: driver %s, memattr uAPI: %s\n", bdf, drv[0] ? drv : "-",
		       ks == 1 ? "yes" : "no (plain VFIO: NC only)");
		printf("regions:\n  %-5s %-7s %-18s %-18s %s\n", "index", "name", "size",
		       "offset", "flags");
	}
	for (i = 0; i < (unsigned int)(n > 0 ? n : 0); i++) {
		uint64_t size, off;
		uint32_t f;

		if (vfio_memattr_region_info(dev, i, &size, &off, &f) < 0)
			continue;
		region_name(i, name, sizeof(name));
		region_flags_str(f, fl, sizeof(fl));
		if (json)
			printf("%s{\"index\":%u,\"name\":\"%s\",\"size\":%" PRIu64
			       ",\"offset\":%" PRIu64 ",\"flags\":%u,\"flags_text\":\"%s\"}",
			       i ? "," : "", i, name, size, off, f, fl);
		else
			printf("  %-5u %-7s 0x%-16" PRIx64 " 0x%-16" PRIx64 " %s\n", i, name,
			       size, off, fl);
	}
	if (json)
		printf("],\"bars\":[");
	else
		printf("BARs (attributes that may be requested):\n");
	for (i = 0, n = 0; i <= VFIO_PCI_BAR5_REGION_INDEX; i++) {
		struct vfio_memattr_bar b;
		char sz[32];

		if (vfio_memattr_bar_info(dev, i, &b) < 0 || !b.size)
			continue;
		bar_flags_str(b.flags, fl, sizeof(fl));
		if (json) {
			printf("%s{\"bar\":%u,\"size\":%" PRIu64 ",\"flags\":%u,\"flags_text\":\"%s\","
			       "\"kernel_support\":%s,\"attributes\":{", n++ ? "," : "", i, b.size,
			       b.flags, fl, b.kernel_support ? "true" : "false");
			for (a = 0; a < VFIO_MEMATTR_NR; a++)
				printf("%s\"%s\":{\"supported\":%s,\"reason\":%u,\"reason_text\":\"%s\"}",
				       a ? "," : "", vfio_memattr_attr_name((enum vfio_memattr)a),
				       b.supported & (1u << a) ? "true" : "false", b.reason[a],
				       vfio_memattr_reason_name(b.reason[a]));
			printf("}}");
		} else {
			printf("  BAR%u %-9s %s\n", i, human_size(b.size, sz, sizeof(sz)), fl);
			for (a = 0; a < VFIO_MEMATTR_NR; a++)
				printf("      %-3s %s\n", vfio_memattr_attr_name((enum vfio_memattr)a),
				       b.supported & (1u << a) ? "yes" :
				       vfio_memattr_reason_name(b.reason[a]));
		}
	}
	if (json)
		printf("]");
	print_handles(bdf, json, ",");
	if (json)
		printf("}\n");
	vfio_memattr_close(dev);
	return 0;
}

/* ---- map -------------------------------------------------------------------- */

static const char *map_hint(int e, const char *bdf, bool kernel)
{
	static char buf[2048];

	switch (e) {
	case -EPERM:
		snprintf(buf, sizeof(buf), "refused by policy: WC/DEV on a non-prefetchable BAR "
			 "needs the administrator's opt-in (echo 1 > " "%s/devices/%s/"
			 "memattr_nonprefetchable_wc, or module parameter "
			 MODULE ".nonprefetchable_wc=1 for devices bound later); or ask for NC",
			 sysfs_pci, bdf);
		return buf;
	case -EBUSY:
		return "the range is in use with another attribute (an overlapping handle, a "
		       "plain mmap of the BAR, an ioeventfd, or a conflicting memory type "
		       "reservation): release it or ask for the attribute already in use";
	case -EOPNOTSUPP:
		if (!kernel) {
			snprintf(buf, sizeof(buf), "the driver does not offer memory attributes: "
				 "bind the device with \"vfio-memattr bind %s\", or add NC to the "
				 "attribute list (or --allow-sysfs for WC on prefetchable BARs)", bdf);
			return buf;
		}
		return "the BAR cannot be mapped with these attributes (I/O or non-mmappable "
		       "BAR, or not available on this architecture); see \"vfio-memattr info\"";
	case -EINVAL:
		return "OFFSET and LENGTH must be page aligned, non-zero and inside the BAR "
		       "(see \"vfio-memattr info\")";
	case -ENOSPC:
		return "no handle left: raise the max_handles module parameter of "
		       "vfio-pci-memattr, or unmap something";
	case -ENOMEM:
		return "out of memory";
	default:
		return "";
	}
}

struct map_res {
	const char *text;
	struct vm_spec spec;
	struct vfio_memattr_mapping *m;
	int ret;
	bool wrote;
};

static int run_cmd(const char *cmd)
{
	struct sigaction ign = { .sa_handler = SIG_IGN }, oi, oq;
	pid_t pid;
	int st;

	fflush(NULL);
	sigemptyset(&ign.sa_mask);
	sigaction(SIGINT, &ign, &oi);
	sigaction(SIGQUIT, &ign, &oq);
	pid = fork();
	if (pid < 0) {
		err("fork: %s", strerror(errno));
		return 1;
	}
	if (pid == 0) {
		sigaction(SIGINT, &oi, NULL);
		sigaction(SIGQUIT, &oq, NULL);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	while (waitpid(pid, &st, 0) < 0) {
		if (errno != EINTR) {
			st = 127 << 8;
			break;
		}
	}
	sigaction(SIGINT, &oi, NULL);
	sigaction(SIGQUIT, &oq, NULL);
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	return 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
}

static int write_pattern(struct vfio_memattr_mapping *m, uint64_t seed)
{
	uint64_t len = vfio_memattr_mapping_length(m);
	void *buf;
	int ret;

	if (len > SIZE_MAX || (len & 63))
		return -EINVAL;
	buf = aligned_alloc(64, (size_t)len);
	if (!buf)
		return -ENOMEM;
	pattern_fill(buf, (size_t)len, seed);
	vfio_memattr_wc_start();
	ret = vfio_memattr_wc_copy(vfio_memattr_mapping_addr(m), buf, (size_t)len);
	vfio_memattr_wc_flush();
	free(buf);
	return ret;
}

static int cmd_map(const char *arg, char **specs, int nspecs, bool json, bool pattern,
		   bool allow_sysfs, const char *run)
{
	struct vfio_memattr_dev *dev;
	struct map_res *r;
	char bdf[32], e[256];
	int i, ret, failed = 0, ks, status = 0;

	if (check_bdf(arg, bdf, sizeof(bdf)))
		return 1;
	if (nspecs <= 0) {
		err("map: no SPEC given (BAR:OFFSET:LENGTH:ATTR[,ATTR...])");
		return 2;
	}
	r = calloc((size_t)nspecs, sizeof(*r));
	if (!r)
		return 1;
	for (i = 0; i < nspecs; i++) {
		r[i].text = specs[i];
		if (vm_parse_spec(specs[i], &r[i].spec, e, sizeof(e)) < 0) {
			err("%s", e);
			free(r);
			return 2;
		}
	}
	ret = vfio_memattr_open(bdf, 0, &dev);
	if (ret < 0) {
		const char *why = explain_open(bdf, ret);

		if (json) {
			printf("{\"bdf\":\"%s\",\"errno\":%d,\"error\":", bdf, -ret);
			json_str(stdout, strerror(-ret));
			printf(",\"hint\":");
			json_str(stdout, why);
			printf(",\"mappings\":[]}\n");
		}
		free(r);
		return 1;
	}
	ks = vfio_memattr_kernel_support(dev);

	for (i = 0; i < nspecs; i++) {
		struct vm_spec *s = &r[i].spec;

		r[i].ret = vfio_memattr_map(dev, s->bar, s->offset, s->length, s->prefs,
					    s->nr_prefs,
					    allow_sysfs ? VFIO_MEMATTR_MAP_ALLOW_SYSFS : 0, &r[i].m);
		if (r[i].ret < 0) {
			failed++;
			err("%s: %s: %s%s%s", bdf, r[i].text, strerror(-r[i].ret),
			    *map_hint(r[i].ret, bdf, ks == 1) ? ": " : "",
			    map_hint(r[i].ret, bdf, ks == 1));
			continue;
		}
		if (pattern) {
			ret = write_pattern(r[i].m, s->offset);
			if (ret < 0) {
				failed++;
				r[i].ret = ret;
				err("%s: %s: writing the pattern: %s", bdf, r[i].text, strerror(-ret));
				continue;
			}
			r[i].wrote = true;
		}
	}

	if (json)
		printf("{\"bdf\":\"%s\",\"memattr_uapi\":%s,\"mappings\":[", bdf,
		       ks == 1 ? "true" : "false");
	for (i = 0; i < nspecs; i++) {
		struct vm_spec *s = &r[i].spec;
		struct vfio_memattr_mapping *m = r[i].m;

		if (json) {
			printf("%s{\"spec\":", i ? "," : "");
			json_str(stdout, r[i].text);
			printf(",\"bar\":%u,\"offset\":%" PRIu64 ",\"length\":%" PRIu64 ",\"ok\":%s",
			       s->bar, s->offset, s->length, r[i].ret == 0 ? "true" : "false");
			if (m && r[i].ret == 0)
				printf(",\"attr\":\"%s\",\"source\":\"%s\",\"handle\":%u",
				       vfio_memattr_attr_name(vfio_memattr_mapping_attr(m)),
				       vfio_memattr_source_name(vfio_memattr_mapping_source(m)),
				       vfio_memattr_mapping_handle(m));
			if (r[i].wrote)
				printf(",\"pattern_seed\":%" PRIu64, s->offset);
			if (r[i].ret < 0) {
				printf(",\"errno\":%d,\"error\":", -r[i].ret);
				json_str(stdout, strerror(-r[i].ret));
				printf(",\"hint\":");
				json_str(stdout, map_hint(r[i].ret, bdf, ks == 1));
			}
			printf("}");
		} else if (r[i].ret == 0) {
			printf("%s: BAR%u 0x%" PRIx64 "+0x%" PRIx64 ": %s (source %s", r[i].text,
			       s->bar, s->offset, s->length,
			       vfio_memattr_attr_name(vfio_memattr_mapping_attr(m)),
			       vfio_memattr_source_name(vfio_memattr_mapping_source(m)));
			if (vfio_memattr_mapping_handle(m))
				printf(", handle 0x%x", vfio_memattr_mapping_handle(m));
			printf(")");
			if (r[i].wrote)
				printf(", pattern written, seed 0x%" PRIx64, s->offset);
			printf("\n");
		} else {
			printf("%s: FAILED: %s\n", r[i].text, strerror(-r[i].ret));
		}
	}
	if (json)
		printf("]}\n");
	fflush(stdout);

	if (run) {
		if (failed)
			err("not running \"%s\": %d SPEC(s) failed", run, failed);
		else
			status = run_cmd(run);
	}
	for (i = 0; i < nspecs; i++)
		if (r[i].m)
			vfio_memattr_unmap(r[i].m);
	vfio_memattr_close(dev);
	free(r);
	if (failed)
		return 1;
	return status;
}

/* ---- command line --------------------------------------------------------- */

static const char usage_main[] =
	"Usage: vfio-memattr [-v] COMMAND [ARGS...]\n"
	"\n"
	"Map PCI BAR ranges through VFIO with a memory attribute (NC, WC, DEV).\n"
	"\n"
	"Commands:\n"
	"  list [--json] [--no-open]     PCI devices, drivers, IOMMU groups, BARs\n"
	"  bind BDF                      bind a device to " DRIVER "\n"
	"  unbind BDF                    give it back to its previous driver\n"
	"  info BDF [--json]             VFIO regions and attributes per BAR\n"
	"  map BDF SPEC... [options]     map BAR ranges (SPEC = BAR:OFFSET:LENGTH:ATTR[,ATTR...])\n"
	"\n"
	"Options:\n"
	"  -v, --verbose   print the library's debug messages on stderr\n"
	"  -h, --help      this help; \"vfio-memattr COMMAND --help\" for a command\n"
	"  --version       print the version\n";

static const char usage_list[] =
	"Usage: vfio-memattr list [--json] [--no-open]\n"
	"\n"
	"List PCI devices from sysfs: vendor:device, class, driver, IOMMU group and\n"
	"the memory/I/O BARs with size, prefetchable and 64-bit flags.  For devices\n"
	"bound to " DRIVER " the attributes that may be requested are read from\n"
	"the driver (BAR_INFO; this opens the device, which VFIO may reset); for\n"
	"others, or when the device cannot be opened, they are \"unknown\".\n"
	"\n"
	"  --json      machine-readable output\n"
	"  --no-open   never open devices (attributes are \"unknown\")\n";

static const char usage_bind[] =
	"Usage: vfio-memattr bind BDF\n"
	"\n"
	"Bind the device to " DRIVER " with driver_override (loading module\n"
	MODULE " if needed).  The previous driver is remembered in\n"
	STATE_DIR "/BDF.driver for \"unbind\".  Refused when the device has no\n"
	"IOMMU group or when its group is not viable (another device of the group\n"
	"is bound to a non-VFIO driver).  Needs root.\n";

static const char usage_unbind[] =
	"Usage: vfio-memattr unbind BDF\n"
	"\n"
	"Unbind the device from " DRIVER " and bind the driver remembered by\n"
	"\"bind\" again (through driver_override, which is then restored to its value\n"
	"before \"bind\"); if none was remembered, let the kernel pick.\n"
	"Needs root.\n";

static const char usage_info[] =
	"Usage: vfio-memattr info BDF [--json]\n"
	"\n"
	"Open the device through VFIO and print its regions (index, size, flags,\n"
	"offset), per BAR which attributes may be requested and why not, and the\n"
	"live memattr handles of whichever process holds the device (read from the\n"
	"driver's debugfs: root).  A device in use by another process cannot be\n"
	"opened; its handles are printed all the same.\n";

static const char usage_map[] =
	"Usage: vfio-memattr map BDF SPEC... [--write-pattern] [--run CMD] [--json]\n"
	"                        [--allow-sysfs]\n"
	"\n"
	"Map every SPEC at once and print each mapping's attribute in force and its\n"
	"source (memattr, vfio-mmap, sysfs-wc).  SPEC is BAR:OFFSET:LENGTH:ATTR[,ATTR...]:\n"
	"BAR 0..5; OFFSET and LENGTH page aligned, decimal, 0x hex, or with a K, M\n"
	"or G suffix; ATTR NC, WC or DEV, most wanted first (up to 8).\n"
	"\n"
	"  --write-pattern  write the test pattern (tests/common/pattern.h), seeded with\n"
	"                   the SPEC's OFFSET, through 64-byte WC copies and a flush\n"
	"  --run CMD        keep the mappings while \"/bin/sh -c CMD\" runs, then unmap;\n"
	"                   the exit status is CMD's (not run if a SPEC failed)\n"
	"  --json           machine-readable output (printed before CMD runs)\n"
	"  --allow-sysfs    allow WC through sysfs resourceN_wc when the driver has no\n"
	"                   memattr uAPI (prefetchable BARs; not revoked by VFIO)\n"
	"\n"
	"Exit status: 0 all mapped, 1 a SPEC failed (reason and what to do on stderr),\n"
	"2 usage error.\n";

static void usage(FILE *f, const char *text)
{
	fputs(text, f);
}

int main(int argc, char **argv)
{
	bool json = false, pattern = false, allow_sysfs = false, no_open = false;
	const char *cmd, *bdf = NULL, *run = NULL, *help;
	char **pos;
	int npos = 0, i;

	vfio_memattr_set_log(lib_log, NULL);
	if (getenv("VFIO_MEMATTR_SYSFS") && *getenv("VFIO_MEMATTR_SYSFS"))
		snprintf(sysfs_pci, sizeof(sysfs_pci), "%s/bus/pci", getenv("VFIO_MEMATTR_SYSFS"));
	if (getenv("VFIO_MEMATTR_STATE_DIR") && *getenv("VFIO_MEMATTR_STATE_DIR"))
		state_dir = getenv("VFIO_MEMATTR_STATE_DIR");
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "-v") || !strcmp(argv[i], "--verbose")) {
			verbose = 1;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout, usage_main);
			return 0;
		} else if (!strcmp(argv[i], "--version")) {
			printf("vfio-memattr 1.0.0\n");
			return 0;
		} else {
			err("unknown option %s", argv[i]);
			usage(stderr, usage_main);
			return 2;
		}
	}
	if (i >= argc) {
		usage(stderr, usage_main);
		return 2;
	}
	cmd = argv[i++];
	if (!strcmp(cmd, "list"))
		help = usage_list;
	else if (!strcmp(cmd, "bind"))
		help = usage_bind;
	else if (!strcmp(cmd, "unbind"))
		help = usage_unbind;
	else if (!strcmp(cmd, "info"))
		help = usage_info;
	else if (!strcmp(cmd, "map"))
		help = usage_map;
	else if (!strcmp(cmd, "help")) {
		usage(stdout, usage_main);
		return 0;
	} else {
		err("unknown command \"%s\"", cmd);
		usage(stderr, usage_main);
		return 2;
	}

	pos = calloc((size_t)argc, sizeof(*pos));
	if (!pos)
		return 1;
	for (; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout, help);
			free(pos);
			return 0;
		} else if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) {
			verbose = 1;
		} else if (!strcmp(a, "--json") && help != usage_bind && help != usage_unbind) {
			json = true;
		} else if (!strcmp(a, "--no-open") && help == usage_list) {
			no_open = true;
		} else if (!strcmp(a, "--write-pattern") && help == usage_map) {
			pattern = true;
		} else if (!strcmp(a, "--allow-sysfs") && help == usage_map) {
			allow_sysfs = true;
		} else if (!strcmp(a, "--run") && help == usage_map) {
			if (++i >= argc) {
				err("--run needs a command");
				free(pos);
				return 2;
			}
			run = argv[i];
		} else if (!strcmp(a, "--")) {
			for (i++; i < argc; i++)
				pos[npos++] = argv[i];
		} else if (a[0] == '-' && a[1]) {
			err("%s: unknown option %s", cmd, a);
			usage(stderr, help);
			free(pos);
			return 2;
		} else {
			pos[npos++] = argv[i];
		}
	}

	if (help == usage_list) {
		if (npos) {
			usage(stderr, help);
			free(pos);
			return 2;
		}
		i = cmd_list(json, no_open);
	} else if (help == usage_map) {
		if (npos < 2) {
			usage(stderr, help);
			free(pos);
			return 2;
		}
		bdf = pos[0];
		i = cmd_map(bdf, pos + 1, npos - 1, json, pattern, allow_sysfs, run);
	} else {
		if (npos != 1) {
			usage(stderr, help);
			free(pos);
			return 2;
		}
		bdf = pos[0];
		if (help == usage_bind)
			i = cmd_bind(bdf);
		else if (help == usage_unbind)
			i = cmd_unbind(bdf);
		else
			i = cmd_info(bdf, json);
	}
	free(pos);
	return i;
}
