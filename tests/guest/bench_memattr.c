// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * bench_memattr - what a mapping costs against stock vfio-pci, measured
 * side by side in one guest (docs/benchmarks.md):
 *   P1  MAP + mmap + first touch of 64 MiB: a WC handle of bench0 BAR2
 *       (vfio-pci-memattr) vs a legacy mmap of bench1 BAR2 (stock vfio-pci)
 *   P2  page faults of that touch: the kernel's own count (getrusage minor
 *       faults) on both sides, the driver's PTE/PMD/PUD split (debugfs)
 *   P3  per-operation cost of MAP, mmap, first fault, munmap and UNMAP
 *       with 64 and with 4096 live, mapped handles (max_handles raised);
 *       stock's mmap, fault and munmap with 64 and 4096 legacy mmaps of
 *       bench1 for reference
 *   P4  memory-disable revocation (config space) and refault of N mapped
 *       handles vs N legacy mmaps of stock vfio-pci
 *   P5  pread/pwrite (4 bytes, 4 KiB) of BAR0 and BAR2 without handles,
 *       and of BAR2 taken over, vs stock vfio-pci (p5())
 * Every figure is min/median/max of repeated runs; the two sides are
 * interleaved, and a bound that fails is measured again (up to 3 rounds;
 * for P1 a round is both device orders) before it counts, so that the
 * noise of a shared 2-core TCG machine does not fail it while a real
 * regression (an O(n) walk) fails every round.  A timed run does nothing
 * on one side that it does not do on the other (see p1_memattr()).
 *
 * bench_memattr [--full]: without --full (make check) few repetitions,
 * and the ratios are figures (TAP diagnostics, "# RATIO" lines) bounded
 * only against a gross regression, 2.0, that the noise of a shared machine
 * cannot reach; with --full (make bench, run alone) more repetitions and
 * the real bounds (P1 1.05, P3 and P4 1.5).  Lines "# BENCH ..." carry the
 * figures.
 * Devices: MEMATTR_BENCH0 and MEMATTR_BENCH1 (lab/init exports both);
 * without either, a skip.
 */
#define _GNU_SOURCE
#define _FILE_OFFSET_BITS 64
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "lib/tap.h"
#include "lib/sysfs.h"
#include "lib/vfio.h"
#include "lib/memattr.h"
#include "lib/mmio.h"

#define P5_TESTS	3	/* p5() */
#define NTESTS		(11 + P5_TESTS)
#define BAR		2
#define P1_LEN		(64 * MA_MIB)
#define M2		(2 * MA_MIB)
#define LEGACY_OFF(i)	((uint64_t)(i) << 40)
#define MAXREP		64
#define ROUNDS		3
#define P1_ROUNDS	6	/* halves: 3 rounds of both device orders */

/*
 * The bounds of make bench (--full, run alone).  P1's margin is small: MAP
 * alone is about 2.5 % of P1 under TCG, and on x86 6.1 the driver's
 * whole-VMA fill about 2 % more than stock's (with PAT,
 * apply_to_page_range() calls back once per PTE; remap_pfn_range(), which
 * arm64 6.1 uses, does not), so x86 6.1 mostly measures 1.03 to 1.05.
 */
#define P1_BENCH_BOUND	1.05
#define P3_BENCH_BOUND	1.5
#define P4_BENCH_BOUND	1.5
/*
 * make check (the short mode, among the other jobs of a shared 2-core
 * machine) bounds every timed ratio at 2.0 only: a timing bound near 1
 * there is a coin toss (a cold CI failed P1 at 1.102 with 1.10), while the
 * regressions the bounds exist for are gross (one fault per page on 6.1:
 * P1 5.7x; O(n) list walks: P3 2.7x to 3.6x) and fail 2.0 in every round.
 */
#define GROSS_BOUND	2.0
#define P1_BOUND	(full ? P1_BENCH_BOUND : GROSS_BOUND)
#define P3_BOUND	(full ? P3_BENCH_BOUND : GROSS_BOUND)
#define P4_BOUND	(full ? P4_BENCH_BOUND : GROSS_BOUND)

static const char *bdf0, *bdf1;
static struct vdev d0, d1;
/* P1: the device bound to the driver, the stock one (they swap) */
static struct vdev *vm = &d0, *vs = &d1;
static const char *bdf_m;
static int full;
static const char *klabel;
/*
 * The lab's debug kernel (label "...-debug"): KASAN, lockdep and kmemleak
 * make the driver's MAP several times dearer than on the Debian kernels
 * (MAP was 11 % of P1 there against 2.5 %), so its ratios are figures,
 * not bounds: one round each, the bound results skipped with the ratio
 * in the reason.  Everything else of the benchmark still counts.
 */
static int debug_kernel;

/*
 * One bound result of part @part: @ok the steps worked, @in_bound the ratio
 * held its bound, @bench_bound the bound make bench holds it to.
 */
static void bound_result(const char *part, double bench_bound, int ok, int in_bound,
			 const char *fmt, ...) TAP_PRINTF(5, 6);
