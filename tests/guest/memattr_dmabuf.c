// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * memattr_dmabuf - the DMABUF uAPI of vfio-pci-memattr (MEMATTR_DMABUF,
 * _DMABUF_ATTR, _DMABUF_REVOKE), with raw ioctls: export of one and of two
 * BAR ranges, the attribute (GET/SET, PAT list and user page table entries
 * telling the truth), fd passing to another process over SCM_RIGHTS, that
 * process's mmap and data (checked on the host), the /proc/PID/maps name,
 * revoke (SIGBUS, ENODEV, nothing held any more), reset and memory disable
 * (zap and refault with the same attribute), SET with live mmaps (EBUSY),
 * every bad input (its errno, nothing changed), the DMABUF outliving the
 * device fd and the driver's binding, and a fault/revoke race.
 *
 * Data written: ivshmem0 BAR2 [0x3e0000, 0x400000) only (128 KiB):
 *   0x3e0000-0x3e7fff  host-checked: two DMABUF ranges written by the
 *                      client process and the three gaps around them
 *                      (written by pwrite before);
 *   0x3e8000-0x3fffff  read back in the guest only (per case, see below).
 * The NVMe CMB (BAR2, 64 KiB at 8 MiB, not host-checked) for the reset
 * case and as the DMABUF of another device; edu BAR0 page 0 (NC export,
 * nothing written) for the WC policy.
 */
#define _GNU_SOURCE
#define _FILE_OFFSET_BITS 64
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/tap.h"
#include "lib/sysfs.h"
#include "lib/vfio.h"
#include "lib/memattr.h"
#include "lib/mmio.h"
#include "lib/sigbus.h"
#include "lib/hostcheck.h"
#include "lib/pat.h"
#include "lib/ptecheck.h"
#include "pattern.h"

#define NTESTS 106

#define PG		MA_PAGE
#define SLICE		0x3e0000ull
/* host-checked data area: gap, range 1, gap, range 2, gap */
#define G0_OFF		(SLICE + 0x0000)
#define G0_LEN		0x1000ull
#define R1_OFF		(SLICE + 0x1000)
#define R1_LEN		0x3000ull
#define G1_OFF		(SLICE + 0x4000)
#define G1_LEN		0x2000ull
#define R2_OFF		(SLICE + 0x6000)
#define R2_LEN		0x1000ull
#define G2_OFF		(SLICE + 0x7000)
#define G2_LEN		0x1000ull
#define SLICE_LEN_HC	0x8000ull	/* the host-checked area */
/* read back in the guest only */
#define B_OFF		(SLICE + 0x8000)	/* one-range export */
#define C_OFF		(SLICE + 0xa000)	/* memory disable */
#define D_OFF		(SLICE + 0xc000)	/* SET with live mmaps */
#define E_OFF		(SLICE + 0xe000)	/* bad inputs */
#define F_OFF		(SLICE + 0x10000)	/* outliving the device fd */
#define U_OFF		(SLICE + 0x12000)	/* unbind */
#define I_OFF		(SLICE + 0x14000)	/* feature 11 next to a DMABUF */
#define S_OFF		(SLICE + 0x18000)	/* race */
#define K8		0x2000ull
#define S_LEN		0x8000ull
#define CMB_OFF		(8 * MA_MIB)
#define K64		(64 * 1024ull)

#define SEED_G0		0xd0ab000000000001ull
#define SEED_G1		0xd0ab000000000002ull
#define SEED_G2		0xd0ab000000000003ull
#define SEED_R1		0xd0ab000000000004ull
#define SEED_R2		0xd0ab000000000005ull
#define SEED_R1_OLD	0xd0ab000000000006ull
#define SEED_R2_OLD	0xd0ab000000000007ull
#define SEED_C		0xd0ab000000000008ull
#define SEED_CMB	0xd0ab000000000009ull
#define SEED_CMB2	0xd0ab00000000000aull
#define SEED_E		0xd0ab00000000000bull
#define SEED_F		0xd0ab00000000000cull
#define SEED_U		0xd0ab00000000000dull

static const char *bdf, *nvme_bdf, *edu_bdf;
static uint64_t bp, bsz;		/* ivshmem0 BAR2 physical */
static struct vdev d;			/* ivshmem0 */
static struct pat_snap fresh;		/* PAT of BAR2 on a fresh open */
static int oracle;			/* the user-PTE oracle is loaded */

/* ------------------------------------------------------------ sections */
/* Every section reports exactly its number of lines, "not reached" padding. */
static int sec_start, sec_n;
static const char *sec_name;

static void sec_begin(const char *name, int n)
{
	sec_name = name;
	sec_start = tap_count();
	sec_n = n;
}

static void sec_end(void)
{
	int done = tap_count() - sec_start;

	if (done < sec_n) {
		char why[160];

		snprintf(why, sizeof(why), "%s: an earlier step failed", sec_name);
		tap_fail_n(sec_n - done, why);
	} else if (done > sec_n) {
		tap_diag("BUG: section %s reported %d lines, %d planned", sec_name, done, sec_n);
	}
}

/* The end of a section that holds one mapping @p of @len and one fd. */
static void sec_close(volatile uint8_t *p, size_t len, int fd)
{
	if (p)
		munmap((void *)p, len);
	if (fd >= 0)
		close(fd);
	sec_end();
}

/* ------------------------------------------------------------ raw uAPI */
struct range {
	uint64_t off, len;
};

/*
 * VFIO_DEVICE_FEATURE_MEMATTR_DMABUF with everything under control:
 * @nr_sent ranges are in the buffer, nr_ranges says @nr_ranges, argsz is
 * the exact size plus @argsz_adj.  Returns the fd, or -errno.
 */
static int export_raw(int fd, uint32_t feat, uint32_t index, uint32_t open_flags, uint32_t flags,
		      const struct range *r, uint32_t nr_ranges, uint32_t nr_sent, int argsz_adj)
{
	uint64_t buf[(sizeof(struct vfio_device_feature) +
		      sizeof(struct vfio_device_feature_memattr_dmabuf) +
		      (VFIO_MEMATTR_DMABUF_MAX_RANGES + 4) * sizeof(struct vfio_memattr_dma_range)) / 8 + 1];
	struct vfio_device_feature *f = (void *)buf;
	struct vfio_device_feature_memattr_dmabuf *x = (void *)f->data;
	size_t len;
	uint32_t i;
	int rc;

	if (nr_sent > VFIO_MEMATTR_DMABUF_MAX_RANGES + 4)
		return -E2BIG;
	len = sizeof(*f) + sizeof(*x) + nr_sent * sizeof(x->dma_ranges[0]);
	memset(buf, 0, sizeof(buf));
	f->argsz = (uint32_t)((long)len + argsz_adj);
	f->flags = feat ? feat : VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_MEMATTR_DMABUF;
	x->region_index = index;
	x->open_flags = open_flags;
	x->flags = flags;
	x->nr_ranges = nr_ranges;
	for (i = 0; i < nr_sent; i++) {
		x->dma_ranges[i].offset = r[i].off;
		x->dma_ranges[i].length = r[i].len;
	}
	rc = ioctl(fd, VFIO_DEVICE_FEATURE, f);
	return rc < 0 ? -errno : rc;
}

static int export_n(int fd, uint32_t index, uint32_t open_flags, const struct range *r, uint32_t n)
{
	return export_raw(fd, 0, index, open_flags, 0, r, n, n, 0);
}

static int export1(int fd, uint64_t off, uint64_t len)
{
	struct range r = { off, len };

	return export_n(fd, 2, O_RDWR | O_CLOEXEC, &r, 1);
}

typedef struct vfio_device_feature_memattr_dmabuf_attr dattr_t;

/* _DMABUF_ATTR GET or SET (@set) with the payload as given; 0 or -errno. */
static int attr_raw(int fd, int set, dattr_t *a, int argsz_adj)
{
	uint64_t buf[(sizeof(struct vfio_device_feature) + sizeof(dattr_t)) / 8 + 2];
	struct vfio_device_feature *f = (void *)buf;

	memset(buf, 0, sizeof(buf));
	f->argsz = (uint32_t)((long)(sizeof(*f) + sizeof(*a)) + argsz_adj);
	f->flags = (set ? VFIO_DEVICE_FEATURE_SET : VFIO_DEVICE_FEATURE_GET) |
		   VFIO_DEVICE_FEATURE_MEMATTR_DMABUF_ATTR;
	memcpy(f->data, a, sizeof(*a));
	if (ioctl(fd, VFIO_DEVICE_FEATURE, f) < 0)
		return -errno;
	memcpy(a, f->data, sizeof(*a));
	return 0;
}

static int attr_get(int fd, int dfd, dattr_t *out)
{
	memset(out, 0, sizeof(*out));
	out->dmabuf_fd = dfd;
	return attr_raw(fd, 0, out, 0);
}

static int attr_set(int fd, int dfd, const uint8_t *prefs, uint32_t n, dattr_t *out)
{
	dattr_t a;
	int rc;

	memset(&a, 0, sizeof(a));
	a.dmabuf_fd = dfd;
	a.nr_prefs = n;
	memcpy(a.prefs, prefs, n < VFIO_MEMATTR_MAX_PREFS ? n : VFIO_MEMATTR_MAX_PREFS);
	rc = attr_raw(fd, 1, &a, 0);
	if (out)
		*out = a;
	return rc;
}

static int attr_set1(int fd, int dfd, uint8_t attr, dattr_t *out)
{
	return attr_set(fd, dfd, &attr, 1, out);
}

static int revoke_raw(int fd, int dfd, uint32_t flags, int argsz_adj)
{
	uint64_t buf[4];
	struct vfio_device_feature *f = (void *)buf;
	struct vfio_device_feature_memattr_dmabuf_revoke r = { .dmabuf_fd = dfd, .flags = flags };

	memset(buf, 0, sizeof(buf));
	f->argsz = (uint32_t)((long)(sizeof(*f) + sizeof(r)) + argsz_adj);
	f->flags = VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_MEMATTR_DMABUF_REVOKE;
	memcpy(f->data, &r, sizeof(r));
	return ioctl(fd, VFIO_DEVICE_FEATURE, f) < 0 ? -errno : 0;
}

