// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * memattr_default - the administrator's default attribute for legacy BAR
 * mmaps (sysfs memattr_default, module parameter default_memattr), as a
 * program that knows nothing of memattr sees it: a plain VFIO open and an
 * mmap of BAR2 at its region offset (index << 40), as DPDK's EAL does.
 *
 * With "2:wc" the whole BAR is write-combining in the PAT list, the data
 * reaches the host file, revocation and refault keep the type, memattr
 * handles of another attribute are refused; without it the BAR is
 * uncached-minus as under vfio-pci.  Bad settings fail with a clear errno
 * and change nothing; no setting while the device is open.
 *
 * Slices: ivshmem0 BAR2 0x170000-0x17ffff (writes it whole).
 */
#define _GNU_SOURCE
#define _FILE_OFFSET_BITS 64
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lib/tap.h"
#include "lib/sysfs.h"
#include "lib/vfio.h"
#include "lib/memattr.h"
#include "lib/mmio.h"
#include "lib/sigbus.h"
#include "lib/hostcheck.h"
#include "lib/pat.h"

#define NTESTS		13
#define SLICE		0x170000ull
#define K64		(64 * 1024ull)
#define SEED		0xdefa017c0ffee001ull
#define LEGACY(bar)	((uint64_t)(bar) << 40)

static const char *bdf;
static char attr_path[256], param_path[256];

static int read_default(char *buf, size_t len)
{
	int rc = sysfs_read_str(attr_path, buf, len);

	if (!rc)
		buf[strcspn(buf, "\n")] = 0;
	return rc;
}

/* Write @val; 0 or -errno.  Checks that the setting reads @after then. */
static int write_default(const char *val, const char *after, int *same)
{
	char now[64] = "?";
	int rc = sysfs_write_str(attr_path, val);

	read_default(now, sizeof(now));
	*same = !strcmp(now, after);
	if (!*same)
		tap_diag("after writing '%s': memattr_default reads '%s', want '%s'", val, now, after);
	return rc;
}

static int rebind(void)
{
	char p[256];

	snprintf(p, sizeof(p), "/sys/bus/pci/devices/%s/driver/unbind", bdf);
	if (sysfs_write_str(p, bdf))
		return -errno;
	return sysfs_write_str("/sys/bus/pci/drivers_probe", bdf);
}

