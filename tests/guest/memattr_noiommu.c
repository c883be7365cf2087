// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * memattr_noiommu - VFIO's unsafe no-IOMMU mode, as ENA users on EC2 run
 * it (vfio.enable_unsafe_noiommu_mode=1, no IOMMU): the lab boots the
 * debug kernel (CONFIG_VFIO_NOIOMMU=y) without its vIOMMU for this
 * (lab/boot --noiommu, lab/noiommu).  On ivshmem0 (vfio-pci-memattr):
 *
 *  1. its group is one VFIO made up (sysfs name vfio-noiommu), opened as
 *     /dev/vfio/noiommu-N;
 *  2. without CAP_SYS_RAWIO, vfio_memattr_open() fails with EPERM;
 *  3. with it, the library opens the device and says it is no-IOMMU;
 *  4. the driver's uAPI answers there unchanged (kernel_support);
 *  5. DMA mapping is refused with EOPNOTSUPP, without reaching the kernel;
 *  6. a WC handle of BAR2 through the library: WC, from a memattr handle,
 *     write-combining in the PAT list for exactly its range (x86);
 *  7. a pattern written through it with the WC store helpers reads back
 *     (and the host finds it in ivshmem0's file);
 *  8. unmapping it releases the handle: its PAT entry is gone;
 *  9. the CLI's list and info name the no-IOMMU group;
 * 10. the CLI's map --write-pattern works there (host-checked).
 * Elsewhere (an IOMMU, or the mode off) it skips: nothing to test.
 *
 * Slices: ivshmem0 BAR2 0x358000-0x35ffff (library 0x358000-0x35bfff, CLI
 * 0x35c000-0x35ffff).
 */
#define _GNU_SOURCE
#define _FILE_OFFSET_BITS 64
#include <errno.h>
#include <inttypes.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/tap.h"
#include "lib/sysfs.h"
#include "lib/hostcheck.h"
#include "lib/pat.h"
#include "lib/cli.h"
#include "lib/wccheck.h"
#include "pattern.h"
#include "vfio-memattr.h"
#include "vfio-memattr-mmio.h"

#define NTESTS		10
#define LIB_OFF		0x358000ull
#define LIB_LEN		0x4000ull
#define CLI_OFF		0x35c000ull
#define CLI_LEN		0x4000ull
#define SEED_LIB	0x0105e55eed000001ull

static const enum vfio_memattr P_WC[] = { VFIO_MEMATTR_WC };

/* The device's IOMMU group number if it is a no-IOMMU group, else NULL. */
static const char *noiommu_group(const char *bdf)
{
	static char grp[256];
	char p[320], link[256], name[64] = "";
	const char *g;
	ssize_t n;
	FILE *f;

	snprintf(p, sizeof(p), "/sys/bus/pci/devices/%s/iommu_group", bdf);
	n = readlink(p, link, sizeof(link) - 1);
	if (n < 0)
		return NULL;
	link[n] = 0;
	g = strrchr(link, '/');
	snprintf(grp, sizeof(grp), "%s", g ? g + 1 : link);
	snprintf(p, sizeof(p), "/sys/kernel/iommu_groups/%s/name", grp);
	f = fopen(p, "r");
	if (!f)
		return NULL;
	if (!fgets(name, sizeof(name), f))
		name[0] = 0;
	fclose(f);
	name[strcspn(name, "\n")] = 0;
	return strcmp(name, "vfio-noiommu") ? NULL : grp;
}

/* vfio_memattr_open() in a child that dropped CAP_SYS_RAWIO: its result. */
static int open_without_rawio(const char *bdf)
{
	pid_t pid = fork();
	int st;

	if (pid < 0)
		return -errno;
	if (!pid) {
		struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
		struct __user_cap_data_struct c[2];
		struct vfio_memattr_dev *dev = NULL;
		int ret;

		memset(c, 0, sizeof(c));
		if (syscall(SYS_capget, &h, c))
			_exit(100);
		c[CAP_TO_INDEX(CAP_SYS_RAWIO)].effective &= ~CAP_TO_MASK(CAP_SYS_RAWIO);
		c[CAP_TO_INDEX(CAP_SYS_RAWIO)].permitted &= ~CAP_TO_MASK(CAP_SYS_RAWIO);
		if (syscall(SYS_capset, &h, c))
			_exit(101);
		ret = vfio_memattr_open(bdf, 0, &dev);
		if (!ret)
			vfio_memattr_close(dev);
		_exit(ret < 0 && -ret < 100 ? -ret : 0);
	}
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return -ECHILD;
	return WEXITSTATUS(st) >= 100 ? -EPROTO : -WEXITSTATUS(st);
}

int main(void)
{
	const char *bdf = ma_bdf_or_skip("MEMATTR_IVSHMEM0");
	const char *c = getenv("VFIO_MEMATTR_CLI"), *grp;
	struct vfio_memattr_mapping *m = NULL;
	struct vfio_memattr_dev *dev = NULL;
	uint64_t phys = 0, size = 0;
	char dpath[300], need[300];
	bool good;
	int ret, st;

	if (c && *c)
		cli_set_path(c);
	tap_plan(NTESTS);
	grp = noiommu_group(bdf);
	if (!grp) {
		tap_skip_rest_of(NTESTS, "not booted in VFIO's no-IOMMU mode (ivshmem0's IOMMU group is not vfio-noiommu; lab/boot --noiommu)");
		return tap_done();
	}
	snprintf(dpath, sizeof(dpath), "/dev/vfio/noiommu-%s", grp);
	tap_ok(!access(dpath, F_OK), "ivshmem0's group %s is a no-IOMMU group, %s", grp, dpath);

	ret = open_without_rawio(bdf);
	tap_ok(ret == -EPERM, "vfio_memattr_open() without CAP_SYS_RAWIO: %s (EPERM expected)",
	       ret ? ma_errname(-ret) : "opened");

	ret = vfio_memattr_open(bdf, 0, &dev);
	tap_ok(!ret && vfio_memattr_is_noiommu(dev) == 1,
	       "vfio_memattr_open() as root: %s, is_noiommu %d", ret ? ma_errname(-ret) : "ok",
	       ret ? -1 : vfio_memattr_is_noiommu(dev));
	if (ret) {
		tap_skip_rest_of(NTESTS - 3, "the device did not open");
		return tap_done();
	}
	tap_ok(vfio_memattr_kernel_support(dev) == 1, "the driver's uAPI answers (kernel_support %d)",
	       vfio_memattr_kernel_support(dev));
	{
		static char page[4096] __attribute__((aligned(4096)));

		ret = vfio_memattr_dma_map(dev, page, 0x100000, sizeof(page));
		tap_ok(ret == -EOPNOTSUPP, "DMA map in no-IOMMU mode: %s (EOPNOTSUPP expected)",
		       ret ? ma_errname(-ret) : "mapped");
	}

	ret = vfio_memattr_map(dev, 2, LIB_OFF, LIB_LEN, P_WC, 1, 0, &m);
	good = !ret && vfio_memattr_mapping_attr(m) == VFIO_MEMATTR_WC &&
	       vfio_memattr_mapping_source(m) == VFIO_MEMATTR_SRC_MEMATTR;
	if (good && ma_bar_phys(bdf, 2, &phys, &size) == 0 && phys)
		good = pat_exact(phys + LIB_OFF, phys + LIB_OFF + LIB_LEN, "write-combining");
	else if (good)
		good = false;
	tap_ok(good, "map BAR2 0x%llx+16K WC: %s, from a memattr handle, write-combining in the PAT list for exactly the range",
	       LIB_OFF, ret ? ma_errname(-ret) : vfio_memattr_attr_name(vfio_memattr_mapping_attr(m)));

	good = m && wc_write_and_check(m, SEED_LIB);
	tap_ok(good, "a pattern written with the WC store helpers reads back");
	if (good)
		hostcheck("ivshmem0", LIB_OFF, LIB_LEN, SEED_LIB, "memattr_noiommu: library WC mapping in no-IOMMU mode");
	ret = m ? vfio_memattr_unmap(m) : -ENOENT;
	tap_ok(!ret && (!phys || pat_none_of(phys + LIB_OFF, phys + LIB_OFF + LIB_LEN, "write-combining")),
	       "unmap: %s, the WC entry is gone from the PAT list", ret ? ma_errname(-ret) : "ok");
	vfio_memattr_close(dev);

	snprintf(need, sizeof(need), "noiommu-%s", grp);
	st = cli_run("list");
	good = st == 0 && text_has(cli_out, bdf) && text_has(cli_out, need);
	st = cli_run("info %s --json", bdf);
	good = good && st == 0 && text_has(cli_out, "\"noiommu\":true");
	if (!good)
		cli_dump();
	tap_ok(good, "cli: list names group %s, info --json says \"noiommu\": true", need);

	st = cli_run("map %s 2:0x%llx:16K:WC --write-pattern --json", bdf, CLI_OFF);
	good = st == 0 && text_has(cli_out, "\"attr\":\"WC\"") &&
	       text_has(cli_out, "\"source\":\"memattr\"");
	if (!good)
		cli_dump();
	tap_ok(good, "cli: map 2:0x%llx:16K:WC --write-pattern works in no-IOMMU mode (exit %d)",
	       CLI_OFF, st);
	if (good)
		hostcheck("ivshmem0", CLI_OFF, CLI_LEN, CLI_OFF,
			  "memattr_noiommu: vfio-memattr map --write-pattern (seed = BAR offset)");
	return tap_done();
}
