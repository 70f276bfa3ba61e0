// SPDX-License-Identifier: MIT
/*
 * Description: contexts over their whole length. A small random model
 * generates greedily until its 4096-position context (the default n_ctx)
 * is full: every logit stays finite; the next decode returns -ENOSPC with
 * "context full" and changes nothing; truncating and decoding the same
 * token again gives the same logits; the weight-bytes-copied counter
 * stays 0. Also the argument checks of amxrt_decode() and amxrt_logits(),
 * and logits that do not depend on the thread count.
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
		snprintf(tmpdir, sizeof(tmpdir), "/tmp/amxrt-long-XXXXXX");
		if (!mkdtemp(tmpdir))
			return NULL;
	}
	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	return path;
}

static int argmax(const float *v, int n)
{
	int i, b = 0;

	for (i = 1; i < n; i++)
		if (v[i] > v[b])
			b = i;
	return b;
}

static int all_finite(const float *v, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (!isfinite(v[i]))
			return 0;
	return 1;
}

TEST(generate_until_full)
{
	struct amxrt_model *m;
	struct amxrt_ctx *c;
	struct gen_params p;
	int32_t tok = 1, *hist;
	float *at100;
	int i, n_ctx, bad = 0;

	/* one thread: 4096 single-token steps are short enough that waking
	 * the pool would dominate (and stretch under a loaded machine) */
	ASSERT_EQ(0, amxrt_set_threads(1));
	gen_defaults(&p, "llama", AMXRT_TYPE_Q4_0, test_rand());
	p.n_layer = 1;
	ASSERT_EQ(0, gen_model(tmp_path("l.gguf"), &p));
	ASSERT_EQ(0, amxrt_model_load(tmp_path("l.gguf"), NULL, &m));
	ASSERT_EQ(0, amxrt_ctx_new(m, NULL, &c));
	n_ctx = amxrt_ctx_n_ctx(c);
	EXPECT_EQ(4096, n_ctx);
	hist = malloc(sizeof(int32_t) * n_ctx);
	at100 = malloc(sizeof(float) * p.n_vocab);
	for (i = 0; i < n_ctx; i++) {
		const float *l;

		hist[i] = tok;
		ASSERT_EQ(0, amxrt_decode(c, &tok, 1, 0))
		TH_LOG("at %d: %s", i, amxrt_errmsg());
		l = amxrt_logits(c, -1);
		bad += !all_finite(l, p.n_vocab);
		if (i == 100)
			memcpy(at100, l, sizeof(float) * p.n_vocab);
		tok = argmax(l, p.n_vocab);
	}
	EXPECT_EQ(0, bad);
	EXPECT_EQ(n_ctx, amxrt_ctx_pos(c));
	/* full: refused, nothing changes */
	EXPECT_EQ(-ENOSPC, amxrt_decode(c, &tok, 1, 0));
	EXPECT_NE(NULL, strstr(amxrt_errmsg(), "context full"));
	printf("# %s\n", amxrt_errmsg());
	fflush(stdout);
	EXPECT_EQ(n_ctx, amxrt_ctx_pos(c));
	EXPECT_NE(NULL, amxrt_logits(c, -1));
	/* n tokens that do not fit: refused whole */
	EXPECT_EQ(0, amxrt_ctx_truncate(c, n_ctx - 2));
	EXPECT_EQ(-ENOSPC, amxrt_decode(c, hist, 3, 0));
	EXPECT_EQ(n_ctx - 2, amxrt_ctx_pos(c));
	EXPECT_EQ(0, amxrt_decode(c, hist, 2, 0));
	/* back to 100 tokens: the same 101st token gives the same logits */
	EXPECT_EQ(0, amxrt_ctx_truncate(c, 100));
	EXPECT_EQ(100, amxrt_ctx_pos(c));
	EXPECT_EQ(0, amxrt_decode(c, &hist[100], 1, 0));
	EXPECT_EQ(0, memcmp(at100, amxrt_logits(c, -1),
			    sizeof(float) * p.n_vocab));
	EXPECT_EQ(0, amxrt_ctx_weight_bytes_copied(c));
	amxrt_ctx_free(c);
	amxrt_model_free(m);
	free(hist);
	free(at100);
	unlink(tmp_path("l.gguf"));
	rmdir(tmpdir);
	tmpdir[0] = '\0';
}

