// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * memattr_default_sel - device selectors of the module parameter
 * default_memattr ("[VVVV:DDDD@|SSSS:BB:DD.F@]BAR:ATTR,..."): an item is
 * applied, when a device binds, only to the devices it names.
 *
 * Two devices of the same vendor:device (ivshmem0 and bench0, 1af4:1110,
 * both bound to the memattr driver): the parameter is written through
 * /sys/module/<module>/parameters/default_memattr and both devices are
 * rebound (unbind + drivers_probe: "applied at bind"), then read back:
 * memattr_default of each, the PAT list of a plain VFIO mmap of BAR2 at its
 * region offset, and the kernel log lines of the bind (applied, refused
 * with the errno, malformed).  Last, one real reload of the module with the
 * parameter on the modprobe command line (not with the vfio-pci flavour),
 * after which every device the lab bound to the driver is bound again.
 * The parameter is empty again at the end.
 *
 * Slices: none written (BAR2 of both devices is mapped and read only).
 */
#define _GNU_SOURCE
#define _FILE_OFFSET_BITS 64
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lib/tap.h"
#include "lib/sysfs.h"
#include "lib/vfio.h"
#include "lib/memattr.h"
#include "lib/mmio.h"
#include "lib/kmsg.h"
#include "lib/pat.h"
#include "lib/cli.h"

#define NTESTS		13
#define LEGACY(bar)	((uint64_t)(bar) << 40)

static const char *dev_a, *dev_b;	/* ivshmem0, bench0 */
static char drv[64], mod[64], param[256];
static char klog[32768];		/* the default_memattr lines of the last bind */

static void read_def(const char *bdf, char *buf, size_t len)
{
	char p[256];

	snprintf(p, sizeof(p), "/sys/bus/pci/devices/%s/memattr_default", bdf);
	if (sysfs_read_str(p, buf, len))
		snprintf(buf, len, "(unreadable)");
}

/* unbind + drivers_probe (driver_override stays): bound to drv again? */
static int rebind(const char *bdf)
{
	char p[256], cur[64];

	snprintf(p, sizeof(p), "/sys/bus/pci/devices/%s/driver/unbind", bdf);
	if (sysfs_write_str(p, bdf))
		return -1;
	sysfs_write_str("/sys/bus/pci/drivers_probe", bdf);
	ma_pci_driver(bdf, cur, sizeof(cur));
	if (strcmp(cur, drv)) {
		tap_diag("%s: bound to '%s' after the rebind, want %s", bdf, cur, drv);
		return -1;
	}
	return 0;
}

static void collect(const char *line, void *ctx)
{
	size_t n = strlen(klog);

	(void)ctx;
	snprintf(klog + n, sizeof(klog) - n, "%s\n", line);
}

/* Lines of klog of device @bdf ("<bdf>: " in the prefix) holding @what. */
static int klog_count(const char *bdf, const char *what)
{
	const char *l = klog;
	char dev[64];
	int n = 0;

	snprintf(dev, sizeof(dev), " %s: ", bdf);

	while (*l) {
		const char *e = strchr(l, '\n');
		char line[1024];
		size_t len = e ? (size_t)(e - l) : strlen(l);

		snprintf(line, sizeof(line), "%.*s", (int)len, l);
		if (strstr(line, dev) && strstr(line, what))
			n++;
		l += len + (e ? 1 : 0);
	}
	return n;
}

/* "<bdf>: default_memattr: item '<item>' <verb>" */
static int logged(const char *bdf, const char *item, const char *verb)
{
	char what[512];

	snprintf(what, sizeof(what), ": default_memattr: item '%s' %s", item, verb);
	return klog_count(bdf, what);
}

static void show_klog(void)
{
	const char *l = klog;

	while (*l) {
		const char *e = strchr(l, '\n');
		int len = e ? (int)(e - l) : (int)strlen(l);

		tap_diag("kernel log: %.*s", len, l);
		l += len + (e ? 1 : 0);
	}
}

/*
 * Write @val to the parameter, rebind both devices, read their settings
 * into @a and @b (64 bytes) and the bind's log lines into klog.  0 or -1.
 */
