/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * json.h - a small JSON emitter for the vfio-memattr command.  Keys are
 * given with each value (NULL inside arrays); commas and nesting are
 * tracked here, strings are escaped here.
 */
#ifndef VFIO_MEMATTR_TOOLS_JSON_H
#define VFIO_MEMATTR_TOOLS_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define JSON_MAX_DEPTH	16

struct json {
	FILE *f;
	unsigned int depth;
	bool need_comma[JSON_MAX_DEPTH];
	char closer[JSON_MAX_DEPTH];
};

void json_init(struct json *j, FILE *f);
void json_obj(struct json *j, const char *key);		/* { */
void json_arr(struct json *j, const char *key);		/* [ */
void json_end(struct json *j);				/* } or ], as opened */
void json_str(struct json *j, const char *key, const char *v);	/* NULL: null */
void json_u64(struct json *j, const char *key, uint64_t v);
void json_int(struct json *j, const char *key, long long v);
void json_bool(struct json *j, const char *key, bool v);
void json_null(struct json *j, const char *key);
/*
 * An object of simple members in one call: @types has one letter per
 * member, 'u' (uint64_t), 's' (const char *, NULL: null) or 'b' (int, as a
 * boolean); the variadic arguments are name, value, name, value, ...
 * The object stays open when @types ends with '+' (close it with json_end()).
 */
void json_record(struct json *j, const char *key, const char *types, ...);
/* Number of top-level values completed so far (on any stream). */
extern unsigned int json_documents;

#endif
