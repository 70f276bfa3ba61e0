// SPDX-License-Identifier: MIT
/*
 * Description: the AVX-512 and AVX2 paths, forced through the public API
 * (amxrt_weight_pack(..., AMXRT_ISA_AVX512VNNI / AMXRT_ISA_AVX2)), for every
 * weight type x M in {1, 2, 5, 16, 17, 64} on shapes with tails (N = 1, 15,
 * 17, 33, 100; K = 32, 64, 96, and K = 1, 7, 33, 100 for float types) and on
 * real-model shapes, against amxrt_matmul_ref() on fresh random inputs; the
 * SIMD activation stagers give the bytes of amxrt_act_quantize_row(); only
 * the M x N window of Y is written; no NaN or Inf, ever. A path this
 * machine cannot run is skipped.
 *
 * Tolerances, per output y = sum_k w_k x_k, computed alongside the
 * references from the same w and x. Both are worst-case bounds, not fudge
 * factors (u = 2^-24, the float unit roundoff):
 *
 *  1. Against amxrt_matmul_ref() (f32 activations, double sums):
 *     integer weights: the kernels see x quantized per block b of 32 as
 *       da * q, da = amax_g / 127 (amax_g: largest |x| of the group of
 *       AMXRT_ACT_GROUP blocks holding b), with |x - da q| <= da / 2 =
 *       amax_g / 254 (round to nearest; the float rounding of x * id adds
 *       < 300 u relative, covered by 1.001), so
 *       |err| <= 1.001 * sum_b (amax_g / 254) * sum_{k in b} A_k
 *       where A_k = |w_k| (Q4_1: |d q_k| + |m|, the two terms the kernel
 *       scales separately), plus the float error of bound 2;
 *     bf16 weights on a vdpbf16ps kernel: x rounded to bf16, |x - bf(x)|
 *       <= 2^-8 |x| (8 significant bits), so |err| <= 2^-8 sum |w_k x_k|
 *       plus bound 2;
 *     f32, f16, bf16 widened: bound 2 alone.
 *  2. Against a reference fed the very activations the kernels use (for
 *     integer weights quantized by amxrt_act_quantize_row(), which the
 *     stagers match byte for byte, for bf16 with vdpbf16ps rounded to bf16,
 *     else as given) and summed in double: only float rounding differs.
 *     Integer weights: the int32 block dots are exact (|dot| < 2^21); per
 *     block the product with dw and its accumulation round, and the
 *     product with da and its accumulation once per group or per block
 *     (Q4_1: two more), so |err| <= (nb + 8) * 2^-22 *
 *     sum_b da_b sum_{k in b} A_k |q_k|. One unit wrong in one block's dot
 *     already breaks it. Float weights: a sequential float sum of K
 *     products rounds at most K + 2 times, so |err| <= (K + 8) * 2^-23 *
 *     sum |w_k x_k|.
 * Each bound gets 2^-24 |y| for the reference's own rounding to float.
 */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "kselftest_harness.h"
#include "helpers.h"

#include <amxrt/amxrt.h>

/* amxrt_act_quantize_row() and the stagers (amxrt_*_pick()->stage_q8) */
#include "../libamxrt/kernels/kernels.h"

#define SENTINEL -7777.0f

static const enum amxrt_type all_types[] = {
	AMXRT_TYPE_Q4_0, AMXRT_TYPE_Q4_1, AMXRT_TYPE_Q8_0,
	AMXRT_TYPE_BF16, AMXRT_TYPE_F16,  AMXRT_TYPE_F32,
};

static int is_int(enum amxrt_type t)
{
	return amxrt_type_block_values(t) > 1;
}

struct prob {
	enum amxrt_type type;
	int64_t n, k, m, ldx;
	uint8_t *rows;
	float *x; /* m x ldx */
	float *yref; /* amxrt_matmul_ref, m x n */
	double *loose; /* bound 1 without the float part */
	double *ya, *ta; /* same-activation reference and bound 2 */
	double *yb, *tb; /* bf16: bf16-rounded activations */
	double *sabs; /* sum |w x|, for bf16 rounding */
};

static int usable(int isa, char *why, size_t len)
{
	return !amxrt_isa_usable(isa, why, len);
}

