// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * memattr_failnth - every allocation of the driver's paths made to fail,
 * one at a time, with the per-task fault injection of
 * /proc/thread-self/fail-nth (Documentation/fault-injection/): for each
 * operation, for N = 1, 2, 3, ...: write N, make the call, read fail-nth
 * back (0: the Nth fault-injectable allocation of the call failed), until
 * the call succeeds with the fault not consumed.  After each failed
 * attempt:
 *  (a) the errno is ENOMEM or one the operation documents (a failed
 *      touch of a mapping is SIGBUS, or the fault is retried);
 *  (b) nothing changed: nr_handles of every BAR (BAR_INFO), the PAT
 *      entries of BAR2, and the driver's debugfs handles list and handle
 *      count, before and after;
 *  (c) no kernel report (WARNING, BUG, KASAN, UBSAN, lockdep, refcount_t)
 *      in /dev/kmsg;
 * and after the last one a kmemleak scan names nothing of vfio or memattr.
 * DMABUF_ATTR SET of a multi-range DMABUF also checks that the attribute
 * GET reports is the one the PAT list shows for every range, or that the
 * DMABUF was revoked (defect 5: a failed rollback left a range WC under a
 * DMABUF reporting NC); the "rollback" case makes the last range of three
 * fail with EBUSY (it overlaps an NC handle) so that the injected fault
 * lands in the rollback of the first two.
 *
 * Runs on kernels with CONFIG_FAULT_INJECTION (the debug row); elsewhere
 * it skips.  failslab and fail_page_alloc are set to inject into sleeping
 * allocations and order-0 pages (ignore-gfp-wait N, min-order 0),
 * probability 0 and task-filter Y (so nothing but fail-nth injects), and
 * restored at the end.  MEMATTR_FAILNTH_VERBOSE=2 gives a stack trace per
 * injected fault (to find the allocation behind a failure).
 *
 * Slices: ivshmem0 BAR2 0x1a0000-0x1dffff (mapped and read, not written).
 */
#define _GNU_SOURCE
#define _FILE_OFFSET_BITS 64
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lib/tap.h"
#include "lib/sysfs.h"
#include "lib/vfio.h"
#include "lib/memattr.h"
#include "lib/mmio.h"
#include "lib/pat.h"
#include "lib/sigbus.h"
#include "lib/kreport.h"

#define SLICE		0x1a0000ull
#define HEAL_OFF	(SLICE + 0x30000)	/* a page of the slice no step maps */
#define K64		(64 * 1024ull)
#define PG		MA_PAGE
#define LEGACY(bar)	((uint64_t)(bar) << 40)
#define MAX_NTH		5000	/* a walk longer than this is a failure */

static const char *bdf;
static uint64_t bp, bsz;
static struct vdev d;
static int nth_fd = -1;
static char dbg_handles[256], dbg_stats[256], default_path[256];

/* ------------------------------------------------ fail-nth */
static int nth_set(unsigned int n)
{
	char b[16];
	int l = snprintf(b, sizeof(b), "%u", n);

	return pwrite(nth_fd, b, (size_t)l, 0) == l ? 0 : -errno;
}

static int nth_get(void)
{
	char b[16] = "";
	ssize_t r = pread(nth_fd, b, sizeof(b) - 1, 0);

	return r > 0 ? atoi(b) : -1;
}

/* /sys/kernel/debug/<cap>/<file>: set, remembering the old value */
struct fi_knob {
	const char *file;
	const char *val;
	char old[32];
	int set;
};

static struct fi_knob knobs[] = {
	{ "failslab/probability", "0", "", 0 },
	{ "failslab/task-filter", "Y", "", 0 },
	{ "failslab/ignore-gfp-wait", "N", "", 0 },
	{ "failslab/times", "-1", "", 0 },
	{ "failslab/verbose", "0", "", 0 },
	{ "fail_page_alloc/probability", "0", "", 0 },
	{ "fail_page_alloc/task-filter", "Y", "", 0 },
	{ "fail_page_alloc/ignore-gfp-wait", "N", "", 0 },
	{ "fail_page_alloc/min-order", "0", "", 0 },
	{ "fail_page_alloc/times", "-1", "", 0 },
	{ "fail_page_alloc/verbose", "0", "", 0 },
};
#define NKNOBS (sizeof(knobs) / sizeof(knobs[0]))

