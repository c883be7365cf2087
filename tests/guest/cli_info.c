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

#include <errno.h>
#include <stdint.h>

#include "lib/tap.h"
#include "lib/sysfs.h"
#include "minijson.h"

static char out[8192];

static int run(const char *cmd)
{
	ssize_t n;
	int rc;

	unlink("/tmp/cli_info.out");
	rc = system(cmd);
	n = sysfs_read_file("/tmp/cli_info.out", out, sizeof(out) - 1);
	out[n > 0 ? n : 0] = '\0';
	tap_diag("%s -> %d: %.300s", cmd, rc, out);
	return rc;
}

/* The slice of ivshmem0 BAR2 this test maps (see above). */
#define SLICE_OFF	0x3c0000ull
#define SLICE_LEN	0x10000ull

#define out_json()	mj_parse_print(out, "# ", "stdout")

/* a live handle of BAR @bar at [@off, @off + @len) with @attr, in any order */
static bool has_handle(const struct mj *j, unsigned int bar, uint64_t off, uint64_t len,
		       const char *attr)
{
	const struct mj *h = mj_get(j, "handles");

	for (h = h && h->type == MJ_ARR ? h->kid : NULL; h; h = h->next)
		if (mj_int(h, "bar", -1) == bar && mj_int(h, "offset", -1) == (long long)off &&
		    mj_int(h, "length", -1) == (long long)len && mj_str(h, "attr") &&
		    !strcmp(mj_str(h, "attr"), attr))
			return true;
	return false;
}

int main(void)
{
	const char *bdf = ma_bdf_or_skip("MEMATTR_IVSHMEM0");
	char cmd[512];
	struct mj *j;
	bool good;

	tap_plan(3);
	snprintf(cmd, sizeof(cmd),
		 "vfio-memattr map %s 2:0x%llx:0x%llx:WC --run "
		 "'vfio-memattr info %s --json > /tmp/cli_info.out 2>/dev/null' > /dev/null 2>&1",
		 bdf, (unsigned long long)SLICE_OFF, (unsigned long long)SLICE_LEN, bdf);
	run(cmd);
	j = out_json();
	tap_ok(j && mj_bool(j, "in_use") == 1 && mj_int(j, "error.errno", -1) == EBUSY &&
	       mj_is(j, "handles", MJ_ARR),
	       "info --json while another process holds the device: in use, EBUSY as JSON");
	tap_ok(has_handle(j, 2, SLICE_OFF, SLICE_LEN, "WC"),
	       "... and lists that process's live WC handle of BAR2 0x%llx+0x%llx",
	       (unsigned long long)SLICE_OFF, (unsigned long long)SLICE_LEN);
	mj_free(j);

	snprintf(cmd, sizeof(cmd), "vfio-memattr info %s --json > /tmp/cli_info.out 2>/dev/null",
		 bdf);
	run(cmd);
	j = out_json();
	good = j && mj_is(j, "error", MJ_NULL) && mj_bool(j, "in_use") == 0 &&
	       mj_count(j, "handles") == 0 && mj_is(j, "handles", MJ_ARR) &&
	       mj_count(j, "regions") > 0;
	tap_ok(good, "info --json of the free device: regions, and its handle gone");
	mj_free(j);
	return tap_done();
}
