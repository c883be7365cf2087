// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * memattr_fuzz - structured random sequences over the device-fd uAPI of
 * vfio-pci-memattr on ivshmem0, checked against a model after every step.
 *
 * Steps: MAP with valid, boundary and garbage payloads (flags, reserved,
 * argsz, alignment, overflow, nr_prefs, unknown attributes, other BARs,
 * handle indexes), HANDLE, UNMAP, BAR_INFO, GET_REGION_INFO of handle
 * indexes, mmap/munmap/mremap/fork of handle and legacy offsets, touches
 * of mappings, pread/pwrite at random offsets (data read back), reset,
 * memory disable/enable through config space, ioeventfd add/remove,
 * close and reopen of the device.
 *
 * The model knows every handle (live, or released and still mapped),
 * every mapping, every ioeventfd and whether memory decode is on, and
 * from that the exact errno of each call.  After each step BAR_INFO's
 * nr_handles must equal the model's; every 256 steps, and at each close,
 * the debugfs handles file and the PAT list (write-combining for exactly
 * the range of every WC handle, nothing else reserved in the window on
 * x86: NC and DEV handles reserve nothing) are compared with it.
 *
 * Deterministic: "# seed 0x..." is printed; MEMATTR_FUZZ_SEED=0x... (or
 * argv[1]) replays a run; the default seed is fixed (repeatable CI),
 * MEMATTR_FUZZ_SEED=random draws one from the clock.  MEMATTR_FUZZ_TRACE=N
 * prints every step from call N on (to find the step a crash follows).  MEMATTR_FUZZ_CALLS sets the number of calls:
 * default 1000000 on a "-debug" kernel label, else 20000.  The first
 * disagreement stops the run, printing the step and the replay command.
 *
 * Writes only ivshmem0 BAR2 0x0c0000-0x0fffff (no host check: random data).
 */
#define _GNU_SOURCE
#define _FILE_OFFSET_BITS 64
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <setjmp.h>
#include <signal.h>
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

#define BAR	2u
#define WIN0	0x0c0000ull
#define WINSZ	0x040000ull
#define MAXH	64
#define MAXM	32
#define MAXE	4

struct mh {		/* a handle object: live, or released but still mapped */
	int used, live;
	uint32_t id;
	uint64_t off, len, moff;
	unsigned int attr;
};
struct mm {		/* a mapping */
	int used, legacy;
	uint8_t *p;
	uint64_t len, boff;	/* BAR offset it shows */
	int h;			/* index into hs[] (handle mappings) */
};

static struct vdev dev;
static const char *bdf;
static uint64_t bphys, bsize, rng, step, calls;
static struct mh hs[MAXH];
static struct mm ms[MAXM];
static int efds[MAXE], nefd, mem_off;
static uint64_t efd_off[MAXE];
static uint64_t legacy_off;
static struct vfio_device_feature_memattr_bar_info bi[6];
static struct pat_snap fresh, opened;	/* before the first open; just after it */
static int foreign_check = 1;		/* fail on PAT entries no handle explains */
static char failure[512];
static uint64_t nmap_ok, nmap_busy, nmap_same, nmap_pat;

/*
 * Does the PAT list hold, overlapping [off, off+len) of the BAR, a type
 * other than the one attribute a needs?  (6.1 reserves the range of each
 * user mapping at fault time; MAP then fails with EBUSY as the uAPI says.)
 */
static int pat_conflict(uint64_t off, uint64_t len, unsigned int a)
{
	static struct vfio_memattr__pat_entry pe[PAT_MAX];
	int n = pat_overlapping(bphys + off, bphys + off + len, pe, PAT_MAX), j;

	for (j = 0; j < n; j++)
		if (strcmp(pe[j].type, attr_pat_type(a)))
			return 1;
	return 0;
}

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static uint64_t below(uint64_t n)
{
	return n ? rnd() % n : 0;
}

#define FAIL(...) do { if (!failure[0]) snprintf(failure, sizeof(failure), __VA_ARGS__); } while (0)

static void expect_rc(const char *what, int rc, int want)
{
	calls++;
	if (rc != -want)
		FAIL("%s: got %s, model says %s", what, rc ? ma_errname(-rc) : "success",
		     want ? ma_errname(want) : "success");
}

