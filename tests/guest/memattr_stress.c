// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * memattr_stress - 8 threads race MAP/UNMAP, mmap/fault/munmap of handle
 * and legacy offsets, pread/pwrite, ioeventfd, reset, memory disable and
 * close/reopen on two devices (ivshmem0 BAR2 and the NVMe CMB BAR) for a
 * fixed time; then a deterministic replay of the takeover race: a pwrite
 * of a BAR through the core, stalled by userfaultfd in the middle of its
 * copy_from_user, while MAP takes the BAR over.
 *
 * Checks: every call returns success or an errno the uAPI allows for
 * what raced with it; the process survives (a kernel oops kills the
 * thread in its syscall: its result never arrives); afterwards no handle
 * is left (debugfs handles file, BAR_INFO nr_handles) and the PAT list of
 * both BARs is as before the first open.  Reports in the kernel log
 * (KASAN, lockdep, UBSAN, ...) are failed by the lab's collector, named
 * after this test.
 *
 * Time: MEMATTR_STRESS_SECONDS, default 120 on a "-debug" kernel label,
 * else 5.  MEMATTR_STRESS_TAKEOVER=0 skips the takeover replay and keeps
 * pread/pwrite of the legacy BAR from racing with MAP (the known race of
 * the core's BAR access with the takeover: an oops on every kernel until
 * the driver handles it).
 *
 * Writes (no host check: racing writers) only to ivshmem0 BAR2
 * 0x000000-0x07ffff and to the NVMe CMB (not persistent).
 */
#define _GNU_SOURCE
#define _FILE_OFFSET_BITS 64
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/userfaultfd.h>
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
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <linux/pci_regs.h>

#include "lib/tap.h"
#include "lib/sysfs.h"
#include "lib/vfio.h"
#include "lib/memattr.h"
#include "lib/mmio.h"
#include "lib/pat.h"

#define NTHR	8
#define WIN	(512 * 1024ull)		/* per-device window we may write */
#define K64	(64 * 1024ull)

struct sdev {
	const char *name;
	struct vdev v;
	unsigned int bar;
	uint64_t bsz, bphys;
	uint64_t legacy;		/* region offset of the BAR */
	int prefetch;
	struct pat_snap pat0;
};

static struct sdev devs[2];
static int takeover = 1;	/* MEMATTR_STRESS_TAKEOVER */
static int ndevs;
static atomic_int stop;
/* taken for writing by a call that must run alone (writers preferred) */
static pthread_rwlock_t ctl_lock;

enum { OP_MAP, OP_UNMAP, OP_MMAP_H, OP_MMAP_L, OP_TOUCH, OP_RW_L, OP_RW_H,
	OP_IOEVENTFD, OP_RESET, OP_MEMOFF, OP_REOPEN, OP_NR };
static const char *const op_names[OP_NR] = {
	"MAP", "UNMAP", "mmap(handle)", "mmap(legacy)", "touch", "pread/pwrite(legacy)",
	"pread/pwrite(handle)", "ioeventfd", "reset", "memory disable", "close/reopen",
};
static atomic_long n_ok[OP_NR], n_err[OP_NR], n_bad[OP_NR], n_sigbus;
static atomic_long n_errno[OP_NR][136];
static pthread_mutex_t diag_lock = PTHREAD_MUTEX_INITIALIZER;
static int ndiag;

/* An errno outside @allowed (a 0-terminated list) is a failure. */
static void account(int op, int rc, const int *allowed, const char *what)
{
	int i;

	if (rc == 0) {
		n_ok[op]++;
		return;
	}
	if (-rc > 0 && -rc < 136)
		n_errno[op][-rc]++;
	for (i = 0; allowed[i]; i++) {
		if (-rc == allowed[i]) {
			n_err[op]++;
			return;
		}
	}
	n_bad[op]++;
	pthread_mutex_lock(&diag_lock);
	if (ndiag++ < 12)
		tap_diag("%s: %s failed with %s (not allowed here)", what, op_names[op], ma_errname(-rc));
	pthread_mutex_unlock(&diag_lock);
}

