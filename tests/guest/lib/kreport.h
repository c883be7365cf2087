/* SPDX-License-Identifier: GPL-2.0-only OR MIT */
/*
 * kreport.h - kernel reports a guest test checks for itself: new records
 * of /dev/kmsg (warnings, BUGs, KASAN, UBSAN, lockdep, refcount_t, PAT
 * conflicts) since a mark, and new kmemleak reports naming a module.
 * lab/collect scans the whole log after the run as well; these tell which
 * step of a test caused a report.
 */
#ifndef MEMATTR_TEST_KREPORT_H
#define MEMATTR_TEST_KREPORT_H
#include <stdbool.h>

/* Start reading /dev/kmsg at its end (records before are not looked at). */
void kmsg_mark(void);
/*
 * Reads the records since the mark (or the last call) and returns the
 * number of reports among them, each printed as a TAP diagnostic (the
 * first few); -1 if /dev/kmsg cannot be read.
 */
int kmsg_reports(void);
/* kmsg_reports() == 0, with a diagnostic when /dev/kmsg cannot be read. */
bool kmsg_clean(void);

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
