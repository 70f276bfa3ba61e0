// SPDX-License-Identifier: MIT
/*
 * Description: the AMX kernels (libamxrt/kernels/amx.c) for Q4_0, Q4_1,
 * Q8_0 and BF16 weights with M > 1, run on the tile model: called directly
 * through the kernels.h contract on panel ranges cut at random places,
 * with canaries around y, and through the public API on the amx-sim path
 * (and on the real amx path where this machine has AMX), each checked
 * against amxrt_matmul_ref() and against a same-activation reference. The
 * picker, and the tile configuration being loaded at every entry and
 * released at exit, are checked too.
 *
 * TOLERANCES (per output y = sum_k w_k x_k; u = 2^-24, the float unit
 * roundoff; nb = K / 32 blocks; all bounds computed next to the
 * reference, from the same w and x):
 *
 * Integer weights vs amxrt_matmul_ref (double, unquantized x): the kernel
 * multiplies exact weights by activations quantized per block b to
 * q * d, d = max_g |x| / 127 (max_g: over the group of AMXRT_ACT_GROUP
 * blocks holding b), q = round(x / d), so |x - q d| <= d / 2 =
 * max_g |x| / 254 (plus the rounding of x * (1/d) in float, a relative
 * 2^-22 of max_g |x|: the factor 1.001 below). The int32 block dots are
 * exact. The float work per block is one product dw * da, one fused
 * multiply-add into the accumulator (two for Q4_1, whose weight decode
 * d * q + m also rounds once in the reference): with nb blocks a
 * sequential sum, at most (nb + 8) u relative to the sum of magnitudes,
 * doubled for margin. So
 *   |err| <= 1.001 * sum_b (max_g |x| / 254) * sum_{k in b} |w_k|
 *            + (nb + 8) 2^-23 * sum_k |w_k| (|x_k| + max_g |x| / 254).
 *
 * Integer weights vs the same-activation reference (the activations that
 * amxrt_act_quantize_row() gives, the weights' own integers and scales,
 * every block dot exact, the rest in double): only the float rounding
 * above is left,
 *   |err| <= (nb + 8) 2^-23 * sum_b (|dw da dot_b| + |mw da sa_b|),
 * at K = 32 some hundred times smaller than one unit of one block's dot.
 *
 * BF16 weights vs amxrt_matmul_ref: activations are rounded to bf16 (8
 * significant bits, to nearest), a relative error of at most 2^-8 (half
 * a unit in the last place: x = 1 + 2^-8 becomes 1); TDPBF16PS sums each tile's 16 pairs in
 * two fp32 chains (even, odd), adds them, and adds that to C once per
 * block: at most 16 + 2 + nb roundings per output, so
 *   |err| <= 2^-8 sum_k |w_k x_k| + (nb + 20) 2^-23 sum_k |w_k x_k|.
 * BF16 vs a reference with the same bf16 activations, in double:
 *   |err| <= (nb + 20) 2^-23 sum_k |w_k bf16(x_k)|.
 * (Values here are far from fp32's denormal range, so DAZ/FTZ never act.)
 *
 * Every output must be finite, and nothing outside y[0..M)[0..N) (row
 * stride ldy > N) may change; a kernel call may write only the columns of
 * its own panels. AMXRT_TEST_VERBOSE=1 logs, for every problem, the worst
 * ratio of error to bound.
 */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "helpers.h"

#include <amxrt/amxrt.h>

#include "../libamxrt/kernels/kernels.h"
#include "../libamxrt/kernels/tilesim.h"

#define CANARY 0x7fa5a5a5u /* a signalling NaN no kernel produces */

struct prob {
	enum amxrt_type type;
	int64_t n, k, m, rb, nb;
	uint8_t *rows; /* n GGUF rows */
	float *x; /* m x k */
	float *yref; /* amxrt_matmul_ref() */
	double *yt; /* same-activation reference */
	double *bl, *bt; /* loose and tight bounds */
};

static int is_q(enum amxrt_type t)
{
	return amxrt_type_block_values(t) > 1;
}

