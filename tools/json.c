// SPDX-License-Identifier: LGPL-2.1-or-later
/* json.c - see json.h */
#include <inttypes.h>
#include <stdarg.h>
#include <string.h>

#include "json.h"

unsigned int json_documents;

void json_init(struct json *j, FILE *f)
{
	memset(j, 0, sizeof(*j));
	j->f = f;
}

static void put_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", f);
		else if (c == '\t')
			fputs("\\t", f);
		else if (c < 0x20 || c == 0x7f)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

/* the separator and the key of the next value */
static void lead(struct json *j, const char *key)
{
	if (j->depth && j->need_comma[j->depth - 1])
		fputc(',', j->f);
	if (j->depth)
		j->need_comma[j->depth - 1] = true;
	if (key) {
		put_string(j->f, key);
		fputc(':', j->f);
	}
}

static void open_c(struct json *j, const char *key, char o, char c)
{
	lead(j, key);
	fputc(o, j->f);
	if (j->depth < JSON_MAX_DEPTH) {
		j->closer[j->depth] = c;
		j->need_comma[j->depth] = false;
		j->depth++;
	}
}

void json_obj(struct json *j, const char *key)
{
	open_c(j, key, '{', '}');
}

void json_arr(struct json *j, const char *key)
{
	open_c(j, key, '[', ']');
}

void json_end(struct json *j)
{
	if (!j->depth)
		return;
	fputc(j->closer[--j->depth], j->f);
	if (!j->depth) {
		fputc('\n', j->f);
		json_documents++;
	}
}

void json_str(struct json *j, const char *key, const char *v)
{
	lead(j, key);
	if (v)
		put_string(j->f, v);
	else
		fputs("null", j->f);
}

void json_u64(struct json *j, const char *key, uint64_t v)
{
	lead(j, key);
	fprintf(j->f, "%" PRIu64, v);
}

void json_int(struct json *j, const char *key, long long v)
{
	lead(j, key);
	fprintf(j->f, "%lld", v);
}

void json_bool(struct json *j, const char *key, bool v)
{
	lead(j, key);
	fputs(v ? "true" : "false", j->f);
}

void json_null(struct json *j, const char *key)
{
	lead(j, key);
	fputs("null", j->f);
}

void json_record(struct json *j, const char *key, const char *types, ...)
{
	va_list ap;
	const char *t;

	json_obj(j, key);
	va_start(ap, types);
	for (t = types; *t && *t != '+'; t++) {
		const char *name = va_arg(ap, const char *);

		if (*t == 'u')
			json_u64(j, name, va_arg(ap, uint64_t));
		else if (*t == 's')
			json_str(j, name, va_arg(ap, const char *));
		else
			json_bool(j, name, va_arg(ap, int));
	}
	va_end(ap);
	if (*t != '+')
		json_end(j);
}
