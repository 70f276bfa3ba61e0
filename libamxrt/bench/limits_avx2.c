// SPDX-License-Identifier: MIT
/*
 * limits_avx2.c - the AVX2 loops of amxrt_measure_limits(): the int8
 * sequence the AVX2 kernels use (vpmaddubsw, vpmaddwd by ones, vpaddd) on
 * ymm over 16 independent chains, and a ymm streaming read.
 */
#include <immintrin.h>

#include "limits.h"

#define CH(i) __m256i a##i = _mm256_set1_epi32((int)seed + i)
#define DP(i)                    \
	a##i = _mm256_add_epi32( \
		a##i, _mm256_madd_epi16(_mm256_maddubs_epi16(a##i, s), one))
#define R4(m, o) \
	m(o##0); \
	m(o##1); \
	m(o##2); \
	m(o##3)

static uint64_t sum8(__m256i v)
{
	__m128i x = _mm_add_epi32(_mm256_castsi256_si128(v),
				  _mm256_extracti128_si256(v, 1));

	x = _mm_add_epi32(x, _mm_shuffle_epi32(x, 0x4e));
	x = _mm_add_epi32(x, _mm_shuffle_epi32(x, 0xb1));
	return (uint32_t)_mm_cvtsi128_si32(x);
}

uint64_t amxrt_limits_int8_avx2(uint64_t iters, uint32_t seed)
{
	const __m256i one = _mm256_set1_epi16(1);
	const __m256i s = _mm256_set1_epi32((int)(seed ^ 0x5bd1e995u));
	__m256i t;
	uint64_t n;

	R4(CH, 0);
	R4(CH, 1);
	R4(CH, 2);
	R4(CH, 3);
	for (n = 0; n < iters; n++) {
		/* each chain multiplies its own sum, so none is shared */
		R4(DP, 0);
		R4(DP, 1);
		R4(DP, 2);
		R4(DP, 3);
	}
	t = _mm256_add_epi32(_mm256_add_epi32(_mm256_add_epi32(a00, a01),
					      _mm256_add_epi32(a02, a03)),
			     _mm256_add_epi32(_mm256_add_epi32(a10, a11),
					      _mm256_add_epi32(a12, a13)));
	t = _mm256_add_epi32(
		t,
		_mm256_add_epi32(_mm256_add_epi32(_mm256_add_epi32(a20, a21),
						  _mm256_add_epi32(a22, a23)),
				 _mm256_add_epi32(_mm256_add_epi32(a30, a31),
						  _mm256_add_epi32(a32, a33))));
	return sum8(t);
}

uint64_t amxrt_limits_read_avx2(const void *buf, size_t bytes)
{
	const char *p = buf;
	__m256i s0 = _mm256_setzero_si256(), s1 = s0, s2 = s0, s3 = s0;
	__m256i s4 = s0, s5 = s0, s6 = s0, s7 = s0;
	size_t i;

	for (i = 0; i < bytes; i += 256) {
		s0 = _mm256_add_epi64(
			s0, _mm256_load_si256((const __m256i *)(p + i)));
		s1 = _mm256_add_epi64(
			s1, _mm256_load_si256((const __m256i *)(p + i + 32)));
		s2 = _mm256_add_epi64(
			s2, _mm256_load_si256((const __m256i *)(p + i + 64)));
		s3 = _mm256_add_epi64(
			s3, _mm256_load_si256((const __m256i *)(p + i + 96)));
		s4 = _mm256_add_epi64(
			s4, _mm256_load_si256((const __m256i *)(p + i + 128)));
		s5 = _mm256_add_epi64(
			s5, _mm256_load_si256((const __m256i *)(p + i + 160)));
		s6 = _mm256_add_epi64(
			s6, _mm256_load_si256((const __m256i *)(p + i + 192)));
		s7 = _mm256_add_epi64(
			s7, _mm256_load_si256((const __m256i *)(p + i + 224)));
	}
	s0 = _mm256_add_epi64(_mm256_add_epi64(s0, s1),
			      _mm256_add_epi64(s2, s3));
	s4 = _mm256_add_epi64(_mm256_add_epi64(s4, s5),
			      _mm256_add_epi64(s6, s7));
	return sum8(_mm256_add_epi64(s0, s4));
}