/* Weight l of a row as an integer and its block's scale and min. */
static int wint(enum amxrt_type t, const uint8_t *row, int64_t l, float *d,
		float *mn)
{
	const uint8_t *b = row + l / 32 * amxrt_type_block_bytes(t);
	int j = (int)(l % 32), hdr = t == AMXRT_TYPE_Q4_1 ? 4 : 2;
	uint16_t h;

	memcpy(&h, b, 2);
	*d = amxrt_fp16_to_fp32(h);
	memcpy(&h, b + 2, 2);
	*mn = t == AMXRT_TYPE_Q4_1 ? amxrt_fp16_to_fp32(h) : 0.0f;
	if (t == AMXRT_TYPE_Q8_0)
		return (int8_t)b[2 + j];
	j = j < 16 ? b[hdr + j] & 15 : b[hdr + j - 16] >> 4;
	return t == AMXRT_TYPE_Q4_0 ? j - 8 : j;
}

static void free_prob(struct prob *p)
{
	free(p->rows);
	free(p->x);
	free(p->yref);
	free(p->yt);
	free(p->bl);
	free(p->bt);
}

/*
 * Output (i, j): the same-activation reference and both bounds (see the
 * header comment). wf is weight row j decoded to float; q, d, s are
 * activation row i as amxrt_act_quantize_row() gives it (integer types).
 */
static void ref_one(struct prob *p, int64_t i, int64_t j, const float *wf,
		    const int8_t *q, const float *d, const int32_t *s)
{
	const uint8_t *row = p->rows + j * p->rb;
	const float *xr = p->x + i * p->k;
	double yt = 0, mag = 0, qerr = 0, slack = 0;
	int64_t b, l;

	for (b = 0; b < p->nb; b++) {
		int64_t l1 = b * 32 + 32 < p->k ? b * 32 + 32 : p->k;
		double amax = 0, w1 = 0, dot = 0, term, mterm;
		float dw = 0, mw = 0;

		amax = test_group_amax(xr, p->k, b,
				       amxrt_act_group(amxrt_q8_kind(p->type)));
		for (l = b * 32; l < l1; l++) {
			double bx;

			w1 += fabs(wf[l]);
			if (is_q(p->type)) {
				dot += (double)wint(p->type, row, l, &dw, &mw) *
				       q[l];
				slack += fabs(wf[l]) *
					 (fabs(xr[l]) + amax / 254);
				continue;
			}
			bx = amxrt_bf16_to_fp32(amxrt_fp32_to_bf16(xr[l]));
			yt += (double)wf[l] * bx;
			mag += fabs((double)wf[l] * bx);
			slack += fabs((double)wf[l] * xr[l]);
		}
		if (!is_q(p->type))
			continue;
		term = (double)dw * d[b] * dot;
		mterm = (double)mw * d[b] * s[b];
		yt += term + mterm;
		mag += fabs(term) + fabs(mterm);
		qerr += 1.001 * amax / 254 * w1;
	}
	p->yt[i * p->n + j] = yt;
	if (is_q(p->type)) {
		p->bt[i * p->n + j] = (p->nb + 8) * 0x1p-23 * mag + 1e-30;
		p->bl[i * p->n + j] =
			qerr + (p->nb + 8) * 0x1p-23 * slack + 1e-30;
	} else {
		p->bt[i * p->n + j] = (p->nb + 20) * 0x1p-23 * mag + 1e-30;
		p->bl[i * p->n + j] =
			(0x1p-8 + (p->nb + 20) * 0x1p-23) * slack + 1e-30;
	}
}

static int references(struct prob *p)
{
	int64_t kp = p->nb * 32, i, j;
	int8_t *q = malloc((size_t)(p->m * kp));
	float *d = malloc((size_t)(p->m * p->nb) * 4);
	int32_t *s = malloc((size_t)(p->m * p->nb) * 4);
	float *wf = malloc((size_t)p->k * 4);
	int err = -ENOMEM;

	if (!q || !d || !wf || !s)
		goto out;
	err = amxrt_matmul_ref(p->type, p->rows, p->n, p->k, p->x, p->k,
			       p->yref, p->n, p->m);
	if (err)
		goto out;
	for (i = 0; i < p->m && is_q(p->type); i++)
		amxrt_act_quantize_row(p->x + i * p->k, p->k, kp,
				       amxrt_act_group(amxrt_q8_kind(p->type)),
				       q + i * kp, d + i * p->nb,
				       s + i * p->nb);
	for (j = 0; j < p->n; j++) {
		amxrt_dequantize_row(p->type, p->rows + j * p->rb, wf, p->k);
		for (i = 0; i < p->m; i++)
			ref_one(p, i, j, wf, q + i * kp, d + i * p->nb,
				s + i * p->nb);
	}
out:
	free(q);
	free(d);
	free(s);
	free(wf);
	return err;
}

