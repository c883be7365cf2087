// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * pat-list.c - the x86 PAT memtype list parser, see pat-list.h
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "pat-list.h"

int vfio_memattr__pat_parse_line(const char *line, struct vfio_memattr__pat_entry *e)
{
	unsigned long long s, en;
	char close;
	int n = 0;
	const char *p = strstr(line, "[mem 0x");

	if (!p || sscanf(p, "[mem 0x%llx-0x%llx%c %n", &s, &en, &close, &n) != 3 ||
	    close != ']' || !n)
		return 0;
	p += n;
	n = 0;
	if (sscanf(p, "%31[a-z-]%n", e->type, &n) != 1 || (p[n] && p[n] != '\n' && p[n] != ' '))
		return 0;
	if (en <= s)
		return 0;
	e->start = s;
	e->end = en;
	return 1;
}

int vfio_memattr__pat_foreach(const char *path, uint64_t start, uint64_t end,
			      void (*fn)(const struct vfio_memattr__pat_entry *e, void *arg),
			      void *arg)
{
	struct vfio_memattr__pat_entry e;
	char line[256];
	int count = 0;
	FILE *f = fopen(path, "re");

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (!vfio_memattr__pat_parse_line(line, &e))
			continue;
		if (e.end <= start || e.start >= end)
			continue;
		if (fn)
			fn(&e, arg);
		count++;
	}
	fclose(f);
	return count;
}

struct collect {
	struct vfio_memattr__pat_entry *out;
	unsigned int max, n;
};

static void collect_one(const struct vfio_memattr__pat_entry *e, void *arg)
{
	struct collect *c = arg;

	if (c->n < c->max)
		c->out[c->n++] = *e;
}

int vfio_memattr__pat_overlapping(const char *path, uint64_t start, uint64_t end,
				  struct vfio_memattr__pat_entry *out, unsigned int max)
{
	struct collect c = { .out = out, .max = max };

	return vfio_memattr__pat_foreach(path, start, end, collect_one, &c);
}