static int fi_setup(void)
{
	const char *verbose = getenv("MEMATTR_FAILNTH_VERBOSE");
	char p[256];
	size_t i;
	int rc;

	for (i = 0; i < NKNOBS; i++) {
		const char *val = knobs[i].val;

		if (verbose && strstr(knobs[i].file, "/verbose"))
			val = verbose;
		snprintf(p, sizeof(p), "/sys/kernel/debug/%s", knobs[i].file);
		rc = sysfs_read_str(p, knobs[i].old, sizeof(knobs[i].old));
		rc = rc ? rc : sysfs_write_str(p, val);
		if (rc) {
			tap_diag("%s: %s", p, ma_errname(-rc));
			return rc;
		}
		knobs[i].set = 1;
	}
	return sysfs_write_str("/proc/self/make-it-fail", "1");
}

static void fi_restore(void)
{
	char p[256];
	size_t i;

	for (i = 0; i < NKNOBS; i++) {
		if (!knobs[i].set)
			continue;
		snprintf(p, sizeof(p), "/sys/kernel/debug/%s", knobs[i].file);
		sysfs_write_str(p, knobs[i].old);
	}
	sysfs_write_str("/proc/self/make-it-fail", "0");
}

/* ------------------------------------------------ device state */
struct snap {
	int nr[6];		/* -1: device closed */
	struct pat_snap pat;
	char handles[4096];	/* debugfs handles list */
	char count[64];		/* "handles N" of debugfs stats */
};

static void snap_take(struct snap *s)
{
	char stats[1024] = "", *h;
	int i;

	for (i = 0; i < 6; i++)
		s->nr[i] = d.fd >= 0 ? ma_nr_handles(d.fd, (uint32_t)i) : -1;
	pat_snap_take(bp, bp + bsz, &s->pat);
	s->handles[0] = 0;
	sysfs_read_file(dbg_handles, s->handles, sizeof(s->handles));
	sysfs_read_file(dbg_stats, stats, sizeof(stats));
	h = strstr(stats, "handles ");
	snprintf(s->count, sizeof(s->count), "%.*s", h ? (int)strcspn(h, "\n") : 0, h ? h : "");
}

/* Print the lines of @text as diagnostics under @what. */
static void diag_lines(const char *what, const char *text)
{
	char buf[4096], *line, *save = NULL;

	snprintf(buf, sizeof(buf), "%s", text);
	tap_diag("%s:", what);
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		tap_diag("  %s", line);
}

static int snap_same(const struct snap *a, const char *ctx)
{
	struct snap b;
	int i, ok = 1;

	snap_take(&b);
	for (i = 0; i < 6; i++)
		if (a->nr[i] != b.nr[i]) {
			tap_diag("%s: BAR%d nr_handles %d -> %d", ctx, i, a->nr[i], b.nr[i]);
			ok = 0;
		}
	if (!pat_snap_same(bp, bp + bsz, &a->pat)) {
		tap_diag("%s: PAT entries of BAR2 changed", ctx);
		ok = 0;
	}
	if (strcmp(a->handles, b.handles)) {
		tap_diag("%s: debugfs handles list changed", ctx);
		diag_lines("before", a->handles);
		diag_lines("after", b.handles);
		ok = 0;
	}
	if (strcmp(a->count, b.count)) {
		tap_diag("%s: debugfs stats '%s' -> '%s'", ctx, a->count, b.count);
		ok = 0;
	}
	return ok;
}

/* ------------------------------------------------ DMABUF uAPI */
struct range {
	uint64_t off, len;
};

typedef struct vfio_device_feature_memattr_dmabuf_attr dattr_t;

static int dmabuf_export(const struct range *r, uint32_t n)
{
	struct vfio_memattr_dma_range dr[4];
	uint32_t i;

	if (n > 4)
		return -E2BIG;
	for (i = 0; i < n; i++) {
		dr[i].offset = r[i].off;
		dr[i].length = r[i].len;
	}
	return ma_dmabuf_export(d.fd, 2, O_RDWR | O_CLOEXEC, dr, n);
}

