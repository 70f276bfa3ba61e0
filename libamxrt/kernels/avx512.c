// SPDX-License-Identifier: MIT
/*
 * avx512.c - the AVX-512 path: matmul kernels that read the panel16 layout
 * (see kernels.h) for Q4_0, Q4_1, Q8_0, BF16, F16 and F32, and a SIMD
 * activation quantizer that gives the bytes of amxrt_act_quantize_row().
 *
 * Integer types: one zmm holds one 64-byte chunk of a block, i.e. 4
 * consecutive k of all 16 rows of a panel; vpdpbusd multiplies it with 4
 * activation bytes broadcast to every lane (u8 weights x s8 activations)
 * into 16 int32 sums. Each block's sum starts at -off * sa (off = 8 for
 * Q4_0, 128 for Q8_0, 0 for Q4_1) so that after its 8 vpdpbusd it holds
 * dot - off * sa exactly; it is then converted, scaled by dw into a group
 * sum, and that sum by da into the float accumulator at the group's last
 * block: y += da * sum_b (dw * (dot - off * sa) (+ mw * sa for Q4_1)).
 * A group is AMXRT_ACT_GROUP blocks in the Q4 gemm (its activations share
 * one da per group, kernels.h), one block elsewhere.
 *
 * Two kernel shapes share one tile routine, specialized at compile time
 * for MR activation rows x P panels (16 columns each):
 *   gemv (M = 1): 1 x 8 panels for Q4, 1 x 4 for Q8_0, independent
 *     vpdpbusd chains sharing the activation broadcasts, Q4 low and high
 *     nibbles in separate chains (the high ones masked in place, 16 * q,
 *     one instruction fewer per load); memory-bound, it streams the panels
 *     once, Q4 prefetched a few blocks ahead.
 *   gemm (M > 1): 4 x 2 panels, weights loaded (and Q4 unpacked) once per
 *     block and used for 4 rows, activations broadcast from memory; rows
 *     are taken in groups that fit in L2 so a thread's panels are re-read
 *     once per group. Rows past M (up to the padded mp, which is a
 *     multiple of 16 and of MR) are computed on the zeros there and never
 *     stored.
 * Float types accumulate in f32 with FMA (F16 widened by vcvtph2ps, BF16
 * by vdpbf16ps on bf16 pairs, or by a shift where AVX512_BF16 is missing).
 */
#include <immintrin.h>
#include <stdatomic.h>
#include <string.h>

#include "../cpu/cpu.h"
#include "kernels.h"

#define AI static inline __attribute__((always_inline))

/* Rows of staged activations a gemm keeps hot per pass over the panels. */
#define ACT_L2_BYTES (384 * 1024)

#ifndef GEMM_MR
#define GEMM_MR 4 /* divides 16, so mp needs no row tail */
#endif
#ifndef GEMM_P
#define GEMM_P 2
#endif
#ifndef GEMV_P
#define GEMV_P 4 /* divides the dispatcher's unit of 4 panels */
#endif
/*
 * Q4 gemv takes 8 panels at a time (16 streams of quants and scales): more
 * streams in flight read faster while the hardware prefetchers restart on
 * each new one. Before the software prefetch below this paid only at
 * K <= 2048; with it, 8 panels are faster at every K (o projection of
 * 2048x4096: 58-60 GB/s against 36-55 with 4; Documentation/benchmarks.md).
 */
#define GEMV_WIDE_P 8

/*
 * Q4 gemv asks for each panel's quants some blocks ahead, and for the line
 * of scales (and mins) they go with. The hardware prefetchers alone leave
 * the core waiting on memory while it computes. Where to and how far ahead
 * depends on the core (Documentation/benchmarks.md): on the Zen 5 hosts
 * GEMV_PF_BLOCKS (768 bytes) into L1 (prefetcht0) made a decode step
 * 12-17% faster, and prefetcht1 was 8-12% slower than that; on a Zen 4
 * host GEMV_PF_L2_BLOCKS into L2 (prefetcht1) decoded 1.14-1.48 times as
 * fast as prefetcht0 3 ahead (5, 6, 8, 12 and 16 blocks ahead alike),
 * which is what gemv_pf_l2() picks for AMD family 19h. Not for Q8_0,
 * whose twice longer blocks stream well alone (8 prefetches a block
 * measured slower on Zen 5; into L2 on Zen 4, no gain).
 */
#define GEMV_PF_BLOCKS 3
#define GEMV_PF_L2_BLOCKS 6

/* Array bounds for the tile routines (the shapes used are constants). */
#define MAX_MR 12
#define MAX_P 8
#define MAX_U 4

/* Loops over registers: unrolled so the arrays live in registers. */
#define UNROLL _Pragma("GCC unroll 16")

/* ---- helpers ---------------------------------------------------------- */

AI __m512i bcast4(const void *p)
{
	int32_t v;

	memcpy(&v, p, 4);
	return _mm512_set1_epi32(v);
}

AI __m512 bcastf(const float *p)
{
	return _mm512_set1_ps(*p);
}

AI __m512 load_h16(const uint16_t *p)
{
	return _mm512_cvtph_ps(_mm256_load_si256((const __m256i *)p));
}

/* Lanes of panel p that are real columns (< n). */
AI __mmask16 col_mask(const struct amxrt_weight *w, int64_t p)
{
	int64_t left = w->n - p * AMXRT_PANEL_ROWS;

	return left >= AMXRT_PANEL_ROWS ? (__mmask16)0xffff :
					  (__mmask16)((1u << left) - 1);
}

