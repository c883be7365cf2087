// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * memattr_race - concurrent use of the memattr features on one device:
 * identical MAPs from many threads get one handle; racing WC and NC MAPs
 * of overlapping ranges never both win; MAP/UNMAP racing with
 * mmap/touch/munmap leaves no handle and no PAT entry behind; the kernel
 * log stays free of warnings, PAT conflicts and refcount errors.
 *
 * Writes no data (maps ivshmem0 BAR2 [3 MiB + 768 KiB, 4 MiB), reads only).
 */
#define _GNU_SOURCE
#define _FILE_OFFSET_BITS 64
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
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
#include "lib/pat.h"
#include "lib/kmsg.h"

#define NTESTS 7
#define NTHR 4
#define ROUNDS 200

#define R0	(3 * MA_MIB + 768 * 1024)
#define K64	(64 * 1024ull)

static int fd;
static uint64_t bp, bsz;
static pthread_barrier_t bar;

/* ------------------------------------------------ identical MAPs */
static uint32_t got_handle[NTHR];
static uint64_t got_off[NTHR];
static int got_rc[NTHR];

static void *same_map(void *arg)
{
	int id = (int)(intptr_t)arg, r;

	for (r = 0; r < ROUNDS; r++) {
		struct vfio_device_feature_memattr_map m;

		pthread_barrier_wait(&bar);
		got_rc[id] = ma_map1(fd, 2, R0, K64, VFIO_MEMATTR_WC, &m);
		got_handle[id] = m.handle;
		got_off[id] = m.mmap_offset;
		pthread_barrier_wait(&bar);	/* main checks and releases */
		pthread_barrier_wait(&bar);
	}
	return NULL;
}

/* ------------------------------------------------ WC vs NC overlap */
static int attr_rc[NTHR];
static struct vfio_device_feature_memattr_map attr_m[NTHR];

static void *attr_map(void *arg)
{
	int id = (int)(intptr_t)arg, r;

	for (r = 0; r < ROUNDS; r++) {
		uint8_t a = (id & 1) ? VFIO_MEMATTR_NC : VFIO_MEMATTR_WC;
		/* overlapping ranges: [R0 + id*4K, R0 + id*4K + 32K) */
		pthread_barrier_wait(&bar);
		attr_rc[id] = ma_map1(fd, 2, R0 + (uint64_t)id * MA_PAGE, 32 * 1024, a, &attr_m[id]);
		pthread_barrier_wait(&bar);
		pthread_barrier_wait(&bar);
	}
	return NULL;
}

/* ------------------------------------------------ MAP/UNMAP vs mmap/touch */
static atomic_int stop;
static atomic_long touches, maps, faults_bad;

static void *mapper(void *arg)
{
	(void)arg;
	while (!atomic_load(&stop)) {
		struct vfio_device_feature_memattr_map m;

		if (!ma_map1(fd, 2, R0 + 2 * K64, K64, VFIO_MEMATTR_WC, &m)) {
			atomic_fetch_add(&maps, 1);
			ma_unmap(fd, m.handle);
		}
	}
	return NULL;
}

static void *toucher(void *arg)
{
	(void)arg;
	while (!atomic_load(&stop)) {
		struct vfio_device_feature_memattr_map m;
		volatile uint64_t *p;

		if (ma_map1(fd, 2, R0 + 2 * K64, K64, VFIO_MEMATTR_WC, &m))
			continue;
		/* the other thread may release it at any time: mmap may then fail with EINVAL */
		p = ma_map_fd(fd, m.mmap_offset, K64);
		if (p) {
			size_t k;
			uint64_t s = 0;

			for (k = 0; k < K64 / 8; k += 512)
				s += p[k];
			(void)s;
			atomic_fetch_add(&touches, 1);
			munmap((void *)p, K64);
		} else if (errno != EINVAL) {
			atomic_fetch_add(&faults_bad, 1);
		}
		ma_unmap(fd, m.handle);
	}
	return NULL;
}

