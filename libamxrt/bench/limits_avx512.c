// SPDX-License-Identifier: MIT
/*
 * limits_avx512.c - the AVX-512 loops of amxrt_measure_limits(): vpdpbusd
 * zmm peak over 16 independent chains, and a zmm streaming read.
 */
#include <immintrin.h>

#include "limits.h"

#define CH(i) __m512i a##i = _mm512_set1_epi32((int)seed + i)
#define DP(i) a##i = _mm512_dpbusd_epi32(a##i, u, s)
#define R4(m, o) \
	m(o##0); \
	m(o##1); \
	m(o##2); \
	m(o##3)

/* Lane sum with wrap-around (the intrinsic reductions add as signed). */
static uint64_t sum_lanes(__m512i v)
{
	uint64_t l[8], r = 0;
	int i;

	_mm512_storeu_si512(l, v);
	for (i = 0; i < 8; i++)
		r += l[i];
	return r;
}

uint64_t amxrt_limits_int8_avx512(uint64_t iters, uint32_t seed)
{
	/* operands the compiler cannot know, so no chain can be folded */
	__m512i u = _mm512_set1_epi32((int)(seed * 2654435761u));
	__m512i s = _mm512_set1_epi32((int)(seed ^ 0x5bd1e995u));
	__m512i t;
	uint64_t n;

	R4(CH, 0);
	R4(CH, 1);
	R4(CH, 2);
	R4(CH, 3);
	for (n = 0; n < iters; n++) {
		R4(DP, 0);
		R4(DP, 1);
		R4(DP, 2);
		R4(DP, 3);
	}
	t = _mm512_add_epi32(_mm512_add_epi32(_mm512_add_epi32(a00, a01),
					      _mm512_add_epi32(a02, a03)),
			     _mm512_add_epi32(_mm512_add_epi32(a10, a11),
					      _mm512_add_epi32(a12, a13)));
	t = _mm512_add_epi32(
		t,
		_mm512_add_epi32(_mm512_add_epi32(_mm512_add_epi32(a20, a21),
						  _mm512_add_epi32(a22, a23)),
				 _mm512_add_epi32(_mm512_add_epi32(a30, a31),
						  _mm512_add_epi32(a32, a33))));
	return sum_lanes(t);
}

/*
 * Four sequential streams a quarter of the buffer apart, two lines of each
 * per step: one stream per core is limited by how far its prefetcher runs
 * ahead (on the Zen 5 VM of benchmarks.md one stream per thread read
 * 26-30 GB/s while the gemv kernels, which read one stream per panel,
 * streamed 50-64 GB/s). bytes is a multiple of 512.
 */
uint64_t amxrt_limits_read_avx512(const void *buf, size_t bytes)
{
	const char *p = buf;
	size_t q = bytes / 4 & ~(size_t)127, i;
	__m512i s0 = _mm512_setzero_si512(), s1 = s0, s2 = s0, s3 = s0;
	__m512i s4 = s0, s5 = s0, s6 = s0, s7 = s0;

	for (i = 0; i < q; i += 128) {
		s0 = _mm512_add_epi64(s0, _mm512_load_si512(p + i));
		s1 = _mm512_add_epi64(s1, _mm512_load_si512(p + i + 64));
		s2 = _mm512_add_epi64(s2, _mm512_load_si512(p + q + i));
		s3 = _mm512_add_epi64(s3, _mm512_load_si512(p + q + i + 64));
		s4 = _mm512_add_epi64(s4, _mm512_load_si512(p + 2 * q + i));
		s5 = _mm512_add_epi64(s5,
				      _mm512_load_si512(p + 2 * q + i + 64));
		s6 = _mm512_add_epi64(s6, _mm512_load_si512(p + 3 * q + i));
		s7 = _mm512_add_epi64(s7,
				      _mm512_load_si512(p + 3 * q + i + 64));
	}
	for (i = 4 * q; i < bytes; i += 64)
		s0 = _mm512_add_epi64(s0, _mm512_load_si512(p + i));
	s0 = _mm512_add_epi64(_mm512_add_epi64(s0, s1),
			      _mm512_add_epi64(s2, s3));
	s4 = _mm512_add_epi64(_mm512_add_epi64(s4, s5),
			      _mm512_add_epi64(s6, s7));
	return sum_lanes(_mm512_add_epi64(s0, s4));
}
