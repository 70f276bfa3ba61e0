// SPDX-License-Identifier: MIT
/*
 * quant.c - the ggml weight types: their table, the reference quantizers
 * and dequantizers, and the fp16/bf16 scalar conversions.
 *
 * The quantizers follow ggml's reference rules to the byte:
 *   Q4_0: d = v / -8 where v is the value of largest magnitude (its sign
 *         kept), q = min(15, (int8_t)(x / d + 8.5f)).
 *   Q4_1: d = (max - min) / 15, m = min, q = min(15, (int8_t)((x - m) / d
 *         + 0.5f)).
 *   Q8_0: d = amax / 127, q = roundf(x / d).
 *   Q8_1: as Q8_0, and s = d * sum(q).
 * where "/ d" is a multiplication by id = d ? 1/d : 0, computed in float
 * from the unrounded d, before d is stored as fp16.
 */
#include <errno.h>
#include <math.h>
#include <string.h>
#include <strings.h>

#include <amxrt/quant.h>

#include "../core/error.h"

#define QK 32

struct type_info {
	enum amxrt_type type;
	const char *name;
	int64_t block_values;
	size_t block_bytes;
};

static const struct type_info types[] = {
	{ AMXRT_TYPE_F32, "f32", 1, 4 },
	{ AMXRT_TYPE_F16, "f16", 1, 2 },
	{ AMXRT_TYPE_Q4_0, "q4_0", QK, 2 + QK / 2 },
	{ AMXRT_TYPE_Q4_1, "q4_1", QK, 4 + QK / 2 },
	{ AMXRT_TYPE_Q8_0, "q8_0", QK, 2 + QK },
	{ AMXRT_TYPE_Q8_1, "q8_1", QK, 4 + QK },
	{ AMXRT_TYPE_BF16, "bf16", 1, 2 },
};

static const struct type_info *type_info(enum amxrt_type type)
{
	size_t i;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (types[i].type == type)
			return &types[i];
	return NULL;
}

int64_t amxrt_type_block_values(enum amxrt_type type)
{
	const struct type_info *t = type_info(type);

	return t ? t->block_values : 0;
}

size_t amxrt_type_block_bytes(enum amxrt_type type)
{
	const struct type_info *t = type_info(type);

	return t ? t->block_bytes : 0;
}

const char *amxrt_type_name(enum amxrt_type type)
{
	const struct type_info *t = type_info(type);

	return t ? t->name : NULL;
}

int amxrt_type_parse(const char *name)
{
	size_t i;

	for (i = 0; name && i < sizeof(types) / sizeof(types[0]); i++)
		if (!strcasecmp(name, types[i].name))
			return types[i].type;
	return amxrt_err(
		EINVAL,
		"unknown type '%s' (known: f32 f16 bf16 q4_0 q4_1 q8_0 q8_1)",
		name ? name : "(null)");
}

int64_t amxrt_row_bytes(enum amxrt_type type, int64_t k)
{
	const struct type_info *t = type_info(type);

	if (!t)
		return amxrt_err(EINVAL, "unknown type %d", (int)type);
	if (k < 0 || k % t->block_values)
		return amxrt_err(
			EINVAL,
			"a %s row of %lld values: not a multiple of %lld",
			t->name, (long long)k, (long long)t->block_values);
	if (k / t->block_values > INT64_MAX / (int64_t)t->block_bytes)
		return amxrt_err(EINVAL, "a %s row of %lld values overflows",
				 t->name, (long long)k);
	return k / t->block_values * (int64_t)t->block_bytes;
}

/* ---- scalar conversions ---------------------------------------------- */

uint16_t amxrt_fp32_to_fp16(float f)
{
	_Float16 h = (_Float16)f;
	uint16_t bits;

	memcpy(&bits, &h, 2);
	return bits;
}

float amxrt_fp16_to_fp32(uint16_t bits)
{
	_Float16 h;

	memcpy(&h, &bits, 2);
	return (float)h;
}

uint16_t amxrt_fp32_to_bf16(float f)
{
	uint32_t u;

	memcpy(&u, &f, 4);
	if ((u & 0x7fffffff) > 0x7f800000)
		return (uint16_t)((u >> 16) |
				  64); /* NaN: keep it, make it quiet */
	return (uint16_t)((u + (0x7fff + ((u >> 16) & 1))) >> 16);
}

float amxrt_bf16_to_fp32(uint16_t h)
{
	uint32_t u = (uint32_t)h << 16;
	float f;

	memcpy(&f, &u, 4);
	return f;
}

static void put16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, 2);
}

static uint16_t get16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return v;
}

/* ---- reference quantizers (one block of 32) -------------------------- */

static void quantize_q4_0(const float *x, uint8_t *b)
{
	float amax = 0.0f, max = 0.0f, d, id;
	int j;

	for (j = 0; j < QK; j++) {
		if (amax < fabsf(x[j])) {
			amax = fabsf(x[j]);
			max = x[j];
		}
	}
	d = max / -8;
	id = d ? 1.0f / d : 0.0f;
	put16(b, amxrt_fp32_to_fp16(d));
	for (j = 0; j < QK / 2; j++) {
		int8_t q0 = (int8_t)(x[j] * id + 8.5f);
		int8_t q1 = (int8_t)(x[j + QK / 2] * id + 8.5f);

		q0 = q0 < 15 ? q0 : 15;
		q1 = q1 < 15 ? q1 : 15;
		b[2 + j] = (uint8_t)q0 | (uint8_t)(q1 << 4);
	}
}

