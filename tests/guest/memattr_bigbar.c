// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * memattr_bigbar - what proving an NC range costs the kernel on a big BAR:
 * bigbar (MEMATTR_BIGBAR), an ivshmem-plain whose BAR2 is a sparse 16 GiB
 * host file, bound to vfio-pci-memattr.
 *
 *  (a) NH misaligned NC handles of nearly the whole BAR (handle i at
 *      i * 4 KiB, i = 1..NH, length the BAR less 2 * i * 4 KiB) and one
 *      DMABUF of 64 misaligned ranges (one per 1/64 of the BAR, 4 KiB in
 *      from each end).  The driver proves an NC range by mapping it in
 *      the kernel for a moment; per call the test prints the time taken
 *      (a figure, never bounded) and the growth of PageTables
 *      (/proc/meminfo) and of the ioremap total (/proc/vmallocinfo), and
 *      checks gross bounds: no ioremap area left after any call,
 *      PageTables growth over all the handles, and over the DMABUF,
 *      below 2 MiB, and after UNMAP of everything nothing stays (no
 *      handle, ioremap total not above the start, PageTables growth
 *      since the start still below 2 MiB).  With the whole range mapped
 *      with 4 KiB pages (before d08d8b8) each handle kept 32 MiB of page
 *      tables.
 *  (b) A thread reads 4 bytes of BAR0 (pread) over and over, first with
 *      nothing else going on (B_READS preads), then while NB MAP + UNMAP
 *      cycles of such handles run (each cycle waits until a pread of the
 *      thread ended after its start): the worst pread latency of each
 *      phase is printed (a figure only); every pread must return its 4
 *      bytes.
 *  (c) A WC handle of 64 KiB at 15 GiB (the BAR less 1 GiB): a pattern
 *      written through its mapping, read back through it and through
 *      pread, and checked by the host in the backing file (HOSTCHECK
 *      bigbar).
 *
 * No PAT list is read (arm64 has none): the checks are the data and the
 * kernel's resource figures, on every architecture.
 * Slices: the whole of bigbar is this test's; data is written at 15 GiB
 * (64 KiB) only.
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
#include "lib/kmem.h"

#define NH		8	/* NC handles of (a) */
#define NR		VFIO_MEMATTR_DMABUF_MAX_RANGES	/* DMABUF ranges of (a) */
/*
 * MAP + UNMAP cycles of (b).  A BAR's mmap offset window (512 GiB) is
 * given back only when the device is closed: NH + 1 + NB ranges of
 * nearly 16 GiB must stay within 32 per open.
 */
#define NB		8
#define B_READS		200	/* preads of (b)'s idle phase */
#define B_MAX_NS	10000000000ull	/* the longest wait for the reader */
#define PG		MA_PAGE
#define GIB		((uint64_t)1 << 30)
#define MIB		((uint64_t)1 << 20)
#define PT_BOUND_KIB	2048	/* PageTables growth bound */
#define WC_LEN		(64 * 1024ull)
#define SEED_WC		0xb16ba2c0ffee0015ull

#define A_TESTS		6
#define B_TESTS		1
#define C_TESTS		2
#define NTESTS		(1 + A_TESTS + B_TESTS + C_TESTS)

static const char *bdf;
static struct vdev d;
static uint64_t bar_size;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* The kernel's figures around one call. */
struct kfig {
	long long pt, io;	/* PageTables kB, ioremap bytes */
};

static struct kfig kfig_now(void)
{
	struct kfig k = { ma_meminfo_kib("PageTables"), ma_ioremap_bytes() };

	return k;
}

/* Worst of the calls of (a): ioremap growth (bytes) after one call. */
static long long worst_io;

/* Print one call's figures, keep the worst ioremap growth. */
static void call_line(const char *what, uint64_t t, struct kfig a, struct kfig b)
{
	long long dio = b.io - a.io;

	printf("# BIGBAR %s: %.1f ms, PageTables %+lld kB, ioremap %+lld kB\n",
	       what, (double)t / 1e6, b.pt - a.pt, dio / 1024);
	if (dio > worst_io)
		worst_io = dio;
}

/* ------------------------------------------------------------ DMABUF */
/* MEMATTR_DMABUF of @n ranges of BAR2: the fd, or -errno. */
static int export_ranges(const uint64_t *off, const uint64_t *len, unsigned int n)
{
	struct vfio_memattr_dma_range dr[NR];
	unsigned int i;

	if (n > NR)
		return -E2BIG;
	for (i = 0; i < n; i++) {
		dr[i].offset = off[i];
		dr[i].length = len[i];
	}
	return ma_dmabuf_export(d.fd, 2, O_RDWR | O_CLOEXEC, dr, n);
}

/* 1 if the driver exports DMABUFs (PROBE), else 0. */
static int dmabuf_supported(void)
{
	struct vfio_device_feature f = {
		.argsz = sizeof(f),
		.flags = VFIO_DEVICE_FEATURE_PROBE | VFIO_DEVICE_FEATURE_GET |
			 VFIO_DEVICE_FEATURE_MEMATTR_DMABUF,
	};

	return ioctl(d.fd, VFIO_DEVICE_FEATURE, &f) == 0;
}