AI int64_t min64(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

/*
 * Prefetch of the panels the next tile column will read, spread over the
 * tiles of the current one so that their first pass does not wait on
 * memory: tile t of nt fetches its share, a few lines per block.
 */
struct tile_pf {
	const char *base;
	int64_t lines; /* lines to fetch in this tile */
	int64_t per_block; /* of them, per block */
};

AI void pf_slice(struct tile_pf *pf, const struct amxrt_weight *w,
		 int64_t pnext, int64_t pend, int64_t t, int64_t nt)
{
	int64_t total, slice;

	pf->base = NULL;
	pf->lines = 0;
	pf->per_block = 0;
	if (pnext >= pend)
		return;
	total = (int64_t)((size_t)(pend - pnext) * w->panel_stride / 64);
	slice = (total + nt - 1) / nt;
	pf->base = (const char *)amxrt_panel(w, pnext) + t * slice * 64;
	pf->lines = min64(slice, total - t * slice);
	pf->per_block = (pf->lines + w->nb - 1) / w->nb;
}

AI void pf_block(const struct tile_pf *pf, int64_t b)
{
	int64_t l;

	for (l = b * pf->per_block;
	     l < (b + 1) * pf->per_block && l < pf->lines; l++)
		_mm_prefetch(pf->base + 64 * l, _MM_HINT_T1);
}

/* One line into L1 (prefetcht0) or, L2 set, into L2 (prefetcht1). */
AI void pf_line(const void *p, const int L2)
{
	if (L2)
		_mm_prefetch((const char *)p, _MM_HINT_T1);
	else
		_mm_prefetch((const char *)p, _MM_HINT_T0);
}

/*
 * Q4 gemv: prefetch block b of P panels, off bytes past them (four lines
 * of quants, and every other block the line holding the scales, and mins,
 * of two blocks). A tile's last blocks ask for the first blocks of the
 * next P panels (off = P panels): the pool gives each thread a contiguous
 * share of the panels, so they are most often the thread's next tile,
 * whose first loads then do not wait on memory (a decode step 1-1.5%
 * faster). Past a weight's end this touches other memory: harmless,
 * prefetches never fault. L2: prefetcht1 instead of prefetcht0.
 */
AI void gemv_pf_block(const uint8_t *const *qs, const uint16_t *const *dw,
		      const uint16_t *const *mw, int64_t b, const int P,
		      size_t off, const int L2)
{
	int j, l;

	UNROLL
	for (j = 0; j < P; j++) {
		UNROLL
		for (l = 0; l < 4; l++)
			pf_line(qs[j] + off + b * 256 + 64 * l, L2);
		if (b & 1)
			continue;
		pf_line((const char *)(dw[j] + 16 * b) + off, L2);
		if (mw[j])
			pf_line((const char *)(mw[j] + 16 * b) + off, L2);
	}
}

/* ---- integer tile ----------------------------------------------------- */

/*
 * y[m0 .. m0 + MR)[16p .. 16(p + P)) for rows < mreal (rows up to m0 + MR
 * exist in a, zero-padded).
 */
AI void int_tile(const struct amxrt_weight *w, const struct amxrt_act *a,
		 float *y, int64_t ldy, int64_t m0, int64_t mreal, int64_t p,
		 const int32_t *corr, const struct tile_pf *pf, const int MR,
		 const int P, const enum amxrt_type type, const int L2)
{
	const int off = type == AMXRT_TYPE_Q8_0 ? 128 :
			type == AMXRT_TYPE_Q4_0 ? 8 :
						  0;
	const int64_t nb = w->nb;
	/* gemv: low and high nibbles in two chains (see the Q4 loop) */
	const int SPLIT_CHAINS = MR == 1;
	/*
	 * Q4 gemm: da once per group of blocks (AMXRT_ACT_Q8G, kernels.h).
	 * The gemv, which waits on memory, takes the same activations one
	 * block at a time (da repeats within a group), keeping its
	 * registers; Q8_0 activations have a da per block.
	 */
	const int GROUPED = MR > 1 && type != AMXRT_TYPE_Q8_0;
	const __m512i lo4 = _mm512_set1_epi8(0x0f);
	const __m512i hi4 = _mm512_set1_epi8((char)0xf0);
	const uint8_t *qs[MAX_P];
	const uint16_t *dw[MAX_P], *mw[MAX_P];
	const int8_t *aq[MAX_MR];
	const float *ad[MAX_MR];
	const int32_t *as[MAX_MR];
	__m512 f[MAX_MR][MAX_P], gs[MAX_MR][MAX_P];
	int64_t b;
	int i, j, g;

	UNROLL
	for (j = 0; j < P; j++) {
		qs[j] = amxrt_panel_qs(w, p + j, 0);
		dw[j] = amxrt_panel_d(w, p + j, 0);
		mw[j] = type == AMXRT_TYPE_Q4_1 ? amxrt_panel_m(w, p + j, 0) :
						  NULL;
	}
	UNROLL
	for (i = 0; i < MR; i++) {
		aq[i] = a->q + (m0 + i) * a->kp;
		ad[i] = a->d + (m0 + i) * nb;
		as[i] = a->s + (m0 + i) * nb;
		UNROLL
		for (j = 0; j < P; j++) {
			f[i][j] = _mm512_setzero_ps();
			gs[i][j] = _mm512_setzero_ps();
		}
	}

	for (b = 0; b < nb; b++) {
		__m512i acc[MAX_MR][MAX_P], acc2[MAX_MR][MAX_P];

		if (pf)
			pf_block(pf, b);
		if (MR == 1 && type != AMXRT_TYPE_Q8_0) {
			/* near the end: the next P panels' first blocks */
			int64_t bp =
				b + (L2 ? GEMV_PF_L2_BLOCKS : GEMV_PF_BLOCKS);
			int next = bp >= nb;

			gemv_pf_block(qs, dw, mw, next ? bp - nb : bp, P,
				      next ? P * w->panel_stride : 0, L2);
		}

		UNROLL
		for (i = 0; i < MR; i++) {
			__m512i init =
				!off ? _mm512_setzero_si512() :
				corr ? _mm512_set1_epi32(corr[i * nb + b]) :
				       _mm512_set1_epi32(-off * as[i][b]);

			UNROLL
			for (j = 0; j < P; j++) {
				acc[i][j] = init;
				acc2[i][j] = _mm512_setzero_si512();
			}
		}
		if (type == AMXRT_TYPE_Q8_0) {
			UNROLL
			for (g = 0; g < 8; g++) {
				__m512i wv[MAX_P];

				UNROLL
				for (j = 0; j < P; j++) {
					const uint8_t *src =
						qs[j] + b * 512 + 64 * g;

					wv[j] = _mm512_load_si512(src);
				}
				UNROLL
				for (i = 0; i < MR; i++) {
					__m512i av =
						bcast4(aq[i] + 32 * b + 4 * g);

					UNROLL
					for (j = 0; j < P; j++)
						acc[i][j] = _mm512_dpbusd_epi32(
							acc[i][j], wv[j], av);
				}
			}
		} else {
			UNROLL
			for (g = 0; g < 4; g++) {
				__m512i wl[MAX_P], wh[MAX_P];

				UNROLL
				for (j = 0; j < P; j++) {
					const uint8_t *src =
						qs[j] + b * 256 + 64 * g;
					__m512i v;

					v = _mm512_load_si512(src);
					wl[j] = _mm512_and_si512(v, lo4);
					/*
					 * In split chains the high nibbles stay
					 * in place (16 * q): the chain is a
					 * multiple of 16 and is shifted back
					 * exactly once per block (16 products
					 * of at most 240 * 128 a lane: far
					 * from overflow).
					 */
					wh[j] = SPLIT_CHAINS ?
							_mm512_and_si512(v,
									 hi4) :
							_mm512_and_si512(
								_mm512_srli_epi16(
									v, 4),
								lo4);
				}
				UNROLL
				for (i = 0; i < MR; i++) {
					__m512i al =
						bcast4(aq[i] + 32 * b + 4 * g);
					__m512i ah = bcast4(aq[i] + 32 * b +
							    16 + 4 * g);

					UNROLL
					for (j = 0; j < P; j++) {
						acc[i][j] = _mm512_dpbusd_epi32(
							acc[i][j], wl[j], al);
						if (SPLIT_CHAINS)
							acc2[i][j] =
								_mm512_dpbusd_epi32(
									acc2[i]
									    [j],
									wh[j],
									ah);
						else
							acc[i][j] =
								_mm512_dpbusd_epi32(
									acc[i]
									   [j],
									wh[j],
									ah);
					}
				}
			}
		}
		if (SPLIT_CHAINS && type != AMXRT_TYPE_Q8_0) {
			UNROLL
			for (i = 0; i < MR; i++)
				UNROLL
			for (j = 0; j < P; j++)
				acc[i][j] = _mm512_add_epi32(
					acc[i][j],
					_mm512_srai_epi32(acc2[i][j], 4));
		}
		{
			/*
			 * The block scaled by dw into gs, which takes da at
			 * the last block of its group (of one block where
			 * da is per block)
			 */
			const int G = GROUPED ? AMXRT_ACT_GROUP : 1;
			int first = b % G == 0;
			__m512 d[MAX_P], mv[MAX_P];

			UNROLL
			for (j = 0; j < P; j++) {
				d[j] = load_h16(dw[j] + 16 * b);
				if (type == AMXRT_TYPE_Q4_1)
					mv[j] = load_h16(mw[j] + 16 * b);
			}
			UNROLL
			for (i = 0; i < MR; i++) {
				__m512 sa = _mm512_set1_ps((float)as[i][b]);

				UNROLL
				for (j = 0; j < P; j++) {
					__m512 v =
						_mm512_cvtepi32_ps(acc[i][j]);

					gs[i][j] =
						first ? _mm512_mul_ps(v, d[j]) :
							_mm512_fmadd_ps(
								v, d[j],
								gs[i][j]);
					if (type == AMXRT_TYPE_Q4_1)
						gs[i][j] = _mm512_fmadd_ps(
							mv[j], sa, gs[i][j]);
				}
			}
			if (b % G == G - 1 || b == nb - 1) {
				UNROLL
				for (i = 0; i < MR; i++) {
					__m512 da = bcastf(ad[i] + b);

					UNROLL
					for (j = 0; j < P; j++)
						f[i][j] = _mm512_fmadd_ps(
							gs[i][j], da, f[i][j]);
				}
			}
		}
	}

	UNROLL
	for (i = 0; i < MR; i++) {
		if (m0 + i >= mreal)
			break;
		UNROLL
		for (j = 0; j < P; j++)
			_mm512_mask_storeu_ps(
				y + (m0 + i) * ldy + (p + j) * AMXRT_PANEL_ROWS,
				col_mask(w, p + j), f[i][j]);
	}
}

/* ---- float tile ------------------------------------------------------- */

enum flt_kind {
	FLT_F32,
	FLT_F16,
	FLT_BF16_DP, /* vdpbf16ps, bf16 activations */
	FLT_BF16_WIDE, /* bf16 widened to f32 by shifts, f32 activations */
};

/*
 * As int_tile for the float types, with U independent accumulator sets
 * over k (U = 2 for the gemv so that 4 panels give 8 FMA chains). U sets
 * the order of an output's float sums: a kernel uses one U for all its
 * tiles, tail panels included, so that an output's bits do not depend on
 * where a chunk of panels starts (which follows the thread count).
 */
AI void flt_tile(const struct amxrt_weight *w, const struct amxrt_act *a,
		 float *y, int64_t ldy, int64_t m0, int64_t mreal, int64_t p,
		 const int MR, const int P, const int U,
		 const enum flt_kind kind)
{
	const int64_t kp = a->kp;
	const uint8_t *pan[MAX_P];
	const float *af[MAX_MR];
	const uint16_t *abf[MAX_MR];
	__m512 f[MAX_U][MAX_MR][MAX_P];
	int64_t k;
	int i, j, u;

	UNROLL
	for (j = 0; j < P; j++)
		pan[j] = amxrt_panel(w, p + j);
	UNROLL
	for (i = 0; i < MR; i++) {
		if (kind == FLT_BF16_DP)
			abf[i] = a->bf + (m0 + i) * kp;
		else
			af[i] = a->f + (m0 + i) * kp;
		UNROLL
		for (u = 0; u < U; u++)
			UNROLL
		for (j = 0; j < P; j++)
			f[u][i][j] = _mm512_setzero_ps();
	}

	if (kind == FLT_F32 || kind == FLT_F16) {
		for (k = 0; k < kp; k += U) {
			UNROLL
			for (u = 0; u < U; u++) {
				__m512 wv[MAX_P];

				UNROLL
				for (j = 0; j < P; j++) {
					if (kind == FLT_F32)
						wv[j] = _mm512_load_ps(
							pan[j] + 64 * (k + u));
					else
						wv[j] = _mm512_cvtph_ps(_mm256_load_si256(
							(const __m256i
								 *)(pan[j] +
								    32 * (k +
									  u))));
				}
				UNROLL
				for (i = 0; i < MR; i++) {
					__m512 av = bcastf(af[i] + k + u);

					UNROLL
					for (j = 0; j < P; j++)
						f[u][i][j] = _mm512_fmadd_ps(
							wv[j], av, f[u][i][j]);
				}
			}
		}
	} else {
		/* one 64-byte chunk per k pair */
		for (k = 0; k < kp; k += 2 * U) {
			UNROLL
			for (u = 0; u < U; u++) {
				int64_t c = k / 2 + u;
				__m512i wv[MAX_P];

				UNROLL
				for (j = 0; j < P; j++)
					wv[j] = _mm512_load_si512(pan[j] +
								  64 * c);
				UNROLL
				for (i = 0; i < MR; i++) {
					if (kind == FLT_BF16_DP) {
						__m512i av =
							bcast4(abf[i] + 2 * c);

						UNROLL
						for (j = 0; j < P; j++)
							f[u][i]
							 [j] = _mm512_dpbf16_ps(
								 f[u][i][j],
								 (__m512bh)wv[j],
								 (__m512bh)av);
					} else {
						__m512 ae =
							bcastf(af[i] + 2 * c);
						__m512 ao = bcastf(af[i] +
								   2 * c + 1);

						UNROLL
						for (j = 0; j < P; j++) {
							__m512 we = _mm512_castsi512_ps(
								_mm512_slli_epi32(
									wv[j],
									16));
							__m512 wo = _mm512_castsi512_ps(_mm512_and_si512(
								wv[j],
								_mm512_set1_epi32((
									int)0xffff0000u)));

							f[u][i]
							 [j] = _mm512_fmadd_ps(
								 we, ae,
								 f[u][i][j]);
							f[u][i]
							 [j] = _mm512_fmadd_ps(
								 wo, ao,
								 f[u][i][j]);
						}
					}
				}
			}
		}
	}

	UNROLL
	for (i = 0; i < MR; i++) {
		if (m0 + i >= mreal)
			break;
		UNROLL
		for (j = 0; j < P; j++) {
			__m512 s = f[0][i][j];

			UNROLL
			for (u = 1; u < U; u++)
				s = _mm512_add_ps(s, f[u][i][j]);
			_mm512_mask_storeu_ps(
				y + (m0 + i) * ldy + (p + j) * AMXRT_PANEL_ROWS,
				col_mask(w, p + j), s);
		}
	}
}

/* ---- loops over rows and panels --------------------------------------- */

/* Rows per pass over the panels: as many as keep the activations in L2. */
static int64_t rows_per_pass(const struct amxrt_act *a, int mr)
{
	size_t row = (size_t)a->kp * (amxrt_act_group(a->kind)	? 1 :
				      a->kind == AMXRT_ACT_BF16 ? 2 :
								  4);
	int64_t r = (int64_t)(ACT_L2_BYTES / row) / mr * mr;

	return r < mr ? mr : r;
}

/*
 * -off * sa for rows [r0, r0 + rows padded to GEMM_MR) into corr, so the
 * tiles start each block's sums with one broadcast load.
 */
static void int_corr(const struct amxrt_act *a, int64_t r0, int64_t r1,
		     int32_t *corr, enum amxrt_type type)
{
	int32_t off = type == AMXRT_TYPE_Q8_0 ? 128 : 8;
	int64_t n, end = r0 + (r1 - r0 + GEMM_MR - 1) / GEMM_MR * GEMM_MR;

	for (n = 0; n < (end - r0) * a->nb; n++)
		corr[n] = -off * a->s[r0 * a->nb + n];
}

AI void int_gemv(const struct amxrt_weight *w, const struct amxrt_act *a,
		 float *y, int64_t ldy, int64_t p0, int64_t p1,
		 const enum amxrt_type type, const int L2)
{
	int64_t p = p0;

	if (type != AMXRT_TYPE_Q8_0)
		for (; p + GEMV_WIDE_P <= p1; p += GEMV_WIDE_P)
			int_tile(w, a, y, ldy, 0, 1, p, NULL, NULL, 1,
				 GEMV_WIDE_P, type, L2);
	for (; p + GEMV_P <= p1; p += GEMV_P)
		int_tile(w, a, y, ldy, 0, 1, p, NULL, NULL, 1, GEMV_P, type,
			 L2);
	for (; p < p1; p++)
		int_tile(w, a, y, ldy, 0, 1, p, NULL, NULL, 1, 1, type, L2);
}

AI void int_gemm(const struct amxrt_weight *w, const struct amxrt_act *a,
		 float *y, int64_t ldy, int64_t p0, int64_t p1, void *scratch,
		 const enum amxrt_type type)
{
	int64_t step = rows_per_pass(a, GEMM_MR), r0, r1, p, i, nt;
	int32_t *corr = NULL;
	struct tile_pf pf;

	/* room for -off * sa of a pass (always there for K < 512 Ki) */
	if (type != AMXRT_TYPE_Q4_1 &&
	    (size_t)(step * a->nb) * 4 <= AMXRT_SCRATCH_BYTES)
		corr = scratch;
	for (r0 = 0; r0 < a->m; r0 += step) {
		r1 = min64(r0 + step, a->m);
		nt = (r1 - r0 + GEMM_MR - 1) / GEMM_MR;
		if (corr)
			int_corr(a, r0, r1, corr, type);
		for (p = p0; p + GEMM_P <= p1; p += GEMM_P) {
			for (i = r0; i < r1; i += GEMM_MR) {
				pf_slice(&pf, w, p + GEMM_P,
					 min64(p + 2 * GEMM_P, p1),
					 (i - r0) / GEMM_MR, nt);
				int_tile(w, a, y, ldy, i, r1, p,
					 corr ? corr + (i - r0) * a->nb : NULL,
					 &pf, GEMM_MR, GEMM_P, type, 0);
			}
		}
		for (; p < p1; p++)
			for (i = r0; i < r1; i += GEMM_MR)
				int_tile(w, a, y, ldy, i, r1, p,
					 corr ? corr + (i - r0) * a->nb : NULL,
					 NULL, GEMM_MR, 1, type, 0);
	}
}

/* A gemv: fn, for type, prefetching into L2 (gemv_pf_l2()) or L1. */
#define DEFINE_INT_GEMV(fn, type, L2)                                    \
	static void fn(const struct amxrt_weight *w,                     \
		       const struct amxrt_act *a, float *y, int64_t ldy, \
		       int64_t p0, int64_t p1, void *scratch)            \
	{                                                                \
		(void)scratch;                                           \
		int_gemv(w, a, y, ldy, p0, p1, type, L2);                \
	}

#define DEFINE_INT_KERNELS(name, type)                               \
	DEFINE_INT_GEMV(name##_gemv, type, 0)                        \
	static void name##_gemm(const struct amxrt_weight *w,        \
				const struct amxrt_act *a, float *y, \
				int64_t ldy, int64_t p0, int64_t p1, \
				void *scratch)                       \
	{                                                            \
		int_gemm(w, a, y, ldy, p0, p1, scratch, type);       \
	}

DEFINE_INT_KERNELS(q4_0, AMXRT_TYPE_Q4_0)
DEFINE_INT_KERNELS(q4_1, AMXRT_TYPE_Q4_1)
DEFINE_INT_KERNELS(q8_0, AMXRT_TYPE_Q8_0)
DEFINE_INT_GEMV(q4_0_gemv_l2, AMXRT_TYPE_Q4_0, 1)
DEFINE_INT_GEMV(q4_1_gemv_l2, AMXRT_TYPE_Q4_1, 1)

#define DEFINE_FLT_KERNELS(name, kind)                                       \
	static void name##_gemv(const struct amxrt_weight *w,                \
				const struct amxrt_act *a, float *y,         \
				int64_t ldy, int64_t p0, int64_t p1,         \
				void *scratch)                               \
	{                                                                    \
		int64_t p = p0;                                              \
                                                                             \
		(void)scratch;                                               \
		for (; p + GEMV_P <= p1; p += GEMV_P)                        \
			flt_tile(w, a, y, ldy, 0, 1, p, 1, GEMV_P, 2, kind); \
		for (; p < p1; p++)                                          \
			flt_tile(w, a, y, ldy, 0, 1, p, 1, 1, 2, kind);      \
	}                                                                    \
	static void name##_gemm(const struct amxrt_weight *w,                \
				const struct amxrt_act *a, float *y,         \
				int64_t ldy, int64_t p0, int64_t p1,         \
				void *scratch)                               \
	{                                                                    \
		int64_t step = rows_per_pass(a, GEMM_MR), r0, r1, p, i;      \
                                                                             \
		(void)scratch;                                               \
		for (r0 = 0; r0 < a->m; r0 += step) {                        \
			r1 = min64(r0 + step, a->m);                         \
			for (p = p0; p + GEMM_P <= p1; p += GEMM_P)          \
				for (i = r0; i < r1; i += GEMM_MR)           \
					flt_tile(w, a, y, ldy, i, r1, p,     \
						 GEMM_MR, GEMM_P, 1, kind);  \
			for (; p < p1; p++)                                  \
				for (i = r0; i < r1; i += GEMM_MR)           \
					flt_tile(w, a, y, ldy, i, r1, p,     \
						 GEMM_MR, 1, 1, kind);       \
		}                                                            \
	}

