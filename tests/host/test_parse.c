// SPDX-License-Identifier: LGPL-2.1-or-later
/* test_parse.c - sizes, SPECs, attribute names, PCI addresses. */
#include <errno.h>
#include <stdint.h>

#include "vfio-memattr.h"
#include "../../tools/spec.h"
#include "test.h"

static void size_good(void)
{
	static const struct { const char *s; uint64_t v; } t[] = {
		{ "0", 0 }, { "4096", 4096 }, { "0x1000", 0x1000 }, { "0X1F", 0x1f },
		{ "0xabcDEF", 0xabcdef }, { "64K", 65536 }, { "64k", 65536 },
		{ "1M", 1ull << 20 }, { "3m", 3ull << 20 }, { "2G", 2ull << 30 },
		{ "0x10K", 16ull << 10 }, { "007", 7 },
		{ "18446744073709551615", UINT64_MAX },
		{ "0xffffffffffffffff", UINT64_MAX },
		{ "17179869183G", 17179869183ull << 30 },
		{ "0x3fffffffffffffK", 0x3fffffffffffffull << 10 },
	};
	unsigned int i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		uint64_t v = 12345;

		CHECK_EQ(vm_parse_size(t[i].s, &v), 0);
		CHECK_EQ(v, t[i].v);
		if (v != t[i].v)
			printf("    input \"%s\"\n", t[i].s);
	}
}

static void size_bad(void)
{
	static const char *const inval[] = {
		"", "x", "0x", "K", "12Q", "1KK", "1KB", "-1", "+1", " 1", "1 ", "1.5M",
		"0x1g0", "1e3", "0b101", "1T", "0xK",
	};
	static const char *const range[] = {
		"18446744073709551616", "0x10000000000000000", "99999999999999999999",
		"17179869184G", "0x40000000000000K",
	};
	unsigned int i;
	uint64_t v;

	for (i = 0; i < sizeof(inval) / sizeof(inval[0]); i++) {
		int r = vm_parse_size(inval[i], &v);

		CHECK_EQ(r, -EINVAL);
		if (r != -EINVAL)
			printf("    input \"%s\"\n", inval[i]);
	}
	for (i = 0; i < sizeof(range) / sizeof(range[0]); i++) {
		int r = vm_parse_size(range[i], &v);

		CHECK_EQ(r, -ERANGE);
		if (r != -ERANGE)
			printf("    input \"%s\"\n", range[i]);
	}
	CHECK_EQ(vm_parse_size(NULL, &v), -EINVAL);
}

static void spec_good(void)
{
	struct vm_spec s;
	char e[256];

	CHECK_EQ(vm_parse_spec("2:0:64K:WC", &s, e, sizeof(e)), 0);
	CHECK_EQ(s.bar, 2);
	CHECK_EQ(s.offset, 0);
	CHECK_EQ(s.length, 65536);
	CHECK_EQ(s.nr_prefs, 1);
	CHECK_EQ(s.prefs[0], VFIO_MEMATTR_WC);

	CHECK_EQ(vm_parse_spec("0x2:0x10000:0x10000:wc,nc", &s, e, sizeof(e)), 0);
	CHECK_EQ(s.bar, 2);
	CHECK_EQ(s.offset, 0x10000);
	CHECK_EQ(s.length, 0x10000);
	CHECK_EQ(s.nr_prefs, 2);
	CHECK_EQ(s.prefs[0], VFIO_MEMATTR_WC);
	CHECK_EQ(s.prefs[1], VFIO_MEMATTR_NC);

	CHECK_EQ(vm_parse_spec("5:1M:4096:Dev,WC,Nc", &s, e, sizeof(e)), 0);
	CHECK_EQ(s.bar, 5);
	CHECK_EQ(s.offset, 1 << 20);
	CHECK_EQ(s.length, 4096);
	CHECK_EQ(s.nr_prefs, 3);
	CHECK_EQ(s.prefs[0], VFIO_MEMATTR_DEV);
	CHECK_EQ(s.prefs[1], VFIO_MEMATTR_WC);
	CHECK_EQ(s.prefs[2], VFIO_MEMATTR_NC);

	CHECK_EQ(vm_parse_spec("0:0:1G:NC", &s, NULL, 0), 0);
	CHECK_EQ(s.length, 1ull << 30);
}

