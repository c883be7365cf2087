// SPDX-License-Identifier: LGPL-2.1-or-later
/* test_main.c - runner of the host unit tests: prints "N passed, N failed". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"

/* "clang: " for the clang build of the suite (tests/host/Makefile) */
#ifndef TEST_PREFIX
#define TEST_PREFIX ""
#endif

int t_cur_fail;
static int passed, failed;
static const char *only;
static const char *skip_why;

void t_skip(const char *why)
{
	skip_why = why;
}

void t_run(const char *name, void (*fn)(void))
{
	if (only && !strstr(name, only))
		return;
	t_cur_fail = 0;
	skip_why = NULL;
	fn();
	if (t_cur_fail) {
		printf("FAIL %s%s\n", TEST_PREFIX, name);
		failed++;
	} else if (skip_why) {
		printf("ok   %s%s # SKIP %s\n", TEST_PREFIX, name, skip_why);
		passed++;
	} else {
		printf("ok   %s%s\n", TEST_PREFIX, name);
		passed++;
	}
	fflush(stdout);
}

int main(int argc, char **argv)
{
	if (argc > 1)
		only = argv[1];	/* run the tests whose name contains argv[1] */
	run_abi_tests();
	run_parse_tests();
	run_mmio_tests();
	run_lib_tests();
	run_pat_tests();
	run_tap_tests();
	run_fake_tests();
	run_adopt_tests();
	run_dmabuf_tests();
	run_noiommu_tests();
	run_cli_tests();
	run_lab_tests();
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
