// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * cmd_bind.c - vfio-memattr bind / unbind: move a device to
 * vfio-pci-memattr and back, never leaving it stranded (a failed bind is
 * rolled back; unbind also repairs what an interrupted bind left); the
 * vfio-pci flavour counts as a memattr driver.  vfio-memattr default: the
 * device's memattr_default (sysfs) and the module parameters behind it.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vfio-memattr.h"
#include "cli.h"
#include "spec.h"

static int run_modprobe(const char *mod)
{
	pid_t pid = fork();
	int st;

	if (pid < 0)
		return -errno;
	if (pid == 0) {
		execlp("modprobe", "modprobe", mod, (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &st, 0) < 0)
		return -errno;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -ENOENT;
}

/* Every other device of the group must be unbound or bound to a driver that
 * VFIO accepts in a viable group. */
static int group_viable(const char *bdf, const char *grp)
{
	char p[PATH_MAX], drv[64];
	struct dirent *de;
	int bad = 0;
	DIR *d;

	dev_path(p, sizeof(p), bdf, "iommu_group/devices");
	d = opendir(p);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' || !strcmp(de->d_name, bdf))
			continue;
		cur_driver(de->d_name, drv, sizeof(drv));
		if (!drv[0] || is_vfio_driver(drv) || !strcmp(drv, "pci-stub") ||
		    !strcmp(drv, "pcieport"))
			continue;
		fail(EBUSY, NULL, "%s: IOMMU group %s is not viable: %s is bound to %s; bind it to a "
		     "VFIO driver (\"%s bind %s\") or unbind it first", bdf, grp, de->d_name, drv,
		     prog, de->d_name);
		bad = 1;
	}
	closedir(d);
	return bad ? -EBUSY : 0;
}

static void state_path(char *out, size_t len, const char *bdf)
{
	snprintf(out, len, "%s/%s.driver", state_dir, bdf);
}

/* line 1: the driver, line 2: the driver_override to restore */
static bool read_state(const char *bdf, char *prev, size_t plen, char *ovr, size_t olen)
{
	char state[PATH_MAX];
	FILE *f;

	prev[0] = ovr[0] = 0;
	state_path(state, sizeof(state), bdf);
	f = fopen(state, "re");
	if (!f)
		return false;
	if (!fgets(prev, (int)plen, f) || !fgets(ovr, (int)olen, f))
		ovr[0] = 0;
	fclose(f);
	prev[strcspn(prev, "\n")] = 0;
	ovr[strcspn(ovr, "\n")] = 0;
	return true;
}

static int write_state(const char *bdf, const char *drv, const char *ovr)
{
	char state[PATH_MAX];
	FILE *f;

	if (mkdir(state_dir, 0755) < 0 && errno != EEXIST) {
		fail(errno, NULL, "%s: %s", state_dir, strerror(errno));
		return -1;
	}
	state_path(state, sizeof(state), bdf);
	f = fopen(state, "we");
	if (!f) {
		fail(errno, NULL, "%s: %s", state, strerror(errno));
		return -1;
	}
	fprintf(f, "%s\n%s\n", drv, ovr);
	if (fclose(f)) {
		fail(errno, NULL, "%s: %s", state, strerror(errno));
		return -1;
	}
	return 0;
}

static void forget_state(const char *bdf)
{
	char state[PATH_MAX];

	state_path(state, sizeof(state), bdf);
	unlink(state);
}

static int set_override(const char *bdf, const char *v)
{
	char p[PATH_MAX];

	dev_path(p, sizeof(p), bdf, "driver_override");
	return write_str(p, v && *v ? v : "\n");
}

static void probe(const char *bdf)
{
	char p[PATH_MAX];

	snprintf(p, sizeof(p), "%s/drivers_probe", sysfs_pci);
	write_str(p, bdf);
}

/*
 * Give the device back to @prev (which may match only through
 * driver_override, as vfio-pci does) and restore driver_override to @ovr.
 * @probe_any: let the kernel pick when no driver is remembered.
 */
static void give_back(const char *bdf, const char *prev, const char *ovr, bool probe_any)
{
	char drv[64];
	int ret;

	cur_driver(bdf, drv, sizeof(drv));
	if (!drv[0] && (prev[0] || probe_any)) {
		set_override(bdf, prev);
		probe(bdf);
	}
	ret = set_override(bdf, ovr);
	if (ret < 0)
		err("%s: restoring driver_override \"%s\": %s", bdf, ovr, strerror(-ret));
}

