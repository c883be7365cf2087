// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * memattr_rwconc - pread/pwrite of a taken-over BAR from several threads
 * while MAP, retype and UNMAP change the memory types of the same BAR:
 *
 *  1. Four threads each pwrite and pread back their own 16 KiB (4 KiB
 *     and 4-byte accesses) of uncovered pages of ivshmem0's BAR2 while
 *     another thread creates, retypes (WC <-> NC) and releases handles
 *     of neighbouring pages: every read returns what the thread wrote.
 *  2. A fifth thread preads pages covered by those handles (mapped for
 *     the access alone when WC): every read returns the data written
 *     there before.
 *  3. The MAPs and retypes all succeed: an access in flight never leaves
 *     a kernel mapping behind that makes a type reservation fail, and a
 *     MAP of the other type over a live handle is refused (EBUSY).
 *  4. Afterwards the BAR is handed back: no PAT entry is left in the
 *     slice (x86; rw.c's cached uncached page went with the handback).
 *  5. A first pread of BAR2 right after a handback, racing a
 *     VFIO_DEVICE_IOEVENTFD create on the same BAR (both set the core's
 *     mapping of the BAR up on 6.1 and 6.12, which map BARs when first
 *     used): neither ever answers EBUSY, and the pread reads the data.
 *  6. The kernel log has no warning, lockdep report or BUG.
 *
 * And a figure (no bound: make check has no timing bounds): how long a
 * VFIO_DEVICE_FEATURE call that takes the device's lock (BAR_INFO) waits
 * while two threads pread ivshmem0's taken-over BAR0, whose every 4-byte
 * access is a trap to QEMU.  Before rw.c kept the device lock off the
 * device access, such a call waited for a whole pread's accesses.
 *
 * Slices: ivshmem0 BAR2 0x340000-0x353fff and 0x360000-0x37ffff (random
 * data, read back in the guest, no host check; 0x358000-0x35ffff is
 * memattr_noiommu's).
 */
#define _GNU_SOURCE
#define _FILE_OFFSET_BITS 64
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "lib/tap.h"
#include "lib/sysfs.h"
#include "lib/vfio.h"
#include "lib/memattr.h"
#include "lib/mmio.h"
#include "lib/pat.h"
#include "lib/kmsg.h"

#define NTESTS		8
#define NRW		4		/* writer/reader threads of test 1 */
#define SLICE		0x340000ull
#define SLICE_LEN	0x40000ull
#define OWN		0x4000ull	/* 16 KiB per thread at SLICE */
#define HANDLES		(SLICE + 0x20000)	/* 0x360000: 128 KiB the mapper types */
#define HLEN		0x20000ull
#define KEEP		(SLICE + 0x10000)	/* one WC page */
#define ROUNDS		400
#define LAT_CALLS	2000
#define RACE_MAP	(SLICE + 0x11000)	/* MAP + UNMAP: a handback */
#define RACE_RD		(SLICE + 0x12000)	/* the racing pread */
#define RACE_EV		(SLICE + 0x13000)	/* the racing ioeventfd */
#define RACE_ROUNDS	300

static const char *bdf0;	/* MEMATTR_IVSHMEM0 */
static int fd;
static uint64_t bar2_off;
static atomic_int stop;
static atomic_long bad_rw, bad_cov, map_fail, rw_err, bar0_err;

static uint64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

/* --------------------------------------------- uncovered pages, 4 threads */
static void *rw_thread(void *arg)
{
	int id = (int)(intptr_t)arg, r;
	uint64_t base = bar2_off + SLICE + (uint64_t)id * OWN;
	static _Thread_local uint8_t w[OWN], rd[OWN];

	for (r = 0; r < ROUNDS && !atomic_load(&stop); r++) {
		uint64_t seed = 0x5eed0000ull + (uint64_t)id * 100000 + (uint64_t)r;
		uint32_t v = (uint32_t)(seed * 0x9E3779B9u), got = 0;
		size_t len = r % 2 ? OWN : MA_PAGE;

		buf_fill(w, len, seed);
		if (rawfd_pwrite(fd, base, w, len) || rawfd_pread(fd, base, rd, len)) {
			atomic_fetch_add(&rw_err, 1);
			continue;
		}
		if (memcmp(w, rd, len))
			atomic_fetch_add(&bad_rw, 1);
		/* 4-byte accesses, as QEMU's trapped ones */
		if (rawfd_pwrite(fd, base + 8, &v, 4) || rawfd_pread(fd, base + 8, &got, 4))
			atomic_fetch_add(&rw_err, 1);
		else if (got != v)
			atomic_fetch_add(&bad_rw, 1);
	}
	return NULL;
}

/* --------------------------------------------- covered pages, 1 thread */
#define COV_SEED	0xc0ffee5eedull

static void *cov_thread(void *arg)
{
	static uint8_t rd[HLEN];
	static uint8_t want[HLEN];

	(void)arg;
	buf_fill(want, HLEN, COV_SEED);
	while (!atomic_load(&stop)) {
		if (rawfd_pread(fd, bar2_off + HANDLES, rd, HLEN)) {
			atomic_fetch_add(&rw_err, 1);
			continue;
		}
		if (memcmp(want, rd, HLEN))
			atomic_fetch_add(&bad_cov, 1);
	}
	return NULL;
}

/* --------------------------------------------- the types change meanwhile */
static int mapper_rounds;

static void *map_thread(void *arg)
{
	int r;

	(void)arg;
	for (r = 0; r < ROUNDS / 4; r++) {
		struct vfio_device_feature_memattr_map a, b;
		uint64_t off = HANDLES + (uint64_t)(r % 8) * MA_PAGE * 4;
		uint8_t first = r % 2 ? VFIO_MEMATTR_NC : VFIO_MEMATTR_WC;
		int rc;

		rc = ma_map1(fd, 2, off, 4 * MA_PAGE, first, &a);
		if (rc) {
			atomic_fetch_add(&map_fail, 1);
			tap_diag("MAP %s [%#" PRIx64 "+16K]: %s", attr_name(first), off,
				 ma_errname(-rc));
			continue;
		}
		/* a second handle over the whole range, the other type, fails... */
		rc = ma_map1(fd, 2, HANDLES, HLEN,
			     first == VFIO_MEMATTR_WC ? VFIO_MEMATTR_NC : VFIO_MEMATTR_WC, &b);
		if (rc != -EBUSY) {
			atomic_fetch_add(&map_fail, 1);
			tap_diag("conflicting MAP over a live %s handle: %s", attr_name(first),
				 rc ? ma_errname(-rc) : "granted");
			if (!rc)
				ma_unmap(fd, b.handle);
		}
		/* ...the same type over all of it succeeds */
		rc = ma_map1(fd, 2, HANDLES, HLEN, first, &b);
		if (rc) {
			atomic_fetch_add(&map_fail, 1);
			tap_diag("MAP %s [%#llx+128K]: %s", attr_name(first), HANDLES,
				 ma_errname(-rc));
		} else {
			ma_unmap(fd, b.handle);
		}
		ma_unmap(fd, a.handle);
		mapper_rounds++;
	}
	return NULL;
}

static void test_concurrent(void)
{
	static uint8_t cov[HLEN];
	pthread_t rw[NRW], cov_t, map_t;
	struct vfio_device_feature_memattr_map keep;
	uint64_t bs = 0, blen = 0;
	int i, rc;

	/* The covered pages' data, written before anything covers them. */
	buf_fill(cov, HLEN, COV_SEED);
	rc = rawfd_pwrite(fd, bar2_off + HANDLES, cov, HLEN);
	/* A WC handle between the two keeps BAR2 taken over throughout. */
	if (!rc)
		rc = ma_map1(fd, 2, KEEP, MA_PAGE, VFIO_MEMATTR_WC, &keep);
	if (rc) {
		tap_fail_n(5, "prepare the slice / take BAR2 over");
		return;
	}
	for (i = 0; i < NRW; i++)
		pthread_create(&rw[i], NULL, rw_thread, (void *)(intptr_t)i);
	pthread_create(&cov_t, NULL, cov_thread, NULL);
	pthread_create(&map_t, NULL, map_thread, NULL);
	for (i = 0; i < NRW; i++)
		pthread_join(rw[i], NULL);
	pthread_join(map_t, NULL);
	atomic_store(&stop, 1);
	pthread_join(cov_t, NULL);

	tap_ok(!atomic_load(&rw_err) && !atomic_load(&bad_rw),
	       "%d threads x %d rounds of 4 KiB/16 KiB and 4-byte pwrite+pread of uncovered pages of the taken-over BAR: %ld errors, %ld reads differ",
	       NRW, ROUNDS, atomic_load(&rw_err), atomic_load(&bad_rw));
	tap_ok(!atomic_load(&bad_cov),
	       "pread of pages whose handles come and go (WC/NC): %ld reads differ from the data written",
	       atomic_load(&bad_cov));
	tap_ok(mapper_rounds == ROUNDS / 4 && !atomic_load(&map_fail),
	       "%d MAP/conflicting MAP/UNMAP rounds beside the accesses, %ld answered wrongly",
	       mapper_rounds, atomic_load(&map_fail));
	rc = ma_unmap(fd, keep.handle);
	tap_errno(rc, 0, "UNMAP of the last handle (BAR handed back)");

	if (ma_bar_phys(bdf0, 2, &bs, &blen) || !pat_available()) {
		tap_skip("no PAT list", "no PAT entry left in the slice");
	} else {
		struct vfio_memattr__pat_entry e[16];
		int n, k, left = 0;

		/* The core's own mapping of the whole BAR may be back (6.1). */
		n = pat_overlapping(bs + SLICE, bs + SLICE + SLICE_LEN, e, 16);
		for (k = 0; k < n; k++)
			if (e[k].start != bs || e[k].end != bs + blen)
				left++;
		if (left)
			pat_dump(bs + SLICE, bs + SLICE + SLICE_LEN);
		tap_ok(n >= 0 && !left,
		       "PAT entries left in the slice after the handback, besides the core's whole-BAR one: %d",
		       n < 0 ? n : left);
	}
}

/* --------------------------------------------- first uses after a handback */
static pthread_barrier_t race_bar;
static int race_efd, race_ev_rc[RACE_ROUNDS];
static ssize_t race_rd[RACE_ROUNDS];
static int race_rd_errno[RACE_ROUNDS];

static void *race_ev_thread(void *arg)
{
	int r;

	(void)arg;
	for (r = 0; r < RACE_ROUNDS; r++) {
		pthread_barrier_wait(&race_bar);
		race_ev_rc[r] = vdev_ioeventfd(fd, 2, RACE_EV, 0x5a5a0000u + (uint32_t)r,
					       race_efd);
		pthread_barrier_wait(&race_bar);
	}
	return NULL;
}

static void test_first_use_race(void)
{
	struct vfio_device_feature_memattr_map m;
	uint32_t want = 0x7261636eu, got;
	int r, rounds = 0, map_bad = 0, ev_busy = 0, ev_bad = 0, rd_busy = 0, rd_bad = 0;
	int del_bad = 0;
	pthread_t ev;

	race_efd = eventfd(0, EFD_CLOEXEC);
	if (race_efd < 0 || rawfd_pwrite(fd, bar2_off + RACE_RD, &want, sizeof(want))) {
		tap_ok(0, "first pread and ioeventfd of BAR2 after a handback: set-up failed");
		if (race_efd >= 0)
			close(race_efd);
		return;
	}
	pthread_barrier_init(&race_bar, NULL, 2);
	pthread_create(&ev, NULL, race_ev_thread, NULL);
	for (r = 0; r < RACE_ROUNDS; r++) {
		/* Take BAR2 over and hand it back: the core's next use is a first. */
		if (ma_map1(fd, 2, RACE_MAP, MA_PAGE, VFIO_MEMATTR_WC, &m) ||
		    ma_unmap(fd, m.handle))
			map_bad++;
		pthread_barrier_wait(&race_bar);
		got = 0;
		race_rd[r] = pread(fd, &got, sizeof(got), (off_t)(bar2_off + RACE_RD));
		race_rd_errno[r] = race_rd[r] < 0 ? errno : 0;
		if (race_rd[r] == (ssize_t)sizeof(got) && got != want)
			rd_bad++;
		pthread_barrier_wait(&race_bar);
		if (race_ev_rc[r] == -EBUSY)
			ev_busy++;
		else if (race_ev_rc[r])
			ev_bad++;
		if (race_rd_errno[r] == EBUSY)
			rd_busy++;
		else if (race_rd[r] != (ssize_t)sizeof(got))
			rd_bad++;
		/* Delete it (fd -1, same offset and data) so the next MAP may take over. */
		if (!race_ev_rc[r] &&
		    vdev_ioeventfd(fd, 2, RACE_EV, 0x5a5a0000u + (uint32_t)r, -1))
			del_bad++;
		rounds++;
	}
	pthread_join(ev, NULL);
	pthread_barrier_destroy(&race_bar);
	close(race_efd);
	if (ev_busy || rd_busy || ev_bad || rd_bad || map_bad || del_bad)
		tap_diag("first-use race: %d rounds, ioeventfd EBUSY %d, other errors %d; pread EBUSY %d, wrong %d; MAP/UNMAP failed %d; delete failed %d",
			 rounds, ev_busy, ev_bad, rd_busy, rd_bad, map_bad, del_bad);
	tap_ok(rounds == RACE_ROUNDS && !ev_busy && !rd_busy && !ev_bad && !rd_bad &&
	       !map_bad && !del_bad,
	       "%d rounds of a first pread and a VFIO_DEVICE_IOEVENTFD of BAR2 at once after a handback: %d EBUSY from the ioeventfd, %d from the pread, %d other failures",
	       rounds, ev_busy, rd_busy, ev_bad + rd_bad + map_bad + del_bad);
}

/* --------------------------------------------- the figure: lock wait */
static int lat_stop;

static void *bar0_reader(void *arg)
{
	uint8_t buf[256];
	size_t len = (size_t)(uintptr_t)arg;

	while (!__atomic_load_n(&lat_stop, __ATOMIC_RELAXED))
		if (pread(fd, buf, len, 0) != (ssize_t)len)
			atomic_fetch_add(&bar0_err, 1);
	return NULL;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Median and 99th percentile of LAT_CALLS BAR_INFO calls, in ns. */
static int bar_info_lat(uint64_t *med, uint64_t *p99)
{
	static uint64_t t[LAT_CALLS];
	struct vfio_device_feature_memattr_bar_info bi;
	int i;

	for (i = 0; i < LAT_CALLS; i++) {
		uint64_t t0 = now_ns();

		if (ma_bar_info(fd, 2, &bi))
			return -1;
		t[i] = now_ns() - t0;
	}
	qsort(t, LAT_CALLS, sizeof(t[0]), cmp_u64);
	*med = t[LAT_CALLS / 2];
	*p99 = t[LAT_CALLS * 99 / 100];
	return 0;
}

static void figure_lock_wait(void)
{
	struct vfio_device_feature_memattr_map m;
	uint64_t b0 = 0, b0len = 0, idle_med, idle_p99, busy_med, busy_p99, t0;
	pthread_t th[2];
	uint8_t buf[256];
	int i, rc;
	size_t len;

	ma_bar_phys(bdf0, 0, &b0, &b0len);
	rc = ma_map1(fd, 0, 0, MA_PAGE, VFIO_MEMATTR_NC, &m);
	if (rc) {
		tap_diag("figure: no NC handle of BAR0 (%s), no lock-wait figure",
			 ma_errname(-rc));
		return;
	}
	len = b0len && b0len < sizeof(buf) ? (size_t)b0len : sizeof(buf);
	t0 = now_ns();
	for (i = 0; i < 200; i++)
		if (pread(fd, buf, len, 0) != (ssize_t)len)
			break;
	t0 = (now_ns() - t0) / 200;
	if (bar_info_lat(&idle_med, &idle_p99)) {
		ma_unmap(fd, m.handle);
		return;
	}
	for (i = 0; i < 2; i++)
		pthread_create(&th[i], NULL, bar0_reader, (void *)(uintptr_t)len);
	rc = bar_info_lat(&busy_med, &busy_p99);
	__atomic_store_n(&lat_stop, 1, __ATOMIC_RELAXED);
	for (i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	ma_unmap(fd, m.handle);
	if (rc)
		return;
	tap_diag("figure: a %zu-byte pread of taken-over BAR0 takes %" PRIu64 " ns; BAR_INFO (device lock) median %" PRIu64 " ns, p99 %" PRIu64 " ns alone, median %" PRIu64 " ns, p99 %" PRIu64 " ns beside two threads preading BAR0",
		 len, t0, idle_med, idle_p99, busy_med, busy_p99);
}

int main(void)
{
	struct vdev d;

	tap_plan(NTESTS);
	bdf0 = ma_bdf_or_skip("MEMATTR_IVSHMEM0");
	kmsg_mark();
	if (vdev_open(&d, bdf0)) {
		tap_fail_n(NTESTS, "open ivshmem0");
		return tap_done();
	}
	fd = d.fd;
	bar2_off = VFIO_PCI_INDEX_TO_OFFSET(2);
	test_concurrent();
	test_first_use_race();
	figure_lock_wait();
	tap_ok(!atomic_load(&bar0_err), "BAR0 preads beside BAR_INFO: %ld errors",
	       atomic_load(&bar0_err));
	tap_ok(kmsg_clean(), "kernel log has no warning, BUG, lockdep report or PAT conflict");
	vdev_close(&d);
	return tap_done();
}
