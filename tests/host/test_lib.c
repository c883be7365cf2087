// SPDX-License-Identifier: LGPL-2.1-or-later
/* test_lib.c - library entry points that need no device. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vfio-memattr.h"
#include "../../lib/vfio-memattr-private.h"
#include "test.h"

static int nlog;
static char lastlog[512];

static void logcb(void *ctx, int level, const char *msg)
{
	(void)level;
	(*(int *)ctx)++;
	snprintf(lastlog, sizeof(lastlog), "%s", msg);
}

static void adopt_regular_file(void)
{
	struct vfio_memattr_dev *dev = (void *)1;
	char path[] = "/tmp/vfio-memattr-test-XXXXXX";
	int fd = mkstemp(path);

	CHECK(fd >= 0);
	unlink(path);
	/* VFIO_DEVICE_GET_INFO on a regular file: ENOTTY, and no device. */
	CHECK_EQ(vfio_memattr_adopt(fd, 0, &dev), -ENOTTY);
	CHECK(dev == NULL);
	CHECK(fcntl(fd, F_GETFD) >= 0);		/* the caller's fd is left open */
	close(fd);
}

static void bad_args(void)
{
	struct vfio_memattr_dev *dev = (void *)1;

	CHECK_EQ(vfio_memattr_adopt(-1, 0, &dev), -EINVAL);
	CHECK_EQ(vfio_memattr_adopt(0, 1, &dev), -EINVAL);
	CHECK_EQ(vfio_memattr_adopt(0, 0, NULL), -EINVAL);
	CHECK_EQ(vfio_memattr_open("0000:00:02.0", 1, &dev), -EINVAL);
	CHECK_EQ(vfio_memattr_open("not-a-bdf", 0, &dev), -EINVAL);
	CHECK(dev == NULL);
	CHECK_EQ(vfio_memattr_open(NULL, 0, &dev), -EINVAL);
	CHECK_EQ(vfio_memattr_open("0000:00:02.0", 0, NULL), -EINVAL);
	CHECK_EQ(vfio_memattr_device_fd(NULL), -EINVAL);
	CHECK_EQ(vfio_memattr_unmap(NULL), -EINVAL);
	CHECK_EQ(vfio_memattr_bar_info(NULL, 0, NULL), -EINVAL);
	CHECK(vfio_memattr_mapping_addr(NULL) == NULL);
	CHECK_EQ(vfio_memattr_mapping_handle(NULL), 0);
	vfio_memattr_close(NULL);
}

static char root[64];

static void open_fake_sysfs(void)
{
	struct vfio_memattr_dev *dev = (void *)1;
	const char *saved = vfio_memattr__sysfs_root;
	char p[256];

	snprintf(root, sizeof(root), "/tmp/vfio-memattr-sysfs-XXXXXX");
	CHECK(mkdtemp(root) != NULL);
	snprintf(p, sizeof(p), "%s/bus", root);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/bus/pci", root);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/bus/pci/devices", root);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/bus/pci/devices/0000:00:07.0", root);
	mkdir(p, 0755);
	vfio_memattr__sysfs_root = root;

	nlog = 0;
	vfio_memattr_set_log(logcb, &nlog);
	/* no such device */
	CHECK_EQ(vfio_memattr_open("00:09.0", 0, &dev), -ENODEV);
	CHECK(dev == NULL);
	CHECK(nlog > 0 && strstr(lastlog, "0000:00:09.0") != NULL);
	/* device without iommu_group link: IOMMU off */
	CHECK_EQ(vfio_memattr_open("0000:00:07.0", 0, &dev), -ENOENT);
	CHECK(strstr(lastlog, "IOMMU") != NULL);
	/* group link to a group that has no /dev/vfio node: not bound to VFIO */
	snprintf(p, sizeof(p), "%s/bus/pci/devices/0000:00:07.0/iommu_group", root);
	CHECK(symlink("../../../kernel/iommu_groups/987654", p) == 0);
	CHECK_EQ(vfio_memattr_open("0000:00:07.0", 0, &dev), -ENOENT);
	CHECK(strstr(lastlog, "/dev/vfio/987654") != NULL);
	unlink(p);
	vfio_memattr_set_log(NULL, NULL);
	nlog = 0;
	CHECK_EQ(vfio_memattr_open("00:09.0", 0, &dev), -ENODEV);
	CHECK_EQ(nlog, 0);			/* no callback, no call */

	/* $VFIO_MEMATTR_SYSFS moves the library's sysfs root (as the CLI's) */
	vfio_memattr__sysfs_root = NULL;
	snprintf(p, sizeof(p), "%s/bus/pci/devices/abcd:00:07.0", root);
	mkdir(p, 0755);
	setenv("VFIO_MEMATTR_SYSFS", root, 1);
	CHECK_EQ(vfio_memattr_open("abcd:00:07.0", 0, &dev), -ENOENT);	/* found, no IOMMU group */
	unsetenv("VFIO_MEMATTR_SYSFS");
	CHECK_EQ(vfio_memattr_open("abcd:00:07.0", 0, &dev), -ENODEV);	/* not in /sys */

	vfio_memattr__sysfs_root = saved;
	snprintf(p, sizeof(p), "rm -rf '%s'", root);
	CHECK_EQ(system(p), 0);
}

