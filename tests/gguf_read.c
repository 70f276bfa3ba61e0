// SPDX-License-Identifier: MIT
/*
 * Description: the GGUF reader. Every bundled GGUF opens and shows the
 * facts models/SOURCES.md states (architecture, tensor and token counts,
 * types); small files built here byte by byte (every metadata type,
 * arrays, versions 2 and 3, alignments 32 and 64, vocabulary-only) read
 * back exactly with the getters' documented semantics; a table of
 * corruptions each fails with -EINVAL and a message naming the problem
 * and the file offset; every byte prefix of a file with tensors fails
 * cleanly, while a vocabulary-only file is accepted from the end of its
 * tensor infos on; seeded random byte flips never crash (ASan and UBSan
 * watch the runs under `make check SAN=1`); and the fuzzing seeds in
 * fuzz/corpus/gguf give the verdict their names promise.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "helpers.h"

#include <amxrt/amxrt.h>

/* ---- a tiny GGUF emitter -------------------------------------------- */

struct em {
	uint8_t *b;
	size_t n, cap;
};

static size_t put(struct em *e, const void *p, size_t n)
{
	size_t at = e->n;

	if (e->n + n > e->cap) {
		e->cap = (e->n + n) * 2 + 64;
		e->b = realloc(e->b, e->cap);
		if (!e->b)
			abort();
	}
	memcpy(e->b + e->n, p, n);
	e->n += n;
	return at;
}

static size_t u8(struct em *e, uint8_t v)
{
	return put(e, &v, 1);
}

static size_t u32(struct em *e, uint32_t v)
{
	return put(e, &v, 4);
}

static size_t u64(struct em *e, uint64_t v)
{
	return put(e, &v, 8);
}

/* A string; returns the offset of its length field. */
static size_t str(struct em *e, const char *s)
{
	size_t at = u64(e, strlen(s));

	put(e, s, strlen(s));
	return at;
}

/* A key and its value type; returns the offset of the type field. */
static size_t key(struct em *e, const char *k, uint32_t type)
{
	str(e, k);
	return u32(e, type);
}

static void pad(struct em *e, size_t align)
{
	while (e->n % align)
		u8(e, 0);
}

struct opts {
	uint32_t version;
	uint32_t alignment; /* 0: no general.alignment key (default 32) */
	int tensors; /* 0: vocabulary-only */
};

/* Offsets of the fields the corruption table patches. */
struct layout {
	size_t n_tensors, n_kv, key0_len, key_i8, type_u8, val_bool;
	size_t arr_i32_elem, arr_i32_n, arr_str_n, align_type, align_val;
	size_t ta_ndims, ta_ne0, ta_ne1, ta_type, tb_name, tb_ne0, tb_off;
	size_t tc_off, end_info, data_offset, data_size;
};

#define N_KV_BASE 19

static void build(struct em *e, const struct opts *o, struct layout *l)
{
	uint32_t align = o->alignment ? o->alignment : 32;
	uint64_t off_b = (32 + align - 1) / align * align;
	uint64_t off_c = (off_b + 34 + align - 1) / align * align;
	float f32 = 0.5f;
	double f64 = 0.25, af64[2] = { 1.5, -2.5 };
	int32_t ai32[3] = { 1, -2, 3 };
	size_t i;

	memset(l, 0, sizeof(*l));
	e->n = 0;
	put(e, "GGUF", 4);
	u32(e, o->version);
	l->n_tensors = u64(e, o->tensors ? 3 : 0);
	l->n_kv = u64(e, N_KV_BASE + (o->alignment ? 1 : 0));

	l->key0_len = e->n;
	key(e, "general.architecture", AMXRT_GGUF_STRING);
	str(e, "llama");
	l->type_u8 = key(e, "test.u8", AMXRT_GGUF_UINT8);
	u8(e, 200);
	l->key_i8 = e->n + 8;
	key(e, "test.i8", AMXRT_GGUF_INT8);
	u8(e, (uint8_t)-100);
	key(e, "test.u16", AMXRT_GGUF_UINT16);
	put(e, &(uint16_t){ 60000 }, 2);
	key(e, "test.i16", AMXRT_GGUF_INT16);
	put(e, &(int16_t){ -30000 }, 2);
	key(e, "test.u32", AMXRT_GGUF_UINT32);
	u32(e, 4000000000u);
	key(e, "test.i32", AMXRT_GGUF_INT32);
	u32(e, (uint32_t)-2000000000);
	key(e, "test.f32", AMXRT_GGUF_FLOAT32);
	put(e, &f32, 4);
	key(e, "test.bool", AMXRT_GGUF_BOOL);
	l->val_bool = u8(e, 1);
	key(e, "test.str", AMXRT_GGUF_STRING);
	str(e, "hello");
	key(e, "test.u64", AMXRT_GGUF_UINT64);
	u64(e, 1ULL << 40);
	key(e, "test.i64", AMXRT_GGUF_INT64);
	u64(e, (uint64_t) - (1LL << 40));
	key(e, "test.f64", AMXRT_GGUF_FLOAT64);
	put(e, &f64, 8);
	key(e, "test.big", AMXRT_GGUF_UINT64);
	u64(e, UINT64_MAX);
	key(e, "test.arr_i32", AMXRT_GGUF_ARRAY);
	l->arr_i32_elem = u32(e, AMXRT_GGUF_INT32);
	l->arr_i32_n = u64(e, 3);
	put(e, ai32, sizeof(ai32));
	key(e, "test.arr_str", AMXRT_GGUF_ARRAY);
	u32(e, AMXRT_GGUF_STRING);
	l->arr_str_n = u64(e, 3);
	str(e, "a");
	str(e, "bc");
	str(e, "");
	/* after odd-length strings: the file copy is misaligned */
	key(e, "test.arr_f64", AMXRT_GGUF_ARRAY);
	u32(e, AMXRT_GGUF_FLOAT64);
	u64(e, 2);
	put(e, af64, sizeof(af64));
	key(e, "test.arr_bool", AMXRT_GGUF_ARRAY);
	u32(e, AMXRT_GGUF_BOOL);
	u64(e, 2);
	u8(e, 1);
	u8(e, 0);
	key(e, "test.arr_empty", AMXRT_GGUF_ARRAY);
	u32(e, AMXRT_GGUF_UINT8);
	u64(e, 0);
	if (o->alignment) {
		l->align_type = key(e, "general.alignment", AMXRT_GGUF_UINT32);
		l->align_val = u32(e, o->alignment);
	}

	if (o->tensors) {
		str(e, "t.a");
		l->ta_ndims = u32(e, 2);
		l->ta_ne0 = u64(e, 4);
		l->ta_ne1 = u64(e, 2);
		l->ta_type = u32(e, AMXRT_TYPE_F32);
		u64(e, 0);
		l->tb_name = str(e, "t.b") + 8;
		u32(e, 2);
		l->tb_ne0 = u64(e, 32);
		u64(e, 1);
		u32(e, AMXRT_TYPE_Q8_0);
		l->tb_off = u64(e, off_b);
		str(e, "t.c");
		u32(e, 1);
		u64(e, 8);
		u32(e, AMXRT_TYPE_F16);
		l->tc_off = u64(e, off_c);
	}
	l->end_info = e->n;
	pad(e, align);
	l->data_offset = e->n;
	if (o->tensors) {
		l->data_size = off_c + 16;
		for (i = 0; i < l->data_size; i++)
			u8(e, (uint8_t)(i * 7 + 1));
	}
}

