/* SPDX-License-Identifier: MIT */
/*
 * limits.h - the per-thread loops behind amxrt_measure_limits(), one set
 * per instruction set, each built with only its own ISA flags. Internal.
 *
 * int8 loops run iters rounds over register-only accumulator chains and
 * return a value derived from every chain (so nothing is optimized away);
 * a round is AMXRT_LIMITS_CHAINS instructions of AMXRT_LIMITS_*_OPS
 * operations each. read loops sum every 64-bit word of buf (bytes a
 * multiple of 512).
 */
#ifndef AMXRT_BENCH_LIMITS_H
#define AMXRT_BENCH_LIMITS_H

#include <stddef.h>
#include <stdint.h>

#define AMXRT_LIMITS_CHAINS 16
/* int8 operations (2 per multiply-accumulate) per chain step */
#define AMXRT_LIMITS_AVX512_OPS 128 /* vpdpbusd zmm: 64 MACs */
#define AMXRT_LIMITS_AVX2_OPS 64 /* vpmaddubsw+vpmaddwd+vpaddd ymm: 32 */
#define AMXRT_LIMITS_SCALAR_OPS 2

uint64_t amxrt_limits_int8_avx512(uint64_t iters, uint32_t seed);
uint64_t amxrt_limits_read_avx512(const void *buf, size_t bytes);
uint64_t amxrt_limits_int8_avx2(uint64_t iters, uint32_t seed);
uint64_t amxrt_limits_read_avx2(const void *buf, size_t bytes);

/* any length, p 64-byte aligned; the widest loop this CPU has (limits.c) */
uint64_t amxrt_limits_read(const void *p, size_t bytes);

#endif /* AMXRT_BENCH_LIMITS_H */
