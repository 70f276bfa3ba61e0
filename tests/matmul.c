// SPDX-License-Identifier: MIT
/*
 * Description: amxrt_matmul() through the public API, on every path this
 * machine can run (the AMX kernels through the tile model) x every weight
 * type x M from 1 to 512+, against the double-precision reference, on
 * shapes from real models and odd ones with tails; results do not depend
 * on the thread count; bad arguments are refused.
 *
 * Tolerance, per output y = sum_k w_k x_k, computed alongside the
 * reference from the same w and x (a worst-case bound, not a fudge):
 *   integer weights: activations are quantized per block b of 32 to
 *     q * d, d = max_g |x| / 127 (g: the group of AMXRT_ACT_GROUP blocks
 *     holding b), with |x - q d| <= d / 2 = max_g |x| / 254, so
 *     |err| <= sum_b (max_g |x| / 254) * sum_{k in b} |w_k|
 *   bf16 weights on the SIMD paths: activations rounded to bf16 (8
 *     significant bits), |x - bf16(x)| <= 2^-8 |x|, so
 *     |err| <= 2^-8 sum |w_k x_k|
 *   all: float accumulation and scale products, at most (K + 32) *
 *     2^-24 * sum |w_k x_k| (one rounding per add of a sequential sum).
 * That bound is worst case and loose, so integer weights get a second,
 * tight check against a reference fed the very activations the kernels
 * use (quantized by the library's own stager, exactly): there the int32
 * block dots are exact and only the float scaling and the sum over the
 * nb blocks round, |err| <= (nb + 8) * 2^-22 * sum_b |term_b|. An error of
 * one unit in one block's dot already breaks that bound.
 * Outputs must also be finite: no NaN or Inf, ever.
 */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "kselftest_harness.h"
#include "helpers.h"

#include <amxrt/amxrt.h>

#include "../libamxrt/kernels/kernels.h"

static const enum amxrt_type weight_types[] = {
	AMXRT_TYPE_Q4_0, AMXRT_TYPE_Q8_0, AMXRT_TYPE_Q4_1,
	AMXRT_TYPE_BF16, AMXRT_TYPE_F16,  AMXRT_TYPE_F32,
};

struct problem {
	enum amxrt_type type;
	int64_t n, k, m;
	uint8_t *rows;
	float *x, *yref, *bound;
	double *yq, *bq; /* integer types: same-activation reference, bound */
};

/* Weight j, element l, decoded exactly (in double) from its block. */
static double exact_weight(enum amxrt_type type, const uint8_t *row, int64_t l)
{
	const uint8_t *b = row + l / 32 * amxrt_type_block_bytes(type);
	int j = (int)(l % 32);
	uint16_t d16, m16;

	memcpy(&d16, b, 2);
	memcpy(&m16, b + 2, 2);
	switch (type) {
	case AMXRT_TYPE_Q4_0:
		return (double)amxrt_fp16_to_fp32(d16) *
		       (((j < 16 ? b[2 + j] : b[2 + j - 16] >> 4) & 15) - 8);
	case AMXRT_TYPE_Q4_1:
		return (double)amxrt_fp16_to_fp32(d16) *
			       ((j < 16 ? b[4 + j] : b[4 + j - 16] >> 4) & 15) +
		       (double)amxrt_fp16_to_fp32(m16);
	default: /* Q8_0 */
		return (double)amxrt_fp16_to_fp32(d16) * (int8_t)b[2 + j];
	}
}

