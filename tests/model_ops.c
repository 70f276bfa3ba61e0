// SPDX-License-Identifier: MIT
/*
 * Description: the forward pass's element-wise ops (libamxrt/model/ops.c)
 * on every path, against plain double references on fresh random rows of
 * odd lengths (tails of every size below a vector): RMSNorm, on the
 * portable path and the AVX-512 one (norm_avx512.c), within 4 float ulps
 * of the reference (below), and both paths within 2 ulps of each other;
 * SwiGLU within 1e-6 relative (the vector exp is good to 2e-7); RoPE in
 * both element orders (rope_avx512.c), partial rotations and tails, and
 * the two paths' RoPE bit for bit; the AVX-512 attention block
 * (attention_avx512.c) in f32 and in bf16 products against attention in
 * double, within bounds derived from the roundings (att_bound()).
 */
#include <float.h>
#include <math.h>

#include "kselftest_harness.h"
#include "helpers.h"

#include <amxrt/amxrt.h>

#include "../libamxrt/cpu/cpu.h"
#include "../libamxrt/kernels/kernels.h"
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

/* x rounded to bf16 (to nearest, ties to even), as vcvtne2ps2bf16 does. */
static float bf16_round(float x)
{
	uint32_t u;

	memcpy(&u, &x, sizeof(u));
	u = (u + 0x7fff + ((u >> 16) & 1)) & 0xffff0000u;
	memcpy(&x, &u, sizeof(u));
	return x;
}

/*
 * One query vector against keys k0 .. n - 1 (kv_stride floats apart) in
 * double: o = sum_j w_j v_j, w_j = p_j / sum p, p_j = e^(scale q.k_j - max),
 * with q, k and v first rounded to bf16 if bf16 (the kernel's inputs).
 * Also, per output, sqrt(sum_j w_j^2 v_j^2) (sdv), and over the keys the
 * largest |v| and the largest scale * sum_i |q_i k_ji|.
 */
static void ref_attend(const float *q, const float *k, const float *v,
		       int64_t kvs, int k0, int n, int d, double scale,
		       int bf16, double *o, double *sdv, double *maxv,
		       double *maxs)
{
	double *s = malloc(sizeof(double) * (size_t)n), mx = -INFINITY;
	double l = 0;
	int j, i;

	if (!s)
		abort();
#define RD(x) (bf16 ? (double)bf16_round(x) : (double)(x))

	*maxv = 0;
	*maxs = 0;
	for (j = k0; j < n; j++) {
		double dot = 0, abs = 0;

		for (i = 0; i < d; i++) {
			dot += RD(q[i]) * RD(k[j * kvs + i]);
			abs += fabs(RD(q[i]) * RD(k[j * kvs + i]));
			*maxv = fmax(*maxv, fabs(RD(v[j * kvs + i])));
		}
		s[j] = dot * scale;
		*maxs = fmax(*maxs, abs * scale);
		mx = fmax(mx, s[j]);
	}
	for (j = k0; j < n; j++) {
		s[j] = exp(s[j] - mx);
		l += s[j];
	}
	for (i = 0; i < d; i++) {
		o[i] = 0;
		sdv[i] = 0;
		for (j = k0; j < n; j++) {
			double w = s[j] / l, x = RD(v[j * kvs + i]);

			o[i] += w * x;
			sdv[i] += w * w * x * x;
		}
		sdv[i] = sqrt(sdv[i]);
	}
#undef RD
	free(s);
}

/*
 * How far an output of the block may be from ref_attend() of the same
 * rounding. Scores: a sum of at most 128 products in float FMA chains,
 * rounding errors of 2^-24 of at most scale * sum |q k| each, random: about
 * sqrt(128) 2^-24 = 2^-20.5 of it; we allow ds = 2^-19 of it. A score
 * moved by at most ds changes each weight w_j by a factor within
 * e^(+-2 ds), so an output (a weighted mean of values) by at most
 * (e^(2 ds) - 1) * 2 max|v|. The vector exp (2e-7) and the output's float
 * sums: 1e-6 max|v|. bf16: the probabilities are rounded to bf16 before
 * they weight the values (each w_j times 1 + e_j, e_j uniform within
 * +-2^-9, independent, sd 2^-9 / sqrt(3)): an output error of sd
 * 2^-9 / sqrt(3) * sqrt(sum w_j^2 v_j^2); we allow 8 of those (1e-15 a
 * value for a normal error; this one is a sum of bounded terms, whose
 * tails are thinner). A key dropped or read twice moves an output by
 * about w_j |v_j - o|, 0.5% of max|v| with 200 keys, several bounds.
 */
