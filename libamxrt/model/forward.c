// SPDX-License-Identifier: MIT
/*
 * forward.c - one forward pass over a micro-batch of m tokens at the
 * context's position, readable top to bottom: embed, then per layer
 * RMSNorm, Q/K/V (+ bias, + q/k norm), RoPE, KV cache, attention, output
 * projection, residual, RMSNorm, SwiGLU FFN (dense or MoE), residual; the
 * final norm and the logits.
 */
#include <string.h>

#include "model_int.h"

/* Per-head RMSNorm of the m rows of x (n_heads heads of head_dim). */
static void head_norm(const struct amxrt_hparams *hp, float *x, int64_t m,
		      int n_heads, const struct amxrt_plain *w)
{
	amxrt_op_rmsnorm(x, x, w->data, m * n_heads, hp->head_dim,
			 hp->norm_eps);
}

int amxrt_forward(struct amxrt_ctx *c, const int32_t *tokens, int64_t m,
		  float *out, int all_logits)
{
	const struct amxrt_model *md = c->m;
	const struct amxrt_hparams *hp = &md->hp;
	int64_t E = hp->n_embd, qd = (int64_t)hp->n_head * hp->head_dim;
	int64_t kvd = (int64_t)hp->n_head_kv * hp->head_dim;
	int pos0 = c->pos, ret, li;
	int64_t i;

	/* token embeddings: rows of the plain table, decoded */
	if (m > 1)
		amxrt_op_prefetch_rows(&md->tok_embd, tokens, m);
	for (i = 0; i < m; i++) {
		ret = amxrt_op_get_row(&md->tok_embd, tokens[i], c->x + i * E);
		if (ret)
			return ret;
	}

	/* the rows' rotation angles, for every layer's q and k */
	amxrt_rope_angles(hp, c->rope_cs, m, pos0);

	for (li = 0; li < hp->n_layer; li++) {
		const struct amxrt_layer *l = &md->layers[li];
		float *kc = c->k_cache + ((int64_t)li * c->n_ctx + pos0) * kvd;
		float *vc = c->v_cache + ((int64_t)li * c->n_ctx + pos0) * kvd;
		/* q, k, v share their input (staged once), as gate and up do */
		struct amxrt_op_mm qkv[] = { { &l->wq, c->xb, c->q, m, NULL },
					     { &l->wk, c->xb, kc, m, NULL },
					     { &l->wv, c->xb, vc, m, NULL } };
		struct amxrt_op_mm gate_up[] = {
			{ &l->w_gate, c->xb, c->hb, m, NULL },
			{ &l->w_up, c->xb, c->hb2, m, NULL }
		};

		/* attention: norm, q k v projections */
		amxrt_op_rmsnorm(c->xb, c->x, l->attn_norm.data, m, E,
				 hp->norm_eps);
		ret = amxrt_op_matmuls(c, qkv, 3);
		if (ret)
			return ret;
		if (hp->has_qkv_bias) {
			amxrt_op_add_bias(c->q, l->bq.data, m, qd);
			amxrt_op_add_bias(kc, l->bk.data, m, kvd);
			amxrt_op_add_bias(vc, l->bv.data, m, kvd);
		}
		if (hp->has_qk_norm) {
			head_norm(hp, c->q, m, hp->n_head, &l->q_norm);
			head_norm(hp, kc, m, hp->n_head_kv, &l->k_norm);
		}
		/* positions, then keys and values are in the cache already */
		amxrt_rope(hp, c->rope_cs, c->q, m, hp->n_head);
		amxrt_rope(hp, c->rope_cs, kc, m, hp->n_head_kv);

		/* causal attention over cache + batch, output projection */
		ret = amxrt_attention(c, li, m, pos0);
		if (!ret)
			ret = amxrt_op_matmul(c, &l->wo, c->att, c->xb2, m);
		if (ret)
			return ret;
		amxrt_op_add(c->x, c->xb2, m * E);

		/* feed-forward: norm, SwiGLU (dense or experts), residual */
		amxrt_op_rmsnorm(c->xb, c->x, l->ffn_norm.data, m, E,
				 hp->norm_eps);
		if (hp->is_moe) {
			ret = amxrt_moe_ffn(c, l, m);
		} else {
			ret = amxrt_op_matmuls(c, gate_up, 2);
			if (!ret) {
				amxrt_op_swiglu(c->hb, c->hb2, m * hp->n_ff);
				ret = amxrt_op_matmul(c, &l->w_down, c->hb,
						      c->xb2, m);
			}
		}
		if (ret)
			return ret;
		amxrt_op_add(c->x, c->xb2, m * E);
	}

	/* final norm; logits of the last row, or of all rows, or none */
	if (!out)
		return 0;
	if (all_logits) {
		amxrt_op_rmsnorm(c->xb, c->x, md->output_norm.data, m, E,
				 hp->norm_eps);
		return amxrt_op_matmul(c, &md->output, c->xb, out, m);
	}
	amxrt_op_rmsnorm(c->xb, c->x + (m - 1) * E, md->output_norm.data, 1, E,
			 hp->norm_eps);
	return amxrt_op_matmul(c, &md->output, c->xb, out, 1);
}