/* |d q| + |m| of Q4_1 element l of a row: the two terms the kernel scales */
static double q4_1_mag(const uint8_t *row, int64_t l)
{
	const uint8_t *b = row + l / 32 * 20;
	int j = (int)(l % 32);
	uint16_t d16, m16;
	int q;

	memcpy(&d16, b, 2);
	memcpy(&m16, b + 2, 2);
	q = (j < 16 ? b[4 + j] : b[4 + j - 16] >> 4) & 15;
	return fabs((double)amxrt_fp16_to_fp32(d16) * q) +
	       fabs((double)amxrt_fp16_to_fp32(m16));
}

static void free_prob(struct prob *p)
{
	free(p->rows);
	free(p->x);
	free(p->yref);
	free(p->loose);
	free(p->ya);
	free(p->ta);
	free(p->yb);
	free(p->tb);
	free(p->sabs);
	memset(p, 0, sizeof(*p));
}

static int make_prob(struct prob *p, enum amxrt_type type, int64_t n, int64_t k,
		     int64_t m, int64_t ldx)
{
	int64_t rb = amxrt_row_bytes(type, k), kp = (k + 31) / 32 * 32;
	int64_t nb = kp / 32, i, j, l, b;
	int group = amxrt_act_group(amxrt_q8_kind(type));
	size_t mn = (size_t)(m * n);
	double *wd, *wa, *asum, *amax;
	float *tmp, *dq, *xb;
	int8_t *q;
	int32_t *sq;
	int err = 0;

	memset(p, 0, sizeof(*p));
	p->type = type;
	p->n = n;
	p->k = k;
	p->m = m;
	p->ldx = ldx;
	p->rows = malloc((size_t)(rb * n));
	p->x = malloc((size_t)(m * ldx) * 4);
	p->yref = malloc(mn * 4);
	p->loose = malloc(mn * 8);
	p->ya = malloc(mn * 8);
	p->ta = malloc(mn * 8);
	p->yb = malloc(mn * 8);
	p->tb = malloc(mn * 8);
	p->sabs = malloc(mn * 8);
	tmp = malloc((size_t)kp * 4);
	wd = calloc((size_t)kp, 8);
	wa = calloc((size_t)kp, 8);
	asum = malloc((size_t)nb * 8);
	amax = malloc((size_t)(m * nb) * 8);
	q = calloc((size_t)(m * kp), 1);
	dq = malloc((size_t)(m * nb) * 4);
	sq = malloc((size_t)(m * nb) * 4);
	xb = calloc((size_t)(m * kp), 4);
	if (!p->rows || !p->x || !p->yref || !p->loose || !p->ya || !p->ta ||
	    !p->yb || !p->tb || !p->sabs || !tmp || !wd || !wa || !asum ||
	    !amax || !q || !dq || !sq || !xb) {
		err = -ENOMEM;
		goto out;
	}

	/* activations with outliers, as real models have; padding is NaN */
	for (i = 0; i < m; i++) {
		for (l = 0; l < ldx; l++)
			p->x[i * ldx + l] = l < k ? test_normal() : NAN;
		for (l = (int64_t)(test_rand() % 97); l < k; l += 97)
			p->x[i * ldx + l] *= 8;
	}
	for (j = 0; j < n; j++) {
		for (l = 0; l < k; l++)
			tmp[l] = test_normal() * 0.05f;
		amxrt_quantize_row(type, tmp, p->rows + j * rb, k);
	}
	err = amxrt_matmul_ref(type, p->rows, n, k, p->x, ldx, p->yref, n, m);
	if (err)
		goto out;
	/* per row of X: its quantization as staged, bf16 copy, block maxima */
	for (i = 0; i < m; i++) {
		const float *xr = p->x + i * ldx;

		amxrt_act_quantize_row(xr, k, kp, group, q + i * kp,
				       dq + i * nb, sq + i * nb);
		for (l = 0; l < k; l++)
			xb[i * kp + l] =
				amxrt_bf16_to_fp32(amxrt_fp32_to_bf16(xr[l]));
		for (b = 0; b < nb; b++)
			amax[i * nb + b] = test_group_amax(xr, k, b, group);
	}

	for (j = 0; j < n; j++) {
		const uint8_t *row = p->rows + j * rb;

		/* the row decoded once: w (exact), A_k, per-block sum of A */
		amxrt_dequantize_row(type, row, tmp, k);
		for (l = 0; l < k; l++) {
			wd[l] = tmp[l];
			wa[l] = type == AMXRT_TYPE_Q4_1 ? q4_1_mag(row, l) :
							  fabs(wd[l]);
		}
		for (b = 0; b < nb; b++) {
			asum[b] = 0;
			for (l = b * 32; l < b * 32 + 32 && l < k; l++)
				asum[b] += wa[l];
		}
		for (i = 0; i < m; i++) {
			const float *xr = p->x + i * ldx;
			const float *xbr = xb + i * kp;
			const int8_t *qr = q + i * kp;
			double ya = 0, yb = 0, sabs = 0, sabsb = 0, qerr = 0;
			double mag = 0;
			int64_t o = i * n + j;

			for (l = 0; l < k; l++) {
				double w = wd[l];

				sabs += fabs(w * xr[l]);
				sabsb += fabs(w * xbr[l]);
				yb += w * xbr[l];
			}
			if (is_int(type)) {
				for (b = 0; b < nb; b++) {
					double term = 0, tmag = 0;

					for (l = b * 32; l < b * 32 + 32; l++) {
						term += wd[l] * qr[l];
						tmag += wa[l] * abs(qr[l]);
					}
					ya += term * dq[i * nb + b];
					mag += tmag * dq[i * nb + b];
					qerr += amax[i * nb + b] / 254 *
						asum[b];
				}
				p->ta[o] = (double)(nb + 8) * 0x1p-22 * mag;
				p->loose[o] = 1.001 * qerr;
			} else {
				for (l = 0; l < k; l++)
					ya += wd[l] * xr[l];
				p->ta[o] = (double)(k + 8) * 0x1p-23 * sabs;
				p->loose[o] = 0;
			}
			p->ya[o] = ya;
			p->yb[o] = yb;
			p->sabs[o] = sabs;
			p->tb[o] = (double)(k + 8) * 0x1p-23 * sabsb;
		}
	}
out:
	free(tmp);
	free(wd);
	free(wa);
	free(asum);
	free(amax);
	free(q);
	free(dq);
	free(sq);
	free(xb);
	if (err)
		free_prob(p);
	return err;
}

