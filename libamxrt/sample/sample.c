// SPDX-License-Identifier: MIT
/*
 * sample.c - the sampler: repetition penalty, greedy, top-k, top-p, min-p,
 * temperature and a seeded draw.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#include <amxrt/sample.h>

#include "../core/error.h"

void amxrt_sampler_defaults(struct amxrt_sampler_params *p)
{
}

int amxrt_sampler_new(const struct amxrt_sampler_params *p, int n_vocab,
		      struct amxrt_sampler **out)
{
	*out = NULL;
	return amxrt_err(ENOSYS, "sampler: not implemented yet");
}

void amxrt_sampler_free(struct amxrt_sampler *s)
{
}

int32_t amxrt_sample(struct amxrt_sampler *s, const float *logits)
{
	return amxrt_err(ENOSYS, "sampler: not implemented yet");
}

void amxrt_sampler_accept(struct amxrt_sampler *s, int32_t id)
{
}
