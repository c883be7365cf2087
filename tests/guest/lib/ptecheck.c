// SPDX-License-Identifier: GPL-2.0-only OR MIT
/* ptecheck.c - see ptecheck.h */
#define _GNU_SOURCE
#define _FILE_OFFSET_BITS 64
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <linux/vfio_memattr.h>

#include "ptecheck.h"
#include "sigbus.h"
#include "tap.h"

int pte_oracle_available(void)
{
	return access(PTECHECK_PATH, R_OK) == 0;
}

static int field(const char *line, const char *key, char *out, size_t len)
{
	char k[40];
	const char *p;
	size_t n = 0;

	snprintf(k, sizeof(k), " %s=", key);
	p = strstr(line, k);
	if (!p && !strncmp(line, k + 1, strlen(k + 1)))
		p = line - 1;
	if (!p)
		return -1;
	p += strlen(k);
	while (p[n] && p[n] != ' ' && p[n] != '\n' && n + 1 < len) {
		out[n] = p[n];
		n++;
	}
	out[n] = 0;
	return 0;
}

static int field_u64(const char *line, const char *key, uint64_t *v)
{
	char b[40];

	if (field(line, key, b, sizeof(b)))
		return -1;
	return sscanf(b, "%" SCNi64, (int64_t *)v) == 1 ? 0 : -1;
}

static int field_int(const char *line, const char *key, int *v)
{
	char b[40];

	if (field(line, key, b, sizeof(b)))
		return -1;
	return sscanf(b, "%i", v) == 1 ? 0 : -1;
}

int pte_query(const volatile void *addr, struct pte_info *out)
{
	uint64_t idx = 0, attr = 0;
	ssize_t n;
	int fd;

	memset(out, 0, sizeof(*out));
	fd = open(PTECHECK_PATH, O_RDONLY);
	if (fd < 0)
		return -errno;
	n = pread(fd, out->line, sizeof(out->line) - 1, (off_t)(uintptr_t)addr);
	if (n < 0) {
		int e = errno;

		close(fd);
		return -e;
	}
	close(fd);
	out->line[n] = 0;
	if (field(out->line, "level", out->level, sizeof(out->level)) ||
	    field(out->line, "mode", out->mode, sizeof(out->mode)) ||
	    field_u64(out->line, "pfn", &out->pfn) || field_u64(out->line, "prot", &out->prot) ||
	    field_u64(out->line, "vm_flags", &out->vm_flags) ||
	    field_u64(out->line, "idx", &idx) || field_u64(out->line, "attr", &attr) ||
	    field_int(out->line, "cont", &out->cont) || field_int(out->line, "io", &out->io) ||
	    field_int(out->line, "pfnmap", &out->pfnmap) ||
	    field_int(out->line, "allow_any_uncached", &out->allow_any_uncached))
		return -EPROTO;
	out->idx = (unsigned int)idx;
	out->attr = (unsigned int)attr;
	return 0;
}

const char *pte_expected_mode(int attr)
{
#if defined(__aarch64__)
	switch (attr) {
	case VFIO_MEMATTR_WC: return "Normal-NC";
	case VFIO_MEMATTR_DEV: return "Device-nGnRE";
	default: return "Device-nGnRnE";
	}
#else
	return attr == VFIO_MEMATTR_WC ? "WC" : "UC-";
#endif
}

int pte_is(const volatile void *p, const char *mode, uint64_t phys, const char *what)
{
	struct pte_info pi;
	int s = probe_access((volatile uint64_t *)p, 0, 0, NULL);
	int rc = s ? -EFAULT : pte_query(p, &pi);

	if (rc) {
		tap_diag("%s: %s", what, s ? sig_name(s) : ma_errname(-rc));
		return 0;
	}
	if (strcmp(pi.mode, mode) || pi.pfn != phys / PTECHECK_PAGE || !pi.io || !pi.pfnmap) {
		tap_diag("%s: oracle: %s", what, strtok(pi.line, "\n"));
		tap_diag("%s: want mode=%s pfn=0x%" PRIx64 " io=1 pfnmap=1", what, mode,
			 (uint64_t)(phys / PTECHECK_PAGE));
		return 0;
	}
	return 1;
}

int pte_zapped(const volatile void *p, const char *what)
{
	struct pte_info pi;
	int rc = pte_query(p, &pi);

	if (rc != -ENOENT)
		tap_diag("%s: oracle answers %s (want ENOENT: not populated)%s%s", what,
			 rc ? ma_errname(-rc) : "an entry", rc ? "" : ": ", rc ? "" : strtok(pi.line, "\n"));
	return rc == -ENOENT;
}
