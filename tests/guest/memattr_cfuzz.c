// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * memattr_cfuzz - a seeded concurrency fuzzer of the device-fd uAPI of
 * vfio-pci-memattr, the sibling of memattr_fuzz (one thread, a model) and
 * memattr_stress (fixed roles): NWORK worker threads on two devices
 * (ivshmem0 and the NVMe controller) pick calls from a seeded PRNG while
 * NMUT mutator threads rewrite the arguments of the calls that are
 * running (TOCTOU): the offset (BAR0 <-> the data BAR) and fd (eventfd <->
 * -1) of VFIO_DEVICE_IOEVENTFD, index/offset/length/nr_prefs/prefs of MAP,
 * the handle of UNMAP, the ranges of a DMABUF export.
 *
 * Calls: MAP (private, mutated, or with its argument in a read-only page:
 * the EFAULT rollback), UNMAP of guessed ids (the next id, 0x10000 +
 * small), HANDLE, BAR_INFO, DMABUF export / _ATTR SET and GET / REVOKE /
 * mmap / close (skipped, saying why, without the feature), ioeventfd
 * add / delete / probe / signal, VFIO_DEVICE_RESET, memory disable and
 * enable through PCI_COMMAND, mmap of a handle + touch + munmap, mremap,
 * partial munmap, fork (the child touches its copies), a second device fd
 * closed while its mapping lives, pread/pwrite of the data BAR (taken over
 * or not) and of handle offsets.  The long-lived fd of each device stays.
 * Every other second is calm: the workers first give back the handles,
 * mappings and DMABUFs they keep and call ioeventfds more, so that the
 * BARs alternate between taken over and carrying ioeventfds.
 *
 * Oracles:
 *  - every call returns success or an errno the uAPI allows for it
 *    (include/uapi/linux/vfio_memattr.h, docs/design.md);
 *  - MAP (and DMABUF export) never succeeds on a BAR while an ioeventfd
 *    lives on it.  Each thread's ioeventfds carry its own data value, so
 *    only it changes them; an ioeventfd counts as living on BAR b from the
 *    moment a call with a private argument proved it there (created it,
 *    or found it with EEXIST) until its delete starts (per BAR: a count
 *    and an epoch bumped before every delete).  A MAP that starts with the
 *    count above 0 and ends with the epoch unchanged raced nothing: it must
 *    fail.  After a mutated call (which BAR it acted on is unknown) the
 *    thread probes both BARs with private creates; EBUSY there, followed
 *    by EEXIST later, means the BAR was taken while ours lived on it.  A
 *    delete of an ioeventfd known to live must succeed;
 *  - /dev/kmsg, read from the start of the test by a thread of its own,
 *    has no WARNING:, BUG:, refcount_t, KASAN, UBSAN, possible circular
 *    (lockdep) or Oops line;
 *  - afterwards (everything joined, unmapped and closed): no handle the
 *    threads did not know of, BAR_INFO nr_handles 0 on every BAR, no
 *    write-combining PAT entry on the devices' BARs (x86), and a fresh
 *    MAP + mmap + write + read back works on each device.
 * The first failure stops the run; it is printed with the time it took to
 * find it and the command that runs the same seed again.
 *
 * Seed: "# seed 0x..." is printed; MEMATTR_CFUZZ_SEED=0x... (or "random")
 * sets it; each thread's PRNG is derived from it, so a seed replays every
 * thread's sequence of calls (not the interleaving).  Time:
 * MEMATTR_CFUZZ_SECONDS, default 300 on a "-debug" kernel label, else 45.
 * MEMATTR_CFUZZ_SKIP=op,op... leaves operations out (names as printed).
 *
 * Writes (random data, no host check) only ivshmem0 BAR2 0x1a0000-0x1fffff
 * and the NVMe CMB (not persistent); ioeventfds write ivshmem0's IntrMask
 * and 4 bytes at BAR2 0x0 (in memattr_stress's random data), the NVMe's
 * read-only VS register and its CMB at 0x8.
 */
#define _GNU_SOURCE
#define _FILE_OFFSET_BITS 64
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/pci_regs.h>

#include "lib/tap.h"
#include "lib/sysfs.h"
#include "lib/vfio.h"
#include "lib/memattr.h"
#include "lib/mmio.h"
#include "lib/pat.h"
#include "lib/sigbus.h"
#include "lib/kmsg.h"

#define NWORK	6
#define NMUT	2
#define NDEV	2
#define MAXOWN	4	/* handles a worker remembers */
#define MAXMAP	2	/* mappings a worker keeps */
#define MAXDBUF	1	/* DMABUFs a worker keeps per device */
#define NCAND	4	/* values a mutator picks from, per field */
#define NTESTS	(4 + 3 * NDEV)

/* ------------------------------------------------------------ devices */
struct fdev {
	const char *name;
	struct vdev v;
	unsigned int bar;		/* the data BAR (MAP, DMABUF) */
	uint64_t win, winsz;		/* where in it we may write */
	uint64_t legacy[6];		/* region offsets */
	struct vfio_device_feature_memattr_bar_info bi[6];
	uint64_t bphys[6], bsize[6];
	/* ioeventfd slots: [0] on BAR0, [1] on the data BAR */
	unsigned int ev_bar[2];
	uint64_t ev_pos[2];
	/* ioeventfds proven to live on each BAR; epoch bumped before each delete */
	atomic_int held[6];
	atomic_uint epoch[6];
	atomic_uint last_id;		/* the newest handle id seen */
};

static struct fdev devs[NDEV];
static int have_dmabuf, cdev_mode;
static atomic_int stop;
/*
 * Every other second is calm: the workers give back what they keep
 * (handles, mappings, DMABUFs) before anything else, so the BARs come
 * free and ioeventfds can be made on them; then MAPs race those.
 */
static atomic_int calm;
static struct timespec t0;
static uint64_t seed;
static int secs;

static double elapsed(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0.tv_sec) + (double)(t.tv_nsec - t0.tv_nsec) / 1e9;
}

/* ------------------------------------------------------------ failures */
enum fkind { F_ERRNO, F_IOEV, F_KMSG, F_NR };
static atomic_int nfail[F_NR];
static pthread_mutex_t fail_lock = PTHREAD_MUTEX_INITIALIZER;
static int nprinted;
static double first_fail_t = -1;

static void TAP_PRINTF(2, 3) fail(enum fkind k, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	atomic_fetch_add(&nfail[k], 1);
	pthread_mutex_lock(&fail_lock);
	if (first_fail_t < 0) {
		first_fail_t = elapsed();
		tap_diag("FIRST FAILURE after %.2f s: %s", first_fail_t, msg);
	} else if (nprinted < 20) {
		tap_diag("failure at %.2f s: %s", elapsed(), msg);
	}
	nprinted++;
	pthread_mutex_unlock(&fail_lock);
	atomic_store(&stop, 1);
}

/* ------------------------------------------------------------ operations */
enum op {
	OP_MAP, OP_MAP_MUT, OP_MAP_EFAULT, OP_UNMAP, OP_UNMAP_MUT, OP_HANDLE, OP_BAR_INFO,
	OP_DMABUF, OP_DMABUF_ATTR, OP_DMABUF_REVOKE, OP_DMABUF_MMAP, OP_DMABUF_CLOSE,
	OP_IOEV, OP_IOEV_MUT, OP_IOEV_PROBE, OP_IOEV_DEL, OP_IOEV_SIGNAL,
	OP_RESET, OP_MEMORY, OP_MMAP, OP_MUNMAP, OP_TOUCH, OP_MREMAP, OP_SPLIT, OP_FORK, OP_REOPEN,
	OP_RW, OP_NR
};
static const char *const op_names[OP_NR] = {
	"map", "map-mutated", "map-efault", "unmap", "unmap-mutated", "handle", "bar-info",
	"dmabuf", "dmabuf-attr", "dmabuf-revoke", "dmabuf-mmap", "dmabuf-close",
	"ioeventfd", "ioeventfd-mutated", "ioeventfd-probe", "ioeventfd-delete", "ioeventfd-signal",
	"reset", "memory", "mmap", "munmap", "touch", "mremap", "split", "fork", "reopen",
	"pread-pwrite",
};
/*
 * How often a worker picks each (an op without what it needs does
 * nothing).  Handles, mappings and DMABUFs live briefly, so that the BARs
 * are often free again: an ioeventfd can only be made on a BAR nobody
 * took over.
 */
static const int op_weight[OP_NR] = {
	[OP_MAP] = 10, [OP_MAP_MUT] = 6, [OP_MAP_EFAULT] = 8, [OP_UNMAP] = 12, [OP_UNMAP_MUT] = 4,
	[OP_HANDLE] = 3, [OP_BAR_INFO] = 2, [OP_DMABUF] = 3, [OP_DMABUF_ATTR] = 2,
	[OP_DMABUF_REVOKE] = 1, [OP_DMABUF_MMAP] = 1, [OP_DMABUF_CLOSE] = 3, [OP_IOEV] = 12,
	[OP_RESET] = 1, [OP_MEMORY] = 1, [OP_MMAP] = 6, [OP_MUNMAP] = 4, [OP_TOUCH] = 2, [OP_MREMAP] = 2, [OP_SPLIT] = 2,
	[OP_FORK] = 1, [OP_REOPEN] = 1, [OP_RW] = 6,
};
static int op_off[OP_NR];	/* MEMATTR_CFUZZ_SKIP */
static atomic_long n_ok[OP_NR], n_err[OP_NR], n_errno[OP_NR][136];
static atomic_long n_sigbus, n_map_vs_ioev, n_stray;
static const char *skip_dmabuf;	/* why the DMABUF ops are left out */