static void patch32(struct em *e, size_t at, uint32_t v)
{
	memcpy(e->b + at, &v, 4);
}

static void patch64(struct em *e, size_t at, uint64_t v)
{
	memcpy(e->b + at, &v, 8);
}

/* Open a heap copy of exactly n bytes, so ASan sees any read past it. */
static int open_copy(const uint8_t *b, size_t n, uint8_t **copy,
		     struct amxrt_gguf **g)
{
	*copy = malloc(n ? n : 1);
	if (!*copy)
		abort();
	memcpy(*copy, b, n);
	return amxrt_gguf_open_mem(*copy, n, g);
}

/* ---- bundled files -------------------------------------------------- */

static void model_path(char *buf, size_t len, const char *rel)
{
	const char *src = getenv("AMXRT_SRCDIR");

	snprintf(buf, len, "%s/%s", src && *src ? src : ".", rel);
}

static int64_t arr_len(struct __test_metadata *_metadata,
		       const struct amxrt_gguf *g, const char *k,
		       enum amxrt_gguf_type want)
{
	enum amxrt_gguf_type elem;
	uint64_t n;
	const void *data;

	if (amxrt_gguf_get_arr(g, k, &elem, &n, &data)) {
		TH_LOG("%s: %s", k, amxrt_errmsg());
		return -1;
	}
	EXPECT_EQ(want, elem);
	if (want == AMXRT_GGUF_STRING) {
		EXPECT_EQ(NULL, data);
	} else {
		EXPECT_NE(NULL, data);
	}
	return (int64_t)n;
}

static void expect_str(struct __test_metadata *_metadata,
		       const struct amxrt_gguf *g, const char *k,
		       const char *want)
{
	const char *s = NULL;
	size_t len = 0;

	ASSERT_EQ(0, amxrt_gguf_get_str(g, k, &s, &len))
	TH_LOG("%s: %s", k, amxrt_errmsg());
	EXPECT_STREQ(want, s);
	EXPECT_EQ(strlen(want), len);
}

static int64_t get_int(const struct amxrt_gguf *g, const char *k)
{
	int64_t v = -12345;

	if (amxrt_gguf_get_int(g, k, &v))
		return -12345;
	return v;
}

/* Tensor data lies inside the file, past the data offset, aligned, and
 * find_tensor finds every name at its own index. */
static void check_tensors(struct __test_metadata *_metadata,
			  const struct amxrt_gguf *g, const void *base,
			  size_t size)
{
	int64_t i, n = amxrt_gguf_tensor_count(g);

	for (i = 0; i < n; i++) {
		struct amxrt_gguf_tensor t;
		const uint8_t *d;

		ASSERT_EQ(0, amxrt_gguf_tensor(g, i, &t));
		d = t.data;
		ASSERT_NE(NULL, d);
		EXPECT_EQ(i, amxrt_gguf_find_tensor(g, t.name));
		EXPECT_EQ(0, t.offset % amxrt_gguf_alignment(g));
		if (base) {
			EXPECT_EQ(amxrt_gguf_data_offset(g) + t.offset,
				  (size_t)(d - (const uint8_t *)base));
			EXPECT_LE((size_t)(d - (const uint8_t *)base) + t.size,
				  size);
		}
	}
}

