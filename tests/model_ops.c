// SPDX-License-Identifier: MIT
/*
 * Description: the forward pass's element-wise ops (libamxrt/model/ops.c)
 * on every path, against plain double references on fresh random rows of
 * odd lengths (tails of every size below a vector): RMSNorm, on the
 * portable path and the AVX-512 one (norm_avx512.c), within 4 float ulps
 * of the reference (below), and both paths within 2 ulps of each other;
 * SwiGLU within 1e-6 relative (the vector exp is good to 2e-7); RoPE in
 * both element orders (rope_avx512.c), partial rotations and tails, and
 * the two paths' RoPE bit for bit.
 */
#include <float.h>
#include <math.h>

#include "kselftest_harness.h"
#include "helpers.h"

#include <amxrt/amxrt.h>

#include "../libamxrt/model/model_int.h"

/* In a test's function: switch to path isa, or skip saying why not. */
#define USE_PATH(isa)                                               \
	do {                                                        \
		char why_[256];                                     \
                                                                    \
		if (amxrt_isa_usable(isa, why_, sizeof(why_)))      \
			SKIP(return, "path %s cannot run here: %s", \
				   amxrt_isa_name(isa), why_);      \
		ASSERT_EQ(0, amxrt_isa_set(isa));                   \
	} while (0)

static const int64_t lengths[] = { 1,  7,  15, 16,  17,	  31,  32,
				   33, 63, 64, 100, 2048, 5639 };

/*
 * RMSNorm in double. The ops round three times in float (the scale
 * 1/rms, x * scale, then * weight): 3 half-ulps, so 4 ulps of the
 * reference value leaves room for the scale's sum being summed in another
 * order than here.
 */
static double ref_rmsnorm(const float *x, const float *w, int64_t n, float eps,
			  int64_t j)
{
	double s = 0;
	int64_t i;

	for (i = 0; i < n; i++)
		s += (double)x[i] * x[i];
	return x[j] / sqrt(s / n + eps) * w[j];
}

/* |got - want| in units of the float spacing at want */
static int64_t ulps_off(float got, double want)
{
	float f = (float)fabs(want);
	double ulp = (double)nextafterf(f, INFINITY) - f;

	if (ulp < FLT_MIN)
		ulp = FLT_MIN;
	return (int64_t)ceil(fabs(got - want) / ulp);
}

static void run_norm(struct __test_metadata *_metadata, enum amxrt_isa isa)
{
	size_t c;

	USE_PATH(isa);
	for (c = 0; c < sizeof(lengths) / sizeof(lengths[0]); c++) {
		int64_t n = lengths[c], m = 3, i, j, worst = 0;
		/* scales from tiny to large rows */
		float scale = c % 3 == 0 ? 1e-3f : c % 3 == 1 ? 1.0f : 300.0f;
		float *x = test_matrix(m, n, scale), *w = test_matrix(1, n, 1);
		float *y = malloc((size_t)(m * n) * sizeof(float));

		ASSERT_NE(NULL, x);
		ASSERT_NE(NULL, w);
		ASSERT_NE(NULL, y);
		amxrt_op_rmsnorm(y, x, w, m, n, 1e-5f);
		for (i = 0; i < m; i++)
			for (j = 0; j < n; j++) {
				int64_t u = ulps_off(y[i * n + j],
						     ref_rmsnorm(x + i * n, w,
								 n, 1e-5f, j));

				worst = u > worst ? u : worst;
			}
		EXPECT_LE(worst, 4)
		TH_LOG("%s, n = %lld: %lld ulps from the reference",
		       amxrt_isa_name(isa), (long long)n, (long long)worst);
		free(x);
		free(w);
		free(y);
	}
}

TEST(rmsnorm_generic)
{
	run_norm(_metadata, AMXRT_ISA_GENERIC);
}

TEST(rmsnorm_avx512)
{
	run_norm(_metadata, AMXRT_ISA_AVX512VNNI);
}