static int make_prob(struct prob *p, enum amxrt_type type, int64_t n, int64_t k,
		     int64_t m)
{
	float *w = malloc((size_t)k * 4);
	int64_t i, j;

	memset(p, 0, sizeof(*p));
	p->type = type;
	p->n = n;
	p->k = k;
	p->m = m;
	p->nb = (k + 31) / 32;
	p->rb = amxrt_row_bytes(type, k);
	p->rows = malloc((size_t)(p->rb * n));
	p->x = test_matrix(m, k, 1.0f);
	p->yref = malloc((size_t)(m * n) * 4);
	p->yt = malloc((size_t)(m * n) * sizeof(double));
	p->bl = malloc((size_t)(m * n) * sizeof(double));
	p->bt = malloc((size_t)(m * n) * sizeof(double));
	if (!w || !p->rows || !p->x || !p->yref || !p->yt || !p->bl || !p->bt) {
		free(w);
		return -ENOMEM;
	}
	/* a few large activations, as real models have */
	for (i = 0; i < m * k; i += 61)
		p->x[i] *= 10;
	for (j = 0; j < n; j++) {
		for (i = 0; i < k; i++)
			w[i] = test_normal() * 0.05f;
		amxrt_quantize_row(type, w, p->rows + j * p->rb, k);
	}
	free(w);
	return references(p);
}

/*
 * Check y (m + 1 rows, stride ldy) against both references; outside
 * y[0..m)[0..n) everything must still be the canary. Returns the number
 * of bad values (and logs the first few).
 */
static int64_t check_y(struct __test_metadata *_metadata, const struct prob *p,
		       const float *y, int64_t ldy, const char *what)
{
	int64_t i, j, bad = 0;
	double worst_l = 0, worst_t = 0;

	for (i = 0; i <= p->m; i++) {
		for (j = 0; j < ldy; j++) {
			float v = y[i * ldy + j];
			uint32_t bits;
			double el, et;

			memcpy(&bits, &v, 4);
			if (i == p->m || j >= p->n) {
				if (bits != CANARY && bad++ < 5)
					TH_LOG("%s: y[%lld][%lld] written outside M x N",
					       what, (long long)i,
					       (long long)j);
				continue;
			}
			el = fabs((double)v - p->yref[i * p->n + j]);
			et = fabs((double)v - p->yt[i * p->n + j]);
			worst_l = fmax(worst_l, el / p->bl[i * p->n + j]);
			worst_t = fmax(worst_t, et / p->bt[i * p->n + j]);
			if (!isfinite(v) || !(el <= p->bl[i * p->n + j]) ||
			    !(et <= p->bt[i * p->n + j])) {
				if (bad++ < 5)
					TH_LOG("%s: y[%lld][%lld] = %.9g, reference %.9g (bound %.3g), same-activation %.9g (bound %.3g)",
					       what, (long long)i, (long long)j,
					       v, p->yref[i * p->n + j],
					       p->bl[i * p->n + j],
					       p->yt[i * p->n + j],
					       p->bt[i * p->n + j]);
			}
		}
	}
	if (bad || getenv("AMXRT_TEST_VERBOSE"))
		TH_LOG("%s: %lld bad values; worst error / bound: %.3f loose, %.3f tight",
		       what, (long long)bad, worst_l, worst_t);
	return bad;
}

static float *canary_y(int64_t rows, int64_t ldy)
{
	float *y = malloc((size_t)(rows * ldy) * 4);
	uint32_t c = CANARY;
	int64_t i;

	for (i = 0; y && i < rows * ldy; i++)
		memcpy(y + i, &c, 4);
	return y;
}

/*
 * The panel16 weight as kernels.h lays it out, built here rather than by
 * amxrt_weight_pack() so that the kernels can be driven directly whatever
 * the path selection says about this machine.
 */
static struct amxrt_weight *panel16(const struct prob *p)
{
	struct amxrt_weight *w = calloc(1, sizeof(*w));
	int scales = p->type == AMXRT_TYPE_Q4_1 ? 2 : is_q(p->type) ? 1 : 0;

