// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * test_noiommu.c - VFIO's unsafe no-IOMMU mode in the library: open through
 * /dev/vfio/noiommu-N with VFIO_NOIOMMU_IOMMU, vfio_memattr_is_noiommu(),
 * DMA mapping refused before the kernel, BAR mappings as usual; against
 * the fake container and groups of fake.c.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/vfio.h>

#include "vfio-memattr.h"
#include "../../lib/vfio-memattr-private.h"
#include "test.h"
#include "fake.h"

#define NOIOMMU_BDF	"0000:00:05.0"
#define PLAIN_BDF	"0000:00:06.0"

static char lastlog[512];

static void logcb(void *ctx, int level, const char *msg)
{
	(void)ctx;
	if (level <= VFIO_MEMATTR_LOG_WARNING)
		snprintf(lastlog, sizeof(lastlog), "%s", msg);
}

static void done(struct vfio_memattr_dev *dev)
{
	vfio_memattr_close(dev);
	close(fk.fd);
	fk.fd = -1;
	fake_vfio_teardown();
	vfio_memattr_set_log(NULL, NULL);
}

/* open sets VFIO_NOIOMMU_IOMMU on the container of group noiommu-3 */
static void open_noiommu(void)
{
	struct vfio_memattr_dev *dev = NULL;
	struct vfio_memattr_mapping *m = NULL;
	char buf[64];

	REQUIRE(fake_device_init(0) == 0);
	REQUIRE(fake_vfio_setup(NOIOMMU_BDF, 3, 1, 1) == 0);
	lastlog[0] = 0;
	vfio_memattr_set_log(logcb, NULL);
	CHECK_EQ(vfio_memattr_open(NOIOMMU_BDF, 0, &dev), 0);
	if (!dev) {
		printf("    log: %s\n", lastlog);
		done(dev);
		return;
	}
	CHECK_STR(fv.last_group, "noiommu-3");
	CHECK_EQ(fv.set_container_calls, 1);
	CHECK_EQ(fv.set_iommu_calls, 1);
	CHECK_EQ(fv.set_iommu_type, VFIO_NOIOMMU_IOMMU);
	CHECK_EQ(vfio_memattr_is_noiommu(dev), 1);
	CHECK(strstr(lastlog, "unsafe no-IOMMU mode") != NULL);	/* a warning, not printed */
	/* no IOMMU, no IOVA: refused here, the kernel is not asked */
	CHECK_EQ(vfio_memattr_dma_map(dev, buf, 0x100000, 4096), -EOPNOTSUPP);
	CHECK_EQ(vfio_memattr_dma_unmap(dev, 0x100000, 4096), -EOPNOTSUPP);
	CHECK_EQ(fv.dma_calls, 0);
	/* BAR mappings as on any device (plain VFIO: NC) */
	CHECK_EQ(vfio_memattr_map(dev, 2, 0, 4096, P_WC_NC, 2, 0, &m), 0);
	if (m) {
		CHECK_EQ(vfio_memattr_mapping_attr(m), VFIO_MEMATTR_NC);
		CHECK(hits_file_at(m, 8, BAR2_OFF + 8));
		CHECK_EQ(vfio_memattr_unmap(m), 0);
	}
	CHECK_EQ(vfio_memattr_is_noiommu(NULL), -EINVAL);
	done(dev);
}

/* the memattr uAPI is the same there */
static void noiommu_memattr_map(void)
{
	struct vfio_memattr_dev *dev = NULL;
	struct vfio_memattr_mapping *m = NULL;

	REQUIRE(fake_device_init(1) == 0);
	REQUIRE(fake_vfio_setup(NOIOMMU_BDF, 3, 1, 1) == 0);
	fk.map_attr = VFIO_MEMATTR_WC;
	CHECK_EQ(vfio_memattr_open(NOIOMMU_BDF, 0, &dev), 0);
	REQUIRE(dev != NULL);
	CHECK_EQ(vfio_memattr_kernel_support(dev), 1);
	CHECK_EQ(vfio_memattr_map(dev, 2, 0, 8192, P_WC, 1, 0, &m), 0);
	CHECK_EQ(fk.map_calls, 1);
	CHECK_EQ(vfio_memattr_mapping_attr(m), VFIO_MEMATTR_WC);
	CHECK_EQ(vfio_memattr_mapping_source(m), VFIO_MEMATTR_SRC_MEMATTR);
	done(dev);
}

/* no sysfs name: told by the node (N missing, noiommu-N there) */
static void noiommu_by_node(void)
{
	struct vfio_memattr_dev *dev = NULL;

	REQUIRE(fake_device_init(0) == 0);
	REQUIRE(fake_vfio_setup(NOIOMMU_BDF, 7, 1, 0) == 0);
	CHECK_EQ(vfio_memattr_open(NOIOMMU_BDF, 0, &dev), 0);
	CHECK_STR(fv.last_group, "noiommu-7");
	CHECK_EQ(fv.set_iommu_type, VFIO_NOIOMMU_IOMMU);
	CHECK_EQ(vfio_memattr_is_noiommu(dev), 1);
	done(dev);
}