/* ----------------------------------------------------------- model */
static int objs(void)
{
	int i, n = 0;

	for (i = 0; i < MAXH; i++)
		n += hs[i].used;
	return n;
}

static int nmaps_of(int h)
{
	int i, n = 0;

	for (i = 0; i < MAXM; i++)
		n += ms[i].used && !ms[i].legacy && ms[i].h == h;
	return n;
}

static int nlegacy(void)
{
	int i, n = 0;

	for (i = 0; i < MAXM; i++)
		n += ms[i].used && ms[i].legacy;
	return n;
}

static void drop_if_dead(int h)
{
	if (hs[h].used && !hs[h].live && !nmaps_of(h))
		hs[h].used = 0;
}

/* errno the model expects for MAP of [off, off+len) with attribute a */
static int map_conflict(uint64_t off, uint64_t len, unsigned int a)
{
	int i;

	if (nlegacy() || (nefd && !objs()))
		return EBUSY;
	for (i = 0; i < MAXH; i++)
		if (hs[i].used && hs[i].attr != a && off < hs[i].off + hs[i].len && hs[i].off < off + len)
			return EBUSY;
	return 0;
}

static int find_live(uint64_t off, uint64_t len, unsigned int a)
{
	int i;

	for (i = 0; i < MAXH; i++)
		if (hs[i].used && hs[i].live && hs[i].off == off && hs[i].len == len && hs[i].attr == a)
			return i;
	return -1;
}

static int pick_live(void)
{
	int i, k = (int)below(MAXH);

	for (i = 0; i < MAXH; i++)
		if (hs[(k + i) % MAXH].used && hs[(k + i) % MAXH].live)
			return (k + i) % MAXH;
	return -1;
}

static int pick_map(void)
{
	int i, k = (int)below(MAXM);

	for (i = 0; i < MAXM; i++)
		if (ms[(k + i) % MAXM].used)
			return (k + i) % MAXM;
	return -1;
}

static int free_slot_m(void)
{
	int i;

	for (i = 0; i < MAXM; i++)
		if (!ms[i].used)
			return i;
	return -1;
}

/* ----------------------------------------------------------- SIGBUS */
static sigjmp_buf jb;
static volatile int armed;

static void on_sig(int sig)
{
	if (!armed)
		_exit(128 + sig);
	siglongjmp(jb, 1);
}

/* write a word to a mapping and read it back; 0, or the signal */
static int touch(volatile uint8_t *p, uint64_t v, uint64_t *got)
{
	armed = 1;
	if (sigsetjmp(jb, 1)) {
		armed = 0;
		return SIGBUS;
	}
	*(volatile uint64_t *)p = v;
	mmio_sfence();
	*got = *(volatile uint64_t *)p;
	armed = 0;
	return 0;
}