static const int e_none[] = { 0 };
/* REVOKE of a DMABUF revoked already (an earlier REVOKE of this thread): EBADFD since 2.2 */
static const int e_revoke[] = { EBADFD, 0 };
static const int e_map[] = { EINVAL, EOPNOTSUPP, EPERM, EBUSY, ENOSPC, ENOMEM, 0 };
static const int e_map_efault[] = { EFAULT, EINVAL, EOPNOTSUPP, EPERM, EBUSY, ENOSPC, ENOMEM, 0 };
static const int e_enoent[] = { ENOENT, 0 };
static const int e_export[] = { EINVAL, EOPNOTSUPP, EBUSY, ENOSPC, ENOMEM, EMFILE, ENFILE, 0 };
static const int e_dattr_set[] = { ENODEV, EBUSY, EPERM, EOPNOTSUPP, 0 };
static const int e_dmmap[] = { ENODEV, 0 };
static const int e_ioev_new[] = { EBUSY, 0 };		/* create of an ioeventfd none of ours matches */
/*
 * none of ours lives: create, or delete of nothing; the core's byte-wise
 * copy can read a field torn between two values (fd -249: EINVAL, fd 255:
 * EBADF); the slots share their offset in the BAR so that a torn offset
 * is one of them
 */
static const int e_ioev_mut[] = { EBUSY, ENODEV, EINVAL, EBADF, 0 };
static const int e_ioev_probe[] = { EBUSY, EEXIST, 0 };
static const int e_mmap_h[] = { EINVAL, EBUSY, 0 };
static const int e_ctl[] = { EINVAL, EBUSY, EAGAIN, ENOTTY, EIO, 0 };	/* as memattr_stress */
/*
 * memory disabled (EIO); a handle's offsets once it is gone (EINVAL).  Not
 * EBUSY: on 6.1 and 6.12, which map a BAR when it is first used, the
 * driver sets the core's mapping up under its lock before the core's
 * read/write, mmap or VFIO_DEVICE_IOEVENTFD looks (rw.c), so two first
 * uses of a BAR at once (after a handback, every use is a first one) no
 * longer find the region requested and not yet mapped.
 */
static const int e_rw[] = { EIO, EINVAL, 0 };

/* Counts a call; rc 0 or -errno; an errno outside @allowed is a failure. */
static int account(enum op op, const struct fdev *d, int rc, const int *allowed)
{
	int i;

	if (rc >= 0) {
		n_ok[op]++;
		return rc;
	}
	if (-rc < 136)
		n_errno[op][-rc]++;
	for (i = 0; allowed[i]; i++)
		if (-rc == allowed[i]) {
			n_err[op]++;
			return rc;
		}
	fail(F_ERRNO, "%s on %s: %s, not an errno the uAPI allows here", op_names[op], d->name, ma_errname(-rc));
	return rc;
}

/* ------------------------------------------------------------ workers */
/*
 * Arguments the mutators rewrite while the call runs.  @active says which
 * one is in a call (0: none); cand_* are the values they choose from.
 */
enum { A_NONE, A_IOEV, A_MAP, A_UNMAP, A_DMABUF, A_EFAULT };
struct shared {
	atomic_int active;
	struct vfio_device_ioeventfd ioev;
	uint64_t ioev_off[2];
	int32_t ioev_fd[2];
	uint64_t map[(sizeof(struct vfio_device_feature) + sizeof(struct vfio_device_feature_memattr_map)) / 8 + 1];
	uint32_t cand_index[NCAND], cand_nr[NCAND];
	uint64_t cand_off[NCAND], cand_len[NCAND];
	uint8_t cand_pref[NCAND];
	uint64_t unmap[(sizeof(struct vfio_device_feature) + sizeof(struct vfio_device_feature_memattr_unmap)) / 8 + 1];
	uint32_t cand_id[NCAND];
	uint64_t dbuf[(sizeof(struct vfio_device_feature) + sizeof(struct vfio_device_feature_memattr_dmabuf) +
		       2 * sizeof(struct vfio_memattr_dma_range)) / 8 + 1];
	volatile struct vfio_device_feature_memattr_map *efault_rw;	/* the RW alias of the EFAULT page */
	/* the payloads of map, unmap and dbuf */
	volatile struct vfio_device_feature_memattr_map *map_p;
	volatile struct vfio_device_feature_memattr_unmap *unmap_p;
	volatile struct vfio_device_feature_memattr_dmabuf *dbuf_p;
};

enum { EV_ABSENT, EV_HELD, EV_UNKNOWN };
struct evslot {
	int st;
	int saw_busy;		/* UNKNOWN: a probe found the BAR taken */
	double since;		/* UNKNOWN: from when ours may live there */
};

struct own {			/* a handle this worker made */
	int used, dev, writable;
	uint32_t id, bar;
	uint64_t off, len, moff;
};

struct kept {			/* a mapping this worker keeps */
	int used, dev, writable;
	uint8_t *p;
	size_t len;
};

struct worker {
	int id;
	uint64_t rng;
	struct shared sh;
	struct own h[MAXOWN];
	struct kept m[MAXMAP];
	int dbuf[NDEV][MAXDBUF];
	int efd;
	uint64_t ev_data;	/* this worker's ioeventfd data (| device) */
	struct evslot ev[NDEV][2];
	uint8_t *efault_ro;	/* read-only page: MAP's answer cannot be written back */
	pthread_t t;
};

static struct worker wk[NWORK];
static atomic_long ncalls;

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static uint64_t below(struct worker *w, uint64_t n)
{
	return n ? rnd(&w->rng) % n : 0;
}

/* splitmix64: independent per-thread seeds from the one printed */
static uint64_t derive(uint64_t s, uint64_t k)
{
	uint64_t z = s + 0x9E3779B97F4A7C15ull * (k + 1);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	z ^= z >> 31;
	return z ? z : 1;
}

static int feat_call(int fd, void *buf)
{
	ncalls++;
	return ioctl(fd, VFIO_DEVICE_FEATURE, buf) < 0 ? -errno : 0;
}

static int ioev_call(int fd, void *arg)
{
	ncalls++;
	return ioctl(fd, VFIO_DEVICE_IOEVENTFD, arg) < 0 ? -errno : 0;
}

/* A page of @d's window: a random page-aligned offset and up to @maxpg pages inside it. */
static void pick_range(struct worker *w, const struct fdev *d, uint64_t maxpg, uint64_t *off, uint64_t *len)
{
	uint64_t pages = d->winsz / MA_PAGE, pg = below(w, pages), n = 1 + below(w, maxpg);

	if (pg + n > pages)
		n = pages - pg;
	*off = d->win + pg * MA_PAGE;
	*len = n * MA_PAGE;
}

/* a handle id worth guessing: the next one, the newest ones, or 0x10000 + small */
static uint32_t guess_id(struct worker *w, struct fdev *d)
{
	if (below(w, 4) == 0)
		return VFIO_MEMATTR_HANDLE_INDEX_BASE + (uint32_t)below(w, 16);
	return atomic_load(&d->last_id) + (below(w, 4) ? 1 : (uint32_t)below(w, 3));
}

static void note_id(struct fdev *d, uint32_t id)
{
	uint32_t cur = atomic_load(&d->last_id);

	while (id > cur && !atomic_compare_exchange_weak(&d->last_id, &cur, id))
		;
}

static void remember(struct worker *w, int dev, uint32_t id, uint32_t bar, uint64_t off, uint64_t len,
		     uint64_t moff)
{
	const struct fdev *d = &devs[dev];
	int i;

	for (i = 0; i < MAXOWN; i++)
		if (!w->h[i].used)
			break;
	if (i == MAXOWN) {	/* full: forget one (its handle stays for the sweep) */
		i = (int)below(w, MAXOWN);
		account(OP_UNMAP, &devs[w->h[i].dev], ma_unmap(devs[w->h[i].dev].v.fd, w->h[i].id), e_enoent);
	}
	w->h[i] = (struct own){ .used = 1, .dev = dev, .id = id, .bar = bar, .off = off, .len = len,
				.moff = moff, .writable = bar == d->bar && off >= d->win &&
				off + len <= d->win + d->winsz };
}

/*
 * The ioeventfd oracle around a call that may take BAR(s) over: @snap
 * before it, @check after its success on @bar.
 */
struct evsnap {
	int held[6];
	unsigned int epoch[6];
};

static void ev_snap(struct fdev *d, struct evsnap *s)
{
	int b;

	for (b = 0; b < 6; b++) {
		s->epoch[b] = atomic_load(&d->epoch[b]);
		s->held[b] = atomic_load(&d->held[b]);
	}
}

