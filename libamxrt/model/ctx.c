// SPDX-License-Identifier: MIT
/*
 * ctx.c - contexts: the KV cache, amxrt_decode() split into micro-batches,
 * logits and the weight-bytes-copied counter.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#include <amxrt/model.h>

#include "../core/error.h"

int amxrt_model_load(const char *path, const struct amxrt_model_params *p,
		     struct amxrt_model **out)
{
	*out = NULL;
	return amxrt_err(ENOSYS, "model: not implemented yet");
}

void amxrt_model_free(struct amxrt_model *m)
{
}

int amxrt_model_get_info(const struct amxrt_model *m,
			 struct amxrt_model_info *info)
{
	return amxrt_err(ENOSYS, "model: not implemented yet");
}

const struct amxrt_tokenizer *amxrt_model_tokenizer(const struct amxrt_model *m)
{
	return NULL;
}

const struct amxrt_gguf *amxrt_model_gguf(const struct amxrt_model *m)
{
	return NULL;
}

const char *amxrt_model_chat_template(const struct amxrt_model *m)
{
	return NULL;
}

int64_t amxrt_model_placement_count(const struct amxrt_model *m)
{
	return 0;
}

int amxrt_model_placement(const struct amxrt_model *m, int64_t i,
			  struct amxrt_placement *out)
{
	return amxrt_err(ENOSYS, "model: not implemented yet");
}

int amxrt_ctx_new(struct amxrt_model *m, const struct amxrt_ctx_params *p,
		  struct amxrt_ctx **out)
{
	*out = NULL;
	return amxrt_err(ENOSYS, "model: not implemented yet");
}

void amxrt_ctx_free(struct amxrt_ctx *c)
{
}

int amxrt_ctx_n_ctx(const struct amxrt_ctx *c)
{
	return 0;
}

int amxrt_ctx_pos(const struct amxrt_ctx *c)
{
	return 0;
}

int amxrt_ctx_truncate(struct amxrt_ctx *c, int pos)
{
	return amxrt_err(ENOSYS, "model: not implemented yet");
}

int amxrt_decode(struct amxrt_ctx *c, const int32_t *tokens, int n, int flags)
{
	return amxrt_err(ENOSYS, "model: not implemented yet");
}

const float *amxrt_logits(const struct amxrt_ctx *c, int i)
{
	return NULL;
}

uint64_t amxrt_ctx_weight_bytes_copied(const struct amxrt_ctx *c)
{
	return 0;
}
