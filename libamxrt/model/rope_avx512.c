// SPDX-License-Identifier: MIT
/*
 * rope_avx512.c - one row of rotary position embedding (the rotation of
 * amxrt_rope()) with AVX-512, 8 pairs a step: in NeoX order the pair's
 * halves are two vectors; in interleaved order one vector holds 8 pairs
 * and a swap of neighbours gives each element its partner. Built with the
 * AVX-512 flags.
 */
#include <immintrin.h>

#include "model_int.h"

/* Rotate pair (x0, x1) by (c, s) into *a, *b. */
static inline void turn(float *a, float *b, float c, float s)
{
	float x0 = *a, x1 = *b;

	*a = x0 * c - x1 * s;
	*b = x0 * s + x1 * c;
}

void amxrt_rope_row_avx512(float *row, const float *cs, int n_heads, int d,
			   int n_rot, int neox)
{
	const int half = n_rot / 2;
	const float *sn = cs + half;
	/* element 2i and 2i + 1 take angle i */
	const __m512i dup = _mm512_set_epi32(7, 7, 6, 6, 5, 5, 4, 4, 3, 3, 2, 2,
					     1, 1, 0, 0);
	/* the sine's sign: - for the first of a pair, + for the second */
	const __m512 neg = _mm512_castsi512_ps(_mm512_set_epi32(
		0, (int)0x80000000u, 0, (int)0x80000000u, 0, (int)0x80000000u,
		0, (int)0x80000000u, 0, (int)0x80000000u, 0, (int)0x80000000u,
		0, (int)0x80000000u, 0, (int)0x80000000u));
	int h, j;

	for (h = 0; h < n_heads; h++) {
		float *v = row + (int64_t)h * d;

		if (neox) {
			for (j = 0; j + 16 <= half; j += 16) {
				__m512 x0 = _mm512_loadu_ps(v + j);
				__m512 x1 = _mm512_loadu_ps(v + half + j);
				__m512 c = _mm512_loadu_ps(cs + j);
				__m512 s = _mm512_loadu_ps(sn + j);

				_mm512_storeu_ps(
					v + j,
					_mm512_sub_ps(_mm512_mul_ps(x0, c),
						      _mm512_mul_ps(x1, s)));
				_mm512_storeu_ps(
					v + half + j,
					_mm512_add_ps(_mm512_mul_ps(x0, s),
						      _mm512_mul_ps(x1, c)));
			}
			for (; j < half; j++)
				turn(v + j, v + half + j, cs[j], sn[j]);
			continue;
		}
		for (j = 0; j + 8 <= half; j += 8) {
			__m512 x = _mm512_loadu_ps(v + 2 * j);
			__m512 c = _mm512_permutexvar_ps(
				dup, _mm512_castps256_ps512(
					     _mm256_loadu_ps(cs + j)));
			__m512 s = _mm512_xor_ps(
				_mm512_permutexvar_ps(
					dup, _mm512_castps256_ps512(
						     _mm256_loadu_ps(sn + j))),
				neg);
			/* each element's partner: (x1, x0) for (x0, x1) */
			__m512 p = _mm512_permute_ps(x, 0xb1);

			_mm512_storeu_ps(v + 2 * j,
					 _mm512_add_ps(_mm512_mul_ps(x, c),
						       _mm512_mul_ps(p, s)));
		}
		for (; j < half; j++)
			turn(v + 2 * j, v + 2 * j + 1, cs[j], sn[j]);
	}
}