/* ----------------------------------------------------------- steps */
static void st_map_valid(void)
{
	struct vfio_device_feature_memattr_map m;
	uint8_t prefs[3];
	unsigned int nr = 1 + (unsigned int)below(3), k, want = 0, got_attr = 0;
	uint64_t off = WIN0 + below(WINSZ / MA_PAGE) * MA_PAGE, len = (1 + below(16)) * MA_PAGE;
	int rc, e = -1, first = -1, slot, ex = -1;
	char what[160];

	if (off + len > WIN0 + WINSZ)
		len = WIN0 + WINSZ - off;
	/* ranges from a few slots make duplicates and overlaps likely */
	if (below(2)) {
		off = WIN0 + below(WINSZ / (16 * MA_PAGE)) * 16 * MA_PAGE;
		len = (1 + below(2) * 3) * 4 * MA_PAGE;
	}
	for (k = 0; k < nr; k++)
		prefs[k] = (uint8_t)below(MA_NR_ATTRS);
	for (k = 0; k < nr; k++) {
		int c = (bi[BAR].supported & (1u << prefs[k])) ? map_conflict(off, len, prefs[k]) :
			(bi[BAR].reason[prefs[k]] == VFIO_MEMATTR_NOT_PREFETCH ? EPERM : EOPNOTSUPP);

		if (first < 0)
			first = c;
		if (!c) {
			e = 0;
			want = prefs[k];
			break;
		}
	}
	if (e < 0)
		e = first;
	if (!e && objs() >= MAXH)
		return;		/* the model is full: skip */
	rc = ma_map(dev.fd, BAR, off, len, prefs, nr, &m);
	/* a reservation the model does not track explains EBUSY or a later preference */
	if (!e && pat_available() && ((rc == -EBUSY && pat_conflict(off, len, want)) ||
				      (!rc && m.attr != want && m.attr < MA_NR_ATTRS && pat_conflict(off, len, want)))) {
		nmap_pat++;
		if (rc)
			e = EBUSY;
		else
			want = m.attr;
	}
	snprintf(what, sizeof(what), "MAP BAR2 [%#" PRIx64 "+%#" PRIx64 "] prefs %u%s%s%s%s", off, len,
		 prefs[0], nr > 1 ? "," : "", nr > 1 ? attr_name(prefs[1]) : "", nr > 2 ? "," : "",
		 nr > 2 ? attr_name(prefs[2]) : "");
	expect_rc(what, rc, e);
	nmap_busy += rc == -EBUSY;
	if (rc || e)
		return;
	nmap_ok++;
	got_attr = m.attr;
	if (got_attr != want)
		FAIL("%s: attr %u, model says %u", what, got_attr, want);
	ex = find_live(off, len, want);
	if (ex >= 0) {
		if (m.handle != hs[ex].id || m.mmap_offset != hs[ex].moff)
			FAIL("%s: identical MAP gave handle %#x @%#llx, model has %#x @%#" PRIx64, what, m.handle,
			     (unsigned long long)m.mmap_offset, hs[ex].id, hs[ex].moff);
		nmap_same++;
		return;
	}
	for (k = 0; k < MAXH; k++)
		if (hs[k].used && hs[k].id == m.handle)
			FAIL("%s: handle id %#x reused", what, m.handle);
	for (slot = 0; slot < MAXH && hs[slot].used; slot++)
		;
	hs[slot] = (struct mh){ .used = 1, .live = 1, .id = m.handle, .off = off, .len = len,
				.moff = m.mmap_offset, .attr = want };
}

static void st_map_garbage(void)
{
	struct vfio_device_feature_memattr_map m;
	uint32_t argsz = 0;
	int kind = (int)below(12), rc, want = EINVAL;
	char what[96];

	memset(&m, 0, sizeof(m));
	m.index = BAR;
	m.offset = WIN0;
	m.length = MA_PAGE;
	m.nr_prefs = 1;
	switch (kind) {
	case 0: m.flags = 1u << below(32); break;
	case 1: m.reserved = (uint32_t)rnd() | 1; break;
	case 2: m.nr_prefs = below(2) ? 0 : VFIO_MEMATTR_MAX_PREFS + 1 + (uint32_t)below(100); break;
	case 3: m.prefs[0] = (uint8_t)(MA_NR_ATTRS + below(256 - MA_NR_ATTRS)); break;
	case 4: m.prefs[1 + below(7)] = (uint8_t)(1 + below(255)); break;	/* unused entry */
	case 5: m.offset += 1 + below(MA_PAGE - 1); break;
	case 6: m.length = below(2) ? 0 : MA_PAGE + 1 + below(MA_PAGE - 1); break;
	case 7: m.offset = bsize - MA_PAGE * below(4); m.length = MA_PAGE * (5 + below(4)); break;
	case 8: m.offset = ~0ull - MA_PAGE * below(4) - (MA_PAGE - 1); m.offset &= ~(MA_PAGE - 1);
		m.length = 2 * MA_PAGE; break;
	case 9: m.index = below(2) ? 6 + (uint32_t)below(100) : VFIO_MEMATTR_HANDLE_INDEX_BASE + (uint32_t)below(64); break;
	case 10: argsz = (uint32_t)(sizeof(struct vfio_device_feature) + below(sizeof(m))); break;
	default:	/* BARs that cannot be mapped: the reason BAR_INFO gave */
		m.index = below(2) ? 3 + (uint32_t)below(3) : 0;
		m.offset = 0;
		if (bi[m.index].reason[0] == VFIO_MEMATTR_OK)
			return;
		want = bi[m.index].reason[0] == VFIO_MEMATTR_NOT_PREFETCH ? EPERM : EOPNOTSUPP;
		break;
	}
	rc = ma_feat_raw(dev.fd, VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_MEMATTR_MAP, &m, &m,
			 sizeof(m), argsz);
	snprintf(what, sizeof(what), "MAP garbage kind %d (index %u off %#llx len %#llx)", kind, m.index,
		 (unsigned long long)m.offset, (unsigned long long)m.length);
	expect_rc(what, rc, want);
}