/* The outcome of bind or unbind: a line, or with --json one object. */
__attribute__((format(printf, 5, 6)))
static void report(struct cli_args *a, const char *bdf, const char *prev, bool changed,
		   const char *fmt, ...)
{
	char msg[512], drv[64];
	enum drv_kind k = driver_kind(bdf, drv, sizeof(drv));
	va_list ap;
	struct json j;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!a->json) {
		printf("%s\n", msg);
		return;
	}
	json_init(&j, stdout);
	json_obj(&j, NULL);
	json_str(&j, "bdf", bdf);
	json_str(&j, "driver", drv[0] ? drv : NULL);
	json_bool(&j, "memattr_driver", kind_is_memattr(k));
	json_str(&j, "previous_driver", prev && prev[0] ? prev : NULL);
	json_bool(&j, "changed", changed);
	/* in a group VFIO made up in its unsafe no-IOMMU mode */
	json_bool(&j, "noiommu", group_is_noiommu(bdf));
	json_str(&j, "message", msg);
	json_null(&j, "error");
	json_end(&j);
}

/* Why the kernel's vfio-pci is not enough, for messages ("" if it is not loaded). */
static const char *stock_note(void)
{
	return vfio_pci_is_flavour() == 0 ?
	       " (the loaded vfio-pci is the kernel's, without the memattr uAPI)" : "";
}

