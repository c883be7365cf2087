// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * test_fake.c - the map fallback chain, bar_info, region access and
 * threads against the fake VFIO device (fake.h).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/vfio.h>

#include "vfio-memattr.h"
#include "../../lib/vfio-memattr-private.h"
#include "test.h"
#include "fake.h"

static void no_uapi_wc_refused(void)
{
	struct vfio_memattr_dev *dev = fake_open(0);
	struct vfio_memattr_mapping *m = (void *)1;

	REQUIRE(dev != NULL);
	CHECK_EQ(vfio_memattr_kernel_support(dev), 0);
	CHECK_EQ(vfio_memattr_map(dev, 2, 0, 65536, P_WC, 1, 0, &m), -EOPNOTSUPP);
	CHECK(m == NULL);
	/* DEV cannot be provided by a plain VFIO mmap either */
	CHECK_EQ(vfio_memattr_map(dev, 2, 0, 65536, (const enum vfio_memattr[]){ VFIO_MEMATTR_DEV },
				  1, 0, &m), -EOPNOTSUPP);
	fake_close(dev);
}

static void no_uapi_nc_fallback(void)
{
	struct vfio_memattr_dev *dev = fake_open(0);
	struct vfio_memattr_mapping *m = NULL, *m2 = NULL;

	REQUIRE(dev != NULL);
	CHECK_EQ(vfio_memattr_map(dev, 2, 0x10000, 0x10000, P_WC_NC, 2, 0, &m), 0);
	CHECK(m != NULL);
	if (!m)
		goto out;
	CHECK_EQ(vfio_memattr_mapping_attr(m), VFIO_MEMATTR_NC);	/* never WC */
	CHECK_EQ(vfio_memattr_mapping_source(m), VFIO_MEMATTR_SRC_VFIO_MMAP);
	CHECK_EQ(vfio_memattr_mapping_handle(m), 0);
	CHECK_EQ(vfio_memattr_mapping_length(m), 0x10000);
	CHECK_EQ(vfio_memattr_mapping_bar(m), 2);
	CHECK_EQ(vfio_memattr_mapping_offset(m), 0x10000);
	/* region offset + BAR offset: */
	CHECK(hits_file_at(m, 0x100, BAR2_OFF + 0x10000 + 0x100));
	CHECK(hits_file_at(m, 0xfff8, BAR2_OFF + 0x1fff8));
	CHECK_EQ(vfio_memattr_map(dev, 2, 0, 4096, P_DEV_NC, 2, 0, &m2), 0);
	CHECK_EQ(vfio_memattr_mapping_attr(m2), VFIO_MEMATTR_NC);
	CHECK_EQ(vfio_memattr_unmap(m), 0);
out:
	fake_close(dev);	/* unmaps m2 */
}

