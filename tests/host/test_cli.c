// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * test_cli.c - the vfio-memattr command on a fake sysfs tree
 * ($VFIO_MEMATTR_SYSFS, $VFIO_MEMATTR_STATE_DIR): bind/unbind bookkeeping,
 * group viability, no IOMMU group, list --no-open, usage errors.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test.h"

#ifndef CLI_PATH
#define CLI_PATH "../../tools/vfio-memattr.static"
#endif

static char root[64];
static char out[1 << 15], errout[1 << 14];

__attribute__((format(printf, 1, 2)))
static int cli(const char *fmt, ...)
{
	char args[512], cmd[1024], errf[96];
	va_list ap;
	FILE *p, *e;
	size_t n;
	int st;

	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	snprintf(errf, sizeof(errf), "%s/stderr", root);
	snprintf(cmd, sizeof(cmd), "VFIO_MEMATTR_SYSFS=%s VFIO_MEMATTR_STATE_DIR=%s/run %s %s 2>%s",
		 root, root, CLI_PATH, args, errf);
	out[0] = errout[0] = 0;
	p = popen(cmd, "r");
	if (!p)
		return -1;
	n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = 0;
	st = pclose(p);
	e = fopen(errf, "r");
	if (e) {
		n = fread(errout, 1, sizeof(errout) - 1, e);
		errout[n] = 0;
		fclose(e);
	}
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void path(char *buf, size_t len, const char *rel)
{
	snprintf(buf, len, "%s/%s", root, rel);
}

static void mk(const char *rel)
{
	char p[256];

	path(p, sizeof(p), rel);
	mkdir(p, 0755);
}

static void put(const char *rel, const char *content)
{
	char p[256];
	FILE *f;

	path(p, sizeof(p), rel);
	f = fopen(p, "w");
	if (f) {
		fputs(content, f);
		fclose(f);
	}
}

static const char *get(const char *rel)
{
	static char buf[256];
	char p[256];
	FILE *f;
	size_t n = 0;

	path(p, sizeof(p), rel);
	buf[0] = 0;
	f = fopen(p, "r");
	if (!f)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = 0;
	fclose(f);
	return buf;
}

static void ln(const char *target, const char *rel)
{
	char p[256];

	path(p, sizeof(p), rel);
	unlink(p);
	if (symlink(target, p) < 0)
		printf("    symlink %s: %s\n", p, strerror(errno));
}

static int setup(void)
{
	static const char *const dirs[] = {
		"bus", "bus/pci", "bus/pci/devices", "bus/pci/drivers",
		"bus/pci/drivers/vfio-pci", "bus/pci/drivers/e1000",
		"bus/pci/drivers/vfio-pci-memattr", "kernel", "kernel/iommu_groups",
		"kernel/iommu_groups/2", "kernel/iommu_groups/2/devices",
		"bus/pci/devices/0000:00:03.0", "bus/pci/devices/0000:00:03.1",
		"bus/pci/devices/0000:00:04.0",
	};
	unsigned int i;

	snprintf(root, sizeof(root), "/tmp/vfio-memattr-cli-XXXXXX");
	if (!mkdtemp(root))
		return -1;
	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		mk(dirs[i]);
	put("bus/pci/drivers_probe", "");
	put("bus/pci/drivers/vfio-pci/unbind", "");
	put("bus/pci/drivers/vfio-pci/bind", "");
	put("bus/pci/drivers/vfio-pci-memattr/unbind", "");
	put("bus/pci/devices/0000:00:03.0/driver_override", "");
	put("bus/pci/devices/0000:00:03.0/vendor", "0x1af4\n");
	put("bus/pci/devices/0000:00:03.0/device", "0x1110\n");
	put("bus/pci/devices/0000:00:03.0/class", "0x050000\n");
	put("bus/pci/devices/0000:00:03.0/resource",
	    "0x00000000fea00000 0x00000000fea000ff 0x0000000000040200\n"
	    "0x0000000000000000 0x0000000000000000 0x0000000000000000\n"
	    "0x00000000fd000000 0x00000000fd3fffff 0x000000000014220c\n"
	    "0x0000000000000000 0x0000000000000000 0x0000000000000000\n"
	    "0x000000000000c000 0x000000000000c01f 0x0000000000040101\n");
	ln("../../drivers/vfio-pci", "bus/pci/devices/0000:00:03.0/driver");
	ln("../../../../kernel/iommu_groups/2", "bus/pci/devices/0000:00:03.0/iommu_group");
	ln("../../drivers/e1000", "bus/pci/devices/0000:00:03.1/driver");
	ln("../../../../kernel/iommu_groups/2", "bus/pci/devices/0000:00:03.1/iommu_group");
	ln("../../../../bus/pci/devices/0000:00:03.0", "kernel/iommu_groups/2/devices/0000:00:03.0");
	ln("../../../../bus/pci/devices/0000:00:03.1", "kernel/iommu_groups/2/devices/0000:00:03.1");
	return 0;
}

static void teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	if (system(cmd) != 0)
		printf("    cannot remove %s\n", root);
}