static void quantize_q4_1(const float *x, uint8_t *b)
{
	float min = INFINITY, max = -INFINITY, d, id;
	int j;

	for (j = 0; j < QK; j++) {
		min = x[j] < min ? x[j] : min;
		max = x[j] > max ? x[j] : max;
	}
	d = (max - min) / 15;
	id = d ? 1.0f / d : 0.0f;
	put16(b, amxrt_fp32_to_fp16(d));
	put16(b + 2, amxrt_fp32_to_fp16(min));
	for (j = 0; j < QK / 2; j++) {
		int8_t q0 = (int8_t)((x[j] - min) * id + 0.5f);
		int8_t q1 = (int8_t)((x[j + QK / 2] - min) * id + 0.5f);

		q0 = q0 < 15 ? q0 : 15;
		q1 = q1 < 15 ? q1 : 15;
		b[4 + j] = (uint8_t)q0 | (uint8_t)(q1 << 4);
	}
}

/* Q8_0 (with_sum = 0) and Q8_1 (with_sum = 1). */
static void quantize_q8(const float *x, uint8_t *b, int with_sum)
{
	float amax = 0.0f, d, id;
	int8_t *qs = (int8_t *)(b + (with_sum ? 4 : 2));
	int j, sum = 0;

	for (j = 0; j < QK; j++)
		amax = fabsf(x[j]) > amax ? fabsf(x[j]) : amax;
	d = amax / 127;
	id = d ? 1.0f / d : 0.0f;
	put16(b, amxrt_fp32_to_fp16(d));
	for (j = 0; j < QK; j++) {
		qs[j] = (int8_t)roundf(x[j] * id);
		sum += qs[j];
	}
	if (with_sum)
		put16(b + 2, amxrt_fp32_to_fp16((float)sum * d));
}

int amxrt_quantize_row(enum amxrt_type type, const float *x, void *dst,
		       int64_t k)
{
	int64_t bytes = amxrt_row_bytes(type, k), i;
	uint8_t *out = dst;

	if (bytes < 0)
		return (int)bytes;
	switch (type) {
	case AMXRT_TYPE_F32:
		memcpy(out, x, (size_t)k * 4);
		return 0;
	case AMXRT_TYPE_F16:
		for (i = 0; i < k; i++)
			put16(out + 2 * i, amxrt_fp32_to_fp16(x[i]));
		return 0;
	case AMXRT_TYPE_BF16:
		for (i = 0; i < k; i++)
			put16(out + 2 * i, amxrt_fp32_to_bf16(x[i]));
		return 0;
	default:
		break;
	}
	for (i = 0; i < k / QK; i++) {
		const float *xb = x + i * QK;
		uint8_t *b = out + i * amxrt_type_block_bytes(type);

		if (type == AMXRT_TYPE_Q4_0)
			quantize_q4_0(xb, b);
		else if (type == AMXRT_TYPE_Q4_1)
			quantize_q4_1(xb, b);
		else
			quantize_q8(xb, b, type == AMXRT_TYPE_Q8_1);
	}
	return 0;
}

int amxrt_dequantize_row(enum amxrt_type type, const void *src, float *y,
			 int64_t k)
{
	int64_t bytes = amxrt_row_bytes(type, k), i;
	const uint8_t *in = src;
	size_t bb = amxrt_type_block_bytes(type);
	int j;

	if (bytes < 0)
		return (int)bytes;
	switch (type) {
	case AMXRT_TYPE_F32:
		memcpy(y, in, (size_t)k * 4);
		return 0;
	case AMXRT_TYPE_F16:
		for (i = 0; i < k; i++)
			y[i] = amxrt_fp16_to_fp32(get16(in + 2 * i));
		return 0;
	case AMXRT_TYPE_BF16:
		for (i = 0; i < k; i++)
			y[i] = amxrt_bf16_to_fp32(get16(in + 2 * i));
		return 0;
	default:
		break;
	}
	for (i = 0; i < k / QK; i++) {
		const uint8_t *b = in + i * bb;
		float *yb = y + i * QK;
		float d = amxrt_fp16_to_fp32(get16(b));

		switch (type) {
		case AMXRT_TYPE_Q4_0:
			for (j = 0; j < QK / 2; j++) {
				yb[j] = d * ((b[2 + j] & 15) - 8);
				yb[j + QK / 2] = d * ((b[2 + j] >> 4) - 8);
			}
			break;
		case AMXRT_TYPE_Q4_1: {
			float m = amxrt_fp16_to_fp32(get16(b + 2));

			for (j = 0; j < QK / 2; j++) {
				yb[j] = d * (b[4 + j] & 15) + m;
				yb[j + QK / 2] = d * (b[4 + j] >> 4) + m;
			}
			break;
		}
		case AMXRT_TYPE_Q8_0:
			for (j = 0; j < QK; j++)
				yb[j] = d * (int8_t)b[2 + j];
			break;
		default: /* Q8_1 */
			for (j = 0; j < QK; j++)
				yb[j] = d * (int8_t)b[4 + j];
			break;
		}
	}
	return 0;
}