static void ev_check(struct fdev *d, const struct evsnap *s, unsigned int bar, int rc, const char *what)
{
	if (bar >= 6 || !s->held[bar])
		return;
	if (atomic_load(&d->epoch[bar]) != s->epoch[bar])
		return;		/* an ioeventfd went meanwhile: nothing proven */
	n_map_vs_ioev++;
	if (!rc)
		fail(F_IOEV, "%s of %s BAR%u succeeded while %d ioeventfd(s) lived on that BAR for the whole call",
	     what, d->name, bar, s->held[bar]);
}

/* HANDLE of @id: its BAR (the truth about a mutated MAP), or -1 (gone meanwhile) */
static int handle_check(struct fdev *d, uint32_t id, struct vfio_device_feature_memattr_handle *q)
{
	int rc = ma_handle(d->v.fd, id, q);

	ncalls++;
	if (account(OP_HANDLE, d, rc, e_enoent))
		return -1;
	if (q->index >= 6 || q->attr >= MA_NR_ATTRS || !q->length || (q->offset | q->length) % MA_PAGE ||
	    q->offset + q->length > ((d->bsize[q->index] + MA_PAGE - 1) & ~(MA_PAGE - 1)) ||
	    q->offset + q->length < q->offset) {
		fail(F_ERRNO, "HANDLE %#x of %s: BAR%u [%#llx+%#llx] %s is not a range MAP may give", id, d->name,
		     q->index, (unsigned long long)q->offset, (unsigned long long)q->length, attr_name(q->attr));
		return -1;
	}
	return (int)q->index;
}

static void op_map(struct worker *w, int dev)
{
	struct fdev *d = &devs[dev];
	struct vfio_device_feature_memattr_map m;
	uint8_t prefs[3];
	unsigned int nr = 1 + (unsigned int)below(w, 3), k, bar = d->bar;
	uint64_t off, len;
	struct evsnap s;
	int rc;

	pick_range(w, d, 16, &off, &len);
	if (below(w, 8) == 0) {		/* the other BARs: registers, nothing, too small */
		bar = (unsigned int)below(w, 6);
		off = 0;
		len = MA_PAGE;
	}
	for (k = 0; k < nr; k++)
		prefs[k] = (uint8_t)below(w, MA_NR_ATTRS);
	ev_snap(d, &s);
	rc = ma_map(d->v.fd, bar, off, len, prefs, nr, &m);
	ncalls++;
	ev_check(d, &s, bar, rc, "MAP");
	if (account(OP_MAP, d, rc, e_map))
		return;
	note_id(d, m.handle);
	remember(w, dev, m.handle, bar, off, len, m.mmap_offset);
}

/* MAP with the argument rewritten by the mutators while it runs */
static void op_map_mut(struct worker *w, int dev)
{
	struct fdev *d = &devs[dev];
	struct shared *sh = &w->sh;
	struct vfio_device_feature *f = (void *)sh->map;
	volatile struct vfio_device_feature_memattr_map *m = sh->map_p;
	struct vfio_device_feature_memattr_handle q;
	struct evsnap s;
	uint64_t off, len;
	int rc, k, bar;

	for (k = 0; k < NCAND; k++) {
		pick_range(w, d, 8, &off, &len);
		sh->cand_off[k] = off;
		sh->cand_len[k] = len;
		sh->cand_index[k] = d->bar;
		sh->cand_nr[k] = 1 + (uint32_t)below(w, 3);
		sh->cand_pref[k] = (uint8_t)below(w, MA_NR_ATTRS);
	}
	/* one bad value of each: another BAR, unaligned, zero, too many prefs, an unknown attribute */
	sh->cand_index[0] = (uint32_t)below(w, 6);
	sh->cand_off[1] += below(w, 2) ? 1 + below(w, MA_PAGE - 1) : d->bsize[d->bar];
	sh->cand_len[1] = below(w, 2) ? 0 : d->bsize[d->bar];
	sh->cand_nr[1] = below(w, 2) ? 0 : VFIO_MEMATTR_MAX_PREFS + 1;
	sh->cand_pref[1] = below(w, 4) ? sh->cand_pref[1] : MA_NR_ATTRS;
	memset(sh->map, 0, sizeof(sh->map));
	f->argsz = sizeof(*f) + sizeof(*m);
	f->flags = VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_MEMATTR_MAP;
	k = (int)below(w, NCAND);
	m->index = sh->cand_index[(k + 1) % NCAND];	/* start from good values mostly */
	m->offset = sh->cand_off[(k + 2) % NCAND];
	m->length = sh->cand_len[(k + 2) % NCAND];
	m->nr_prefs = sh->cand_nr[(k + 2) % NCAND];
	m->prefs[0] = sh->cand_pref[(k + 2) % NCAND];
	ev_snap(d, &s);
	atomic_store(&sh->active, A_MAP);
	rc = feat_call(d->v.fd, sh->map);
	atomic_store(&sh->active, A_NONE);
	if (account(OP_MAP_MUT, d, rc, e_map))
		return;
	note_id(d, m->handle);
	bar = handle_check(d, m->handle, &q);
	if (bar < 0)
		return;		/* unmapped by a guess meanwhile */
	ev_check(d, &s, (unsigned int)bar, 0, "mutated MAP");
	remember(w, dev, m->handle, (uint32_t)bar, q.offset, q.length, q.mmap_offset);
}

/*
 * MAP whose argument page is read-only: the kernel reads it, creates the
 * handle (the next id, which other threads guess), fails to write the
 * answer and must take the handle back (EFAULT), also while an UNMAP of
 * that id races with it.  The mutators rewrite it through a writable alias.
 */
static void op_map_efault(struct worker *w, int dev)
{
	struct fdev *d = &devs[dev];
	struct vfio_device_feature hdr = { .argsz = sizeof(hdr) + sizeof(struct vfio_device_feature_memattr_map),
					   .flags = VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_MEMATTR_MAP };
	volatile struct vfio_device_feature_memattr_map *m = w->sh.efault_rw;
	uint64_t off, len;
	int rc, k;

	pick_range(w, d, 8, &off, &len);
	memcpy((void *)((uint8_t *)m - sizeof(hdr)), &hdr, sizeof(hdr));
	m->flags = 0;
	m->reserved = 0;
	m->index = d->bar;
	m->offset = off;
	m->length = len;
	m->nr_prefs = 1;
	for (k = 0; k < VFIO_MEMATTR_MAX_PREFS; k++)
		m->prefs[k] = 0;
	m->prefs[0] = (uint8_t)(below(w, 2) ? VFIO_MEMATTR_NC : VFIO_MEMATTR_DEV);
	for (k = 0; k < NCAND; k++) {	/* the mutators keep to valid ranges here */
		pick_range(w, d, 8, &w->sh.cand_off[k], &w->sh.cand_len[k]);
		w->sh.cand_index[k] = d->bar;
		w->sh.cand_nr[k] = 1;
		w->sh.cand_pref[k] = m->prefs[0];
	}
	atomic_store(&w->sh.active, below(w, 2) ? A_EFAULT : A_NONE);
	rc = feat_call(d->v.fd, w->efault_ro);
	atomic_store(&w->sh.active, A_NONE);
	if (!rc) {
		fail(F_ERRNO, "MAP with its argument in a read-only page succeeded on %s", d->name);
		return;
	}
	account(OP_MAP_EFAULT, d, rc, e_map_efault);
}

static void forget_own(struct worker *w, uint32_t id, int dev)
{
	int i;

	for (i = 0; i < MAXOWN; i++)
		if (w->h[i].used && w->h[i].dev == dev && w->h[i].id == id)
			w->h[i].used = 0;
}

static int pick_own(struct worker *w, int dev)
{
	int i, k = (int)below(w, MAXOWN);

	for (i = 0; i < MAXOWN; i++)
		if (w->h[(k + i) % MAXOWN].used && w->h[(k + i) % MAXOWN].dev == dev)
			return (k + i) % MAXOWN;
	return -1;
}

static void op_unmap(struct worker *w, int dev)
{
	struct fdev *d = &devs[dev];
	int i = pick_own(w, dev), n;
	uint32_t id;

	if (i >= 0 && below(w, 2)) {
		id = w->h[i].id;
		w->h[i].used = 0;
		ncalls++;
		account(OP_UNMAP, d, ma_unmap(d->v.fd, id), e_enoent);
		return;
	}
	/* a burst of guesses: the id a MAP running now gets is the next one */
	for (n = 1 + (int)below(w, 16); n > 0; n--) {
		id = guess_id(w, d);
		forget_own(w, id, dev);
		ncalls++;
		account(OP_UNMAP, d, ma_unmap(d->v.fd, id), e_enoent);
	}
}

