// SPDX-License-Identifier: MIT
/*
 * act.c - staging activations for the kernels: Q8 quantization (int8 per
 * block of 32 as in ggml's Q8_0, with a float scale per block or, for
 * AMXRT_ACT_Q8G, one for each group of AMXRT_ACT_GROUP blocks, stored with
 * every block of it), bf16 rounding, or a zero-padded f32 copy.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../core/error.h"
#include "kernels.h"

/* Largest |x| of block b's real values (NaN ignored: the test is false). */
static float block_amax(const float *x, int64_t k, int64_t b)
{
	int64_t j, n = k - b * AMXRT_BLOCK_K;
	float amax = 0.0f;

	n = n < 0 ? 0 : (n > AMXRT_BLOCK_K ? AMXRT_BLOCK_K : n);
	for (j = 0; j < n; j++) {
		float v = fabsf(x[b * AMXRT_BLOCK_K + j]);

		amax = v > amax ? v : amax;
	}
	return amax;
}

void amxrt_act_quantize_row(const float *x, int64_t k, int64_t kp, int group,
			    int8_t *q, float *d, int32_t *s)
{
	int64_t nb = kp / AMXRT_BLOCK_K, g, b, j;

	for (g = 0; g < nb; g += group) {
		int64_t end = g + group < nb ? g + group : nb;
		float amax = 0.0f, db, id;

		for (b = g; b < end; b++) {
			float m = block_amax(x, k, b);

			amax = m > amax ? m : amax;
		}
		db = amax / 127;
		id = db ? 1.0f / db : 0.0f;
		for (b = g; b < end; b++) {
			int32_t sum = 0;

			for (j = b * AMXRT_BLOCK_K; j < (b + 1) * AMXRT_BLOCK_K;
			     j++) {
				q[j] = j < k ? (int8_t)roundf(x[j] * id) : 0;
				sum += q[j];
			}
			d[b] = db;
			s[b] = sum;
		}
	}
}

static size_t align_up(size_t v)
{
	return (v + AMXRT_ALIGN - 1) & ~(size_t)(AMXRT_ALIGN - 1);
}

int amxrt_act_reserve(struct amxrt_act *a, enum amxrt_act_kind kind, int64_t m,
		      int64_t kp)
{
	int64_t mp = (m + AMXRT_PANEL_ROWS - 1) / AMXRT_PANEL_ROWS *
		     AMXRT_PANEL_ROWS;
	int64_t nb = kp / AMXRT_BLOCK_K;
	size_t need, off = 0;
	uint8_t *p;

	if (mp > (int64_t)1 << 24 || kp > (int64_t)1 << 24)
		return amxrt_err(EINVAL,
				 "activations of %lld x %lld are too large",
				 (long long)m, (long long)kp);
	switch (kind) {
	case AMXRT_ACT_Q8:
	case AMXRT_ACT_Q8G:
		need = align_up((size_t)(mp * kp)) +
		       2 * align_up((size_t)(mp * nb) * 4);
		break;
	case AMXRT_ACT_BF16:
		need = align_up((size_t)(mp * kp) * 2);
		break;
	default:
		need = align_up((size_t)(mp * kp) * 4);
		break;
	}
	if (need > a->cap) {
		void *mem = aligned_alloc(AMXRT_ALIGN, need);

		if (!mem)
			return amxrt_err(
				ENOMEM,
				"out of memory for %zu bytes of activations",
				need);
		free(a->mem);
		a->mem = mem;
		a->cap = need;
	}
	p = a->mem;
	a->kind = kind;
	a->m = m;
	a->mp = mp;
	a->kp = kp;
	a->nb = nb;
	a->q = NULL;
	a->d = NULL;
	a->s = NULL;
	a->bf = NULL;
	a->f = NULL;
	switch (kind) {
	case AMXRT_ACT_Q8:
	case AMXRT_ACT_Q8G:
		a->q = (int8_t *)p;
		off = align_up((size_t)(mp * kp));
		a->d = (float *)(p + off);
		off += align_up((size_t)(mp * nb) * 4);
		a->s = (int32_t *)(p + off);
		break;
	case AMXRT_ACT_BF16:
		a->bf = (uint16_t *)p;
		break;
	default:
		a->f = (float *)p;
		break;
	}
	return 0;
}

void amxrt_act_stage(struct amxrt_act *a, const float *x, int64_t ldx,
		     const int *rows, int64_t k, int64_t r0, int64_t r1,
		     amxrt_stage_q8_fn stage_q8)
{
	int64_t r, j, kp = a->kp, nb = a->nb;

	if (!stage_q8)
		stage_q8 = amxrt_act_quantize_row;
	for (r = r0; r < r1; r++) {
		/* rows past m are padding, written as zeros, never read */
		const float *xr = r < a->m ? x + (rows ? rows[r] : r) * ldx :
					     NULL;

		switch (a->kind) {
		case AMXRT_ACT_Q8:
		case AMXRT_ACT_Q8G:
			if (xr) {
				stage_q8(xr, k, kp, amxrt_act_group(a->kind),
					 a->q + r * kp, a->d + r * nb,
					 a->s + r * nb);
			} else {
				memset(a->q + r * kp, 0, (size_t)kp);
				memset(a->d + r * nb, 0, (size_t)nb * 4);
				memset(a->s + r * nb, 0, (size_t)nb * 4);
			}
			break;
		case AMXRT_ACT_BF16:
			for (j = 0; j < kp; j++)
				a->bf[r * kp + j] =
					xr && j < k ?
						amxrt_fp32_to_bf16(xr[j]) :
						0;
			break;
		default:
			j = xr ? k : 0;
			if (xr)
				memcpy(a->f + r * kp, xr,
				       sizeof(float) * (size_t)k);
			memset(a->f + r * kp + j, 0,
			       sizeof(float) * (size_t)(kp - j));
			break;
		}
	}
}

void amxrt_act_free(struct amxrt_act *a)
{
	free(a->mem);
	memset(a, 0, sizeof(*a));
}