static int same_activation_reference(struct problem *p)
{
	int group = amxrt_act_group(amxrt_q8_kind(p->type));
	int64_t kp = (p->k + 31) / 32 * 32, nb = kp / 32, rb, i, j, b, l;
	int8_t *q = malloc((size_t)kp);
	float *d = malloc((size_t)nb * 4);
	int32_t *sum = malloc((size_t)nb * 4);

	rb = amxrt_row_bytes(p->type, p->k);
	p->yq = malloc((size_t)(p->m * p->n) * sizeof(double));
	p->bq = malloc((size_t)(p->m * p->n) * sizeof(double));
	if (!q || !d || !sum || !p->yq || !p->bq)
		return -ENOMEM;
	for (i = 0; i < p->m; i++) {
		amxrt_act_quantize_row(p->x + i * p->k, p->k, kp, group, q, d,
				       sum);
		for (j = 0; j < p->n; j++) {
			const uint8_t *row = p->rows + j * rb;
			double acc = 0, mag = 0;

			for (b = 0; b < nb; b++) {
				double term = 0, min_part = 0;

				for (l = b * 32; l < b * 32 + 32; l++)
					term += exact_weight(p->type, row, l) *
						q[l];
				term *= d[b];
				acc += term;
				/*
				 * Q4_1 is computed as d*da*dot + m*da*sum(q):
				 * two float terms that may cancel; each rounds.
				 */
				if (p->type == AMXRT_TYPE_Q4_1) {
					uint16_t m16;

					memcpy(&m16, row + b * 20 + 2, 2);
					min_part = (double)amxrt_fp16_to_fp32(
							   m16) *
						   d[b] * sum[b];
				}
				mag += fabs(term - min_part) + fabs(min_part);
			}
			p->yq[i * p->n + j] = acc;
			p->bq[i * p->n + j] =
				(double)(nb + 8) * 0x1p-22 * mag + 1e-30;
		}
	}
	free(q);
	free(d);
	free(sum);
	return 0;
}

static int make_problem(struct problem *p, enum amxrt_type type, int64_t n,
			int64_t k, int64_t m)
{
	int64_t rb = amxrt_row_bytes(type, k), i, j, l;
	float *w = malloc((size_t)k * 4), *wf = malloc((size_t)k * 4);

	p->type = type;
	p->n = n;
	p->k = k;
	p->m = m;
	p->yq = p->bq = NULL;
	p->rows = malloc((size_t)(rb * n));
	p->x = test_matrix(m, k, 1.0f);
	p->yref = malloc((size_t)(m * n) * 4);
	p->bound = malloc((size_t)(m * n) * 4);
	if (!w || !wf || !p->rows || !p->x || !p->yref || !p->bound)
		return -ENOMEM;
	/* outliers in activations, as real models have */
	for (i = 0; i < m * k; i += 97)
		p->x[i] *= 8;
	for (j = 0; j < n; j++) {
		for (l = 0; l < k; l++)
			w[l] = test_normal() * 0.05f;
		amxrt_quantize_row(type, w, p->rows + j * rb, k);
	}
	amxrt_matmul_ref(type, p->rows, n, k, p->x, k, p->yref, n, m);
	for (j = 0; j < n; j++) {
		amxrt_dequantize_row(type, p->rows + j * rb, wf, k);
		for (i = 0; i < m; i++) {
			const float *xr = p->x + i * k;
			double abs = 0, qerr = 0;
			int64_t b;

			for (b = 0; b < k; b += 32) {
				double amax = test_group_amax(
					       xr, k, b / 32,
					       amxrt_act_group(
						       amxrt_q8_kind(type))),
				       w1 = 0;

				for (l = b; l < b + 32 && l < k; l++) {
					w1 += fabs(wf[l]);
					abs += fabs((double)wf[l] * xr[l]);
				}
				qerr += amax / 254 * w1;
			}
			p->bound[i * n + j] =
				(float)((amxrt_type_block_values(type) > 1 ?
						 qerr :
					 type == AMXRT_TYPE_BF16 ?
						 abs * 0x1p-8 :
						 0) +
					abs * (double)(k + 32) * 0x1p-24 +
					1e-30);
		}
	}
	free(w);
	free(wf);
	if (amxrt_type_block_values(type) > 1)
		return same_activation_reference(p);
	return 0;
}

static void free_problem(struct problem *p)
{
	free(p->rows);
	free(p->x);
	free(p->yref);
	free(p->bound);
	free(p->yq);
	free(p->bq);
}