static void op_unmap_mut(struct worker *w, int dev)
{
	struct fdev *d = &devs[dev];
	struct shared *sh = &w->sh;
	struct vfio_device_feature *f = (void *)sh->unmap;
	volatile struct vfio_device_feature_memattr_unmap *u = sh->unmap_p;
	int k, rc;

	for (k = 0; k < NCAND; k++)
		sh->cand_id[k] = guess_id(w, d);
	memset(sh->unmap, 0, sizeof(sh->unmap));
	f->argsz = sizeof(*f) + sizeof(*u);
	f->flags = VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_MEMATTR_UNMAP;
	u->handle = sh->cand_id[0];
	atomic_store(&sh->active, A_UNMAP);
	rc = feat_call(d->v.fd, sh->unmap);
	atomic_store(&sh->active, A_NONE);
	/* which id went is unknown: own records of it answer ENOENT later */
	account(OP_UNMAP_MUT, d, rc, e_enoent);
}

static void op_handle(struct worker *w, int dev)
{
	struct vfio_device_feature_memattr_handle q;
	int i = pick_own(w, dev);

	handle_check(&devs[dev], i >= 0 && below(w, 2) ? w->h[i].id : guess_id(w, &devs[dev]), &q);
}

static void op_bar_info(struct worker *w, int dev)
{
	struct vfio_device_feature_memattr_bar_info bi;
	struct fdev *d = &devs[dev];

	ncalls++;
	account(OP_BAR_INFO, d, ma_bar_info(d->v.fd, (uint32_t)below(w, 6), &bi), e_none);
}

/* ------------------------------------------------------------ DMABUF */
static int *free_dbuf(struct worker *w, int dev)
{
	int i;

	for (i = 0; i < MAXDBUF; i++)
		if (w->dbuf[dev][i] < 0)
			return &w->dbuf[dev][i];
	return NULL;
}

static int *pick_dbuf(struct worker *w, int dev)
{
	int i, k = (int)below(w, MAXDBUF);

	for (i = 0; i < MAXDBUF; i++)
		if (w->dbuf[dev][(k + i) % MAXDBUF] >= 0)
			return &w->dbuf[dev][(k + i) % MAXDBUF];
	return NULL;
}

static void op_dmabuf(struct worker *w, int dev)
{
	struct fdev *d = &devs[dev];
	struct shared *sh = &w->sh;
	struct vfio_device_feature *f = (void *)sh->dbuf;
	volatile struct vfio_device_feature_memattr_dmabuf *x = sh->dbuf_p;
	int *slot = free_dbuf(w, dev), k, rc;
	struct evsnap s;

	if (!slot) {		/* full: close one */
		slot = pick_dbuf(w, dev);
		close(*slot);
		*slot = -1;
	}
	for (k = 0; k < NCAND; k++)
		pick_range(w, d, 4, &sh->cand_off[k], &sh->cand_len[k]);
	sh->cand_off[0] += below(w, 2) ? 1 + below(w, MA_PAGE - 1) : d->bsize[d->bar];	/* bad values */
	sh->cand_len[0] = below(w, 2) ? 0 : MA_PAGE + 1;
	memset(sh->dbuf, 0, sizeof(sh->dbuf));
	x->region_index = d->bar;
	x->open_flags = O_RDWR | O_CLOEXEC;
	x->nr_ranges = 1 + (uint32_t)below(w, 2);
	for (k = 0; k < 2; k++) {
		x->dma_ranges[k].offset = sh->cand_off[1 + k];
		x->dma_ranges[k].length = sh->cand_len[1 + k];
	}
	f->argsz = (uint32_t)(sizeof(*f) + sizeof(*x) + x->nr_ranges * sizeof(x->dma_ranges[0]));
	f->flags = VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_MEMATTR_DMABUF;
	ev_snap(d, &s);
	atomic_store(&sh->active, A_DMABUF);
	ncalls++;
	rc = ioctl(d->v.fd, VFIO_DEVICE_FEATURE, sh->dbuf);
	rc = rc < 0 ? -errno : rc;
	atomic_store(&sh->active, A_NONE);
	ev_check(d, &s, d->bar, rc < 0 ? rc : 0, "DMABUF export");
	if (account(OP_DMABUF, d, rc, e_export) < 0)
		return;
	*slot = rc;
}

static void op_dmabuf_attr(struct worker *w, int dev)
{
	struct fdev *d = &devs[dev];
	struct vfio_device_feature_memattr_dmabuf_attr a;
	int *slot = pick_dbuf(w, dev), set = (int)below(w, 2), rc;

	if (!slot)
		return;
	memset(&a, 0, sizeof(a));
	a.dmabuf_fd = *slot;
	if (set) {
		a.nr_prefs = 1 + (uint32_t)below(w, 2);
		a.prefs[0] = (uint8_t)below(w, MA_NR_ATTRS);
		a.prefs[1] = a.nr_prefs > 1 ? (uint8_t)below(w, MA_NR_ATTRS) : 0;
	}
	ncalls++;
	rc = ma_feat(d->v.fd, (set ? VFIO_DEVICE_FEATURE_SET : VFIO_DEVICE_FEATURE_GET) |
		     VFIO_DEVICE_FEATURE_MEMATTR_DMABUF_ATTR, &a, sizeof(a));
	account(OP_DMABUF_ATTR, d, rc, set ? e_dattr_set : e_none);
	if (!rc && (a.attr >= MA_NR_ATTRS || !a.size || a.size % MA_PAGE))
		fail(F_ERRNO, "DMABUF_ATTR of %s: attr %u size %#llx", d->name, a.attr, (unsigned long long)a.size);
}

static void op_dmabuf_revoke(struct worker *w, int dev)
{
	struct fdev *d = &devs[dev];
	struct vfio_device_feature_memattr_dmabuf_revoke r = { 0 };
	int *slot = pick_dbuf(w, dev);

	if (!slot)
		return;
	r.dmabuf_fd = *slot;
	ncalls++;
	account(OP_DMABUF_REVOKE, d, ma_feat(d->v.fd, VFIO_DEVICE_FEATURE_SET |
					     VFIO_DEVICE_FEATURE_MEMATTR_DMABUF_REVOKE, &r, sizeof(r)), e_revoke);
}

static void touch_range(struct worker *w, volatile uint8_t *p, size_t len, int writable, enum op op)
{
	size_t o;

	for (o = 0; o < len; o += MA_PAGE) {
		int sig = probe_access_mt((volatile uint64_t *)(p + o), writable, rnd(&w->rng), NULL);

		if (sig == SIGBUS) {
			n_sigbus++;
			return;
		}
		if (sig) {
			fail(F_ERRNO, "%s: touch raised %s", op_names[op], sig_name(sig));
			return;
		}
	}
	n_ok[OP_TOUCH]++;
}

static void op_dmabuf_mmap(struct worker *w, int dev)
{
	struct vfio_device_feature_memattr_dmabuf_attr a;
	int *slot = pick_dbuf(w, dev);
	void *p;

	if (!slot)
		return;
	memset(&a, 0, sizeof(a));
	a.dmabuf_fd = *slot;
	if (ma_feat(devs[dev].v.fd, VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_MEMATTR_DMABUF_ATTR, &a,
		    sizeof(a)) || !a.size)
		return;
	ncalls++;
	p = mmap(NULL, a.size, PROT_READ | PROT_WRITE, MAP_SHARED, *slot, 0);
	if (account(OP_DMABUF_MMAP, &devs[dev], p == MAP_FAILED ? -errno : 0, e_dmmap))
		return;
	touch_range(w, p, a.size, 1, OP_DMABUF_MMAP);
	munmap(p, a.size);
}

static void op_dmabuf_close(struct worker *w, int dev)
{
	int *slot = pick_dbuf(w, dev);

	if (!slot)
		return;
	ncalls++;
	account(OP_DMABUF_CLOSE, &devs[dev], close(*slot) ? -errno : 0, e_none);
	*slot = -1;
}

/* ------------------------------------------------------------ ioeventfds */
static void ev_arg(struct worker *w, int dev, int slot, int create, struct vfio_device_ioeventfd *ie)
{
	const struct fdev *d = &devs[dev];

	memset(ie, 0, sizeof(*ie));
	ie->argsz = sizeof(*ie);
	ie->flags = VFIO_DEVICE_IOEVENTFD_32;
	ie->offset = d->legacy[d->ev_bar[slot]] + d->ev_pos[slot];
	ie->data = w->ev_data | (uint64_t)dev;
	ie->fd = create ? w->efd : -1;
}

static void ev_held(struct worker *w, int dev, int slot)
{
	w->ev[dev][slot].st = EV_HELD;
	atomic_fetch_add(&devs[dev].held[devs[dev].ev_bar[slot]], 1);
}

/* A create with a private argument on an UNKNOWN slot: is ours there? */
static void ev_probe(struct worker *w, int dev, int slot)
{
	struct fdev *d = &devs[dev];
	struct evslot *e = &w->ev[dev][slot];
	struct vfio_device_ioeventfd ie;
	int rc;

	ev_arg(w, dev, slot, 1, &ie);
	rc = ioev_call(d->v.fd, &ie);
	if (account(OP_IOEV_PROBE, d, rc, e_ioev_probe) && rc != -EEXIST) {
		if (rc == -EBUSY)
			e->saw_busy = 1;	/* BAR taken now; if ours is there, that is the bug */
		return;
	}
	if (rc == -EEXIST && e->saw_busy)
		fail(F_IOEV, "%s BAR%u was taken over (an ioeventfd create got EBUSY) while an ioeventfd "
		     "made %.3f s earlier by a call with a mutated argument lived on it", d->name, d->ev_bar[slot],
		     elapsed() - e->since);
	e->saw_busy = 0;
	ev_held(w, dev, slot);
}

