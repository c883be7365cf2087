// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * test_tap.c - the TAP output of the guest test library
 * (tests/guest/lib/tap.c): exact text and exit status of a few sequences,
 * each run in a child with its stdout captured.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../guest/lib/tap.h"
#include "test.h"

static char text[4096];

/* Runs fn in a child whose stdout goes to text[]; returns its exit status. */
static int tap_run(void (*fn)(void))
{
	int p[2], st = -1;
	size_t n = 0;
	ssize_t r;
	pid_t pid;

	text[0] = '\0';
	if (pipe(p))
		return -1;
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		dup2(p[1], STDOUT_FILENO);
		close(p[0]);
		close(p[1]);
		fn();
		exit(tap_done());
	}
	close(p[1]);
	while (n < sizeof(text) - 1 && (r = read(p[0], text + n, sizeof(text) - 1 - n)) > 0)
		n += (size_t)r;
	text[n] = '\0';
	close(p[0]);
	if (pid < 0 || waitpid(pid, &st, 0) != pid)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void seq_results(void)
{
	tap_plan(5);
	tap_ok(1, "a %d", 1);
	tap_ok(0, "b");
	tap_unverifiable(true, "no list");	/* unknown: a skip whatever the condition */
	tap_ok(0, "c");
	tap_unverifiable(false, "no list");	/* neutral: a failure stays one */
	tap_ok(0, "d");
	tap_skip("why", "e");
}

static void results(void)
{
	CHECK_EQ(tap_run(seq_results), 1);
	CHECK_STR(text, "TAP version 13\n1..5\nok 1 - a 1\nnot ok 2 - b\nok 3 - c # SKIP no list\n"
		  "not ok 4 - d\nok 5 - e # SKIP why\n# 2 failed of 5\n");
}

static void seq_short(void)
{
	tap_plan(3);
	tap_pass("only");
}

static void seq_over(void)
{
	tap_plan(1);
	tap_pass("one");
	tap_pass("two");
}

static void plan(void)
{
	CHECK_EQ(tap_run(seq_short), 1);
	CHECK_STR(text, "TAP version 13\n1..3\nok 1 - only\n# only 1 of 3 planned tests ran\n"
		  "not ok 2 - not reached\nnot ok 3 - not reached\n# 2 failed of 3\n");
	CHECK_EQ(tap_run(seq_over), 1);
	CHECK(strstr(text, "# BUG: 2 tests ran, 1 planned\n") != NULL);
}

static void seq_errno(void)
{
	int neg = -1;

	tap_plan(4);
	tap_errno(-EINVAL, EINVAL, "x");
	tap_errno(0, ENOENT, "y");
	tap_ok(EXPECT_GE(neg, 0), "signed");
	tap_ok(EXPECT_STREQ("a", "a") && EXPECT_EQ(2u, 2), "equal");
}

static void errno_expect(void)
{
	CHECK_EQ(tap_run(seq_errno), 1);
	CHECK(strstr(text, "\nok 1 - x -> EINVAL\n# y: expected ENOENT, got success\n"
		      "not ok 2 - y -> ENOENT\n") != NULL);
	CHECK(strstr(text, "EXPECT failed: neg >= 0 (left -1 = 0xffffffffffffffff, right 0 = 0x0)\n"
		      "not ok 3 - signed\nok 4 - equal\n# 2 failed of 4\n") != NULL);
}

static void seq_skip_all_first(void)
{
	tap_diag("looking for the device");
	tap_skip_all("MEMATTR_NVME not set");
}

static void seq_skip_all_later(void)
{
	tap_plan(3);
	tap_pass("one");
	tap_skip_all("MEMATTR_EDU=0000:00:05.0: no such PCI device");
}

static void seq_skip_all_failed(void)
{
	tap_plan(2);
	tap_fail("one");
	tap_skip_all("gone");
}

static void skip_all(void)
{
	CHECK_EQ(tap_run(seq_skip_all_first), 0);
	CHECK_STR(text, "TAP version 13\n# looking for the device\n1..0 # SKIP MEMATTR_NVME not set\n"
		  "# 0 failed of 0\n");
	CHECK_EQ(tap_run(seq_skip_all_later), 0);
	CHECK_STR(text, "TAP version 13\n1..3\nok 1 - one\n"
		  "ok 2 - skipped # SKIP MEMATTR_EDU=0000:00:05.0: no such PCI device\n"
		  "ok 3 - skipped # SKIP MEMATTR_EDU=0000:00:05.0: no such PCI device\n# 0 failed of 3\n");
	CHECK_EQ(tap_run(seq_skip_all_failed), 1);
	CHECK(strstr(text, "not ok 1 - one\nok 2 - skipped # SKIP gone\n# 1 failed of 2\n") != NULL);
}

void run_tap_tests(void)
{
	t_run("guest tap: results, SKIP, unverifiable (PAT absent), exit status", results);
	t_run("guest tap: a short plan is padded with failures, an overrun fails", plan);
	t_run("guest tap: tap_errno and EXPECT_* diagnostics", errno_expect);
	t_run("guest tap: tap_skip_all before the plan (a skip-all plan, 1..0) and after it", skip_all);
}
