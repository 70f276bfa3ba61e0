// SPDX-License-Identifier: MIT
/*
 * attention.c - rotary position embedding in both element orders, and
 * causal multi-head attention with grouped KV heads over the KV cache,
 * split over the thread pool in blocks of (query rows, KV head): the
 * query heads sharing a KV head read its keys once per block. Paths with
 * AVX-512 run attention_avx512.c (in bf16 products for the batches of
 * quantized models: att_kind()); the others the portable loops here.
 */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "../core/error.h"
#include "../core/threads.h"
#include "../cpu/cpu.h"
#include "../kernels/kernels.h"
#include "model_int.h"

/*
 * Pair j (j < n_rot / 2) turns by pos * base^(-2j / n_rot). Interleaved
 * order (llama GGUF files, whose q/k rows the converter permuted): the
 * pair is (2j, 2j + 1); NeoX order (qwen2/3): (j, j + n_rot / 2).
 */
struct angle_job {
	const struct amxrt_hparams *hp;
	float *cs;
	int pos0;
};

struct rope_job {
	const struct amxrt_hparams *hp;
	const float *cs;
	float *x;
	int n_heads;
	int simd; /* the path has AVX-512: rope_avx512.c */
};

static void angle_rows(void *arg, int64_t r0, int64_t r1)
{
	const struct angle_job *r = arg;
	const struct amxrt_hparams *hp = r->hp;
	int half = hp->n_rot / 2, j;
	int64_t i;

	for (i = r0; i < r1; i++) {
		float *cs = r->cs + i * hp->n_rot;

		for (j = 0; j < half; j++) {
			double a = (double)(r->pos0 + i) *
				   pow(hp->rope_base, -2.0 * j / hp->n_rot);

			cs[j] = (float)cos(a);
			cs[half + j] = (float)sin(a);
		}
	}
}

void amxrt_rope_angles(const struct amxrt_hparams *hp, float *cs, int64_t m,
		       int pos0)
{
	struct angle_job r = { .hp = hp, .cs = cs, .pos0 = pos0 };

	/* a row costs half n_rot pow, sin and cos */
	amxrt_op_par(angle_rows, &r, m, 8);
}

static void rope_rows(void *arg, int64_t r0, int64_t r1)
{
	const struct rope_job *r = arg;
	const struct amxrt_hparams *hp = r->hp;
	int half = hp->n_rot / 2, d = hp->head_dim;
	int64_t i;
	int h, j;

	for (i = r0; i < r1; i++) {
		float *row = r->x + i * (int64_t)r->n_heads * d;
		const float *cs = r->cs + i * hp->n_rot, *sn = cs + half;

		if (r->simd) {
			amxrt_rope_row_avx512(row, cs, r->n_heads, d, hp->n_rot,
					      hp->rope_neox);
			continue;
		}
		for (h = 0; h < r->n_heads; h++) {
			float *v = row + h * d;

			for (j = 0; j < half; j++) {
				int a = hp->rope_neox ? j : 2 * j;
				int b = hp->rope_neox ? j + half : 2 * j + 1;
				float x0 = v[a], x1 = v[b];

				v[a] = x0 * cs[j] - x1 * sn[j];
				v[b] = x0 * sn[j] + x1 * cs[j];
			}
		}
	}
}

void amxrt_rope(const struct amxrt_hparams *hp, const float *cs, float *x,
		int64_t m, int n_heads)
{
	struct rope_job r = { .hp = hp,
			      .cs = cs,
			      .x = x,
			      .n_heads = n_heads,
			      .simd = amxrt_model_simd() };

	/* a row costs n_heads * n_rot / 2 rotations */
	amxrt_op_par(rope_rows, &r, m, 16);
}

struct att_task {
	struct amxrt_ctx *c;
	int layer, pos0;
	int64_t m;
	int rows; /* query rows per block */
	int simd; /* the path has AVX-512 */
	int bf16; /* ... and the products in bf16 */
	int parts; /* a decode step cut over its keys: parts per KV head */
};

/*
 * Which attention runs for a micro-batch of `rows` query rows, and why:
 * the AVX-512 kernel takes heads of 64 and 128 on the paths that have it;
 * it multiplies in bf16 pairs (vdpbf16ps: twice the products per
 * instruction of f32 FMAs) when the batch has more than one row, the CPU
 * has AVX512_BF16 and the model's matmul weights are q8_0, q4_0 or q4_1.
 * Their matmuls round every activation to 8 bits with a scale per 32 or
 * 128 values; rounding q, k, the probabilities and v to 8 significant
 * bits adds an error of the same kind well below that (forward-pass.md,
 * "Attention in bf16"). Float models and single rows (decode steps, where
 * attention reads few keys per query and memory bounds the step) keep f32.
 */
enum att_kind {
	ATT_PLAIN_PATH,
	ATT_PLAIN_HEAD,
	ATT_F32_ROW,
	ATT_F32_NOBF16,
	ATT_F32_FLOAT,
	ATT_BF16
};

static enum att_kind att_kind(const struct amxrt_model *m, int64_t rows)
{
	int d = m->hp.head_dim;