DEFINE_FLT_KERNELS(f32, FLT_F32)
DEFINE_FLT_KERNELS(f16, FLT_F16)
DEFINE_FLT_KERNELS(bf16dp, FLT_BF16_DP)
DEFINE_FLT_KERNELS(bf16w, FLT_BF16_WIDE)

/* ---- activation quantizer --------------------------------------------- */

/*
 * roundf() of each lane, exactly: t = trunc(v); v - t is exact, and where
 * |v - t| >= 0.5 the result moves one away from zero. (trunc(v + 0.5)
 * would be wrong for 0.49999997, whose sum with 0.5 rounds up to 1.)
 */
AI __m512 round_half_away(__m512 v)
{
	const __m512 half = _mm512_set1_ps(0.5f);
	const __m512i sign = _mm512_set1_epi32((int)0x80000000u);
	__m512 t =
		_mm512_roundscale_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
	__m512 fr = _mm512_abs_ps(_mm512_sub_ps(v, t));
	__mmask16 up = _mm512_cmp_ps_mask(fr, half, _CMP_GE_OQ);
	__m512 one = _mm512_castsi512_ps(
		_mm512_or_si512(_mm512_and_si512(_mm512_castps_si512(v), sign),
				_mm512_castps_si512(_mm512_set1_ps(1.0f))));

	return _mm512_mask_add_ps(t, up, t, one);
}