TEST(stories260k)
{
	char path[1024], name[64];
	struct amxrt_gguf *g = NULL;
	struct amxrt_gguf_tensor t;
	const char *s;
	size_t len;
	int64_t i;
	double eps;

	model_path(path, sizeof(path), "models/stories260K.gguf");
	ASSERT_EQ(0, amxrt_gguf_open(path, &g))
	TH_LOG("%s", amxrt_errmsg());
	EXPECT_EQ(3, amxrt_gguf_version(g));
	EXPECT_EQ(32, amxrt_gguf_alignment(g));
	EXPECT_EQ(0, amxrt_gguf_data_offset(g) % 32);
	expect_str(_metadata, g, "general.architecture", "llama");
	expect_str(_metadata, g, "tokenizer.ggml.model", "llama");
	EXPECT_EQ(5, get_int(g, "llama.block_count"));
	EXPECT_EQ(64, get_int(g, "llama.embedding_length"));
	EXPECT_EQ(172, get_int(g, "llama.feed_forward_length"));
	EXPECT_EQ(8, get_int(g, "llama.attention.head_count"));
	EXPECT_EQ(4, get_int(g, "llama.attention.head_count_kv"));
	EXPECT_EQ(0xffffffffLL,
		  get_int(g, "tokenizer.ggml.seperator_token_id"));
	ASSERT_EQ(0,
		  amxrt_gguf_get_float(
			  g, "llama.attention.layer_norm_rms_epsilon", &eps));
	EXPECT_LT(fabs(eps - 1e-5), 1e-10);
	EXPECT_EQ(-ENOENT,
		  amxrt_gguf_get_float(g, "llama.rope.freq_base", &eps));
	EXPECT_NE(NULL, strstr(amxrt_errmsg(), "llama.rope.freq_base"));
	EXPECT_EQ(512, arr_len(_metadata, g, "tokenizer.ggml.tokens",
			       AMXRT_GGUF_STRING));
	EXPECT_EQ(512, arr_len(_metadata, g, "tokenizer.ggml.scores",
			       AMXRT_GGUF_FLOAT32));
	ASSERT_EQ(0,
		  amxrt_gguf_arr_str(g, "tokenizer.ggml.tokens", 1, &s, &len));
	EXPECT_STREQ("<s>", s);
	EXPECT_EQ(3, len);
	EXPECT_EQ(-EINVAL, amxrt_gguf_arr_str(g, "tokenizer.ggml.tokens", 512,
					      &s, &len));
	EXPECT_EQ(-EINVAL,
		  amxrt_gguf_arr_str(g, "tokenizer.ggml.scores", 0, &s, &len));

	ASSERT_EQ(48, amxrt_gguf_tensor_count(g));
	for (i = 0; i < 48; i++) {
		ASSERT_EQ(0, amxrt_gguf_tensor(g, i, &t));
		EXPECT_EQ(AMXRT_TYPE_F32, t.type);
		EXPECT_EQ((size_t)(t.ne[0] * t.ne[1] * t.ne[2] * t.ne[3] * 4),
			  t.size);
	}
	check_tensors(_metadata, g, NULL, 0);
	for (i = 0; i < 5; i++) {
		snprintf(name, sizeof(name), "blk.%lld.ffn_down.weight",
			 (long long)i);
		ASSERT_LE(0, amxrt_gguf_find_tensor(g, name));
		ASSERT_EQ(0, amxrt_gguf_tensor(
				     g, amxrt_gguf_find_tensor(g, name), &t));
		EXPECT_EQ(2, t.n_dims);
		EXPECT_EQ(172, t.ne[0]);
		EXPECT_EQ(64, t.ne[1]);
		EXPECT_EQ(1, t.ne[2]);
	}
	i = amxrt_gguf_find_tensor(g, "token_embd.weight");
	ASSERT_LE(0, i);
	ASSERT_EQ(0, amxrt_gguf_tensor(g, i, &t));
	EXPECT_EQ(64, t.ne[0]);
	EXPECT_EQ(512, t.ne[1]);
	EXPECT_EQ(-1, amxrt_gguf_find_tensor(g, "token_embd"));
	EXPECT_EQ(-EINVAL, amxrt_gguf_tensor(g, 48, &t));
	EXPECT_EQ(-EINVAL, amxrt_gguf_tensor(g, -1, &t));
	amxrt_gguf_close(g);
}

struct vocab_fact {
	const char *file, *arch, *model;
	int64_t n_tokens, n_merges; /* -1: no merges key */
};

static const struct vocab_fact vocab_facts[] = {
	{ "models/vocab/ggml-vocab-llama-spm.gguf", "llama", "llama", 32000,
	  -1 },
	{ "models/vocab/recon-vocab-qwen2.gguf", "qwen2", "gpt2", 151936,
	  151387 },
	{ "models/vocab/recon-vocab-llama-bpe.gguf", "llama", "gpt2", 128256,
	  280147 },
};

TEST(vocab_files)
{
	size_t v;

	for (v = 0; v < sizeof(vocab_facts) / sizeof(vocab_facts[0]); v++) {
		const struct vocab_fact *f = &vocab_facts[v];
		struct amxrt_gguf *g = NULL;
		char path[1024];
		const char *s;
		size_t len;
		uint64_t i;

		model_path(path, sizeof(path), f->file);
		ASSERT_EQ(0, amxrt_gguf_open(path, &g))
		TH_LOG("%s", amxrt_errmsg());
		TH_LOG("%s: %lld keys", f->file,
		       (long long)amxrt_gguf_kv_count(g));
		EXPECT_EQ(0, amxrt_gguf_tensor_count(g));
		expect_str(_metadata, g, "general.architecture", f->arch);
		expect_str(_metadata, g, "tokenizer.ggml.model", f->model);
		EXPECT_EQ(f->n_tokens,
			  arr_len(_metadata, g, "tokenizer.ggml.tokens",
				  AMXRT_GGUF_STRING));
		EXPECT_EQ(f->n_tokens,
			  arr_len(_metadata, g, "tokenizer.ggml.token_type",
				  AMXRT_GGUF_INT32));
		if (f->n_merges >= 0) {
			EXPECT_EQ(f->n_merges,
				  arr_len(_metadata, g, "tokenizer.ggml.merges",
					  AMXRT_GGUF_STRING));
		} else {
			EXPECT_EQ(-1, amxrt_gguf_find_key(
					      g, "tokenizer.ggml.merges"));
		}
		/* every element: terminated, its length right */
		for (i = 0; i < (uint64_t)f->n_tokens; i++) {
			ASSERT_EQ(0,
				  amxrt_gguf_arr_str(g, "tokenizer.ggml.tokens",
						     i, &s, &len));
			ASSERT_EQ(len, strnlen(s, len + 1));
		}
		amxrt_gguf_close(g);
	}
}

