// SPDX-License-Identifier: MIT
/*
 * attention_avx512.c - causal attention of a block of query rows and the
 * query heads of one KV head, with AVX-512: keys taken 32 at a time
 * (transposed once per block, for every query of the block), scores in
 * two vectors of 16, a vectorized exp, and an online softmax whose
 * accumulators stay in registers. Built with the AVX-512 flags; called only on paths that
 * have them (avx512vnni, amx).
 */
#include <immintrin.h>
#include <math.h>
#include <string.h>

#include "exp_avx512.h"
#include "model_int.h"

/* Keys per step: two 16-lane halves (see step()). */
#define KB AMXRT_ATT_KEYS

/*
 * One query vector against the KB keys of kt ([D][KB], transposed),
 * `valid` of them visible (1 .. KB): update its max, sum and accumulator.
 * The max, the rescaling of the accumulator and the scalar exp are paid
 * once per KB keys.
 */
static inline __attribute__((always_inline)) void
step(const float *q, const float *kt, const float *v, int64_t vstride,
     int valid, float scale, int D, float *mx, float *l, float *acc)
{
	__m512 s[4], u[4], s0, s1, p0, p1, a[8], a2[8];
	__mmask16 m0 = valid >= 16 ? (__mmask16)0xffff :
				     (__mmask16)((1u << valid) - 1);
	__mmask16 m1 = valid >= 32 ? (__mmask16)0xffff :
		       valid <= 16 ? (__mmask16)0 :
				     (__mmask16)((1u << (valid - 16)) - 1);
	const __m512 ninf = _mm512_set1_ps(-INFINITY);
	float bm, nm, r, pv[KB];
	int j, t, jb, nb = D / 16, c;

	/* four chains per half: an FMA's latency is hidden */
	for (c = 0; c < 4; c++) {
		s[c] = _mm512_setzero_ps();
		u[c] = _mm512_setzero_ps();
	}
	for (j = 0; j < D; j += 4)
		for (c = 0; c < 4; c++) {
			__m512 qj = _mm512_set1_ps(q[j + c]);

			s[c] = _mm512_fmadd_ps(
				qj, _mm512_load_ps(kt + (j + c) * KB), s[c]);
			u[c] = _mm512_fmadd_ps(
				qj, _mm512_load_ps(kt + (j + c) * KB + 16),
				u[c]);
		}
	s0 = _mm512_mul_ps(_mm512_add_ps(_mm512_add_ps(s[0], s[1]),
					 _mm512_add_ps(s[2], s[3])),
			   _mm512_set1_ps(scale));
	s1 = _mm512_mul_ps(_mm512_add_ps(_mm512_add_ps(u[0], u[1]),
					 _mm512_add_ps(u[2], u[3])),
			   _mm512_set1_ps(scale));
	bm = _mm512_reduce_max_ps(
		_mm512_max_ps(_mm512_mask_mov_ps(ninf, m0, s0),
			      _mm512_mask_mov_ps(ninf, m1, s1)));
	nm = bm > *mx ? bm : *mx;
	r = expf(*mx - nm); /* 0 on the first block: *mx is -inf */
	p0 = _mm512_maskz_mov_ps(
		m0, amxrt_exp16(_mm512_sub_ps(s0, _mm512_set1_ps(nm))));
	p1 = _mm512_maskz_mov_ps(
		m1, amxrt_exp16(_mm512_sub_ps(s1, _mm512_set1_ps(nm))));
	*l = *l * r + _mm512_reduce_add_ps(_mm512_add_ps(p0, p1));
	*mx = nm;
	_mm512_storeu_ps(pv, p0);
	_mm512_storeu_ps(pv + 16, p1);
	/* two sets of accumulators, even and odd keys: two chains per lane */
	for (jb = 0; jb < nb; jb++) {
		a[jb] = _mm512_mul_ps(_mm512_loadu_ps(acc + jb * 16),
				      _mm512_set1_ps(r));
		a2[jb] = _mm512_setzero_ps();
	}
	for (t = 0; t + 1 < valid; t += 2) {
		__m512 w0 = _mm512_set1_ps(pv[t]),
		       w1 = _mm512_set1_ps(pv[t + 1]);
		const float *v0 = v + t * vstride, *v1 = v0 + vstride;

		for (jb = 0; jb < nb; jb++) {
			a[jb] = _mm512_fmadd_ps(
				w0, _mm512_loadu_ps(v0 + jb * 16), a[jb]);
			a2[jb] = _mm512_fmadd_ps(
				w1, _mm512_loadu_ps(v1 + jb * 16), a2[jb]);
		}
	}
	if (t < valid) {
		__m512 w0 = _mm512_set1_ps(pv[t]);
		const float *v0 = v + t * vstride;

		for (jb = 0; jb < nb; jb++)
			a[jb] = _mm512_fmadd_ps(
				w0, _mm512_loadu_ps(v0 + jb * 16), a[jb]);
	}
	for (jb = 0; jb < nb; jb++)
		_mm512_storeu_ps(acc + jb * 16, _mm512_add_ps(a[jb], a2[jb]));
}

static inline __attribute__((always_inline)) void
block(const struct amxrt_att_block *b, float *scratch, int D)
{
	int nv = b->nrows * b->nh, nmax = b->n0 + b->nrows;
	float *kt = scratch; /* [D][KB], 64-byte aligned */
	float *acc = kt + D * KB; /* [nv][D] */
	float *mx = acc + (int64_t)nv * D, *l = mx + nv;
	int t0, t, j, r, h, i;

	memset(acc, 0, sizeof(float) * nv * D);
	for (i = 0; i < nv; i++) {
		mx[i] = -INFINITY;
		l[i] = 0.0f;
	}
	for (t0 = 0; t0 < nmax; t0 += KB) {
		int nt = nmax - t0 < KB ? nmax - t0 : KB;

		for (t = 0; t < KB; t++) {
			const float *k =
				b->k + (int64_t)(t0 + t) * b->kv_stride;

			for (j = 0; j < D; j++)
				kt[j * KB + t] = t < nt ? k[j] : 0.0f;
		}
		for (r = 0; r < b->nrows; r++) {
			int lim = b->n0 + r, valid = lim - t0;

			if (valid <= 0)
				continue;
			valid = valid < KB ? valid : KB;
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