static void st_unmap(void)
{
	int h = pick_live(), rc;
	uint32_t id;

	if (h < 0 || below(8) == 0) {
		id = VFIO_MEMATTR_HANDLE_INDEX_BASE + 0x8000 + (uint32_t)below(1000);
		expect_rc("UNMAP of an unknown handle", ma_unmap(dev.fd, id), ENOENT);
		return;
	}
	rc = ma_unmap(dev.fd, hs[h].id);
	expect_rc("UNMAP", rc, 0);
	hs[h].live = 0;
	drop_if_dead(h);
	/* a released handle answers nothing any more */
	{
		struct vfio_device_feature_memattr_handle q;

		expect_rc("HANDLE of a released handle", ma_handle(dev.fd, hs[h].id, &q), ENOENT);
	}
}

static void st_query(void)
{
	int h = pick_live();
	struct vfio_device_feature_memattr_handle q;
	struct vfio_region_info ri;

	if (h < 0)
		return;
	if (below(2)) {
		expect_rc("HANDLE", ma_handle(dev.fd, hs[h].id, &q), 0);
		if (q.index != BAR || q.attr != hs[h].attr || q.offset != hs[h].off || q.length != hs[h].len ||
		    q.mmap_offset != hs[h].moff)
			FAIL("HANDLE %#x disagrees with the model", hs[h].id);
	} else {
		expect_rc("GET_REGION_INFO of a handle", region_info(dev.fd, hs[h].id, &ri), 0);
		if (ri.size != hs[h].len || ri.offset != hs[h].moff)
			FAIL("REGION_INFO %#x: size %#llx offset %#llx, model %#" PRIx64 " %#" PRIx64, hs[h].id,
			     (unsigned long long)ri.size, (unsigned long long)ri.offset, hs[h].len, hs[h].moff);
	}
}

static void st_mmap(void)
{
	int s = free_slot_m(), h = pick_live(), legacy = below(4) == 0, want;
	uint64_t off, len, boff;
	void *p;

	if (s < 0)
		return;
	if (legacy || h < 0) {
		boff = WIN0 + below(WINSZ / MA_PAGE - 4) * MA_PAGE;
		len = (1 + below(4)) * MA_PAGE;
		off = legacy_off + boff;
		want = objs() ? EBUSY : 0;
		legacy = 1;
	} else {
		uint64_t pg = below(hs[h].len / MA_PAGE);

		off = hs[h].moff + pg * MA_PAGE;
		len = (1 + below(hs[h].len / MA_PAGE - pg)) * MA_PAGE;
		boff = hs[h].off + pg * MA_PAGE;
		want = 0;
		if (below(16) == 0) {	/* past the end of the handle */
			len = hs[h].len - pg * MA_PAGE + MA_PAGE;
			want = EINVAL;
		}
	}
	p = ma_map_fd(dev.fd, off, len);
	expect_rc(legacy ? "mmap of the legacy BAR offset" : "mmap of a handle", p ? 0 : -errno, want);
	if (!p)
		return;
	if (want) {
		munmap(p, len);
		return;
	}
	ms[s] = (struct mm){ .used = 1, .legacy = legacy, .p = p, .len = len, .boff = boff, .h = legacy ? -1 : h };
}

static void st_munmap(void)
{
	int s = pick_map(), h;

	if (s < 0)
		return;
	calls++;
	if (munmap(ms[s].p, ms[s].len))
		FAIL("munmap: %s", strerror(errno));
	h = ms[s].h;
	ms[s].used = 0;
	if (h >= 0)
		drop_if_dead(h);
}

