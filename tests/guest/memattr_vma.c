// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * memattr_vma - lifetime of handle mappings across VMA operations: fork
 * (the child's copy holds the handle), partial munmap (split VMAs each
 * hold it), MAP_PRIVATE refused, a released-but-mapped range still blocks
 * other attributes, handles are per device, unaligned pread/pwrite at a
 * handle's region offset.
 *
 * Data written: ivshmem0 BAR2 [3 MiB + 512 KiB, 3 MiB + 768 KiB) only.
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

#define NTESTS 16

#define V	(3 * MA_MIB + 512 * 1024)	/* our slice */
#define K64	(64 * 1024ull)
#define FORK_OFF	(V)
#define SPLIT_OFF	(V + K64)
#define REL_OFF		(V + 2 * K64)
#define RW_OFF		(V + 3 * K64)

#define SEED_FORK	0x7a0000000000001ull
#define SEED_SPLIT	0x7a0000000000002ull
#define SEED_REL	0x7a0000000000003ull
#define SEED_RW		0x7a0000000000004ull

static uint64_t bp, bsz;
static struct pat_snap fresh;	/* BAR2 PAT on a fresh open */

static void fork_tests(int fd)
{
	struct vfio_device_feature_memattr_map m;
	struct pat_expect x = { bp + FORK_OFF, bp + FORK_OFF + K64, "write-combining" };
	volatile uint8_t *p;
	int to_child[2], to_parent[2], rc, ok, status = 0;
	pid_t pid;
	char c = 0;

	rc = ma_map1(fd, 2, FORK_OFF, K64, VFIO_MEMATTR_WC, &m);
	p = rc ? NULL : ma_map_fd(fd, m.mmap_offset, K64);
	if (!p || pipe(to_child) || pipe(to_parent)) {
		tap_diag("fork setup: %s / %s", ma_errname(-rc), strerror(errno));
		tap_fail_n(4, "fork setup failed");
		return;
	}
	ma_unmap(fd, m.handle);		/* released, still mapped */
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		/* child: wait until the parent dropped its mapping, then use ours */
		if (read(to_child[0], &c, 1) != 1)
			_exit(2);
		if (probe_access((volatile uint64_t *)p, 1, 1, NULL))
			_exit(3);
		mmio_fill(p, K64, SEED_FORK);
		mmio_sfence();
		if (mmio_check(p, K64, SEED_FORK) != K64)
			_exit(4);
		if (write(to_parent[1], "x", 1) != 1)
			_exit(5);
		if (read(to_child[0], &c, 1) != 1)	/* parent checked the PAT */
			_exit(6);
		_exit(0);
	}
	if (pid < 0) {
		tap_fail_n(4, "fork failed");
		munmap((void *)p, K64);
		return;
	}
	munmap((void *)p, K64);
	/* 1 */
	rc = ma_nr_handles(fd, 2);
	tap_ok(rc == 1 && pat_check_bar(bp, bp + bsz, &x, 1, 1),
	       "fork, then parent munmaps the released handle: the child's copy keeps it (nr_handles %d), PAT write-combining",
	       rc);
	if (write(to_child[1], "g", 1) != 1)
		tap_diag("pipe write failed");
	/* 2 */
	ok = read(to_parent[0], &c, 1) == 1;
	ok = ok && ma_legacy_check(fd, FORK_OFF, K64, SEED_FORK);
	if (ok)
		ma_hostcheck(FORK_OFF, K64, SEED_FORK, "memattr_vma: WC stores of a forked child");
	tap_ok(ok, "the child writes through its copy of the mapping; data reaches the BAR");
	/* 3 */
	tap_ok(pat_check_bar(bp, bp + bsz, &x, 1, 1), "while the child maps it: PAT still write-combining exactly");
	if (write(to_child[1], "e", 1) != 1)
		tap_diag("pipe write failed");
	waitpid(pid, &status, 0);
	/* 4 */
	rc = ma_nr_handles(fd, 2);
	ok = WIFEXITED(status) && WEXITSTATUS(status) == 0 && rc == 0 &&
	     pat_snap_same(bp, bp + bsz, &fresh);
	if (!ok)
		tap_diag("child status 0x%x, nr_handles %d", status, rc);
	tap_ok(ok, "child exited cleanly; its exit dropped the last reference (nr_handles 0, BAR2 PAT as on a fresh open)");
	close(to_child[0]); close(to_child[1]); close(to_parent[0]); close(to_parent[1]);
}

