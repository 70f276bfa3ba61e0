/* SPDX-License-Identifier: MIT */
/*
 * model_gen.h - writes small random models (llama, qwen2, qwen3, qwen3moe)
 * with the GGUF writer, in one weight type, for the model tests. Each
 * tensor's values come from its own generator seeded by (seed, name), so
 * two models of the same seed share every tensor they both have; a MoE
 * model can be made whose experts are all copies of the dense FFN of the
 * same seed (ffn_gate.weight copied into every slice of ffn_gate_exps).
 * The vocabulary is a minimal SentencePiece one: <unk> <s> </s>, the 256
 * byte tokens, then filler pieces.
 */
#ifndef AMXRT_TESTS_MODEL_GEN_H
#define AMXRT_TESTS_MODEL_GEN_H

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <amxrt/amxrt.h>

struct gen_params {
	const char *arch; /* "llama", "qwen2", "qwen3", "qwen3moe" */
	int n_layer, n_embd, n_head, n_head_kv, head_dim, n_ff, n_vocab;
	int n_ctx_train;
	int n_expert, n_expert_used, n_ff_exp;
	int experts_copy_dense; /* every expert = the dense FFN of this seed */
	float rope_base, eps;
	enum amxrt_type type; /* matmul weights and the embedding */
	int tied; /* no output.weight */
	uint64_t seed;
	/* for the bad-model tests */
	const char *skip_tensor; /* leave this tensor out */
	const char *bad_tensor; /* give this one a wrong ne[0] (+32) */
	const char *f16_tensor; /* store this one as f16 */
	int vocab_tokens; /* the tokenizer's tokens; 0: n_vocab */
	const char *tok_model; /* tokenizer.ggml.model; NULL: "llama" */
};

static inline void gen_defaults(struct gen_params *p, const char *arch,
				enum amxrt_type type, uint64_t seed)
{
	memset(p, 0, sizeof(*p));
	p->arch = arch;
	p->n_layer = 2;
	p->n_embd = 64;
	p->n_head = 4;
	p->n_head_kv = 2;
	p->head_dim = 16;
	p->n_ff = 96;
	p->n_vocab = 300;
	p->n_ctx_train = 4096;
	if (!strcmp(arch, "qwen3moe")) {
		p->n_expert = 4;
		p->n_expert_used = 2;
		p->n_ff_exp = 64;
	}
	p->rope_base = 10000.0f;
	p->eps = 1e-5f;
	p->type = type;
	p->seed = seed;
}

struct gen_buf {
	void *data[1024];
	int n;
};

static inline uint64_t gen_hash(const char *s, uint64_t seed)
{
	uint64_t h = 1469598103934665603ULL ^ seed;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
	return h ? h : 1;
}

/* Roughly normal values (sum of four uniforms) from a private xorshift. */
static inline void gen_values(float *v, int64_t n, const char *name,
			      uint64_t seed, float scale, float offset)
{
	uint64_t x = gen_hash(name, seed);
	int64_t i;
	int j;

	for (i = 0; i < n; i++) {
		double s = 0.0;

		for (j = 0; j < 4; j++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			s += (double)((x * 0x2545F4914F6CDD1DULL) >> 11) /
				     (double)(1ULL << 52) -
			     1.0;
		}
		v[i] = offset + scale * (float)(s * 0.8660254);
	}
}