static void map_arg_checks(void)
{
	struct vfio_memattr_dev *dev = fake_open(0);
	struct vfio_memattr_mapping *m;
	const enum vfio_memattr nine[9] = { 0 };
	const enum vfio_memattr bad[] = { (enum vfio_memattr)3 };

	REQUIRE(dev != NULL);
	CHECK_EQ(vfio_memattr_map(dev, 2, 0x800, 4096, P_NC, 1, 0, &m), -EINVAL);
	CHECK_EQ(vfio_memattr_map(dev, 2, 0, 4095, P_NC, 1, 0, &m), -EINVAL);
	CHECK_EQ(vfio_memattr_map(dev, 2, 0, 0, P_NC, 1, 0, &m), -EINVAL);
	CHECK_EQ(vfio_memattr_map(dev, 2, BAR2_SIZE - 4096, 8192, P_NC, 1, 0, &m), -EINVAL);
	CHECK_EQ(vfio_memattr_map(dev, 2, BAR2_SIZE, 4096, P_NC, 1, 0, &m), -EINVAL);
	/* the mechanism that was tried reports its own error */
	CHECK_EQ(vfio_memattr_map(dev, 2, BAR2_SIZE, 4096, P_WC_NC, 2, 0, &m), -EINVAL);
	CHECK_EQ(vfio_memattr_map(dev, 2, 0xfffffffffffff000ull, 0x2000, P_NC, 1, 0, &m), -EINVAL);
	CHECK_EQ(vfio_memattr_map(dev, 2, 0, 4096, P_NC, 0, 0, &m), -EINVAL);
	CHECK_EQ(vfio_memattr_map(dev, 2, 0, 4096, nine, 9, 0, &m), -EINVAL);
	CHECK_EQ(vfio_memattr_map(dev, 2, 0, 4096, bad, 1, 0, &m), -EINVAL);
	CHECK_EQ(vfio_memattr_map(dev, 2, 0, 4096, NULL, 1, 0, &m), -EINVAL);
	CHECK_EQ(vfio_memattr_map(dev, 6, 0, 4096, P_NC, 1, 0, &m), -EINVAL);
	CHECK_EQ(vfio_memattr_map(dev, 2, 0, 4096, P_NC, 1, 0x2, &m), -EINVAL);
	CHECK_EQ(vfio_memattr_map(dev, 1, 0, 4096, P_NC, 1, 0, &m), -EOPNOTSUPP);	/* empty BAR */
	CHECK_EQ(vfio_memattr_map(NULL, 2, 0, 4096, P_NC, 1, 0, &m), -EINVAL);
	CHECK_EQ(vfio_memattr_dma_map(dev, &m, 0, 4096), -EOPNOTSUPP);	/* adopted */
	fake_close(dev);
}

static char sroot[64];

static void sysfs_setup(const char *pat)
{
	static const char *const dirs[] = { "bus", "bus/pci", "bus/pci/devices",
					    "bus/pci/devices/0000:00:02.0" };
	char p[256];
	unsigned int i;
	FILE *f;
	int fd;

	snprintf(sroot, sizeof(sroot), "/tmp/vfio-memattr-sysfs-XXXXXX");
	if (!mkdtemp(sroot))
		return;
	for (i = 0; i < 4; i++) {
		snprintf(p, sizeof(p), "%s/%s", sroot, dirs[i]);
		mkdir(p, 0755);
	}
	snprintf(p, sizeof(p), "%s/bus/pci/devices/0000:00:02.0/resource", sroot);
	f = fopen(p, "w");
	if (f) {
		fputs("0x00000000febf0000 0x00000000febf0fff 0x0000000000040200\n"
		      "0x0000000000000000 0x0000000000000000 0x0000000000000000\n"
		      "0x00000000fd000000 0x00000000fd0fffff 0x000000000014220c\n", f);
		fclose(f);
	}
	snprintf(p, sizeof(p), "%s/bus/pci/devices/0000:00:02.0/resource2_wc", sroot);
	fd = open(p, O_RDWR | O_CREAT, 0600);
	if (fd >= 0) {
		if (ftruncate(fd, BAR2_SIZE) < 0)
			perror("ftruncate");
		close(fd);
	}
	snprintf(p, sizeof(p), "%s/pat", sroot);
	f = fopen(p, "w");
	if (f) {
		fputs(pat, f);
		fclose(f);
	}
	vfio_memattr__sysfs_root = sroot;
	snprintf(p, sizeof(p), "%s/pat", sroot);
	vfio_memattr__pat_list = strdup(p);
}

static void sysfs_teardown(void)
{
	char cmd[128];

	free((void *)vfio_memattr__pat_list);
	vfio_memattr__pat_list = "/sys/kernel/debug/x86/pat_memtype_list";
	vfio_memattr__sysfs_root = NULL;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", sroot);
	if (system(cmd) != 0)
		printf("    cannot remove %s\n", sroot);
}

