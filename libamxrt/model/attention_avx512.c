// SPDX-License-Identifier: MIT
/*
 * attention_avx512.c - causal attention of a block of query rows and the
 * query heads of one KV head, with AVX-512: keys taken 32 at a time
 * (transposed in registers once per block for every query of it, and for a
 * block of several rows their values copied side by side), scores in two
 * vectors of 16, query vectors
 * four at a time sharing each key and value load (four heads of a row; the
 * heads left over from those groups, every head where a KV head has fewer
 * than four, four rows at a time where the rows see the whole key block,
 * else one by one), a vectorized exp, and an online softmax whose
 * accumulators stay in registers. Two forms of the products: f32 FMAs, or
 * (b->bf16, prompt batches of quantized models) q, k, p and v rounded to
 * bf16 and multiplied in pairs by vdpbf16ps into f32 sums: the block's keys
 * transposed as pairs of dims, its values interleaved as pairs of keys,
 * half the instructions of the f32 form. Built with the AVX-512 flags;
 * called only on paths that have them (avx512vnni, amx, amx-sim), the
 * bf16 form only where the CPU has AVX512_BF16.
 */
#include <immintrin.h>
#include <math.h>
#include <string.h>

#include "exp_avx512.h"
#include "model_int.h"

/* Keys per step: two 16-lane halves (see step()). */
#define KB AMXRT_ATT_KEYS

/* Query vectors taken together (they share each key and value load). */
#define MAX_NQ 4

/*
 * NQ query vectors (q + n * qs: heads of one row, or one head of NQ rows,
 * that all see `valid` of the KB keys, 1 .. KB) against the block's keys
 * and values: update their max, sum and accumulator (mx[n * ms], l[n * ms],
 * acc + n * as). Each key and value vector is loaded once for all NQ; the
 * max, the rescaling of the accumulators and the exp are paid once per KB
 * keys. BF 0: q, kt ([D][KB], transposed) and v (rows vs floats apart) are
 * floats. BF 1: they are bf16 pairs (uint32_t): q [D / 2], kt [D / 2][KB]
 * (dims 2j and 2j + 1 of key t at kt[j * KB + t]), v [KB / 2][vs = D]
 * (keys 2i and 2i + 1 of dim j at v[i * D + j]); the scores and the
 * softmax stay f32, the probabilities are rounded to bf16 for the values.
 */
