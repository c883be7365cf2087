// SPDX-License-Identifier: GPL-2.0-only
/*
 * memattr_unbind: unbinding vfio-pci-memattr from a device whose handles
 * are mapped.  As with vfio-pci, the unbind waits for the user, who is
 * asked through the request eventfd; once the user has unmapped and
 * closed, the unbind completes and no memory type reservation is left.
 * The device is bound again afterwards and works.
 *
 * Slices: none written.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/vfio.h>
#include <linux/vfio_memattr.h>

#include "lib/tap.h"
#include "lib/sysfs.h"
#include "lib/vfio.h"
#include "lib/memattr.h"
#include "lib/mmio.h"
#include "lib/pat.h"

#define LEN	0x10000ull

int main(void)
{
	const char *bdf = ma_bdf_or_skip("MEMATTR_IVSHMEM0");
	struct vfio_device_feature_memattr_map mp;
	struct vdev dv;
	int d = -1, efd, st = -1, n, ret, go[2];
	bool opened;
	uint64_t phys, size, ev = 0;
	char drv[64] = "", type[32] = "";
	volatile uint64_t *w;
	pid_t pid;

	tap_plan(7);
	/*
	 * The unbinder is forked before the device is opened: a child forked
	 * later would inherit the fds and the mapping, and the unbind would
	 * wait for the very process that asks for it.
	 */
	if (pipe(go)) {
		tap_skip_rest("pipe failed");
		return tap_done();
	}
	pid = fork();
	if (pid == 0) {
		char path[128], ch;

		close(go[1]);
		if (read(go[0], &ch, 1) != 1)
			_exit(2);
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver/unbind", bdf);
		_exit(sysfs_write_str(path, bdf) ? 1 : 0);
	}
	close(go[0]);
	if (ma_bar_phys(bdf, 2, &phys, &size) ||
	    vdev_open_mode(&dv, bdf, VDEV_GROUP)) {
		close(go[1]);
		tap_skip_rest("cannot open ivshmem0");
		return tap_done();
	}
	d = dv.fd;
	ret = ma_map1(d, 2, 0, LEN, VFIO_MEMATTR_WC, &mp);
	w = ret ? NULL : ma_map_fd(d, mp.mmap_offset, LEN);
	if (w)
		w[0] = 0x1234;
	n = pat_lookup(phys, phys + LEN, type);
	tap_ok(w && n >= 1 && !strcmp(type, "write-combining"),
	       "a WC handle of BAR2 is mapped and write-combining (%s)", type);

	efd = eventfd(0, EFD_CLOEXEC);
	tap_ok(efd >= 0 && !vdev_set_req_irq(d, efd), "request eventfd set");

	/* Tell the unbinder, which holds no reference to the device, to go. */
	ev = vdev_unbind_and_wait_req(go[1], efd, 20000);
	tap_ok(ev >= 1, "unbind asks the user to release the device (%llu requests)",
	       (unsigned long long)ev);

	/* The user lets go: mapping, handle, fds. */
	if (w)
		munmap((void *)w, LEN);
	vdev_close(&dv);
	close(efd);
	if (pid > 0 && waitpid(pid, &st, 0) != pid)
		st = -1;
	tap_ok(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	       "the unbind completes once the user unmapped and closed (status %#x)", st);

	drv[0] = '\0';
	ma_pci_driver(bdf, drv, sizeof(drv));
	n = pat_lookup(phys, phys + size, type);
	tap_ok(n == 0 && !drv[0],
	       "unbound: no PAT entry left on BAR2 (%d), no driver ('%s')", n, drv);

	tap_ok(!ma_pci_bind(bdf, "vfio-pci-memattr") &&
	       !ma_pci_driver(bdf, drv, sizeof(drv)) &&
	       !strcmp(drv, "vfio-pci-memattr"),
	       "bound to vfio-pci-memattr again (%s)", drv);

	opened = !vdev_open_mode(&dv, bdf, VDEV_GROUP);
	d = dv.fd;
	ret = opened ? ma_map1(d, 2, 0, LEN, VFIO_MEMATTR_WC, &mp) : -ENODEV;
	n = ret ? -1 : ma_nr_handles(d, 2);
	tap_ok(!ret && mp.attr == VFIO_MEMATTR_WC && n == 1,
	       "after rebind: open and MAP WC work, one handle (%d)", n);
	if (opened)
		vdev_close(&dv);
	return tap_done();
}
