// SPDX-License-Identifier: MIT
/*
 * amx.c - the AMX path: tile kernels for M > 1 on Q4_0, Q4_1, Q8_0 (int8
 * tiles, TDPBSUD) and BF16 (TDPBF16PS) weights in the panel16 layout of
 * kernels.h; F32 and F16 weights, and M == 1 for every type, run the
 * AVX-512 kernels.
 *
 * Built twice from this one source (see the Makefile): amx.o with the real
 * tile instructions, defining amxrt_amx_pick(), and amx_sim.o with
 * AMXRT_TILE_SIM, where amx_ops.h turns the same intrinsics into calls to
 * the tile model (tilesim.c), defining amxrt_amx_sim_pick().
 *
 * Tiles (palette 1, registers 0..7), for a block of up to 32 rows of M
 * (two 16-row halves i) by 32 columns of N (two panels j):
 *
 *   tmm0..3  C[i][j]   16 rows x 16 int32 / fp32
 *   tmm4..5  A[i]      16 activation rows x one K block of 32
 *                      (int8: 32 bytes, bf16: 64 bytes; stride kp values)
 *   tmm6..7  B[j]      one K block of panel j, VNNI order, 64-byte rows:
 *                      int8: 8 rows (4 k each), bf16: 16 rows (2 k each)
 *
 * Integer types: per K block, C = A x B by TDPBSUD (activations signed
 * int8, weights unsigned bytes: Q8_0 as stored, q + 128; Q4 nibbles
 * expanded to bytes 0..15 in scratch), C goes to scratch and is scaled
 * into a float accumulator with AVX-512:
 *     acc[m][n] += dw[n] * da[m] * (C[m][n] - off * sa[m])
 *                  (+ mw[n] * da[m] * sa[m] for Q4_1)
 * with off = 128 (Q8_0), 8 (Q4_0), 0 (Q4_1). BF16: C accumulates the whole
 * K in the tile and is stored once.
 *
 * The tile configuration is loaded at every kernel entry and released at
 * exit: nothing is assumed to survive between calls. Rows >= M and columns
 * >= N are computed (on zero padding) but never written to y.
 */
#include <string.h>

#include "amx_ops.h"
#include "kernels.h"

#ifdef AMXRT_TILE_SIM
#define AMX_PICK amxrt_amx_sim_pick
#define AMX_NAME(s) s " (tile model)"
#else
#define AMX_PICK amxrt_amx_pick
#define AMX_NAME(s) s
#endif

/* Tile register numbers: literal constants, as the intrinsics need. */
#define T_C00 0
#define T_C01 1
#define T_C10 2
#define T_C11 3
#define T_A0 4
#define T_A1 5
#define T_B0 6
#define T_B1 7

/* The LDTILECFG operand (palette 1: names 8..15 stay zero). */
struct tilecfg {
	uint8_t palette;
	uint8_t start_row;
	uint8_t reserved[14];
	uint16_t colsb[16];
	uint8_t rows[16];
} __attribute__((aligned(64)));

_Static_assert(sizeof(struct tilecfg) == 64, "LDTILECFG takes 64 bytes");

static const struct tilecfg cfg_int8 = {
	.palette = 1,
	.colsb = { 64, 64, 64, 64, 32, 32, 64, 64 },
	.rows = { 16, 16, 16, 16, 16, 16, 8, 8 },
};

static const struct tilecfg cfg_bf16 = {
	.palette = 1,
	.colsb = { 64, 64, 64, 64, 64, 64, 64, 64 },
	.rows = { 16, 16, 16, 16, 16, 16, 16, 16 },
};

/* This thread's AMXRT_SCRATCH_BYTES, as the kernels use it. */
struct amx_scratch {
	float acc[32][32]; /* the y block being summed */
	int32_t c[4][16][16]; /* C tiles of one K block */
	uint8_t bq[2][8][64]; /* B tiles of Q4 panels, nibbles as bytes */
} __attribute__((aligned(64)));

_Static_assert(sizeof(struct amx_scratch) <= AMXRT_SCRATCH_BYTES,
	       "the AMX kernels' scratch must fit the dispatcher's");

static int min_i(int64_t a, int64_t b)
{
	return (int)(a < b ? a : b);
}

static __mmask16 col_mask(int cols)
{
	return cols >= 16 ? (__mmask16)0xffff :
			    (__mmask16)((1u << (cols > 0 ? cols : 0)) - 1);
}

/*
 * Copy rows x cols of a block (row stride lds floats) to y at row m0,
 * column n0; cols <= 32. Masked stores never touch columns past cols.
 */