/* DMABUF_ATTR GET (attr NULL) or SET of one attribute; 0 or -errno */
static int dmabuf_attr(int dfd, const uint8_t *attr, dattr_t *out)
{
	uint64_t buf[(sizeof(struct vfio_device_feature) + sizeof(dattr_t)) / 8 + 1];
	struct vfio_device_feature *f = (void *)buf;
	dattr_t *a = (void *)f->data;

	memset(buf, 0, sizeof(buf));
	f->argsz = (uint32_t)(sizeof(*f) + sizeof(*a));
	f->flags = (attr ? VFIO_DEVICE_FEATURE_SET : VFIO_DEVICE_FEATURE_GET) |
		   VFIO_DEVICE_FEATURE_MEMATTR_DMABUF_ATTR;
	a->dmabuf_fd = dfd;
	if (attr) {
		a->nr_prefs = 1;
		a->prefs[0] = *attr;
	}
	if (ioctl(d.fd, VFIO_DEVICE_FEATURE, f) < 0)
		return -errno;
	if (out)
		*out = *a;
	return 0;
}

static int dmabuf_revoked(int dfd)
{
	dattr_t a;

	return !dmabuf_attr(dfd, NULL, &a) && (a.state & VFIO_MEMATTR_DMABUF_REVOKED);
}

/* ------------------------------------------------ operations */
struct ctx {
	struct vfio_device_feature_memattr_map h, blk;	/* a handle, the blocking NC handle */
	int have_h, have_blk;
	volatile uint8_t *p;	/* a mapping */
	size_t plen;
	void *q;		/* mremap's destination */
	int dfd;		/* a DMABUF */
	int sig;		/* signal of a touch */
	uint8_t from;		/* DMABUF SET: the attribute before */
};

struct op {
	const char *name;
	int dmabuf;		/* needs the DMABUF features; checks GET against PAT */
	int closed;		/* runs with the device fd closed */
	int (*setup)(struct ctx *c);
	int (*call)(struct ctx *c);	/* 0 or -errno; c->sig for a signal */
	int (*after_fail)(struct ctx *c);	/* op's own checks; 1 if fine */
	int (*after_ok)(struct ctx *c);
	void (*cleanup)(struct ctx *c);
	const int errs[4];	/* errnos allowed besides ENOMEM */
	int fails;		/* the call fails with this errno without a fault too */
	uint8_t attr;
	uint64_t off, len;
};

static const struct range r3[3] = {
	{ SLICE, 4 * PG }, { SLICE + 0x10000, 4 * PG }, { SLICE + 0x20000, 4 * PG },
};

/* touch every page of [p, p + len) by reading it; 0 or the signal */
static int touch(volatile uint8_t *p, size_t len)
{
	size_t o;
	uint64_t v;
	int s;

	for (o = 0; o < len; o += PG) {
		s = probe_access((volatile uint64_t *)(p + o), 0, 0, &v);
		if (s)
			return s;
	}
	return 0;
}

static void drop_map(struct ctx *c)
{
	if (c->p)
		munmap((void *)c->p, c->plen);
	c->p = NULL;
	if (c->q)
		munmap(c->q, c->plen);
	c->q = NULL;
}

static void drop_handles(struct ctx *c)
{
	if (c->have_h)
		ma_unmap(d.fd, c->h.handle);
	if (c->have_blk)
		ma_unmap(d.fd, c->blk.handle);
	c->have_h = c->have_blk = 0;
}

static void cleanup_all(struct ctx *c)
{
	drop_map(c);
	if (c->dfd >= 0)
		close(c->dfd);
	c->dfd = -1;
	drop_handles(c);
}

/* MAP */
static const struct op *cur;

static int call_map(struct ctx *c)
{
	int rc = ma_map1(d.fd, 2, cur->off, cur->len ? cur->len : bsz, cur->attr, &c->h);

	c->have_h = !rc;
	return rc;
}

