// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * memattr_harden - the defects a kernel review found, one check each:
 *
 *  1. pwrite/pread of a BAR whose user buffer stalls (userfaultfd on its
 *     second page) while another thread MAPs the same BAR: the driver took
 *     the BAR's kernel mapping away under the core's access (use after
 *     free).  Now: the core's access of a BAR not taken over is counted,
 *     the MAP meanwhile is refused (EBUSY) and succeeds once the access is
 *     done; the data lands where it belongs (host file) and reads back.
 *  2. ioeventfds: any ioeventfd of the device blocks a MAP (EBUSY: the
 *     core reads VFIO_DEVICE_IOEVENTFD's argument itself, so the driver
 *     cannot know its BAR) until it is deleted; none can be added to a BAR
 *     that is taken over (EBUSY); an ioeventfd on BAR2 really writes its
 *     data.
 *  3. Kernel memory: 256 unaligned WC handles of the 16 MiB NVMe CMB keep
 *     no kernel mapping (vmallocinfo's ioremap total and MemAvailable stay
 *     flat), and are still write-combining in the PAT list.
 *  4. 7.2's VFIO_DEVICE_FEATURE_DMA_BUF (11): the same answer on ivshmem0
 *     (vfio-pci-memattr) as on ivshmem1 (vfio-pci): a dmabuf fd of the
 *     size asked for, also with a handle on another BAR; ENODEV for a BAR
 *     that is taken over (documented).
 *  5. A MAP whose answer cannot be copied out (EFAULT) leaves no handle and
 *     consumes no handle id and no mmap offset.
 *  8. DEV needs no opt-in on a non-prefetchable BAR; a handle of a sub-page
 *     BAR reads only the BAR's bytes.
 *
 * Slices: ivshmem0 BAR2 0x040000-0x0fffff (writes 0x080000-0x081fff,
 * 0x090000-0x091fff, 0x0a0000-0x0a0003; maps 0x040000-0x04ffff).
 */
#define _GNU_SOURCE
#define _FILE_OFFSET_BITS 64
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lib/tap.h"
#include "lib/sysfs.h"
#include "lib/vfio.h"
#include "lib/memattr.h"
#include "lib/mmio.h"
#include "lib/hostcheck.h"
#include "lib/pat.h"
#include "lib/kmem.h"

#define NTESTS	30

#define UF_WOFF		0x080000ull	/* uffd pwrite: 8 KiB */
#define UF_ROFF		0x090000ull	/* uffd pread: 8 KiB, written first */
#define EV_OFF		0x0a0000ull	/* ioeventfd target (8 bytes) */
#define K64		(64 * 1024ull)
#define SEED_UFW	0x11f0a7c3d2e1b405ull
#define SEED_UFR	0x22e1b405c3d2a7f0ull
#define EV_DATA		0xcafe1234u

static const char *bdf0, *bdf1, *bdf_nvme, *bdf_edu;

/* ------------------------------------------------------- userfaultfd */
struct uf {
	int uffd;
	uint8_t *buf;		/* 2 pages; the second is missing */
	int fd;
	uint64_t off;		/* file offset */
	int write;
	ssize_t ret;
	int err;
};

static void *uf_io(void *arg)
{
	struct uf *u = arg;

	if (u->write)
		u->ret = pwrite(u->fd, u->buf, 2 * MA_PAGE, (off_t)u->off);
	else
		u->ret = pread(u->fd, u->buf, 2 * MA_PAGE, (off_t)u->off);
	u->err = u->ret < 0 ? errno : 0;
	return NULL;
}