int cmd_bind(struct cli_args *a)
{
	char bdf[32], drv[64], grp[64], p[PATH_MAX], cur[64], ovr[64] = "", why[256];
	char sprev[64], sovr[64];
	const char *target = DRIVER;
	enum drv_kind kind;
	bool remembered, noiommu = false;
	struct stat st;
	int ret;

	if (check_bdf(a->pos[0], bdf, sizeof(bdf)))
		return 1;
	kind = driver_kind(bdf, drv, sizeof(drv));
	if (kind == DRV_MEMATTR) {
		report(a, bdf, NULL, false, "%s: already bound to %s", bdf, DRIVER);
		return 0;
	}
	if (kind == DRV_FLAVOUR) {
		report(a, bdf, NULL, false, "%s: already bound to %s, the vfio-memattr flavour "
		       "(memattr uAPI)", bdf, FLAVOUR_DRIVER);
		return 0;
	}
	if (iommu_group(bdf, grp, sizeof(grp)) < 0) {
		/* VFIO makes a no-IOMMU group for it at bind, if allowed to */
		int np = noiommu_param();

		if (np != 1) {
			fail(ENOENT, "on a machine without an IOMMU (EC2), VFIO's unsafe no-IOMMU "
			     "mode: vfio module parameter enable_unsafe_noiommu_mode=1, with a kernel "
			     "built with CONFIG_VFIO_NOIOMMU", "%s: the device has no IOMMU group: "
			     "enable the IOMMU (intel_iommu=on or amd_iommu=on on the kernel command "
			     "line); refusing to bind (%s)", bdf, np == 0 ?
			     "/sys/module/vfio/parameters/enable_unsafe_noiommu_mode is N" :
			     "no /sys/module/vfio/parameters/enable_unsafe_noiommu_mode: vfio not "
			     "loaded, or a kernel without CONFIG_VFIO_NOIOMMU");
			return 1;
		}
		noiommu = true;
		warn("%s: no IOMMU group, and vfio's enable_unsafe_noiommu_mode is Y: binding in "
		     "VFIO's unsafe no-IOMMU mode", bdf);
		grp[0] = 0;
	} else if (group_is_noiommu(bdf)) {
		noiommu = true;
	}
	ret = noiommu ? 0 : group_viable(bdf, grp);
	if (ret < 0) {
		if (ret != -EBUSY)
			fail(-ret, NULL, "%s: cannot list the devices of IOMMU group %s: %s", bdf, grp,
			     strerror(-ret));
		return 1;
	}
	/* as dpdk-devbind: never take a device from a kernel driver in use */
	if (drv[0] && !is_vfio_driver(drv) && device_in_use(bdf, why, sizeof(why))) {
		if (!a->force) {
			fail(EBUSY, "stop using it first, or use --force", "%s: in use by %s: %s",
			     bdf, drv, why);
			return 1;
		}
		err("%s: in use by %s (%s): unbinding anyway (--force)", bdf, drv, why);
	}
	snprintf(p, sizeof(p), "%s/drivers/" DRIVER, sysfs_pci);
	if (stat(p, &st) < 0 && (run_modprobe(MODULE) < 0 || stat(p, &st) < 0)) {
		/* the vfio-pci flavour alone (DKMS installs both) will do */
		snprintf(p, sizeof(p), "%s/drivers/" FLAVOUR_DRIVER, sysfs_pci);
		if (vfio_pci_is_flavour() == 1 && stat(p, &st) == 0) {
			target = FLAVOUR_DRIVER;
		} else {
			fail(ENOENT, "build and install the module from kernel/",
			     "driver %s is not available: \"modprobe %s\" failed%s", DRIVER,
			     MODULE, stock_note());
			return 1;
		}
	}
	dev_path(p, sizeof(p), bdf, "driver_override");
	if (read_str(p, ovr, sizeof(ovr)) < 0 || !strcmp(ovr, "(null)"))
		ovr[0] = 0;
	/* Keep the first remembered driver if we are re-binding from a VFIO
	 * driver we bound ourselves. */
	remembered = read_state(bdf, sprev, sizeof(sprev), sovr, sizeof(sovr));
	if ((!remembered || !is_vfio_driver(drv)) && write_state(bdf, drv, ovr) < 0)
		return 1;
	ret = set_override(bdf, target);
	if (ret < 0) {
		fail(-ret, "run as root", "%s: %s", p, strerror(-ret));
		goto rollback;
	}
	if (drv[0]) {
		dev_path(p, sizeof(p), bdf, "driver/unbind");
		ret = write_str(p, bdf);
		if (ret < 0) {
			fail(-ret, NULL, "%s: unbind from %s: %s", bdf, drv, strerror(-ret));
			goto rollback;
		}
	}
	snprintf(p, sizeof(p), "%s/drivers_probe", sysfs_pci);
	ret = write_str(p, bdf);
	cur_driver(bdf, cur, sizeof(cur));
	if (!strcmp(cur, target)) {
		/* a no-IOMMU group is made anew at each bind */
		if (iommu_group(bdf, grp, sizeof(grp)) < 0)
			snprintf(grp, sizeof(grp), "?");
		noiommu = noiommu || group_is_noiommu(bdf);
		if (noiommu)
			warn("%s: runs in VFIO's unsafe no-IOMMU mode (/dev/vfio/noiommu-%s): no DMA "
			     "isolation, the device DMAs to physical addresses; opening it needs "
			     "CAP_SYS_RAWIO, and the kernel is tainted", bdf, grp);
		report(a, bdf, drv, true, "%s: bound to %s%s (was %s%s, %sIOMMU group %s%s)", bdf,
		       target, strcmp(target, DRIVER) ? ", the vfio-memattr flavour" : "",
		       drv[0] ? drv : "no driver",
		       kind == DRV_STOCK_VFIO_PCI ? ", the kernel's, no memattr uAPI" : "",
		       noiommu ? "no-" : "", noiommu ? "noiommu-" : "", grp);
		return 0;
	}
	fail(ret < 0 ? -ret : ENODEV, "see dmesg", "%s: binding to %s failed (%s)", bdf, target,
	     ret < 0 ? strerror(-ret) : "driver did not take the device");
rollback:
	give_back(bdf, drv, ovr, false);
	if (remembered && is_vfio_driver(drv))
		write_state(bdf, sprev, sovr);	/* what it was */
	else
		forget_state(bdf);
	cur_driver(bdf, cur, sizeof(cur));
	if (strcmp(cur, drv))
		err("%s: rolled back, but the device is now on %s, not %s", bdf,
		    cur[0] ? cur : "no driver", drv[0] ? drv : "no driver");
	else
		err("%s: rolled back: %s again, driver_override restored", bdf,
		    drv[0] ? drv : "no driver");
	return 1;
}