static void put_block(float *y, int64_t ldy, int64_t m0, int64_t n0,
		      const float *src, int lds, int rows, int cols)
{
	__mmask16 k0 = col_mask(cols), k1 = col_mask(cols - 16);
	int r;

	for (r = 0; r < rows; r++) {
		float *dst = y + (m0 + r) * ldy + n0;

		_mm512_mask_storeu_ps(dst, k0, _mm512_loadu_ps(src + r * lds));
		if (k1)
			_mm512_mask_storeu_ps(
				dst + 16, k1,
				_mm512_loadu_ps(src + r * lds + 16));
	}
}

/* ---- integer weights: Q4_0, Q4_1, Q8_0 ----------------------------------- */

struct qjob {
	const struct amxrt_weight *w;
	const struct amxrt_act *a;
	struct amx_scratch *s;
	int32_t off; /* 128 (Q8_0), 8 (Q4_0), 0 (Q4_1) */
	int q4; /* B tiles need the nibbles expanded */
	int mins; /* Q4_1: add mw * da * sa */
};

/*
 * A Q4 block of a panel (4 chunks of 64 bytes, lane r = 4 bytes of row r)
 * as a B tile: row g < 4 = low nibbles of chunk g (k = 4g..4g+3), row
 * g >= 4 = high nibbles of chunk g - 4 (k = 16 + 4(g-4) ..).
 */
static void expand_q4(const uint8_t *qs, uint8_t *bt)
{
	const __m512i lo = _mm512_set1_epi8(0x0f);
	int j;

	for (j = 0; j < 4; j++) {
		__m512i v = _mm512_loadu_si512(qs + 64 * j);

		_mm512_storeu_si512(bt + 64 * j, _mm512_and_si512(v, lo));
		_mm512_storeu_si512(bt + 64 * (j + 4),
				    _mm512_and_si512(_mm512_srli_epi16(v, 4),
						     lo));
	}
}

/* acc rows of one C tile += its block-b integer dots, scaled. */
static void scale_tile(const struct qjob *q, float *acc, const int32_t *c,
		       int64_t row0, int rows, int64_t b, __m512 dw, __m512 mw)
{
	const float *da = q->a->d + row0 * q->a->nb + b;
	const int32_t *sa = q->a->s + row0 * q->a->nb + b;
	int64_t nb = q->a->nb;
	int r;

	for (r = 0; r < rows; r++) {
		float d = da[r * nb];
		int32_t sum = sa[r * nb];
		__m512i dot = _mm512_loadu_si512(c + 16 * r);
		__m512 v = _mm512_loadu_ps(acc + 32 * r);

		dot = _mm512_sub_epi32(dot, _mm512_set1_epi32(q->off * sum));
		v = _mm512_fmadd_ps(_mm512_mul_ps(dw, _mm512_set1_ps(d)),
				    _mm512_cvtepi32_ps(dot), v);
		if (q->mins)
			v = _mm512_fmadd_ps(mw, _mm512_set1_ps(d * (float)sum),
					    v);
		_mm512_storeu_ps(acc + 32 * r, v);
	}
}

static __m512 fp16x16(const uint16_t *h)
{
	return _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)h));
}

/*
 * The y block of rows m0 .. m0 + 16 * mt and panels p .. p + nt - 1 (mt,
 * nt = 1 or 2) into q->s->acc. Tile numbers must be constants, hence the
 * spelled-out tile operations under "if (mt == 2)" and "if (nt == 2)".
 */