static int dmabuf_revoke(int fd, int dfd)
{
	return revoke_raw(fd, dfd, 0, 0);
}

static int probe_feat(int fd, uint32_t flags)
{
	struct vfio_device_feature f = { .argsz = sizeof(f), .flags = flags | VFIO_DEVICE_FEATURE_PROBE };

	return ioctl(fd, VFIO_DEVICE_FEATURE, &f) < 0 ? -errno : 0;
}

/* GET says @attr, @state (mask @smask), @size; diagnostics otherwise. */
static int attr_is(int fd, int dfd, uint32_t attr, uint32_t state, uint32_t smask, uint64_t size,
		   const char *what)
{
	dattr_t a;
	int rc = attr_get(fd, dfd, &a);

	if (rc) {
		tap_diag("%s: GET: %s", what, ma_errname(-rc));
		return 0;
	}
	if (a.attr != attr || (a.state & smask) != state || a.size != size) {
		tap_diag("%s: GET attr %u state 0x%x size 0x%llx; want attr %u state 0x%x (mask 0x%x) size 0x%llx",
			 what, a.attr, a.state, (unsigned long long)a.size, attr, state, smask,
			 (unsigned long long)size);
		return 0;
	}
	return 1;
}

/* Nothing is held on BAR2 any more: its PAT entries are those of a fresh open. */
static int pat_fresh(void)
{
	return pat_snap_same(bp, bp + bsz, &fresh);
}

/*
 * While BAR2 is held: a write-combining entry of exactly each BAR range in
 * @wc, and nothing else but (some of) the uncached-minus entries of a fresh
 * open (on 7.2 vfio-pci's whole-BAR entry of the open goes while a BAR is
 * taken over).
 */
static int pat_is(const struct range *wc, int n)
{
	struct pat_expect x[24];
	int i, k = 0;

	for (i = 0; i < fresh.n && k < 16; i++, k++) {
		x[k].start = fresh.e[i].start;
		x[k].end = fresh.e[i].end;
		x[k].type = fresh.e[i].type;
	}
	for (i = 0; i < n && k < 24; i++, k++) {
		x[k].start = bp + wc[i].off;
		x[k].end = bp + wc[i].off + wc[i].len;
		x[k].type = "write-combining";
	}
	return pat_check_bar(bp, bp + bsz, x, k, 1);
}

static int nr_handles_is(int want, const char *what)
{
	int n = ma_nr_handles(d.fd, 2);

	if (n != want)
		tap_diag("%s: BAR2 nr_handles %d, want %d", what, n, want);
	return n == want;
}

static volatile uint8_t *map_dmabuf(int dfd, size_t len, int prot)
{
	void *p = mmap(NULL, len, prot, MAP_SHARED, dfd, 0);

	return p == MAP_FAILED ? NULL : p;
}

/* mmap(2) of @dfd: 0 if it works (unmapped again), else -errno. */
static int mmap_try(int dfd, size_t len, off_t off, int prot, int flags)
{
	void *p = mmap(NULL, len, prot, flags, dfd, off);

	if (p == MAP_FAILED)
		return -errno;
	munmap(p, len);
	return 0;
}

/* ------------------------------------------------------------- client */
/*
 * The client is forked before any device is opened: it holds nothing of
 * the device but what it is sent.  It answers one command at a time.
 */
enum { C_RECV = 1, C_MMAP, C_FILL, C_CHECK, C_PROBE, C_MMAP_TRY, C_UNMAP, C_CLOSE, C_EXIT };

struct ccmd {
	uint32_t op, pad;
	uint64_t a, b, c;
};

struct crep {
	int64_t rc;
	uint64_t v;
};

static int csock = -1;
static pid_t cpid = -1;

static int64_t client_do(int fd, const struct ccmd *c, int *cfd, volatile uint8_t **map, size_t *mlen,
			 uint64_t *v)
{
	int s;

	switch (c->op) {
	case C_RECV: {
		char ctl[CMSG_SPACE(sizeof(int))];
		struct ccmd dummy;
		struct iovec iov = { &dummy, sizeof(dummy) };
		struct msghdr mh = { 0 };
		struct cmsghdr *cm;
		int nfd = -1;

		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		mh.msg_control = ctl;
		mh.msg_controllen = sizeof(ctl);
		if (recvmsg(fd, &mh, 0) != sizeof(dummy))
			return -EIO;
		for (cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm))
			if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS)
				memcpy(&nfd, CMSG_DATA(cm), sizeof(int));
		if (nfd < 0)
			return -EBADMSG;
		if (*cfd >= 0)
			close(*cfd);
		*cfd = nfd;
		return 0;
	}
	case C_MMAP: {
		void *p = mmap(NULL, c->a, (int)c->b, (int)c->c, *cfd, 0);

		if (p == MAP_FAILED)
			return -errno;
		*map = p;
		*mlen = c->a;
		*v = (uintptr_t)p;
		return 0;
	}
	case C_FILL:
		if (!*map)
			return -EINVAL;
		s = probe_access((volatile uint64_t *)(*map + c->a), 1, pattern_word(c->c, 0), NULL);
		if (s)
			return -s;
		mmio_fill(*map + c->a, c->b, c->c);
		mmio_sfence();
		return 0;
	case C_CHECK:
		if (!*map)
			return -EINVAL;
		s = probe_access((volatile uint64_t *)(*map + c->a), 0, 0, NULL);
		if (s)
			return -s;
		*v = mmio_check(*map + c->a, c->b, c->c);
		return *v == c->b;
	case C_PROBE:
		if (!*map)
			return -EINVAL;
		return probe_access((volatile uint64_t *)(*map + c->a), (int)c->b, 0x1111, NULL);
	case C_MMAP_TRY:
		return mmap_try(*cfd, c->a, 0, PROT_READ | PROT_WRITE, MAP_SHARED);
	case C_UNMAP:
		if (*map)
			munmap((void *)*map, *mlen);
		*map = NULL;
		return 0;
	case C_CLOSE:
		if (*cfd >= 0)
			close(*cfd);
		*cfd = -1;
		return 0;
	}
	return -EINVAL;
}

static void client_main(int fd)
{
	volatile uint8_t *map = NULL;
	size_t mlen = 0;
	int cfd = -1;

	for (;;) {
		struct ccmd c;
		struct crep r = { 0, 0 };
		ssize_t n = recv(fd, &c, sizeof(c), MSG_PEEK);

		if (n != sizeof(c))
			_exit(n == 0 ? 0 : 3);
		if (c.op == C_RECV) {
			r.rc = client_do(fd, &c, &cfd, &map, &mlen, &r.v);
		} else {
			if (recv(fd, &c, sizeof(c), 0) != sizeof(c))
				_exit(4);
			if (c.op == C_EXIT)
				_exit(0);
			r.rc = client_do(fd, &c, &cfd, &map, &mlen, &r.v);
		}
		if (send(fd, &r, sizeof(r), MSG_NOSIGNAL) != sizeof(r))
			_exit(5);
	}
}

/* One command to the client; its rc (or -EPIPE if it is gone). */
static int64_t ccall(uint32_t op, uint64_t a, uint64_t b, uint64_t c, uint64_t *v)
{
	struct ccmd cm = { op, 0, a, b, c };
	struct crep r;

	if (csock < 0 || send(csock, &cm, sizeof(cm), MSG_NOSIGNAL) != sizeof(cm))
		return -EPIPE;
	if (recv(csock, &r, sizeof(r), MSG_WAITALL) != sizeof(r))
		return -EPIPE;
	if (v)
		*v = r.v;
	return r.rc;
}

/* Send @dfd to the client with SCM_RIGHTS; its answer. */
static int64_t csend_fd(int dfd)
{
	struct ccmd cm = { C_RECV, 0, 0, 0, 0 };
	char ctl[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { &cm, sizeof(cm) };
	struct msghdr mh = { 0 };
	struct cmsghdr *c;
	struct crep r;

	memset(ctl, 0, sizeof(ctl));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = ctl;
	mh.msg_controllen = sizeof(ctl);
	c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &dfd, sizeof(int));
	if (csock < 0 || sendmsg(csock, &mh, MSG_NOSIGNAL) != sizeof(cm))
		return -EPIPE;
	if (recv(csock, &r, sizeof(r), MSG_WAITALL) != sizeof(r))
		return -EPIPE;
	return r.rc;
}

/* The pathname field of the /proc/@pid/maps line starting at @addr. */
static int maps_name(pid_t pid, uint64_t addr, uint64_t *end, char *name, size_t len)
{
	char path[64], line[512];
	FILE *f;
	int found = -ENOENT;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long s, e;
		int pos = 0;
		char *p;

		if (sscanf(line, "%llx-%llx %*s %*s %*s %*s %n", &s, &e, &pos) < 2 || !pos)
			continue;
		if (s != addr)
			continue;
		p = line + pos;
		p[strcspn(p, "\n")] = 0;
		snprintf(name, len, "%s", p);
		*end = e;
		found = 0;
		break;
	}
	fclose(f);
	return found;
}

/* ------------------------------------------------------------- unbinder */
static int ub_go = -1;
static pid_t ub_pid = -1;

/* ============================================================ cases */
static int dmabuf2 = -1;			/* R1 + R2 */
static volatile uint8_t *pmap2;		/* the owner's mapping of it */
static uint64_t cmap2;			/* the client's */

static const struct range r12[2] = { { R1_OFF, R1_LEN }, { R2_OFF, R2_LEN } };

