// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * test_dmabuf.c - vfio_memattr_dmabuf_*() against the fake VFIO device
 * (fake.h): argument packing and argsz, checks made before any call, errno
 * mapping, the read-back of a new DMABUF, try-in-order, revoke, and ENOTTY
 * from drivers without the features.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/vfio.h>

#include "vfio-memattr.h"
#include "test.h"
#include "fake.h"

#define HDR	sizeof(struct vfio_device_feature)

static const struct vfio_memattr_dma_range R2[] = {
	{ .offset = 0x10000, .length = 0x4000 },
	{ .offset = 0x40000, .length = 0x2000 },
};

static bool fd_open(int fd)
{
	return fd >= 0 && fcntl(fd, F_GETFD) >= 0;
}

/* stock vfio-pci and a memattr driver without the DMABUF features: ENOTTY */
static void no_feature(void)
{
	struct vfio_memattr_dmabuf_info in;
	enum vfio_memattr at = VFIO_MEMATTR_DEV;
	struct vfio_memattr_dev *dev;
	int uapi;

	for (uapi = 0; uapi < 2; uapi++) {
		dev = fake_open(uapi);
		REQUIRE(dev != NULL);
		fk.no_dmabuf = 1;
		CHECK_EQ(vfio_memattr_dmabuf_export(dev, 2, R2, 2, O_RDWR | O_CLOEXEC), -ENOTTY);
		CHECK_EQ(vfio_memattr_dmabuf_set_attr(dev, 0, P_WC, 1, &at), -ENOTTY);
		CHECK_EQ(at, VFIO_MEMATTR_DEV);		/* untouched */
		CHECK_EQ(vfio_memattr_dmabuf_info(dev, 0, &in), -ENOTTY);
		CHECK_EQ(vfio_memattr_dmabuf_revoke(dev, 0), -ENOTTY);
		CHECK_EQ(fk.export_calls + fk.attr_calls + fk.revoke_calls, 0);
		CHECK_EQ(fk.nbufs, 0);
		/* the handles of the same driver still work */
		CHECK_EQ(vfio_memattr_kernel_support(dev), uapi);
		fake_close(dev);
	}
}