static void spec_bad(void)
{
	static const struct { const char *s; int err; const char *word; } t[] = {
		{ "6:0:4K:NC", -EINVAL, "BAR" },
		{ "-1:0:4K:NC", -EINVAL, "BAR" },
		{ "1K:0:4K:NC", -EINVAL, "BAR" },
		{ "x:0:4K:NC", -EINVAL, "BAR" },
		{ "2:0:0:NC", -EINVAL, "LENGTH is 0" },
		{ "2:0:4K:", -EINVAL, "empty field" },
		{ "2::4K:NC", -EINVAL, "empty field" },
		{ "2:0:4K", -EINVAL, "want BAR" },
		{ "2:0:4K:NC:1", -EINVAL, "want BAR" },
		{ "", -EINVAL, "want BAR" },
		{ "2:0:4K:WC,,NC", -EINVAL, "empty attribute" },
		{ "2:0:4K:WC,", -EINVAL, "empty attribute" },
		{ "2:0:4K:,WC", -EINVAL, "empty attribute" },
		{ "2:0:4K:WC,WC", -EINVAL, "twice" },
		{ "2:0:4K:UC", -EINVAL, "unknown attribute" },
		{ "2:0:4K:WB", -EINVAL, "unknown attribute" },
		{ "2:zz:4K:NC", -EINVAL, "OFFSET" },
		{ "2:0:4Q:NC", -EINVAL, "LENGTH" },
		{ "2:18446744073709551616:4K:NC", -ERANGE, "overflows" },
		{ "2:0:0x10000000000000000:NC", -ERANGE, "overflows" },
		{ "2:0xfffffffffffff000:0x2000:NC", -ERANGE, "OFFSET + LENGTH" },
	};
	unsigned int i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct vm_spec s;
		char e[256] = "";
		int r = vm_parse_spec(t[i].s, &s, e, sizeof(e));

		CHECK_EQ(r, t[i].err);
		CHECK(strstr(e, t[i].word) != NULL);
		if (r != t[i].err || !strstr(e, t[i].word))
			printf("    input \"%s\" -> %d \"%s\"\n", t[i].s, r, e);
	}
}

