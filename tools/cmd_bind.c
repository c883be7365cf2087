// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * cmd_bind.c - vfio-memattr bind / unbind: move a device to
 * vfio-pci-memattr and back, never leaving it stranded (a failed bind is
 * rolled back; unbind also repairs what an interrupted bind left).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vfio-memattr.h"
#include "cli.h"

static int run_modprobe(void)
{
	pid_t pid = fork();
	int st;

	if (pid < 0)
		return -errno;
	if (pid == 0) {
		execlp("modprobe", "modprobe", MODULE, (char *)NULL);
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

int cmd_bind(struct cli_args *a)
{
	char bdf[32], drv[64], grp[64], p[PATH_MAX], cur[64], ovr[64] = "", why[256];
	char sprev[64], sovr[64];
	bool remembered;
	struct stat st;
	int ret;

	if (check_bdf(a->pos[0], bdf, sizeof(bdf)))
		return 1;
	cur_driver(bdf, drv, sizeof(drv));
	if (!strcmp(drv, DRIVER)) {
		printf("%s: already bound to %s\n", bdf, DRIVER);
		return 0;
	}
	if (iommu_group(bdf, grp, sizeof(grp)) < 0) {
		fail(ENOENT, NULL, "%s: the device has no IOMMU group: enable the IOMMU "
		     "(intel_iommu=on or amd_iommu=on on the kernel command line); refusing to "
		     "bind", bdf);
		return 1;
	}
	ret = group_viable(bdf, grp);
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
	if (stat(p, &st) < 0) {
		if (run_modprobe() < 0 || stat(p, &st) < 0) {
			fail(ENOENT, "build and install the module from kernel/",
			     "driver %s is not available: \"modprobe %s\" failed", DRIVER, MODULE);
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
	ret = set_override(bdf, DRIVER);
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
	if (!strcmp(cur, DRIVER)) {
		printf("%s: bound to %s (was %s, IOMMU group %s)\n", bdf, DRIVER,
		       drv[0] ? drv : "no driver", grp);
		return 0;
	}
	fail(ret < 0 ? -ret : ENODEV, "see dmesg", "%s: binding to %s failed (%s)", bdf, DRIVER,
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
	char bdf[32], drv[64], prev[64], ovr[64], p[PATH_MAX];
	bool remembered;
	int ret;

	if (check_bdf(a->pos[0], bdf, sizeof(bdf)))
		return 1;
	remembered = read_state(bdf, prev, sizeof(prev), ovr, sizeof(ovr));
	cur_driver(bdf, drv, sizeof(drv));
	if (strcmp(drv, DRIVER)) {
		char cur_ovr[64] = "";

		dev_path(p, sizeof(p), bdf, "driver_override");
		if (read_str(p, cur_ovr, sizeof(cur_ovr)) < 0)
			cur_ovr[0] = 0;
		/* what an interrupted bind left: put it right */
		if (remembered || !strcmp(cur_ovr, DRIVER)) {
			give_back(bdf, prev, ovr, !remembered);
			forget_state(bdf);
			cur_driver(bdf, drv, sizeof(drv));
			printf("%s: not bound to %s; stale bind state cleaned up, now %s\n", bdf,
			       DRIVER, drv[0] ? drv : "without driver");
			return 0;
		}
		fail(ENODEV, NULL, "%s: not bound to %s (driver: %s); nothing to do", bdf, DRIVER,
		     drv[0] ? drv : "none");
		return 1;
	}
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
		fail(-ret, NULL, "%s: unbind from %s: %s", bdf, DRIVER, strerror(-ret));
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
	printf("%s: unbound from %s, now %s\n", bdf, DRIVER, drv[0] ? drv : "without driver");
	return 0;
}
