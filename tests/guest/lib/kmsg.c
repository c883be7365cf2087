// SPDX-License-Identifier: GPL-2.0-only OR MIT
/* kmsg.c - the kernel log read by a guest test, see kmsg.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "kmsg.h"
#include "tap.h"

int kmsg_open_end(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	lseek(fd, 0, SEEK_END);
	return fd;
}

int kmsg_scan(int fd, const char *const *pats, void (*report)(const char *line, void *ctx), void *ctx)
{
	char rec[4096];
	int n = 0, i;

	if (fd < 0)
		return -EBADF;
	for (;;) {
		ssize_t len = read(fd, rec, sizeof(rec) - 1);

		if (len < 0) {
			if (errno == EPIPE)
				continue;	/* overwritten records */
			break;
		}
		rec[len] = 0;
		for (i = 0; pats[i]; i++) {
			if (strstr(rec, pats[i])) {
				char *nl = strchr(rec, '\n'), *msg = strchr(rec, ';');

				if (nl)
					*nl = 0;
				msg = msg && (!nl || msg < nl) ? msg + 1 : rec;	/* past "prio,seq,usec,flags;" */
				if (report)
					report(msg, ctx);
				else
					tap_diag("kernel log: %s", msg);
				n++;
				break;
			}
		}
	}
	return n;
}

static int kmsg_mark_fd = -1;

void kmsg_mark(void)
{
	if (kmsg_mark_fd >= 0)
		close(kmsg_mark_fd);
	kmsg_mark_fd = kmsg_open_end();
}

/* What lab/collect's REPORT_RE fails on, plus KASAN and lockdep's words. */
static const char *const kmsg_bad[] = {
	"WARNING:", "BUG:", "Oops", "refcount_t", "conflicting memory types", "KASAN",
	"UBSAN", "possible circular", "possible recursive", "use-after-free",
	"list_del corruption", "list_add corruption", "general protection", "kernel BUG",
	"INFO: ", "KFENCE:", "Poison overwritten", NULL
};

static int kmsg_shown;

static void kmsg_show(const char *line, void *ctx)
{
	(void)ctx;
	if (kmsg_shown++ < 8)
		tap_diag("kernel log: %s", line);
}

int kmsg_reports(void)
{
	kmsg_shown = 0;
	return kmsg_mark_fd < 0 ? -1 : kmsg_scan(kmsg_mark_fd, kmsg_bad, kmsg_show, NULL);
}

int kmsg_clean(void)
{
	int n = kmsg_reports();

	if (n < 0)
		tap_diag("/dev/kmsg: cannot read");
	return n == 0;
}
