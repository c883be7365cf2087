/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test.h - a very small unit test runner for the host tests. */
#ifndef VFIO_MEMATTR_HOST_TEST_H
#define VFIO_MEMATTR_HOST_TEST_H

#include <stdio.h>
#include <string.h>

extern int t_cur_fail;

#define CHECK(c) do { \
	if (!(c)) { \
		printf("    %s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #c); \
		t_cur_fail++; \
	} } while (0)

#define CHECK_EQ(a, b) do { \
	long long __a = (long long)(a), __b = (long long)(b); \
	if (__a != __b) { \
		printf("    %s:%d: CHECK_EQ(%s, %s) failed: %lld (0x%llx) != %lld (0x%llx)\n", \
		       __FILE__, __LINE__, #a, #b, __a, (unsigned long long)__a, \
		       __b, (unsigned long long)__b); \
		t_cur_fail++; \
	} } while (0)

#define CHECK_STR(a, b) do { \
	const char *__a = (a), *__b = (b); \
	if (!__a || !__b || strcmp(__a, __b)) { \
		printf("    %s:%d: CHECK_STR(%s, %s) failed: \"%s\" != \"%s\"\n", \
		       __FILE__, __LINE__, #a, #b, __a ? __a : "(null)", __b ? __b : "(null)"); \
		t_cur_fail++; \
	} } while (0)

/* CHECK(c), and leave the test function when it fails */
#define REQUIRE(c) do { \
	if (!(c)) { \
		printf("    %s:%d: REQUIRE(%s) failed\n", __FILE__, __LINE__, #c); \
		t_cur_fail++; \
		return; \
	} } while (0)

void t_run(const char *name, void (*fn)(void));
/* the running test is a skip (unless it fails): "ok   NAME # SKIP why" */
void t_skip(const char *why);

void run_parse_tests(void);
void run_mmio_tests(void);
void run_lib_tests(void);
void run_fake_tests(void);
void run_cli_tests(void);
void run_abi_tests(void);
void run_lab_tests(void);
void run_adopt_tests(void);
void run_pat_tests(void);
void run_tap_tests(void);
void run_dmabuf_tests(void);
void run_noiommu_tests(void);

#endif
