// SPDX-License-Identifier: MIT
/*
 * Description: the amxrt-quantize tool on models/stories260K.gguf (F32).
 * For each target (Q8_0, Q4_0, Q4_1, BF16, F16, F32; names in either case)
 * the output opens with the reader, keeps every key of the input with its
 * type and value, sets general.file_type to llama.cpp's number, keeps the
 * tensor names, order and shapes, and gives each tensor its type by the
 * rules (64-wide rows take the target, the 172-wide ffn_down rows F16 for
 * block targets, 1D norms F32); every value dequantizes to within the
 * type's error bound of the source (F32: the same bytes). A Q8_0 input
 * is refused unless --allow-requantize, then requantized within bounds; bad arguments exit 2 and a
 * failed conversion exits 1, each with one line on stderr and no output
 * file.
 *
 * The tool is $AMXRT_BIN/amxrt-quantize (run_tests.sh sets it), else
 * $AMXRT_SRCDIR/build/bin/, else ../bin/ next to this program; the model
 * is $AMXRT_SRCDIR/models/stories260K.gguf (AMXRT_SRCDIR defaults to .).
 */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "helpers.h"
#include "tool_helpers.h"

#include <amxrt/amxrt.h>

#define TOOL "amxrt-quantize"

static char model[512];

/* ---- running the tool --------------------------------------------------- */

/* The tool and the model it quantizes: 0, or -1 with a reason. */
static int need_tool(char *why, size_t len)
{
	const char *src = getenv("AMXRT_SRCDIR");

	if (find_tool(TOOL, why, len))
		return -1;
	snprintf(model, sizeof(model), "%s/models/stories260K.gguf",
		 src && *src ? src : ".");
	if (access(model, R_OK)) {
		snprintf(why, len, "%s: %s (set AMXRT_SRCDIR)", model,
			 strerror(errno));
		return -1;
	}
	return 0;
}

#define NEED_TOOL()                                   \
	do {                                          \
		char why_[900];                       \
		if (need_tool(why_, sizeof(why_)))    \
			SKIP(return, "%.900s", why_); \
	} while (0)

/* ---- checks --------------------------------------------------------------- */

/* The largest error quantizing the 32 values x to type may make. */
static double block_bound(enum amxrt_type type, const float *x, int n)
{
	double amax = 0, min = INFINITY, max = -INFINITY;
	int i;

	for (i = 0; i < n; i++) {
		amax = fmax(amax, fabs(x[i]));
		min = fmin(min, x[i]);
		max = fmax(max, x[i]);
	}
	switch (type) {
	case AMXRT_TYPE_Q8_0: /* d/2, and fp16 d times |q| <= 127 */
		return amax / 127 * (0.5 + 127.0 / 2048) + 1e-7;
	case AMXRT_TYPE_Q4_0: /* a whole d where +8 clamps to 7 */
		return amax / 8 * (1 + 8.0 / 2048) + 1e-7;
	case AMXRT_TYPE_Q4_1:
		return (max - min) / 15 * (0.5 + 15.0 / 2048) +
		       fabs(min) / 2048 + 1e-7;
	default:
		return 0;
	}
}

/* |x - y| allowed for one value converted to a float type. */
static double value_bound(enum amxrt_type type, float x)
{
	switch (type) {
	case AMXRT_TYPE_F16:
		return fabs(x) / 2048 + 1.0 / (1 << 24) / 2;
	case AMXRT_TYPE_BF16:
		return fabs(x) / 256 + 1e-38;
	default:
		return 0;
	}
}

static int64_t rows_of(const struct amxrt_gguf_tensor *t)
{
	int64_t r = 1;
	int d;

	for (d = 1; d < t->n_dims; d++)
		r *= t->ne[d];
	return r;
}

/*
 * Compare tensor q (type q->type) with its F32 source s: values within
 * the bound; returns the number of values outside it.
 */
