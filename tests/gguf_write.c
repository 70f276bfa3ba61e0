// SPDX-License-Identifier: MIT
/*
 * Description: the GGUF writer. Round trips through the reader: every
 * metadata type (scalars of all twelve types, arrays of every fixed-size
 * type, string arrays, empty arrays, replaced keys keeping their place),
 * copy_kv with a skip filter, tensors of every type in 1 to 4 dimensions
 * (those the reader takes: not Q8_1) with alignment 32 and 64, borrowed or produced by a fill callback (also
 * larger than the write buffer); the bytes of a small file against a
 * hand-encoded copy of the specification's layout; atomic writes (a
 * failing fill callback, a file size limit, a missing or unwritable
 * directory leave no file and name the problem; an existing file is
 * replaced whole); refusal of bad arguments.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "helpers.h"

#include <amxrt/amxrt.h>

/* ---- helpers -------------------------------------------------------------- */

static long file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) ? -1 : (long)st.st_size;
}

static void make_dir(char *dir, size_t dlen, char *path, size_t plen)
{
	snprintf(dir, dlen, "/tmp/amxrt-gguf-write.XXXXXX");
	if (!mkdtemp(dir))
		dir[0] = '\0';
	snprintf(path, plen, "%s/out.gguf", dir);
	test_seed();
}

FIXTURE(dir)
{
	char dir[64];
	char path[128];
};

FIXTURE_SETUP(dir)
{
	make_dir(self->dir, sizeof(self->dir), self->path, sizeof(self->path));
	ASSERT_NE(0, self->dir[0]);
}

FIXTURE_TEARDOWN(dir)
{
	test_rm_tree(self->dir);
}

/* The same, run once per alignment. */
FIXTURE(aligned)
{
	char dir[64];
	char path[128];
};

FIXTURE_VARIANT(aligned)
{
	uint32_t align; /* 0: leave general.alignment unset (32) */
};

FIXTURE_VARIANT_ADD(aligned, default_32){
	.align = 0,
};

FIXTURE_VARIANT_ADD(aligned, set_64){
	.align = 64,
};

FIXTURE_SETUP(aligned)
{
	make_dir(self->dir, sizeof(self->dir), self->path, sizeof(self->path));
	ASSERT_NE(0, self->dir[0]);
}

FIXTURE_TEARDOWN(aligned)
{
	test_rm_tree(self->dir);
}

/* ---- metadata --------------------------------------------------------------- */

static const uint8_t a_u8[] = { 0, 1, 127, 128, 255 };
static const int8_t a_i8[] = { -128, -1, 0, 1, 127 };
static const uint16_t a_u16[] = { 0, 65535, 4660 };
static const int16_t a_i16[] = { -32768, 32767, -2 };
static const uint32_t a_u32[] = { 0, 0xffffffffu, 0x12345678u, 7 };
static const int32_t a_i32[] = { INT32_MIN, INT32_MAX, -7 };
static const float a_f32[] = { 0.5f, -1e-30f, 3.4e38f, -0.0f };
static const uint8_t a_bool[] = { 1, 0, 1 };
static const uint64_t a_u64[] = { 0, UINT64_MAX, 1ull << 63 };
static const int64_t a_i64[] = { INT64_MIN, INT64_MAX, -1 };
static const double a_f64[] = { 1e300, -2.5, 5e-324 };

struct arr_case {
	const char *key;
	enum amxrt_gguf_type elem;
	const void *data;
	uint64_t n;
	size_t size;
};

#define ARR(key, type, a)                                         \
	{                                                         \
		key, type, a, sizeof(a) / sizeof(a[0]), sizeof(a) \
	}

static const struct arr_case arrs[] = {
	ARR("arr.u8", AMXRT_GGUF_UINT8, a_u8),
	ARR("arr.i8", AMXRT_GGUF_INT8, a_i8),
	ARR("arr.u16", AMXRT_GGUF_UINT16, a_u16),
	ARR("arr.i16", AMXRT_GGUF_INT16, a_i16),
	ARR("arr.u32", AMXRT_GGUF_UINT32, a_u32),
	ARR("arr.i32", AMXRT_GGUF_INT32, a_i32),
	ARR("arr.f32", AMXRT_GGUF_FLOAT32, a_f32),
	ARR("arr.bool", AMXRT_GGUF_BOOL, a_bool),
	ARR("arr.u64", AMXRT_GGUF_UINT64, a_u64),
	ARR("arr.i64", AMXRT_GGUF_INT64, a_i64),
	ARR("arr.f64", AMXRT_GGUF_FLOAT64, a_f64),
};

#define N_ARRS (int)(sizeof(arrs) / sizeof(arrs[0]))

static const char *const strs[] = { "<unk>", "", "h\xc3\xa9llo w\xc3\xb6rld",
				    "\xe2\x96\x81the", "a" };