/* 0 if amxrt_matmul on isa agrees with the reference within the bound. */
static int run_problem(struct __test_metadata *_metadata, struct problem *p,
		       int isa)
{
	struct amxrt_weight *w;
	float *y = malloc((size_t)(p->m * p->n) * 4);
	int64_t i, bad = 0;
	double worst = 0;

	ASSERT_NE(NULL, y);
	ASSERT_EQ(0, amxrt_weight_pack(&w, p->type, p->n, p->k, p->rows, isa));
	for (i = 0; i < p->m * p->n; i++)
		y[i] = NAN;
	ASSERT_EQ(0, amxrt_matmul(w, p->x, p->k, y, p->n, p->m));
	for (i = 0; i < p->m * p->n; i++) {
		double err = fabs((double)y[i] - p->yref[i]);

		double errq = p->yq ? fabs((double)y[i] - p->yq[i]) : 0;

		if (!isfinite(y[i]) || err > p->bound[i] ||
		    (p->yq && errq > p->bq[i])) {
			if (!bad++)
				TH_LOG("%s %s n=%lld k=%lld m=%lld: y[%lld][%lld] = %.9g, ref %.9g (bound %.3g), same-activation ref %.9g (bound %.3g) (%s)",
				       amxrt_isa_name(isa),
				       amxrt_type_name(p->type),
				       (long long)p->n, (long long)p->k,
				       (long long)p->m, (long long)(i / p->n),
				       (long long)(i % p->n), y[i], p->yref[i],
				       p->bound[i], p->yq ? p->yq[i] : NAN,
				       p->yq ? p->bq[i] : NAN,
				       amxrt_matmul_kernel_name(w, p->m));
		}
		if (p->bound[i] > 0 && err / p->bound[i] > worst)
			worst = err / p->bound[i];
	}
	if (bad)
		TH_LOG("%lld of %lld outputs out of bounds", (long long)bad,
		       (long long)(p->m * p->n));
	amxrt_weight_free(w);
	free(y);
	return bad ? -1 : 0;
}

static void sweep(struct __test_metadata *_metadata, const int64_t (*shapes)[3],
		  size_t nshapes, int all_isas)
{
	size_t t, s;
	int isa, runs = 0;

	for (s = 0; s < nshapes; s++) {
		for (t = 0; t < sizeof(weight_types) / sizeof(weight_types[0]);
		     t++) {
			struct problem p;

			ASSERT_EQ(0, make_problem(&p, weight_types[t],
						  shapes[s][0], shapes[s][1],
						  shapes[s][2]));
			for (isa = 0; isa < AMXRT_ISA_COUNT; isa++) {
				if (amxrt_isa_usable(isa, NULL, 0))
					continue;
				/* the tile model is slow: small problems only */
				if (isa == AMXRT_ISA_AMX_SIM && !all_isas)
					continue;
				EXPECT_EQ(0, run_problem(_metadata, &p, isa));
				runs++;
			}
			free_problem(&p);
		}
	}
	ASSERT_GT(runs, 0);
}

TEST(odd_shapes_every_path)
{
	static const int64_t shapes[][3] = {
		/* n, k, m */
		{ 1, 32, 1 },
		{ 17, 64, 1 },
		{ 33, 96, 2 },
		{ 15, 32, 17 },
		{ 31, 160, 16 },
		{ 48, 256, 33 },
		{ 100, 128, 5 },
		{ 16, 512, 64 },
		/* Q4 activation groups: 4 + 3 and 4 + 2 blocks */
		{ 23, 224, 37 },
		{ 18, 192, 6 },
	};

	sweep(_metadata, shapes, sizeof(shapes) / sizeof(shapes[0]), 1);
}

/* A fixture only to give the long sweep its own timeout. */
FIXTURE(slow){};
FIXTURE_SETUP(slow)
{
}
FIXTURE_TEARDOWN(slow)
{
}

TEST_F_TIMEOUT(slow, real_model_shapes, 600)
{
	/* rows x K of Llama/Qwen matrices, decode and prompt batches */
	static const int64_t shapes[][3] = {
		{ 2048, 2048, 1 },  { 5632, 2048, 1 },	{ 2048, 5632, 1 },
		{ 4096, 4096, 1 },  { 14336, 128, 3 },	{ 151936, 64, 1 },
		{ 2048, 2048, 16 }, { 256, 2048, 520 },
	};

	sweep(_metadata, shapes, sizeof(shapes) / sizeof(shapes[0]), 0);
}

/*
 * p on isa with 1, 2 and 3 threads into y[1..3] (stride ldy, the gaps
 * past N must stay -7): the number of thread counts whose bits differ
 * from one thread's.
 */
