// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * memattr_forkrevoke - a forked child's copies of a handle mapping and of
 * a DMABUF mapping are revoked with the parent's, on 6.1 (the core's
 * vma_list: the copy made by fork is emptied by .open and faults itself
 * onto the list) as on 6.12 and later (the device's address space).
 *
 * Each round: a WC handle and a WC DMABUF (SET_ATTR WC) of two 64 KiB
 * ranges of the NVMe CMB are mmapped; either the parent touches both and
 * then forks ("touched"), or it forks first and the child touches first
 * ("untouched": the fork copies empty VMAs).  The child reads and writes
 * its copies, the parent revokes with (a) VFIO_DEVICE_RESET, (b) clearing
 * PCI_COMMAND_MEMORY, (c) VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY (then waits
 * until the device has runtime-suspended to D3hot), and both
 * processes check their own mappings with the user-PTE oracle (not
 * populated before the next access) and by access: SIGBUS while memory is
 * disabled or the device in low power; after a reset the mapping
 * refaults.  After re-enable (LOW_POWER_EXIT) the child's copies refault
 * and read back what the child wrote before; after a reset each process
 * reads what the other wrote since.
 *
 * Data written: the NVMe CMB [0, 768 KiB) (not host-checked).
 */
#define _GNU_SOURCE
#define _FILE_OFFSET_BITS 64
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/tap.h"
#include "lib/sysfs.h"
#include "lib/vfio.h"
#include "lib/memattr.h"
#include "lib/mmio.h"
#include "lib/sigbus.h"
#include "lib/ptecheck.h"

#define K64		(64 * 1024ull)
#define ROUND_LEN	(2 * K64)	/* the handle's range, then the DMABUF's */

enum rev { REV_RESET, REV_MEMDIS, REV_D3, NR_REVS };

static const char *const rev_name[NR_REVS] = {
	"(a) VFIO_DEVICE_RESET", "(b) memory disable", "(c) low power (D3)",
};

/* The results of one round (round()); the plan is NR_ROUNDS times this. */
#define PER_ROUND	9
#define NR_ROUNDS	(2 * NR_REVS)

/* Seeds of round @r: A written before the fork, B by the child, C and D after a reset. */
#define SEED(r, k)	(0xf0a4000000000000ull | ((uint64_t)(r) << 8) | (k))

struct maps {
	volatile uint8_t *h;	/* the handle's mapping */
	volatile uint8_t *b;	/* the DMABUF's mapping */
	uint64_t hphys, bphys;	/* the BAR addresses they map */
};

static const char *wc_mode;

static int low_power(int fd, uint32_t feature)
{
	struct vfio_device_feature f = {
		.argsz = sizeof(f),
		.flags = VFIO_DEVICE_FEATURE_SET | feature,
	};

	return ioctl(fd, VFIO_DEVICE_FEATURE, &f) ? -errno : 0;
}

/*
 * After LOW_POWER_ENTRY the device runtime-suspends asynchronously: wait
 * (up to 10 s) for runtime_status "suspended"; power_state (where the
 * kernel has it) must then say D3hot.
 */
static int in_d3hot(const char *bdf)
{
	char path[128], rs[32] = "", ps[32] = "";
	int i, have_ps;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/power/runtime_status", bdf);
	for (i = 0; i < 1000; i++) {
		if (sysfs_read_str(path, rs, sizeof(rs)) < 0 || !strcmp(rs, "suspended"))
			break;
		usleep(10000);
	}
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/power_state", bdf);
	have_ps = sysfs_read_str(path, ps, sizeof(ps)) >= 0;
	tap_diag("low power: runtime_status %s, power_state %s", rs, have_ps ? ps : "(no such file)");
	return !strcmp(rs, "suspended") && (!have_ps || !strcmp(ps, "D3hot"));
}

/* Both mappings hold @seed's pattern; diagnostics name @who and @when. */
static int data_ok(const struct maps *m, uint64_t seed, const char *who, const char *when)
{
	char h[96], b[96];

	snprintf(h, sizeof(h), "%s handle mapping %s", who, when);
	snprintf(b, sizeof(b), "%s DMABUF mapping %s", who, when);
	return mmio_data_ok(m->h, K64, seed, h) & mmio_data_ok(m->b, K64, seed, b);
}

/* Fill both with @seed's pattern and read it back. */
static int fill_ok(const struct maps *m, uint64_t seed, const char *who)
{
	int ok = ma_fill_check(m->h, K64, seed) & ma_fill_check(m->b, K64, seed);

	if (!ok)
		tap_diag("%s: pattern 0x%llx written through the mappings does not read back", who,
			 (unsigned long long)seed);
	return ok;
}

/* The first pages of both are mapped WC at their BAR pages (touching them). */
static int populated(const struct maps *m, const char *who)
{
	char h[96], b[96];

	snprintf(h, sizeof(h), "%s: handle mapping", who);
	snprintf(b, sizeof(b), "%s: DMABUF mapping", who);
	return pte_is(m->h, wc_mode, m->hphys, h) & pte_is(m->b, wc_mode, m->bphys, b);
}

/* No page table entry at the first and last page of either (not touching them). */
static int zapped(const struct maps *m, const char *who)
{
	char w[4][96];

	snprintf(w[0], sizeof(w[0]), "%s: handle mapping, first page", who);
	snprintf(w[1], sizeof(w[1]), "%s: handle mapping, last page", who);
	snprintf(w[2], sizeof(w[2]), "%s: DMABUF mapping, first page", who);
	snprintf(w[3], sizeof(w[3]), "%s: DMABUF mapping, last page", who);
	return pte_zapped(m->h, w[0]) & pte_zapped(m->h + K64 - MA_PAGE, w[1]) &
	       pte_zapped(m->b, w[2]) & pte_zapped(m->b + K64 - MA_PAGE, w[3]);
}

static int both_sigbus(const struct maps *m, const char *who)
{
	char h[96], b[96];

	snprintf(h, sizeof(h), "%s: handle mapping", who);
	snprintf(b, sizeof(b), "%s: DMABUF mapping", who);
	return sigbus_rw(m->h, h) & sigbus_rw(m->b, b);
}

/*
 * The child: one status byte ('1' passed, '0' failed) per phase to @out,
 * each phase after a byte from @in; its diagnostics go to stdout as TAP
 * comments.  Exits 0 if it could talk to the parent throughout.
 */
static void child(enum rev rv, int touched, int r, const struct maps *m, int in, int out)
{
	char c;
	int ok;

	/* 1: its copies, read (the parent's data A) and written (B) */
	ok = 1;
	if (!touched)
		ok = zapped(m, "child, untouched copy after fork");
	else
		tap_diag("child: its copy of the touched handle mapping is %s after the fork",
			 pte_query(m->h, &(struct pte_info){ 0 }) ? "empty" : "populated");
	ok = ok & data_ok(m, SEED(r, 1), "child", "after fork");
	ok = ok & fill_ok(m, SEED(r, 2), "child") & populated(m, "child");
	if (write(out, ok ? "1" : "0", 1) != 1 || read(in, &c, 1) != 1)
		_exit(2);

	/* 2: the parent revoked */
	ok = zapped(m, "child, after the revocation");
	if (rv == REV_RESET)
		ok = ok & fill_ok(m, SEED(r, 3), "child after reset") & populated(m, "child after reset");
	else
		ok = ok & both_sigbus(m, "child, revoked");
	if (write(out, ok ? "1" : "0", 1) != 1 || read(in, &c, 1) != 1)
		_exit(3);

	/* 3: memory back (b, c), or the parent wrote D since (a) */
	if (rv == REV_RESET)
		ok = data_ok(m, SEED(r, 4), "child", "with the parent's data after reset");
	else
		ok = data_ok(m, SEED(r, 2), "child", "after re-enable");
	ok = ok & populated(m, "child, refaulted");
	if (write(out, ok ? "1" : "0", 1) != 1)
		_exit(4);
	_exit(0);
}

/* The child's answer to the last phase: 1 if it passed. */
static int child_says(int in)
{
	char c = 0;

	if (read(in, &c, 1) != 1)
		tap_diag("no answer from the child");
	return c == '1';
}

static int revoke_by(int fd, enum rev rv)
{
	switch (rv) {
	case REV_RESET:
		return ioctl(fd, VFIO_DEVICE_RESET) ? -errno : 0;
	case REV_MEMDIS:
		return cmd_memory(fd, 0);
	default:
		return low_power(fd, VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY);
	}
}

static int restore(int fd, enum rev rv)
{
	return rv == REV_MEMDIS ? cmd_memory(fd, 1) : low_power(fd, VFIO_DEVICE_FEATURE_LOW_POWER_EXIT);
}

/* One round: PER_ROUND results. */
static void round_run(struct vdev *nv, int bar, uint64_t cmb, enum rev rv, int touched, int r)
{
	const char *how = touched ? "touched, then forked" : "forked before the first touch";
	const char *rn = rev_name[rv];
	uint64_t hoff = (uint64_t)r * ROUND_LEN, boff = hoff + K64;
	struct vfio_memattr_dma_range dr = { .offset = boff, .length = K64 };
	struct vfio_device_feature_memattr_map hm;
	const uint8_t wc = VFIO_MEMATTR_WC;
	struct maps m = { .hphys = cmb + hoff, .bphys = cmb + boff };
	int to_child[2] = { -1, -1 }, to_parent[2] = { -1, -1 };
	int rc, ok, dfd = -1, status = 0, n = 0, mapped;
	pid_t pid = -1;

	/* 1: set up, and either touched by the parent or pre-filled through pwrite */
	rc = ma_map1(nv->fd, (uint32_t)bar, hoff, K64, VFIO_MEMATTR_WC, &hm);
	mapped = !rc;
	if (mapped)
		m.h = ma_map_fd(nv->fd, hm.mmap_offset, K64);
	dfd = rc ? rc : ma_dmabuf_export(nv->fd, (uint32_t)bar, O_RDWR | O_CLOEXEC, &dr, 1);
	rc = dfd < 0 ? dfd : ma_dmabuf_attr(nv->fd, dfd, &wc, 1, NULL);
	if (!rc) {
		void *p = mmap(NULL, K64, PROT_READ | PROT_WRITE, MAP_SHARED, dfd, 0);

		m.b = p == MAP_FAILED ? NULL : p;
	}
	ok = !rc && m.h && m.b;
	if (!ok) {
		tap_diag("MAP, DMABUF export + SET WC: %s; mmap: %s", ma_errname(-rc), strerror(errno));
	} else if (touched) {
		ok = fill_ok(&m, SEED(r, 1), "parent") & populated(&m, "parent");
	} else {
		uint8_t *buf = malloc(K64);

		ok = buf != NULL;
		if (buf) {
			buf_fill(buf, K64, SEED(r, 1));
			rc = region_pwrite(nv->fd, (uint32_t)bar, hoff, buf, K64);
			rc = rc ? rc : region_pwrite(nv->fd, (uint32_t)bar, boff, buf, K64);
			if (rc)
				tap_diag("pwrite of the BAR: %s", ma_errname(-rc));
			free(buf);
			ok = !rc && zapped(&m, "parent, untouched");
		}
	}
	ok = ok && !pipe(to_child) && !pipe(to_parent);
	n++;
	tap_ok(ok, "%s, %s: WC handle and WC DMABUF of the CMB mmapped, %s", rn, how,
	       touched ? "written and read back through both, PTEs WC" : "data written by pwrite, PTEs not populated");
	if (!ok)
		goto out;

	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		close(to_child[1]);
		close(to_parent[0]);
		child(rv, touched, r, &m, to_child[0], to_parent[1]);
	}
	if (pid < 0) {
		tap_diag("fork: %s", strerror(errno));
		goto out;
	}
	close(to_child[0]);
	close(to_parent[1]);
	to_child[0] = to_parent[1] = -1;

	/* 2 */
	n++;
	tap_ok(child_says(to_parent[0]),
	       "%s, %s: the child's copies read the data before the fork, are written, PTEs WC", rn, how);

	/* 3: the parent sees the child's data; its own mappings are populated */
	n++;
	tap_ok(data_ok(&m, SEED(r, 2), "parent", "before the revocation") & populated(&m, "parent"),
	       "%s, %s: the parent's mappings read what the child wrote, PTEs WC", rn, how);

	/* 4 (c: and the device gets to D3hot; the checks below run there) */
	n++;
	rc = revoke_by(nv->fd, rv);
	if (rv == REV_D3)
		tap_ok(!rc && in_d3hot(nv->bdf), "%s, %s: LOW_POWER_ENTRY -> %s, the device runtime-suspends to D3hot",
		       rn, how, rc ? ma_errname(-rc) : "0");
	else
		tap_errno(rc, 0, "%s, %s: %s", rn, how,
			  rv == REV_RESET ? "VFIO_DEVICE_RESET" : "clear PCI_COMMAND_MEMORY");

	/* 5: the parent's own mappings */
	n++;
	ok = zapped(&m, "parent, after the revocation");
	if (rv != REV_RESET)
		ok = ok & both_sigbus(&m, "parent, revoked");
	tap_ok(ok, "%s, %s: the parent's mappings are zapped (oracle: no PTE before the next access)%s", rn, how,
	       rv == REV_RESET ? "" : " and raise SIGBUS on read and write");

	/* 6: the child's copies */
	n++;
	ok = write(to_child[1], "r", 1) == 1 && child_says(to_parent[0]);
	tap_ok(ok, "%s, %s: the child's copies are zapped (oracle: no PTE before its next access)%s", rn, how,
	       rv == REV_RESET ? ", then refault: data written and read back, PTEs WC" :
	       " and raise SIGBUS on read and write");

	if (rv == REV_RESET) {
		/* 7: the parent refaults and reads the child's data after the reset */
		n++;
		tap_ok(data_ok(&m, SEED(r, 3), "parent", "after reset") & populated(&m, "parent, refaulted"),
		       "%s, %s: the parent's mappings refault, read what the child wrote after the reset, PTEs WC",
		       rn, how);
		/* 8 */
		n++;
		tap_ok(fill_ok(&m, SEED(r, 4), "parent after reset"),
		       "%s, %s: the parent writes new data through both and reads it back", rn, how);
	} else {
		/* 7 */
		n++;
		rc = restore(nv->fd, rv);
		tap_errno(rc, 0, "%s, %s: %s", rn, how,
			  rv == REV_MEMDIS ? "set PCI_COMMAND_MEMORY again" : "LOW_POWER_EXIT");
		/* 8 */
		n++;
		tap_ok(data_ok(&m, SEED(r, 2), "parent", "after re-enable") & populated(&m, "parent, refaulted"),
		       "%s, %s: the parent's mappings refault with the data written before, PTEs WC", rn, how);
	}

	/* 9 */
	n++;
	ok = write(to_child[1], "e", 1) == 1 && child_says(to_parent[0]);
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status)) {
		tap_diag("child status 0x%x", status);
		ok = 0;
	}
	pid = -1;
	tap_ok(ok, "%s, %s: the child's copies refault and read %s, PTEs WC", rn, how,
	       rv == REV_RESET ? "what the parent wrote after the reset" : "the data the child wrote before");
