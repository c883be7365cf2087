// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * hostcheck FILE OFFSET LENGTH SEED
 *
 * Checks that LENGTH bytes of FILE at OFFSET hold the pattern of
 * tests/common/pattern.h for SEED (numbers: decimal, or 0x-prefixed hex).
 * Exit status: 0 match, 1 mismatch (first bad byte reported), 2 usage or I/O
 * error.  Used by the lab on the host to verify "# HOSTCHECK" lines that guest
 * tests print after writing through a BAR mapping.
 */
#define _GNU_SOURCE
#define _FILE_OFFSET_BITS 64
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/pattern.h"

static int parse_u64(const char *s, uint64_t *out)
{
	char *end;

	errno = 0;
	*out = strtoull(s, &end, 0);
	return (errno || end == s || *end) ? -1 : 0;
}

int main(int argc, char **argv)
{
	uint64_t off, len, seed, done = 0;
	unsigned char *buf;
	int fd;

	if (argc != 5 || parse_u64(argv[2], &off) || parse_u64(argv[3], &len) ||
	    parse_u64(argv[4], &seed) || len == 0 || len > (1ull << 30)) {
		fprintf(stderr, "usage: hostcheck FILE OFFSET LENGTH SEED\n");
		return 2;
	}
	fd = open(argv[1], O_RDONLY);
	if (fd < 0) {
		fprintf(stderr, "hostcheck: %s: %s\n", argv[1], strerror(errno));
		return 2;
	}
	buf = malloc(len);
	if (!buf) {
		fprintf(stderr, "hostcheck: out of memory\n");
		return 2;
	}
	while (done < len) {
		ssize_t n = pread(fd, buf + done, len - done, (off_t)(off + done));

		if (n < 0) {
			fprintf(stderr, "hostcheck: read %s: %s\n", argv[1], strerror(errno));
			return 2;
		}
		if (n == 0) {
			fprintf(stderr, "hostcheck: %s: short file (%" PRIu64 " of %" PRIu64
				" bytes at offset %" PRIu64 ")\n", argv[1], done, len, off);
			return 1;
		}
		done += (uint64_t)n;
	}
	close(fd);
	{
		size_t bad = pattern_check(buf, len, seed);

		if (bad != len) {
			fprintf(stderr, "hostcheck: %s: mismatch at offset %" PRIu64
				" (slice byte %zu): expected 0x%02x, found 0x%02x\n",
				argv[1], off + bad, bad, pattern_byte(seed, bad), buf[bad]);
			free(buf);
			return 1;
		}
	}
	free(buf);
	return 0;
}
