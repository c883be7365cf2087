// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * test_mmio.c - vfio-memattr-mmio.h: wc_copy argument checks, content, and
 * the order of its stores (recorded through the header's store hook).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <unistd.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Record every 8-byte store wc_copy makes, then perform it. */
static uintptr_t rec_addr[1024];
static unsigned int rec_n;
#define VFIO_MEMATTR_MMIO_STORE64(p, v) \
	do { if (rec_n < 1024) rec_addr[rec_n++] = (uintptr_t)(p); *(p) = (v); } while (0)
#include "vfio-memattr-mmio.h"

#include "test.h"

/* the compiler that built this suite (tests/host/Makefile): gcc or clang */
#ifndef TEST_CC
#define TEST_CC "cc"
#endif

static uint8_t dst[8192] __attribute__((aligned(64)));
static uint8_t src[8192 + 8] __attribute__((aligned(64)));

static void fill_src(void)
{
	unsigned int i;

	for (i = 0; i < sizeof(src); i++)
		src[i] = (uint8_t)(i * 7 + 3);
}

static void copy_args(void)
{
	fill_src();
	memset(dst, 0xee, sizeof(dst));
	rec_n = 0;
	CHECK_EQ(vfio_memattr_wc_copy(dst + 8, src, 64), -EINVAL);	/* dst misaligned */
	CHECK_EQ(vfio_memattr_wc_copy(dst + 32, src, 64), -EINVAL);
	CHECK_EQ(vfio_memattr_wc_copy(dst, src, 63), -EINVAL);	/* len not *64 */
	CHECK_EQ(vfio_memattr_wc_copy(dst, src, 65), -EINVAL);
	CHECK_EQ(vfio_memattr_wc_copy(dst, src, 96), -EINVAL);
	CHECK_EQ(vfio_memattr_wc_copy(dst, src + 4, 64), -EINVAL);	/* src not 8-aligned */
	CHECK_EQ(vfio_memattr_wc_copy(NULL, src, 64), -EINVAL);
	CHECK_EQ(vfio_memattr_wc_copy(dst, NULL, 64), -EINVAL);
	CHECK_EQ(rec_n, 0);		/* nothing stored on error */
	CHECK(dst[0] == 0xee && dst[8] == 0xee && dst[32] == 0xee);
	CHECK_EQ(vfio_memattr_wc_copy(dst, src, 0), 0);	/* nothing to do */
	CHECK_EQ(rec_n, 0);
}

static void copy_content(void)
{
	unsigned int i;

	fill_src();
	memset(dst, 0xee, sizeof(dst));
	rec_n = 0;
	CHECK_EQ(vfio_memattr_wc_copy(dst + 64, src + 8, 4096), 0);
	CHECK(memcmp(dst + 64, src + 8, 4096) == 0);
	for (i = 0; i < 64; i++)
		CHECK(dst[i] == 0xee);			/* nothing before */
	for (i = 64 + 4096; i < sizeof(dst); i++)
		if (dst[i] != 0xee) {
			CHECK(dst[i] == 0xee);		/* nothing after */
			break;
		}
}

static void copy_order(void)
{
	unsigned int i;
	uintptr_t base = (uintptr_t)(dst + 128);

	fill_src();
	rec_n = 0;
	CHECK_EQ(vfio_memattr_wc_copy(dst + 128, src, 512), 0);
	CHECK_EQ(rec_n, 512 / 8);		/* one 8-byte store per word */
	for (i = 0; i < rec_n; i++) {
		/* strictly ascending, consecutive 8-byte words: block k is
		 * written completely (stores 8k..8k+7) before block k+1 */
		CHECK_EQ(rec_addr[i], base + 8 * i);
		if (rec_addr[i] != base + 8 * i)
			break;
	}
	for (i = 0; i < rec_n; i += 8)
		CHECK_EQ(rec_addr[i] & 63, 0);	/* each block starts 64-aligned */
}

static void accessors(void)
{
	uint64_t w[2] = { 0, 0 };

	vfio_memattr_write32(&w[0], 0x11223344u);
	CHECK_EQ(vfio_memattr_read32(&w[0]), 0x11223344u);
	vfio_memattr_write64(&w[1], 0x0102030405060708ull);
	CHECK_EQ(vfio_memattr_read64(&w[1]), 0x0102030405060708ll);
	vfio_memattr_wc_start();
	vfio_memattr_wc_flush();
	CHECK_EQ(w[1], 0x0102030405060708ll);
}

/*
 * The barriers are single instructions; hardware ordering cannot be
 * observed on the host, but which instruction each one emits can: compile
 * a use of each with the host compiler (x86-64) and the arm64 cross
 * compiler lab/setup installs, and read the assembly.
 */
static int asm_has(const char *cc, const char *fn, const char *insn)
{
	char src[] = "/tmp/vfio-memattr-barrier-XXXXXX.c", cmd[1024], line[256];
	int fd = mkstemps(src, 2), found = -1;
	FILE *f;

	if (fd < 0)
		return -1;
	f = fdopen(fd, "w");
	if (!f)
		return -1;
	fprintf(f, "#include \"vfio-memattr-mmio.h\"\nvoid t(void) { %s(); }\n", fn);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "%s -O2 -Werror -S -o - -I%s/lib -I%s/include/uapi %s 2>&1", cc,
		 TOP_DIR, TOP_DIR, src);
	f = popen(cmd, "r");
	if (f) {
		found = 0;
		while (fgets(line, sizeof(line), f)) {
			char *p = line + strspn(line, " \t");

			/* the instruction itself, or nothing at all for "" */
			if (*insn && !strncmp(p, insn, strlen(insn)))
				found = 1;
			if (!*insn && (!strncmp(p, "lfence", 6) || !strncmp(p, "sfence", 6) ||
				       !strncmp(p, "mfence", 6) || !strncmp(p, "lock", 4)))
				found = 2;
		}
		if (pclose(f) != 0)
			found = -1;
	}
	unlink(src);
	if (!*insn)
		return found == 0 ? 1 : found == 2 ? 0 : -1;
	return found;
}