out:
	if (pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	if (n < PER_ROUND)
		tap_fail_n(PER_ROUND - n, "the round could not go on");
	for (n = 0; n < 2; n++) {
		if (to_child[n] >= 0)
			close(to_child[n]);
		if (to_parent[n] >= 0)
			close(to_parent[n]);
	}
	if (m.h)
		munmap((void *)m.h, K64);
	if (m.b)
		munmap((void *)m.b, K64);
	if (dfd >= 0)
		close(dfd);
	if (mapped)
		ma_unmap(nv->fd, hm.handle);
}

int main(void)
{
	const char *bdf = ma_bdf_or_skip("MEMATTR_NVME");
	uint64_t cmb = 0;
	struct vdev nv;
	int bar, r = 0, touched;
	enum rev rv;

	tap_plan(NR_ROUNDS * PER_ROUND);
	wc_mode = pte_expected_mode(VFIO_MEMATTR_WC);
	if (!pte_oracle_available()) {
		tap_fail_n(NR_ROUNDS * PER_ROUND,
			   "the user-PTE oracle " PTECHECK_PATH " is not loaded (lab/init loads it on every lab kernel)");
		return tap_done();
	}
	if (vdev_open(&nv, bdf)) {
		tap_fail_n(NR_ROUNDS * PER_ROUND, "cannot open the NVMe device");
		return tap_done();
	}
	bar = ma_nvme_cmb_bar(nv.fd, bdf, &cmb);
	if (bar < 0) {
		tap_fail_n(NR_ROUNDS * PER_ROUND, "the NVMe device has no 16 MiB prefetchable CMB BAR");
		vdev_close(&nv);
		return tap_done();
	}
	tap_diag("NVMe %s CMB BAR%d at 0x%llx", bdf, bar, (unsigned long long)cmb);
	for (rv = REV_RESET; rv < NR_REVS; rv++) {
		for (touched = 1; touched >= 0; touched--, r++) {
			if (rv == REV_RESET && !(nv.info.flags & VFIO_DEVICE_FLAGS_RESET)) {
				tap_skip_rest_of(PER_ROUND, "the NVMe device offers no VFIO_DEVICE_RESET");
				continue;
			}
			round_run(&nv, bar, cmb, rv, touched, r);
		}
	}
	vdev_close(&nv);
	return tap_done();
}