static void st_mremap(void)
{
	int s = pick_map(), kind = (int)below(3);
	void *q;

	if (s < 0)
		return;
	calls++;
	if (kind == 0) {	/* move, same size */
		q = mremap(ms[s].p, ms[s].len, ms[s].len, MREMAP_MAYMOVE);
		if (q == MAP_FAILED)
			FAIL("mremap move: %s", strerror(errno));
		else
			ms[s].p = q;
	} else if (kind == 1 && ms[s].len > MA_PAGE) {	/* shrink */
		q = mremap(ms[s].p, ms[s].len, ms[s].len - MA_PAGE, 0);
		if (q == MAP_FAILED)
			FAIL("mremap shrink: %s", strerror(errno));
		else
			ms[s].len -= MA_PAGE;
	} else {		/* grow: VM_DONTEXPAND refuses */
		q = mremap(ms[s].p, ms[s].len, ms[s].len + MA_PAGE, MREMAP_MAYMOVE);
		if (q != MAP_FAILED) {
			FAIL("mremap grow of a VFIO mapping succeeded");
			ms[s].p = q;
			ms[s].len += MA_PAGE;
		}
	}
}

static void st_touch(void)
{
	int s = pick_map(), sig;
	uint64_t v = rnd(), got = 0, o;

	if (s < 0)
		return;
	o = below(ms[s].len / 8) * 8;
	calls++;
	sig = touch(ms[s].p + o, v, &got);
	if (mem_off && sig != SIGBUS)
		FAIL("touch of a mapping with memory decode off: no SIGBUS");
	if (!mem_off && sig)
		FAIL("touch of a mapping (BAR offset %#" PRIx64 "): signal %d with memory on", ms[s].boff + o, sig);
	if (!mem_off && !sig && got != v)
		FAIL("touch at BAR offset %#" PRIx64 ": read back %#" PRIx64 ", wrote %#" PRIx64, ms[s].boff + o, got, v);
}

static void st_fork(void)
{
	int s = pick_map(), st = 0;
	pid_t pid;

	if (s < 0)
		return;
	calls++;
	pid = fork();
	if (pid == 0) {
		uint64_t got = 0;
		int sig = touch(ms[s].p, 0x1122334455667788ull, &got);

		_exit(sig ? 2 : got == 0x1122334455667788ull ? 0 : 3);
	}
	if (pid < 0 || waitpid(pid, &st, 0) != pid) {
		FAIL("fork: %s", strerror(errno));
		return;
	}
	if (!WIFEXITED(st) || WEXITSTATUS(st) != (mem_off ? 2 : 0))
		FAIL("fork: the child's touch of an inherited mapping ended with status %#x (memory %s)", st,
		     mem_off ? "off" : "on");
}

static void st_rw(void)
{
	static uint8_t buf[8192], back[8192];
	int h = pick_live(), rc, want = mem_off ? EIO : 0;
	uint64_t boff, base;
	size_t n = 1 + below(sizeof(buf));
	uint64_t seed = rnd();

	if (h >= 0 && below(2)) {
		uint64_t o = below(hs[h].len);

		if (n > hs[h].len - o)
			n = hs[h].len - o;
		base = hs[h].moff + o;
		boff = hs[h].off + o;
	} else {
		boff = WIN0 + below(WINSZ - sizeof(buf));
		base = legacy_off + boff;
	}
	buf_fill(buf, n, seed);
	rc = rawfd_pwrite(dev.fd, base, buf, n);
	expect_rc("pwrite", rc, want);
	rc = rawfd_pread(dev.fd, base, back, n);
	expect_rc("pread", rc, want);
	if (!rc && !want && memcmp(buf, back, n))
		FAIL("pread after pwrite of %zu bytes at BAR offset %#" PRIx64 ": data differs", n, boff);
}

static void st_ctl(void)
{
	int k = (int)below(3);

	if (k == 0 && (dev.info.flags & VFIO_DEVICE_FLAGS_RESET)) {
		uint16_t cmd = 0;

		expect_rc("VFIO_DEVICE_RESET", ioctl(dev.fd, VFIO_DEVICE_RESET) ? -errno : 0, 0);
		if (!cfg_read16(dev.fd, PCI_COMMAND, &cmd))
			mem_off = !(cmd & PCI_COMMAND_MEMORY);
	} else {
		int on = mem_off;

		expect_rc(on ? "memory enable" : "memory disable", cmd_memory(dev.fd, on), 0);
		mem_off = !on;
	}
}

