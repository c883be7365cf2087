// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * test_lab.c - lab/run on a machine whose cache directory does not exist
 * yet (the first command a new user types is "make demo"): a copy of
 * lab/run and lab/lib.sh with a stub lab/setup that fails at once must get
 * as far as running that stub, with the cache directory created.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test.h"

static void run_empty_cache(void)
{
	char dir[] = "/tmp/vfio-memattr-lab-XXXXXX", cmd[1024], out[4096] = "", p[256];
	struct stat st;
	size_t n = 0;
	FILE *f;
	int rc;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(cmd, sizeof(cmd), "mkdir -p %s/lab && cp %s/lab/run %s/lab/lib.sh %s/lab/ && "
		 "printf '#!/bin/sh\\necho stub-setup-ran >&2\\nexit 3\\n' > %s/lab/setup && "
		 "chmod +x %s/lab/setup", dir, TOP_DIR, TOP_DIR, dir, dir, dir);
	CHECK_EQ(system(cmd), 0);
	snprintf(cmd, sizeof(cmd), "VFIO_MEMATTR_CACHE=%s/no/such/cache bash %s/lab/run -- true 2>&1",
		 dir, dir);
	f = popen(cmd, "r");
	CHECK(f != NULL);
	if (f) {
		n = fread(out, 1, sizeof(out) - 1, f);
		out[n] = 0;
		rc = pclose(f);
		CHECK(WIFEXITED(rc) && WEXITSTATUS(rc) != 0);	/* the stub fails */
	}
	CHECK(strstr(out, "stub-setup-ran") != NULL);	/* it got that far */
	CHECK(strstr(out, "No such file or directory") == NULL);
	snprintf(p, sizeof(p), "%s/no/such/cache", dir);
	CHECK(stat(p, &st) == 0 && S_ISDIR(st.st_mode));
	if (t_cur_fail)
		printf("    lab/run said: %s\n", out);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	CHECK_EQ(system(cmd), 0);
}

void run_lab_tests(void)
{
	t_run("lab/run with a cache directory that does not exist yet", run_empty_cache);
}
