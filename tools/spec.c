// SPDX-License-Identifier: LGPL-2.1-or-later
/* spec.c - size and SPEC parsing for vfio-memattr (see spec.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "vfio-memattr.h"
#include "spec.h"

int vm_parse_size(const char *s, uint64_t *out)
{
	uint64_t v = 0, base = 10, d, mult = 1;
	const char *p = s;

	if (!s || !out)
		return -EINVAL;
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		base = 16;
		p += 2;
	}
	if (!*p)
		return -EINVAL;
	for (; *p; p++) {
		if (*p >= '0' && *p <= '9')
			d = (uint64_t)(*p - '0');
		else if (base == 16 && *p >= 'a' && *p <= 'f')
			d = (uint64_t)(*p - 'a' + 10);
		else if (base == 16 && *p >= 'A' && *p <= 'F')
			d = (uint64_t)(*p - 'A' + 10);
		else
			break;
		if (v > (UINT64_MAX - d) / base)
			return -ERANGE;
		v = v * base + d;
	}
	if (p == s || (base == 16 && p == s + 2))
		return -EINVAL;
	if (*p) {
		switch (*p) {
		case 'k': case 'K': mult = 1ull << 10; break;
		case 'm': case 'M': mult = 1ull << 20; break;
		case 'g': case 'G': mult = 1ull << 30; break;
		default: return -EINVAL;
		}
		if (p[1])
			return -EINVAL;
		/* hex digits 'b'..'f' are consumed above; a hex number cannot
		 * end in a suffix letter that is a hex digit, K/M/G are not. */
		if (v > UINT64_MAX / mult)
			return -ERANGE;
		v *= mult;
	}
	*out = v;
	return 0;
}

__attribute__((format(printf, 3, 4)))
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

int vm_parse_spec(const char *s, struct vm_spec *out, char *err, size_t errlen)
{
	char buf[256], *f[4], *p;
	unsigned int n = 0, i;
	uint64_t bar;
	int ret;

	if (!s || !out)
		return fail(err, errlen, "no SPEC");
	if (strlen(s) >= sizeof(buf))
		return fail(err, errlen, "SPEC too long");
	strcpy(buf, s);
	memset(out, 0, sizeof(*out));

	/* exactly four ':'-separated fields, none empty */
	p = buf;
	for (n = 0; n < 4; n++) {
		f[n] = p;
		p = strchr(p, ':');
		if (!p)
			break;
		*p++ = 0;
	}
	if (n != 3 || p)
		return fail(err, errlen, "SPEC \"%s\": want BAR:OFFSET:LENGTH:ATTR[,ATTR...]", s);
	for (i = 0; i < 4; i++)
		if (!*f[i])
			return fail(err, errlen, "SPEC \"%s\": empty field %u", s, i + 1);

	ret = vm_parse_size(f[0], &bar);
	if (ret < 0 || bar > 5 || strpbrk(f[0], "kKmMgG"))
		return fail(err, errlen, "SPEC \"%s\": BAR \"%s\" is not 0..5", s, f[0]);
	out->bar = (unsigned int)bar;
	ret = vm_parse_size(f[1], &out->offset);
	if (ret < 0) {
		fail(err, errlen, "SPEC \"%s\": OFFSET \"%s\" %s", s, f[1],
		     ret == -ERANGE ? "overflows 64 bits" : "is not a number");
		return ret;
	}
	ret = vm_parse_size(f[2], &out->length);
	if (ret < 0) {
		fail(err, errlen, "SPEC \"%s\": LENGTH \"%s\" %s", s, f[2],
		     ret == -ERANGE ? "overflows 64 bits" : "is not a number");
		return ret;
	}
	if (!out->length)
		return fail(err, errlen, "SPEC \"%s\": LENGTH is 0", s);
	if (out->offset + out->length < out->offset) {
		fail(err, errlen, "SPEC \"%s\": OFFSET + LENGTH overflows 64 bits", s);
		return -ERANGE;
	}

	ret = vm_parse_attrs(f[3], out->prefs, &out->nr_prefs, err, errlen);
	if (ret < 0 && err && errlen) {
		char m[256];

		snprintf(m, sizeof(m), "%s", err);
		snprintf(err, errlen, "SPEC \"%s\": %s", s, m);
	}
	return ret;
}

