/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * minijson.h - a small, strict JSON parser for the tests (RFC 8259: one
 * value, objects, arrays, strings with escapes, numbers, true, false,
 * null; anything else is an error).  Header only; the host tests and the
 * guest tests parse the CLI's --json output with it instead of matching
 * substrings.
 *
 *	char e[128];
 *	struct mj *root = mj_parse(text, e, sizeof(e));
 *	const struct mj *v = mj_get(root, "devices.0.bars.1.size");
 *	mj_free(root);
 *
 * Paths are object keys and array indexes separated by '.'.
 */
#ifndef VFIO_MEMATTR_MINIJSON_H
#define VFIO_MEMATTR_MINIJSON_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum mj_type { MJ_NULL, MJ_BOOL, MJ_NUM, MJ_STR, MJ_ARR, MJ_OBJ };

struct mj {
	enum mj_type type;
	char *key;		/* member name inside an object */
	char *str;		/* MJ_STR */
	long long num;		/* MJ_NUM (integers only), MJ_BOOL */
	bool is_int;		/* MJ_NUM without fraction or exponent */
	unsigned int count;	/* MJ_ARR, MJ_OBJ: number of children */
	struct mj *kid, *next;
};

struct mj_parser {
	const char *p;
	char *err;
	size_t errlen;
	int depth;
};

static inline void mj_free(struct mj *v)
{
	while (v) {
		struct mj *n = v->next;

		mj_free(v->kid);
		free(v->key);
		free(v->str);
		free(v);
		v = n;
	}
}

static inline struct mj *mj_fail(struct mj_parser *ps, const char *what)
{
	if (ps->err && !ps->err[0])
		snprintf(ps->err, ps->errlen, "%s at \"%.20s\"", what, ps->p);
	return NULL;
}

