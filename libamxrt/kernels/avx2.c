// SPDX-License-Identifier: MIT
/*
 * avx2.c - the AVX2 + FMA + F16C path: matmul kernels that read the
 * panel16 layout (see kernels.h) for Q4_0, Q4_1, Q8_0, BF16, F16 and F32,
 * and a SIMD activation quantizer that gives the bytes of
 * amxrt_act_quantize_row(). A 64-byte chunk of a panel is two ymm: rows
 * 0..7 and rows 8..15.
 *
 * Without VNNI the int8 dot is vpmaddubsw (u8 x s8 -> pairs summed into
 * saturating int16) then vpmaddwd by ones (int16 pairs -> int32). The
 * int16 step must never saturate:
 *
 *   Q4_0, Q4_1: the u8 operand is a nibble (0..15) and the activation
 *     |a| <= 127 (Q8 staging never gives -128), so a pair is at most
 *     2 * 15 * 127 = 3810 and all 8 pairs of one block's row lane sum to at
 *     most 30480 < 32767: the block is summed in int16 (vpaddw) and widened
 *     once. Q4_0 keeps the stored offset: dot - 8 * sa, as kernels.h says.
 *   Q8_0: the stored byte is q + 128, up to 255, and 2 * 255 * 127 would
 *     saturate. So the offset is removed first (q = byte ^ 0x80, signed)
 *     and the sign moved onto the activation: |q| * (a * sign(q)) with
 *     vpabsb and vpsignb, which is q * a; |q| <= 128 and |a| <= 127 give a
 *     pair of at most 2 * 128 * 127 = 32512. Two such pairs could
 *     overflow, so each chunk is widened to int32 at once. No -128 * sa
 *     correction is needed then.
 *
 * Shapes: gemv (M = 1) runs 1 row x 2 panels; gemm (M > 1) 2 rows x 1
 * panel, the weights loaded (and unpacked) once per block for both rows.
 * Rows past M up to the padded mp are computed on zeros and not stored.
 */
#include <immintrin.h>
#include <string.h>

#include "kernels.h"

#define AI static inline __attribute__((always_inline))
#define UNROLL _Pragma("GCC unroll 16")
/*
 * The chunk loops stay loops: unrolled, gcc reassociates the integer sums
 * into trees whose partial results spill out of the 16 ymm registers.
 */
#define NO_UNROLL _Pragma("GCC unroll 1")

#define GEMM_MR 2 /* divides 16, so mp needs no row tail */
#define GEMV_P 2
#define MAX_MR 2
#define MAX_P 2
#define MAX_U 2

AI __m256i bcast4(const void *p)
{
	int32_t v;

	memcpy(&v, p, 4);
	return _mm256_set1_epi32(v);
}

/* 16 fp16 scales of a panel block as rows 0..7 and 8..15 */
AI void load_h16(const uint16_t *p, __m256 *lo, __m256 *hi)
{
	*lo = _mm256_cvtph_ps(_mm_load_si128((const __m128i *)p));
	*hi = _mm256_cvtph_ps(_mm_load_si128((const __m128i *)(p + 8)));
}

