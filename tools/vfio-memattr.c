// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * vfio-memattr - inspect PCI devices, bind them to vfio-pci-memattr, and map
 * BAR ranges with a memory attribute.  See vfio-memattr(1).
 *
 * This file: the command table, usage texts and option parsing; one file
 * per command (cmd_*.c), sysfs.c, output.c and json.c for the rest.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vfio-memattr.h"
#include "cli.h"

#ifndef VFIO_MEMATTR_VERSION
#error "VFIO_MEMATTR_VERSION must come from the Makefile (file VERSION)"
#endif

const char *prog = "vfio-memattr";
int verbose;
char sysfs_pci[1024] = "/sys/bus/pci";
char sysfs_root[1024] = "/sys";
const char *state_dir = STATE_DIR;
const char *proc_root = "/proc";

static void lib_log(void *ctx, int level, const char *msg)
{
	(void)ctx;
	if (level == VFIO_MEMATTR_LOG_WARNING || verbose)
		fprintf(stderr, "%s: lib: %s\n", prog, msg);
}

static const char usage_main[] =
	"Usage: vfio-memattr [-v] COMMAND [ARGS...]\n"
	"\n"
	"Map PCI BAR ranges through VFIO with a memory attribute (NC, WC, DEV).\n"
	"\n"
	"Commands:\n"
	"  list [--json] [--open]        PCI devices, drivers, IOMMU groups, BARs (sysfs)\n"
	"  bind BDF [--force] [--json]   bind a device to " DRIVER "\n"
	"  unbind BDF [--json]           give it back to its previous driver\n"
	"  info BDF [--json]             VFIO regions and attributes per BAR\n"
	"  map BDF SPEC... [options]     map BAR ranges (SPEC = BAR:OFFSET:LENGTH:ATTR[,ATTR...])\n"
	"  map BDF --dmabuf D [options]  export BAR ranges as a DMABUF for --run CMD\n"
	"  default BDF [BAR:ATTR...] [--json]\n"
	"                                show or set the attribute of legacy BAR mmaps\n"
	"\n"
	"Options:\n"
	"  -v, --verbose   print the library's debug messages on stderr\n"
	"  -h, --help      this help; \"vfio-memattr COMMAND --help\" for a command\n"
	"  --version       print the version\n"
	"\n"
	"With --json every command prints one JSON object on stdout, also on failure\n"
	"(then with an \"error\" object and a non-zero exit status).\n"
	"\n"
	"A memattr driver is " DRIVER " or vfio-pci when it is the vfio-memattr\n"
	"flavour (module vfio_pci with parameter max_handles); the kernel's vfio-pci\n"
	"has no memattr uAPI.\n"
	"\n"
	"Exit status: 0 success, 1 failure, 2 usage error; \"default\": 3 the device\n"
	"is open (EBUSY), 4 not bound to a memattr driver; \"map --run\": CMD's.\n";

static const char usage_list[] =
	"Usage: vfio-memattr list [--json] [--open]\n"
	"\n"
	"List PCI devices from sysfs: vendor:device, class, driver, IOMMU group\n"
	"(\"noiommu-N\" for a group of VFIO's unsafe no-IOMMU mode; JSON \"noiommu\")\n"
	"and the memory/I/O BARs with size, prefetchable and 64-bit flags.  Devices are\n"
	"not opened: the attributes that may be requested are \"unknown\" unless\n"
	"--open is given, which opens the devices bound to a memattr driver\n"
	"(" DRIVER " or the vfio-memattr vfio-pci; BAR_INFO; VFIO may reset a\n"
	"device it opens).  Devices on the kernel's vfio-pci are marked as such.\n"
	"\n"
	"  --json      machine-readable output\n"
	"  --open      open devices bound to a memattr driver to read their attributes\n"
	"  --no-open   never open devices (the default; kept for compatibility)\n"
	"\n"
	"Exit status: 0, 1 sysfs cannot be read, 2 usage error.\n";