static void export_packing(void)
{
	struct vfio_memattr_dev *dev = fake_open(1);
	struct vfio_memattr_dmabuf_info in;
	uint64_t words[4];
	void *p;
	int fd, fd2;

	REQUIRE(dev != NULL);
	fd = vfio_memattr_dmabuf_export(dev, 2, R2, 2, O_RDWR | O_CLOEXEC);
	REQUIRE(fd >= 0);
	CHECK_EQ(fk.export_calls, 1);
	CHECK_EQ(fk.export_argsz, HDR + 16 + 2 * 16);
	CHECK_EQ(fk.bufs[0].fd, fd);
	/* export, then one GET of the new fd: the read-back */
	CHECK_EQ(fk.attr_calls, 1);
	CHECK_EQ(fk.last_attr.dmabuf_fd, fd);
	CHECK_EQ(fk.last_attr.nr_prefs, 0);
	CHECK_EQ(fk.last_flags, VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_MEMATTR_DMABUF_ATTR);
	CHECK_EQ(fk.last_argsz, HDR + sizeof(struct vfio_device_feature_memattr_dmabuf_attr));
	CHECK_EQ(fk.last_db.region_index, 2);
	CHECK_EQ(fk.last_db.open_flags, O_RDWR | O_CLOEXEC);
	CHECK_EQ(fk.last_db.flags, 0);
	CHECK_EQ(fk.last_db.nr_ranges, 2);
	CHECK_EQ(fk.last_ranges[0].offset, 0x10000);
	CHECK_EQ(fk.last_ranges[0].length, 0x4000);
	CHECK_EQ(fk.last_ranges[1].offset, 0x40000);
	CHECK_EQ(fk.last_ranges[1].length, 0x2000);
	CHECK(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	CHECK_EQ(vfio_memattr_dmabuf_info(dev, fd, &in), 0);
	CHECK_EQ(in.size, 0x6000);
	CHECK_EQ(in.attr, VFIO_MEMATTR_NC);
	CHECK_EQ(in.state, 0);
	CHECK_EQ(in.reserved[0] | in.reserved[1] | in.reserved[2] | in.reserved[3], 0);
	/* the fd is the caller's: it maps (the fake's memfd) and outlives close */
	p = mmap(NULL, 0x6000, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK(p != MAP_FAILED);
	if (p != MAP_FAILED) {
		*(volatile uint64_t *)((char *)p + 0x5ff8) = 0x1234;
		CHECK_EQ(pread(fd, words, 8, 0x5ff8), 8);
		CHECK_EQ(words[0], 0x1234);
		munmap(p, 0x6000);
	}
	/* one range, read-only, no O_CLOEXEC: argsz shrinks with the list */
	fd2 = vfio_memattr_dmabuf_export(dev, 2, R2 + 1, 1, O_RDONLY);
	CHECK(fd2 >= 0 && fd2 != fd);
	CHECK_EQ(fk.last_db.open_flags, O_RDONLY);
	CHECK_EQ(fk.last_db.nr_ranges, 1);
	CHECK_EQ(fk.last_ranges[0].offset, 0x40000);
	CHECK(fd2 >= 0 && !(fcntl(fd2, F_GETFD) & FD_CLOEXEC));
	fake_close(dev);
	CHECK(fd_open(fd));		/* closing the device closes no DMABUF */
	close(fd);
	if (fd2 >= 0)
		close(fd2);
}

/* argsz of the export: header + struct + nr_ranges ranges, exactly */
static void export_argsz(void)
{
	struct vfio_memattr_dma_range r[VFIO_MEMATTR_DMABUF_MAX_RANGES];
	struct vfio_memattr_dev *dev = fake_open(1);
	unsigned int i;
	int fd;

	REQUIRE(dev != NULL);
	for (i = 0; i < VFIO_MEMATTR_DMABUF_MAX_RANGES; i++) {
		r[i].offset = (uint64_t)i * 0x4000;
		r[i].length = 0x1000;
	}
	fd = vfio_memattr_dmabuf_export(dev, 2, r, VFIO_MEMATTR_DMABUF_MAX_RANGES, O_RDWR);
	CHECK(fd >= 0);
	CHECK_EQ(fk.export_argsz, HDR + sizeof(struct vfio_device_feature_memattr_dmabuf) + 64 * 16);
	CHECK_EQ(fk.last_db.nr_ranges, 64);
	CHECK_EQ(fk.last_ranges[63].offset, 63 * 0x4000);
	CHECK_EQ(fk.nbufs, 1);
	CHECK_EQ(fk.bufs[0].size, 64 * 0x1000);
	if (fd >= 0)
		close(fd);
	fd = vfio_memattr_dmabuf_export(dev, 2, r, 3, O_RDWR);
	CHECK(fd >= 0);
	CHECK_EQ(fk.export_calls, 2);
	CHECK_EQ(fk.export_argsz, 8 + 16 + 3 * 16);	/* the fake refuses a shorter one */
	CHECK_EQ(fk.last_flags, VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_MEMATTR_DMABUF_ATTR);
	if (fd >= 0)
		close(fd);
	fake_close(dev);
}

/* bad arguments are refused before any call: nothing reaches the kernel */
static void arg_checks(void)
{
	struct vfio_memattr_dev *dev = fake_open(1);
	struct vfio_memattr_dma_range r[VFIO_MEMATTR_DMABUF_MAX_RANGES + 1];
	struct vfio_memattr_dma_range bad[][1] = {
		{ { .offset = 0x800, .length = 0x1000 } },
		{ { .offset = 0, .length = 0x1800 } },
		{ { .offset = 0, .length = 0 } },
		{ { .offset = 0xfffffffffffff000ull, .length = 0x2000 } },
	};
	const enum vfio_memattr nine[9] = { 0 }, three[] = { (enum vfio_memattr)3 };
	struct vfio_memattr_dmabuf_info in;
	struct vfio_memattr_dma_range big[2] = {
		{ .offset = 0, .length = 0x8000000000000000ull },
		{ .offset = 0, .length = 0x8000000000000000ull },
	};
	unsigned int i;
	int fd;

	REQUIRE(dev != NULL);
	memset(r, 0, sizeof(r));
	for (i = 0; i <= VFIO_MEMATTR_DMABUF_MAX_RANGES; i++)
		r[i].length = 4096;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK_EQ(vfio_memattr_dmabuf_export(dev, 2, bad[i], 1, O_RDWR), -EINVAL);
	CHECK_EQ(vfio_memattr_dmabuf_export(dev, 2, big, 2, O_RDWR), -EINVAL);	/* sum overflows */
	CHECK_EQ(vfio_memattr_dmabuf_export(dev, 2, r, 0, O_RDWR), -EINVAL);
	CHECK_EQ(vfio_memattr_dmabuf_export(dev, 2, r, VFIO_MEMATTR_DMABUF_MAX_RANGES + 1, O_RDWR),
		 -EINVAL);
	CHECK_EQ(vfio_memattr_dmabuf_export(dev, 6, r, 1, O_RDWR), -EINVAL);
	CHECK_EQ(vfio_memattr_dmabuf_export(dev, 2, NULL, 1, O_RDWR), -EINVAL);
	CHECK_EQ(vfio_memattr_dmabuf_export(NULL, 2, r, 1, O_RDWR), -EINVAL);
	CHECK_EQ(vfio_memattr_dmabuf_export(dev, 2, r, 1, O_WRONLY), -EINVAL);
	CHECK_EQ(vfio_memattr_dmabuf_export(dev, 2, r, 1, O_RDWR | O_NONBLOCK), -EINVAL);
	CHECK_EQ(fk.export_calls, 0);
	fd = vfio_memattr_dmabuf_export(dev, 2, r, 1, O_RDWR);
	REQUIRE(fd >= 0);
	fk.attr_calls = fk.revoke_calls = 0;
	CHECK_EQ(vfio_memattr_dmabuf_set_attr(dev, fd, P_WC, 0, NULL), -EINVAL);
	CHECK_EQ(vfio_memattr_dmabuf_set_attr(dev, fd, nine, 9, NULL), -EINVAL);
	CHECK_EQ(vfio_memattr_dmabuf_set_attr(dev, fd, three, 1, NULL), -EINVAL);
	CHECK_EQ(vfio_memattr_dmabuf_set_attr(dev, fd, NULL, 1, NULL), -EINVAL);
	CHECK_EQ(vfio_memattr_dmabuf_set_attr(dev, -1, P_WC, 1, NULL), -EINVAL);
	CHECK_EQ(vfio_memattr_dmabuf_set_attr(NULL, fd, P_WC, 1, NULL), -EINVAL);
	CHECK_EQ(vfio_memattr_dmabuf_info(dev, fd, NULL), -EINVAL);
	CHECK_EQ(vfio_memattr_dmabuf_info(dev, -1, &in), -EINVAL);
	CHECK_EQ(vfio_memattr_dmabuf_revoke(dev, -1), -EINVAL);
	CHECK_EQ(vfio_memattr_dmabuf_revoke(NULL, fd), -EINVAL);
	CHECK_EQ(fk.attr_calls + fk.revoke_calls, 0);
	/* the kernel's EINVAL for an fd that is not one of its DMABUFs */
	CHECK_EQ(vfio_memattr_dmabuf_info(dev, fk.fd, &in), -EINVAL);
	CHECK_EQ(fk.attr_calls, 1);
	close(fd);
	fake_close(dev);
}

/* kernel errors come back as they are, and a failed export leaves no fd */
static void errno_mapping(void)
{
	static const int errs[] = { EBUSY, ENOSPC, ENOMEM, EMFILE, EOPNOTSUPP };
	struct vfio_memattr_dev *dev = fake_open(1);
	const enum vfio_memattr wc_nc[] = { VFIO_MEMATTR_WC, VFIO_MEMATTR_NC };
	enum vfio_memattr at = VFIO_MEMATTR_DEV;
	struct vfio_memattr_dmabuf_info in;
	unsigned int i;
	int fd, probe;

	REQUIRE(dev != NULL);
	for (i = 0; i < sizeof(errs) / sizeof(errs[0]); i++) {
		fk.dmabuf_errno = errs[i];
		probe = dup(0);		/* the lowest free fd number */
		close(probe);
		CHECK_EQ(vfio_memattr_dmabuf_export(dev, 2, R2, 2, O_RDWR), -errs[i]);
		fd = dup(0);
		CHECK_EQ(fd, probe);	/* no fd left behind */
		close(fd);
	}
	fk.dmabuf_errno = 0;
	CHECK_EQ(vfio_memattr_dmabuf_export(dev, 0, R2, 1, O_RDWR), -EOPNOTSUPP);	/* the fake's BAR0 */
	fd = vfio_memattr_dmabuf_export(dev, 2, R2, 2, O_RDWR);
	REQUIRE(fd >= 0);
	fk.set_errno = EPERM;
	CHECK_EQ(vfio_memattr_dmabuf_set_attr(dev, fd, wc_nc, 2, &at), -EPERM);
	fk.set_errno = EBUSY;
	CHECK_EQ(vfio_memattr_dmabuf_set_attr(dev, fd, wc_nc, 2, &at), -EBUSY);
	CHECK_EQ(at, VFIO_MEMATTR_DEV);
	CHECK_EQ(fk.bufs[0].attr, VFIO_MEMATTR_NC);
	fk.set_errno = 0;
	fk.set_mask = 1u << VFIO_MEMATTR_DEV;
	CHECK_EQ(vfio_memattr_dmabuf_set_attr(dev, fd, wc_nc, 2, &at), -EOPNOTSUPP);
	fk.set_mask = 0;
	fk.foreign_fd = fd;	/* now a DMABUF "of another device" */
	CHECK_EQ(vfio_memattr_dmabuf_set_attr(dev, fd, wc_nc, 2, &at), -ENODEV);
	CHECK_EQ(vfio_memattr_dmabuf_info(dev, fd, &in), -ENODEV);
	CHECK_EQ(vfio_memattr_dmabuf_revoke(dev, fd), -ENODEV);
	CHECK_EQ(fk.bufs[0].state, 0);
	fk.foreign_fd = 0;
	close(fd);
	fake_close(dev);
}

/* one SET with the whole list, in order; the answer must be one asked for */
static void set_attr_in_order(void)
{
	struct vfio_memattr_dev *dev = fake_open(1);
	const enum vfio_memattr wc_dev_nc[] = { VFIO_MEMATTR_WC, VFIO_MEMATTR_DEV, VFIO_MEMATTR_NC };
	enum vfio_memattr at = (enum vfio_memattr)7;
	struct vfio_memattr_dmabuf_info in;
	unsigned int i;
	int fd;

	REQUIRE(dev != NULL);
	fd = vfio_memattr_dmabuf_export(dev, 2, R2, 2, O_RDWR);
	REQUIRE(fd >= 0);
	fk.attr_calls = 0;
	fk.set_mask = (1u << VFIO_MEMATTR_NC) | (1u << VFIO_MEMATTR_DEV);	/* no WC */
	CHECK_EQ(vfio_memattr_dmabuf_set_attr(dev, fd, wc_dev_nc, 3, &at), 0);
	CHECK_EQ(at, VFIO_MEMATTR_DEV);
	CHECK_EQ(fk.attr_calls, 1);
	CHECK_EQ(fk.last_flags, VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_MEMATTR_DMABUF_ATTR);
	CHECK_EQ(fk.last_argsz, HDR + sizeof(struct vfio_device_feature_memattr_dmabuf_attr));
	CHECK_EQ(fk.last_attr.dmabuf_fd, fd);
	CHECK_EQ(fk.last_attr.nr_prefs, 3);
	CHECK_EQ(fk.last_attr.flags | fk.last_attr.reserved, 0);
	CHECK_EQ(fk.last_attr.prefs[0], VFIO_MEMATTR_WC);
	CHECK_EQ(fk.last_attr.prefs[1], VFIO_MEMATTR_DEV);
	CHECK_EQ(fk.last_attr.prefs[2], VFIO_MEMATTR_NC);
	for (i = 3; i < VFIO_MEMATTR_MAX_PREFS; i++)
		CHECK_EQ(fk.last_attr.prefs[i], 0);
	CHECK_EQ(vfio_memattr_dmabuf_info(dev, fd, &in), 0);
	CHECK_EQ(in.attr, VFIO_MEMATTR_DEV);
	fk.set_mask = 0;
	CHECK_EQ(vfio_memattr_dmabuf_set_attr(dev, fd, P_WC, 1, NULL), 0);	/* attr may be NULL */
	CHECK_EQ(fk.bufs[0].attr, VFIO_MEMATTR_WC);
	/* a kernel answering an attribute that was not asked for: -EPROTO */
	fk.set_lie = VFIO_MEMATTR_DEV;
	at = (enum vfio_memattr)7;
	CHECK_EQ(vfio_memattr_dmabuf_set_attr(dev, fd, P_WC_NC, 2, &at), -EPROTO);
	CHECK_EQ(at, 7);
	fk.set_lie = -1;
	/* and GET of one this library does not know */
	fk.bufs[0].attr = 3;
	CHECK_EQ(vfio_memattr_dmabuf_info(dev, fd, &in), -EPROTO);
	CHECK_EQ(in.size, 0);
	close(fd);
	fake_close(dev);
}

/* a new DMABUF that does not read back as asked is closed: -EPROTO */
static void export_readback(void)
{
	struct vfio_memattr_dev *dev = fake_open(1);
	int fd;

	REQUIRE(dev != NULL);
	fk.get_size_delta = 4096;
	CHECK_EQ(vfio_memattr_dmabuf_export(dev, 2, R2, 2, O_RDWR), -EPROTO);
	CHECK_EQ(fk.nbufs, 1);
	CHECK(!fd_open(fk.bufs[0].fd));		/* closed by the library */
	fk.get_size_delta = 0;
	fd = vfio_memattr_dmabuf_export(dev, 2, R2, 2, O_RDWR);
	CHECK(fd >= 0);
	if (fd >= 0)
		close(fd);
	fake_close(dev);
}

static void revoke_for_good(void)
{
	struct vfio_memattr_dev *dev = fake_open(1);
	struct vfio_memattr_dmabuf_info in;
	enum vfio_memattr at;
	int fd;

	REQUIRE(dev != NULL);
	fd = vfio_memattr_dmabuf_export(dev, 2, R2, 2, O_RDWR);
	REQUIRE(fd >= 0);
	CHECK_EQ(vfio_memattr_dmabuf_set_attr(dev, fd, P_WC, 1, &at), 0);
	CHECK_EQ(vfio_memattr_dmabuf_revoke(dev, fd), 0);
	CHECK_EQ(fk.revoke_calls, 1);
	CHECK_EQ(fk.last_flags, VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_MEMATTR_DMABUF_REVOKE);
	CHECK_EQ(fk.last_argsz, HDR + sizeof(struct vfio_device_feature_memattr_dmabuf_revoke));
	CHECK_EQ(vfio_memattr_dmabuf_info(dev, fd, &in), 0);
	CHECK_EQ(in.state, VFIO_MEMATTR_DMABUF_REVOKED);
	CHECK_EQ(in.attr, VFIO_MEMATTR_WC);	/* the last one */
	CHECK_EQ(in.size, 0x6000);
	CHECK_EQ(vfio_memattr_dmabuf_revoke(dev, fd), 0);	/* again: the kernel's EBADFD is 0 */
	CHECK_EQ(fk.revoke_calls, 2);
	CHECK_EQ(vfio_memattr_dmabuf_set_attr(dev, fd, P_NC, 1, &at), -ENODEV);
	CHECK(fd_open(fd));		/* revoke does not close the fd */
	close(fd);
	fake_close(dev);
}

void run_dmabuf_tests(void)
{
	t_run("dmabuf: ENOTTY from vfio-pci and a driver without the features", no_feature);
	t_run("dmabuf: export packs BAR, open flags, ranges; reads the new DMABUF back", export_packing);
	t_run("dmabuf: export argsz follows the range list (1..64)", export_argsz);
	t_run("dmabuf: bad arguments refused before any call", arg_checks);
	t_run("dmabuf: kernel errnos returned as they are, no fd left behind", errno_mapping);
	t_run("dmabuf: set_attr sends the whole list once, refuses an answer not asked for",
	      set_attr_in_order);
	t_run("dmabuf: a new DMABUF that does not read back is closed (EPROTO)", export_readback);
	t_run("dmabuf: revoke, state revoked, SET after revoke ENODEV", revoke_for_good);
}
