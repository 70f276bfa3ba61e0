// SPDX-License-Identifier: MIT
/*
 * ctx.c - contexts: the KV cache, the activation buffers of one
 * micro-batch, amxrt_decode() split into micro-batches, the logits and the
 * weight-bytes-copied counter.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../core/error.h"
#include "model_int.h"

void amxrt_ctx_free(struct amxrt_ctx *c)
{
	if (!c)
		return;
	free(c->k_cache);
	free(c->v_cache);
	free(c->x);
	free(c->xb);
	free(c->xb2);
	free(c->q);
	free(c->k);
	free(c->v);
	free(c->att);
	free(c->att_part);
	free(c->hb);
	free(c->hb2);
	free(c->rope_cs);
	free(c->router);
	free(c->sel);
	free(c->selw);
	free(c->rows);
	free(c->rw);
	free(c->ye);
	free(c->he);
	free(c->he2);
	free(c->logits);
	free(c);
}

static void *zalloc(int64_t n, size_t size)
{
	return calloc(n > 0 ? (size_t)n : 1, size);
}

int amxrt_ctx_new(struct amxrt_model *m, const struct amxrt_ctx_params *p,
		  struct amxrt_ctx **out)
{
	const struct amxrt_hparams *hp;
	struct amxrt_ctx *c;
	int64_t ub, E, kvd, qd, nf, er, cache;

	if (!out)
		return amxrt_err(EINVAL, "ctx: out is NULL");
	*out = NULL;
	if (!m)
		return amxrt_err(EINVAL, "ctx: model is NULL");
	hp = &m->hp;
	c = calloc(1, sizeof(*c));
	if (!c)
		return amxrt_err(ENOMEM, "ctx: out of memory");
	c->m = m;
	c->n_ctx = p && p->n_ctx ?
			   p->n_ctx :
			   (hp->n_ctx_train < 4096 ? hp->n_ctx_train : 4096);
	c->n_batch = p && p->n_batch ? p->n_batch : AMXRT_CTX_DEFAULT_BATCH;
	c->n_ubatch = p && p->n_ubatch ? p->n_ubatch : AMXRT_CTX_DEFAULT_UBATCH;
	if (c->n_ctx < 1 || c->n_batch < 1 || c->n_ubatch < 1 ||
	    c->n_ctx > (1 << 24) || c->n_batch > (1 << 20)) {
		int n_ctx = c->n_ctx, n_batch = c->n_batch, n_ub = c->n_ubatch;

		amxrt_ctx_free(c);
		return amxrt_err(
			EINVAL,
			"ctx: bad sizes n_ctx %d, n_batch %d, n_ubatch %d",
			n_ctx, n_batch, n_ub);
	}
	if (c->n_ubatch > c->n_batch)
		c->n_ubatch = c->n_batch;
	ub = c->n_ubatch;
	E = hp->n_embd;
	qd = (int64_t)hp->n_head * hp->head_dim;
	kvd = (int64_t)hp->n_head_kv * hp->head_dim;
	nf = hp->n_ff > hp->n_ff_expert ? hp->n_ff : hp->n_ff_expert;
	/* MoE: the experts' rows, k per token (indices, weights, outputs) */
	er = hp->is_moe ? ub * hp->n_expert_used : 0;
	cache = (int64_t)hp->n_layer * c->n_ctx * kvd;

	c->k_cache = zalloc(cache, sizeof(float));
	c->v_cache = zalloc(cache, sizeof(float));
	c->x = zalloc(ub * E, sizeof(float));
	c->xb = zalloc(ub * E, sizeof(float));
	c->xb2 = zalloc(ub * E, sizeof(float));
	c->q = zalloc(ub * qd, sizeof(float));
	c->att = zalloc(ub * qd, sizeof(float));
	c->att_part =
		zalloc(((int64_t)c->n_ctx + AMXRT_ATT_PART - 1) /
			       AMXRT_ATT_PART * hp->n_head * (hp->head_dim + 2),
		       sizeof(float));
	c->hb = zalloc(ub * nf, sizeof(float));
	c->hb2 = zalloc(ub * nf, sizeof(float));
	c->rope_cs = zalloc(ub * hp->n_rot, sizeof(float));
	c->router = zalloc(ub * hp->n_expert, sizeof(float));
	c->sel = zalloc(ub * hp->n_expert_used, sizeof(int));
	c->selw = zalloc(ub * hp->n_expert_used, sizeof(float));
	c->rows = zalloc(er, sizeof(int));
	c->rw = zalloc(er, sizeof(float));
	c->ye = zalloc(er * E, sizeof(float));
	c->he = zalloc(er * hp->n_ff_expert, sizeof(float));
	c->he2 = zalloc(er * hp->n_ff_expert, sizeof(float));
	c->logits = zalloc(hp->n_vocab, sizeof(float));
	c->cap_logits = hp->n_vocab;
	if (!c->k_cache || !c->v_cache || !c->x || !c->xb || !c->xb2 || !c->q ||
	    !c->rope_cs || !c->att || !c->att_part || !c->hb || !c->hb2 ||
	    !c->router || !c->sel || !c->selw || !c->rows || !c->rw || !c->ye ||
	    !c->he || !c->he2 || !c->logits) {
		amxrt_ctx_free(c);
		return amxrt_err(ENOMEM, "ctx: out of memory (n_ctx %d)",
				 c->n_ctx);
	}
	*out = c;
	return 0;
}