static void ev_delete(struct worker *w, int dev, int slot)
{
	struct fdev *d = &devs[dev];
	unsigned int bar = d->ev_bar[slot];
	struct vfio_device_ioeventfd ie;
	int rc;

	atomic_fetch_add(&d->epoch[bar], 1);
	atomic_fetch_sub(&d->held[bar], 1);
	w->ev[dev][slot].st = EV_ABSENT;
	ev_arg(w, dev, slot, 0, &ie);
	rc = ioev_call(d->v.fd, &ie);
	account(OP_IOEV_DEL, d, rc, e_none);
	if (rc)
		fail(F_IOEV, "delete of an ioeventfd that lives on %s BAR%u: %s", d->name, bar, ma_errname(-rc));
}

static void op_ioev(struct worker *w, int dev)
{
	struct fdev *d = &devs[dev];
	struct evslot *ev = w->ev[dev];
	struct vfio_device_ioeventfd ie;
	int s, rc;

	for (s = 0; s < 2; s++)
		if (ev[s].st == EV_UNKNOWN) {
			ev_probe(w, dev, s);
			return;
		}
	s = (int)below(w, 2);
	if (ev[s].st == EV_HELD || ev[!s].st == EV_HELD) {
		int r = (int)below(w, 4);

		if (ev[s].st != EV_HELD)
			s = !s;
		if (r == 0) {
			uint64_t one = 1;

			ncalls++;
			account(OP_IOEV_SIGNAL, d, write(w->efd, &one, sizeof(one)) == sizeof(one) ? 0 : -errno,
				e_none);
		} else if (r < 3 || ev[!s].st != EV_ABSENT) {
			ev_delete(w, dev, s);
		} else {
			ev_arg(w, dev, !s, 1, &ie);
			if (!account(OP_IOEV, d, ioev_call(d->v.fd, &ie), e_ioev_new))
				ev_held(w, dev, !s);
		}
		return;
	}
	if (below(w, 4) == 0)
		return;		/* the BARs stay free for a while */
	if (below(w, 3) == 0) {		/* a private create */
		ev_arg(w, dev, s, 1, &ie);
		if (!account(OP_IOEV, d, ioev_call(d->v.fd, &ie), e_ioev_new))
			ev_held(w, dev, s);
		return;
	}
	/* mutated: offset flips between the slots, fd between ours and -1 */
	ev_arg(w, dev, s, (int)below(w, 2), &w->sh.ioev);
	w->sh.ioev_off[0] = d->legacy[d->ev_bar[0]] + d->ev_pos[0];
	w->sh.ioev_off[1] = d->legacy[d->ev_bar[1]] + d->ev_pos[1];
	w->sh.ioev_fd[0] = w->efd;
	w->sh.ioev_fd[1] = -1;
	atomic_store(&w->sh.active, A_IOEV);
	rc = ioev_call(d->v.fd, &w->sh.ioev);
	atomic_store(&w->sh.active, A_NONE);
	/* none of ours lived: EEXIST means one we do not know of does */
	account(OP_IOEV_MUT, d, rc, e_ioev_mut);
	if (rc)
		return;
	/* one was created, on one of the slots */
	for (s = 0; s < 2; s++)
		ev[s] = (struct evslot){ .st = EV_UNKNOWN, .since = elapsed() };
}

/*
 * pread or pwrite (random data) of the data BAR's window, 4 bytes to
 * 8 KiB, through its region offset or through the mmap offsets of a
 * handle of this worker (which another thread may UNMAP meanwhile):
 * the driver's path when the BAR is taken over, the core's otherwise.
 */
static void op_rw(struct worker *w, int dev)
{
	static _Thread_local uint8_t buf[2 * 4096];
	struct fdev *d = &devs[dev];
	uint64_t off, len, pos;
	int i = below(w, 3) ? -1 : pick_own(w, dev);
	ssize_t n;

	pick_range(w, d, 2, &off, &len);
	len = below(w, 2) ? 4 : 1 + below(w, len);
	if (i >= 0 && w->h[i].bar == d->bar) {
		pos = w->h[i].moff + below(w, w->h[i].len);
		len = len < w->h[i].len - (pos - w->h[i].moff) ? len : w->h[i].len - (pos - w->h[i].moff);
	} else {
		pos = d->legacy[d->bar] + off + (len == 4 ? 4 * below(w, MA_PAGE / 4) : 0);
	}
	ncalls++;
	if (below(w, 2)) {
		for (n = 0; n < (ssize_t)len; n++)
			buf[n] = (uint8_t)rnd(&w->rng);
		n = pwrite(d->v.fd, buf, len, (off_t)pos);
	} else {
		n = pread(d->v.fd, buf, len, (off_t)pos);
	}
	if (n >= 0 && (uint64_t)n != len)
		fail(F_ERRNO, "%s on %s: %zd of %" PRIu64 " bytes at %#" PRIx64 " (a short count, where the core answers whole or with an error)",
		     op_names[OP_RW], d->name, n, len, pos);
	account(OP_RW, d, n < 0 ? -errno : 0, e_rw);
}

/* ------------------------------------------------------------ control */
static void op_reset(struct worker *w, int dev)
{
	struct fdev *d = &devs[dev];

	(void)w;
	if (!(d->v.info.flags & VFIO_DEVICE_FLAGS_RESET))
		return;
	ncalls++;
	account(OP_RESET, d, ioctl(d->v.fd, VFIO_DEVICE_RESET) ? -errno : 0, e_ctl);
}

static void op_memory(struct worker *w, int dev)
{
	struct fdev *d = &devs[dev];
	uint16_t cmd = 0;
	int rc = cfg_read16(d->v.fd, PCI_COMMAND, &cmd), i;

	ncalls += 3;
	if (account(OP_MEMORY, d, rc, e_ctl))
		return;
	account(OP_MEMORY, d, cfg_write16(d->v.fd, PCI_COMMAND, (uint16_t)(cmd & ~PCI_COMMAND_MEMORY)), e_ctl);
	for (i = (int)below(w, 4); i > 0; i--)
		sched_yield();
	account(OP_MEMORY, d, cfg_write16(d->v.fd, PCI_COMMAND, (uint16_t)(cmd | PCI_COMMAND_MEMORY)), e_ctl);
}

/* ------------------------------------------------------------ mappings */
static struct kept *free_kept(struct worker *w)
{
	int i;

	for (i = 0; i < MAXMAP; i++)
		if (!w->m[i].used)
			return &w->m[i];
	return NULL;
}

static struct kept *pick_kept(struct worker *w)
{
	int i, k = (int)below(w, MAXMAP);

	for (i = 0; i < MAXMAP; i++)
		if (w->m[(k + i) % MAXMAP].used)
			return &w->m[(k + i) % MAXMAP];
	return NULL;
}

static void op_mmap(struct worker *w, int dev)
{
	struct fdev *d = &devs[dev];
	int i = pick_own(w, dev);
	struct own *h;
	struct kept *k;
	uint64_t pg, n;
	void *p;

	if (i < 0)
		return;
	h = &w->h[i];
	pg = below(w, h->len / MA_PAGE);
	n = 1 + below(w, h->len / MA_PAGE - pg);
	ncalls++;
	p = ma_map_fd(d->v.fd, h->moff + pg * MA_PAGE, n * MA_PAGE);
	if (account(OP_MMAP, d, p ? 0 : -errno, e_mmap_h))
		return;
	touch_range(w, p, n * MA_PAGE, h->writable, OP_MMAP);
	k = free_kept(w);
	if (k && below(w, 2)) {
		*k = (struct kept){ .used = 1, .dev = dev, .writable = h->writable, .p = p, .len = n * MA_PAGE };
		return;
	}
	munmap(p, n * MA_PAGE);
}

static void op_munmap(struct worker *w)
{
	struct kept *k = pick_kept(w);

	if (!k)
		return;
	ncalls++;
	account(OP_MUNMAP, &devs[k->dev], munmap(k->p, k->len) ? -errno : 0, e_none);
	k->used = 0;
}

static void op_touch(struct worker *w)
{
	struct kept *k = pick_kept(w);

	if (k)
		touch_range(w, k->p, k->len, k->writable, OP_TOUCH);
}

static void op_mremap(struct worker *w)
{
	struct kept *k = pick_kept(w);
	int shrink = (int)below(w, 2);
	void *q;

	if (!k || (shrink && k->len < 2 * MA_PAGE))
		return;
	ncalls++;
	if (shrink)
		q = mremap(k->p, k->len, k->len - MA_PAGE, 0);
	else
		q = mremap(k->p, k->len, k->len, MREMAP_MAYMOVE);
	if (account(OP_MREMAP, &devs[k->dev], q == MAP_FAILED ? -errno : 0, e_none))
		return;
	k->p = q;
	k->len -= shrink ? MA_PAGE : 0;
	touch_range(w, k->p, k->len, k->writable, OP_MREMAP);
}

