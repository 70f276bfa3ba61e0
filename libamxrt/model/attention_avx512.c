// SPDX-License-Identifier: MIT
/*
 * attention_avx512.c - causal attention of a block of query rows and the
 * query heads of one KV head, with AVX-512: keys taken 16 at a time
 * (transposed once per block, for every query of the block), scores 16
 * wide, a vectorized exp, and an online softmax whose accumulators stay
 * in registers. Built with the AVX-512 flags; called only on paths that
 * have them (avx512vnni, amx).
 */
#include <immintrin.h>
#include <math.h>
#include <string.h>

#include "exp_avx512.h"
#include "model_int.h"

/*
 * One query vector against the 16 keys of kt ([D][16], transposed),
 * `valid` of them visible: update its max, sum and accumulator.
 */
static inline __attribute__((always_inline)) void
step(const float *q, const float *kt, const float *v, int64_t vstride,
     int valid, float scale, int D, float *mx, float *l, float *acc)
{
	__m512 s[8], s0, p, a[8], a2[8];
	__mmask16 mask = (__mmask16)((1u << valid) - 1);
	float bm, nm, r, pv[16];
	int j, t, jb, nb = D / 16, c;

	/* eight independent chains: an FMA's latency is hidden */
	for (c = 0; c < 8; c++)
		s[c] = _mm512_setzero_ps();
	for (j = 0; j < D; j += 8)
		for (c = 0; c < 8; c++)
			s[c] = _mm512_fmadd_ps(
				_mm512_set1_ps(q[j + c]),
				_mm512_load_ps(kt + (j + c) * 16), s[c]);
	s0 = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(s[0], s[1]),
					 _mm512_add_ps(s[2], s[3])),
			   _mm512_add_ps(_mm512_add_ps(s[4], s[5]),
					 _mm512_add_ps(s[6], s[7])));
	s0 = _mm512_mul_ps(s0, _mm512_set1_ps(scale));
	bm = _mm512_mask_reduce_max_ps(mask, s0);
	nm = bm > *mx ? bm : *mx;
	r = expf(*mx - nm); /* 0 on the first block: *mx is -inf */
	p = _mm512_maskz_mov_ps(
		mask, amxrt_exp16(_mm512_sub_ps(s0, _mm512_set1_ps(nm))));
	*l = *l * r + _mm512_reduce_add_ps(p);
	*mx = nm;
	_mm512_storeu_ps(pv, p);
	/* two sets of accumulators, even and odd keys: two chains per lane */
	for (jb = 0; jb < nb; jb++) {
		a[jb] = _mm512_mul_ps(_mm512_loadu_ps(acc + jb * 16),
				      _mm512_set1_ps(r));
		a2[jb] = _mm512_setzero_ps();
	}
	for (t = 0; t + 1 < valid; t += 2) {
		__m512 p0 = _mm512_set1_ps(pv[t]),
		       p1 = _mm512_set1_ps(pv[t + 1]);
		const float *v0 = v + t * vstride, *v1 = v0 + vstride;

		for (jb = 0; jb < nb; jb++) {
			a[jb] = _mm512_fmadd_ps(
				p0, _mm512_loadu_ps(v0 + jb * 16), a[jb]);
			a2[jb] = _mm512_fmadd_ps(
				p1, _mm512_loadu_ps(v1 + jb * 16), a2[jb]);
		}
	}
	if (t < valid) {
		__m512 p0 = _mm512_set1_ps(pv[t]);
		const float *v0 = v + t * vstride;

		for (jb = 0; jb < nb; jb++)
			a[jb] = _mm512_fmadd_ps(
				p0, _mm512_loadu_ps(v0 + jb * 16), a[jb]);
	}
	for (jb = 0; jb < nb; jb++)
		_mm512_storeu_ps(acc + jb * 16, _mm512_add_ps(a[jb], a2[jb]));
}

static inline __attribute__((always_inline)) void
block(const struct amxrt_att_block *b, float *scratch, int D)
{
	int nv = b->nrows * b->nh, nmax = b->n0 + b->nrows;
	float *kt = scratch; /* [D][16], 64-byte aligned */
	float *acc = kt + D * 16; /* [nv][D] */
	float *mx = acc + (int64_t)nv * D, *l = mx + nv;
	int t0, t, j, r, h, i;

	memset(acc, 0, sizeof(float) * nv * D);
	for (i = 0; i < nv; i++) {
		mx[i] = -INFINITY;
		l[i] = 0.0f;
	}
	for (t0 = 0; t0 < nmax; t0 += 16) {
		int nt = nmax - t0 < 16 ? nmax - t0 : 16;

		for (t = 0; t < 16; t++) {
			const float *k =
				b->k + (int64_t)(t0 + t) * b->kv_stride;

			for (j = 0; j < D; j++)
				kt[j * 16 + t] = t < nt ? k[j] : 0.0f;
		}
		for (r = 0; r < b->nrows; r++) {
			int lim = b->n0 + r, valid = lim - t0;

			if (valid <= 0)
				continue;
			valid = valid < 16 ? valid : 16;
			for (h = 0; h < b->nh; h++) {
				i = r * b->nh + h;
				step(b->q + r * b->q_stride + h * D, kt,
				     b->v + (int64_t)t0 * b->kv_stride,
				     b->kv_stride, valid, b->scale, D, mx + i,
				     l + i, acc + (int64_t)i * D);
			}
		}
	}
	for (r = 0; r < b->nrows; r++)
		for (h = 0; h < b->nh; h++) {
			float *o = b->out + r * b->out_stride + h * D;

			i = r * b->nh + h;
			for (j = 0; j < D; j++)
				o[j] = acc[(int64_t)i * D + j] / l[i];
		}
}

int amxrt_att_block_avx512(const struct amxrt_att_block *b, void *scratch)
{
	switch (b->d) {
	case 64:
		block(b, scratch, 64);
		return 0;
	case 128:
		block(b, scratch, 128);
		return 0;
	default:
		return -1;
	}
}