static int same_bits_any_threads(struct __test_metadata *_metadata,
				 const struct problem *p, int isa, int64_t ldy,
				 float **y)
{
	struct amxrt_weight *w;
	int64_t i, j, past = 0;
	int th, differ = 0;

	if (amxrt_weight_pack(&w, p->type, p->n, p->k, p->rows, isa))
		return 1;
	for (th = 1; th <= 3; th++) {
		for (i = 0; i < p->m * ldy; i++)
			y[th][i] = -7.0f;
		if (amxrt_set_threads(th) ||
		    amxrt_matmul(w, p->x, p->k, y[th], ldy, p->m))
			differ++;
	}
	amxrt_set_threads(0);
	for (th = 2; th <= 3; th++) {
		for (i = 0; i < p->m; i++)
			if (memcmp(y[1] + i * ldy, y[th] + i * ldy,
				   (size_t)p->n * 4))
				break;
		if (i < p->m) {
			TH_LOG("%s %s %lld x %lld, M = %lld: row %lld with %d threads differs from 1 thread",
			       amxrt_isa_name(isa), amxrt_type_name(p->type),
			       (long long)p->n, (long long)p->k,
			       (long long)p->m, (long long)i, th);
			differ++;
		}
	}
	for (th = 1; th <= 3; th++)
		for (i = 0; i < p->m; i++)
			for (j = p->n; j < ldy; j++)
				past += y[th][i * ldy + j] != -7.0f;
	if (past) {
		TH_LOG("%s: %lld values of Y written past N",
		       amxrt_isa_name(isa), (long long)past);
		differ++;
	}
	amxrt_weight_free(w);
	return differ;
}

/*
 * Chunks of panels follow the thread count (matmul.c: about 8 a thread,
 * at most 8 panels; a small M = 1 weight one share a thread), so the
 * panels a kernel call gets, and which of them are an odd tail of its
 * chunk, change with it; an output's bits must not. M = 300 over 129
 * panels of K = 2048 (chunks of 8 panels with 1 and 2 threads, 5 with 3)
 * and M = 1 over 7 panels (one chunk of 4 and a tail of 3, or shares of
 * 3 panels), on every path but the slow tile model: against the
 * reference, then the same bits for 1, 2 and 3 threads, with a strided Y
 * whose gaps stay untouched. The AVX-512 float kernels once summed a
 * tail panel in another order than a pair of panels: F16 and BF16
 * differed with 3 threads.
 */
TEST_F_TIMEOUT(slow, every_type_any_thread_count, 600)
{
	static const enum amxrt_type types[] = {
		AMXRT_TYPE_Q4_0, AMXRT_TYPE_Q8_0, AMXRT_TYPE_BF16,
		AMXRT_TYPE_F16,	 AMXRT_TYPE_F32,
	};
	static const int64_t shapes[][3] = { { 2053, 2048, 300 },
					     { 100, 64, 1 } };
	float *y[4];
	size_t t, sh;
	int isa, th, differ = 0;

	for (sh = 0; sh < 2; sh++) {
		const int64_t n = shapes[sh][0], k = shapes[sh][1];
		const int64_t m = shapes[sh][2], ldy = n + 3;

		for (th = 1; th <= 3; th++) {
			y[th] = malloc((size_t)(m * ldy) * 4);
			ASSERT_NE(NULL, y[th]);
		}
		for (t = 0; t < sizeof(types) / sizeof(types[0]); t++) {
			struct problem p;

			/* the big shape's F32 adds nothing the others lack */
			if (!sh && types[t] == AMXRT_TYPE_F32)
				continue;
			ASSERT_EQ(0, make_problem(&p, types[t], n, k, m));
			for (isa = 0; isa < AMXRT_ISA_COUNT; isa++) {
				if (isa == AMXRT_ISA_AMX_SIM ||
				    amxrt_isa_usable(isa, NULL, 0))
					continue;
				EXPECT_EQ(0, run_problem(_metadata, &p, isa));
				differ += same_bits_any_threads(_metadata, &p,
								isa, ldy, y);
			}
			free_problem(&p);
		}
		for (th = 1; th <= 3; th++)
			free(y[th]);
	}
	EXPECT_EQ(0, differ);
}