int main(void)
{
	const char *bdf = ma_bdf_or_skip("MEMATTR_IVSHMEM0");
	pthread_t th[NTHR];
	struct vdev d;
	struct pat_snap fresh;
	int i, r, ok, bad;

	tap_plan(NTESTS);
	kmsg_mark();
	if (vdev_open(&d, bdf) || ma_bar_phys(bdf, 2, &bp, &bsz) || bsz < 4 * MA_MIB) {
		tap_fail_n(NTESTS, "cannot open ivshmem0 or BAR2 is not 4 MiB");
		return tap_done();
	}
	fd = d.fd;
	pat_snap_take(bp, bp + bsz, &fresh);

	/* 1-2: identical MAPs */
	pthread_barrier_init(&bar, NULL, NTHR + 1);
	for (i = 0; i < NTHR; i++)
		pthread_create(&th[i], NULL, same_map, (void *)(intptr_t)i);
	bad = 0;
	for (r = 0; r < ROUNDS; r++) {
		pthread_barrier_wait(&bar);
		pthread_barrier_wait(&bar);
		for (i = 0; i < NTHR; i++)
			if (got_rc[i] || got_handle[i] != got_handle[0] || got_off[i] != got_off[0]) {
				if (bad++ < 5)
					tap_diag("round %d thread %d: %s handle 0x%x/0x%x", r, i,
						 ma_errname(-got_rc[i]), got_handle[i], got_handle[0]);
			}
		if (ma_nr_handles(fd, 2) != 1 && bad++ < 5)
			tap_diag("round %d: nr_handles %d", r, ma_nr_handles(fd, 2));
		for (i = 0; i < NTHR; i++)
			if (!got_rc[i])
				ma_unmap(fd, got_handle[i]);	/* all but one give ENOENT */
		pthread_barrier_wait(&bar);
	}
	for (i = 0; i < NTHR; i++)
		pthread_join(th[i], NULL);
	tap_ok(!bad, "%d threads x %d rounds of identical MAPs: one handle per round, nr_handles 1", NTHR, ROUNDS);
	tap_ok(ma_nr_handles(fd, 2) == 0 && pat_snap_same(bp, bp + bsz, &fresh),
	       "after the rounds: no handle left, BAR2 PAT as on a fresh open");

	/* 3-4: WC vs NC overlapping */
	for (i = 0; i < NTHR; i++)
		pthread_create(&th[i], NULL, attr_map, (void *)(intptr_t)i);
	bad = 0;
	for (r = 0; r < ROUNDS; r++) {
		int wc = 0, nc = 0;

		pthread_barrier_wait(&bar);
		pthread_barrier_wait(&bar);
		for (i = 0; i < NTHR; i++) {
			if (!attr_rc[i]) {
				if (attr_m[i].attr == VFIO_MEMATTR_WC)
					wc++;
				else
					nc++;
			} else if (attr_rc[i] != -EBUSY) {
				if (bad++ < 5)
					tap_diag("round %d thread %d: %s", r, i, ma_errname(-attr_rc[i]));
			}
		}
		if ((wc && nc) || (!wc && !nc)) {
			if (bad++ < 5)
				tap_diag("round %d: %d WC and %d NC handles on overlapping ranges", r, wc, nc);
		}
		if (wc + nc && !bad) {
			/* every PAT entry on BAR2 has the winner's type */
			struct pat_expect x = { bp + R0, bp + R0 + NTHR * MA_PAGE + 32 * 1024,
						wc ? "write-combining" : "uncached-minus" };

			if (!pat_check_bar(bp, bp + bsz, &x, 1, 0))
				bad++;
		}
		for (i = 0; i < NTHR; i++)
			if (!attr_rc[i])
				ma_unmap(fd, attr_m[i].handle);
		pthread_barrier_wait(&bar);
	}
	for (i = 0; i < NTHR; i++)
		pthread_join(th[i], NULL);
	tap_ok(!bad, "racing WC and NC MAPs of overlapping ranges: one attribute wins each round, the rest EBUSY, PAT agrees");
	tap_ok(ma_nr_handles(fd, 2) == 0 && pat_snap_same(bp, bp + bsz, &fresh),
	       "after the rounds: no handle left, BAR2 PAT as on a fresh open");

	/* 5-6: MAP/UNMAP vs mmap/touch/munmap for 3 seconds */
	atomic_store(&stop, 0);
	pthread_create(&th[0], NULL, mapper, NULL);
	pthread_create(&th[1], NULL, toucher, NULL);
	pthread_create(&th[2], NULL, toucher, NULL);
	sleep(3);
	atomic_store(&stop, 1);
	for (i = 0; i < 3; i++)
		pthread_join(th[i], NULL);
	tap_diag("mapper: %ld MAPs, touchers: %ld touches", atomic_load(&maps), atomic_load(&touches));
	tap_ok(atomic_load(&touches) > 0 && atomic_load(&faults_bad) == 0,
	       "MAP/UNMAP racing with mmap/touch/munmap: touches done, mmap failed only with EINVAL");
	ok = ma_nr_handles(fd, 2) == 0 && pat_snap_same(bp, bp + bsz, &fresh);
	vdev_close(&d);
	ok = ok && pat_check_bar(bp, bp + bsz, NULL, 0, 0);
	tap_ok(ok, "after the race: no handle, PAT as on a fresh open; after close no PAT entry");

	/* 7 */
	tap_ok(kmsg_clean(), "kernel log has no warning, BUG, PAT conflict or refcount error");
	return tap_done();
}
