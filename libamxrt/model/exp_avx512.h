/* SPDX-License-Identifier: MIT */
/*
 * exp_avx512.h - e^x for 16 floats at once, for the model's AVX-512 files
 * (include only from files built with the AVX-512 flags).
 */
#ifndef AMXRT_MODEL_EXP_AVX512_H
#define AMXRT_MODEL_EXP_AVX512_H

#include <immintrin.h>

/*
 * e^x for 16 floats: x = n ln2 + r, |r| <= ln2 / 2, e^r by its Taylor
 * polynomial of degree 6 (error below r^7 / 7! < 2e-7 relative), times
 * 2^n by vscalefps. Inputs below -88 give about 1e-38 (callers mask what
 * must be 0).
 */
static inline __m512 amxrt_exp16(__m512 x)
{
	__m512 n, r, p;

	x = _mm512_max_ps(x, _mm512_set1_ps(-88.0f));
	x = _mm512_min_ps(x, _mm512_set1_ps(88.0f));
	n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504f)),
				 _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
	r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693145751953125f), x);
	r = _mm512_fnmadd_ps(n, _mm512_set1_ps(1.4286068203094172e-06f), r);
	p = _mm512_set1_ps(1.0f / 720);
	p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 120));
	p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 24));
	p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 6));
	p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.5f));
	p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
	p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
	return _mm512_scalef_ps(p, n);
}

#endif /* AMXRT_MODEL_EXP_AVX512_H */
