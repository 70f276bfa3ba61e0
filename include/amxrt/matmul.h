/* SPDX-License-Identifier: MIT */
/*
 * amxrt/matmul.h - packed weights and Y = X * W^T.
 *
 * A weight W is an N x K matrix of one enum amxrt_type, given as N rows in
 * ggml/GGUF block format. amxrt_weight_pack() places it once into the layout
 * the chosen instruction-set path reads; the packed bytes are opaque and
 * nothing but that path reads them. amxrt_weight_unpack() gives back the
 * original row bytes exactly. X (M x K) and Y (M x N) are row-major f32;
 * activations are quantized on the fly where a kernel multiplies integers.
 */
#ifndef AMXRT_MATMUL_H
#define AMXRT_MATMUL_H

#include <stddef.h>
#include <stdint.h>

#include <amxrt/cpu.h>
#include <amxrt/quant.h>

#ifdef __cplusplus
extern "C" {
#endif

#pragma GCC visibility push(default)

struct amxrt_weight; /* opaque */

/*
 * Pack rows (N rows of K values of type, each amxrt_row_bytes() long) for
 * the path isa, or for the path in use if isa is -1. The caller keeps rows;
 * the packed copy is new. K must be a multiple of 32 for Q types; any K >= 1
 * for F32, F16 and BF16. Returns 0 and sets *out, or -EINVAL (bad shape or
 * type), -ENOTSUP (path cannot run here), -ENOMEM.
 */
int amxrt_weight_pack(struct amxrt_weight **out, enum amxrt_type type,
		      int64_t n, int64_t k, const void *rows, int isa);

/* Free a packed weight. NULL is allowed. */
void amxrt_weight_free(struct amxrt_weight *w);

/* Shape, type and path of a packed weight. */
int64_t amxrt_weight_rows(const struct amxrt_weight *w); /* N */
int64_t amxrt_weight_cols(const struct amxrt_weight *w); /* K */
enum amxrt_type amxrt_weight_type(const struct amxrt_weight *w);
enum amxrt_isa amxrt_weight_isa(const struct amxrt_weight *w);
/* Bytes of packed data (what a pass over W reads from memory). */
size_t amxrt_weight_bytes(const struct amxrt_weight *w);

/*
 * Write the original N rows back into dst (N * amxrt_row_bytes() bytes),
 * byte for byte as they were given to amxrt_weight_pack(). Returns 0.
 */
int amxrt_weight_unpack(const struct amxrt_weight *w, void *dst);

/*
 * Y[M x N] = X[M x K] * W^T with the weight's path and the library's
 * threads. ldx and ldy are row strides in floats (>= K and >= N). Returns
 * 0, or -EINVAL for a bad argument, -ENOMEM.
 */
int amxrt_matmul(const struct amxrt_weight *w, const float *x, int64_t ldx,
		 float *y, int64_t ldy, int64_t m);

/*
 * Which kernel amxrt_matmul() runs for this weight and M, in words, e.g.
 * "amx tdpbsud 2x2 tiles" or "avx512vnni gemv". Never NULL.
 */
const char *amxrt_matmul_kernel_name(const struct amxrt_weight *w, int64_t m);

/*
 * The reference: Y = X * W^T from unpacked rows, each weight decoded to
 * float, every product and sum in double. Slow; it is the truth the tests
 * compare every path with. Returns 0 or -EINVAL.
 */
int amxrt_matmul_ref(enum amxrt_type type, const void *rows, int64_t n,
		     int64_t k, const float *x, int64_t ldx, float *y,
		     int64_t ldy, int64_t m);

/*
 * Threads used by amxrt_matmul(): n >= 1, or 0 for one per online CPU.
 * The pool is created on first use and resized here. Returns 0 or -EINVAL.
 */
int amxrt_set_threads(int n);
int amxrt_threads(void);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif

#endif /* AMXRT_MATMUL_H */
