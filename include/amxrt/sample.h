/* SPDX-License-Identifier: MIT */
/*
 * amxrt/sample.h - choosing the next token, and chat prompts.
 *
 * The sampler applies, in order: repetition penalty over the last
 * repeat_last_n accepted tokens, then greedy (temp <= 0) or top-k, top-p,
 * min-p, temperature and a draw from a seeded generator (same seed, same
 * output).
 */
#ifndef AMXRT_SAMPLE_H
#define AMXRT_SAMPLE_H

#include <stddef.h>
#include <stdint.h>

#include <amxrt/model.h>

#ifdef __cplusplus
extern "C" {
#endif

#pragma GCC visibility push(default)

struct amxrt_sampler_params {
	float temp; /* <= 0: greedy */
	int top_k; /* <= 0: off */
	float top_p; /* >= 1: off */
	float min_p; /* <= 0: off */
	float repeat_penalty; /* 1: off */
	int repeat_last_n; /* >= 0; 0: off */
	uint64_t seed; /* the same seed gives the same draws */
};

/* llama-cli's defaults: temp 0.8, top_k 40, top_p 0.95, min_p 0.05,
 * repeat_penalty 1.0, repeat_last_n 64, seed 0. */
void amxrt_sampler_defaults(struct amxrt_sampler_params *p);

struct amxrt_sampler; /* opaque */

int amxrt_sampler_new(const struct amxrt_sampler_params *p, int n_vocab,
		      struct amxrt_sampler **out);
void amxrt_sampler_free(struct amxrt_sampler *s);
/* Pick a token from n_vocab logits (not modified). */
int32_t amxrt_sample(struct amxrt_sampler *s, const float *logits);
/* Record a token (prompt or generated) for the repetition penalty. */
void amxrt_sampler_accept(struct amxrt_sampler *s, int32_t id);

struct amxrt_chat_msg {
	const char *role; /* "system", "user", "assistant" */
	const char *content;
};

/*
 * Format messages with the model's chat template (recognized by its
 * text: ChatML/Qwen, Llama-3, Llama-2), adding the assistant prefix when
 * add_assistant is set. tmpl may also be one of the names below. Returns
 * the length written (NUL-terminated), or -ENOSPC; *needed (when not NULL)
 * is set to the buffer size needed, NUL included, in both cases. Unknown
 * templates give -ENOTSUP, a NULL one -EINVAL. BOS is not written.
 */
int amxrt_chat_format(const char *tmpl, const struct amxrt_chat_msg *msgs,
		      int n, int add_assistant, char *buf, size_t cap,
		      size_t *needed);
/* "chatml", "llama3", "llama2", or NULL when not recognized. */
const char *amxrt_chat_template_name(const char *tmpl);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif

#endif /* AMXRT_SAMPLE_H */