int vm_parse_attrs(const char *s, enum vfio_memattr *prefs, unsigned int *nr, char *err,
		   size_t errlen)
{
	char buf[256], *a, *save = NULL;
	unsigned int i;

	*nr = 0;
	if (!*s)
		return fail(err, errlen, "no attribute");
	if (strlen(s) >= sizeof(buf))
		return fail(err, errlen, "attribute list too long");
	strcpy(buf, s);
	if (buf[strlen(buf) - 1] == ',' || buf[0] == ',' || strstr(buf, ",,"))
		return fail(err, errlen, "empty attribute in \"%s\"", s);
	for (a = strtok_r(buf, ",", &save); a; a = strtok_r(NULL, ",", &save)) {
		enum vfio_memattr v;

		if (vfio_memattr_attr_parse(a, &v) < 0)
			return fail(err, errlen, "unknown attribute \"%s\" (NC, WC, DEV)", a);
		if (*nr == VFIO_MEMATTR_MAX_PREFS)
			return fail(err, errlen, "more than %d attributes", VFIO_MEMATTR_MAX_PREFS);
		for (i = 0; i < *nr; i++)
			if (prefs[i] == v)
				return fail(err, errlen, "attribute %s listed twice",
					    vfio_memattr_attr_name(v));
		prefs[(*nr)++] = v;
	}
	if (!*nr)
		return fail(err, errlen, "no attribute");
	return 0;
}

