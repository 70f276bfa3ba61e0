/* SPDX-License-Identifier: MIT */
/*
 * model_int.h - the model's internal structures, shared by the files of
 * libamxrt/model/. Internal.
 *
 * Split as llama2.c splits a transformer: hyperparameters (struct
 * amxrt_hparams), read-only weights (struct amxrt_model and its layers),
 * and the run state of one context (struct amxrt_ctx: KV cache,
 * activations, logits). Shapes are [rows x cols], row-major, with GGUF's
 * ne[1] x ne[0].
 */
#ifndef AMXRT_MODEL_INT_H
#define AMXRT_MODEL_INT_H

#include <stddef.h>
#include <stdint.h>

#include <amxrt/gguf.h>
#include <amxrt/matmul.h>
#include <amxrt/model.h>
#include <amxrt/tokenizer.h>

#define AMXRT_MAX_HEAD_DIM 512
#define AMXRT_MAX_EXPERTS 512

enum amxrt_arch {
	AMXRT_ARCH_LLAMA,
	AMXRT_ARCH_QWEN2,
	AMXRT_ARCH_QWEN3,
	AMXRT_ARCH_QWEN3MOE,
};

struct amxrt_hparams {
	enum amxrt_arch arch;
	char arch_name[32];
	int n_layer, n_embd, n_head, n_head_kv, head_dim, n_ff;
	int n_vocab, n_ctx_train;
	int n_expert, n_expert_used, n_ff_expert;
	int n_rot; /* rotated dimensions of a head (rope.dimension_count) */
	float rope_base, norm_eps;
	int rope_neox; /* 1: pairs (i, i + n_rot/2); 0: pairs (2i, 2i+1) */
	int has_qkv_bias; /* qwen2 */
	int has_qk_norm; /* qwen3, qwen3moe */
	int is_moe; /* qwen3moe */
};

/* Read the architecture's keys ({arch}.block_count ...); 0 or -errno. */
int amxrt_hparams_read(const struct amxrt_gguf *g, struct amxrt_hparams *hp);

/*
 * A tensor kept in its file format (embeddings, norms, biases): points
 * into the mapped GGUF, never copied.
 */
struct amxrt_plain {
	const char *name;
	enum amxrt_type type;
	int64_t cols, rows; /* ne[0], ne[1] */
	const void *data;
};

/* A matmul weight [n x k], placed once on one backend. */
struct amxrt_mat {
	enum amxrt_backend backend;
	struct amxrt_weight *w; /* CPU: packed by amxrt_weight_pack() */
	int64_t n, k;
};

/*
 * The ops a backend runs on weights it holds. Each op runs where its
 * weight lives; a weight on another backend than the activations would
 * need a copy, which no path makes (and amxrt_ctx_weight_bytes_copied()
 * would count). Only the CPU backend exists today.
 */
struct amxrt_backend_ops {
	const char *name;
	/*
	 * Y[m x n] = X[m x k] * W^T, row r of X at x + r * ldx, or with
	 * rows set at x + rows[r] * ldx (gathered where the backend reads
	 * the activations)
	 */
	int (*matmul)(const struct amxrt_mat *w, const float *x, int64_t ldx,
		      const int *rows, float *y, int64_t ldy, int64_t m);
};

const struct amxrt_backend_ops *amxrt_backend(enum amxrt_backend b);

struct amxrt_layer {
	struct amxrt_plain attn_norm; /* [n_embd] */
	struct amxrt_mat wq; /* [n_head * head_dim x n_embd] */
	struct amxrt_mat wk; /* [n_head_kv * head_dim x n_embd] */
	struct amxrt_mat wv; /* [n_head_kv * head_dim x n_embd] */
	struct amxrt_mat wo; /* [n_embd x n_head * head_dim] */
	struct amxrt_plain bq, bk, bv; /* qwen2: [n_head(_kv) * head_dim] */
	struct amxrt_plain q_norm, k_norm; /* qwen3: [head_dim] */
	struct amxrt_plain ffn_norm; /* [n_embd] */
	/* dense FFN */
	struct amxrt_mat w_gate; /* [n_ff x n_embd] */
	struct amxrt_mat w_up; /* [n_ff x n_embd] */
	struct amxrt_mat w_down; /* [n_embd x n_ff] */
	/* MoE FFN */
	struct amxrt_mat router; /* [n_expert x n_embd] */
	struct amxrt_mat *e_gate; /* n_expert x [n_ff_expert x n_embd] */
	struct amxrt_mat *e_up; /* n_expert x [n_ff_expert x n_embd] */
	struct amxrt_mat *e_down; /* n_expert x [n_embd x n_ff_expert] */
};

/* One entry of amxrt_model_placement(). */
struct amxrt_place {
	char *tensor;
	enum amxrt_backend backend;
	char *layout;
	uint64_t bytes;
};