/* per-thread SIGBUS recovery (revoked mappings) */
static __thread sigjmp_buf tjmp;
static __thread volatile int tjmp_armed;

static void on_sigbus(int sig)
{
	if (!tjmp_armed)
		_exit(128 + sig);
	siglongjmp(tjmp, 1);
}

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Touch @len bytes of a mapping: write a word per page, read it back. */
static void touch(volatile uint8_t *p, size_t len, int write, uint64_t v)
{
	size_t o;

	tjmp_armed = 1;
	if (sigsetjmp(tjmp, 1)) {
		tjmp_armed = 0;
		n_sigbus++;
		return;
	}
	for (o = 0; o < len; o += MA_PAGE) {
		if (write)
			*(volatile uint64_t *)(p + o) = v + o;
		(void)*(volatile uint64_t *)(p + o + 8);
	}
	tjmp_armed = 0;
	n_ok[OP_TOUCH]++;
}

static const int e_map[] = { EBUSY, ENOSPC, EPERM, EIO, 0 };
static const int e_unmap[] = { ENOENT, 0 };
static const int e_mmap_h[] = { EINVAL, EBUSY, 0 };
static const int e_mmap_l[] = { EBUSY, EINVAL, 0 };
static const int e_rw[] = { EIO, EINVAL, EBUSY, 0 };
static const int e_ioev[] = { EBUSY, EEXIST, ENODEV, EINVAL, 0 };
static const int e_ctl[] = { EINVAL, EBUSY, EAGAIN, ENOTTY, EIO, 0 };

static int do_map(struct sdev *d, int fd, uint64_t *seed, struct vfio_device_feature_memattr_map *m)
{
	uint64_t pages = WIN / MA_PAGE, off, len;
	uint8_t a = (rnd(seed) & 1) && d->prefetch ? VFIO_MEMATTR_WC : VFIO_MEMATTR_NC;
	int rc;

	off = (rnd(seed) % pages) * MA_PAGE;
	len = (1 + rnd(seed) % 16) * MA_PAGE;
	if (off + len > WIN)
		len = WIN - off;
	rc = ma_map1(fd, d->bar, off, len, a, m);
	account(OP_MAP, rc, e_map, d->name);
	return rc;
}

/* threads 0,1: MAP, mmap the handle, fault, UNMAP (mapping outlives it), munmap */
static void role_map(struct sdev *d, uint64_t *seed)
{
	struct vfio_device_feature_memattr_map m;
	void *p;

	pthread_rwlock_rdlock(&ctl_lock);
	if (do_map(d, d->v.fd, seed, &m) == 0) {
		p = ma_map_fd(d->v.fd, m.mmap_offset, m.length);
		account(OP_MMAP_H, p ? 0 : -errno, e_mmap_h, d->name);
		if (rnd(seed) & 1)
			account(OP_UNMAP, ma_unmap(d->v.fd, m.handle), e_unmap, d->name);
		if (p) {
			touch(p, m.length, 1, rnd(seed));
			munmap(p, m.length);
		}
		account(OP_UNMAP, ma_unmap(d->v.fd, m.handle), e_unmap, d->name);
	}
	pthread_rwlock_unlock(&ctl_lock);
}

/*
 * threads 2,3: mmap of the legacy BAR offset; pread/pwrite of the legacy
 * BAR.  One time in 8 alone (the others hold no handle then, so the BAR
 * is the core's again and a legacy mmap must work).
 */
