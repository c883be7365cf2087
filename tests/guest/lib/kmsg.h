/* SPDX-License-Identifier: GPL-2.0-only OR MIT */
/*
 * kmsg.h - the kernel log as a guest test reads it itself (/dev/kmsg from
 * a point on), besides the lab's collector, which scans the whole dmesg
 * after the guest's suite.
 */
#ifndef MEMATTR_TEST_KMSG_H
#define MEMATTR_TEST_KMSG_H

/* /dev/kmsg opened non-blocking at its end (the records written from now on): the fd or -errno. */
int kmsg_open_end(void);
/*
 * Reads every record available on @fd now; each one that contains one of
 * @pats (NULL-terminated) is passed, its text (first line) only, to @report (a
 * "kernel log: ..." TAP diagnostic when @report is NULL).  Returns the
 * number of such records, or -EBADF for fd < 0.
 */
int kmsg_scan(int fd, const char *const *pats, void (*report)(const char *line, void *ctx), void *ctx);

/* Read the kernel log from now on (a later mark starts again). */
void kmsg_mark(void);
/*
 * The number of reports since the mark (or the last call): warnings, BUGs,
 * oopses, KASAN, UBSAN, KFENCE, lockdep, refcount_t, PAT conflicts, use
 * after free, list corruption, general protection faults, hung tasks;
 * the first few printed as diagnostics.  -1 if the log cannot be read.
 */
int kmsg_reports(void);
/* 1 if kmsg_reports() finds none; else 0 (also if the log cannot be read). */
int kmsg_clean(void);

#endif /* MEMATTR_TEST_KMSG_H */