int cmd_unbind(struct cli_args *a)
{
	char bdf[32], drv[64], prev[64], ovr[64], p[PATH_MAX], was[64];
	enum drv_kind kind;
	bool remembered;
	int ret;

	if (check_bdf(a->pos[0], bdf, sizeof(bdf)))
		return 1;
	remembered = read_state(bdf, prev, sizeof(prev), ovr, sizeof(ovr));
	kind = driver_kind(bdf, drv, sizeof(drv));
	if (!kind_is_memattr(kind)) {
		char cur_ovr[64] = "";

		dev_path(p, sizeof(p), bdf, "driver_override");
		if (read_str(p, cur_ovr, sizeof(cur_ovr)) < 0)
			cur_ovr[0] = 0;
		/* what an interrupted bind left: put it right */
		if (remembered || !strcmp(cur_ovr, DRIVER)) {
			give_back(bdf, prev, ovr, !remembered);
			forget_state(bdf);
			cur_driver(bdf, drv, sizeof(drv));
			report(a, bdf, prev, true, "%s: not bound to %s; stale bind state cleaned up, "
			       "now %s", bdf, DRIVER, drv[0] ? drv : "without driver");
			return 0;
		}
		if (kind == DRV_STOCK_VFIO_PCI)
			fail(ENODEV, "unbind it with the tool that bound it (driverctl, dpdk-devbind.py)",
			     "%s: bound to the kernel's %s, which has no memattr uAPI, not to %s or "
			     "the vfio-memattr %s; nothing to do", bdf, FLAVOUR_DRIVER, DRIVER,
			     FLAVOUR_DRIVER);
		else
			fail(ENODEV, NULL, "%s: not bound to %s or the vfio-memattr %s (driver: %s); "
			     "nothing to do", bdf, DRIVER, FLAVOUR_DRIVER, drv[0] ? drv : "none");
		return 1;
	}
	snprintf(was, sizeof(was), "%s", drv);
	/* The previous driver may match the device only through
	 * driver_override (vfio-pci): probe with the override set to it, then
	 * restore the override that was there before "bind". */
	ret = set_override(bdf, prev);
	if (ret < 0) {
		fail(-ret, "run as root", "%s: driver_override: %s", bdf, strerror(-ret));
		return 1;
	}
	dev_path(p, sizeof(p), bdf, "driver/unbind");
	ret = write_str(p, bdf);
	if (ret < 0) {
		fail(-ret, NULL, "%s: unbind from %s: %s", bdf, was, strerror(-ret));
		return 1;
	}
	if (prev[0] || !remembered)
		probe(bdf);
	ret = set_override(bdf, ovr);
	if (ret < 0)
		err("%s: restoring driver_override \"%s\": %s", bdf, ovr, strerror(-ret));
	forget_state(bdf);
	cur_driver(bdf, drv, sizeof(drv));
	if (prev[0] && strcmp(drv, prev)) {
		fail(EIO, NULL, "%s: unbound, but could not bind %s again (now: %s)", bdf, prev,
		     drv[0] ? drv : "no driver");
		return 1;
	}
	report(a, bdf, was, true, "%s: unbound from %s, now %s", bdf, was,
	       drv[0] ? drv : "without driver");
	return 0;
}

/*
 * vfio-memattr default: the device's memattr_default (the attribute of
 * legacy BAR mmaps, set by the administrator), with its opt-in and the
 * module parameters that give devices their defaults at bind.
 */
#define DEFAULT_MAX	32	/* operands, and module parameter items shown */

/* the attribute as the kernel's memattr_default spells it */
static const char *sysfs_attr(enum vfio_memattr a)
{
	return a == VFIO_MEMATTR_WC ? "wc" : a == VFIO_MEMATTR_DEV ? "dev" : "nc";
}

struct default_state {
	char drv[64], module[32], def[128], npw[16];
	char param[4096], mnpw[16];
	bool have_param, have_mnpw;
	unsigned int vendor, device;
	/* items of the module parameter for this device, malformed ones */
	char mine[DEFAULT_MAX][64], bad[DEFAULT_MAX][64];
	unsigned int nmine, nbad;
};

static unsigned int hex_attr(const char *bdf, const char *attr)
{
	char p[PATH_MAX], v[32];

	dev_path(p, sizeof(p), bdf, attr);
	return read_str(p, v, sizeof(v)) ? 0xffffffffu : (unsigned int)strtoul(v, NULL, 16);
}

