// SPDX-License-Identifier: GPL-2.0-only OR MIT
/* cli.c - the project's CLI run from a guest test, see cli.h. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "capture.h"
#include "cli.h"

char cli_out[1 << 16], cli_err[1 << 14];
static const char *cli_path = "vfio-memattr";

void cli_set_path(const char *path)
{
	cli_path = path;
}

int cli_run(const char *fmt, ...)
{
	char args[1536], cmd[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	snprintf(cmd, sizeof(cmd), "%s %s", cli_path, args);
	tap_diag("$ %s %s", cli_path, args);
	return capture_run(cmd, cli_out, sizeof(cli_out), cli_err, sizeof(cli_err));
}

static void dump_lines(const char *what, char *text)
{
	char *s, *save = NULL;

	for (s = strtok_r(text, "\n", &save); s; s = strtok_r(NULL, "\n", &save))
		tap_diag("%s: %s", what, s);
}

void cli_dump(void)
{
	dump_lines("stdout", cli_out);
	dump_lines("stderr", cli_err);
}

bool text_has(const char *hay, const char *needle)
{
	bool r = strstr(hay, needle) != NULL;

	if (!r)
		tap_diag("expected to find \"%s\"", needle);
	return r;
}
