/* SPDX-License-Identifier: GPL-2.0-only OR MIT */
/* sigbus.h - an access that may raise SIGBUS (a revoked or zapped mapping). */
#ifndef MEMATTR_TEST_SIGBUS_H
#define MEMATTR_TEST_SIGBUS_H

#include <stdint.h>

/*
 * Touch one 64-bit word: read (write=0) or write val (write=1).  Returns 0,
 * or SIGBUS/SIGSEGV number if the access raised that signal.
 */
int probe_access(volatile uint64_t *p, int write, uint64_t val, uint64_t *readval);

/*
 * The same for programs whose threads probe at once: probe_mt_init()
 * installs one SIGBUS/SIGSEGV handler for the process (once, before the
 * threads start); it jumps back into the thread's own probe_access_mt(),
 * and a signal outside one kills the process as it would have without it.
 * A forked child may probe too.
 */
void probe_mt_init(void);
int probe_access_mt(volatile uint64_t *p, int write, uint64_t val, uint64_t *readval);

/* "SIGBUS", "SIGSEGV", "a signal" or "no signal" for probe_access()'s answer. */
const char *sig_name(int s);

/*
 * A read of the first word of @p and a write of the second must both
 * raise SIGBUS (a revoked mapping); 1 if so, else 0 with a TAP diagnostic
 * naming @what.
 */
int sigbus_rw(volatile void *p, const char *what);

#endif /* MEMATTR_TEST_SIGBUS_H */