static void show(void)
{
	printf("    stdout: %s\n    stderr: %s\n", out, errout);
}

static void bind_not_viable(void)
{
	const char *s;

	if (setup() < 0) {
		CHECK(0);
		return;
	}
	CHECK_EQ(cli("bind 00:03.0"), 1);
	CHECK(strstr(errout, "IOMMU group 2 is not viable") != NULL);
	CHECK(strstr(errout, "0000:00:03.1 is bound to e1000") != NULL);
	s = get("bus/pci/devices/0000:00:03.0/driver_override");
	CHECK_STR(s, "");				/* nothing touched */
	CHECK(get("run/0000:00:03.0.driver") == NULL);
	CHECK_STR(get("bus/pci/drivers_probe"), "");
	if (t_cur_fail)
		show();
	teardown();
}

static void bind_bookkeeping(void)
{
	if (setup() < 0) {
		CHECK(0);
		return;
	}
	/* the other device of the group on a VFIO driver: viable */
	ln("../../drivers/vfio-pci", "bus/pci/devices/0000:00:03.1/driver");
	/* bound to vfio-pci through driver_override, as vfio-pci needs */
	put("bus/pci/devices/0000:00:03.0/driver_override", "vfio-pci\n");
	/* the fake driver link does not change: bind reports the failure
	 * after doing every step */
	CHECK_EQ(cli("bind 0000:00:03.0"), 1);
	CHECK(strstr(errout, "binding to vfio-pci-memattr failed") != NULL);
	CHECK_STR(get("run/0000:00:03.0.driver"), "vfio-pci\nvfio-pci\n");
	CHECK_STR(get("bus/pci/devices/0000:00:03.0/driver_override"), "vfio-pci-memattr");
	CHECK_STR(get("bus/pci/drivers/vfio-pci/unbind"), "0000:00:03.0");
	CHECK_STR(get("bus/pci/drivers_probe"), "0000:00:03.0");
	if (t_cur_fail)
		show();

	/* now "bound"; bind again keeps the remembered driver */
	ln("../../drivers/vfio-pci-memattr", "bus/pci/devices/0000:00:03.0/driver");
	CHECK_EQ(cli("bind 0000:00:03.0"), 0);
	CHECK(strstr(out, "already bound") != NULL);
	CHECK_STR(get("run/0000:00:03.0.driver"), "vfio-pci\nvfio-pci\n");

	/* unbind: unbound, probed, driver_override as it was before bind */
	put("bus/pci/drivers_probe", "");
	CHECK_EQ(cli("unbind 0000:00:03.0"), 1);	/* fake link stays */
	CHECK_STR(get("bus/pci/drivers/vfio-pci-memattr/unbind"), "0000:00:03.0");
	CHECK_STR(get("bus/pci/drivers_probe"), "0000:00:03.0");
	CHECK_STR(get("bus/pci/devices/0000:00:03.0/driver_override"), "vfio-pci");
	CHECK(strstr(errout, "could not bind vfio-pci again") != NULL);
	CHECK(get("run/0000:00:03.0.driver") == NULL);	/* forgotten */
	if (t_cur_fail)
		show();

	/* unbind of a device that is not ours */
	ln("../../drivers/e1000", "bus/pci/devices/0000:00:03.0/driver");
	CHECK_EQ(cli("unbind 0000:00:03.0"), 1);
	CHECK(strstr(errout, "not bound to vfio-pci-memattr") != NULL);
	teardown();
}