TEST(llama2_tiny_random)
{
	const char *path = "/work/shared/models/llama-2-tiny-random.gguf";
	struct amxrt_gguf *g = NULL;
	struct amxrt_gguf_tensor t;
	int64_t i, f16 = 0, f32 = 0;

	if (access(path, R_OK))
		SKIP(return, "%s is not present (optional test file)", path);
	ASSERT_EQ(0, amxrt_gguf_open(path, &g))
	TH_LOG("%s", amxrt_errmsg());
	ASSERT_EQ(12, amxrt_gguf_tensor_count(g));
	for (i = 0; i < 12; i++) {
		ASSERT_EQ(0, amxrt_gguf_tensor(g, i, &t));
		f16 += t.type == AMXRT_TYPE_F16;
		f32 += t.type == AMXRT_TYPE_F32;
	}
	EXPECT_EQ(9, f16);
	EXPECT_EQ(3, f32);
	EXPECT_EQ(1, get_int(g, "llama.block_count"));
	EXPECT_EQ(32000, arr_len(_metadata, g, "tokenizer.ggml.tokens",
				 AMXRT_GGUF_STRING));
	check_tensors(_metadata, g, NULL, 0);
	amxrt_gguf_close(g);
}

/* ---- files built here ----------------------------------------------- */

