// SPDX-License-Identifier: MIT
/*
 * pack_avx512.c - whole panels of Q4_0, Q4_1 and Q8_0 packed with AVX-512
 * (the paths that have it: avx512vnni, amx, amx-sim), byte for byte what
 * pack.c's portable packer writes (tests/pack.c compares the two).
 *
 * A block's quants of one row are 16 bytes (Q8_0: two such halves) that
 * the panel wants as 4 dwords, one in each of 4 lines, at the row's lane.
 * Four rows' 16 bytes go in one zmm (a row per 128-bit lane); a dword
 * permute turns each zmm into lanes that hold one dword of its four rows,
 * and a 4 x 4 transpose of 128-bit lanes over the four zmm gives the 4
 * lines, stored whole. The portable packer makes 4-byte moves (80 for a
 * Q4_0 block of 16 rows); this makes 16 loads, 24 shuffles (12 of them
 * lane inserts) and 4 stores.
 */
#include <immintrin.h>
#include <string.h>

#include "kernels.h"

#define AI static inline __attribute__((always_inline))

/*
 * The 4 lines of 16 rows' 16-byte groups at src + r * stride: line j holds
 * dword j of row r at lane r, xor flip.
 */
AI void lines16(const uint8_t *src, size_t stride, uint8_t *dst, __m512i flip)
{
	/* lane j of a row quad: dword j of its four rows */
	const __m512i idx = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6,
					      10, 14, 3, 7, 11, 15);
	__m512i y[4], t0, t1, t2, t3;
	int g;

	for (g = 0; g < 4; g++) {
		const uint8_t *s = src + (size_t)(4 * g) * stride;
		__m512i z = _mm512_castsi128_si512(
			_mm_loadu_si128((const __m128i *)s));

		z = _mm512_inserti32x4(
			z, _mm_loadu_si128((const __m128i *)(s + stride)), 1);
		z = _mm512_inserti32x4(
			z, _mm_loadu_si128((const __m128i *)(s + 2 * stride)),
			2);
		z = _mm512_inserti32x4(
			z, _mm_loadu_si128((const __m128i *)(s + 3 * stride)),
			3);
		y[g] = _mm512_xor_si512(_mm512_permutexvar_epi32(idx, z), flip);
	}
	t0 = _mm512_shuffle_i32x4(y[0], y[1], 0x44);
	t1 = _mm512_shuffle_i32x4(y[0], y[1], 0xee);
	t2 = _mm512_shuffle_i32x4(y[2], y[3], 0x44);
	t3 = _mm512_shuffle_i32x4(y[2], y[3], 0xee);
	_mm512_store_si512(dst, _mm512_shuffle_i32x4(t0, t2, 0x88));
	_mm512_store_si512(dst + 64, _mm512_shuffle_i32x4(t0, t2, 0xdd));
	_mm512_store_si512(dst + 128, _mm512_shuffle_i32x4(t1, t3, 0x88));
	_mm512_store_si512(dst + 192, _mm512_shuffle_i32x4(t1, t3, 0xdd));
}

void amxrt_pack_int_panel_avx512(const struct amxrt_weight *w, uint8_t *panel,
				 const uint8_t *rows)
{
	const size_t bb = amxrt_type_block_bytes(w->type);
	const size_t rb = w->row_bytes;
	const int hdr = w->type == AMXRT_TYPE_Q4_1 ? 4 : 2;
	const int q8 = w->type == AMXRT_TYPE_Q8_0;
	const __m512i flip = _mm512_set1_epi8(q8 ? (char)0x80 : 0);
	size_t used = (size_t)w->nb * (w->qbytes + 32) +
		      (w->min_off ? (size_t)w->nb * 32 : 0);
	int64_t b;
	int r;

	for (b = 0; b < w->nb; b++) {
		const uint8_t *src = rows + (size_t)b * bb;
		uint8_t *qs = panel + (size_t)b * w->qbytes;
		uint8_t *d = panel + w->scale_off + (size_t)b * 32;

		for (r = 0; r < AMXRT_PANEL_ROWS; r++)
			memcpy(d + 2 * r, src + (size_t)r * rb, 2);
		if (w->min_off)
			for (r = 0; r < AMXRT_PANEL_ROWS; r++)
				memcpy(d + (w->min_off - w->scale_off) + 2 * r,
				       src + (size_t)r * rb + 2, 2);
		lines16(src + hdr, rb, qs, flip);
		if (q8)
			lines16(src + hdr + 16, rb, qs + 256, flip);
	}
	memset(panel + used, 0, w->panel_stride - used);
}