TEST_F(dir, kv_roundtrip)
{
	static const char *const order[] = {
		"t.u32",   "t.repl", "t.i32",	"t.u64",  "t.f32",    "t.true",
		"t.false", "t.str",  "t.empty", "t.strs", "t.nostrs", "t.noarr",
	};
	struct amxrt_gguf_writer *w;
	struct amxrt_gguf *g;
	enum amxrt_gguf_type elem;
	const void *data;
	const char *s;
	double f;
	int64_t v;
	uint64_t n;
	size_t len;
	int i;

	ASSERT_EQ(0, amxrt_gguf_writer_new(&w));
	ASSERT_EQ(0, amxrt_gguf_set_u32(w, "t.u32", 1));
	ASSERT_EQ(0, amxrt_gguf_set_str(w, "t.repl", "first a string"));
	ASSERT_EQ(0, amxrt_gguf_set_i32(w, "t.i32", -123456));
	ASSERT_EQ(0, amxrt_gguf_set_u64(w, "t.u64", 0x7edcba9876543210ull));
	ASSERT_EQ(0, amxrt_gguf_set_f32(w, "t.f32", -3.25f));
	ASSERT_EQ(0, amxrt_gguf_set_bool(w, "t.true", 42));
	ASSERT_EQ(0, amxrt_gguf_set_bool(w, "t.false", 0));
	ASSERT_EQ(0, amxrt_gguf_set_str(w, "t.str", strs[2]));
	ASSERT_EQ(0, amxrt_gguf_set_str(w, "t.empty", ""));
	ASSERT_EQ(0, amxrt_gguf_set_arr_str(w, "t.strs", strs, NULL, 5));
	ASSERT_EQ(0, amxrt_gguf_set_arr_str(w, "t.nostrs", NULL, NULL, 0));
	ASSERT_EQ(0,
		  amxrt_gguf_set_arr(w, "t.noarr", AMXRT_GGUF_INT16, NULL, 0));
	for (i = 0; i < N_ARRS; i++)
		ASSERT_EQ(0, amxrt_gguf_set_arr(w, arrs[i].key, arrs[i].elem,
						arrs[i].data, arrs[i].n));
	/* replaced values keep their first-set place */
	ASSERT_EQ(0, amxrt_gguf_set_u32(w, "t.u32", 0xdeadbeefu));
	ASSERT_EQ(0, amxrt_gguf_set_i32(w, "t.repl", -5));
	ASSERT_EQ(0, amxrt_gguf_write(w, self->path));
	amxrt_gguf_writer_free(w);

	ASSERT_EQ(0, amxrt_gguf_open(self->path, &g))
	TH_LOG("%s", amxrt_errmsg());
	EXPECT_EQ(3, amxrt_gguf_version(g));
	EXPECT_EQ(32, amxrt_gguf_alignment(g));
	EXPECT_EQ(0, amxrt_gguf_tensor_count(g));
	ASSERT_EQ(12 + N_ARRS, amxrt_gguf_kv_count(g));
	for (i = 0; i < 12; i++)
		EXPECT_STREQ(order[i], amxrt_gguf_kv_key(g, i));
	for (i = 0; i < N_ARRS; i++)
		EXPECT_STREQ(arrs[i].key, amxrt_gguf_kv_key(g, 12 + i));

	EXPECT_EQ(AMXRT_GGUF_UINT32, amxrt_gguf_kv_type(g, 0));
	EXPECT_EQ(0, amxrt_gguf_get_int(g, "t.u32", &v));
	EXPECT_EQ(0xdeadbeefll, v);
	EXPECT_EQ(AMXRT_GGUF_INT32, amxrt_gguf_kv_type(g, 1));
	EXPECT_EQ(0, amxrt_gguf_get_int(g, "t.repl", &v));
	EXPECT_EQ(-5, v);
	EXPECT_EQ(AMXRT_GGUF_INT32, amxrt_gguf_kv_type(g, 2));
	EXPECT_EQ(0, amxrt_gguf_get_int(g, "t.i32", &v));
	EXPECT_EQ(-123456, v);
	EXPECT_EQ(AMXRT_GGUF_UINT64, amxrt_gguf_kv_type(g, 3));
	EXPECT_EQ(0, amxrt_gguf_get_int(g, "t.u64", &v));
	EXPECT_EQ(0x7edcba9876543210ll, v);
	EXPECT_EQ(AMXRT_GGUF_FLOAT32, amxrt_gguf_kv_type(g, 4));
	EXPECT_EQ(0, amxrt_gguf_get_float(g, "t.f32", &f));
	EXPECT_EQ(-3.25, f);
	EXPECT_EQ(AMXRT_GGUF_BOOL, amxrt_gguf_kv_type(g, 5));
	EXPECT_EQ(0, amxrt_gguf_get_int(g, "t.true", &v));
	EXPECT_EQ(1, v);
	EXPECT_EQ(0, amxrt_gguf_get_int(g, "t.false", &v));
	EXPECT_EQ(0, v);
	EXPECT_EQ(AMXRT_GGUF_STRING, amxrt_gguf_kv_type(g, 7));
	EXPECT_EQ(0, amxrt_gguf_get_str(g, "t.str", &s, &len));
	EXPECT_EQ(strlen(strs[2]), len);
	EXPECT_STREQ(strs[2], s);
	EXPECT_EQ(0, amxrt_gguf_get_str(g, "t.empty", &s, &len));
	EXPECT_EQ(0, len);

	ASSERT_EQ(0, amxrt_gguf_get_arr(g, "t.strs", &elem, &n, &data));
	EXPECT_EQ(AMXRT_GGUF_STRING, elem);
	ASSERT_EQ(5, n);
	for (i = 0; i < 5; i++) {
		ASSERT_EQ(0, amxrt_gguf_arr_str(g, "t.strs", i, &s, &len));
		EXPECT_EQ(strlen(strs[i]), len);
		EXPECT_EQ(0, memcmp(strs[i], s, len));
	}
	ASSERT_EQ(0, amxrt_gguf_get_arr(g, "t.nostrs", &elem, &n, &data));
	EXPECT_EQ(AMXRT_GGUF_STRING, elem);
	EXPECT_EQ(0, n);
	ASSERT_EQ(0, amxrt_gguf_get_arr(g, "t.noarr", &elem, &n, &data));
	EXPECT_EQ(AMXRT_GGUF_INT16, elem);
	EXPECT_EQ(0, n);

	for (i = 0; i < N_ARRS; i++) {
		ASSERT_EQ(0,
			  amxrt_gguf_get_arr(g, arrs[i].key, &elem, &n, &data));
		EXPECT_EQ(AMXRT_GGUF_ARRAY, amxrt_gguf_kv_type(g, 12 + i));
		EXPECT_EQ(arrs[i].elem, elem);
		ASSERT_EQ(arrs[i].n, n);
		EXPECT_EQ(0, memcmp(arrs[i].data, data, arrs[i].size))
		TH_LOG("%s differs", arrs[i].key);
	}
	amxrt_gguf_close(g);
}

