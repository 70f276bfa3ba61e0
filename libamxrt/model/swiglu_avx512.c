// SPDX-License-Identifier: MIT
/*
 * swiglu_avx512.c - the SwiGLU gate, g = silu(g) * u, 16 values at a time
 * with the vectorized exp. Built with the AVX-512 flags.
 */
#include <math.h>

#include "exp_avx512.h"
#include "model_int.h"

void amxrt_swiglu_avx512(float *g, const float *u, int64_t n)
{
	const __m512 one = _mm512_set1_ps(1.0f);
	int64_t i;

	for (i = 0; i + 16 <= n; i += 16) {
		__m512 x = _mm512_loadu_ps(g + i);
		__m512 e = amxrt_exp16(_mm512_sub_ps(_mm512_setzero_ps(), x));
		__m512 s = _mm512_div_ps(x, _mm512_add_ps(one, e));

		_mm512_storeu_ps(g + i,
				 _mm512_mul_ps(s, _mm512_loadu_ps(u + i)));
	}
	for (; i < n; i++)
		g[i] = g[i] / (1.0f + expf(-g[i])) * u[i];
}
