// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * memattr_toctou - two races a kernel review found (fixed in a178bfa):
 *
 *  1. VFIO_DEVICE_IOEVENTFD's argument was read twice: the driver read it
 *     to count the ioeventfd on a BAR, the core read it again.  One thread
 *     calls VFIO_DEVICE_IOEVENTFD on a shared argument while another flips
 *     its offset between BAR0 and BAR2 and its fd between an eventfd and
 *     -1; the main thread MAPs BAR2 (WC) meanwhile.  A MAP that succeeds
 *     while an ioeventfd lives on BAR2 unmaps the kernel mapping the
 *     ioeventfd writes through (signalling it then oopses; this test never
 *     signals one while a handle lives).  The oracle: after a MAP won, the
 *     racers are joined and the handle unmapped; an ioeventfd that can then
 *     be deleted on BAR2 lived when MAP succeeded, since none can be
 *     created or deleted on BAR2 while it is taken over (checked first).
 *     The rule since a178bfa is device-wide: no takeover while the device
 *     has any ioeventfd or a VFIO_DEVICE_IOEVENTFD call runs.
 *  2. MAP's EFAULT rollback raced UNMAP: MAP copies its answer out without
 *     the device lock and, when that fails, took the handle back even if
 *     another thread had UNMAPped its (predictable) id meanwhile: refcount
 *     underflow, use after free.  MAPs with a read-only argument race
 *     UNMAPs of the ids they create; the kernel log stays clean, every MAP
 *     answers EFAULT, nothing is left on BAR2 and a MAP works afterwards.
 *
 * Slices: ivshmem0 BAR2 0x1a0000-0x1bffff (ioeventfd data at
 * 0x1a0000-0x1a000b; 0x1b0000-0x1bffff mapped by both races and written
 * once, host-checked).
 */
#define _GNU_SOURCE
#define _FILE_OFFSET_BITS 64
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "lib/tap.h"
#include "lib/sysfs.h"
#include "lib/vfio.h"
#include "lib/memattr.h"
#include "lib/mmio.h"
#include "lib/hostcheck.h"
#include "lib/pat.h"
#include "lib/kmsg.h"

#define NTESTS		11

#define K64		(64 * 1024ull)
#define EV0_OFF		0x0ull		/* BAR0: ivshmem's interrupt mask */
#define EV2_OFF		0x1a0000ull	/* BAR2: the racing ioeventfd */
#define EVC_OFF		0x1a0008ull	/* BAR2: the signalled one */
#define MAP_OFF		0x1b0000ull	/* what both races MAP */
#define EV_DATA		0x70c70c70u
#define EVC_DATA	0x5e1f0a7du
#define SEED_AFTER	0x70c7000000000001ull

/* race 1: MAPs in all, per round (then a MAP with nothing running), and time */
#define IOE_ATTEMPTS	2000
#define IOE_ROUND	50
#define IOE_SECONDS	20
#define IOE_GAP_US	2000
/* race 2 */
#define EF_CALLS	20000
#define EF_SECONDS	30

static const char *bdf;
static uint64_t bp, bsz;

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* ------------------------------------------- 1: ioeventfd argument */
static struct vfio_device_ioeventfd race_arg;	/* the kernel reads it, the flipper writes it */
static int race_fd, race_efd;
static atomic_int race_stop;
static atomic_long race_calls, race_ok, race_exist, race_noent, race_busy;
static pthread_t race_th[2];

static void *race_caller(void *arg)
{
	(void)arg;
	while (!atomic_load(&race_stop)) {
		if (!ioctl(race_fd, VFIO_DEVICE_IOEVENTFD, &race_arg))
			atomic_fetch_add(&race_ok, 1);
		else if (errno == EEXIST)
			atomic_fetch_add(&race_exist, 1);
		else if (errno == ENODEV)
			atomic_fetch_add(&race_noent, 1);
		else if (errno == EBUSY)
			atomic_fetch_add(&race_busy, 1);
		atomic_fetch_add(&race_calls, 1);
	}
	return NULL;
}

static void *race_flipper(void *arg)
{
	unsigned int k = 0;

	(void)arg;
	while (!atomic_load(&race_stop)) {
		k++;
		__atomic_store_n(&race_arg.offset, VFIO_PCI_INDEX_TO_OFFSET(k & 1 ? 2 : 0) +
				 (k & 1 ? EV2_OFF : EV0_OFF), __ATOMIC_RELAXED);
		__atomic_store_n(&race_arg.fd, k & 2 ? -1 : race_efd, __ATOMIC_RELAXED);
	}
	return NULL;
}

