// SPDX-License-Identifier: GPL-2.0-only
/*
 * cli_info: `vfio-memattr info` shows the live memattr handles of the
 * process that holds the device (from the driver's debugfs), also when the
 * device, being in use, cannot be opened again; and none once it is free.
 *
 * Slices: ivshmem0 0x3c0000-0x3cffff is mapped, nothing is written.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

static char out[8192];

static int run(const char *cmd)
{
	ssize_t n;
	int rc;

	unlink("/tmp/cli_info.out");
	rc = system(cmd);
	n = harness_read_file("/tmp/cli_info.out", out, sizeof(out) - 1);
	out[n > 0 ? n : 0] = '\0';
	harness_diag("%s -> %d: %.300s", cmd, rc, out);
	return rc;
}

int main(void)
{
	const char *bdf = harness_env_bdf("MEMATTR_IVSHMEM0");
	char cmd[512];

	harness_plan(3);
	if (!bdf) {
		harness_skip_rest("MEMATTR_IVSHMEM0 not set");
		return harness_exit();
	}
	snprintf(cmd, sizeof(cmd),
		 "vfio-memattr map %s 2:0x3c0000:64K:WC --run "
		 "'vfio-memattr info %s --json > /tmp/cli_info.out 2>/dev/null' > /dev/null 2>&1",
		 bdf, bdf);
	run(cmd);
	harness_ok(strstr(out, "\"in_use\":true") != NULL,
		   "info --json while another process holds the device reports it in use");
	harness_ok(strstr(out, "\"bar\":2,\"offset\":3932160,\"length\":65536,\"attr\":\"WC\"") != NULL,
		   "... and lists that process's live WC handle of BAR2 0x3c0000+64K");

	snprintf(cmd, sizeof(cmd), "vfio-memattr info %s --json > /tmp/cli_info.out 2>/dev/null",
		 bdf);
	run(cmd);
	harness_ok(strstr(out, "\"handles\":[]") != NULL && strstr(out, "\"regions\":[") != NULL,
		   "info --json of the free device: regions, and no handle left");
	return harness_exit();
}
