// SPDX-License-Identifier: MIT
/*
 * Description: mixture of experts. A qwen3moe model whose experts are all
 * copies of one dense FFN must give the logits of the qwen3 model with
 * that FFN (same seed: same attention, norms, embeddings), whatever the
 * router picks, because the chosen experts' weights are normalized to sum
 * 1. Checked in f32, bf16, q8_0 and q4_0, with top-2 of 4 and top-1 of 8
 * experts, through micro-batches (several rows per expert) and one token
 * at a time (one row).
 *
 * TOLERANCE: both models run the same kernels on the same activations;
 * an expert runs over the rows routed to it rather than the whole
 * micro-batch (kernels compute each row on its own, so only the float
 * order of the final weighted sum differs: w1 y + w2 y against y, with
 * w1 + w2 = 1 within 2^-23), a relative 1e-6 per layer; for f32 we allow
 * max|diff| <= 1e-4 max|logit|. Where the next matmul rounds its
 * activations (to bf16, or to int8 per 32-block, with a scale per block or
 * group of 4, for the integer kernels) such a 1e-7 change can move a value
 * across a rounding boundary: one activation then changes by one quantum
 * (max|x_b| / 127 for int8, max over the group for Q4 weights, a
 * relative 2^-8 for bf16), which moves the outputs of that matmul by at
 * most |w| times that quantum, about 1e-3 of their size; a few such flips
 * stay under max|diff| <= 1e-2 max|logit|.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "helpers.h"
#include "model_gen.h"

#include <amxrt/amxrt.h>

static char tmpdir[256];

static const char *tmp_path(const char *name)
{
	static char path[512];

	if (!tmpdir[0]) {
		snprintf(tmpdir, sizeof(tmpdir), "/tmp/amxrt-moe-XXXXXX");
		if (!mkdtemp(tmpdir))
			return NULL;
	}
	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	return path;
}

/* Logits of every position, n tokens in micro-batches of ub. */
static float *run(struct __test_metadata *_metadata, const char *path,
		  const int32_t *toks, int n, int ub)
{
	struct amxrt_ctx_params cp = { .n_ctx = n, .n_ubatch = ub };
	struct amxrt_model_info info;
	struct amxrt_model *m;
	struct amxrt_ctx *c;
	float *out;
	int i;

	if (amxrt_model_load(path, NULL, &m)) {
		TH_LOG("%s", amxrt_errmsg());
		return NULL;
	}
	amxrt_model_get_info(m, &info);
	out = malloc(sizeof(float) * n * info.n_vocab);
	EXPECT_EQ(0, amxrt_ctx_new(m, &cp, &c));
	if (ub > 1) {
		EXPECT_EQ(0, amxrt_decode(c, toks, n, AMXRT_DECODE_ALL_LOGITS));
		memcpy(out, amxrt_logits(c, 0),
		       sizeof(float) * n * info.n_vocab);
	} else {
		for (i = 0; i < n; i++) {
			EXPECT_EQ(0, amxrt_decode(c, toks + i, 1, 0));
			memcpy(out + (int64_t)i * info.n_vocab,
			       amxrt_logits(c, -1),
			       sizeof(float) * info.n_vocab);
		}
	}
	EXPECT_EQ(0, amxrt_ctx_weight_bytes_copied(c));
	amxrt_ctx_free(c);
	amxrt_model_free(m);
	return out;
}

TEST(experts_copying_dense)
{
	static const enum amxrt_type types[] = {
		AMXRT_TYPE_F32,
		AMXRT_TYPE_BF16,
		AMXRT_TYPE_Q8_0,
		AMXRT_TYPE_Q4_0,
	};
	const int n = 80;
	int32_t toks[80];
	size_t t;
	int cfg, i;

	for (t = 0; t < sizeof(types) / sizeof(types[0]); t++)
		for (cfg = 0; cfg < 2; cfg++) {
			struct gen_params d, e;
			uint64_t seed = test_rand();
			int ub;

			gen_defaults(&d, "qwen3", types[t], seed);
			gen_defaults(&e, "qwen3moe", types[t], seed);
			d.n_ff = 64;
			e.n_ff_exp = 64;
			e.experts_copy_dense = 1;
			e.n_expert = cfg ? 8 : 4;
			e.n_expert_used = cfg ? 1 : 2;
			ASSERT_EQ(0, gen_model(tmp_path("d.gguf"), &d));
			ASSERT_EQ(0, gen_model(tmp_path("e.gguf"), &e));
			for (i = 0; i < n; i++)
				toks[i] = (int32_t)(test_rand() % d.n_vocab);
			for (ub = 1; ub <= 32; ub += 31) {
				float *ld = run(_metadata, tmp_path("d.gguf"),
						toks, n, ub);
				float *le = run(_metadata, tmp_path("e.gguf"),
						toks, n, ub);
				double mx = 0, md = 0;

				ASSERT_NE(NULL, ld);
				ASSERT_NE(NULL, le);
				for (i = 0; i < n * d.n_vocab; i++) {
					double df = fabs((double)ld[i] - le[i]);

					mx = fabs(ld[i]) > mx ? fabs(ld[i]) :
								mx;
					md = df > md || !isfinite(df) ? df : md;
				}
				printf("# %-5s top-%d of %d, ubatch %2d: rel %.3g\n",
				       amxrt_type_name(types[t]),
				       e.n_expert_used, e.n_expert, ub,
				       md / mx);
				fflush(stdout);
				EXPECT_LE(md / mx, types[t] == AMXRT_TYPE_F32 ?
							   1e-4 :
							   1e-2);
				free(ld);
				free(le);
			}
		}
	unlink(tmp_path("d.gguf"));
	unlink(tmp_path("e.gguf"));
	rmdir(tmpdir);
	tmpdir[0] = '\0';
}

TEST_HARNESS_MAIN
