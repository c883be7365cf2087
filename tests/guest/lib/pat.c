// SPDX-License-Identifier: GPL-2.0-only OR MIT
/* pat.c - the x86 PAT memtype list as the guest tests check it, see pat.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "pat.h"
#include "tap.h"

void pat_absent(bool unknown)
{
	tap_unverifiable(unknown, MA_NO_PAT);
}

/* No PAT list on this architecture: see pat.h. */
#if defined(__x86_64__) || defined(__i386__)
#define PAT_ABSENT(unknown, ret) do { } while (0)
#else
#define PAT_ABSENT(unknown, ret) do { pat_absent(unknown); return ret; } while (0)
#endif
#if defined(__x86_64__) || defined(__i386__)
#define PAT_NONE(ret) do { } while (0)
#else
/* "no entry", "unchanged": true where the kernel keeps no memtype reservations */
#define PAT_NONE(ret) return ret
#endif

int pat_available(void)
{
	PAT_ABSENT(false, 1);
	return access(PAT_LIST, R_OK) == 0;
}

int pat_overlapping(uint64_t s, uint64_t e, struct vfio_memattr__pat_entry *out, int max)
{
	int n;

	PAT_NONE(0);
	n = vfio_memattr__pat_overlapping(PAT_LIST, s, e, out, max < 0 ? 0 : (unsigned int)max);
	return n < max ? n : max;
}

int pat_entries(uint64_t s, uint64_t e, struct vfio_memattr__pat_entry *out, int max)
{
	PAT_ABSENT(true, -ENOENT);
	return vfio_memattr__pat_overlapping(PAT_LIST, s, e, out, max < 0 ? 0 : (unsigned int)max);
}

int pat_lookup(uint64_t s, uint64_t e, char *type_out)
{
	struct vfio_memattr__pat_entry ent[64];
	int n = pat_entries(s, e, ent, 64), i;

	type_out[0] = '\0';
	if (n <= 0)
		return n;
	snprintf(type_out, 32, "%s", ent[0].type);
	for (i = 1; i < n && i < 64; i++)
		if (strcmp(ent[i].type, ent[0].type))
			snprintf(type_out, 32, "mixed");
	return n;
}

bool pat_exact(uint64_t start, uint64_t end, const char *type)
{
	struct vfio_memattr__pat_entry e[64];
	int n = pat_entries(start, end, e, 64), i;
	bool exact = false, other = false;

	if (n < 0) {
		tap_diag("cannot read " PAT_LIST ": %s", strerror(-n));
		return false;
	}
	for (i = 0; i < n && i < 64; i++) {
		if (strcmp(e[i].type, type))
			other = true;
		else if (e[i].start == start && e[i].end == end)
			exact = true;
	}
	/* NC reserves nothing: uncached-minus is what x86 gives a range without an entry */
	if (!strcmp(type, "uncached-minus") && !n)
		exact = true;
	if (!exact || other) {
		tap_diag("want [0x%" PRIx64 "-0x%" PRIx64 ") %s only:", start, end, type);
		pat_dump(start, end);
	}
	return exact && !other;
}

bool pat_none_of(uint64_t start, uint64_t end, const char *type)
{
	struct vfio_memattr__pat_entry e[64];
	int n = pat_entries(start, end, e, 64), i;

	if (n < 0) {
		tap_diag("cannot read " PAT_LIST ": %s", strerror(-n));
		return false;
	}
	for (i = 0; i < n && i < 64 && strcmp(e[i].type, type); i++)
		;
	if (i < n && i < 64) {
		tap_diag("a %s entry is left over [0x%" PRIx64 "-0x%" PRIx64 "):", type, start, end);
		pat_dump(start, end);
		return false;
	}
	return true;
}

bool pat_text_has(const char *text, uint64_t s, uint64_t e, const char *type)
{
	struct vfio_memattr__pat_entry ent;
	const char *p;

	PAT_ABSENT(true, true);	/* no PAT list to print */
	for (p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		char line[256];
		size_t len = strcspn(p, "\n");

		snprintf(line, sizeof(line), "%.*s", (int)len, p);
		if (vfio_memattr__pat_parse_line(line, &ent) && ent.start == s && ent.end == e &&
		    !strcmp(ent.type, type))
			return true;
	}
	return false;
}

static struct vfio_memattr__pat_entry pat_buf[PAT_MAX];

