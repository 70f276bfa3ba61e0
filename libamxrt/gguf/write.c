// SPDX-License-Identifier: MIT
/*
 * write.c - the GGUF writer: collect metadata and tensors, then write a
 * version 3 file in one pass, atomically (temporary file, fsync, rename).
 *
 * Layout written (little-endian, as the GGUF specification and ggml):
 *
 *   "GGUF", u32 version 3, u64 tensor count, u64 kv count
 *   kv:     string key, u32 type, value
 *   tensor: string name, u32 n_dims, u64 ne[n_dims], u32 type, u64 offset
 *   zeros up to the alignment, then the data section: each tensor at its
 *   offset (a multiple of the alignment), zero-padded to the alignment
 *
 * A string is a u64 length and its bytes (no NUL); an array is a u32
 * element type, a u64 count and the elements. A metadata value is kept
 * encoded from the moment it is set, so writing it is a copy.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <amxrt/gguf.h>

#include "../core/error.h"
#include "gguf_int.h"

#define GGUF_VERSION 3
#define GGUF_DEFAULT_ALIGNMENT 32
#define GGUF_MAX_NAME 63 /* ggml's GGML_MAX_NAME (64) less the NUL */
#define GGUF_MAX_KEY 65535
#define WBUF_SIZE (1u << 20)

struct wkv {
	char *key;
	enum amxrt_gguf_type type;
	uint8_t *val; /* the encoded value (after the type field) */
	size_t len;
};

struct wtensor {
	char *name;
	enum amxrt_type type;
	int n_dims;
	int64_t ne[AMXRT_GGUF_MAX_DIMS];
	uint64_t size;
	uint64_t offset;
	const void *data;
	amxrt_gguf_fill_fn fill;
	void *fill_ctx;
};

struct amxrt_gguf_writer {
	struct wkv *kv;
	size_t n_kv, cap_kv;
	struct wtensor *t;
	size_t n_t, cap_t;
};

/* ---- metadata ------------------------------------------------------------ */

static int check_key(const struct amxrt_gguf_writer *w, const char *key)
{
	size_t n;

	if (!w || !key)
		return amxrt_err(EINVAL, "gguf writer: NULL %s",
				 w ? "key" : "writer");
	n = strlen(key);
	if (!n || n > GGUF_MAX_KEY)
		return amxrt_err(EINVAL,
				 "gguf writer: key length %zu not in 1..%d", n,
				 GGUF_MAX_KEY);
	return 0;
}

/* Store an encoded value under key (takes val), replacing an old one. */
static int put(struct amxrt_gguf_writer *w, const char *key,
	       enum amxrt_gguf_type type, uint8_t *val, size_t len)
{
	size_t i;
	char *k;

	for (i = 0; i < w->n_kv; i++) {
		if (!strcmp(w->kv[i].key, key)) {
			free(w->kv[i].val);
			w->kv[i].type = type;
			w->kv[i].val = val;
			w->kv[i].len = len;
			return 0;
		}
	}
	if (w->n_kv == w->cap_kv) {
		size_t cap = w->cap_kv ? 2 * w->cap_kv : 16;
		struct wkv *kv = realloc(w->kv, cap * sizeof(*kv));

		if (!kv)
			goto nomem;
		w->kv = kv;
		w->cap_kv = cap;
	}
	k = strdup(key);
	if (!k)
		goto nomem;
	w->kv[w->n_kv++] = (struct wkv){ k, type, val, len };
	return 0;
nomem:
	free(val);
	return amxrt_err(ENOMEM, "gguf writer: out of memory for key %s", key);
}

static int set_scalar(struct amxrt_gguf_writer *w, const char *key,
		      enum amxrt_gguf_type type, const void *v)
{
	size_t n = amxrt_gguf_scalar_size(type);
	uint8_t *val;
	int err = check_key(w, key);

	if (err)
		return err;
	val = malloc(n);
	if (!val)
		return amxrt_err(ENOMEM,
				 "gguf writer: out of memory for key %s", key);
	memcpy(val, v, n);
	return put(w, key, type, val, n);
}