static void read_default_state(const char *bdf, struct default_state *st)
{
	char p[PATH_MAX];
	const char *s;

	dev_path(p, sizeof(p), bdf, "memattr_default");
	if (read_str(p, st->def, sizeof(st->def)))
		snprintf(st->def, sizeof(st->def), "?");
	dev_path(p, sizeof(p), bdf, "memattr_nonprefetchable_wc");
	if (read_str(p, st->npw, sizeof(st->npw)))
		st->npw[0] = 0;
	module_param_path(p, sizeof(p), st->module, "default_memattr");
	st->have_param = read_str(p, st->param, sizeof(st->param)) == 0;
	if (!st->have_param || !strcmp(st->param, "(null)"))
		st->param[0] = 0;
	module_param_path(p, sizeof(p), st->module, "nonprefetchable_wc");
	st->have_mnpw = read_str(p, st->mnpw, sizeof(st->mnpw)) == 0;
	st->vendor = hex_attr(bdf, "vendor");
	st->device = hex_attr(bdf, "device");
	/* the items as the kernel splits them: ',' separated, blanks trimmed */
	st->nmine = st->nbad = 0;
	for (s = st->param; *s;) {
		size_t n = strcspn(s, ","), len = n;
		const char *item = s;
		struct vm_default_item it;

		while (len && (*item == ' ' || *item == '\t' || *item == '\n')) {
			item++;
			len--;
		}
		while (len && (item[len - 1] == ' ' || item[len - 1] == '\t' || item[len - 1] == '\n'))
			len--;
		if (len && vm_parse_default_item(item, len, &it, NULL, 0)) {
			if (st->nbad < DEFAULT_MAX)
				snprintf(st->bad[st->nbad++], sizeof(st->bad[0]), "%.*s", (int)len, item);
		} else if (len && vm_default_item_applies(&it, bdf, st->vendor, st->device)) {
			if (st->nmine < DEFAULT_MAX)
				snprintf(st->mine[st->nmine++], sizeof(st->mine[0]), "%.*s", (int)len,
					 item);
		}
		s += n;
		if (*s)
			s++;
	}
}

static const char *default_hint(int e)
{
	switch (e) {
	case EBUSY:
		return "the device is open: set it before the program opens the device, or after it "
		       "closes it";
	case EPERM:
		return "WC on a non-prefetchable BAR needs the opt-in (memattr_nonprefetchable_wc, "
		       "or module parameter nonprefetchable_wc for devices bound later); the BAR "
		       "holding the MSI-X table is never WC";
	case EOPNOTSUPP:
		return "not a memory BAR this driver can map with that attribute";
	case EACCES:
		return "run as root";
	default:
		return NULL;
	}
}

static void print_default(struct cli_args *a, const char *bdf, struct default_state *st,
			  struct vm_default_item *set, int nset, int done, int err_e)
{
	unsigned int i;
	int k;

	if (a->json) {
		struct json j;
		char tmp[160];
		const char *s;

		json_init(&j, stdout);
		json_obj(&j, NULL);
		json_str(&j, "bdf", bdf);
		json_str(&j, "driver", st->drv);
		json_str(&j, "module", st->module);
		json_str(&j, "memattr_default_text", st->def);
		json_arr(&j, "memattr_default");
		for (s = st->def; *s && strcmp(st->def, "?");) {
			size_t n = strcspn(s, " ");

			snprintf(tmp, sizeof(tmp), "%.*s", (int)n, s);
			if (strlen(tmp) > 2 && tmp[1] == ':')
				json_record(&j, NULL, "us", "bar", (uint64_t)(tmp[0] - '0'), "attr",
					    tmp + 2);
			s += n;
			while (*s == ' ')
				s++;
		}
		json_end(&j);
		if (st->npw[0])
			json_bool(&j, "nonprefetchable_wc", !strcmp(st->npw, "1"));
		else
			json_null(&j, "nonprefetchable_wc");
		json_arr(&j, "set");
		for (k = 0; k < nset; k++) {
			snprintf(tmp, sizeof(tmp), "%u:%s", set[k].bar,
				 sysfs_attr(set[k].attr));
			json_obj(&j, NULL);
			json_str(&j, "item", tmp);
			json_bool(&j, "ok", k < done);
			json_str(&j, "status", k < done ? "set" : k == done && err_e ? "failed" :
				 "not tried");
			json_end(&j);
		}
		json_end(&j);
		json_obj(&j, "module_parameters");
		json_str(&j, "default_memattr", st->have_param ? st->param : NULL);
		if (st->have_mnpw)
			json_bool(&j, "nonprefetchable_wc", st->mnpw[0] == 'Y' || st->mnpw[0] == '1');
		else
			json_null(&j, "nonprefetchable_wc");
		json_arr(&j, "items_for_device");
		for (i = 0; i < st->nmine; i++)
			json_str(&j, NULL, st->mine[i]);
		json_end(&j);
		json_arr(&j, "malformed_items");
		for (i = 0; i < st->nbad; i++)
			json_str(&j, NULL, st->bad[i]);
		json_end(&j);
		json_end(&j);
		if (err_e)
			json_error(&j, "error", err_e);
		else
			json_null(&j, "error");
		json_end(&j);
		return;
	}
	for (k = 0; k < done; k++)
		printf("%s: memattr_default: set %u:%s\n", bdf, set[k].bar,
		       sysfs_attr(set[k].attr));
	printf("%s: driver %s (module %s)\n", bdf, st->drv, st->module);
	printf("  memattr_default: %s\n", st->def[0] ? st->def :
	       "none (legacy mmaps of every BAR are nc, as under vfio-pci)");
	if (st->npw[0])
		printf("  memattr_nonprefetchable_wc: %s\n", st->npw);
	if (st->have_param) {
		printf("  module %s: default_memattr=%s\n", st->module, st->param);
		if (st->nmine) {
			printf("    items for this device (applied at its next bind):");
			for (i = 0; i < st->nmine; i++)
				printf(" %s", st->mine[i]);
			printf("\n");
		}
		for (i = 0; i < st->nbad; i++)
			printf("    malformed item, ignored by the kernel: %s\n", st->bad[i]);
	}
	if (st->have_mnpw)
		printf("  module %s: nonprefetchable_wc=%s (devices bound later)\n", st->module,
		       st->mnpw);
}

