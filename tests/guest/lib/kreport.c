// SPDX-License-Identifier: GPL-2.0-only OR MIT
/* kreport.c - kmemleak reports naming a module, see kreport.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kreport.h"
#include "sysfs.h"
#include "tap.h"

#define KMEMLEAK "/sys/kernel/debug/kmemleak"
#define KMEMLEAK_MAX (1 << 20)

/* ------------------------------------------------ kmemleak */
static char *leak_seen;		/* the report at kmemleak_begin() */

static char *kmemleak_scan_read(int scans)
{
	char *buf;
	ssize_t n;
	int i, rc;

	for (i = 0; i < scans; i++) {
		rc = sysfs_write_str(KMEMLEAK, "scan");
		if (rc) {
			errno = -rc;
			return NULL;
		}
	}
	buf = malloc(KMEMLEAK_MAX);
	if (!buf)
		return NULL;
	n = sysfs_read_file(KMEMLEAK, buf, KMEMLEAK_MAX);
	if (n < 0) {
		free(buf);
		errno = (int)-n;
		return NULL;
	}
	return buf;
}

int kmemleak_begin(void)
{
	if (access(KMEMLEAK, W_OK))
		return -ENOENT;
	free(leak_seen);
	leak_seen = kmemleak_scan_read(1);
	return leak_seen ? 0 : -errno;
}

/* "unreferenced object 0xADDR (size N):" of the report starting at @rep */
static int leak_key(const char *rep, char *key, size_t len)
{
	const char *e = strchr(rep, ':');

	if (!e || (size_t)(e - rep) >= len)
		return -1;
	memcpy(key, rep, (size_t)(e - rep));
	key[e - rep] = 0;
	return 0;
}

int kmemleak_new(const char *const *words)
{
	const char *tag = "unreferenced object ";
	char *all, *rep, *next, key[128];
	int found = 0, i;

	if (access(KMEMLEAK, W_OK))
		return -ENOENT;
	sleep(6);	/* kmemleak reports objects older than 5 s only */
	all = kmemleak_scan_read(2);
	if (!all)
		return -errno;
	for (rep = strstr(all, tag); rep; rep = next) {
		next = strstr(rep + 1, tag);
		if (next)
			next[-1] = 0;
		if (leak_key(rep, key, sizeof(key)) || (leak_seen && strstr(leak_seen, key)))
			continue;
		for (i = 0; words[i]; i++)
			if (strstr(rep, words[i]))
				break;
		if (!words[i])
			continue;
		if (found++ < 4) {
			char *line, *save = NULL;

			for (line = strtok_r(rep, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
				tap_diag("kmemleak: %s", line);
		}
	}
	free(all);
	return found;
}
