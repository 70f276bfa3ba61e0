/* SPDX-License-Identifier: MIT */
/*
 * model_ref.h - a plain double-precision forward pass, one token at a
 * time, for the model tests. It shares nothing with libamxrt/model/: the
 * hyperparameters come from the test (not from the library's reading of
 * the keys), the weights are read from the GGUF by name and decoded with
 * amxrt_dequantize_row() (so they are exactly the file's values), and
 * every sum, norm, rotation and softmax is computed in double.
 */
#ifndef AMXRT_TESTS_MODEL_REF_H
#define AMXRT_TESTS_MODEL_REF_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <amxrt/amxrt.h>

struct ref_hp {
	int n_layer, n_embd, n_head, n_head_kv, head_dim, n_ff, n_vocab;
	int n_rot;
	int n_expert, n_expert_used, n_ff_exp;
	double rope_base, eps;
	int neox, bias, qk_norm, moe;
};

static inline void ref_hp_for(struct ref_hp *h, const char *arch)
{
	h->neox = strcmp(arch, "llama") != 0;
	h->bias = !strcmp(arch, "qwen2");
	h->qk_norm = !strcmp(arch, "qwen3") || !strcmp(arch, "qwen3moe");
	h->moe = !strcmp(arch, "qwen3moe");
}

struct ref_layer {
	float *attn_norm, *wq, *wk, *wv, *wo, *bq, *bk, *bv, *qn, *kn;
	float *ffn_norm, *gate, *up, *down, *router, *egate, *eup, *edown;
};

struct ref {
	struct ref_hp h;
	float *emb, *out_norm, *out;
	struct ref_layer *l;
	double *kc, *vc; /* [n_layer][n_ctx][n_head_kv * head_dim] */
	int n_ctx, pos;
	/* MoE: the smallest router logit gap between the last chosen expert
	 * and the best one left out (a near tie flips under tiny errors) */
	double min_gap;
};

/* The whole tensor decoded to floats, or NULL if absent (or on error). */
static inline float *ref_tensor(const struct amxrt_gguf *g, const char *name)
{
	struct amxrt_gguf_tensor t;
	int64_t i = amxrt_gguf_find_tensor(g, name), rows, rb;
	float *v;

	if (i < 0 || amxrt_gguf_tensor(g, i, &t))
		return NULL;
	rows = t.ne[1] * t.ne[2] * t.ne[3];
	rb = amxrt_row_bytes(t.type, t.ne[0]);
	v = malloc(sizeof(float) * t.ne[0] * rows);
	for (i = 0; v && i < rows; i++)
		amxrt_dequantize_row(t.type, (const char *)t.data + i * rb,
				     v + i * t.ne[0], t.ne[0]);
	return v;
}

static inline float *ref_blk(const struct amxrt_gguf *g, int l,
			     const char *name)
{
	char nm[128];

	snprintf(nm, sizeof(nm), "blk.%d.%s", l, name);
	return ref_tensor(g, nm);
}

/* 0, or -1 if a tensor the architecture needs is absent. */
static inline int ref_init(struct ref *r, const struct amxrt_gguf *g,
			   const struct ref_hp *h, int n_ctx)
{
	int64_t kvd = (int64_t)h->n_head_kv * h->head_dim;
	int l, bad = 0;

	memset(r, 0, sizeof(*r));
	r->h = *h;
	r->n_ctx = n_ctx;
	r->min_gap = INFINITY;
	r->emb = ref_tensor(g, "token_embd.weight");
	r->out_norm = ref_tensor(g, "output_norm.weight");
	r->out = ref_tensor(g, "output.weight");
	if (!r->out) /* tied */
		r->out = ref_tensor(g, "token_embd.weight");
	bad |= !r->emb || !r->out_norm || !r->out;
	r->l = calloc(h->n_layer, sizeof(*r->l));
	for (l = 0; l < h->n_layer; l++) {
		struct ref_layer *L = &r->l[l];

		L->attn_norm = ref_blk(g, l, "attn_norm.weight");
		L->wq = ref_blk(g, l, "attn_q.weight");
		L->wk = ref_blk(g, l, "attn_k.weight");
		L->wv = ref_blk(g, l, "attn_v.weight");
		L->wo = ref_blk(g, l, "attn_output.weight");
		L->ffn_norm = ref_blk(g, l, "ffn_norm.weight");
		bad |= !L->attn_norm || !L->wq || !L->wk || !L->wv || !L->wo ||
		       !L->ffn_norm;
		if (h->bias) {
			L->bq = ref_blk(g, l, "attn_q.bias");
			L->bk = ref_blk(g, l, "attn_k.bias");
			L->bv = ref_blk(g, l, "attn_v.bias");
			bad |= !L->bq || !L->bk || !L->bv;
		}
		if (h->qk_norm) {
			L->qn = ref_blk(g, l, "attn_q_norm.weight");
			L->kn = ref_blk(g, l, "attn_k_norm.weight");
			bad |= !L->qn || !L->kn;
		}
		if (h->moe) {
			L->router = ref_blk(g, l, "ffn_gate_inp.weight");
			L->egate = ref_blk(g, l, "ffn_gate_exps.weight");
			L->eup = ref_blk(g, l, "ffn_up_exps.weight");
			L->edown = ref_blk(g, l, "ffn_down_exps.weight");
			bad |= !L->router || !L->egate || !L->eup || !L->edown;
		} else {
			L->gate = ref_blk(g, l, "ffn_gate.weight");
			L->up = ref_blk(g, l, "ffn_up.weight");
			L->down = ref_blk(g, l, "ffn_down.weight");
			bad |= !L->gate || !L->up || !L->down;
		}
	}
	r->kc = calloc((size_t)h->n_layer * n_ctx * kvd, sizeof(double));
	r->vc = calloc((size_t)h->n_layer * n_ctx * kvd, sizeof(double));
	return bad || !r->kc || !r->vc ? -1 : 0;
}

