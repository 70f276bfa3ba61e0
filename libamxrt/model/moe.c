// SPDX-License-Identifier: MIT
/*
 * moe.c - the mixture-of-experts FFN (qwen3moe): router, softmax over the
 * experts, top-k with the chosen probabilities normalized to sum 1, and
 * each expert's SwiGLU FFN run once over the rows routed to it.
 */
#include <math.h>
#include <string.h>

#include "model_int.h"

/* Softmax of the router's row, then the k largest (lower index first on
 * ties), their probabilities scaled to sum 1. */
static void route(const float *logits, int n_expert, int k, int *sel, float *w)
{
	float p[AMXRT_MAX_EXPERTS];
	float mx = logits[0];
	double sum = 0.0, wsum = 0.0;
	int i, j;

	for (i = 1; i < n_expert; i++)
		if (logits[i] > mx)
			mx = logits[i];
	for (i = 0; i < n_expert; i++) {
		p[i] = expf(logits[i] - mx);
		sum += p[i];
	}
	for (i = 0; i < n_expert; i++)
		p[i] = (float)(p[i] / sum);
	for (j = 0; j < k; j++) {
		int best = -1;

		for (i = 0; i < n_expert; i++) {
			int taken = 0, t;

			for (t = 0; t < j; t++)
				taken |= sel[t] == i;
			if (!taken && (best < 0 || p[i] > p[best]))
				best = i;
		}
		sel[j] = best;
		w[j] = p[best];
		wsum += p[best];
	}
	for (j = 0; j < k; j++)
		w[j] = (float)(w[j] / wsum);
}

int amxrt_moe_ffn(struct amxrt_ctx *c, const struct amxrt_layer *l, int64_t m)
{
	const struct amxrt_hparams *hp = &c->m->hp;
	int ne = hp->n_expert, k = hp->n_expert_used, nf = hp->n_ff_expert;
	int64_t E = hp->n_embd, i, r;
	int e, j, ret;

	ret = amxrt_op_matmul(c, &l->router, c->xb, c->router, m);
	if (ret)
		return ret;
	for (i = 0; i < m; i++)
		route(c->router + i * ne, ne, k, c->sel + i * k,
		      c->selw + i * k);

	memset(c->xb2, 0, sizeof(float) * m * E);
	for (e = 0; e < ne; e++) {
		int64_t cnt = 0;

		/* gather the rows routed to expert e */
		for (i = 0; i < m; i++)
			for (j = 0; j < k; j++)
				if (c->sel[i * k + j] == e) {
					c->rows[cnt] = (int)i;
					c->rw[cnt] = c->selw[i * k + j];
					memcpy(c->xe + cnt * E, c->xb + i * E,
					       sizeof(float) * E);
					cnt++;
				}
		if (!cnt)
			continue;
		ret = amxrt_op_matmul(c, &l->e_gate[e], c->xe, c->hb, cnt);
		if (!ret)
			ret = amxrt_op_matmul(c, &l->e_up[e], c->xe, c->hb2,
					      cnt);
		if (ret)
			return ret;
		amxrt_op_swiglu(c->hb, c->hb2, cnt * nf);
		ret = amxrt_op_matmul(c, &l->e_down[e], c->hb, c->ye, cnt);
		if (ret)
			return ret;
		/* scatter back, weighted */
		for (r = 0; r < cnt; r++) {
			float *dst = c->xb2 + (int64_t)c->rows[r] * E;
			const float *src = c->ye + r * E;

			for (i = 0; i < E; i++)
				dst[i] += c->rw[r] * src[i];
		}
	}
	return 0;
}