/* UNMAP, mmap + touch, split, mremap: a WC handle of the slice's first 64 KiB */
static int setup_handle(struct ctx *c)
{
	int rc = ma_map1(d.fd, 2, SLICE, K64, VFIO_MEMATTR_WC, &c->h);

	c->have_h = !rc;
	return rc;
}

static int call_unmap(struct ctx *c)
{
	int rc = ma_unmap(d.fd, c->h.handle);

	c->have_h = !!rc;
	return rc;
}

/* mmap 64 KiB of the device fd at @off and touch its first page */
static int map_touch(struct ctx *c, uint64_t off)
{
	c->plen = K64;
	c->p = ma_map_fd(d.fd, off, K64);
	if (!c->p)
		return -errno;
	c->sig = touch(c->p, PG);
	return 0;
}

static int call_mmap_touch(struct ctx *c)
{
	return map_touch(c, c->h.mmap_offset);
}

/* after a failure of a call that mapped: the user mapping goes before the state is compared */
static int unmap_after_fail(struct ctx *c)
{
	drop_map(c);
	return 1;
}

static int setup_mapped(struct ctx *c)
{
	int rc = setup_handle(c);

	if (rc)
		return rc;
	c->plen = K64;
	c->p = ma_map_fd(d.fd, c->h.mmap_offset, K64);
	if (!c->p)
		return -errno;
	rc = touch(c->p, K64);
	if (rc) {
		tap_diag("setup: touch of the mapping: %s", sig_name(rc));
		return -EFAULT;
	}
	return 0;
}

static int call_split(struct ctx *c)
{
	return munmap((void *)(c->p + 4 * PG), 4 * PG) ? -errno : 0;
}

/* a failed munmap or mremap leaves the whole mapping as it was */
static int mapping_intact(struct ctx *c)
{
	int s = touch(c->p, c->plen);

	if (s)
		tap_diag("the mapping after the failed call: %s on a touch", sig_name(s));
	return !s;
}

static int split_ok(struct ctx *c)
{
	int s1 = touch(c->p, 4 * PG), s2 = touch(c->p + 8 * PG, 8 * PG);

	if (s1 || s2)
		tap_diag("after the split: %s / %s on a touch of what is left", sig_name(s1), sig_name(s2));
	return !s1 && !s2;
}