AI int64_t min64(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

/* Store the 16 columns of panel p of one row, only those < n. */
AI void store16(const struct amxrt_weight *w, float *yrow, int64_t p, __m256 lo,
		__m256 hi)
{
	int64_t left = w->n - p * AMXRT_PANEL_ROWS;
	float *dst = yrow + p * AMXRT_PANEL_ROWS;

	if (left >= AMXRT_PANEL_ROWS) {
		_mm256_storeu_ps(dst, lo);
		_mm256_storeu_ps(dst + 8, hi);
	} else {
		float tmp[16];
		int64_t c;

		_mm256_storeu_ps(tmp, lo);
		_mm256_storeu_ps(tmp + 8, hi);
		for (c = 0; c < left; c++)
			dst[c] = tmp[c];
	}
}

/* ---- integer tile ----------------------------------------------------- */

AI void int_tile(const struct amxrt_weight *w, const struct amxrt_act *a,
		 float *y, int64_t ldy, int64_t m0, int64_t mreal, int64_t p,
		 const int MR, const int P, const enum amxrt_type type)
{
	const int64_t nb = w->nb;
	const __m256i lo4 = _mm256_set1_epi8(0x0f);
	const __m256i ones = _mm256_set1_epi16(1);
	const __m256i flip = _mm256_set1_epi8((char)0x80);
	const uint8_t *qs[MAX_P];
	const uint16_t *dw[MAX_P], *mw[MAX_P];
	const int8_t *aq[MAX_MR];
	const float *ad[MAX_MR];
	const int32_t *as[MAX_MR];
	__m256 f[MAX_MR][MAX_P][2];
	int64_t b;
	int i, j, h, g;

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
		for (j = 0; j < P; j++)
			f[i][j][0] = f[i][j][1] = _mm256_setzero_ps();
	}

	for (b = 0; b < nb; b++) {
		__m256i acc[MAX_MR][MAX_P][2];

		if (type == AMXRT_TYPE_Q8_0) {
			UNROLL
			for (i = 0; i < MR; i++)
				UNROLL
			for (j = 0; j < P; j++)
				acc[i][j][0] = acc[i][j][1] =
					_mm256_setzero_si256();
			NO_UNROLL
			for (g = 0; g < 8; g++) {
				__m256i qv[MAX_P][2], av[MAX_P][2];

				UNROLL
				for (j = 0; j < P; j++) {
					UNROLL
					for (h = 0; h < 2; h++) {
						qv[j][h] = _mm256_xor_si256(
							_mm256_load_si256((
								const __m256i
									*)(qs[j] +
									   b * 512 +
									   64 * g +
									   32 * h)),
							flip);
						av[j][h] = _mm256_abs_epi8(
							qv[j][h]);
					}
				}
				UNROLL
				for (i = 0; i < MR; i++) {
					__m256i x =
						bcast4(aq[i] + 32 * b + 4 * g);

					UNROLL
					for (j = 0; j < P; j++)
						UNROLL
					for (h = 0; h < 2; h++)
						acc[i][j][h] = _mm256_add_epi32(
							acc[i][j][h],
							_mm256_madd_epi16(
								_mm256_maddubs_epi16(
									av[j][h],
									_mm256_sign_epi8(
										x,
										qv[j]
										  [h])),
								ones));
				}
			}
		} else {
			__m256i s16[MAX_MR][MAX_P][2];

			UNROLL
			for (i = 0; i < MR; i++)
				UNROLL
			for (j = 0; j < P; j++)
				s16[i][j][0] = s16[i][j][1] =
					_mm256_setzero_si256();
			NO_UNROLL
			for (g = 0; g < 4; g++) {
				__m256i wl[MAX_P][2], wh[MAX_P][2];

				UNROLL
				for (j = 0; j < P; j++) {
					UNROLL
					for (h = 0; h < 2; h++) {
						__m256i v = _mm256_load_si256(
							(const __m256i
								 *)(qs[j] +
								    b * 256 +
								    64 * g +
								    32 * h));

						wl[j][h] = _mm256_and_si256(
							v, lo4);
						wh[j][h] = _mm256_and_si256(
							_mm256_srli_epi16(v, 4),
							lo4);
					}
				}
				UNROLL
				for (i = 0; i < MR; i++) {
					__m256i xl =
						bcast4(aq[i] + 32 * b + 4 * g);
					__m256i xh = bcast4(aq[i] + 32 * b +
							    16 + 4 * g);

					UNROLL
					for (j = 0; j < P; j++)
						UNROLL
					for (h = 0; h < 2; h++)
						s16[i][j][h] = _mm256_add_epi16(
							s16[i][j][h],
							_mm256_add_epi16(
								_mm256_maddubs_epi16(
									wl[j][h],
									xl),
								_mm256_maddubs_epi16(
									wh[j][h],
									xh)));
				}
			}
			UNROLL
			for (i = 0; i < MR; i++) {
				__m256i init = type == AMXRT_TYPE_Q4_0 ?
						       _mm256_set1_epi32(
							       -8 * as[i][b]) :
						       _mm256_setzero_si256();

				UNROLL
				for (j = 0; j < P; j++)
					UNROLL
				for (h = 0; h < 2; h++)
					acc[i][j][h] = _mm256_add_epi32(
						init,
						_mm256_madd_epi16(s16[i][j][h],
								  ones));
			}
		}
		{
			__m256 d[MAX_P][2];

			UNROLL
			for (j = 0; j < P; j++)
				load_h16(dw[j] + 16 * b, &d[j][0], &d[j][1]);
			UNROLL
			for (i = 0; i < MR; i++) {
				__m256 da = _mm256_set1_ps(ad[i][b]);

				UNROLL
				for (j = 0; j < P; j++)
					UNROLL
				for (h = 0; h < 2; h++)
					f[i][j][h] = _mm256_fmadd_ps(
						_mm256_cvtepi32_ps(
							acc[i][j][h]),
						_mm256_mul_ps(d[j][h], da),
						f[i][j][h]);
			}
		}
		if (type == AMXRT_TYPE_Q4_1) {
			__m256 mv[MAX_P][2];

			UNROLL
			for (j = 0; j < P; j++)
				load_h16(mw[j] + 16 * b, &mv[j][0], &mv[j][1]);
			UNROLL
			for (i = 0; i < MR; i++) {
				__m256 ds = _mm256_set1_ps(ad[i][b] *
							   (float)as[i][b]);

				UNROLL
				for (j = 0; j < P; j++)
					UNROLL
				for (h = 0; h < 2; h++)
					f[i][j][h] = _mm256_fmadd_ps(
						mv[j][h], ds, f[i][j][h]);
			}
		}
	}

	UNROLL
	for (i = 0; i < MR; i++) {
		if (m0 + i >= mreal)
			break;
		UNROLL
		for (j = 0; j < P; j++)
			store16(w, y + (m0 + i) * ldy, p + j, f[i][j][0],
				f[i][j][1]);
	}
}

