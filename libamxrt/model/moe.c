// SPDX-License-Identifier: MIT
/*
 * moe.c - the mixture-of-experts FFN (qwen3moe): router, softmax over the
 * experts, top-k with the chosen probabilities normalized to sum 1, and
 * each expert's SwiGLU FFN run once over the rows routed to it.
 */
#include <math.h>
#include <string.h>

#include "model_int.h"

/*
 * Softmax of the router's row, then the k largest (lower index first on
 * ties), their probabilities scaled to sum 1. The k best are kept sorted
 * as the row is read once. A NaN logit makes every probability NaN: then
 * no comparison holds and the experts are 0 .. k - 1.
 */
static void route(const float *logits, int n_expert, int k, int *sel, float *w)
{
	float p[AMXRT_MAX_EXPERTS];
	float mx = logits[0];
	double sum = 0.0, wsum = 0.0;
	int i, j, have = 0;

	for (i = 1; i < n_expert; i++)
		if (logits[i] > mx)
			mx = logits[i];
	for (i = 0; i < n_expert; i++) {
		p[i] = expf(logits[i] - mx);
		sum += p[i];
	}
	for (i = 0; i < n_expert; i++) {
		float v = (float)(p[i] / sum);

		if (have == k && !(v > w[k - 1]))
			continue;
		/* v goes before the kept ones it beats, after its equals */
		j = have < k ? have++ : k - 1;
		for (; j > 0 && v > w[j - 1]; j--) {
			w[j] = w[j - 1];
			sel[j] = sel[j - 1];
		}
		w[j] = v;
		sel[j] = i;
	}
	for (j = 0; j < k; j++)
		wsum += w[j];
	for (j = 0; j < k; j++)
		w[j] = (float)(w[j] / wsum);
}

/* The routing of rows [r0, r1) of the router's output (amxrt_op_par). */
struct route_job {
	const float *logits;
	int *sel;
	float *w;
	int n_expert, k;
};

static void route_rows(void *arg, int64_t r0, int64_t r1)
{
	const struct route_job *a = arg;
	int64_t r;

	for (r = r0; r < r1; r++)
		route(a->logits + r * a->n_expert, a->n_expert, a->k,
		      a->sel + r * a->k, a->w + r * a->k);
}

/* The weighted scatter of a group's expert rows (scatter_tokens()). */
struct scatter_job {
	float *dst;
	const float *src, *rw;
	const int *rows;
	int64_t total, E;
};

/*
 * Add each expert row's output, weighted, into its token's row, for the
 * tokens [t0, t1): the pool splits the tokens, so that a token's rows from
 * several experts add into its row on one thread, in the order of the
 * experts as on one thread. Four-float vectors (model_int.h); whether a
 * column takes them or the scalar tail follows from E alone, so the bits do
 * not depend on the split.
 */
static void scatter_tokens(void *arg, int64_t t0, int64_t t1)
{
	const struct scatter_job *a = arg;
	int64_t r, i, E = a->E;

	for (r = 0; r < a->total; r++) {
		float *dst = a->dst + (int64_t)a->rows[r] * E;
		const float *src = a->src + r * E;
		float w = a->rw[r];
		v4f wv, d, x;

		if (a->rows[r] < t0 || a->rows[r] >= t1)
			continue;
		wv = (v4f){ w, w, w, w };
		for (i = 0; i + 4 <= E; i += 4) {
			memcpy(&d, dst + i, sizeof(d));
			memcpy(&x, src + i, sizeof(x));
			d += wv * x;
			memcpy(dst + i, &d, sizeof(d));
		}
		for (; i < E; i++)
			dst[i] += w * src[i];
	}
}

/* The experts that got rows run in groups of AMXRT_MOE_GROUP (model_int.h). */
#define GROUP AMXRT_MOE_GROUP

/*
 * List in c->rows (from entry total on) the tokens routed to expert e, and
 * their weights in c->rw. The expert's matmuls read those rows of c->xb in
 * place: staging gathers them (struct amxrt_op_mm's rows).
 */
static int64_t list_rows(struct amxrt_ctx *c, int e, int64_t m, int64_t total)
{
	int k = c->m->hp.n_expert_used;
	int64_t i, n = 0;
	int j;

	for (i = 0; i < m; i++)
		for (j = 0; j < k; j++)
			if (c->sel[i * k + j] == e) {
				c->rows[total + n] = (int)i;
				c->rw[total + n] = c->selw[i * k + j];
				n++;
			}
	return n;
}

int amxrt_moe_ffn(struct amxrt_ctx *c, const struct amxrt_layer *l, int64_t m)
{
	const struct amxrt_hparams *hp = &c->m->hp;
	int ne = hp->n_expert, k = hp->n_expert_used, nf = hp->n_ff_expert;
	int64_t E = hp->n_embd, n, total, row0[GROUP], cnt[GROUP];
	struct amxrt_op_mm mm[AMXRT_OP_MM_MAX];
	struct scatter_job sj;
	struct route_job rj;
	const int *rows;
	int e = 0, ex[GROUP], g, ng, ret;

	ret = amxrt_op_matmul(c, &l->router, c->xb, c->router, m);
	if (ret)
		return ret;
	rj = (struct route_job){ c->router, c->sel, c->selw, ne, k };
	/* a row's softmax and top-k: some 8 float ops per logit */
	amxrt_op_par(route_rows, &rj, m, AMXRT_OP_PAR_WORK / (8 * ne));

	memset(c->xb2, 0, sizeof(float) * m * E);
	while (e < ne) {
		/* the next experts that have rows, up to a group */
		total = 0;
		for (ng = 0; e < ne && ng < GROUP; e++) {
			n = list_rows(c, e, m, total);
			if (!n)
				continue;
			ex[ng] = e;
			row0[ng] = total;
			cnt[ng] = n;
			/*
			 * one token: every expert reads the row itself, so
			 * the batch stages it once, not once per expert;
			 * gate and up of an expert share their staging
			 */
			rows = m == 1 ? NULL : c->rows + total;
			mm[2 * ng] = (struct amxrt_op_mm){ &l->e_gate[e], c->xb,
							   c->he + total * nf,
							   n, rows };
			mm[2 * ng + 1] = (struct amxrt_op_mm){
				&l->e_up[e], c->xb, c->he2 + total * nf, n, rows
			};
			total += n;
			ng++;
		}
		if (!ng)
			break;
		ret = amxrt_op_matmuls(c, mm, 2 * ng);
		if (ret)
			return ret;
		amxrt_op_swiglu(c->he, c->he2, total * nf);
		for (g = 0; g < ng; g++)
			mm[g] = (struct amxrt_op_mm){ &l->e_down[ex[g]],
						      c->he + row0[g] * nf,
						      c->ye + row0[g] * E,
						      cnt[g], NULL };
		ret = amxrt_op_matmuls(c, mm, ng);
		if (ret)
			return ret;
		/* scatter back, weighted */
		sj = (struct scatter_job){ .dst = c->xb2,
					   .src = c->ye,
					   .rw = c->rw,
					   .rows = c->rows,
					   .total = total,
					   .E = E };
		/* a token's work: the group's rows per token, times E */
		amxrt_op_par(scatter_tokens, &sj, m,
			     AMXRT_OP_PAR_WORK * m /
				     (total * E > 0 ? total * E : 1));
	}
	return 0;
}