int amxrt_gguf_set_u32(struct amxrt_gguf_writer *w, const char *key, uint32_t v)
{
	return set_scalar(w, key, AMXRT_GGUF_UINT32, &v);
}

int amxrt_gguf_set_i32(struct amxrt_gguf_writer *w, const char *key, int32_t v)
{
	return set_scalar(w, key, AMXRT_GGUF_INT32, &v);
}

int amxrt_gguf_set_u64(struct amxrt_gguf_writer *w, const char *key, uint64_t v)
{
	return set_scalar(w, key, AMXRT_GGUF_UINT64, &v);
}

int amxrt_gguf_set_f32(struct amxrt_gguf_writer *w, const char *key, float v)
{
	return set_scalar(w, key, AMXRT_GGUF_FLOAT32, &v);
}

int amxrt_gguf_set_bool(struct amxrt_gguf_writer *w, const char *key, int v)
{
	uint8_t b = v ? 1 : 0;

	return set_scalar(w, key, AMXRT_GGUF_BOOL, &b);
}

/* Append a GGUF string (u64 length, bytes) at p; returns the end. */
static uint8_t *put_string(uint8_t *p, const char *s, uint64_t len)
{
	memcpy(p, &len, 8);
	if (len)
		memcpy(p + 8, s, len);
	return p + 8 + len;
}

static int set_strn(struct amxrt_gguf_writer *w, const char *key, const char *v,
		    size_t len)
{
	uint8_t *val;
	int err = check_key(w, key);

	if (err)
		return err;
	if (!v && len)
		return amxrt_err(EINVAL, "gguf writer: %s: NULL string", key);
	val = malloc(8 + len);
	if (!val)
		return amxrt_err(ENOMEM,
				 "gguf writer: out of memory for key %s", key);
	put_string(val, v, len);
	return put(w, key, AMXRT_GGUF_STRING, val, 8 + len);
}

int amxrt_gguf_set_str(struct amxrt_gguf_writer *w, const char *key,
		       const char *v)
{
	if (!v)
		return amxrt_err(EINVAL, "gguf writer: %s: NULL string",
				 key ? key : "(null)");
	return set_strn(w, key, v, strlen(v));
}

int amxrt_gguf_set_arr(struct amxrt_gguf_writer *w, const char *key,
		       enum amxrt_gguf_type elem, const void *data, uint64_t n)
{
	size_t es = amxrt_gguf_scalar_size(elem), len;
	uint32_t t = elem;
	uint8_t *val;
	int err = check_key(w, key);

	if (err)
		return err;
	if (!es)
		return amxrt_err(EINVAL,
				 "gguf writer: %s: element type %d is not a "
				 "fixed-size type (strings: set_arr_str)",
				 key, (int)elem);
	if (n && !data)
		return amxrt_err(EINVAL, "gguf writer: %s: NULL array data",
				 key);
	if (n > (SIZE_MAX - 12) / es)
		return amxrt_err(EINVAL,
				 "gguf writer: %s: %llu elements is "
				 "too many",
				 key, (unsigned long long)n);
	len = 12 + (size_t)n * es;
	val = malloc(len);
	if (!val)
		return amxrt_err(ENOMEM,
				 "gguf writer: out of memory for key %s", key);
	memcpy(val, &t, 4);
	memcpy(val + 4, &n, 8);
	if (n)
		memcpy(val + 12, data, (size_t)n * es);
	return put(w, key, AMXRT_GGUF_ARRAY, val, len);
}

int amxrt_gguf_set_arr_str(struct amxrt_gguf_writer *w, const char *key,
			   const char *const *strs, const size_t *lens,
			   uint64_t n)
{
	uint32_t t = AMXRT_GGUF_STRING;
	size_t len = 12;
	uint8_t *val, *p;
	uint64_t i;
	int err = check_key(w, key);

	if (err)
		return err;
	if (n && !strs)
		return amxrt_err(EINVAL, "gguf writer: %s: NULL string array",
				 key);
	for (i = 0; i < n; i++) {
		size_t l;

		if (!strs[i] && (!lens || lens[i]))
			return amxrt_err(EINVAL,
					 "gguf writer: %s: string %llu is NULL",
					 key, (unsigned long long)i);
		l = lens ? lens[i] : strlen(strs[i]);
		if (l > SIZE_MAX / 2 - len)
			return amxrt_err(EINVAL, "gguf writer: %s: too large",
					 key);
		len += 8 + l;
	}
	val = malloc(len);
	if (!val)
		return amxrt_err(ENOMEM,
				 "gguf writer: out of memory for key %s", key);
	memcpy(val, &t, 4);
	memcpy(val + 4, &n, 8);
	p = val + 12;
	for (i = 0; i < n; i++)
		p = put_string(p, strs[i], lens ? lens[i] : strlen(strs[i]));
	return put(w, key, AMXRT_GGUF_ARRAY, val, len);
}