/* ------------------------------------------------------------------ (a) */
static void part_a(void)
{
	static uint64_t roff[NR], rlen[NR];
	uint32_t h[NH];
	struct kfig k0, ka, kb, kh;
	uint64_t t;
	char what[96];
	int i, n = 0, dfd = -1, rc, nr_left;

	k0 = kfig_now();
	for (i = 1; i <= NH; i++) {
		struct vfio_device_feature_memattr_map m;
		uint64_t off = (uint64_t)i * PG, len = bar_size - 2 * (uint64_t)i * PG;

		ka = kfig_now();
		t = now_ns();
		rc = ma_map1(d.fd, 2, off, len, VFIO_MEMATTR_NC, &m);
		t = now_ns() - t;
		kb = kfig_now();
		if (rc) {
			tap_diag("MAP NC 0x%" PRIx64 "+0x%" PRIx64 ": %s", off, len, ma_errname(-rc));
			break;
		}
		h[n++] = m.handle;
		snprintf(what, sizeof(what), "MAP NC #%d 0x%" PRIx64 "+0x%" PRIx64, i, off, len);
		call_line(what, t, ka, kb);
	}
	kh = kfig_now();
	tap_ok(n == NH, "(a) %d of %d misaligned NC handles of nearly the whole %" PRIu64
	       " GiB BAR2 created", n, NH, bar_size / GIB);
	tap_ok(n == NH && k0.io >= 0 && worst_io <= 0,
	       "(a) no ioremap area left after any MAP (worst growth %lld kB)", worst_io / 1024);
	tap_ok(n == NH && k0.pt >= 0 && kh.pt - k0.pt < PT_BOUND_KIB,
	       "(a) PageTables growth over the %d MAPs: %lld kB (bound %d kB)", n, kh.pt - k0.pt,
	       PT_BOUND_KIB);

	/* one DMABUF of NR misaligned ranges, one per 1/NR of the BAR */
	if (!dmabuf_supported()) {
		tap_skip_rest_of(2, "no MEMATTR_DMABUF on this kernel (PROBE failed)");
	} else {
		worst_io = 0;
		for (i = 0; i < NR; i++) {
			roff[i] = (uint64_t)i * (bar_size / NR) + PG;
			rlen[i] = bar_size / NR - 2 * PG;
		}
		ka = kfig_now();
		t = now_ns();
		dfd = export_ranges(roff, rlen, NR);
		t = now_ns() - t;
		kb = kfig_now();
		if (dfd < 0)
			tap_diag("DMABUF of %d ranges: %s", NR, ma_errname(-dfd));
		else
			call_line("DMABUF export of 64 misaligned ranges", t, ka, kb);
		tap_ok(dfd >= 0, "(a) DMABUF export of %d misaligned ranges (%" PRIu64
		       " MiB less 8 KiB each)", NR, bar_size / NR / MIB);
		tap_ok(dfd >= 0 && worst_io <= 0 && kb.pt - ka.pt < PT_BOUND_KIB,
		       "(a) the DMABUF export left no ioremap area (growth %lld kB) and grew PageTables by %lld kB (bound %d kB)",
		       (kb.io - ka.io) / 1024, kb.pt - ka.pt, PT_BOUND_KIB);
	}

	rc = 0;
	for (i = 0; i < n; i++)
		if (ma_unmap(d.fd, h[i]))
			rc = -1;
	if (dfd >= 0)
		close(dfd);
	nr_left = ma_nr_handles(d.fd, 2);
	kb = kfig_now();
	printf("# BIGBAR after UNMAP of everything: PageTables %+lld kB, ioremap %+lld kB since the start\n",
	       kb.pt - k0.pt, (kb.io - k0.io) / 1024);
	tap_ok(!rc && nr_left == 0 && kb.io <= k0.io && kb.pt - k0.pt < PT_BOUND_KIB,
	       "(a) after UNMAP of every handle and close of the DMABUF: %d handles, ioremap %+lld kB, PageTables %+lld kB since the start (bound %d kB)",
	       nr_left, (kb.io - k0.io) / 1024, kb.pt - k0.pt, PT_BOUND_KIB);
}

/* ------------------------------------------------------------------ (b) */
struct reader {
	atomic_int phase;	/* 0 idle, 1 during the MAPs, 2 stop */
	uint64_t worst[2];	/* ns */
	atomic_long n[2];
	long bad;
};

static void *reader_main(void *arg)
{
	struct reader *r = arg;
	int ph;

	while ((ph = atomic_load(&r->phase)) < 2) {
		uint32_t v;
		uint64_t t = now_ns();

		if (region_pread(d.fd, 0, 0, &v, sizeof(v)))
			r->bad++;
		t = now_ns() - t;
		if (t > r->worst[ph])
			r->worst[ph] = t;
		atomic_fetch_add(&r->n[ph], 1);
	}
	return NULL;
}

