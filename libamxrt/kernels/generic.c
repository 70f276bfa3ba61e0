// SPDX-License-Identifier: MIT
/*
 * generic.c - the portable C path. It reads the plain GGUF rows, dots
 * integer weights with Q8-quantized activations in int32 per block (the
 * same arithmetic the SIMD paths do), and float weights with f32
 * activations in float. Written so that the compiler can vectorize it.
 */
#include <string.h>

#include "kernels.h"

static float h2f(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return amxrt_fp16_to_fp32(v);
}

static float row_q(const struct amxrt_weight *w, const uint8_t *row,
		   const struct amxrt_act *a, int64_t i)
{
	const int8_t *aq = a->q + i * a->kp;
	const float *ad = a->d + i * a->nb;
	const int32_t *as = a->s + i * a->nb;
	float acc = 0.0f;
	int64_t b;
	int j;

	for (b = 0; b < w->nb; b++) {
		const int8_t *qa = aq + b * AMXRT_BLOCK_K;
		int32_t dot = 0;

		switch (w->type) {
		case AMXRT_TYPE_Q4_0: {
			const uint8_t *blk = row + b * 18;

			for (j = 0; j < 16; j++)
				dot += (blk[2 + j] & 15) * qa[j] +
				       (blk[2 + j] >> 4) * qa[j + 16];
			acc += h2f(blk) * ad[b] * (float)(dot - 8 * as[b]);
			break;
		}
		case AMXRT_TYPE_Q4_1: {
			const uint8_t *blk = row + b * 20;

			for (j = 0; j < 16; j++)
				dot += (blk[4 + j] & 15) * qa[j] +
				       (blk[4 + j] >> 4) * qa[j + 16];
			acc += h2f(blk) * ad[b] * (float)dot +
			       h2f(blk + 2) * ad[b] * (float)as[b];
			break;
		}
		default: { /* Q8_0 */
			const uint8_t *blk = row + b * 34;
			const int8_t *qw = (const int8_t *)(blk + 2);

			for (j = 0; j < 32; j++)
				dot += qw[j] * qa[j];
			acc += h2f(blk) * ad[b] * (float)dot;
			break;
		}
		}
	}
	return acc;
}

static float row_f(const struct amxrt_weight *w, const uint8_t *row,
		   const float *x)
{
	float acc = 0.0f;
	int64_t l;

	switch (w->type) {
	case AMXRT_TYPE_F32: {
		const float *wr = (const float *)row;

		for (l = 0; l < w->k; l++)
			acc += wr[l] * x[l];
		break;
	}
	case AMXRT_TYPE_F16:
		for (l = 0; l < w->k; l++)
			acc += h2f(row + 2 * l) * x[l];
		break;
	default: { /* BF16 */
		uint16_t v;

		for (l = 0; l < w->k; l++) {
			memcpy(&v, row + 2 * l, 2);
			acc += amxrt_bf16_to_fp32(v) * x[l];
		}
		break;
	}
	}
	return acc;
}

static void generic_kernel(const struct amxrt_weight *w,
			   const struct amxrt_act *a, float *y, int64_t ldy,
			   int64_t p0, int64_t p1, void *scratch)
{
	int64_t n0 = p0 * AMXRT_PANEL_ROWS, n1 = p1 * AMXRT_PANEL_ROWS, n, i;

	(void)scratch;
	if (n1 > w->n)
		n1 = w->n;
	for (n = n0; n < n1; n++) {
		const uint8_t *row = w->data + (size_t)n * w->row_bytes;

		for (i = 0; i < a->m; i++)
			y[i * ldy + n] =
				amxrt_act_group(a->kind) ?
					row_q(w, row, a, i) :
					row_f(w, row, a->f + i * a->kp);
	}
}

static const struct amxrt_kernel generic_q8 = {
	.name = "generic int32 dot, q8 activations",
	.act = AMXRT_ACT_Q8,
	.fn = generic_kernel,
};

static const struct amxrt_kernel generic_q8g = {
	.name = "generic int32 dot, q8 activations scaled per 4 blocks",
	.act = AMXRT_ACT_Q8G,
	.fn = generic_kernel,
};

static const struct amxrt_kernel generic_f32 = {
	.name = "generic float dot",
	.act = AMXRT_ACT_F32,
	.fn = generic_kernel,
};

const struct amxrt_kernel *amxrt_generic_pick(enum amxrt_type type, int64_t m)
{
	(void)m;
	switch (type) {
	case AMXRT_TYPE_Q4_0:
	case AMXRT_TYPE_Q4_1:
		return &generic_q8g;
	case AMXRT_TYPE_Q8_0:
		return &generic_q8;
	case AMXRT_TYPE_F32:
	case AMXRT_TYPE_F16:
	case AMXRT_TYPE_BF16:
		return &generic_f32;
	default:
		return NULL;
	}
}