/* A version 3 file with one scalar of each type and no tensors. */
static size_t put_key(uint8_t *p, const char *key, uint32_t type)
{
	uint64_t n = strlen(key);

	memcpy(p, &n, 8);
	memcpy(p + 8, key, n);
	memcpy(p + 8 + n, &type, 4);
	return 12 + n;
}

static size_t hand_file(uint8_t *buf)
{
	const uint8_t u8 = 200, b = 1;
	const int8_t i8 = -100;
	const uint16_t u16 = 60000;
	const int16_t i16 = -30000;
	const uint32_t u32 = 4000000000u, three = 3;
	const int32_t i32 = -2000000000;
	const float f32 = 0.1f;
	const uint64_t u64 = 1ull << 40, n_kv = 13, zero = 0, slen = 5;
	const int64_t i64 = -(1ll << 50);
	const double f64 = 0.1;
	size_t p = 0;

	memcpy(buf, "GGUF", 4);
	memcpy(buf + 4, &three, 4);
	memcpy(buf + 8, &zero, 8);
	memcpy(buf + 16, &n_kv, 8);
	p = 24;
#define SCALAR(key, type, v)                      \
	do {                                      \
		p += put_key(buf + p, key, type); \
		memcpy(buf + p, &(v), sizeof(v)); \
		p += sizeof(v);                   \
	} while (0)
	SCALAR("s.u8", AMXRT_GGUF_UINT8, u8);
	SCALAR("s.i8", AMXRT_GGUF_INT8, i8);
	SCALAR("s.u16", AMXRT_GGUF_UINT16, u16);
	SCALAR("s.i16", AMXRT_GGUF_INT16, i16);
	SCALAR("s.u32", AMXRT_GGUF_UINT32, u32);
	SCALAR("s.i32", AMXRT_GGUF_INT32, i32);
	SCALAR("s.f32", AMXRT_GGUF_FLOAT32, f32);
	SCALAR("s.bool", AMXRT_GGUF_BOOL, b);
	SCALAR("skip.me", AMXRT_GGUF_UINT32, u32);
	SCALAR("s.u64", AMXRT_GGUF_UINT64, u64);
	SCALAR("s.i64", AMXRT_GGUF_INT64, i64);
	SCALAR("s.f64", AMXRT_GGUF_FLOAT64, f64);
#undef SCALAR
	p += put_key(buf + p, "s.str", AMXRT_GGUF_STRING);
	memcpy(buf + p, &slen, 8);
	memcpy(buf + p + 8, "hello", 5);
	p += 13;
	memset(buf + p, 0, 32);
	return (p + 31) / 32 * 32;
}