	if (!amxrt_model_simd())
		return ATT_PLAIN_PATH;
	if (d != 64 && d != 128)
		return ATT_PLAIN_HEAD;
	if (rows <= 1)
		return ATT_F32_ROW;
	if (!(amxrt_cpu_cached()->features & AMXRT_CPU_AVX512BF16))
		return ATT_F32_NOBF16;
	switch (m->main_type) {
	case AMXRT_TYPE_Q8_0:
	case AMXRT_TYPE_Q4_0:
	case AMXRT_TYPE_Q4_1:
		return ATT_BF16;
	default:
		return ATT_F32_FLOAT;
	}
}

const char *amxrt_model_attention_name(const struct amxrt_model *m,
				       int64_t rows)
{
	static const char *const names[] = {
		[ATT_PLAIN_PATH] = "portable f32 (the path has no AVX-512)",
		[ATT_PLAIN_HEAD] =
			"portable f32 (AVX-512 kernels exist for heads of 64 "
			"and 128)",
		[ATT_F32_ROW] = "avx512 f32 (single rows keep f32)",
		[ATT_F32_NOBF16] = "avx512 f32 (this CPU has no AVX512_BF16)",
		[ATT_F32_FLOAT] = "avx512 f32 (float weights keep f32 "
				  "attention)",
		[ATT_BF16] = "avx512 bf16 products, f32 sums and softmax "
			     "(batches of a quantized model)",
	};

	if (!m)
		return NULL;
	return names[att_kind(m, rows)];
}

#define ATT_CHUNK 64

/*
 * Four-float vectors (v4f, model_int.h) for the two inner loops;
 * head_dim % 4 == 0 takes them, other sizes the scalar loops.
 */