static void barrier_insns(void)
{
	/* x86-64 */
	CHECK_EQ(asm_has(TEST_CC, "vfio_memattr_dma_wmb", ""), 1);	/* compiler barrier only */
	CHECK_EQ(asm_has(TEST_CC, "vfio_memattr_dma_rmb", "lfence"), 1);
	CHECK_EQ(asm_has(TEST_CC, "vfio_memattr_wc_start", "sfence"), 1);
	CHECK_EQ(asm_has(TEST_CC, "vfio_memattr_wc_flush", "sfence"), 1);
	/* arm64 */
	CHECK_EQ(asm_has("aarch64-linux-gnu-gcc", "vfio_memattr_dma_wmb", "dmb oshst"), 1);
	CHECK_EQ(asm_has("aarch64-linux-gnu-gcc", "vfio_memattr_dma_rmb", "dmb oshld"), 1);
	CHECK_EQ(asm_has("aarch64-linux-gnu-gcc", "vfio_memattr_wc_start", "dmb oshst"), 1);
	CHECK_EQ(asm_has("aarch64-linux-gnu-gcc", "vfio_memattr_wc_flush", "dsb st"), 1);
}

/*
 * arm64: each accessor, and every store of wc_copy/wc_copy64, must be one
 * load/store without writeback and never a pair (KVM emulates a trapped
 * MMIO access only with a valid syndrome, ESR_EL2.ISV; see the header).
 * Cross-compile uses of them in loops (where compilers like post-indexed
 * addressing) and adjacent pairs (where they like ldp/stp) at -O2 and -O3,
 * objdump them, and read each function: in t_store_* no store may be
 * "stp", post-indexed ("], #") or pre-indexed with writeback ("]!"); in
 * t_load_* no such load.  Accesses through sp (a prologue) are not MMIO.
 * Loads from the source buffer in t_store_* are ordinary memory: free.
 */