static int skip_me(const char *key)
{
	return !strcmp(key, "skip.me");
}

TEST_F(dir, copy_kv_keeps_every_scalar_type)
{
	static const struct {
		const char *key;
		enum amxrt_gguf_type type;
		double v;
	} want[] = {
		{ "s.u8", AMXRT_GGUF_UINT8, 200 },
		{ "s.i8", AMXRT_GGUF_INT8, -100 },
		{ "s.u16", AMXRT_GGUF_UINT16, 60000 },
		{ "s.i16", AMXRT_GGUF_INT16, -30000 },
		{ "s.u32", AMXRT_GGUF_UINT32, 4000000000.0 },
		{ "s.i32", AMXRT_GGUF_INT32, -2000000000.0 },
		{ "s.f32", AMXRT_GGUF_FLOAT32, (double)0.1f },
		{ "s.bool", AMXRT_GGUF_BOOL, 1 },
		{ "s.u64", AMXRT_GGUF_UINT64, 1099511627776.0 },
		{ "s.i64", AMXRT_GGUF_INT64, -1125899906842624.0 },
		{ "s.f64", AMXRT_GGUF_FLOAT64, 0.1 },
		{ "s.str", AMXRT_GGUF_STRING, 0 },
	};
	struct amxrt_gguf_writer *w;
	struct amxrt_gguf *src, *g;
	uint8_t buf[1024];
	size_t n = hand_file(buf), len, i;
	const char *s;
	int64_t v;
	double f;

	ASSERT_EQ(0, amxrt_gguf_open_mem(buf, n, &src))
	TH_LOG("%s", amxrt_errmsg());
	ASSERT_EQ(13, amxrt_gguf_kv_count(src));
	ASSERT_EQ(0, amxrt_gguf_writer_new(&w));
	ASSERT_EQ(0, amxrt_gguf_set_str(w, "first", "mine"));
	ASSERT_EQ(0, amxrt_gguf_copy_kv(w, src, skip_me))
	TH_LOG("%s", amxrt_errmsg());
	ASSERT_EQ(0, amxrt_gguf_write(w, self->path));
	amxrt_gguf_writer_free(w);
	amxrt_gguf_close(src);

	ASSERT_EQ(0, amxrt_gguf_open(self->path, &g));
	ASSERT_EQ(13, amxrt_gguf_kv_count(g));
	EXPECT_STREQ("first", amxrt_gguf_kv_key(g, 0));
	EXPECT_EQ(-1, amxrt_gguf_find_key(g, "skip.me"));
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		EXPECT_STREQ(want[i].key, amxrt_gguf_kv_key(g, 1 + i));
		EXPECT_EQ(want[i].type, amxrt_gguf_kv_type(g, 1 + i))
		TH_LOG("%s", want[i].key);
		if (want[i].type == AMXRT_GGUF_STRING) {
			EXPECT_EQ(0,
				  amxrt_gguf_get_str(g, want[i].key, &s, &len));
			EXPECT_EQ(5, len);
			EXPECT_EQ(0, memcmp(s, "hello", 5));
		} else if (want[i].type == AMXRT_GGUF_FLOAT32 ||
			   want[i].type == AMXRT_GGUF_FLOAT64) {
			EXPECT_EQ(0, amxrt_gguf_get_float(g, want[i].key, &f));
			EXPECT_EQ(want[i].v, f);
		} else {
			EXPECT_EQ(0, amxrt_gguf_get_int(g, want[i].key, &v));
			EXPECT_EQ((int64_t)want[i].v, v)
			TH_LOG("%s", want[i].key);
		}
	}
	amxrt_gguf_close(g);
}

/* ---- tensors ---------------------------------------------------------------- */

struct tcase {
	const char *name;
	enum amxrt_type type;
	int n_dims;
	int64_t ne[4];
	int use_fill;
};

static const struct tcase tcases[] = {
	{ "norm.weight", AMXRT_TYPE_F32, 1, { 5 }, 0 },
	{ "f16.weight", AMXRT_TYPE_F16, 2, { 7, 3 }, 1 },
	{ "bf16.4d", AMXRT_TYPE_BF16, 4, { 3, 2, 2, 2 }, 0 },
	{ "blk.0.attn_q.weight", AMXRT_TYPE_Q4_0, 2, { 64, 3 }, 1 },
	{ "blk.0.ffn_up_exps.weight", AMXRT_TYPE_Q4_1, 3, { 32, 5, 2 }, 0 },
	{ "q8_0", AMXRT_TYPE_Q8_0, 2, { 96, 1 }, 1 },
	{ "one", AMXRT_TYPE_F32, 1, { 1 }, 1 },
	/* larger than the writer's 1 MiB buffer, filled and borrowed */
	{ "big.fill", AMXRT_TYPE_F32, 2, { 1000, 300 }, 1 },
	{ "big.borrowed", AMXRT_TYPE_Q8_0, 2, { 4096, 20 }, 0 },
	{ "tail", AMXRT_TYPE_F16, 1, { 3 }, 0 },
};