static inline void ref_free(struct ref *r)
{
	int l;

	for (l = 0; r->l && l < r->h.n_layer; l++) {
		struct ref_layer *L = &r->l[l];
		float **p = (float **)L;
		size_t i;

		for (i = 0; i < sizeof(*L) / sizeof(float *); i++)
			free(p[i]);
	}
	free(r->l);
	free(r->emb);
	free(r->out_norm);
	free(r->out);
	free(r->kc);
	free(r->vc);
}

/* y[n] = W[n x k] x[k] */
static inline void ref_matvec(const float *w, const double *x, double *y, int n,
			      int k)
{
	int i, j;

	for (i = 0; i < n; i++) {
		double s = 0.0;

		for (j = 0; j < k; j++)
			s += (double)w[(int64_t)i * k + j] * x[j];
		y[i] = s;
	}
}

static inline void ref_rmsnorm(double *y, const double *x, const float *w,
			       int n, double eps)
{
	double ss = 0.0;
	int i;

	for (i = 0; i < n; i++)
		ss += x[i] * x[i];
	ss = 1.0 / sqrt(ss / n + eps);
	for (i = 0; i < n; i++)
		y[i] = x[i] * ss * w[i];
}

static inline void ref_rope(const struct ref_hp *h, double *v, int pos)
{
	int half = h->n_rot / 2, j;

	for (j = 0; j < half; j++) {
		double th = pos * pow(h->rope_base, -2.0 * j / h->n_rot);
		int a = h->neox ? j : 2 * j, b = h->neox ? j + half : 2 * j + 1;
		double x0 = v[a], x1 = v[b];

		v[a] = x0 * cos(th) - x1 * sin(th);
		v[b] = x0 * sin(th) + x1 * cos(th);
	}
}

/* The SwiGLU FFN of one expert (or the dense one): out[E] */
static inline void ref_ffn(const float *gate, const float *up,
			   const float *down, const double *x, double *out,
			   int E, int F)
{
	double *g = malloc(sizeof(double) * F), *u = malloc(sizeof(double) * F);
	int i;

	ref_matvec(gate, x, g, F, E);
	ref_matvec(up, x, u, F, E);
	for (i = 0; i < F; i++)
		g[i] = g[i] / (1.0 + exp(-g[i])) * u[i];
	ref_matvec(down, g, out, E, F);
	free(g);
	free(u);
}

