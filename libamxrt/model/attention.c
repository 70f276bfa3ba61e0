// SPDX-License-Identifier: MIT
/*
 * attention.c - rotary position embedding in both element orders, and
 * causal multi-head attention with grouped KV heads over the KV cache,
 * split over the thread pool by (row, head).
 */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "../core/error.h"
#include "../core/threads.h"
#include "model_int.h"

/*
 * Pair j (j < n_rot / 2) turns by pos * base^(-2j / n_rot). Interleaved
 * order (llama GGUF files, whose q/k rows the converter permuted): the
 * pair is (2j, 2j + 1); NeoX order (qwen2/3): (j, j + n_rot / 2).
 */
void amxrt_rope(const struct amxrt_hparams *hp, float *x, int64_t m,
		int n_heads, int pos0)
{
	float cs[AMXRT_MAX_HEAD_DIM / 2], sn[AMXRT_MAX_HEAD_DIM / 2];
	int half = hp->n_rot / 2, d = hp->head_dim;
	int64_t i;
	int h, j;

	for (i = 0; i < m; i++) {
		float *row = x + i * (int64_t)n_heads * d;

		for (j = 0; j < half; j++) {
			double a = (double)(pos0 + i) *
				   pow(hp->rope_base, -2.0 * j / hp->n_rot);

			cs[j] = (float)cos(a);
			sn[j] = (float)sin(a);
		}
		for (h = 0; h < n_heads; h++) {
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

struct att_task {
	struct amxrt_ctx *c;
	int layer, pos0;
	int64_t m;
};

#define ATT_CHUNK 64

/*
 * Four-float vectors (GCC vector extensions: SSE on any x86-64, without
 * per-file ISA flags) for the two inner loops; head_dim % 4 == 0 takes
 * them, other sizes the scalar loops.
 */
typedef float v4f __attribute__((vector_size(16)));

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

/* One query row against keys 0 .. n-1 with an online softmax. */
static void attend(const float *q, const float *kc, const float *vc,
		   int64_t stride, int n, int d, float scale, float *out)
{
	float acc[AMXRT_MAX_HEAD_DIM], s[ATT_CHUNK];
	float mx = -INFINITY, l = 0.0f;
	int t0, t, j;

	memset(acc, 0, sizeof(float) * d);
	for (t0 = 0; t0 < n; t0 += ATT_CHUNK) {
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
	for (j = 0; j < d; j++)
		out[j] = acc[j] / l;
}

static void att_run(void *arg, int ith, int nth, void *scratch)
{
	struct att_task *a = arg;
	struct amxrt_ctx *c = a->c;
	const struct amxrt_hparams *hp = &c->m->hp;
	int d = hp->head_dim, nh = hp->n_head;
	int group = hp->n_head / hp->n_head_kv;
	int64_t kvd = (int64_t)hp->n_head_kv * d;
	int64_t total = a->m * nh, per = (total + nth - 1) / nth;
	int64_t it, end = (ith + 1) * per < total ? (ith + 1) * per : total;
	float scale = 1.0f / sqrtf((float)d);
	const float *kc = c->k_cache + (int64_t)a->layer * c->n_ctx * kvd;
	const float *vc = c->v_cache + (int64_t)a->layer * c->n_ctx * kvd;

	for (it = ith * per; it < end; it++) {
		int64_t i = it / nh;
		int h = (int)(it % nh), kvh = h / group;

		attend(c->q + i * nh * d + h * d, kc + kvh * d, vc + kvh * d,
		       kvd, a->pos0 + (int)i + 1, d, scale,
		       c->att + i * nh * d + h * d);
	}
}

int amxrt_attention(struct amxrt_ctx *c, int layer, int64_t m, int pos0)
{
	struct att_task a = { .c = c, .layer = layer, .pos0 = pos0, .m = m };
	int64_t work = m * c->m->hp.n_head * (pos0 + m) * c->m->hp.head_dim;

	/* small problems: waking the pool costs more than the work */
	if (work < (1 << 16)) {
		att_run(&a, 0, 1, NULL);
		return 0;
	}
	return amxrt_pool_run(att_run, &a);
}