static void check_built(struct __test_metadata *_metadata, const struct opts *o)
{
	struct em e = { 0 };
	struct layout l;
	struct amxrt_gguf *g = NULL;
	struct amxrt_gguf_tensor t;
	enum amxrt_gguf_type elem;
	const void *data;
	const char *s;
	size_t len;
	uint64_t n;
	int64_t v;
	double d;
	uint8_t *copy;

	build(&e, o, &l);
	ASSERT_EQ(0, open_copy(e.b, e.n, &copy, &g))
	TH_LOG("%s", amxrt_errmsg());
	EXPECT_EQ(o->version, amxrt_gguf_version(g));
	EXPECT_EQ(o->alignment ? o->alignment : 32, amxrt_gguf_alignment(g));
	EXPECT_EQ(l.data_offset, amxrt_gguf_data_offset(g));
	EXPECT_EQ(N_KV_BASE + (o->alignment ? 1 : 0), amxrt_gguf_kv_count(g));
	EXPECT_STREQ("general.architecture", amxrt_gguf_kv_key(g, 0));
	EXPECT_STREQ("test.u8", amxrt_gguf_kv_key(g, 1));
	EXPECT_EQ(AMXRT_GGUF_UINT8, amxrt_gguf_kv_type(g, 1));
	EXPECT_EQ(AMXRT_GGUF_ARRAY, amxrt_gguf_kv_type(g, 14));
	EXPECT_EQ(NULL, amxrt_gguf_kv_key(g, -1));
	EXPECT_EQ(NULL, amxrt_gguf_kv_key(g, amxrt_gguf_kv_count(g)));
	EXPECT_EQ(9, amxrt_gguf_find_key(g, "test.str"));
	EXPECT_EQ(-1, amxrt_gguf_find_key(g, "test.st"));
	EXPECT_EQ(-1, amxrt_gguf_find_key(g, "test.strx"));

	/* get_int: every integer type and bool */
	EXPECT_EQ(200, get_int(g, "test.u8"));
	EXPECT_EQ(-100, get_int(g, "test.i8"));
	EXPECT_EQ(60000, get_int(g, "test.u16"));
	EXPECT_EQ(-30000, get_int(g, "test.i16"));
	EXPECT_EQ(4000000000LL, get_int(g, "test.u32"));
	EXPECT_EQ(-2000000000LL, get_int(g, "test.i32"));
	EXPECT_EQ(1LL << 40, get_int(g, "test.u64"));
	EXPECT_EQ(-(1LL << 40), get_int(g, "test.i64"));
	EXPECT_EQ(1, get_int(g, "test.bool"));
	EXPECT_EQ(-EINVAL, amxrt_gguf_get_int(g, "test.big", &v));
	EXPECT_NE(NULL, strstr(amxrt_errmsg(), "test.big"));
	EXPECT_EQ(-EINVAL, amxrt_gguf_get_int(g, "test.f32", &v));
	EXPECT_NE(NULL, strstr(amxrt_errmsg(), "float32"));
	EXPECT_EQ(-EINVAL, amxrt_gguf_get_int(g, "test.str", &v));
	EXPECT_EQ(-EINVAL, amxrt_gguf_get_int(g, "test.arr_i32", &v));
	EXPECT_EQ(-ENOENT, amxrt_gguf_get_int(g, "test.none", &v));
	EXPECT_NE(NULL, strstr(amxrt_errmsg(), "test.none"));

	/* get_float: floats and integers, not bool or strings */
	ASSERT_EQ(0, amxrt_gguf_get_float(g, "test.f32", &d));
	EXPECT_EQ(0.5, d);
	ASSERT_EQ(0, amxrt_gguf_get_float(g, "test.f64", &d));
	EXPECT_EQ(0.25, d);
	ASSERT_EQ(0, amxrt_gguf_get_float(g, "test.i32", &d));
	EXPECT_EQ(-2000000000.0, d);
	ASSERT_EQ(0, amxrt_gguf_get_float(g, "test.big", &d));
	EXPECT_EQ(18446744073709551615.0, d);
	EXPECT_EQ(-EINVAL, amxrt_gguf_get_float(g, "test.str", &d));
	EXPECT_EQ(-EINVAL, amxrt_gguf_get_float(g, "test.bool", &d));
	EXPECT_EQ(-ENOENT, amxrt_gguf_get_float(g, "test.none", &d));

	/* strings: terminated copies with their length */
	expect_str(_metadata, g, "test.str", "hello");
	EXPECT_EQ(-EINVAL, amxrt_gguf_get_str(g, "test.u8", &s, &len));
	EXPECT_EQ(-EINVAL, amxrt_gguf_get_str(g, "test.arr_str", &s, &len));
	EXPECT_EQ(-ENOENT, amxrt_gguf_get_str(g, "test.none", &s, &len));

	/* arrays */
	ASSERT_EQ(0, amxrt_gguf_get_arr(g, "test.arr_i32", &elem, &n, &data));
	EXPECT_EQ(AMXRT_GGUF_INT32, elem);
	ASSERT_EQ(3, n);
	EXPECT_EQ(0, (uintptr_t)data % 4);
	EXPECT_EQ(1, ((const int32_t *)data)[0]);
	EXPECT_EQ(-2, ((const int32_t *)data)[1]);
	EXPECT_EQ(3, ((const int32_t *)data)[2]);
	ASSERT_EQ(0, amxrt_gguf_get_arr(g, "test.arr_f64", &elem, &n, &data));
	EXPECT_EQ(AMXRT_GGUF_FLOAT64, elem);
	ASSERT_EQ(2, n);
	EXPECT_EQ(0, (uintptr_t)data % 8);
	EXPECT_EQ(1.5, ((const double *)data)[0]);
	EXPECT_EQ(-2.5, ((const double *)data)[1]);
	ASSERT_EQ(0, amxrt_gguf_get_arr(g, "test.arr_bool", &elem, &n, &data));
	EXPECT_EQ(AMXRT_GGUF_BOOL, elem);
	ASSERT_EQ(2, n);
	EXPECT_EQ(1, ((const uint8_t *)data)[0]);
	EXPECT_EQ(0, ((const uint8_t *)data)[1]);
	ASSERT_EQ(0, amxrt_gguf_get_arr(g, "test.arr_empty", &elem, &n, &data));
	EXPECT_EQ(AMXRT_GGUF_UINT8, elem);
	EXPECT_EQ(0, n);
	ASSERT_EQ(0, amxrt_gguf_get_arr(g, "test.arr_str", &elem, &n, &data));
	EXPECT_EQ(AMXRT_GGUF_STRING, elem);
	EXPECT_EQ(3, n);
	EXPECT_EQ(NULL, data);
	ASSERT_EQ(0, amxrt_gguf_arr_str(g, "test.arr_str", 0, &s, &len));
	EXPECT_STREQ("a", s);
	EXPECT_EQ(1, len);
	ASSERT_EQ(0, amxrt_gguf_arr_str(g, "test.arr_str", 1, &s, &len));
	EXPECT_STREQ("bc", s);
	EXPECT_EQ(2, len);
	ASSERT_EQ(0, amxrt_gguf_arr_str(g, "test.arr_str", 2, &s, &len));
	EXPECT_STREQ("", s);
	EXPECT_EQ(0, len);
	EXPECT_EQ(-EINVAL, amxrt_gguf_arr_str(g, "test.arr_str", 3, &s, &len));
	EXPECT_EQ(-EINVAL, amxrt_gguf_arr_str(g, "test.arr_i32", 0, &s, &len));
	EXPECT_EQ(-EINVAL, amxrt_gguf_get_arr(g, "test.str", &elem, &n, &data));
	EXPECT_EQ(-ENOENT,
		  amxrt_gguf_get_arr(g, "test.none", &elem, &n, &data));

	/* tensors: in file order, data in the caller's buffer (not copied) */
	if (!o->tensors) {
		EXPECT_EQ(0, amxrt_gguf_tensor_count(g));
		goto out;
	}
	ASSERT_EQ(3, amxrt_gguf_tensor_count(g));
	check_tensors(_metadata, g, copy, e.n);
	ASSERT_EQ(0, amxrt_gguf_tensor(g, 0, &t));
	EXPECT_STREQ("t.a", t.name);
	EXPECT_EQ(AMXRT_TYPE_F32, t.type);
	EXPECT_EQ(2, t.n_dims);
	EXPECT_EQ(4, t.ne[0]);
	EXPECT_EQ(2, t.ne[1]);
	EXPECT_EQ(1, t.ne[2]);
	EXPECT_EQ(1, t.ne[3]);
	EXPECT_EQ(0, t.offset);
	EXPECT_EQ(32, t.size);
	EXPECT_EQ(copy + l.data_offset, (const uint8_t *)t.data);
	ASSERT_EQ(0, amxrt_gguf_tensor(g, 1, &t));
	EXPECT_STREQ("t.b", t.name);
	EXPECT_EQ(AMXRT_TYPE_Q8_0, t.type);
	EXPECT_EQ(34, t.size);
	EXPECT_EQ((32 + amxrt_gguf_alignment(g) - 1) / amxrt_gguf_alignment(g) *
			  amxrt_gguf_alignment(g),
		  t.offset);
	EXPECT_EQ(1 + 7 * t.offset % 256, ((const uint8_t *)t.data)[0]);
	ASSERT_EQ(0, amxrt_gguf_tensor(g, 2, &t));
	EXPECT_STREQ("t.c", t.name);
	EXPECT_EQ(AMXRT_TYPE_F16, t.type);
	EXPECT_EQ(1, t.n_dims);
	EXPECT_EQ(16, t.size);
	EXPECT_EQ(l.data_offset + t.offset + t.size, e.n);
	EXPECT_EQ(2, amxrt_gguf_find_tensor(g, "t.c"));
	EXPECT_EQ(-1, amxrt_gguf_find_tensor(g, "t.d"));
out:
	amxrt_gguf_close(g);
	free(copy);
	free(e.b);
}

TEST(built_v3)
{
	check_built(_metadata, &(struct opts){ 3, 0, 1 });
}

TEST(built_v2)
{
	check_built(_metadata, &(struct opts){ 2, 0, 1 });
}