TEST(float_k_tails)
{
	static const int64_t k_tails[] = { 1, 7, 33, 100, 172 };
	int64_t ms[] = { 1, 3, 16, 18 };
	size_t i, t, mi;
	int isa;

	for (t = 3; t < 6; t++) { /* BF16, F16, F32 */
		for (i = 0; i < sizeof(k_tails) / sizeof(k_tails[0]); i++) {
			for (mi = 0; mi < 4; mi++) {
				struct problem p;

				ASSERT_EQ(0,
					  make_problem(&p, weight_types[t], 19,
						       k_tails[i], ms[mi]));
				for (isa = 0; isa < AMXRT_ISA_COUNT; isa++)
					if (!amxrt_isa_usable(isa, NULL, 0))
						EXPECT_EQ(0,
							  run_problem(_metadata,
								      &p, isa));
				free_problem(&p);
			}
		}
	}
}

/*
 * Q8 activations: AMXRT_ACT_Q8 has a scale per block, AMXRT_ACT_Q8G one
 * per group of AMXRT_ACT_GROUP blocks (the Q4 gemm kernels apply it once
 * per group): d = the largest |x| of the block or group / 127, every value
 * within d / 2 of q * d (the float rounding of x / d adds a few units of
 * 2^-24 relative: the 0.5001), s the sum of the block's q, zeros past k.
 * Blocks of one row differ in magnitude by up to 10^6, so a scale kept
 * per block for Q8G, shared for Q8, or a group cut elsewhere, fails. And
 * every path's integer kernels take the kind amxrt_q8_kind() names.
 */
TEST(act_q8_scales)
{
	static const int64_t ks[] = { 1, 31, 32, 100, 128, 129, 160, 300, 2065 };
	static const enum amxrt_act_kind kinds[] = { AMXRT_ACT_Q8,
						     AMXRT_ACT_Q8G };
	const struct amxrt_kernel *(*const picks[])(enum amxrt_type,
						    int64_t) = {
		amxrt_generic_pick, amxrt_avx2_pick,	amxrt_avx512_pick,
		amxrt_amx_pick,	    amxrt_amx_sim_pick,
	};
	size_t t, c, pi, ti;

	for (c = 0; c < 2; c++) {
		int group = amxrt_act_group(kinds[c]);

		for (t = 0; t < sizeof(ks) / sizeof(ks[0]); t++) {
			int64_t k = ks[t], kp = (k + 31) / 32 * 32,
				nb = kp / 32, b, l, bad = 0;
			float *x = malloc((size_t)kp * 4),
			      *d = malloc((size_t)nb * 4);
			int8_t *q = malloc((size_t)kp);
			int32_t *s = malloc((size_t)nb * 4);

			ASSERT_TRUE(x && d && q && s);
			for (b = 0; b < nb; b++) {
				float scale = powf(
					10.0f, (float)(test_rand() % 7) - 3);

				for (l = b * 32; l < b * 32 + 32 && l < k; l++)
					x[l] = test_normal() * scale;
			}
			amxrt_act_quantize_row(x, k, kp, group, q, d, s);
			for (b = 0; b < nb; b++) {
				double want =
					test_group_amax(x, k, b, group) / 127;
				int32_t sum = 0;

				bad += fabs(d[b] - want) > 1e-6 * want;
				for (l = b * 32; l < b * 32 + 32; l++) {
					sum += q[l];
					if (l >= k)
						bad += q[l] != 0;
					else
						bad += fabs(x[l] -
							    (double)q[l] *
								    d[b]) >
						       0.5001 * d[b];
				}
				bad += sum != s[b];
			}
			if (bad)
				TH_LOG("group %d, k %lld: %lld wrong", group,
				       (long long)k, (long long)bad);
			EXPECT_EQ(0, bad);
			free(x);
			free(d);
			free(q);
			free(s);
		}
	}
	for (pi = 0; pi < sizeof(picks) / sizeof(picks[0]); pi++)
		for (ti = 0; ti < 3; ti++) {
			const struct amxrt_kernel *kern;
			int64_t m;

			for (m = 1; m <= 64; m += 63) {
				kern = picks[pi](weight_types[ti], m);
				ASSERT_NE(NULL, kern);
				EXPECT_EQ(amxrt_q8_kind(weight_types[ti]),
					  kern->act);
			}
		}
}