/* ---- float tile ------------------------------------------------------- */

enum flt_kind {
	FLT_F32,
	FLT_F16,
	FLT_BF16, /* widened to f32 by shifts */
};

AI void flt_tile(const struct amxrt_weight *w, const struct amxrt_act *a,
		 float *y, int64_t ldy, int64_t m0, int64_t mreal, int64_t p,
		 const int MR, const int P, const int U,
		 const enum flt_kind kind)
{
	const int64_t kp = a->kp;
	const __m256i hi16 = _mm256_set1_epi32((int)0xffff0000u);
	const uint8_t *pan[MAX_P];
	const float *af[MAX_MR];
	__m256 f[MAX_U][MAX_MR][MAX_P][2];
	int64_t k;
	int i, j, h, u;

	UNROLL
	for (j = 0; j < P; j++)
		pan[j] = amxrt_panel(w, p + j);
	UNROLL
	for (i = 0; i < MR; i++) {
		af[i] = a->f + (m0 + i) * kp;
		UNROLL
		for (u = 0; u < U; u++)
			UNROLL
		for (j = 0; j < P; j++)
			f[u][i][j][0] = f[u][i][j][1] = _mm256_setzero_ps();
	}

	if (kind != FLT_BF16) {
		for (k = 0; k < kp; k += U) {
			UNROLL
			for (u = 0; u < U; u++) {
				__m256 wv[MAX_P][2];

				UNROLL
				for (j = 0; j < P; j++) {
					if (kind == FLT_F32) {
						const float *src =
							(const float
								 *)(pan[j] +
								    64 * (k +
									  u));

						wv[j][0] = _mm256_load_ps(src);
						wv[j][1] =
							_mm256_load_ps(src + 8);
					} else {
						const __m128i *src =
							(const __m128i
								 *)(pan[j] +
								    32 * (k +
									  u));

						wv[j][0] = _mm256_cvtph_ps(
							_mm_load_si128(src));
						wv[j][1] = _mm256_cvtph_ps(
							_mm_load_si128(src +
								       1));
					}
				}
				UNROLL
				for (i = 0; i < MR; i++) {
					__m256 x = _mm256_broadcast_ss(af[i] +
								       k + u);

					UNROLL
					for (j = 0; j < P; j++)
						UNROLL
					for (h = 0; h < 2; h++)
						f[u][i][j][h] = _mm256_fmadd_ps(
							wv[j][h], x,
							f[u][i][j][h]);
				}
			}
		}
	} else {
		/* one 64-byte chunk per k pair */
		for (k = 0; k < kp; k += 2 * U) {
			UNROLL
			for (u = 0; u < U; u++) {
				int64_t c = k / 2 + u;
				__m256 we[MAX_P][2], wo[MAX_P][2];

				UNROLL
				for (j = 0; j < P; j++) {
					UNROLL
					for (h = 0; h < 2; h++) {
						__m256i v = _mm256_load_si256(
							(const __m256i
								 *)(pan[j] +
								    64 * c +
								    32 * h));

						we[j][h] = _mm256_castsi256_ps(
							_mm256_slli_epi32(v,
									  16));
						wo[j][h] = _mm256_castsi256_ps(
							_mm256_and_si256(v,
									 hi16));
					}
				}
				UNROLL
				for (i = 0; i < MR; i++) {
					__m256 xe = _mm256_broadcast_ss(af[i] +
									2 * c);
					__m256 xo = _mm256_broadcast_ss(
						af[i] + 2 * c + 1);

					UNROLL
					for (j = 0; j < P; j++)
						UNROLL
					for (h = 0; h < 2; h++) {
						f[u][i][j][h] = _mm256_fmadd_ps(
							we[j][h], xe,
							f[u][i][j][h]);
						f[u][i][j][h] = _mm256_fmadd_ps(
							wo[j][h], xo,
							f[u][i][j][h]);
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
			__m256 s0 = f[0][i][j][0], s1 = f[0][i][j][1];

			UNROLL
			for (u = 1; u < U; u++) {
				s0 = _mm256_add_ps(s0, f[u][i][j][0]);
				s1 = _mm256_add_ps(s1, f[u][i][j][1]);
			}
			store16(w, y + (m0 + i) * ldy, p + j, s0, s1);
		}
	}
}

/* ---- loops over rows and panels --------------------------------------- */

AI void int_gemv(const struct amxrt_weight *w, const struct amxrt_act *a,
		 float *y, int64_t ldy, int64_t p0, int64_t p1,
		 const enum amxrt_type type)
{
	int64_t p = p0;

	for (; p + GEMV_P <= p1; p += GEMV_P)
		int_tile(w, a, y, ldy, 0, 1, p, 1, GEMV_P, type);
	for (; p < p1; p++)
		int_tile(w, a, y, ldy, 0, 1, p, 1, 1, type);
}

/* Rows per pass over the panels: about what stays in L2 (256 KiB). */
static int64_t rows_per_pass(const struct amxrt_act *a)
{
	size_t row = (size_t)a->kp * (amxrt_act_group(a->kind) ? 1 : 4);
	int64_t r = (int64_t)((192 * 1024) / row) / GEMM_MR * GEMM_MR;

	return r < GEMM_MR ? GEMM_MR : r;
}

AI void int_gemm(const struct amxrt_weight *w, const struct amxrt_act *a,
		 float *y, int64_t ldy, int64_t p0, int64_t p1,
		 const enum amxrt_type type)
{
	int64_t step = rows_per_pass(a), r0, r1, p, i;

	for (r0 = 0; r0 < a->m; r0 += step) {
		r1 = min64(r0 + step, a->m);
		for (p = p0; p < p1; p++)
			for (i = r0; i < r1; i += GEMM_MR)
				int_tile(w, a, y, ldy, i, r1, p, GEMM_MR, 1,
					 type);
	}
}

AI void flt_gemv(const struct amxrt_weight *w, const struct amxrt_act *a,
		 float *y, int64_t ldy, int64_t p0, int64_t p1,
		 const enum flt_kind kind)
{
	int64_t p = p0;

	for (; p + GEMV_P <= p1; p += GEMV_P)
		flt_tile(w, a, y, ldy, 0, 1, p, 1, GEMV_P, 2, kind);
	for (; p < p1; p++)
		flt_tile(w, a, y, ldy, 0, 1, p, 1, 1, 2, kind);
}

AI void flt_gemm(const struct amxrt_weight *w, const struct amxrt_act *a,
		 float *y, int64_t ldy, int64_t p0, int64_t p1,
		 const enum flt_kind kind)
{
	int64_t step = rows_per_pass(a), r0, r1, p, i;

	for (r0 = 0; r0 < a->m; r0 += step) {
		r1 = min64(r0 + step, a->m);
		for (p = p0; p < p1; p++)
			for (i = r0; i < r1; i += GEMM_MR)
				flt_tile(w, a, y, ldy, i, r1, p, GEMM_MR, 1, 2,
					 kind);
	}
}

#define DEFINE_KERNELS(name, shape, arg)                             \
	static void name##_gemv(const struct amxrt_weight *w,        \
				const struct amxrt_act *a, float *y, \
				int64_t ldy, int64_t p0, int64_t p1, \
				void *scratch)                       \
	{                                                            \
		(void)scratch;                                       \
		shape##_gemv(w, a, y, ldy, p0, p1, arg);             \
	}                                                            \
	static void name##_gemm(const struct amxrt_weight *w,        \
				const struct amxrt_act *a, float *y, \
				int64_t ldy, int64_t p0, int64_t p1, \
				void *scratch)                       \
	{                                                            \
		(void)scratch;                                       \
		shape##_gemm(w, a, y, ldy, p0, p1, arg);             \
	}

DEFINE_KERNELS(q4_0, int, AMXRT_TYPE_Q4_0)
DEFINE_KERNELS(q4_1, int, AMXRT_TYPE_Q4_1)
DEFINE_KERNELS(q8_0, int, AMXRT_TYPE_Q8_0)
DEFINE_KERNELS(f32, flt, FLT_F32)
DEFINE_KERNELS(f16, flt, FLT_F16)
DEFINE_KERNELS(bf16, flt, FLT_BF16)

/* ---- activation quantizer --------------------------------------------- */

/* roundf() of each lane, exactly (see avx512.c) */
AI __m256 round_half_away(__m256 v)
{
	const __m256 sign =
		_mm256_castsi256_ps(_mm256_set1_epi32((int)0x80000000u));
	__m256 t = _mm256_round_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
	__m256 fr = _mm256_andnot_ps(sign, _mm256_sub_ps(v, t));
	__m256 up = _mm256_cmp_ps(fr, _mm256_set1_ps(0.5f), _CMP_GE_OQ);
	__m256 one = _mm256_or_ps(_mm256_and_ps(v, sign), _mm256_set1_ps(1.0f));

	return _mm256_add_ps(t, _mm256_and_ps(up, one));
}

/* Block b of x (k values) in four vectors, zero past k. */
AI void load_block(const float *x, int64_t k, int64_t b, __m256 *xv)
{
	int64_t n = k - b * AMXRT_BLOCK_K;
	float buf[AMXRT_BLOCK_K];
	int c;

	n = n < 0 ? 0 : (n > AMXRT_BLOCK_K ? AMXRT_BLOCK_K : n);
	if (n == AMXRT_BLOCK_K) {
		for (c = 0; c < 4; c++)
			xv[c] = _mm256_loadu_ps(x + b * AMXRT_BLOCK_K + 8 * c);
		return;
	}
	memset(buf, 0, sizeof(buf));
	if (n)
		memcpy(buf, x + b * AMXRT_BLOCK_K, (size_t)n * sizeof(float));
	for (c = 0; c < 4; c++)
		xv[c] = _mm256_loadu_ps(buf + 8 * c);
}

/* Block b's q (x times id) and s. */
AI void quant_block(const __m256 *xv, float id, int8_t *q, int32_t *s)
{
	const __m256i bad = _mm256_set1_epi32((int)0x80000000u);
	__m256i iv[4], p16a, p16b, p8, s32;
	__m128i t;
	int c;

	for (c = 0; c < 4; c++) {
		iv[c] = _mm256_cvtps_epi32(round_half_away(
			_mm256_mul_ps(xv[c], _mm256_set1_ps(id))));
		iv[c] = _mm256_andnot_si256(_mm256_cmpeq_epi32(iv[c], bad),
					    iv[c]);
	}
	/* packs work per 128-bit lane: fix the order with a permute */
	p16a = _mm256_packs_epi32(iv[0], iv[1]);
	p16b = _mm256_packs_epi32(iv[2], iv[3]);
	p8 = _mm256_packs_epi16(p16a, p16b);
	p8 = _mm256_permutevar8x32_epi32(p8, _mm256_setr_epi32(0, 4, 1, 5, 2, 6,
							       3, 7));
	_mm256_storeu_si256((__m256i *)q, p8);
	s32 = _mm256_add_epi32(_mm256_add_epi32(iv[0], iv[1]),
			       _mm256_add_epi32(iv[2], iv[3]));
	t = _mm_add_epi32(_mm256_castsi256_si128(s32),
			  _mm256_extracti128_si256(s32, 1));
	t = _mm_add_epi32(t, _mm_shuffle_epi32(t, 0x4e));
	t = _mm_add_epi32(t, _mm_shuffle_epi32(t, 0xb1));
	*s = _mm_cvtsi128_si32(t);
}

/*
 * The bytes of amxrt_act_quantize_row() (see stage_q8_avx512). NaN and
 * Inf convert to 0x80000000, whose low byte the scalar cast keeps (0);
 * the saturating packs here would make it -128, so such lanes are zeroed
 * first; every other value is in -127..127 and packs unchanged.
 */
static void stage_q8_avx2(const float *x, int64_t k, int64_t kp, int group,
			  int8_t *q, float *d, int32_t *s)
{
	const __m256 absmask =
		_mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
	int64_t nb = kp / AMXRT_BLOCK_K, g, b;
	__m256 xv[4];
	int c;

	for (g = 0; g < nb; g += group) {
		int64_t end = g + group < nb ? g + group : nb;
		__m256 mx = _mm256_setzero_ps();
		float amax, db, id;
		__m128 m4;

		for (b = g; b < end; b++) {
			load_block(x, k, b, xv);
			for (c = 0; c < 4; c++)
				mx = _mm256_max_ps(
					_mm256_and_ps(xv[c], absmask), mx);
		}
		m4 = _mm_max_ps(_mm256_castps256_ps128(mx),
				_mm256_extractf128_ps(mx, 1));
		m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
		m4 = _mm_max_ss(m4, _mm_shuffle_ps(m4, m4, 1));
		amax = _mm_cvtss_f32(m4);
		db = amax / 127;
		id = db ? 1.0f / db : 0.0f;
		for (b = g; b < end; b++) {
			load_block(x, k, b, xv);
			quant_block(xv, id, q + b * AMXRT_BLOCK_K, s + b);
			d[b] = db;
		}
	}
}

/* ---- kernel table ----------------------------------------------------- */

#define KERNEL(var, nm, kind, f)                 \
	static const struct amxrt_kernel var = { \
		.name = nm,                      \
		.act = kind,                     \
		.fn = f,                         \
		.stage_q8 = stage_q8_avx2,       \
	}

KERNEL(k_q4_0_gemv,
       "avx2 q4_0 gemv vpmaddubsw 1x2 panels, q8 activations scaled per 4 blocks",
       AMXRT_ACT_Q8G, q4_0_gemv);
KERNEL(k_q4_0_gemm,
       "avx2 q4_0 gemm vpmaddubsw 2x1 panels, q8 activations scaled per 4 blocks",
       AMXRT_ACT_Q8G, q4_0_gemm);
KERNEL(k_q4_1_gemv,
       "avx2 q4_1 gemv vpmaddubsw 1x2 panels, q8 activations scaled per 4 blocks",
       AMXRT_ACT_Q8G, q4_1_gemv);
KERNEL(k_q4_1_gemm,
       "avx2 q4_1 gemm vpmaddubsw 2x1 panels, q8 activations scaled per 4 blocks",
       AMXRT_ACT_Q8G, q4_1_gemm);
KERNEL(k_q8_0_gemv, "avx2 q8_0 gemv vpsignb+vpmaddubsw 1x2 panels",
       AMXRT_ACT_Q8, q8_0_gemv);
KERNEL(k_q8_0_gemm, "avx2 q8_0 gemm vpsignb+vpmaddubsw 2x1 panels",
       AMXRT_ACT_Q8, q8_0_gemm);
KERNEL(k_f32_gemv, "avx2 f32 gemv fma 1x2 panels", AMXRT_ACT_F32, f32_gemv);
KERNEL(k_f32_gemm, "avx2 f32 gemm fma 2x1 panels", AMXRT_ACT_F32, f32_gemm);
KERNEL(k_f16_gemv, "avx2 f16 gemv vcvtph2ps+fma 1x2 panels", AMXRT_ACT_F32,
       f16_gemv);
KERNEL(k_f16_gemm, "avx2 f16 gemm vcvtph2ps+fma 2x1 panels", AMXRT_ACT_F32,
       f16_gemm);
KERNEL(k_bf16_gemv, "avx2 bf16 gemv widen+fma 1x2 panels", AMXRT_ACT_F32,
       bf16_gemv);
KERNEL(k_bf16_gemm, "avx2 bf16 gemm widen+fma 2x1 panels", AMXRT_ACT_F32,
       bf16_gemm);

const struct amxrt_kernel *amxrt_avx2_pick(enum amxrt_type type, int64_t m)
{
	int gemv = m == 1;

	switch (type) {
	case AMXRT_TYPE_Q4_0:
		return gemv ? &k_q4_0_gemv : &k_q4_0_gemm;
	case AMXRT_TYPE_Q4_1:
		return gemv ? &k_q4_1_gemv : &k_q4_1_gemm;
	case AMXRT_TYPE_Q8_0:
		return gemv ? &k_q8_0_gemv : &k_q8_0_gemm;
	case AMXRT_TYPE_F32:
		return gemv ? &k_f32_gemv : &k_f32_gemm;
	case AMXRT_TYPE_F16:
		return gemv ? &k_f16_gemv : &k_f16_gemm;
	case AMXRT_TYPE_BF16:
		return gemv ? &k_bf16_gemv : &k_bf16_gemm;
	default:
		return NULL;
	}
}
