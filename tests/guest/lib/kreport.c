// SPDX-License-Identifier: GPL-2.0-only OR MIT
/* kreport.c - kernel reports since a mark, see kreport.h. */
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

static int kmsg_fd = -1;

/* What lab/collect's REPORT_RE fails on, plus KASAN and lockdep's words. */
static const char *const kmsg_bad[] = {
	"WARNING:", "BUG:", "Oops", "refcount_t", "conflicting memory types", "KASAN",
	"UBSAN", "possible circular", "possible recursive", "use-after-free",
	"list_del corruption", "list_add corruption", "general protection", "kernel BUG",
	"INFO: ", "KFENCE:", "Poison overwritten", NULL
};

void kmsg_mark(void)
{
	if (kmsg_fd < 0)
		kmsg_fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (kmsg_fd >= 0)
		lseek(kmsg_fd, 0, SEEK_END);
}

int kmsg_reports(void)
{
	char rec[4096];
	int n_bad = 0, i;

	if (kmsg_fd < 0)
		return -1;
	for (;;) {
		ssize_t n = read(kmsg_fd, rec, sizeof(rec) - 1);

		if (n < 0) {
			if (errno == EPIPE)
				continue;	/* overwritten records */
			break;
		}
		rec[n] = 0;
		for (i = 0; kmsg_bad[i]; i++)
			if (strstr(rec, kmsg_bad[i])) {
				char *nl = strchr(rec, '\n'), *msg = strchr(rec, ';');

				if (nl)
					*nl = 0;
				if (n_bad++ < 8)
					tap_diag("kernel log: %s", msg ? msg + 1 : rec);
				break;
			}
	}
	return n_bad;
}

bool kmsg_clean(void)
{
	int n = kmsg_reports();

	if (n < 0)
		tap_diag("/dev/kmsg: cannot read");
	return n == 0;
}

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
