// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * test_mmio.c - vfio-memattr-mmio.h: wc_copy argument checks, content, and
 * the order of its stores (recorded through the header's store hook).
 */
#define _GNU_SOURCE
#include <errno.h>
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

void run_mmio_tests(void)
{
	t_run("wc_copy: argument checks", copy_args);
	t_run("wc_copy: content", copy_content);
	t_run("wc_copy: ascending 64-byte blocks", copy_order);
	t_run("mmio accessors and barriers", accessors);
	t_run("barriers: the instruction of each, x86-64 and arm64", barrier_insns);
}