static void q_block(const struct qjob *q, int64_t m0, int mt, int64_t p, int nt)
{
	const struct amxrt_weight *w = q->w;
	const struct amxrt_act *a = q->a;
	struct amx_scratch *s = q->s;
	int64_t kp = a->kp, b;
	int rows0 = min_i(16, a->m - m0), rows1 = min_i(16, a->m - m0 - 16);
	__m512 mw0 = _mm512_setzero_ps(), mw1 = _mm512_setzero_ps();

	memset(s->acc, 0, sizeof(s->acc));
	for (b = 0; b < w->nb; b++) {
		const int8_t *aq = a->q + m0 * kp + b * AMXRT_BLOCK_K;
		const uint8_t *b0 = amxrt_panel_qs(w, p, b);
		const uint8_t *b1 = nt == 2 ? amxrt_panel_qs(w, p + 1, b) : b0;
		__m512 dw0, dw1 = _mm512_setzero_ps();

		if (q->q4) {
			expand_q4(b0, s->bq[0][0]);
			b0 = s->bq[0][0];
			if (nt == 2) {
				expand_q4(b1, s->bq[1][0]);
				b1 = s->bq[1][0];
			}
			AMX_SCRATCH_BARRIER();
		}

		_tile_zero(T_C00);
		_tile_loadd(T_A0, aq, kp);
		_tile_loadd(T_B0, b0, 64);
		if (nt == 2) {
			_tile_zero(T_C01);
			_tile_loadd(T_B1, b1, 64);
		}
		if (mt == 2) {
			_tile_zero(T_C10);
			_tile_loadd(T_A1, aq + 16 * kp, kp);
			if (nt == 2)
				_tile_zero(T_C11);
		}
		_tile_dpbsud(T_C00, T_A0, T_B0);
		if (nt == 2)
			_tile_dpbsud(T_C01, T_A0, T_B1);
		if (mt == 2) {
			_tile_dpbsud(T_C10, T_A1, T_B0);
			if (nt == 2)
				_tile_dpbsud(T_C11, T_A1, T_B1);
		}
		_tile_stored(T_C00, s->c[0][0], 64);
		if (nt == 2)
			_tile_stored(T_C01, s->c[1][0], 64);
		if (mt == 2) {
			_tile_stored(T_C10, s->c[2][0], 64);
			if (nt == 2)
				_tile_stored(T_C11, s->c[3][0], 64);
		}

		dw0 = fp16x16(amxrt_panel_d(w, p, b));
		if (nt == 2)
			dw1 = fp16x16(amxrt_panel_d(w, p + 1, b));
		if (q->mins) {
			mw0 = fp16x16(amxrt_panel_m(w, p, b));
			if (nt == 2)
				mw1 = fp16x16(amxrt_panel_m(w, p + 1, b));
		}
		scale_tile(q, s->acc[0], s->c[0][0], m0, rows0, b, dw0, mw0);
		if (nt == 2)
			scale_tile(q, s->acc[0] + 16, s->c[1][0], m0, rows0, b,
				   dw1, mw1);
		if (mt == 2) {
			scale_tile(q, s->acc[16], s->c[2][0], m0 + 16, rows1, b,
				   dw0, mw0);
			if (nt == 2)
				scale_tile(q, s->acc[16] + 16, s->c[3][0],
					   m0 + 16, rows1, b, dw1, mw1);
		}
	}
}

static void amx_q_kernel(const struct amxrt_weight *w,
			 const struct amxrt_act *a, float *y, int64_t ldy,
			 int64_t p0, int64_t p1, void *scratch)
{
	struct qjob q = {
		.w = w,
		.a = a,
		.s = scratch,
		.off = w->type == AMXRT_TYPE_Q8_0 ? 128 :
		       w->type == AMXRT_TYPE_Q4_0 ? 8 :
						    0,
		.q4 = w->type != AMXRT_TYPE_Q8_0,
		.mins = w->type == AMXRT_TYPE_Q4_1,
	};
	int64_t p, m0;

	_tile_loadconfig(&cfg_int8);
	for (p = p0; p < p1; p += 2) {
		int nt = p + 1 < p1 ? 2 : 1;
		int cols = min_i(16 * nt, w->n - p * AMXRT_PANEL_ROWS);

		for (m0 = 0; m0 < a->m; m0 += 32) {
			int mt = m0 + 16 < a->m ? 2 : 1;

			q_block(&q, m0, mt, p, nt);
			put_block(y, ldy, m0, p * AMXRT_PANEL_ROWS, q.s->acc[0],
				  32, min_i(32, a->m - m0), cols);
		}
	}
	_tile_release();
}

/* ---- BF16 weights --------------------------------------------------------- */

/*
 * Where BF16 C tile (i, j) of the block at row m0, column n0 is stored:
 * straight into y when all its 16 x 16 values lie inside y, else into
 * scratch, from where c_finish() copies the part that does.
 */
struct c_out {
	float *y; /* the tile's first value in y */
	int64_t ldy;
	float *dst; /* what TILESTORED writes to */
	long stride; /* in bytes */
	int rows, cols;
};

static struct c_out c_target(const struct amxrt_weight *w,
			     const struct amxrt_act *a, struct amx_scratch *s,
			     float *y, int64_t ldy, int64_t m0, int64_t n0,
			     int i, int j)
{
	struct c_out o = {
		.y = y + (m0 + 16 * i) * ldy + n0 + 16 * j,
		.ldy = ldy,
		.rows = min_i(16, a->m - m0 - 16 * i),
		.cols = min_i(16, w->n - n0 - 16 * j),
	};

	if (o.rows == 16 && o.cols == 16) {
		o.dst = o.y;
		o.stride = (long)(ldy * (int64_t)sizeof(float));
	} else {
		o.dst = s->acc[0];
		o.stride = 16 * sizeof(float);
	}
	return o;
}

static void c_finish(const struct c_out *o)
{
	if (o->dst != o->y)
		put_block(o->y, o->ldy, 0, 0, o->dst, 16, o->rows, o->cols);
}

