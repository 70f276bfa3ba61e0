// SPDX-License-Identifier: MIT
/*
 * Description: stories260K (a trained tiny llama) tells a story. From BOS
 * + "Once upon a time" ([1, 403, 407, 261, 378]: "▁Once" "▁upon" "▁a"
 * "▁time" in its vocabulary), greedy decoding must give the pinned tokens
 * below, on the fast path (the path this machine picks, the prompt as one
 * micro-batch, then one token at a time) and in the double-precision
 * reference (tests/model_ref.h); the ids were computed with both. Each
 * reference step's margin between the best and the second logit is
 * printed: the fast path's logits are within a relative 1e-5 of the
 * reference's (tests/model_forward), far below the smallest margin.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kselftest_harness.h"
#include "helpers.h"
#include "model_ref.h"

#include <amxrt/amxrt.h>

#define N_GEN 40

static const int32_t prompt[] = { 1, 403, 407, 261, 378 };
/* ", there was a little girl named Lily. She loved to play outside in
 * the park. One day, she saw a big, red ball." */
static const int32_t pinned[N_GEN] = {
	432, 383, 286, 261, 376, 298, 315, 421, 395, 317, 426, 338, 401, 396,
	267, 337, 410, 408, 419, 292, 411, 322, 265, 282, 295, 433, 426, 385,
	328, 432, 358, 394, 261, 370, 432, 352, 266, 268, 388, 426,
};

static const char *srcdir(void)
{
	const char *s = getenv("AMXRT_SRCDIR");

	return s && *s ? s : ".";
}

static int argmax_d(const double *v, int n, double *margin)
{
	int i, b = 0, s = -1;

	for (i = 1; i < n; i++)
		if (v[i] > v[b]) {
			s = b;
			b = i;
		} else if (s < 0 || v[i] > v[s]) {
			s = i;
		}
	*margin = v[b] - v[s];
	return b;
}

static int argmax_f(const float *v, int n)
{
	int i, b = 0;

	for (i = 1; i < n; i++)
		if (v[i] > v[b])
			b = i;
	return b;
}

/* The piece of a token as the vocabulary stores it, "▁" as a space. */
static void piece(const struct amxrt_gguf *g, int32_t id, char *buf, size_t cap)
{
	const char *s;
	size_t len, o = 0, i;

	buf[0] = '\0';
	if (amxrt_gguf_arr_str(g, "tokenizer.ggml.tokens", id, &s, &len))
		return;
	for (i = 0; i < len && o + 2 < cap; i++) {
		if (i + 2 < len && !memcmp(s + i, "\xe2\x96\x81", 3)) {
			buf[o++] = ' ';
			i += 2;
		} else {
			buf[o++] = s[i];
		}
	}
	buf[o] = '\0';
}

TEST(greedy_story)
{
	struct ref_hp h = { 5, 64, 8,	    4,	  8, 172, 512, 8, 0,
			    0, 0,  10000.0, 1e-5, 0, 0,	  0,   0 };
	struct amxrt_model *m;
	struct amxrt_ctx *c;
	struct ref r;
	int np = sizeof(prompt) / sizeof(prompt[0]), i;
	int32_t fast[N_GEN], refi[N_GEN];
	double *rl = malloc(sizeof(double) * 512), margin, worst = INFINITY;
	char path[512], text[4096] = "", pc[64];

	ref_hp_for(&h, "llama");
	snprintf(path, sizeof(path), "%s/models/stories260K.gguf", srcdir());
	ASSERT_EQ(0, amxrt_model_load(path, NULL, &m))
	TH_LOG("%s", amxrt_errmsg());
	ASSERT_EQ(0, amxrt_ctx_new(m, NULL, &c));

	/* the model's tokenizer gives the prompt */
	{
		int32_t ids[16];
		int nt = amxrt_tokenize(amxrt_model_tokenizer(m),
					"Once upon a time", 16,
					AMXRT_TOK_ADD_SPECIAL, ids, 16, NULL);

		ASSERT_EQ(np, nt) TH_LOG("%s", amxrt_errmsg());
		EXPECT_EQ(0, memcmp(prompt, ids, sizeof(prompt)));
	}

	/* fast path */
	ASSERT_EQ(0, amxrt_decode(c, prompt, np, 0));
	for (i = 0; i < N_GEN; i++) {
		fast[i] = argmax_f(amxrt_logits(c, -1), 512);
		ASSERT_EQ(0, amxrt_decode(c, &fast[i], 1, 0));
	}
	EXPECT_EQ(0, amxrt_ctx_weight_bytes_copied(c));

	/* reference */
	ASSERT_EQ(0, ref_init(&r, amxrt_model_gguf(m), &h, np + N_GEN + 1));
	for (i = 0; i < np; i++)
		ref_step(&r, prompt[i], rl);
	for (i = 0; i < N_GEN; i++) {
		refi[i] = argmax_d(rl, 512, &margin);
		worst = margin < worst ? margin : worst;
		ref_step(&r, refi[i], rl);
	}
	ref_free(&r);

	for (i = 1; i < np; i++) {
		piece(amxrt_model_gguf(m), prompt[i], pc, sizeof(pc));
		strcat(text, pc);
	}
	printf("# ids:");
	for (i = 0; i < N_GEN; i++) {
		printf(" %d", fast[i]);
		piece(amxrt_model_gguf(m), fast[i], pc, sizeof(pc));
		if (strlen(text) + strlen(pc) < sizeof(text))
			strcat(text, pc);
	}
	printf("\n# text:%s\n# smallest reference margin: %.4g\n", text, worst);
	fflush(stdout);
	for (i = 0; i < N_GEN; i++) {
		EXPECT_EQ(refi[i], fast[i]) TH_LOG("token %d", i);
		EXPECT_EQ(pinned[i], fast[i]) TH_LOG("token %d", i);
	}
	amxrt_ctx_free(c);
	amxrt_model_free(m);
	free(rl);
}

TEST_HARNESS_MAIN