static void bind_no_group(void)
{
	if (setup() < 0) {
		CHECK(0);
		return;
	}
	CHECK_EQ(cli("bind 0000:00:04.0"), 1);
	CHECK(strstr(errout, "no IOMMU group: enable the IOMMU") != NULL);
	CHECK_EQ(cli("bind 0000:00:09.0"), 1);
	CHECK(strstr(errout, "no such PCI device") != NULL);
	CHECK_EQ(cli("info 0000:00:04.0"), 1);
	CHECK(strstr(errout, "no such PCI device") != NULL ||
	      strstr(errout, "cannot open") != NULL);
	if (t_cur_fail)
		show();
	teardown();
}

static void list_no_open(void)
{
	if (setup() < 0) {
		CHECK(0);
		return;
	}
	CHECK_EQ(cli("list --no-open --json"), 0);
	CHECK(strstr(out, "{\"bdf\":\"0000:00:03.0\",\"vendor\":\"0x1af4\",\"device\":\"0x1110\","
			  "\"class\":\"0x050000\",\"driver\":\"vfio-pci\",\"iommu_group\":2") != NULL);
	CHECK(strstr(out, "{\"bar\":2,\"size\":4194304,\"type\":\"mem\",\"prefetchable\":true,"
			  "\"mem64\":true,\"attributes\":\"unknown\"}") != NULL);
	CHECK(strstr(out, "{\"bar\":0,\"size\":256,\"type\":\"mem\",\"prefetchable\":false,"
			  "\"mem64\":false,") != NULL);
	CHECK(strstr(out, "{\"bar\":4,\"size\":32,\"type\":\"io\"") != NULL);
	CHECK(strstr(out, "\"bdf\":\"0000:00:04.0\"") != NULL);
	CHECK_EQ(cli("list --no-open"), 0);
	CHECK(strstr(out, "0000:00:03.0 1af4:1110 class 050000 driver vfio-pci iommu_group 2") != NULL);
	CHECK(strstr(out, "BAR2 4 MiB") != NULL);
	if (t_cur_fail)
		show();
	teardown();
}

static void usage_errors(void)
{
	if (setup() < 0) {
		CHECK(0);
		return;
	}
	CHECK_EQ(cli("map 0000:00:03.0"), 2);
	CHECK_EQ(cli("map 0000:00:03.0 2:0:4K:XX"), 2);
	CHECK(strstr(errout, "unknown attribute \"XX\"") != NULL);
	CHECK_EQ(cli("map 0000:00:03.0 2:0:4K:WC --frobnicate"), 2);
	CHECK_EQ(cli("frobnicate"), 2);
	CHECK_EQ(cli("bind"), 2);
	CHECK_EQ(cli("bind 0000:00:03.0 --json"), 2);	/* bind has no --json */
	CHECK_EQ(cli("%s", ""), 2);
	CHECK_EQ(cli("--help"), 0);
	CHECK(strstr(out, "Usage: vfio-memattr") != NULL);
	CHECK_EQ(cli("map --help"), 0);
	CHECK(strstr(out, "--write-pattern") != NULL && strstr(out, "--allow-sysfs") != NULL);
	CHECK_EQ(cli("list -h"), 0);
	CHECK(strstr(out, "--no-open") != NULL);
	CHECK_EQ(cli("bind --help"), 0);
	CHECK_EQ(cli("unbind --help"), 0);
	CHECK_EQ(cli("info --help"), 0);
	CHECK_EQ(cli("map 0000:00:03.0 2:0:4K:WC --run"), 2);
	if (t_cur_fail)
		show();
	teardown();
}

void run_cli_tests(void)
{
	t_run("cli: bind refuses a non-viable IOMMU group", bind_not_viable);
	t_run("cli: bind/unbind bookkeeping (override, state file, probe)", bind_bookkeeping);
	t_run("cli: no IOMMU group, no device", bind_no_group);
	t_run("cli: list --no-open from sysfs", list_no_open);
	t_run("cli: usage errors and help", usage_errors);
}