static void dmabuf_spec(void)
{
	static const struct { const char *s; int err; const char *word; } bad[] = {
		{ "", -EINVAL, "want BAR" },
		{ "2", -EINVAL, "want BAR" },
		{ "2:", -EINVAL, "want BAR" },
		{ ":0:4K", -EINVAL, "want BAR" },
		{ "6:0:4K", -EINVAL, "BAR" },
		{ "1K:0:4K", -EINVAL, "BAR" },
		{ "2:0", -EINVAL, "not OFFSET:LENGTH" },
		{ "2:0:", -EINVAL, "not OFFSET:LENGTH" },
		{ "2::4K", -EINVAL, "not OFFSET:LENGTH" },
		{ "2:0:4K:WC", -EINVAL, "not OFFSET:LENGTH" },
		{ "2:0:4K,", -EINVAL, "empty range" },
		{ "2:0:4K,,8K:4K", -EINVAL, "empty range" },
		{ "2:,0:4K", -EINVAL, "empty range" },
		{ "2:0:0", -EINVAL, "LENGTH is 0" },
		{ "2:zz:4K", -EINVAL, "OFFSET" },
		{ "2:0:4Q", -EINVAL, "LENGTH" },
		{ "2:0:0x10000000000000000", -ERANGE, "overflows" },
		{ "2:0xfffffffffffff000:0x2000", -ERANGE, "overflows" },
		{ "2:0:0x8000000000000000,0:0x8000000000000000", -ERANGE, "total overflows" },
	};
	struct vm_dmabuf_spec d;
	enum vfio_memattr p[VFIO_MEMATTR_MAX_PREFS];
	char e[512] = "", many[4096];
	unsigned int i, n;
	size_t len;

	CHECK_EQ(vm_parse_dmabuf("2:0x3d0000:64K", &d, e, sizeof(e)), 0);
	CHECK_EQ(d.bar, 2);
	CHECK_EQ(d.nr_ranges, 1);
	CHECK_EQ(d.ranges[0].offset, 0x3d0000);
	CHECK_EQ(d.ranges[0].length, 0x10000);
	CHECK_EQ(d.size, 0x10000);
	CHECK_EQ(vm_parse_dmabuf("0x4:1M:4K,0:8k,0x2000:0x1000", &d, NULL, 0), 0);
	CHECK_EQ(d.bar, 4);
	CHECK_EQ(d.nr_ranges, 3);
	CHECK_EQ(d.ranges[0].offset, 1 << 20);
	CHECK_EQ(d.ranges[1].length, 8192);
	CHECK_EQ(d.ranges[2].offset, 0x2000);
	CHECK_EQ(d.size, 4096 + 8192 + 4096);
	/* 64 ranges, not 65 */
	len = (size_t)snprintf(many, sizeof(many), "2:0:4K");
	for (i = 1; i < VFIO_MEMATTR_DMABUF_MAX_RANGES; i++)
		len += (size_t)snprintf(many + len, sizeof(many) - len, ",%u:4K", i * 4096);
	CHECK_EQ(vm_parse_dmabuf(many, &d, e, sizeof(e)), 0);
	CHECK_EQ(d.nr_ranges, 64);
	CHECK_EQ(d.ranges[63].offset, 63 * 4096);
	snprintf(many + len, sizeof(many) - len, ",0:4K");
	CHECK_EQ(vm_parse_dmabuf(many, &d, e, sizeof(e)), -EINVAL);
	CHECK(strstr(e, "more than 64 ranges") != NULL);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r;

		e[0] = 0;
		r = vm_parse_dmabuf(bad[i].s, &d, e, sizeof(e));
		CHECK_EQ(r, bad[i].err);
		CHECK(strstr(e, bad[i].word) != NULL);
		if (r != bad[i].err || !strstr(e, bad[i].word))
			printf("    input \"%s\" -> %d \"%s\"\n", bad[i].s, r, e);
	}
	/* --attr lists */
	CHECK_EQ(vm_parse_attrs("wc,NC", p, &n, e, sizeof(e)), 0);
	CHECK_EQ(n, 2);
	CHECK_EQ(p[0], VFIO_MEMATTR_WC);
	CHECK_EQ(p[1], VFIO_MEMATTR_NC);
	CHECK_EQ(vm_parse_attrs("", p, &n, e, sizeof(e)), -EINVAL);
	CHECK_EQ(vm_parse_attrs("WC,WC", p, &n, e, sizeof(e)), -EINVAL);
	CHECK(strstr(e, "twice") != NULL);
	CHECK_EQ(vm_parse_attrs("WC,UC", p, &n, e, sizeof(e)), -EINVAL);
	CHECK(strstr(e, "unknown attribute \"UC\"") != NULL);
	CHECK_EQ(vm_parse_attrs(",WC", p, &n, e, sizeof(e)), -EINVAL);
}

static void attr_names(void)
{
	enum vfio_memattr a = VFIO_MEMATTR_NUM_ATTRS;

	CHECK_STR(vfio_memattr_attr_name(VFIO_MEMATTR_NC), "NC");
	CHECK_STR(vfio_memattr_attr_name(VFIO_MEMATTR_WC), "WC");
	CHECK_STR(vfio_memattr_attr_name(VFIO_MEMATTR_DEV), "DEV");
	CHECK_STR(vfio_memattr_attr_name(VFIO_MEMATTR_NUM_ATTRS), "?");
	CHECK_STR(vfio_memattr_attr_name((enum vfio_memattr)-1), "?");
	CHECK_EQ(vfio_memattr_attr_parse("wc", &a), 0);
	CHECK_EQ(a, VFIO_MEMATTR_WC);
	CHECK_EQ(vfio_memattr_attr_parse("Nc", &a), 0);
	CHECK_EQ(a, VFIO_MEMATTR_NC);
	CHECK_EQ(vfio_memattr_attr_parse("dEV", &a), 0);
	CHECK_EQ(a, VFIO_MEMATTR_DEV);
	a = VFIO_MEMATTR_DEV;
	CHECK_EQ(vfio_memattr_attr_parse("", &a), -EINVAL);
	CHECK_EQ(vfio_memattr_attr_parse("W", &a), -EINVAL);
	CHECK_EQ(vfio_memattr_attr_parse("WCX", &a), -EINVAL);
	CHECK_EQ(vfio_memattr_attr_parse("UC", &a), -EINVAL);
	CHECK_EQ(vfio_memattr_attr_parse(NULL, &a), -EINVAL);
	CHECK_EQ(vfio_memattr_attr_parse("WC", NULL), -EINVAL);
	CHECK_EQ(a, VFIO_MEMATTR_DEV);	/* untouched on error */
	CHECK_STR(vfio_memattr_source_name(VFIO_MEMATTR_SRC_MEMATTR), "memattr");
	CHECK_STR(vfio_memattr_source_name(VFIO_MEMATTR_SRC_VFIO_MMAP), "vfio-mmap");
	CHECK_STR(vfio_memattr_source_name(VFIO_MEMATTR_SRC_SYSFS_WC), "sysfs-wc");
	CHECK_STR(vfio_memattr_source_name((enum vfio_memattr_source)0), "?");
	CHECK_STR(vfio_memattr_reason_name(VFIO_MEMATTR_NOT_PREFETCH),
		  "non-prefetchable BAR without opt-in");
	CHECK_STR(vfio_memattr_reason_name(VFIO_MEMATTR_OK), "ok");
}

