// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * lib_cli - libvfio-memattr and the vfio-memattr command on real devices.
 *
 *  ivshmem0 (MEMATTR_IVSHMEM0, vfio-pci-memattr): WC and NC handles through
 *    the library, checked against the x86 PAT memtype list for exactly their
 *    physical ranges; data written through them; the CLI's map --json,
 *    --write-pattern and --run; info and list.
 *  ivshmem1 (MEMATTR_IVSHMEM1, stock vfio-pci): fallback to a plain VFIO
 *    mmap reported NC, WC alone refused; no data written.
 *  edu (MEMATTR_EDU, vfio-pci-memattr, non-prefetchable BAR0): WC refused
 *    with EPERM by the library and by the CLI (exit status 1).
 *
 * Data written: ivshmem0 BAR2 [1 MiB, 1 MiB + 320 KiB) only:
 *    +0      64 KiB  library, WC handle      (HOSTCHECK)
 *    +64K    64 KiB  library, NC handle      (HOSTCHECK)
 *    +256K   64 KiB  CLI --write-pattern     (HOSTCHECK, seed = BAR offset)
 *    +320K   64 KiB  CLI --run (mapped, not written)
 *    +384K   64 KiB  CLI --run exit status (mapped, not written)
 * ivshmem1 is also bound to vfio-pci-memattr by "vfio-memattr bind" and
 * given back to vfio-pci by "vfio-memattr unbind".
 * The CLI is "vfio-memattr" from PATH, or $VFIO_MEMATTR_CLI.
 */
#define _GNU_SOURCE
#define _FILE_OFFSET_BITS 64
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "pattern.h"
#include "vfio-memattr.h"
#include "vfio-memattr-mmio.h"

#define NTESTS		22
#define KiB		1024ull
#define MiB		(1024 * KiB)
#define BASE		(1 * MiB)		/* our part of ivshmem0 BAR2 */
#define WC_OFF		(BASE)
#define NC_OFF		(BASE + 64 * KiB)
#define CLI_OFF		(BASE + 256 * KiB)
#define RUN_OFF		(BASE + 320 * KiB)
#define RUN2_OFF	(BASE + 384 * KiB)
#define LEN		(64 * KiB)
#define SEED_WC		0x11bc11000000000aull
#define SEED_NC		0x11bc11000000000bull
#define PAT_LIST	"/sys/kernel/debug/x86/pat_memtype_list"

static const char *cli = "vfio-memattr";
static char out[1 << 16], errout[1 << 14];

static void lib_log(void *ctx, int level, const char *msg)
{
	(void)ctx;
	if (level <= VFIO_MEMATTR_LOG_WARNING)
		harness_diag("lib: %s", msg);
}

/*
 * Run the CLI with args (a shell fragment); stdout into out[], stderr into
 * errout[]; returns the exit status (or -1).
 */
