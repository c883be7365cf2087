/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cli.h - what the files of the vfio-memattr command share. */
#ifndef VFIO_MEMATTR_TOOLS_CLI_H
#define VFIO_MEMATTR_TOOLS_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "json.h"

#define DRIVER		"vfio-pci-memattr"
#define MODULE		"vfio_pci_memattr"
/* the vfio-pci flavour (module vfio_pci) replaces the kernel's vfio-pci */
#define FLAVOUR_DRIVER	"vfio-pci"
#define FLAVOUR_MODULE	"vfio_pci"
#define STATE_DIR	"/run/vfio-memattr"

extern const char *prog;
extern int verbose;
/* $VFIO_MEMATTR_SYSFS (default /sys) + "/bus/pci", $VFIO_MEMATTR_STATE_DIR,
 * $VFIO_MEMATTR_PROC (default /proc): the host tests point them at a fake
 * tree. */
extern char sysfs_pci[1024];
extern char sysfs_root[1024];
extern const char *state_dir;
extern const char *proc_root;

/* The options and operands of one command. */
struct cli_args {
	bool json, pattern, allow_sysfs, open, force, no_revoke;
	const char *run;
	const char *dmabuf, *attr;	/* map --dmabuf SPEC, --attr LIST */
	char **pos;
	int npos;
};

/*
 * Errors: err() prints "vfio-memattr: MESSAGE" on stderr; the first error
 * of a run is also kept (with its errno and hint, see fail()) for the JSON
 * error object that --json prints on stdout.
 */
void err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* err() with the errno value @e (positive) and a hint (may be NULL). */
void fail(int e, const char *hint, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* {"errno":..,"name":..,"message":..,"hint":..} of the first error, under @key. */
void json_error(struct json *j, const char *key, int dflt_errno);
bool have_error(void);
/* "vfio-memattr: warning: MESSAGE" on stderr; not an error (no JSON error). */
void warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* sysfs.c */
int read_str(const char *path, char *buf, size_t len);
int write_str(const char *path, const char *val);
int link_base(const char *path, char *out, size_t len);
void dev_path(char *out, size_t len, const char *bdf, const char *attr);
void cur_driver(const char *bdf, char *out, size_t len);
int iommu_group(const char *bdf, char *out, size_t len);
/* Is the IOMMU group of @bdf one VFIO made up in no-IOMMU mode (sysfs name
 * "vfio-noiommu", node /dev/vfio/noiommu-N)? */
bool group_is_noiommu(const char *bdf);
/* vfio's enable_unsafe_noiommu_mode: 1 (Y), 0 (N), -1 (no such parameter:
 * vfio not loaded, or a kernel without CONFIG_VFIO_NOIOMMU) */
int noiommu_param(void);
bool is_vfio_driver(const char *drv);
int check_bdf(const char *in, char *bdf, size_t len);
const char *explain_open(const char *bdf, int e);
/* Why the kernel driver of @bdf is in use (an interface up, a mounted or
 * held disk): 1 with the reason in @why, 0 if not in use. */
int device_in_use(const char *bdf, char *why, size_t len);

/*
 * What the driver of a device is to this command.  The vfio-pci flavour is
 * told from the kernel's vfio-pci by a file only the memattr drivers have:
 * the device's memattr_default attribute (while bound), else
 * /sys/module/vfio_pci/parameters/max_handles.
 */
enum drv_kind {
	DRV_NONE,		/* no driver */
	DRV_MEMATTR,		/* vfio-pci-memattr */
	DRV_FLAVOUR,		/* vfio-pci, the vfio-memattr flavour */
	DRV_STOCK_VFIO_PCI,	/* vfio-pci, the kernel's: no memattr uAPI */
	DRV_OTHER,		/* anything else (another VFIO driver included) */
};
enum drv_kind driver_kind(const char *bdf, char *drv, size_t len);
static inline bool kind_is_memattr(enum drv_kind k)
{
	return k == DRV_MEMATTR || k == DRV_FLAVOUR;
}
/* 1 if the loaded vfio_pci is the flavour, 0 if the kernel's, -1 if none is loaded */
int vfio_pci_is_flavour(void);
/* "/sys/module/MOD/parameters/NAME" */
void module_param_path(char *out, size_t len, const char *mod, const char *name);

struct sys_bar {
	uint64_t start, size;
	unsigned long flags;
};
/* IORESOURCE_* flags of the sysfs "resource" file (include/linux/ioport.h) */
#define IORES_IO	0x00000100ul
#define IORES_PREFETCH	0x00002000ul
#define IORES_MEM_64	0x00100000ul
int sys_bars(const char *bdf, struct sys_bar bars[6]);

/* output helpers (output.c) */
const char *human_size(uint64_t v, char *buf, size_t len);
void attrs_str(uint32_t mask, char *buf, size_t len);
/* "attributes": [{"attr","supported","reason","reason_text"}...] of a BAR */
struct vfio_memattr_bar;
void json_bar_attrs(struct json *j, const struct vfio_memattr_bar *b);

/* commands */
int cmd_list(struct cli_args *a);
int cmd_bind(struct cli_args *a);
int cmd_unbind(struct cli_args *a);
int cmd_info(struct cli_args *a);
int cmd_map(struct cli_args *a);
int cmd_default(struct cli_args *a);

#endif