static const char usage_bind[] =
	"Usage: vfio-memattr bind BDF [--force] [--json]\n"
	"\n"
	"Bind the device to " DRIVER " with driver_override (loading module\n"
	MODULE " if needed; if that is not available but the loaded vfio-pci is\n"
	"the vfio-memattr flavour, to vfio-pci).  A device already on either is left\n"
	"as it is; one on the kernel's vfio-pci is moved.  The previous driver is remembered in\n"
	STATE_DIR "/BDF.driver for \"unbind\".  Refused when the device has no\n"
	"IOMMU group, unless vfio's enable_unsafe_noiommu_mode is Y (a kernel with\n"
	"CONFIG_VFIO_NOIOMMU, e.g. on EC2): then it is bound in VFIO's unsafe\n"
	"no-IOMMU mode (a warning on stderr, JSON \"noiommu\": true): no DMA\n"
	"isolation, opening it needs CAP_SYS_RAWIO.  Refused when its group is not\n"
	"viable (another device of the group is bound to a non-VFIO driver), or\n"
	"when its kernel driver is in use (a network interface up, a disk\n"
	"mounted, used as swap or held); --force\n"
	"binds anyway.  If the driver does not take the device, everything is\n"
	"rolled back: previous driver, driver_override, state file.  Needs root.\n"
	"\n"
	"Exit status: 0 bound (or already), 1 refused or failed, 2 usage error.\n";

static const char usage_unbind[] =
	"Usage: vfio-memattr unbind BDF [--json]\n"
	"\n"
	"Unbind the device from " DRIVER " (or the vfio-memattr vfio-pci) and bind\n"
	"the driver remembered by\n"
	"\"bind\" again (through driver_override, which is then restored to its value\n"
	"before \"bind\"); if none was remembered, let the kernel pick.  A device\n"
	"left with driver_override " DRIVER " or a state file but not bound\n"
	"(an interrupted bind) is put right the same way.  A device on the kernel's\n"
	"vfio-pci is not touched.  Needs root.\n"
	"\n"
	"Exit status: 0 unbound (or cleaned up), 1 not bound to a memattr driver or\n"
	"failed, 2 usage error.\n";

static const char usage_default[] =
	"Usage: vfio-memattr default BDF [BAR:ATTR...] [--json]\n"
	"\n"
	"Show the device's memattr_default: the attribute that legacy mmaps of each\n"
	"BAR get (programs that mmap a VFIO region themselves, such as DPDK's EAL),\n"
	"with its opt-in memattr_nonprefetchable_wc and the module parameters\n"
	"default_memattr (the items that name the device, applied at its next bind;\n"
	"malformed ones) and nonprefetchable_wc.  With BAR:ATTR operands (BAR 0..5,\n"
	"ATTR nc, wc or dev; nc is vfio-pci's own), set them first, in order, through\n"
	"/sys/bus/pci/devices/BDF/memattr_default (root).  Every operand is checked\n"
	"before anything is written.  The device must be bound to a memattr driver\n"
	"and not open: the setting cannot change while a program holds the device.\n"
	"\n"
	"Exit status: 0 shown (and set), 1 refused by the driver (EPERM: WC on a\n"
	"non-prefetchable BAR without the opt-in or on the MSI-X BAR; EOPNOTSUPP: not\n"
	"a memory BAR; EACCES: not root) or no such device, 2 usage error, 3 the\n"
	"device is open (EBUSY), 4 not bound to a memattr driver (the kernel's\n"
	"vfio-pci included).\n";

static const char usage_info[] =
	"Usage: vfio-memattr info BDF [--json]\n"
	"\n"
	"Open the device through VFIO and print its regions (index, size, flags,\n"
	"offset), per BAR which attributes may be requested and why not, and the\n"
	"live memattr handles of whichever process holds the device (read from the\n"
	"driver's debugfs: root).  A device in use by another process cannot be\n"
	"opened; its handles are printed all the same.  A device in VFIO's unsafe\n"
	"no-IOMMU mode is said to be (JSON \"noiommu\"); opening it needs CAP_SYS_RAWIO.\n"
	"\n"
	"Exit status: 0, 1 the device cannot be opened or read, 2 usage error.\n";