/*
 * Run p on isa with threads (0: default); returns the number of bad
 * outputs (logged) or -1 if a call failed.
 */
static int64_t run_prob(struct __test_metadata *_metadata, const struct prob *p,
			int isa, int threads)
{
	int64_t ldy = p->n + 5, rows = p->m + 1, i, j, bad = 0;
	float *y = malloc((size_t)(rows * ldy) * 4);
	struct amxrt_weight *w = NULL;
	const char *kname;
	int bf16_acts;

	if (!y)
		return -1;
	if (amxrt_set_threads(threads) ||
	    amxrt_weight_pack(&w, p->type, p->n, p->k, p->rows, isa)) {
		TH_LOG("setup: %s", amxrt_errmsg());
		free(y);
		return -1;
	}
	kname = amxrt_matmul_kernel_name(w, p->m);
	bf16_acts = p->type == AMXRT_TYPE_BF16 && strstr(kname, "vdpbf16ps");
	for (i = 0; i < rows * ldy; i++)
		y[i] = SENTINEL;
	if (amxrt_matmul(w, p->x, p->ldx, y, ldy, p->m)) {
		TH_LOG("matmul: %s", amxrt_errmsg());
		amxrt_weight_free(w);
		free(y);
		return -1;
	}
	for (i = 0; i < rows; i++) {
		for (j = 0; j < ldy; j++) {
			float v = y[i * ldy + j];
			int64_t o = i * p->n + j;
			double e1, e2, b1, b2, yr, yt;
			const char *why = NULL;

			if (i >= p->m || j >= p->n) {
				if (v != SENTINEL || isnan(v))
					why = "written outside the M x N window";
			} else {
				yr = p->yref[o];
				yt = bf16_acts ? p->yb[o] : p->ya[o];
				b2 = (bf16_acts ? p->tb[o] : p->ta[o]) +
				     0x1p-24 * fabs(yt) + 1e-30;
				b1 = p->loose[o] + b2 + 0x1p-24 * fabs(yr) +
				     (bf16_acts ? 0x1p-8 * p->sabs[o] : 0);
				e1 = fabs((double)v - yr);
				e2 = fabs((double)v - yt);
				if (!isfinite(v))
					why = "not finite";
				else if (e1 > b1)
					why = "off the f32 reference";
				else if (e2 > b2)
					why = "off the same-activation reference";
				if (why && !bad)
					TH_LOG("%s %s n=%lld k=%lld m=%lld [%lld][%lld]: %.9g, ref %.9g (err %.3g, bound %.3g), same-act ref %.9g (err %.3g, bound %.3g)",
					       amxrt_isa_name(isa),
					       amxrt_type_name(p->type),
					       (long long)p->n, (long long)p->k,
					       (long long)p->m, (long long)i,
					       (long long)j, v, yr, e1, b1, yt,
					       e2, b2);
			}
			if (why) {
				if (!bad)
					TH_LOG("first bad output: %s (kernel %s, %d threads)",
					       why, kname, amxrt_threads());
				bad++;
			}
		}
	}
	amxrt_weight_free(w);
	free(y);
	return bad;
}

