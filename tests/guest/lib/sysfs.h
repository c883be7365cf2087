/* SPDX-License-Identifier: GPL-2.0-only OR MIT */
/*
 * sysfs.h - files, sysfs and PCI devices of the guest tests: reading and
 * writing sysfs/debugfs files, the driver a device is bound to, binding it,
 * its BAR addresses, the module's debugfs stats.
 *
 * Every helper returning int returns 0 (or a count) on success and a
 * negative errno value on failure.
 */
#ifndef MEMATTR_TEST_SYSFS_H
#define MEMATTR_TEST_SYSFS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define MA_PARAM_DIR "/sys/module/vfio_pci_memattr/parameters"

/* Reads up to size-1 bytes, NUL-terminates; returns bytes read or -errno. */
ssize_t sysfs_read_file(const char *path, char *buf, size_t size);
/* The file's text without trailing newlines and blanks. */
int sysfs_read_str(const char *path, char *buf, size_t len);
/* Writes s to path in one write() (a short write is -EIO). */
int sysfs_write_str(const char *path, const char *s);
int sysfs_read_u64(const char *path, uint64_t *v);

/*
 * The PCI device of environment variable var (MEMATTR_IVSHMEM0, MEMATTR_NVME,
 * ...: lab/init exports one for each lab device): its BDF, or NULL when var
 * is unset or empty or names no device in /sys/bus/pci/devices; then why
 * (unless NULL) holds the reason, for the TAP skip of what needs the device.
 * There is no default BDF: outside the lab nothing is touched by guessing.
 */
const char *ma_bdf(const char *var, char *why, size_t len);
/*
 * ma_bdf() of a device the whole test needs: without it, tap_skip_all()
 * with the reason ("1..0 # SKIP MEMATTR_NVME not set" before tap_plan(),
 * the remaining planned tests skipped after it) and exit.
 */
const char *ma_bdf_or_skip(const char *var);
/* Name of the driver bound to bdf into out ("" and 0 if none). */
int ma_pci_driver(const char *bdf, char *out, size_t len);
/* Bind bdf to driver via driver_override + drivers_probe (unbinds first). */
int ma_pci_bind(const char *bdf, const char *driver);
/* Physical start and size of BAR bar from /sys/bus/pci/devices/<bdf>/resource. */
int ma_bar_phys(const char *bdf, unsigned int bar, uint64_t *start, uint64_t *size);

/* debugfs stats value for key ("pmd_faults"); -errno if absent. */
int ma_stat(const char *bdf, const char *key, int64_t *v);

#endif /* MEMATTR_TEST_SYSFS_H */
