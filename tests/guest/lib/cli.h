/* SPDX-License-Identifier: GPL-2.0-only OR MIT */
/*
 * cli.h - the project's CLI (tools/vfio-memattr) run from a guest test,
 * its stdout and stderr kept for the checks (tests/common/capture.h).
 */
#ifndef MEMATTR_TEST_CLI_H
#define MEMATTR_TEST_CLI_H

#include <stdbool.h>

#include "tap.h"

/* stdout and stderr of the last cli_run() */
extern char cli_out[1 << 16], cli_err[1 << 14];

/* The CLI to run ("vfio-memattr", on PATH, unless set). */
void cli_set_path(const char *path);
/* Runs "CLI ARGS" (ARGS a shell fragment), printed first as "# $ CLI ARGS"; its exit status or -1. */
int cli_run(const char *fmt, ...) TAP_PRINTF(1, 2);
/* The last run's stdout and stderr as diagnostics, a line each. */
void cli_dump(void);
/* needle is in hay (else a diagnostic says what was missing). */
bool text_has(const char *hay, const char *needle);

#endif /* MEMATTR_TEST_CLI_H */