static int64_t compare(const struct amxrt_gguf_tensor *s,
		       const struct amxrt_gguf_tensor *q, double *worst)
{
	int64_t k = s->ne[0], rows = rows_of(s), r, i, bad = 0;
	int64_t rb = amxrt_row_bytes(q->type, k);
	float *y = malloc((size_t)k * sizeof(*y));

	*worst = 0;
	if (!y)
		return -1;
	for (r = 0; r < rows; r++) {
		const float *x = (const float *)s->data + r * k;

		if (amxrt_dequantize_row(
			    q->type, (const char *)q->data + r * rb, y, k)) {
			bad = -1;
			break;
		}
		for (i = 0; i < k; i++) {
			double b = amxrt_type_block_values(q->type) == 32 ?
					   block_bound(q->type, x + i / 32 * 32,
						       32) :
					   value_bound(q->type, x[i]);
			double e = fabs((double)x[i] - y[i]);

			if (e > *worst)
				*worst = e;
			if (!(e <= b))
				bad++;
		}
	}
	free(y);
	return bad;
}

/* Every key of a is in b with the same type and value. */
static int same_kv(struct __test_metadata *_metadata,
		   const struct amxrt_gguf *a, const struct amxrt_gguf *b,
		   const char *except)
{
	int64_t i, n = amxrt_gguf_kv_count(a);

	for (i = 0; i < n; i++) {
		const char *key = amxrt_gguf_kv_key(a, i);
		enum amxrt_gguf_type t = amxrt_gguf_kv_type(a, i);
		int64_t j = amxrt_gguf_find_key(b, key);

		if (except && !strcmp(key, except))
			continue;
		EXPECT_LE(0, j) TH_LOG("key %s is missing", key);
		if (j < 0)
			return -1;
		EXPECT_EQ(t, amxrt_gguf_kv_type(b, j)) TH_LOG("key %s", key);
		if (t == AMXRT_GGUF_STRING) {
			const char *s1, *s2;
			size_t l1, l2;

			amxrt_gguf_get_str(a, key, &s1, &l1);
			amxrt_gguf_get_str(b, key, &s2, &l2);
			EXPECT_EQ(l1, l2);
			EXPECT_EQ(0, memcmp(s1, s2, l1)) TH_LOG("key %s", key);
		} else if (t == AMXRT_GGUF_ARRAY) {
			enum amxrt_gguf_type e1, e2;
			const void *d1, *d2;
			uint64_t n1, n2, k;

			amxrt_gguf_get_arr(a, key, &e1, &n1, &d1);
			amxrt_gguf_get_arr(b, key, &e2, &n2, &d2);
			EXPECT_EQ(e1, e2);
			EXPECT_EQ(n1, n2);
			if (e1 != e2 || n1 != n2)
				return -1;
			for (k = 0; e1 == AMXRT_GGUF_STRING && k < n1; k++) {
				const char *s1, *s2;
				size_t l1, l2;

				amxrt_gguf_arr_str(a, key, k, &s1, &l1);
				amxrt_gguf_arr_str(b, key, k, &s2, &l2);
				if (l1 != l2 || memcmp(s1, s2, l1)) {
					EXPECT_EQ(0, 1)
					TH_LOG("%s[%llu] differs", key,
					       (unsigned long long)k);
					return -1;
				}
			}
			if (e1 != AMXRT_GGUF_STRING) {
				enum amxrt_gguf_type e = e1;
				size_t es =
					e == AMXRT_GGUF_UINT8 ||
							e == AMXRT_GGUF_INT8 ||
							e == AMXRT_GGUF_BOOL ?
						1 :
					e == AMXRT_GGUF_UINT16 ||
							e == AMXRT_GGUF_INT16 ?
						2 :
					e == AMXRT_GGUF_UINT64 ||
							e == AMXRT_GGUF_INT64 ||
							e == AMXRT_GGUF_FLOAT64 ?
						8 :
						4;

				EXPECT_EQ(0, memcmp(d1, d2, es * n1))
				TH_LOG("key %s", key);
			}
		} else {
			double f1 = 0, f2 = 1;
			int64_t i1 = 0, i2 = 1;

			if (t == AMXRT_GGUF_FLOAT32 ||
			    t == AMXRT_GGUF_FLOAT64) {
				EXPECT_EQ(0, amxrt_gguf_get_float(a, key, &f1));
				EXPECT_EQ(0, amxrt_gguf_get_float(b, key, &f2));
				EXPECT_EQ(f1, f2) TH_LOG("key %s", key);
			} else {
				EXPECT_EQ(0, amxrt_gguf_get_int(a, key, &i1));
				EXPECT_EQ(0, amxrt_gguf_get_int(b, key, &i2));
				EXPECT_EQ(i1, i2) TH_LOG("key %s", key);
			}
		}
	}
	return 0;
}

/* ---- fixture: a temporary directory, one variant per target ------------- */