static void role_legacy(struct sdev *d, uint64_t *seed)
{
	static __thread uint8_t buf[K64];
	uint64_t off = (rnd(seed) % (WIN / MA_PAGE - 16)) * MA_PAGE;
	size_t len = (size_t)(1 + rnd(seed) % 16) * MA_PAGE;
	void *p;
	int rw = rnd(seed) & 1;

	/* MEMATTR_STRESS_TAKEOVER=0: no core pread/pwrite racing with MAP */
	if (rnd(seed) % 8 == 0 || (rw && !takeover))
		pthread_rwlock_wrlock(&ctl_lock);
	else
		pthread_rwlock_rdlock(&ctl_lock);
	if (!rw) {
		p = ma_map_fd(d->v.fd, d->legacy + off, len);
		account(OP_MMAP_L, p ? 0 : -errno, e_mmap_l, d->name);
		if (p) {
			touch(p, len, 1, rnd(seed));
			munmap(p, len);
		}
	} else {
		uint64_t o = off + rnd(seed) % MA_PAGE;
		size_t n = 1 + rnd(seed) % (sizeof(buf) - 1);

		if (o + n > WIN)
			n = WIN - o;
		if (rnd(seed) & 1)
			account(OP_RW_L, rawfd_pwrite(d->v.fd, d->legacy + o, buf, n), e_rw, d->name);
		else
			account(OP_RW_L, rawfd_pread(d->v.fd, d->legacy + o, buf, n), e_rw, d->name);
	}
	pthread_rwlock_unlock(&ctl_lock);
}

/* threads 4,5: pread/pwrite at handle offsets; ioeventfd on the BAR (alone) */
static void role_rw(struct sdev *d, uint64_t *seed)
{
	static __thread uint8_t buf[K64];
	struct vfio_device_feature_memattr_map m;
	int alone = rnd(seed) % 4 == 0;

	if (alone)
		pthread_rwlock_wrlock(&ctl_lock);
	else
		pthread_rwlock_rdlock(&ctl_lock);
	if (!alone) {
		if (do_map(d, d->v.fd, seed, &m) == 0) {
			uint64_t o = rnd(seed) % m.length;
			size_t n = (size_t)(1 + rnd(seed) % (m.length - o));

			if (n > sizeof(buf))
				n = sizeof(buf);
			if (rnd(seed) & 1)
				account(OP_RW_H, rawfd_pwrite(d->v.fd, m.mmap_offset + o, buf, n), e_rw, d->name);
			else
				account(OP_RW_H, rawfd_pread(d->v.fd, m.mmap_offset + o, buf, n), e_rw, d->name);
			account(OP_UNMAP, ma_unmap(d->v.fd, m.handle), e_unmap, d->name);
		}
	} else {
		struct vfio_device_ioeventfd ie = { .argsz = sizeof(ie), .flags = VFIO_DEVICE_IOEVENTFD_32 };
		int efd = eventfd(0, EFD_CLOEXEC);
		uint64_t one = 1;

		ie.offset = d->legacy + (rnd(seed) % (WIN / 4)) * 4;
		ie.data = rnd(seed) & 0xffffffffu;
		ie.fd = efd;
		if (efd >= 0) {
			int rc = ioctl(d->v.fd, VFIO_DEVICE_IOEVENTFD, &ie) ? -errno : 0;

			account(OP_IOEVENTFD, rc, e_ioev, d->name);
			if (!rc) {
				if (write(efd, &one, sizeof(one)) != sizeof(one))
					n_bad[OP_IOEVENTFD]++;
				ie.fd = -1;
				rc = ioctl(d->v.fd, VFIO_DEVICE_IOEVENTFD, &ie) ? -errno : 0;
				account(OP_IOEVENTFD, rc, e_ioev, d->name);
			}
			close(efd);
		}
	}
	pthread_rwlock_unlock(&ctl_lock);
}

/* thread 6: reset and memory disable/enable, a few times a second */
static void role_ctl(struct sdev *d, uint64_t *seed)
{
	struct timespec ts = { 0, 20 * 1000 * 1000 };

	nanosleep(&ts, NULL);
	pthread_rwlock_rdlock(&ctl_lock);
	if (rnd(seed) & 1) {
		if (d->v.info.flags & VFIO_DEVICE_FLAGS_RESET)
			account(OP_RESET, ioctl(d->v.fd, VFIO_DEVICE_RESET) ? -errno : 0, e_ctl, d->name);
	} else {
		int rc = cmd_memory(d->v.fd, 0);

		account(OP_MEMOFF, rc, e_ctl, d->name);
		ts.tv_nsec = 2 * 1000 * 1000;
		nanosleep(&ts, NULL);
		rc = cmd_memory(d->v.fd, 1);
		account(OP_MEMOFF, rc, e_ctl, d->name);
	}
	pthread_rwlock_unlock(&ctl_lock);
}