static int apply(const char *val, char *a, char *b)
{
	static const char *const pats[] = { "default_memattr", NULL };
	int fd = kmsg_open_end(), rc;

	klog[0] = 0;
	a[0] = b[0] = 0;
	rc = sysfs_write_str(param, val);
	if (rc)
		tap_diag("writing '%s' to %s: %s", val, param, ma_errname(-rc));
	else
		rc = rebind(dev_a) | rebind(dev_b);
	read_def(dev_a, a, 64);
	read_def(dev_b, b, 64);
	if (fd >= 0) {
		kmsg_scan(fd, pats, collect, NULL);
		close(fd);
	} else {
		tap_diag("cannot read /dev/kmsg: %s", ma_errname(-fd));
		rc = -1;
	}
	return rc ? -1 : 0;
}

static bool both(const char *a, const char *b, const char *wa, const char *wb)
{
	if (!strcmp(a, wa) && !strcmp(b, wb))
		return true;
	tap_diag("memattr_default: %s '%s' (want '%s'), %s '%s' (want '%s')",
		 dev_a, a, wa, dev_b, b, wb);
	return false;
}

/* A plain VFIO open and mmap of BAR2 at its region offset: the PAT list. */
static bool legacy_pat(const char *bdf, const char *type)
{
	uint64_t bp = 0, bsz = 0;
	struct pat_expect exp;
	volatile uint8_t *p;
	struct vdev d;
	bool ok;

	if (ma_bar_phys(bdf, 2, &bp, &bsz) || !bsz || vdev_open(&d, bdf)) {
		tap_diag("%s: no BAR2 or cannot open", bdf);
		return false;
	}
	p = ma_map_fd(d.fd, LEGACY(2), bsz);
	ok = p != NULL;
	if (p) {
		(void)p[0];	/* faulted in */
		exp = (struct pat_expect){ bp, bp + bsz, type };
		/* WC: an entry of exactly the BAR; UC-: nothing of another type */
		ok = pat_check_bar(bp, bp + bsz, &exp, 1, 1);
		if (ok && !strcmp(type, "uncached-minus"))
			ok = pat_none_of(bp, bp + bsz, "write-combining");
		munmap((void *)p, bsz);
	}
	vdev_close(&d);
	if (!ok)
		tap_diag("%s: legacy mmap of BAR2 is not %s in the PAT list", bdf, type);
	return ok;
}

static bool module_loaded(void)
{
	char p[128];

	snprintf(p, sizeof(p), "/sys/module/%s", mod);
	return access(p, F_OK) == 0;
}

/* 12: one real reload, parameter on the command line */
static void reload(void)
{
	static const char *const vars[] = {
		"MEMATTR_IVSHMEM0", "MEMATTR_NVME", "MEMATTR_EDU", "MEMATTR_BENCH0",
		"MEMATTR_BIGBAR",
	};
	const char *bdfs[5];
	bool was[5], ok = true;
	char cmd[512], a[64], b[64], cur[64], refcnt[32] = "?";
	unsigned int i;
	int rc;

	if (strcmp(mod, "vfio_pci_memattr")) {
		tap_skip("the vfio-pci flavour is reloaded by lab/vfiopci", "reload of %s", mod);
		return;
	}
	snprintf(cmd, sizeof(cmd), "/sys/module/%s/refcnt", mod);
	if (sysfs_read_str(cmd, refcnt, sizeof(refcnt)) || strcmp(refcnt, "0")) {
		tap_skip("the module is in use", "reload of %s (refcnt %s)", mod, refcnt);
		return;
	}
	for (i = 0; i < 5; i++) {
		bdfs[i] = ma_bdf(vars[i], NULL, 0);
		cur[0] = 0;
		if (bdfs[i])
			ma_pci_driver(bdfs[i], cur, sizeof(cur));
		was[i] = !strcmp(cur, drv);
	}
	rc = system("modprobe -r vfio_pci_memattr 2>&1");
	if (module_loaded())
		rc = system("rmmod vfio_pci_memattr 2>&1");
	if (module_loaded()) {
		tap_diag("modprobe -r vfio_pci_memattr: status %d, still loaded", rc);
		ok = false;
	}
	ma_pci_driver(dev_a, cur, sizeof(cur));
	if (ok && cur[0]) {
		tap_diag("%s still bound to '%s' without the module", dev_a, cur);
		ok = false;
	}
	klog[0] = 0;
	{
		static const char *const pats[] = { "default_memattr", NULL };
		int fd = kmsg_open_end();

		snprintf(cmd, sizeof(cmd), "modprobe vfio_pci_memattr default_memattr=%s@2:wc 2>&1",
			 dev_a);
		rc = system(cmd);
		if (rc || !module_loaded()) {
			tap_diag("'%s': status %d", cmd, rc);
			ok = false;
		}
		if (fd >= 0) {
			kmsg_scan(fd, pats, collect, NULL);
			close(fd);
		}
	}
	read_def(dev_a, a, sizeof(a));
	read_def(dev_b, b, sizeof(b));
	ok = both(a, b, "2:wc", "") && ok;
	snprintf(cmd, sizeof(cmd), "%s@2:wc", dev_a);
	if (logged(dev_a, cmd, "applied") != 1 || klog_count(dev_b, "default_memattr")) {
		show_klog();
		ok = false;
	}
	ok = ok && legacy_pat(dev_a, "write-combining") && legacy_pat(dev_b, "uncached-minus");

	/* the lab's state again: loaded without parameters, devices bound */
	rc = system("modprobe -r vfio_pci_memattr 2>&1");
	if (module_loaded())
		rc = system("rmmod vfio_pci_memattr 2>&1");
	if (!module_loaded())
		rc = system("modprobe vfio_pci_memattr 2>&1");
	if (rc || !module_loaded()) {
		tap_diag("reloading without parameters: status %d", rc);
		ok = false;
	}
	for (i = 0; i < 5; i++) {
		if (!was[i])
			continue;
		ma_pci_driver(bdfs[i], cur, sizeof(cur));
		if (strcmp(cur, drv) && ma_pci_bind(bdfs[i], drv)) {
			tap_diag("%s: '%s' after the reload, want %s", bdfs[i], cur, drv);
			ok = false;
		}
	}
	read_def(dev_a, a, sizeof(a));
	read_def(dev_b, b, sizeof(b));
	sysfs_read_str(param, cur, sizeof(cur));
	ok = both(a, b, "", "") && ok;
	tap_ok(ok, "modprobe -r; modprobe vfio_pci_memattr default_memattr=%s@2:wc: only %s has 2:wc "
	       "(PAT write-combining), %s none (uncached-minus); reloaded without it, every device "
	       "bound again, no default (parameter '%s')", dev_a, dev_a, dev_b, cur);
}