/* 1: export, GET; 2: SET WC, PAT, PTE */
static void case_export(void)
{
	int fd1, base = 0, ok, rc, fl;
	dattr_t a;
	struct range b = { B_OFF, K8 };

	sec_begin("export", 11);
	ok = !probe_feat(d.fd, VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_MEMATTR_DMABUF) &&
	     !probe_feat(d.fd, VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_SET |
			 VFIO_DEVICE_FEATURE_MEMATTR_DMABUF_ATTR) &&
	     !probe_feat(d.fd, VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_MEMATTR_DMABUF_REVOKE);
	tap_ok(ok, "dmabuf: PROBE of MEMATTR_DMABUF (GET), _DMABUF_ATTR (GET|SET), _DMABUF_REVOKE (SET) -> 0");

	fd1 = export_n(d.fd, 2, O_RDWR | O_CLOEXEC, &b, 1);
	fl = fd1 >= 0 ? fcntl(fd1, F_GETFD) : -1;
	ok = fd1 >= 0 && fl >= 0 && (fl & FD_CLOEXEC) && nr_handles_is(base + 1, "one-range export");
	if (fd1 < 0)
		tap_diag("export: %s", ma_errname(-fd1));
	tap_ok(ok, "dmabuf: export of one 8 KiB range of BAR2 (O_RDWR|O_CLOEXEC) -> fd with FD_CLOEXEC, BAR2 nr_handles +1");
	tap_ok(fd1 >= 0 && attr_is(d.fd, fd1, VFIO_MEMATTR_NC, 0, ~0u, K8, "one range"),
	       "dmabuf: GET_ATTR of the one-range DMABUF: NC, state 0, size 8 KiB");
	tap_ok(fd1 >= 0 && pat_is(NULL, 0), "dmabuf: an NC DMABUF reserves nothing in the PAT list");
	if (fd1 >= 0)
		close(fd1);
	tap_ok(fd1 >= 0 && nr_handles_is(base, "after close"),
	       "dmabuf: closing the only fd of an unmapped DMABUF gives its range back (nr_handles as before)");

	dmabuf2 = export_n(d.fd, 2, O_RDWR | O_CLOEXEC, r12, 2);
	if (dmabuf2 < 0)
		tap_diag("export of two ranges: %s", ma_errname(-dmabuf2));
	tap_ok(dmabuf2 >= 0 && nr_handles_is(base + 2, "two-range export"),
	       "dmabuf: export of two ranges of BAR2 (12 KiB + 4 KiB, a gap between) -> fd, nr_handles +2");
	if (dmabuf2 < 0)
		goto out;
	tap_ok(attr_is(d.fd, dmabuf2, VFIO_MEMATTR_NC, 0, ~0u, R1_LEN + R2_LEN, "two ranges"),
	       "dmabuf: GET_ATTR of the two-range DMABUF: NC, state 0, size 16 KiB (the sum)");

	/* 2 */
	rc = attr_set1(d.fd, dmabuf2, VFIO_MEMATTR_WC, &a);
	ok = !rc && a.attr == VFIO_MEMATTR_WC &&
	     attr_is(d.fd, dmabuf2, VFIO_MEMATTR_WC, 0, ~0u, R1_LEN + R2_LEN, "after SET WC");
	if (rc)
		tap_diag("SET WC: %s", ma_errname(-rc));
	tap_ok(ok, "dmabuf: SET_ATTR WC of an unmapped DMABUF -> 0, answers WC, GET says WC");
	tap_ok(pat_is(r12, 2),
	       "dmabuf: PAT list: write-combining for exactly each range's physical range, nothing else on BAR2");

	pmap2 = map_dmabuf(dmabuf2, R1_LEN + R2_LEN, PROT_READ | PROT_WRITE);
	if (!pmap2) {
		tap_diag("owner mmap: %s", strerror(errno));
		tap_ok(0, "dmabuf: owner's mmap of the WC DMABUF: user PTEs WC at the BAR pages of both ranges");
	} else if (!oracle) {
		tap_skip("the user-PTE oracle (memattr_ptecheck) is not loaded",
			 "dmabuf: owner's mmap of the WC DMABUF: user PTEs WC at the BAR pages of both ranges");
	} else {
		const char *wc = pte_expected_mode(VFIO_MEMATTR_WC);

		ok = pte_is(pmap2, wc, bp + R1_OFF, "page 0 (range 1)") &&
		     pte_is(pmap2 + R1_LEN - PG, wc, bp + R1_OFF + R1_LEN - PG, "page 2 (range 1 end)") &&
		     pte_is(pmap2 + R1_LEN, wc, bp + R2_OFF, "page 3 (range 2)");
		tap_ok(ok, "dmabuf: owner's mmap of the WC DMABUF: user PTEs WC at the BAR pages of both ranges");
	}
	tap_ok(pmap2 && attr_is(d.fd, dmabuf2, VFIO_MEMATTR_WC, VFIO_MEMATTR_DMABUF_MAPPED,
				~0u, R1_LEN + R2_LEN, "mapped"),
	       "dmabuf: GET_ATTR while mmapped: WC, state MAPPED (not REVOKED)");
out:
	sec_end();
}

/* 3, 4: the client */
static void case_client(void)
{
	uint8_t *buf = malloc(SLICE_LEN_HC);
	uint64_t end = 0;
	char name[256] = "", want[128];
	int64_t rc;
	int ok;

	sec_begin("client", 5);
	if (!buf || dmabuf2 < 0 || cpid < 0)
		goto out;
	rc = csend_fd(dmabuf2);
	rc = rc ? rc : ccall(C_MMAP, R1_LEN + R2_LEN, PROT_READ | PROT_WRITE, MAP_SHARED, &cmap2);
	if (rc)
		tap_diag("client: %s", ma_errname((int)-rc));
	tap_ok(!rc, "dmabuf: a forked client gets the fd over a unix socket (SCM_RIGHTS) and mmaps it MAP_SHARED");
	if (rc)
		goto out;
	rc = ccall(C_FILL, 0, R1_LEN, SEED_R1, NULL);
	rc = rc ? rc : ccall(C_FILL, R1_LEN, R2_LEN, SEED_R2, NULL);
	rc = rc ? rc : ccall(C_CHECK, 0, R1_LEN, SEED_R1, NULL) == 1 ? 0 : -EIO;
	rc = rc ? rc : ccall(C_CHECK, R1_LEN, R2_LEN, SEED_R2, NULL) == 1 ? 0 : -EIO;
	tap_ok(!rc, "dmabuf: the client writes a seeded pattern over the whole DMABUF and reads it back");

	/* the owner sees it through the BAR (pread) and its own mapping */
	rc = region_pread(d.fd, 2, G0_OFF, buf, SLICE_LEN_HC);
	ok = !rc && buf_check(buf + (R1_OFF - G0_OFF), R1_LEN, SEED_R1) == R1_LEN &&
	     buf_check(buf + (R2_OFF - G0_OFF), R2_LEN, SEED_R2) == R2_LEN &&
	     buf_check(buf + (G0_OFF - G0_OFF), G0_LEN, SEED_G0) == G0_LEN &&
	     buf_check(buf + (G1_OFF - G0_OFF), G1_LEN, SEED_G1) == G1_LEN &&
	     buf_check(buf + (G2_OFF - G0_OFF), G2_LEN, SEED_G2) == G2_LEN;
	ok = ok && pmap2 && mmio_data_ok(pmap2, R1_LEN, SEED_R1, "owner mapping range 1") &&
	     mmio_data_ok(pmap2 + R1_LEN, R2_LEN, SEED_R2, "owner mapping range 2");
	if (ok) {
		ma_hostcheck(R1_OFF, R1_LEN, SEED_R1, "memattr_dmabuf: range 1 written by the client");
		ma_hostcheck(R2_OFF, R2_LEN, SEED_R2, "memattr_dmabuf: range 2 written by the client");
		ma_hostcheck(G0_OFF, G0_LEN, SEED_G0, "memattr_dmabuf: gap before range 1 untouched");
		ma_hostcheck(G1_OFF, G1_LEN, SEED_G1, "memattr_dmabuf: gap between the ranges untouched");
		ma_hostcheck(G2_OFF, G2_LEN, SEED_G2, "memattr_dmabuf: gap after range 2 untouched");
	} else {
		tap_diag("pread of the slice: %s", rc ? ma_errname((int)-rc) : "data differs");
	}
	tap_ok(ok, "dmabuf: the BAR holds the client's pattern exactly inside the ranges, the gaps untouched (pread, owner's mapping; host checks)");

	/* 4 */
	snprintf(want, sizeof(want), "/dmabuf:memattr %s BAR2 WC", bdf);
	rc = maps_name(cpid, cmap2, &end, name, sizeof(name));
	ok = !rc && !strcmp(name, want) && end == cmap2 + R1_LEN + R2_LEN;
	if (!ok)
		tap_diag("/proc/%d/maps at 0x%" PRIx64 ": %s '%s' end 0x%" PRIx64 "; want '%s'", (int)cpid, cmap2,
			 rc ? ma_errname((int)-rc) : "", name, end, want);
	tap_ok(ok, "dmabuf: /proc/<client>/maps names the 16 KiB mapping \"/dmabuf:memattr <bdf> BAR2 WC\"");
	rc = pmap2 ? maps_name(getpid(), (uintptr_t)pmap2, &end, name, sizeof(name)) : -EINVAL;
	ok = !rc && !strcmp(name, want);
	if (!ok)
		tap_diag("/proc/self/maps: %s '%s'", rc ? ma_errname((int)-rc) : "", name);
	tap_ok(ok, "dmabuf: /proc/self/maps names the owner's mapping the same");
out:
	free(buf);
	sec_end();
}

