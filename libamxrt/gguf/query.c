// SPDX-License-Identifier: MIT
/*
 * query.c - lookups in an open GGUF file: the key and tensor-name hash
 * tables, the typed metadata getters and the tensor descriptions. The file
 * was validated whole at open, so these only check their arguments.
 */
#include <errno.h>
#include <string.h>

#include <amxrt/gguf.h>

#include "../core/error.h"
#include "gguf_int.h"

/* FNV-1a, 64-bit. */
static uint64_t hash(const char *s, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= (uint8_t)s[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

int64_t amxrt_gguf_probe(const struct amxrt_gguf *g, int tensors,
			 const char *name, size_t len, size_t *slot)
{
	const int64_t *tab = tensors ? g->tensor_hash : g->kv_hash;
	size_t mask = tensors ? g->tensor_mask : g->kv_mask;
	size_t i = (size_t)hash(name, len) & mask;

	for (;; i = (i + 1) & mask) {
		int64_t e = tab[i];
		size_t off, n;

		if (!e) {
			*slot = i;
			return -1;
		}
		if (tensors) {
			off = g->tensors[e - 1].name;
			n = g->tensors[e - 1].name_len;
		} else {
			off = g->kv[e - 1].key;
			n = g->kv[e - 1].key_len;
		}
		if (n == len && !memcmp(g->pool + off, name, len))
			return e - 1;
	}
}

uint32_t amxrt_gguf_version(const struct amxrt_gguf *g)
{
	return g ? g->version : 0;
}

uint32_t amxrt_gguf_alignment(const struct amxrt_gguf *g)
{
	return g ? g->alignment : 0;
}

size_t amxrt_gguf_data_offset(const struct amxrt_gguf *g)
{
	return g ? g->data_offset : 0;
}

/* ---- metadata ----------------------------------------------------------- */

int64_t amxrt_gguf_kv_count(const struct amxrt_gguf *g)
{
	return g ? g->n_kv : 0;
}

const char *amxrt_gguf_kv_key(const struct amxrt_gguf *g, int64_t i)
{
	if (!g || i < 0 || i >= g->n_kv)
		return NULL;
	return g->pool + g->kv[i].key;
}

enum amxrt_gguf_type amxrt_gguf_kv_type(const struct amxrt_gguf *g, int64_t i)
{
	if (!g || i < 0 || i >= g->n_kv)
		return (enum amxrt_gguf_type) - 1;
	return g->kv[i].type;
}

int64_t amxrt_gguf_find_key(const struct amxrt_gguf *g, const char *key)
{
	size_t slot;

	if (!g || !key)
		return -1;
	return amxrt_gguf_probe(g, 0, key, strlen(key), &slot);
}

static const char *const type_names[] = {
	"uint8", "int8",   "uint16", "int16",  "uint32", "int32",   "float32",
	"bool",	 "string", "array",  "uint64", "int64",	 "float64",
};

static const char *type_name(enum amxrt_gguf_type t)
{
	return (unsigned int)t < sizeof(type_names) / sizeof(type_names[0]) ?
		       type_names[t] :
		       "unknown";
}

/* The kv of key, or NULL with the message set (-ENOENT in *rc). */
static const struct gguf_kv *lookup(const struct amxrt_gguf *g, const char *key,
				    int *rc)
{
	int64_t i = amxrt_gguf_find_key(g, key);

	if (!g || !key) {
		*rc = amxrt_err(EINVAL, "gguf: %s is NULL", g ? "key" : "file");
		return NULL;
	}
	if (i < 0) {
		*rc = amxrt_err(ENOENT, "gguf: no key %s", key);
		return NULL;
	}
	return &g->kv[i];
}

static int wrong_type(const struct gguf_kv *kv, const char *key,
		      const char *want)
{
	return amxrt_err(
		EINVAL, "gguf: key %s is %s%s%s, not %s", key,
		type_name(kv->type), kv->type == AMXRT_GGUF_ARRAY ? " of " : "",
		kv->type == AMXRT_GGUF_ARRAY ? type_name(kv->elem) : "", want);
}

/* An integer or bool value as int64; -1 if it is neither or too large. */
static int kv_int(const struct amxrt_gguf *g, const struct gguf_kv *kv,
		  int64_t *out)
{
	const uint8_t *p;
	union {
		int8_t i8;
		int16_t i16;
		uint16_t u16;
		int32_t i32;
		uint32_t u32;
		int64_t i64;
		uint64_t u64;
	} v;

	if (kv->type == AMXRT_GGUF_STRING || kv->type == AMXRT_GGUF_ARRAY)
		return -1; /* val is a pool offset, not a file offset */
	p = g->base + kv->val;
	switch (kv->type) {
	case AMXRT_GGUF_UINT8:
	case AMXRT_GGUF_BOOL:
		*out = p[0];
		return 0;
	case AMXRT_GGUF_INT8:
		*out = (int8_t)p[0];
		return 0;
	case AMXRT_GGUF_UINT16:
		memcpy(&v.u16, p, 2);
		*out = v.u16;
		return 0;
	case AMXRT_GGUF_INT16:
		memcpy(&v.i16, p, 2);
		*out = v.i16;
		return 0;
	case AMXRT_GGUF_UINT32:
		memcpy(&v.u32, p, 4);
		*out = v.u32;
		return 0;
	case AMXRT_GGUF_INT32:
		memcpy(&v.i32, p, 4);
		*out = v.i32;
		return 0;
	case AMXRT_GGUF_INT64:
		memcpy(&v.i64, p, 8);
		*out = v.i64;
		return 0;
	case AMXRT_GGUF_UINT64:
		memcpy(&v.u64, p, 8);
		if (v.u64 > INT64_MAX)
			return -1;
		*out = (int64_t)v.u64;
		return 0;
	default:
		return -1;
	}
}

int amxrt_gguf_get_int(const struct amxrt_gguf *g, const char *key,
		       int64_t *out)
{
	const struct gguf_kv *kv;
	int64_t v;
	int rc;

	kv = lookup(g, key, &rc);
	if (!kv)
		return rc;
	if (kv_int(g, kv, &v)) {
		if (kv->type == AMXRT_GGUF_UINT64)
			return amxrt_err(EINVAL,
					 "gguf: key %s: uint64 value does not "
					 "fit in int64",
					 key);
		return wrong_type(kv, key, "an integer");
	}
	if (out)
		*out = v;
	return 0;
}

int amxrt_gguf_get_float(const struct amxrt_gguf *g, const char *key,
			 double *out)
{
	const struct gguf_kv *kv;
	double d;
	int64_t v;
	int rc;

	kv = lookup(g, key, &rc);
	if (!kv)
		return rc;
	if (kv->type == AMXRT_GGUF_FLOAT32) {
		float f;

		memcpy(&f, g->base + kv->val, 4);
		d = f;
	} else if (kv->type == AMXRT_GGUF_FLOAT64) {
		memcpy(&d, g->base + kv->val, 8);
	} else if (kv->type == AMXRT_GGUF_UINT64) {
		uint64_t u;

		memcpy(&u, g->base + kv->val, 8);
		d = (double)u;
	} else if (kv->type != AMXRT_GGUF_BOOL && !kv_int(g, kv, &v)) {
		d = (double)v;
	} else {
		return wrong_type(kv, key, "a number");
	}
	if (out)
		*out = d;
	return 0;
}

int amxrt_gguf_get_str(const struct amxrt_gguf *g, const char *key,
		       const char **s, size_t *len)
{
	const struct gguf_kv *kv;
	int rc;

	kv = lookup(g, key, &rc);
	if (!kv)
		return rc;
	if (kv->type != AMXRT_GGUF_STRING)
		return wrong_type(kv, key, "a string");
	if (s)
		*s = g->pool + kv->val;
	if (len)
		*len = (size_t)kv->n;
	return 0;
}

int amxrt_gguf_get_arr(const struct amxrt_gguf *g, const char *key,
		       enum amxrt_gguf_type *elem, uint64_t *n,
		       const void **data)
{
	const struct gguf_kv *kv;
	int rc;

	kv = lookup(g, key, &rc);
	if (!kv)
		return rc;
	if (kv->type != AMXRT_GGUF_ARRAY)
		return wrong_type(kv, key, "an array");
	if (elem)
		*elem = kv->elem;
	if (n)
		*n = kv->n;
	if (data)
		*data = kv->elem == AMXRT_GGUF_STRING ? NULL :
							g->pool + kv->val;
	return 0;
}

int amxrt_gguf_str_block(const struct amxrt_gguf *g, const char *key,
			 const char **base, const size_t **offs, uint64_t *n)
{
	const struct gguf_kv *kv;
	int rc;

	kv = lookup(g, key, &rc);
	if (!kv)
		return rc;
	if (kv->type != AMXRT_GGUF_ARRAY || kv->elem != AMXRT_GGUF_STRING)
		return wrong_type(kv, key, "an array of strings");
	*base = g->pool;
	*offs = g->strs + kv->str;
	*n = kv->n;
	return 0;
}

int amxrt_gguf_arr_str(const struct amxrt_gguf *g, const char *key, uint64_t i,
		       const char **s, size_t *len)
{
	const size_t *o = NULL;
	const char *base = NULL;
	uint64_t n = 0;
	int rc;

	rc = amxrt_gguf_str_block(g, key, &base, &o, &n);
	if (rc)
		return rc;
	if (i >= n)
		return amxrt_err(EINVAL,
				 "gguf: key %s: index %llu is out of range "
				 "(%llu strings)",
				 key, (unsigned long long)i,
				 (unsigned long long)n);
	if (s)
		*s = base + o[i];
	if (len)
		*len = o[i + 1] - o[i] - 1;
	return 0;
}

/* ---- tensors ------------------------------------------------------------ */

int64_t amxrt_gguf_tensor_count(const struct amxrt_gguf *g)
{
	return g ? g->n_tensors : 0;
}

int amxrt_gguf_tensor(const struct amxrt_gguf *g, int64_t i,
		      struct amxrt_gguf_tensor *t)
{
	const struct gguf_tensor *x;

	if (!g || !t)
		return amxrt_err(EINVAL, "gguf: %s is NULL",
				 g ? "tensor" : "file");
	if (i < 0 || i >= g->n_tensors)
		return amxrt_err(EINVAL,
				 "gguf: tensor index %lld is out of range "
				 "(%lld tensors)",
				 (long long)i, (long long)g->n_tensors);
	x = &g->tensors[i];
	t->name = g->pool + x->name;
	t->type = x->type;
	t->n_dims = x->n_dims;
	memcpy(t->ne, x->ne, sizeof(t->ne));
	t->offset = x->offset;
	t->size = x->size;
	t->data = g->base + g->data_offset + x->offset;
	return 0;
}

int64_t amxrt_gguf_find_tensor(const struct amxrt_gguf *g, const char *name)
{
	size_t slot;

	if (!g || !name)
		return -1;
	return amxrt_gguf_probe(g, 1, name, strlen(name), &slot);
}