FIXTURE(simd){};
FIXTURE_VARIANT(simd)
{
	int isa;
};
FIXTURE_VARIANT_ADD(simd, avx512vnni){
	.isa = AMXRT_ISA_AVX512VNNI,
};
FIXTURE_VARIANT_ADD(simd, avx2){
	.isa = AMXRT_ISA_AVX2,
};
FIXTURE_SETUP(simd)
{
}
FIXTURE_TEARDOWN(simd)
{
	amxrt_set_threads(0);
}

/* A fixture only to give the long sweep its own timeout. */
FIXTURE(simd_both){};
FIXTURE_SETUP(simd_both)
{
}
FIXTURE_TEARDOWN(simd_both)
{
}

static const int64_t grid_m[] = { 1, 2, 5, 16, 17, 64 };

/* Every type x N with tails x K x M; 1 and 2 threads in turn. */
TEST_F_TIMEOUT(simd, tails, 600)
{
	static const int64_t ns[] = { 1, 15, 17, 33, 100 };
	static const int64_t ks[] = { 32, 64, 96, 1, 7, 33, 100 };
	int64_t bad = 0, runs = 0;
	size_t t, a, b, c;
	char why[256];

	if (!usable(variant->isa, why, sizeof(why)))
		SKIP(return, "%s", why);
	for (t = 0; t < sizeof(all_types) / sizeof(all_types[0]); t++) {
		for (b = 0; b < sizeof(ks) / sizeof(ks[0]); b++) {
			if (is_int(all_types[t]) && ks[b] % 32)
				continue;
			for (a = 0; a < sizeof(ns) / sizeof(ns[0]); a++) {
				for (c = 0;
				     c < sizeof(grid_m) / sizeof(grid_m[0]);
				     c++) {
					struct prob p;
					int64_t r;

					ASSERT_EQ(
						0,
						make_prob(&p, all_types[t],
							  ns[a], ks[b],
							  grid_m[c],
							  ks[b] + (c & 1) * 3));
					r = run_prob(_metadata, &p,
						     variant->isa,
						     1 + (int)(runs % 2));
					ASSERT_LE(0, r);
					bad += r;
					runs++;
					free_prob(&p);
				}
			}
		}
	}
	TH_LOG("%lld cases, %lld bad outputs", (long long)runs, (long long)bad);
	EXPECT_EQ(0, bad);
}

/*
 * Llama/TinyLlama/Qwen matrices, decode (M = 1) and a small batch, on both
 * SIMD paths (each reference serves both).
 */
TEST_F_TIMEOUT(simd_both, real_model_shapes, 900)
{
	static const int64_t shapes[][2] = {
		{ 2048, 2048 },
		{ 5632, 2048 },
		{ 151936, 64 },
	};
	static const int64_t ms[] = { 1, 16 };
	static const int isas[] = { AMXRT_ISA_AVX512VNNI, AMXRT_ISA_AVX2 };
	int64_t bad = 0, runs = 0;
	size_t t, s, c, v;

	for (v = 0; v < 2; v++)
		if (usable(isas[v], NULL, 0))
			break;
	if (v == 2)
		SKIP(return, "neither avx512vnni nor avx2 can run here");
	for (t = 0; t < sizeof(all_types) / sizeof(all_types[0]); t++) {
		for (s = 0; s < sizeof(shapes) / sizeof(shapes[0]); s++) {
			for (c = 0; c < 2; c++) {
				struct prob p;

				ASSERT_EQ(0,
					  make_prob(&p, all_types[t],
						    shapes[s][0], shapes[s][1],
						    ms[c], shapes[s][1]));
				for (v = 0; v < 2; v++) {
					int64_t r;

					if (!usable(isas[v], NULL, 0))
						continue;
					r = run_prob(_metadata, &p, isas[v], 0);
					ASSERT_LE(0, r);
					bad += r;
					runs++;
				}
				free_prob(&p);
			}
		}
	}
	TH_LOG("%lld runs, %lld bad outputs", (long long)runs, (long long)bad);
	EXPECT_EQ(0, bad);
}

