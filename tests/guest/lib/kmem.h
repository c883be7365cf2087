/* SPDX-License-Identifier: GPL-2.0-only OR MIT */
/*
 * kmem.h - the kernel's own memory figures, as the guest tests bound what
 * a driver call may keep: the ioremap total of /proc/vmallocinfo and the
 * fields of /proc/meminfo.
 */
#ifndef MEMATTR_TEST_KMEM_H
#define MEMATTR_TEST_KMEM_H

/* Bytes of every ioremap area in /proc/vmallocinfo now, or -1. */
long long ma_ioremap_bytes(void);
/* The kB value of /proc/meminfo's field @key ("PageTables"), or -1. */
long long ma_meminfo_kib(const char *key);

#endif /* MEMATTR_TEST_KMEM_H */
