// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * test_pat.c - lib/pat-list.c, the PAT memtype list parser that the library
 * (sysfs-wc fallback) and the guest tests (tests/guest/lib/pat.c) share, on
 * lines as a 6.1 and a 7.2 x86 kernel print them.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "pat-list.h"
#include "../../lib/vfio-memattr-private.h"
#include "test.h"

/* /sys/kernel/debug/x86/pat_memtype_list of a lab guest (q35, ivshmem BAR2
 * mapped WC, the NVMe CMB mapped by vfio-pci, ACPI tables write-back). */
static const char sample[] =
	"PAT memtype list:\n"
	"PAT: [mem 0x000000003ffe0000-0x000000003ffe1000] write-back\n"
	"PAT: [mem 0x000000003ffe0000-0x0000000040000000] write-back\n"
	"PAT: [mem 0x00000000b0000000-0x00000000c0000000] uncached-minus\n"
	"PAT: [mem 0x00000000fc000000-0x00000000fd000000] write-combining\n"
	"PAT: [mem 0x00000000fe000000-0x00000000fe400000] uncached-minus\n"
	"PAT: [mem 0x00000000fe000000-0x00000000fe010000] write-combining\n"
	"PAT: [mem 0x00000000fed00000-0x00000000fed01000] uncached-minus\n"
	"PAT: [mem 0x000000fe00000000-0x000000fe00004000] uncached-minus\n";

/* Lines of the list and what the parser must make of them. */
static const struct {
	const char *line;
	int ok;
	uint64_t start, end;
	const char *type;
} lines[] = {
	{ "PAT: [mem 0x00000000fc000000-0x00000000fd000000] write-combining\n", 1,
	  0xfc000000, 0xfd000000, "write-combining" },
	{ "PAT: [mem 0x00000000fed00000-0x00000000fed01000] uncached-minus\n", 1,
	  0xfed00000, 0xfed01000, "uncached-minus" },
	{ "PAT: [mem 0x000000003ffe0000-0x0000000040000000] write-back", 1,
	  0x3ffe0000, 0x40000000, "write-back" },
	/* above 4 GiB (a 64-bit BAR) */
	{ "PAT: [mem 0x000000fe00000000-0x000000fe00004000] uncached-minus\n", 1,
	  0xfe00000000, 0xfe00004000, "uncached-minus" },
	/* the same range as the CLI prints it, inside other text */
	{ "#   PAT CMB : [mem 0x00000000fc000000-0x00000000fd000000] write-combining\n", 1,
	  0xfc000000, 0xfd000000, "write-combining" },
	/* not entries */
	{ "PAT memtype list:\n", 0, 0, 0, NULL },
	{ "", 0, 0, 0, NULL },
	{ "PAT: [mem 0x00000000fc000000-0x00000000fd000000]\n", 0, 0, 0, NULL },	/* no type */
	{ "PAT: [mem 0x00000000fc000000-0x00000000fd000000 write-combining\n", 0, 0, 0, NULL },
	{ "PAT: [mem 0x00000000fd000000-0x00000000fc000000] write-combining\n", 0, 0, 0, NULL },
	{ "PAT: [mem 0x00000000fc000000-0x00000000fd000000] write_combining!\n", 0, 0, 0, NULL },
};

static void parse_lines(void)
{
	struct vfio_memattr__pat_entry e;
	size_t i;

	for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		int ok = vfio_memattr__pat_parse_line(lines[i].line, &e);

		CHECK_EQ(ok, lines[i].ok);
		if (!ok || !lines[i].ok)
			continue;
		CHECK_EQ(e.start, lines[i].start);
		CHECK_EQ(e.end, lines[i].end);
		CHECK_STR(e.type, lines[i].type);
	}
}

static char *write_sample(char *path)
{
	int fd = mkstemp(path);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;

	if (!f)
		return NULL;
	fputs(sample, f);
	fclose(f);
	return path;
}

static void overlapping(void)
{
	char path[] = "/tmp/vfio-memattr-pat-XXXXXX";
	struct vfio_memattr__pat_entry e[4];

	REQUIRE(write_sample(path));
	/* ivshmem BAR2: the whole-BAR UC- entry and the WC handle inside it */
	CHECK_EQ(vfio_memattr__pat_overlapping(path, 0xfe000000, 0xfe400000, e, 4), 2);
	CHECK_EQ(e[0].start, 0xfe000000ull);
	CHECK_EQ(e[0].end, 0xfe400000ull);
	CHECK_STR(e[0].type, "uncached-minus");
	CHECK_EQ(e[1].end, 0xfe010000ull);
	CHECK_STR(e[1].type, "write-combining");
	/* [start, end) is half-open on both sides */
	CHECK_EQ(vfio_memattr__pat_overlapping(path, 0xfd000000, 0xfe000000, e, 4), 0);
	CHECK_EQ(vfio_memattr__pat_overlapping(path, 0xfcfff000, 0xfd000000, e, 4), 1);
	CHECK_STR(e[0].type, "write-combining");
	/* the write-back pair, and a count larger than max */
	CHECK_EQ(vfio_memattr__pat_overlapping(path, 0x3ffe0000, 0x3ffe1000, e, 1), 2);
	CHECK_STR(e[0].type, "write-back");
	CHECK_EQ(vfio_memattr__pat_overlapping(path, 0, ~0ull, NULL, 0), 8);
	/* the library's fallback check on the same list */
	CHECK_EQ(vfio_memattr__pat_check_wc(path, 0xfc000000, 0xfd000000), 1);
	CHECK_EQ(vfio_memattr__pat_check_wc(path, 0xfe000000, 0xfe010000), 0);	/* WC under UC- */
	CHECK_EQ(vfio_memattr__pat_check_wc(path, 0x3ffe0000, 0x3ffe1000), 0);	/* write-back */
	CHECK_EQ(vfio_memattr__pat_check_wc(path, 0xfd000000, 0xfe000000), -ENOENT);
	unlink(path);
	CHECK_EQ(vfio_memattr__pat_overlapping(path, 0, ~0ull, e, 4), -ENOENT);
}

void run_pat_tests(void)
{
	t_run("PAT list parser: real lines (WC, UC-, WB, > 4 GiB) and non-entries", parse_lines);
	t_run("PAT list parser: overlapping entries of a sample list, sysfs-wc check", overlapping);
}