/* 5: revoke */
static void case_revoke(void)
{
	int64_t r, w;
	int rc, ok;
	dattr_t a;

	sec_begin("revoke", 9);
	if (dmabuf2 < 0 || !pmap2 || !cmap2)
		goto out;
	rc = dmabuf_revoke(d.fd, dmabuf2);
	tap_errno(rc, 0, "dmabuf: REVOKE by the owner of a DMABUF mapped by the client and the owner");
	r = ccall(C_PROBE, 0, 0, 0, NULL);
	w = ccall(C_PROBE, R1_LEN, 1, 0, NULL);
	if (r != SIGBUS || w != SIGBUS)
		tap_diag("client after revoke: read -> %s, write -> %s", sig_name((int)r), sig_name((int)w));
	tap_ok(r == SIGBUS && w == SIGBUS, "dmabuf: after REVOKE the client's next read and write get SIGBUS");
	if (oracle)
		tap_ok(pte_zapped(pmap2, "owner after revoke") && pte_zapped(pmap2 + R1_LEN, "owner range 2"),
		       "dmabuf: after REVOKE the owner's user PTEs are gone before any access (oracle: not populated)");
	else
		tap_skip("the user-PTE oracle (memattr_ptecheck) is not loaded",
			 "dmabuf: after REVOKE the owner's user PTEs are gone before any access (oracle: not populated)");
	tap_ok(sigbus_rw(pmap2, "owner after revoke") && sigbus_rw(pmap2 + R1_LEN, "owner range 2 after revoke"),
	       "dmabuf: after REVOKE the owner's own mapping gets SIGBUS on read and write, in both ranges");
	r = ccall(C_MMAP_TRY, R1_LEN + R2_LEN, 0, 0, NULL);
	rc = mmap_try(dmabuf2, PG, 0, PROT_READ, MAP_SHARED);
	if (r != -ENODEV || rc != -ENODEV)
		tap_diag("mmap after revoke: client %s, owner %s", ma_errname((int)-r), ma_errname(-rc));
	tap_ok(r == -ENODEV && rc == -ENODEV, "dmabuf: after REVOKE a new mmap fails with ENODEV (client and owner)");
	{
		char name[256] = "", want[128];
		uint64_t end = 0;

		snprintf(want, sizeof(want), "/dmabuf:memattr %s revoked", bdf);
		rc = maps_name(cpid, cmap2, &end, name, sizeof(name));
		if (rc || strcmp(name, want))
			tap_diag("/proc/%d/maps after revoke: %s '%s'; want '%s'", (int)cpid,
				 rc ? ma_errname(-rc) : "", name, want);
		tap_ok(!rc && !strcmp(name, want),
		       "dmabuf: after REVOKE /proc/<client>/maps names the mapping \"/dmabuf:memattr <bdf> revoked\"");
	}
	tap_ok(attr_is(d.fd, dmabuf2, VFIO_MEMATTR_WC, VFIO_MEMATTR_DMABUF_REVOKED, VFIO_MEMATTR_DMABUF_REVOKED,
		       R1_LEN + R2_LEN, "revoked"),
	       "dmabuf: GET_ATTR after REVOKE: REVOKED, the last attribute (WC), size 16 KiB");
	tap_ok(pat_fresh() && nr_handles_is(0, "after revoke"),
	       "dmabuf: after REVOKE the PAT entries are gone and BAR2 nr_handles drops back to 0 (mappings still exist)");
	rc = dmabuf_revoke(d.fd, dmabuf2);
	ok = rc == -EBADFD;
	if (!ok)
		tap_diag("second REVOKE: %s", ma_errname(-rc));
	rc = attr_set1(d.fd, dmabuf2, VFIO_MEMATTR_NC, &a);
	if (rc != -ENODEV)
		tap_diag("SET of a revoked DMABUF: %s", ma_errname(-rc));
	tap_ok(ok && rc == -ENODEV && pat_fresh(),
	       "dmabuf: REVOKE of a revoked DMABUF -> EBADFD; SET_ATTR of it -> ENODEV; PAT unchanged");
out:
	if (cmap2) {
		ccall(C_UNMAP, 0, 0, 0, NULL);
		ccall(C_CLOSE, 0, 0, 0, NULL);
	}
	if (pmap2)
		munmap((void *)pmap2, R1_LEN + R2_LEN);
	pmap2 = NULL;
	if (dmabuf2 >= 0)
		close(dmabuf2);
	dmabuf2 = -1;
	sec_end();
}

/* 6a: memory disable on ivshmem0 */
static void case_memdisable(void)
{
	const struct range c = { C_OFF, K8 };
	volatile uint8_t *p = NULL;
	int fd, rc, ok;

	sec_begin("memory disable", 5);
	fd = export1(d.fd, C_OFF, K8);
	rc = fd < 0 ? fd : attr_set1(d.fd, fd, VFIO_MEMATTR_WC, NULL);
	p = rc ? NULL : map_dmabuf(fd, K8, PROT_READ | PROT_WRITE);
	if (p) {
		mmio_fill(p, K8, SEED_C);
		mmio_sfence();
	}
	ok = p && mmio_data_ok(p, K8, SEED_C, "before disable") && pat_is(&c, 1);
	if (!p)
		tap_diag("setup: %s / %s", ma_errname(-rc), strerror(errno));
	tap_ok(ok, "dmabuf: WC DMABUF mmapped by the owner, pattern written and read back, PAT exact");
	if (!p)
		goto out;
	rc = cmd_memory(d.fd, 0);
	ok = !rc && sigbus_rw(p, "memory disabled");
	tap_ok(ok, "dmabuf: memory disabled (PCI_COMMAND_MEMORY cleared via the config region): access gets SIGBUS");
	tap_ok(attr_is(d.fd, fd, VFIO_MEMATTR_WC, 0, VFIO_MEMATTR_DMABUF_REVOKED, K8, "memory disabled"),
	       "dmabuf: memory disabled: GET_ATTR still WC and not REVOKED");
	rc = cmd_memory(d.fd, 1);
	ok = !rc && mmio_data_ok(p, K8, SEED_C, "memory enabled again") && pat_is(&c, 1);
	tap_ok(ok, "dmabuf: memory enabled again: the mapping refaults, data intact, PAT still exactly WC");
	if (oracle)
		tap_ok(pte_is(p, pte_expected_mode(VFIO_MEMATTR_WC), bp + C_OFF, "after re-enable"),
		       "dmabuf: memory enabled again: the refaulted user PTE is WC at the BAR page");
	else
		tap_skip("the user-PTE oracle (memattr_ptecheck) is not loaded",
			 "dmabuf: memory enabled again: the refaulted user PTE is WC at the BAR page");
out:
	sec_close(p, K8, fd);
}

/* 6b: VFIO_DEVICE_RESET on the NVMe CMB (ivshmem has no reset) */
static void case_reset(struct vdev *nv, int nv_bar, uint64_t nv_phys)
{
	volatile uint8_t *p = NULL;
	int fd = -1, rc, ok;

	sec_begin("reset", 4);
	if (nv_bar < 0 || !(nv->info.flags & VFIO_DEVICE_FLAGS_RESET)) {
		tap_skip_rest_of(4, "the NVMe device has no VFIO_DEVICE_RESET or no CMB BAR");
		sec_end();
		return;
	}
	{
		struct range r = { CMB_OFF, K64 };

		fd = export_n(nv->fd, (uint32_t)nv_bar, O_RDWR | O_CLOEXEC, &r, 1);
	}
	rc = fd < 0 ? fd : attr_set1(nv->fd, fd, VFIO_MEMATTR_WC, NULL);
	p = rc ? NULL : map_dmabuf(fd, K64, PROT_READ | PROT_WRITE);
	if (p) {
		mmio_fill(p, K64, SEED_CMB);
		mmio_sfence();
	}
	ok = p && mmio_data_ok(p, K64, SEED_CMB, "CMB before reset") &&
	     (!oracle || pte_is(p, pte_expected_mode(VFIO_MEMATTR_WC), nv_phys + CMB_OFF, "CMB before reset"));
	if (!p)
		tap_diag("setup: %s / %s", ma_errname(-rc), strerror(errno));
	tap_ok(ok, "dmabuf: WC DMABUF of the NVMe CMB mmapped, data written and read back%s",
	       oracle ? ", user PTE WC" : "");
	if (!p)
		goto out;
	rc = ioctl(nv->fd, VFIO_DEVICE_RESET) ? -errno : 0;
	tap_errno(rc, 0, "dmabuf: VFIO_DEVICE_RESET of the NVMe device with the DMABUF mapped");
	if (oracle)
		tap_ok(pte_zapped(p, "after reset") && pte_zapped(p + K64 - PG, "after reset, last page"),
		       "dmabuf: the reset zapped the DMABUF mapping (oracle: not populated before the next access)");
	else
		tap_skip("the user-PTE oracle (memattr_ptecheck) is not loaded",
			 "dmabuf: the reset zapped the DMABUF mapping (oracle: not populated before the next access)");
	ok = probe_access((volatile uint64_t *)p, 0, 0, NULL) == 0;
	if (ok) {
		size_t kept = mmio_check(p, K64, SEED_CMB);

		tap_diag("CMB after reset: %s", kept == K64 ? "old data still there" : "old data gone");
		mmio_fill(p, K64, SEED_CMB2);
		mmio_sfence();
		ok = mmio_data_ok(p, K64, SEED_CMB2, "CMB after reset") &&
		     (!oracle || pte_is(p, pte_expected_mode(VFIO_MEMATTR_WC), nv_phys + CMB_OFF, "after reset")) &&
		     attr_is(nv->fd, fd, VFIO_MEMATTR_WC, VFIO_MEMATTR_DMABUF_MAPPED,
			     VFIO_MEMATTR_DMABUF_MAPPED | VFIO_MEMATTR_DMABUF_REVOKED, K64, "after reset");
	} else {
		tap_diag("access after reset raised a signal");
	}
	tap_ok(ok, "dmabuf: after the reset the mapping refaults with the same attribute: data written and read, %sGET WC, not revoked",
	       oracle ? "user PTE WC, " : "");
out:
	if (p)
		munmap((void *)p, K64);
	if (fd >= 0)
		close(fd);
	sec_end();
}

