/* SPDX-License-Identifier: GPL-2.0-only OR MIT */
/*
 * kreport.h - kernel reports a guest test checks for itself: new records
 * of /dev/kmsg since a mark (kmsg.h), and new kmemleak reports naming a
 * module.
 * lab/collect scans the whole log after the run as well; these tell which
 * step of a test caused a report.
 */
#ifndef MEMATTR_TEST_KREPORT_H
#define MEMATTR_TEST_KREPORT_H
#include <stdbool.h>

#include "kmsg.h"	/* the kernel log since a mark */

/*
 * kmemleak (/sys/kernel/debug/kmemleak): kmemleak_begin() scans and
 * remembers the objects already reported; kmemleak_new() waits until
 * objects freed late are old enough to be reported (kmemleak's minimum
 * age, 5 s), scans twice and returns how many reported objects that were
 * not reported at kmemleak_begin() have a backtrace line containing one
 * of the NULL-terminated @words (printing those reports as diagnostics),
 * or -errno (-ENOENT: no kmemleak).
 */
int kmemleak_begin(void);
int kmemleak_new(const char *const *words);
#endif /* MEMATTR_TEST_KREPORT_H */