TEST(decode_arguments)
{
	struct amxrt_ctx_params cp = { .n_ctx = 64,
				       .n_batch = 16,
				       .n_ubatch = 4 };
	struct amxrt_model *m;
	struct amxrt_ctx *c;
	struct gen_params p;
	int32_t toks[20] = { 1, 5, 9, 300, 7 };
	int i;

	gen_defaults(&p, "qwen2", AMXRT_TYPE_F16, test_rand());
	ASSERT_EQ(0, gen_model(tmp_path("a.gguf"), &p));
	ASSERT_EQ(0, amxrt_model_load(tmp_path("a.gguf"), NULL, &m));
	ASSERT_EQ(0, amxrt_ctx_new(m, &cp, &c));
	EXPECT_EQ(NULL, amxrt_logits(c, -1));
	/* token 300 is out of the 300-token vocabulary: nothing runs */
	EXPECT_EQ(-EINVAL, amxrt_decode(c, toks, 5, 0));
	EXPECT_NE(NULL, strstr(amxrt_errmsg(), "300"));
	EXPECT_EQ(0, amxrt_ctx_pos(c));
	toks[3] = -1;
	EXPECT_EQ(-EINVAL, amxrt_decode(c, toks, 5, 0));
	toks[3] = 3;
	EXPECT_EQ(-EINVAL, amxrt_decode(c, toks, 0, 0));
	EXPECT_EQ(-EINVAL, amxrt_decode(c, NULL, 1, 0));
	EXPECT_EQ(-EINVAL, amxrt_decode(c, toks, 5, 0x100));
	for (i = 5; i < 20; i++)
		toks[i] = i;
	EXPECT_EQ(-EINVAL, amxrt_decode(c, toks, 17, 0)); /* > n_batch */
	EXPECT_EQ(0, amxrt_ctx_pos(c));
	/* all logits: rows 0..n-1 of the call; without: only the last */
	EXPECT_EQ(0, amxrt_decode(c, toks, 10, AMXRT_DECODE_ALL_LOGITS));
	EXPECT_EQ(10, amxrt_ctx_pos(c));
	EXPECT_NE(NULL, amxrt_logits(c, 9));
	EXPECT_EQ(amxrt_logits(c, 9), amxrt_logits(c, -1));
	EXPECT_EQ(NULL, amxrt_logits(c, 10));
	EXPECT_EQ(NULL, amxrt_logits(c, -2));
	EXPECT_EQ(0, amxrt_decode(c, toks, 3, 0));
	EXPECT_NE(NULL, amxrt_logits(c, -1));
	EXPECT_EQ(NULL, amxrt_logits(c, 0));
	EXPECT_EQ(-EINVAL, amxrt_ctx_truncate(c, 14));
	EXPECT_EQ(-EINVAL, amxrt_ctx_truncate(c, -1));
	EXPECT_EQ(0, amxrt_ctx_truncate(c, 0));
	EXPECT_EQ(NULL, amxrt_logits(c, -1));
	amxrt_ctx_free(c);
	amxrt_ctx_free(NULL);
	amxrt_model_free(m);
	unlink(tmp_path("a.gguf"));
	rmdir(tmpdir);
	tmpdir[0] = '\0';
}

/*
 * Each output element is computed by one thread in a fixed order, in the
 * matmuls and in attention: the logits are bit-identical for 1, 2 and 3
 * threads (3 cuts the panels into chunks of other sizes, with odd tail
 * panels), for integer and float weights, on every path this machine
 * runs (the AMX kernels through the tile model).
 */
TEST(threads_agree)
{
	static const enum amxrt_type types[] = { AMXRT_TYPE_Q8_0,
						 AMXRT_TYPE_F16,
						 AMXRT_TYPE_BF16 };
	struct amxrt_ctx_params cp = { .n_ctx = 160, .n_ubatch = 48 };
	struct amxrt_model *m;
	struct amxrt_ctx *c;
	struct gen_params p;
	int32_t toks[150];
	float *l1;
	size_t t;
	int i, nth, isa, isa0 = amxrt_isa(), differ = 0;

	ASSERT_LE(0, isa0);
	for (isa = 0; isa < AMXRT_ISA_COUNT; isa++) {
		if (amxrt_isa_usable(isa, NULL, 0))
			continue;
		ASSERT_EQ(0, amxrt_isa_set(isa));
		for (t = 0; t < sizeof(types) / sizeof(types[0]); t++) {
			gen_defaults(&p, "qwen3moe", types[t], test_rand());
			ASSERT_EQ(0, gen_model(tmp_path("th.gguf"), &p));
			ASSERT_EQ(0, amxrt_model_load(tmp_path("th.gguf"), NULL,
						      &m));
			for (i = 0; i < 150; i++)
				toks[i] = (int32_t)(test_rand() % p.n_vocab);
			l1 = malloc(sizeof(float) * 150 * p.n_vocab);
			ASSERT_NE(NULL, l1);
			for (nth = 1; nth <= 3; nth++) {
				ASSERT_EQ(0, amxrt_set_threads(nth));
				ASSERT_EQ(0, amxrt_ctx_new(m, &cp, &c));
				ASSERT_EQ(0, amxrt_decode(
						     c, toks, 150,
						     AMXRT_DECODE_ALL_LOGITS));
				if (nth == 1) {
					memcpy(l1, amxrt_logits(c, 0),
					       sizeof(float) * 150 * p.n_vocab);
				} else if (memcmp(l1, amxrt_logits(c, 0),
						  sizeof(float) * 150 *
							  p.n_vocab)) {
					TH_LOG("%s %s: logits with %d threads differ from 1 thread",
					       amxrt_isa_name(isa),
					       amxrt_type_name(types[t]), nth);
					differ++;
				}
				amxrt_ctx_free(c);
			}
			free(l1);
			amxrt_model_free(m);
			unlink(tmp_path("th.gguf"));
		}
	}
	ASSERT_EQ(0, amxrt_isa_set(isa0));
	ASSERT_EQ(0, amxrt_set_threads(0));
	EXPECT_EQ(0, differ);
	rmdir(tmpdir);
	tmpdir[0] = '\0';
}

TEST_HARNESS_MAIN