int cmd_default(struct cli_args *a)
{
	struct vm_default_item set[DEFAULT_MAX];
	struct default_state st;
	char bdf[32], p[PATH_MAX], e[256], val[16];
	enum drv_kind kind;
	int i, nset = a->npos - 1, done, err_e = 0, rc = 0;

	/* every operand is checked before anything is written */
	if (nset > DEFAULT_MAX) {
		fail(EINVAL, NULL, "at most %d BAR:ATTR operands", DEFAULT_MAX);
		return 2;
	}
	for (i = 0; i < nset; i++) {
		const char *s = a->pos[i + 1];

		if (vm_parse_default_item(s, strlen(s), &set[i], e, sizeof(e)) ||
		    set[i].sel != VM_SEL_ANY) {
			fail(EINVAL, "BAR 0..5, ATTR nc, wc or dev: e.g. 2:wc",
			     "\"%s\" is not BAR:ATTR", s);
			return 2;
		}
	}
	if (check_bdf(a->pos[0], bdf, sizeof(bdf)))
		return 1;
	memset(&st, 0, sizeof(st));
	kind = driver_kind(bdf, st.drv, sizeof(st.drv));
	if (!kind_is_memattr(kind)) {
		if (kind == DRV_STOCK_VFIO_PCI)
			fail(ENODEV, "install the vfio-memattr vfio-pci flavour, or \"vfio-memattr "
			     "bind\" the device to " DRIVER,
			     "%s: bound to the kernel's %s, which has no memattr uAPI and no "
			     "memattr_default", bdf, FLAVOUR_DRIVER);
		else
			fail(ENODEV, "\"vfio-memattr bind\" it first",
			     "%s: not bound to %s or the vfio-memattr %s (driver: %s)", bdf, DRIVER,
			     FLAVOUR_DRIVER, st.drv[0] ? st.drv : "none");
		return 4;
	}
	snprintf(st.module, sizeof(st.module), "%s", kind == DRV_MEMATTR ? MODULE : FLAVOUR_MODULE);
	dev_path(p, sizeof(p), bdf, "memattr_default");
	for (done = 0; done < nset; done++) {
		int ret;

		snprintf(val, sizeof(val), "%u:%s", set[done].bar,
			 sysfs_attr(set[done].attr));
		ret = write_str(p, val);
		if (ret < 0) {
			err_e = -ret;
			fail(err_e, default_hint(err_e), "%s: memattr_default \"%s\": %s%s", bdf, val,
			     strerror(err_e), done ? " (the operands before it were set)" : "");
			rc = err_e == EBUSY ? 3 : 1;
			break;
		}
	}
	read_default_state(bdf, &st);
	print_default(a, bdf, &st, set, nset, done, err_e);
	return rc;
}