static double att_bound(int bf16, double maxv, double maxs, double sdv)
{
	double ds = ldexp(maxs, -19);

	return maxv * (2 * expm1(2 * ds) + 1e-6) +
	       (bf16 ? 8 * ldexp(sdv, -9) / sqrt(3.0) : 0);
}

/* Errors of the block against ref_attend(), over a test's cases. */
struct att_stats {
	double se[2], sv, worst[2];
	int64_t count;
	int same; /* cases whose bf16 output equals the f32 one */
};

/*
 * One case of attention_block_avx512: query rows q (nr of them, nh heads
 * of d, 8 floats into their rows: not aligned), the keys and values of KV
 * head 1 of 2, row r seeing keys 0 .. n0 + r - 1, or with part set only
 * keys 32 .. 95 (the accumulator, max and sum left for a merge); keys and
 * values past the last key the block sees are NaN. Both forms against
 * ref_attend() of the same rounding. Returns the values out of bounds.
 */
static int att_case(struct __test_metadata *_metadata, void *scratch, int d,
		    int nh, int nr, int n0, int part, float qscale, int nbf,
		    struct att_stats *st)
{
	const int kvh = 1, maxk = 200 + 16;
	const int kend = part && n0 + nr - 1 > 96 ? 96 : n0 + nr - 1;
	int64_t qs = (int64_t)nh * d + 16, kvs = 2 * (int64_t)d, i;
	float *q = test_matrix(nr, qs, qscale);
	float *k = test_matrix(maxk, kvs, 1.5f), *v = test_matrix(maxk, kvs, 1);
	float *out[2], *pa[2];
	double o[128], ow[128], sdv[128], maxv, maxs;
	int r, h, j, bf, bad = 0;

	ASSERT_NE(NULL, q);
	ASSERT_NE(NULL, k);
	ASSERT_NE(NULL, v);
	for (i = (int64_t)kend * kvs; i < maxk * kvs; i++)
		k[i] = v[i] = NAN;
	out[1] = pa[1] = NULL;
	for (bf = 0; bf < nbf; bf++) {
		struct amxrt_att_block blk = {
			.q = q + 8,
			.q_stride = qs,
			.k = k + kvh * d,
			.v = v + kvh * d,
			.kv_stride = kvs,
			.out_stride = (int64_t)nh * d,
			.nrows = nr,
			.nh = nh,
			.n0 = n0,
			.d = d,
			.scale = 1.0f / sqrtf((float)d),
			.k0 = part ? 32 : 0,
			.k1 = part ? 96 : 0,
			.bf16 = bf,
		};

		out[bf] = calloc((size_t)nr * nh * d, sizeof(float));
		pa[bf] = calloc((size_t)nr * nh * (d + 2), sizeof(float));
		ASSERT_NE(NULL, out[bf]);
		ASSERT_NE(NULL, pa[bf]);
		blk.out = out[bf];
		blk.part = part ? pa[bf] : NULL;
		EXPECT_EQ(0, amxrt_att_block_avx512(&blk, scratch));
	}
	for (r = 0; r < nr; r++)
		for (h = 0; h < nh; h++) {
			int n = part && n0 + r > 96 ? 96 : n0 + r;
			int k0 = part ? 32 : 0;
			int64_t vi = (int64_t)r * nh + h;

			if (n <= k0)
				continue; /* no key: sum 0, nothing to check */
			for (bf = 0; bf < nbf; bf++) {
				const float *got = out[bf] + vi * d;
				const float *p = pa[bf] + vi * (d + 2);

				ref_attend(q + 8 + r * qs + h * d, k + kvh * d,
					   v + kvh * d, kvs, k0, n, d,
					   1.0 / sqrt((double)d), bf, o, sdv,
					   &maxv, &maxs);
				if (!bf)
					memcpy(ow, o, sizeof(o));
				for (j = 0; j < d; j++) {
					double g = part ? p[j] / p[d + 1] :
							  got[j];
					double err = fabs(g - o[j]);
					double tol = att_bound(bf, maxv, maxs,
							       sdv[j]);

					bad += !(err <= tol);
					st->worst[bf] =
						fmax(st->worst[bf], err / tol);
					/* against unrounded double */
					err = fabs(g - ow[j]);
					st->se[bf] += err * err;
					if (!bf)
						st->sv += ow[j] * ow[j];
				}
			}
			st->count += d;
		}
	/*
	 * the bf16 form really rounded: its outputs are not the f32 form's
	 * (an f32 result would also lie within its bounds)
	 */
	if (nbf == 2)
		st->same +=
			!memcmp(part ? pa[0] : out[0], part ? pa[1] : out[1],
				sizeof(float) * nr * nh * (part ? d + 2 : d));
	for (bf = 0; bf < nbf; bf++) {
		free(out[bf]);
		free(pa[bf]);
	}
	free(q);
	free(k);
	free(v);
	return bad;
}