/*
 * The caller and the flipper share CPU 0: the flipper runs when the
 * caller is preempted, also between the two reads of the argument (two
 * threads on two CPUs of a TCG guest seldom run at the same time); the
 * main thread MAPs from the last CPU.
 */
static void pin(pthread_attr_t *a, int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	pthread_attr_setaffinity_np(a, sizeof(set), &set);
}

static int race_start(void)
{
	pthread_attr_t a;
	int rc;

	atomic_store(&race_stop, 0);
	pthread_attr_init(&a);
	pin(&a, 0);
	rc = pthread_create(&race_th[0], &a, race_caller, NULL);
	if (!rc) {
		rc = pthread_create(&race_th[1], &a, race_flipper, NULL);
		if (rc) {
			atomic_store(&race_stop, 1);
			pthread_join(race_th[0], NULL);
		}
	}
	pthread_attr_destroy(&a);
	return rc ? -EAGAIN : 0;
}

static void race_join(void)
{
	atomic_store(&race_stop, 1);
	pthread_join(race_th[0], NULL);
	pthread_join(race_th[1], NULL);
}

/*
 * Delete both ioeventfds the racers can make; 1 if that left none (a
 * second pass finds nothing).
 */
static int ioe_cleanup(int fd)
{
	int r0, r2;

	vdev_ioeventfd(fd, 0, EV0_OFF, EV_DATA, -1);
	vdev_ioeventfd(fd, 2, EV2_OFF, EV_DATA, -1);
	r0 = vdev_ioeventfd(fd, 0, EV0_OFF, EV_DATA, -1);
	r2 = vdev_ioeventfd(fd, 2, EV2_OFF, EV_DATA, -1);
	if (r0 != -ENODEV || r2 != -ENODEV)
		tap_diag("ioeventfds left after deleting them: BAR0 %s, BAR2 %s",
			 ma_errname(-r0), ma_errname(-r2));
	return r0 == -ENODEV && r2 == -ENODEV;
}

/* 1-2: what the oracle of the race relies on, and the device-wide rule. */
static void ioe_rules(int fd, int efd)
{
	struct vfio_device_feature_memattr_map m;
	int rc, crc = -ENOEXEC, drc = -ENOEXEC;	/* ENOEXEC: not tried */

	rc = ma_map1(fd, 2, MAP_OFF, K64, VFIO_MEMATTR_WC, &m);
	if (!rc) {
		crc = vdev_ioeventfd(fd, 2, EV2_OFF, EV_DATA, efd);
		drc = vdev_ioeventfd(fd, 2, EV2_OFF, EV_DATA, -1);
		ma_unmap(fd, m.handle);
	}
	tap_ok(!rc && crc != 0 && drc != 0,
	       "BAR2 taken over (MAP %s): an ioeventfd on it can be neither created (%s) nor deleted (%s)",
	       ma_errname(-rc), ma_errname(-crc), ma_errname(-drc));
	ioe_cleanup(fd);

	rc = vdev_ioeventfd(fd, 0, EV0_OFF, EV_DATA, efd);
	if (!rc) {
		rc = ma_map1(fd, 2, MAP_OFF, K64, VFIO_MEMATTR_WC, &m);
		if (!rc)
			ma_unmap(fd, m.handle);
		tap_errno(rc, EBUSY, "MAP of BAR2 while an ioeventfd lives on BAR0 (the rule is device-wide)");
	} else {
		tap_fail("ioeventfd on BAR0 not created (%s)", ma_errname(-rc));
	}
	ioe_cleanup(fd);
}

