// SPDX-License-Identifier: GPL-2.0-only OR MIT
/* kmsg.c - the kernel log since a mark, see kmsg.h. */
#define _GNU_SOURCE
#define _FILE_OFFSET_BITS 64
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "kmsg.h"
#include "tap.h"

static int kmsg_fd = -1;

void kmsg_mark(void)
{
	if (kmsg_fd >= 0)
		close(kmsg_fd);
	kmsg_fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (kmsg_fd >= 0)
		lseek(kmsg_fd, 0, SEEK_END);
}

int kmsg_clean(void)
{
	static const char *bad[] = { "WARNING:", "BUG:", "Oops", "refcount_t", "conflicting memory types",
				     "use-after-free", "list_del corruption", "general protection", NULL };
	char rec[4096];
	int ok = 1, i;

	if (kmsg_fd < 0) {
		tap_diag("/dev/kmsg: cannot read");
		return 0;
	}
	for (;;) {
		ssize_t n = read(kmsg_fd, rec, sizeof(rec) - 1);

		if (n < 0) {
			if (errno == EPIPE)
				continue;	/* overwritten records */
			break;
		}
		rec[n] = 0;
		for (i = 0; bad[i]; i++)
			if (strstr(rec, bad[i])) {
				char *nl = strchr(rec, '\n');

				if (nl)
					*nl = 0;
				tap_diag("kernel log: %s", rec);
				ok = 0;
				break;
			}
	}
	return ok;
}