static inline __attribute__((always_inline)) void
step(const void *qv, int64_t qs, const void *ktv, const void *vp, int64_t vs,
     int valid, float scale, const int D, float *mx, float *l, int ms,
     float *acc, int64_t as, const int NQ, const int BF)
{
	const int CH = NQ >= 4 ? 1 : 4 / NQ;
	const float *q = qv, *kt = ktv, *v = vp;
	const uint32_t *qb = qv, *kb = ktv, *vb = vp;
	__m512 s[4], u[4], a[MAX_NQ][8];
	__mmask16 m0 = valid >= 16 ? (__mmask16)0xffff :
				     (__mmask16)((1u << valid) - 1);
	__mmask16 m1 = valid >= 32 ? (__mmask16)0xffff :
		       valid <= 16 ? (__mmask16)0 :
				     (__mmask16)((1u << (valid - 16)) - 1);
	const __m512 ninf = _mm512_set1_ps(-INFINITY);
	float pv[MAX_NQ][KB];
	uint32_t pb[MAX_NQ][KB / 2];
	float nmx[MAX_NQ], dmx[MAX_NQ], rs[16], rsc[MAX_NQ];
	/* value vectors of an accumulator a pass keeps in registers */
	const int nb = D / 16, JB = nb * NQ <= 16 ? nb : 16 / NQ;
	/* dims (BF: pairs of dims) of a score, keys (pairs) of a value */
	const int nk = BF ? D / 2 : D, nt = BF ? (valid + 1) / 2 : valid;
	int j, j0, t, jb, n, c;

	/*
	 * scores: 2 * NQ * CH chains (8), CH sets over alternate k, so that
	 * an FMA's latency is hidden
	 */
	for (c = 0; c < NQ * CH; c++) {
		s[c] = _mm512_setzero_ps();
		u[c] = _mm512_setzero_ps();
	}
	for (j = 0; j < nk; j += CH)
		for (c = 0; c < CH; c++) {
			const int64_t o = (int64_t)(j + c) * KB;
			__m512 k0 = BF ? _mm512_castsi512_ps(
						 _mm512_load_si512(kb + o)) :
					 _mm512_load_ps(kt + o),
			       k1 = BF ? _mm512_castsi512_ps(_mm512_load_si512(
						 kb + o + 16)) :
					 _mm512_load_ps(kt + o + 16);

			for (n = 0; n < NQ; n++) {
				__m512 *sn = &s[c * NQ + n],
				       *un = &u[c * NQ + n];

				if (BF) {
					__m512bh qj =
						(__m512bh)_mm512_set1_epi32((
							int)qb[n * qs + j + c]);

					*sn = _mm512_dpbf16_ps(*sn, qj,
							       (__m512bh)k0);
					*un = _mm512_dpbf16_ps(*un, qj,
							       (__m512bh)k1);
					continue;
				}
				*sn = _mm512_fmadd_ps(
					_mm512_set1_ps(q[n * qs + j + c]), k0,
					*sn);
				*un = _mm512_fmadd_ps(
					_mm512_set1_ps(q[n * qs + j + c]), k1,
					*un);
			}
		}
	for (c = 1; c < CH; c++)
		for (n = 0; n < NQ; n++) {
			s[n] = _mm512_add_ps(s[n], s[c * NQ + n]);
			u[n] = _mm512_add_ps(u[n], u[c * NQ + n]);
		}
	/*
	 * The new maxima of all NQ first, then their rescaling factors
	 * e^(old - new) in one vector exp: a call to libm's expf here made
	 * the compiler spill every live vector register around it (5-15% of
	 * a prefill's attention). On the first block old is -inf and the
	 * factor about 1e-38 (amxrt_exp16 clamps), times a sum and an
	 * accumulator that are still 0.
	 */
	for (n = 0; n < NQ; n++) {
		float bm;

		s[n] = _mm512_mul_ps(s[n], _mm512_set1_ps(scale));
		u[n] = _mm512_mul_ps(u[n], _mm512_set1_ps(scale));
		bm = _mm512_reduce_max_ps(
			_mm512_max_ps(_mm512_mask_mov_ps(ninf, m0, s[n]),
				      _mm512_mask_mov_ps(ninf, m1, u[n])));
		nmx[n] = bm > mx[n * ms] ? bm : mx[n * ms];
		dmx[n] = mx[n * ms] - nmx[n];
	}
	_mm512_storeu_ps(rs, amxrt_exp16(_mm512_maskz_loadu_ps(
				     (__mmask16)((1u << NQ) - 1), dmx)));
	for (n = 0; n < NQ; n++) {
		float r = rs[n];
		__m512 p0, p1, nm = _mm512_set1_ps(nmx[n]);

		p0 = _mm512_maskz_mov_ps(m0,
					 amxrt_exp16(_mm512_sub_ps(s[n], nm)));
		p1 = _mm512_maskz_mov_ps(m1,
					 amxrt_exp16(_mm512_sub_ps(u[n], nm)));
		l[n * ms] = l[n * ms] * r +
			    _mm512_reduce_add_ps(_mm512_add_ps(p0, p1));
		mx[n * ms] = nmx[n];
		if (BF)
			/* keys 2i, 2i + 1 in the halves of pair i */
			_mm512_storeu_si512(
				pb[n], (__m512i)_mm512_cvtne2ps_pbh(p1, p0));
		else {
			_mm512_storeu_ps(pv[n], p0);
			_mm512_storeu_ps(pv[n] + 16, p1);
		}
		rsc[n] = r;
	}
	/*
	 * values: in passes over JB vectors of each accumulator (all D / 16
	 * of them but for 4 heads of 128: two passes, 16 chains in registers
	 * where one would need 32); each element's sum runs in the same order
	 * whatever the pass
	 */
	for (j0 = 0; j0 < nb; j0 += JB) {
		for (n = 0; n < NQ; n++)
			for (jb = 0; jb < JB; jb++)
				a[n][jb] = _mm512_mul_ps(
					_mm512_loadu_ps(acc + n * as +
							(j0 + jb) * 16),
					_mm512_set1_ps(rsc[n]));
		for (t = 0; t < nt; t++) {
			__m512 vv[8];

			for (jb = 0; jb < JB; jb++)
				vv[jb] = BF ? _mm512_castsi512_ps(
						      _mm512_loadu_si512(
							      vb + t * vs +
							      (j0 + jb) * 16)) :
					      _mm512_loadu_ps(v + t * vs +
							      (j0 + jb) * 16);
			for (n = 0; n < NQ; n++) {
				if (BF) {
					__m512bh w =
						(__m512bh)_mm512_set1_epi32(
							(int)pb[n][t]);

					for (jb = 0; jb < JB; jb++)
						a[n][jb] = _mm512_dpbf16_ps(
							a[n][jb], w,
							(__m512bh)vv[jb]);
					continue;
				}
				for (jb = 0; jb < JB; jb++)
					a[n][jb] = _mm512_fmadd_ps(
						_mm512_set1_ps(pv[n][t]),
						vv[jb], a[n][jb]);
			}
		}
		for (n = 0; n < NQ; n++)
			for (jb = 0; jb < JB; jb++)
				_mm512_storeu_ps(acc + n * as + (j0 + jb) * 16,
						 a[n][jb]);
	}
}