/* an IOMMU group: type1v2, DMA mapping reaches the container */
static void plain_group(void)
{
	struct vfio_memattr_dev *dev = NULL;
	char buf[64];

	REQUIRE(fake_device_init(0) == 0);
	REQUIRE(fake_vfio_setup(PLAIN_BDF, 4, 0, 0) == 0);
	CHECK_EQ(vfio_memattr_open(PLAIN_BDF, 0, &dev), 0);
	REQUIRE(dev != NULL);
	CHECK_STR(fv.last_group, "4");
	CHECK_EQ(fv.set_iommu_type, VFIO_TYPE1v2_IOMMU);
	CHECK_EQ(vfio_memattr_is_noiommu(dev), 0);
	CHECK_EQ(vfio_memattr_dma_map(dev, buf, 0x100000, 4096), 0);
	CHECK_EQ(fv.dma_calls, 1);
	done(dev);
}

/* enable_unsafe_noiommu_mode off: the container has no noiommu driver */
static void noiommu_param_off(void)
{
	struct vfio_memattr_dev *dev = (void *)1;

	REQUIRE(fake_device_init(0) == 0);
	REQUIRE(fake_vfio_setup(NOIOMMU_BDF, 3, 1, 1) == 0);
	fv.noiommu = 0;
	lastlog[0] = 0;
	vfio_memattr_set_log(logcb, NULL);
	CHECK_EQ(vfio_memattr_open(NOIOMMU_BDF, 0, &dev), -EOPNOTSUPP);
	CHECK(dev == NULL);
	CHECK_EQ(fv.set_iommu_calls, 0);			/* type1 never tried */
	CHECK(strstr(lastlog, "enable_unsafe_noiommu_mode") != NULL);
	done(NULL);
}

/* open_shared: two no-IOMMU groups share a container; mixed, refused */
static void noiommu_shared(void)
{
	struct vfio_memattr_dev *a = NULL, *b = NULL, *c = (void *)1;

	REQUIRE(fake_device_init(0) == 0);
	REQUIRE(fake_vfio_setup(NOIOMMU_BDF, 3, 1, 1) == 0);
	REQUIRE(fake_vfio_setup("0000:00:07.0", 8, 1, 1) == 0);
	REQUIRE(fake_vfio_setup(PLAIN_BDF, 4, 0, 0) == 0);	/* resets the counters */
	CHECK_EQ(vfio_memattr_open(NOIOMMU_BDF, 0, &a), 0);
	REQUIRE(a != NULL);
	CHECK_EQ(vfio_memattr_open_shared("0000:00:07.0", a, 0, &b), 0);
	CHECK_EQ(fv.set_container_calls, 2);
	CHECK_EQ(fv.set_iommu_calls, 1);
	CHECK_STR(fv.last_group, "noiommu-8");
	CHECK_EQ(vfio_memattr_is_noiommu(b), 1);
	CHECK_EQ(vfio_memattr_open_shared(PLAIN_BDF, a, 0, &c), -EOPNOTSUPP);
	CHECK(c == NULL);
	CHECK_EQ(fv.set_container_calls, 2);
	vfio_memattr_close(b);
	done(a);
}

/* adopted: sysfs says, once the PCI address is known */
static void noiommu_adopted(void)
{
	struct vfio_memattr_dev *dev = fake_open(0);
	char buf[64];

	REQUIRE(dev != NULL);
	REQUIRE(fake_vfio_setup(NOIOMMU_BDF, 3, 1, 1) == 0);
	CHECK_EQ(vfio_memattr_is_noiommu(dev), 0);		/* unknown */
	CHECK_EQ(vfio_memattr_set_bdf(dev, NOIOMMU_BDF), 0);
	CHECK_EQ(vfio_memattr_is_noiommu(dev), 1);
	CHECK_EQ(vfio_memattr_dma_map(dev, buf, 0, 4096), -EOPNOTSUPP);
	fake_close(dev);
	fake_vfio_teardown();
}

void run_noiommu_tests(void)
{
	t_run("noiommu: open via noiommu-N sets VFIO_NOIOMMU_IOMMU; DMA map refused, BAR map works",
	      open_noiommu);
	t_run("noiommu: memattr uAPI map unchanged", noiommu_memattr_map);
	t_run("noiommu: told by the node when the group has no sysfs name", noiommu_by_node);
	t_run("noiommu: an IOMMU group still gets type1v2 and DMA mapping", plain_group);
	t_run("noiommu: enable_unsafe_noiommu_mode off: EOPNOTSUPP, logged", noiommu_param_off);
	t_run("noiommu: open_shared of two no-IOMMU groups; mixed refused", noiommu_shared);
	t_run("noiommu: adopted device answers from sysfs", noiommu_adopted);
}