static void bar_decode(void)
{
	CHECK_EQ(vfio_memattr__decode_bar_reg(0x0), 0);			/* mem32 */
	CHECK_EQ(vfio_memattr__decode_bar_reg(0xfebf0000), 0);
	CHECK_EQ(vfio_memattr__decode_bar_reg(0x8), VFIO_MEMATTR_BAR_PREFETCH);
	CHECK_EQ(vfio_memattr__decode_bar_reg(0x4), VFIO_MEMATTR_BAR_MEM64);
	CHECK_EQ(vfio_memattr__decode_bar_reg(0xfe00000c),
		 VFIO_MEMATTR_BAR_MEM64 | VFIO_MEMATTR_BAR_PREFETCH);
	CHECK_EQ(vfio_memattr__decode_bar_reg(0x2), 0);	/* legacy below-1M type */
	CHECK_EQ(vfio_memattr__decode_bar_reg(0xc001), VFIO_MEMATTR_BAR_IO);
	CHECK_EQ(vfio_memattr__decode_bar_reg(0xd), VFIO_MEMATTR_BAR_IO);
}

static void pat_check(void)
{
	char path[] = "/tmp/vfio-memattr-pat-XXXXXX";
	int fd = mkstemp(path);
	FILE *f = fdopen(fd, "w");

	CHECK(f != NULL);
	fputs("PAT memtype list:\n"
	      "write-back @ 0x0-0x9f000\n"
	      "PAT: [mem 0x00000000fd000000-0x00000000fd010000] write-combining\n"
	      "PAT: [mem 0x00000000fd010000-0x00000000fd020000] uncached-minus\n"
	      "PAT: [mem 0x00000000fd100000-0x00000000fd110000] write-combining\n"
	      "PAT: [mem 0x00000000fd100000-0x00000000fd400000] uncached-minus\n", f);
	fclose(f);
	CHECK_EQ(vfio_memattr__pat_check_wc(path, 0xfd000000, 0xfd010000), 1);
	CHECK_EQ(vfio_memattr__pat_check_wc(path, 0xfd008000, 0xfd00c000), 1);
	CHECK_EQ(vfio_memattr__pat_check_wc(path, 0xfd010000, 0xfd020000), 0);
	CHECK_EQ(vfio_memattr__pat_check_wc(path, 0xfd00f000, 0xfd011000), 0);	/* spans both */
	CHECK_EQ(vfio_memattr__pat_check_wc(path, 0xfd100000, 0xfd110000), 0);	/* WC under UC- */
	CHECK_EQ(vfio_memattr__pat_check_wc(path, 0xfd020000, 0xfd030000), -ENOENT);
	unlink(path);
	CHECK_EQ(vfio_memattr__pat_check_wc(path, 0, 1), -ENOENT);
}

void run_lib_tests(void)
{
	t_run("adopt: regular file is refused with ENOTTY", adopt_regular_file);
	t_run("argument checks", bad_args);
	t_run("open: fake sysfs (no device, no IOMMU, not bound) + log callback", open_fake_sysfs);
	t_run("BAR register decode", bar_decode);
	t_run("PAT memtype list check", pat_check);
}
