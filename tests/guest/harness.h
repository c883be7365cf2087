/* SPDX-License-Identifier: GPL-2.0-only OR MIT */
/*
 * harness.h - tiny TAP harness and helpers for vfio-memattr guest tests.
 *
 * A guest test is a standalone static program tests/guest/<name>.c that prints
 * TAP version 13 to stdout:
 *
 *     TAP version 13
 *     1..N
 *     ok 1 - description
 *     not ok 2 - description
 *     ok 3 - description # SKIP reason
 *     # diagnostics
 *
 * and returns harness_exit(): 0 if nothing failed (and the plan was met).
 *
 * Host checks: after writing tests/common/pattern.h data through a BAR,
 * call harness_hostcheck(); the lab verifies the data in the host's backing
 * file after the guest finished and counts each check as one test.
 * Each test owns the 64 KiB slices it declares in docs/lab.md.
 */
#ifndef VFIO_MEMATTR_HARNESS_H
#define VFIO_MEMATTR_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>

#include <linux/vfio.h>

#define HARNESS_SLICE_SIZE (64u * 1024u)
#define HARNESS_SLICE(n) ((uint64_t)(n) * HARNESS_SLICE_SIZE)

#define HARNESS_PRINTF(a, b) __attribute__((format(printf, a, b)))

/* ---- TAP ---- */
void harness_plan(unsigned int n);
bool harness_ok(bool cond, const char *fmt, ...) HARNESS_PRINTF(2, 3);
void harness_pass(const char *fmt, ...) HARNESS_PRINTF(1, 2);
void harness_fail(const char *fmt, ...) HARNESS_PRINTF(1, 2);
void harness_skip(const char *reason, const char *fmt, ...) HARNESS_PRINTF(2, 3);
/* Skip every remaining planned test with the same reason. */
void harness_skip_rest(const char *reason);
void harness_diag(const char *fmt, ...) HARNESS_PRINTF(1, 2);
/* Exit status for main(): 0 if no failure and the plan was met. */
int harness_exit(void);

enum harness_op { HARNESS_EQ, HARNESS_NE, HARNESS_LT, HARNESS_LE, HARNESS_GT, HARNESS_GE };
/*
 * Compares two integers given as their 64-bit pattern plus "is negative";
 * on failure prints "# file:line: EXPECT failed: expr (left .., right ..)".
 */
bool harness_expect_cmp(const char *file, int line, const char *expr,
			unsigned long long a, bool a_neg,
			unsigned long long b, bool b_neg, enum harness_op op);
/* Reports a failed expectation with file:line and values; returns false. */
bool harness_expect_fail(const char *file, int line, const char *expr,
			 unsigned long long a, unsigned long long b);

/* Sign bit of a signed integer (a bit test, not "< 0": no -Wtype-limits). */
#define HARNESS_SIGNBIT_(x) ((bool)((unsigned long long)(long long)(x) >> 63))
#define HARNESS_NEG(x) _Generic((x), \
	char: HARNESS_SIGNBIT_(x), signed char: HARNESS_SIGNBIT_(x), short: HARNESS_SIGNBIT_(x), \
	int: HARNESS_SIGNBIT_(x), long: HARNESS_SIGNBIT_(x), \
	long long: HARNESS_SIGNBIT_(x), default: false)

/*
 * EXPECT_*: evaluate to true/false, print "# file:line: ..." with both
 * values on failure, never abort.  Each operand is evaluated once; integers
 * of any signedness compare by value (EXPECT_GE(ret, 0) with a negative int
 * ret fails, as it should).  Combine them, then report one TAP line:
 *     bool good = EXPECT_EQ(sz, 4 << 20);
 *     harness_ok(good, "BAR2 is 4 MiB");
 */
#define EXPECT_CMP_(a, b, op, opstr) \
	({ __auto_type __a = (a); __auto_type __b = (b); \
	   harness_expect_cmp(__FILE__, __LINE__, #a " " opstr " " #b, \
		(unsigned long long)__a, HARNESS_NEG(__a), \
		(unsigned long long)__b, HARNESS_NEG(__b), op); })
