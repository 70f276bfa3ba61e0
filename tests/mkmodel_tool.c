// SPDX-License-Identifier: MIT
/*
 * Description: the amxrt-mkmodel tool. --list names every preset; small
 * variants of qwen3-0.6b (Q4_0, tied output, q/k norms), tinyllama-1.1b
 * (Q8_0) and moe-bench (Q4_1, 3D expert tensors) open with the reader and
 * have llama.cpp's tensor names, shapes and types (norms and the router
 * F32), the hyperparameter keys of their architecture, general.file_type,
 * and every tokenizer.* key of the vocabulary file unchanged; weights are
 * finite with sd near 0.02 and norms are 1; the Qwen3 and MoE models load
 * and a forward pass gives finite logits; the same seed gives the same
 * file whatever the thread count, another seed other weights; the
 * vocabulary is found through AMXRT_MODELS, --vocab, or beside the build
 * tree; bad arguments exit 2, failures 1, each with one line on stderr.
 *
 * The tool is $AMXRT_BIN/amxrt-mkmodel (run_tests.sh sets it), else
 * $AMXRT_SRCDIR/build/bin/, else ../bin/ next to this program; the
 * vocabularies are in $AMXRT_SRCDIR/models/vocab (AMXRT_SRCDIR defaults
 * to .).
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "helpers.h"
#include "tool_helpers.h"
#include "../libamxrt/gguf/gguf_int.h"

#include <amxrt/amxrt.h>

#define TOOL "amxrt-mkmodel"

static char models[512];

/* ---- running the tool --------------------------------------------------- */