/*
 * The bytes of amxrt_act_quantize_row(): amax ignores NaN as the scalar
 * comparison does (vmaxps returns its second operand when either is NaN),
 * d = amax / 127 and id = 1 / d in scalar float as there, q = round(x * id)
 * converted to int32 (NaN and Inf give 0x80000000, as the scalar cast
 * does here) and truncated to int8, s the sum of the stored int8 values.
 */
/*
 * Sixteen vectors to one: lane i of the result reduces v[i] (with max or
 * add; both exact in any order here: the maxima are of numbers, no NaN,
 * and the sums of int32). Four rounds, each folding a vector's halves and
 * packing two vectors' results into one; then one permutation puts block
 * i in lane i.
 */
#define DEFINE_REDUCE16(name, T, op, sh4, shps, cast_in, cast_out)             \
	AI T name(T *v)                                                        \
	{                                                                      \
		const __m512i order = _mm512_set_epi32(                        \
			15, 11, 7, 3, 14, 10, 6, 2, 13, 9, 5, 1, 12, 8, 4, 0); \
		int i;                                                         \
                                                                               \
		for (i = 0; i < 8; i++) /* 128-bit lanes 0-1: v[2i] */         \
			v[i] = op(sh4(v[2 * i], v[2 * i + 1], 0x44),           \
				  sh4(v[2 * i], v[2 * i + 1], 0xee));          \
		for (i = 0; i < 4; i++) /* lane l: block 4i + l */             \
			v[i] = op(sh4(v[2 * i], v[2 * i + 1], 0x88),           \
				  sh4(v[2 * i], v[2 * i + 1], 0xdd));          \
		for (i = 0; i < 2; i++)                                        \
			v[i] = op(cast_in(shps(cast_out(v[2 * i]),             \
					       cast_out(v[2 * i + 1]), 0x44)), \
				  cast_in(shps(cast_out(v[2 * i]),             \
					       cast_out(v[2 * i + 1]),         \
					       0xee)));                        \
		/* element 4l + g: block 4g + l */                             \
		v[0] = op(                                                     \
			cast_in(shps(cast_out(v[0]), cast_out(v[1]), 0x88)),   \
			cast_in(shps(cast_out(v[0]), cast_out(v[1]), 0xdd)));  \
		return cast_in(_mm512_permutexvar_ps(order, cast_out(v[0])));  \
	}

