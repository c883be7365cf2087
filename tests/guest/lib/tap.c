// SPDX-License-Identifier: GPL-2.0-only OR MIT
/* tap.c - TAP output of the guest tests, see tap.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tap.h"

static int planned, ran, failed;
static bool header_printed, plan_printed;
/* tap_unverifiable(): how the next tap_ok() is reported */
static bool unverif_neutral, unverif_unknown;
static const char *unverif_reason;

static void header(void)
{
	if (!header_printed) {
		setvbuf(stdout, NULL, _IOLBF, 0);
		printf("TAP version 13\n");
		header_printed = true;
	}
}

void tap_plan(int n)
{
	header();
	planned = n;
	plan_printed = true;
	printf("1..%d\n", n);
	fflush(stdout);
}

int tap_count(void)
{
	return ran;
}

static void result(bool pass, const char *skip, const char *fmt, va_list ap)
{
	header();
	printf("%s %d - ", pass ? "ok" : "not ok", ++ran);
	vprintf(fmt, ap);
	if (skip)
		printf(" # SKIP %s", skip);
	printf("\n");
	fflush(stdout);
	if (!pass)
		failed++;
}

void tap_unverifiable(bool unknown, const char *reason)
{
	if (unknown)
		unverif_unknown = true;
	else
		unverif_neutral = true;
	unverif_reason = reason;
}

int tap_ok(int cond, const char *fmt, ...)
{
	bool skip = unverif_unknown || (unverif_neutral && cond);
	va_list ap;

	unverif_unknown = unverif_neutral = false;
	va_start(ap, fmt);
	result(skip || cond, skip ? unverif_reason : NULL, fmt, ap);
	va_end(ap);
	return cond;
}

void tap_pass(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	result(true, NULL, fmt, ap);
	va_end(ap);
}

void tap_fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	result(false, NULL, fmt, ap);
	va_end(ap);
}

void tap_skip(const char *reason, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	result(true, reason, fmt, ap);
	va_end(ap);
}

void tap_skip_rest(const char *reason)
{
	while (ran < planned)
		tap_skip(reason, "skipped");
}

void tap_skip_rest_of(int n, const char *reason)
{
	while (n-- > 0)
		tap_skip(reason, "skipped");
}

void tap_fail_n(int n, const char *why)
{
	while (n-- > 0)
		tap_fail("not reached: %s", why);
}

void tap_skip_all(const char *reason)
{
	if (plan_printed) {
		tap_skip_rest(reason);
	} else {
		header();
		plan_printed = true;
		printf("1..0 # SKIP %s\n", reason);
		fflush(stdout);
	}
	exit(tap_done());
}

void tap_diag(const char *fmt, ...)
{
	va_list ap;

	header();
	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

int tap_done(void)
{
	if (ran < planned) {
		tap_diag("only %d of %d planned tests ran", ran, planned);
		while (ran < planned)
			tap_fail("not reached");
	} else if (ran > planned) {
		tap_diag("BUG: %d tests ran, %d planned", ran, planned);
		failed++;
	}
	tap_diag("%d failed of %d", failed, ran);
	return failed ? 1 : 0;
}

const char *ma_errname(int e)
{
	static char buf[32];

	switch (e) {
	case 0: return "0";
	case EPERM: return "EPERM";
	case ENOENT: return "ENOENT";
	case EIO: return "EIO";
	case EBADF: return "EBADF";
	case EBADFD: return "EBADFD";
	case ENOMEM: return "ENOMEM";
	case EACCES: return "EACCES";
	case EFAULT: return "EFAULT";
	case EBUSY: return "EBUSY";
	case EEXIST: return "EEXIST";
	case ENODEV: return "ENODEV";
	case EINVAL: return "EINVAL";
	case ENOSPC: return "ENOSPC";
	case ENOTTY: return "ENOTTY";
	case ERANGE: return "ERANGE";
	case ENXIO: return "ENXIO";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	case EOVERFLOW: return "EOVERFLOW";
	case E2BIG: return "E2BIG";
	case EAGAIN: return "EAGAIN";
	}
	snprintf(buf, sizeof(buf), "errno %d", e);
	return buf;
}

int tap_errno(int rc, int want, const char *fmt, ...)
{
	va_list ap;
	char desc[512];
	int got = rc < 0 ? -rc : 0;

	va_start(ap, fmt);
	vsnprintf(desc, sizeof(desc), fmt, ap);
	va_end(ap);
	if (got != want)
		tap_diag("%s: expected %s, got %s", desc, want ? ma_errname(want) : "success",
			 got ? ma_errname(got) : "success");
	return tap_ok(got == want, "%s -> %s", desc, want ? ma_errname(want) : "0");
}

bool tap_expect_cmp(const char *file, int line, const char *expr,
		    unsigned long long a, bool a_neg,
		    unsigned long long b, bool b_neg, enum tap_op op)
{
	/* -1: a < b, 0: equal, 1: a > b, by mathematical value */
	int c = a_neg != b_neg ? (a_neg ? -1 : 1) : (a < b ? -1 : a > b);
	bool r;

	switch (op) {
	case TAP_EQ: r = c == 0; break;
	case TAP_NE: r = c != 0; break;
	case TAP_LT: r = c < 0; break;
	case TAP_LE: r = c <= 0; break;
	case TAP_GT: r = c > 0; break;
	default:     r = c >= 0; break;
	}
	if (!r)
		tap_diag("%s:%d: EXPECT failed: %s (left %s%llu = 0x%llx, right %s%llu = 0x%llx)",
			 file, line, expr, a_neg ? "-" : "", a_neg ? 0 - a : a, a,
			 b_neg ? "-" : "", b_neg ? 0 - b : b, b);
	return r;
}

bool tap_expect_fail(const char *file, int line, const char *expr,
		     unsigned long long a, unsigned long long b)
{
	tap_diag("%s:%d: EXPECT failed: %s (left %lld = 0x%llx, right %lld = 0x%llx)",
		 file, line, expr, (long long)a, a, (long long)b, b);
	return false;
}

unsigned long long tap_seed(const char *s, unsigned long long dflt)
{
	unsigned long long seed;

	if (s && !strcmp(s, "random"))
		seed = ((unsigned long long)time(NULL) * 0x9E3779B97F4A7C15ull) ^ (unsigned long long)getpid();
	else
		seed = s ? strtoull(s, NULL, 0) : dflt;
	return seed ? seed : 1;
}