/*
 * kt[j * KB + t] = k[t * stride + j] for 16 keys t (rows past n zero) and
 * 16 dims j: a 16 x 16 transpose in registers (32-bit unpacks, 64-bit
 * shuffles within lanes, then two rounds of 128-bit lane shuffles), 64
 * shuffles where element by element it was 256 loads and 256 stores: a
 * decode step's attention (one query row: nothing reuses the transposed
 * keys) takes half the time with it (256 keys, cached or not).
 */
static inline __attribute__((always_inline)) void
transpose16(const float *k, int64_t stride, int n, float *kt)
{
	__m512 r[16], t[16], u[16];
	int i, m;

	for (i = 0; i < 16; i++)
		r[i] = i < n ? _mm512_loadu_ps(k + i * stride) :
			       _mm512_setzero_ps();
	for (i = 0; i < 16; i += 2) {
		t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
		t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
	}
	/* u[4g + m]: in lane l, dim 4l + m of keys 4g .. 4g + 3 */
	for (i = 0; i < 16; i += 4) {
		u[i] = _mm512_shuffle_ps(t[i], t[i + 2], 0x44);
		u[i + 1] = _mm512_shuffle_ps(t[i], t[i + 2], 0xee);
		u[i + 2] = _mm512_shuffle_ps(t[i + 1], t[i + 3], 0x44);
		u[i + 3] = _mm512_shuffle_ps(t[i + 1], t[i + 3], 0xee);
	}
	for (m = 0; m < 4; m++) {
		__m512 x0 = _mm512_shuffle_f32x4(u[m], u[4 + m], 0x44),
		       x1 = _mm512_shuffle_f32x4(u[m], u[4 + m], 0xee),
		       y0 = _mm512_shuffle_f32x4(u[8 + m], u[12 + m], 0x44),
		       y1 = _mm512_shuffle_f32x4(u[8 + m], u[12 + m], 0xee);

		_mm512_store_ps(kt + m * KB,
				_mm512_shuffle_f32x4(x0, y0, 0x88));
		_mm512_store_ps(kt + (4 + m) * KB,
				_mm512_shuffle_f32x4(x0, y0, 0xdd));
		_mm512_store_ps(kt + (8 + m) * KB,
				_mm512_shuffle_f32x4(x1, y1, 0x88));
		_mm512_store_ps(kt + (12 + m) * KB,
				_mm512_shuffle_f32x4(x1, y1, 0xdd));
	}
}

/*
 * The block's keys t0 .. t0 + nt - 1 as bf16 pairs for step(): each key's
 * row converted in order (pairs of dims side by side), then transposed as
 * 32-bit elements into kt [D / 2][KB]; each pair of keys' values
 * interleaved into v [KB / 2][D]. Keys past nt are 0 (a probability of 0
 * times them must stay 0).
 */
