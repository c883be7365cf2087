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
 * 1 if no record since the mark has a warning, BUG, oops, PAT conflict,
 * refcount error, use after free, list corruption or general protection
 * fault; else 0 with each such record as a diagnostic (also 0 if the log
 * cannot be read).
 */
int kmsg_clean(void);

#endif /* MEMATTR_TEST_KMSG_H */