struct amxrt_model {
	struct amxrt_hparams hp;
	char name[64];
	struct amxrt_gguf *gguf; /* mapped file: plain tensors point into it */
	struct amxrt_tokenizer *tok;
	struct amxrt_plain tok_embd; /* [n_vocab x n_embd] */
	struct amxrt_plain output_norm; /* [n_embd] */
	struct amxrt_mat output; /* [n_vocab x n_embd] */
	int tied_output;
	struct amxrt_layer *layers; /* n_layer */
	struct amxrt_place *places;
	int64_t n_places, cap_places;
	enum amxrt_type main_type;
	uint64_t n_params, weight_bytes;
	struct amxrt_load_stats load; /* how the weights were read */
	struct amxrt_arena *arena; /* holding the packed weights, or NULL */
};

struct amxrt_ctx {
	struct amxrt_model *m;
	int n_ctx, n_batch, n_ubatch;
	int pos; /* tokens in the cache */
	float *k_cache; /* [n_layer][n_ctx][n_head_kv * head_dim] */
	float *v_cache; /* [n_layer][n_ctx][n_head_kv * head_dim] */
	/* activations of one micro-batch (n_ubatch rows) */
	float *x; /* [ub x n_embd] residual stream */
	float *xb; /* [ub x n_embd] normed input of a block */
	float *xb2; /* [ub x n_embd] block output */
	float *q; /* [ub x n_head * head_dim] */
	float *k; /* [ub x n_head_kv * head_dim] */
	float *v; /* [ub x n_head_kv * head_dim] */
	float *att; /* [ub x n_head * head_dim] attention output */
	/* a decode step's attention cut over the keys: per part and query
	 * head, accumulator, max and sum */
	float *att_part; /* [n_ctx / AMXRT_ATT_PART x n_head x (head_dim + 2)] */
	float *hb; /* [ub x n_ff_max] */
	float *hb2; /* [ub x n_ff_max] */
	float *rope_cs; /* [ub x n_rot]: cos, then sin, of each row's angles */
	/* MoE: router output and the rows routed to one expert */
	float *router; /* [ub x n_expert] */
	int *sel; /* [ub x n_expert_used] chosen experts */
	float *selw; /* [ub x n_expert_used] their weights */
	int *rows; /* [ub * n_expert_used] rows routed, expert by expert */
	float *rw; /* [ub * n_expert_used] and their weights */
	float *ye; /* [ub * n_expert_used x n_embd] expert outputs */
	float *he, *he2; /* [ub * n_expert_used x n_ff_expert] */
	/* logits: [n_logits x n_vocab] */
	float *logits;
	int n_logits, logits_all;
	int64_t cap_logits;
	uint64_t weight_bytes_copied;
};

/* ---- ops (ops.c) ------------------------------------------------------ */

/* Run a matmul on the backend holding the weight. 0 or -errno. */
int amxrt_op_matmul(struct amxrt_ctx *c, const struct amxrt_mat *w,
		    const float *x, float *y, int64_t m);
/*
 * One matmul of a batch: y[m x w->n] = x[m x w->k] * w^T; with rows set,
 * row r of x is x + rows[r] * w->k (a MoE expert's tokens, read in place).
 */
struct amxrt_op_mm {
	const struct amxrt_mat *w;
	const float *x;
	float *y;
	int64_t m;
	const int *rows;
};

/*
 * Several matmuls at once (at most AMXRT_OP_MM_MAX), each on the backend
 * holding its weight; consecutive ones with the same x and rows share its
 * staging. 0 or -errno.
 */
#define AMXRT_OP_MM_MAX 16
/*
 * moe.c runs a token's (or a batch's) experts in groups: gate and up of
 * up to this many experts in one batch of matmuls, then their down
 * projections in another; readpass.c reads them the same way.
 */
#define AMXRT_MOE_GROUP (AMXRT_OP_MM_MAX / 2)
int amxrt_op_matmuls(struct amxrt_ctx *c, const struct amxrt_op_mm *mm, int n);
/*
 * fn over [0, n) cut into pieces of at least grain items run on the thread
 * pool, or over all of it on this thread when there are too few (always
 * from the thread that runs the forward pass, never from a pool task).
 */
typedef void (*amxrt_range_fn)(void *arg, int64_t i0, int64_t i1);
void amxrt_op_par(amxrt_range_fn fn, void *arg, int64_t n, int64_t grain);
/* Floats of work below which a piece is not worth a thread's wakeup
 * (grain = this / the floats an item costs). */
#define AMXRT_OP_PAR_WORK 16384

/*
 * Four-float vectors (GCC vector extensions: SSE on any x86-64, without
 * per-file ISA flags) for the element-wise loops of the portable files;
 * an operation on them rounds as the same operation on each float.
 */
typedef float v4f __attribute__((vector_size(16)));

/* y[m x n] = rmsnorm(x[m x n]) * weight (F32 [n]). */
void amxrt_op_rmsnorm(float *y, const float *x, const float *weight, int64_t m,
		      int64_t n, float eps);