	if (!w)
		return NULL;
	w->type = p->type;
	w->isa = AMXRT_ISA_AMX_SIM;
	w->layout = AMXRT_LAYOUT_PANEL16;
	w->n = p->n;
	w->k = p->k;
	w->kp = p->nb * 32;
	w->nb = p->nb;
	w->np = (p->n + 15) / 16;
	w->row_bytes = (size_t)p->rb;
	w->qbytes = p->type == AMXRT_TYPE_Q8_0 ? 512 :
		    p->type == AMXRT_TYPE_BF16 ? 1024 :
						 256;
	if (scales)
		w->scale_off = (size_t)w->nb * w->qbytes;
	if (scales == 2)
		w->min_off = w->scale_off + (size_t)w->nb * 32;
	w->panel_stride =
		((size_t)w->nb * (w->qbytes + 32 * (size_t)scales) + 63) / 64 *
		64;
	w->bytes = w->panel_stride * (size_t)w->np;
	w->data = aligned_alloc(64, w->bytes);
	if (!w->data) {
		free(w);
		return NULL;
	}
	amxrt_pack_panel16(w, p->rows);
	return w;
}

static void free_panel16(struct amxrt_weight *w)
{
	if (w)
		free(w->data);
	free(w);
}

/*
 * Run the sim kernel for p over its panels, cut (if cuts) into ranges of
 * random length as the dispatcher's threads would get them, with a junk
 * tile configuration loaded before each call, and check y. A call may
 * only write the columns of its own panels.
 */
static int64_t run_direct(struct __test_metadata *_metadata, struct prob *p,
			  int cuts)
{
	const struct amxrt_kernel *kern = amxrt_amx_sim_pick(p->type, p->m);
	struct amxrt_weight *w = panel16(p);
	struct amxrt_act a = { 0 };
	int64_t ldy = p->n + 3, lo, hi, i, j, bad = 0;
	size_t ybytes = (size_t)((p->m + 1) * ldy) * 4;
	float *y = canary_y(p->m + 1, ldy), *before = malloc(ybytes);
	void *scratch = aligned_alloc(64, AMXRT_SCRATCH_BYTES);
	uint8_t junk[64] = { 1 }, cfg[64], zero[64] = { 0 };
	char what[128];

	if (!kern || !w || !y || !before || !scratch ||
	    amxrt_act_reserve(&a, kern->act, p->m, w->kp)) {
		TH_LOG("setup failed (kernel %p)", (const void *)kern);
		return 1;
	}
	snprintf(what, sizeof(what), "%s %s N %lld K %lld M %lld", kern->name,
		 amxrt_type_name(p->type), (long long)p->n, (long long)p->k,
		 (long long)p->m);
	amxrt_act_stage(&a, p->x, p->k, NULL, p->k, 0, a.mp, kern->stage_q8);
	memset(scratch, 0xa5, AMXRT_SCRATCH_BYTES);
	/* tmm0..7 all 1 x 4: a kernel relying on it would fault */
	for (i = 0; i < 8; i++) {
		junk[16 + 2 * i] = 4;
		junk[48 + i] = 1;
	}
	for (lo = 0; lo < w->np; lo = hi) {
		hi = cuts ? lo + 1 +
				     (int64_t)(test_rand() %
					       (uint64_t)((w->np + 1) / 2)) :
			    w->np;
		if (hi > w->np)
			hi = w->np;
		memcpy(before, y, ybytes);
		amxrt_tilesim_ldtilecfg(junk);
		kern->fn(w, &a, y, ldy, lo, hi, scratch);
		amxrt_tilesim_sttilecfg(cfg);
		if (memcmp(cfg, zero, 64)) {
			TH_LOG("%s: tiles still configured after the kernel",
			       what);
			bad++;
		}
		for (i = 0; i <= p->m; i++) {
			for (j = 0; j < ldy; j++) {
				if (j >= 16 * lo && j < 16 * hi)
					continue;
				if (memcmp(y + i * ldy + j,
					   before + i * ldy + j, 4) &&
				    bad++ < 5)
					TH_LOG("%s: panels [%lld, %lld) wrote y[%lld][%lld]",
					       what, (long long)lo,
					       (long long)hi, (long long)i,
					       (long long)j);
			}
		}
	}
	bad += check_y(_metadata, p, y, ldy, what);
	amxrt_act_free(&a);
	free(scratch);
	free(y);
	free(before);
	free_panel16(w);
	return bad;
}

static void shapes(struct __test_metadata *_metadata, enum amxrt_type type)
{
	static const int64_t ms[] = { 2, 16, 17, 33, 64 };
	static const int64_t nk[][2] = {
		{ 16, 32 }, { 17, 96 }, { 40, 32 }, { 100, 96 }, { 64, 64 }
	};
	unsigned int i, j;
	struct prob p;

	test_seed();
	for (i = 0; i < sizeof(ms) / sizeof(ms[0]); i++) {
		for (j = 0; j < sizeof(nk) / sizeof(nk[0]); j++) {
			ASSERT_EQ(0, make_prob(&p, type, nk[j][0], nk[j][1],
					       ms[i]));
			EXPECT_EQ(0,
				  run_direct(_metadata, &p, (int)(i + j) % 3));
			free_prob(&p);
		}
	}
}