int vm_parse_dmabuf(const char *s, struct vm_dmabuf_spec *out, char *err, size_t errlen)
{
	char buf[4096], *p, *item, *save = NULL, *colon;
	uint64_t bar, total = 0;
	int ret;

	if (!s || !out)
		return fail(err, errlen, "no DMABUF SPEC");
	memset(out, 0, sizeof(*out));
	if (strlen(s) >= sizeof(buf))
		return fail(err, errlen, "DMABUF SPEC too long");
	strcpy(buf, s);
	p = strchr(buf, ':');
	if (!p || p == buf || !p[1])
		return fail(err, errlen, "DMABUF SPEC \"%s\": want BAR:OFFSET:LENGTH[,OFFSET:LENGTH...]",
			    s);
	*p++ = 0;
	ret = vm_parse_size(buf, &bar);
	if (ret < 0 || bar > 5 || strpbrk(buf, "kKmMgG"))
		return fail(err, errlen, "DMABUF SPEC \"%s\": BAR \"%s\" is not 0..5", s, buf);
	out->bar = (unsigned int)bar;
	if (p[strlen(p) - 1] == ',' || p[0] == ',' || strstr(p, ",,"))
		return fail(err, errlen, "DMABUF SPEC \"%s\": empty range", s);
	for (item = strtok_r(p, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
		struct vfio_memattr_dma_range *r;
		uint64_t off, len;

		if (out->nr_ranges == VFIO_MEMATTR_DMABUF_MAX_RANGES)
			return fail(err, errlen, "DMABUF SPEC: more than %d ranges",
				    VFIO_MEMATTR_DMABUF_MAX_RANGES);
		r = &out->ranges[out->nr_ranges];
		colon = strchr(item, ':');
		if (!colon || colon == item || !colon[1] || strchr(colon + 1, ':'))
			return fail(err, errlen, "DMABUF SPEC \"%s\": range \"%s\" is not OFFSET:LENGTH",
				    s, item);
		*colon = 0;
		ret = vm_parse_size(item, &off);
		if (ret < 0) {
			fail(err, errlen, "DMABUF SPEC \"%s\": OFFSET \"%s\" %s", s, item,
			     ret == -ERANGE ? "overflows 64 bits" : "is not a number");
			return ret;
		}
		ret = vm_parse_size(colon + 1, &len);
		if (ret < 0) {
			fail(err, errlen, "DMABUF SPEC \"%s\": LENGTH \"%s\" %s", s, colon + 1,
			     ret == -ERANGE ? "overflows 64 bits" : "is not a number");
			return ret;
		}
		r->offset = off;
		r->length = len;
		if (!len)
			return fail(err, errlen, "DMABUF SPEC \"%s\": LENGTH is 0", s);
		if (off + len < off || total + len < total) {
			fail(err, errlen, "DMABUF SPEC \"%s\": a range or the total overflows 64 bits", s);
			return -ERANGE;
		}
		total += len;
		out->nr_ranges++;
	}
	out->size = total;
	return 0;
}

/* Exactly @width hex digits at @s (either case) -> *val; false if not. */
static bool hex_width(const char *s, unsigned int width, unsigned int *val)
{
	unsigned int i, v = 0;

	for (i = 0; i < width; i++) {
		char c = s[i];
		unsigned int d;

		if (c >= '0' && c <= '9')
			d = (unsigned int)(c - '0');
		else if (c >= 'a' && c <= 'f')
			d = (unsigned int)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			d = (unsigned int)(c - 'A' + 10);
		else
			return false;
		v = v << 4 | d;
	}
	*val = v;
	return true;
}

static int parse_selector(const char *s, size_t n, struct vm_default_item *out)
{
	unsigned int dom, bus, slot, fn;

	if (n == 9 && s[4] == ':' && hex_width(s, 4, &out->vendor) &&
	    hex_width(s + 5, 4, &out->device)) {
		out->sel = VM_SEL_ID;
		return 0;
	}
	if (n == 12 && s[4] == ':' && s[7] == ':' && s[10] == '.' && hex_width(s, 4, &dom) &&
	    hex_width(s + 5, 2, &bus) && hex_width(s + 8, 2, &slot) && slot < 32 &&
	    hex_width(s + 11, 1, &fn) && fn < 8) {
		out->sel = VM_SEL_ADDR;
		snprintf(out->addr, sizeof(out->addr), "%04x:%02x:%02x.%x", dom, bus, slot, fn);
		return 0;
	}
	return -EINVAL;
}

int vm_parse_default_item(const char *s, size_t n, struct vm_default_item *out, char *err,
			  size_t errlen)
{
	static const char *const names[] = { "nc", "wc", "dev" };
	static const enum vfio_memattr attrs[] = { VFIO_MEMATTR_NC, VFIO_MEMATTR_WC, VFIO_MEMATTR_DEV };
	const char *at = memchr(s, '@', n), *b = s;
	size_t i, bn = n;

	memset(out, 0, sizeof(*out));
	if (at) {
		if (parse_selector(s, (size_t)(at - s), out))
			return fail(err, errlen, "\"%.*s\": the device before '@' is not VVVV:DDDD "
				    "(vendor:device) nor SSSS:BB:DD.F (PCI address)", (int)n, s);
		b = at + 1;
		bn = n - (size_t)(b - s);
	}
	if (bn < 3 || b[0] < '0' || b[0] > '5' || b[1] != ':')
		return fail(err, errlen, "\"%.*s\": want [VVVV:DDDD@|SSSS:BB:DD.F@]BAR:ATTR, BAR 0..5",
			    (int)n, s);
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (bn - 2 == strlen(names[i]) && !strncasecmp(b + 2, names[i], bn - 2)) {
			out->bar = (unsigned int)(b[0] - '0');
			out->attr = attrs[i];
			return 0;
		}
	}
	return fail(err, errlen, "\"%.*s\": unknown attribute \"%.*s\" (nc, wc, dev)", (int)n, s,
		    (int)(bn - 2), b + 2);
}

bool vm_default_item_applies(const struct vm_default_item *it, const char *bdf,
			     unsigned int vendor, unsigned int device)
{
	switch (it->sel) {
	case VM_SEL_ID:
		return it->vendor == vendor && it->device == device;
	case VM_SEL_ADDR:
		return !strcasecmp(it->addr, bdf);
	default:
		return true;
	}
}
