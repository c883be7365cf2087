/* SPDX-License-Identifier: GPL-2.0-only OR MIT */
/*
 * kmsg.h - the kernel log a test made: records of /dev/kmsg from a mark on,
 * scanned for what the kernel reports when something went wrong.
 */
#ifndef MEMATTR_TEST_KMSG_H
#define MEMATTR_TEST_KMSG_H

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