static inline __attribute__((always_inline)) void
keys_bf16(const struct amxrt_att_block *b, int t0, int nt, uint32_t *kt,
	  uint32_t *rows, uint32_t *v, const int D)
{
	/* word 2j of the 32 in a vector: bf16 j of the low half, 2j + 1: of
	 * the high half */
	const __m512i ilv = _mm512_set_epi16(31, 15, 30, 14, 29, 13, 28, 12, 27,
					     11, 26, 10, 25, 9, 24, 8, 23, 7,
					     22, 6, 21, 5, 20, 4, 19, 3, 18, 2,
					     17, 1, 16, 0);
	int t, j;

	for (t = 0; t < nt; t++) {
		const float *k = b->k + (int64_t)(t0 + t) * b->kv_stride;

		for (j = 0; j < D; j += 32)
			_mm512_storeu_si512(rows + t * D / 2 + j / 2,
					    (__m512i)_mm512_cvtne2ps_pbh(
						    _mm512_loadu_ps(k + j + 16),
						    _mm512_loadu_ps(k + j)));
	}
	for (t = 0; t < KB; t += 16)
		for (j = 0; j < D / 2; j += 16)
			transpose16((const float *)rows + t * D / 2 + j, D / 2,
				    nt - t, (float *)kt + j * KB + t);
	for (t = 0; t < nt; t += 2) {
		const float *v0 = b->v + (int64_t)(t0 + t) * b->kv_stride;
		const float *v1 = v0 + b->kv_stride;

		for (j = 0; j < D; j += 16) {
			__m512 x1 = t + 1 < nt ? _mm512_loadu_ps(v1 + j) :
						 _mm512_setzero_ps();

			_mm512_storeu_si512(
				v + t / 2 * D + j,
				_mm512_permutexvar_epi16(
					ilv,
					(__m512i)_mm512_cvtne2ps_pbh(
						x1, _mm512_loadu_ps(v0 + j))));
		}
	}
}

/* Query vector (row r, head h) of a block: floats, or (BF) bf16 pairs. */
static inline __attribute__((always_inline)) const void *
qvec(const struct amxrt_att_block *b, const uint32_t *qb, int r, int h,
     const int D, const int BF)
{
	if (BF)
		return qb + ((int64_t)r * b->nh + h) * (D / 2);
	return b->q + r * b->q_stride + h * D;
}