/* munmap of a page inside a kept mapping: two VMAs from one */
static void op_split(struct worker *w)
{
	struct kept *k = pick_kept(w), *k2;
	size_t pg;

	if (!k || k->len < 3 * MA_PAGE)
		return;
	pg = 1 + below(w, k->len / MA_PAGE - 2);
	ncalls++;
	if (account(OP_SPLIT, &devs[k->dev], munmap(k->p + pg * MA_PAGE, MA_PAGE) ? -errno : 0, e_none))
		return;
	k2 = free_kept(w);
	if (k2) {
		*k2 = (struct kept){ .used = 1, .dev = k->dev, .writable = k->writable,
				     .p = k->p + (pg + 1) * MA_PAGE, .len = k->len - (pg + 1) * MA_PAGE };
	} else {
		munmap(k->p + (pg + 1) * MA_PAGE, k->len - (pg + 1) * MA_PAGE);
	}
	k->len = pg * MA_PAGE;
	touch_range(w, k->p, k->len, k->writable, OP_SPLIT);
}

static void op_fork(struct worker *w)
{
	int i, st = 0;
	pid_t pid;

	if (!pick_kept(w))
		return;
	ncalls++;
	pid = fork();
	if (pid == 0) {
		int bus = 0;

		for (i = 0; i < MAXMAP; i++) {
			size_t o;

			for (o = 0; w->m[i].used && o < w->m[i].len; o += MA_PAGE) {
				int sig = probe_access_mt((volatile uint64_t *)(w->m[i].p + o), w->m[i].writable,
							  0x5a5a5a5a5a5a5a5aull, NULL);

				if (sig && sig != SIGBUS)
					_exit(3);
				bus |= sig == SIGBUS;
			}
		}
		_exit(bus ? 2 : 0);
	}
	if (pid < 0 || waitpid(pid, &st, 0) != pid) {
		account(OP_FORK, &devs[0], -errno, e_none);
		return;
	}
	if (!WIFEXITED(st) || (WEXITSTATUS(st) != 0 && WEXITSTATUS(st) != 2)) {
		fail(F_ERRNO, "fork: the child touching its copies of the mappings ended with status %#x", st);
		return;
	}
	n_ok[OP_FORK]++;
}

/* a second fd of the device: MAP, mmap, close it, touch, munmap */
static void op_reopen(struct worker *w, int dev)
{
	struct fdev *d = &devs[dev];
	struct vfio_device_feature_memattr_map m;
	struct evsnap s;
	uint64_t off, len;
	void *p = NULL;
	int fd = vdev_get_fd(&d->v), rc;

	ncalls++;
	if (cdev_mode) {	/* the cdev opens a device once: EINVAL */
		if (fd >= 0)
			close(fd);
		account(OP_REOPEN, d, fd == -EINVAL ? 0 : fd >= 0 ? -EEXIST : fd, e_none);
		return;
	}
	if (account(OP_REOPEN, d, fd < 0 ? fd : 0, e_none))
		return;
	pick_range(w, d, 4, &off, &len);
	ev_snap(d, &s);
	rc = ma_map1(fd, d->bar, off, len, VFIO_MEMATTR_NC, &m);
	ncalls++;
	ev_check(d, &s, d->bar, rc, "MAP through a second fd");
	if (!account(OP_MAP, d, rc, e_map)) {
		note_id(d, m.handle);
		p = ma_map_fd(fd, m.mmap_offset, len);
		account(OP_MMAP, d, p ? 0 : -errno, e_mmap_h);
	}
	close(fd);
	if (p) {
		touch_range(w, p, len, 1, OP_REOPEN);
		munmap(p, len);
	}
	if (!rc)
		account(OP_UNMAP, d, ma_unmap(d->v.fd, m.handle), e_enoent);
}

/*
 * ioeventfds (a live one keeps every BAR from being taken): in busy
 * seconds from the first half of the workers; in calm ones from all, one
 * call in two.
 */
static int op_used(const struct worker *w, int op)
{
	return !op_off[op] && (op != OP_IOEV || w->id < NWORK / 2 || atomic_load(&calm));
}

static enum op pick_op(struct worker *w)
{
	int total = 0, i, r;

	if (atomic_load(&calm) && !op_off[OP_IOEV] && below(w, 2))
		return OP_IOEV;

	for (i = 0; i < OP_NR; i++)
		total += op_used(w, i) ? op_weight[i] : 0;
	r = (int)below(w, (uint64_t)total);
	for (i = 0; i < OP_NR; i++) {
		if (!op_used(w, i))
			continue;
		if (r < op_weight[i])
			return (enum op)i;
		r -= op_weight[i];
	}
	return OP_BAR_INFO;
}

/* calm: give one thing back; 0 if nothing is kept */
static int give_back(struct worker *w)
{
	struct kept *k = pick_kept(w);
	int i, dev;

	if (k) {
		op_munmap(w);
		return 1;
	}
	for (dev = 0; dev < NDEV; dev++) {
		if (pick_dbuf(w, dev)) {
			op_dmabuf_close(w, dev);
			return 1;
		}
		i = pick_own(w, dev);
		if (i >= 0) {
			ncalls++;
			account(OP_UNMAP, &devs[dev], ma_unmap(devs[dev].v.fd, w->h[i].id), e_enoent);
			w->h[i].used = 0;
			return 1;
		}
	}
	return 0;
}

static void *worker(void *arg)
{
	struct worker *w = arg;

	while (!atomic_load(&stop)) {
		int dev = (int)below(w, NDEV);

		if (atomic_load(&calm) && give_back(w))
			continue;

		switch (pick_op(w)) {
		case OP_MAP: op_map(w, dev); break;
		case OP_MAP_MUT: op_map_mut(w, dev); break;
		case OP_MAP_EFAULT: op_map_efault(w, dev); break;
		case OP_UNMAP: op_unmap(w, dev); break;
		case OP_UNMAP_MUT: op_unmap_mut(w, dev); break;
		case OP_HANDLE: op_handle(w, dev); break;
		case OP_DMABUF: op_dmabuf(w, dev); break;
		case OP_DMABUF_ATTR: op_dmabuf_attr(w, dev); break;
		case OP_DMABUF_REVOKE: op_dmabuf_revoke(w, dev); break;
		case OP_DMABUF_MMAP: op_dmabuf_mmap(w, dev); break;
		case OP_DMABUF_CLOSE: op_dmabuf_close(w, dev); break;
		case OP_IOEV: op_ioev(w, dev); break;
		case OP_RESET: op_reset(w, dev); break;
		case OP_MEMORY: op_memory(w, dev); break;
		case OP_MMAP: op_mmap(w, dev); break;
		case OP_MUNMAP: op_munmap(w); break;
		case OP_TOUCH: op_touch(w); break;
		case OP_MREMAP: op_mremap(w); break;
		case OP_SPLIT: op_split(w); break;
		case OP_FORK: op_fork(w); break;
		case OP_REOPEN: op_reopen(w, dev); break;
		case OP_RW: op_rw(w, dev); break;
		default: op_bar_info(w, dev); break;
		}
	}
	return NULL;
}

/* ------------------------------------------------------------ mutators */
static void *mutator(void *arg)
{
	uint64_t s = (uint64_t)(uintptr_t)arg;
	long idle = 0;

	while (!atomic_load(&stop)) {
		struct worker *w = &wk[rnd(&s) % NWORK];
		struct shared *sh = &w->sh;
		int a = atomic_load(&sh->active), n;

		if (a == A_NONE) {
			if (++idle % NWORK == 0)
				sched_yield();
			continue;
		}
		/* a burst of rewrites while the call runs */
		for (n = 0; n < 256 && atomic_load(&sh->active) == a; n++) {
			unsigned int k = (unsigned int)(rnd(&s) % NCAND), f = (unsigned int)(rnd(&s) >> 32);

			switch (a) {
			case A_IOEV: {
				volatile struct vfio_device_ioeventfd *ie = &sh->ioev;

				if (f & 1)
					ie->offset = sh->ioev_off[k & 1];
				else
					ie->fd = sh->ioev_fd[k & 1];
				break;
			}
			case A_MAP:
			case A_EFAULT: {
				volatile struct vfio_device_feature_memattr_map *m = a == A_MAP ? sh->map_p : sh->efault_rw;

				switch (f % 5) {
				case 0: m->index = sh->cand_index[k]; break;
				case 1: m->offset = sh->cand_off[k]; break;
				case 2: m->length = sh->cand_len[k]; break;
				case 3: m->nr_prefs = sh->cand_nr[k]; break;
				default: m->prefs[(f >> 8) % 2] = sh->cand_pref[k]; break;
				}
				break;
			}
			case A_UNMAP:
				sh->unmap_p->handle = sh->cand_id[k];
				break;
			case A_DMABUF: {
				volatile struct vfio_device_feature_memattr_dmabuf *x = sh->dbuf_p;

				if (f & 1)
					x->dma_ranges[(f >> 1) & 1].offset = sh->cand_off[k];
				else
					x->dma_ranges[(f >> 1) & 1].length = sh->cand_len[k];
				break;
			}
			}
		}
	}
	return NULL;
}