static int uf_setup(struct uf *u)
{
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg;

	u->uffd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (u->uffd < 0)
		return -errno;
	if (ioctl(u->uffd, UFFDIO_API, &api))
		return -errno;
	u->buf = mmap(NULL, 2 * MA_PAGE, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (u->buf == MAP_FAILED)
		return -errno;
	memset(u->buf, 0, MA_PAGE);	/* page 0 present, page 1 missing */
	memset(&reg, 0, sizeof(reg));
	reg.range.start = (uintptr_t)u->buf + MA_PAGE;
	reg.range.len = MA_PAGE;
	reg.mode = UFFDIO_REGISTER_MODE_MISSING;
	if (ioctl(u->uffd, UFFDIO_REGISTER, &reg))
		return -errno;
	return 0;
}

/* Wait until the kernel is stalled on the missing page; 0 or -errno. */
static int uf_wait_fault(struct uf *u)
{
	struct pollfd p = { .fd = u->uffd, .events = POLLIN };
	struct uffd_msg msg;

	if (poll(&p, 1, 10000) != 1)
		return -ETIMEDOUT;
	if (read(u->uffd, &msg, sizeof(msg)) != sizeof(msg))
		return -errno;
	if (msg.event != UFFD_EVENT_PAGEFAULT)
		return -EPROTO;
	return 0;
}

/* Resolve the fault with @src (one page). */
static int uf_resolve(struct uf *u, const void *src)
{
	struct uffdio_copy c = {
		.dst = (uintptr_t)u->buf + MA_PAGE,
		.src = (uintptr_t)src,
		.len = MA_PAGE,
	};

	return ioctl(u->uffd, UFFDIO_COPY, &c) ? -errno : 0;
}

static void uf_free(struct uf *u)
{
	if (u->buf && u->buf != MAP_FAILED)
		munmap(u->buf, 2 * MA_PAGE);
	if (u->uffd >= 0)
		close(u->uffd);
}

/*
 * One access of 2 pages at @off of BAR2 whose second user page stalls
 * while a WC handle of [off, off + 64K) is created.  Returns the MAP's rc
 * through *map_rc and the handle through *h.
 */
static int uf_race(int fd, uint64_t off, int write, uint8_t *pat, int *map_rc,
		   struct vfio_device_feature_memattr_map *h, ssize_t *io_ret)
{
	struct uf u = { .uffd = -1, .fd = fd, .write = write };
	pthread_t t;
	int rc;

	rc = uf_setup(&u);
	if (rc) {
		uf_free(&u);
		return rc;
	}
	if (write)
		memcpy(u.buf, pat, MA_PAGE);
	u.off = VFIO_PCI_INDEX_TO_OFFSET(2) + off;
	if (pthread_create(&t, NULL, uf_io, &u)) {
		uf_free(&u);
		return -EAGAIN;
	}
	rc = uf_wait_fault(&u);
	if (!rc)
		*map_rc = ma_map1(fd, 2, off, K64, VFIO_MEMATTR_WC, h);
	/* Always let the access finish, even on a timeout. */
	uf_resolve(&u, write ? pat + MA_PAGE : pat);
	pthread_join(t, NULL);
	*io_ret = u.ret;
	if (!write && u.ret == (ssize_t)(2 * MA_PAGE))
		memcpy(pat, u.buf, 2 * MA_PAGE);
	uf_free(&u);
	return rc;
}

static void test_uffd(void)
{
	struct vfio_device_feature_memattr_map h;
	uint8_t pat[2 * MA_PAGE], want[2 * MA_PAGE];
	struct vdev d;
	ssize_t io = -1;
	int rc, map_rc = -1, map2;

	if (vdev_open(&d, bdf0)) {
		tap_fail_n(6, "open ivshmem0");
		return;
	}

	/* pwrite stalls on its second page while MAP takes the BAR over. */
	buf_fill(pat, sizeof(pat), SEED_UFW);
	rc = uf_race(d.fd, UF_WOFF, 1, pat, &map_rc, &h, &io);
	if (!map_rc)
		ma_unmap(d.fd, h.handle);
	map2 = ma_map1(d.fd, 2, UF_WOFF, K64, VFIO_MEMATTR_WC, &h);
	tap_ok(!rc && map_rc == -EBUSY && map2 == 0,
	       "uffd pwrite: WC MAP of the same BAR while the core's write is stalled is refused, then succeeds (rc %d, map %s, after %s)",
	       rc, ma_errname(-map_rc), ma_errname(-map2));
	map_rc = map2;
	tap_ok(io == (ssize_t)sizeof(pat),
	       "uffd pwrite: the stalled write completes with all %zu bytes (got %zd)",
	       sizeof(pat), io);
	tap_ok(ma_legacy_check(d.fd, UF_WOFF, sizeof(pat), SEED_UFW),
	       "uffd pwrite: both pages read back through the taken-over BAR");
	ma_hostcheck(UF_WOFF, sizeof(pat), SEED_UFW, "memattr_harden: pwrite stalled across a takeover");
	if (!map_rc)
		ma_unmap(d.fd, h.handle);

	/* pread stalls on its second page while MAP takes the BAR over. */
	buf_fill(want, sizeof(want), SEED_UFR);
	rc = region_pwrite(d.fd, 2, UF_ROFF, want, sizeof(want));
	tap_ok(!rc, "uffd pread: pattern written with pwrite first (%d)", rc);
	map_rc = -1;
	memset(pat, 0, sizeof(pat));
	rc = uf_race(d.fd, UF_ROFF, 0, pat, &map_rc, &h, &io);
	if (!map_rc)
		ma_unmap(d.fd, h.handle);
	map2 = ma_map1(d.fd, 2, UF_ROFF, K64, VFIO_MEMATTR_WC, &h);
	tap_ok(!rc && map_rc == -EBUSY && map2 == 0 && io == (ssize_t)sizeof(pat),
	       "uffd pread: WC MAP during the core's stalled read is refused, then succeeds; read completes (rc %d, map %s, after %s, %zd bytes)",
	       rc, ma_errname(-map_rc), ma_errname(-map2), io);
	map_rc = map2;
	tap_ok(buf_check(pat, sizeof(pat), SEED_UFR) == sizeof(pat),
	       "uffd pread: the bytes read are the device's");
	ma_hostcheck(UF_ROFF, sizeof(want), SEED_UFR, "memattr_harden: pread stalled across a takeover");
	if (!map_rc)
		ma_unmap(d.fd, h.handle);
	vdev_close(&d);
}

/* ---------------------------------------------------------- ioeventfd */
static void test_ioeventfd(void)
{
	struct vfio_device_feature_memattr_map h;
	uint64_t one = 1;
	uint32_t got = 0;
	struct vdev d;
	int efd0, efd2, rc;

	efd0 = eventfd(0, EFD_CLOEXEC);
	efd2 = eventfd(0, EFD_CLOEXEC);
	if (efd0 < 0 || efd2 < 0 || vdev_open(&d, bdf0)) {
		tap_fail_n(8, "eventfd/open ivshmem0");
		return;
	}

	/* An ioeventfd on BAR2, then deleted, then one on BAR0. */
	rc = vdev_ioeventfd(d.fd, 2, EV_OFF, EV_DATA, efd2);
	tap_errno(rc, 0, "ioeventfd on BAR2 created");
	if (write(efd2, &one, sizeof(one)) == sizeof(one))
		usleep(100 * 1000);
	rc = region_pread(d.fd, 2, EV_OFF, &got, sizeof(got));
	tap_ok(!rc && got == EV_DATA,
	       "ioeventfd on BAR2: signalling it wrote 0x%x (read 0x%x)",
	       EV_DATA, got);
	rc = ma_map1(d.fd, 2, 0, K64, VFIO_MEMATTR_WC, &h);
	tap_errno(rc, EBUSY, "MAP of BAR2 while an ioeventfd lives on BAR2");
	if (!rc)
		ma_unmap(d.fd, h.handle);
	rc = vdev_ioeventfd(d.fd, 2, EV_OFF, EV_DATA, -1);
	tap_errno(rc, 0, "ioeventfd on BAR2 deleted");
	rc = vdev_ioeventfd(d.fd, 0, 0, 0, efd0);
	tap_errno(rc, 0, "ioeventfd on BAR0 created");

	rc = ma_map1(d.fd, 2, 0, K64, VFIO_MEMATTR_WC, &h);
	tap_errno(rc, EBUSY, "MAP of BAR2 with an ioeventfd on BAR0 (any ioeventfd of the device)");
	if (!rc)
		ma_unmap(d.fd, h.handle);
	vdev_ioeventfd(d.fd, 0, 0, 0, -1);
	rc = ma_map1(d.fd, 2, 0, K64, VFIO_MEMATTR_WC, &h);
	if (!rc) {
		rc = vdev_ioeventfd(d.fd, 2, EV_OFF, EV_DATA, efd2);
		tap_errno(rc, EBUSY, "ioeventfd on a taken-over BAR2");
		ma_unmap(d.fd, h.handle);
	} else {
		tap_fail_n(1, "no handle");
	}
	/* The BAR is handed back with the last handle: ioeventfds work again. */
	rc = vdev_ioeventfd(d.fd, 2, EV_OFF, EV_DATA, efd2);
	tap_errno(rc, 0, "ioeventfd on BAR2 again once its handles are gone");
	vdev_ioeventfd(d.fd, 2, EV_OFF, EV_DATA, -1);
	vdev_ioeventfd(d.fd, 0, 0, 0, -1);
	vdev_close(&d);
	close(efd0);
	close(efd2);
}

/* ------------------------------------------------------ kernel memory */
#define NMEM	256

static void test_memory(void)
{
	static uint32_t ids[NMEM];
	uint64_t cs, csz;
	long long v0, v1, m0, m1;
	struct vdev d;
	int i, n = 0, wc = 1;

	if (vdev_open(&d, bdf_nvme) || ma_bar_phys(bdf_nvme, 2, &cs, &csz) ||
	    csz < 16 * MA_MIB) {
		tap_fail_n(4, "open NVMe / its 16 MiB CMB");
		return;
	}
	v0 = ma_ioremap_bytes();
	m0 = ma_meminfo_kib("MemAvailable");
	for (i = 0; i < NMEM; i++) {
		struct vfio_device_feature_memattr_map m;
		/* unaligned: start one page further each time, 15 MiB long */
		uint64_t off = (uint64_t)(i + 1) * MA_PAGE;

		if (ma_map1(d.fd, 2, off, 15 * MA_MIB, VFIO_MEMATTR_WC, &m))
			break;
		ids[n++] = m.handle;
	}
	v1 = ma_ioremap_bytes();
	m1 = ma_meminfo_kib("MemAvailable");
	for (i = 0; i < n && wc; i++)
		wc = pat_has_exact(cs + (uint64_t)(i + 1) * MA_PAGE,
				   cs + (uint64_t)(i + 1) * MA_PAGE + 15 * MA_MIB,
				   "write-combining") == 1;
	tap_ok(n == NMEM, "%d unaligned 15 MiB WC handles of the CMB created", n);
	tap_ok(n && wc, "each of them is write-combining in the PAT list");
	tap_ok(v0 >= 0 && v1 - v0 < (long long)MA_MIB,
	       "ioremap space held by the handles: %lld KiB (bound 1024 KiB)",
	       (v1 - v0) / 1024);
	tap_ok(m0 > 0 && m0 - m1 < 4 * 1024,
	       "MemAvailable drop: %lld KiB (bound 4096 KiB)", m0 - m1);
	for (i = 0; i < n; i++)
		ma_unmap(d.fd, ids[i]);
	vdev_close(&d);
}

/* ------------------------------------------------------------- DMABUF */
/* Feature 11 on BAR2 [1 MiB, +64 KiB): fd size (0 for PROBE), or -errno. */
static long long dmabuf_get(int fd, int probe)
{
	long long size;
	int dfd;

	dfd = core_dma_buf(fd, 2, MA_MIB, K64, probe);
	if (dfd < 0 || probe)
		return dfd;
	if (!dfd)
		return -EPROTO;
	size = lseek(dfd, 0, SEEK_END);
	close(dfd);
	return size;
}

static const char *answer(long long r, char *buf, size_t len)
{
	if (r >= 0)
		snprintf(buf, len, "fd of %lld bytes", r);
	else
		snprintf(buf, len, "%s", ma_errname((int)-r));
	return buf;
}

static void test_dmabuf(void)
{
	struct vfio_device_feature_memattr_map h;
	struct vdev d0, d1;
	long long p0, p1, g0, g1, g2;
	char a[64], b[64];
	int rc;

	if (vdev_open(&d0, bdf0) || vdev_open(&d1, bdf1)) {
		tap_fail_n(5, "open ivshmem0/ivshmem1");
		return;
	}
	p0 = dmabuf_get(d0.fd, 1);
	p1 = dmabuf_get(d1.fd, 1);
	tap_ok(p0 == p1, "DMA_BUF PROBE: ivshmem0 %s, ivshmem1 %s",
	       answer(p0, a, sizeof(a)), answer(p1, b, sizeof(b)));
	g0 = dmabuf_get(d0.fd, 0);
	g1 = dmabuf_get(d1.fd, 0);
	tap_ok(g0 == g1 && (g1 == (long long)K64 || g1 < 0),
	       "DMA_BUF GET: ivshmem0 %s, ivshmem1 %s",
	       answer(g0, a, sizeof(a)), answer(g1, b, sizeof(b)));
	/* A handle on another BAR (the NVMe's BAR0 cannot be compared; use
	 * ivshmem0's BAR2 neighbour: a handle of BAR0 where it is mappable). */
	rc = ma_map1(d0.fd, 0, 0, MA_PAGE, VFIO_MEMATTR_NC, &h);
	g2 = dmabuf_get(d0.fd, 0);
	tap_ok(g2 == g1, "DMA_BUF GET with a handle on BAR0 (MAP %s): %s, as vfio-pci's",
	       rc ? ma_errname(-rc) : "ok", answer(g2, a, sizeof(a)));
	if (!rc)
		ma_unmap(d0.fd, h.handle);
	rc = ma_map1(d0.fd, 2, 0, K64, VFIO_MEMATTR_WC, &h);
	g2 = dmabuf_get(d0.fd, 0);
	if (g1 >= 0)
		tap_ok(!rc && g2 == -ENODEV,
		       "DMA_BUF GET of a taken-over BAR2 -> ENODEV (got %s)", answer(g2, a, sizeof(a)));
	else
		tap_ok(!rc && g2 == g1,
		       "DMA_BUF GET of a taken-over BAR2 -> %s as without handles (got %s)",
		       answer(g1, b, sizeof(b)), answer(g2, a, sizeof(a)));
	if (!rc)
		ma_unmap(d0.fd, h.handle);
	g2 = dmabuf_get(d0.fd, 0);
	tap_ok(g2 == g1, "DMA_BUF GET once the handles are gone: %s", answer(g2, a, sizeof(a)));
	vdev_close(&d1);
	vdev_close(&d0);
}

/* ---------------------------------------------- failure paths, ids */
static void test_efault(void)
{
	struct vfio_device_feature_memattr_map m;
	struct vfio_device_feature *ro;
	struct vdev d;
	int rc, nr;

	if (vdev_open(&d, bdf0)) {
		tap_fail_n(3, "open ivshmem0");
		return;
	}
	ro = ma_map_arg_ro(2, 0x40000, K64, VFIO_MEMATTR_WC);
	if (!ro) {
		tap_fail_n(3, "mmap");
		vdev_close(&d);
		return;
	}
	rc = ioctl(d.fd, VFIO_DEVICE_FEATURE, ro) ? -errno : 0;
	nr = ma_nr_handles(d.fd, 2);
	tap_ok(rc == -EFAULT && nr == 0,
	       "MAP with a read-only argument -> EFAULT (got %s), no handle left (%d)",
	       rc ? ma_errname(-rc) : "success", nr);
	munmap(ro, MA_PAGE);

	/* The first handle of this open still gets the first id and offset. */
	rc = ma_map1(d.fd, 2, 0x40000, K64, VFIO_MEMATTR_WC, &m);
	tap_ok(!rc && m.handle == VFIO_MEMATTR_HANDLE_INDEX_BASE,
	       "after the EFAULT the next handle is the first id 0x%x (got 0x%x)",
	       VFIO_MEMATTR_HANDLE_INDEX_BASE, rc ? 0 : m.handle);
	tap_ok(!rc && m.mmap_offset == VFIO_PCI_INDEX_TO_OFFSET(2) + (1ull << 39),
	       "... and the first mmap offset of BAR2's window (0x%llx)",
	       rc ? 0ull : (unsigned long long)m.mmap_offset);
	if (!rc)
		ma_unmap(d.fd, m.handle);
	vdev_close(&d);
}

/* ------------------------------------------------------------ policy */
static void test_policy(void)
{
	struct vfio_device_feature_memattr_bar_info bi;
	struct vfio_device_feature_memattr_map m;
	uint8_t buf[MA_PAGE];
	struct vdev d;
	ssize_t n;
	int rc;

	if (vdev_open(&d, bdf_edu)) {
		tap_fail_n(3, "open edu");
	} else {
		rc = ma_bar_info(d.fd, 0, &bi);
		tap_ok(!rc && (bi.supported & (1u << VFIO_MEMATTR_DEV)) &&
		       !(bi.supported & (1u << VFIO_MEMATTR_WC)) &&
		       bi.reason[VFIO_MEMATTR_DEV] == VFIO_MEMATTR_OK,
		       "edu BAR0 (non-prefetchable): DEV offered without opt-in, WC not (supported 0x%x)",
		       bi.supported);
		rc = ma_map1(d.fd, 0, 0, MA_PAGE, VFIO_MEMATTR_DEV, &m);
		tap_errno(rc, 0, "edu BAR0: MAP DEV without opt-in");
		if (!rc) {
			uint32_t id = 0;

			/* edu register 0: identification 0x010000ed */
			rc = rawfd_pread(d.fd, m.mmap_offset, &id, sizeof(id));
			tap_ok(!rc && (id & 0xffff) == 0x00ed,
			       "edu BAR0 DEV handle reads the ID register (0x%08x)", id);
			ma_unmap(d.fd, m.handle);
		} else {
			tap_fail_n(1, "no DEV handle");
		}
		vdev_close(&d);
	}

	/* ivshmem BAR0 is 256 bytes: a handle's page reads only those. */
	if (vdev_open(&d, bdf0)) {
		tap_fail_n(1, "open ivshmem0");
		return;
	}
	{
		uint64_t b0 = 0, b0len = 0;

		/* 256 bytes; arm64 guests align it to a page (docs/lab.md) */
		ma_bar_phys(bdf0, 0, &b0, &b0len);
		rc = ma_map1(d.fd, 0, 0, MA_PAGE, VFIO_MEMATTR_NC, &m);
		if (rc) {
			tap_ok(rc == -EOPNOTSUPP, "ivshmem0 BAR0 handle not offered (%s)", ma_errname(-rc));
		} else {
			n = pread(d.fd, buf, sizeof(buf), (off_t)m.mmap_offset);
			tap_ok(b0len && n == (ssize_t)(b0len < MA_PAGE ? b0len : MA_PAGE),
			       "pread of BAR0's (%" PRIu64 " bytes) one-page handle stops at the BAR's end (got %zd)",
			       b0len, n);
			ma_unmap(d.fd, m.handle);
		}
	}
	vdev_close(&d);
}

int main(void)
{
	bdf0 = ma_bdf_or_skip("MEMATTR_IVSHMEM0");
	bdf1 = ma_bdf_or_skip("MEMATTR_IVSHMEM1");
	bdf_nvme = ma_bdf_or_skip("MEMATTR_NVME");
	bdf_edu = ma_bdf_or_skip("MEMATTR_EDU");
	tap_plan(NTESTS);
	test_efault();		/* first: it needs a device fresh from open */
	if (getenv("MEMATTR_HARDEN_NO_UFFD"))	/* to see the rest on an oopsing kernel */
		tap_fail_n(6, "uffd checks left out (MEMATTR_HARDEN_NO_UFFD)");
	else
		test_uffd();
	test_ioeventfd();
	test_memory();
	test_dmabuf();
	test_policy();
	return tap_done();
}
