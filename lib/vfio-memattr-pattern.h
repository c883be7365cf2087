/* SPDX-License-Identifier: GPL-2.0-only OR MIT */
/*
 * vfio-memattr-pattern.h - the data pattern written by the CLI's map
 * --write-pattern and the examples (wc-bench, the NVMe demo), and checked
 * by the guest tests and the host checker (tests/host/hostcheck), which
 * include it as tests/common/pattern.h.  Private to the source tree: not
 * installed with the library's headers.
 *
 * A pattern is a function of a 64-bit seed and a byte position inside the
 * buffer (position 0 = first byte of the slice the test declared, not of the
 * BAR or file).  The buffer is a sequence of 64-bit words stored
 * little-endian; word k (bytes 8k .. 8k+7) is
 *
 *     x    = seed ^ (k * 0x9E3779B97F4A7C15)        (mod 2^64)
 *     w[k] = rotate_left(x, k mod 64)
 *
 * A trailing partial word uses the low-order bytes of w[k].  Different seeds
 * and different offsets give different data, so a slice written by the wrong
 * test, at the wrong offset, or not at all, is detected.
 */
#ifndef VFIO_MEMATTR_PATTERN_H
#define VFIO_MEMATTR_PATTERN_H

#include <stddef.h>
#include <stdint.h>

#define PATTERN_GOLDEN 0x9E3779B97F4A7C15ull

static inline uint64_t pattern_word(uint64_t seed, uint64_t k)
{
	uint64_t x = seed ^ (k * PATTERN_GOLDEN);
	unsigned int r = (unsigned int)(k & 63);

	return r ? (x << r) | (x >> (64 - r)) : x;
}

static inline uint8_t pattern_byte(uint64_t seed, uint64_t i)
{
	return (uint8_t)(pattern_word(seed, i / 8) >> (8 * (i % 8)));
}

/* Fill len bytes of buf (ordinary memory) with the pattern. */
static inline void pattern_fill(void *buf, size_t len, uint64_t seed)
{
	uint8_t *p = (uint8_t *)buf;
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = pattern_byte(seed, i);
}

/* Returns len if buf holds the pattern, else the offset of the first bad byte. */
static inline size_t pattern_check(const void *buf, size_t len, uint64_t seed)
{
	const uint8_t *p = (const uint8_t *)buf;
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] != pattern_byte(seed, i))
			return i;
	return len;
}

/*
 * MMIO variants: nwords aligned 64-bit volatile accesses, one store or load
 * per word (no memcpy, whose access sizes are unspecified).  Word values are
 * host-endian here, which is little-endian on x86-64 and arm64.
 */
static inline void pattern_fill_mmio64(volatile uint64_t *dst, size_t nwords, uint64_t seed)
{
	size_t k;

	for (k = 0; k < nwords; k++)
		dst[k] = pattern_word(seed, k);
}

static inline size_t pattern_check_mmio64(const volatile uint64_t *src, size_t nwords, uint64_t seed)
{
	size_t k;

	for (k = 0; k < nwords; k++)
		if (src[k] != pattern_word(seed, k))
			return k;
	return nwords;
}

#endif /* VFIO_MEMATTR_PATTERN_H */
