// SPDX-License-Identifier: MIT
/*
 * read.c - opening a GGUF file: map it (or take the caller's buffer),
 * validate the header, every key-value pair and every tensor info, and
 * build the pool and the hash tables that query.c reads. Nothing is handed
 * out before the whole file has been checked; every refusal is -EINVAL
 * with a message naming the item, the problem and the file offset.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <amxrt/amxrt.h>

#include "../core/error.h"
#include "../core/mem.h"
#include "gguf_int.h"

/* Smallest encodings: a key-value pair (key of one byte, a one-byte value)
 * and a tensor info (name of one byte, one dimension). */
#define KV_MIN_BYTES (8 + 1 + 4 + 1)
#define TENSOR_MIN_BYTES (8 + 1 + 4 + 8 + 4 + 8)

/* ---- reading cursor ----------------------------------------------------- */

struct cur {
	const uint8_t *p;
	size_t size, pos;
	struct amxrt_gguf *g;
	size_t pool_cap, strs_len, strs_cap;
	char ctx[160]; /* the item being read: "key general.name" */
};

static size_t left(const struct cur *c)
{
	return c->size - c->pos;
}

/* Refuse with "CTX: MESSAGE (file offset AT)". */
__attribute__((format(printf, 3, 4))) static int bad(struct cur *c, size_t at,
						     const char *fmt, ...)
{
	char msg[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return amxrt_err(EINVAL, "%s%s%s (file offset %zu)", c->ctx,
			 c->ctx[0] ? ": " : "", msg, at);
}

static int need(struct cur *c, size_t n, const char *what)
{
	if (n > left(c))
		return bad(
			c, c->pos,
			"truncated: %s needs %zu bytes, the file has %zu left",
			what, n, left(c));
	return 0;
}

static int rd_u32(struct cur *c, uint32_t *v, const char *what)
{
	int rc = need(c, sizeof(*v), what);

	if (rc)
		return rc;
	memcpy(v, c->p + c->pos, sizeof(*v));
	c->pos += sizeof(*v);
	return 0;
}

static int rd_u64(struct cur *c, uint64_t *v, const char *what)
{
	int rc = need(c, sizeof(*v), what);

	if (rc)
		return rc;
	memcpy(v, c->p + c->pos, sizeof(*v));
	c->pos += sizeof(*v);
	return 0;
}

/* A string: u64 length, then the bytes (not NUL-terminated in the file). */
static int rd_str(struct cur *c, const char *what, const uint8_t **s,
		  uint64_t *len)
{
	size_t at = c->pos;
	int rc = rd_u64(c, len, what);

	if (rc)
		return rc;
	if (*len > left(c))
		return bad(c, at,
			   "%s length %llu runs past the end of the file "
			   "(%zu bytes left)",
			   what, (unsigned long long)*len, left(c));
	*s = c->p + c->pos;
	c->pos += *len;
	return 0;
}

/* ---- the pool ----------------------------------------------------------- */

/*
 * realloc(), but from 2 MiB on a block in huge pages (core/mem.c): a
 * vocabulary's strings and their offsets (151936 tokens and as many
 * merges: 8 MiB) are otherwise two thousand page faults. used: the bytes
 * to keep.
 */
static void *grow(void *old, size_t used, size_t cap)
{
	void *p;

	if (cap < AMXRT_HUGE_PAGE)
		return realloc(old, cap);
	p = amxrt_alloc_huge(cap, 0);
	if (!p)
		return NULL;
	if (used)
		memcpy(p, old, used);
	free(old);
	return p;
}

/* Room for n more bytes after aligning the pool's end to align. */
static int pool_reserve(struct cur *c, size_t n, size_t align, size_t *off)
{
	struct amxrt_gguf *g = c->g;
	size_t at = (g->pool_len + align - 1) & ~(align - 1);

	if (at + n > c->pool_cap) {
		size_t cap = c->pool_cap ? c->pool_cap : 4096;
		char *p;

		while (cap < at + n)
			cap *= 2;
		p = grow(g->pool, g->pool_len, cap);
		if (!p)
			return amxrt_err(ENOMEM,
					 "%s: out of memory (%zu bytes)",
					 c->ctx, cap);
		g->pool = p;
		c->pool_cap = cap;
	}
	if (at > g->pool_len)
		memset(g->pool + g->pool_len, 0, at - g->pool_len);
	*off = at;
	g->pool_len = at + n;
	return 0;
}

/* Copy a string into the pool with a NUL after it. */
static int pool_str(struct cur *c, const uint8_t *s, size_t len, size_t *off)
{
	int rc = pool_reserve(c, len + 1, 1, off);

	if (rc)
		return rc;
	memcpy(c->g->pool + *off, s, len);
	c->g->pool[*off + len] = '\0';
	return 0;
}

static int strs_reserve(struct cur *c, size_t n)
{
	struct amxrt_gguf *g = c->g;

	if (c->strs_len + n > c->strs_cap) {
		size_t cap = c->strs_cap ? c->strs_cap : 256;
		size_t *p;

		while (cap < c->strs_len + n)
			cap *= 2;
		p = grow(g->strs, c->strs_len * sizeof(*p), cap * sizeof(*p));
		if (!p)
			return amxrt_err(
				ENOMEM,
				"%s: out of memory (%zu string offsets)",
				c->ctx, cap);
		g->strs = p;
		c->strs_cap = cap;
	}
	return 0;
}

/* ---- metadata ----------------------------------------------------------- */

static int check_bools(struct cur *c, const uint8_t *b, uint64_t n, size_t at)
{
	uint64_t i;

	for (i = 0; i < n; i++)
		if (b[i] > 1)
			return bad(c, at + i, "bool value %u is not 0 or 1",
				   b[i]);
	return 0;
}

static int rd_string_array(struct cur *c, struct gguf_kv *kv, uint64_t n,
			   size_t at)
{
	struct amxrt_gguf *g = c->g;
	uint64_t i;
	int rc;

	if (n > left(c) / 8)
		return bad(c, at,
			   "array of %llu strings cannot fit in the %zu bytes "
			   "left (8 bytes each at least)",
			   (unsigned long long)n, left(c));
	rc = strs_reserve(c, (size_t)n + 1);
	if (rc)
		return rc;
	kv->str = c->strs_len;
	for (i = 0; i < n; i++) {
		const uint8_t *s;
		uint64_t len;
		size_t off;

		rc = rd_str(c, "array element", &s, &len);
		if (!rc)
			rc = pool_str(c, s, (size_t)len, &off);
		if (rc)
			return rc;
		g->strs[c->strs_len++] = off;
	}
	g->strs[c->strs_len++] = g->pool_len;
	return 0;
}

static int rd_array(struct cur *c, struct gguf_kv *kv)
{
	size_t at = c->pos, esz, off;
	uint32_t elem;
	uint64_t n;
	int rc;

	rc = rd_u32(c, &elem, "array element type");
	if (!rc)
		rc = rd_u64(c, &n, "array length");
	if (rc)
		return rc;
	kv->elem = (enum amxrt_gguf_type)elem;
	kv->n = n;
	if (elem == AMXRT_GGUF_ARRAY)
		return bad(c, at, "nested arrays are not supported");
	if (elem == AMXRT_GGUF_STRING)
		return rd_string_array(c, kv, n, at);
	esz = amxrt_gguf_scalar_size(elem);
	if (!esz)
		return bad(c, at, "unknown array element type %u", elem);
	if (n > left(c) / esz)
		return bad(c, at,
			   "array of %llu elements of %zu bytes cannot fit in "
			   "the %zu bytes left",
			   (unsigned long long)n, esz, left(c));
	if (elem == AMXRT_GGUF_BOOL) {
		rc = check_bools(c, c->p + c->pos, n, c->pos);
		if (rc)
			return rc;
	}
	rc = pool_reserve(c, (size_t)n * esz, 8, &off);
	if (rc)
		return rc;
	memcpy(c->g->pool + off, c->p + c->pos, (size_t)n * esz);
	kv->val = off;
	c->pos += (size_t)n * esz;
	return 0;
}

static int rd_value(struct cur *c, struct gguf_kv *kv)
{
	size_t at = c->pos, esz;
	const uint8_t *s;
	uint32_t type;
	uint64_t len;
	int rc;

	rc = rd_u32(c, &type, "value type");
	if (rc)
		return rc;
	kv->type = (enum amxrt_gguf_type)type;
	if (type == AMXRT_GGUF_STRING) {
		rc = rd_str(c, "string value", &s, &len);
		if (!rc)
			rc = pool_str(c, s, (size_t)len, &kv->val);
		kv->n = len;
		return rc;
	}
	if (type == AMXRT_GGUF_ARRAY)
		return rd_array(c, kv);
	esz = amxrt_gguf_scalar_size(type);
	if (!esz)
		return bad(c, at, "unknown value type %u", type);
	rc = need(c, esz, "value");
	if (rc)
		return rc;
	if (type == AMXRT_GGUF_BOOL) {
		rc = check_bools(c, c->p + c->pos, 1, c->pos);
		if (rc)
			return rc;
	}
	kv->val = c->pos;
	c->pos += esz;
	return 0;
}

static int rd_kv(struct cur *c, int64_t i)
{
	struct amxrt_gguf *g = c->g;
	struct gguf_kv *kv = &g->kv[i];
	const uint8_t *s;
	uint64_t len;
	int64_t dup;
	size_t slot;
	int rc;

	snprintf(c->ctx, sizeof(c->ctx), "key #%lld", (long long)i);
	kv->at = c->pos;
	rc = rd_str(c, "key", &s, &len);
	if (rc)
		return rc;
	if (!len)
		return bad(c, kv->at, "empty key");
	if (len > GGUF_MAX_KEY)
		return bad(c, kv->at, "key length %llu is over the limit of %d",
			   (unsigned long long)len, GGUF_MAX_KEY);
	if (memchr(s, 0, (size_t)len))
		return bad(c, kv->at, "key contains a NUL byte");
	snprintf(c->ctx, sizeof(c->ctx), "key %.*s", len > 120 ? 120 : (int)len,
		 (const char *)s);
	dup = amxrt_gguf_probe(g, 0, (const char *)s, (size_t)len, &slot);
	if (dup >= 0)
		return bad(c, kv->at,
			   "duplicate key (first at file offset %zu)",
			   g->kv[dup].at);
	rc = pool_str(c, s, (size_t)len, &kv->key);
	if (rc)
		return rc;
	kv->key_len = (size_t)len;
	g->kv_hash[slot] = i + 1;
	g->n_kv = i + 1;
	return rd_value(c, kv);
}

/* Read an integer-typed value of kv (not bool) as uint64 in *v; returns 0
 * or -1 for a non-integer type or a negative value. */
static int kv_uint(const struct amxrt_gguf *g, const struct gguf_kv *kv,
		   uint64_t *v)
{
	const uint8_t *p;
	int64_t s;

	if (kv->type == AMXRT_GGUF_STRING || kv->type == AMXRT_GGUF_ARRAY)
		return -1; /* val is a pool offset, not a file offset */
	p = g->base + kv->val;
	switch (kv->type) {
	case AMXRT_GGUF_UINT8:
		*v = p[0];
		return 0;
	case AMXRT_GGUF_INT8:
		s = (int8_t)p[0];
		break;
	case AMXRT_GGUF_UINT16: {
		uint16_t x;

		memcpy(&x, p, 2);
		*v = x;
		return 0;
	}
	case AMXRT_GGUF_INT16: {
		int16_t x;

		memcpy(&x, p, 2);
		s = x;
		break;
	}
	case AMXRT_GGUF_UINT32: {
		uint32_t x;

		memcpy(&x, p, 4);
		*v = x;
		return 0;
	}
	case AMXRT_GGUF_INT32: {
		int32_t x;

		memcpy(&x, p, 4);
		s = x;
		break;
	}
	case AMXRT_GGUF_UINT64:
		memcpy(v, p, 8);
		return 0;
	case AMXRT_GGUF_INT64:
		memcpy(&s, p, 8);
		break;
	default:
		return -1;
	}
	if (s < 0)
		return -1;
	*v = (uint64_t)s;
	return 0;
}

/* general.alignment: any integer type, a nonzero power of two that fits
 * in 32 bits. Absent: 32. */
static int rd_alignment(struct cur *c)
{
	struct amxrt_gguf *g = c->g;
	const char *key = "general.alignment";
	const struct gguf_kv *kv;
	int64_t i;
	size_t slot;
	uint64_t v;

	g->alignment = GGUF_DEFAULT_ALIGNMENT;
	i = amxrt_gguf_probe(g, 0, key, strlen(key), &slot);
	if (i < 0)
		return 0;
	kv = &g->kv[i];
	snprintf(c->ctx, sizeof(c->ctx), "key %s", key);
	if (kv_uint(g, kv, &v))
		return bad(c, kv->at,
			   "must be a non-negative integer (value type %u)",
			   kv->type);
	if (!v || (v & (v - 1)) || v > (1u << 31))
		return bad(c, kv->at,
			   "%llu is not a power of two from 1 to 2^31",
			   (unsigned long long)v);
	g->alignment = (uint32_t)v;
	return 0;
}

/* ---- tensor infos ------------------------------------------------------- */

/* ggml's type names by id, for refusals ("" where ggml removed an id). */
static const char *const ggml_type_names[] = {
	"F32",	 "F16",	  "Q4_0",    "Q4_1",   "",	  "",	   "Q5_0",
	"Q5_1",	 "Q8_0",  "Q8_1",    "Q2_K",   "Q3_K",	  "Q4_K",  "Q5_K",
	"Q6_K",	 "Q8_K",  "IQ2_XXS", "IQ2_XS", "IQ3_XXS", "IQ1_S", "IQ4_NL",
	"IQ3_S", "IQ2_S", "IQ4_XS",  "I8",     "I16",	  "I32",   "I64",
	"F64",	 "IQ1_M", "BF16",    "",       "",	  "",	   "TQ1_0",
	"TQ2_0", "",	  "",	     "",       "MXFP4",
};

/* The tensor types amxrt reads: values and bytes per block (as ggml). */
static int block_of(uint32_t type, int64_t *values, size_t *bytes)
{
	switch (type) {
	case AMXRT_TYPE_F32:
		*values = 1, *bytes = 4;
		return 1;
	case AMXRT_TYPE_F16:
	case AMXRT_TYPE_BF16:
		*values = 1, *bytes = 2;
		return 1;
	case AMXRT_TYPE_Q4_0:
		*values = 32, *bytes = 18;
		return 1;
	case AMXRT_TYPE_Q4_1:
		*values = 32, *bytes = 20;
		return 1;
	case AMXRT_TYPE_Q8_0:
		*values = 32, *bytes = 34;
		return 1;
	default:
		return 0;
	}
}

static int check_type(struct cur *c, uint32_t type, size_t at)
{
	const size_t n = sizeof(ggml_type_names) / sizeof(ggml_type_names[0]);

	int64_t bv;
	size_t bb = 0;

	if (block_of(type, &bv, &bb))
		return 0;
	if (type < n && ggml_type_names[type][0])
		return bad(c, at,
			   "type %s (%u) is not supported (amxrt reads F32, "
			   "F16, BF16, Q4_0, Q4_1 and Q8_0)",
			   ggml_type_names[type], type);
	return bad(c, at, "unknown tensor type %u", type);
}

static int rd_tensor(struct cur *c, int64_t i)
{
	struct amxrt_gguf *g = c->g;
	struct gguf_tensor *t = &g->tensors[i];
	int64_t count = 1, bv = 1, blocks;
	size_t bb = 0;
	uint32_t n_dims, type;
	const uint8_t *s;
	uint64_t len, size;
	size_t slot, at;
	int64_t dup;
	int rc, d;

	snprintf(c->ctx, sizeof(c->ctx), "tensor #%lld", (long long)i);
	t->at = c->pos;
	rc = rd_str(c, "tensor name", &s, &len);
	if (rc)
		return rc;
	if (!len)
		return bad(c, t->at, "empty tensor name");
	if (memchr(s, 0, (size_t)len))
		return bad(c, t->at, "tensor name contains a NUL byte");
	snprintf(c->ctx, sizeof(c->ctx), "tensor %.*s",
		 len > 120 ? 120 : (int)len, (const char *)s);
	dup = amxrt_gguf_probe(g, 1, (const char *)s, (size_t)len, &slot);
	if (dup >= 0)
		return bad(c, t->at,
			   "duplicate tensor name (first at file offset %zu)",
			   g->tensors[dup].at);
	rc = pool_str(c, s, (size_t)len, &t->name);
	if (rc)
		return rc;
	t->name_len = (size_t)len;
	g->tensor_hash[slot] = i + 1;
	g->n_tensors = i + 1;

	at = c->pos;
	rc = rd_u32(c, &n_dims, "n_dims");
	if (rc)
		return rc;
	if (n_dims < 1 || n_dims > AMXRT_GGUF_MAX_DIMS)
		return bad(c, at, "n_dims = %u (must be 1 to %d)", n_dims,
			   AMXRT_GGUF_MAX_DIMS);
	t->n_dims = (int)n_dims;
	for (d = 0; d < AMXRT_GGUF_MAX_DIMS; d++)
		t->ne[d] = 1;
	for (d = 0; d < (int)n_dims; d++) {
		uint64_t ne;

		at = c->pos;
		rc = rd_u64(c, &ne, "dimension");
		if (rc)
			return rc;
		if (ne == 0 || ne > INT64_MAX)
			return bad(c, at, "ne[%d] = %lld (must be positive)", d,
				   (long long)ne);
		t->ne[d] = (int64_t)ne;
		if (__builtin_mul_overflow(count, t->ne[d], &count))
			return bad(c, at,
				   "element count overflows int64 at ne[%d] = "
				   "%lld",
				   d, (long long)ne);
	}
	at = c->pos;
	rc = rd_u32(c, &type, "tensor type");
	if (!rc)
		rc = check_type(c, type, at);
	if (rc)
		return rc;
	t->type = (enum amxrt_type)type;
	block_of(type, &bv, &bb);
	if (t->ne[0] % bv)
		return bad(c, at,
			   "row length %lld is not a multiple of the block "
			   "size %lld of %s",
			   (long long)t->ne[0], (long long)bv,
			   ggml_type_names[type]);
	blocks = count / bv;
	if (__builtin_mul_overflow((uint64_t)blocks, (uint64_t)bb, &size) ||
	    size > SIZE_MAX)
		return bad(c, at, "size overflows (%lld blocks of %s)",
			   (long long)blocks, ggml_type_names[type]);
	t->size = (size_t)size;
	return rd_u64(c, &t->offset, "tensor data offset");
}

static int cmp_offset(const void *a, const void *b)
{
	const struct gguf_tensor *x = *(const struct gguf_tensor *const *)a;
	const struct gguf_tensor *y = *(const struct gguf_tensor *const *)b;

	if (x->offset != y->offset)
		return x->offset < y->offset ? -1 : 1;
	return x < y ? -1 : x > y; /* file order */
}

/* Offsets aligned, data inside the file, no two tensors overlapping. */
static int check_data(struct cur *c)
{
	struct amxrt_gguf *g = c->g;
	const struct gguf_tensor **order;
	size_t room = 0;
	int64_t i;
	int rc = 0;

	if (g->data_offset <= c->size)
		room = c->size - g->data_offset;
	for (i = 0; i < g->n_tensors; i++) {
		const struct gguf_tensor *t = &g->tensors[i];

		snprintf(c->ctx, sizeof(c->ctx), "tensor %.120s",
			 g->pool + t->name);
		if (t->offset % g->alignment)
			return bad(c, t->at,
				   "data offset %llu is not a multiple of the "
				   "alignment %u",
				   (unsigned long long)t->offset, g->alignment);
		if (t->offset > room || t->size > room - t->offset)
			return bad(c, t->at,
				   "data [%llu, %llu) of the data section at "
				   "%zu runs past the end of the file "
				   "(%zu bytes)",
				   (unsigned long long)t->offset,
				   (unsigned long long)(t->offset + t->size),
				   g->data_offset, c->size);
	}
	if (g->n_tensors < 2)
		return 0;
	order = malloc((size_t)g->n_tensors * sizeof(*order));
	if (!order)
		return amxrt_err(ENOMEM, "out of memory (%lld tensors)",
				 (long long)g->n_tensors);
	for (i = 0; i < g->n_tensors; i++)
		order[i] = &g->tensors[i];
	qsort(order, (size_t)g->n_tensors, sizeof(*order), cmp_offset);
	for (i = 1; i < g->n_tensors && !rc; i++) {
		const struct gguf_tensor *a = order[i - 1], *b = order[i];

		if (a->offset + a->size > b->offset) {
			snprintf(c->ctx, sizeof(c->ctx), "tensor %.120s",
				 g->pool + b->name);
			rc = bad(c, b->at,
				 "data at %llu overlaps tensor %.120s "
				 "[%llu, %llu)",
				 (unsigned long long)b->offset,
				 g->pool + a->name,
				 (unsigned long long)a->offset,
				 (unsigned long long)(a->offset + a->size));
		}
	}
	free(order);
	return rc;
}

/* ---- the whole file ----------------------------------------------------- */

static size_t hash_size(int64_t n)
{
	size_t cap = 8;

	while (cap < 2 * (size_t)n)
		cap *= 2;
	return cap;
}

static int rd_header(struct cur *c, uint64_t *n_tensors, uint64_t *n_kv)
{
	struct amxrt_gguf *g = c->g;
	uint32_t v, sw;
	size_t at;
	int rc;

	rc = need(c, 4, "magic");
	if (rc)
		return rc;
	if (memcmp(c->p, GGUF_MAGIC, 4))
		return bad(c, 0,
			   "bad magic %02x %02x %02x %02x (a GGUF file starts "
			   "with \"GGUF\")",
			   c->p[0], c->p[1], c->p[2], c->p[3]);
	c->pos = 4;
	rc = rd_u32(c, &v, "version");
	if (rc)
		return rc;
	sw = __builtin_bswap32(v);
	if (v == 1)
		return bad(c, 4,
			   "version 1 is not supported (its counts are 32-bit; "
			   "this reader takes versions 2 and 3)");
	if (sw == 2 || sw == 3)
		return bad(c, 4,
			   "version %u is a big-endian file, not supported",
			   sw);
	if (v != 2 && v != 3)
		return bad(c, 4, "version %u is not supported (only 2 and 3)",
			   v);
	g->version = v;
	at = c->pos;
	rc = rd_u64(c, n_tensors, "n_tensors");
	if (!rc)
		rc = rd_u64(c, n_kv, "n_kv");
	if (rc)
		return rc;
	if (*n_kv > left(c) / KV_MIN_BYTES)
		return bad(c, at + 8,
			   "n_kv = %llu: that many key-value pairs cannot fit "
			   "in the %zu bytes left",
			   (unsigned long long)*n_kv, left(c));
	if (*n_tensors > left(c) / TENSOR_MIN_BYTES ||
	    *n_tensors * TENSOR_MIN_BYTES > left(c) - *n_kv * KV_MIN_BYTES)
		return bad(c, at,
			   "n_tensors = %llu: that many tensor infos cannot "
			   "fit in the %zu bytes left",
			   (unsigned long long)*n_tensors, left(c));
	return 0;
}

static int parse(struct cur *c)
{
	struct amxrt_gguf *g = c->g;
	uint64_t n_tensors, n_kv;
	int64_t i;
	int rc;

	rc = rd_header(c, &n_tensors, &n_kv);
	if (rc)
		return rc;
	g->kv = calloc(n_kv ? n_kv : 1, sizeof(*g->kv));
	g->tensors = calloc(n_tensors ? n_tensors : 1, sizeof(*g->tensors));
	g->kv_mask = hash_size((int64_t)n_kv) - 1;
	g->tensor_mask = hash_size((int64_t)n_tensors) - 1;
	g->kv_hash = calloc(g->kv_mask + 1, sizeof(*g->kv_hash));
	g->tensor_hash = calloc(g->tensor_mask + 1, sizeof(*g->tensor_hash));
	if (!g->kv || !g->tensors || !g->kv_hash || !g->tensor_hash)
		return amxrt_err(ENOMEM,
				 "out of memory (%llu keys, %llu "
				 "tensors)",
				 (unsigned long long)n_kv,
				 (unsigned long long)n_tensors);
	for (i = 0; i < (int64_t)n_kv; i++) {
		rc = rd_kv(c, i);
		if (rc)
			return rc;
	}
	c->ctx[0] = '\0';
	rc = rd_alignment(c);
	if (rc)
		return rc;
	for (i = 0; i < (int64_t)n_tensors; i++) {
		rc = rd_tensor(c, i);
		if (rc)
			return rc;
	}
	/* c->pos <= size, alignment <= 2^31: no overflow */
	g->data_offset = (c->pos + g->alignment - 1) &
			 ~((size_t)g->alignment - 1);
	/* a file without tensors may end before the data section's padding */
	return check_data(c);
}

/* Validate buf; on success *out owns it (and unmaps it if mapped). */
static int open_buf(const void *buf, size_t size, int mapped,
		    struct amxrt_gguf **out)
{
	struct amxrt_gguf *g = calloc(1, sizeof(*g));
	struct cur c = { .p = buf, .size = size };
	int rc;

	if (!g) {
		if (mapped)
			munmap((void *)buf, size);
		return amxrt_err(ENOMEM, "out of memory");
	}
	g->base = buf;
	g->size = size;
	g->mapped = mapped;
	c.g = g;
	rc = parse(&c);
	if (rc) {
		amxrt_gguf_close(g);
		return rc;
	}
	*out = g;
	return 0;
}

/* Prefix the message parse() left with where it came from. */
static int prefixed(int rc, const char *prefix)
{
	char msg[512];

	snprintf(msg, sizeof(msg), "%s", amxrt_errmsg());
	return amxrt_err(-rc, "%s: %s", prefix, msg);
}

int amxrt_gguf_open_mem(const void *buf, size_t size, struct amxrt_gguf **out)
{
	int rc;

	if (!out)
		return amxrt_err(EINVAL, "gguf: out is NULL");
	*out = NULL;
	if (!buf && size)
		return amxrt_err(EINVAL, "gguf: buffer is NULL");
	rc = open_buf(buf, size, 0, out);
	return rc ? prefixed(rc, "gguf") : 0;
}

int amxrt_gguf_open(const char *path, struct amxrt_gguf **out)
{
	struct stat st;
	void *p = NULL;
	int fd, rc;

	if (!out)
		return amxrt_err(EINVAL, "gguf: out is NULL");
	*out = NULL;
	if (!path)
		return amxrt_err(EINVAL, "gguf: path is NULL");
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return amxrt_err(errno, "%s: %s", path, strerror(errno));
	if (fstat(fd, &st)) {
		rc = amxrt_err(errno, "%s: %s", path, strerror(errno));
		close(fd);
		return rc;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return amxrt_err(EINVAL, "%s: not a regular file", path);
	}
	if (st.st_size > 0) {
		p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd,
			 0);
		if (p == MAP_FAILED) {
			rc = amxrt_err(errno, "%s: mmap: %s", path,
				       strerror(errno));
			close(fd);
			return rc;
		}
	}
	close(fd);
	rc = open_buf(p, (size_t)st.st_size, p != NULL, out);
	return rc ? prefixed(rc, path) : 0;
}

void amxrt_gguf_close(struct amxrt_gguf *g)
{
	if (!g)
		return;
	if (g->mapped)
		munmap((void *)g->base, g->size);
	free(g->kv);
	free(g->tensors);
	free(g->pool);
	free(g->strs);
	free(g->kv_hash);
	free(g->tensor_hash);
	free(g);
}
