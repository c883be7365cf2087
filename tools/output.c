// SPDX-License-Identifier: LGPL-2.1-or-later
/* output.c - messages, the JSON error object, sizes and attribute lists. */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "vfio-memattr.h"
#include "cli.h"

static struct {
	bool set;
	int errnum;
	char message[512];
	char hint[1024];
} first_err;

static void verr(int e, const char *hint, const char *fmt, va_list ap)
{
	char msg[512];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (hint && *hint)
		fprintf(stderr, "%s: %s: %s\n", prog, msg, hint);
	else
		fprintf(stderr, "%s: %s\n", prog, msg);
	if (first_err.set)
		return;
	first_err.set = true;
	first_err.errnum = e;
	snprintf(first_err.message, sizeof(first_err.message), "%s", msg);
	snprintf(first_err.hint, sizeof(first_err.hint), "%s", hint ? hint : "");
}

void err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verr(0, NULL, fmt, ap);
	va_end(ap);
}

void fail(int e, const char *hint, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verr(e, hint, fmt, ap);
	va_end(ap);
}

void warn(const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s: warning: %s\n", prog, msg);
}

bool have_error(void)
{
	return first_err.set;
}

void json_error(struct json *j, const char *key, int dflt_errno)
{
	int e = first_err.errnum ? first_err.errnum : dflt_errno;

	json_obj(j, key);
	json_int(j, "errno", e);
	json_str(j, "name", e ? strerrorname_np(e) : NULL);
	json_str(j, "message", first_err.set ? first_err.message : strerror(e));
	json_str(j, "hint", first_err.hint[0] ? first_err.hint : NULL);
	json_end(j);
}

const char *human_size(uint64_t v, char *buf, size_t len)
{
	if (v >= (1ull << 30) && !(v & ((1ull << 30) - 1)))
		snprintf(buf, len, "%" PRIu64 " GiB", v >> 30);
	else if (v >= (1ull << 20) && !(v & ((1ull << 20) - 1)))
		snprintf(buf, len, "%" PRIu64 " MiB", v >> 20);
	else if (v >= (1ull << 10) && !(v & ((1ull << 10) - 1)))
		snprintf(buf, len, "%" PRIu64 " KiB", v >> 10);
	else
		snprintf(buf, len, "%" PRIu64 " B", v);
	return buf;
}

void attrs_str(uint32_t mask, char *buf, size_t len)
{
	unsigned int a;
	size_t n = 0;

	buf[0] = 0;
	for (a = 0; a < VFIO_MEMATTR_NUM_ATTRS; a++)
		if (mask & (1u << a))
			n += (size_t)snprintf(buf + n, n < len ? len - n : 0, "%s%s",
					      n ? "," : "", vfio_memattr_attr_name((enum vfio_memattr)a));
	if (!n)
		snprintf(buf, len, "none");
}

void json_bar_attrs(struct json *j, const struct vfio_memattr_bar *b)
{
	unsigned int a;

	json_arr(j, "attributes");
	for (a = 0; b && a < VFIO_MEMATTR_NUM_ATTRS; a++) {
		json_obj(j, NULL);
		json_str(j, "attr", vfio_memattr_attr_name((enum vfio_memattr)a));
		json_bool(j, "supported", b->supported & (1u << a));
		json_int(j, "reason", b->reason[a]);
		json_str(j, "reason_text", vfio_memattr_reason_name(b->reason[a]));
		json_end(j);
	}
	json_end(j);
}
