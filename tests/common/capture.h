/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* capture.h - run a shell command, keep its stdout and stderr (tests). */
#ifndef VFIO_MEMATTR_CAPTURE_H
#define VFIO_MEMATTR_CAPTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

/*
 * Run "/bin/sh -c @cmd" with stderr to a temporary file; @out and @err
 * receive what it printed (NUL-terminated, truncated to their sizes).
 * Returns its exit status, -1 if it could not run or was killed.
 */
static inline int capture_run(const char *cmd, char *out, size_t outsz, char *err, size_t errsz)
{
	char errf[] = "/tmp/vfio-memattr-capture.XXXXXX", full[4096];
	size_t n;
	FILE *p, *e;
	int st, fd = mkstemp(errf);

	out[0] = err[0] = 0;
	if (fd < 0)
		return -1;
	close(fd);
	snprintf(full, sizeof(full), "%s 2>%s", cmd, errf);
	fflush(stdout);
	p = popen(full, "r");
	if (!p) {
		unlink(errf);
		return -1;
	}
	n = fread(out, 1, outsz - 1, p);
	out[n] = 0;
	st = pclose(p);
	e = fopen(errf, "r");
	if (e) {
		n = fread(err, 1, errsz - 1, e);
		err[n] = 0;
		fclose(e);
	}
	unlink(errf);
	return st >= 0 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

#endif
