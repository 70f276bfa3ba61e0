// SPDX-License-Identifier: MIT
/*
 * norm_avx512.c - one row of RMSNorm, y = x / rms(x) * weight, with the
 * sum of squares in double as the portable loop in ops.c, 32 values a
 * step over four double chains. Built with the AVX-512 flags.
 */
#include <immintrin.h>
#include <math.h>

#include "model_int.h"

void amxrt_rmsnorm_avx512(float *y, const float *x, const float *weight,
			  int64_t n, float eps)
{
	__m512d s0 = _mm512_setzero_pd(), s1 = s0, s2 = s0, s3 = s0;
	__m512 vs;
	double sum;
	float s;
	int64_t j;

	for (j = 0; j + 32 <= n; j += 32) {
		__m512d a = _mm512_cvtps_pd(_mm256_loadu_ps(x + j));
		__m512d b = _mm512_cvtps_pd(_mm256_loadu_ps(x + j + 8));
		__m512d c = _mm512_cvtps_pd(_mm256_loadu_ps(x + j + 16));
		__m512d d = _mm512_cvtps_pd(_mm256_loadu_ps(x + j + 24));

		s0 = _mm512_fmadd_pd(a, a, s0);
		s1 = _mm512_fmadd_pd(b, b, s1);
		s2 = _mm512_fmadd_pd(c, c, s2);
		s3 = _mm512_fmadd_pd(d, d, s3);
	}
	sum = _mm512_reduce_add_pd(
		_mm512_add_pd(_mm512_add_pd(s0, s1), _mm512_add_pd(s2, s3)));
	for (; j < n; j++)
		sum += (double)x[j] * x[j];
	s = (float)(1.0 / sqrt(sum / (double)n + eps));
	vs = _mm512_set1_ps(s);
	/* (x * s) * weight, in float, as the portable loop */
	for (j = 0; j + 16 <= n; j += 16)
		_mm512_storeu_ps(
			y + j,
			_mm512_mul_ps(_mm512_mul_ps(_mm512_loadu_ps(x + j), vs),
				      _mm512_loadu_ps(weight + j)));
	for (; j < n; j++)
		y[j] = x[j] * s * weight[j];
}
