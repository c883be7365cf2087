// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * wc-bench: store bandwidth into a BAR range mapped NC, WC and DEV.
 *
 * Maps three adjacent ranges of one BAR through libvfio-memattr, one per
 * attribute (ranges of different attributes may not overlap), copies a
 * pattern into each many times with vfio_memattr_wc_copy() (64-byte
 * blocks, ascending) followed by vfio_memattr_wc_flush(), and prints the
 * bandwidth.  The data is checked afterwards through the mapping; with
 * --tap the result is kselftest TAP plus "# HOSTCHECK" lines, so that the
 * lab verifies the device's memory on the host.
 *
 * Under QEMU/TCG the memory type does not change the speed of emulated
 * MMIO: the figures mean something only on real hardware.
 *
 * Usage: wc-bench [--tap] [--bar N] [--offset OFF] [--length LEN]
 *                 [--iters N] [BDF]      (BDF default: $MEMATTR_IVSHMEM0)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <vfio-memattr.h>
#include <vfio-memattr-mmio.h>

#include "vfio-memattr-pattern.h"

static const enum vfio_memattr attrs[] = {
	VFIO_MEMATTR_NC, VFIO_MEMATTR_WC, VFIO_MEMATTR_DEV,
};
#define NR_ATTRS (sizeof(attrs) / sizeof(attrs[0]))

static bool tap;
static unsigned int test_no;

static void result(bool ok, const char *fmt, const char *a, const char *b)
{
	if (!tap)
		return;
	printf("%sok %u - ", ok ? "" : "not ", ++test_no);
	printf(fmt, a, b);
	printf("\n");
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int parse(const char *s, uint64_t *v)
{
	char *end;

	errno = 0;
	*v = strtoull(s, &end, 0);
	return errno || end == s || *end ? -EINVAL : 0;
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "tap", no_argument, NULL, 't' },
		{ "bar", required_argument, NULL, 'b' },
		{ "offset", required_argument, NULL, 'o' },
		{ "length", required_argument, NULL, 'l' },
		{ "iters", required_argument, NULL, 'i' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t bar = 2, off = 0x300000, len = 0x10000, iters = 64, v;
	struct vfio_memattr_dev *dev = NULL;
	const char *bdf;
	uint8_t *src;
	unsigned int i;
	int ch, ret, failed = 0;
	bool lab_ivshmem0;

	while ((ch = getopt_long(argc, argv, "h", lopts, NULL)) != -1) {
		switch (ch) {
		case 't': tap = true; break;
		case 'b': if (parse(optarg, &bar) || bar > 5) goto usage; break;
		case 'o': if (parse(optarg, &off)) goto usage; break;
		case 'l':
			if (parse(optarg, &len) || !len || len % 4096)
				goto usage;
			break;
		case 'i': if (parse(optarg, &v) || !v) goto usage; iters = v; break;
		case 'h':
		default:
			goto usage;
		}
	}
	bdf = optind < argc ? argv[optind] : getenv("MEMATTR_IVSHMEM0");
	if (tap)
		printf("TAP version 13\n");
	if (!bdf) {
		if (tap) {
			printf("1..0 # SKIP no device: give a BDF or set MEMATTR_IVSHMEM0\n");
			return 0;
		}
		fprintf(stderr, "wc-bench: no device: give a BDF or set MEMATTR_IVSHMEM0\n");
		return 2;
	}
	if (tap)
		printf("1..%zu\n", 2 * NR_ATTRS);
	/* the lab's host checks know ivshmem0's BAR2 backing file only */
	lab_ivshmem0 = getenv("MEMATTR_IVSHMEM0") &&
		       !strcmp(bdf, getenv("MEMATTR_IVSHMEM0"));

	src = aligned_alloc(64, len);
	ret = src ? vfio_memattr_open(bdf, 0, &dev) : -ENOMEM;
	if (ret) {
		fprintf(tap ? stdout : stderr, "%swc-bench: open %s: %s\n",
			tap ? "# " : "", bdf, strerror(-ret));
		if (tap)
			for (i = 0; i < 2 * NR_ATTRS; i++)
				printf("not ok %u - device not opened\n", ++test_no);
		free(src);
		return 1;
	}
	printf("%s%-4s %-10s %12s %12s   (%s BAR%" PRIu64 " 0x%" PRIx64 ", %" PRIu64
	       " KiB x %" PRIu64 ")\n", tap ? "# " : "", "attr", "source", "MiB/s",
	       "ns/64 B", bdf, bar, off, len / 1024, iters);

	for (i = 0; i < NR_ATTRS; i++) {
		const char *name = vfio_memattr_attr_name(attrs[i]);
		uint64_t seed = 0x3bec000000000000ull | i, at = off + i * len, t0, dt, n;
		struct vfio_memattr_mapping *m = NULL;
		bool mapped;
		size_t good;
		void *dst;

		ret = vfio_memattr_map(dev, (unsigned int)bar, at, len, &attrs[i], 1, 0, &m);
		mapped = !ret && vfio_memattr_mapping_attr(m) == attrs[i];
		result(mapped, "%s mapping of the range, attribute %s in force", name,
		       ret ? strerror(-ret) : vfio_memattr_attr_name(vfio_memattr_mapping_attr(m)));
		if (ret) {
			result(false, "%s: %s", name, "no mapping, no data");
			failed++;
			continue;
		}
		dst = vfio_memattr_mapping_addr(m);
		pattern_fill(src, len, seed);
		/* one untimed pass: the page faults are not what is measured */
		vfio_memattr_wc_copy(dst, src, len);
		vfio_memattr_wc_flush();
		t0 = now_ns();
		for (n = 0; n < iters; n++) {
			vfio_memattr_wc_start();
			vfio_memattr_wc_copy(dst, src, len);
			vfio_memattr_wc_flush();
		}
		dt = now_ns() - t0;
		printf("%s%-4s %-10s %12.1f %12.1f\n", tap ? "# " : "", name,
		       vfio_memattr_source_name(vfio_memattr_mapping_source(m)),
		       (double)(len * iters) / (1024.0 * 1024.0) / ((double)dt / 1e9),
		       (double)dt / (double)(len * iters / 64));
		good = pattern_check_mmio64(dst, len / 8, seed);
		result(good == len / 8, "%s: data intact after the copies%s", name, "");
		if (tap && lab_ivshmem0 && bar == 2)
			printf("# HOSTCHECK ivshmem0 %" PRIu64 " %" PRIu64 " 0x%" PRIx64
			       " wc-bench %s\n", at, len, seed, name);
		failed += !mapped || good != len / 8;
		vfio_memattr_unmap(m);
	}
	vfio_memattr_close(dev);
	free(src);
	return failed ? 1 : 0;
usage:
	fprintf(stderr, "usage: wc-bench [--tap] [--bar N] [--offset OFF] [--length LEN]\n"
		"                [--iters N] [BDF]   (BDF default: $MEMATTR_IVSHMEM0)\n");
	return ch == 'h' ? 0 : 2;
}