/* The tool and the vocabularies it reads: 0, or -1 with a reason. */
static int need_tool(char *why, size_t len)
{
	const char *src = getenv("AMXRT_SRCDIR");
	char probe[700];

	if (find_tool(TOOL, why, len))
		return -1;
	snprintf(models, sizeof(models), "%s/models", src && *src ? src : ".");
	snprintf(probe, sizeof(probe), "%s/vocab/recon-vocab-qwen2.gguf",
		 models);
	if (access(probe, R_OK)) {
		snprintf(why, len, "%s: %s (set AMXRT_SRCDIR)", probe,
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

/* Run "env ENV tool ARGS" (AMXRT_MODELS unset unless ENV sets it). */
static void run_mk(struct run *r, const char *env, const char *args)
{
	char e[1024];

	snprintf(e, sizeof(e), "-u AMXRT_MODELS %s", env);
	run_cmd(r, e, tool, NULL, args);
}

/* ---- checks ---------------------------------------------------------------- */

struct want_tensor {
	const char *name;
	int n_dims;
	int64_t ne[3];
	int norm; /* F32, every value 1 */
};

struct want_int {
	const char *key;
	int64_t v;
};

struct want_float {
	const char *key;
	double v;
};

/*
 * The tensors of g are exactly want (in order), matrices of type, norms
 * and the router F32; sampled rows finite, sd near 0.02, norms 1.
 */
static void check_tensors(struct __test_metadata *_metadata,
			  const struct amxrt_gguf *g,
			  const struct want_tensor *want, int n,
			  enum amxrt_type type)
{
	struct amxrt_gguf_tensor t;
	int i, d;

	ASSERT_EQ(n, amxrt_gguf_tensor_count(g));
	for (i = 0; i < n; i++) {
		const struct want_tensor *w = &want[i];
		int64_t rows = 1, pick[3], k, j, p;
		double sum = 0, sq = 0, cnt = 0;
		enum amxrt_type tt;
		float *y;

		ASSERT_EQ(0, amxrt_gguf_tensor(g, i, &t));
		EXPECT_STREQ(w->name, t.name);
		EXPECT_EQ(w->n_dims, t.n_dims) TH_LOG("%s", w->name);
		for (d = 0; d < w->n_dims; d++) {
			EXPECT_EQ(w->ne[d], t.ne[d])
			TH_LOG("%s ne[%d]", w->name, d);
			rows *= d ? t.ne[d] : 1;
		}
		tt = w->norm || strstr(w->name, "ffn_gate_inp") ?
			     AMXRT_TYPE_F32 :
			     type;
		EXPECT_EQ(tt, t.type) TH_LOG("%s", w->name);
		if (tt != t.type || strcmp(w->name, t.name))
			continue;
		k = t.ne[0];
		pick[0] = 0;
		pick[1] = rows / 2;
		pick[2] = rows - 1;
		y = malloc((size_t)k * sizeof(*y));
		ASSERT_NE(NULL, y);
		for (p = 0; p < 3; p++) {
			const char *row = (const char *)t.data +
					  pick[p] * amxrt_row_bytes(t.type, k);

			ASSERT_EQ(0, amxrt_dequantize_row(t.type, row, y, k));
			for (j = 0; j < k; j++) {
				if (w->norm) {
					if (y[j] != 1.0f) {
						EXPECT_EQ(1.0f, y[j])
						TH_LOG("%s", w->name);
						break;
					}
					continue;
				}
				if (!isfinite(y[j])) {
					EXPECT_TRUE(isfinite(y[j]))
					TH_LOG("%s", w->name);
					break;
				}
				sum += y[j];
				sq += (double)y[j] * y[j];
				cnt++;
			}
		}
		free(y);
		if (!w->norm && cnt > 0) {
			double mean = sum / cnt;
			double sd = sqrt(sq / cnt - mean * mean);

			EXPECT_LT(fabs(mean), 0.004) TH_LOG("%s", w->name);
			EXPECT_LT(0.016, sd) TH_LOG("%s: sd %g", w->name, sd);
			EXPECT_GT(0.024, sd) TH_LOG("%s: sd %g", w->name, sd);
		}
	}
}

static void check_ints(struct __test_metadata *_metadata,
		       const struct amxrt_gguf *g, const struct want_int *w,
		       int n)
{
	int64_t v;
	int i;

	for (i = 0; i < n; i++) {
		v = -12345;
		EXPECT_EQ(0, amxrt_gguf_get_int(g, w[i].key, &v))
		TH_LOG("%s", w[i].key);
		EXPECT_EQ(w[i].v, v) TH_LOG("%s", w[i].key);
	}
}

static void check_floats(struct __test_metadata *_metadata,
			 const struct amxrt_gguf *g, const struct want_float *w,
			 int n)
{
	double v;
	int i;

	for (i = 0; i < n; i++) {
		v = -12345;
		EXPECT_EQ(0, amxrt_gguf_get_float(g, w[i].key, &v))
		TH_LOG("%s", w[i].key);
		EXPECT_EQ((float)w[i].v, (float)v) TH_LOG("%s", w[i].key);
	}
}

static void check_str(struct __test_metadata *_metadata,
		      const struct amxrt_gguf *g, const char *key,
		      const char *want)
{
	const char *s = "";
	size_t len = 0;

	EXPECT_EQ(0, amxrt_gguf_get_str(g, key, &s, &len)) TH_LOG("%s", key);
	EXPECT_EQ(strlen(want), len) TH_LOG("%s", key);
	EXPECT_EQ(0, strncmp(want, s, len)) TH_LOG("%s", key);
}

/* Every tokenizer.* key of vocab is in g, same type and value. */
static void check_tokenizer(struct __test_metadata *_metadata,
			    const struct amxrt_gguf *g, const char *vocab_path)
{
	struct amxrt_gguf *v;
	int64_t i, n, seen = 0;

	ASSERT_EQ(0, amxrt_gguf_open(vocab_path, &v));
	n = amxrt_gguf_kv_count(v);
	for (i = 0; i < n; i++) {
		const char *key = amxrt_gguf_kv_key(v, i);
		enum amxrt_gguf_type t = amxrt_gguf_kv_type(v, i);
		int64_t j = amxrt_gguf_find_key(g, key);

		if (strncmp(key, "tokenizer.", 10))
			continue;
		seen++;
		EXPECT_LE(0, j) TH_LOG("%s is missing", key);
		if (j < 0)
			continue;
		EXPECT_EQ(t, amxrt_gguf_kv_type(g, j)) TH_LOG("%s", key);
		if (t == AMXRT_GGUF_STRING) {
			const char *a, *b;
			size_t la, lb;

			amxrt_gguf_get_str(v, key, &a, &la);
			amxrt_gguf_get_str(g, key, &b, &lb);
			EXPECT_TRUE(la == lb && !memcmp(a, b, la))
			TH_LOG("%s", key);
		} else if (t == AMXRT_GGUF_ARRAY) {
			enum amxrt_gguf_type ea, eb;
			const void *da, *db;
			uint64_t na, nb, k;

			amxrt_gguf_get_arr(v, key, &ea, &na, &da);
			amxrt_gguf_get_arr(g, key, &eb, &nb, &db);
			EXPECT_EQ(ea, eb) TH_LOG("%s", key);
			EXPECT_EQ(na, nb) TH_LOG("%s", key);
			if (ea != eb || na != nb)
				continue;
			if (ea != AMXRT_GGUF_STRING) {
				EXPECT_EQ(0, memcmp(da, db,
						    na * amxrt_gguf_scalar_size(
								 ea)))
				TH_LOG("%s", key);
				continue;
			}
			for (k = 0; k < na; k++) {
				const char *a, *b;
				size_t la, lb;

				amxrt_gguf_arr_str(v, key, k, &a, &la);
				amxrt_gguf_arr_str(g, key, k, &b, &lb);
				if (la != lb || memcmp(a, b, la)) {
					EXPECT_EQ(0, 1)
					TH_LOG("%s[%llu] differs", key,
					       (unsigned long long)k);
					break;
				}
			}
		} else {
			double a = 0, b = 1;
			int64_t ia = 0, ib = 1;

			if (t == AMXRT_GGUF_FLOAT32 ||
			    t == AMXRT_GGUF_FLOAT64) {
				EXPECT_EQ(0, amxrt_gguf_get_float(v, key, &a));
				EXPECT_EQ(0, amxrt_gguf_get_float(g, key, &b));
				EXPECT_EQ(a, b) TH_LOG("%s", key);
			} else {
				EXPECT_EQ(0, amxrt_gguf_get_int(v, key, &ia));
				EXPECT_EQ(0, amxrt_gguf_get_int(g, key, &ib));
				EXPECT_EQ(ia, ib) TH_LOG("%s", key);
			}
		}
	}
	EXPECT_LT(3, seen);
	amxrt_gguf_close(v);
}

/*
 * The model loads and a forward pass over four tokens gives finite logits
 * of a sane spread (the weights' scale keeps activations in range).
 */
static void check_forward(struct __test_metadata *_metadata, const char *path)
{
	static const int32_t toks[4] = { 1, 100, 200, 300 };
	struct amxrt_ctx_params cp = { .n_ctx = 16 };
	struct amxrt_model_info mi;
	double s = 0, s2 = 0, sd;
	struct amxrt_model *m;
	struct amxrt_ctx *c;
	const float *l;
	int i, bad = 0;

	ASSERT_EQ(0, amxrt_model_load(path, NULL, &m))
	TH_LOG("%s", amxrt_errmsg());
	ASSERT_EQ(0, amxrt_model_get_info(m, &mi));
	ASSERT_EQ(0, amxrt_ctx_new(m, &cp, &c)) TH_LOG("%s", amxrt_errmsg());
	ASSERT_EQ(0, amxrt_decode(c, toks, 4, 0)) TH_LOG("%s", amxrt_errmsg());
	l = amxrt_logits(c, -1);
	ASSERT_NE(NULL, l);
	for (i = 0; i < mi.n_vocab; i++) {
		bad += !isfinite(l[i]);
		s += l[i];
		s2 += (double)l[i] * l[i];
	}
	sd = sqrt(s2 / mi.n_vocab - (s / mi.n_vocab) * (s / mi.n_vocab));
	TH_LOG("%s: logits sd %g", mi.arch, sd);
	EXPECT_EQ(0, bad);
	EXPECT_LT(0.1, sd);
	EXPECT_GT(10, sd);
	amxrt_ctx_free(c);
	amxrt_model_free(m);
}

/* ---- fixture ------------------------------------------------------------- */

FIXTURE(mk)
{
	char dir[64];
	char out[128];
	char env[700]; /* AMXRT_MODELS=... */
	struct run r;
};

FIXTURE_SETUP(mk)
{
	snprintf(self->dir, sizeof(self->dir), "/tmp/amxrt-mkmodel.XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->dir));
	snprintf(self->out, sizeof(self->out), "%s/out.gguf", self->dir);
	self->env[0] = '\0';
}

FIXTURE_TEARDOWN(mk)
{
	test_rm_tree(self->dir);
}

#define N(a) (int)(sizeof(a) / sizeof(a[0]))

TEST_F(mk, list_names_every_preset)
{
	static const char *const names[] = { "tinyllama-1.1b", "llama-3-8b",
					     "qwen3-0.6b", "qwen3-30b-a3b",
					     "moe-bench" };
	int i;

	NEED_TOOL();
	run_mk(&self->r, "", "--list");
	EXPECT_EQ(0, self->r.status);
	EXPECT_STREQ("", self->r.err);
	for (i = 0; i < N(names); i++) {
		EXPECT_NE(NULL, strstr(self->r.out, names[i]))
		TH_LOG("%s", names[i]);
	}
	EXPECT_EQ(6, lines(self->r.out));
	run_mk(&self->r, "", "--help");
	EXPECT_EQ(0, self->r.status);
	EXPECT_NE(NULL, strstr(self->r.out, "Exit status"));
	EXPECT_NE(NULL, strstr(self->r.out, "AMXRT_MODELS"));
}

TEST_F(mk, qwen3_0_6b_one_layer_q4_0)
{
	static const struct want_tensor want[] = {
		{ "token_embd.weight", 2, { 1024, 151936 }, 0 },
		{ "blk.0.attn_norm.weight", 1, { 1024 }, 1 },
		{ "blk.0.attn_q.weight", 2, { 1024, 2048 }, 0 },
		{ "blk.0.attn_k.weight", 2, { 1024, 1024 }, 0 },
		{ "blk.0.attn_v.weight", 2, { 1024, 1024 }, 0 },
		{ "blk.0.attn_output.weight", 2, { 2048, 1024 }, 0 },
		{ "blk.0.attn_q_norm.weight", 1, { 128 }, 1 },
		{ "blk.0.attn_k_norm.weight", 1, { 128 }, 1 },
		{ "blk.0.ffn_norm.weight", 1, { 1024 }, 1 },
		{ "blk.0.ffn_gate.weight", 2, { 1024, 3072 }, 0 },
		{ "blk.0.ffn_up.weight", 2, { 1024, 3072 }, 0 },
		{ "blk.0.ffn_down.weight", 2, { 3072, 1024 }, 0 },
		{ "output_norm.weight", 1, { 1024 }, 1 },
	};
	static const struct want_int ints[] = {
		{ "general.file_type", 2 },
		{ "qwen3.block_count", 1 },
		{ "qwen3.embedding_length", 1024 },
		{ "qwen3.feed_forward_length", 3072 },
		{ "qwen3.attention.head_count", 16 },
		{ "qwen3.attention.head_count_kv", 8 },
		{ "qwen3.attention.key_length", 128 },
		{ "qwen3.attention.value_length", 128 },
		{ "qwen3.context_length", 40960 },
	};
	static const struct want_float floats[] = {
		{ "qwen3.rope.freq_base", 1e6 },
		{ "qwen3.attention.layer_norm_rms_epsilon", 1e-6 },
	};
	char args[400], vocab[700];
	struct amxrt_gguf *g;

	NEED_TOOL();
	snprintf(self->env, sizeof(self->env), "AMXRT_MODELS='%s'", models);
	snprintf(args, sizeof(args),
		 "--preset qwen3-0.6b --layers 1 --type q4_0 -o '%s'",
		 self->out);
	run_mk(&self->r, self->env, args);
	TH_LOG("exit %d, stderr \"%s\"", self->r.status, self->r.err);
	ASSERT_EQ(0, self->r.status);
	EXPECT_STREQ("", self->r.err);
	EXPECT_EQ(1, lines(self->r.out));
	EXPECT_EQ(1, test_dir_entries(self->dir, NULL, 0));

	ASSERT_EQ(0, amxrt_gguf_open(self->out, &g))
	TH_LOG("%s", amxrt_errmsg());
	check_str(_metadata, g, "general.architecture", "qwen3");
	check_ints(_metadata, g, ints, N(ints));
	check_floats(_metadata, g, floats, N(floats));
	EXPECT_EQ(-1, amxrt_gguf_find_tensor(g, "output.weight"));
	check_tensors(_metadata, g, want, N(want), AMXRT_TYPE_Q4_0);
	snprintf(vocab, sizeof(vocab), "%s/vocab/recon-vocab-qwen2.gguf",
		 models);
	check_tokenizer(_metadata, g, vocab);
	check_str(_metadata, g, "tokenizer.ggml.model", "gpt2");
	amxrt_gguf_close(g);
	check_forward(_metadata, self->out);
}

TEST_F(mk, tinyllama_one_layer_q8_0)
{
	static const struct want_tensor want[] = {
		{ "token_embd.weight", 2, { 2048, 32000 }, 0 },
		{ "blk.0.attn_norm.weight", 1, { 2048 }, 1 },
		{ "blk.0.attn_q.weight", 2, { 2048, 2048 }, 0 },
		{ "blk.0.attn_k.weight", 2, { 2048, 256 }, 0 },
		{ "blk.0.attn_v.weight", 2, { 2048, 256 }, 0 },
		{ "blk.0.attn_output.weight", 2, { 2048, 2048 }, 0 },
		{ "blk.0.ffn_norm.weight", 1, { 2048 }, 1 },
		{ "blk.0.ffn_gate.weight", 2, { 2048, 5632 }, 0 },
		{ "blk.0.ffn_up.weight", 2, { 2048, 5632 }, 0 },
		{ "blk.0.ffn_down.weight", 2, { 5632, 2048 }, 0 },
		{ "output_norm.weight", 1, { 2048 }, 1 },
		{ "output.weight", 2, { 2048, 32000 }, 0 },
	};
	static const struct want_int ints[] = {
		{ "general.file_type", 7 },
		{ "llama.block_count", 1 },
		{ "llama.embedding_length", 2048 },
		{ "llama.feed_forward_length", 5632 },
		{ "llama.attention.head_count", 32 },
		{ "llama.attention.head_count_kv", 4 },
		{ "llama.rope.dimension_count", 64 },
		{ "llama.context_length", 2048 },
		{ "llama.vocab_size", 32000 },
	};
	static const struct want_float floats[] = {
		{ "llama.rope.freq_base", 10000 },
		{ "llama.attention.layer_norm_rms_epsilon", 1e-5 },
	};
	char args[1200], vocab[700];
	struct amxrt_gguf *g;

	NEED_TOOL();
	snprintf(vocab, sizeof(vocab), "%s/vocab/ggml-vocab-llama-spm.gguf",
		 models);
	snprintf(args, sizeof(args),
		 "--preset tinyllama-1.1b --layers 1 --type Q8_0 --vocab '%s' "
		 "--seed 3 -o '%s'",
		 vocab, self->out);
	run_mk(&self->r, "", args);
	TH_LOG("exit %d, stderr \"%s\"", self->r.status, self->r.err);
	ASSERT_EQ(0, self->r.status);
	EXPECT_STREQ("", self->r.err);

	ASSERT_EQ(0, amxrt_gguf_open(self->out, &g))
	TH_LOG("%s", amxrt_errmsg());
	check_str(_metadata, g, "general.architecture", "llama");
	check_ints(_metadata, g, ints, N(ints));
	check_floats(_metadata, g, floats, N(floats));
	check_tensors(_metadata, g, want, N(want), AMXRT_TYPE_Q8_0);
	check_tokenizer(_metadata, g, vocab);
	check_str(_metadata, g, "tokenizer.ggml.model", "llama");
	amxrt_gguf_close(g);
}

/* MoE shapes; a 32000-token vocabulary keeps it small (a note says so). */
TEST_F(mk, moe_bench_one_layer_q4_1)
{
	static const struct want_tensor want[] = {
		{ "token_embd.weight", 2, { 2048, 32000 }, 0 },
		{ "blk.0.attn_norm.weight", 1, { 2048 }, 1 },
		{ "blk.0.attn_q.weight", 2, { 2048, 4096 }, 0 },
		{ "blk.0.attn_k.weight", 2, { 2048, 512 }, 0 },
		{ "blk.0.attn_v.weight", 2, { 2048, 512 }, 0 },
		{ "blk.0.attn_output.weight", 2, { 4096, 2048 }, 0 },
		{ "blk.0.attn_q_norm.weight", 1, { 128 }, 1 },
		{ "blk.0.attn_k_norm.weight", 1, { 128 }, 1 },
		{ "blk.0.ffn_norm.weight", 1, { 2048 }, 1 },
		{ "blk.0.ffn_gate_inp.weight", 2, { 2048, 32 }, 0 },
		{ "blk.0.ffn_gate_exps.weight", 3, { 2048, 768, 32 }, 0 },
		{ "blk.0.ffn_up_exps.weight", 3, { 2048, 768, 32 }, 0 },
		{ "blk.0.ffn_down_exps.weight", 3, { 768, 2048, 32 }, 0 },
		{ "output_norm.weight", 1, { 2048 }, 1 },
		{ "output.weight", 2, { 2048, 32000 }, 0 },
	};
	static const struct want_int ints[] = {
		{ "general.file_type", 3 },
		{ "qwen3moe.block_count", 1 },
		{ "qwen3moe.expert_count", 32 },
		{ "qwen3moe.expert_used_count", 4 },
		{ "qwen3moe.expert_feed_forward_length", 768 },
		{ "qwen3moe.attention.head_count", 32 },
		{ "qwen3moe.attention.head_count_kv", 4 },
		{ "qwen3moe.attention.key_length", 128 },
	};
	char args[1200], vocab[700];
	struct amxrt_gguf *g;

	NEED_TOOL();
	snprintf(vocab, sizeof(vocab), "%s/vocab/ggml-vocab-llama-spm.gguf",
		 models);
	snprintf(
		args, sizeof(args),
		"--preset moe-bench --layers 1 --type q4_1 --vocab '%s' -o '%s'",
		vocab, self->out);
	run_mk(&self->r, "", args);
	TH_LOG("exit %d, stderr \"%s\"", self->r.status, self->r.err);
	ASSERT_EQ(0, self->r.status);
	EXPECT_NE(NULL, strstr(self->r.out, "note: "));
	EXPECT_NE(NULL, strstr(self->r.out, "32000 tokens"));

	ASSERT_EQ(0, amxrt_gguf_open(self->out, &g))
	TH_LOG("%s", amxrt_errmsg());
	check_str(_metadata, g, "general.architecture", "qwen3moe");
	check_ints(_metadata, g, ints, N(ints));
	check_tensors(_metadata, g, want, N(want), AMXRT_TYPE_Q4_1);
	amxrt_gguf_close(g);
	check_forward(_metadata, self->out);
}

static int same_file(const char *a, const char *b)
{
	FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
	static char ba[1 << 16], bb[1 << 16];
	int same = fa && fb;
	size_t na, nb;

	while (same) {
		na = fread(ba, 1, sizeof(ba), fa);
		nb = fread(bb, 1, sizeof(bb), fb);
		if (na != nb || memcmp(ba, bb, na))
			same = 0;
		if (!na)
			break;
	}
	if (fa)
		fclose(fa);
	if (fb)
		fclose(fb);
	return same;
}

TEST_F(mk, seed_decides_the_weights)
{
	static const char *const runs[3] = { "--seed 7 -t 1", "--seed 7 -t 2",
					     "--seed 8 -t 2" };
	char args[1400], vocab[700], out[3][160];
	struct amxrt_gguf_tensor t0, t2;
	struct amxrt_gguf *g0, *g2;
	int i;

	NEED_TOOL();
	snprintf(vocab, sizeof(vocab), "%s/vocab/ggml-vocab-llama-spm.gguf",
		 models);
	for (i = 0; i < 3; i++) {
		snprintf(out[i], sizeof(out[i]), "%s/%d.gguf", self->dir, i);
		snprintf(args, sizeof(args),
			 "--preset qwen3-0.6b --layers 1 --type q4_0 "
			 "--vocab '%s' %s -o '%s'",
			 vocab, runs[i], out[i]);
		run_mk(&self->r, "", args);
		ASSERT_EQ(0, self->r.status) TH_LOG("%s", self->r.err);
	}
	EXPECT_TRUE(same_file(out[0], out[1]));
	ASSERT_EQ(0, amxrt_gguf_open(out[0], &g0));
	ASSERT_EQ(0, amxrt_gguf_open(out[2], &g2));
	ASSERT_EQ(0, amxrt_gguf_tensor(g0, 2, &t0));
	ASSERT_EQ(0, amxrt_gguf_tensor(g2, 2, &t2));
	EXPECT_STREQ("blk.0.attn_q.weight", t0.name);
	ASSERT_EQ(t0.size, t2.size);
	EXPECT_NE(0, memcmp(t0.data, t2.data, t0.size));
	amxrt_gguf_close(g0);
	amxrt_gguf_close(g2);
}

/*
 * Without --vocab or AMXRT_MODELS the tool looks in BIN/../../models/vocab.
 * A missing output directory makes the run stop right after the
 * vocabulary was read, so the message says which of the two failed.
 */
TEST_F(mk, vocabulary_lookup)
{
	char args[400], probe[PATH_MAX + 64], dir[PATH_MAX];

	NEED_TOOL();
	snprintf(args, sizeof(args),
		 "--preset tinyllama-1.1b -o %s/no/dir.gguf", self->dir);

	/* AMXRT_MODELS naming a directory without vocab/ */
	snprintf(self->env, sizeof(self->env), "AMXRT_MODELS=%s", self->dir);
	run_mk(&self->r, self->env, args);
	TH_LOG("exit %d, stderr \"%s\"", self->r.status, self->r.err);
	EXPECT_EQ(1, self->r.status);
	EXPECT_EQ(1, lines(self->r.err));
	EXPECT_NE(NULL, strstr(self->r.err, "ggml-vocab-llama-spm.gguf"));

	/* found through AMXRT_MODELS: now the output is the problem */
	snprintf(self->env, sizeof(self->env), "AMXRT_MODELS='%s'", models);
	run_mk(&self->r, self->env, args);
	TH_LOG("exit %d, stderr \"%s\"", self->r.status, self->r.err);
	EXPECT_EQ(1, self->r.status);
	EXPECT_EQ(1, lines(self->r.err));
	EXPECT_NE(NULL, strstr(self->r.err, "no/dir.gguf"));
	EXPECT_EQ(0, test_dir_entries(self->dir, NULL, 0));

	/* beside the build tree */
	if (!realpath(tool, dir))
		SKIP(return, "%s: %s", tool, strerror(errno));
	*strrchr(dir, '/') = '\0';
	snprintf(probe, sizeof(probe),
		 "%s/../../models/vocab/ggml-vocab-llama-spm.gguf", dir);
	if (access(probe, R_OK))
		SKIP(return,
			   "the tool is not in a build tree beside models/: %.400s",
			   probe);
	run_mk(&self->r, "", args);
	TH_LOG("exit %d, stderr \"%s\"", self->r.status, self->r.err);
	EXPECT_EQ(1, self->r.status);
	EXPECT_NE(NULL, strstr(self->r.err, "no/dir.gguf"));
}

TEST_F(mk, usage_errors_exit_2)
{
	static const char *const args[] = {
		"",
		"--preset nope",
		"--preset qwen3-0.6b --type q5_k",
		"--preset qwen3-0.6b --type q8_1",
		"--preset qwen3-0.6b --layers 0",
		"--preset qwen3-0.6b --layers 29",
		"--preset qwen3-0.6b --layers x",
		"--preset qwen3-0.6b --seed -1",
		"--preset qwen3-0.6b -t 0",
		"--preset qwen3-0.6b extra",
		"--bogus",
		"--preset",
	};
	int i;

	NEED_TOOL();
	for (i = 0; i < N(args); i++) {
		run_mk(&self->r, "", args[i]);
		TH_LOG("[%s]: exit %d, stderr \"%s\"", args[i], self->r.status,
		       self->r.err);
		EXPECT_EQ(2, self->r.status);
		EXPECT_STREQ("", self->r.out);
		EXPECT_EQ(1, lines(self->r.err));
		EXPECT_EQ(0, strncmp(self->r.err, TOOL ": ", strlen(TOOL) + 2));
	}
}

TEST_F(mk, failures_exit_1)
{
	char args[400];

	NEED_TOOL();
	snprintf(args, sizeof(args),
		 "--preset qwen3-0.6b --vocab %s/none.gguf -o %s/o.gguf",
		 self->dir, self->dir);
	run_mk(&self->r, "", args);
	TH_LOG("exit %d, stderr \"%s\"", self->r.status, self->r.err);
	EXPECT_EQ(1, self->r.status);
	EXPECT_EQ(1, lines(self->r.err));
	EXPECT_NE(NULL, strstr(self->r.err, "none.gguf"));
	EXPECT_STREQ("", self->r.out);

	/* a valid GGUF file without keys, so without a tokenizer */
	snprintf(args, sizeof(args), "%s/bad.gguf", self->dir);
	FILE *f = fopen(args, "w");
	ASSERT_NE(NULL, f);
	fwrite("GGUF\3\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 1, 24, f);
	fclose(f);
	snprintf(args, sizeof(args),
		 "--preset qwen3-0.6b --vocab %s/bad.gguf -o %s/o.gguf",
		 self->dir, self->dir);
	run_mk(&self->r, "", args);
	TH_LOG("exit %d, stderr \"%s\"", self->r.status, self->r.err);
	EXPECT_EQ(1, self->r.status);
	EXPECT_EQ(1, lines(self->r.err));
	EXPECT_NE(NULL, strstr(self->r.err, "tokenizer.ggml.tokens"));
	EXPECT_EQ(1, test_dir_entries(self->dir, NULL, 0)); /* bad.gguf only */
}

TEST_HARNESS_MAIN