static void sysfs_wc_fallback(void)
{
	struct vfio_memattr_dev *dev = fake_open(0);
	struct vfio_memattr_mapping *m = NULL;
	char p[256];
	uint64_t v = 0;
	int fd;

	REQUIRE(dev != NULL);
	sysfs_setup("PAT: [mem 0x00000000fd010000-0x00000000fd020000] write-combining\n");
	/* PCI address unknown for an adopted memfd */
	CHECK(vfio_memattr_bdf(dev) == NULL);
	CHECK_EQ(vfio_memattr_map(dev, 2, 0x10000, 0x10000, P_WC, 1,
				  VFIO_MEMATTR_MAP_ALLOW_SYSFS, &m), -EOPNOTSUPP);
	CHECK_EQ(vfio_memattr_set_bdf(dev, "00:02.0"), 0);
	CHECK_STR(vfio_memattr_bdf(dev), "0000:00:02.0");
	/* not without the flag */
	CHECK_EQ(vfio_memattr_map(dev, 2, 0x10000, 0x10000, P_WC, 1, 0, &m), -EOPNOTSUPP);
	CHECK_EQ(vfio_memattr_map(dev, 2, 0x10000, 0x10000, P_WC, 1,
				  VFIO_MEMATTR_MAP_ALLOW_SYSFS, &m), 0);
	if (m) {
		CHECK_EQ(vfio_memattr_mapping_attr(m), VFIO_MEMATTR_WC);
		CHECK_EQ(vfio_memattr_mapping_source(m), VFIO_MEMATTR_SRC_SYSFS_WC);
		CHECK_EQ(vfio_memattr_mapping_handle(m), 0);
		*(volatile uint64_t *)((char *)vfio_memattr_mapping_addr(m) + 8) = 0x1122334455667788ull;
		snprintf(p, sizeof(p), "%s/bus/pci/devices/0000:00:02.0/resource2_wc", sroot);
		fd = open(p, O_RDONLY);
		CHECK(fd >= 0 && pread(fd, &v, 8, 0x10008) == 8);
		CHECK_EQ(v, 0x1122334455667788ll);
		if (fd >= 0)
			close(fd);
		CHECK_EQ(vfio_memattr_unmap(m), 0);
	}
#if defined(__x86_64__)
	/* PAT gave the range another type: refuse rather than lie */
	{
		FILE *f = fopen(vfio_memattr__pat_list, "w");

		if (f) {
			fputs("PAT: [mem 0x00000000fd000000-0x00000000fd100000] uncached-minus\n", f);
			fclose(f);
		}
		m = NULL;
		CHECK_EQ(vfio_memattr_map(dev, 2, 0x10000, 0x10000, P_WC, 1,
					  VFIO_MEMATTR_MAP_ALLOW_SYSFS, &m), -EBUSY);
		CHECK(m == NULL);
		/* with NC as second choice: NC through VFIO */
		CHECK_EQ(vfio_memattr_map(dev, 2, 0x10000, 0x10000, P_WC_NC, 2,
					  VFIO_MEMATTR_MAP_ALLOW_SYSFS, &m), 0);
		CHECK_EQ(vfio_memattr_mapping_attr(m), VFIO_MEMATTR_NC);
		CHECK_EQ(vfio_memattr_mapping_source(m), VFIO_MEMATTR_SRC_VFIO_MMAP);
	}
#endif
#if defined(__x86_64__)
	/* the PAT list cannot be read: fail closed, never an unchecked WC */
	unlink(vfio_memattr__pat_list);
	m = (void *)1;
	CHECK_EQ(vfio_memattr_map(dev, 2, 0x10000, 0x10000, P_WC, 1,
				  VFIO_MEMATTR_MAP_ALLOW_SYSFS, &m), -EOPNOTSUPP);
	CHECK(m == NULL);
	/* the list is readable but does not cover the range: unverified too */
	{
		FILE *f = fopen(vfio_memattr__pat_list, "w");

		if (f) {
			fputs("PAT: [mem 0x00000000fe000000-0x00000000fe100000] write-combining\n", f);
			fclose(f);
		}
	}
	m = (void *)1;
	CHECK_EQ(vfio_memattr_map(dev, 2, 0x10000, 0x10000, P_WC, 1,
				  VFIO_MEMATTR_MAP_ALLOW_SYSFS, &m), -EOPNOTSUPP);
	CHECK(m == NULL);
	m = NULL;
	CHECK_EQ(vfio_memattr_map(dev, 2, 0x10000, 0x10000, P_WC_NC, 2,
				  VFIO_MEMATTR_MAP_ALLOW_SYSFS, &m), 0);
	CHECK_EQ(vfio_memattr_mapping_attr(m), VFIO_MEMATTR_NC);
	CHECK_EQ(vfio_memattr_mapping_source(m), VFIO_MEMATTR_SRC_VFIO_MMAP);
#endif
	/* BAR0 has no resource0_wc (non-prefetchable): not available */
	CHECK_EQ(vfio_memattr_map(dev, 0, 0, 4096, P_WC, 1, VFIO_MEMATTR_MAP_ALLOW_SYSFS, &m),
		 -EOPNOTSUPP);
	sysfs_teardown();
	fake_close(dev);
}