TEST(built_alignment_64)
{
	check_built(_metadata, &(struct opts){ 3, 64, 1 });
}

TEST(built_alignment_1)
{
	check_built(_metadata, &(struct opts){ 3, 1, 1 });
}

TEST(built_vocab_only)
{
	check_built(_metadata, &(struct opts){ 3, 0, 0 });
}

/* The same bytes through a mapped file; and the path in the messages. */
TEST(open_file)
{
	char path[] = "/tmp/amxrt-gguf-read.XXXXXX";
	struct em e = { 0 };
	struct layout l;
	struct amxrt_gguf *g = NULL;
	struct amxrt_gguf_tensor t;
	int fd;

	build(&e, &(struct opts){ 3, 0, 1 }, &l);
	fd = mkstemp(path);
	ASSERT_LE(0, fd);
	ASSERT_EQ((ssize_t)e.n, write(fd, e.b, e.n));
	close(fd);
	ASSERT_EQ(0, amxrt_gguf_open(path, &g))
	TH_LOG("%s", amxrt_errmsg());
	ASSERT_EQ(0, amxrt_gguf_tensor(g, 2, &t));
	EXPECT_EQ(0, memcmp(t.data, e.b + l.data_offset + t.offset, t.size));
	amxrt_gguf_close(g);

	/* bad magic through a file: the path leads the message */
	e.b[0] = 'X';
	fd = open(path, O_WRONLY | O_TRUNC);
	ASSERT_LE(0, fd);
	ASSERT_EQ((ssize_t)e.n, write(fd, e.b, e.n));
	close(fd);
	g = (struct amxrt_gguf *)1;
	EXPECT_EQ(-EINVAL, amxrt_gguf_open(path, &g));
	EXPECT_EQ(NULL, g);
	TH_LOG("%s", amxrt_errmsg());
	EXPECT_EQ(0, strncmp(amxrt_errmsg(), path, strlen(path)));
	EXPECT_NE(NULL, strstr(amxrt_errmsg(), "bad magic"));

	/* an empty file */
	fd = open(path, O_WRONLY | O_TRUNC);
	ASSERT_LE(0, fd);
	close(fd);
	EXPECT_EQ(-EINVAL, amxrt_gguf_open(path, &g));
	EXPECT_NE(NULL, strstr(amxrt_errmsg(), "truncated"));
	unlink(path);

	EXPECT_EQ(-ENOENT, amxrt_gguf_open(path, &g));
	EXPECT_NE(NULL, strstr(amxrt_errmsg(), path));
	EXPECT_EQ(-EINVAL, amxrt_gguf_open("/tmp", &g));
	EXPECT_NE(NULL, strstr(amxrt_errmsg(), "not a regular file"));
	EXPECT_EQ(-EINVAL, amxrt_gguf_open_mem(NULL, 10, &g));
	free(e.b);
}

/* ---- corruptions ---------------------------------------------------- */

enum field {
	F_MAGIC,
	F_VERSION,
	F_N_TENSORS,
	F_N_KV,
	F_KEY0_LEN,
	F_KEY_I8, /* first byte of the key "test.i8" */
	F_TYPE_U8,
	F_VAL_BOOL,
	F_ARR_ELEM,
	F_ARR_N,
	F_ARR_STR_N,
	F_ALIGN_TYPE,
	F_ALIGN_VAL,
	F_TA_NDIMS,
	F_TA_NE0,
	F_TA_NE1,
	F_TA_TYPE,
	F_TB_NAME, /* last byte of the name "t.b" */
	F_TB_NAME_LEN,
	F_TB_NE0,
	F_TB_OFF,
	F_TC_OFF,
};

struct corruption {
	const char *what;
	int alignment; /* build with this general.alignment (0: none) */
	enum field field;
	int width; /* bytes patched: 1, 4 or 8 */
	uint64_t value;
	const char *phrase; /* the message must contain it */
};

