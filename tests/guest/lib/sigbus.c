// SPDX-License-Identifier: GPL-2.0-only OR MIT
/* sigbus.c - probing an access that may raise SIGBUS, see sigbus.h. */
#define _GNU_SOURCE
#define _FILE_OFFSET_BITS 64
#include <setjmp.h>
#include <signal.h>
#include <string.h>

#include "mmio.h"
#include "sigbus.h"
#include "tap.h"

static sigjmp_buf probe_env;
static volatile sig_atomic_t probe_sig;

static void probe_handler(int sig)
{
	probe_sig = sig;
	siglongjmp(probe_env, 1);
}

int probe_access(volatile uint64_t *p, int write, uint64_t val, uint64_t *readval)
{
	struct sigaction sa, obus, osegv;
	int ret = 0;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = probe_handler;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, &obus);
	sigaction(SIGSEGV, &sa, &osegv);
	probe_sig = 0;
	if (sigsetjmp(probe_env, 1) == 0) {
		if (write) {
			*p = val;
			mmio_sfence();
		} else {
			uint64_t v = *p;

			if (readval)
				*readval = v;
		}
	} else {
		ret = probe_sig;
	}
	sigaction(SIGBUS, &obus, NULL);
	sigaction(SIGSEGV, &osegv, NULL);
	return ret;
}

static __thread sigjmp_buf mt_env;
static __thread volatile sig_atomic_t mt_armed, mt_sig;

static void mt_handler(int sig)
{
	if (!mt_armed) {
		signal(sig, SIG_DFL);
		raise(sig);
		return;
	}
	mt_sig = sig;
	siglongjmp(mt_env, 1);
}

void probe_mt_init(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = mt_handler;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, NULL);
	sigaction(SIGSEGV, &sa, NULL);
}

int probe_access_mt(volatile uint64_t *p, int write, uint64_t val, uint64_t *readval)
{
	mt_sig = 0;
	if (sigsetjmp(mt_env, 1) == 0) {
		mt_armed = 1;
		if (write) {
			*p = val;
			mmio_sfence();
		} else {
			uint64_t v = *p;

			if (readval)
				*readval = v;
		}
	}
	mt_armed = 0;
	return mt_sig;
}

const char *sig_name(int s)
{
	return s == SIGBUS ? "SIGBUS" : s == SIGSEGV ? "SIGSEGV" : s ? "a signal" : "no signal";
}

int sigbus_rw(volatile void *p, const char *what)
{
	volatile uint64_t *w = p;
	int r = probe_access(w, 0, 0, NULL);
	int s = probe_access(w + 1, 1, 0x5a5a5a5aull, NULL);

	if (r != SIGBUS || s != SIGBUS)
		tap_diag("%s: read -> %s, write -> %s (want SIGBUS)", what, sig_name(r), sig_name(s));
	return r == SIGBUS && s == SIGBUS;
}
