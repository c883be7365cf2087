// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * test_cli.c - the vfio-memattr command on a fake sysfs tree
 * ($VFIO_MEMATTR_SYSFS, $VFIO_MEMATTR_STATE_DIR): bind/unbind bookkeeping,
 * group viability, no IOMMU group, list --no-open, usage errors; the
 * default command and the vfio-pci flavour.
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
#include "../common/minijson.h"
#include "../common/capture.h"
#include "../../tools/spec.h"

#ifndef CLI_PATH
#define CLI_PATH "../../tools/vfio-memattr.static"
#endif

static char root[64];
static char out[1 << 15], errout[1 << 14];

__attribute__((format(printf, 1, 2)))
static int cli(const char *fmt, ...)
{
	char args[512], cmd[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	snprintf(cmd, sizeof(cmd), "VFIO_MEMATTR_SYSFS=%s VFIO_MEMATTR_STATE_DIR=%s/run "
		 "VFIO_MEMATTR_PROC=%s/proc %s %s", root, root, root, CLI_PATH, args);
	return capture_run(cmd, out, sizeof(out), errout, sizeof(errout));
}

static void path(char *buf, size_t len, const char *rel)
{
	snprintf(buf, len, "%s/%s", root, rel);
}

static const char *root_path(const char *rel)
{
	static char p[256];

	path(p, sizeof(p), rel);
	return p;
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

	REQUIRE(setup() == 0);
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

/* a bind that the driver does not take is rolled back completely */
static void bind_rollback(void)
{
	REQUIRE(setup() == 0);
	/* the other device of the group on a VFIO driver: viable */
	ln("../../drivers/vfio-pci", "bus/pci/devices/0000:00:03.1/driver");
	/* bound to vfio-pci through driver_override, as vfio-pci needs */
	put("bus/pci/devices/0000:00:03.0/driver_override", "vfio-pci\n");
	/* the fake driver link does not change: the driver "does not take" it */
	CHECK_EQ(cli("bind 0000:00:03.0"), 1);
	CHECK(strstr(errout, "binding to vfio-pci-memattr failed") != NULL);
	CHECK_STR(get("bus/pci/drivers/vfio-pci/unbind"), "0000:00:03.0");	/* it was tried */
	CHECK_STR(get("bus/pci/drivers_probe"), "0000:00:03.0");
	/* ... and undone: no state file, driver_override as it was */
	CHECK(get("run/0000:00:03.0.driver") == NULL);
	CHECK_STR(get("bus/pci/devices/0000:00:03.0/driver_override"), "vfio-pci");
	CHECK(strstr(errout, "rolled back") != NULL);
	if (t_cur_fail)
		show();
	teardown();
}

static void unbind_bookkeeping(void)
{
	REQUIRE(setup() == 0);
	ln("../../drivers/vfio-pci", "bus/pci/devices/0000:00:03.1/driver");
	/* as "bind" leaves it: bound, override set, previous driver remembered */
	ln("../../drivers/vfio-pci-memattr", "bus/pci/devices/0000:00:03.0/driver");
	put("bus/pci/devices/0000:00:03.0/driver_override", "vfio-pci-memattr\n");
	mk("run");
	put("run/0000:00:03.0.driver", "vfio-pci\nvfio-pci\n");
	CHECK_EQ(cli("bind 0000:00:03.0"), 0);
	CHECK(strstr(out, "already bound") != NULL);
	CHECK_STR(get("run/0000:00:03.0.driver"), "vfio-pci\nvfio-pci\n");

	/* unbind: unbound, probed, driver_override as it was before bind */
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

/* what an interrupted bind leaves (override and state file, no driver
 * bound) is put right by unbind instead of refused */
static void unbind_stranded(void)
{
	REQUIRE(setup() == 0);
	unlink(root_path("bus/pci/devices/0000:00:03.0/driver"));
	put("bus/pci/devices/0000:00:03.0/driver_override", "vfio-pci-memattr\n");
	mk("run");
	put("run/0000:00:03.0.driver", "vfio-pci\n\n");
	CHECK_EQ(cli("unbind 0000:00:03.0"), 0);
	CHECK(strstr(out, "stale bind state cleaned up") != NULL);
	CHECK(get("run/0000:00:03.0.driver") == NULL);
	CHECK_STR(get("bus/pci/drivers_probe"), "0000:00:03.0");
	CHECK_STR(get("bus/pci/devices/0000:00:03.0/driver_override"), "\n");
	if (t_cur_fail)
		show();
	teardown();
}

/* as dpdk-devbind: a device whose kernel driver is in use is not taken */
static void bind_in_use(void)
{
	REQUIRE(setup() == 0);
	ln("../../drivers/vfio-pci", "bus/pci/devices/0000:00:03.1/driver");
	ln("../../drivers/e1000", "bus/pci/devices/0000:00:03.0/driver");
	put("bus/pci/drivers/e1000/unbind", "");
	mk("class");
	mk("class/net");
	mk("class/block");
	mk("bus/pci/devices/0000:00:03.0/net");
	mk("bus/pci/devices/0000:00:03.0/net/eth0");
	ln("../../../../../class/net", "bus/pci/devices/0000:00:03.0/net/eth0/subsystem");
	put("bus/pci/devices/0000:00:03.0/net/eth0/flags", "0x1003\n");	/* IFF_UP */
	CHECK_EQ(cli("bind 0000:00:03.0"), 1);
	CHECK(strstr(errout, "network interface eth0 is up") != NULL);
	CHECK_STR(get("bus/pci/devices/0000:00:03.0/driver_override"), "");	/* untouched */
	CHECK(get("run/0000:00:03.0.driver") == NULL);
	CHECK_STR(get("bus/pci/drivers/e1000/unbind"), "");
	if (t_cur_fail)
		show();
	/* --force takes it all the same (and rolls back: the fake driver stays) */
	put("bus/pci/drivers/e1000/unbind", "");
	CHECK_EQ(cli("bind 0000:00:03.0 --force"), 1);
	CHECK(strstr(errout, "unbinding anyway") != NULL);
	CHECK_STR(get("bus/pci/drivers/e1000/unbind"), "0000:00:03.0");
	/* interface down: not in use */
	put("bus/pci/drivers/e1000/unbind", "");
	put("bus/pci/devices/0000:00:03.0/net/eth0/flags", "0x1002\n");
	CHECK_EQ(cli("bind 0000:00:03.0"), 1);
	CHECK(strstr(errout, "in use by") == NULL);
	CHECK_STR(get("bus/pci/drivers/e1000/unbind"), "0000:00:03.0");
	/* a partition of its disk is mounted */
	put("bus/pci/drivers/e1000/unbind", "");
	mk("bus/pci/devices/0000:00:03.0/nvme");
	mk("bus/pci/devices/0000:00:03.0/nvme/nvme0");
	mk("bus/pci/devices/0000:00:03.0/nvme/nvme0/nvme0n1");
	ln("../../../../../../class/block", "bus/pci/devices/0000:00:03.0/nvme/nvme0/nvme0n1/subsystem");
	mk("proc");
	put("proc/mounts", "proc /proc proc rw 0 0\n/dev/nvme0n1p2 /mnt ext4 rw 0 0\n");
	put("proc/swaps", "Filename Type Size Used Priority\n");
	CHECK_EQ(cli("bind 0000:00:03.0"), 1);
	CHECK(strstr(errout, "disk nvme0n1 (or a partition of it) is mounted") != NULL);
	CHECK_STR(get("bus/pci/drivers/e1000/unbind"), "");
	/* held by device mapper */
	put("proc/mounts", "proc /proc proc rw 0 0\n");
	mk("bus/pci/devices/0000:00:03.0/nvme/nvme0/nvme0n1/holders");
	mk("bus/pci/devices/0000:00:03.0/nvme/nvme0/nvme0n1/holders/dm-0");
	CHECK_EQ(cli("bind 0000:00:03.0"), 1);
	CHECK(strstr(errout, "disk nvme0n1 is held by dm-0") != NULL);
	CHECK_STR(get("bus/pci/drivers/e1000/unbind"), "");
	if (t_cur_fail)
		show();
	teardown();
}

static void bind_no_group(void)
{
	REQUIRE(setup() == 0);
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

#define parse_out()	mj_parse_print(out, "    ", "stdout")

static void check_json_error(int want_errno, const char *what);

/* no IOMMU group: bind only with vfio's enable_unsafe_noiommu_mode=Y */
static void bind_noiommu_param(void)
{
	REQUIRE(setup() == 0);
	put("bus/pci/devices/0000:00:04.0/driver_override", "");
	/* no such parameter (vfio not loaded, or no CONFIG_VFIO_NOIOMMU) */
	CHECK_EQ(cli("bind 0000:00:04.0"), 1);
	CHECK(strstr(errout, "no IOMMU group: enable the IOMMU") != NULL);
	CHECK(strstr(errout, "enable_unsafe_noiommu_mode") != NULL);
	CHECK(strstr(errout, "CONFIG_VFIO_NOIOMMU") != NULL);
	CHECK_STR(get("bus/pci/drivers_probe"), "");		/* refused: nothing written */
	mk("module");
	mk("module/vfio");
	mk("module/vfio/parameters");
	put("module/vfio/parameters/enable_unsafe_noiommu_mode", "N\n");
	CHECK_EQ(cli("bind 0000:00:04.0 --json"), 1);
	CHECK(strstr(errout, "enable_unsafe_noiommu_mode is N") != NULL);
	check_json_error(ENOENT, "bind, no group, parameter N");
	CHECK_STR(get("bus/pci/drivers_probe"), "");
	if (t_cur_fail)
		show();
	/* Y: bound (the fake driver does not take it: rolled back) */
	put("module/vfio/parameters/enable_unsafe_noiommu_mode", "Y\n");
	CHECK_EQ(cli("bind 0000:00:04.0"), 1);
	CHECK(strstr(errout, "refusing") == NULL);
	CHECK(strstr(errout, "warning: 0000:00:04.0: no IOMMU group, and vfio's "
		     "enable_unsafe_noiommu_mode is Y: binding in VFIO's unsafe no-IOMMU mode") != NULL);
	CHECK_STR(get("bus/pci/drivers_probe"), "0000:00:04.0");
	CHECK(strstr(errout, "binding to vfio-pci-memattr failed") != NULL);
	if (t_cur_fail)
		show();
	teardown();
}

/* a device in a no-IOMMU group: list and bind say so */
static void list_noiommu(void)
{
	struct mj *j;

	REQUIRE(setup() == 0);
	mk("kernel/iommu_groups/5");
	put("kernel/iommu_groups/5/name", "vfio-noiommu\n");
	ln("../../../../kernel/iommu_groups/5", "bus/pci/devices/0000:00:04.0/iommu_group");
	ln("../../drivers/vfio-pci-memattr", "bus/pci/devices/0000:00:04.0/driver");
	CHECK_EQ(cli("list --json"), 0);
	j = parse_out();
	CHECK_STR(mj_str(j, "devices.2.bdf"), "0000:00:04.0");
	CHECK_EQ(mj_int(j, "devices.2.iommu_group", -1), 5);
	CHECK_EQ(mj_bool(j, "devices.2.noiommu"), 1);
	CHECK_EQ(mj_bool(j, "devices.0.noiommu"), 0);
	CHECK(mj_is(j, "devices.0.noiommu", MJ_BOOL));
	mj_free(j);
	CHECK_EQ(cli("list"), 0);
	CHECK(strstr(out, "0000:00:04.0 ?:? class ? driver vfio-pci-memattr iommu_group noiommu-5\n") != NULL);
	CHECK(strstr(out, "0000:00:03.0 1af4:1110 class 050000 driver vfio-pci") && strstr(out, " iommu_group 2\n"));
	CHECK_EQ(cli("bind 0000:00:04.0 --json"), 0);
	j = parse_out();
	CHECK_EQ(mj_bool(j, "noiommu"), 1);
	mj_free(j);
	CHECK_EQ(cli("bind 0000:00:03.0 --json"), 1);	/* group 2 not viable */
	ln("../../drivers/vfio-pci-memattr", "bus/pci/devices/0000:00:03.0/driver");
	CHECK_EQ(cli("bind 0000:00:03.0 --json"), 0);
	j = parse_out();
	CHECK_EQ(mj_bool(j, "noiommu"), 0);
	CHECK(mj_is(j, "noiommu", MJ_BOOL));
	mj_free(j);
	if (t_cur_fail)
		show();
	teardown();
}

/* the BAR @bar of device @bdf in list --json, NULL if missing */
#define list_bar(j, bdf, bar)	mj_find(mj_find(j, "devices", "bdf", bdf, 0), "bars", "bar", NULL, bar)

static void list_sysfs_only(void)
{
	const struct mj *d, *b;
	struct mj *j;

	REQUIRE(setup() == 0);
	/* bound to the memattr driver: still not opened without --open */
	ln("../../drivers/vfio-pci-memattr", "bus/pci/devices/0000:00:03.0/driver");
	CHECK_EQ(cli("list --json"), 0);
	j = parse_out();
	CHECK(j != NULL);
	d = mj_get(j, "devices.0");
	CHECK_STR(mj_str(d, "bdf"), "0000:00:03.0");
	CHECK_STR(mj_str(d, "vendor"), "0x1af4");
	CHECK_STR(mj_str(d, "device"), "0x1110");
	CHECK_STR(mj_str(d, "class"), "0x050000");
	CHECK_STR(mj_str(d, "driver"), "vfio-pci-memattr");
	CHECK_EQ(mj_int(d, "iommu_group", -1), 2);
	CHECK_EQ(mj_bool(d, "attributes_known"), 0);
	CHECK_STR(mj_str(d, "attributes_unknown_reason"), "not opened (use --open)");
	b = list_bar(j, "0000:00:03.0", 2);
	CHECK_EQ(mj_int(b, "size", -1), 4194304);
	CHECK_STR(mj_str(b, "type"), "mem");
	CHECK_EQ(mj_bool(b, "prefetchable"), 1);
	CHECK_EQ(mj_bool(b, "mem64"), 1);
	CHECK(mj_is(b, "attributes", MJ_ARR));		/* always an array */
	CHECK_EQ(mj_count(b, "attributes"), 0);
	b = list_bar(j, "0000:00:03.0", 0);
	CHECK_EQ(mj_int(b, "size", -1), 256);
	CHECK_EQ(mj_bool(b, "prefetchable"), 0);
	CHECK_EQ(mj_bool(b, "mem64"), 0);
	b = list_bar(j, "0000:00:03.0", 4);
	CHECK_STR(mj_str(b, "type"), "io");
	CHECK_EQ(mj_int(b, "size", -1), 32);
	d = mj_get(j, "devices.2");
	CHECK_STR(mj_str(d, "bdf"), "0000:00:04.0");
	CHECK(mj_is(d, "driver", MJ_NULL));
	CHECK(mj_is(d, "iommu_group", MJ_NULL));
	CHECK_EQ(mj_count(j, "devices"), 3);
	mj_free(j);
	CHECK_EQ(cli("list --no-open"), 0);
	CHECK(strstr(out, "0000:00:03.0 1af4:1110 class 050000 driver vfio-pci-memattr iommu_group 2") != NULL);
	CHECK(strstr(out, "BAR2 4 MiB") != NULL);
	CHECK_EQ(cli("list --open --json"), 0);		/* tries, cannot open: still JSON */
	j = parse_out();
	CHECK_STR(mj_str(j, "devices.0.attributes_unknown_reason"),
		  "cannot open the device (in use?)");
	mj_free(j);
	if (t_cur_fail)
		show();
	teardown();
}

/* error object of a failed --json run */
static void check_json_error(int want_errno, const char *what)
{
	struct mj *j = parse_out();

	CHECK(j != NULL);
	CHECK(mj_is(j, "error", MJ_OBJ));
	CHECK_EQ(mj_int(j, "error.errno", -1), want_errno);
	CHECK(mj_str(j, "error.message") != NULL);
	if (!j || mj_int(j, "error.errno", -1) != want_errno)
		printf("    (%s)\n", what);
	mj_free(j);
}

static void json_errors(void)
{
	REQUIRE(setup() == 0);
	mk("bus/pci/devices/abcd:00:04.0");
	/* no IOMMU group: the library's sysfs root is VFIO_MEMATTR_SYSFS too */
	CHECK_EQ(cli("info abcd:00:04.0 --json"), 1);
	check_json_error(ENOENT, "info, no IOMMU group");
	CHECK_EQ(cli("info 0000:00:09.0 --json"), 1);
	check_json_error(ENODEV, "info, no such device");
	CHECK_EQ(cli("map abcd:00:04.0 2:0:4K:WC --json"), 1);
	check_json_error(ENOENT, "map, no IOMMU group");
	CHECK_EQ(cli("map 0000:00:03.0 2:0:4K:XX --json"), 2);
	check_json_error(EINVAL, "map, bad SPEC");
	CHECK_EQ(cli("list --frobnicate --json"), 2);
	check_json_error(EINVAL, "usage error");
	CHECK_EQ(cli("info 0x0:0x3.0 --json"), 1);
	check_json_error(EINVAL, "lax PCI address");
	CHECK(strstr(errout, "is not a PCI address") != NULL);
	if (t_cur_fail)
		show();
	teardown();
}

/* a bad SPEC is refused before the device is opened (opening resets it) */
static void spec_checked_first(void)
{
	REQUIRE(setup() == 0);
	CHECK_EQ(cli("map 0000:00:03.0 2:0x800:4K:WC"), 2);
	CHECK(strstr(errout, "multiples of the page size") != NULL);
	CHECK(strstr(errout, "cannot open") == NULL);
	CHECK_EQ(cli("map 0000:00:03.0 2:0:4K:WC 2:0:0x1800:NC"), 2);
	CHECK(strstr(errout, "cannot open") == NULL);
	CHECK_EQ(cli("map 0000:00:03.0 2:0:4K:WC"), 1);	/* a good one gets that far */
	CHECK(strstr(errout, "cannot open") != NULL);
	if (t_cur_fail)
		show();
	teardown();
}

/* map --dmabuf: checked before the device is opened, options need --dmabuf */
static void dmabuf_options(void)
{
	struct mj *j;

	REQUIRE(setup() == 0);
	CHECK_EQ(cli("map 0000:00:03.0 --dmabuf 2:0x800:4K"), 2);
	CHECK(strstr(errout, "multiples of the page size") != NULL);
	CHECK(strstr(errout, "cannot open") == NULL);
	CHECK_EQ(cli("map 0000:00:03.0 --dmabuf 2:0:4K:WC"), 2);
	CHECK(strstr(errout, "is not OFFSET:LENGTH") != NULL);
	CHECK_EQ(cli("map 0000:00:03.0 --dmabuf 7:0:4K"), 2);
	CHECK_EQ(cli("map 0000:00:03.0 --dmabuf 2:0:4K --attr WC,XX"), 2);
	CHECK(strstr(errout, "unknown attribute \"XX\"") != NULL);
	CHECK(strstr(errout, "cannot open") == NULL);
	CHECK_EQ(cli("map 0000:00:03.0 2:0:4K:WC --attr WC"), 2);
	CHECK(strstr(errout, "--attr needs --dmabuf") != NULL);
	CHECK_EQ(cli("map 0000:00:03.0 2:0:4K:WC --no-revoke"), 2);
	CHECK(strstr(errout, "--no-revoke needs --dmabuf") != NULL);
	CHECK_EQ(cli("map 0000:00:03.0 --dmabuf 2:0:4K --dmabuf 2:4K:4K"), 2);
	CHECK_EQ(cli("map 0000:00:03.0 --dmabuf"), 2);
	CHECK_EQ(cli("map 0000:00:03.0 --dmabuf 2:0:4K --attr"), 2);
	CHECK_EQ(cli("map 0000:00:03.0 2:0:4K:XX --dmabuf 2:0:4K"), 2);	/* SPECs still checked */
	/* good ones get as far as opening (no IOMMU group in the fake tree) */
	CHECK_EQ(cli("map 0000:00:03.0 --dmabuf 2:0:4K,8K:4K --attr WC,NC"), 1);
	CHECK(strstr(errout, "cannot open") != NULL);
	CHECK_EQ(cli("map 0000:00:03.0 --dmabuf 2:0:4K --attr XX --json"), 2);
	j = mj_parse(out, NULL, 0);
	CHECK(j && mj_int(j, "error.errno", -1) == EINVAL);
	mj_free(j);
	CHECK_EQ(cli("map --help"), 0);
	CHECK(strstr(out, "--dmabuf BAR:OFFSET:LENGTH[,OFFSET:LENGTH...]") != NULL);
	CHECK(strstr(out, "VFIO_MEMATTR_DMABUF_FD") != NULL && strstr(out, "VFIO_MEMATTR_DMABUF_SIZE") &&
	      strstr(out, "VFIO_MEMATTR_DMABUF_ATTR"));
	CHECK(strstr(out, "the DMABUF is revoked") != NULL && strstr(out, "--no-revoke") != NULL);
	if (t_cur_fail)
		show();
	teardown();
}

static void version_from_file(void)
{
	char want[64] = "vfio-memattr ", v[32] = "";
	FILE *f = fopen(TOP_DIR "/VERSION", "r");

	CHECK(f != NULL);
	if (f) {
		CHECK(fgets(v, sizeof(v), f) != NULL);
		fclose(f);
	}
	strncat(want, v, sizeof(want) - strlen(want) - 1);
	REQUIRE(setup() == 0);
	CHECK_EQ(cli("--version"), 0);
	CHECK_STR(out, want);
	teardown();
}

static void usage_errors(void)
{
	REQUIRE(setup() == 0);
	CHECK_EQ(cli("map 0000:00:03.0"), 2);
	CHECK_EQ(cli("map 0000:00:03.0 2:0:4K:XX"), 2);
	CHECK(strstr(errout, "unknown attribute \"XX\"") != NULL);
	CHECK_EQ(cli("map 0000:00:03.0 2:0:4K:WC --frobnicate"), 2);
	CHECK_EQ(cli("frobnicate"), 2);
	CHECK_EQ(cli("bind"), 2);
	CHECK_EQ(cli("bind 0000:00:03.0 --frobnicate --json"), 2);
	CHECK_EQ(cli("default"), 2);
	CHECK_EQ(cli("default --help"), 0);
	CHECK(strstr(out, "Exit status") != NULL && strstr(out, "3 the") != NULL);
	CHECK_EQ(cli("--help"), 0);
	CHECK(strstr(out, "default BDF [BAR:ATTR...] [--json]") != NULL);
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


/* the kernel's default_memattr grammar, as tools/spec.c mirrors it */
static void default_items(void)
{
	static const char *const good[] = {
		"2:wc", "0:NC", "5:Dev", "1d0f:ec20@2:wc", "1D0F:EC20@2:WC", "0000:65:00.0@2:wc",
		"abcd:ff:1f.7@0:dev",
	};
	static const char *const bad[] = {
		"", "2", "2:", "6:wc", "2:uc", "2wc", "2:wc ", " 2:wc", "2:wcx", "02:wc",
		"1d0f:ec2@2:wc", "1d0f:ec200@2:wc", "1d0f-ec20@2:wc", "1d0g:ec20@2:wc",
		"0x1d0f:ec20@2:wc", "@2:wc", "1d0f:ec20@", "1d0f:ec20@@2:wc", "1d0f:ec20@2:wc@",
		"0000:65:00.8@2:wc", "0000:65:20.0@2:wc", "0000:6:00.0@2:wc", "00000:65:00.0@2:wc",
		"0000.65:00.0@2:wc", "0000:65:00:0@2:wc", "1d0f:ec20 @2:wc", "1d0f:ec20@ 2:wc",
	};
	struct vm_default_item it;
	char e[256];
	unsigned int i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		int r = vm_parse_default_item(good[i], strlen(good[i]), &it, e, sizeof(e));

		CHECK_EQ(r, 0);
		if (r)
			printf("    \"%s\": %s\n", good[i], e);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r = vm_parse_default_item(bad[i], strlen(bad[i]), &it, e, sizeof(e));

		CHECK_EQ(r, -EINVAL);
		if (r != -EINVAL)
			printf("    \"%s\" accepted\n", bad[i]);
	}
	CHECK_EQ(vm_parse_default_item("1D0F:EC20@3:Dev", 15, &it, NULL, 0), 0);
	CHECK_EQ(it.sel, VM_SEL_ID);
	CHECK_EQ(it.vendor, 0x1d0f);
	CHECK_EQ(it.device, 0xec20);
	CHECK_EQ(it.bar, 3);
	CHECK_EQ(it.attr, VFIO_MEMATTR_DEV);
	CHECK(vm_default_item_applies(&it, "0000:00:05.0", 0x1d0f, 0xec20));
	CHECK(!vm_default_item_applies(&it, "0000:00:05.0", 0x1d0f, 0xec21));
	CHECK_EQ(vm_parse_default_item("0000:0A:1f.3@2:wc", 17, &it, NULL, 0), 0);
	CHECK_EQ(it.sel, VM_SEL_ADDR);
	CHECK_STR(it.addr, "0000:0a:1f.3");
	CHECK(vm_default_item_applies(&it, "0000:0a:1f.3", 0x8086, 0x1234));
	CHECK(!vm_default_item_applies(&it, "0000:0a:1f.2", 0x8086, 0x1234));
	CHECK_EQ(vm_parse_default_item("2:wc,3:wc", 4, &it, NULL, 0), 0);	/* @n bytes only */
	CHECK_EQ(it.sel, VM_SEL_ANY);
	CHECK(vm_default_item_applies(&it, "0000:00:01.0", 1, 2));
}

/* a device bound to vfio-pci-memattr with the driver's sysfs files */
static void memattr_dev(const char *drv)
{
	char link[64];

	snprintf(link, sizeof(link), "../../drivers/%s", drv);
	ln(link, "bus/pci/devices/0000:00:03.0/driver");
	ln("../../drivers/vfio-pci", "bus/pci/devices/0000:00:03.1/driver");
	put("bus/pci/devices/0000:00:03.0/memattr_default", "\n");
	put("bus/pci/devices/0000:00:03.0/memattr_nonprefetchable_wc", "0\n");
}

static void default_cmd(void)
{
	struct mj *j;

	REQUIRE(setup() == 0);
	memattr_dev("vfio-pci-memattr");
	mk("module");
	mk("module/vfio_pci_memattr");
	mk("module/vfio_pci_memattr/parameters");
	put("module/vfio_pci_memattr/parameters/default_memattr",
	    "1af4:1110@2:wc,0000:00:03.0@0:nc, 8086:1111@2:wc,1af4:111@2:wc,0000:00:03.1@2:wc\n");
	put("module/vfio_pci_memattr/parameters/nonprefetchable_wc", "N\n");
	CHECK_EQ(cli("default 0000:00:03.0 --json"), 0);
	j = parse_out();
	CHECK(j != NULL);
	CHECK_STR(mj_str(j, "bdf"), "0000:00:03.0");
	CHECK_STR(mj_str(j, "driver"), "vfio-pci-memattr");
	CHECK_STR(mj_str(j, "module"), "vfio_pci_memattr");
	CHECK_STR(mj_str(j, "memattr_default_text"), "");
	CHECK(mj_is(j, "memattr_default", MJ_ARR));
	CHECK_EQ(mj_count(j, "memattr_default"), 0);
	CHECK_EQ(mj_bool(j, "nonprefetchable_wc"), 0);
	CHECK_EQ(mj_count(j, "set"), 0);
	CHECK_EQ(mj_count(j, "module_parameters.items_for_device"), 2);
	CHECK_STR(mj_str(j, "module_parameters.items_for_device.0"), "1af4:1110@2:wc");
	CHECK_STR(mj_str(j, "module_parameters.items_for_device.1"), "0000:00:03.0@0:nc");
	CHECK_EQ(mj_count(j, "module_parameters.malformed_items"), 1);
	CHECK_STR(mj_str(j, "module_parameters.malformed_items.0"), "1af4:111@2:wc");
	CHECK_EQ(mj_bool(j, "module_parameters.nonprefetchable_wc"), 0);
	CHECK(mj_is(j, "error", MJ_NULL));
	mj_free(j);

	/* what the kernel shows after a set; the fake file keeps the last write */
	put("bus/pci/devices/0000:00:03.0/memattr_default", "2:wc 4:dev\n");
	CHECK_EQ(cli("default 0000:00:03.0 --json"), 0);
	j = parse_out();
	CHECK_EQ(mj_count(j, "memattr_default"), 2);
	CHECK_EQ(mj_int(j, "memattr_default.0.bar", -1), 2);
	CHECK_STR(mj_str(j, "memattr_default.0.attr"), "wc");
	CHECK_EQ(mj_int(j, "memattr_default.1.bar", -1), 4);
	CHECK_STR(mj_str(j, "memattr_default.1.attr"), "dev");
	mj_free(j);
	CHECK_EQ(cli("default 00:03.0"), 0);
	CHECK(strstr(out, "memattr_default: 2:wc 4:dev") != NULL);
	CHECK(strstr(out, "items for this device (applied at its next bind): 1af4:1110@2:wc "
		      "0000:00:03.0@0:nc") != NULL);
	CHECK(strstr(out, "malformed item, ignored by the kernel: 1af4:111@2:wc") != NULL);

	/* set: operands in order, written in the kernel's spelling */
	CHECK_EQ(cli("default 00:03.0 2:WC 0:Nc --json"), 0);
	CHECK_STR(get("bus/pci/devices/0000:00:03.0/memattr_default"), "0:nc");
	j = parse_out();
	CHECK_EQ(mj_count(j, "set"), 2);
	CHECK_STR(mj_str(j, "set.0.item"), "2:wc");
	CHECK_EQ(mj_bool(j, "set.0.ok"), 1);
	CHECK_STR(mj_str(j, "set.1.item"), "0:nc");
	mj_free(j);
	CHECK_EQ(cli("default 00:03.0 2:wc"), 0);
	CHECK(strstr(out, "memattr_default: set 2:wc") != NULL);

	/* operands are checked before anything is written */
	put("bus/pci/devices/0000:00:03.0/memattr_default", "\n");
	CHECK_EQ(cli("default 00:03.0 2:wc 6:wc"), 2);
	CHECK_EQ(cli("default 00:03.0 2:uc"), 2);
	CHECK_EQ(cli("default 00:03.0 1af4:1110@2:wc --json"), 2);
	check_json_error(EINVAL, "default, selector in an operand");
	CHECK(strstr(errout, "is not BAR:ATTR") != NULL);
	CHECK_STR(get("bus/pci/devices/0000:00:03.0/memattr_default"), "\n");

	/* a write the kernel refuses: the errno, exit 1, the first operand kept */
	unlink(root_path("bus/pci/devices/0000:00:03.0/memattr_default"));
	ln("/dev/full", "bus/pci/devices/0000:00:03.0/memattr_default");
	CHECK_EQ(cli("default 00:03.0 2:wc 4:wc --json"), 1);
	check_json_error(ENOSPC, "default, write refused");
	j = parse_out();
	CHECK_STR(mj_str(j, "set.0.status"), "failed");
	CHECK_STR(mj_str(j, "set.1.status"), "not tried");
	mj_free(j);
	if (t_cur_fail)
		show();
	teardown();
}

/* not a memattr driver: exit 4; the kernel's vfio-pci is named as such */
static void default_not_memattr(void)
{
	REQUIRE(setup() == 0);
	CHECK_EQ(cli("default 0000:00:03.1"), 4);
	CHECK(strstr(errout, "not bound to vfio-pci-memattr or the vfio-memattr vfio-pci "
		      "(driver: e1000)") != NULL);
	mk("module");
	mk("module/vfio_pci");
	mk("module/vfio_pci/parameters");
	CHECK_EQ(cli("default 0000:00:03.0 2:wc --json"), 4);	/* on the kernel's vfio-pci */
	check_json_error(ENODEV, "default, kernel's vfio-pci");
	CHECK(strstr(errout, "bound to the kernel's vfio-pci, which has no memattr uAPI") != NULL);
	CHECK(get("bus/pci/devices/0000:00:03.0/memattr_default") == NULL);
	CHECK_EQ(cli("default 0000:00:04.0"), 4);		/* no driver */
	CHECK_EQ(cli("default 0000:00:09.0"), 1);		/* no such device */
	CHECK(strstr(errout, "no such PCI device") != NULL);
	/* list says which vfio-pci it is */
	CHECK_EQ(cli("list --json"), 0);
	{
		struct mj *j = parse_out();

		CHECK_EQ(mj_bool(j, "devices.0.memattr_driver"), 0);
		CHECK_STR(mj_str(j, "devices.0.attributes_unknown_reason"),
			  "bound to the kernel's vfio-pci (no memattr uAPI)");
		mj_free(j);
	}
	CHECK_EQ(cli("list"), 0);
	CHECK(strstr(out, "driver vfio-pci (kernel's) iommu_group 2") != NULL);
	CHECK_EQ(cli("unbind 0000:00:03.0"), 1);
	CHECK(strstr(errout, "bound to the kernel's vfio-pci, which has no memattr uAPI") != NULL);
	CHECK_STR(get("bus/pci/drivers/vfio-pci/unbind"), "");
	if (t_cur_fail)
		show();
	teardown();
}

/* the vfio-pci flavour counts as a memattr driver */
static void flavour_vfio_pci(void)
{
	struct mj *j;

	REQUIRE(setup() == 0);
	memattr_dev("vfio-pci");
	mk("module");
	mk("module/vfio_pci");
	mk("module/vfio_pci/parameters");
	put("module/vfio_pci/parameters/max_handles", "1024\n");
	put("module/vfio_pci/parameters/default_memattr", "(null)\n");
	CHECK_EQ(cli("default 0000:00:03.0 --json"), 0);
	j = parse_out();
	CHECK_STR(mj_str(j, "driver"), "vfio-pci");
	CHECK_STR(mj_str(j, "module"), "vfio_pci");
	CHECK_STR(mj_str(j, "module_parameters.default_memattr"), "");
	CHECK(mj_is(j, "module_parameters.nonprefetchable_wc", MJ_NULL));
	mj_free(j);
	CHECK_EQ(cli("list --json"), 0);
	j = parse_out();
	CHECK_EQ(mj_bool(j, "devices.0.memattr_driver"), 1);
	CHECK_STR(mj_str(j, "devices.0.attributes_unknown_reason"), "not opened (use --open)");
	mj_free(j);
	CHECK_EQ(cli("list --open --json"), 0);	/* tried to open it: no IOMMU in the fake */
	j = parse_out();
	CHECK_STR(mj_str(j, "devices.0.attributes_unknown_reason"),
		  "cannot open the device (in use?)");
	mj_free(j);
	CHECK_EQ(cli("bind 0000:00:03.0 --json"), 0);
	j = parse_out();
	CHECK_EQ(mj_bool(j, "memattr_driver"), 1);
	CHECK_EQ(mj_bool(j, "changed"), 0);
	CHECK(strstr(mj_str(j, "message") ? mj_str(j, "message") : "",
		     "already bound to vfio-pci, the vfio-memattr flavour") != NULL);
	CHECK(mj_is(j, "error", MJ_NULL));
	mj_free(j);
	CHECK_STR(get("bus/pci/devices/0000:00:03.0/driver_override"), "");	/* untouched */
	/* without the device attribute, max_handles alone tells the flavour */
	unlink(root_path("bus/pci/devices/0000:00:03.0/memattr_default"));
	CHECK_EQ(cli("default 0000:00:03.0"), 0);
	CHECK(strstr(out, "driver vfio-pci (module vfio_pci)") != NULL);
	/* unbind from the flavour (the fake driver link stays: "could not bind") */
	mk("run");
	put("run/0000:00:03.0.driver", "e1000\n\n");
	CHECK_EQ(cli("unbind 0000:00:03.0 --json"), 1);
	CHECK_STR(get("bus/pci/drivers/vfio-pci/unbind"), "0000:00:03.0");
	CHECK_STR(get("bus/pci/drivers_probe"), "0000:00:03.0");
	check_json_error(EIO, "unbind from the flavour");
	if (t_cur_fail)
		show();
	teardown();
}

void run_cli_tests(void)
{
	t_run("cli: bind refuses a non-viable IOMMU group", bind_not_viable);
	t_run("cli: a failed bind is rolled back (override, state file)", bind_rollback);
	t_run("cli: unbind bookkeeping (override, state file, probe)", unbind_bookkeeping);
	t_run("cli: unbind puts right what an interrupted bind left", unbind_stranded);
	t_run("cli: bind refuses a device in use (interface up, disk mounted or held)",
	      bind_in_use);
	t_run("cli: no IOMMU group, no device", bind_no_group);
	t_run("cli: bind without IOMMU group: enable_unsafe_noiommu_mode absent, N, Y",
	      bind_noiommu_param);
	t_run("cli: list and bind show a no-IOMMU group (noiommu-N, \"noiommu\": true)",
	      list_noiommu);
	t_run("cli: list reads sysfs only unless --open (JSON parsed)", list_sysfs_only);
	t_run("cli: --json errors are one JSON object on stdout, non-zero exit", json_errors);
	t_run("cli: map checks every SPEC before opening the device", spec_checked_first);
	t_run("cli: map --dmabuf, --attr, --no-revoke: checked before opening, help", dmabuf_options);
	t_run("cli: --version is the VERSION file", version_from_file);
	t_run("cli: usage errors and help", usage_errors);
	t_run("cli: default_memattr items: the kernel's grammar", default_items);
	t_run("cli: default shows and sets memattr_default, module parameter items", default_cmd);
	t_run("cli: default, list, unbind: not a memattr driver, the kernel's vfio-pci",
	      default_not_memattr);
	t_run("cli: the vfio-pci flavour is a memattr driver (default, list, bind, unbind)",
	      flavour_vfio_pci);
}