int main(void)
{
	char a[64], b[64], va[16], vb[16], da[16], db[16], item[64], val[1024], cur[64];
	const char *flav = getenv("MEMATTR_FLAVOUR_DRIVER");
	bool ok;
	unsigned int i;

	tap_plan(NTESTS);
	dev_a = ma_bdf_or_skip("MEMATTR_IVSHMEM0");
	dev_b = ma_bdf_or_skip("MEMATTR_BENCH0");
	ma_pci_driver(dev_a, drv, sizeof(drv));
	ma_pci_driver(dev_b, cur, sizeof(cur));
	if (strcmp(drv, cur) || (strcmp(drv, "vfio-pci-memattr") && strcmp(drv, "vfio-pci"))) {
		tap_skip_rest_of(NTESTS, "ivshmem0 and bench0 are not both bound to the memattr driver");
		return tap_done();
	}
	/* vfio-pci here is the flavour (lab/vfiopci): module vfio_pci */
	snprintf(mod, sizeof(mod), "%s", !strcmp(drv, "vfio-pci") ? "vfio_pci" : "vfio_pci_memattr");
	if (flav && strcmp(flav, drv))
		tap_diag("MEMATTR_FLAVOUR_DRIVER=%s, devices on %s", flav, drv);
	snprintf(param, sizeof(param), "/sys/module/%s/parameters/default_memattr", mod);
	kmsg_mark();

	/* 1: two devices that only their address tells apart */
	{
		char p[256];

		snprintf(p, sizeof(p), "/sys/bus/pci/devices/%s/vendor", dev_a);
		sysfs_read_str(p, va, sizeof(va));
		snprintf(p, sizeof(p), "/sys/bus/pci/devices/%s/device", dev_a);
		sysfs_read_str(p, da, sizeof(da));
		snprintf(p, sizeof(p), "/sys/bus/pci/devices/%s/vendor", dev_b);
		sysfs_read_str(p, vb, sizeof(vb));
		snprintf(p, sizeof(p), "/sys/bus/pci/devices/%s/device", dev_b);
		sysfs_read_str(p, db, sizeof(db));
	}
	ok = !strcmp(va, "0x1af4") && !strcmp(da, "0x1110") && !strcmp(vb, va) && !strcmp(db, da) &&
	     !apply("\n", a, b) && both(a, b, "", "");
	tap_ok(ok, "%s and %s: both %s:%s on %s, no default with default_memattr empty", dev_a,
	       dev_b, va, da, drv);
	if (!ok) {
		tap_skip_rest_of(NTESTS - 1, "the devices are not as the test needs them");
		goto restore;
	}

	/* 2-3: a PCI address selector */
	snprintf(item, sizeof(item), "%s@2:wc", dev_a);
	ok = !apply(item, a, b) && both(a, b, "2:wc", "");
	if (ok && (logged(dev_a, item, "applied") != 1 || klog_count(dev_b, "default_memattr"))) {
		show_klog();
		ok = false;
	}
	tap_ok(ok, "default_memattr=%s: %s reads '%s', %s '%s'; logged as applied for %s only",
	       item, dev_a, a, dev_b, b, dev_a);
	ok = legacy_pat(dev_a, "write-combining");
	ok = legacy_pat(dev_b, "uncached-minus") && ok;
	tap_ok(ok, "plain mmap of BAR2: write-combining for exactly the BAR on %s, uncached-minus on %s",
	       dev_a, dev_b);

	/* 4: a vendor:device selector, either case */
	ok = !apply("1AF4:1110@2:WC", a, b) && both(a, b, "2:wc", "2:wc");
	tap_ok(ok, "default_memattr=1AF4:1110@2:WC: both devices read '2:wc' ('%s', '%s')", a, b);

	/* 5: selectors of other devices */
	ok = !apply("8086:1110@2:wc,1af4:1111@2:wc,1b36:1110@2:wc,0000:00:1f.7@2:wc,0001:00:02.0@2:wc",
		    a, b) && both(a, b, "", "");
	if (ok && klog[0]) {
		show_klog();
		ok = false;
	}
	tap_ok(ok, "items for other vendor:device pairs and other addresses: no default, nothing logged");

	/* 6: a later item wins */
	snprintf(val, sizeof(val), "1af4:1110@2:wc,%s@2:nc", dev_b);
	ok = !apply(val, a, b) && both(a, b, "2:wc", "");
	tap_ok(ok, "default_memattr=%s: '%s', '%s'", val, a, b);

	/* 7: malformed items: each logged once per bind, nothing applied */
	{
		static const char *const bad[] = {
			"1af4:111@2:wc", "1af4:11100@2:wc", "1af4-1110@2:wc", "1af4:111g@2:wc",
			"0000:00:2.0@2:wc", "0000:0:02.0@2:wc", "0000:00:20.0@2:wc",
			"0000:00:02.8@2:wc", "0000.00:02.0@2:wc", "00000:00:02.0@2:wc",
			"@2:wc", "1af4:1110@", "1af4:1110@2wc", "1af4:1110@6:wc", "1af4:1110@2:uc",
			"1af4:1110 @2:wc", "1af4:1110@ 2:wc", "1af4:1110@2:wc@", "1af4:1110@@2:wc",
			"2:wc x", "1af4:1110@2:wc2", "0x1af4:1110@2:wc",
		};
		size_t n = 0;

		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
			n += (size_t)snprintf(val + n, sizeof(val) - n, "%s%s", i ? "," : "", bad[i]);
		ok = !apply(val, a, b) && both(a, b, "", "");
		for (i = 0; ok && i < sizeof(bad) / sizeof(bad[0]); i++) {
			int na = logged(dev_a, bad[i], "is malformed (-22)");
			int nb = logged(dev_b, bad[i], "is malformed (-22)");

			if (na != 1 || nb != 1) {
				tap_diag("'%s': logged malformed %d times for %s, %d for %s (want 1)",
					 bad[i], na, dev_a, nb, dev_b);
				ok = false;
			}
		}
		if (!ok)
			show_klog();
		tap_ok(ok, "%zu malformed items (widths, digits, separators, blanks, BAR, attribute, "
		       "trailing junk): no default, each logged once per bind with -22",
		       sizeof(bad) / sizeof(bad[0]));
	}

	/* 8: a malformed item does not stop the others */
	snprintf(val, sizeof(val), "1af4:111@2:wc,%s@2:wc", dev_a);
	ok = !apply(val, a, b) && both(a, b, "2:wc", "") &&
	     logged(dev_a, "1af4:111@2:wc", "is malformed (-22)") == 1;
	if (!ok)
		show_klog();
	tap_ok(ok, "default_memattr=%s: the good item is applied ('%s', '%s')", val, a, b);

	/* 9: refused items name the errno */
	{
		char i0[64], i1[64];

		snprintf(i0, sizeof(i0), "%s@0:wc", dev_a);
		snprintf(i1, sizeof(i1), "%s@1:wc", dev_a);
		snprintf(val, sizeof(val), "%s,%s,%s@2:wc", i0, i1, dev_a);
		ok = !apply(val, a, b) && both(a, b, "2:wc", "") &&
		     logged(dev_a, i0, "not applied (-1)") == 1 &&
		     logged(dev_a, i1, "not applied (-95)") == 1 &&
		     !klog_count(dev_b, "default_memattr");
		if (!ok)
			show_klog();
		tap_ok(ok, "default_memattr=%s: BAR0 (non-prefetchable) refused with EPERM (-1), BAR1 "
		       "(none) with EOPNOTSUPP (-95), both logged; BAR2 applied", val);
	}

	/* 10: no selector: every device */
	ok = !apply(" 2:wc ", a, b) && both(a, b, "2:wc", "2:wc");
	tap_ok(ok, "default_memattr=' 2:wc ' (no selector): both devices ('%s', '%s')", a, b);

	/* 11: empty again */
	ok = !apply("\n", a, b) && both(a, b, "", "");
	tap_ok(ok, "default_memattr empty again: rebound devices have no default");

	/* 12: the CLI's "default" on the same sysfs attribute */
	{
		const char *other = ma_bdf("MEMATTR_IVSHMEM1", NULL, 0);
		struct vdev d;
		int rc;

		ok = true;
		if (vdev_open(&d, dev_a)) {
			tap_diag("cannot open %s", dev_a);
			ok = false;
		} else {
			rc = cli_run("default %s 2:wc", dev_a);
			read_def(dev_a, a, sizeof(a));
			if (rc != 3 || !text_has(cli_err, "the device is open") || strcmp(a, "")) {
				tap_diag("while open: exit %d (want 3), memattr_default '%s'", rc, a);
				cli_dump();
				ok = false;
			}
			vdev_close(&d);
		}
		rc = cli_run("default %s 2:wc --json", dev_a);
		read_def(dev_a, a, sizeof(a));
		if (rc || !text_has(cli_out, "\"memattr_default_text\":\"2:wc\"") || strcmp(a, "2:wc")) {
			tap_diag("closed: exit %d (want 0), memattr_default '%s'", rc, a);
			cli_dump();
			ok = false;
		}
		rc = cli_run("default %s 0:wc", dev_a);
		if (rc != 1 || !text_has(cli_err, "Operation not permitted")) {
			tap_diag("0:wc: exit %d (want 1, EPERM)", rc);
			cli_dump();
			ok = false;
		}
		rc = cli_run("default %s 2:nc", dev_a);
		read_def(dev_a, a, sizeof(a));
		if (rc || strcmp(a, "")) {
			tap_diag("2:nc: exit %d, memattr_default '%s'", rc, a);
			ok = false;
		}
		if (other && !strcmp(drv, "vfio-pci-memattr")) {
			ma_pci_driver(other, cur, sizeof(cur));
			rc = cli_run("default %s", other);
			/* the kernel's vfio-pci: no max_handles parameter */
			if (!strcmp(cur, "vfio-pci") &&
			    access("/sys/module/vfio_pci/parameters/max_handles", F_OK) &&
			    (rc != 4 || !text_has(cli_err, "the kernel's vfio-pci"))) {
				tap_diag("%s on the kernel's vfio-pci: exit %d (want 4)", other, rc);
				cli_dump();
				ok = false;
			}
		}
		tap_ok(ok, "vfio-memattr default: EBUSY while open (exit 3), sets 2:wc when closed, "
		       "EPERM for 0:wc (exit 1), 2:nc clears; the kernel's vfio-pci: exit 4");
	}

	reload();

restore:
	sysfs_write_str(param, "\n");
	if (sysfs_read_str(param, cur, sizeof(cur)) == 0 && cur[0])
		tap_diag("%s reads '%s' at the end", param, cur);
	/* defaults set by this test while bound: gone with the rebinds, cleared anyway */
	{
		char p[256];

		snprintf(p, sizeof(p), "/sys/bus/pci/devices/%s/memattr_default", dev_a);
		sysfs_write_str(p, "2:nc");
		snprintf(p, sizeof(p), "/sys/bus/pci/devices/%s/memattr_default", dev_b);
		sysfs_write_str(p, "2:nc");
	}
	if (kmsg_reports() > 0)
		tap_diag("kernel reports while the test ran (see above)");
	return tap_done();
}