#define N_TCASES (int)(sizeof(tcases) / sizeof(tcases[0]))

static size_t tcase_size(const struct tcase *c)
{
	int64_t rows = 1;
	int d;

	for (d = 1; d < c->n_dims; d++)
		rows *= c->ne[d];
	return (size_t)(rows * amxrt_row_bytes(c->type, c->ne[0]));
}

struct filler {
	const uint8_t *bytes;
	size_t size;
	int calls;
};

static int fill_copy(void *ctx, void *dst, size_t size)
{
	struct filler *f = ctx;

	f->calls++;
	if (size != f->size)
		return -EBADMSG;
	memcpy(dst, f->bytes, size);
	return 0;
}

TEST_F(aligned, tensors_roundtrip)
{
	uint32_t align = variant->align ? variant->align : 32;
	struct filler fills[N_TCASES];
	uint8_t *bytes[N_TCASES];
	struct amxrt_gguf_writer *w;
	struct amxrt_gguf_tensor t;
	struct amxrt_gguf *g;
	uint64_t end = 0;
	int i, d;

	ASSERT_EQ(0, amxrt_gguf_writer_new(&w));
	ASSERT_EQ(0, amxrt_gguf_set_str(w, "general.architecture", "llama"));
	if (variant->align)
		ASSERT_EQ(0, amxrt_gguf_set_u32(w, "general.alignment",
						variant->align));
	for (i = 0; i < N_TCASES; i++) {
		const struct tcase *c = &tcases[i];
		size_t n = tcase_size(c), j;

		bytes[i] = malloc(n);
		ASSERT_NE(NULL, bytes[i]);
		for (j = 0; j < n; j++)
			bytes[i][j] = (uint8_t)test_rand();
		fills[i] = (struct filler){ bytes[i], n, 0 };
		ASSERT_EQ(0, amxrt_gguf_add_tensor(
				     w, c->name, c->type, c->n_dims, c->ne,
				     c->use_fill ? NULL : bytes[i],
				     c->use_fill ? fill_copy : NULL, &fills[i]))
		TH_LOG("%s: %s", c->name, amxrt_errmsg());
	}
	ASSERT_EQ(0, amxrt_gguf_write(w, self->path))
	TH_LOG("%s", amxrt_errmsg());
	amxrt_gguf_writer_free(w);
	for (i = 0; i < N_TCASES; i++)
		EXPECT_EQ(tcases[i].use_fill ? 1 : 0, fills[i].calls);

	ASSERT_EQ(0, amxrt_gguf_open(self->path, &g))
	TH_LOG("%s", amxrt_errmsg());
	EXPECT_EQ(align, amxrt_gguf_alignment(g));
	EXPECT_EQ(0, amxrt_gguf_data_offset(g) % align);
	ASSERT_EQ(N_TCASES, amxrt_gguf_tensor_count(g));
	for (i = 0; i < N_TCASES; i++) {
		const struct tcase *c = &tcases[i];

		ASSERT_EQ(0, amxrt_gguf_tensor(g, i, &t));
		EXPECT_STREQ(c->name, t.name);
		EXPECT_EQ(i, amxrt_gguf_find_tensor(g, c->name));
		EXPECT_EQ(c->type, t.type);
		EXPECT_EQ(c->n_dims, t.n_dims);
		for (d = 0; d < AMXRT_GGUF_MAX_DIMS; d++)
			EXPECT_EQ(d < c->n_dims ? c->ne[d] : 1, t.ne[d]);
		EXPECT_EQ(0, t.offset % align) TH_LOG("%s", c->name);
		EXPECT_GE(t.offset, end);
		ASSERT_EQ(tcase_size(c), t.size);
		ASSERT_NE(NULL, t.data);
		EXPECT_EQ(0, memcmp(bytes[i], t.data, t.size))
		TH_LOG("%s: data differs", c->name);
		end = t.offset + t.size;
	}
	/* the data section ends padded to the alignment */
	EXPECT_EQ((long)(amxrt_gguf_data_offset(g) +
			 (end + align - 1) / align * align),
		  file_size(self->path));
	amxrt_gguf_close(g);
	for (i = 0; i < N_TCASES; i++)
		free(bytes[i]);
	EXPECT_EQ(1, test_dir_entries(self->dir, NULL, 0));
}