FIXTURE(quant)
{
	char dir[64];
	char out[128];
};

FIXTURE_VARIANT(quant)
{
	const char *arg; /* as typed on the command line */
	enum amxrt_type type;
	uint32_t file_type; /* llama.cpp's LLAMA_FTYPE */
};

FIXTURE_VARIANT_ADD(quant, q8_0){
	.arg = "Q8_0",
	.type = AMXRT_TYPE_Q8_0,
	.file_type = 7,
};

FIXTURE_VARIANT_ADD(quant, q4_0){
	.arg = "q4_0",
	.type = AMXRT_TYPE_Q4_0,
	.file_type = 2,
};

FIXTURE_VARIANT_ADD(quant, q4_1){
	.arg = "Q4_1",
	.type = AMXRT_TYPE_Q4_1,
	.file_type = 3,
};

FIXTURE_VARIANT_ADD(quant, bf16){
	.arg = "bf16",
	.type = AMXRT_TYPE_BF16,
	.file_type = 32,
};

FIXTURE_VARIANT_ADD(quant, f16){
	.arg = "F16",
	.type = AMXRT_TYPE_F16,
	.file_type = 1,
};

FIXTURE_VARIANT_ADD(quant, f32){
	.arg = "f32",
	.type = AMXRT_TYPE_F32,
	.file_type = 0,
};