static void st_ioeventfd(void)
{
	struct vfio_device_ioeventfd ie = { .argsz = sizeof(ie), .flags = VFIO_DEVICE_IOEVENTFD_32 };
	int rc;

	if (nefd && below(2)) {
		nefd--;
		ie.offset = legacy_off + efd_off[nefd];
		ie.data = 0x5a5a5a5a;
		ie.fd = -1;
		rc = ioctl(dev.fd, VFIO_DEVICE_IOEVENTFD, &ie) ? -errno : 0;
		expect_rc("ioeventfd remove", rc, 0);
		close(efds[nefd]);
		return;
	}
	if (nefd == MAXE)
		return;
	efd_off[nefd] = WIN0 + below(WINSZ / 4) * 4;
	efds[nefd] = eventfd(0, EFD_CLOEXEC);
	ie.offset = legacy_off + efd_off[nefd];
	ie.data = 0x5a5a5a5a;
	ie.fd = efds[nefd];
	rc = ioctl(dev.fd, VFIO_DEVICE_IOEVENTFD, &ie) ? -errno : 0;
	expect_rc("ioeventfd add", rc, objs() ? EBUSY : 0);
	if (rc)
		close(efds[nefd]);
	else
		nefd++;
}

/* driver state vs model: handles file (ids, ranges, attrs, state) and PAT */
static void check_deep(void)
{
	char path[256], line[256], st[16], an[8];
	unsigned int id, bar;
	unsigned long long off, len, moff;
	int n = 0, i, seen;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/kernel/debug/vfio-pci-memattr/%s/handles", bdf);
	f = fopen(path, "r");
	if (!f) {
		FAIL("%s: %s", path, strerror(errno));
		return;
	}
	while (fgets(line, sizeof(line), f)) {
		if (line[0] == '#')
			continue;
		n++;
		if (sscanf(line, "%x %u %llx %llx %7s %llx %15s", &id, &bar, &off, &len, an, &moff, st) != 7) {
			FAIL("handles file: cannot parse \"%s\"", line);
			break;
		}
		for (i = 0, seen = 0; i < MAXH; i++)
			if (hs[i].used && hs[i].id == id) {
				seen = 1;
				if (bar != BAR || off != hs[i].off || len != hs[i].len || moff != hs[i].moff ||
				    strcmp(an, attr_name(hs[i].attr)) || strcmp(st, hs[i].live ? "live" : "released"))
					FAIL("handles file: \"%.80s\" disagrees with the model", line);
			}
		if (!seen)
			FAIL("handles file lists %#x, which the model does not have", id);
	}
	fclose(f);
	calls++;
	if (n != objs())
		FAIL("handles file lists %d handles, model has %d", n, objs());
#if !defined(__x86_64__) && !defined(__i386__)
	return;		/* no PAT list (memattr_pte checks attributes there) */
#endif
	if (!pat_available())
		return;
	/* one read of the PAT list, every handle looked up in it */
	{
		static struct vfio_memattr__pat_entry pe[PAT_MAX];
		int np = pat_overlapping(bphys, bphys + bsize, pe, PAT_MAX), j;
		int64_t rw_page = -1;
		char key[16];

		/* the uncached page the driver keeps mapped for pread/pwrite (debugfs stats) */
		snprintf(key, sizeof(key), "rw_page%u", BAR);
		ma_stat(bdf, key, &rw_page);

		for (j = 0; j < np; j++) {
			int want = 0;

			for (i = 0; i < MAXH; i++)
				want |= hs[i].used && hs[i].attr == VFIO_MEMATTR_WC && pe[j].start == bphys + hs[i].off &&
					pe[j].end == bphys + hs[i].off + hs[i].len && !strcmp(pe[j].type, "write-combining");
			/*
			 * the core's own whole-BAR mapping: on a fresh open (7.2), or
			 * made for an ioeventfd (6.1, 6.12) until the BAR is taken over
			 */
			want |= !objs() && pe[j].start == bphys && pe[j].end == bphys + bsize &&
				!strcmp(pe[j].type, "uncached-minus");
			/* 6.1 reserves each user mapping's range at fault time */
			for (i = 0; i < MAXM; i++) {
				uint64_t s0 = bphys + ms[i].boff, e0 = s0 + ms[i].len;
				int wc = !ms[i].legacy && hs[ms[i].h].attr == VFIO_MEMATTR_WC;

				want |= ms[i].used && pe[j].start < e0 && s0 < pe[j].end &&
					!strcmp(pe[j].type, wc ? "write-combining" : "uncached-minus");
			}
			for (i = 0; i < opened.n; i++)
				want |= pe[j].start == opened.e[i].start && pe[j].end == opened.e[i].end &&
					!strcmp(pe[j].type, opened.e[i].type);
			want |= rw_page >= 0 && pe[j].start == (uint64_t)rw_page &&
				pe[j].end == (uint64_t)rw_page + MA_PAGE && !strcmp(pe[j].type, "uncached-minus");
			if (foreign_check && !want && pe[j].start < bphys + WIN0 + WINSZ && bphys + WIN0 < pe[j].end)
				FAIL("PAT list has [%#" PRIx64 "-%#" PRIx64 "] %s in the window, no WC handle of the model has it",
				     pe[j].start - bphys, pe[j].end - bphys, pe[j].type);
		}
		for (i = 0; i < MAXH; i++) {
			if (!hs[i].used || hs[i].attr != VFIO_MEMATTR_WC)
				continue;
			for (j = 0, seen = 0; j < np && !seen; j++)
				seen = pe[j].start == bphys + hs[i].off && pe[j].end == bphys + hs[i].off + hs[i].len &&
				       !strcmp(pe[j].type, attr_pat_type(hs[i].attr));
			if (!seen)
				FAIL("PAT list lacks [%#" PRIx64 "+%#" PRIx64 "] %s of handle %#x", hs[i].off, hs[i].len,
				     attr_pat_type(hs[i].attr), hs[i].id);
		}
	}
}