/* 7: SET with live mmaps */
static void case_set_busy(void)
{
	const struct range r = { D_OFF, K8 };
	volatile uint8_t *p = NULL;
	uint8_t nc_wc[2] = { VFIO_MEMATTR_NC, VFIO_MEMATTR_WC };
	dattr_t a;
	int fd, rc, ok;

	sec_begin("set", 7);
	fd = export1(d.fd, D_OFF, K8);
	rc = fd < 0 ? fd : attr_set1(d.fd, fd, VFIO_MEMATTR_WC, NULL);
	p = rc ? NULL : map_dmabuf(fd, K8, PROT_READ | PROT_WRITE);
	ok = p && probe_access((volatile uint64_t *)p, 0, 0, NULL) == 0 &&
	     attr_is(d.fd, fd, VFIO_MEMATTR_WC, VFIO_MEMATTR_DMABUF_MAPPED, ~0u, K8, "mapped");
	if (!p)
		tap_diag("setup: %s / %s", ma_errname(-rc), strerror(errno));
	tap_ok(ok, "dmabuf: WC DMABUF mmapped and touched, GET_ATTR: WC, MAPPED");
	if (!p)
		goto out;
	rc = attr_set1(d.fd, fd, VFIO_MEMATTR_NC, &a);
	ok = rc == -EBUSY && attr_is(d.fd, fd, VFIO_MEMATTR_WC, VFIO_MEMATTR_DMABUF_MAPPED, ~0u, K8, "after EBUSY") &&
	     pat_is(&r, 1) && (!oracle || pte_is(p, pte_expected_mode(VFIO_MEMATTR_WC), bp + D_OFF, "after EBUSY"));
	if (rc != -EBUSY)
		tap_diag("SET NC with a live WC mmap: %s", ma_errname(-rc));
	tap_ok(ok, "dmabuf: SET_ATTR NC while a WC mmap lives -> EBUSY; attribute, PAT%s unchanged",
	       oracle ? " and user PTE" : "");
	rc = attr_set1(d.fd, fd, VFIO_MEMATTR_WC, &a);
	ok = !rc && a.attr == VFIO_MEMATTR_WC && pat_is(&r, 1);
	tap_errno(ok ? 0 : (rc ? rc : -EIO), 0, "dmabuf: SET_ATTR WC (the attribute in force) while mmapped, answers WC, PAT unchanged");
	rc = attr_set(d.fd, fd, nc_wc, 2, &a);
	ok = !rc && a.attr == VFIO_MEMATTR_WC && pat_is(&r, 1);
	if (rc || a.attr != VFIO_MEMATTR_WC)
		tap_diag("SET [NC, WC] while mmapped: %s, attr %u", ma_errname(-rc), a.attr);
	tap_ok(ok, "dmabuf: SET_ATTR [NC, WC] while mmapped -> 0 with WC, the first preference that can be honoured");
	munmap((void *)p, K8);
	p = NULL;
	ok = attr_is(d.fd, fd, VFIO_MEMATTR_WC, 0, VFIO_MEMATTR_DMABUF_MAPPED, K8, "after munmap");
	rc = attr_set1(d.fd, fd, VFIO_MEMATTR_NC, &a);
	ok = ok && !rc && a.attr == VFIO_MEMATTR_NC && pat_is(NULL, 0) &&
	     attr_is(d.fd, fd, VFIO_MEMATTR_NC, 0, ~0u, K8, "after SET NC");
	if (rc)
		tap_diag("SET NC after munmap: %s", ma_errname(-rc));
	tap_ok(ok, "dmabuf: after munmap MAPPED is clear, SET_ATTR NC -> 0, and the PAT write-combining entry is gone");
	rc = attr_set1(d.fd, fd, VFIO_MEMATTR_DEV, &a);
	p = rc ? NULL : map_dmabuf(fd, K8, PROT_READ | PROT_WRITE);
	ok = !rc && a.attr == VFIO_MEMATTR_DEV && p && pat_is(NULL, 0) &&
	     (!oracle || pte_is(p, pte_expected_mode(VFIO_MEMATTR_DEV), bp + D_OFF, "DEV"));
	if (rc)
		tap_diag("SET DEV: %s", ma_errname(-rc));
	tap_ok(ok, "dmabuf: SET_ATTR DEV -> 0, mmapped: no PAT entry%s", oracle ? ", user PTE UC-" : "");
	if (p)
		munmap((void *)p, K8);
	p = NULL;
	close(fd);
	fd = -1;
	tap_ok(nr_handles_is(0, "after close") && pat_fresh(),
	       "dmabuf: unmapped and closed: nr_handles 0, PAT as on a fresh open");
out:
	sec_close(p, K8, fd);
}

/* 8: bad inputs */
struct bad_ctx {
	int base;
	struct pat_snap pat;
};

static void bad_begin(struct bad_ctx *c)
{
	c->base = ma_nr_handles(d.fd, 2);
	pat_snap_take(bp, bp + bsz, &c->pat);
}

/* rc is the answer of a call that must fail with @want and change nothing. */
static void bad_check(struct bad_ctx *c, int rc, int want, int is_export, const char *desc)
{
	int n, ok;

	if (is_export && rc >= 0)
		close(rc);
	n = ma_nr_handles(d.fd, 2);
	ok = rc == -want && n == c->base;
	if (rc != -want)
		tap_diag("%s: got %s, want %s", desc, rc >= 0 ? "success" : ma_errname(-rc), ma_errname(want));
	if (n != c->base)
		tap_diag("%s: nr_handles %d, was %d", desc, n, c->base);
	ok = pat_snap_same(bp, bp + bsz, &c->pat) && ok;
	tap_ok(ok, "dmabuf: %s -> %s, nr_handles and PAT unchanged", desc, ma_errname(want));
}

static int empty_bar(void)
{
	unsigned int bar;

	for (bar = 1; bar < 6; bar++) {
		uint64_t s = 0, sz = 0;

		if (!ma_bar_phys(bdf, bar, &s, &sz) && sz == 0)
			return (int)bar;
	}
	return -1;
}