/* Add one tensor of values drawn for value_name, stored as type. */
static inline int gen_tensor(struct amxrt_gguf_writer *w, struct gen_buf *b,
			     const struct gen_params *p, const char *name,
			     const char *value_name, enum amxrt_type type,
			     int n_dims, int64_t ne0, int64_t ne1, int64_t ne2,
			     float scale, float offset)
{
	int64_t ne[3] = { ne0, ne1, ne2 }, rows, rb, i, per;
	float *v;
	char *dst;

	if (p->skip_tensor && !strcmp(p->skip_tensor, name))
		return 0;
	if (p->bad_tensor && !strcmp(p->bad_tensor, name))
		ne[0] += 32;
	if (p->f16_tensor && !strcmp(p->f16_tensor, name))
		type = AMXRT_TYPE_F16;
	rows = ne[1] * (n_dims > 2 ? ne[2] : 1);
	rb = amxrt_row_bytes(type, ne[0]);
	if (rb < 0 || b->n >= 1024)
		return -EINVAL;
	/* with experts_copy_dense, every slice repeats the first */
	per = n_dims > 2 && p->experts_copy_dense ? ne[1] : rows;
	v = malloc(sizeof(float) * ne[0] * rows);
	dst = malloc(rb * rows);
	if (!v || !dst) {
		free(v);
		free(dst);
		return -ENOMEM;
	}
	gen_values(v, ne[0] * per, value_name, p->seed, scale, offset);
	for (i = per; i < rows; i++)
		memcpy(v + i * ne[0], v + (i % per) * ne[0],
		       sizeof(float) * ne[0]);
	for (i = 0; i < rows; i++)
		amxrt_quantize_row(type, v + i * ne[0], dst + i * rb, ne[0]);
	free(v);
	b->data[b->n++] = dst;
	return amxrt_gguf_add_tensor(w, name, type, n_dims, ne, dst, NULL,
				     NULL);
}

static inline int gen_vocab(struct amxrt_gguf_writer *w, int n_vocab,
			    const char *model)
{
	const char **toks = calloc(n_vocab, sizeof(char *));
	char(*store)[16] = calloc(n_vocab, 16);
	float *scores = calloc(n_vocab, sizeof(float));
	int32_t *types = calloc(n_vocab, sizeof(int32_t));
	int i, ret = -ENOMEM;

	if (!toks || !store || !scores || !types)
		goto out;
	for (i = 0; i < n_vocab; i++) {
		if (i == 0)
			snprintf(store[i], 16, "<unk>");
		else if (i == 1)
			snprintf(store[i], 16, "<s>");
		else if (i == 2)
			snprintf(store[i], 16, "</s>");
		else if (i < 259)
			snprintf(store[i], 16, "<0x%02X>", i - 3);
		else
			snprintf(store[i], 16, "\xe2\x96\x81t%d", i);
		toks[i] = store[i];
		scores[i] = i < 259 ? 0.0f : -(float)i;
		types[i] = i == 0 ? 2 : i < 3 ? 3 : i < 259 ? 6 : 1;
	}
	ret = amxrt_gguf_set_str(w, "tokenizer.ggml.model",
				 model ? model : "llama");
	if (!ret)
		ret = amxrt_gguf_set_arr_str(w, "tokenizer.ggml.tokens", toks,
					     NULL, n_vocab);
	if (!ret)
		ret = amxrt_gguf_set_arr(w, "tokenizer.ggml.scores",
					 AMXRT_GGUF_FLOAT32, scores, n_vocab);
	if (!ret)
		ret = amxrt_gguf_set_arr(w, "tokenizer.ggml.token_type",
					 AMXRT_GGUF_INT32, types, n_vocab);
	if (!ret)
		ret = amxrt_gguf_set_u32(w, "tokenizer.ggml.bos_token_id", 1);
	if (!ret)
		ret = amxrt_gguf_set_u32(w, "tokenizer.ggml.eos_token_id", 2);
	if (!ret)
		ret = amxrt_gguf_set_u32(w, "tokenizer.ggml.unknown_token_id",
					 0);
out:
	free(toks);
	free(store);
	free(scores);
	free(types);
	return ret;
}