static const char usage_map[] =
	"Usage: vfio-memattr map BDF SPEC... [--write-pattern] [--run CMD] [--json]\n"
	"                        [--allow-sysfs]\n"
	"       vfio-memattr map BDF [SPEC...] --dmabuf BAR:OFFSET:LENGTH[,OFFSET:LENGTH...]\n"
	"                        [--attr ATTR[,ATTR...]] [--no-revoke] [--run CMD] [--json]\n"
	"\n"
	"Map every SPEC at once and print each mapping's attribute in force and its\n"
	"source (memattr, vfio-mmap, sysfs-wc).  SPEC is BAR:OFFSET:LENGTH:ATTR[,ATTR...]:\n"
	"BAR 0..5; OFFSET and LENGTH page aligned, decimal, 0x hex, or with a K, M\n"
	"or G suffix; ATTR NC, WC or DEV, most wanted first (up to 8).  Every SPEC\n"
	"is checked before the device is opened.\n"
	"\n"
	"  --write-pattern  write the test pattern (lib/vfio-memattr-pattern.h), seeded\n"
	"                   with the SPEC's OFFSET, through 64-byte WC copies and a\n"
	"                   flush\n"
	"  --run CMD        keep the mappings while \"/bin/sh -c CMD\" runs, then unmap;\n"
	"                   the exit status is CMD's (not run if a SPEC failed)\n"
	"  --json           machine-readable output (printed before CMD runs)\n"
	"  --allow-sysfs    allow WC through sysfs resourceN_wc when the driver has no\n"
	"                   memattr uAPI (prefetchable BARs; not revoked by VFIO; only\n"
	"                   when the x86 PAT list confirms write-combining)\n"
	"\n"
	"DMABUF (vfio-pci-memattr 2.1 and later; other drivers: ENOTTY):\n"
	"  --dmabuf BAR:OFFSET:LENGTH[,OFFSET:LENGTH...]\n"
	"                   export the ranges of BAR (page aligned, up to 64) as one\n"
	"                   DMABUF, mapped one after the other; CMD inherits its fd\n"
	"                   (not close-on-exec) with VFIO_MEMATTR_DMABUF_FD (fd number),\n"
	"                   VFIO_MEMATTR_DMABUF_SIZE (bytes) and VFIO_MEMATTR_DMABUF_ATTR\n"
	"                   (NC, WC or DEV) in its environment.  After CMD exits (or at\n"
	"                   once without --run) the DMABUF is revoked: every mmap of it,\n"
	"                   in any process, gets SIGBUS, and new mmaps fail\n"
	"  --attr ATTR[,ATTR...]\n"
	"                   give the DMABUF the first attribute the kernel can honour\n"
	"                   (default: none asked, the DMABUF stays NC)\n"
	"  --no-revoke      do not revoke it after CMD; it is revoked all the same when\n"
	"                   the device is closed, as this command exits\n"
	"\n"
	"Exit status: 0 all mapped, 1 a SPEC or the DMABUF failed (reason and what to\n"
	"do on stderr), 2 usage error; with --run, CMD's status.\n";

/* options a command accepts */
#define O_JSON		(1u << 0)
#define O_OPEN		(1u << 1)
#define O_PATTERN	(1u << 2)
#define O_SYSFS		(1u << 3)
#define O_RUN		(1u << 4)
#define O_FORCE		(1u << 5)
#define O_DMABUF	(1u << 6)

struct command {
	const char *name;
	const char *usage;
	unsigned int opts;
	int min_pos, max_pos;		/* operands (BDF, SPEC...) */
	int (*fn)(struct cli_args *a);
};

static const struct command commands[] = {
	{ "list", usage_list, O_JSON | O_OPEN, 0, 0, cmd_list },
	{ "bind", usage_bind, O_JSON | O_FORCE, 1, 1, cmd_bind },
	{ "unbind", usage_unbind, O_JSON, 1, 1, cmd_unbind },
	{ "info", usage_info, O_JSON, 1, 1, cmd_info },
	{ "map", usage_map, O_JSON | O_PATTERN | O_SYSFS | O_RUN | O_DMABUF, 2, -1, cmd_map },
	{ "default", usage_default, O_JSON, 1, -1, cmd_default },
};

static const struct {
	const char *name;
	unsigned int opt;
} options[] = {
	{ "--json", O_JSON }, { "--open", O_OPEN }, { "--no-open", O_OPEN },
	{ "--write-pattern", O_PATTERN }, { "--allow-sysfs", O_SYSFS }, { "--run", O_RUN },
	{ "--force", O_FORCE }, { "--dmabuf", O_DMABUF }, { "--attr", O_DMABUF },
	{ "--no-revoke", O_DMABUF },
};

/* A usage error: message and usage on stderr, JSON error with --json. */
static int usage_error(bool json, const char *usage, const char *fmt, const char *arg)
{
	if (fmt)
		fail(EINVAL, NULL, fmt, arg);
	else
		fail(EINVAL, NULL, "wrong number of arguments");
	fputs(usage, stderr);
	if (json) {
		struct json j;

		json_init(&j, stdout);
		json_obj(&j, NULL);
		json_error(&j, "error", EINVAL);
		json_end(&j);
	}
	return 2;
}

static void env_paths(void)
{
	const char *e = getenv("VFIO_MEMATTR_SYSFS");

	if (e && *e) {
		snprintf(sysfs_pci, sizeof(sysfs_pci), "%s/bus/pci", e);
		snprintf(sysfs_root, sizeof(sysfs_root), "%s", e);
	}
	e = getenv("VFIO_MEMATTR_STATE_DIR");
	if (e && *e)
		state_dir = e;
	e = getenv("VFIO_MEMATTR_PROC");
	if (e && *e)
		proc_root = e;
}