static void case_bad(struct vdev *nv, int nv_bar, struct vdev *edu)
{
	struct bad_ctx c;
	const struct range e1 = { E_OFF, PG }, e2 = { E_OFF + PG, PG };
	struct range r[VFIO_MEMATTR_DMABUF_MAX_RANGES + 1];
	struct vfio_device_feature_memattr_map hm;
	int fd = -1, nfd = -1, pfd[2] = { -1, -1 }, mfd = -1, rc, i, eb;
	dattr_t a;
	char desc[160];

	sec_begin("bad inputs", 48);
	bad_begin(&c);
	/* export */
	rc = export_raw(d.fd, 0, 2, O_RDWR, 0, &e1, 1, 0, -(int)sizeof(struct vfio_device_feature_memattr_dmabuf));
	bad_check(&c, rc, EINVAL, 1, "export with argsz of the feature header only");
	rc = export_raw(d.fd, 0, 2, O_RDWR, 0, &e1, 1, 1, -(int)sizeof(struct vfio_memattr_dma_range));
	bad_check(&c, rc, EINVAL, 1, "export with argsz missing the one range");
	rc = export_raw(d.fd, 0, 2, O_RDWR, 0, r12, 2, 2, -(int)sizeof(struct vfio_memattr_dma_range));
	bad_check(&c, rc, EINVAL, 1, "export of two ranges with argsz covering one");
	rc = export_raw(d.fd, 0, 2, O_RDWR, 1, &e1, 1, 1, 0);
	bad_check(&c, rc, EINVAL, 1, "export with flags 1");
	rc = export_raw(d.fd, 0, 2, O_RDWR | 0x40000000u, 0, &e1, 1, 1, 0);
	bad_check(&c, rc, EINVAL, 1, "export with open_flags O_RDWR|0x40000000");
	/* O_WRONLY: an fd that could never be mmapped (mmap needs read). */
	rc = export_raw(d.fd, 0, 2, O_WRONLY, 0, &e1, 1, 1, 0);
	if (rc >= 0)
		close(rc);
	bad_check(&c, rc, EINVAL, 1, "export with open_flags O_WRONLY");
	rc = export_raw(d.fd, 0, 6, O_RDWR, 0, &e1, 1, 1, 0);
	bad_check(&c, rc, EINVAL, 1, "export of region index 6");
	rc = export_raw(d.fd, 0, VFIO_MEMATTR_HANDLE_INDEX_BASE, O_RDWR, 0, &e1, 1, 1, 0);
	bad_check(&c, rc, EINVAL, 1, "export of region index 0x10000 (a handle index)");
	eb = empty_bar();
	if (eb > 0) {
		const struct range z = { 0, PG };

		rc = export_raw(d.fd, 0, (uint32_t)eb, O_RDWR, 0, &z, 1, 1, 0);
		snprintf(desc, sizeof(desc), "export of unimplemented BAR%d", eb);
		bad_check(&c, rc, EOPNOTSUPP, 1, desc);
	} else {
		tap_skip("ivshmem0 has no unimplemented BAR", "dmabuf: export of an unimplemented BAR");
	}
	rc = export_raw(d.fd, 0, 2, O_RDWR, 0, &e1, 0, 0, 0);
	bad_check(&c, rc, EINVAL, 1, "export with nr_ranges 0");
	for (i = 0; i < VFIO_MEMATTR_DMABUF_MAX_RANGES + 1; i++) {
		r[i].off = S_OFF + (uint64_t)(i % 8) * PG;
		r[i].len = PG;
	}
	rc = export_raw(d.fd, 0, 2, O_RDWR, 0, r, VFIO_MEMATTR_DMABUF_MAX_RANGES + 1,
			VFIO_MEMATTR_DMABUF_MAX_RANGES + 1, 0);
	bad_check(&c, rc, EINVAL, 1, "export with nr_ranges 65 (argsz covering them)");
	{
		struct range bads[7] = {
			{ E_OFF + 0x800, PG }, { E_OFF, 0x800 }, { E_OFF, 0 },
			{ 0xfffffffffffff000ull, 0x2000 }, { E_OFF, 0xfffffffffffff000ull },
			{ bsz - PG, 2 * PG }, { bsz, PG },
		};
		static const char *const what[7] = {
			"an unaligned offset", "an unaligned length", "length 0",
			"offset + length overflowing (0xfffffffffffff000 + 0x2000)",
			"offset + length overflowing (slice + 0xfffffffffffff000)",
			"a range past the end of BAR2 (last page + 1)", "a range at the end of BAR2",
		};

		for (i = 0; i < 7; i++) {
			rc = export_raw(d.fd, 0, 2, O_RDWR, 0, &bads[i], 1, 1, 0);
			snprintf(desc, sizeof(desc), "export of %s", what[i]);
			bad_check(&c, rc, EINVAL, 1, desc);
		}
		r[0] = e1;
		r[1] = bads[0];
		rc = export_n(d.fd, 2, O_RDWR, r, 2);
		bad_check(&c, rc, EINVAL, 1, "export of a good range and an unaligned one (the good one not kept)");
	}
	/* a live WC handle */
	rc = ma_map1(d.fd, 2, e2.off, PG, VFIO_MEMATTR_WC, &hm);
	if (rc) {
		tap_diag("MAP WC of the slice's page: %s", ma_errname(-rc));
		tap_fail_n(2, "MAP WC of a page of the slice failed");
	} else {
		bad_begin(&c);
		rc = export1(d.fd, e2.off, PG);
		bad_check(&c, rc, EBUSY, 1, "NC export of the range of a live WC MEMATTR_MAP handle");
		r[0] = e1;
		r[1] = e2;
		rc = export_n(d.fd, 2, O_RDWR, r, 2);
		bad_check(&c, rc, EBUSY, 1, "NC export of a free range plus the range of a WC handle");
		ma_unmap(d.fd, hm.handle);
	}
	bad_begin(&c);

	/* ATTR, REVOKE; fd: a good NC DMABUF of E */
	fd = export1(d.fd, E_OFF, PG);
	if (fd < 0) {
		tap_diag("export of E: %s", ma_errname(-fd));
		goto out;
	}
	bad_begin(&c);
	rc = ma_map1(d.fd, 2, E_OFF, PG, VFIO_MEMATTR_WC, &hm);
	if (!rc)
		ma_unmap(d.fd, hm.handle);
	bad_check(&c, rc, EBUSY, 0, "MAP WC of the range of a live NC DMABUF");
	rc = attr_get(d.fd, -1, &a);
	bad_check(&c, rc, EINVAL, 0, "GET_ATTR of dmabuf_fd -1");
	rc = pipe(pfd) ? -errno : attr_get(d.fd, pfd[0], &a);
	bad_check(&c, rc, EINVAL, 0, "GET_ATTR of a pipe fd");
	mfd = memfd_create("memattr_dmabuf", MFD_CLOEXEC);
	rc = mfd < 0 ? -errno : attr_set1(d.fd, mfd, VFIO_MEMATTR_WC, &a);
	bad_check(&c, rc, EINVAL, 0, "SET_ATTR of a memfd");
	memset(&a, 0, sizeof(a));
	a.dmabuf_fd = fd;
	a.flags = 1;
	rc = attr_raw(d.fd, 0, &a, 0);
	bad_check(&c, rc, EINVAL, 0, "GET_ATTR with flags 1");
	memset(&a, 0, sizeof(a));
	a.dmabuf_fd = fd;
	a.nr_prefs = 1;
	a.prefs[0] = VFIO_MEMATTR_WC;
	a.reserved = 1;
	rc = attr_raw(d.fd, 1, &a, 0);
	bad_check(&c, rc, EINVAL, 0, "SET_ATTR WC with reserved 1");
	a.reserved = 0;
	rc = attr_raw(d.fd, 1, &a, -4);
	bad_check(&c, rc, EINVAL, 0, "SET_ATTR WC with argsz 4 bytes short");
	a.nr_prefs = 0;
	rc = attr_raw(d.fd, 1, &a, 0);
	bad_check(&c, rc, EINVAL, 0, "SET_ATTR with nr_prefs 0");
	a.nr_prefs = 9;
	rc = attr_raw(d.fd, 1, &a, 0);
	bad_check(&c, rc, EINVAL, 0, "SET_ATTR with nr_prefs 9");
	a.nr_prefs = 1;
	a.prefs[0] = 3;
	rc = attr_raw(d.fd, 1, &a, 0);
	bad_check(&c, rc, EINVAL, 0, "SET_ATTR with prefs {3}");
	a.prefs[0] = VFIO_MEMATTR_WC;
	a.prefs[1] = VFIO_MEMATTR_WC;
	rc = attr_raw(d.fd, 1, &a, 0);
	bad_check(&c, rc, EINVAL, 0, "SET_ATTR with nr_prefs 1 and a non-zero unused prefs[1]");
	memset(&a, 0, sizeof(a));
	a.dmabuf_fd = fd;
	a.nr_prefs = 1;
	rc = attr_raw(d.fd, 0, &a, 0);
	bad_check(&c, rc, EINVAL, 0, "GET_ATTR with nr_prefs 1");
	rc = revoke_raw(d.fd, fd, 1, 0);
	bad_check(&c, rc, EINVAL, 0, "REVOKE with flags 1");
	rc = revoke_raw(d.fd, -1, 0, 0);
	bad_check(&c, rc, EINVAL, 0, "REVOKE of dmabuf_fd -1");
	rc = revoke_raw(d.fd, fd, 0, -4);
	bad_check(&c, rc, EINVAL, 0, "REVOKE with argsz 4 bytes short");
	tap_ok(attr_is(d.fd, fd, VFIO_MEMATTR_NC, 0, ~0u, PG, "after the bad calls"),
	       "dmabuf: after the refused ATTR/REVOKE calls the DMABUF is still NC, not revoked, not mapped");

	/* a DMABUF of another device */
	if (nv_bar >= 0) {
		struct range nr = { CMB_OFF, PG };

		nfd = export_n(nv->fd, (uint32_t)nv_bar, O_RDWR | O_CLOEXEC, &nr, 1);
	}
	if (nfd < 0) {
		tap_diag("NVMe export: %s", ma_errname(-nfd));
		tap_fail_n(3, "no DMABUF of the NVMe device");
	} else {
		rc = attr_get(d.fd, nfd, &a);
		bad_check(&c, rc, ENODEV, 0, "GET_ATTR on ivshmem0 of a DMABUF of the NVMe device");
		rc = attr_set1(d.fd, nfd, VFIO_MEMATTR_WC, &a);
		bad_check(&c, rc, ENODEV, 0, "SET_ATTR on ivshmem0 of a DMABUF of the NVMe device");
		rc = dmabuf_revoke(d.fd, nfd);
		if (rc == -ENODEV &&
		    !attr_is(nv->fd, nfd, VFIO_MEMATTR_NC, 0, VFIO_MEMATTR_DMABUF_REVOKED, PG, "NVMe DMABUF"))
			rc = -EIO;
		bad_check(&c, rc, ENODEV, 0,
			  "REVOKE on ivshmem0 of a DMABUF of the NVMe device (it stays NC, unrevoked)");
	}

	/* policy: WC on a non-prefetchable BAR without the opt-in */
	{
		char path[160], v[16] = "";
		int efd;
		struct range er = { 0, PG };

		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/memattr_nonprefetchable_wc", edu_bdf);
		efd = edu->fd >= 0 ? export_n(edu->fd, 0, O_RDWR | O_CLOEXEC, &er, 1) : -ENODEV;
		if (efd < 0 || sysfs_read_str(path, v, sizeof(v)) || strcmp(v, "0")) {
			tap_diag("edu export: %s; %s = '%s'", ma_errname(-efd), path, v);
			if (efd >= 0)
				tap_skip_rest_of(2, "edu's memattr_nonprefetchable_wc is not 0 (opt-in set) or unreadable");
			else
				tap_fail_n(2, "no NC DMABUF of edu BAR0");
		} else {
			uint8_t wn[2] = { VFIO_MEMATTR_WC, VFIO_MEMATTR_NC };

			rc = attr_set1(edu->fd, efd, VFIO_MEMATTR_WC, &a);
			rc = rc == -EPERM && !attr_is(edu->fd, efd, VFIO_MEMATTR_NC, 0, ~0u, PG, "edu") ? -EIO : rc;
			tap_errno(rc, EPERM, "dmabuf: SET_ATTR WC of a DMABUF of edu's non-prefetchable BAR0 (no opt-in), stays NC");
			rc = attr_set(edu->fd, efd, wn, 2, &a);
			tap_ok(!rc && a.attr == VFIO_MEMATTR_NC,
			       "dmabuf: SET_ATTR [WC, NC] of the edu DMABUF -> 0 with NC (rc %s, attr %u)",
			       ma_errname(-rc), a.attr);
		}
		if (efd >= 0)
			close(efd);
	}

	/* read(2)/write(2) of a DMABUF fd are not supported (dma-buf: no .read/.write) */
	{
		char b[8] = { 0 };
		ssize_t rn = read(fd, b, sizeof(b)), wn;
		int re = errno;

		wn = write(fd, b, sizeof(b));
		rc = rn < 0 && re == EINVAL && wn < 0 && errno == EINVAL ? -EINVAL : -EIO;
		if (rc != -EINVAL)
			tap_diag("read -> %zd (%s), write -> %zd (%s)", rn, strerror(re), wn, strerror(errno));
		bad_check(&c, rc, EINVAL, 0, "read(2) and write(2) of a DMABUF fd");
	}
	/* mmap of the DMABUF */
	rc = mmap_try(fd, PG, 0, PROT_READ | PROT_WRITE, MAP_PRIVATE);
	bad_check(&c, rc, EINVAL, 0, "mmap MAP_PRIVATE of a DMABUF");
	rc = mmap_try(fd, 2 * PG, 0, PROT_READ | PROT_WRITE, MAP_SHARED);
	bad_check(&c, rc, EINVAL, 0, "mmap of 8 KiB of a 4 KiB DMABUF");
	rc = mmap_try(fd, PG, (off_t)PG, PROT_READ | PROT_WRITE, MAP_SHARED);
	bad_check(&c, rc, EINVAL, 0, "mmap at offset 4 KiB (its size) of a 4 KiB DMABUF");
	{
		int ro = export_n(d.fd, 2, O_RDONLY | O_CLOEXEC, &e2, 1);
		uint8_t buf[PG];
		volatile uint8_t *p;

		buf_fill(buf, PG, SEED_E);
		if (ro < 0 || region_pwrite(d.fd, 2, e2.off, buf, PG)) {
			tap_diag("O_RDONLY export: %s", ma_errname(-ro));
			tap_fail_n(2, "no O_RDONLY DMABUF");
		} else {
			bad_begin(&c);
			rc = mmap_try(ro, PG, 0, PROT_READ | PROT_WRITE, MAP_SHARED);
			bad_check(&c, rc, EACCES, 0, "mmap PROT_WRITE of an O_RDONLY DMABUF");
			p = map_dmabuf(ro, PG, PROT_READ);
			if (!p)
				tap_diag("mmap PROT_READ of the O_RDONLY DMABUF: %s", strerror(errno));
			tap_ok(p && mmio_data_ok(p, PG, SEED_E, "O_RDONLY mapping"),
			       "dmabuf: mmap PROT_READ of an O_RDONLY DMABUF works and reads what pwrite wrote");
			if (p)
				munmap((void *)p, PG);
		}
		if (ro >= 0)
			close(ro);
	}
out:
	if (fd >= 0)
		close(fd);
	if (nfd >= 0)
		close(nfd);
	if (pfd[0] >= 0) {
		close(pfd[0]);
		close(pfd[1]);
	}
	if (mfd >= 0)
		close(mfd);
	sec_end();
}

