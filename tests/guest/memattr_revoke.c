// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * memattr_revoke - revocation of handle mappings: clearing
 * PCI_COMMAND_MEMORY makes every handle mapping (live or released) raise
 * SIGBUS; setting it again makes them work with the same PAT type and the
 * data intact; VFIO_DEVICE_RESET zaps them and they refault; mappings of a
 * closed device fd are revoked too.
 *
 * Data written: ivshmem0 BAR2 [2 MiB + 768 KiB, 2 MiB + 1 MiB) only; the
 * NVMe CMB (not host-checked) for the reset test.
 */
#define _GNU_SOURCE
#define _FILE_OFFSET_BITS 64
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/tap.h"
#include "lib/sysfs.h"
#include "lib/vfio.h"
#include "lib/memattr.h"
#include "lib/mmio.h"
#include "lib/sigbus.h"
#include "lib/hostcheck.h"
#include "lib/pat.h"
#include "pattern.h"

#define NTESTS 31

#define R		(2 * MA_MIB + 768 * 1024)	/* our slice of ivshmem0 BAR2 */
#define K64		(64 * 1024ull)
#define WC_OFF		(R)
#define NC_OFF		(R + K64)
#define REL_OFF		(R + 2 * K64)
#define CL_OFF		(R + 3 * K64)

#define SEED_WC		0xae70000000000001ull
#define SEED_NC		0xae70000000000002ull
#define SEED_REL	0xae70000000000003ull
#define SEED_WC2	0xae70000000000004ull
#define SEED_CL		0xae70000000000005ull
#define SEED_CMB	0xae70000000000006ull
#define SEED_CMB2	0xae70000000000007ull

static uint64_t bp, bsz;

static int64_t faults(const char *bdf)
{
	int64_t a = 0, b = 0, c = 0;

	if (ma_stat(bdf, "pte_faults", &a) || ma_stat(bdf, "pmd_faults", &b) ||
	    ma_stat(bdf, "pud_faults", &c))
		return -1;
	return a + b + c;
}

/* Read and write one word of each mapping; all must raise SIGBUS. */
static int all_sigbus(volatile uint8_t **maps, int n)
{
	int i, ok = 1;

	for (i = 0; i < n; i++) {
		int r = probe_access((volatile uint64_t *)maps[i], 0, 0, NULL);
		int w = probe_access((volatile uint64_t *)(maps[i] + 8), 1, 0xdeadbeefull, NULL);

		if (r != SIGBUS || w != SIGBUS) {
			tap_diag("mapping %d: read -> %s, write -> %s (want SIGBUS)", i, sig_name(r), sig_name(w));
			ok = 0;
		}
	}
	return ok;
}

static void fill(volatile uint8_t *p, size_t len, uint64_t seed)
{
	mmio_fill(p, len, seed);
	mmio_sfence();
}