static inline v4f load4(const float *p)
{
	v4f v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static float dot(const float *a, const float *b, int d)
{
	float s = 0.0f;
	int j;

	if (d % 8 == 0) {
		v4f s0 = { 0 }, s1 = { 0 };

		for (j = 0; j < d; j += 8) {
			s0 += load4(a + j) * load4(b + j);
			s1 += load4(a + j + 4) * load4(b + j + 4);
		}
		s0 += s1;
		return (s0[0] + s0[1]) + (s0[2] + s0[3]);
	}
	for (j = 0; j < d; j++)
		s += a[j] * b[j];
	return s;
}

/* acc = acc * r + p * v */
static void scale_add(float *acc, float r, float p, const float *v, int d)
{
	int j;

	if (d % 4 == 0) {
		for (j = 0; j < d; j += 4) {
			v4f a = load4(acc + j) * r + load4(v + j) * p;

			memcpy(acc + j, &a, sizeof(a));
		}
		return;
	}
	for (j = 0; j < d; j++)
		acc[j] = acc[j] * r + p * v[j];
}

/*
 * One query row against keys k0 .. n-1 with an online softmax: the output
 * into out, or (part not NULL) the accumulator, max and sum into part.
 */
static void attend(const float *q, const float *kc, const float *vc,
		   int64_t stride, int k0, int n, int d, float scale,
		   float *out, float *part)
{
	float acc[AMXRT_MAX_HEAD_DIM], s[ATT_CHUNK];
	float mx = -INFINITY, l = 0.0f;
	int t0, t, j;

	memset(acc, 0, sizeof(float) * d);
	for (t0 = k0; t0 < n; t0 += ATT_CHUNK) {
		int nt = n - t0 < ATT_CHUNK ? n - t0 : ATT_CHUNK;
		float cmx = -INFINITY, r = 1.0f;

		for (t = 0; t < nt; t++) {
			s[t] = dot(q, kc + (int64_t)(t0 + t) * stride, d) *
			       scale;
			if (s[t] > cmx)
				cmx = s[t];
		}
		if (cmx > mx) {
			r = expf(mx - cmx);
			l *= r;
			mx = cmx;
		}
		for (t = 0; t < nt; t++) {
			float p = expf(s[t] - mx);

			l += p;
			/* the first row of a chunk also applies the rescale */
			scale_add(acc, t ? 1.0f : r, p,
				  vc + (int64_t)(t0 + t) * stride, d);
		}
	}
	if (part) {
		memcpy(part, acc, sizeof(float) * d);
		part[d] = mx;
		part[d + 1] = l;
		return;
	}
	for (j = 0; j < d; j++)
		out[j] = acc[j] / l;
}

/* The portable block: each query vector on its own. */
static void block_plain(const struct amxrt_att_block *b)
{
	int r, h;

	for (r = 0; r < b->nrows; r++)
		for (h = 0; h < b->nh; h++) {
			int n = b->n0 + r;

			if (b->k1 && b->k1 < n)
				n = b->k1;
			attend(b->q + r * b->q_stride + h * b->d, b->k, b->v,
			       b->kv_stride, b->k0, n, b->d, b->scale,
			       b->out + r * b->out_stride + h * b->d,
			       b->part ? b->part + (int64_t)(r * b->nh + h) *
							   (b->d + 2) :
					 NULL);
		}
}

/* Query rows per block: as many as the scratch holds, at most 16. */
static int block_rows(const struct amxrt_hparams *hp, int bf16)
{
	int64_t nh = hp->n_head / hp->n_head_kv, d = hp->head_dim;
	/* accumulator, max and sum; bf16: the queries as pairs too */
	int64_t per =
		nh * (d + 2 + (bf16 ? d / 2 : 0)) * (int64_t)sizeof(float);
	int64_t room = AMXRT_SCRATCH_BYTES -
		       2 * d * AMXRT_ATT_KEYS * (int64_t)sizeof(float);
	int64_t rows = room / per;

	return rows < 1 ? 1 : (rows > 16 ? 16 : (int)rows);
}

/* Chunk = (row block, KV head). */
static void att_chunk(void *arg, int64_t chunk, void *scratch)
{
	const struct att_task *a = arg;
	const struct amxrt_ctx *c = a->c;
	const struct amxrt_hparams *hp = &c->m->hp;
	int d = hp->head_dim, group = hp->n_head / hp->n_head_kv;
	int64_t kvd = (int64_t)hp->n_head_kv * d, qd = (int64_t)hp->n_head * d;
	int kvh = (int)(chunk % hp->n_head_kv);
	int part = a->parts ? (int)(chunk / hp->n_head_kv) : 0;
	int64_t i0 = a->parts ? 0 : chunk / hp->n_head_kv * a->rows;
	int64_t layer = (int64_t)a->layer * c->n_ctx * kvd + kvh * d;
	struct amxrt_att_block b = {
		.q = c->q + i0 * qd + (int64_t)kvh * group * d,
		.q_stride = qd,
		.k = c->k_cache + layer,
		.v = c->v_cache + layer,
		.kv_stride = kvd,
		.out = c->att + i0 * qd + (int64_t)kvh * group * d,
		.out_stride = qd,
		.nrows = (int)(a->m - i0 < a->rows ? a->m - i0 : a->rows),
		.nh = group,
		.n0 = a->pos0 + (int)i0 + 1,
		.d = d,
		.scale = 1.0f / sqrtf((float)d),
		.bf16 = a->bf16,
	};

	if (a->parts) {
		b.k0 = part * AMXRT_ATT_PART;
		b.k1 = b.k0 + AMXRT_ATT_PART;
		b.part = c->att_part +
			 ((int64_t)part * hp->n_head + (int64_t)kvh * group) *
				 (d + 2);
	}
	if (!a->simd || amxrt_att_block_avx512(&b, scratch))
		block_plain(&b);
}

struct merge_job {
	const struct amxrt_hparams *hp;
	const float *part;
	float *out;
	int parts;
};

/*
 * One query row's heads [h0, h1) from the parts of its keys: each part's
 * accumulator and sum weighted by exp(its max - the largest max). Part 0
 * holds key 0, so the largest max is a number; a part whose keys the row
 * does not see has sum 0 and weight 0.
 */
static void merge_heads(void *arg, int64_t h0, int64_t h1)
{
	const struct merge_job *j = arg;
	int d = j->hp->head_dim, n_head = j->hp->n_head, p, t;
	int64_t h;

	for (h = h0; h < h1; h++) {
		float *o = j->out + h * d, mx = -INFINITY, l = 0.0f;

		for (p = 0; p < j->parts; p++) {
			const float *pa = j->part + (p * n_head + h) * (d + 2);

			if (pa[d] > mx)
				mx = pa[d];
		}
		memset(o, 0, sizeof(float) * d);
		for (p = 0; p < j->parts; p++) {
			const float *pa = j->part + (p * n_head + h) * (d + 2);
			float w = pa[d + 1] > 0 ? expf(pa[d] - mx) : 0.0f;

			l += w * pa[d + 1];
			for (t = 0; t < d; t++)
				o[t] += w * pa[t];
		}
		for (t = 0; t < d; t++)
			o[t] /= l;
	}
}

int amxrt_attention(struct amxrt_ctx *c, int layer, int64_t m, int pos0)
{
	const struct amxrt_hparams *hp = &c->m->hp;
	struct att_task a = {
		.c = c,
		.layer = layer,
		.pos0 = pos0,
		.m = m,
		.simd = amxrt_model_simd(),
		.bf16 = att_kind(c->m, m) == ATT_BF16,
	};
	int ret;

	a.rows = block_rows(hp, a.bf16);
	if (m == 1 && pos0 + 1 > AMXRT_ATT_PART)
		a.parts = (pos0 + AMXRT_ATT_PART) / AMXRT_ATT_PART;
	if (!a.parts)
		return amxrt_pool_for(att_chunk, &a,
				      (m + a.rows - 1) / a.rows *
					      hp->n_head_kv);
	ret = amxrt_pool_for(att_chunk, &a, (int64_t)a.parts * hp->n_head_kv);
	if (!ret) {
		struct merge_job j = { hp, c->att_part, c->att, a.parts };

		/* a head costs parts * head_dim */
		amxrt_op_par(merge_heads, &j, hp->n_head,
			     AMXRT_OP_PAR_WORK /
					     ((int64_t)a.parts * hp->head_dim) +
				     1);
	}
	return ret;
}