static int setup_mremap(struct ctx *c)
{
	int rc = setup_mapped(c);

	if (rc)
		return rc;
	c->q = mmap(NULL, K64, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (c->q == MAP_FAILED) {
		c->q = NULL;
		return -errno;
	}
	return 0;
}

/* move the middle 4 pages into the reservation: a split and a move_vma() */
static int call_mremap(struct ctx *c)
{
	void *r = mremap((void *)(c->p + 4 * PG), 4 * PG, 4 * PG, MREMAP_MAYMOVE | MREMAP_FIXED, c->q);

	return r == MAP_FAILED ? -errno : 0;
}

static int mremap_ok(struct ctx *c)
{
	int s = touch(c->q, 4 * PG);

	if (s)
		tap_diag("after mremap: %s on a touch of the moved pages", sig_name(s));
	return !s;
}

/* DMABUF export of three ranges */
static int call_export(struct ctx *c)
{
	int rc = dmabuf_export(r3, 3);

	if (rc >= 0)
		c->dfd = rc;
	return rc < 0 ? rc : 0;
}

/*
 * What GET reports agrees with the PAT list for every range, or the
 * DMABUF is revoked and holds no WC reservation.
 */
static int dmabuf_honest(struct ctx *c)
{
	dattr_t a;
	int rc = dmabuf_attr(c->dfd, NULL, &a), i, ok = 1;

	if (rc) {
		tap_diag("DMABUF_ATTR GET: %s", ma_errname(-rc));
		return 0;
	}
	for (i = 0; i < 3; i++) {
		uint64_t s = bp + r3[i].off, e = s + r3[i].len;
		bool good = (a.state & VFIO_MEMATTR_DMABUF_REVOKED) || a.attr != VFIO_MEMATTR_WC ?
			    pat_none_of(s, e, "write-combining") : pat_has_exact(s, e, "write-combining");

		/* the blocking NC handle overlaps range 2: no WC there either way */
		if (!good) {
			tap_diag("DMABUF reports %s%s, range %d [%#" PRIx64 "+%#" PRIx64 ") disagrees in the PAT list",
				 attr_name(a.attr), a.state & VFIO_MEMATTR_DMABUF_REVOKED ? " (revoked)" : "", i,
				 r3[i].off, r3[i].len);
			ok = 0;
		}
	}
	if (!(a.state & VFIO_MEMATTR_DMABUF_REVOKED) && a.attr != c->from) {
		tap_diag("failed SET changed the attribute: %s -> %s", attr_name(c->from), attr_name(a.attr));
		ok = 0;
	}
	return ok;
}

static int setup_dmabuf(struct ctx *c)
{
	int rc = call_export(c);
	uint8_t wc = VFIO_MEMATTR_WC;

	c->from = VFIO_MEMATTR_NC;
	if (!rc && cur->attr == VFIO_MEMATTR_NC) {	/* WC -> NC: make it WC first */
		rc = dmabuf_attr(c->dfd, &wc, NULL);
		c->from = VFIO_MEMATTR_WC;
	}
	return rc;
}

static int setup_blocked(struct ctx *c)
{
	int rc = setup_dmabuf(c);

	if (rc)
		return rc;
	rc = ma_map1(d.fd, 2, r3[2].off, PG, VFIO_MEMATTR_NC, &c->blk);
	c->have_blk = !rc;
	return rc;
}

static int call_set(struct ctx *c)
{
	uint8_t a = cur->attr;

	return dmabuf_attr(c->dfd, &a, NULL);
}

/* device open: the first device fd (the driver's open_device) */
static int setup_closed(struct ctx *c)
{
	(void)c;
	close(d.fd);
	d.fd = -1;
	return 0;
}

static int call_open(struct ctx *c)
{
	int fd;

	(void)c;
	if (d.mode == VDEV_CDEV)
		fd = vdev_get_fd(&d);
	else
		fd = ioctl(d.group, VFIO_GROUP_GET_DEVICE_FD, d.bdf);
	if (fd < 0)
		fd = -errno;
	if (fd >= 0)
		d.fd = fd;
	return fd < 0 ? fd : 0;
}

static void close_dev(struct ctx *c)
{
	cleanup_all(c);
	if (d.fd >= 0)
		close(d.fd);
	d.fd = -1;
}

/* legacy default WC: open, plain mmap of BAR2 at its region offset, touch */
static int setup_legacy(struct ctx *c)
{
	setup_closed(c);
	return sysfs_write_str(default_path, "2:wc");
}

static int call_legacy(struct ctx *c)
{
	int rc = call_open(c);

	return rc ? rc : map_touch(c, LEGACY(2) + SLICE);
}

static int legacy_ok(struct ctx *c)
{
	int ok = pat_exact(bp, bp + bsz, "write-combining");

	if (!ok)
		tap_diag("legacy mmap with default 2:wc: BAR2 is not write-combining in the PAT list");
	(void)c;
	return ok;
}

static const struct op ops[] = {
	{ .name = "MAP WC of the whole BAR2", .call = call_map, .attr = VFIO_MEMATTR_WC,
	  .errs = { EBUSY } },
	{ .name = "MAP WC of 64 KiB of BAR2", .call = call_map, .attr = VFIO_MEMATTR_WC,
	  .off = SLICE, .len = K64, .errs = { EBUSY } },
	{ .name = "MAP NC of the whole BAR2", .call = call_map, .attr = VFIO_MEMATTR_NC,
	  .errs = { EBUSY } },
	{ .name = "MAP NC of 64 KiB of BAR2", .call = call_map, .attr = VFIO_MEMATTR_NC,
	  .off = SLICE, .len = K64, .errs = { EBUSY } },
	{ .name = "UNMAP of a WC handle", .setup = setup_handle, .call = call_unmap },
	{ .name = "mmap of a WC handle + first touch", .setup = setup_handle, .call = call_mmap_touch,
	  .after_fail = unmap_after_fail },
	{ .name = "munmap of the middle of a handle's mapping (split)", .setup = setup_mapped,
	  .call = call_split, .after_fail = mapping_intact, .after_ok = split_ok },
	{ .name = "mremap of the middle of a handle's mapping (split + move)", .setup = setup_mremap,
	  .call = call_mremap, .after_fail = mapping_intact, .after_ok = mremap_ok },
	{ .name = "DMABUF export of 3 ranges", .dmabuf = 1, .call = call_export, .errs = { EBUSY } },
	{ .name = "DMABUF_ATTR SET NC -> WC, 3 ranges", .dmabuf = 1, .setup = setup_dmabuf, .call = call_set,
	  .attr = VFIO_MEMATTR_WC, .after_fail = dmabuf_honest, .errs = { EBUSY } },
	{ .name = "DMABUF_ATTR SET WC -> NC, 3 ranges", .dmabuf = 1, .setup = setup_dmabuf, .call = call_set,
	  .attr = VFIO_MEMATTR_NC, .after_fail = dmabuf_honest, .errs = { EBUSY } },
	{ .name = "DMABUF_ATTR SET NC -> WC, 3 ranges, the last blocked by an NC handle (rollback)",
	  .dmabuf = 1, .setup = setup_blocked, .call = call_set, .attr = VFIO_MEMATTR_WC,
	  .after_fail = dmabuf_honest, .errs = { EBUSY }, .fails = EBUSY },
	{ .name = "device open (first device fd)", .closed = 1, .setup = setup_closed, .call = call_open },
	{ .name = "legacy default 2:wc: open + legacy mmap + touch", .closed = 1, .setup = setup_legacy,
	  .call = call_legacy, .after_ok = legacy_ok, .errs = { EBUSY } },
};
#define NOPS ((int)(sizeof(ops) / sizeof(ops[0])))

static int op_tests(const struct op *o)
{
	return 3 + (o->dmabuf && o->after_fail ? 1 : 0);
}

static int errno_allowed(const struct op *o, int e)
{
	int i;

	if (e == ENOMEM)
		return 1;
	for (i = 0; i < 4; i++)
		if (o->errs[i] && o->errs[i] == e)
			return 1;
	return 0;
}

/* ------------------------------------------------ the walk */
/*
 * A call that absorbed a fault and succeeded may leave the BAR taken over
 * when handing it back to the core failed (pci_iomap() in the driver's
 * handback: the core's whole-BAR mapping is then missing).  The driver
 * tries again when the BAR is next empty: after one MAP and UNMAP the
 * state must be the old one.
 */
static int handback_healed(const struct snap *base)
{
	struct vfio_device_feature_memattr_map m;

	if (ma_map1(d.fd, 2, HEAL_OFF, MA_PAGE, VFIO_MEMATTR_WC, &m))
		return 0;
	ma_unmap(d.fd, m.handle);
	if (!snap_same(base, "after a MAP and UNMAP that tried the handback again"))
		return 0;
	tap_diag("  (BAR2 stayed taken over after a failed handback; the next MAP and UNMAP handed it back)");
	return 1;
}

static void walk(const struct op *o, const struct snap *fresh)
{
	struct ctx c = { .dfd = -1 };
	int n, rc, left, walked = 0, absorbed = 0, sigbus = 0, bad_errno = 0, bad_state = 0, bad_own = 0;
	int reports = 0, done = 0, revoked = 0, n_err[4] = { 0 }, n_enomem = 0;
	char what[96];

	cur = o;
	for (n = 1; n <= MAX_NTH && !done; n++) {
		struct snap before, base;
		int failed, i;

		if (!o->closed)
			snap_take(&base);
		memset(&c, 0, sizeof(c));
		c.dfd = -1;
		rc = o->setup ? o->setup(&c) : 0;
		if (rc) {
			tap_diag("%s: setup for N=%d: %s", o->name, n, ma_errname(-rc));
			bad_state++;
			cleanup_all(&c);
			break;
		}
		snap_take(&before);
		if (nth_set((unsigned int)n)) {
			tap_diag("fail-nth: %s", strerror(errno));
			bad_state++;
			break;
		}
		rc = o->call(&c);
		left = nth_get();
		nth_set(0);
		failed = rc || c.sig;
		snprintf(what, sizeof(what), "%s, N=%d", o->name, n);
		if (left != 0) {		/* the call made fewer than n injectable allocations */
			if (o->fails && rc == -o->fails) {
				if (o->after_fail && !o->after_fail(&c)) {
					tap_diag("  (%s, no fault consumed)", what);
					bad_own++;
				}
			} else if (failed) {
				tap_diag("%s: failed (%s%s) without an injected fault", what,
					 rc ? ma_errname(-rc) : "", sig_name(c.sig));
				bad_errno++;
			} else if (o->after_ok && !o->after_ok(&c)) {
				bad_own++;
			}
			done = 1;
		} else if (!failed) {
			absorbed++;		/* the allocation failed, the call got by */
			walked++;
			if (o->after_ok && !o->after_ok(&c))
				bad_own++;
		} else {
			walked++;
			if (c.sig) {
				if (c.sig == SIGBUS) {
					sigbus++;
				} else {
					tap_diag("%s: touch got %s", what, sig_name(c.sig));
					bad_errno++;
				}
			} else if (!errno_allowed(o, -rc)) {
				tap_diag("%s: errno %s", what, ma_errname(-rc));
				bad_errno++;
			} else if (-rc == ENOMEM) {
				n_enomem++;
			} else {
				for (i = 0; i < 4; i++)
					if (o->errs[i] == -rc)
						n_err[i]++;
			}
			if (o->after_fail && !o->after_fail(&c)) {
				tap_diag("  (%s)", what);
				bad_own++;
			}
			if (o->closed)		/* compared with the device closed */
				close_dev(&c);
			if (o->dmabuf && c.dfd >= 0 && dmabuf_revoked(c.dfd))
				revoked++;	/* SET revokes when a range lost its type: ranges given back */
			else if (!snap_same(&before, what))
				bad_state++;
		}
		rc = kmsg_reports();
		if (rc) {
			tap_diag("  (%s: %d kernel report(s))", what, rc);
			reports += rc > 0 ? rc : 1;
		}
		if (o->closed && d.fd >= 0) {
			close_dev(&c);
		} else {
			cleanup_all(&c);
		}
		/* also after a success: the call and its undoing leave the device as it was */
		if (!o->closed && !snap_same(&base, "after the call and its cleanup") &&
		    !(!failed && !left && handback_healed(&base))) {
			tap_diag("  (%s: %s; the device is reopened to go on)", what,
				 failed ? "after a failure" : left ? "after a success" :
				 "after a success with a fault injected and absorbed");
			bad_state++;
			close_dev(&c);
			if (call_open(&c))
				tap_diag("%s: reopening the device failed", o->name);
		}
		if (bad_state + bad_own + reports > 20) {
			tap_diag("%s: too many failures, walk stopped at N=%d", o->name, n);
			break;
		}
	}
	/* back to the state of a fresh open */
	if (o->closed) {
		if (o->setup == setup_legacy)
			sysfs_write_str(default_path, "2:nc");
		if (d.fd < 0 && call_open(&c))
			tap_diag("%s: reopening the device failed", o->name);
	}
	if (!snap_same(fresh, "after the walk, against a fresh open"))
		bad_state++;
	tap_diag("%s: %d injection points walked (%d absorbed, %d ENOMEM, %d %s, %d SIGBUS on the touch, "
		 "%d DMABUFs revoked)", o->name, walked, absorbed, n_enomem, n_err[0],
		 o->errs[0] ? ma_errname(o->errs[0]) : "other", sigbus, revoked);
	tap_ok(done && !bad_errno, "%s: %d injection points, each failure a clean errno (ENOMEM%s%s) or SIGBUS, "
	       "the walk ended with the call's own result (%s)", o->name, walked, o->errs[0] ? ", " : "",
	       o->errs[0] ? ma_errname(o->errs[0]) : "", o->fails ? ma_errname(o->fails) : "success");
	if (bad_own && !(o->dmabuf && o->after_fail)) {
		tap_diag("%s: %d failed checks of the mapping or the PAT list", o->name, bad_own);
		bad_state++;
	}
	tap_ok(!bad_state, "%s: nr_handles, PAT list of BAR2 and debugfs handles unchanged by each failure "
	       "(but a DMABUF revoked by SET) and after each call undone", o->name);
	if (o->dmabuf && o->after_fail)
		tap_ok(!bad_own, "%s: after each failed SET, GET's attribute is what the PAT list shows for every "
		       "range (or the DMABUF is revoked)", o->name);
	tap_ok(!reports, "%s: no kernel report (WARNING, BUG, KASAN, UBSAN, lockdep, refcount_t)", o->name);
}

int main(void)
{
	static const char *const leak_words[] = { "vfio", "memattr", NULL };
	struct snap fresh;
	int i, plan = 1, rc, have_dmabuf;
	char saved_default[64] = "";

	bdf = ma_bdf_or_skip("MEMATTR_IVSHMEM0");
	for (i = 0; i < NOPS; i++)
		plan += op_tests(&ops[i]);
	tap_plan(plan);
	nth_fd = open("/proc/thread-self/fail-nth", O_RDWR | O_CLOEXEC);
	if (nth_fd < 0) {
		tap_diag("/proc/thread-self/fail-nth: %s", strerror(errno));
		tap_skip_rest("no /proc/thread-self/fail-nth: this kernel has no CONFIG_FAULT_INJECTION "
			      "(only the lab's debug kernel has)");
		return tap_done();
	}
	snprintf(dbg_handles, sizeof(dbg_handles), "/sys/kernel/debug/vfio-pci-memattr/%s/handles", bdf);
	snprintf(dbg_stats, sizeof(dbg_stats), "/sys/kernel/debug/vfio-pci-memattr/%s/stats", bdf);
	snprintf(default_path, sizeof(default_path), "/sys/bus/pci/devices/%s/memattr_default", bdf);
	if (vdev_open(&d, bdf) || !ma_driver_present(d.fd) || ma_bar_phys(bdf, 2, &bp, &bsz) ||
	    bsz < 4 * MA_MIB || access(dbg_handles, R_OK) || sysfs_read_str(default_path, saved_default,
									      sizeof(saved_default))) {
		tap_fail_n(plan, "cannot open ivshmem0 with vfio-pci-memattr, or no BAR2 of 4 MiB, debugfs or memattr_default");
		return tap_done();
	}
	if (fi_setup()) {
		fi_restore();
		tap_fail_n(plan, "cannot configure failslab / fail_page_alloc in debugfs");
		return tap_done();
	}
	rc = kmemleak_begin();
	if (rc)
		tap_diag("kmemleak: %s", ma_errname(-rc));
	have_dmabuf = !ma_feat_raw(d.fd, VFIO_DEVICE_FEATURE_PROBE | VFIO_DEVICE_FEATURE_GET |
				   VFIO_DEVICE_FEATURE_MEMATTR_DMABUF, NULL, NULL, 0, 0);
	kmsg_mark();
	snap_take(&fresh);
	tap_diag("vfio mode %s; state of a fresh open: %d PAT entries on BAR2", d.mode == VDEV_CDEV ? "cdev" : "group",
		 fresh.pat.n);
	for (i = 0; i < NOPS; i++) {
		if (ops[i].dmabuf && !have_dmabuf) {
			tap_skip_rest_of(op_tests(&ops[i]), "no MEMATTR_DMABUF on this kernel");
			continue;
		}
		walk(&ops[i], &fresh);
	}
	fi_restore();
	vdev_close(&d);
	if (strcmp(saved_default, "2:wc"))	/* no change while the device is open */
		sysfs_write_str(default_path, saved_default[0] ? saved_default : "2:nc");

	rc = kmemleak_new(leak_words);
	if (rc == -ENOENT)
		tap_skip("no kmemleak in this kernel", "kmemleak: no new leak naming vfio or memattr");
	else
		tap_ok(rc == 0, "kmemleak: no new leak naming vfio or memattr (%d, scan %s)", rc < 0 ? 0 : rc,
		       rc < 0 ? ma_errname(-rc) : "ok");
	return tap_done();
}