AI __m512 id_ps(__m512 v)
{
	return v;
}

DEFINE_REDUCE16(reduce16_max, __m512, _mm512_max_ps, _mm512_shuffle_f32x4,
		_mm512_shuffle_ps, id_ps, id_ps)
DEFINE_REDUCE16(reduce16_add, __m512i, _mm512_add_epi32, _mm512_shuffle_i32x4,
		_mm512_shuffle_ps, _mm512_castps_si512, _mm512_castsi512_ps)

/*
 * Lane i = the largest of lanes 4(i / 4) .. 4(i / 4) + 3: the group's
 * maximum in each of its blocks' lanes (an AMXRT_ACT_Q8G group is 4
 * blocks, a 128-bit lane here).
 */
_Static_assert(AMXRT_ACT_GROUP == 4, "group_max() folds 128-bit lanes");
AI __m512 group_max(__m512 m)
{
	m = _mm512_max_ps(m, _mm512_shuffle_ps(m, m, 0xb1));
	return _mm512_max_ps(m, _mm512_shuffle_ps(m, m, 0x4e));
}

/* Block b of x (k values) in two vectors, zero past k. */
AI void load_block(const float *x, int64_t k, int64_t b, __m512 *x0, __m512 *x1)
{
	int64_t n = k - b * AMXRT_BLOCK_K;
	__mmask16 m0, m1;

	n = n < 0 ? 0 : (n > AMXRT_BLOCK_K ? AMXRT_BLOCK_K : n);
	m0 = n >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << n) - 1);
	m1 = n >= 32 ? (__mmask16)0xffff :
	     n <= 16 ? (__mmask16)0 :
		       (__mmask16)((1u << (n - 16)) - 1);
	*x0 = _mm512_maskz_loadu_ps(m0, x + b * AMXRT_BLOCK_K);
	*x1 = _mm512_maskz_loadu_ps(m1, x + b * AMXRT_BLOCK_K + 16);
}