/* The specification's layout, encoded by hand for one kv and one tensor. */
TEST_F(dir, bytes_match_the_specification)
{
	static const uint8_t want[128] = {
		'G',	  'G', 'U',  'F',  3, 0, 0, 0, /* magic, version */
		1,	  0,   0,    0,	   0, 0, 0, 0, /* tensors */
		1,	  0,   0,    0,	   0, 0, 0, 0, /* kv */
		1,	  0,   0,    0,	   0, 0, 0, 0,	  'k', /* key */
		4,	  0,   0,    0,	   7, 0, 0, 0, /* uint32 7 */
		1,	  0,   0,    0,	   0, 0, 0, 0,	  't', /* tensor name */
		1,	  0,   0,    0,	   2, 0, 0, 0,	  0,
		0,	  0,   0, /* n_dims, ne[0] */
		0,	  0,   0,    0,	   0, 0, 0, 0,	  0,
		0,	  0,   0, /* f32, offset 0 */
		[96] = 0, 0,   0x80, 0x3f, 0, 0, 0, 0x40, /* 1.0f, 2.0f */
	};
	static const float data[2] = { 1.0f, 2.0f };
	const int64_t ne[1] = { 2 };
	struct amxrt_gguf_writer *w;
	uint8_t got[256];
	int fd;

	ASSERT_EQ(0, amxrt_gguf_writer_new(&w));
	ASSERT_EQ(0, amxrt_gguf_set_u32(w, "k", 7));
	ASSERT_EQ(0, amxrt_gguf_add_tensor(w, "t", AMXRT_TYPE_F32, 1, ne, data,
					   NULL, NULL));
	ASSERT_EQ(0, amxrt_gguf_write(w, self->path));
	amxrt_gguf_writer_free(w);
	fd = open(self->path, O_RDONLY);
	ASSERT_LE(0, fd);
	ASSERT_EQ(128, read(fd, got, sizeof(got)));
	close(fd);
	EXPECT_EQ(0, memcmp(want, got, 128));
}

/* ---- atomic writes ---------------------------------------------------------- */

static int fill_fails(void *ctx, void *dst, size_t size)
{
	memset(dst, 0xab, size / 2);
	return -EIO;
}

static void put_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

TEST_F(dir, failing_fill_leaves_no_file)
{
	const int64_t ne[2] = { 64, 4 };
	static float rows[256];
	struct amxrt_gguf_writer *w;
	char name[256], buf[16] = { 0 };
	FILE *f;

	ASSERT_EQ(0, amxrt_gguf_writer_new(&w));
	ASSERT_EQ(0, amxrt_gguf_add_tensor(w, "first", AMXRT_TYPE_F32, 2, ne,
					   rows, NULL, NULL));
	ASSERT_EQ(0, amxrt_gguf_add_tensor(w, "blk.3.ffn_down.weight",
					   AMXRT_TYPE_Q8_0, 2, ne, NULL,
					   fill_fails, NULL));
	EXPECT_EQ(-EIO, amxrt_gguf_write(w, self->path));
	TH_LOG("%s", amxrt_errmsg());
	EXPECT_NE(NULL, strstr(amxrt_errmsg(), "blk.3.ffn_down.weight"));
	EXPECT_NE(NULL, strstr(amxrt_errmsg(), "fill"));
	EXPECT_EQ(0, test_dir_entries(self->dir, name, sizeof(name)))
	TH_LOG("left behind: %s", name);

	/* an existing file stays as it was */
	put_file(self->path, "old");
	EXPECT_EQ(-EIO, amxrt_gguf_write(w, self->path));
	EXPECT_EQ(1, test_dir_entries(self->dir, name, sizeof(name)));
	EXPECT_STREQ("out.gguf", name);
	f = fopen(self->path, "r");
	ASSERT_NE(NULL, f);
	EXPECT_EQ(3, fread(buf, 1, sizeof(buf) - 1, f));
	fclose(f);
	EXPECT_STREQ("old", buf);
	amxrt_gguf_writer_free(w);
}