/*
 * thread 7: a second device fd: MAP, mmap, close the fd, fault, munmap;
 * handles belong to the device, so the first fd releases it.
 */
static void role_reopen(struct sdev *d, uint64_t *seed)
{
	struct vfio_device_feature_memattr_map m = { 0 };
	int fd;
	void *p = NULL;

	pthread_rwlock_rdlock(&ctl_lock);
	fd = vdev_get_fd(&d->v);
	if (d->v.mode == VDEV_CDEV) {
		/*
		 * The device cdev opens a device once (vfio_df_open()): the
		 * second open must be refused with EINVAL, which counts as
		 * this call's success; an fd is a failure.
		 */
		static const int e_none[] = { 0 };

		if (fd >= 0)
			close(fd);
		account(OP_REOPEN, fd == -EINVAL ? 0 : fd >= 0 ? -EEXIST : fd, e_none, d->name);
		pthread_rwlock_unlock(&ctl_lock);
		return;
	}
	account(OP_REOPEN, fd < 0 ? fd : 0, e_ctl, d->name);
	if (fd >= 0) {
		if (do_map(d, fd, seed, &m) == 0) {
			p = ma_map_fd(fd, m.mmap_offset, m.length);
			account(OP_MMAP_H, p ? 0 : -errno, e_mmap_h, d->name);
		}
		close(fd);	/* the mapping keeps the file */
		if (p) {
			touch(p, m.length, rnd(seed) & 1, rnd(seed));
			munmap(p, m.length);
		}
		if (m.handle)
			account(OP_UNMAP, ma_unmap(d->v.fd, m.handle), e_unmap, d->name);
	}
	pthread_rwlock_unlock(&ctl_lock);
}

/* Kernel stacks of our threads (a thread stuck in the kernel). */
static void dump_tasks(void)
{
	char path[128], line[256];
	int tid;

	for (tid = getpid(); tid < getpid() + 64; tid++) {
		FILE *f;

		snprintf(path, sizeof(path), "/proc/self/task/%d/stack", tid);
		f = fopen(path, "r");
		if (!f)
			continue;
		tap_diag("task %d kernel stack:", tid);
		while (fgets(line, sizeof(line), f)) {
			line[strcspn(line, "\n")] = 0;
			tap_diag("  %s", line);
		}
		fclose(f);
	}
}

static atomic_int role_of[NTHR], in_call[NTHR];

static void *worker(void *arg)
{
	int id = (int)(intptr_t)arg;
	uint64_t seed = 0x9E3779B97F4A7C15ull * (uint64_t)(id + 1);
	long it = 0;

	while (!atomic_load(&stop)) {
		struct sdev *d = &devs[(id + it++) % ndevs];

		atomic_store(&in_call[id], 1);
		switch (id) {
		case 0: case 1: role_map(d, &seed); break;
		case 2: case 3: role_legacy(d, &seed); break;
		case 4: case 5: role_rw(d, &seed); break;
		case 6: role_ctl(d, &seed); break;
		default: role_reopen(d, &seed); break;
		}
		atomic_store(&in_call[id], 0);
	}
	atomic_store(&role_of[id], 1);	/* finished */
	return NULL;
}

/* ----------------------------------------------------- takeover replay */
struct stalled {
	int fd;
	uint64_t off;
	uint8_t *buf;
	size_t len;
	atomic_int done;
	ssize_t ret;
	int err;
};

static void *stalled_pwrite(void *arg)
{
	struct stalled *s = arg;

	s->ret = pwrite(s->fd, s->buf, s->len, (off_t)s->off);
	s->err = errno;
	atomic_store(&s->done, 1);
	return NULL;
}

/*
 * One round: pwrite of 2 pages of the legacy BAR, the second page of the
 * user buffer registered with userfaultfd; when the kernel faults on it,
 * MAP the BAR (taking it over), then resolve the fault and let the write
 * finish.  Returns 0 when the round ran (rc of pwrite and MAP in *out),
 * -1 when the pwrite thread never came back (killed in the kernel).
 */