/*
 * Sixteen whole blocks at once (the loop below, with the two horizontal
 * reductions and the two divisions of each block done for all sixteen
 * together): same bytes in under half the time (512 rows of 2048 on one
 * thread: 0.43 -> 0.20 ns a value).
 */
AI void stage16(const float *x, int group, int8_t *q, float *d, int32_t *s)
{
	const __m512 absmask =
		_mm512_castsi512_ps(_mm512_set1_epi32(0x7fffffff));
	__m512 mx[16], vd, vid;
	__m512i sum[16];
	float ids[16];
	int i;

	for (i = 0; i < 16; i++) {
		__m512 x0 = _mm512_loadu_ps(x + 32 * i),
		       x1 = _mm512_loadu_ps(x + 32 * i + 16);

		mx[i] = _mm512_max_ps(_mm512_and_ps(x0, absmask),
				      _mm512_setzero_ps());
		mx[i] = _mm512_max_ps(_mm512_and_ps(x1, absmask), mx[i]);
	}
	vd = reduce16_max(mx);
	if (group == AMXRT_ACT_GROUP)
		vd = group_max(vd);
	vd = _mm512_div_ps(vd, _mm512_set1_ps(127.0f));
	vid = _mm512_maskz_div_ps(_mm512_cmp_ps_mask(vd, _mm512_setzero_ps(),
						     _CMP_NEQ_UQ),
				  _mm512_set1_ps(1.0f), vd);
	_mm512_storeu_ps(d, vd);
	_mm512_storeu_ps(ids, vid);
	for (i = 0; i < 16; i++) {
		__m512 id = _mm512_set1_ps(ids[i]);
		__m128i q0 = _mm512_cvtepi32_epi8(
			_mm512_cvtps_epi32(round_half_away(_mm512_mul_ps(
				_mm512_loadu_ps(x + 32 * i), id))));
		__m128i q1 = _mm512_cvtepi32_epi8(
			_mm512_cvtps_epi32(round_half_away(_mm512_mul_ps(
				_mm512_loadu_ps(x + 32 * i + 16), id))));

		_mm_storeu_si128((__m128i *)(q + 32 * i), q0);
		_mm_storeu_si128((__m128i *)(q + 32 * i + 16), q1);
		sum[i] = _mm512_add_epi32(_mm512_cvtepi8_epi32(q0),
					  _mm512_cvtepi8_epi32(q1));
	}
	_mm512_storeu_si512(s, reduce16_add(sum));
}