/* Copy one array kv of g (fixed-size elements or strings). */
static int copy_arr(struct amxrt_gguf_writer *w, const struct amxrt_gguf *g,
		    const char *key)
{
	enum amxrt_gguf_type elem;
	const char **strs;
	const void *data;
	size_t *lens;
	uint64_t n, i;
	int err;

	err = amxrt_gguf_get_arr(g, key, &elem, &n, &data);
	if (err)
		return err;
	if (elem != AMXRT_GGUF_STRING)
		return amxrt_gguf_set_arr(w, key, elem, data, n);
	if (n > SIZE_MAX / sizeof(*strs))
		return amxrt_err(ENOMEM, "gguf writer: %s: too many strings",
				 key);
	strs = malloc((n ? n : 1) * sizeof(*strs));
	lens = malloc((n ? n : 1) * sizeof(*lens));
	err = strs && lens ?
		      0 :
		      amxrt_err(ENOMEM, "gguf writer: out of memory for key %s",
				key);
	for (i = 0; !err && i < n; i++)
		err = amxrt_gguf_arr_str(g, key, i, &strs[i], &lens[i]);
	if (!err)
		err = amxrt_gguf_set_arr_str(w, key, strs, lens, n);
	free(strs);
	free(lens);
	return err;
}

int amxrt_gguf_copy_kv(struct amxrt_gguf_writer *w, const struct amxrt_gguf *g,
		       int (*skip)(const char *key))
{
	int64_t i, n;

	if (!w || !g)
		return amxrt_err(EINVAL, "gguf copy_kv: NULL %s",
				 w ? "file" : "writer");
	n = amxrt_gguf_kv_count(g);
	for (i = 0; i < n; i++) {
		const char *key = amxrt_gguf_kv_key(g, i);
		enum amxrt_gguf_type type = amxrt_gguf_kv_type(g, i);
		const char *s;
		int64_t iv;
		double fv;
		size_t len;
		int err;

		if (!key)
			return amxrt_err(EINVAL,
					 "gguf copy_kv: key %lld has "
					 "no name",
					 (long long)i);
		if (skip && skip(key))
			continue;
		switch (type) {
		case AMXRT_GGUF_STRING:
			err = amxrt_gguf_get_str(g, key, &s, &len);
			if (!err)
				err = set_strn(w, key, s, len);
			break;
		case AMXRT_GGUF_ARRAY:
			err = copy_arr(w, g, key);
			break;
		case AMXRT_GGUF_FLOAT32:
		case AMXRT_GGUF_FLOAT64:
			err = amxrt_gguf_get_float(g, key, &fv);
			if (!err && type == AMXRT_GGUF_FLOAT32) {
				float f = (float)fv;

				err = set_scalar(w, key, type, &f);
			} else if (!err) {
				err = set_scalar(w, key, type, &fv);
			}
			break;
		default:
			if (!amxrt_gguf_scalar_size(type))
				return amxrt_err(EINVAL,
						 "gguf copy_kv: %s: unknown "
						 "type %d",
						 key, (int)type);
			err = amxrt_gguf_get_int(g, key, &iv);
			if (err && type == AMXRT_GGUF_UINT64 &&
			    !amxrt_gguf_get_float(g, key, &fv)) {
				/* above INT64_MAX: get_int refuses it */
				uint64_t u = fv >= 18446744073709551615.0 ?
						     UINT64_MAX :
						     (uint64_t)fv;

				err = set_scalar(w, key, type, &u);
				break;
			}
			/* little-endian: the low bytes are the value */
			if (!err)
				err = set_scalar(w, key, type, &iv);
			break;
		}
		if (err)
			return err;
	}
	return 0;
}