static const char arm64_tu[] =
	"#include <stddef.h>\n#include <stdint.h>\n#include \"vfio-memattr-mmio.h\"\n"
	"void t_store_w32(volatile uint32_t *p, unsigned n)\n"
	"{ for (unsigned i = 0; i < n; i++) vfio_memattr_write32(p + i, i); }\n"
	"void t_store_w64(volatile uint64_t *p, unsigned n)\n"
	"{ for (unsigned i = 0; i < n; i++) vfio_memattr_write64(p + i, i); }\n"
	"void t_store_w32pair(volatile uint32_t *p, uint32_t a, uint32_t b)\n"
	"{ vfio_memattr_write32(p, a); vfio_memattr_write32(p + 1, b); }\n"
	"void t_store_w64pair(volatile uint64_t *p, uint64_t a, uint64_t b)\n"
	"{ vfio_memattr_write64(p, a); vfio_memattr_write64(p + 1, b); }\n"
	"uint32_t t_load_r32(const volatile uint32_t *p, unsigned n)\n"
	"{ uint32_t s = 0; for (unsigned i = 0; i < n; i++) s += vfio_memattr_read32(p + i); return s; }\n"
	"uint64_t t_load_r64(const volatile uint64_t *p, unsigned n)\n"
	"{ uint64_t s = 0; for (unsigned i = 0; i < n; i++) s += vfio_memattr_read64(p + i); return s; }\n"
	"uint64_t t_load_r64pair(const volatile uint64_t *p)\n"
	"{ uint64_t a = vfio_memattr_read64(p); return a ^ vfio_memattr_read64(p + 1); }\n"
	"uint32_t t_load_r32pair(const volatile uint32_t *p)\n"
	"{ uint32_t a = vfio_memattr_read32(p); return a ^ vfio_memattr_read32(p + 1); }\n"
	"int t_store_wc_copy(void *d, const void *s, size_t len)\n"
	"{ return vfio_memattr_wc_copy(d, s, len); }\n"
	"int t_store_wc_copy_slots(char *d, const char *s, unsigned n)\n"
	"{ int r = 0; for (unsigned i = 0; i < n; i++) r |= vfio_memattr_wc_copy(d + 64 * i, s + 64 * i, 64); return r; }\n"
	"#ifdef VFIO_MEMATTR_HAVE_WC_COPY64\n"
	"int t_store_wc_copy64(void *d, const void *s) { return vfio_memattr_wc_copy64(d, s); }\n"
	"int t_store_wc_copy64_slots(char *d, const char *s, unsigned n)\n"
	"{ int r = 0; for (unsigned i = 0; i < n; i++) r |= vfio_memattr_wc_copy64(d + 64 * i, s + 64 * i); return r; }\n"
	"#endif\n";

static bool have_cmd(const char *cmd)
{
	char buf[256];

	snprintf(buf, sizeof(buf), "command -v %s >/dev/null 2>&1", cmd);
	return system(buf) == 0;
}

/*
 * Compiles arm64_tu with @cc @opt against the header in @incdir, objdumps
 * it and prints each offending instruction; returns how many (0: clean),
 * -1 if it could not compile or disassemble (the output is printed).
 */