void amxrt_stage_q8_avx512(const float *x, int64_t k, int64_t kp, int group,
			   int8_t *q, float *d, int32_t *s)
{
	const __m512 absmask =
		_mm512_castsi512_ps(_mm512_set1_epi32(0x7fffffff));
	int64_t b = 0, g, nb = kp / AMXRT_BLOCK_K;

	for (; (b + 16) * AMXRT_BLOCK_K <= k; b += 16)
		stage16(x + b * AMXRT_BLOCK_K, group, q + b * AMXRT_BLOCK_K,
			d + b, s + b);
	/* the rest a group at a time (b is a multiple of 16 here) */
	for (g = b; g < nb; g += group) {
		int64_t end = min64(g + group, nb);
		__m512 mx = _mm512_setzero_ps(), x0, x1, vid;
		float amax, db, id;

		for (b = g; b < end; b++) {
			load_block(x, k, b, &x0, &x1);
			mx = _mm512_max_ps(_mm512_and_ps(x0, absmask), mx);
			mx = _mm512_max_ps(_mm512_and_ps(x1, absmask), mx);
		}
		amax = _mm512_reduce_max_ps(mx);
		db = amax / 127;
		id = db ? 1.0f / db : 0.0f;
		vid = _mm512_set1_ps(id);
		for (b = g; b < end; b++) {
			__m128i q0, q1;

			load_block(x, k, b, &x0, &x1);
			q0 = _mm512_cvtepi32_epi8(_mm512_cvtps_epi32(
				round_half_away(_mm512_mul_ps(x0, vid))));
			q1 = _mm512_cvtepi32_epi8(_mm512_cvtps_epi32(
				round_half_away(_mm512_mul_ps(x1, vid))));
			_mm_storeu_si128((__m128i *)(q + b * AMXRT_BLOCK_K),
					 q0);
			_mm_storeu_si128(
				(__m128i *)(q + b * AMXRT_BLOCK_K + 16), q1);
			d[b] = db;
			s[b] = _mm512_reduce_add_epi32(
				_mm512_add_epi32(_mm512_cvtepi8_epi32(q0),
						 _mm512_cvtepi8_epi32(q1)));
		}
	}
}

/* ---- kernel table ----------------------------------------------------- */

#define KERNEL(var, nm, kind, f)                   \
	static const struct amxrt_kernel var = {   \
		.name = nm,                        \
		.act = kind,                       \
		.fn = f,                           \
		.stage_q8 = amxrt_stage_q8_avx512, \
	}

KERNEL(k_q4_0_gemv,
       "avx512vnni q4_0 gemv vpdpbusd 1x8 panels, prefetched to L1, q8 activations scaled per 4 blocks",
       AMXRT_ACT_Q8G, q4_0_gemv);
KERNEL(k_q4_0_gemv_l2,
       "avx512vnni q4_0 gemv vpdpbusd 1x8 panels, prefetched to L2 (AMD family 19h), q8 activations scaled per 4 blocks",
       AMXRT_ACT_Q8G, q4_0_gemv_l2);
