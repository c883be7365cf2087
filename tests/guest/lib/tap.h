/* SPDX-License-Identifier: GPL-2.0-only OR MIT */
/*
 * tap.h - TAP output of the guest tests (tests/guest/lib, the one test
 * library of tests/guest; one header per concern).
 *
 * A guest test is a standalone static program tests/guest/<name>.c that
 * prints TAP version 13 to stdout:
 *
 *     TAP version 13
 *     1..N
 *     ok 1 - description
 *     not ok 2 - description
 *     ok 3 - description # SKIP reason
 *     # diagnostics
 *
 * and returns tap_done() from main(): 0 if nothing failed and the plan was
 * met (missing results are padded as failures).
 */
#ifndef MEMATTR_TEST_TAP_H
#define MEMATTR_TEST_TAP_H

#include <stdbool.h>
#include <string.h>

#define TAP_PRINTF(a, b) __attribute__((format(printf, a, b)))

void tap_plan(int n);
/* One result; returns cond (so callers can chain). */
int tap_ok(int cond, const char *fmt, ...) TAP_PRINTF(2, 3);
void tap_pass(const char *fmt, ...) TAP_PRINTF(1, 2);
void tap_fail(const char *fmt, ...) TAP_PRINTF(1, 2);
void tap_skip(const char *reason, const char *fmt, ...) TAP_PRINTF(2, 3);
/* Skip every remaining planned test with the same reason. */
void tap_skip_rest(const char *reason);
/* Skip the next n tests with reason (setup failure of an optional part). */
void tap_skip_rest_of(int n, const char *reason);
/* Fail n tests with a "not reached" description (setup failure of a required part). */
void tap_fail_n(int n, const char *why);
/*
 * Nothing (more) of this test can run here (its device is missing): before
 * tap_plan(), the skip-all plan "1..0 # SKIP reason" (kselftest's); after
 * it, every remaining planned test skipped with reason.  Exits with
 * tap_done()'s status (0 unless a test already failed).
 */
_Noreturn void tap_skip_all(const char *reason);
void tap_diag(const char *fmt, ...) TAP_PRINTF(1, 2);
/* Pads missing results as failures; returns the exit status for main(). */
int tap_done(void);
/* Results printed so far. */
int tap_count(void);

/*
 * The next tap_ok() cannot be judged on this system (pat.h: no PAT list on
 * arm64): with unknown, it reports "ok N - ... # SKIP reason" whatever its
 * condition; without, a passing one is reported as that skip and a failing
 * one stays "not ok" (the rest of that check failed).
 */
void tap_unverifiable(bool unknown, const char *reason);

/*
 * The seed of a seeded test: @s as a number (0x... too), a new one from
 * the clock for "random", @dflt when @s is NULL (a fixed default keeps CI
 * repeatable); never 0.
 */
unsigned long long tap_seed(const char *s, unsigned long long dflt);

/* errno check: rc is 0 or -errno; one result "desc -> EINVAL". */
int tap_errno(int rc, int want, const char *fmt, ...) TAP_PRINTF(3, 4);
const char *ma_errname(int e);	/* "EINVAL", ... for positive e */

/* ---- EXPECT_*: evaluate to true/false, print "# file:line: ..." with both
 * values on failure, never abort.  Each operand is evaluated once; integers
 * of any signedness compare by value (EXPECT_GE(ret, 0) with a negative int
 * ret fails, as it should).  Combine them, then report one TAP line:
 *     bool good = EXPECT_EQ(sz, 4 << 20);
 *     tap_ok(good, "BAR2 is 4 MiB");
 */
enum tap_op { TAP_EQ, TAP_NE, TAP_LT, TAP_LE, TAP_GT, TAP_GE };
bool tap_expect_cmp(const char *file, int line, const char *expr,
		    unsigned long long a, bool a_neg,
		    unsigned long long b, bool b_neg, enum tap_op op);
bool tap_expect_fail(const char *file, int line, const char *expr,
		     unsigned long long a, unsigned long long b);

/* Sign bit of a signed integer (a bit test, not "< 0": no -Wtype-limits). */
#define TAP_SIGNBIT_(x) ((bool)((unsigned long long)(long long)(x) >> 63))
#define TAP_NEG(x) _Generic((x), \
	char: TAP_SIGNBIT_(x), signed char: TAP_SIGNBIT_(x), short: TAP_SIGNBIT_(x), \
	int: TAP_SIGNBIT_(x), long: TAP_SIGNBIT_(x), \
	long long: TAP_SIGNBIT_(x), default: false)

#define EXPECT_CMP_(a, b, op, opstr) \
	({ __auto_type __a = (a); __auto_type __b = (b); \
	   tap_expect_cmp(__FILE__, __LINE__, #a " " opstr " " #b, \
		(unsigned long long)__a, TAP_NEG(__a), \
		(unsigned long long)__b, TAP_NEG(__b), op); })
#define EXPECT_EQ(a, b) EXPECT_CMP_(a, b, TAP_EQ, "==")
#define EXPECT_NE(a, b) EXPECT_CMP_(a, b, TAP_NE, "!=")
#define EXPECT_LT(a, b) EXPECT_CMP_(a, b, TAP_LT, "<")
#define EXPECT_LE(a, b) EXPECT_CMP_(a, b, TAP_LE, "<=")
#define EXPECT_GT(a, b) EXPECT_CMP_(a, b, TAP_GT, ">")
#define EXPECT_GE(a, b) EXPECT_CMP_(a, b, TAP_GE, ">=")
#define EXPECT_TRUE(c) \
	({ bool __c = !!(c); __c ? true : tap_expect_fail(__FILE__, __LINE__, #c, 0, 1); })
#define EXPECT_STREQ(a, b) \
	({ const char *__sa = (a), *__sb = (b); bool __r = __sa && __sb && !strcmp(__sa, __sb); \
	   if (!__r) tap_diag("%s:%d: EXPECT_STREQ(%s, %s) failed: \"%s\" vs \"%s\"", \
		__FILE__, __LINE__, #a, #b, __sa ? __sa : "(null)", __sb ? __sb : "(null)"); __r; })

#endif /* MEMATTR_TEST_TAP_H */
