// SPDX-License-Identifier: GPL-2.0-only OR MIT
/* mmio.c - mappings of BARs and data through them, see mmio.h. */
#define _GNU_SOURCE
#define _FILE_OFFSET_BITS 64
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "memattr.h"
#include "mmio.h"
#include "pattern.h"
#include "sigbus.h"
#include "tap.h"
#include "vfio.h"

void *ma_map_fd_at(int fd, uint64_t off, size_t len, void *addr)
{
	void *p = mmap(addr, len, PROT_READ | PROT_WRITE,
		       MAP_SHARED | (addr ? MAP_FIXED : 0), fd, (off_t)off);

	return p == MAP_FAILED ? NULL : p;
}

volatile uint8_t *ma_map_aligned(int fd, uint64_t off, size_t len, size_t skew,
				 void **res, size_t *reslen)
{
	const uintptr_t m2 = 2 * MA_MIB;
	size_t rl = len + 2 * m2;
	uint8_t *r = mmap(NULL, rl, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	uintptr_t a;
	void *p;

	if (r == MAP_FAILED)
		return NULL;
	a = (((uintptr_t)r + m2 - 1) & ~(m2 - 1)) + skew;
	p = mmap((void *)a, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, (off_t)off);
	if (p == MAP_FAILED) {
		int e = errno;

		munmap(r, rl);
		errno = e;
		return NULL;
	}
	*res = r;
	*reslen = rl;
	return p;
}

void *ma_map_fd(int fd, uint64_t off, size_t len)
{
	return ma_map_fd_at(fd, off, len, NULL);
}

void mmio_sfence(void)
{
#if defined(__x86_64__)
	__asm__ __volatile__("sfence" ::: "memory");
#elif defined(__aarch64__)
	__asm__ __volatile__("dsb st" ::: "memory");
#else
	__sync_synchronize();
#endif
}

void mmio_fill(volatile void *dst, size_t len, uint64_t seed)
{
	pattern_fill_mmio64((volatile uint64_t *)dst, len / 8, seed);
}

size_t mmio_check(const volatile void *src, size_t len, uint64_t seed)
{
	size_t k = pattern_check_mmio64((const volatile uint64_t *)src, len / 8, seed);

	return k == len / 8 ? len : k * 8;
}

size_t buf_check(const void *buf, size_t len, uint64_t seed)
{
	return pattern_check(buf, len, seed);
}

void buf_fill(void *buf, size_t len, uint64_t seed)
{
	pattern_fill(buf, len, seed);
}

int ma_fill_check(volatile uint8_t *p, size_t len, uint64_t seed)
{
	size_t bad;

	mmio_fill(p, len, seed);
	mmio_sfence();
	bad = mmio_check(p, len, seed);
	if (bad != len)
		tap_diag("readback through the mapping differs at byte %zu", bad);
	return bad == len;
}

void *ma_legacy_read(int fd, uint64_t off, size_t len)
{
	uint8_t *buf = malloc(len);
	int rc = buf ? region_pread(fd, 2, off, buf, len) : -ENOMEM;

	if (rc) {
		tap_diag("pread legacy BAR2 at 0x%" PRIx64 ": %s", off, ma_errname(-rc));
		free(buf);
		return NULL;
	}
	return buf;
}

int ma_legacy_check(int fd, uint64_t off, size_t len, uint64_t seed)
{
	uint8_t *buf = ma_legacy_read(fd, off, len);
	size_t bad = buf ? buf_check(buf, len, seed) : 0;

	if (buf && bad != len)
		tap_diag("pread legacy BAR2 at 0x%" PRIx64 " differs at byte %zu", off, bad);
	free(buf);
	return buf && bad == len;
}

int mmio_data_ok(volatile uint8_t *p, size_t len, uint64_t seed, const char *what)
{
	int s = probe_access((volatile uint64_t *)p, 0, 0, NULL);
	size_t bad;

	if (s) {
		tap_diag("%s: first access raised %s", what, sig_name(s));
		return 0;
	}
	bad = mmio_check(p, len, seed);
	if (bad != len)
		tap_diag("%s: data differs at byte %zu", what, bad);
	return bad == len;
}