#define EXPECT_EQ(a, b) EXPECT_CMP_(a, b, HARNESS_EQ, "==")
#define EXPECT_NE(a, b) EXPECT_CMP_(a, b, HARNESS_NE, "!=")
#define EXPECT_LT(a, b) EXPECT_CMP_(a, b, HARNESS_LT, "<")
#define EXPECT_LE(a, b) EXPECT_CMP_(a, b, HARNESS_LE, "<=")
#define EXPECT_GT(a, b) EXPECT_CMP_(a, b, HARNESS_GT, ">")
#define EXPECT_GE(a, b) EXPECT_CMP_(a, b, HARNESS_GE, ">=")
#define EXPECT_TRUE(c) \
	({ bool __c = !!(c); __c ? true : harness_expect_fail(__FILE__, __LINE__, #c, 0, 1); })
#define EXPECT_STREQ(a, b) \
	({ const char *__sa = (a), *__sb = (b); bool __r = __sa && __sb && !strcmp(__sa, __sb); \
	   if (!__r) harness_diag("%s:%d: EXPECT_STREQ(%s, %s) failed: \"%s\" vs \"%s\"", \
		__FILE__, __LINE__, #a, #b, __sa ? __sa : "(null)", __sb ? __sb : "(null)"); __r; })

/* ---- files and sysfs ---- */
/* Reads up to size-1 bytes, NUL-terminates; returns bytes read or -errno. */
ssize_t harness_read_file(const char *path, char *buf, size_t size);
/* Writes val to path in one write(); returns 0 or -errno. */
int harness_sysfs_write(const char *path, const char *val);
/* BDF from an environment variable (MEMATTR_IVSHMEM0, ...), NULL if unset. */
const char *harness_env_bdf(const char *var);
/* Name of the driver bound to bdf into buf ("" if none); 0 or -errno. */
int harness_current_driver(const char *bdf, char *buf, size_t size);
/* Bind bdf to driver via driver_override + drivers_probe (unbinds first). */
int harness_bind(const char *bdf, const char *driver);

/* ---- PCI and PAT ---- */
/* Physical start and size of a BAR from /sys/bus/pci/devices/<bdf>/resource. */
int harness_bar_phys(const char *bdf, int bar, uint64_t *start, uint64_t *size);

struct harness_pat_entry {
	uint64_t start, end;	/* [start, end) as listed */
	char type[32];		/* "write-combining", "uncached-minus", ... */
};
/*
 * Entries of /sys/kernel/debug/x86/pat_memtype_list overlapping [start, end).
 * Stores up to max entries; returns the number overlapping, or -errno.
 */
int harness_pat_entries(uint64_t start, uint64_t end,
			struct harness_pat_entry *out, int max);
/*
 * Same lookup, summarised: returns the number of overlapping entries (or
 * -errno); type_out (>= 32 bytes) gets their type if all agree, "mixed" if
 * not, "" if none.
 */
int harness_pat_lookup(uint64_t start, uint64_t end, char *type_out);
/* Print the overlapping entries as diagnostics. */
void harness_pat_dump(uint64_t start, uint64_t end);

/*
 * Architectures without the x86 PAT list (arm64) keep no memtype
 * reservations at all: there, "no PAT entry", "PAT unchanged" and PAT
 * counts (0) are true and answered so.  A check of a PAT *type* cannot be
 * made: the helpers with a neutral answer (pat_check_bar() with expected
 * entries, pat_has_exact(), pat_available()) answer "as expected" and call
 * harness_pat_absent(false); those without one (harness_pat_entries(),
 * harness_pat_lookup()) call harness_pat_absent(true).  The next
 * harness_ok() then reports "ok N - ... # SKIP <HARNESS_NO_PAT>" instead of
 * a pass (whatever its condition, for an unknown answer), and stays
 * "not ok" for a neutral one (the rest of that check failed).  The user
 * page table entries of the same mappings are checked by memattr_pte
 * (tests/ptecheck) instead.
 */
#define HARNESS_NO_PAT "no x86 PAT list on this architecture; memattr_pte checks the attributes in the page tables"
void harness_pat_absent(bool unknown);

/* ---- VFIO (group/container API, type1 IOMMU) ---- */
/* Opens container, group and device fd for bdf; 0 or -errno (diag printed). */
int harness_vfio_open(const char *bdf, int *container, int *group, int *device);
void harness_vfio_close(int container, int group, int device);
/* VFIO_DEVICE_GET_REGION_INFO (fixed part only); 0 or -errno. */
int harness_region_info(int device, unsigned int index, struct vfio_region_info *info);

/* ---- host checks ---- */
/*
 * Announce that [offset, offset+length) of dev's backing store now holds
 * pattern(seed).  dev: ivshmem0, ivshmem1 or nvme-disk.  Prints
 *     # HOSTCHECK <dev> <offset> <length> <seed> <desc>
 */
void harness_hostcheck(const char *dev, uint64_t offset, uint64_t length,
		       uint64_t seed, const char *fmt, ...) HARNESS_PRINTF(5, 6);

#endif /* VFIO_MEMATTR_HARNESS_H */