/* ---- tensors ------------------------------------------------------------- */

int amxrt_gguf_add_tensor(struct amxrt_gguf_writer *w, const char *name,
			  enum amxrt_type type, int n_dims, const int64_t *ne,
			  const void *data, amxrt_gguf_fill_fn fill,
			  void *fill_ctx)
{
	int64_t bv, nel = 1, rb;
	struct wtensor *t;
	size_t i;
	int d;

	if (!w || !name || !ne)
		return amxrt_err(EINVAL, "gguf add_tensor: NULL %s",
				 !w    ? "writer" :
				 !name ? "name" :
					 "shape");
	if (!*name || strlen(name) > GGUF_MAX_NAME)
		return amxrt_err(
			EINVAL,
			"gguf add_tensor: name \"%.80s\" must be 1..%d "
			"bytes",
			name, GGUF_MAX_NAME);
	/* the weight types the reader accepts (Q8_1 is for activations) */
	if (!amxrt_type_block_bytes(type) || type == AMXRT_TYPE_Q8_1)
		return amxrt_err(EINVAL,
				 "gguf add_tensor: %s: type %d is not a weight "
				 "type (f32 f16 bf16 q4_0 q4_1 q8_0)",
				 name, (int)type);
	if (n_dims < 1 || n_dims > AMXRT_GGUF_MAX_DIMS)
		return amxrt_err(EINVAL,
				 "gguf add_tensor: %s: n_dims %d not in 1..%d",
				 name, n_dims, AMXRT_GGUF_MAX_DIMS);
	if (!data && !fill)
		return amxrt_err(EINVAL,
				 "gguf add_tensor: %s: neither data nor a fill "
				 "callback",
				 name);
	for (i = 0; i < w->n_t; i++)
		if (!strcmp(w->t[i].name, name))
			return amxrt_err(EEXIST,
					 "gguf add_tensor: %s: name used twice",
					 name);
	for (d = 0; d < n_dims; d++) {
		if (ne[d] < 1 || ne[d] > INT64_MAX / nel)
			return amxrt_err(EINVAL,
					 "gguf add_tensor: %s: ne[%d] = %lld "
					 "is out of range",
					 name, d, (long long)ne[d]);
		nel *= ne[d];
	}
	bv = amxrt_type_block_values(type);
	if (ne[0] % bv)
		return amxrt_err(
			EINVAL,
			"gguf add_tensor: %s: row length %lld is not a "
			"multiple of %s's block size %lld",
			name, (long long)ne[0], amxrt_type_name(type),
			(long long)bv);
	rb = amxrt_row_bytes(type, ne[0]);
	if (rb < 0)
		return rb;
	if (nel / ne[0] > (INT64_MAX / 2) / rb)
		return amxrt_err(EINVAL, "gguf add_tensor: %s: too large",
				 name);
	if (w->n_t == w->cap_t) {
		size_t cap = w->cap_t ? 2 * w->cap_t : 16;
		struct wtensor *nt = realloc(w->t, cap * sizeof(*nt));

		if (!nt)
			return amxrt_err(ENOMEM, "gguf add_tensor: out of "
						 "memory");
		w->t = nt;
		w->cap_t = cap;
	}
	t = &w->t[w->n_t];
	memset(t, 0, sizeof(*t));
	t->name = strdup(name);
	if (!t->name)
		return amxrt_err(ENOMEM, "gguf add_tensor: out of memory");
	t->type = type;
	t->n_dims = n_dims;
	for (d = 0; d < AMXRT_GGUF_MAX_DIMS; d++)
		t->ne[d] = d < n_dims ? ne[d] : 1;
	t->size = (uint64_t)(nel / ne[0]) * (uint64_t)rb;
	t->data = data;
	t->fill = data ? NULL : fill;
	t->fill_ctx = fill_ctx;
	w->n_t++;
	return 0;
}

/* ---- lifetime ------------------------------------------------------------ */