int amxrt_ctx_n_ctx(const struct amxrt_ctx *c)
{
	return c ? c->n_ctx : 0;
}

int amxrt_ctx_pos(const struct amxrt_ctx *c)
{
	return c ? c->pos : 0;
}

int amxrt_ctx_truncate(struct amxrt_ctx *c, int pos)
{
	if (!c || pos < 0 || pos > c->pos)
		return amxrt_err(EINVAL, "ctx: cannot truncate to %d (pos %d)",
				 pos, c ? c->pos : 0);
	c->pos = pos;
	c->n_logits = 0;
	return 0;
}

int amxrt_decode(struct amxrt_ctx *c, const int32_t *tokens, int n, int flags)
{
	int all = !!(flags & AMXRT_DECODE_ALL_LOGITS);
	int64_t V, i;
	int pos0, ret = 0;

	if (!c || !tokens || n < 1)
		return amxrt_err(EINVAL, "decode: no tokens");
	if (flags & ~AMXRT_DECODE_ALL_LOGITS)
		return amxrt_err(EINVAL, "decode: unknown flags 0x%x", flags);
	if (n > c->n_batch)
		return amxrt_err(EINVAL, "decode: %d tokens > n_batch %d", n,
				 c->n_batch);
	if (n > c->n_ctx - c->pos)
		return amxrt_err(
			ENOSPC,
			"context full: %d tokens at position %d, n_ctx %d", n,
			c->pos, c->n_ctx);
	V = c->m->hp.n_vocab;
	for (i = 0; i < n; i++)
		if (tokens[i] < 0 || tokens[i] >= V)
			return amxrt_err(
				EINVAL,
				"decode: token %d (index %lld) is out of [0, %lld)",
				tokens[i], (long long)i, (long long)V);
	if (all && (int64_t)n * V > c->cap_logits) {
		float *l = realloc(c->logits, sizeof(float) * n * V);

		if (!l)
			return amxrt_err(ENOMEM, "decode: out of memory");
		c->logits = l;
		c->cap_logits = (int64_t)n * V;
	}

	pos0 = c->pos;
	c->n_logits = 0;
	for (i = 0; i < n && !ret; i += c->n_ubatch) {
		int64_t ub = n - i < c->n_ubatch ? n - i : c->n_ubatch;
		float *out = all	 ? c->logits + i * V :
			     i + ub == n ? c->logits :
					   NULL;

		ret = amxrt_forward(c, tokens + i, ub, out, all);
		c->pos += (int)ub;
	}
	if (ret) {
		c->pos = pos0;
		return ret;
	}
	c->n_logits = all ? n : 1;
	c->logits_all = all;
	return 0;
}

const float *amxrt_logits(const struct amxrt_ctx *c, int i)
{
	int64_t V;

	if (!c || !c->n_logits)
		return NULL;
	V = c->m->hp.n_vocab;
	if (i == -1)
		return c->logits + (int64_t)(c->n_logits - 1) * V;
	if (!c->logits_all || i < 0 || i >= c->n_logits)
		return NULL;
	return c->logits + (int64_t)i * V;
}

uint64_t amxrt_ctx_weight_bytes_copied(const struct amxrt_ctx *c)
{
	return c ? c->weight_bytes_copied : 0;
}