static void bf_block(const struct amxrt_weight *w, const struct amxrt_act *a,
		     struct amx_scratch *s, float *y, int64_t ldy, int64_t m0,
		     int mt, int64_t p, int nt)
{
	int64_t kp = a->kp, b, n0 = p * AMXRT_PANEL_ROWS;
	long astride = (long)(kp * (int64_t)sizeof(uint16_t));
	struct c_out o;

	_tile_zero(T_C00);
	if (nt == 2)
		_tile_zero(T_C01);
	if (mt == 2) {
		_tile_zero(T_C10);
		if (nt == 2)
			_tile_zero(T_C11);
	}
	for (b = 0; b < w->nb; b++) {
		const uint16_t *ab = a->bf + m0 * kp + b * AMXRT_BLOCK_K;

		_tile_loadd(T_A0, ab, astride);
		_tile_loadd(T_B0, amxrt_panel_qs(w, p, b), 64);
		if (nt == 2)
			_tile_loadd(T_B1, amxrt_panel_qs(w, p + 1, b), 64);
		if (mt == 2)
			_tile_loadd(T_A1, ab + 16 * kp, astride);
		_tile_dpbf16ps(T_C00, T_A0, T_B0);
		if (nt == 2)
			_tile_dpbf16ps(T_C01, T_A0, T_B1);
		if (mt == 2) {
			_tile_dpbf16ps(T_C10, T_A1, T_B0);
			if (nt == 2)
				_tile_dpbf16ps(T_C11, T_A1, T_B1);
		}
	}
	o = c_target(w, a, s, y, ldy, m0, n0, 0, 0);
	_tile_stored(T_C00, o.dst, o.stride);
	c_finish(&o);
	if (nt == 2) {
		o = c_target(w, a, s, y, ldy, m0, n0, 0, 1);
		_tile_stored(T_C01, o.dst, o.stride);
		c_finish(&o);
	}
	if (mt == 2) {
		o = c_target(w, a, s, y, ldy, m0, n0, 1, 0);
		_tile_stored(T_C10, o.dst, o.stride);
		c_finish(&o);
		if (nt == 2) {
			o = c_target(w, a, s, y, ldy, m0, n0, 1, 1);
			_tile_stored(T_C11, o.dst, o.stride);
			c_finish(&o);
		}
	}
}

static void amx_bf16_kernel(const struct amxrt_weight *w,
			    const struct amxrt_act *a, float *y, int64_t ldy,
			    int64_t p0, int64_t p1, void *scratch)
{
	int64_t p, m0;

	_tile_loadconfig(&cfg_bf16);
	for (p = p0; p < p1; p += 2) {
		int nt = p + 1 < p1 ? 2 : 1;

		for (m0 = 0; m0 < a->m; m0 += 32)
			bf_block(w, a, scratch, y, ldy, m0,
				 m0 + 16 < a->m ? 2 : 1, p, nt);
	}
	_tile_release();
}

/* ---- picker --------------------------------------------------------------- */

static const struct amxrt_kernel amx_q8 = {
	.name = AMX_NAME("amx tdpbsud 2x2 tiles, q8 activations"),
	.act = AMXRT_ACT_Q8,
	.fn = amx_q_kernel,
	/* both AMX paths need AVX-512 (cpu/isa.c) */
	.stage_q8 = amxrt_stage_q8_avx512,
};

/* Q4: activations with a scale per group (the epilogue still per block) */
static const struct amxrt_kernel amx_q8g = {
	.name = AMX_NAME(
		"amx tdpbsud 2x2 tiles, q8 activations scaled per 4 blocks"),
	.act = AMXRT_ACT_Q8G,
	.fn = amx_q_kernel,
	.stage_q8 = amxrt_stage_q8_avx512,
};

static const struct amxrt_kernel amx_bf16 = {
	.name = AMX_NAME("amx tdpbf16ps 2x2 tiles, bf16 activations"),
	.act = AMXRT_ACT_BF16,
	.fn = amx_bf16_kernel,
};

const struct amxrt_kernel *AMX_PICK(enum amxrt_type type, int64_t m)
{
	if (m <= 1)
		return amxrt_avx512_pick(type, m);
	switch (type) {
	case AMXRT_TYPE_Q4_0:
	case AMXRT_TYPE_Q4_1:
		return &amx_q8g;
	case AMXRT_TYPE_Q8_0:
		return &amx_q8;
	case AMXRT_TYPE_BF16:
		return &amx_bf16;
	case AMXRT_TYPE_F32:
	case AMXRT_TYPE_F16:
		return amxrt_avx512_pick(type, m);
	default:
		return NULL;
	}
}
