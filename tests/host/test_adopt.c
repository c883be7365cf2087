// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * test_adopt.c - what adopters rely on, against the fake VFIO device
 * (fake.h): log callbacks that call the library, per-device logging,
 * fork, map_at into a reservation, map_handle, open_shared.
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
#include "../common/procmaps.h"

/* A log callback that calls the library again (the device is locked
 * while a mapping is made). */
static struct vfio_memattr_dev *reent_dev;
static int reent_calls, reent_global;

static void reent_log(void *ctx, int level, const char *msg)
{
	(void)level;
	(void)msg;
	if (ctx == &reent_global)
		reent_global++;
	if (reent_dev && vfio_memattr_kernel_support(reent_dev) == 1)
		reent_calls++;
}

static void log_reentrant(void)
{
	struct vfio_memattr_mapping *m = NULL;
	pid_t pid;
	int st = -1;

	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		alarm(5);	/* a deadlock ends here */
		reent_dev = fake_open(1);
		if (!reent_dev)
			_exit(3);
		fk.map_attr = VFIO_MEMATTR_WC;
		vfio_memattr_set_log(reent_log, NULL);
		if (vfio_memattr_map(reent_dev, 2, 0, 4096, P_WC, 1, 0, &m) < 0)
			_exit(4);
		vfio_memattr_set_log(NULL, NULL);
		fake_close(reent_dev);
		_exit(reent_calls > 0 ? 0 : 5);
	}
	CHECK(pid > 0 && waitpid(pid, &st, 0) == pid);
	if (WIFSIGNALED(st))
		printf("    child killed by signal %d (deadlock in the log callback)\n",
		       WTERMSIG(st));
	CHECK(WIFEXITED(st));
	CHECK_EQ(WIFEXITED(st) ? WEXITSTATUS(st) : -1, 0);
}

static int dev_msgs;

static void dev_log(void *ctx, int level, const char *msg)
{
	(void)level;
	(void)msg;
	if (ctx == &dev_msgs)
		dev_msgs++;
}

static void log_per_device(void)
{
	struct vfio_memattr_dev *dev = fake_open(1);
	struct vfio_memattr_mapping *m = NULL;

	REQUIRE(dev != NULL);
	fk.map_attr = VFIO_MEMATTR_WC;
	reent_dev = NULL;
	reent_global = dev_msgs = 0;
	vfio_memattr_set_log(reent_log, &reent_global);
	CHECK_EQ(vfio_memattr_dev_set_log(dev, dev_log, &dev_msgs), 0);
	CHECK_EQ(vfio_memattr_map(dev, 2, 0, 4096, P_WC, 1, 0, &m), 0);
	CHECK(dev_msgs > 0);
	CHECK_EQ(reent_global, 0);		/* this device's messages only go to its callback */
	dev_msgs = 0;
	CHECK_EQ(vfio_memattr_dev_set_log(dev, NULL, NULL), 0);	/* silence this one */
	fk.map_errno = EBUSY;
	CHECK_EQ(vfio_memattr_map(dev, 2, 0, 4096, P_WC, 1, 0, &m), -EBUSY);
	CHECK_EQ(dev_msgs, 0);
	CHECK_EQ(reent_global, 0);
	CHECK_EQ(vfio_memattr_dev_set_log(NULL, dev_log, NULL), -EINVAL);
	vfio_memattr_set_log(NULL, NULL);
	fake_close(dev);
}

/* A forked child's close must not release the parent's kernel handles. */
static void fork_child_close(void)
{
	struct vfio_memattr_dev *dev = fake_open(1);
	struct vfio_memattr_mapping *m = NULL, *m2 = NULL;
	pid_t pid;
	int st = -1;

	REQUIRE(dev != NULL);
	fk.map_attr = VFIO_MEMATTR_WC;
	CHECK_EQ(vfio_memattr_map(dev, 2, 0, 4096, P_WC, 1, 0, &m), 0);
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		unsigned int before = fk.nreleased;
		int r = vfio_memattr_map(dev, 2, 0x1000, 4096, P_WC, 1, 0, &m2);

		vfio_memattr_close(dev);	/* the child's copy */
		/* exit status: handles the child released, +16 if it could map */
		_exit((int)(fk.nreleased - before) + (r == 0 ? 16 : 0));
	}
	CHECK(pid > 0 && waitpid(pid, &st, 0) == pid);
	CHECK(WIFEXITED(st));
	CHECK_EQ(WIFEXITED(st) ? WEXITSTATUS(st) : -1, 0);
	CHECK(hits_file_at(m, 0, HANDLE_OFF));	/* the parent's mapping still works */
	CHECK_EQ(vfio_memattr_unmap(m), 0);
	CHECK_EQ(fk.nreleased, 1);		/* released by its owner */
	fake_close(dev);
}

