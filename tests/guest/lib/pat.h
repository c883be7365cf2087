/* SPDX-License-Identifier: GPL-2.0-only OR MIT */
/*
 * pat.h - the x86 PAT memtype list (/sys/kernel/debug/x86/pat_memtype_list)
 * as the guest tests check it.  The list is parsed by lib/pat-list.c, the
 * parser the library's sysfs-wc fallback uses too (struct
 * vfio_memattr__pat_entry: [start, end) and type).
 *
 * Architectures without the x86 PAT list (arm64) keep no memtype
 * reservations at all: there, "no PAT entry", "PAT unchanged" and PAT
 * counts (0) are true and answered so (pat_overlapping(), pat_count(),
 * pat_snap_same(), pat_check_bar() with no expected entry).  A check of a
 * PAT *type* cannot be made: the helpers with a neutral answer
 * (pat_check_bar() with expected entries, pat_has_exact(), pat_available())
 * answer "as expected" and call pat_absent(false); those without one
 * (pat_entries(), pat_lookup()) call pat_absent(true).  The next tap_ok()
 * then reports "ok N - ... # SKIP <MA_NO_PAT>" instead of a pass (whatever
 * its condition, for an unknown answer), and stays "not ok" for a neutral
 * one (the rest of that check failed).  The user page table entries of the
 * same mappings are checked by memattr_pte (tests/ptecheck) instead.
 */
#ifndef MEMATTR_TEST_PAT_H
#define MEMATTR_TEST_PAT_H

#include <stdbool.h>
#include <stdint.h>

#include "pat-list.h"

#define MA_NO_PAT "no x86 PAT list on this architecture; memattr_pte checks the attributes in the page tables"
#define PAT_LIST VFIO_MEMATTR__PAT_LIST
#define PAT_MAX 4096

#if defined(__x86_64__) || defined(__i386__)
#define MA_HAVE_PAT 1
#else
#define MA_HAVE_PAT 0
#endif

/* The next tap_ok() cannot judge a PAT type: see above. */
void pat_absent(bool unknown);
int pat_available(void);

/* Entries overlapping [s, e): stores up to max; returns min(count, max), or -errno. 0 on arm64. */
int pat_overlapping(uint64_t s, uint64_t e, struct vfio_memattr__pat_entry *out, int max);
/* The same, returning every overlapping count (may exceed max); pat_absent(true) on arm64. */
int pat_entries(uint64_t s, uint64_t e, struct vfio_memattr__pat_entry *out, int max);
/*
 * Summarised: the number of overlapping entries (or -errno); type_out (>= 32
 * bytes) gets their type if all agree, "mixed" if not, "" if none.
 */
int pat_lookup(uint64_t s, uint64_t e, char *type_out);
void pat_dump(uint64_t s, uint64_t e);	/* diagnostics */
/* Number of entries overlapping [s, e) (or -errno). */
int pat_count(uint64_t s, uint64_t e);
/* 1 if an entry of exactly [s, e) has type type. */
int pat_has_exact(uint64_t s, uint64_t e, const char *type);

struct pat_expect {
	uint64_t start, end;	/* physical range covered */
	const char *type;
};
/*
 * The PAT honesty rule for one BAR [bs, be): every entry overlapping it lies
 * inside one of exp and has its type, and with must_exact each
 * write-combining exp has an entry of exactly its range (an uncached-minus
 * exp needs none: NC and DEV handles reserve nothing, and x86 maps a range
 * without an entry uncached-minus).  Returns 1 if honest (else prints
 * diagnostics and returns 0).
 */
int pat_check_bar(uint64_t bs, uint64_t be, const struct pat_expect *exp, int n, int must_exact);

/*
 * A snapshot of the PAT entries of a range, to compare a later state with
 * the state of a fresh open (on 7.2 vfio-pci maps every BAR at open, so an
 * open device with no handle holds a whole-BAR uncached-minus entry).
 */
struct pat_snap {
	int n;
	struct vfio_memattr__pat_entry e[16];
};
int pat_snap_take(uint64_t s, uint64_t e, struct pat_snap *sn);
/* 1 if the entries of [s, e) are exactly those of sn (else diagnostics). */
int pat_snap_same(uint64_t s, uint64_t e, const struct pat_snap *sn);

/*
 * Exactly [s, e) is reserved as type and nothing of another type overlaps
 * it (for uncached-minus, no entry at all is as good: NC reserves nothing
 * and x86 maps a range without an entry uncached-minus).  Diagnostics if
 * not; pat_absent(true) on arm64.
 */
bool pat_exact(uint64_t s, uint64_t e, const char *type);
/* No entry of type overlaps [s, e) (diagnostics if one does); pat_absent(true) on arm64. */
bool pat_none_of(uint64_t s, uint64_t e, const char *type);
/* 1 if text (a CLI's output) holds the PAT line of exactly [s, e) type; pat_absent(true) on arm64. */
bool pat_text_has(const char *text, uint64_t s, uint64_t e, const char *type);

#endif /* MEMATTR_TEST_PAT_H */