static void bound_result(const char *part, double bench_bound, int ok, int in_bound,
			 const char *fmt, ...)
{
	char what[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (!full && !debug_kernel)
		tap_diag("%s: the ratio is a figure here, failing only above %.2f (a gross regression); make bench bounds it at %.2f",
			 part, GROSS_BOUND, bench_bound);
	if (ok && debug_kernel)
		tap_skip("a debug kernel: the ratio is not bounded there", "%s (%s)", what,
			 in_bound ? "held" : "missed");
	else
		tap_ok(ok && in_bound, "%s", what);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static long minflt(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_minflt;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int cmp_dbl(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

struct st {
	uint64_t min, med, max;
};

static struct st stats(const uint64_t *v, int n)
{
	uint64_t s[4 * MAXREP * ROUNDS];
	struct st r = { 0, 0, 0 };

	if (n <= 0 || n > 4 * MAXREP * ROUNDS)
		return r;
	memcpy(s, v, sizeof(*v) * (size_t)n);
	qsort(s, (size_t)n, sizeof(*s), cmp_u64);
	r.min = s[0];
	r.max = s[n - 1];
	r.med = n & 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
	return r;
}

static double median_dbl(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_dbl);
	return n & 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/*
 * The ratio a bound is checked against: the smaller of the median of the
 * paired ratios @med and the ratio of the minima of @a and @b (n values
 * each).  Other jobs on the machine only ever add time, so the minima are
 * the least disturbed figures; a real regression raises both.
 */
static double robust(double med, const uint64_t *a, const uint64_t *b, int n)
{
	double rmin = (double)stats(a, n).min / (double)stats(b, n).min;

	return rmin < med ? rmin : med;
}

/* "# BENCH kernel Pn what side min med max unit" */
static void bench_line(const char *p, const char *what, const char *side,
		       struct st s, const char *unit)
{
	printf("# BENCH %s %s %s %s %" PRIu64 " %" PRIu64 " %" PRIu64 " %s\n",
	       klabel, p, what, side, s.min, s.med, s.max, unit);
}

/*
 * "# RATIO kernel Pn what ratio bound": @bound is what this run holds the
 * ratio to; 0 (lab/bench shows "-") where it holds it to nothing, as on a
 * debug kernel.
 */
static void ratio_line(const char *p, const char *what, double r, double bound)
{
	printf("# RATIO %s %s %s %.3f %.2f\n", klabel, p, what, r, debug_kernel ? 0.0 : bound);
}

static void touch(volatile uint8_t *p, size_t len, uint64_t seed)
{
	size_t i;

	for (i = 0; i < len; i += MA_PAGE)
		*(volatile uint64_t *)(p + i) = seed ^ i;
}

/* The words written by touch() read back through the mapping. */
static int touched_ok(volatile uint8_t *p, size_t len, uint64_t seed)
{
	size_t i;

	for (i = 0; i < len; i += MA_PAGE)
		if (*(volatile uint64_t *)(p + i) != (seed ^ i)) {
			tap_diag("word at +0x%zx reads 0x%" PRIx64 ", wrote 0x%" PRIx64, i,
				 *(volatile uint64_t *)(p + i), seed ^ i);
			return 0;
		}
	return 1;
}

static int64_t drv_stat(const char *key)
{
	int64_t v = -1;

	return ma_stat(bdf_m, key, &v) ? -1 : v;
}

/* ---------------------------------------------------------------- P1, P2 */
struct p1 {
	uint64_t t;		/* ns: map + first touch */
	uint64_t tmap;		/* ns: of which MAP (memattr) */
	uint64_t tfault;	/* ns: of which the touch */
	long flt;		/* minor faults of the touch */
	int64_t pte, pmd, pud;	/* driver's split (driver side) */
	int ok;
};

/* The first touch of the P1 mapping: its faults, its time, and the time since t0. */
static void touch_timed(struct p1 *r, volatile uint8_t *p, uint64_t seed, uint64_t t0)
{
	long f0 = minflt();

	r->tfault = now_ns();
	touch(p, P1_LEN, seed);
	r->flt = minflt() - f0;
	r->t = now_ns() - t0;
	r->tfault = now_ns() - r->tfault;
}

static struct p1 p1_stock(uint64_t seed)
{
	struct p1 r = { 0 };
	volatile uint8_t *p;
	uint64_t t0;
	size_t rl;
	void *res;

	t0 = now_ns();
	p = ma_map_aligned(vs->fd, LEGACY_OFF(BAR), P1_LEN, 0, &res, &rl);
	if (!p)
		return r;
	touch_timed(&r, p, seed, t0);
	r.ok = touched_ok(p, P1_LEN, seed);
	munmap(res, rl);
	return r;
}

/*
 * @counters: read the driver's PTE/PMD/PUD counters (debugfs) around it.
 * Only untimed runs do: three reads of the stats file just before a
 * timed run made its touch 11 % to 49 % slower (the minima; stock vfio-pci's
 * touch as much when the same reads preceded it), and stock has nothing to
 * read, so timed runs on either side read nothing.
 */
static struct p1 p1_memattr(uint64_t seed, int counters)
{
	struct vfio_device_feature_memattr_map m;
	struct p1 r = { 0 };
	int64_t s0[3];
	volatile uint8_t *p;
	uint64_t t0;
	size_t rl;
	void *res;
	int rc;

	if (counters) {
		s0[0] = drv_stat("pte_faults");
		s0[1] = drv_stat("pmd_faults");
		s0[2] = drv_stat("pud_faults");
	}
	t0 = now_ns();
	rc = ma_map1(vm->fd, BAR, 0, P1_LEN, VFIO_MEMATTR_WC, &m);
	r.tmap = now_ns() - t0;
	if (rc) {
		tap_diag("MAP WC 64 MiB: %s", ma_errname(-rc));
		return r;
	}
	p = ma_map_aligned(vm->fd, m.mmap_offset, P1_LEN, 0, &res, &rl);
	if (!p) {
		ma_unmap(vm->fd, m.handle);
		return r;
	}
	touch_timed(&r, p, seed, t0);
	r.ok = m.attr == VFIO_MEMATTR_WC && touched_ok(p, P1_LEN, seed);
	munmap(res, rl);
	ma_unmap(vm->fd, m.handle);
	if (counters) {
		r.pte = drv_stat("pte_faults") - s0[0];
		r.pmd = drv_stat("pmd_faults") - s0[1];
		r.pud = drv_stat("pud_faults") - s0[2];
	}
	return r;
}

static int rebind(const char *bdf, const char *drv)
{
	char p[128], cur[64] = "";

	snprintf(p, sizeof(p), "/sys/bus/pci/devices/%s/driver_override", bdf);
	if (sysfs_write_str(p, drv))
		return -1;
	snprintf(p, sizeof(p), "/sys/bus/pci/devices/%s/driver/unbind", bdf);
	sysfs_write_str(p, bdf);
	sysfs_write_str("/sys/bus/pci/drivers_probe", bdf);
	if (ma_pci_driver(bdf, cur, sizeof(cur)) || strcmp(cur, drv)) {
		tap_diag("%s: bound to '%s', not %s", bdf, cur, drv);
		return -1;
	}
	return 0;
}

/*
 * Two devices are never quite equal under TCG (the host pages behind their
 * files, their guest-physical placement): the same code measured on both
 * differs by up to 10 % in one boot.  So P1 runs half of its pairs with
 * the devices' drivers swapped, which cancels that bias in the ratio.
 */
static int p1_swap(int swapped)
{
	const char *mbdf = swapped ? bdf1 : bdf0, *sbdf = swapped ? bdf0 : bdf1;

	vdev_close(&d0);
	vdev_close(&d1);
	if (rebind(sbdf, "vfio-pci") || rebind(mbdf, "vfio-pci-memattr") ||
	    vdev_open(&d0, bdf0) || vdev_open(&d1, bdf1))
		return -1;
	vm = swapped ? &d1 : &d0;
	vs = swapped ? &d0 : &d1;
	bdf_m = mbdf;
	return 0;
}

static void p1_p2(void)
{
	int reps = full ? 41 : 31, round, i, n = 0, ok = 1, bound_ok = 0;
	uint64_t ts[MAXREP * P1_ROUNDS], tm[MAXREP * P1_ROUNDS];
	uint64_t tsf[MAXREP * P1_ROUNDS], tmf[MAXREP * P1_ROUNDS], tmm[MAXREP * P1_ROUNDS];
	struct p1 last_s = { 0 }, last_m = { 0 }, cnt = { 0 };
	double ratio = 0;
	int faults_eq = 1;
	uint64_t tcold[MAXREP];
	struct vfio_device_feature_memattr_map keep;
	int ncold = full ? 21 : 7;

	/* untimed: QEMU allocates the host pages behind both BARs */
	ok = p1_stock(0).ok && p1_memattr(0, 0).ok;
	/*
	 * The first handle of a BAR takes the BAR over from the core (on 7.2
	 * it unmaps the core's whole-BAR kernel mapping, made at open) and
	 * the last one hands it back: a cost per BAR and open, reported on
	 * its own.  The bounded figure is that of a BAR already taken over,
	 * as the core's own mapping at open is not in stock's figure either:
	 * a 1-page handle of the same attribute stays for the whole of P1.
	 */
	for (i = 0; ok && i < ncold; i++) {
		struct vfio_device_feature_memattr_map m;
		uint64_t t0 = now_ns();

		ok = !ma_map1(vm->fd, BAR, 0, P1_LEN, VFIO_MEMATTR_WC, &m);
		tcold[i] = now_ns() - t0;
		ok = ok && !ma_unmap(vm->fd, m.handle);
	}
	for (round = 0; round < P1_ROUNDS && ok && !bound_ok; round++) {
		static double rr[2 * MAXREP];
		int swapped = round & 1;

		if (swapped != (vm != &d0) && p1_swap(swapped)) {
			tap_diag("P1: giving %s and %s each other's driver failed", bdf0, bdf1);
			ok = 0;
			break;
		}
		ok = !ma_map1(vm->fd, BAR, P1_LEN - MA_PAGE, MA_PAGE, VFIO_MEMATTR_WC, &keep);
		if (!ok)
			tap_diag("P1: MAP of %s BAR2 failed", bdf_m);
		/* untimed, warm; the driver's split of the faults (P2) */
		ok = ok && p1_stock(0).ok;
		if (ok) {
			cnt = p1_memattr(0, 1);
			ok = cnt.ok;
		}
		for (i = 0; ok && i < reps; i++) {
			uint64_t seed = 0xbe11000000000000ull + (uint64_t)(n + i);
			struct p1 s, m;

			/* alternate which side goes first */
			if (i & 1) {
				m = p1_memattr(seed, 0);
				s = p1_stock(seed);
			} else {
				s = p1_stock(seed);
				m = p1_memattr(seed, 0);
			}
			ok &= s.ok && m.ok;
			if (!s.ok || !m.ok)
				break;
			ts[n + i] = s.t;
			tm[n + i] = m.t;
			tsf[n + i] = s.tfault;
			tmf[n + i] = m.tfault;
			tmm[n + i] = m.tmap;
			rr[swapped * reps + i] = (double)m.t / (double)s.t;
			if (m.flt > s.flt + 2)
				faults_eq = 0;
			last_s = s;
			last_m = m;
		}
		if (ok)
			ma_unmap(vm->fd, keep.handle);
		if (!ok)
			break;
		n += reps;
		if (!swapped)
			continue;
		/* both device orders measured: the last 2 * reps pairs */
		ratio = robust(median_dbl(rr, 2 * reps), tm + n - 2 * reps, ts + n - 2 * reps,
			       2 * reps);
		bound_ok = ratio <= P1_BOUND;
		if (!bound_ok && debug_kernel)
			break;
		if (!bound_ok)
			tap_diag("P1 round %d: ratio %.3f > %.2f, measuring again", round / 2 + 1,
				 ratio, P1_BOUND);
	}
	if (vm != &d0 && p1_swap(0)) {
		tap_diag("P1: giving %s and %s their drivers back failed", bdf0, bdf1);
		ok = 0;
	}
	tap_ok(ok, "P1: 64 MiB mapped and touched on both sides, data read back");
	bench_line("P1", "map+touch-64MiB", "stock", stats(ts, n), "ns");
	bench_line("P1", "map+touch-64MiB", "memattr", stats(tm, n), "ns");
	ratio_line("P1", "map+touch-64MiB", ratio, P1_BOUND);
	bench_line("P1", "of-which-MAP", "memattr", stats(tmm, n), "ns");
	bench_line("P1", "first-MAP-of-the-BAR", "memattr", stats(tcold, ncold), "ns");
	bench_line("P1", "of-which-touch", "stock", stats(tsf, n), "ns");
	bench_line("P1", "of-which-touch", "memattr", stats(tmf, n), "ns");
	bound_result("P1", P1_BENCH_BOUND, ok, bound_ok, "P1: WC handle / stock legacy mmap, map + touch of 64 MiB: ratio %.3f <= %.2f",
		     ratio, P1_BOUND);

	printf("# BENCH %s P2 faults stock %ld memattr %ld pte %" PRId64 " pmd %" PRId64
	       " pud %" PRId64 "\n", klabel, last_s.flt, last_m.flt, cnt.pte, cnt.pmd,
	       cnt.pud);
	tap_ok(ok && faults_eq && last_m.flt > 0,
	       "P2: minor faults to touch 64 MiB: memattr %ld, stock %ld (driver: %" PRId64
	       " PTE, %" PRId64 " PMD, %" PRId64 " PUD)", last_m.flt, last_s.flt,
	       cnt.pte, cnt.pmd, cnt.pud);
	tap_ok(ok && cnt.flt == last_m.flt && cnt.pte + cnt.pmd + cnt.pud == cnt.flt,
	       "P2: the driver's counters add up to the kernel's minor faults (%" PRId64
	       " of %ld, untimed run)", cnt.pte + cnt.pmd + cnt.pud, cnt.flt);
}

/* -------------------------------------------------------------------- P3 */
#define P3_MAXLIVE	4096
#define P3_OPS		5
static const char *const p3_names[P3_OPS] = { "MAP", "mmap", "fault", "munmap", "UNMAP" };

struct live {
	uint32_t handle[P3_MAXLIVE];
	void *map[P3_MAXLIVE];
	int n;
	int stock;		/* legacy mmaps of bench1 (stock vfio-pci), no handles */
};

static struct live live;

/*
 * The mm's own costs grow with the number of VMAs of the process (its VMA
 * tree) and of the page table entries it holds, for stock vfio-pci too:
 * both phases of P3 have the same number of VMAs, each with one page
 * mapped, the 64-handle phase filling up with anonymous ones (1 page each,
 * written, every other one read-only so that none merge), so that the
 * ratio shows what grows with the number of handles.
 */
#define FILL_VMAS	(P3_MAXLIVE - 64)
static uint8_t *fill;

static int fill_set(int on)
{
	size_t i;

	if (!on) {
		if (fill)
			munmap(fill, FILL_VMAS * MA_PAGE);
		fill = NULL;
		return 0;
	}
	if (fill)
		return 0;
	fill = mmap(NULL, FILL_VMAS * MA_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (fill == MAP_FAILED) {
		fill = NULL;
		return -1;
	}
	for (i = 0; i < FILL_VMAS; i++)
		fill[i * MA_PAGE] = 1;
	for (i = 1; i < FILL_VMAS; i += 2)	/* one VMA per page */
		if (mprotect(fill + i * MA_PAGE, MA_PAGE, PROT_READ))
			return -1;
	return 0;
}

/*
 * Grow or shrink the background mappings (1 page each at page i, mapped,
 * touched): handles of bench0, or for stock legacy mmaps of bench1.
 */
static int live_set(int want)
{
	while (live.n < want) {
		struct vfio_device_feature_memattr_map m;
		uint64_t off = LEGACY_OFF(BAR) + (uint64_t)live.n * MA_PAGE;
		void *p;

		if (!live.stock) {
			int rc = ma_map1(d0.fd, BAR, (uint64_t)live.n * MA_PAGE, MA_PAGE, VFIO_MEMATTR_WC, &m);

			if (rc) {
				tap_diag("background handle %d: MAP %s", live.n, ma_errname(-rc));
				return -1;
			}
			off = m.mmap_offset;
		}
		p = ma_map_fd(live.stock ? d1.fd : d0.fd, off, MA_PAGE);
		if (!p) {
			tap_diag("background mapping %d: mmap %s", live.n, strerror(errno));
			if (!live.stock)
				ma_unmap(d0.fd, m.handle);
			return -1;
		}
		*(volatile uint64_t *)p = (uint64_t)live.n;
		live.handle[live.n] = live.stock ? 0 : m.handle;
		live.map[live.n] = p;
		live.n++;
	}
	while (live.n > want) {
		live.n--;
		munmap(live.map[live.n], MA_PAGE);
		if (!live.stock)
			ma_unmap(d0.fd, live.handle[live.n]);
	}
	return 0;
}

/*
 * One MAP/mmap/fault/munmap/UNMAP of page @pg; times in t[op].  For stock
 * (a legacy mmap of bench1) MAP and UNMAP do not exist and are 0.
 */
static int p3_once(uint64_t pg, uint64_t *t)
{
	struct vfio_device_feature_memattr_map m;
	uint64_t off = LEGACY_OFF(BAR) + pg * MA_PAGE;
	volatile uint64_t *p;
	uint64_t a, b;
	int rc = 0;

	t[0] = t[4] = 0;
	a = now_ns();
	if (!live.stock)
		rc = ma_map1(d0.fd, BAR, pg * MA_PAGE, MA_PAGE, VFIO_MEMATTR_WC, &m);
	b = now_ns();
	if (!live.stock)
		t[0] = b - a;
	if (rc) {
		tap_diag("probe MAP: %s", ma_errname(-rc));
		return -1;
	}
	p = ma_map_fd(live.stock ? d1.fd : d0.fd, live.stock ? off : m.mmap_offset, MA_PAGE);
	a = now_ns();
	t[1] = a - b;
	if (!p) {
		if (!live.stock)
			ma_unmap(d0.fd, m.handle);
		return -1;
	}
	*p = pg;
	b = now_ns();
	t[2] = b - a;
	if (*p != pg) {
		tap_diag("probe page %" PRIu64 " does not read back", pg);
		return -1;
	}
	b = now_ns();
	munmap((void *)p, MA_PAGE);
	a = now_ns();
	t[3] = a - b;
	if (live.stock)
		return 0;
	rc = ma_unmap(d0.fd, m.handle);
	t[4] = now_ns() - a;
	return rc ? -1 : 0;
}

/*
 * 64, 4096, 64[, 4096] live mappings: both sizes early and late in the
 * run, @reps probes each; up to ROUNDS rounds until the worst ratio of an
 * operation is within @bound (0: one round, no bound).  Values in
 * v[big][op], *worst the worst ratio.  Returns 0 if every step worked.
 */
/*
 * The ratio of 4096-live to 64-live costs that P3's bound judges and its
 * table prints: the smaller of the medians' and the minima's ratio.
 */
static double p3_ratio(struct st a, struct st b)
{
	double r = (double)b.med / (double)a.med;

	if (a.min && (double)b.min / (double)a.min < r)
		r = (double)b.min / (double)a.min;
	return r;
}

static uint64_t p3_v[2][2][P3_OPS][MAXREP * 2 * ROUNDS];
static int p3_nv[2][2];

static int p3_run(int stock, int reps, int phases, double bound, uint64_t *pg, double *worst)
{
	uint64_t (*v)[P3_OPS][MAXREP * 2 * ROUNDS] = p3_v[stock];
	int *nv = p3_nv[stock], round, ph, i, op, ok = 1, bound_ok = 0;

	live.stock = stock;
	for (round = 0; round < (bound ? ROUNDS : 1) && ok && !bound_ok; round++) {
		for (ph = 0; ph < phases && ok; ph++) {
			int big = ph & 1;

			if (fill_set(!big) || live_set(big ? P3_MAXLIVE - 1 : 63)) {
				ok = 0;
				break;
			}
			for (i = 0; i < reps && ok; i++) {
				uint64_t t[P3_OPS];

				if (p3_once((*pg)++, t)) {
					ok = 0;
					break;
				}
				for (op = 0; op < P3_OPS; op++)
					v[big][op][nv[big]] = t[op];
				nv[big]++;
			}
		}
		if (!ok)
			break;
		*worst = 0;
		for (op = 0; op < P3_OPS; op++) {
			struct st a = stats(v[0][op], nv[0]), b = stats(v[1][op], nv[1]);
			double r;

			if (!a.med || !b.min)
				continue;
			r = p3_ratio(a, b);
			if (r > *worst)
				*worst = r;
		}
		bound_ok = bound && *worst <= bound;
		if (bound && !bound_ok && debug_kernel)
			break;
		if (bound && !bound_ok)
			tap_diag("P3 round %d: worst ratio %.3f > %.2f, measuring again", round + 1,
				 *worst, bound);
	}
	live_set(0);
	fill_set(0);
	for (op = 0; ok && op < P3_OPS; op++) {
		struct st a = stats(v[0][op], nv[0]), b = stats(v[1][op], nv[1]);
		char what[32];

		if (!a.med)
			continue;
		snprintf(what, sizeof(what), "%s%s", stock ? "stock-" : "", p3_names[op]);
		bench_line("P3", what, "64-live", a, "ns");
		bench_line("P3", what, "4096-live", b, "ns");
		ratio_line("P3", what, p3_ratio(a, b), bound);
	}
	return ok ? 0 : -1;
}

static void p3(void)
{
	const char *param = MA_PARAM_DIR "/max_handles";
	int reps = full ? 61 : 31, phases = full ? 4 : 3, ok;
	double worst = 0, sworst = 0;
	char old[32] = "";
	uint64_t pg = 8192;

	if (sysfs_read_str(param, old, sizeof(old)) || sysfs_write_str(param, "8192")) {
		tap_ok(0, "P3: max_handles raised to 8192");
		tap_fail_n(1, "max_handles");
		return;
	}
	tap_ok(1, "P3: max_handles raised to 8192 (was %s)", old);
	ok = !p3_run(0, reps, phases, P3_BOUND, &pg, &worst);
	sysfs_write_str(param, old);
	/*
	 * The same with stock vfio-pci's legacy mmaps of bench1, for
	 * reference (no bound: it is the kernel's): on 6.1 its fault walks
	 * vdev->vma_list, and grows with the number of mmaps.
	 */
	pg = 8192;
	if (ok && p3_run(1, reps, phases, 0, &pg, &sworst))
		tap_diag("P3: the stock reference run failed");
	bound_result("P3", P3_BENCH_BOUND, ok, worst <= P3_BOUND,
		     "P3: per-op cost with 4096 / with 64 live mapped handles, worst ratio %.3f <= %.2f (stock vfio-pci's legacy mmaps: %.3f)",
		     worst, P3_BOUND, sworst);
}

/* -------------------------------------------------------------------- P4 */
#define P4_N	64

/* Map N pages of BAR2 of @d (legacy offsets, or handles), touch them. */
static int p4_side(struct vdev *d, int memattr, uint64_t *t_rev, uint64_t *t_ref, long *flt)
{
	uint32_t h[P4_N];
	volatile uint64_t *p[P4_N];
	uint64_t a, b;
	int i, n = 0, ok = 1;
	long f0;

	for (i = 0; i < P4_N; i++) {
		uint64_t off = (uint64_t)(2 * i) * MA_PAGE + 32 * MA_MIB;

		if (memattr) {
			struct vfio_device_feature_memattr_map m;

			if (ma_map1(d->fd, BAR, off, MA_PAGE, VFIO_MEMATTR_WC, &m))
				break;
			h[i] = m.handle;
			off = m.mmap_offset;
		} else {
			off += LEGACY_OFF(BAR);
		}
		p[i] = ma_map_fd(d->fd, off, MA_PAGE);
		if (!p[i]) {
			if (memattr)
				ma_unmap(d->fd, h[i]);
			break;
		}
		*p[i] = 0x9400 + (uint64_t)i;
		n++;
	}
	if (n < P4_N)
		ok = 0;
	if (ok) {
		a = now_ns();
		ok = !cmd_memory(d->fd, 0);
		ok &= !cmd_memory(d->fd, 1);
		b = now_ns();
		*t_rev = b - a;
		f0 = minflt();
		for (i = 0; i < n; i++)
			if (*p[i] != 0x9400 + (uint64_t)i)
				ok = 0;
		*t_ref = now_ns() - b;
		*flt = minflt() - f0;
	}
	for (i = 0; i < n; i++) {
		munmap((void *)p[i], MA_PAGE);
		if (memattr)
			ma_unmap(d->fd, h[i]);
	}
	return ok ? 0 : -1;
}

static void p4(void)
{
	int reps = full ? 31 : 11, round, i, n = 0, ok = 1, bound_ok = 0;
	uint64_t rs[MAXREP * ROUNDS], rm[MAXREP * ROUNDS], fs[MAXREP * ROUNDS], fm[MAXREP * ROUNDS];
	long flts = 0, fltm = 0;
	double r_rev = 0, r_ref = 0;

	for (round = 0; round < ROUNDS && ok && !bound_ok; round++) {
		double a[MAXREP], b[MAXREP];

		for (i = 0; i < reps && ok; i++) {
			int first = i & 1;

			if (p4_side(first ? &d0 : &d1, first, first ? &rm[n + i] : &rs[n + i],
				    first ? &fm[n + i] : &fs[n + i], first ? &fltm : &flts) ||
			    p4_side(first ? &d1 : &d0, !first, first ? &rs[n + i] : &rm[n + i],
				    first ? &fs[n + i] : &fm[n + i], first ? &flts : &fltm))
				ok = 0;
			a[i] = (double)rm[n + i] / (double)rs[n + i];
			b[i] = (double)fm[n + i] / (double)fs[n + i];
		}
		if (!ok)
			break;
		r_rev = robust(median_dbl(a, reps), rm + n, rs + n, reps);
		r_ref = robust(median_dbl(b, reps), fm + n, fs + n, reps);
		n += reps;
		bound_ok = r_rev <= P4_BOUND && r_ref <= P4_BOUND;
		if (!bound_ok && debug_kernel)
			break;
		if (!bound_ok)
			tap_diag("P4 round %d: ratios %.3f %.3f, measuring again", round + 1, r_rev, r_ref);
	}
	tap_ok(ok && fltm == P4_N && flts == P4_N,
	       "P4: after memory disable + enable every one of %d mappings refaults once and reads back (memattr %ld, stock %ld faults)",
	       P4_N, fltm, flts);
	if (ok) {
		bench_line("P4", "revoke-64", "stock", stats(rs, n), "ns");
		bench_line("P4", "revoke-64", "memattr", stats(rm, n), "ns");
		ratio_line("P4", "revoke-64", r_rev, P4_BOUND);
		bench_line("P4", "refault-64", "stock", stats(fs, n), "ns");
		bench_line("P4", "refault-64", "memattr", stats(fm, n), "ns");
		ratio_line("P4", "refault-64", r_ref, P4_BOUND);
	}
	bound_result("P4", P4_BENCH_BOUND, ok, bound_ok, "P4: revocation %.3f and refault %.3f of %d handles / %d legacy mmaps <= %.2f",
		     r_rev, r_ref, P4_N, P4_N, P4_BOUND);
}

/* -------------------------------------------------------------------- P5 */
/*
 * P5: pread/pwrite of the device file, 4 bytes and 4 KiB (BAR0: its 256 B
 * of registers), of BAR0 and BAR2 of the vfio-pci-memattr device without
 * a handle (the core's own path, kernel/rw.c) against the same on the
 * stock vfio-pci device, ns per call; then BAR2 once more with a 1-page
 * WC handle on it (taken over: the driver's path).  Each side is measured
 * in P5_BLOCKS interleaved blocks, half of them with the devices' drivers
 * swapped; the ratio is robust()'s (as P1: the smaller of the median of
 * the paired blocks' ratios and the ratio of the fastest blocks), up to
 * ROUNDS rounds until every ratio is within its bound.  make bench bounds untaken <= 1.10, taken over <= 1.5;
 * make check both only by the gross 2x.
 */
#define P5_BLOCKS	8
#define P5_OPS		8
#define P5_OFF2		(32 * MA_MIB)	/* BAR2 offset of the accesses */
/* ivshmem's registers: BAR0 reads as 4 KiB on arm64 (docs/lab.md), past them nothing answers */
#define P5_BAR0_LEN	256
#define P5_BENCH_BOUND_UNTAKEN	1.10
#define P5_BOUND_UNTAKEN	(full ? P5_BENCH_BOUND_UNTAKEN : GROSS_BOUND)
/*
 * Taken over, the driver mapped the page it accessed for each call: 4-byte
 * accesses measured 7.1-7.3x stock on x86 7.2 (4 KiB ones 0.25x); it now
 * keeps the last uncached page mapped, and make check measured 1.0-1.24
 * on the six Debian rows (1.42 on the debug row, whose bounds are not
 * applied): the gross 2x catches a return to per-call mapping.
 */
#define P5_BENCH_BOUND_TAKEN	1.5
#define P5_BOUND_TAKEN		(full ? P5_BENCH_BOUND_TAKEN : GROSS_BOUND)

struct p5op {
	int bar, write;
	size_t len;
	char what[40];
	double ratio;			/* best of the rounds */
	uint64_t v[2][P5_BLOCKS * ROUNDS];	/* ns per call; [0] stock, [1] memattr */
	int n;
};

/* ns per call of @calls accesses of @op on @fd (region offset @base); 0 on error. */
static uint64_t p5_block(int fd, uint64_t base, const struct p5op *op, int calls, uint8_t *buf)
{
	uint64_t off = base + (op->bar == 2 ? P5_OFF2 : 0), t;
	int i;

	t = now_ns();
	for (i = 0; i < calls; i++) {
		int rc = op->write ? rawfd_pwrite(fd, off, buf, op->len) :
				     rawfd_pread(fd, off, buf, op->len);

		if (rc) {
			tap_diag("P5 %s: %s", op->what, ma_errname(-rc));
			return 0;
		}
	}
	return (now_ns() - t) / (uint64_t)calls;
}

/* The ops of @bars (bit 0: BAR0, bit 2: BAR2), their names ending in @tag. */
static int p5_ops(struct p5op *ops, unsigned int bars, const char *tag)
{
	int n = 0, bar, w, big;

	for (bar = 0; bar <= 2; bar += 2) {
		if (!(bars & (1u << bar)))
			continue;
		for (w = 0; w < 2; w++)
			for (big = 0; big < 2; big++) {
				struct p5op *o = &ops[n++];

				memset(o, 0, sizeof(*o));
				o->bar = bar;
				o->write = w;
				o->len = !big ? 4 : bar == 0 ? P5_BAR0_LEN : MA_PAGE;
				snprintf(o->what, sizeof(o->what), "%s-%zuB-BAR%d%s", w ? "pwrite" : "pread",
					 o->len, bar, tag);
			}
	}
	return n;
}

/*
 * Measure @ops (n of them) with the memattr side's BAR2 taken over by a
 * 1-page WC handle (@taken) or without any handle, bounded by @bound.
 * Half of each round's blocks run with the devices' drivers swapped
 * (p1_swap(), as P1: the devices differ by up to 10 % under TCG).
 * Returns 0 if every step worked.
 */
static int p5_run(struct p5op *ops, int n, int calls, int taken, double bound, double *worst)
{
	static uint8_t buf[2][MA_PAGE];
	int round, half, b, i, side, ok = 1, bound_ok = 0;

	memset(buf, 0, sizeof(buf));
	for (round = 0; round < ROUNDS && ok && !bound_ok; round++) {
		for (half = 0; half < 2 && ok; half++) {
			struct vfio_device_feature_memattr_map keep;

			if (half != (vm != &d0) && p1_swap(half)) {
				tap_diag("P5: giving %s and %s each other's driver failed", bdf0, bdf1);
				ok = 0;
				break;
			}
			if (taken && ma_map1(vm->fd, BAR, P1_LEN - MA_PAGE, MA_PAGE, VFIO_MEMATTR_WC, &keep)) {
				tap_diag("P5: MAP of %s BAR2 failed", bdf_m);
				ok = 0;
				break;
			}
			if (!taken && (ma_nr_handles(vm->fd, 0) || ma_nr_handles(vm->fd, BAR))) {
				tap_diag("P5: %s has handles", bdf_m);
				ok = 0;
				break;
			}
			for (b = 0; b < P5_BLOCKS / 2 && ok; b++)
				for (i = 0; i < n && ok; i++)
					for (side = 0; side < 2 && ok; side++) {
						/* alternate which side goes first */
						int s = (b & 1) ? !side : side;
						uint64_t v = p5_block(s ? vm->fd : vs->fd, LEGACY_OFF(ops[i].bar),
								      &ops[i], calls / P5_BLOCKS, buf[s]);

						ok = v != 0;
						ops[i].v[s][ops[i].n] = v;
						if (side == 1)
							ops[i].n++;
					}
			if (taken)
				ma_unmap(vm->fd, keep.handle);
		}
		if (!ok)
			break;
		*worst = 0;
		for (i = 0; i < n; i++) {
			double pr[P5_BLOCKS * ROUNDS];
			int k;

			for (k = 0; k < ops[i].n; k++)
				pr[k] = (double)ops[i].v[1][k] / (double)ops[i].v[0][k];
			ops[i].ratio = robust(median_dbl(pr, ops[i].n), ops[i].v[1], ops[i].v[0], ops[i].n);
			if (ops[i].ratio > *worst)
				*worst = ops[i].ratio;
		}
		/* bound 0: figures only, one round */
		bound_ok = !bound || *worst <= bound;
		if (!bound_ok && debug_kernel)
			break;
		if (!bound_ok)
			tap_diag("P5 round %d: worst ratio %.3f > %.2f, measuring again", round + 1, *worst,
				 bound);
	}
	if (vm != &d0 && p1_swap(0)) {
		tap_diag("P5: giving %s and %s their drivers back failed", bdf0, bdf1);
		ok = 0;
	}
	for (i = 0; ok && i < n; i++) {
		bench_line("P5", ops[i].what, "stock", stats(ops[i].v[0], ops[i].n), "ns/call");
		bench_line("P5", ops[i].what, "memattr", stats(ops[i].v[1], ops[i].n), "ns/call");
		ratio_line("P5", ops[i].what, ops[i].ratio, bound);
	}
	return ok ? 0 : -1;
}

static void p5(void)
{
	static struct p5op ops[P5_OPS];
	int calls = full ? 20000 : 4000, n, ok;
	double wu = 0, wt = 0;

	n = p5_ops(ops, 1u << 0 | 1u << 2, "");
	ok = !p5_run(ops, n, calls, 0, P5_BOUND_UNTAKEN, &wu);
	tap_ok(ok, "P5: %d pread/pwrite kinds of BAR0 and BAR2, %d calls each, on both sides", n, calls);
	bound_result("P5", P5_BENCH_BOUND_UNTAKEN, ok, wu <= P5_BOUND_UNTAKEN,
		     "P5: pread/pwrite of BARs without handles / stock vfio-pci, worst ratio %.3f <= %.2f",
		     wu, P5_BOUND_UNTAKEN);
	n = p5_ops(ops, 1u << 2, "-taken");
	ok = !p5_run(ops, n, calls, 1, P5_BOUND_TAKEN, &wt);
	bound_result("P5", P5_BENCH_BOUND_TAKEN, ok, wt <= P5_BOUND_TAKEN,
		     "P5: pread/pwrite of BAR2 taken over (a WC handle on it) / stock vfio-pci, worst ratio %.3f <= %.2f",
		     wt, P5_BOUND_TAKEN);
}

int main(int argc, char **argv)
{
	char drv[64] = "";
	const char *only;
	int rc;

	full = argc > 1 && !strcmp(argv[1], "--full");
	klabel = getenv("MEMATTR_KERNEL_LABEL");
	if (!klabel || !*klabel)
		klabel = "?";
	debug_kernel = strlen(klabel) > 6 && !strcmp(klabel + strlen(klabel) - 6, "-debug");
	bdf0 = ma_bdf_or_skip("MEMATTR_BENCH0");
	bdf1 = ma_bdf_or_skip("MEMATTR_BENCH1");
	bdf_m = bdf0;
	tap_plan(NTESTS);

	rc = ma_pci_driver(bdf1, drv, sizeof(drv));
	if (!tap_ok(!rc && !strcmp(drv, "vfio-pci"), "%s (bench1) is bound to stock vfio-pci (driver: %s)",
		    bdf1, drv)) {
		tap_fail_n(NTESTS - 1, "no stock device");
		return tap_done();
	}
	rc = vdev_open(&d0, bdf0);
	if (!rc)
		rc = vdev_open(&d1, bdf1);
	if (!tap_ok(!rc && ma_driver_present(d0.fd) == 1,
		    "%s (bench0) answers the memattr features, %s is stock", bdf0, bdf1)) {
		tap_fail_n(NTESTS - 1, "devices");
		return tap_done();
	}
	only = getenv("BENCH_ONLY");
	if (!only || strstr(only, "P1"))
		p1_p2();	/* 4 */
	else
		tap_skip_rest_of(4, "BENCH_ONLY");
	if (!only || strstr(only, "P3"))
		p3();		/* 2 */
	else
		tap_skip_rest_of(2, "BENCH_ONLY");
	if (!only || strstr(only, "P4"))
		p4();		/* 2 */
	else
		tap_skip_rest_of(2, "BENCH_ONLY");
	if (!only || strstr(only, "P5"))
		p5();		/* P5_TESTS */
	else
		tap_skip_rest_of(P5_TESTS, "BENCH_ONLY");
	tap_ok(ma_nr_handles(d0.fd, BAR) == 0, "no handle left on %s BAR2", bdf0);
	vdev_close(&d1);
	vdev_close(&d0);
	return tap_done();
}