/* 9: the DMABUF outliving the device fd */
/* ------------------------------------------------------ feature 11 */

/*
 * The core's DMABUFs for importers (feature 11, Linux 6.19 and later) and
 * ours: feature 11 of a BAR that carries one of ours is refused with
 * ENODEV, works again once it is revoked, and its fd is not a memattr
 * DMABUF (EINVAL).  Kernels without feature 11 answer ENOTTY throughout.
 */
static void case_feature11(void)
{
	int fd, c0, c1, c2, rc;
	dattr_t a;

	sec_begin("feature11", 3);
	c0 = core_dma_buf(d.fd, 2, I_OFF + K8, PG, 0);
	if (c0 >= 0)
		close(c0);
	fd = export1(d.fd, I_OFF, K8);
	c1 = core_dma_buf(d.fd, 2, I_OFF + K8, PG, 0);
	if (c1 >= 0)
		close(c1);
	if (c0 == -ENOTTY)
		tap_ok(fd >= 0 && c1 == -ENOTTY,
		       "dmabuf: no feature 11 on this kernel: DMA_BUF GET -> ENOTTY with or without a memattr DMABUF (%s)",
		       ma_errname(-c1));
	else
		tap_ok(c0 >= 0 && fd >= 0 && c1 == -ENODEV,
		       "dmabuf: feature 11 of BAR2 while a memattr DMABUF holds a range of it -> ENODEV (before: %s, with: %s)",
		       c0 >= 0 ? "fd" : ma_errname(-c0), c1 >= 0 ? "fd" : ma_errname(-c1));
	rc = fd >= 0 ? dmabuf_revoke(d.fd, fd) : fd;
	c2 = core_dma_buf(d.fd, 2, I_OFF + K8, PG, 0);
	tap_ok(!rc && (c0 == -ENOTTY ? c2 == -ENOTTY : c2 >= 0),
	       "dmabuf: after REVOKE of the memattr DMABUF, feature 11 of BAR2 answers as before (%s)",
	       c2 >= 0 ? "fd" : ma_errname(-c2));
	if (c2 >= 0) {
		rc = attr_get(d.fd, c2, &a);
		tap_errno(rc, EINVAL, "dmabuf: GET_ATTR of feature 11's DMABUF fd (not a memattr DMABUF)");
		close(c2);
	} else {
		tap_skip("no feature 11 on this kernel (ENOTTY)",
			 "dmabuf: GET_ATTR of feature 11's DMABUF fd (not a memattr DMABUF)");
	}
	if (fd >= 0)
		close(fd);
	sec_end();
}

static void case_outlive(void)
{
	int fd, rc, ok;
	int64_t s, m;

	sec_begin("outlive", 6);
	fd = export1(d.fd, F_OFF, K8);
	rc = fd < 0 ? fd : attr_set1(d.fd, fd, VFIO_MEMATTR_WC, NULL);
	rc = rc ? rc : (int)csend_fd(fd);
	rc = rc ? rc : (int)ccall(C_MMAP, K8, PROT_READ | PROT_WRITE, MAP_SHARED, NULL);
	rc = rc ? rc : (int)ccall(C_FILL, 0, K8, SEED_F, NULL);
	rc = rc ? rc : ccall(C_CHECK, 0, K8, SEED_F, NULL) == 1 ? 0 : -EIO;
	if (rc)
		tap_diag("setup: %s", ma_errname(-rc));
	tap_ok(!rc, "dmabuf: WC DMABUF sent to the client, mmapped and written there");
	if (rc)
		goto out;
	vdev_close(&d);
	s = ccall(C_PROBE, 0, 0, 0, NULL);
	tap_ok(s == SIGBUS, "dmabuf: the owner closed every fd of the device: the client's access gets SIGBUS (%s)",
	       sig_name((int)s));
	m = ccall(C_MMAP_TRY, K8, 0, 0, NULL);
	tap_errno((int)m, ENODEV, "dmabuf: device fd closed: a new mmap of the DMABUF in the client");
	rc = vdev_open(&d, bdf);
	tap_ok(!rc && attr_is(d.fd, fd, VFIO_MEMATTR_WC, VFIO_MEMATTR_DMABUF_REVOKED,
			      VFIO_MEMATTR_DMABUF_REVOKED, K8, "after reopen"),
	       "dmabuf: device opened again: GET_ATTR of the old DMABUF says REVOKED, WC");
	if (rc)
		goto out;
	ok = nr_handles_is(0, "after reopen") && pat_fresh();
	tap_ok(ok, "dmabuf: the old DMABUF keeps nothing: nr_handles 0, PAT as on a fresh open (mapped in the client)");
	rc = attr_set1(d.fd, fd, VFIO_MEMATTR_NC, NULL);
	ok = rc == -ENODEV;
	rc = dmabuf_revoke(d.fd, fd);
	tap_ok(ok && rc == -EBADFD,
	       "dmabuf: old DMABUF on the new open: SET_ATTR -> ENODEV, REVOKE -> EBADFD (already revoked; got %s)",
	       ma_errname(-rc));
out:
	ccall(C_UNMAP, 0, 0, 0, NULL);
	ccall(C_CLOSE, 0, 0, 0, NULL);
	if (fd >= 0)
		close(fd);
	sec_end();
}

/* ----------------------------------------------------------------- race */
static __thread sigjmp_buf t_env;
static __thread volatile sig_atomic_t t_armed;

static void t_handler(int sig)
{
	if (t_armed)
		siglongjmp(t_env, sig);
	signal(sig, SIG_DFL);
	raise(sig);
}

static atomic_int race_stop;
static volatile uint8_t *race_addr;
static atomic_long race_ok, race_bus, race_segv;