/* Feed one token at r->pos; logits[n_vocab]. */
static inline void ref_step(struct ref *r, int token, double *logits)
{
	const struct ref_hp *h = &r->h;
	int E = h->n_embd, D = h->head_dim, H = h->n_head;
	int qd = H * D, kvd = h->n_head_kv * D, pos = r->pos;
	int nf = h->n_ff > h->n_ff_exp ? h->n_ff : h->n_ff_exp;
	double *x = malloc(sizeof(double) * E),
	       *xb = malloc(sizeof(double) * E);
	double *y = malloc(sizeof(double) * E),
	       *q = malloc(sizeof(double) * qd);
	double *att = malloc(sizeof(double) * qd);
	double *sc = malloc(sizeof(double) * (pos + 1));
	double *ye = malloc(sizeof(double) * E);
	double *rl = malloc(sizeof(double) * (h->n_expert + 1));
	int l, i, j, t, hh, e;

	(void)nf;
	for (i = 0; i < E; i++)
		x[i] = r->emb[(int64_t)token * E + i];
	for (l = 0; l < h->n_layer; l++) {
		struct ref_layer *L = &r->l[l];
		double *kc = r->kc + ((int64_t)l * r->n_ctx) * kvd;
		double *vc = r->vc + ((int64_t)l * r->n_ctx) * kvd;
		double *k = kc + (int64_t)pos * kvd,
		       *v = vc + (int64_t)pos * kvd;

		ref_rmsnorm(xb, x, L->attn_norm, E, h->eps);
		ref_matvec(L->wq, xb, q, qd, E);
		ref_matvec(L->wk, xb, k, kvd, E);
		ref_matvec(L->wv, xb, v, kvd, E);
		if (h->bias) {
			for (i = 0; i < qd; i++)
				q[i] += L->bq[i];
			for (i = 0; i < kvd; i++) {
				k[i] += L->bk[i];
				v[i] += L->bv[i];
			}
		}
		if (h->qk_norm) {
			for (hh = 0; hh < H; hh++)
				ref_rmsnorm(q + hh * D, q + hh * D, L->qn, D,
					    h->eps);
			for (hh = 0; hh < h->n_head_kv; hh++)
				ref_rmsnorm(k + hh * D, k + hh * D, L->kn, D,
					    h->eps);
		}
		for (hh = 0; hh < H; hh++)
			ref_rope(h, q + hh * D, pos);
		for (hh = 0; hh < h->n_head_kv; hh++)
			ref_rope(h, k + hh * D, pos);
		/* attention, head hh reads kv head hh / (H / n_head_kv) */
		for (hh = 0; hh < H; hh++) {
			int kh = hh / (H / h->n_head_kv);
			double mx = -INFINITY, sum = 0.0;

			for (t = 0; t <= pos; t++) {
				double s = 0.0;

				for (j = 0; j < D; j++)
					s += q[hh * D + j] *
					     kc[(int64_t)t * kvd + kh * D + j];
				sc[t] = s / sqrt((double)D);
				mx = sc[t] > mx ? sc[t] : mx;
			}
			for (t = 0; t <= pos; t++) {
				sc[t] = exp(sc[t] - mx);
				sum += sc[t];
			}
			for (j = 0; j < D; j++) {
				double a = 0.0;

				for (t = 0; t <= pos; t++)
					a += sc[t] *
					     vc[(int64_t)t * kvd + kh * D + j];
				att[hh * D + j] = a / sum;
			}
		}
		ref_matvec(L->wo, att, y, E, qd);
		for (i = 0; i < E; i++)
			x[i] += y[i];

		ref_rmsnorm(xb, x, L->ffn_norm, E, h->eps);
		if (!h->moe) {
			ref_ffn(L->gate, L->up, L->down, xb, y, E, h->n_ff);
		} else {
			int F = h->n_ff_exp, sel[64];
			double mx = -INFINITY, sum = 0.0, wsum = 0.0, w[64];

			ref_matvec(L->router, xb, rl, h->n_expert, E);
			for (e = 0; e < h->n_expert; e++)
				mx = rl[e] > mx ? rl[e] : mx;
			for (e = 0; e < h->n_expert; e++) {
				rl[e] = exp(rl[e] - mx);
				sum += rl[e];
			}
			for (j = 0; j < h->n_expert_used; j++) {
				int best = -1, u;

				for (e = 0; e < h->n_expert; e++) {
					int used = 0;

					for (u = 0; u < j; u++)
						used |= sel[u] == e;
					if (!used &&
					    (best < 0 || rl[e] > rl[best]))
						best = e;
				}
				sel[j] = best;
				w[j] = rl[best] / sum;
				wsum += w[j];
			}
			for (e = 0; e < h->n_expert; e++) {
				int used = 0, u;
				double gap;

				for (u = 0; u < h->n_expert_used; u++)
					used |= sel[u] == e;
				gap = log(rl[sel[h->n_expert_used - 1]] /
					  rl[e]);
				if (!used && gap < r->min_gap)
					r->min_gap = gap;
			}
			memset(y, 0, sizeof(double) * E);
			for (j = 0; j < h->n_expert_used; j++) {
				int64_t o = (int64_t)sel[j] * F * E;

				ref_ffn(L->egate + o, L->eup + o, L->edown + o,
					xb, ye, E, F);
				for (i = 0; i < E; i++)
					y[i] += w[j] / wsum * ye[i];
			}
		}
		for (i = 0; i < E; i++)
			x[i] += y[i];
	}
	ref_rmsnorm(xb, x, r->out_norm, E, h->eps);
	ref_matvec(r->out, xb, logits, h->n_vocab, E);
	r->pos++;
	free(x);
	free(xb);
	free(y);
	free(q);
	free(att);
	free(sc);
	free(ye);
	free(rl);
}

#endif /* AMXRT_TESTS_MODEL_REF_H */