/* Write the model to path. Returns 0 or a negative errno. */
static inline int gen_model(const char *path, const struct gen_params *p)
{
	struct amxrt_gguf_writer *w;
	struct gen_buf *b = calloc(1, sizeof(*b));
	int64_t E = p->n_embd, qd = p->n_head * p->head_dim;
	int64_t kvd = p->n_head_kv * p->head_dim;
	int moe = !strcmp(p->arch, "qwen3moe");
	int bias = !strcmp(p->arch, "qwen2");
	int qkn = !strcmp(p->arch, "qwen3") || moe;
	float sE = 1.0f / sqrtf((float)E), sQ = 1.0f / sqrtf((float)qd);
	char key[128], nm[128], vn[128];
	int ret, l, i;

	if (!b)
		return -ENOMEM;
	ret = amxrt_gguf_writer_new(&w);
	if (ret) {
		free(b);
		return ret;
	}
#define KEY(s) (snprintf(key, sizeof(key), "%s." s, p->arch), key)
	ret = amxrt_gguf_set_str(w, "general.architecture", p->arch);
	ret = ret ?: amxrt_gguf_set_str(w, "general.name", "random test model");
	ret = ret ?: amxrt_gguf_set_u32(w, KEY("block_count"), p->n_layer);
	ret = ret ?: amxrt_gguf_set_u32(w, KEY("embedding_length"), E);
	ret = ret ?: amxrt_gguf_set_u32(w, KEY("feed_forward_length"), p->n_ff);
	ret = ret   ?:
		      amxrt_gguf_set_u32(w, KEY("attention.head_count"),
					 p->n_head);
	ret = ret   ?:
		      amxrt_gguf_set_u32(w, KEY("attention.head_count_kv"),
					 p->n_head_kv);
	ret = ret   ?:
		      amxrt_gguf_set_u32(w, KEY("attention.key_length"),
					 p->head_dim);
	ret = ret   ?:
		      amxrt_gguf_set_u32(w, KEY("attention.value_length"),
					 p->head_dim);
	ret = ret   ?:
		      amxrt_gguf_set_f32(
			      w, KEY("attention.layer_norm_rms_epsilon"),
			      p->eps);
	ret = ret ?: amxrt_gguf_set_f32(w, KEY("rope.freq_base"), p->rope_base);
	ret = ret   ?:
		      amxrt_gguf_set_u32(w, KEY("rope.dimension_count"),
					 p->head_dim);
	ret = ret   ?:
		      amxrt_gguf_set_u32(w, KEY("context_length"),
					 p->n_ctx_train);
	if (moe) {
		ret = ret   ?:
			      amxrt_gguf_set_u32(w, KEY("expert_count"),
						 p->n_expert);
		ret = ret   ?:
			      amxrt_gguf_set_u32(w, KEY("expert_used_count"),
						 p->n_expert_used);
		ret = ret   ?:
			      amxrt_gguf_set_u32(
				      w, KEY("expert_feed_forward_length"),
				      p->n_ff_exp);
	}
#undef KEY
	ret = ret   ?:
		      gen_vocab(w,
				p->vocab_tokens ? p->vocab_tokens : p->n_vocab,
				p->tok_model);

#define T(name, vname, type, nd, a, b_, c, sc, off)                         \
	(ret = ret   ?:                                                     \
		       gen_tensor(w, b, p, name, vname, type, nd, a, b_, c, \
				  sc, off))
	T("token_embd.weight", "token_embd.weight", p->type, 2, E, p->n_vocab,
	  1, 1.0f, 0.0f);
	T("output_norm.weight", "output_norm.weight", AMXRT_TYPE_F32, 1, E, 1,
	  1, 0.1f, 1.0f);
	if (!p->tied)
		T("output.weight", "output.weight", p->type, 2, E, p->n_vocab,
		  1, sE * 2, 0.0f);
	for (l = 0; l < p->n_layer; l++) {
		static const char *const names[] = {
			"attn_norm.weight",   "attn_q.weight",
			"attn_k.weight",      "attn_v.weight",
			"attn_output.weight", "ffn_norm.weight",
		};
		const int64_t rows[] = { 1, qd, kvd, kvd, E, 1 };
		const int64_t cols[] = { E, E, E, E, qd, E };

		for (i = 0; i < 6; i++) {
			int norm = rows[i] == 1;

			snprintf(nm, sizeof(nm), "blk.%d.%s", l, names[i]);
			T(nm, nm, norm ? AMXRT_TYPE_F32 : p->type, norm ? 1 : 2,
			  cols[i], rows[i], 1, norm ? 0.1f : (i == 4 ? sQ : sE),
			  norm ? 1.0f : 0.0f);
		}
		if (bias) {
			snprintf(nm, sizeof(nm), "blk.%d.attn_q.bias", l);
			T(nm, nm, AMXRT_TYPE_F32, 1, qd, 1, 1, 0.2f, 0.0f);
			snprintf(nm, sizeof(nm), "blk.%d.attn_k.bias", l);
			T(nm, nm, AMXRT_TYPE_F32, 1, kvd, 1, 1, 0.2f, 0.0f);
			snprintf(nm, sizeof(nm), "blk.%d.attn_v.bias", l);
			T(nm, nm, AMXRT_TYPE_F32, 1, kvd, 1, 1, 0.2f, 0.0f);
		}
		if (qkn) {
			snprintf(nm, sizeof(nm), "blk.%d.attn_q_norm.weight",
				 l);
			T(nm, nm, AMXRT_TYPE_F32, 1, p->head_dim, 1, 1, 0.1f,
			  1.0f);
			snprintf(nm, sizeof(nm), "blk.%d.attn_k_norm.weight",
				 l);
			T(nm, nm, AMXRT_TYPE_F32, 1, p->head_dim, 1, 1, 0.1f,
			  1.0f);
		}
		if (!moe) {
			snprintf(nm, sizeof(nm), "blk.%d.ffn_gate.weight", l);
			T(nm, nm, p->type, 2, E, p->n_ff, 1, sE, 0.0f);
			snprintf(nm, sizeof(nm), "blk.%d.ffn_up.weight", l);
			T(nm, nm, p->type, 2, E, p->n_ff, 1, sE, 0.0f);
			snprintf(nm, sizeof(nm), "blk.%d.ffn_down.weight", l);
			T(nm, nm, p->type, 2, p->n_ff, E, 1,
			  1.0f / sqrtf((float)p->n_ff), 0.0f);
			continue;
		}
		snprintf(nm, sizeof(nm), "blk.%d.ffn_gate_inp.weight", l);
		/* the router stays f32, as llama.cpp's quantizer leaves it */
		T(nm, nm, AMXRT_TYPE_F32, 2, E, p->n_expert, 1, sE * 4, 0.0f);
		/* values of the dense names when experts copy the dense FFN */
		snprintf(nm, sizeof(nm), "blk.%d.ffn_gate_exps.weight", l);
		snprintf(vn, sizeof(vn), "blk.%d.ffn_gate%s.weight", l,
			 p->experts_copy_dense ? "" : "_exps");
		T(nm, vn, p->type, 3, E, p->n_ff_exp, p->n_expert, sE, 0.0f);
		snprintf(nm, sizeof(nm), "blk.%d.ffn_up_exps.weight", l);
		snprintf(vn, sizeof(vn), "blk.%d.ffn_up%s.weight", l,
			 p->experts_copy_dense ? "" : "_exps");
		T(nm, vn, p->type, 3, E, p->n_ff_exp, p->n_expert, sE, 0.0f);
		snprintf(nm, sizeof(nm), "blk.%d.ffn_down_exps.weight", l);
		snprintf(vn, sizeof(vn), "blk.%d.ffn_down%s.weight", l,
			 p->experts_copy_dense ? "" : "_exps");
		T(nm, vn, p->type, 3, p->n_ff_exp, E, p->n_expert,
		  1.0f / sqrtf((float)p->n_ff_exp), 0.0f);
	}
#undef T
	ret = ret ?: amxrt_gguf_write(w, path);
	amxrt_gguf_writer_free(w);
	for (i = 0; i < b->n; i++)
		free(b->data[i]);
	free(b);
	return ret;
}

#endif /* AMXRT_TESTS_MODEL_GEN_H */