static void *race_faulter(void *arg)
{
	(void)arg;
	while (!atomic_load(&race_stop)) {
		int s;

		t_armed = 1;
		s = sigsetjmp(t_env, 1);
		if (!s) {
			size_t k;

			for (k = 0; k < S_LEN; k += PG)
				(void)*(volatile uint64_t *)(race_addr + k);
			t_armed = 0;
			atomic_fetch_add(&race_ok, 1);
		} else {
			t_armed = 0;
			atomic_fetch_add(s == SIGBUS ? &race_bus : &race_segv, 1);
		}
	}
	return NULL;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void case_race(void)
{
	struct sigaction sa, obus, osegv;
	const struct range s = { S_OFF, S_LEN };
	pthread_t th;
	void *res;
	long iters = 0, bad = 0;
	double t0;
	int rc;

	sec_begin("race", 2);
	res = mmap(NULL, S_LEN, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (res == MAP_FAILED)
		goto out;
	race_addr = res;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = t_handler;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, &obus);
	sigaction(SIGSEGV, &sa, &osegv);
	atomic_store(&race_stop, 0);
	if (pthread_create(&th, NULL, race_faulter, NULL)) {
		munmap(res, S_LEN);
		goto out;
	}
	t0 = now_s();
	while (now_s() - t0 < 3.0) {
		int fd = export_n(d.fd, 2, O_RDWR | O_CLOEXEC, &s, 1);
		void *p;
		int step = (int)(iters % 4);

		iters++;
		if (fd < 0) {
			if (bad++ < 5)
				tap_diag("race: export: %s", ma_errname(-fd));
			continue;
		}
		rc = attr_set1(d.fd, fd, iters & 1 ? VFIO_MEMATTR_WC : VFIO_MEMATTR_NC, NULL);
		if (rc && bad++ < 5)
			tap_diag("race: SET unmapped: %s", ma_errname(-rc));
		p = mmap((void *)race_addr, S_LEN, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0);
		if (p == MAP_FAILED && bad++ < 5)
			tap_diag("race: mmap: %s", strerror(errno));
		usleep(200);
		rc = attr_set1(d.fd, fd, iters & 1 ? VFIO_MEMATTR_NC : VFIO_MEMATTR_WC, NULL);
		if (p != MAP_FAILED && rc != -EBUSY && bad++ < 5)
			tap_diag("race: SET of the other attribute while mapped: %s (want EBUSY)", ma_errname(-rc));
		if (step == 0 || step == 1) {
			rc = dmabuf_revoke(d.fd, fd);
			if (rc && bad++ < 5)
				tap_diag("race: REVOKE: %s", ma_errname(-rc));
			usleep(100);
		}
		if (step == 1 || step == 2) {
			close(fd);	/* the mapping keeps the DMABUF */
			fd = -1;
			usleep(100);
		}
		/* back to PROT_NONE at the same address: the faulter never touches anything else */
		mmap((void *)race_addr, S_LEN, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
		if (fd >= 0)
			close(fd);
	}
	atomic_store(&race_stop, 1);
	pthread_join(th, NULL);
	sigaction(SIGBUS, &obus, NULL);
	sigaction(SIGSEGV, &osegv, NULL);
	munmap(res, S_LEN);
	tap_diag("race: %ld export/SET/mmap/REVOKE/close rounds; faulter: %ld clean passes, %ld SIGBUS, %ld SIGSEGV",
		 iters, atomic_load(&race_ok), atomic_load(&race_bus), atomic_load(&race_segv));
	tap_ok(!bad && iters > 10 && atomic_load(&race_ok) > 0,
	       "dmabuf: 3 s of export/SET/mmap/REVOKE/close against a faulting thread: every call answered as specified");
	tap_ok(nr_handles_is(0, "after the race") && pat_fresh(),
	       "dmabuf: after the race no PAT entry is left on BAR2 and nr_handles is 0");
out:
	sec_end();
}

/* ---------------------------------------------------------------- unbind */
/* 10: unbind with a live (revoked) DMABUF fd, as memattr_unbind does it */
static void case_unbind(void)
{
	uint64_t ev = 0;
	int fd = -1, efd = -1, rc, st = -1, ok;
	double t0;
	char drv[64] = "";
	int64_t s;

	sec_begin("unbind", 6);
	if (ub_pid < 0 || d.fd < 0)
		goto out;
	fd = export1(d.fd, U_OFF, K8);
	rc = fd < 0 ? fd : attr_set1(d.fd, fd, VFIO_MEMATTR_WC, NULL);
	rc = rc ? rc : (int)csend_fd(fd);
	rc = rc ? rc : (int)ccall(C_MMAP, K8, PROT_READ | PROT_WRITE, MAP_SHARED, NULL);
	rc = rc ? rc : (int)ccall(C_FILL, 0, K8, SEED_U, NULL);
	efd = eventfd(0, EFD_CLOEXEC);
	rc = rc ? rc : efd < 0 ? -errno : vdev_set_req_irq(d.fd, efd);
	if (rc)
		tap_diag("setup: %s", ma_errname(-rc));
	tap_ok(!rc, "dmabuf: WC DMABUF mapped and written by the client, request eventfd set");
	if (rc)
		goto out;
	/* the unbinder holds nothing of the device */
	ev = vdev_unbind_and_wait_req(ub_go, efd, 20000);
	ub_go = -1;
	tap_ok(ev >= 1, "dmabuf: unbind of ivshmem0 asks the owner to release the device (%llu requests)",
	       (unsigned long long)ev);
	/* the owner lets go of the device, keeps its DMABUF fd; the client keeps fd and mapping */
	vdev_close(&d);
	close(efd);
	efd = -1;
	t0 = now_s();
	while ((rc = waitpid(ub_pid, &st, WNOHANG)) == 0 && now_s() - t0 < 30)
		usleep(50000);
	if (rc == ub_pid)
		ub_pid = -1;
	ma_pci_driver(bdf, drv, sizeof(drv));
	ok = rc > 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0 && !drv[0];
	tap_ok(ok, "dmabuf: the unbind completes while the client still holds the (revoked) DMABUF fd and mapping (status %#x, driver '%s')",
	       rc > 0 ? st : -1, drv);
	s = ccall(C_PROBE, 0, 0, 0, NULL);
	rc = (int)ccall(C_MMAP_TRY, K8, 0, 0, NULL);
	tap_ok(s == SIGBUS && rc == -ENODEV && pat_count(bp, bp + bsz) == 0,
	       "dmabuf: unbound: the client's access gets SIGBUS (%s), its new mmap ENODEV (%s), no PAT entry on BAR2",
	       sig_name((int)s), ma_errname(-rc));
	ccall(C_UNMAP, 0, 0, 0, NULL);
	ccall(C_CLOSE, 0, 0, 0, NULL);
	rc = ma_pci_bind(bdf, "vfio-pci-memattr");
	ok = !rc && !ma_pci_driver(bdf, drv, sizeof(drv)) && !strcmp(drv, "vfio-pci-memattr");
	rc = ok ? vdev_open(&d, bdf) : -ENODEV;
	ok = ok && !rc && nr_handles_is(0, "after rebind") && pat_fresh();
	tap_ok(ok, "dmabuf: bound to vfio-pci-memattr again and opened: nr_handles 0, PAT as on a fresh open");
	{
		dattr_t a;

		rc = ok ? attr_get(d.fd, fd, &a) : -ENODEV;
		ok = ok && ((!rc && (a.state & VFIO_MEMATTR_DMABUF_REVOKED)) || rc == -ENODEV);
		tap_ok(ok, "dmabuf: GET_ATTR of the DMABUF of the former binding: REVOKED or ENODEV (%s%s)",
		       ma_errname(-rc), !rc && (a.state & VFIO_MEMATTR_DMABUF_REVOKED) ? ", REVOKED" : "");
	}
out:
	if (fd >= 0)
		close(fd);
	if (efd >= 0)
		close(efd);
	sec_end();
}

/* ------------------------------------------------------------------ main */
int main(void)
{
	struct vdev nv, edu;
	int sv[2], go[2], nv_bar = -1;
	uint64_t nv_phys = 0;
	uint8_t *buf;

	tap_plan(NTESTS);
	bdf = ma_bdf_or_skip("MEMATTR_IVSHMEM0");
	nvme_bdf = ma_bdf_or_skip("MEMATTR_NVME");
	edu_bdf = ma_bdf_or_skip("MEMATTR_EDU");
	oracle = pte_oracle_available();
	if (!oracle)
		tap_diag("the user-PTE oracle %s is absent: its checks are skipped", PTECHECK_PATH);

	/* the client and the unbinder are forked before any device is opened */
	fflush(stdout);
	if (!socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv)) {
		cpid = fork();
		if (cpid == 0) {
			close(sv[0]);
			client_main(sv[1]);
		}
		close(sv[1]);
		csock = cpid > 0 ? sv[0] : -1;
	}
	if (!pipe(go)) {
		ub_pid = fork();
		if (ub_pid == 0) {
			char path[128], ch;

			close(go[1]);
			if (csock >= 0)
				close(csock);
			if (read(go[0], &ch, 1) != 1)
				_exit(2);
			snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver/unbind", bdf);
			_exit(sysfs_write_str(path, bdf) ? 1 : 0);
		}
		close(go[0]);
		ub_go = go[1];
	}
	if (cpid < 0)
		tap_diag("no client process: %s", strerror(errno));

	if (vdev_open(&d, bdf) || ma_bar_phys(bdf, 2, &bp, &bsz) || bsz < 4 * MA_MIB) {
		tap_fail_n(NTESTS, "cannot open ivshmem0 or its BAR2 is not 4 MiB");
		goto done;
	}
	pat_snap_take(bp, bp + bsz, &fresh);
	if (vdev_open(&nv, nvme_bdf))
		tap_diag("cannot open the NVMe device %s", nvme_bdf);
	else
		nv_bar = ma_nvme_cmb_bar(nv.fd, nvme_bdf, &nv_phys);
	if (vdev_open(&edu, edu_bdf))
		tap_diag("cannot open edu %s", edu_bdf);

	/* the gaps and the old contents of the ranges, before any DMABUF */
	buf = malloc(SLICE_LEN_HC);
	if (buf) {
		buf_fill(buf, G0_LEN, SEED_G0);
		buf_fill(buf + (G1_OFF - G0_OFF), G1_LEN, SEED_G1);
		buf_fill(buf + (G2_OFF - G0_OFF), G2_LEN, SEED_G2);
		buf_fill(buf + (R1_OFF - G0_OFF), R1_LEN, SEED_R1_OLD);
		buf_fill(buf + (R2_OFF - G0_OFF), R2_LEN, SEED_R2_OLD);
		if (region_pwrite(d.fd, 2, G0_OFF, buf, SLICE_LEN_HC))
			tap_diag("pwrite of the host-checked area failed");
		free(buf);
	}

	case_export();
	case_client();
	case_revoke();
	case_memdisable();
	case_reset(&nv, nv_bar, nv_phys);
	case_set_busy();
	case_bad(&nv, nv_bar, &edu);
	vdev_close(&nv);
	vdev_close(&edu);
	case_feature11();
	case_outlive();
	if (d.fd >= 0)
		case_race();
	else
		tap_fail_n(2, "race: ivshmem0 could not be opened again");
	case_unbind();
	vdev_close(&d);
done:
	if (ub_go >= 0) {
		close(ub_go);	/* the unbind never started: the unbinder exits */
		if (ub_pid > 0)
			waitpid(ub_pid, NULL, 0);
	} else if (ub_pid > 0 && waitpid(ub_pid, NULL, WNOHANG) != ub_pid) {
		tap_diag("the unbinder (pid %d) is still blocked in the unbind", (int)ub_pid);
	}
	if (cpid > 0) {
		ccall(C_EXIT, 0, 0, 0, NULL);
		close(csock);
		waitpid(cpid, NULL, 0);
	}
	return tap_done();
}