/* gemv for M = 1, gemm above; bf16 says which instructions it uses. */
TEST_F(simd, kernel_names)
{
	uint8_t rows[16 * 64 * 4] = { 0 };
	struct amxrt_cpu_info ci;
	struct amxrt_weight *w;
	size_t t;
	char why[256];

	if (!usable(variant->isa, why, sizeof(why)))
		SKIP(return, "%s", why);
	amxrt_cpu_detect(&ci);
	for (t = 0; t < sizeof(all_types) / sizeof(all_types[0]); t++) {
		ASSERT_EQ(0, amxrt_weight_pack(&w, all_types[t], 16, 64, rows,
					       variant->isa));
		EXPECT_NE(NULL, strstr(amxrt_matmul_kernel_name(w, 1), "gemv"));
		EXPECT_NE(NULL, strstr(amxrt_matmul_kernel_name(w, 2), "gemm"));
		EXPECT_NE(NULL,
			  strstr(amxrt_matmul_kernel_name(w, 512), "gemm"));
		EXPECT_EQ(0, strncmp(amxrt_matmul_kernel_name(w, 1),
				     variant->isa == AMXRT_ISA_AVX2 ? "avx2" :
								      "avx512",
				     variant->isa == AMXRT_ISA_AVX2 ? 4 : 6));
		if (all_types[t] == AMXRT_TYPE_BF16 &&
		    variant->isa == AMXRT_ISA_AVX512VNNI) {
			const char *want = ci.features & AMXRT_CPU_AVX512BF16 ?
						   "vdpbf16ps" :
						   "no AVX512_BF16";

			EXPECT_NE(NULL,
				  strstr(amxrt_matmul_kernel_name(w, 1), want));
		}
		amxrt_weight_free(w);
	}
}

/*
 * The SIMD stagers give exactly the bytes of amxrt_act_quantize_row():
 * random rows, ties (x * id landing on n + 0.5, and 0.49999997, where
 * trunc(x + 0.5) would be wrong), tiny and huge values, NaN and Inf,
 * partial last blocks, rows of several 16-block groups.
 */
TEST_F(simd, stage_q8_bytes)
{
	const struct amxrt_kernel *kern;
	amxrt_stage_q8_fn stage;
	int64_t it, bad = 0;
	char why[256];

	if (!usable(variant->isa, why, sizeof(why)))
		SKIP(return, "%s", why);
	kern = variant->isa == AMXRT_ISA_AVX2 ?
		       amxrt_avx2_pick(AMXRT_TYPE_Q8_0, 1) :
		       amxrt_avx512_pick(AMXRT_TYPE_Q8_0, 1);
	ASSERT_NE(NULL, kern);
	stage = kern->stage_q8;
	ASSERT_NE(NULL, stage);
	for (it = 0; it < 40000; it++) {
		/*
		 * a quarter of the rows up to 35 blocks: the AVX-512 stager
		 * takes 16 at a time
		 */
		int64_t k = 1 + (int64_t)(test_rand() % (it % 4 ? 200 : 1100));
		int64_t kp = (k + 31) / 32 * 32, j;
		float x[1120], d1[35], d2[35];
		int8_t q1[1120], q2[1120];
		int32_t s1[35], s2[35];
		int mode = (int)(test_rand() % 6);
		/* both Q8 kinds: a scale per block, per AMXRT_ACT_GROUP */
		int group = (it >> 2) & 1 ? 1 : AMXRT_ACT_GROUP;

		for (j = 0; j < k; j++) {
			float v = test_normal();

			switch (mode) {
			case 1:
				v *= 1e-40f; /* subnormal scale: id is Inf */
				break;
			case 2:
				v *= 1e30f;
				break;
			case 3: /* amax 127 makes id 1: halves are ties */
				v = j == 0 ? 127.0f :
				    j == 1 ? 0.49999997f :
				    j == 2 ? -0.49999997f :
					     (float)((int)(test_rand() % 509) -
						     254) *
						     0.5f;
				break;
			case 4:
				if (test_rand() % 13 == 0)
					v = test_rand() & 1 ? NAN :
					    test_rand() & 1 ? INFINITY :
							      -INFINITY;
				break;
			case 5:
				v = (float)((int)(test_rand() % 2001) - 1000) /
				    8;
				break;
			}
			x[j] = v;
		}
		memset(q1, 0x55, sizeof(q1));
		memset(q2, 0x55, sizeof(q2));
		amxrt_act_quantize_row(x, k, kp, group, q1, d1, s1);
		stage(x, k, kp, group, q2, d2, s2);
		if (memcmp(q1, q2, (size_t)kp) ||
		    memcmp(d1, d2, (size_t)(kp / 32) * 4) ||
		    memcmp(s1, s2, (size_t)(kp / 32) * 4)) {
			if (!bad)
				TH_LOG("stager differs: mode %d, k %lld, group %d",
				       mode, (long long)k, group);
			bad++;
		}
	}
	EXPECT_EQ(0, bad);
}