static bool wants_json(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc && strcmp(argv[i], "--"); i++)
		if (!strcmp(argv[i], "--json"))
			return true;
	return false;
}

/* Parse the options and operands after the command name. */
static int parse_args(const struct command *c, int argc, char **argv, int i,
		      struct cli_args *a)
{
	for (; i < argc; i++) {
		const char *s = argv[i];
		unsigned int k, opt = 0;

		if (!strcmp(s, "-h") || !strcmp(s, "--help")) {
			fputs(c->usage, stdout);
			return 0;
		}
		if (!strcmp(s, "-v") || !strcmp(s, "--verbose")) {
			verbose = 1;
			continue;
		}
		if (!strcmp(s, "--")) {
			while (++i < argc)
				a->pos[a->npos++] = argv[i];
			break;
		}
		if (s[0] != '-' || !s[1]) {
			a->pos[a->npos++] = argv[i];
			continue;
		}
		for (k = 0; k < sizeof(options) / sizeof(options[0]); k++)
			if (!strcmp(s, options[k].name))
				opt = options[k].opt;
		if (!(opt & c->opts))
			return usage_error(a->json, c->usage, "unknown option %s", s);
		if (!strcmp(s, "--json"))
			a->json = true;
		else if (!strcmp(s, "--open"))
			a->open = true;
		else if (!strcmp(s, "--no-open"))
			a->open = false;
		else if (opt == O_PATTERN)
			a->pattern = true;
		else if (opt == O_SYSFS)
			a->allow_sysfs = true;
		else if (opt == O_FORCE)
			a->force = true;
		else if (opt == O_RUN) {
			if (++i >= argc)
				return usage_error(a->json, c->usage, "%s needs a command", s);
			a->run = argv[i];
		} else if (!strcmp(s, "--no-revoke")) {
			a->no_revoke = true;
		} else if (opt == O_DMABUF) {
			if (++i >= argc)
				return usage_error(a->json, c->usage, "%s needs an argument", s);
			if (!strcmp(s, "--dmabuf") && a->dmabuf)
				return usage_error(a->json, c->usage, "%s given twice", s);
			if (!strcmp(s, "--dmabuf"))
				a->dmabuf = argv[i];
			else
				a->attr = argv[i];
		}
	}
	if ((a->attr || a->no_revoke) && !a->dmabuf)
		return usage_error(a->json, c->usage, "%s needs --dmabuf",
				   a->attr ? "--attr" : "--no-revoke");
	/* map with --dmabuf needs no SPEC */
	if (a->npos < (a->dmabuf ? 1 : c->min_pos) || (c->max_pos >= 0 && a->npos > c->max_pos))
		return usage_error(a->json, c->usage, NULL, NULL);
	return -1;	/* go on */
}

int main(int argc, char **argv)
{
	struct cli_args a = { 0 };
	const struct command *c = NULL;
	unsigned int k;
	int i, rc;

	vfio_memattr_set_log(lib_log, NULL);
	env_paths();
	a.json = wants_json(argc, argv);
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "-v") || !strcmp(argv[i], "--verbose")) {
			verbose = 1;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			fputs(usage_main, stdout);
			return 0;
		} else if (!strcmp(argv[i], "--version")) {
			printf("vfio-memattr %s\n", VFIO_MEMATTR_VERSION);
			return 0;
		} else {
			return usage_error(a.json, usage_main, "unknown option %s", argv[i]);
		}
	}
	if (i >= argc)
		return usage_error(a.json, usage_main, "no command", NULL);
	if (!strcmp(argv[i], "help")) {
		fputs(usage_main, stdout);
		return 0;
	}
	for (k = 0; k < sizeof(commands) / sizeof(commands[0]); k++)
		if (!strcmp(argv[i], commands[k].name))
			c = &commands[k];
	if (!c)
		return usage_error(a.json, usage_main, "unknown command \"%s\"", argv[i]);
	a.json = a.json && (c->opts & O_JSON);
	a.pos = calloc((size_t)argc, sizeof(*a.pos));
	if (!a.pos)
		return 1;
	rc = parse_args(c, argc, argv, i + 1, &a);
	if (rc < 0) {
		rc = c->fn(&a);
		/* every failure in --json mode is one JSON object on stdout */
		if (a.json && rc && !json_documents) {
			struct json j;

			json_init(&j, stdout);
			json_obj(&j, NULL);
			if (a.npos && c->min_pos)
				json_str(&j, "bdf", a.pos[0]);
			json_error(&j, "error", rc == 2 ? EINVAL : EIO);
			json_end(&j);
		}
	}
	free(a.pos);
	return rc;
}