/* Every output is computed by one thread in a fixed order: bitwise equal. */
TEST(threads_do_not_change_results)
{
	struct problem p;
	struct amxrt_weight *w;
	float *y1, *y2;
	int isa = amxrt_isa();

	ASSERT_GE(isa, 0);
	ASSERT_EQ(0, make_problem(&p, AMXRT_TYPE_Q4_0, 1000, 256, 7));
	y1 = malloc(7 * 1000 * 4);
	y2 = malloc(7 * 1000 * 4);
	ASSERT_EQ(0, amxrt_weight_pack(&w, p.type, p.n, p.k, p.rows, isa));
	ASSERT_EQ(0, amxrt_set_threads(1));
	ASSERT_EQ(1, amxrt_threads());
	ASSERT_EQ(0, amxrt_matmul(w, p.x, p.k, y1, p.n, p.m));
	ASSERT_EQ(0, amxrt_set_threads(3));
	ASSERT_EQ(0, amxrt_matmul(w, p.x, p.k, y2, p.n, p.m));
	ASSERT_EQ(3, amxrt_threads());
	ASSERT_EQ(0, memcmp(y1, y2, 7 * 1000 * 4));
	ASSERT_EQ(-EINVAL, amxrt_set_threads(-1));
	ASSERT_EQ(0, amxrt_set_threads(0));
	amxrt_weight_free(w);
	free(y1);
	free(y2);
	free_problem(&p);
}

/* Strided X and Y: only the M x N window of Y is written. */
TEST(strides_and_window)
{
	struct problem p;
	struct amxrt_weight *w;
	const int64_t ldx = 80, ldy = 50;
	float *x, *y;
	int64_t i, j;

	ASSERT_EQ(0, make_problem(&p, AMXRT_TYPE_Q8_0, 37, 64, 5));
	x = calloc(5 * ldx, 4);
	y = malloc(6 * ldy * 4);
	for (i = 0; i < 5; i++)
		memcpy(x + i * ldx, p.x + i * 64, 64 * 4);
	for (i = 0; i < 6 * ldy; i++)
		y[i] = -7.0f;
	ASSERT_EQ(0, amxrt_weight_pack(&w, p.type, p.n, p.k, p.rows, -1));
	ASSERT_EQ(0, amxrt_matmul(w, x, ldx, y, ldy, 5));
	for (i = 0; i < 6; i++) {
		for (j = 0; j < ldy; j++) {
			float v = y[i * ldy + j];

			if (i < 5 && j < 37) {
				ASSERT_LE(fabs(v - p.yref[i * 37 + j]),
					  p.bound[i * 37 + j]);
			} else {
				ASSERT_EQ(-7.0f, v);
			}
		}
	}
	amxrt_weight_free(w);
	free(x);
	free(y);
	free_problem(&p);
}

TEST(refuses_bad_calls)
{
	uint8_t rows[2 * 34] = { 0 };
	struct amxrt_weight *w;
	float x[64] = { 0 }, y[4];

	ASSERT_EQ(0, amxrt_weight_pack(&w, AMXRT_TYPE_Q8_0, 2, 32, rows, -1));
	ASSERT_EQ(-EINVAL, amxrt_matmul(w, x, 32, y, 2, 0));
	ASSERT_EQ(-EINVAL, amxrt_matmul(w, x, 31, y, 2, 1));
	ASSERT_EQ(-EINVAL, amxrt_matmul(w, x, 32, y, 1, 1));
	ASSERT_EQ(-EINVAL, amxrt_matmul(NULL, x, 32, y, 2, 1));
	ASSERT_EQ(-EINVAL, amxrt_matmul(w, NULL, 32, y, 2, 1));
	ASSERT_NE(NULL, strstr(amxrt_errmsg(), "NULL"));
	ASSERT_NE(NULL, amxrt_matmul_kernel_name(w, 1));
	ASSERT_STRNE("none", amxrt_matmul_kernel_name(w, 1));
	amxrt_weight_free(w);
}

TEST_HARNESS_MAIN