static const struct corruption corruption_table[] = {
	{ "bad magic", 0, F_MAGIC, 1, 'g', "bad magic" },
	{ "version 1", 0, F_VERSION, 4, 1, "version 1 is not supported" },
	{ "version 4", 0, F_VERSION, 4, 4, "version 4 is not supported" },
	{ "version 0", 0, F_VERSION, 4, 0, "version 0 is not supported" },
	{ "big-endian", 0, F_VERSION, 4, 0x03000000, "big-endian" },
	{ "huge n_kv", 0, F_N_KV, 8, 1ULL << 40, "n_kv = 1099511627776" },
	{ "n_kv all ones", 0, F_N_KV, 8, UINT64_MAX, "cannot fit" },
	{ "huge n_tensors", 0, F_N_TENSORS, 8, 1ULL << 60, "n_tensors = " },
	{ "huge string length", 0, F_KEY0_LEN, 8, 1ULL << 62,
	  "key length 4611686018427387904 runs past the end" },
	{ "string length all ones", 0, F_KEY0_LEN, 8, UINT64_MAX,
	  "runs past the end" },
	{ "empty key", 0, F_KEY0_LEN, 8, 0, "empty key" },
	{ "duplicate key", 0, F_KEY_I8, 1, 'u', "duplicate key" },
	{ "NUL in key", 0, F_KEY_I8, 1, 0, "NUL byte" },
	{ "unknown kv type", 0, F_TYPE_U8, 4, 13, "unknown value type 13" },
	{ "kv type all ones", 0, F_TYPE_U8, 4, UINT32_MAX,
	  "unknown value type 4294967295" },
	{ "bool 2", 0, F_VAL_BOOL, 1, 2, "bool value 2" },
	{ "nested array", 0, F_ARR_ELEM, 4, AMXRT_GGUF_ARRAY,
	  "nested arrays are not supported" },
	{ "unknown array type", 0, F_ARR_ELEM, 4, 42,
	  "unknown array element type 42" },
	{ "huge array", 0, F_ARR_N, 8, 1ULL << 61, "cannot fit" },
	{ "huge string array", 0, F_ARR_STR_N, 8, 1ULL << 40, "cannot fit" },
	{ "alignment 0", 64, F_ALIGN_VAL, 4, 0, "not a power of two" },
	{ "alignment 3", 64, F_ALIGN_VAL, 4, 3, "not a power of two" },
	{ "alignment 2^32-1", 64, F_ALIGN_VAL, 4, UINT32_MAX,
	  "not a power of two" },
	{ "alignment float", 64, F_ALIGN_TYPE, 4, AMXRT_GGUF_FLOAT32,
	  "general.alignment: must be a non-negative integer" },
	{ "n_dims 0", 0, F_TA_NDIMS, 4, 0, "n_dims = 0" },
	{ "n_dims 5", 0, F_TA_NDIMS, 4, 5, "n_dims = 5" },
	{ "ne 0", 0, F_TA_NE0, 8, 0, "tensor t.a: ne[0] = 0" },
	{ "ne negative", 0, F_TA_NE1, 8, (uint64_t)-4, "ne[1] = -4" },
	{ "ne overflow", 0, F_TA_NE1, 8, 1ULL << 62, "overflows" },
	{ "row not a block multiple", 0, F_TB_NE0, 8, 48,
	  "row length 48 is not a multiple of the block size 32" },
	{ "unsupported tensor type", 0, F_TA_TYPE, 4, 12,
	  "tensor t.a: type Q4_K (12) is not supported" },
	{ "Q8_1 tensor", 0, F_TA_TYPE, 4, AMXRT_TYPE_Q8_1,
	  "type Q8_1 (9) is not supported" },
	{ "unknown tensor type", 0, F_TA_TYPE, 4, 1000,
	  "unknown tensor type 1000" },
	{ "duplicate tensor name", 0, F_TB_NAME, 1, 'a',
	  "tensor t.a: duplicate tensor name" },
	{ "empty tensor name", 0, F_TB_NAME_LEN, 8, 0, "empty tensor name" },
	{ "misaligned offset", 0, F_TB_OFF, 8, 33,
	  "data offset 33 is not a multiple of the alignment 32" },
	{ "misaligned offset (64)", 64, F_TB_OFF, 8, 32,
	  "not a multiple of the alignment 64" },
	{ "data beyond EOF", 0, F_TC_OFF, 8, 1ULL << 30, "past the end" },
	{ "data offset all but aligned ones", 0, F_TC_OFF, 8,
	  UINT64_MAX & ~31ULL, "past the end" },
	{ "data one block beyond EOF", 0, F_TC_OFF, 8, 128, "past the end" },
	{ "overlapping tensors", 0, F_TB_OFF, 8, 0,
	  "overlaps tensor t.a [0, 32)" },
};

static size_t field_at(const struct layout *l, enum field f)
{
	switch (f) {
	case F_MAGIC:
		return 0;
	case F_VERSION:
		return 4;
	case F_N_TENSORS:
		return l->n_tensors;
	case F_N_KV:
		return l->n_kv;
	case F_KEY0_LEN:
		return l->key0_len;
	case F_KEY_I8:
		return l->key_i8 + 5;
	case F_TYPE_U8:
		return l->type_u8;
	case F_VAL_BOOL:
		return l->val_bool;
	case F_ARR_ELEM:
		return l->arr_i32_elem;
	case F_ARR_N:
		return l->arr_i32_n;
	case F_ARR_STR_N:
		return l->arr_str_n;
	case F_ALIGN_TYPE:
		return l->align_type;
	case F_ALIGN_VAL:
		return l->align_val;
	case F_TA_NDIMS:
		return l->ta_ndims;
	case F_TA_NE0:
		return l->ta_ne0;
	case F_TA_NE1:
		return l->ta_ne1;
	case F_TA_TYPE:
		return l->ta_type;
	case F_TB_NAME:
		return l->tb_name + 2;
	case F_TB_NAME_LEN:
		return l->tb_name - 8;
	case F_TB_NE0:
		return l->tb_ne0;
	case F_TB_OFF:
		return l->tb_off;
	case F_TC_OFF:
		return l->tc_off;
	}
	return 0;
}

TEST(corruptions)
{
	size_t i, n = sizeof(corruption_table) / sizeof(corruption_table[0]);
	struct em e = { 0 };

	for (i = 0; i < n; i++) {
		const struct corruption *c = &corruption_table[i];
		struct amxrt_gguf *g = (struct amxrt_gguf *)1;
		struct layout l;
		uint8_t *copy;
		size_t at;
		int rc;

		build(&e, &(struct opts){ 3, (uint32_t)c->alignment, 1 }, &l);
		at = field_at(&l, c->field);
		if (c->width == 1)
			e.b[at] = (uint8_t)c->value;
		else if (c->width == 4)
			patch32(&e, at, (uint32_t)c->value);
		else
			patch64(&e, at, c->value);
		rc = open_copy(e.b, e.n, &copy, &g);
		TH_LOG("%s: %d \"%s\"", c->what, rc, amxrt_errmsg());
		EXPECT_EQ(-EINVAL, rc);
		EXPECT_EQ(NULL, g);
		EXPECT_NE(NULL, strstr(amxrt_errmsg(), c->phrase))
		TH_LOG("%s: want \"%s\"", c->what, c->phrase);
		EXPECT_NE(NULL, strstr(amxrt_errmsg(), "(file offset "));
		if (!rc)
			amxrt_gguf_close(g);
		free(copy);
	}
	free(e.b);
}

/* Every proper prefix of a file with tensors fails; a vocabulary-only
 * file is whole once its last key-value pair is. */