static int run_cli(const char *fmt, ...) HARNESS_PRINTF(1, 2);
static int run_cli(const char *fmt, ...)
{
	char args[1024], cmd[2048], errf[] = "/tmp/lib_cli.err.XXXXXX";
	va_list ap;
	size_t n;
	FILE *p, *e;
	int st, fd;

	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	fd = mkstemp(errf);
	if (fd < 0)
		return -1;
	close(fd);
	snprintf(cmd, sizeof(cmd), "%s %s 2>%s", cli, args, errf);
	harness_diag("$ %s %s", cli, args);
	out[0] = errout[0] = 0;
	fflush(stdout);
	p = popen(cmd, "r");
	if (!p) {
		unlink(errf);
		return -1;
	}
	n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = 0;
	st = pclose(p);
	e = fopen(errf, "r");
	if (e) {
		n = fread(errout, 1, sizeof(errout) - 1, e);
		errout[n] = 0;
		fclose(e);
	}
	unlink(errf);
	if (st < 0 || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

static void dump_cli(void)
{
	char *s, *save = NULL;

	for (s = strtok_r(out, "\n", &save); s; s = strtok_r(NULL, "\n", &save))
		harness_diag("stdout: %s", s);
	save = NULL;
	for (s = strtok_r(errout, "\n", &save); s; s = strtok_r(NULL, "\n", &save))
		harness_diag("stderr: %s", s);
}

static bool has(const char *hay, const char *needle)
{
	bool r = strstr(hay, needle) != NULL;

	if (!r)
		harness_diag("expected to find %s", needle);
	return r;
}

/*
 * The PAT list must show exactly [start, end) reserved as type, and nothing
 * of another type overlapping it.
 */
static bool pat_exact(uint64_t start, uint64_t end, const char *type)
{
	struct harness_pat_entry e[64];
	int n = harness_pat_entries(start, end, e, 64), i;
	bool exact = false, other = false;

	if (n < 0) {
		harness_diag("cannot read " PAT_LIST ": %s", strerror(-n));
		return false;
	}
	for (i = 0; i < n && i < 64; i++) {
		if (strcmp(e[i].type, type))
			other = true;
		else if (e[i].start == start && e[i].end == end)
			exact = true;
	}
	/* NC reserves nothing: uncached-minus is what x86 gives a range without an entry */
	if (!strcmp(type, "uncached-minus") && !n)
		exact = true;
	if (!exact || other) {
		harness_diag("want [0x%" PRIx64 "-0x%" PRIx64 ") %s only:", start, end, type);
		harness_pat_dump(start, end);
	}
	return exact && !other;
}

/* The memattr range as seen in text printed by the CLI's --run (cat of
 * the PAT list): a line "[mem 0x...-0x...] write-combining". */
static bool text_has_pat(const char *text, uint64_t start, uint64_t end, const char *type)
{
	char want[128];

	snprintf(want, sizeof(want), "[mem 0x%016" PRIx64 "-0x%016" PRIx64 "] %s", start, end, type);
	return has(text, want);
}

static void ensure_debugfs(void)
{
	struct stat st;

	if (stat(PAT_LIST, &st) == 0)
		return;
	if (mount("debugfs", "/sys/kernel/debug", "debugfs", 0, NULL) < 0)
		harness_diag("mount debugfs: %s", strerror(errno));
}

static const enum vfio_memattr P_WC[] = { VFIO_MEMATTR_WC };
static const enum vfio_memattr P_NC[] = { VFIO_MEMATTR_NC };
static const enum vfio_memattr P_WC_NC[] = { VFIO_MEMATTR_WC, VFIO_MEMATTR_NC };

static bool write_and_check(struct vfio_memattr_mapping *m, uint64_t seed)
{
	size_t len = (size_t)vfio_memattr_mapping_length(m), bad;
	void *buf = aligned_alloc(64, len);
	int ret;

	if (!buf)
		return false;
	pattern_fill(buf, len, seed);
	vfio_memattr_wc_start();
	ret = vfio_memattr_wc_copy(vfio_memattr_mapping_addr(m), buf, len);
	vfio_memattr_wc_flush();
	free(buf);
	if (ret) {
		harness_diag("wc_copy: %s", strerror(-ret));
		return false;
	}
	bad = pattern_check_mmio64(vfio_memattr_mapping_addr(m), len / 8, seed);
	if (bad != len / 8)
		harness_diag("readback differs at word %zu", bad);
	return bad == len / 8;
}

static void ivshmem0_lib(const char *bdf)
{
	struct vfio_memattr_mapping *wc = NULL, *nc = NULL;
	struct vfio_memattr_dev *dev = NULL;
	struct vfio_memattr_bar b;
	uint64_t phys = 0, size = 0;
	bool good;
	int ret;

	ret = vfio_memattr_open(bdf, 0, &dev);
	good = EXPECT_EQ(ret, 0) && EXPECT_EQ(vfio_memattr_kernel_support(dev), 1);
	harness_ok(good, "ivshmem0: library opens the device, the driver answers the memattr uAPI");
	if (ret < 0) {
		harness_skip("cannot open ivshmem0", "ivshmem0: BAR2 info");
		harness_skip("cannot open ivshmem0", "ivshmem0: map WC");
		harness_skip("cannot open ivshmem0", "ivshmem0: map NC");
		harness_skip("cannot open ivshmem0", "ivshmem0: PAT WC");
		harness_skip("cannot open ivshmem0", "ivshmem0: PAT NC");
		harness_skip("cannot open ivshmem0", "ivshmem0: WC data");
		harness_skip("cannot open ivshmem0", "ivshmem0: NC data");
		harness_skip("cannot open ivshmem0", "ivshmem0: unmap");
		return;
	}

	ret = vfio_memattr_bar_info(dev, 2, &b);
	good = EXPECT_EQ(ret, 0) && EXPECT_EQ(b.size, 4 * MiB) &&
	       EXPECT_EQ(b.flags & (VFIO_MEMATTR_BAR_PREFETCH | VFIO_MEMATTR_BAR_MEM64 |
				    VFIO_MEMATTR_BAR_MMAP),
			 VFIO_MEMATTR_BAR_PREFETCH | VFIO_MEMATTR_BAR_MEM64 | VFIO_MEMATTR_BAR_MMAP) &&
	       EXPECT_TRUE(b.supported & (1u << VFIO_MEMATTR_WC)) &&
	       EXPECT_TRUE(b.supported & (1u << VFIO_MEMATTR_NC)) &&
	       EXPECT_EQ(b.kernel_support, 1);
	harness_ok(good, "ivshmem0: BAR2 is 4 MiB, prefetchable, 64-bit, mmap, WC and NC offered");

	ret = vfio_memattr_map(dev, 2, WC_OFF, LEN, P_WC, 1, 0, &wc);
	good = EXPECT_EQ(ret, 0) &&
	       EXPECT_EQ(vfio_memattr_mapping_attr(wc), VFIO_MEMATTR_WC) &&
	       EXPECT_EQ(vfio_memattr_mapping_source(wc), VFIO_MEMATTR_SRC_MEMATTR) &&
	       EXPECT_GE(vfio_memattr_mapping_handle(wc), VFIO_MEMATTR_HANDLE_INDEX_BASE);
	harness_ok(good, "ivshmem0: map BAR2 1M+0:64K WC -> WC through a memattr handle");

	ret = vfio_memattr_map(dev, 2, NC_OFF, LEN, P_NC, 1, 0, &nc);
	good = EXPECT_EQ(ret, 0) &&
	       EXPECT_EQ(vfio_memattr_mapping_attr(nc), VFIO_MEMATTR_NC) &&
	       EXPECT_EQ(vfio_memattr_mapping_source(nc), VFIO_MEMATTR_SRC_MEMATTR) &&
	       EXPECT_NE(vfio_memattr_mapping_handle(nc), vfio_memattr_mapping_handle(wc));
	harness_ok(good, "ivshmem0: map BAR2 1M+64K:64K NC -> NC through another handle");

	/* touch both mappings so that every fault path has run */
	if (wc)
		(void)vfio_memattr_read32(vfio_memattr_mapping_addr(wc));
	if (nc)
		(void)vfio_memattr_read32(vfio_memattr_mapping_addr(nc));
	ensure_debugfs();
	if (harness_bar_phys(bdf, 2, &phys, &size) < 0 || !phys) {
		harness_fail("ivshmem0: PAT shows write-combining for the WC range (no BAR address)");
		harness_fail("ivshmem0: PAT shows uncached-minus for the NC range (no BAR address)");
	} else {
		harness_diag("ivshmem0 BAR2 at 0x%" PRIx64 " (0x%" PRIx64 " bytes)", phys, size);
		harness_ok(wc && pat_exact(phys + WC_OFF, phys + WC_OFF + LEN, "write-combining"),
			   "ivshmem0: PAT shows write-combining for exactly the WC range");
		harness_ok(nc && pat_exact(phys + NC_OFF, phys + NC_OFF + LEN, "uncached-minus"),
			   "ivshmem0: PAT shows uncached-minus for exactly the NC range");
	}

	good = wc && write_and_check(wc, SEED_WC);
	harness_ok(good, "ivshmem0: pattern written through the WC mapping (wc_copy + flush) reads back");
	if (good)
		harness_hostcheck("ivshmem0", WC_OFF, LEN, SEED_WC, "lib_cli: library WC mapping");
	good = nc && write_and_check(nc, SEED_NC);
	harness_ok(good, "ivshmem0: pattern written through the NC mapping reads back");
	if (good)
		harness_hostcheck("ivshmem0", NC_OFF, LEN, SEED_NC, "lib_cli: library NC mapping");

	good = (!wc || EXPECT_EQ(vfio_memattr_unmap(wc), 0)) &&
	       (!nc || EXPECT_EQ(vfio_memattr_unmap(nc), 0)) && wc && nc;
	harness_ok(good, "ivshmem0: both mappings unmapped and their handles released");
	vfio_memattr_close(dev);
}

static void ivshmem0_cli(const char *bdf)
{
	uint64_t phys = 0, size = 0;
	char want[64];
	bool good;
	int st;

	st = run_cli("map %s 2:0x%llx:64K:WC --write-pattern --json", bdf,
		     (unsigned long long)CLI_OFF);
	snprintf(want, sizeof(want), "\"pattern_seed\":%llu", (unsigned long long)CLI_OFF);
	good = EXPECT_EQ(st, 0) && has(out, "\"ok\":true") && has(out, "\"attr\":\"WC\"") &&
	       has(out, "\"source\":\"memattr\"") && has(out, want);
	if (!good)
		dump_cli();
	harness_ok(good, "cli: map --write-pattern --json reports WC from a memattr handle and the seed");
	if (good)
		harness_hostcheck("ivshmem0", CLI_OFF, LEN, CLI_OFF,
				  "lib_cli: vfio-memattr map --write-pattern (seed = BAR offset)");

	harness_bar_phys(bdf, 2, &phys, &size);
	st = run_cli("map %s 2:0x%llx:64K:WC --run 'cat " PAT_LIST "'", bdf,
		     (unsigned long long)RUN_OFF);
	good = EXPECT_EQ(st, 0) && phys &&
	       text_has_pat(out, phys + RUN_OFF, phys + RUN_OFF + LEN, "write-combining");
	if (!good)
		dump_cli();
	harness_ok(good, "cli: map --run keeps the WC mapping live while the command runs");

	st = run_cli("map %s 2:0x%llx:64K:NC --run 'exit 3'", bdf, (unsigned long long)RUN2_OFF);
	good = EXPECT_EQ(st, 3);
	if (!good)
		dump_cli();
	harness_ok(good, "cli: map --run exits with the command's status");

	st = run_cli("info %s --json", bdf);
	good = EXPECT_EQ(st, 0) && has(out, "\"memattr_uapi\":true") &&
	       has(out, "\"bar\":2,\"size\":4194304") &&
	       has(out, "\"WC\":{\"supported\":true");
	if (!good)
		dump_cli();
	harness_ok(good, "cli: info --json shows the memattr uAPI and WC on BAR2");

	st = run_cli("list --json");
	{
		char key[64];
		const char *d, *next, *w;

		snprintf(key, sizeof(key), "\"bdf\":\"%s\"", bdf);
		d = strstr(out, key);
		next = d ? strstr(d + 1, "\"bdf\":") : NULL;
		w = d ? strstr(d, "\"bar\":2,") : NULL;
		w = w ? strstr(w, "\"attributes\":[") : NULL;
		good = EXPECT_EQ(st, 0) && EXPECT_TRUE(d) && EXPECT_TRUE(w) &&
		       EXPECT_TRUE(!next || w < next);
		if (good) {
			const char *end = strchr(w, ']');

			good = end && memmem(w, (size_t)(end - w), "\"WC\"", 4) != NULL;
		}
	}
	if (!good)
		dump_cli();
	harness_ok(good, "cli: list --json lists WC among ivshmem0 BAR2's attributes");
}

static void edu_tests(const char *bdf)
{
	struct vfio_memattr_dev *dev = NULL;
	struct vfio_memattr_mapping *m = NULL;
	bool good;
	int ret, st;

	ret = vfio_memattr_open(bdf, 0, &dev);
	if (ret < 0) {
		harness_fail("edu: library refuses WC on non-prefetchable BAR0 with EPERM (open: %s)",
			     strerror(-ret));
		harness_fail("edu: WC,NC falls back to NC through the memattr handle (open failed)");
	} else {
		ret = vfio_memattr_map(dev, 0, 0, 4096, P_WC, 1, 0, &m);
		good = EXPECT_EQ(ret, -EPERM) && EXPECT_TRUE(m == NULL);
		harness_ok(good, "edu: library refuses WC on non-prefetchable BAR0 with EPERM");
		ret = vfio_memattr_map(dev, 0, 0, 4096, P_WC_NC, 2, 0, &m);
		good = EXPECT_EQ(ret, 0) && EXPECT_EQ(vfio_memattr_mapping_attr(m), VFIO_MEMATTR_NC) &&
		       EXPECT_EQ(vfio_memattr_mapping_source(m), VFIO_MEMATTR_SRC_MEMATTR);
		harness_ok(good, "edu: WC,NC is honoured as NC through a memattr handle");
		vfio_memattr_close(dev);	/* unmaps m */
	}

	st = run_cli("map %s 0:0:4K:WC --json", bdf);
	good = EXPECT_EQ(st, 1) && has(out, "\"ok\":false") && has(out, "\"errno\":1,") &&
	       has(errout, "opt-in");
	if (!good)
		dump_cli();
	harness_ok(good, "cli: map of edu BAR0 WC fails (exit 1, EPERM, policy hint)");
}

static void ivshmem1_tests(const char *bdf)
{
	struct vfio_memattr_dev *dev = NULL;
	struct vfio_memattr_mapping *m = NULL;
	bool good;
	int ret, st;

	ret = vfio_memattr_open(bdf, 0, &dev);
	if (ret < 0) {
		harness_fail("ivshmem1 (vfio-pci): WC,NC falls back to NC via VFIO mmap (open: %s)",
			     strerror(-ret));
		harness_fail("ivshmem1 (vfio-pci): WC alone is refused (open failed)");
	} else {
		ret = vfio_memattr_map(dev, 2, 1 * MiB, LEN, P_WC_NC, 2, 0, &m);
		good = EXPECT_EQ(vfio_memattr_kernel_support(dev), 0) && EXPECT_EQ(ret, 0) &&
		       EXPECT_EQ(vfio_memattr_mapping_attr(m), VFIO_MEMATTR_NC) &&
		       EXPECT_EQ(vfio_memattr_mapping_source(m), VFIO_MEMATTR_SRC_VFIO_MMAP) &&
		       EXPECT_EQ(vfio_memattr_mapping_handle(m), 0);
		if (m)
			(void)vfio_memattr_read32(vfio_memattr_mapping_addr(m));
		harness_ok(good, "ivshmem1 (vfio-pci): WC,NC falls back to NC via VFIO mmap");
		if (m)
			vfio_memattr_unmap(m);
		m = NULL;
		ret = vfio_memattr_map(dev, 2, 1 * MiB, LEN, P_WC, 1, 0, &m);
		good = EXPECT_EQ(ret, -EOPNOTSUPP) && EXPECT_TRUE(m == NULL);
		harness_ok(good, "ivshmem1 (vfio-pci): WC alone is refused with EOPNOTSUPP");
		vfio_memattr_close(dev);
	}

	st = run_cli("map %s 2:1M:64K:WC,NC --json", bdf);
	good = EXPECT_EQ(st, 0) && has(out, "\"attr\":\"NC\"") && has(out, "\"source\":\"vfio-mmap\"") &&
	       has(out, "\"memattr_uapi\":false");
	if (!good)
		dump_cli();
	harness_ok(good, "cli: ivshmem1 map WC,NC reports NC from vfio-mmap");
}

/* bind ivshmem1 to vfio-pci-memattr and give it back to vfio-pci. */
static void bind_tests(const char *bdf)
{
	char drv[64] = "", state[128], buf[64] = "";
	bool good;
	int st;

	snprintf(state, sizeof(state), "/run/vfio-memattr/%s.driver", bdf);
	harness_current_driver(bdf, drv, sizeof(drv));
	if (strcmp(drv, "vfio-pci")) {
		harness_skip("ivshmem1 is not on vfio-pci", "cli: bind ivshmem1");
		harness_skip("ivshmem1 is not on vfio-pci", "cli: unbind ivshmem1");
		return;
	}
	st = run_cli("bind %s", bdf);
	harness_current_driver(bdf, drv, sizeof(drv));
	harness_read_file(state, buf, sizeof(buf));
	good = EXPECT_EQ(st, 0) && EXPECT_STREQ(drv, "vfio-pci-memattr") &&
	       EXPECT_TRUE(!strncmp(buf, "vfio-pci\n", 9));
	if (!good)
		dump_cli();
	harness_ok(good, "cli: bind ivshmem1 -> vfio-pci-memattr, previous driver remembered");

	st = run_cli("unbind %s", bdf);
	harness_current_driver(bdf, drv, sizeof(drv));
	good = EXPECT_EQ(st, 0) && EXPECT_STREQ(drv, "vfio-pci") &&
	       EXPECT_TRUE(access(state, F_OK) < 0);
	if (!good)
		dump_cli();
	harness_ok(good, "cli: unbind ivshmem1 -> back to vfio-pci");
	if (strcmp(drv, "vfio-pci") && harness_bind(bdf, "vfio-pci") < 0)
		harness_diag("could not give %s back to vfio-pci", bdf);
}

int main(void)
{
	const char *iv0 = harness_env_bdf("MEMATTR_IVSHMEM0");
	const char *iv1 = harness_env_bdf("MEMATTR_IVSHMEM1");
	const char *edu = harness_env_bdf("MEMATTR_EDU");
	const char *c = getenv("VFIO_MEMATTR_CLI");
	int i;

	if (c && *c)
		cli = c;
	vfio_memattr_set_log(lib_log, NULL);
	harness_plan(NTESTS);

	if (iv0) {
		ivshmem0_lib(iv0);
		ivshmem0_cli(iv0);
	} else {
		for (i = 0; i < 14; i++)
			harness_skip("MEMATTR_IVSHMEM0 not set", "ivshmem0 test %d", i + 1);
	}
	if (edu) {
		edu_tests(edu);
	} else {
		for (i = 0; i < 3; i++)
			harness_skip("MEMATTR_EDU not set", "edu test %d", i + 1);
	}
	if (iv1) {
		ivshmem1_tests(iv1);
		bind_tests(iv1);
	} else {
		for (i = 0; i < 5; i++)
			harness_skip("MEMATTR_IVSHMEM1 not set", "ivshmem1 test %d", i + 1);
	}
	return harness_exit();
}
