/* SPDX-License-Identifier: MIT */
/*
 * amxrt/model.h - loading a GGUF model and running its forward pass.
 *
 * Architectures: llama (Llama 2/3, TinyLlama, Mistral-style), qwen2 (q/k/v
 * biases), qwen3 (per-head q/k RMSNorm), qwen3moe (router, top-k experts).
 *
 * Every weight is placed once, at load: a backend and the layout that
 * backend packed it into. Each op runs on the backend where its weight
 * lives; only activations move between backends. Matmul weights are
 * packed for the chosen ISA; embeddings, norms, biases and other tensors
 * stay in their file formats.
 *
 * A context holds a KV cache of n_ctx positions. amxrt_decode() appends
 * tokens at the current position, in micro-batches of at most n_ubatch
 * through the batched kernels, and leaves the logits of the last token
 * (or of every token, with AMXRT_DECODE_ALL_LOGITS).
 */
#ifndef AMXRT_MODEL_H
#define AMXRT_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include <amxrt/gguf.h>
#include <amxrt/tokenizer.h>

#ifdef __cplusplus
extern "C" {
#endif

#pragma GCC visibility push(default)

struct amxrt_model; /* opaque */
struct amxrt_ctx; /* opaque */

/* Called during load with bytes done and total; return nonzero to cancel. */
typedef int (*amxrt_progress_fn)(void *ctx, uint64_t done, uint64_t total);

/*
 * Model arenas (amxrt_model_params.arena): the packed weights kept in a
 * sealed, persistent arena (amxrt_arena(3): the /dev/amxrt module, or
 * hugetlbfs files) named after the file's identity (absolute path, size,
 * mtime, a hash of the header and tensor table) and the layout options
 * (ISA path, NUMA mode, layout version). The first load fills and seals
 * it; a later one, in any process, maps it read-only and reads nothing.
 * A changed file or other options give another name, never a stale
 * arena. amxrt_model_free() unmaps it; it stays until destroyed
 * (amxrt-arena destroy NAME).
 */
enum amxrt_load_arena {
	AMXRT_LOAD_ARENA_OFF = 0, /* never (the default, as before) */
	AMXRT_LOAD_ARENA_AUTO = 1, /* where a persistent backend exists */
	AMXRT_LOAD_ARENA_REQUIRE = 2, /* or fail, saying why */
};

/* Zero-initialise, then set what you need (new fields are appended). */
struct amxrt_model_params {
	amxrt_progress_fn progress; /* may be NULL */
	void *progress_ctx;
	int arena; /* enum amxrt_load_arena */
};

struct amxrt_model_info {
	char arch[32]; /* "llama", "qwen2", "qwen3", "qwen3moe" */
	char name[64]; /* general.name, or "" */
	int n_layer, n_embd, n_head, n_head_kv, head_dim, n_ff;
	int n_vocab, n_ctx_train;
	int n_expert, n_expert_used, n_ff_expert; /* 0 for dense models */
	float rope_base, norm_eps;
	int rope_neox; /* 1: NeoX (split halves) element order, 0: interleaved */
	int tied_output; /* output weight is the token embedding */
	enum amxrt_type type; /* most common matmul weight type */
	uint64_t n_params;
	uint64_t weight_bytes; /* bytes of weights as placed (packed) */
};

/* Where a weight lives: one backend, one layout, decided at load. */
enum amxrt_backend { AMXRT_BACKEND_CPU = 0, AMXRT_BACKEND_CUDA = 1 };

struct amxrt_placement {
	const char *tensor; /* GGUF tensor name */
	enum amxrt_backend backend;
	const char *layout; /* e.g. "panel16 q4_0 (avx512vnni)", "plain f32" */
	uint64_t bytes;
};

int amxrt_model_load(const char *path, const struct amxrt_model_params *p,
		     struct amxrt_model **out);
void amxrt_model_free(struct amxrt_model *m);
int amxrt_model_get_info(const struct amxrt_model *m,
			 struct amxrt_model_info *info);
const struct amxrt_tokenizer *
amxrt_model_tokenizer(const struct amxrt_model *m);
const struct amxrt_gguf *amxrt_model_gguf(const struct amxrt_model *m);
/* Chat template from tokenizer.chat_template, or NULL. */
const char *amxrt_model_chat_template(const struct amxrt_model *m);
/*
 * How the weights were read and packed at load. The packed weights' bytes
 * are streamed from the file (io_uring, or pread where io_uring is
 * unavailable) and packed by the library's threads as each chunk lands.
 * The environment tunes it: AMXRT_IO=auto|uring|pread (uring: an error
 * if unavailable), AMXRT_IO_CHUNK=bytes, AMXRT_IO_DEPTH=reads in flight,
 * AMXRT_IO_DIRECT=0|1 (default: O_DIRECT unless the file is cached).
 */
struct amxrt_load_stats {
	char io[16]; /* "io_uring" or "pread" */
	int direct; /* 1: O_DIRECT reads, 0: through the page cache */
	int fixed_buffers; /* 1: io_uring reads into registered buffers */
	int depth; /* reads in flight at most */
	uint64_t chunk_bytes; /* bytes of one read */
	uint64_t bytes_read; /* bytes read from the file by the stream */
	double seconds; /* the whole amxrt_model_load() */
	double stream_seconds; /* reading and packing the weights */
	char note[256]; /* fallbacks taken and why, or "" */
	/* the model arena: what was decided, name, and why in words ("hit
	 * NAME", "miss, filled NAME", "off", "no persistent arena backend:
	 * WHY", "not used: WHY"); a hit reads nothing (bytes_read 0) */
	int arena_state; /* enum amxrt_load_arena_state */
	char arena_name[64]; /* "" when none */
	char arena[320];
};

enum amxrt_load_arena_state {
	AMXRT_LOAD_ARENA_NONE = 0, /* no arena: weights in private memory */
	AMXRT_LOAD_ARENA_HIT = 1, /* mapped from a sealed arena */
	AMXRT_LOAD_ARENA_FILLED = 2, /* a miss: streamed into a new one */
};

/* The load report of m; 0 or -EINVAL. */
int amxrt_model_load_stats(const struct amxrt_model *m,
			   struct amxrt_load_stats *out);

int64_t amxrt_model_placement_count(const struct amxrt_model *m);
int amxrt_model_placement(const struct amxrt_model *m, int64_t i,
			  struct amxrt_placement *out);

/* n_batch and n_ubatch when 0 is given; n_ubatch is at most n_batch. */
#define AMXRT_CTX_DEFAULT_BATCH 2048
#define AMXRT_CTX_DEFAULT_UBATCH 512

struct amxrt_ctx_params {
	int n_ctx; /* KV cache positions; 0: min(n_ctx_train, 4096) */
	int n_batch; /* tokens per amxrt_decode() call at most; 0: 2048 */
	int n_ubatch; /* tokens per forward pass (micro-batch); 0: 512 */
};

int amxrt_ctx_new(struct amxrt_model *m, const struct amxrt_ctx_params *p,
		  struct amxrt_ctx **out);
void amxrt_ctx_free(struct amxrt_ctx *c);
int amxrt_ctx_n_ctx(const struct amxrt_ctx *c);
int amxrt_ctx_pos(const struct amxrt_ctx *c); /* tokens in the cache */
/* Forget positions >= pos (0: start over). */
int amxrt_ctx_truncate(struct amxrt_ctx *c, int pos);

#define AMXRT_DECODE_ALL_LOGITS 1

/*
 * Run n tokens from the current position. Returns 0, or -ENOSPC (message:
 * "context full: ...") if they do not fit, leaving the context unchanged.
 */
int amxrt_decode(struct amxrt_ctx *c, const int32_t *tokens, int n, int flags);
/* Logits (n_vocab floats) of token i of the last decode call: i = -1 is the
 * last one; others only with AMXRT_DECODE_ALL_LOGITS. NULL otherwise. */
const float *amxrt_logits(const struct amxrt_ctx *c, int i);

/*
 * The attention kernel a forward pass of rows tokens (a prompt's
 * micro-batch, or 1 for a decode step) runs with this model on the path in
 * use, and why, e.g. "avx512 bf16 products, f32 sums and softmax (batches
 * of a quantized model)": a string constant, valid after the model is
 * freed. NULL if m is NULL.
 */
const char *amxrt_model_attention_name(const struct amxrt_model *m,
				       int64_t rows);

/* Bytes of weights copied between backends or layouts during inference
 * (the invariant: always 0). */
uint64_t amxrt_ctx_weight_bytes_copied(const struct amxrt_ctx *c);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif

#endif /* AMXRT_MODEL_H */
