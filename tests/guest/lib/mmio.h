/* SPDX-License-Identifier: GPL-2.0-only OR MIT */
/*
 * mmio.h - mappings of BARs and data through them: mmap helpers, the
 * tests/common/pattern.h data written and read back with 64-bit accesses,
 * the legacy pread path.
 */
#ifndef MEMATTR_TEST_MMIO_H
#define MEMATTR_TEST_MMIO_H

#include <stddef.h>
#include <stdint.h>

/* mmap len at off of fd (shared, rw). MAP_FAILED -> NULL and errno set. */
void *ma_map_fd(int fd, uint64_t off, size_t len);
void *ma_map_fd_at(int fd, uint64_t off, size_t len, void *addr);
/*
 * mmap len of fd at off at an address 2 MiB aligned + skew, inside a
 * PROT_NONE reservation the caller munmaps (*res, *reslen) when done.
 * NULL and errno set on failure (nothing left mapped).
 */
volatile uint8_t *ma_map_aligned(int fd, uint64_t off, size_t len, size_t skew,
				 void **res, size_t *reslen);

/* Store fence (x86 sfence, arm64 dsb st). */
void mmio_sfence(void);
/* Pattern helpers over MMIO: 64-bit stores/loads. */
void mmio_fill(volatile void *dst, size_t len, uint64_t seed);
/* len if ok, else index of first bad byte (word-granular). */
size_t mmio_check(const volatile void *src, size_t len, uint64_t seed);
/* Check a byte buffer (from pread) against the pattern; len if ok. */
size_t buf_check(const void *buf, size_t len, uint64_t seed);
void buf_fill(void *buf, size_t len, uint64_t seed);
/* Fill a mapping with the pattern, sfence, read it back; 1 if intact. */
int ma_fill_check(volatile uint8_t *p, size_t len, uint64_t seed);
/* len bytes of the legacy BAR2 region at off, malloc'ed (NULL, diagnostics printed, on failure). */
void *ma_legacy_read(int fd, uint64_t off, size_t len);
/* pread of the legacy BAR2 region at off holds the pattern; 1 if so. */
int ma_legacy_check(int fd, uint64_t off, size_t len, uint64_t seed);

/*
 * The first word of @p read under a guard (a wrongly revoked mapping fails
 * the check, not the program), then the seeded pattern over @len bytes.
 * True if both hold; says what failed as a TAP diagnostic naming @what.
 */
int mmio_data_ok(volatile uint8_t *p, size_t len, uint64_t seed, const char *what);

#endif /* MEMATTR_TEST_MMIO_H */