static void map_at_reservation(void)
{
	struct vfio_memattr_dev *dev = fake_open(0);
	struct vfio_memattr_mapping *m = (void *)1;
	char *r;

	REQUIRE(dev != NULL);
	r = mmap(NULL, 4 * 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	CHECK(r != MAP_FAILED);
	CHECK_EQ(vfio_memattr_map_at(dev, 2, 0x3000, 4096, P_NC, 1, 0, NULL, &m), -EINVAL);
	CHECK(m == NULL);
	CHECK_EQ(vfio_memattr_map_at(dev, 2, 0x3000, 4096, P_NC, 1, 0, r + 8, &m), -EINVAL);
	CHECK_EQ(vfio_memattr_map_at(dev, 2, 0x3000, 8192, P_NC, 1, 0, r + 4096, &m), 0);
	CHECK(vfio_memattr_mapping_addr(m) == r + 4096);
	CHECK_STR(procmaps_prot(r + 4096), "rw-s");
	CHECK_STR(procmaps_prot(r), "---p");		/* the rest of the reservation stays */
	CHECK_STR(procmaps_prot(r + 3 * 4096), "---p");
	CHECK(hits_file_at(m, 0x1008, BAR2_OFF + 0x4008));
	CHECK_EQ(vfio_memattr_unmap(m), 0);
	CHECK_STR(procmaps_prot(r + 4096), "---p");	/* reserved again, not a hole */
	CHECK_STR(procmaps_prot(r + 2 * 4096), "---p");
	/* a failed map leaves the reservation in place */
	CHECK_EQ(vfio_memattr_map_at(dev, 2, BAR2_SIZE, 4096, P_NC, 1, 0, r + 4096, &m), -EINVAL);
	CHECK_STR(procmaps_prot(r + 4096), "---p");
	munmap(r, 4 * 4096);
	fake_close(dev);
}

/* a secondary process maps the primary's handle and never releases it */
static void map_imported_handle(void)
{
	struct vfio_memattr_dev *dev = fake_open(1);
	struct vfio_memattr_mapping *own = NULL, *imp = (void *)1;

	REQUIRE(dev != NULL);
	fk.map_attr = VFIO_MEMATTR_WC;
	CHECK_EQ(vfio_memattr_map(dev, 2, 0x20000, 0x10000, P_WC, 1, 0, &own), 0);
	CHECK_EQ(vfio_memattr_map_handle(dev, 0x10077, NULL, &imp), -ENOENT);
	CHECK(imp == NULL);
	CHECK_EQ(vfio_memattr_map_handle(dev, 5, NULL, &imp), -EINVAL);
	CHECK_EQ(vfio_memattr_map_handle(dev, VFIO_MEMATTR_HANDLE_INDEX_BASE, NULL, &imp), 0);
	CHECK(imp && imp != own);
	CHECK(vfio_memattr_mapping_addr(imp) != vfio_memattr_mapping_addr(own));
	CHECK_EQ(vfio_memattr_mapping_attr(imp), VFIO_MEMATTR_WC);
	CHECK_EQ(vfio_memattr_mapping_source(imp), VFIO_MEMATTR_SRC_MEMATTR);
	CHECK_EQ(vfio_memattr_mapping_bar(imp), 2);
	CHECK_EQ(vfio_memattr_mapping_offset(imp), 0x20000);
	CHECK_EQ(vfio_memattr_mapping_length(imp), 0x10000);
	CHECK(hits_file_at(imp, 0xff8, HANDLE_OFF + 0xff8));	/* at the handle's offset */
	CHECK_EQ(vfio_memattr_unmap(own), 0);
	CHECK_EQ(fk.nreleased, 1);
	fk.nreleased = 0;		/* pretend the primary still holds it */
	CHECK_EQ(vfio_memattr_unmap(imp), 0);
	CHECK_EQ(fk.nreleased, 0);		/* an imported handle is never released */
	fake_close(dev);
}

static void open_shared_args(void)
{
	struct vfio_memattr_dev *dev = fake_open(0), *d2 = (void *)1;

	REQUIRE(dev != NULL);
	CHECK_EQ(vfio_memattr_open_shared("00:02.0", NULL, 0, &d2), -EINVAL);
	CHECK(d2 == NULL);
	d2 = (void *)1;
	/* an adopted device: the caller owns the container */
	CHECK_EQ(vfio_memattr_open_shared("00:02.0", dev, 0, &d2), -EOPNOTSUPP);
	CHECK(d2 == NULL);
	fake_close(dev);
}

void run_adopt_tests(void)
{
	t_run("log callback may call the library (never called under the device lock)",
	      log_reentrant);
	t_run("per-device log callback", log_per_device);
	t_run("fork: the child's close does not release the parent's handles", fork_child_close);
	t_run("map_at: into a PROT_NONE reservation, which unmap restores", map_at_reservation);
	t_run("map_handle: another process's handle, never released", map_imported_handle);
	t_run("open_shared: argument checks", open_shared_args);
}