TEST_F(dir, existing_file_is_replaced)
{
	const int64_t ne[1] = { 8 };
	static const float v[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	struct amxrt_gguf_writer *w;
	struct amxrt_gguf_tensor t;
	struct amxrt_gguf *g;
	struct stat st;
	mode_t old = umask(022);

	put_file(self->path, "an old file, longer than nothing");
	ASSERT_EQ(0, amxrt_gguf_writer_new(&w));
	ASSERT_EQ(0, amxrt_gguf_add_tensor(w, "v", AMXRT_TYPE_F32, 1, ne, v,
					   NULL, NULL));
	ASSERT_EQ(0, amxrt_gguf_write(w, self->path));
	amxrt_gguf_writer_free(w);
	umask(old);
	ASSERT_EQ(0, stat(self->path, &st));
	EXPECT_EQ(0644, st.st_mode & 0777);
	EXPECT_EQ(1, test_dir_entries(self->dir, NULL, 0));
	ASSERT_EQ(0, amxrt_gguf_open(self->path, &g));
	ASSERT_EQ(0, amxrt_gguf_tensor(g, 0, &t));
	EXPECT_EQ(0, memcmp(v, t.data, sizeof(v)));
	amxrt_gguf_close(g);
}

TEST_F(dir, missing_directory_is_named)
{
	const int64_t ne[1] = { 4 };
	static const float v[4];
	struct amxrt_gguf_writer *w;
	char path[256];

	snprintf(path, sizeof(path), "%s/no-such-dir/out.gguf", self->dir);
	ASSERT_EQ(0, amxrt_gguf_writer_new(&w));
	ASSERT_EQ(0, amxrt_gguf_add_tensor(w, "v", AMXRT_TYPE_F32, 1, ne, v,
					   NULL, NULL));
	EXPECT_EQ(-ENOENT, amxrt_gguf_write(w, path));
	TH_LOG("%s", amxrt_errmsg());
	EXPECT_NE(NULL, strstr(amxrt_errmsg(), path));
	EXPECT_NE(NULL, strstr(amxrt_errmsg(), strerror(ENOENT)));
	amxrt_gguf_writer_free(w);
}

/*
 * A directory the caller cannot write to. As root, permission bits do not
 * apply, so a child process drops to user nobody first.
 */
TEST_F(dir, unwritable_directory_is_named)
{
	const int64_t ne[1] = { 4 };
	static const float v[4];
	int pipefd[2], status;
	char msg[512] = { 0 };
	ssize_t n;
	pid_t pid;

	ASSERT_EQ(0, chmod(self->dir, 0555));
	ASSERT_EQ(0, pipe(pipefd));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		struct amxrt_gguf_writer *w;
		int rc;

		close(pipefd[0]);
		if (geteuid() == 0 &&
		    (setgroups(0, NULL) || setresgid(65534, 65534, 65534) ||
		     setresuid(65534, 65534, 65534)))
			_exit(4);
		if (amxrt_gguf_writer_new(&w) ||
		    amxrt_gguf_add_tensor(w, "v", AMXRT_TYPE_F32, 1, ne, v,
					  NULL, NULL))
			_exit(3);
		rc = amxrt_gguf_write(w, self->path);
		if (write(pipefd[1], amxrt_errmsg(), strlen(amxrt_errmsg())) <
		    0)
			_exit(3);
		_exit(rc == -EACCES ? 0 : 1);
	}
	close(pipefd[1]);
	n = read(pipefd[0], msg, sizeof(msg) - 1);
	close(pipefd[0]);
	if (n > 0)
		msg[n] = '\0';
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	chmod(self->dir, 0700);
	ASSERT_TRUE(WIFEXITED(status));
	if (WEXITSTATUS(status) == 4)
		SKIP(return, "running as root and cannot switch to uid 65534");
	TH_LOG("%s", msg);
	EXPECT_EQ(0, WEXITSTATUS(status));
	EXPECT_NE(NULL, strstr(msg, self->path));
	EXPECT_NE(NULL, strstr(msg, strerror(EACCES)));
	EXPECT_EQ(0, test_dir_entries(self->dir, NULL, 0));
}

/* A write that fails midway (file size limit: EFBIG) leaves nothing. */
TEST_F(dir, failed_write_leaves_no_file)
{
	const int64_t ne[2] = { 1024, 256 };
	struct rlimit rl = { 64 << 10, 64 << 10 };
	struct amxrt_gguf_writer *w;
	float *big = calloc(1024 * 256, sizeof(float));

	ASSERT_NE(NULL, big);
	signal(SIGXFSZ, SIG_IGN);
	ASSERT_EQ(0, setrlimit(RLIMIT_FSIZE, &rl));
	ASSERT_EQ(0, amxrt_gguf_writer_new(&w));
	ASSERT_EQ(0, amxrt_gguf_add_tensor(w, "big", AMXRT_TYPE_F32, 2, ne, big,
					   NULL, NULL));
	EXPECT_EQ(-EFBIG, amxrt_gguf_write(w, self->path));
	TH_LOG("%s", amxrt_errmsg());
	EXPECT_NE(NULL, strstr(amxrt_errmsg(), self->path));
	EXPECT_NE(NULL, strstr(amxrt_errmsg(), strerror(EFBIG)));
	EXPECT_EQ(0, test_dir_entries(self->dir, NULL, 0));
	amxrt_gguf_writer_free(w);
	free(big);
}

/* ---- bad arguments ---------------------------------------------------------- */