static void uapi_map(void)
{
	struct vfio_memattr_dev *dev = fake_open(1);
	struct vfio_memattr_mapping *m = NULL;

	REQUIRE(dev != NULL);
	fk.map_attr = VFIO_MEMATTR_WC;
	fk.cap_attr = VFIO_MEMATTR_WC;
	CHECK_EQ(vfio_memattr_kernel_support(dev), 1);
	CHECK_EQ(vfio_memattr_map(dev, 2, 0x10000, 0x20000, P_WC_NC, 2, 0, &m), 0);
	/* one kernel call carrying the whole preference list */
	CHECK_EQ(fk.map_calls, 1);
	CHECK_EQ(fk.last.index, 2);
	CHECK_EQ(fk.last.offset, 0x10000);
	CHECK_EQ(fk.last.length, 0x20000);
	CHECK_EQ(fk.last.nr_prefs, 2);
	CHECK_EQ(fk.last.prefs[0], VFIO_MEMATTR_WC);
	CHECK_EQ(fk.last.prefs[1], VFIO_MEMATTR_NC);
	CHECK_EQ(fk.last.prefs[2], 0);
	if (m) {
		CHECK_EQ(vfio_memattr_mapping_attr(m), VFIO_MEMATTR_WC);
		CHECK_EQ(vfio_memattr_mapping_source(m), VFIO_MEMATTR_SRC_MEMATTR);
		CHECK_EQ(vfio_memattr_mapping_handle(m), VFIO_MEMATTR_HANDLE_INDEX_BASE);
		CHECK(hits_file_at(m, 0x1ff8, HANDLE_OFF + 0x1ff8));	/* at mmap_offset */
		CHECK_EQ(fk.nreleased, 0);
		CHECK_EQ(vfio_memattr_unmap(m), 0);
		CHECK_EQ(fk.nreleased, 1);
		CHECK_EQ(fk.released[0], VFIO_MEMATTR_HANDLE_INDEX_BASE);
	}
	/* the kernel honoured the second choice: report it */
	fk.map_attr = fk.cap_attr = VFIO_MEMATTR_NC;
	m = NULL;
	CHECK_EQ(vfio_memattr_map(dev, 2, 0, 4096, P_WC_NC, 2, 0, &m), 0);
	CHECK_EQ(vfio_memattr_mapping_attr(m), VFIO_MEMATTR_NC);
	CHECK_EQ(vfio_memattr_mapping_source(m), VFIO_MEMATTR_SRC_MEMATTR);
	fake_close(dev);
	CHECK_EQ(fk.nreleased, 2);	/* close released the second handle */
}

static void uapi_errors_no_fallback(void)
{
	static const int errs[] = { EPERM, EBUSY, EOPNOTSUPP, ENOSPC, EINVAL };
	struct vfio_memattr_dev *dev = fake_open(1);
	struct vfio_memattr_mapping *m;
	unsigned int i;

	REQUIRE(dev != NULL);
	for (i = 0; i < sizeof(errs) / sizeof(errs[0]); i++) {
		m = (void *)1;
		fk.map_errno = errs[i];
		/* NC is in the list and a plain VFIO mmap would succeed: the
		 * kernel's answer must still be final */
		CHECK_EQ(vfio_memattr_map(dev, 2, 0, 4096, P_WC_NC, 2,
					  VFIO_MEMATTR_MAP_ALLOW_SYSFS, &m), -errs[i]);
		CHECK(m == NULL);
	}
	CHECK_EQ(fk.map_calls, 5);
	fake_close(dev);
}