TEST(q4_0_shapes)
{
	shapes(_metadata, AMXRT_TYPE_Q4_0);
}

TEST(q4_1_shapes)
{
	shapes(_metadata, AMXRT_TYPE_Q4_1);
}

TEST(q8_0_shapes)
{
	shapes(_metadata, AMXRT_TYPE_Q8_0);
}

TEST(bf16_shapes)
{
	static const int64_t odd_k[] = { 1, 33, 100 };
	unsigned int i;
	struct prob p;

	shapes(_metadata, AMXRT_TYPE_BF16);
	/* float weights take any K: the last block is zero-padded */
	for (i = 0; i < sizeof(odd_k) / sizeof(odd_k[0]); i++) {
		ASSERT_EQ(0, make_prob(&p, AMXRT_TYPE_BF16, 19 + 21 * i,
				       odd_k[i], 2 + 15 * i));
		EXPECT_EQ(0, run_direct(_metadata, &p, (int)i));
		free_prob(&p);
	}
}

/* Long K with tails in M and N: many blocks summed per output. */
TEST(long_k_with_tails)
{
	static const enum amxrt_type types[] = { AMXRT_TYPE_Q4_0,
						 AMXRT_TYPE_Q4_1,
						 AMXRT_TYPE_Q8_0,
						 AMXRT_TYPE_BF16 };
	unsigned int t;
	struct prob p;

	test_seed();
	for (t = 0; t < sizeof(types) / sizeof(types[0]); t++) {
		ASSERT_EQ(0, make_prob(&p, types[t], 40, 2048, 33));
		EXPECT_EQ(0, run_direct(_metadata, &p, 2));
		free_prob(&p);
	}
}

/* A real model's projection (2048 x 2048, as in a 1B-class model). */
TEST(model_shape_2048)
{
	static const enum amxrt_type types[] = { AMXRT_TYPE_Q4_0,
						 AMXRT_TYPE_Q8_0,
						 AMXRT_TYPE_BF16 };
	unsigned int t;
	struct prob p;

	test_seed();
	for (t = 0; t < sizeof(types) / sizeof(types[0]); t++) {
		ASSERT_EQ(0, make_prob(&p, types[t], 2048, 2048, 2));
		EXPECT_EQ(0, run_direct(_metadata, &p, 1));
		free_prob(&p);
	}
}

TEST(picker)
{
	static const enum amxrt_type types[] = {
		AMXRT_TYPE_F32,	 AMXRT_TYPE_F16,  AMXRT_TYPE_Q4_0,
		AMXRT_TYPE_Q4_1, AMXRT_TYPE_Q8_0, AMXRT_TYPE_BF16,
	};
	const struct amxrt_kernel *k;
	unsigned int t;

	for (t = 0; t < sizeof(types) / sizeof(types[0]); t++) {
		/* M == 1 and float weights: the AVX-512 kernels */
		ASSERT_EQ(amxrt_avx512_pick(types[t], 1),
			  amxrt_amx_sim_pick(types[t], 1));
		ASSERT_EQ(amxrt_avx512_pick(types[t], 1),
			  amxrt_amx_pick(types[t], 1));
	}
	ASSERT_EQ(amxrt_avx512_pick(AMXRT_TYPE_F32, 7),
		  amxrt_amx_sim_pick(AMXRT_TYPE_F32, 7));
	ASSERT_EQ(amxrt_avx512_pick(AMXRT_TYPE_F16, 7),
		  amxrt_amx_pick(AMXRT_TYPE_F16, 7));

	k = amxrt_amx_sim_pick(AMXRT_TYPE_Q4_1, 2);
	ASSERT_NE(NULL, k);
	ASSERT_EQ(AMXRT_ACT_Q8G, k->act);
	ASSERT_STREQ("amx tdpbsud 2x2 tiles, q8 activations scaled per 4 "
		     "blocks (tile model)",
		     k->name);
	k = amxrt_amx_pick(AMXRT_TYPE_Q8_0, 2);
	ASSERT_NE(NULL, k);
	ASSERT_STREQ("amx tdpbsud 2x2 tiles, q8 activations", k->name);
	k = amxrt_amx_sim_pick(AMXRT_TYPE_BF16, 300);
	ASSERT_NE(NULL, k);
	ASSERT_EQ(AMXRT_ACT_BF16, k->act);
	ASSERT_NE(NULL, strstr(k->name, "tdpbf16ps"));
	ASSERT_NE(NULL, strstr(k->name, "(tile model)"));
	/* no kernel for activation types */
	ASSERT_EQ(NULL, amxrt_amx_sim_pick(AMXRT_TYPE_Q8_1, 2));
	ASSERT_EQ(NULL, amxrt_amx_pick(AMXRT_TYPE_Q8_1, 2));
}