/*
 * The AVX-512 attention block in both forms on fresh random queries, keys
 * and values (att_case()): heads of 64 and 128; 1, 3, 4 and 8 query heads
 * a KV head (groups of 4, heads left over, both); 1, 6 and 16 query rows;
 * the first row seeing 1, 17, 32, 45 and 200 keys (blocks of 32 keys cut
 * by the causal diagonal at every offset, odd key counts for the bf16
 * form's pairs of keys); a part of the keys; queries 4 times larger
 * (sharper softmax). The bf16 form is checked against the attention of the
 * bf16-rounded inputs; what rounding them costs is printed (the rms error
 * of both forms against unrounded double) and checked in the model's
 * logits by tests/model_forward.
 */
TEST(attention_block_avx512)
{
	static const int ds[] = { 64, 128 }, nhs[] = { 1, 3, 4, 8 };
	static const int rows[] = { 1, 6, 16 }, n0s[] = { 1, 17, 32, 45, 200 };
	struct att_stats st = { { 0, 0 }, 0, { 0, 0 }, 0, 0 };
	void *scratch = aligned_alloc(64, AMXRT_SCRATCH_BYTES);
	char why[256];
	size_t a, b, c, e;
	int part, big, bad, nbf;

	ASSERT_NE(NULL, scratch);
	if (amxrt_isa_usable(AMXRT_ISA_AVX512VNNI, why, sizeof(why)))
		SKIP(free(scratch);
		     return, "avx512vnni cannot run here: %s", why);
	/* without AVX512_BF16 the f32 form alone (the bf16 one never runs) */
	nbf = amxrt_cpu_cached()->features & AMXRT_CPU_AVX512BF16 ? 2 : 1;
	if (nbf == 1)
		printf("# this CPU has no AVX512_BF16 (CPUID.7.1:EAX[5]): the f32 form only\n");
	for (a = 0; a < 2; a++)
		for (b = 0; b < 4; b++)
			for (c = 0; c < 3; c++)
				for (e = 0; e < 5 * 4; e++) {
					part = (int)(e / 5) % 2;
					big = (int)(e / 10);
					if (part &&
					    n0s[e % 5] + rows[c] - 1 <= 32)
						continue; /* no key of the part */
					bad = att_case(_metadata, scratch,
						       ds[a], nhs[b], rows[c],
						       n0s[e % 5], part,
						       big ? 6.0f : 1.5f, nbf,
						       &st);
					EXPECT_EQ(0, bad)
					TH_LOG("head %d, %d heads, %d rows, n0 %d%s%s: %d values out of bounds",
					       ds[a], nhs[b], rows[c],
					       n0s[e % 5],
					       part ? ", keys 32..95" : "",
					       big ? ", large q" : "", bad);
				}
	printf("# relative rms error against double: f32 %.3g, bf16 %.3g "
	       "(%lld values); largest error / bound: f32 %.3g, bf16 %.3g\n",
	       sqrt(st.se[0] / st.sv), sqrt(st.se[1] / st.sv),
	       (long long)st.count, st.worst[0], st.worst[1]);
	fflush(stdout);
	EXPECT_EQ(0, st.same)
	TH_LOG("%d cases gave the f32 form's bits in bf16", st.same);
	free(scratch);
}

TEST_HARNESS_MAIN