static void test_ioeventfd(void)
{
	struct vfio_device_feature_memattr_map m;
	long attempts = 0, won = 0, lived = 0, other = 0, quiet = 0, refused = 0;
	int efd, efc, rc, clean = 1;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	uint32_t got = 0, zero = 0;
	cpu_set_t all, last;
	uint64_t one = 1;
	double t0, t;
	struct vdev d;

	efd = eventfd(0, EFD_CLOEXEC);
	efc = eventfd(0, EFD_CLOEXEC);
	if (efd < 0 || efc < 0 || vdev_open(&d, bdf)) {
		tap_fail_n(6, "eventfd/open ivshmem0");
		return;
	}
	ioe_rules(d.fd, efd);

	/* 3-5: the race */
	race_fd = d.fd;
	race_efd = efd;	/* never signalled */
	race_arg.argsz = sizeof(race_arg);
	race_arg.flags = VFIO_DEVICE_IOEVENTFD_32;
	race_arg.offset = VFIO_PCI_INDEX_TO_OFFSET(0) + EV0_OFF;
	race_arg.data = EV_DATA;
	race_arg.fd = efd;
	sched_getaffinity(0, sizeof(all), &all);
	CPU_ZERO(&last);
	CPU_SET(ncpu > 1 ? (int)ncpu - 1 : 0, &last);
	sched_setaffinity(0, sizeof(last), &last);
	t0 = now();
	while (attempts < IOE_ATTEMPTS && now() - t0 < IOE_SECONDS && !lived) {
		int n, win = 0;

		if (race_start()) {
			tap_diag("pthread_create failed");
			break;
		}
		for (n = 0; n < IOE_ROUND && attempts < IOE_ATTEMPTS; n++) {
			usleep(IOE_GAP_US);	/* the racers interleave many times between two MAPs */
			rc = ma_map1(d.fd, 2, MAP_OFF, K64, VFIO_MEMATTR_WC, &m);
			attempts++;
			if (!rc) {
				win = 1;
				break;
			}
			if (rc != -EBUSY && other++ < 5)
				tap_diag("attempt %ld: MAP -> %s", attempts, ma_errname(-rc));
		}
		race_join();
		if (win) {
			won++;
			rc = ma_unmap(d.fd, m.handle);
			if (rc)
				tap_diag("attempt %ld: UNMAP of the handle -> %s", attempts, ma_errname(-rc));
			/* None could be made or removed on BAR2 since MAP took it over. */
			rc = vdev_ioeventfd(d.fd, 2, EV2_OFF, EV_DATA, -1);
			if (!rc) {
				lived++;
				tap_diag("attempt %ld: MAP of BAR2 succeeded while an ioeventfd lived on BAR2",
					 attempts);
			} else if (rc != -ENODEV) {
				tap_diag("attempt %ld: delete on BAR2 -> %s", attempts, ma_errname(-rc));
			}
		}
		clean &= ioe_cleanup(d.fd);
		/* Nothing lives, nothing runs: the driver must agree. */
		rc = ma_map1(d.fd, 2, MAP_OFF, K64, VFIO_MEMATTR_WC, &m);
		quiet++;
		if (!rc) {
			ma_unmap(d.fd, m.handle);
		} else {
			refused++;
			if (refused <= 5)
				tap_diag("after attempt %ld: MAP with no ioeventfd and no call running -> %s; reopening the device",
					 attempts, ma_errname(-rc));
			/* a new open starts the driver's counts afresh */
			vdev_close(&d);
			if (vdev_open(&d, bdf))
				break;
			race_fd = d.fd;
		}
	}
	t = now() - t0;
	sched_setaffinity(0, sizeof(all), &all);
	tap_diag("%ld MAP attempts in %.1f s: %ld MAPs succeeded", attempts, t, won);
	tap_diag("%ld VFIO_DEVICE_IOEVENTFD calls: %ld succeeded, %ld EEXIST, %ld ENODEV, %ld EBUSY",
		 atomic_load(&race_calls), atomic_load(&race_ok), atomic_load(&race_exist),
		 atomic_load(&race_noent), atomic_load(&race_busy));
	tap_ok(!lived && attempts > 0,
	       "racing VFIO_DEVICE_IOEVENTFD (offset BAR0/BAR2, fd eventfd/-1): no MAP of BAR2 succeeded while an ioeventfd lived on BAR2 (%ld of %ld MAPs did)",
	       lived, won);
	tap_ok(!other && attempts > 0, "every racing MAP answered 0 or EBUSY (%ld other answers)", other);
	tap_ok(!refused && clean && quiet > 0,
	       "with the racers joined and their ioeventfds deleted, MAP of BAR2 succeeded every time (%ld of %ld refused)",
	       refused, quiet);

	/* 6: an ioeventfd on BAR2 writes its data (no handle lives) */
	rc = region_pwrite(d.fd, 2, EVC_OFF, &zero, sizeof(zero));
	if (!rc)
		rc = vdev_ioeventfd(d.fd, 2, EVC_OFF, EVC_DATA, efc);
	if (!rc) {
		int i;

		if (write(efc, &one, sizeof(one)) != sizeof(one))
			tap_diag("eventfd write: %s", strerror(errno));
		for (i = 0; i < 200 && got != EVC_DATA; i++) {
			usleep(10 * 1000);
			if (region_pread(d.fd, 2, EVC_OFF, &got, sizeof(got)))
				break;
		}
		rc = vdev_ioeventfd(d.fd, 2, EVC_OFF, EVC_DATA, -1);
	}
	tap_ok(!rc && got == EVC_DATA,
	       "afterwards an ioeventfd on BAR2 writes 0x%x when signalled (read 0x%x; %s)",
	       EVC_DATA, got, ma_errname(-rc));
	vdev_close(&d);
	close(efd);
	close(efc);
}

