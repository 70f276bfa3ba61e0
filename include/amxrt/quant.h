/* SPDX-License-Identifier: MIT */
/*
 * amxrt/quant.h - weight and activation types, bit-compatible with ggml.
 *
 * Types keep ggml's numeric ids, so a GGUF tensor's type field is an
 * enum amxrt_type. Block types pack 32 values per block:
 *
 *   Q4_0  18 bytes: fp16 d, 16 bytes of nibbles;      x = d * (q - 8)
 *   Q4_1  20 bytes: fp16 d, fp16 m, 16 bytes nibbles;  x = d * q + m
 *   Q8_0  34 bytes: fp16 d, 32 int8;                   x = d * q
 *   Q8_1  36 bytes: fp16 d, fp16 s = d * sum(q), 32 int8 (activations)
 *
 * Nibble j of a block (low half of byte j) is element j, the high half of
 * byte j is element j + 16. The quantizers below produce exactly the bytes
 * ggml's reference quantizers produce for the same floats.
 */
#ifndef AMXRT_QUANT_H
#define AMXRT_QUANT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#pragma GCC visibility push(default)

enum amxrt_type {
	AMXRT_TYPE_F32 = 0,
	AMXRT_TYPE_F16 = 1,
	AMXRT_TYPE_Q4_0 = 2,
	AMXRT_TYPE_Q4_1 = 3,
	AMXRT_TYPE_Q8_0 = 8,
	AMXRT_TYPE_Q8_1 = 9,
	AMXRT_TYPE_BF16 = 30,
};

/* Values per block: 32 for the Q types, 1 for F32, F16 and BF16. */
int64_t amxrt_type_block_values(enum amxrt_type type);

/* Bytes per block; 0 for an unknown type. */
size_t amxrt_type_block_bytes(enum amxrt_type type);

/* "f32", "f16", "q4_0", ...; NULL for an unknown type. */
const char *amxrt_type_name(enum amxrt_type type);

/* Parse a name (case-insensitive). Returns the type or -EINVAL. */
int amxrt_type_parse(const char *name);

/*
 * Bytes of one row of k values, or a negative errno: -EINVAL for an unknown
 * type or a k that is not a multiple of the block size.
 */
int64_t amxrt_row_bytes(enum amxrt_type type, int64_t k);

/*
 * Quantize k floats into one row of type. k must be a multiple of the
 * type's block size. Returns 0 or -EINVAL.
 */
int amxrt_quantize_row(enum amxrt_type type, const float *x, void *dst,
		       int64_t k);

/* Decode one row of k values of type into floats. Returns 0 or -EINVAL. */
int amxrt_dequantize_row(enum amxrt_type type, const void *src, float *y,
			 int64_t k);

/* Scalar conversions, rounding to nearest even (as ggml does). */
uint16_t amxrt_fp32_to_fp16(float f);
float amxrt_fp16_to_fp32(uint16_t h);
uint16_t amxrt_fp32_to_bf16(float f);
float amxrt_bf16_to_fp32(uint16_t h);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif

#endif /* AMXRT_QUANT_H */