TEST(truncations)
{
	struct em e = { 0 };
	struct layout l;
	size_t n;
	int vocab;

	for (vocab = 0; vocab < 2; vocab++) {
		build(&e, &(struct opts){ 3, 0, !vocab }, &l);
		for (n = 0; n < e.n; n++) {
			struct amxrt_gguf *g = NULL;
			uint8_t *copy;
			int rc = open_copy(e.b, n, &copy, &g);

			if (vocab && n >= l.end_info) {
				EXPECT_EQ(0, rc)
				TH_LOG("vocab prefix %zu: %s", n,
				       amxrt_errmsg());
				EXPECT_EQ(l.data_offset,
					  amxrt_gguf_data_offset(g));
			} else {
				EXPECT_EQ(-EINVAL, rc)
				TH_LOG("prefix %zu of %zu", n, e.n);
				EXPECT_NE(NULL, strstr(amxrt_errmsg(),
						       "(file offset "))
				TH_LOG("prefix %zu: %s", n, amxrt_errmsg());
			}
			amxrt_gguf_close(g);
			free(copy);
		}
	}
	/* the last byte of the tensor data matters */
	build(&e, &(struct opts){ 3, 0, 1 }, &l);
	{
		struct amxrt_gguf *g = NULL;
		uint8_t *copy;

		EXPECT_EQ(-EINVAL, open_copy(e.b, e.n - 1, &copy, &g));
		EXPECT_NE(NULL, strstr(amxrt_errmsg(), "tensor t.c"));
		free(copy);
	}
	free(e.b);
}

/* Read everything an opened file offers (ASan checks every access). */
static uint64_t walk(const struct amxrt_gguf *g)
{
	uint64_t sum = 0, n, j;
	int64_t i;

	for (i = 0; i < amxrt_gguf_kv_count(g); i++) {
		const char *k = amxrt_gguf_kv_key(g, i);
		enum amxrt_gguf_type elem;
		const void *data;
		const char *s;
		size_t len;
		int64_t v;
		double d;

		sum += strlen(k) + (uint64_t)amxrt_gguf_find_key(g, k);
		if (!amxrt_gguf_get_int(g, k, &v))
			sum += (uint64_t)v;
		if (!amxrt_gguf_get_float(g, k, &d))
			sum += d == d;
		if (!amxrt_gguf_get_str(g, k, &s, &len))
			sum += len + (uint64_t)strlen(s);
		if (amxrt_gguf_get_arr(g, k, &elem, &n, &data))
			continue;
		for (j = 0; j < n; j++) {
			if (elem == AMXRT_GGUF_STRING) {
				amxrt_gguf_arr_str(g, k, j, &s, &len);
				sum += len + (uint8_t)s[len];
			} else {
				sum += ((const uint8_t *)data)[j];
			}
		}
	}
	for (i = 0; i < amxrt_gguf_tensor_count(g); i++) {
		struct amxrt_gguf_tensor t;

		if (amxrt_gguf_tensor(g, i, &t))
			continue;
		sum += strlen(t.name) + ((const uint8_t *)t.data)[0] +
		       ((const uint8_t *)t.data)[t.size - 1];
	}
	return sum;
}

TEST(random_flips)
{
	struct em e = { 0 };
	struct layout l;
	int iter, opened = 0, vocab;
	uint64_t sum = 0;

	test_seed();
	for (vocab = 0; vocab < 2; vocab++) {
		build(&e, &(struct opts){ 3, 64, !vocab }, &l);
		for (iter = 0; iter < 2500; iter++) {
			struct amxrt_gguf *g = NULL;
			uint8_t *copy = malloc(e.n);
			int k, flips = 1 + (int)(test_rand() % 4);
			size_t n = e.n;

			ASSERT_NE(NULL, copy);
			memcpy(copy, e.b, e.n);
			for (k = 0; k < flips; k++) {
				size_t at = test_rand() % e.n;

				if (test_rand() & 1)
					copy[at] ^=
						(uint8_t)(1u
							  << (test_rand() % 8));
				else
					copy[at] = (uint8_t)test_rand();
			}
			if (test_rand() % 8 == 0)
				n = test_rand() % e.n;
			if (!amxrt_gguf_open_mem(copy, n, &g)) {
				opened++;
				sum += walk(g);
				amxrt_gguf_close(g);
			} else {
				ASSERT_NE(NULL,
					  strstr(amxrt_errmsg(), "gguf: "));
			}
			free(copy);
		}
	}
	TH_LOG("%d of 5000 damaged files opened (checksum %llu)", opened,
	       (unsigned long long)sum);
	free(e.b);
}

/* The fuzzing seeds (fuzz/corpus/gguf) replayed: "bad-*" files fail with
 * a message, the others open and are walked whole. */
TEST(fuzz_seeds)
{
	char dir[512], path[800];
	struct dirent *d;
	int good = 0, bad = 0;
	DIR *dp;

	model_path(dir, sizeof(dir), "fuzz/corpus/gguf");
	dp = opendir(dir);
	if (!dp)
		SKIP(return, "%s: %s", dir, strerror(errno));
	while ((d = readdir(dp))) {
		struct amxrt_gguf *g = NULL;
		int rc;

		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, d->d_name);
		rc = amxrt_gguf_open(path, &g);
		if (!strncmp(d->d_name, "bad-", 4)) {
			EXPECT_EQ(-EINVAL, rc)
			TH_LOG("%s opened", d->d_name);
			EXPECT_NE(NULL,
				  strstr(amxrt_errmsg(), "(file offset "));
			bad++;
		} else {
			EXPECT_EQ(0, rc)
			TH_LOG("%s: %s", d->d_name, amxrt_errmsg());
			if (!rc)
				walk(g);
			good++;
		}
		amxrt_gguf_close(g);
	}
	closedir(dp);
	TH_LOG("%d valid and %d broken seeds", good, bad);
	EXPECT_LT(0, good);
	EXPECT_LT(0, bad);
}

TEST_HARNESS_MAIN