static void part_b(void)
{
	struct reader r = { .phase = 0 };
	pthread_t th;
	uint64_t t0, tmap = 0;
	long n0, n1;
	int i, ok = 1;

	if (pthread_create(&th, NULL, reader_main, &r)) {
		tap_fail("(b) reader thread: %s", strerror(errno));
		return;
	}
	/* the idle phase lasts until the reader did B_READS preads (or B_MAX_NS) */
	t0 = now_ns();
	while (atomic_load(&r.n[0]) < B_READS && now_ns() - t0 < B_MAX_NS)
		usleep(10 * 1000);
	atomic_store(&r.phase, 1);
	t0 = now_ns();
	for (i = 1; ok && i <= NB; i++) {
		struct vfio_device_feature_memattr_map m;
		long before = atomic_load(&r.n[1]);
		uint64_t tw;
		int rc = ma_map1(d.fd, 2, (uint64_t)i * PG, bar_size - 2 * (uint64_t)i * PG,
				 VFIO_MEMATTR_NC, &m);

		if (rc) {
			tap_diag("(b) MAP NC #%d: %s", i, ma_errname(-rc));
			ok = 0;
		} else if (ma_unmap(d.fd, m.handle)) {
			ok = 0;
		}
		/* a pread of the reader's ends in each cycle (on arm64 one takes 0.1 ms) */
		tw = now_ns();
		while (atomic_load(&r.n[1]) == before && now_ns() - tw < B_MAX_NS)
			usleep(100);
	}
	tmap = now_ns() - t0;
	atomic_store(&r.phase, 2);
	pthread_join(th, NULL);
	n0 = atomic_load(&r.n[0]);
	n1 = atomic_load(&r.n[1]);
	printf("# BIGBAR pread BAR0 4 bytes: worst %.3f ms of %ld idle, worst %.3f ms of %ld during %d MAP+UNMAP cycles (%.1f ms)\n",
	       (double)r.worst[0] / 1e6, n0, (double)r.worst[1] / 1e6, n1, i - 1,
	       (double)tmap / 1e6);
	tap_ok(ok && !r.bad && n0 > 0 && n1 > 0,
	       "(b) %ld + %ld 4-byte preads of BAR0 beside %d MAP+UNMAP cycles of BAR2 all read 4 bytes (worst %.3f ms, idle %.3f ms; figures only)",
	       n0, n1, i - 1, (double)r.worst[1] / 1e6, (double)r.worst[0] / 1e6);
}

/* ------------------------------------------------------------------ (c) */
static void part_c(void)
{
	struct vfio_device_feature_memattr_map m;
	uint64_t off = bar_size - GIB;
	volatile uint8_t *p;
	int rc, ok;

	rc = ma_map1(d.fd, 2, off, WC_LEN, VFIO_MEMATTR_WC, &m);
	if (rc) {
		tap_diag("MAP WC 0x%" PRIx64 "+64 KiB: %s", off, ma_errname(-rc));
		tap_fail_n(C_TESTS, "no WC handle");
		return;
	}
	p = ma_map_fd(d.fd, m.mmap_offset, WC_LEN);
	ok = p && m.attr == VFIO_MEMATTR_WC && ma_fill_check(p, WC_LEN, SEED_WC);
	tap_ok(ok, "(c) WC handle of 64 KiB at 0x%" PRIx64 " (%s): pattern written and read back through its mapping",
	       off, attr_name(m.attr));
	if (p)
		munmap((void *)p, WC_LEN);
	tap_ok(ok && ma_legacy_check(d.fd, off, WC_LEN, SEED_WC),
	       "(c) the same 64 KiB read back through pread of BAR2");
	if (ok)
		hostcheck("bigbar", off, WC_LEN, SEED_WC, "memattr_bigbar: WC at the BAR less 1 GiB");
	ma_unmap(d.fd, m.handle);
}

int main(void)
{
	uint64_t start;
	char drv[64] = "", why[256];
	int ok;

	tap_plan(NTESTS);
	bdf = ma_bdf("MEMATTR_BIGBAR", why, sizeof(why));
	if (!bdf && !strstr(why, "no such PCI device"))
		tap_skip_all(why);	/* not set */
	/* set, but the debug row boots without the device */
	if (!bdf || ma_pci_driver(bdf, drv, sizeof(drv)) || !drv[0]) {
		tap_skip_rest("no big-BAR device (MEMATTR_BIGBAR) bound in this guest (the debug row boots without it: lab/boot)");
		return tap_done();
	}
	ok = !ma_bar_phys(bdf, 2, &start, &bar_size) && bar_size >= 4 * GIB &&
	     !vdev_open(&d, bdf);
	if (!tap_ok(ok && ma_driver_present(d.fd) == 1,
		    "%s (driver %s) opened, BAR2 of %" PRIu64 " MiB at 0x%" PRIx64
		    " answers the memattr features", bdf, drv, bar_size / MIB, start)) {
		tap_fail_n(NTESTS - 1, "no device");
		return tap_done();
	}
	part_a();	/* A_TESTS */
	part_b();	/* B_TESTS */
	part_c();	/* C_TESTS */
	vdev_close(&d);
	return tap_done();
}