static int dev_open(void)
{
	int b;

	if (vdev_open(&dev, bdf))
		return -1;
	for (b = 0; b < 6; b++)
		if (ma_bar_info(dev.fd, (uint32_t)b, &bi[b]))
			return -1;
	{
		struct vfio_region_info ri;

		if (region_info(dev.fd, BAR, &ri))
			return -1;
		legacy_off = ri.offset;
	}
	mem_off = 0;
	return 0;
}

static void st_reopen(void)
{
	int i;

	for (i = 0; i < MAXM; i++)
		if (ms[i].used) {
			munmap(ms[i].p, ms[i].len);
			ms[i].used = 0;
		}
	for (i = 0; i < MAXH; i++)
		drop_if_dead(i);
	while (nefd)
		close(efds[--nefd]);
	check_deep();
	vdev_close(&dev);
	memset(hs, 0, sizeof(hs));
	calls++;
	if (!pat_snap_same(bphys, bphys + bsize, &fresh))
		FAIL("PAT list after close differs from before the first open");
	if (check_deep(), dev_open())
		FAIL("reopen failed");
}

int main(int argc, char **argv)
{
	const char *lbl = getenv("MEMATTR_KERNEL_LABEL"), *e = getenv("MEMATTR_FUZZ_SEED");
	uint64_t seed, ncalls = lbl && strstr(lbl, "-debug") ? 1000000 : 20000;
	struct sigaction sa = { .sa_handler = on_sig };
	struct timespec t0, t1;
	double el;
	uint64_t next_note, trace;
	int nh;

	if (argc > 1)
		e = argv[1];
	seed = tap_seed(e, 0x6d656d6174747231ull);
	rng = seed;
	e = getenv("MEMATTR_FUZZ_CALLS");
	if (e && strtoull(e, NULL, 0))
		ncalls = strtoull(e, NULL, 0);
	tap_plan(3);
	/*
	 * 6.1 maps user VMAs with io_remap_pfn_range() at fault time, which
	 * reserves their ranges; such uncached-minus entries outlive the
	 * model's mappings there (found by this fuzzer; see the lab notes),
	 * so only the WC reservations and the state after close are checked.
	 */
	if (lbl && !strcmp(lbl, "6.1")) {
		foreign_check = 0;
		tap_diag("6.1: PAT entries of user mappings are not checked mid-run (only WC handles and after close)");
	}
	tap_diag("seed %#" PRIx64 " (replay: MEMATTR_FUZZ_SEED=%#" PRIx64 " /tests/memattr_fuzz), %" PRIu64 " calls",
		 seed, seed, ncalls);
	bdf = ma_bdf_or_skip("MEMATTR_IVSHMEM0");
	if (ma_bar_phys(bdf, BAR, &bphys, &bsize) || pat_snap_take(bphys, bphys + bsize, &fresh) < 0 ||
	    dev_open() || !ma_driver_present(dev.fd) || pat_snap_take(bphys, bphys + bsize, &opened) < 0) {
		tap_fail_n(3, "ivshmem0 is not usable with vfio-pci-memattr");
		return tap_done();
	}
	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, NULL);
	sigaction(SIGSEGV, &sa, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	next_note = ncalls / 10;
	e = getenv("MEMATTR_FUZZ_TRACE");	/* print every step from this call on */
	trace = e ? strtoull(e, NULL, 0) : 0;
	for (step = 0; calls < ncalls && !failure[0]; step++) {
		int k = (int)below(100);

		if (trace && calls >= trace) {
			printf("# trace: step %" PRIu64 " call %" PRIu64 " kind %d handles %d legacy maps %d ioeventfds %d mem %s\n",
			       step, calls, k, objs(), nlegacy(), nefd, mem_off ? "off" : "on");
			fflush(stdout);
		}

		if (k < 22)
			st_map_valid();
		else if (k < 32)
			st_map_garbage();
		else if (k < 42)
			st_unmap();
		else if (k < 50)
			st_query();
		else if (k < 60)
			st_mmap();
		else if (k < 68)
			st_munmap();
		else if (k < 71)
			st_mremap();
		else if (k < 82)
			st_touch();
		else if (k < 92)
			st_rw();
		else if (k < 95)
			st_ctl();
		else if (k < 98)
			st_ioeventfd();
		else if (k < 99 && below(20) == 0)
			st_fork();
		else if (below(50) == 0)
			st_reopen();
		if (failure[0])
			break;
		nh = ma_nr_handles(dev.fd, BAR);
		calls++;
		if (nh != objs())
			FAIL("BAR_INFO nr_handles %d, model has %d", nh, objs());
		if (!failure[0] && step % 256 == 255)
			check_deep();
		if (calls >= next_note) {
			clock_gettime(CLOCK_MONOTONIC, &t1);
			el = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
			tap_diag("progress: %" PRIu64 " calls, %.0f calls/s", calls, (double)calls / (el > 0 ? el : 1));
			fflush(stdout);
			next_note += ncalls / 10;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	el = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	if (failure[0]) {
		tap_diag("step %" PRIu64 " (call %" PRIu64 "): %s", step, calls, failure);
		tap_diag("replay: MEMATTR_FUZZ_SEED=%#" PRIx64 " MEMATTR_FUZZ_CALLS=%" PRIu64 " /tests/memattr_fuzz",
			 seed, calls);
	}
	tap_diag("%" PRIu64 " calls in %" PRIu64 " steps, %.1f s, %.0f calls/s, seed %#" PRIx64, calls, step, el,
		 (double)calls / (el > 0 ? el : 1), seed);
	tap_diag("MAP: %" PRIu64 " new handles, %" PRIu64 " identical MAPs answered with the same handle, %"
		 PRIu64 " EBUSY (%" PRIu64 " explained by a PAT reservation of a user mapping)", nmap_ok - nmap_same,
		 nmap_same, nmap_busy, nmap_pat);
	tap_ok(!failure[0], "%" PRIu64 " calls: every errno, handle, mapping, PAT entry and data read back as "
	       "the model says (seed %#" PRIx64 ")", calls, seed);
	if (!failure[0])
		st_reopen();
	tap_ok(!failure[0], "after munmap of everything and close: no handle, PAT list as before the first open");
	vdev_close(&dev);
	tap_ok(calls >= ncalls, "ran the %" PRIu64 " calls asked for", ncalls);
	return tap_done();
}