int amxrt_gguf_writer_new(struct amxrt_gguf_writer **out)
{
	if (!out)
		return amxrt_err(EINVAL, "gguf writer_new: NULL out");
	*out = calloc(1, sizeof(**out));
	if (!*out)
		return amxrt_err(ENOMEM, "gguf writer_new: out of memory");
	return 0;
}

void amxrt_gguf_writer_free(struct amxrt_gguf_writer *w)
{
	size_t i;

	if (!w)
		return;
	for (i = 0; i < w->n_kv; i++) {
		free(w->kv[i].key);
		free(w->kv[i].val);
	}
	for (i = 0; i < w->n_t; i++)
		free(w->t[i].name);
	free(w->kv);
	free(w->t);
	free(w);
}

/* ---- output -------------------------------------------------------------- */

struct out {
	int fd;
	const char *path; /* the final path, for messages */
	uint8_t *buf;
	size_t used;
	uint64_t pos;
	int err; /* first failure, negative errno (message set) */
};

static int out_fail(struct out *o, int err)
{
	if (!o->err)
		o->err = amxrt_err(err, "write %s: %s", o->path, strerror(err));
	return o->err;
}

static int write_all(struct out *o, const void *p, size_t n)
{
	const uint8_t *b = p;

	while (!o->err && n) {
		ssize_t r = write(o->fd, b, n < (1u << 30) ? n : (1u << 30));

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return out_fail(o, r < 0 ? errno : ENOSPC);
		b += r;
		n -= (size_t)r;
	}
	return o->err;
}

static int flush(struct out *o)
{
	int err = write_all(o, o->buf, o->used);

	o->used = 0;
	return err;
}

static int emit(struct out *o, const void *p, size_t n)
{
	o->pos += n;
	if (o->used + n > WBUF_SIZE) {
		if (flush(o))
			return o->err;
		if (n > WBUF_SIZE)
			return write_all(o, p, n);
	}
	memcpy(o->buf + o->used, p, n);
	o->used += n;
	return o->err;
}

static int emit_u32(struct out *o, uint32_t v)
{
	return emit(o, &v, 4);
}

static int emit_u64(struct out *o, uint64_t v)
{
	return emit(o, &v, 8);
}

static int emit_str(struct out *o, const char *s)
{
	emit_u64(o, strlen(s));
	return emit(o, s, strlen(s));
}

static int pad_to(struct out *o, uint64_t align)
{
	static const uint8_t zeros[256];

	while (!o->err && o->pos % align) {
		uint64_t n = align - o->pos % align;

		emit(o, zeros, n < sizeof(zeros) ? n : sizeof(zeros));
	}
	return o->err;
}

/* The alignment: general.alignment (a u32 power of two) or 32. */
static int get_alignment(const struct amxrt_gguf_writer *w, uint32_t *align)
{
	size_t i;

	*align = GGUF_DEFAULT_ALIGNMENT;
	for (i = 0; i < w->n_kv; i++) {
		if (strcmp(w->kv[i].key, "general.alignment"))
			continue;
		if (w->kv[i].type != AMXRT_GGUF_UINT32)
			return amxrt_err(EINVAL,
					 "gguf write: general.alignment must "
					 "be a uint32");
		memcpy(align, w->kv[i].val, 4);
		if (!*align || (*align & (*align - 1)))
			return amxrt_err(EINVAL,
					 "gguf write: general.alignment %u is "
					 "not a power of two",
					 *align);
	}
	return 0;
}

static int write_meta(const struct amxrt_gguf_writer *w, struct out *o,
		      uint32_t align)
{
	size_t i;
	int d;

	emit(o, "GGUF", 4);
	emit_u32(o, GGUF_VERSION);
	emit_u64(o, w->n_t);
	emit_u64(o, w->n_kv);
	for (i = 0; i < w->n_kv; i++) {
		emit_str(o, w->kv[i].key);
		emit_u32(o, w->kv[i].type);
		emit(o, w->kv[i].val, w->kv[i].len);
	}
	for (i = 0; i < w->n_t; i++) {
		const struct wtensor *t = &w->t[i];

		emit_str(o, t->name);
		emit_u32(o, (uint32_t)t->n_dims);
		for (d = 0; d < t->n_dims; d++)
			emit_u64(o, (uint64_t)t->ne[d]);
		emit_u32(o, (uint32_t)t->type);
		emit_u64(o, t->offset);
	}
	return pad_to(o, align);
}

