// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * lib_dmabuf - DMABUFs of BAR ranges through libvfio-memattr and the
 * vfio-memattr command (map --dmabuf ... --run CMD).
 *
 *  ivshmem0 (MEMATTR_IVSHMEM0, vfio-pci-memattr): the library exports a
 *    DMABUF of the slice, sets WC (PAT: exactly the range write-combining),
 *    refuses NC while it is mmapped (EBUSY), revokes it (SIGBUS on the live
 *    mapping, state revoked, WC reservation gone, SET ENODEV, mmap fails).
 *    The CLI exports it with --attr wc,nc and runs this program again as
 *    its --run child, which takes the fd from VFIO_MEMATTR_DMABUF_FD, mmaps
 *    it and writes the pattern (HOSTCHECK), and checks the PAT list; after
 *    the child exits the CLI revokes it (its line and the kernel's state),
 *    and the WC reservation is gone.  --json with two ranges; --no-revoke.
 *  ivshmem1 (MEMATTR_IVSHMEM1, stock vfio-pci): export is ENOTTY, from the
 *    library and from the CLI (exit 1, JSON error with a hint).
 *
 * Slice: ivshmem0 BAR2 0x3d0000-0x3dffff (64 KiB), written once, by the
 * CLI's child (HOSTCHECK, seed SEED_CHILD).  Nothing else is written.
 * The CLI is "vfio-memattr" from PATH, or $VFIO_MEMATTR_CLI.
 */
#define _GNU_SOURCE
#define _FILE_OFFSET_BITS 64
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/tap.h"
#include "lib/sysfs.h"
#include "lib/sigbus.h"
#include "lib/hostcheck.h"
#include "lib/pat.h"
#include "lib/cli.h"
#include "pattern.h"
#include "minijson.h"
#include "capture.h"
#include "vfio-memattr.h"
#include "vfio-memattr-mmio.h"

#define NTESTS		10
#define SLICE_OFF	0x3d0000ull
#define SLICE_LEN	0x10000ull
#define SEED_CHILD	0xd3ab0f00003d0000ull

static char self[512];

static bool is_x86(void)
{
#if defined(__x86_64__) || defined(__i386__)
	return true;
#else
	return false;
#endif
}

static void ensure_debugfs(void)
{
	struct stat st;

	if (stat(PAT_LIST, &st) == 0 || !is_x86())
		return;
	if (mount("debugfs", "/sys/kernel/debug", "debugfs", 0, NULL) < 0)
		tap_diag("mount debugfs: %s", strerror(errno));
}

/* ------------------------------------------------------------ the child */

/*
 * Run by the CLI as its --run command: lib_dmabuf --child MODE SIZE ATTR PHYS
 * MODE "write": mmap the inherited DMABUF, write and read back the pattern,
 * check the PAT list (PHYS 0: no PAT list); "pat": the PAT list only.
 * Prints "child: ok ..." / "child: FAIL ..." lines; exit 0 if all good.
 */
static int child_main(int argc, char **argv)
{
	const char *fds = getenv("VFIO_MEMATTR_DMABUF_FD");
	const char *szs = getenv("VFIO_MEMATTR_DMABUF_SIZE");
	const char *ats = getenv("VFIO_MEMATTR_DMABUF_ATTR");
	uint64_t want_size, phys, size;
	int fd, bad = 0, fl;
	char *end = NULL;
	void *p, *buf;
	size_t ok;

	if (argc != 6) {
		printf("child: FAIL usage\n");
		return 2;
	}
	want_size = strtoull(argv[3], NULL, 0);
	phys = strtoull(argv[5], NULL, 0);
	if (!fds || !szs || !ats) {
		printf("child: FAIL environment: FD %s, SIZE %s, ATTR %s\n", fds ? fds : "unset",
		       szs ? szs : "unset", ats ? ats : "unset");
		return 1;
	}
	fd = (int)strtol(fds, &end, 10);
	size = strtoull(szs, NULL, 10);
	printf("child: VFIO_MEMATTR_DMABUF_FD=%s SIZE=%s ATTR=%s\n", fds, szs, ats);
	if (!*fds || *end || fd < 0 || size != want_size || strcmp(ats, argv[4])) {
		printf("child: FAIL environment does not say fd, %" PRIu64 " bytes, %s\n",
		       want_size, argv[4]);
		return 1;
	}
	fl = fcntl(fd, F_GETFD);
	if (fl < 0 || (fl & FD_CLOEXEC)) {
		printf("child: FAIL fd %d is not open without close-on-exec (%d)\n", fd, fl);
		return 1;
	}
	printf("child: ok fd %d inherited, %" PRIu64 " bytes, %s\n", fd, size, ats);
	if (!strcmp(argv[2], "write")) {
		p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (p == MAP_FAILED) {
			printf("child: FAIL mmap of the DMABUF: %s\n", strerror(errno));
			return 1;
		}
		buf = aligned_alloc(64, size);
		if (!buf)
			return 1;
		pattern_fill(buf, size, SEED_CHILD);
		vfio_memattr_wc_start();
		if (vfio_memattr_wc_copy(p, buf, size))
			bad++;
		vfio_memattr_wc_flush();
		free(buf);
		ok = pattern_check_mmio64(p, size / 8, SEED_CHILD);
		if (ok != size / 8 || bad) {
			printf("child: FAIL pattern reads back wrong at word %zu\n", ok);
			bad++;
		} else {
			printf("child: ok pattern written through the DMABUF mapping reads back\n");
		}
		/* the kernel's name of the mapping, for the log */
		{
			char line[512], want[32];
			FILE *f = fopen("/proc/self/maps", "r");

			snprintf(want, sizeof(want), "%lx-", (unsigned long)p);
			while (f && fgets(line, sizeof(line), f))
				if (!strncmp(line, want, strlen(want)))
					printf("child: maps %s", line);
			if (f)
				fclose(f);
		}
	}
	if (phys) {
		if (pat_exact(phys, phys + size, "write-combining")) {
			printf("child: ok PAT: [0x%" PRIx64 "-0x%" PRIx64 ") write-combining, "
			       "nothing else over it\n", phys, phys + size);
		} else {
			printf("child: FAIL PAT is not exactly [0x%" PRIx64 "-0x%" PRIx64
			       ") write-combining\n", phys, phys + size);
			bad++;
		}
	}
	printf(bad ? "child: FAIL\n" : "child: all good\n");
	fflush(stdout);
	return bad ? 1 : 0;
}

/* ------------------------------------------------------------- library */

static const enum vfio_memattr P_WC_NC[] = { VFIO_MEMATTR_WC, VFIO_MEMATTR_NC };
static const enum vfio_memattr P_NC[] = { VFIO_MEMATTR_NC };

static void lib_tests(const char *bdf, uint64_t phys)
{
	const struct vfio_memattr_dma_range r = { .offset = SLICE_OFF, .length = SLICE_LEN };
	struct vfio_memattr_dmabuf_info in;
	struct vfio_memattr_dev *dev = NULL;
	enum vfio_memattr at = VFIO_MEMATTR_DEV;
	uint64_t s = phys + SLICE_OFF, e = phys + SLICE_OFF + SLICE_LEN, v = 0;
	void *p = MAP_FAILED, *p2;
	int fd = -1, ret, sig;
	bool good;

	ret = vfio_memattr_open(bdf, 0, &dev);
	if (ret < 0) {
		tap_diag("open %s: %s", bdf, strerror(-ret));
		tap_fail("lib: export (ivshmem0 cannot be opened)");
		tap_fail("lib: set WC (ivshmem0 cannot be opened)");
		tap_fail("lib: EBUSY with a live mmap (ivshmem0 cannot be opened)");
		tap_fail("lib: revoke (ivshmem0 cannot be opened)");
		return;
	}
	fd = vfio_memattr_dmabuf_export(dev, 2, &r, 1, O_RDWR | O_CLOEXEC);
	good = EXPECT_GE(fd, 0) && EXPECT_EQ(vfio_memattr_dmabuf_info(dev, fd, &in), 0) &&
	       EXPECT_EQ(in.size, SLICE_LEN) && EXPECT_EQ(in.attr, VFIO_MEMATTR_NC) &&
	       EXPECT_EQ(in.state, 0) && EXPECT_TRUE(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	if (fd < 0)
		tap_diag("export: %s", strerror(-fd));
	tap_ok(good, "lib: export of BAR2 0x3d0000+64K: fd, 65536 bytes, NC, not revoked, "
	       "close-on-exec");
	if (fd < 0) {
		tap_fail("lib: set WC (no DMABUF)");
		tap_fail("lib: EBUSY with a live mmap (no DMABUF)");
		tap_fail("lib: revoke (no DMABUF)");
		vfio_memattr_close(dev);
		return;
	}

	ret = vfio_memattr_dmabuf_set_attr(dev, fd, P_WC_NC, 2, &at);
	good = EXPECT_EQ(ret, 0) && EXPECT_EQ(at, VFIO_MEMATTR_WC) &&
	       EXPECT_EQ(vfio_memattr_dmabuf_info(dev, fd, &in), 0) &&
	       EXPECT_EQ(in.attr, VFIO_MEMATTR_WC) && phys && pat_exact(s, e, "write-combining");
	tap_ok(good, "lib: set_attr WC,NC -> WC; info says WC; PAT: exactly the range "
	       "write-combining");

	/* a live mmap: the attribute cannot change (upstream: later mmaps only) */
	p = mmap(NULL, SLICE_LEN, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	good = EXPECT_TRUE(p != MAP_FAILED) &&
	       EXPECT_EQ(probe_access((volatile uint64_t *)p, 0, 0, &v), 0) &&
	       EXPECT_EQ(vfio_memattr_dmabuf_info(dev, fd, &in), 0) &&
	       EXPECT_TRUE(in.state & VFIO_MEMATTR_DMABUF_MAPPED) &&
	       EXPECT_EQ(vfio_memattr_dmabuf_set_attr(dev, fd, P_NC, 1, &at), -EBUSY) &&
	       EXPECT_EQ(at, VFIO_MEMATTR_WC) &&
	       EXPECT_EQ(vfio_memattr_dmabuf_info(dev, fd, &in), 0) &&
	       EXPECT_EQ(in.attr, VFIO_MEMATTR_WC) && phys && pat_exact(s, e, "write-combining");
	tap_ok(good, "lib: mmapped (state mapped), set_attr NC is EBUSY; still WC, PAT unchanged");

	/* revoke: the live mapping gets SIGBUS, a new mmap fails, SET is ENODEV */
	ret = vfio_memattr_dmabuf_revoke(dev, fd);
	sig = p != MAP_FAILED ? probe_access((volatile uint64_t *)p, 0, 0, &v) : -1;
	p2 = mmap(NULL, SLICE_LEN, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	good = EXPECT_EQ(ret, 0) && EXPECT_EQ(sig, SIGBUS) && EXPECT_TRUE(p2 == MAP_FAILED) &&
	       EXPECT_EQ(vfio_memattr_dmabuf_info(dev, fd, &in), 0) &&
	       EXPECT_TRUE(in.state & VFIO_MEMATTR_DMABUF_REVOKED) &&
	       EXPECT_EQ(vfio_memattr_dmabuf_set_attr(dev, fd, P_WC_NC, 2, &at), -ENODEV) &&
	       EXPECT_EQ(vfio_memattr_dmabuf_revoke(dev, fd), 0) && phys && pat_none_of(s, e, "write-combining");
	if (p2 != MAP_FAILED)
		munmap(p2, SLICE_LEN);
	else
		tap_diag("mmap after revoke: %s", strerror(errno));
	tap_ok(good, "lib: revoke: the mapping gets SIGBUS, mmap fails, state revoked, SET "
	       "ENODEV, revoke again ok, no write-combining entry left");
	if (p != MAP_FAILED)
		munmap(p, SLICE_LEN);
	close(fd);
	vfio_memattr_close(dev);
}

static void stock_tests(const char *bdf1)
{
	const struct vfio_memattr_dma_range r = { .offset = 0, .length = SLICE_LEN };
	struct vfio_memattr_dev *dev = NULL;
	char drv[64] = "";
	struct mj *j;
	bool good;
	int ret, st;

	ma_pci_driver(bdf1, drv, sizeof(drv));
	if (strcmp(drv, "vfio-pci")) {
		tap_diag("ivshmem1 is bound to \"%s\"", drv);
		tap_skip("ivshmem1 is not on stock vfio-pci", "stock: export is ENOTTY");
		tap_skip("ivshmem1 is not on stock vfio-pci", "stock: CLI --dmabuf exit 1, ENOTTY");
		return;
	}
	ret = vfio_memattr_open(bdf1, 0, &dev);
	good = EXPECT_EQ(ret, 0) &&
	       EXPECT_EQ(vfio_memattr_dmabuf_export(dev, 2, &r, 1, O_RDWR), -ENOTTY);
	tap_ok(good, "stock: export on vfio-pci is ENOTTY (no false success)");
	if (dev)
		vfio_memattr_close(dev);

	st = cli_run("map %s --dmabuf 2:0:64K --attr WC --json --run 'echo should not run'", bdf1);
	j = mj_parse_print(cli_out, "# ", "stdout");
	good = EXPECT_EQ(st, 1) && EXPECT_TRUE(j) &&
	       EXPECT_EQ(mj_bool(j, "dmabuf.ok"), 0) &&
	       EXPECT_EQ(mj_int(j, "dmabuf.error.errno", -1), ENOTTY) &&
	       EXPECT_TRUE(mj_str(j, "dmabuf.error.hint") != NULL) &&
	       EXPECT_TRUE(mj_is(j, "dmabuf.fd", MJ_NULL)) &&
	       EXPECT_EQ(mj_int(j, "error.errno", -1), ENOTTY) &&
	       EXPECT_TRUE(!strstr(cli_out, "should not run"));
	mj_free(j);
	if (!good)
		cli_dump();
	tap_ok(good, "stock: CLI map --dmabuf exits 1 with ENOTTY and a hint; CMD not run");
}

/* ----------------------------------------------------------------- CLI */

static void cli_tests(const char *bdf, uint64_t phys)
{
	uint64_t s = phys + SLICE_OFF, e = phys + SLICE_OFF + SLICE_LEN;
	char want[256];
	struct mj *j;
	bool good;
	int st;

	st = cli_run("map %s --dmabuf 2:0x3d0000:64K --attr wc,nc --run '%s --child write 65536 WC "
		     "0x%" PRIx64 "'", bdf, self, is_x86() ? s : 0);
	good = EXPECT_EQ(st, 0) && text_has(cli_out, "dmabuf 2:0x3d0000:64K: BAR2, 1 range(s), 65536 bytes: WC") &&
	       text_has(cli_out, "child: ok pattern written through the DMABUF mapping reads back") &&
	       (!is_x86() || text_has(cli_out, "child: ok PAT")) && text_has(cli_out, "child: all good");
	if (!good)
		cli_dump();
	tap_ok(good, "cli: map --dmabuf --attr wc,nc --run: the child gets the fd, size and "
	       "WC in its environment, mmaps it, writes the pattern; PAT exact WC");
	if (good)
		hostcheck("ivshmem0", SLICE_OFF, SLICE_LEN, SEED_CHILD,
			  "lib_dmabuf: pattern written by the --run child through the DMABUF");
	snprintf(want, sizeof(want), "dmabuf 2:0x3d0000:64K: fd ");
	good = EXPECT_EQ(st, 0) && text_has(cli_out, want) && text_has(cli_out, "revoked (kernel state: revoked)") &&
	       (!is_x86() || pat_none_of(s, e, "write-combining"));
	if (is_x86())
		good = good && EXPECT_TRUE(phys);
	else
		pat_absent(false);
	tap_ok(good, "cli: after the child exits the DMABUF is revoked (the kernel says so); "
	       "no write-combining entry left");

	st = cli_run("map %s --dmabuf 2:0x3d8000:32K,0x3d0000:32K --attr WC --json --run true", bdf);
	j = mj_parse_print(cli_out, "# ", "stdout");
	good = EXPECT_EQ(st, 0) && EXPECT_TRUE(j) && EXPECT_EQ(mj_count(j, "mappings"), 0) &&
	       EXPECT_EQ(mj_bool(j, "dmabuf.ok"), 1) &&
	       EXPECT_STREQ(mj_str(j, "dmabuf.attr"), "WC") &&
	       EXPECT_EQ(mj_int(j, "dmabuf.bar", -1), 2) &&
	       EXPECT_EQ(mj_int(j, "dmabuf.size", -1), 65536) &&
	       EXPECT_EQ(mj_count(j, "dmabuf.ranges"), 2) &&
	       EXPECT_EQ(mj_int(j, "dmabuf.ranges.0.offset", -1), 0x3d8000) &&
	       EXPECT_EQ(mj_int(j, "dmabuf.ranges.1.length", -1), 0x8000) &&
	       EXPECT_TRUE(mj_int(j, "dmabuf.fd", -1) >= 0) &&
	       EXPECT_EQ(mj_bool(j, "dmabuf.revoke"), 1) &&
	       EXPECT_TRUE(mj_is(j, "dmabuf.error", MJ_NULL)) &&
	       EXPECT_TRUE(mj_is(j, "error", MJ_NULL));
	mj_free(j);
	if (!good)
		cli_dump();
	tap_ok(good, "cli: map --dmabuf with two ranges --json: one object, dmabuf WC, 65536 "
	       "bytes, both ranges, fd, error null");

	st = cli_run("map %s --dmabuf 2:0x3d0000:64K --attr WC --no-revoke --run '%s --child pat "
		     "65536 WC 0x%" PRIx64 "'", bdf, self, is_x86() ? s : 0);
	good = EXPECT_EQ(st, 0) && text_has(cli_out, "child: all good") &&
	       text_has(cli_out, "not revoked (--no-revoke); closing the device revokes it") &&
	       (!is_x86() || pat_none_of(s, e, "write-combining"));
	if (!is_x86())
		pat_absent(false);
	if (!good)
		cli_dump();
	tap_ok(good, "cli: --no-revoke: the child sees WC; the CLI does not revoke, its close of "
	       "the device does (no write-combining entry left)");
}

int main(int argc, char **argv)
{
	const char *bdf, *bdf1;
	char why1[256];
	const char *c = getenv("VFIO_MEMATTR_CLI");
	uint64_t phys = 0, size = 0;
	ssize_t n;

	if (argc > 1 && !strcmp(argv[1], "--child"))
		return child_main(argc, argv);
	if (c && *c)
		cli_set_path(c);
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0)
		self[n] = 0;
	tap_plan(NTESTS);
	bdf = ma_bdf_or_skip("MEMATTR_IVSHMEM0");
	bdf1 = ma_bdf("MEMATTR_IVSHMEM1", why1, sizeof(why1));
	ensure_debugfs();
	if (ma_bar_phys(bdf, 2, &phys, &size) < 0 || !phys)
		tap_diag("no BAR2 address for %s", bdf);
	else
		tap_diag("ivshmem0 BAR2 at 0x%" PRIx64 " (0x%" PRIx64 " bytes), slice 0x%llx+64K",
			 phys, size, (unsigned long long)SLICE_OFF);
	lib_tests(bdf, phys);
	cli_tests(bdf, phys);
	if (bdf1) {
		stock_tests(bdf1);
	} else {
		tap_skip(why1, "stock: export is ENOTTY");
		tap_skip(why1, "stock: CLI --dmabuf exit 1, ENOTTY");
	}
	return tap_done();
}