static void reset_tests(void)
{
	/* the NVMe device is the second choice, if there is one */
	const char *nv = ma_bdf("MEMATTR_NVME", NULL, 0);
	const char *b0 = ma_bdf("MEMATTR_IVSHMEM0", NULL, 0);
	const char *devs[2] = { b0, nv };
	struct vdev d;
	struct vfio_device_feature_memattr_map m;
	volatile uint8_t *p;
	uint64_t ps, sz;
	int i, rc, ok, bar = -1;
	int64_t f0, f1;
	const char *dev = NULL;

	/* ivshmem first if it can reset (then the range is our slice), else the NVMe CMB */
	for (i = 0; i < 2 && !dev; i++) {
		if (!devs[i] || vdev_open(&d, devs[i]))
			continue;
		if (d.info.flags & VFIO_DEVICE_FLAGS_RESET) {
			dev = devs[i];
			break;
		}
		tap_diag("%s: VFIO_DEVICE_FLAGS_RESET not set (flags 0x%x)", devs[i], d.info.flags);
		vdev_close(&d);
	}
	if (!dev) {
		tap_skip_rest_of(6, "neither ivshmem0 nor the NVMe device offers VFIO_DEVICE_RESET");
		return;
	}
	if (dev == b0) {
		bar = 2;
	} else {
		for (i = 2; i <= 4; i += 2) {
			struct vfio_device_feature_memattr_bar_info bi;

			if (!ma_bar_info(d.fd, (uint32_t)i, &bi) && bi.size >= 16 * MA_MIB &&
			    (bi.bar_flags & VFIO_MEMATTR_BAR_PREFETCH)) {
				bar = i;
				break;
			}
		}
	}
	if (bar < 0 || ma_bar_phys(dev, (unsigned int)bar, &ps, &sz)) {
		tap_fail_n(6, "no BAR to test reset on");
		vdev_close(&d);
		return;
	}
	tap_diag("reset tests on %s BAR%d (phys 0x%" PRIx64 ")", dev, bar, ps);
	{
		uint64_t off = dev == b0 ? CL_OFF : 0;
		struct pat_expect x = { ps + off, ps + off + K64, "write-combining" };
		uint64_t seed = dev == b0 ? SEED_CL : SEED_CMB;

		/* 1 */
		rc = ma_map1(d.fd, (uint32_t)bar, off, K64, VFIO_MEMATTR_WC, &m);
		p = rc ? NULL : ma_map_fd(d.fd, m.mmap_offset, K64);
		ok = p != NULL;
		if (p) {
			fill(p, K64, seed);
			ok = mmio_data_ok(p, K64, seed, "before reset") && pat_check_bar(ps, ps + sz, &x, 1, 1);
		} else {
			tap_diag("MAP/mmap: %s / %s", ma_errname(-rc), strerror(errno));
		}
		tap_ok(ok, "WC handle on %s BAR%d mapped, data and PAT write-combining before reset", dev, bar);

		/* 2 */
		f0 = faults(dev);
		rc = ioctl(d.fd, VFIO_DEVICE_RESET) ? -errno : 0;
		tap_errno(rc, 0, "VFIO_DEVICE_RESET");

		/* 3: refault works */
		ok = 0;
		if (p) {
			int s = probe_access((volatile uint64_t *)p, 1, 0, NULL);

			if (s)
				tap_diag("access after reset raised %s", sig_name(s));
			ok = !s;
			if (ok) {
				fill(p, K64, dev == b0 ? SEED_CL : SEED_CMB2);
				ok = mmio_data_ok(p, K64, dev == b0 ? SEED_CL : SEED_CMB2, "after reset");
			}
		}
		tap_ok(ok, "after reset the mapping refaults and works");

		/* 4: it was zapped: the fault counters grew */
		f1 = faults(dev);
		if (f0 < 0 || f1 < 0)
			tap_ok(0, "debugfs stats of %s readable", dev);
		else
			tap_ok(f1 > f0, "reset zapped the mapping: faults %" PRId64 " -> %" PRId64, f0, f1);

		/* 5: same PAT type */
		tap_ok(p && pat_check_bar(ps, ps + sz, &x, 1, 1), "after reset PAT still write-combining exactly");

		/* 6: legacy read agrees */
		ok = 0;
		if (p) {
			uint8_t *b = malloc(K64);

			rc = b ? region_pread(d.fd, (uint32_t)bar, off, b, K64) : -ENOMEM;
			ok = !rc && buf_check(b, K64, dev == b0 ? SEED_CL : SEED_CMB2) == K64;
			if (rc)
				tap_diag("pread: %s", ma_errname(-rc));
			free(b);
			if (ok && dev == b0)
				ma_hostcheck(off, K64, SEED_CL, "memattr_revoke: WC after reset");
		}
		tap_ok(ok, "after reset the legacy region reads what the WC mapping wrote");
		if (p)
			munmap((void *)p, K64);
	}
	vdev_close(&d);
}