int main(void)
{
	const char *bdf = ma_bdf_or_skip("MEMATTR_IVSHMEM0");
	struct vfio_device_feature_memattr_map m, m2;
	struct vdev d;
	volatile uint8_t *p;
	int rc, ok;

	tap_plan(NTESTS);
	if (vdev_open(&d, bdf) || ma_bar_phys(bdf, 2, &bp, &bsz) || bsz < 4 * MA_MIB) {
		tap_fail_n(NTESTS, "cannot open ivshmem0 or BAR2 is not 4 MiB");
		return tap_done();
	}

	pat_snap_take(bp, bp + bsz, &fresh);

	/* 1-4 */
	fork_tests(d.fd);

	/* 5-8: partial munmap splits the VMA; each piece holds the handle */
	rc = ma_map1(d.fd, 2, SPLIT_OFF, K64, VFIO_MEMATTR_WC, &m);
	p = rc ? NULL : ma_map_fd(d.fd, m.mmap_offset, K64);
	ok = p != NULL;
	if (p) {
		mmio_fill(p, K64, SEED_SPLIT);
		mmio_sfence();
		ok = !ma_unmap(d.fd, m.handle) && !munmap((void *)(p + 16 * 1024), 16 * 1024);
	}
	tap_ok(ok, "WC handle mapped, filled, released, middle 16K unmapped");
	{
		/* the tail piece still shows the pattern of its offset */
		int tail_ok = 1;
		size_t k;

		for (k = 32 * 1024 / 8; p && k < K64 / 8; k++)
			if (((volatile uint64_t *)p)[k] != pattern_word(SEED_SPLIT, k)) {
				tap_diag("tail word %zu differs", k);
				tail_ok = 0;
				break;
			}
		ok = p && ma_nr_handles(d.fd, 2) == 1 && mmio_check(p, 16 * 1024, SEED_SPLIT) == 16 * 1024 &&
		     tail_ok;
	}
	tap_ok(ok, "both pieces of the split mapping work and keep the released handle counted");
	if (p)
		munmap((void *)p, 16 * 1024);
	rc = ma_nr_handles(d.fd, 2);
	{
		struct pat_expect x = { bp + SPLIT_OFF, bp + SPLIT_OFF + K64, "write-combining" };

		tap_ok(rc == 1 && pat_check_bar(bp + SPLIT_OFF, bp + SPLIT_OFF + K64, &x, 1, 1),
		       "first piece unmapped: the tail still holds it (nr_handles %d), type write-combining", rc);
	}
	if (p)
		munmap((void *)(p + 32 * 1024), 32 * 1024);
	rc = ma_nr_handles(d.fd, 2);
	ok = rc == 0 && pat_snap_same(bp, bp + bsz, &fresh) &&
	     ma_legacy_check(d.fd, SPLIT_OFF, K64, SEED_SPLIT);
	if (ok)
		ma_hostcheck(SPLIT_OFF, K64, SEED_SPLIT, "memattr_vma: split mapping");
	tap_ok(ok, "last piece unmapped: handle gone (nr_handles %d), BAR2 PAT as on a fresh open, data in the BAR", rc);

	/* 9: MAP_PRIVATE refused */
	rc = ma_map1(d.fd, 2, REL_OFF, K64, VFIO_MEMATTR_WC, &m);
	{
		void *q = rc ? MAP_FAILED : mmap(NULL, K64, PROT_READ | PROT_WRITE, MAP_PRIVATE, d.fd,
						 (off_t)m.mmap_offset);
		int e = errno;

		if (q != MAP_FAILED)
			munmap(q, K64);
		tap_errno(rc ? rc : q == MAP_FAILED ? -e : 0, EINVAL, "MAP_PRIVATE mmap of a handle");
	}

	/* 10-12: a released-but-mapped WC range still blocks NC/DEV, allows a new WC handle */
	p = rc ? NULL : ma_map_fd(d.fd, m.mmap_offset, K64);
	if (p) {
		mmio_fill(p, K64, SEED_REL);
		mmio_sfence();
	}
	ma_unmap(d.fd, m.handle);
	rc = ma_map1(d.fd, 2, REL_OFF + MA_PAGE, MA_PAGE, VFIO_MEMATTR_NC, &m2);
	if (!rc)
		ma_unmap(d.fd, m2.handle);
	tap_errno(p ? rc : -999, EBUSY, "MAP NC inside a released but still mapped WC range");
	{
		uint8_t a = VFIO_MEMATTR_DEV;

		rc = ma_map(d.fd, 2, REL_OFF, 2 * K64, &a, 1, &m2);
		if (!rc)
			ma_unmap(d.fd, m2.handle);
		tap_errno(p ? rc : -999, EBUSY, "MAP DEV over a released but still mapped WC range");
	}
	rc = ma_map1(d.fd, 2, REL_OFF, K64, VFIO_MEMATTR_WC, &m2);
	ok = p && !rc && m2.handle != m.handle && m2.mmap_offset != m.mmap_offset && ma_nr_handles(d.fd, 2) == 2;
	if (!ok)
		tap_diag("re-MAP WC: %s handle 0x%x/0x%x nr %d", ma_errname(-rc), m2.handle, m.handle,
			 ma_nr_handles(d.fd, 2));
	tap_ok(ok, "identical WC request after release: a new handle and offset, both counted");
	if (!rc)
		ma_unmap(d.fd, m2.handle);
	if (p) {
		ok = mmio_check(p, K64, SEED_REL) == K64;
		munmap((void *)p, K64);
		ok = ok && ma_legacy_check(d.fd, REL_OFF, K64, SEED_REL);
		if (ok)
			ma_hostcheck(REL_OFF, K64, SEED_REL, "memattr_vma: released WC mapping");
	}

	/* 13: handles are per device */
	{
		char why[256];
		const char *nv = ma_bdf("MEMATTR_NVME", why, sizeof(why));
		struct vdev n;
		struct vfio_device_feature_memattr_handle hg;

		rc = ma_map1(d.fd, 2, RW_OFF, K64, VFIO_MEMATTR_WC, &m);
		if (!nv) {
			tap_skip_rest_of(1, why);
		} else if (rc || vdev_open(&n, nv)) {
			tap_fail_n(1, "cannot set up the per-device test");
		} else {
			int rc2 = ma_handle(n.fd, m.handle, &hg);
			struct vfio_region_info ri;
			int rc3 = region_info(n.fd, m.handle, &ri);

			ok = rc2 == -ENOENT && rc3 == -EINVAL;
			tap_ok(ok, "an ivshmem0 handle is unknown on the NVMe fd (HANDLE GET %s, REGION_INFO %s)",
			       ma_errname(-rc2), ma_errname(-rc3));
			vdev_close(&n);
		}
	}

	/* 14-15: unaligned pread/pwrite at the handle's region offset */
	ok = 0;
	if (!rc) {
		uint8_t buf[4096], rb[64];
		size_t i;
		int bad = 0;

		buf_fill(buf, sizeof(buf), SEED_RW);
		/* write in odd pieces: 1, 3, 2, 7, 5 ... bytes at odd offsets */
		for (i = 0; i < sizeof(buf) && !bad;) {
			size_t n = 1 + (i * 7 + 3) % 13;

			if (i + n > sizeof(buf))
				n = sizeof(buf) - i;
			if (rawfd_pwrite(d.fd, m.mmap_offset + 1024 + i, buf + i, n))
				bad = 1;
			i += n;
		}
		ok = !bad && ma_legacy_check(d.fd, RW_OFF + 1024, sizeof(buf), SEED_RW);
		tap_ok(ok, "pwrite in 1..13-byte pieces at odd handle offsets writes the exact bytes");
		ok = 1;
		for (i = 1; i < 60 && ok; i += 7) {
			size_t n = 1 + i % 11;

			memset(rb, 0, sizeof(rb));
			ok = !rawfd_pread(d.fd, m.mmap_offset + 1024 + i, rb, n) && !memcmp(rb, buf + i, n);
			if (!ok)
				tap_diag("pread of %zu bytes at handle offset 1024+%zu differs", n, i);
		}
		tap_ok(ok, "pread of 1..11 bytes at odd handle offsets reads the exact bytes");
		if (!bad)
			ma_hostcheck(RW_OFF + 1024, sizeof(buf), SEED_RW, "memattr_vma: unaligned pwrite at a handle");
		ma_unmap(d.fd, m.handle);
	} else {
		tap_fail_n(2, "no handle for the rw test");
	}

	/* 16 */
	rc = ma_nr_handles(d.fd, 2);
	vdev_close(&d);
	tap_ok(rc == 0 && pat_check_bar(bp, bp + bsz, NULL, 0, 0), "end: nr_handles 0 (got %d), closed: no PAT entry", rc);
	return tap_done();
}