int main(void)
{
	struct vfio_device_feature_memattr_map m;
	uint64_t bp = 0, bsz = 0;
	struct pat_expect wc, uc;
	char buf[64];
	struct vdev d;
	uint8_t *p;
	int rc, same, ok;

	bdf = ma_bdf_or_skip("MEMATTR_IVSHMEM0");
	tap_plan(NTESTS);
	snprintf(attr_path, sizeof(attr_path), "/sys/bus/pci/devices/%s/memattr_default", bdf);
	/* the vfio-pci flavour (lab/vfiopci) has the same parameters as module vfio_pci */
	snprintf(param_path, sizeof(param_path), "/sys/module/%s/parameters/default_memattr",
		 getenv("MEMATTR_FLAVOUR_DRIVER") &&
		 !strcmp(getenv("MEMATTR_FLAVOUR_DRIVER"), "vfio-pci") ? "vfio_pci" : "vfio_pci_memattr");
	if (read_default(buf, sizeof(buf)) || ma_bar_phys(bdf, 2, &bp, &bsz) || !bsz) {
		tap_fail_n(NTESTS, "no memattr_default attribute or no BAR2");
		return tap_done();
	}
	tap_ok(!strcmp(buf, ""), "memattr_default of a newly bound device is empty ('%s')", buf);
	wc = (struct pat_expect){ bp, bp + bsz, "write-combining" };
	uc = (struct pat_expect){ bp, bp + bsz, "uncached-minus" };

	/* 2: bad settings */
	{
		static const struct { const char *val; int err; } bad[] = {
			{ "0:wc", EPERM },	/* non-prefetchable BAR0 */
			{ "1:wc", EOPNOTSUPP },	/* ivshmem-plain has no BAR1 */
			{ "6:wc", EINVAL },
			{ "2:uc", EINVAL },
			{ "2wc", EINVAL },
			{ "\n", EINVAL },
		};
		unsigned int i;

		ok = 1;
		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			rc = write_default(bad[i].val, "", &same);
			if (rc != -bad[i].err || !same) {
				tap_diag("'%s': %s, want %s", bad[i].val, rc ? ma_errname(-rc) : "success",
					 ma_errname(bad[i].err));
				ok = 0;
			}
		}
		/* the NVMe controller's BAR0 holds its MSI-X table: never WC */
		{
			const char *nvme = ma_bdf("MEMATTR_NVME", NULL, 0);
			char opt[256], def[256];

			if (nvme) {
				snprintf(opt, sizeof(opt),
					 "/sys/bus/pci/devices/%s/memattr_nonprefetchable_wc", nvme);
				snprintf(def, sizeof(def), "/sys/bus/pci/devices/%s/memattr_default", nvme);
				sysfs_write_str(opt, "1");
				rc = sysfs_write_str(def, "0:wc");
				sysfs_write_str(opt, "0");
				if (rc != -EPERM) {
					tap_diag("NVMe '0:wc' (MSI-X BAR, opt-in set): %s, want EPERM",
						 rc ? ma_errname(-rc) : "success");
					ok = 0;
				}
			}
		}
		tap_ok(ok, "bad settings refused (non-prefetchable BAR0, MSI-X BAR even with opt-in: EPERM; "
		       "empty BAR1: EOPNOTSUPP; BAR 6, unknown attribute, no colon, empty: EINVAL), nothing changed");
	}

	rc = write_default("2:WC", "2:wc", &same);
	tap_ok(!rc && same, "'2:WC' accepted, reads back '2:wc' (%s)", rc ? ma_errname(-rc) : "ok");

	/* 4-9: a plain VFIO program */
	if (vdev_open(&d, bdf)) {
		tap_fail_n(NTESTS - 3, "cannot open ivshmem0");
		goto restore;
	}
	rc = write_default("2:nc", "2:wc", &same);
	tap_ok(rc == -EBUSY && same, "no change while the device is open (%s)", ma_errname(-rc));

	p = ma_map_fd(d.fd, LEGACY(2), bsz);
	ok = p && ma_fill_check(p + SLICE, K64, SEED) &&
	     pat_check_bar(bp, bp + bsz, &wc, 1, 1);
	tap_ok(ok, "plain mmap of BAR2 at its region offset: data reads back, PAT write-combining for exactly the BAR");
	if (ok)
		ma_hostcheck(SLICE, K64, SEED, "memattr_default: plain VFIO mmap of a BAR with default WC");
	tap_ok(ma_legacy_check(d.fd, SLICE, K64, SEED), "pread of BAR2 reads what the mapping wrote");

	ok = 0;
	if (p && !cmd_memory(d.fd, 0)) {
		int sig = probe_access((volatile uint64_t *)(p + SLICE), 0, 0, NULL);

		ok = sig == SIGBUS && !cmd_memory(d.fd, 1) &&
		     !probe_access((volatile uint64_t *)(p + SLICE), 0, 0, NULL) &&
		     mmio_check(p + SLICE, K64, SEED) == K64 &&
		     pat_check_bar(bp, bp + bsz, &wc, 1, 1);
		if (!ok)
			tap_diag("memory off: signal %d", sig);
	}
	tap_ok(ok, "memory disable revokes it (SIGBUS), re-enable refaults it, still write-combining");

	rc = ma_map1(d.fd, 2, SLICE, K64, VFIO_MEMATTR_NC, &m);
	tap_errno(rc, EBUSY, "memattr MAP NC inside a BAR whose legacy mmaps are WC");
	rc = ma_map1(d.fd, 2, SLICE, K64, VFIO_MEMATTR_WC, &m);
	tap_errno(rc, 0, "memattr MAP WC inside it");
	if (!rc)
		ma_unmap(d.fd, m.handle);
	if (p)
		munmap(p, bsz);
	vdev_close(&d);
	tap_ok(pat_count(bp, bp + bsz) == 0, "after close no PAT entry is left on BAR2 (%d)",
	       pat_count(bp, bp + bsz));

	/* 11: back to the default */
	rc = write_default("2:nc", "", &same);
	ok = !rc && same && !vdev_open(&d, bdf);
	if (ok) {
		p = ma_map_fd(d.fd, LEGACY(2), bsz);
		ok = p && ma_fill_check(p + SLICE, K64, SEED) &&
		     pat_check_bar(bp, bp + bsz, &uc, 1, 1);	/* no entry of another type */
		if (p)
			munmap(p, bsz);
		vdev_close(&d);
	}
	tap_ok(ok, "'2:nc': the same plain mmap is uncached-minus, as under vfio-pci");

	/* 12-13: the module parameter, for devices bound afterwards */
	rc = sysfs_write_str(param_path, "2:wc,0:wc");
	ok = !rc && !rebind() && !read_default(buf, sizeof(buf)) && !strcmp(buf, "2:wc");
	tap_ok(ok, "default_memattr=2:wc,0:wc applies to a device bound afterwards ('%s'; 0:wc refused)", buf);
	ok = !sysfs_write_str(param_path, "\n") && !rebind() &&
	     !read_default(buf, sizeof(buf)) && !strcmp(buf, "");
	tap_ok(ok, "with default_memattr empty again, a rebound device has no default ('%s')", buf);

restore:
	sysfs_write_str(param_path, "\n");
	sysfs_write_str(attr_path, "2:nc");
	return tap_done();
}