int main(void)
{
	const char *bdf;
	struct vdev d;
	struct vfio_device_feature_memattr_map wc, nc, rel;
	volatile uint8_t *wm = NULL, *nm = NULL, *rm = NULL;
	int rc, ok;
	int64_t f0, f1;

	tap_plan(NTESTS);
	bdf = ma_bdf_or_skip("MEMATTR_IVSHMEM0");
	if (vdev_open(&d, bdf) || ma_bar_phys(bdf, 2, &bp, &bsz) || bsz < 4 * MA_MIB) {
		tap_fail_n(NTESTS, "cannot open ivshmem0 or BAR2 is not 4 MiB");
		return tap_done();
	}

	/* 1: three mappings: WC live, NC live, WC released-but-mapped */
	rc = ma_map1(d.fd, 2, WC_OFF, K64, VFIO_MEMATTR_WC, &wc);
	rc = rc ? rc : ma_map1(d.fd, 2, NC_OFF, K64, VFIO_MEMATTR_NC, &nc);
	rc = rc ? rc : ma_map1(d.fd, 2, REL_OFF, K64, VFIO_MEMATTR_WC, &rel);
	if (!rc) {
		wm = ma_map_fd(d.fd, wc.mmap_offset, K64);
		nm = ma_map_fd(d.fd, nc.mmap_offset, K64);
		rm = ma_map_fd(d.fd, rel.mmap_offset, K64);
	}
	ok = !rc && wm && nm && rm;
	if (ok) {
		fill(wm, K64, SEED_WC);
		fill(nm, K64, SEED_NC);
		fill(rm, K64, SEED_REL);
		ok = mmio_data_ok(wm, K64, SEED_WC, "WC") && mmio_data_ok(nm, K64, SEED_NC, "NC") &&
		     mmio_data_ok(rm, K64, SEED_REL, "WC2") && !ma_unmap(d.fd, rel.handle);
	} else {
		tap_diag("setup: MAP %s, mmap %s", ma_errname(-rc), strerror(errno));
	}
	tap_ok(ok, "WC, NC and a released WC mapping set up with data");
	if (!ok) {
		tap_fail_n(NTESTS - 1, "setup failed");
		return tap_done();
	}

	/* 2 */
	rc = cmd_memory(d.fd, 0);
	tap_errno(rc, 0, "clear PCI_COMMAND_MEMORY through the config region");

	/* 3-5 */
	{
		volatile uint8_t *maps[1];

		maps[0] = wm;
		tap_ok(all_sigbus(maps, 1), "memory disabled: WC handle mapping raises SIGBUS on read and write");
		maps[0] = nm;
		tap_ok(all_sigbus(maps, 1), "memory disabled: NC handle mapping raises SIGBUS on read and write");
		maps[0] = rm;
		tap_ok(all_sigbus(maps, 1), "memory disabled: released-but-mapped handle raises SIGBUS");
	}
	/* 6: a new mmap of a live handle also raises SIGBUS when touched */
	{
		volatile uint8_t *p = ma_map_fd(d.fd, wc.mmap_offset, MA_PAGE);
		volatile uint8_t *maps[1] = { p };

		ok = p && all_sigbus(maps, 1);
		if (!p)
			tap_diag("mmap while memory disabled: %s", strerror(errno));
		if (p)
			munmap((void *)p, MA_PAGE);
		tap_ok(ok, "memory disabled: a mapping made now raises SIGBUS too");
	}
	/* informative: legacy pread with memory disabled */
	{
		uint64_t v;

		rc = region_pread(d.fd, 2, WC_OFF, &v, 8);
		tap_diag("legacy pread with memory disabled: %s", rc ? ma_errname(-rc) : "succeeds");
	}

	/* 7 (fault counters sampled after the SIGBUS probes: only refaults count) */
	f0 = faults(bdf);
	rc = cmd_memory(d.fd, 1);
	tap_errno(rc, 0, "set PCI_COMMAND_MEMORY again");

	/* 8-10: data intact through every mapping */
	tap_ok(mmio_data_ok(wm, K64, SEED_WC, "WC after re-enable"), "re-enabled: WC mapping works, data intact");
	tap_ok(mmio_data_ok(nm, K64, SEED_NC, "NC after re-enable"), "re-enabled: NC mapping works, data intact");
	tap_ok(mmio_data_ok(rm, K64, SEED_REL, "released after re-enable"),
	       "re-enabled: released-but-mapped mapping works, data intact");

	/* 11: PAT unchanged */
	{
		struct pat_expect x[3] = {
			{ bp + WC_OFF, bp + WC_OFF + K64, "write-combining" },
			{ bp + NC_OFF, bp + NC_OFF + K64, "uncached-minus" },
			{ bp + REL_OFF, bp + REL_OFF + K64, "write-combining" },
		};

		tap_ok(pat_check_bar(bp, bp + bsz, x, 3, 1), "re-enabled: PAT types of all three ranges unchanged");
	}

	/* 12: the faults were real refaults */
	f1 = faults(bdf);
	if (f0 < 0 || f1 < 0)
		tap_ok(0, "debugfs stats of %s readable", bdf);
	else
		tap_ok(f1 >= f0 + 3, "mappings were zapped and refaulted: faults %" PRId64 " -> %" PRId64 " (>= +3)",
		       f0, f1);

	/* 13: new data after re-enable reaches the BAR */
	fill(wm, K64, SEED_WC2);
	{
		uint8_t *b = malloc(K64);

		rc = region_pread(d.fd, 2, WC_OFF, b, K64);
		ok = !rc && buf_check(b, K64, SEED_WC2) == K64;
		free(b);
		if (ok) {
			ma_hostcheck(WC_OFF, K64, SEED_WC2, "memattr_revoke: WC after re-enable");
			ma_hostcheck(NC_OFF, K64, SEED_NC, "memattr_revoke: NC across disable");
			ma_hostcheck(REL_OFF, K64, SEED_REL, "memattr_revoke: released WC across disable");
		}
		tap_ok(ok, "re-enabled: new WC stores reach the BAR (legacy pread)");
	}

	/* 14-16: mappings of a closed device fd are revoked too */
	if (d.mode == VDEV_CDEV) {
		/*
		 * The device cdev opens a device once (vfio_df_open()): while
		 * wm holds the first file, a second open is refused, so there
		 * is no other fd to disable memory through.
		 */
		munmap((void *)nm, K64);
		munmap((void *)rm, K64);
		nm = rm = NULL;
		rc = vdev_get_fd(&d);
		if (rc >= 0)
			close(rc);
		tap_ok(rc == -EINVAL, "cdev: a second open of the device while it is open -> EINVAL (got %s)",
		       rc >= 0 ? "a device fd" : ma_errname(-rc));
		tap_skip("the VFIO device cdev opens a device once: no second fd while a mapping holds the first",
			 "memory enabled via the new fd: the old mapping works again");
		ok = ma_nr_handles(d.fd, 2) >= 1;
		tap_ok(ok, "the open device still has its handles (nr_handles %d)", ma_nr_handles(d.fd, 2));
	} else {
		struct vdev d2;

		munmap((void *)nm, K64);
		munmap((void *)rm, K64);
		nm = rm = NULL;
		close(d.fd);	/* wm keeps the device open */
		d.fd = -1;
		rc = vdev_get_fd(&d);
		ok = rc >= 0;
		if (ok) {
			d.fd = rc;
			rc = cmd_memory(d.fd, 0);
			ok = !rc;
			if (ok) {
				volatile uint8_t *maps[1] = { wm };

				ok = all_sigbus(maps, 1);
			}
		}
		tap_ok(ok, "old fd closed, memory disabled via a new fd: the old mapping raises SIGBUS");
		rc = d.fd >= 0 ? cmd_memory(d.fd, 1) : -EBADF;
		ok = !rc && mmio_data_ok(wm, K64, SEED_WC2, "old mapping after re-enable");
		tap_ok(ok, "memory enabled via the new fd: the old mapping works again");
		(void)d2;
		ok = ma_nr_handles(d.fd, 2) >= 1;
		tap_ok(ok, "the new fd sees the handles of the open device (nr_handles %d)", ma_nr_handles(d.fd, 2));
	}
	/* 17-20: a mapping moved by mremap and a forked child's copy are revoked too */
	{
		void *res = mmap(NULL, 4 * K64, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		volatile uint8_t *q = MAP_FAILED;
		int to_child[2], to_parent[2], status = 0;
		char c;
		pid_t pid = -1;

		if (res != MAP_FAILED)
			q = mremap((void *)wm, K64, K64, MREMAP_MAYMOVE | MREMAP_FIXED, (uint8_t *)res + 2 * K64);
		if (q == MAP_FAILED) {
			tap_diag("mremap: %s", strerror(errno));
			tap_fail_n(4, "mremap of the handle mapping failed");
		} else {
			wm = q;
			tap_ok(q != MAP_FAILED && mmio_data_ok(q, K64, SEED_WC2, "moved mapping"),
			       "mremap-moved WC mapping works at its new address, data intact");
			if (pipe(to_child) || pipe(to_parent)) {
				tap_fail_n(3, "pipe");
			} else {
				fflush(stdout);
				pid = fork();
				if (pid == 0) {
					int sg;

					if (probe_access((volatile uint64_t *)q, 0, 0, NULL))
						_exit(10);
					if (write(to_parent[1], "r", 1) != 1 || read(to_child[0], &c, 1) != 1)
						_exit(11);
					/* memory is disabled now */
					sg = probe_access((volatile uint64_t *)(q + 64), 0, 0, NULL);
					if (write(to_parent[1], sg == SIGBUS ? "B" : "n", 1) != 1 ||
					    read(to_child[0], &c, 1) != 1)
						_exit(12);
					/* memory is enabled again */
					if (probe_access((volatile uint64_t *)q, 0, 0, NULL))
						_exit(13);
					_exit(mmio_check(q, K64, SEED_WC2) == K64 ? 0 : 14);
				}
			}
			if (pid > 0) {
				int sg;
				char cb = 0;

				ok = read(to_parent[0], &c, 1) == 1 && !cmd_memory(d.fd, 0);
				sg = ok ? probe_access((volatile uint64_t *)q, 0, 0, NULL) : 0;
				tap_ok(ok && sg == SIGBUS, "memory disabled: the moved mapping raises SIGBUS (%s)",
				       sig_name(sg));
				ok = ok && write(to_child[1], "d", 1) == 1 && read(to_parent[0], &cb, 1) == 1;
				tap_ok(ok && cb == 'B', "memory disabled: a forked child's copy raises SIGBUS (child: %s)",
				       cb == 'B' ? "SIGBUS" : "no SIGBUS");
				rc = cmd_memory(d.fd, 1);
				if (write(to_child[1], "e", 1) != 1)
					tap_diag("pipe write failed");
				waitpid(pid, &status, 0);
				tap_ok(!rc && WIFEXITED(status) && WEXITSTATUS(status) == 0 &&
				       mmio_data_ok(q, K64, SEED_WC2, "moved mapping after re-enable"),
				       "memory enabled: moved mapping and the child's copy work again, data intact (child status 0x%x)",
				       status);
			} else if (pid < 0) {
				tap_fail_n(3, "fork failed");
			}
		}
		if (res != MAP_FAILED)
			munmap(res, 4 * K64);	/* also unmaps the moved mapping */
		else
			munmap((void *)wm, K64);
	}
	rc = ma_nr_handles(d.fd, 2);
	tap_diag("after munmap of the moved mapping: nr_handles %d", rc);

	/* 21-24: pieces of a split mapping (partial munmap, mprotect) are revoked too */
	{
		volatile uint8_t *p = ma_map_fd(d.fd, wc.mmap_offset, K64), *maps[4];

		ok = p && mmio_data_ok(p, K64, SEED_WC2, "before split") &&
		     !munmap((void *)(p + 16 * 1024), 16 * 1024) &&
		     !mprotect((void *)(p + 48 * 1024), 4096, PROT_READ);
		tap_ok(ok, "WC mapping touched, then split by munmap of [16K, 32K) and mprotect of [48K, 52K)");
		maps[0] = p;
		maps[1] = p + 32 * 1024;
		maps[2] = p + 52 * 1024;
		rc = ok ? cmd_memory(d.fd, 0) : -EIO;
		ok = ok && !rc && all_sigbus(maps, 3) &&
		     probe_access((volatile uint64_t *)(p + 48 * 1024), 0, 0, NULL) == SIGBUS;
		tap_ok(ok, "memory disabled: every piece of the split mapping raises SIGBUS");
		rc = cmd_memory(d.fd, 1);
		ok = p && !rc && mmio_data_ok(p, 16 * 1024, SEED_WC2, "piece 1");
		if (ok) {
			size_t k;

			for (k = 32 * 1024 / 8; k < K64 / 8; k++)
				if (((volatile uint64_t *)p)[k] != pattern_word(SEED_WC2, k)) {
					tap_diag("piece at word %zu differs", k);
					ok = 0;
					break;
				}
		}
		tap_ok(ok, "memory enabled: every piece works again, data intact");
		{
			struct pat_expect x[2] = {
				{ bp + WC_OFF, bp + WC_OFF + K64, "write-combining" },
				{ bp + NC_OFF, bp + NC_OFF + K64, "uncached-minus" },
			};

			tap_ok(pat_check_bar(bp, bp + bsz, x, 2, 1), "after split and refault: PAT types unchanged");
		}
		if (p) {
			munmap((void *)p, 16 * 1024);
			munmap((void *)(p + 32 * 1024), 32 * 1024);
		}
	}
	vdev_close(&d);

	/*
	 * Legacy BAR mmaps of a device bound to vfio-pci-memattr: moved by
	 * mremap, they are revoked too.  (6.1's stock vfio-pci misses the
	 * moved mapping, and WARNs in untrack_pfn() while moving it, so stock
	 * vfio-pci is not tried here.)
	 */
	{
		const char *b1 = bdf;
		struct vdev s1;
		struct vfio_region_info ri;

		if (!vdev_open(&s1, b1) && !region_info(s1.fd, 2, &ri)) {
			void *res = mmap(NULL, 4 * K64, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			volatile uint8_t *l = ma_map_fd(s1.fd, ri.offset, K64), *q = MAP_FAILED;

			if (l && res != MAP_FAILED && !probe_access((volatile uint64_t *)l, 0, 0, NULL))
				q = mremap((void *)l, K64, K64, MREMAP_MAYMOVE | MREMAP_FIXED, (uint8_t *)res + K64);
			if (q != MAP_FAILED && !cmd_memory(s1.fd, 0)) {
				int sg = probe_access((volatile uint64_t *)q, 0, 0, NULL);

				tap_ok(sg == SIGBUS,
				       "memory disabled: a legacy BAR mmap moved by mremap raises SIGBUS (%s)",
				       sig_name(sg));
				cmd_memory(s1.fd, 1);
			} else {
				tap_fail_n(1, "legacy BAR mmap moved by mremap: the experiment could not run");
			}
			if (res != MAP_FAILED)
				munmap(res, 4 * K64);
			if (q == MAP_FAILED && l)
				munmap((void *)l, K64);
			vdev_close(&s1);
		} else {
			tap_fail_n(1, "legacy BAR mmap moved by mremap: cannot open ivshmem0");
		}
	}

	/* 25-30: reset */
	reset_tests();

	return tap_done();
}