static int arm64_writeback_check(const char *cc, const char *opt, const char *incdir)
{
	char dir[] = "/tmp/vfio-memattr-arm64-XXXXXX", path[512], cmd[2048], line[512];
	char fn[128] = "";
	int bad = 0, insns = 0, fns = 0, st;
	FILE *f;

	if (!mkdtemp(dir))
		return -1;
	snprintf(path, sizeof(path), "%s/tu.c", dir);
	f = fopen(path, "w");
	if (!f)
		return -1;
	fputs(arm64_tu, f);
	fclose(f);
	snprintf(cmd, sizeof(cmd),
		 "%s -std=c11 -Wall -Wextra -Werror %s -c -I%s -o %s/tu.o %s 2>&1 && "
		 "aarch64-linux-gnu-objdump -d --no-show-raw-insn %s/tu.o 2>&1",
		 cc, opt, incdir, dir, path, dir);
	f = popen(cmd, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char *lt = strchr(line, '<'), *p, *ins;
		bool store, load;

		if (lt && strstr(line, ">:")) {		/* "0000... <t_store_w32>:" */
			snprintf(fn, sizeof(fn), "%.*s", (int)strcspn(lt + 1, ">"), lt + 1);
			fns += !strncmp(fn, "t_", 2);
			continue;
		}
		if (strncmp(fn, "t_", 2) || !(p = strchr(line, ':')) || !strchr(p, '\t'))
			continue;
		ins = p + 1 + strspn(p + 1, " \t");	/* "str\tw2, [x0], #4" */
		insns++;
		store = !strncmp(fn, "t_store_", 8) && !strncmp(ins, "st", 2);
		load = !strncmp(fn, "t_load_", 7) && !strncmp(ins, "ld", 2);
		if (!store && !load)
			continue;
		if (strstr(ins, "[sp"))
			continue;
		if (!strncmp(ins, "stp", 3) || !strncmp(ins, "ldp", 3) ||
		    strstr(ins, "], #") || strstr(ins, "]!")) {
			printf("    %s %s, %s: %s", cc, opt, fn, ins);
			bad++;
		}
	}
	st = pclose(f);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd)) {}
	if (st != 0 || fns < 10 || !insns) {
		printf("    %s %s: could not compile or disassemble (status %d, %d functions)\n",
		       cc, opt, st, fns);
		return -1;
	}
	return bad;
}

static void arm64_accessors(const char *cc, bool is_clang)
{
	static const char *const opts[] = { "-O2", "-O3", "-O2 -DVFIO_MEMATTR_WC64_ST64B",
					    "-O3 -DVFIO_MEMATTR_WC64_ST64B" };
	const char *inc = getenv("VFIO_MEMATTR_TEST_MMIO_INCLUDE");	/* another header */
	char incdir[512];
	unsigned int i;

	if (!have_cmd("aarch64-linux-gnu-gcc") || !have_cmd("aarch64-linux-gnu-objdump")) {
		t_skip("aarch64-linux-gnu-gcc or aarch64-linux-gnu-objdump not installed "
		       "(gcc-aarch64-linux-gnu, binutils-aarch64-linux-gnu; lab/setup)");
		return;
	}
	if (is_clang && !have_cmd("clang")) {
		t_skip("clang not installed");
		return;
	}
	snprintf(incdir, sizeof(incdir), "%s", inc ? inc : TOP_DIR "/lib");
	for (i = 0; i < sizeof(opts) / sizeof(opts[0]); i++)
		CHECK_EQ(arm64_writeback_check(cc, opts[i], incdir), 0);
}

static void arm64_accessors_gcc(void)
{
	arm64_accessors("aarch64-linux-gnu-gcc", false);
}

static void arm64_accessors_clang(void)
{
	arm64_accessors("clang --target=aarch64-linux-gnu", true);
}

/* wc_copy64 */
static void set_wc64_mode(int m)
{
	__atomic_store_n(vfio_memattr_wc64_mode_(), m, __ATOMIC_RELAXED);
}

static void copy64_args(void)
{
	fill_src();
	memset(dst, 0xee, sizeof(dst));
	rec_n = 0;
	CHECK_EQ(vfio_memattr_wc_copy64(dst + 8, src), -EINVAL);	/* dst not 64-aligned */
	CHECK_EQ(vfio_memattr_wc_copy64(dst + 32, src), -EINVAL);
	CHECK_EQ(vfio_memattr_wc_copy64(dst, src + 4), -EINVAL);	/* src not 8-aligned */
	CHECK_EQ(vfio_memattr_wc_copy64(dst, src + 1), -EINVAL);
	CHECK_EQ(vfio_memattr_wc_copy64(NULL, src), -EINVAL);
	CHECK_EQ(vfio_memattr_wc_copy64(dst, NULL), -EINVAL);
	CHECK_EQ(rec_n, 0);
	CHECK(dst[0] == 0xee && dst[8] == 0xee && dst[32] == 0xee);
}