/*
 * The Q4 gemvs' two prefetch forms (into L1, or into L2 where the CPU is
 * AMD family 19h: avx512.c gemv_pf_l2()) differ in nothing but where they
 * ask for lines: the same bits for the same inputs, on shapes of 8 + 4 + 1
 * panels (every tile width) with K of 3 blocks (the prefetch runs past a
 * tile's end at once) and 64 (it wraps to the next tile late), and the
 * kernel name says which runs. The tests above check the values of the one
 * this CPU picks.
 */
TEST(gemv_prefetch_forms)
{
	static const enum amxrt_type types[] = { AMXRT_TYPE_Q4_0,
						 AMXRT_TYPE_Q4_1 };
	static const int64_t ks[] = { 96, 2048 };
	const int64_t n = 13 * 16;
	struct amxrt_cpu_info ci;
	char why[256];
	size_t t, c;
	int mode;

	if (amxrt_isa_usable(AMXRT_ISA_AVX512VNNI, why, sizeof(why)))
		SKIP(return, "avx512vnni cannot run here: %s", why);
	amxrt_cpu_detect(&ci);
	for (t = 0; t < 2; t++)
		for (c = 0; c < 2; c++) {
			int64_t k = ks[c], rb = amxrt_row_bytes(types[t], k), i;
			uint8_t *rows = malloc((size_t)(rb * n));
			float *w = test_matrix(n, k, 1),
			      *x = test_matrix(1, k, 1);
			float *y[2] = { calloc(n, sizeof(float)),
					calloc(n, sizeof(float)) };
			struct amxrt_weight *wt;
			int l2 = !strcmp(ci.vendor, "AuthenticAMD") &&
				 ci.family == 0x19;

			ASSERT_NE(NULL, rows);
			for (i = 0; i < n; i++)
				ASSERT_EQ(0, amxrt_quantize_row(
						     types[t], w + i * k,
						     rows + i * rb, k));
			ASSERT_EQ(0,
				  amxrt_weight_pack(&wt, types[t], n, k, rows,
						    AMXRT_ISA_AVX512VNNI));
			EXPECT_NE(NULL, strstr(amxrt_matmul_kernel_name(wt, 1),
					       l2 ? "prefetched to L2" :
						    "prefetched to L1"));
			for (mode = 0; mode < 2; mode++) {
				amxrt_avx512_gemv_pf_force(mode);
				EXPECT_NE(
					NULL,
					strstr(amxrt_matmul_kernel_name(wt, 1),
					       mode ? "prefetched to L2" :
						      "prefetched to L1"));
				ASSERT_EQ(0, amxrt_matmul(wt, x, k, y[mode], n,
							  1));
			}
			amxrt_avx512_gemv_pf_force(-1);
			EXPECT_EQ(0, memcmp(y[0], y[1], sizeof(float) * n))
			TH_LOG("%s, K = %lld: the two forms differ",
			       amxrt_type_name(types[t]), (long long)k);
			amxrt_weight_free(wt);
			free(rows);
			free(w);
			free(x);
			free(y[0]);
			free(y[1]);
		}
}

TEST_HARNESS_MAIN