/* ------------------------------------------------------------ kernel log */
static const char *const kmsg_bad[] = { "WARNING:", "BUG:", "refcount_t", "KASAN", "UBSAN",
					"possible circular", "Oops", NULL };
static int kmsg_fd = -1;

static void kmsg_report(const char *line, void *ctx)
{
	(void)ctx;
	fail(F_KMSG, "kernel log: %s", line);
}

static void *kmsg_watch(void *arg)
{
	struct pollfd p = { .fd = kmsg_fd, .events = POLLIN };

	(void)arg;
	while (!atomic_load(&stop)) {
		poll(&p, 1, 200);
		kmsg_scan(kmsg_fd, kmsg_bad, kmsg_report, NULL);
	}
	return NULL;
}

/* ------------------------------------------------------------ setup, teardown */
static int setup_dev(struct fdev *d, const char *name, const char *bdf, uint64_t win, uint64_t winsz,
		     uint64_t ev_pos0)
{
	struct vfio_region_info ri;
	int b;

	d->name = name;
	if (vdev_open(&d->v, bdf) || !ma_driver_present(d->v.fd))
		return -1;
	d->bar = 6;
	for (b = 0; b < 6; b++) {
		if (ma_bar_info(d->v.fd, (uint32_t)b, &d->bi[b]))
			return -1;
		if (!region_info(d->v.fd, (uint32_t)b, &ri))
			d->legacy[b] = ri.offset;
		d->bsize[b] = d->bi[b].size;
		if (d->bi[b].size && !(d->bi[b].bar_flags & VFIO_MEMATTR_BAR_IO))
			ma_bar_phys(bdf, (unsigned int)b, &d->bphys[b], &d->bsize[b]);
		if (d->bar == 6 && d->bi[b].size >= 2 * win && (d->bi[b].bar_flags & VFIO_MEMATTR_BAR_MMAP) &&
		    (d->bi[b].supported & (1 << VFIO_MEMATTR_NC)))
			d->bar = (unsigned int)b;
	}
	if (d->bar == 6 || !d->bi[0].size || (d->bi[0].bar_flags & VFIO_MEMATTR_BAR_IO))
		return -1;
	d->win = win;
	d->winsz = winsz;
	d->ev_bar[0] = 0;
	d->ev_pos[0] = ev_pos0;
	d->ev_bar[1] = d->bar;
	d->ev_pos[1] = ev_pos0;
	atomic_store(&d->last_id, VFIO_MEMATTR_HANDLE_INDEX_BASE - 1);
	return 0;
}

/* mappings, DMABUFs and handles of a worker given back */
static void teardown_worker(struct worker *w)
{
	int i, dev;

	for (i = 0; i < MAXMAP; i++)
		if (w->m[i].used)
			munmap(w->m[i].p, w->m[i].len);
	for (dev = 0; dev < NDEV; dev++)
		for (i = 0; i < MAXDBUF; i++)
			if (w->dbuf[dev][i] >= 0) {
				struct vfio_device_feature_memattr_dmabuf_revoke r = { .dmabuf_fd = w->dbuf[dev][i] };

				account(OP_DMABUF_REVOKE, &devs[dev], ma_feat(devs[dev].v.fd, VFIO_DEVICE_FEATURE_SET |
					VFIO_DEVICE_FEATURE_MEMATTR_DMABUF_REVOKE, &r, sizeof(r)), e_revoke);
				close(w->dbuf[dev][i]);
			}
	for (i = 0; i < MAXOWN; i++)
		if (w->h[i].used)
			account(OP_UNMAP, &devs[w->h[i].dev], ma_unmap(devs[w->h[i].dev].v.fd, w->h[i].id), e_enoent);
}

/* then (no BAR taken any more) its ioeventfds: found and deleted */
static void teardown_ioev(struct worker *w)
{
	int dev, s;

	for (dev = 0; dev < NDEV; dev++)
		for (s = 0; s < 2; s++) {
			if (w->ev[dev][s].st == EV_UNKNOWN)
				ev_probe(w, dev, s);
			if (w->ev[dev][s].st == EV_UNKNOWN)
				fail(F_IOEV, "%s BAR%u: after the run an ioeventfd create still gets EBUSY",
				     devs[dev].name, devs[dev].ev_bar[s]);
			if (w->ev[dev][s].st == EV_HELD)
				ev_delete(w, dev, s);
		}
	close(w->efd);
}

/* UNMAP of every id up to the newest seen: a handle no thread knew of is a stray */
static void sweep(struct fdev *d)
{
	uint32_t id, last = atomic_load(&d->last_id) + 16;

	for (id = VFIO_MEMATTR_HANDLE_INDEX_BASE; id <= last; id++)
		if (!ma_unmap(d->v.fd, id)) {
			n_stray++;
			tap_diag("%s: handle %#x was left, though no thread knew of it", d->name, id);
		}
}

static int fresh_map_ok(struct fdev *d)
{
	static const uint8_t prefs[] = { VFIO_MEMATTR_WC, VFIO_MEMATTR_NC };
	struct vfio_device_feature_memattr_map m;
	uint64_t len = 4 * MA_PAGE;
	volatile uint8_t *p;
	int rc = ma_map(d->v.fd, d->bar, d->win, len, prefs, 2, &m), ok;

	if (rc) {
		char path[256], buf[4096], *line, *save = NULL;
		const char *f[] = { "stats", "handles" };
		unsigned int i;

		tap_diag("%s: MAP BAR%u [%#" PRIx64 "+%#" PRIx64 "]: %s", d->name, d->bar, d->win, len,
			 ma_errname(-rc));
		/* what the driver holds (a takeover waits for ioeventfds and core accesses) */
		for (i = 0; i < 2; i++) {
			snprintf(path, sizeof(path), "/sys/kernel/debug/vfio-pci-memattr/%s/%s", d->v.bdf, f[i]);
			if (sysfs_read_file(path, buf, sizeof(buf)) < 0)
				continue;
			for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
				tap_diag("  %s %s", f[i], line);
		}
		return 0;
	}
	p = ma_map_fd(d->v.fd, m.mmap_offset, len);
	if (!p) {
		tap_diag("%s: mmap of a fresh handle: %s", d->name, strerror(errno));
		ma_unmap(d->v.fd, m.handle);
		return 0;
	}
	ok = mmio_data_ok(p, 0, 0, d->name) && ma_fill_check(p, len, seed);
	munmap((void *)p, len);
	ok &= ma_unmap(d->v.fd, m.handle) == 0;
	tap_diag("%s: fresh MAP got %s, handle %#x", d->name, attr_name(m.attr), m.handle);
	return ok;
}