static int takeover_round(struct sdev *d, int uffd, uint64_t off, int *map_rc, ssize_t *wret)
{
	struct stalled s = { .fd = d->v.fd, .off = d->legacy + off, .len = 2 * MA_PAGE };
	struct uffdio_register reg = { 0 };
	struct vfio_device_feature_memattr_map m;
	struct uffd_msg msg;
	struct uffdio_copy cp = { 0 };
	struct pollfd pfd = { .fd = uffd, .events = POLLIN };
	static uint8_t src[4096] __attribute__((aligned(4096)));
	pthread_t t;
	int i, got = 0;

	s.buf = mmap(NULL, 2 * MA_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (s.buf == MAP_FAILED)
		return -2;
	memset(s.buf, 0x5a, MA_PAGE);	/* page 0 present, page 1 missing */
	reg.range.start = (uintptr_t)s.buf + MA_PAGE;
	reg.range.len = MA_PAGE;
	reg.mode = UFFDIO_REGISTER_MODE_MISSING;
	if (ioctl(uffd, UFFDIO_REGISTER, &reg)) {
		munmap(s.buf, 2 * MA_PAGE);
		return -2;
	}
	pthread_create(&t, NULL, stalled_pwrite, &s);
	if (poll(&pfd, 1, 5000) == 1 && read(uffd, &msg, sizeof(msg)) == sizeof(msg) &&
	    msg.event == UFFD_EVENT_PAGEFAULT)
		got = 1;
	/* the core is in the middle of its copy loop: take the BAR over */
	*map_rc = ma_map1(d->v.fd, d->bar, off, WIN - off, VFIO_MEMATTR_NC, &m);
	memset(src, 0xa5, sizeof(src));
	cp.dst = (uintptr_t)s.buf + MA_PAGE;
	cp.src = (uintptr_t)src;
	cp.len = MA_PAGE;
	if (got)
		ioctl(uffd, UFFDIO_COPY, &cp);
	for (i = 0; i < 500 && !atomic_load(&s.done); i++)
		usleep(10 * 1000);
	if (!atomic_load(&s.done)) {
		tap_diag("%s: the stalled pwrite did not return within 5 s (uffd fault seen: %d, MAP rc %s)",
			 d->name, got, ma_errname(-*map_rc));
		return -1;
	}
	pthread_join(t, NULL);
	*wret = s.ret < 0 ? -s.err : s.ret;
	if (*map_rc == 0)
		ma_unmap(d->v.fd, m.handle);
	munmap(s.buf, 2 * MA_PAGE);
	return got ? 0 : -3;
}

static int takeover_replay(struct sdev *d)
{
	int uffd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	struct uffdio_api api = { .api = UFFD_API };
	int r, ok = 1, taken = 0, map_rc = 0;
	ssize_t wret = 0;

	if (ma_nr_handles(d->v.fd, d->bar) != 0)
		tap_diag("%s: %d handles exist before the takeover replay", d->name, ma_nr_handles(d->v.fd, d->bar));
	if (uffd < 0 || ioctl(uffd, UFFDIO_API, &api)) {
		tap_diag("userfaultfd: %s", strerror(errno));
		return -1;
	}
	for (r = 0; r < 20 && ok; r++) {
		int rc = takeover_round(d, uffd, (uint64_t)(r % 8) * K64, &map_rc, &wret);

		if (rc == -1)
			return 0;	/* thread died in the kernel */
		if (rc < 0) {
			tap_diag("%s: round %d did not stall in userfaultfd (rc %d)", d->name, r, rc);
			ok = 0;
			break;
		}
		taken += map_rc == 0;
		/* the write must finish whole or fail with an errno the uAPI allows */
		if (wret != (ssize_t)(2 * MA_PAGE) && wret != -EIO && wret != -EBUSY) {
			tap_diag("%s: round %d: stalled pwrite returned %zd", d->name, r, wret);
			ok = 0;
		}
		if (map_rc && map_rc != -EBUSY) {
			tap_diag("%s: round %d: MAP during the stalled pwrite: %s", d->name, r, ma_errname(-map_rc));
			ok = 0;
		}
	}
	tap_diag("%s: takeover replay: %d rounds, MAP won %d times during a stalled core pwrite", d->name, r, taken);
	close(uffd);
	return ok;
}

/* ---------------------------------------------------------------- main */
static int handles_left(const char *bdf)
{
	char path[256], line[256];
	FILE *f;
	int n = 0;

	snprintf(path, sizeof(path), "/sys/kernel/debug/vfio-pci-memattr/%s/handles", bdf);
	f = fopen(path, "r");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (line[0] != '#') {
			if (n++ < 4)
				tap_diag("%s: left: %s", bdf, line);
		}
	}
	fclose(f);
	return n;
}