/* The AVX-512 row against the portable one, on the same rows. */
TEST(rmsnorm_paths_agree)
{
	char why[256];
	size_t c;

	if (amxrt_isa_usable(AMXRT_ISA_AVX512VNNI, why, sizeof(why)))
		SKIP(return, "avx512vnni cannot run here: %s", why);
	for (c = 0; c < sizeof(lengths) / sizeof(lengths[0]); c++) {
		int64_t n = lengths[c], j, worst = 0;
		float *x = test_matrix(1, n, 2), *w = test_matrix(1, n, 1);
		float *a = malloc((size_t)n * sizeof(float));
		float *b = malloc((size_t)n * sizeof(float));

		ASSERT_NE(NULL, x);
		ASSERT_NE(NULL, w);
		ASSERT_NE(NULL, a);
		ASSERT_NE(NULL, b);
		ASSERT_EQ(0, amxrt_isa_set(AMXRT_ISA_GENERIC));
		amxrt_op_rmsnorm(a, x, w, 1, n, 1e-6f);
		amxrt_rmsnorm_avx512(b, x, w, n, 1e-6f);
		for (j = 0; j < n; j++) {
			int64_t u = ulps_off(b[j], a[j]);

			worst = u > worst ? u : worst;
		}
		EXPECT_LE(worst, 2)
		TH_LOG("n = %lld: paths %lld ulps apart", (long long)n,
		       (long long)worst);
		free(x);
		free(w);
		free(a);
		free(b);
	}
}

static void run_swiglu(struct __test_metadata *_metadata, enum amxrt_isa isa)
{
	size_t c;

	USE_PATH(isa);
	for (c = 0; c < sizeof(lengths) / sizeof(lengths[0]); c++) {
		int64_t n = lengths[c], j;
		float *g = test_matrix(1, n, 4), *u = test_matrix(1, n, 1);
		float *g0 = malloc((size_t)n * sizeof(float));
		double worst = 0;

		ASSERT_NE(NULL, g0);
		memcpy(g0, g, (size_t)n * sizeof(float));
		amxrt_op_swiglu(g, u, n);
		for (j = 0; j < n; j++) {
			double want = g0[j] / (1 + exp(-(double)g0[j])) * u[j];
			double e = fabs(g[j] - want) / (fabs(want) + 1e-30);

			if (fabs(want) > 1e-30 && e > worst)
				worst = e;
		}
		EXPECT_LE(worst, 1e-6)
		TH_LOG("%s, n = %lld: relative error %g", amxrt_isa_name(isa),
		       (long long)n, worst);
		free(g);
		free(u);
		free(g0);
	}
}

TEST(swiglu_generic)
{
	run_swiglu(_metadata, AMXRT_ISA_GENERIC);
}

TEST(swiglu_avx512)
{
	run_swiglu(_metadata, AMXRT_ISA_AVX512VNNI);
}

/*
 * RoPE, both element orders, against the rotation in double with the same
 * angle table: each output is a sum of two products, so within a few
 * float roundings of |x0| + |x1| (2^-21 of it). Head sizes with all
 * dims rotated, a part of them (n_rot < d: the rest must stay as is),
 * and pair counts that leave a tail (12, 15, 20, 23 pairs).
 */