static void bdf_parse(void)
{
	char out[32];

	CHECK_EQ(vfio_memattr_parse_bdf("00:02.0", out, sizeof(out)), 0);
	CHECK_STR(out, "0000:00:02.0");
	CHECK_EQ(vfio_memattr_parse_bdf("0000:00:1F.7", out, sizeof(out)), 0);
	CHECK_STR(out, "0000:00:1f.7");
	CHECK_EQ(vfio_memattr_parse_bdf("abcd:ef:1f.3", out, sizeof(out)), 0);
	CHECK_STR(out, "abcd:ef:1f.3");
	CHECK_EQ(vfio_memattr_parse_bdf("00:20.0", out, sizeof(out)), -EINVAL);
	CHECK_EQ(vfio_memattr_parse_bdf("00:02.8", out, sizeof(out)), -EINVAL);
	CHECK_EQ(vfio_memattr_parse_bdf("100:02.0", out, sizeof(out)), -EINVAL);
	CHECK_EQ(vfio_memattr_parse_bdf("10000:00:02.0", out, sizeof(out)), -EINVAL);
	CHECK_EQ(vfio_memattr_parse_bdf("0000:00:02.0x", out, sizeof(out)), -EINVAL);
	CHECK_EQ(vfio_memattr_parse_bdf("zz", out, sizeof(out)), -EINVAL);
	CHECK_EQ(vfio_memattr_parse_bdf("", out, sizeof(out)), -EINVAL);
	CHECK_EQ(vfio_memattr_parse_bdf("0000:00:02.0", out, 12), -EINVAL);
	/* strict: fixed widths, hex digits only (no 0x, no sign, no space) */
	CHECK_EQ(vfio_memattr_parse_bdf("0x0:0x2.0", out, sizeof(out)), -EINVAL);
	CHECK_EQ(vfio_memattr_parse_bdf("0:2.0", out, sizeof(out)), -EINVAL);
	CHECK_EQ(vfio_memattr_parse_bdf("0:00:02.0", out, sizeof(out)), -EINVAL);
	CHECK_EQ(vfio_memattr_parse_bdf("00:2.0", out, sizeof(out)), -EINVAL);
	CHECK_EQ(vfio_memattr_parse_bdf("00:02.00", out, sizeof(out)), -EINVAL);
	CHECK_EQ(vfio_memattr_parse_bdf(" 0:02.0", out, sizeof(out)), -EINVAL);
	CHECK_EQ(vfio_memattr_parse_bdf("+0:02.0", out, sizeof(out)), -EINVAL);
	CHECK_EQ(vfio_memattr_parse_bdf("0000-00:02.0", out, sizeof(out)), -EINVAL);
	CHECK_EQ(vfio_memattr_parse_bdf("00:02:0", out, sizeof(out)), -EINVAL);
	CHECK_EQ(vfio_memattr_parse_bdf("0g:02.0", out, sizeof(out)), -EINVAL);
}

void run_parse_tests(void)
{
	t_run("size: good inputs", size_good);
	t_run("size: bad inputs and overflow", size_bad);
	t_run("spec: good inputs", spec_good);
	t_run("spec: bad inputs", spec_bad);
	t_run("dmabuf spec and --attr list: good, bad, 64 ranges", dmabuf_spec);
	t_run("attr and source names", attr_names);
	t_run("bdf parsing", bdf_parse);
}