static int write_data(const struct amxrt_gguf_writer *w, struct out *o,
		      uint32_t align)
{
	uint64_t start = o->pos, most = 0;
	void *scratch = NULL;
	size_t i;

	for (i = 0; i < w->n_t; i++)
		if (w->t[i].fill && w->t[i].size > most)
			most = w->t[i].size;
	if (most > SIZE_MAX)
		return amxrt_err(ENOMEM, "gguf write: tensor too large");
	if (most) {
		scratch = malloc((size_t)most);
		if (!scratch)
			return amxrt_err(ENOMEM,
					 "gguf write: out of memory for a %llu "
					 "byte tensor",
					 (unsigned long long)most);
	}
	for (i = 0; i < w->n_t && !o->err; i++) {
		const struct wtensor *t = &w->t[i];
		const void *src = t->data;

		pad_to(o, align);
		if (o->pos - start != t->offset) /* cannot happen */
			return amxrt_err(EIO, "gguf write: %s: offset drift",
					 t->name);
		if (t->fill) {
			int r = t->fill(t->fill_ctx, scratch, (size_t)t->size);

			if (r < 0) {
				free(scratch);
				return amxrt_err(
					-r,
					"gguf write %s: tensor %s: fill "
					"callback failed: %s",
					o->path, t->name, strerror(-r));
			}
			src = scratch;
		}
		emit(o, src, (size_t)t->size);
	}
	free(scratch);
	pad_to(o, align);
	return flush(o);
}

/* Create path.tmp-PID-N next to path (O_EXCL; mode 0666 less umask). */
static int open_temp(const char *path, char **tmp)
{
	static unsigned int counter;
	size_t len = strlen(path) + 48;
	int fd = -1, tries;

	*tmp = malloc(len);
	if (!*tmp)
		return amxrt_err(ENOMEM, "gguf write: out of memory");
	for (tries = 0; tries < 100; tries++) {
		snprintf(*tmp, len, "%s.tmp-%d-%u", path, (int)getpid(),
			 __atomic_fetch_add(&counter, 1, __ATOMIC_RELAXED));
		fd = open(*tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
		if (fd >= 0 || errno != EEXIST)
			break;
	}
	if (fd < 0) {
		int err = errno;

		free(*tmp);
		*tmp = NULL;
		return amxrt_err(err,
				 "gguf write %s: cannot create a temporary "
				 "file beside it: %s",
				 path, strerror(err));
	}
	return fd;
}

int amxrt_gguf_write(struct amxrt_gguf_writer *w, const char *path)
{
	struct out o = { .fd = -1, .path = path };
	uint64_t off = 0;
	uint32_t align;
	char *tmp = NULL;
	size_t i;
	int err;

	if (!w || !path || !*path)
		return amxrt_err(EINVAL, "gguf write: NULL %s",
				 w ? "path" : "writer");
	err = get_alignment(w, &align);
	if (err)
		return err;
	for (i = 0; i < w->n_t; i++) {
		w->t[i].offset = off;
		off += (w->t[i].size + align - 1) / align * align;
	}
	o.buf = malloc(WBUF_SIZE);
	if (!o.buf)
		return amxrt_err(ENOMEM, "gguf write: out of memory");
	o.fd = open_temp(path, &tmp);
	if (o.fd < 0) {
		free(o.buf);
		return o.fd;
	}
	err = write_meta(w, &o, align);
	if (!err)
		err = write_data(w, &o, align);
	if (!err && fsync(o.fd))
		err = out_fail(&o, errno);
	if (close(o.fd) && !err)
		err = out_fail(&o, errno);
	if (!err && rename(tmp, path)) {
		int e = errno;

		err = amxrt_err(e, "gguf write: rename %s to %s: %s", tmp, path,
				strerror(e));
	}
	if (err)
		unlink(tmp);
	free(tmp);
	free(o.buf);
	return err;
}