void pat_dump(uint64_t s, uint64_t e)
{
	int i, n;

#if !defined(__x86_64__) && !defined(__i386__)
	return;	/* diagnostics only */
#endif
	n = pat_overlapping(s, e, pat_buf, PAT_MAX);

	if (n < 0) {
		tap_diag("cannot read " PAT_LIST ": %s", strerror(-n));
		return;
	}
	tap_diag("PAT entries overlapping [0x%" PRIx64 "-0x%" PRIx64 "): %d", s, e, n);
	for (i = 0; i < n; i++)
		tap_diag("  [0x%" PRIx64 "-0x%" PRIx64 "] %s", pat_buf[i].start, pat_buf[i].end,
			 pat_buf[i].type);
}

int pat_count(uint64_t s, uint64_t e)
{
	return pat_overlapping(s, e, pat_buf, PAT_MAX);
}

int pat_has_exact(uint64_t s, uint64_t e, const char *type)
{
	int i, n;

	PAT_ABSENT(false, 1);
	n = pat_overlapping(s, e, pat_buf, PAT_MAX);

	for (i = 0; i < n; i++)
		if (pat_buf[i].start == s && pat_buf[i].end == e && !strcmp(pat_buf[i].type, type))
			return 1;
	return 0;
}

/* e has x's type and lies inside x's range (exact: is x's range). */
static bool entry_in(const struct vfio_memattr__pat_entry *e, const struct pat_expect *x, bool exact)
{
	if (exact ? e->start != x->start || e->end != x->end : e->start < x->start || e->end > x->end)
		return false;
	return !strcmp(e->type, x->type);
}

int pat_check_bar(uint64_t bs, uint64_t be, const struct pat_expect *exp, int n, int must_exact)
{
	int i, j, cnt, ok = 1;

	if (!n)
		PAT_NONE(1);
	PAT_ABSENT(false, 1);
	cnt = pat_overlapping(bs, be, pat_buf, PAT_MAX);
	if (cnt < 0) {
		tap_diag("PAT list unreadable: %s", strerror(-cnt));
		return 0;
	}
	for (i = 0; i < cnt; i++) {
		for (j = 0; j < n && !entry_in(&pat_buf[i], &exp[j], false); j++)
			;
		if (j == n) {
			tap_diag("PAT entry [0x%" PRIx64 "-0x%" PRIx64 "] %s is not inside a range expected with that type",
				 pat_buf[i].start, pat_buf[i].end, pat_buf[i].type);
			ok = 0;
		}
	}
	/*
	 * With must_exact, each write-combining range has its entry.  NC and
	 * DEV handles reserve nothing: a range without an entry is
	 * uncached-minus on x86, and an entry of another type inside it was
	 * already refused above.
	 */
	for (j = 0; must_exact && j < n; j++) {
		if (!strcmp(exp[j].type, "uncached-minus"))
			continue;
		for (i = 0; i < cnt && !entry_in(&pat_buf[i], &exp[j], true); i++)
			;
		if (i == cnt) {
			tap_diag("no PAT entry of exactly [0x%" PRIx64 "-0x%" PRIx64 "] %s",
				 exp[j].start, exp[j].end, exp[j].type);
			ok = 0;
		}
	}
	if (!ok)
		pat_dump(bs, be);
	return ok;
}

int pat_snap_take(uint64_t s, uint64_t e, struct pat_snap *sn)
{
	int n;

	sn->n = 0;
#if !defined(__x86_64__) && !defined(__i386__)
	return 0;	/* a snapshot is no check: pat_snap_same() reports */
#endif
	n = pat_overlapping(s, e, sn->e, 16);

	sn->n = n < 0 ? 0 : n;
	return n < 0 ? n : 0;
}

int pat_snap_same(uint64_t s, uint64_t e, const struct pat_snap *sn)
{
	struct pat_snap now;
	int i, ok;

	PAT_NONE(1);
	pat_snap_take(s, e, &now);
	ok = now.n == sn->n;
	for (i = 0; ok && i < now.n; i++)
		ok = now.e[i].start == sn->e[i].start && now.e[i].end == sn->e[i].end &&
		     !strcmp(now.e[i].type, sn->e[i].type);
	if (!ok) {
		tap_diag("PAT entries differ from the fresh-open state (%d entries then):", sn->n);
		for (i = 0; i < sn->n; i++)
			tap_diag("  then [0x%" PRIx64 "-0x%" PRIx64 "] %s", sn->e[i].start, sn->e[i].end,
				 sn->e[i].type);
		pat_dump(s, e);
	} else if (sn->n) {
		tap_diag("PAT of [0x%" PRIx64 "-0x%" PRIx64 ") as on a fresh open: %d entr%s (first: %s)", s, e,
			 sn->n, sn->n == 1 ? "y" : "ies", sn->e[0].type);
	}
	return ok;
}