/* ---- the public API ------------------------------------------------------ */

/*
 * Every type and shape through amxrt_weight_pack() and amxrt_matmul() on
 * isa; if vary_threads, with 1, 2 and 3 pool threads (the panel split
 * must not matter; the pool is restarted for each count).
 */
static void public_path(struct __test_metadata *_metadata, int isa,
			int vary_threads)
{
	static const enum amxrt_type types[] = { AMXRT_TYPE_Q4_0,
						 AMXRT_TYPE_Q4_1,
						 AMXRT_TYPE_Q8_0,
						 AMXRT_TYPE_BF16 };
	static const int64_t shape[][3] = {
		/* n, k, m */
		{ 48, 96, 2 },
		{ 130, 64, 17 },
		{ 1000, 256, 33 },
	};
	unsigned int t, s;

	test_seed();
	for (t = 0; t < sizeof(types) / sizeof(types[0]); t++) {
		for (s = 0; s < sizeof(shape) / sizeof(shape[0]); s++) {
			struct amxrt_weight *w;
			struct prob p;
			int64_t ldy = shape[s][0] + 5;
			float *y;
			int err;

			if (vary_threads)
				ASSERT_EQ(0, amxrt_set_threads((int)s + 1));
			ASSERT_EQ(0, make_prob(&p, types[t], shape[s][0],
					       shape[s][1], shape[s][2]));
			err = amxrt_weight_pack(&w, p.type, p.n, p.k, p.rows,
						isa);
			if (err)
				TH_LOG("%s", amxrt_errmsg());
			ASSERT_EQ(0, err);
			ASSERT_NE(NULL, strstr(amxrt_matmul_kernel_name(w, p.m),
					       "amx tdp"));
			y = canary_y(p.m + 1, ldy);
			ASSERT_NE(NULL, y);
			err = amxrt_matmul(w, p.x, p.k, y, ldy, p.m);
			if (err)
				TH_LOG("%s", amxrt_errmsg());
			ASSERT_EQ(0, err);
			EXPECT_EQ(0, check_y(_metadata, &p, y, ldy,
					     amxrt_matmul_kernel_name(w, p.m)));
			free(y);
			amxrt_weight_free(w);
			free_prob(&p);
		}
	}
	if (vary_threads)
		amxrt_set_threads(0);
}

/* "" if isa is usable here, else why not. */
static const char *unusable(int isa)
{
	static char why[256];

	if (!amxrt_isa_usable(isa, why, sizeof(why)))
		return "";
	return why[0] ? why : "(no reason given)";
}

TEST(public_api_amx_sim)
{
	const char *why = unusable(AMXRT_ISA_AMX_SIM);

	if (why[0])
		SKIP(return, "amx-sim is not usable here: %s", why);
	public_path(_metadata, AMXRT_ISA_AMX_SIM, 0);
}

TEST(public_api_amx_sim_thread_counts)
{
	const char *why = unusable(AMXRT_ISA_AMX_SIM);

	if (why[0])
		SKIP(return, "amx-sim is not usable here: %s", why);
	public_path(_metadata, AMXRT_ISA_AMX_SIM, 1);
}

/* The same kernels on real tiles, where there are some. */
TEST(public_api_amx)
{
	const char *why = unusable(AMXRT_ISA_AMX);
	const char *no_perm;

	if (why[0])
		SKIP(return, "amx is not usable here: %s", why);
	/*
	 * Tile data needs this process's permission; asking again when it is
	 * granted is harmless (ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA).
	 */
	if (syscall(SYS_arch_prctl, 0x1023, 18)) {
		no_perm = strerror(errno);
		SKIP(return, "the kernel refused AMX tile data: %s", no_perm);
	}
	public_path(_metadata, AMXRT_ISA_AMX, 0);
}

TEST_HARNESS_MAIN