TEST_F(dir, bad_arguments_are_refused)
{
	static const float v[64];
	const int64_t ne33[1] = { 33 }, ne0[2] = { 32, 0 }, ne32[1] = { 32 };
	const int64_t ne4[4] = { 32, 1, 1, 1 }, huge[2] = { 32, INT64_MAX };
	char name[80];
	struct amxrt_gguf_writer *w;
	static const char *const nul[2] = { "a", NULL };

	ASSERT_EQ(0, amxrt_gguf_writer_new(&w));
	EXPECT_EQ(-EINVAL, amxrt_gguf_set_u32(w, "", 1));
	EXPECT_EQ(-EINVAL, amxrt_gguf_set_u32(w, NULL, 1));
	EXPECT_EQ(-EINVAL, amxrt_gguf_set_u32(NULL, "k", 1));
	EXPECT_EQ(-EINVAL, amxrt_gguf_set_str(w, "k", NULL));
	EXPECT_EQ(-EINVAL, amxrt_gguf_set_arr(w, "k", AMXRT_GGUF_STRING, v, 1));
	EXPECT_EQ(-EINVAL, amxrt_gguf_set_arr(w, "k", AMXRT_GGUF_ARRAY, v, 1));
	EXPECT_EQ(-EINVAL, amxrt_gguf_set_arr(w, "k", 99, v, 1));
	EXPECT_EQ(-EINVAL,
		  amxrt_gguf_set_arr(w, "k", AMXRT_GGUF_UINT8, NULL, 3));
	EXPECT_EQ(-EINVAL, amxrt_gguf_set_arr_str(w, "k", nul, NULL, 2));
	EXPECT_EQ(-EINVAL, amxrt_gguf_copy_kv(w, NULL, NULL));

	/* tensors: block multiple, shape, type, name, source, duplicates */
	EXPECT_EQ(-EINVAL, amxrt_gguf_add_tensor(w, "a", AMXRT_TYPE_Q4_0, 1,
						 ne33, v, NULL, NULL));
	TH_LOG("%s", amxrt_errmsg());
	EXPECT_NE(NULL, strstr(amxrt_errmsg(), "33"));
	EXPECT_EQ(-EINVAL, amxrt_gguf_add_tensor(w, "a", AMXRT_TYPE_F32, 2, ne0,
						 v, NULL, NULL));
	EXPECT_EQ(-EINVAL, amxrt_gguf_add_tensor(w, "a", AMXRT_TYPE_F32, 2,
						 huge, v, NULL, NULL));
	EXPECT_EQ(-EINVAL, amxrt_gguf_add_tensor(w, "a", AMXRT_TYPE_F32, 0, ne4,
						 v, NULL, NULL));
	EXPECT_EQ(-EINVAL, amxrt_gguf_add_tensor(w, "a", AMXRT_TYPE_F32, 5, ne4,
						 v, NULL, NULL));
	EXPECT_EQ(-EINVAL,
		  amxrt_gguf_add_tensor(w, "a", 7, 1, ne32, v, NULL, NULL));
	EXPECT_EQ(-EINVAL, amxrt_gguf_add_tensor(w, "a", AMXRT_TYPE_Q8_1, 1,
						 ne32, v, NULL, NULL));
	EXPECT_EQ(-EINVAL, amxrt_gguf_add_tensor(w, "a", AMXRT_TYPE_F32, 1,
						 ne32, NULL, NULL, NULL));
	EXPECT_EQ(-EINVAL, amxrt_gguf_add_tensor(w, "", AMXRT_TYPE_F32, 1, ne32,
						 v, NULL, NULL));
	memset(name, 'x', 64);
	name[64] = '\0';
	EXPECT_EQ(-EINVAL, amxrt_gguf_add_tensor(w, name, AMXRT_TYPE_F32, 1,
						 ne32, v, NULL, NULL));
	name[63] = '\0'; /* 63 bytes: ggml's longest name */
	EXPECT_EQ(0, amxrt_gguf_add_tensor(w, name, AMXRT_TYPE_F32, 1, ne32, v,
					   NULL, NULL));
	EXPECT_EQ(-EEXIST, amxrt_gguf_add_tensor(w, name, AMXRT_TYPE_F32, 4,
						 ne4, v, NULL, NULL));

	/* general.alignment must be a uint32 power of two */
	EXPECT_EQ(0, amxrt_gguf_set_u32(w, "general.alignment", 48));
	EXPECT_EQ(-EINVAL, amxrt_gguf_write(w, self->path));
	TH_LOG("%s", amxrt_errmsg());
	EXPECT_NE(NULL, strstr(amxrt_errmsg(), "general.alignment"));
	EXPECT_EQ(0, amxrt_gguf_set_u64(w, "general.alignment", 64));
	EXPECT_EQ(-EINVAL, amxrt_gguf_write(w, self->path));
	EXPECT_EQ(0, amxrt_gguf_set_u32(w, "general.alignment", 0));
	EXPECT_EQ(-EINVAL, amxrt_gguf_write(w, self->path));
	EXPECT_EQ(0, test_dir_entries(self->dir, NULL, 0));
	EXPECT_EQ(-EINVAL, amxrt_gguf_write(w, NULL));
	EXPECT_EQ(-EINVAL, amxrt_gguf_write(NULL, self->path));
	EXPECT_EQ(-EINVAL, amxrt_gguf_writer_new(NULL));
	amxrt_gguf_writer_free(w);
	amxrt_gguf_writer_free(NULL);
}

TEST_HARNESS_MAIN