static void run_rope(struct __test_metadata *_metadata, enum amxrt_isa isa)
{
	static const int shapes[][2] = {
		{ 64, 64 }, { 128, 128 }, { 64, 32 }, { 64, 24 },
		{ 80, 40 }, { 16, 16 },	  { 64, 30 }, { 48, 46 },
	};
	size_t c;
	int neox;

	USE_PATH(isa);
	for (neox = 0; neox < 2; neox++)
		for (c = 0; c < sizeof(shapes) / sizeof(shapes[0]); c++) {
			struct amxrt_hparams hp = { 0 };
			int d = shapes[c][0], nr = shapes[c][1], half = nr / 2;
			int64_t m = 5, nh = 3, i, h, j, bad = 0;
			float *cs = malloc((size_t)(m * nr) * sizeof(float));
			float *x = test_matrix(m, nh * d, 2);
			float *x0 =
				malloc((size_t)(m * nh * d) * sizeof(float));

			ASSERT_NE(NULL, cs);
			ASSERT_NE(NULL, x);
			ASSERT_NE(NULL, x0);
			hp.head_dim = d;
			hp.n_rot = nr;
			hp.rope_base = 10000.0f;
			hp.rope_neox = neox;
			memcpy(x0, x, (size_t)(m * nh * d) * sizeof(float));
			amxrt_rope_angles(&hp, cs, m, 1000);
			amxrt_rope(&hp, cs, x, m, (int)nh);
			for (i = 0; i < m; i++)
				for (h = 0; h < nh; h++) {
					const float *in = x0 + (i * nh + h) * d;
					const float *out = x + (i * nh + h) * d;
					const float *co = cs + i * nr;

					for (j = 0; j < half; j++) {
						int a = neox ? j : 2 * j;
						int b = neox ? j + half :
							       2 * j + 1;
						double u = in[a], v = in[b];
						double ct = co[j],
						       st = co[half + j];
						double tol = ldexp(
							fabs(u) + fabs(v), -21);

						bad += fabs(out[a] -
							    (u * ct - v * st)) >
						       tol;
						bad += fabs(out[b] -
							    (u * st + v * ct)) >
						       tol;
					}
					for (j = nr; j < d; j++)
						bad += out[j] != in[j];
				}
			EXPECT_EQ(0, bad)
			TH_LOG("%s, %s order, head %d, %d rotated: %lld "
			       "values off",
			       amxrt_isa_name(isa),
			       neox ? "NeoX" : "interleaved", d, nr,
			       (long long)bad);
			free(cs);
			free(x);
			free(x0);
		}
}

/*
 * Built without FMA contraction, the AVX-512 rows round as the portable
 * loop does: both paths give the same bits.
 */
TEST(rope_paths_agree)
{
	struct amxrt_hparams hp = { .head_dim = 128,
				    .n_rot = 128,
				    .rope_base = 1e6f };
	int64_t m = 7, nh = 4, n = m * nh * 128, i, bad;
	float *cs = malloc((size_t)(m * 128) * sizeof(float));
	float *a = test_matrix(1, n, 3), *b = malloc((size_t)n * sizeof(float));
	char why[256];

	if (amxrt_isa_usable(AMXRT_ISA_AVX512VNNI, why, sizeof(why)))
		SKIP(return, "avx512vnni cannot run here: %s", why);
	ASSERT_NE(NULL, cs);
	ASSERT_NE(NULL, a);
	ASSERT_NE(NULL, b);
	for (hp.rope_neox = 0; hp.rope_neox < 2; hp.rope_neox++) {
		memcpy(b, a, (size_t)n * sizeof(float));
		amxrt_rope_angles(&hp, cs, m, 37);
		ASSERT_EQ(0, amxrt_isa_set(AMXRT_ISA_GENERIC));
		amxrt_rope(&hp, cs, a, m, (int)nh);
		ASSERT_EQ(0, amxrt_isa_set(AMXRT_ISA_AVX512VNNI));
		amxrt_rope(&hp, cs, b, m, (int)nh);
		for (i = 0, bad = 0; i < n; i++)
			bad += memcmp(&a[i], &b[i], sizeof(float)) != 0;
		EXPECT_EQ(0, bad)
		TH_LOG("%s order: %lld of %lld values differ in bits",
		       hp.rope_neox ? "NeoX" : "interleaved", (long long)bad,
		       (long long)n);
	}
	free(cs);
	free(a);
	free(b);
}

TEST(rope_generic)
{
	run_rope(_metadata, AMXRT_ISA_GENERIC);
}

TEST(rope_avx512)
{
	run_rope(_metadata, AMXRT_ISA_AVX512VNNI);
}

TEST_HARNESS_MAIN