/* exactly dst[off, off + 64) written, from src + soff; the rest 0xee */
static void check_block(unsigned int off, unsigned int soff)
{
	unsigned int i;

	CHECK(memcmp(dst + off, src + soff, 64) == 0);
	for (i = 0; i < sizeof(dst); i++)
		if ((i < off || i >= off + 64) && dst[i] != 0xee) {
			CHECK_EQ(i, -1);	/* a byte outside the block written */
			break;
		}
}

static void copy64_fallback(void)
{
	uintptr_t base = (uintptr_t)(dst + 192);
	unsigned int i;

	fill_src();
	memset(dst, 0xee, sizeof(dst));
	set_wc64_mode(VFIO_MEMATTR_WC64_STORES_);
	rec_n = 0;
	CHECK_EQ(vfio_memattr_wc_copy64(dst + 192, src + 8), 0);
	CHECK_EQ(rec_n, 8);			/* eight 8-byte stores, ascending */
	for (i = 0; i < rec_n && i < 8; i++)
		CHECK_EQ(rec_addr[i], base + 8 * i);
	check_block(192, 8);
	set_wc64_mode(VFIO_MEMATTR_WC64_UNKNOWN_);
}

static void copy64_burst(void)
{
	if (vfio_memattr_wc64_detect_() != VFIO_MEMATTR_WC64_BURST_) {
#if defined(__x86_64__)
		t_skip("this CPU has no MOVDIR64B (CPUID.7.0:ECX[28])");
#else
		t_skip("no 64-byte store on this host (arm64 ST64B is opt-in)");
#endif
		return;
	}
	fill_src();
	memset(dst, 0xee, sizeof(dst));
	set_wc64_mode(VFIO_MEMATTR_WC64_UNKNOWN_);
	rec_n = 0;
	CHECK_EQ(vfio_memattr_wc_copy64(dst + 256, src + 24), 0);	/* detects: burst */
	CHECK_EQ(*vfio_memattr_wc64_mode_(), VFIO_MEMATTR_WC64_BURST_);
	CHECK_EQ(rec_n, 0);			/* one instruction, not the 8-byte stores */
	check_block(256, 24);
	memset(dst, 0xee, sizeof(dst));
	CHECK_EQ(vfio_memattr_wc_copy64(dst, src + 64), 0);
	check_block(0, 64);
	set_wc64_mode(VFIO_MEMATTR_WC64_UNKNOWN_);
}

void run_mmio_tests(void)
{
	t_run("wc_copy: argument checks", copy_args);
	t_run("wc_copy: content", copy_content);
	t_run("wc_copy: ascending 64-byte blocks", copy_order);
	t_run("mmio accessors and barriers", accessors);
	t_run("barriers: the instruction of each, x86-64 and arm64", barrier_insns);
	t_run("arm64 accessors and wc_copy stores: single, no writeback, no pairs (aarch64-linux-gnu-gcc -O2/-O3)",
	      arm64_accessors_gcc);
	t_run("arm64 accessors and wc_copy stores: single, no writeback, no pairs (clang --target=aarch64-linux-gnu -O2/-O3)",
	      arm64_accessors_clang);
	t_run("wc_copy64: argument checks", copy64_args);
	t_run("wc_copy64: fallback, eight ascending 8-byte stores, exactly 64 bytes", copy64_fallback);
	t_run("wc_copy64: 64-byte store (MOVDIR64B), exactly 64 bytes", copy64_burst);
}