int main(void)
{
	const char *lbl = getenv("MEMATTR_KERNEL_LABEL"), *e;
	const char *b0, *b1;
	pthread_t mt[NMUT], kt;
	long total = 0;
	int i, dev, b, ok;
	double el;

	secs = lbl && strstr(lbl, "-debug") ? 300 : 45;
	e = getenv("MEMATTR_CFUZZ_SECONDS");
	if (e && atoi(e) > 0)
		secs = atoi(e);
	seed = tap_seed(getenv("MEMATTR_CFUZZ_SEED"), 0x63667a7a6d656d61ull);
	tap_plan(NTESTS);
	kmsg_fd = kmsg_open_end();
	tap_diag("seed %#" PRIx64 ", %d s, %d workers + %d mutators (reproduce: MEMATTR_CFUZZ_SEED=%#" PRIx64
		 " MEMATTR_CFUZZ_SECONDS=%d /tests/memattr_cfuzz)", seed, secs, NWORK, NMUT, seed, secs);
	b0 = ma_bdf_or_skip("MEMATTR_IVSHMEM0");
	b1 = ma_bdf_or_skip("MEMATTR_NVME");
	cdev_mode = vdev_mode() == VDEV_CDEV;
	/* ioeventfd slots: ivshmem IntrMask (BAR0 0x0), NVMe VS (BAR0 0x8, read-only) */
	if (setup_dev(&devs[0], "ivshmem0", b0, 0x1a0000, 0x60000, 0x0) ||
	    setup_dev(&devs[1], "nvme", b1, 0x100000, 0x100000, 0x8)) {
		tap_fail_n(NTESTS, "ivshmem0 or nvme not usable with vfio-pci-memattr");
		return tap_done();
	}
	e = getenv("MEMATTR_CFUZZ_SKIP");
	for (i = 0; e && i < OP_NR; i++) {
		const char *p = strstr(e, op_names[i]);
		size_t n = strlen(op_names[i]);

		/* whole names only ("map" is not "map-efault") */
		while (p && ((p > e && p[-1] != ',') || (p[n] && p[n] != ',')))
			p = strstr(p + 1, op_names[i]);
		if (p) {
			op_off[i] = 1;
			tap_diag("MEMATTR_CFUZZ_SKIP: %s left out", op_names[i]);
		}
	}
	have_dmabuf = !ma_feat_raw(devs[0].v.fd, VFIO_DEVICE_FEATURE_PROBE | VFIO_DEVICE_FEATURE_GET |
				   VFIO_DEVICE_FEATURE_MEMATTR_DMABUF, NULL, NULL, 0, 0);
	if (!have_dmabuf) {
		skip_dmabuf = "the driver answers no PROBE of MEMATTR_DMABUF";
		for (i = OP_DMABUF; i <= OP_DMABUF_CLOSE; i++)
			op_off[i] = 1;
		tap_diag("DMABUF operations left out: %s", skip_dmabuf);
	}
	if (cdev_mode)
		tap_diag("cdev mode: a second device fd is refused (EINVAL), which reopen expects");
	for (dev = 0; dev < NDEV; dev++)
		tap_diag("%s: data BAR%u (%s), window [%#" PRIx64 "+%#" PRIx64 "], ioeventfds at BAR%u+%#" PRIx64
			 " and BAR%u+%#" PRIx64, devs[dev].name, devs[dev].bar,
			 devs[dev].bi[devs[dev].bar].bar_flags & VFIO_MEMATTR_BAR_PREFETCH ? "prefetchable" :
			 "non-prefetchable", devs[dev].win, devs[dev].winsz, devs[dev].ev_bar[0], devs[dev].ev_pos[0],
			 devs[dev].ev_bar[1], devs[dev].ev_pos[1]);

	/* the EFAULT pages: one memfd page per worker, mapped read-only and writable */
	{
		int mfd = memfd_create("cfuzz-efault", MFD_CLOEXEC);
		uint8_t *ro = MAP_FAILED, *rw = MAP_FAILED;

		if (mfd >= 0 && !ftruncate(mfd, NWORK * MA_PAGE)) {
			ro = mmap(NULL, NWORK * MA_PAGE, PROT_READ, MAP_SHARED, mfd, 0);
			rw = mmap(NULL, NWORK * MA_PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
		}
		if (ro == MAP_FAILED || rw == MAP_FAILED) {
			tap_fail_n(NTESTS, "memfd pages for the EFAULT MAPs");
			return tap_done();
		}
		for (i = 0; i < NWORK; i++) {
			wk[i].efault_ro = ro + i * MA_PAGE;
			wk[i].sh.efault_rw = (void *)(rw + i * MA_PAGE + sizeof(struct vfio_device_feature));
		}
	}
	probe_mt_init();
	for (i = 0; i < NWORK; i++) {
		struct worker *w = &wk[i];

		w->id = i;
		w->sh.map_p = (void *)((uint8_t *)w->sh.map + sizeof(struct vfio_device_feature));
		w->sh.unmap_p = (void *)((uint8_t *)w->sh.unmap + sizeof(struct vfio_device_feature));
		w->sh.dbuf_p = (void *)((uint8_t *)w->sh.dbuf + sizeof(struct vfio_device_feature));
		w->rng = derive(seed, (uint64_t)i);
		w->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		w->ev_data = 0xcf000000u | (uint64_t)i << 8;
		for (dev = 0; dev < NDEV; dev++)
			for (b = 0; b < MAXDBUF; b++)
				w->dbuf[dev][b] = -1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (kmsg_fd < 0)
		tap_diag("/dev/kmsg: %s", strerror(-kmsg_fd));
	else
		pthread_create(&kt, NULL, kmsg_watch, NULL);
	for (i = 0; i < NWORK; i++)
		pthread_create(&wk[i].t, NULL, worker, &wk[i]);
	for (i = 0; i < NMUT; i++)
		pthread_create(&mt[i], NULL, mutator, (void *)(uintptr_t)derive(seed, (uint64_t)(NWORK + i)));
	for (i = 1; elapsed() < secs && !atomic_load(&stop); i++) {
		struct timespec ts = { 0, 100 * 1000 * 1000 };

		nanosleep(&ts, NULL);
		if (i % 10 == 0)
			atomic_store(&calm, (i / 10) % 2);
		if (i % 100 == 0)
			tap_diag("%.0f s: %ld calls", elapsed(), (long)ncalls);
	}
	el = elapsed();
	atomic_store(&stop, 1);
	tap_diag("stopping after %.1f s; joining the threads", el);
	for (i = 0; i < NWORK; i++)
		pthread_join(wk[i].t, NULL);
	for (i = 0; i < NMUT; i++)
		pthread_join(mt[i], NULL);
	if (kmsg_fd >= 0)
		pthread_join(kt, NULL);

	for (i = 0; i < OP_NR; i++) {
		char errs[256] = "";
		size_t n = 0;
		int k;

		total += n_ok[i] + n_err[i];
		for (k = 1; k < 136; k++)
			if (n_errno[i][k] && n < sizeof(errs) - 40)
				n += (size_t)snprintf(errs + n, sizeof(errs) - n, " %s:%ld", ma_errname(k),
						      (long)n_errno[i][k]);
		tap_diag("%-18s %8ld ok %8ld errors;%s%s", op_names[i], (long)n_ok[i], (long)n_err[i], errs,
			 op_off[i] ? " (left out)" : "");
	}
	tap_diag("%ld calls in %.1f s: %.0f calls/s; %ld SIGBUS on revoked mappings; seed %#" PRIx64, (long)ncalls,
		 el, (double)ncalls / (el > 0 ? el : 1), (long)n_sigbus, seed);
	if (first_fail_t >= 0)
		tap_diag("first failure after %.2f s; reproduce: MEMATTR_CFUZZ_SEED=%#" PRIx64
			 " MEMATTR_CFUZZ_SECONDS=%d /tests/memattr_cfuzz", first_fail_t, seed, secs);

	/* everything the workers hold, given back */
	for (i = 0; i < NWORK; i++)
		teardown_worker(&wk[i]);
	for (dev = 0; dev < NDEV; dev++) {
		cmd_memory(devs[dev].v.fd, 1);
		sweep(&devs[dev]);
	}
	for (i = 0; i < NWORK; i++)
		teardown_ioev(&wk[i]);

	tap_ok(!nfail[F_ERRNO], "every racing call returned success or an errno the uAPI allows, every answer "
	       "was sane (%ld calls, %d failures)", total, nfail[F_ERRNO]);
	tap_ok(!nfail[F_IOEV], "MAP and DMABUF export never succeeded on a BAR while an ioeventfd lived on it; "
	       "ioeventfds known to live were never lost (%d failures)", nfail[F_IOEV]);
	{
		static const enum op need[] = { OP_MAP, OP_MAP_MUT, OP_MAP_EFAULT, OP_UNMAP, OP_UNMAP_MUT, OP_HANDLE,
						OP_BAR_INFO, OP_DMABUF, OP_IOEV, OP_IOEV_MUT, OP_MEMORY, OP_MMAP };
		size_t k;

		ok = n_ok[OP_MAP] > 0 && (op_off[OP_IOEV] || n_ok[OP_IOEV] > 0);
		for (k = 0; k < sizeof(need) / sizeof(need[0]); k++)
			if (!op_off[need[k]] && !(need[k] == OP_IOEV_MUT && op_off[OP_IOEV]) &&
			    !n_ok[need[k]] && !n_err[need[k]]) {
				tap_diag("%s never ran", op_names[need[k]]);
				ok = 0;
			}
		tap_ok(ok, "every operation kind ran; MAP and ioeventfd creation succeeded (%ld MAPs or exports "
		       "ran while an ioeventfd of ours lived on their BAR)", (long)n_map_vs_ioev);
	}
	for (dev = 0; dev < NDEV; dev++) {
		struct fdev *d = &devs[dev];
		int left = 0;

		for (b = 0; b < 6; b++) {
			int nh = ma_nr_handles(d->v.fd, (uint32_t)b);

			if (nh) {
				tap_diag("%s BAR%d: nr_handles %d", d->name, b, nh);
				left++;
			}
		}
		tap_ok(!left && !n_stray, "%s: after the run no handle on any BAR (BAR_INFO nr_handles 0), none "
		       "that no thread knew of (%ld)", d->name, (long)n_stray);
	}
	for (dev = 0; dev < NDEV; dev++) {
		struct fdev *d = &devs[dev];

		ok = 1;
		for (b = 0; b < 6; b++)
			if (d->bphys[b] && !(d->bi[b].bar_flags & VFIO_MEMATTR_BAR_IO))
				ok &= pat_none_of(d->bphys[b], d->bphys[b] + d->bsize[b], "write-combining");
		tap_ok(ok, "%s: no write-combining PAT entry left on its BARs", d->name);
	}
	for (dev = 0; dev < NDEV; dev++)
		tap_ok(fresh_map_ok(&devs[dev]), "%s: a fresh MAP, mmap, write and read back work after the run",
		       devs[dev].name);
	for (dev = 0; dev < NDEV; dev++)
		vdev_close(&devs[dev].v);
	if (kmsg_fd >= 0)
		kmsg_scan(kmsg_fd, kmsg_bad, kmsg_report, NULL);
	tap_ok(kmsg_fd >= 0 && !nfail[F_KMSG], "kernel log since the start: no WARNING, BUG, refcount_t, KASAN, "
	       "UBSAN, lockdep or Oops line (%d)", nfail[F_KMSG]);
	return tap_done();
}