KERNEL(k_q4_0_gemm,
       "avx512vnni q4_0 gemm vpdpbusd 4x2 panels, q8 activations scaled per 4 blocks",
       AMXRT_ACT_Q8G, q4_0_gemm);
KERNEL(k_q4_1_gemv,
       "avx512vnni q4_1 gemv vpdpbusd 1x8 panels, prefetched to L1, q8 activations scaled per 4 blocks",
       AMXRT_ACT_Q8G, q4_1_gemv);
KERNEL(k_q4_1_gemv_l2,
       "avx512vnni q4_1 gemv vpdpbusd 1x8 panels, prefetched to L2 (AMD family 19h), q8 activations scaled per 4 blocks",
       AMXRT_ACT_Q8G, q4_1_gemv_l2);
KERNEL(k_q4_1_gemm,
       "avx512vnni q4_1 gemm vpdpbusd 4x2 panels, q8 activations scaled per 4 blocks",
       AMXRT_ACT_Q8G, q4_1_gemm);
KERNEL(k_q8_0_gemv, "avx512vnni q8_0 gemv vpdpbusd 1x4 panels", AMXRT_ACT_Q8,
       q8_0_gemv);
KERNEL(k_q8_0_gemm, "avx512vnni q8_0 gemm vpdpbusd 4x2 panels", AMXRT_ACT_Q8,
       q8_0_gemm);
KERNEL(k_f32_gemv, "avx512 f32 gemv fma 1x4 panels", AMXRT_ACT_F32, f32_gemv);
KERNEL(k_f32_gemm, "avx512 f32 gemm fma 4x2 panels", AMXRT_ACT_F32, f32_gemm);
KERNEL(k_f16_gemv, "avx512 f16 gemv vcvtph2ps+fma 1x4 panels", AMXRT_ACT_F32,
       f16_gemv);
KERNEL(k_f16_gemm, "avx512 f16 gemm vcvtph2ps+fma 4x2 panels", AMXRT_ACT_F32,
       f16_gemm);
KERNEL(k_bf16dp_gemv, "avx512bf16 bf16 gemv vdpbf16ps 1x4 panels",
       AMXRT_ACT_BF16, bf16dp_gemv);
KERNEL(k_bf16dp_gemm, "avx512bf16 bf16 gemm vdpbf16ps 4x2 panels",
       AMXRT_ACT_BF16, bf16dp_gemm);
KERNEL(k_bf16w_gemv, "avx512 bf16 gemv widen+fma 1x4 panels (no AVX512_BF16)",
       AMXRT_ACT_F32, bf16w_gemv);
KERNEL(k_bf16w_gemm, "avx512 bf16 gemm widen+fma 4x2 panels (no AVX512_BF16)",
       AMXRT_ACT_F32, bf16w_gemm);

/* Whether this CPU has AVX512_BF16: asked once. */
static int have_bf16(void)
{
	static atomic_int known; /* 0 unknown, 1 yes, 2 no */
	int v = atomic_load_explicit(&known, memory_order_relaxed);

	if (!v) {
		struct amxrt_cpu_info ci;

		memset(&ci, 0, sizeof(ci));
		amxrt_cpu_detect(&ci);
		v = ci.features & AMXRT_CPU_AVX512BF16 ? 1 : 2;
		atomic_store_explicit(&known, v, memory_order_relaxed);
	}
	return v == 1;
}

/* -1: as the CPU asks (gemv_pf_l2()), 0: L1, 1: L2 */
static atomic_int pf_force = -1;

void amxrt_avx512_gemv_pf_force(int mode)
{
	atomic_store_explicit(&pf_force, mode < 0 ? -1 : !!mode,
			      memory_order_relaxed);
}

/*
 * Whether the Q4 gemvs prefetch into L2 (see GEMV_PF_L2_BLOCKS): on AMD
 * family 19h (Zen 4, the first AMD cores with AVX-512; Zen 3 never runs
 * these kernels), where it was measured faster.
 */
static int gemv_pf_l2(void)
{
	const struct amxrt_cpu_info *ci = amxrt_cpu_cached();
	int f = atomic_load_explicit(&pf_force, memory_order_relaxed);

	if (f >= 0)
		return f;
	return !strcmp(ci->vendor, "AuthenticAMD") && ci->family == 0x19;
}

const struct amxrt_kernel *amxrt_avx512_pick(enum amxrt_type type, int64_t m)
{
	int gemv = m == 1;

	switch (type) {
	case AMXRT_TYPE_Q4_0:
		if (gemv)
			return gemv_pf_l2() ? &k_q4_0_gemv_l2 : &k_q4_0_gemv;
		return &k_q4_0_gemm;
	case AMXRT_TYPE_Q4_1:
		if (gemv)
			return gemv_pf_l2() ? &k_q4_1_gemv_l2 : &k_q4_1_gemv;
		return &k_q4_1_gemm;
	case AMXRT_TYPE_Q8_0:
		return gemv ? &k_q8_0_gemv : &k_q8_0_gemm;
	case AMXRT_TYPE_F32:
		return gemv ? &k_f32_gemv : &k_f32_gemm;
	case AMXRT_TYPE_F16:
		return gemv ? &k_f16_gemv : &k_f16_gemm;
	case AMXRT_TYPE_BF16:
		if (have_bf16())
			return gemv ? &k_bf16dp_gemv : &k_bf16dp_gemm;
		return gemv ? &k_bf16w_gemv : &k_bf16w_gemm;
	default:
		return NULL;
	}
}