static int setup_dev(struct sdev *d, const char *name, const char *bdf, int want_bar)
{
	struct vfio_device_feature_memattr_bar_info bi;
	struct vfio_region_info ri;
	int b;

	d->name = name;
	if (vdev_open(&d->v, bdf))
		return -1;
	if (!ma_driver_present(d->v.fd))
		return -2;
	for (b = 0; b < 6; b++) {
		if (want_bar >= 0 && b != want_bar)
			continue;
		if (ma_bar_info(d->v.fd, (uint32_t)b, &bi) || !(bi.bar_flags & VFIO_MEMATTR_BAR_MMAP) ||
		    bi.size < 2 * WIN || !(bi.supported & (1 << VFIO_MEMATTR_NC)))
			continue;
		d->bar = (unsigned int)b;
		d->bsz = bi.size;
		d->prefetch = !!(bi.bar_flags & VFIO_MEMATTR_BAR_PREFETCH);
		if (region_info(d->v.fd, d->bar, &ri))
			return -1;
		d->legacy = ri.offset;
		return ma_bar_phys(bdf, d->bar, &d->bphys, &d->bsz) ? -1 : 0;
	}
	return -3;
}

int main(void)
{
	const char *lbl = getenv("MEMATTR_KERNEL_LABEL"), *e;
	const char *b0, *b1;
	int secs = lbl && strstr(lbl, "-debug") ? 120 : 5, i, bad, ok;
	long total = 0;
	pthread_t t[NTHR];
	struct sigaction sa = { .sa_handler = on_sigbus };
	struct timespec t0, t1;
	double el;

	{
		pthread_rwlockattr_t ra;

		pthread_rwlockattr_init(&ra);
		pthread_rwlockattr_setkind_np(&ra, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
		pthread_rwlock_init(&ctl_lock, &ra);
	}
	e = getenv("MEMATTR_STRESS_SECONDS");
	if (e && atoi(e) > 0)
		secs = atoi(e);
	e = getenv("MEMATTR_STRESS_TAKEOVER");
	if (e && !strcmp(e, "0"))
		takeover = 0;
	tap_plan(7);
	b0 = ma_bdf_or_skip("MEMATTR_IVSHMEM0");
	b1 = ma_bdf_or_skip("MEMATTR_NVME");
	/* PAT state before any open: compared with the state after the last close */
	{
		uint64_t s, z;

		if (!ma_bar_phys(b0, 2, &s, &z))
			pat_snap_take(s, s + z, &devs[0].pat0);
	}
	if (setup_dev(&devs[0], "ivshmem0", b0, 2) || setup_dev(&devs[1], "nvme", b1, -1)) {
		tap_fail_n(7, "devices not usable with vfio-pci-memattr (driver missing or no mappable BAR)");
		return tap_done();
	}
	ndevs = 2;
	vdev_close(&devs[1].v);
	pat_snap_take(devs[1].bphys, devs[1].bphys + devs[1].bsz, &devs[1].pat0);
	if (vdev_open(&devs[1].v, b1)) {
		tap_fail_n(7, "reopen of the NVMe failed");
		return tap_done();
	}
	tap_diag("%d threads for %d s on %s BAR%u (%s) and %s BAR%u (%s), label %s", NTHR, secs,
		 b0, devs[0].bar, devs[0].prefetch ? "prefetchable" : "non-prefetchable",
		 b1, devs[1].bar, devs[1].prefetch ? "prefetchable" : "non-prefetchable", lbl ? lbl : "?");
	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, NULL);
	sigaction(SIGSEGV, &sa, NULL);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < NTHR; i++)
		pthread_create(&t[i], NULL, worker, (void *)(intptr_t)i);
	sleep((unsigned int)secs);
	atomic_store(&stop, 1);
	/* a thread stuck in the kernel for 60 s is a deadlock: show where */
	for (i = 0; i < 600; i++) {
		int j, left = 0;

		for (j = 0; j < NTHR; j++)
			left += !atomic_load(&role_of[j]);
		if (!left)
			break;
		usleep(100 * 1000);
	}
	if (i == 600) {
		for (i = 0; i < NTHR; i++)
			if (!atomic_load(&role_of[i]))
				tap_diag("thread %d (role %d) still in a call after 60 s", i, i);
		dump_tasks();
		tap_fail_n(7, "racing threads stuck in the kernel (deadlock); kernel stacks above");
		fflush(stdout);
		_exit(1);
	}
	for (i = 0; i < NTHR; i++)
		pthread_join(t[i], NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	el = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;

	bad = 0;
	ok = 1;
	for (i = 0; i < OP_NR; i++) {
		long n = n_ok[i] + n_err[i] + n_bad[i];

		total += n;
		bad += (int)n_bad[i];
		char errs[256] = "";
		size_t el2 = 0;
		int k;

		for (k = 1; k < 136; k++)
			if (n_errno[i][k] && el2 < sizeof(errs) - 40)
				el2 += (size_t)snprintf(errs + el2, sizeof(errs) - el2, " %s:%ld", ma_errname(k),
							(long)n_errno[i][k]);
		tap_diag("%-22s %8ld ok %8ld allowed errors %4ld bad;%s", op_names[i], (long)n_ok[i],
			 (long)n_err[i], (long)n_bad[i], errs);
		/* every kind of call must have run and succeeded at least once */
		if (n_ok[i] == 0 && i != OP_RESET && i != OP_IOEVENTFD) {
			tap_diag("%s never succeeded", op_names[i]);
			ok = 0;
		}
	}
	tap_diag("%ld calls in %.1f s (%.0f calls/s), %ld SIGBUS on revoked mappings", total, el,
		 (double)total / el, (long)n_sigbus);
	tap_ok(total > 0 && ok, "every kind of racing call ran and succeeded at least once (%ld calls)", total);
	tap_ok(bad == 0, "every racing call returned success or an allowed errno (%d did not)", bad);

	for (i = 0; i < ndevs; i++) {
		int nh = ma_nr_handles(devs[i].v.fd, devs[i].bar), nl = handles_left(devs[i].v.bdf);
		int64_t st = -1;

		ma_stat(devs[i].v.bdf, "handles", &st);
		tap_ok(nh == 0 && nl == 0 && st == 0,
		       "%s: no handle left after the race (BAR_INFO nr_handles %d, debugfs handles lines %d, stats handles %lld)",
		       devs[i].name, nh, nl, (long long)st);
	}

	if (takeover) {
		int r = takeover_replay(&devs[0]);

		if (r < 0)
			tap_fail_n(1, "takeover replay: userfaultfd unavailable");
		else
			tap_ok(r == 1, "pwrite of a BAR stalled in copy_from_user while MAP takes the BAR over: "
			       "the write completes, no oops");
	} else {
		tap_skip("MEMATTR_STRESS_TAKEOVER=0", "takeover replay");
	}

	for (i = 0; i < ndevs; i++)
		vdev_close(&devs[i].v);
	ok = 1;
	for (i = 0; i < ndevs; i++)
		ok &= pat_snap_same(devs[i].bphys, devs[i].bphys + devs[i].bsz, &devs[i].pat0);
	tap_ok(ok, "PAT list of both BARs as before the first open");
	ok = handles_left(b0) <= 0 && handles_left(b1) <= 0;
	tap_ok(ok, "debugfs lists no handle after the last close");
	return tap_done();
}