/* ------------------------------------------- 2: MAP's EFAULT rollback */
static int ef_fd;
static atomic_int ef_stop;
static atomic_long ef_landed;

/* UNMAP the id the next MAP creates, and the one after it. */
static void *ef_unmapper(void *arg)
{
	uint32_t id = VFIO_MEMATTR_HANDLE_INDEX_BASE;

	(void)arg;
	while (!atomic_load(&ef_stop)) {
		if (!ma_unmap(ef_fd, id)) {
			atomic_fetch_add(&ef_landed, 1);
			id++;	/* its id is not given back */
		} else if (!ma_unmap(ef_fd, id + 1)) {
			atomic_fetch_add(&ef_landed, 1);
			id += 2;
		}
	}
	return NULL;
}

static void test_efault(void)
{
	struct vfio_device_feature_memattr_map m;
	struct vfio_device_feature *ro;
	long calls = 0, bad = 0;
	volatile uint8_t *p = NULL;
	int rc, nr, nr1 = -1, ok;
	pthread_t th;
	double t0, t;
	struct vdev d;

	kmsg_mark();
	ro = ma_map_arg_ro(2, MAP_OFF, K64, VFIO_MEMATTR_WC);
	if (!ro || vdev_open(&d, bdf)) {
		tap_fail_n(5, "read-only argument/open ivshmem0");
		return;
	}

	ef_fd = d.fd;
	atomic_store(&ef_stop, 0);
	if (pthread_create(&th, NULL, ef_unmapper, NULL)) {
		tap_fail_n(5, "pthread_create");
		vdev_close(&d);
		return;
	}
	t0 = now();
	while (calls < EF_CALLS && now() - t0 < EF_SECONDS) {
		rc = ioctl(d.fd, VFIO_DEVICE_FEATURE, ro) ? -errno : 0;
		calls++;
		if (rc != -EFAULT && bad++ < 5)
			tap_diag("MAP %ld -> %s", calls, rc ? ma_errname(-rc) : "success");
	}
	atomic_store(&ef_stop, 1);
	pthread_join(th, NULL);
	t = now() - t0;
	munmap(ro, MA_PAGE);
	tap_diag("%ld MAPs with a read-only argument in %.1f s; %ld UNMAPs of their ids landed",
		 calls, t, atomic_load(&ef_landed));

	/* 7-11 */
	tap_ok(!bad && calls > 0, "every MAP with a read-only argument answered EFAULT (%ld of %ld did not)",
	       bad, calls);
	tap_ok(kmsg_clean(), "kernel log: no warning, BUG or refcount error while MAP's rollback raced UNMAP");
	nr = ma_nr_handles(d.fd, 2);
	tap_ok(nr == 0, "BAR_INFO of BAR2 reports 0 handles afterwards (%d)", nr);
	tap_ok(pat_none_of(bp, bp + bsz, "write-combining"), "no write-combining PAT entry on BAR2 afterwards");
	rc = ma_map1(d.fd, 2, MAP_OFF, K64, VFIO_MEMATTR_WC, &m);
	if (!rc) {
		nr1 = ma_nr_handles(d.fd, 2);
		p = ma_map_fd(d.fd, m.mmap_offset, K64);
	}
	ok = p && ma_fill_check(p, K64, SEED_AFTER);
	if (p)
		munmap((void *)p, K64);
	if (!rc)
		rc = ma_unmap(d.fd, m.handle);
	nr = ma_nr_handles(d.fd, 2);
	if (ok)
		ma_hostcheck(MAP_OFF, K64, SEED_AFTER, "memattr_toctou: a WC handle after the EFAULT race");
	ok = ok && ma_legacy_check(d.fd, MAP_OFF, K64, SEED_AFTER);
	tap_ok(!rc && ok && nr1 == 1 && nr == 0,
	       "then a WC MAP works: 1 handle (%d), its data written and read back (also by pread), UNMAP %s, 0 handles (%d)",
	       nr1, ma_errname(-rc), nr);
	vdev_close(&d);
}

int main(void)
{
	bdf = ma_bdf_or_skip("MEMATTR_IVSHMEM0");
	tap_plan(NTESTS);
	if (ma_bar_phys(bdf, 2, &bp, &bsz) || bsz < 4 * MA_MIB) {
		tap_fail_n(NTESTS, "ivshmem0 BAR2 is not 4 MiB");
		return tap_done();
	}
	test_ioeventfd();
	test_efault();
	return tap_done();
}