static void uapi_cap_mismatch(void)
{
	struct vfio_memattr_dev *dev = fake_open(1);
	struct vfio_memattr_mapping *m = (void *)1;

	REQUIRE(dev != NULL);
	fk.map_attr = VFIO_MEMATTR_WC;
	fk.cap_attr = VFIO_MEMATTR_NC;
	CHECK_EQ(vfio_memattr_map(dev, 2, 0, 4096, P_WC, 1, 0, &m), -EPROTO);
	CHECK(m == NULL);
	CHECK_EQ(fk.nreleased, 1);		/* the handle was given back */
	fk.map_attr = 7;			/* unknown attribute */
	fk.cap_attr = -1;
	CHECK_EQ(vfio_memattr_map(dev, 2, 0, 4096, P_WC, 1, 0, &m), -EPROTO);
	CHECK_EQ(fk.nreleased, 2);
	fake_close(dev);
}

static void uapi_shared_handle(void)
{
	struct vfio_memattr_dev *dev = fake_open(1);
	struct vfio_memattr_mapping *a = NULL, *b = NULL;

	REQUIRE(dev != NULL);
	fk.map_attr = VFIO_MEMATTR_WC;
	fk.same_handle = 1;
	CHECK_EQ(vfio_memattr_map(dev, 2, 0, 8192, P_WC, 1, 0, &a), 0);
	CHECK_EQ(vfio_memattr_map(dev, 2, 0, 8192, P_WC, 1, 0, &b), 0);
	CHECK(a && b && a != b);
	CHECK_EQ(vfio_memattr_mapping_handle(a), vfio_memattr_mapping_handle(b));
	CHECK_EQ(vfio_memattr_unmap(a), 0);
	CHECK_EQ(fk.nreleased, 0);		/* b still uses it */
	CHECK_EQ(vfio_memattr_unmap(b), 0);
	CHECK_EQ(fk.nreleased, 1);
	fake_close(dev);
}

static void bar_info_both(void)
{
	struct vfio_memattr_dev *dev = fake_open(0);
	struct vfio_memattr_bar b;

	REQUIRE(dev != NULL);
	CHECK_EQ(vfio_memattr_bar_info(dev, 2, &b), 0);
	CHECK_EQ(b.kernel_support, 0);
	CHECK_EQ(b.size, BAR2_SIZE);
	CHECK_EQ(b.flags, VFIO_MEMATTR_BAR_PREFETCH | VFIO_MEMATTR_BAR_MEM64 | VFIO_MEMATTR_BAR_MMAP);
	CHECK_EQ(b.supported, 1u << VFIO_MEMATTR_NC);
	CHECK_EQ(b.reason[VFIO_MEMATTR_NC], VFIO_MEMATTR_OK);
	CHECK_EQ(b.reason[VFIO_MEMATTR_WC], VFIO_MEMATTR_NOT_ARCH);
	CHECK_EQ(vfio_memattr_bar_info(dev, 0, &b), 0);
	CHECK_EQ(b.flags, VFIO_MEMATTR_BAR_MMAP);		/* mem32, not prefetchable */
	CHECK_EQ(b.size, BAR0_SIZE);
	CHECK_EQ(vfio_memattr_bar_info(dev, 1, &b), 0);
	CHECK_EQ(b.size, 0);
	CHECK_EQ(b.supported, 0);
	CHECK_EQ(b.reason[VFIO_MEMATTR_NC], VFIO_MEMATTR_NOT_MEM_BAR);
	CHECK_EQ(vfio_memattr_bar_info(dev, 6, &b), -EINVAL);
	fake_close(dev);

	dev = fake_open(1);
	REQUIRE(dev != NULL);
	CHECK_EQ(vfio_memattr_bar_info(dev, 2, &b), 0);
	CHECK_EQ(fk.get_calls, 1);
	CHECK_EQ(b.kernel_support, 1);
	CHECK_EQ(b.supported, 0x5);
	CHECK_EQ(b.reason[VFIO_MEMATTR_WC], VFIO_MEMATTR_NOT_ARCH);
	fake_close(dev);
}