/* x[m x n] += bias (F32 [n]) */
void amxrt_op_add_bias(float *x, const float *bias, int64_t m, int64_t n);
/* x[i] += y[i] over n values (the residual) */
void amxrt_op_add(float *x, const float *y, int64_t n);
/* g[i] = silu(g[i]) * u[i] over n values */
void amxrt_op_swiglu(float *g, const float *u, int64_t n);
/* y[n] = row id of a plain [rows x n] tensor, decoded to f32. */
int amxrt_op_get_row(const struct amxrt_plain *t, int64_t id, float *y);
/*
 * Ask for the pages of rows ids[0..n) of t at once (MADV_WILLNEED), before
 * amxrt_op_get_row() reads them one by one: a table mapped from a file
 * that is not in the page cache then waits for one read, not n in a row.
 * Ids out of range are left to amxrt_op_get_row() to refuse.
 */
void amxrt_op_prefetch_rows(const struct amxrt_plain *t, const int32_t *ids,
			    int64_t n);

/* ---- attention (attention.c) ------------------------------------------ */

/*
 * The rotation angles of rows at positions pos0 .. pos0 + m - 1, once per
 * forward pass for all layers, q and k: row i of cs holds the n_rot / 2
 * cosines, then the sines.
 */
void amxrt_rope_angles(const struct amxrt_hparams *hp, float *cs, int64_t m,
		       int pos0);
/* Rotate the first n_rot dims of each of n_heads heads of the m rows of x
 * (row stride n_heads * head_dim), row i by the angles of row i of cs. */
void amxrt_rope(const struct amxrt_hparams *hp, const float *cs, float *x,
		int64_t m, int n_heads);
/* Causal attention of the micro-batch (m rows at pos0 ..) over the cache
 * (which already holds its keys and values) into c->att. 0 or -errno. */
int amxrt_attention(struct amxrt_ctx *c, int layer, int64_t m, int pos0);

/*
 * A block of attention work: nrows query rows, each with the nh query
 * heads (d apart) that share one KV head; row r sees keys 0 .. n0 + r - 1.
 * Keys and values of that head at t = 0, kv_stride floats per position.
 */
struct amxrt_att_block {
	const float *q;
	int64_t q_stride;
	const float *k, *v;
	int64_t kv_stride;
	float *out;
	int64_t out_stride;
	int nrows, nh, n0, d;
	float scale;
	/*
	 * keys [k0, k1) only (k0 a multiple of AMXRT_ATT_KEYS; k1 0: to the
	 * end), and with part set, query vector i = r * nh + h leaves its
	 * unnormalized accumulator, running max and sum at part + i * (d + 2)
	 * instead of its output (amxrt_attention() merges the parts)
	 */
	int k0, k1;
	float *part;
	/* products in bf16 pairs (vdpbf16ps) instead of f32: see
	 * attention.c's att_kind() */
	int bf16;
};

/* Keys the AVX-512 attention takes per step (two vectors of 16). */
#define AMXRT_ATT_KEYS 32
/*
 * Keys of one part of a decode step's attention (a multiple of
 * AMXRT_ATT_KEYS). A step has only as many blocks as KV heads (4 or 8),
 * too few for a many-core machine at long context; past this many keys
 * each KV head's keys are cut into parts that the pool's threads share,
 * merged afterwards. Fixed, so results do not depend on the thread count.
 */
#define AMXRT_ATT_PART 512

/* attention_avx512.c: 0, or -1 for a head size it has no kernel for;
 * scratch holds (2 * d * AMXRT_ATT_KEYS + nrows * nh * (d + 2)) floats,
 * with bf16 set nrows * nh * d / 2 more, 64-byte aligned. */
int amxrt_att_block_avx512(const struct amxrt_att_block *b, void *scratch);

/* ops.c: 1 on the paths that have AVX-512 (avx512vnni, amx, amx-sim),
 * whose model ops run the *_avx512.c loops below. */
int amxrt_model_simd(void);
/* rope_avx512.c: one row of amxrt_rope() (n_heads heads, d apart, the
 * first n_rot dims of each) with AVX-512; cs as there. */
void amxrt_rope_row_avx512(float *row, const float *cs, int n_heads, int d,
			   int n_rot, int neox);
/* norm_avx512.c: one row of amxrt_op_rmsnorm with AVX-512. */
void amxrt_rmsnorm_avx512(float *y, const float *x, const float *weight,
			  int64_t n, float eps);
/* swiglu_avx512.c: amxrt_op_swiglu with AVX-512 (exp within 2e-7). */
void amxrt_swiglu_avx512(float *g, const float *u, int64_t n);

/* ---- MoE (moe.c) ------------------------------------------------------ */

/* c->xb2[m x n_embd] = the MoE FFN of c->xb. 0 or -errno. */
int amxrt_moe_ffn(struct amxrt_ctx *c, const struct amxrt_layer *l, int64_t m);

/* ---- forward (forward.c) ---------------------------------------------- */

/* One forward pass over m <= n_ubatch tokens at c->pos; logits of the last
 * row (or of every row, into out[m x n_vocab]) go to out (NULL: none).
 * 0 or -errno. */
int amxrt_forward(struct amxrt_ctx *c, const int32_t *tokens, int64_t m,
		  float *out, int all_logits);

#endif /* AMXRT_MODEL_INT_H */
