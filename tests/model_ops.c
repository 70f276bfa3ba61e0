// SPDX-License-Identifier: MIT
/*
 * Description: the forward pass's element-wise ops (libamxrt/model/ops.c)
 * on every path, against plain double references on fresh random rows of
 * odd lengths (tails of every size below a vector): RMSNorm, on the
 * portable path and the AVX-512 one (norm_avx512.c), within 4 float ulps
 * of the reference (below), and both paths within 2 ulps of each other;
 * SwiGLU within 1e-6 relative (the vector exp is good to 2e-7).
 */
#include <float.h>
#include <math.h>

#include "kselftest_harness.h"
#include "helpers.h"

#include <amxrt/amxrt.h>

#include "../libamxrt/model/model_int.h"

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

static int64_t ulps_off(float got, double want)
{
	double ulp = nextafterf((float)fabs(want), INFINITY) - fabs(want);

	if (ulp < FLT_MIN)
		ulp = FLT_MIN;
	return (int64_t)ceil(fabs(got - want) / ulp);
}

static void run_norm(struct __test_metadata *_metadata, enum amxrt_isa isa)
{
	char why[256];
	size_t c;

	if (amxrt_isa_usable(isa, why, sizeof(why)))
		SKIP(return, "path %s cannot run here: %s", amxrt_isa_name(isa),
			   why);
	ASSERT_EQ(0, amxrt_isa_set(isa));
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
	char why[256];
	size_t c;

	if (amxrt_isa_usable(isa, why, sizeof(why)))
		SKIP(return, "path %s cannot run here: %s", amxrt_isa_name(isa),
			   why);
	ASSERT_EQ(0, amxrt_isa_set(isa));
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

TEST_HARNESS_MAIN