static void region_rw(void)
{
	struct vfio_memattr_dev *dev = fake_open(0);
	uint32_t v = 0xdeadbeef, r = 0;

	REQUIRE(dev != NULL);
	CHECK_EQ(vfio_memattr_num_regions(dev), VFIO_PCI_NUM_REGIONS);
	CHECK_EQ(vfio_memattr_region_write(dev, VFIO_PCI_CONFIG_REGION_INDEX, 0x40, &v, 4), 0);
	CHECK(pread(fk.fd, &r, 4, CFG_OFF + 0x40) == 4 && r == v);
	r = 0;
	CHECK_EQ(vfio_memattr_region_read(dev, VFIO_PCI_CONFIG_REGION_INDEX, 0x18, &r, 4), 0);
	CHECK_EQ(r, 0xfd00000c);
	CHECK_EQ(vfio_memattr_region_read(dev, VFIO_PCI_CONFIG_REGION_INDEX, 254, &r, 4), -EINVAL);
	CHECK_EQ(vfio_memattr_region_read(dev, 0x9999, 0, &r, 4), -EINVAL);
	fake_close(dev);
}

struct thr {
	struct vfio_memattr_dev *dev;
	unsigned int id, errors;
};

static void *thr_fn(void *arg)
{
	struct thr *t = arg;
	unsigned int i;

	for (i = 0; i < 200; i++) {
		struct vfio_memattr_mapping *m = NULL;
		uint64_t off = (uint64_t)(t->id * 4 + i % 4) * 4096;

		if (vfio_memattr_map(t->dev, 2, off, 4096, P_NC, 1, 0, &m) < 0 || !m) {
			t->errors++;
			continue;
		}
		*(volatile uint32_t *)vfio_memattr_mapping_addr(m) = t->id;
		if (i % 3 && vfio_memattr_unmap(m) < 0)	/* leave some for close() */
			t->errors++;
	}
	return NULL;
}

static void threads(void)
{
	struct vfio_memattr_dev *dev = fake_open(0);
	struct thr t[4];
	pthread_t th[4];
	unsigned int i;

	REQUIRE(dev != NULL);
	for (i = 0; i < 4; i++) {
		t[i] = (struct thr){ .dev = dev, .id = i };
		CHECK_EQ(pthread_create(&th[i], NULL, thr_fn, &t[i]), 0);
	}
	for (i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		CHECK_EQ(t[i].errors, 0);
	}
	fake_close(dev);	/* unmaps the ~270 mappings left in the list */
}

void run_fake_tests(void)
{
	t_run("fake vfio-pci: WC-only request refused (EOPNOTSUPP)", no_uapi_wc_refused);
	t_run("fake vfio-pci: WC,NC falls back to NC via VFIO mmap", no_uapi_nc_fallback);
	t_run("fake vfio-pci: map argument checks", map_arg_checks);
	t_run("fake vfio-pci: sysfs resourceN_wc fallback (opt-in, PAT check)", sysfs_wc_fallback);
	t_run("fake memattr: one MAP call with the preference list, unmap releases", uapi_map);
	t_run("fake memattr: kernel errors are final (no fallback)", uapi_errors_no_fallback);
	t_run("fake memattr: capability disagreeing with MAP is refused", uapi_cap_mismatch);
	t_run("fake memattr: shared handle released after last unmap", uapi_shared_handle);
	t_run("bar_info: derived (plain VFIO) and from the kernel", bar_info_both);
	t_run("region read/write", region_rw);
	t_run("4 threads mapping and unmapping on one device, close unmaps the rest", threads);
}