static inline void mj_ws(struct mj_parser *ps)
{
	while (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r')
		ps->p++;
}

/* A string at ps->p (after the opening quote); malloc'ed, NULL on error. */
static inline char *mj_string(struct mj_parser *ps)
{
	size_t cap = 32, n = 0;
	char *s = malloc(cap);

	if (!s)
		return NULL;
	for (;;) {
		unsigned char c = (unsigned char)*ps->p++;

		if (n + 2 > cap) {
			char *t = realloc(s, cap *= 2);

			if (!t)
				break;
			s = t;
		}
		if (c == '"') {
			s[n] = 0;
			return s;
		}
		if (c < 0x20)
			break;		/* control characters must be escaped; also end of text */
		if (c != '\\') {
			s[n++] = (char)c;
			continue;
		}
		c = (unsigned char)*ps->p++;
		switch (c) {
		case '"': case '\\': case '/': s[n++] = (char)c; break;
		case 'b': s[n++] = '\b'; break;
		case 'f': s[n++] = '\f'; break;
		case 'n': s[n++] = '\n'; break;
		case 'r': s[n++] = '\r'; break;
		case 't': s[n++] = '\t'; break;
		case 'u': {
			unsigned int i, u = 0;

			for (i = 0; i < 4; i++) {
				char h = *ps->p++;

				u <<= 4;
				if (h >= '0' && h <= '9')
					u |= (unsigned int)(h - '0');
				else if (h >= 'a' && h <= 'f')
					u |= (unsigned int)(h - 'a' + 10);
				else if (h >= 'A' && h <= 'F')
					u |= (unsigned int)(h - 'A' + 10);
				else
					goto bad;
			}
			s[n++] = u < 0x80 ? (char)u : '?';	/* the tests need ASCII only */
			break;
		}
		default:
			goto bad;
		}
	}
bad:
	free(s);
	return NULL;
}

static inline struct mj *mj_value(struct mj_parser *ps);

static inline struct mj *mj_container(struct mj_parser *ps, struct mj *v, char close)
{
	struct mj **tail = &v->kid;

	mj_ws(ps);
	if (*ps->p == close) {
		ps->p++;
		return v;
	}
	for (;;) {
		char *key = NULL;
		struct mj *k;

		mj_ws(ps);
		if (close == '}') {
			if (*ps->p != '"')
				return mj_fail(ps, "expected a member name");
			ps->p++;
			key = mj_string(ps);
			if (!key)
				return mj_fail(ps, "bad string");
			mj_ws(ps);
			if (*ps->p != ':') {
				free(key);
				return mj_fail(ps, "expected ':'");
			}
			ps->p++;
		}
		k = mj_value(ps);
		if (!k) {
			free(key);
			return NULL;
		}
		k->key = key;
		*tail = k;
		tail = &k->next;
		v->count++;
		mj_ws(ps);
		if (*ps->p == ',') {
			ps->p++;
			continue;
		}
		if (*ps->p == close) {
			ps->p++;
			return v;
		}
		return mj_fail(ps, "expected ',' or the end of the container");
	}
}

static inline struct mj *mj_value(struct mj_parser *ps)
{
	struct mj *v, *r;

	mj_ws(ps);
	if (++ps->depth > 64)
		return mj_fail(ps, "nested too deep");
	v = calloc(1, sizeof(*v));
	if (!v)
		return mj_fail(ps, "out of memory");
	r = v;
	if (*ps->p == '{' || *ps->p == '[') {
		char close = *ps->p == '{' ? '}' : ']';

		v->type = close == '}' ? MJ_OBJ : MJ_ARR;
		ps->p++;
		r = mj_container(ps, v, close);
	} else if (*ps->p == '"') {
		ps->p++;
		v->type = MJ_STR;
		v->str = mj_string(ps);
		if (!v->str)
			r = mj_fail(ps, "bad string");
	} else if (!strncmp(ps->p, "true", 4) || !strncmp(ps->p, "false", 5)) {
		v->type = MJ_BOOL;
		v->num = *ps->p == 't';
		ps->p += v->num ? 4 : 5;
	} else if (!strncmp(ps->p, "null", 4)) {
		v->type = MJ_NULL;
		ps->p += 4;
	} else if (*ps->p == '-' || (*ps->p >= '0' && *ps->p <= '9')) {
		const char *s = ps->p;

		v->type = MJ_NUM;
		v->is_int = true;
		if (*ps->p == '-')
			ps->p++;
		if (*ps->p == '0' && ps->p[1] >= '0' && ps->p[1] <= '9')
			r = mj_fail(ps, "leading zero");
		if (!(*ps->p >= '0' && *ps->p <= '9'))
			r = mj_fail(ps, "bad number");
		while (*ps->p >= '0' && *ps->p <= '9')
			ps->p++;
		if (*ps->p == '.' || *ps->p == 'e' || *ps->p == 'E') {
			v->is_int = false;
			if (*ps->p == '.')
				for (ps->p++; *ps->p >= '0' && *ps->p <= '9'; ps->p++)
					;
			if (*ps->p == 'e' || *ps->p == 'E') {
				ps->p++;
				if (*ps->p == '+' || *ps->p == '-')
					ps->p++;
				while (*ps->p >= '0' && *ps->p <= '9')
					ps->p++;
			}
		}
		v->num = strtoll(s, NULL, 10);
	} else {
		r = mj_fail(ps, "unexpected character");
	}
	ps->depth--;
	if (!r)
		mj_free(v);
	return r;
}

/* Parse @text, which must hold exactly one JSON value; NULL on error, with
 * the reason in @err. */
static inline struct mj *mj_parse(const char *text, char *err, size_t errlen)
{
	struct mj_parser ps = { .p = text, .err = err, .errlen = errlen };
	struct mj *v;

	if (err && errlen)
		err[0] = 0;
	if (!text)
		return NULL;
	v = mj_value(&ps);
	if (!v)
		return NULL;
	mj_ws(&ps);
	if (*ps.p) {
		mj_fail(&ps, "text after the value");
		mj_free(v);
		return NULL;
	}
	return v;
}

/* The value at @path below @v ("a.0.b"); NULL if there is none. */
static inline const struct mj *mj_get(const struct mj *v, const char *path)
{
	while (v && path && *path) {
		const char *dot = strchr(path, '.');
		size_t len = dot ? (size_t)(dot - path) : strlen(path);
		const struct mj *k = NULL;

		if (v->type == MJ_OBJ) {
			for (k = v->kid; k; k = k->next)
				if (strlen(k->key) == len && !strncmp(k->key, path, len))
					break;
		} else if (v->type == MJ_ARR) {
			char *end;
			unsigned long i = strtoul(path, &end, 10);

			if (end != path + len)
				return NULL;
			for (k = v->kid; k && i; k = k->next)
				i--;
		}
		v = k;
		path = dot ? dot + 1 : NULL;
	}
	return v;
}

static inline bool mj_is(const struct mj *v, const char *path, enum mj_type t)
{
	v = mj_get(v, path);
	return v && v->type == t;
}

/* Integer at @path, @dflt if missing or not an integer. */
static inline long long mj_int(const struct mj *v, const char *path, long long dflt)
{
	v = mj_get(v, path);
	return v && v->type == MJ_NUM && v->is_int ? v->num : dflt;
}

/* String at @path, NULL if missing or not a string. */
static inline const char *mj_str(const struct mj *v, const char *path)
{
	v = mj_get(v, path);
	return v && v->type == MJ_STR ? v->str : NULL;
}

/* 1 true, 0 false, -1 missing or not a boolean. */
static inline int mj_bool(const struct mj *v, const char *path)
{
	v = mj_get(v, path);
	return v && v->type == MJ_BOOL ? (int)v->num : -1;
}

/* Parse @text; on error print "<@prefix>@what is not one JSON value: why". */
static inline struct mj *mj_parse_print(const char *text, const char *prefix, const char *what)
{
	char e[128];
	struct mj *v = mj_parse(text, e, sizeof(e));

	if (!v)
		printf("%s%s is not one JSON value: %s\n", prefix, what, e);
	return v;
}

/* The element of the array at @path whose member @key is the string @s
 * (or, with @s NULL, the integer @i). */
static inline const struct mj *mj_find(const struct mj *v, const char *path, const char *key,
				       const char *s, long long i)
{
	const struct mj *k;

	v = mj_get(v, path);
	for (k = v && v->type == MJ_ARR ? v->kid : NULL; k; k = k->next)
		if (s ? mj_str(k, key) && !strcmp(mj_str(k, key), s) : mj_int(k, key, i + 1) == i)
			return k;
	return NULL;
}

/* Number of members or elements at @path, -1 if it is not a container. */
static inline long mj_count(const struct mj *v, const char *path)
{
	v = mj_get(v, path);
	return v && (v->type == MJ_ARR || v->type == MJ_OBJ) ? (long)v->count : -1;
}

#endif