static inline __attribute__((always_inline)) void
block(const struct amxrt_att_block *b, float *scratch, const int D,
      const int BF)
{
	/* row r sees keys 0 .. n0 + r - 1: the last row, nmax of them */
	int nv = b->nrows * b->nh, nmax = b->n0 + b->nrows - 1;
	int kend = b->k1 && b->k1 < nmax ? b->k1 : nmax;
	/* [D][KB] floats or [D / 2][KB] pairs, 64-byte aligned */
	float *kt = scratch;
	/*
	 * [KB][D]: the block's values side by side (BF: [KB / 2][D] pairs,
	 * and after them its keys' rows converted, [KB][D / 2] pairs). In
	 * the cache they are kv_stride floats apart (n_head_kv * D: 2 KiB
	 * for 4 heads of 128, 16 KiB for 32), so the rows of a block fall
	 * into a few of L1's sets and evict each other before the next query
	 * reads them again. Not copied for a single row in f32 (a decode
	 * step), whose few steps a block read them faster in place:
	 * TinyLlama's 8 heads of 64 over 512 positions 13-15% faster without
	 * the copy, moe-bench's 8 of 128 5-9%.
	 */
	float *vb = kt + D * KB;
	int copy = BF || b->nrows > 1;
	int64_t vs = copy ? D : b->kv_stride;
	float *acc = vb + D * KB; /* [nv][D] */
	float *mx = acc + (int64_t)nv * D, *l = mx + nv;
	/* BF: the queries as pairs, [nv][D / 2] */
	uint32_t *qb = (uint32_t *)(l + nv);
	/* a query vector (row r, head h) and the stride to the next row */
	const int64_t qrow = BF ? (int64_t)b->nh * D / 2 : b->q_stride;
	int t0, t, j, r, h, i;

	memset(acc, 0, sizeof(float) * nv * D);
	for (i = 0; i < nv; i++) {
		mx[i] = -INFINITY;
		l[i] = 0.0f;
	}
	for (r = 0; BF && r < b->nrows; r++)
		for (h = 0; h < b->nh; h++)
			for (j = 0; j < D; j += 32) {
				const float *q =
					b->q + r * b->q_stride + h * D + j;

				_mm512_storeu_si512(
					qb + ((int64_t)r * b->nh + h) * D / 2 +
						j / 2,
					(__m512i)_mm512_cvtne2ps_pbh(
						_mm512_loadu_ps(q + 16),
						_mm512_loadu_ps(q)));
			}
	for (t0 = b->k0; t0 < kend; t0 += KB) {
		int nt = kend - t0 < KB ? kend - t0 : KB;
		const float *v = copy ? vb : b->v + (int64_t)t0 * b->kv_stride;

		if (BF)
			keys_bf16(b, t0, nt, (uint32_t *)kt,
				  (uint32_t *)vb + KB / 2 * D, (uint32_t *)vb,
				  D);
		for (t = 0; !BF && t < KB; t += 16)
			for (j = 0; j < D; j += 16)
				transpose16(b->k +
						    (int64_t)(t0 + t) *
							    b->kv_stride +
						    j,
					    b->kv_stride, nt - t,
					    kt + j * KB + t);
		for (t = 0; !BF && copy && t < nt; t++)
			memcpy(vb + t * D,
			       b->v + (int64_t)(t0 + t) * b->kv_stride,
			       sizeof(float) * D);
		for (r = 0; r < b->nrows;) {
			int lim = b->n0 + r < kend ? b->n0 + r : kend;
			int valid = lim - t0, hq = b->nh & ~3, rows = 1, rr;

			if (valid <= 0) {
				r++;
				continue;
			}
			valid = valid < KB ? valid : KB;
			/*
			 * 4 rows at a time where all 4 see the whole key block
			 * (a row sees no fewer keys than the one before) and
			 * heads are left over from groups of 4
			 */
			if (valid == KB && r + 4 <= b->nrows && hq < b->nh)
				rows = 4;
			/* heads of each row in groups of 4 */
			for (rr = r; rr < r + rows; rr++)
				for (h = 0; h < hq; h += 4) {
					i = rr * b->nh + h;
					step(qvec(b, qb, rr, h, D, BF),
					     BF ? D / 2 : D, kt, v, vs, valid,
					     b->scale, D, mx + i, l + i, 1,
					     acc + (int64_t)i * D, D, 4, BF);
				}
			/* the heads left: a head of the 4 rows, or alone */
			for (h = hq; h < b->nh; h++) {
				i = r * b->nh + h;
				if (rows == 4) {
					step(qvec(b, qb, r, h, D, BF), qrow, kt,
					     v, vs, KB, b->scale, D, mx + i,
					     l + i, b->nh, acc + (int64_t)i * D,
					     (int64_t)b->nh * D, 4, BF);
					continue;
				}
				step(qvec(b, qb, r, h, D, BF), BF ? D / 2 : D,
				     kt, v, vs, valid, b->scale, D, mx + i,
				     l + i, 1, acc + (int64_t)i * D, D, 1, BF);
			}
			r += rows;
		}
	}
	for (r = 0; r < b->nrows; r++)
		for (h = 0; h < b->nh; h++) {
			float *o = b->out + r * b->out_stride + h * D;

			i = r * b->nh + h;
			if (b->part) {
				float *pa = b->part + (int64_t)i * (D + 2);

				memcpy(pa, acc + (int64_t)i * D,
				       sizeof(float) * D);
				pa[D] = mx[i];
				pa[D + 1] = l[i];
				continue;
			}
			for (j = 0; j < D; j++)
				o[j] = acc[(int64_t)i * D + j] / l[i];
		}
}

int amxrt_att_block_avx512(const struct amxrt_att_block *b, void *scratch)
{
	/* D and BF as constants: each pair its own unrolled kernel */
	if (b->d == 64 && b->bf16)
		block(b, scratch, 64, 1);
	else if (b->d == 64)
		block(b, scratch, 64, 0);
	else if (b->d == 128 && b->bf16)
		block(b, scratch, 128, 1);
	else if (b->d == 128)
		block(b, scratch, 128, 0);
	else
		return -1;
	return 0;
}