FIXTURE_SETUP(quant)
{
	snprintf(self->dir, sizeof(self->dir), "/tmp/amxrt-quantize.XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->dir));
	snprintf(self->out, sizeof(self->out), "%s/out.gguf", self->dir);
}

FIXTURE_TEARDOWN(quant)
{
	test_rm_tree(self->dir);
}

TEST_F(quant, converts_by_the_rules)
{
	enum amxrt_type target = variant->type;
	struct amxrt_gguf *src, *dst;
	char args[1400];
	int64_t i, n, v, counts[3] = { 0 };
	static struct run run_;
	struct run *r = &run_;

	NEED_TOOL();
	snprintf(args, sizeof(args), "'%s' '%s' %s", model, self->out,
		 variant->arg);
	run_tool(r, "", args);
	TH_LOG("exit %d, stderr \"%s\"", r->status, r->err);
	ASSERT_EQ(0, r->status);
	EXPECT_STREQ("", r->err);
	/* one line per tensor, then the total */
	EXPECT_EQ(49, lines(r->out));
	EXPECT_NE(NULL, strstr(r->out, "blk.0.ffn_down.weight"));
	EXPECT_NE(NULL, strstr(r->out, "total: 48 tensors"));

	ASSERT_EQ(0, amxrt_gguf_open(model, &src));
	ASSERT_EQ(0, amxrt_gguf_open(self->out, &dst))
	TH_LOG("%s", amxrt_errmsg());
	EXPECT_EQ(0, amxrt_gguf_get_int(dst, "general.file_type", &v));
	EXPECT_EQ(variant->file_type, v);
	same_kv(_metadata, src, dst, "general.file_type");

	n = amxrt_gguf_tensor_count(src);
	ASSERT_EQ(48, n);
	ASSERT_EQ(n, amxrt_gguf_tensor_count(dst));
	for (i = 0; i < n; i++) {
		struct amxrt_gguf_tensor s, q;
		enum amxrt_type want;
		double worst;
		int64_t bad;

		ASSERT_EQ(0, amxrt_gguf_tensor(src, i, &s));
		ASSERT_EQ(0, amxrt_gguf_tensor(dst, i, &q));
		ASSERT_EQ(AMXRT_TYPE_F32, s.type);
		EXPECT_STREQ(s.name, q.name);
		EXPECT_EQ(s.n_dims, q.n_dims);
		EXPECT_EQ(0, memcmp(s.ne, q.ne, sizeof(s.ne)));
		if (s.n_dims == 1)
			want = AMXRT_TYPE_F32;
		else if (s.ne[0] % 32 && amxrt_type_block_values(target) > 1)
			want = AMXRT_TYPE_F16;
		else
			want = target;
		EXPECT_EQ(want, q.type) TH_LOG("%s", s.name);
		if (want != q.type)
			continue;
		counts[s.n_dims == 1 ? 0 : want == target ? 1 : 2]++;
		if (want == AMXRT_TYPE_F32) {
			EXPECT_EQ(s.size, q.size);
			EXPECT_EQ(0, memcmp(s.data, q.data, s.size))
			TH_LOG("%s", s.name);
			continue;
		}
		bad = compare(&s, &q, &worst);
		EXPECT_EQ(0, bad)
		TH_LOG("%s: %lld values outside the %s bound (worst %g)",
		       s.name, (long long)bad, amxrt_type_name(want), worst);
	}
	/* stories260K: 11 norms; 32 matrices with 64-wide rows; 5 ffn_down */
	EXPECT_EQ(11, counts[0]);
	if (amxrt_type_block_values(target) > 1) {
		EXPECT_EQ(32, counts[1]);
		EXPECT_EQ(5, counts[2]);
	} else {
		EXPECT_EQ(37, counts[1]);
	}
	amxrt_gguf_close(src);
	amxrt_gguf_close(dst);
}

/* ---- bad arguments -------------------------------------------------------- */

FIXTURE(args)
{
	char dir[64];
};

FIXTURE_SETUP(args)
{
	snprintf(self->dir, sizeof(self->dir), "/tmp/amxrt-quantize.XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->dir));
}

FIXTURE_TEARDOWN(args)
{
	test_rm_tree(self->dir);
}

TEST_F(args, usage_errors_exit_2)
{
	char a[8][1400];
	static struct run run_;
	struct run *r = &run_;
	size_t i;

	NEED_TOOL();
	snprintf(a[0], sizeof(a[0]), "%s", "");
	snprintf(a[1], sizeof(a[1]), "'%s'", model);
	snprintf(a[2], sizeof(a[2]), "'%s' %s/o.gguf", model, self->dir);
	snprintf(a[3], sizeof(a[3]), "'%s' %s/o.gguf q5_k", model, self->dir);
	snprintf(a[4], sizeof(a[4]), "'%s' %s/o.gguf q8_1", model, self->dir);
	snprintf(a[5], sizeof(a[5]), "--bogus '%s' %s/o.gguf q8_0", model,
		 self->dir);
	snprintf(a[6], sizeof(a[6]), "'%s' %s/o.gguf q8_0 extra", model,
		 self->dir);
	snprintf(a[7], sizeof(a[7]), "-x '%s' %s/o.gguf q8_0", model,
		 self->dir);
	for (i = 0; i < 8; i++) {
		run_tool(r, "", a[i]);
		TH_LOG("[%s]: exit %d, stderr \"%s\"", a[i], r->status, r->err);
		EXPECT_EQ(2, r->status);
		EXPECT_STREQ("", r->out);
		EXPECT_EQ(1, lines(r->err));
		EXPECT_EQ(0, strncmp(r->err, TOOL ": ", strlen(TOOL) + 2));
	}
	EXPECT_EQ(0, test_dir_entries(self->dir, NULL, 0));

	run_tool(r, "", "--help");
	EXPECT_EQ(0, r->status);
	EXPECT_NE(NULL, strstr(r->out, "Exit status"));
}

TEST_F(args, failures_exit_1)
{
	char a[1400];
	static struct run run_;
	struct run *r = &run_;

	NEED_TOOL();
	/* a missing input */
	snprintf(a, sizeof(a), "%s/none.gguf %s/o.gguf q8_0", self->dir,
		 self->dir);
	run_tool(r, "", a);
	TH_LOG("exit %d, stderr \"%s\"", r->status, r->err);
	EXPECT_EQ(1, r->status);
	EXPECT_EQ(1, lines(r->err));
	EXPECT_NE(NULL, strstr(r->err, "none.gguf"));
	/* not a GGUF file */
	snprintf(a, sizeof(a), "%s/o.gguf", self->dir);
	FILE *f = fopen(a, "w");
	ASSERT_NE(NULL, f);
	fputs("not a model\n", f);
	fclose(f);
	snprintf(a, sizeof(a), "%s/o.gguf %s/p.gguf q8_0", self->dir,
		 self->dir);
	run_tool(r, "", a);
	TH_LOG("exit %d, stderr \"%s\"", r->status, r->err);
	EXPECT_EQ(1, r->status);
	EXPECT_EQ(1, lines(r->err));
	/* an output directory that does not exist */
	snprintf(a, sizeof(a), "'%s' %s/no/o.gguf q4_0", model, self->dir);
	run_tool(r, "", a);
	TH_LOG("exit %d, stderr \"%s\"", r->status, r->err);
	EXPECT_EQ(1, r->status);
	EXPECT_EQ(1, lines(r->err));
	EXPECT_NE(NULL, strstr(r->err, strerror(ENOENT)));
	EXPECT_EQ(1, test_dir_entries(self->dir, NULL, 0)); /* only o.gguf */
}

/* Requantize rows of Q8_0 tensor s into q; count values off the bound. */
static int64_t requant_errors(const struct amxrt_gguf_tensor *s,
			      const struct amxrt_gguf_tensor *q)
{
	int64_t k = s->ne[0], rows = rows_of(s), r, j, bad = 0;
	int64_t sb = amxrt_row_bytes(s->type, k),
		qb = amxrt_row_bytes(q->type, k);
	float *x = malloc((size_t)k * sizeof(*x));
	float *y = malloc((size_t)k * sizeof(*y));

	for (r = 0; x && y && r < rows; r++) {
		if (amxrt_dequantize_row(
			    s->type, (const char *)s->data + r * sb, x, k) ||
		    amxrt_dequantize_row(q->type,
					 (const char *)q->data + r * qb, y, k))
			break;
		for (j = 0; j < k; j++)
			bad += !(fabs(x[j] - y[j]) <=
				 block_bound(q->type, x + j / 32 * 32, 32));
	}
	if (!x || !y || r < rows)
		bad = -1;
	free(x);
	free(y);
	return bad;
}

/*
 * A Q8_0 model is refused; with --allow-requantize its Q8_0 tensors are
 * dequantized and quantized (within the target's bound of the Q8_0
 * values), and its F16 and F32 tensors carried over.
 */
TEST_F(args, requantize_only_when_allowed)
{
	static const char *const targets[] = { "q4_0", "Q4_1", "q8_0" };
	char a[1400], mid_path[160], out[160];
	struct amxrt_gguf *mid, *dst;
	static struct run run_;
	struct run *r = &run_;
	int64_t i, bad;
	size_t t;

	NEED_TOOL();
	snprintf(mid_path, sizeof(mid_path), "%s/q8_0.gguf", self->dir);
	snprintf(out, sizeof(out), "%s/again.gguf", self->dir);
	snprintf(a, sizeof(a), "-q '%s' '%s' q8_0", model, mid_path);
	run_tool(r, "", a);
	ASSERT_EQ(0, r->status);
	EXPECT_EQ(1, lines(r->out)); /* -q: the total only */
	ASSERT_EQ(0, amxrt_gguf_open(mid_path, &mid));

	for (t = 0; t < sizeof(targets) / sizeof(targets[0]); t++) {
		enum amxrt_type type = amxrt_type_parse(targets[t]);

		snprintf(a, sizeof(a), "'%s' '%s' %s", mid_path, out,
			 targets[t]);
		run_tool(r, "", a);
		TH_LOG("exit %d, stderr \"%s\"", r->status, r->err);
		EXPECT_EQ(1, r->status);
		EXPECT_EQ(1, lines(r->err));
		EXPECT_NE(NULL, strstr(r->err, "already q8_0"));
		EXPECT_EQ(-1, access(out, F_OK));

		snprintf(a, sizeof(a), "--allow-requantize '%s' '%s' %s",
			 mid_path, out, targets[t]);
		run_tool(r, "", a);
		ASSERT_EQ(0, r->status) TH_LOG("%s", r->err);
		ASSERT_EQ(0, amxrt_gguf_open(out, &dst));
		for (i = 0; i < amxrt_gguf_tensor_count(mid); i++) {
			struct amxrt_gguf_tensor s, q;

			ASSERT_EQ(0, amxrt_gguf_tensor(mid, i, &s));
			ASSERT_EQ(0, amxrt_gguf_tensor(dst, i, &q));
			if (s.type != AMXRT_TYPE_Q8_0) {
				EXPECT_EQ(s.type, q.type);
				EXPECT_EQ(0, memcmp(s.data, q.data, s.size));
				continue;
			}
			EXPECT_EQ(type, q.type);
			if (type != q.type)
				continue;
			bad = requant_errors(&s, &q);
			EXPECT_EQ(0, bad)
			TH_LOG("%s to %s: %lld values off", s.name, targets[t],
			       (long long)bad);
		}
		amxrt_gguf_close(dst);
		unlink(out);
	}
	amxrt_gguf_close(mid);
}

TEST_HARNESS_MAIN
