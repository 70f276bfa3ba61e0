/* SPDX-License-Identifier: MIT */
/*
 * tilesim.h - a software model of the Intel AMX tile registers and of the
 * AMX-TILE, AMX-INT8 and AMX-BF16 instructions, for machines without AMX.
 * Internal to libamxrt (hidden symbols).
 *
 * Each thread has its own model state, as each logical CPU has its own
 * TILECFG and TILEDATA: palette 1's eight tiles of 16 rows x 64 bytes, the
 * configuration (palette_id, start_row, rows and colsb per tile) and the
 * "tiles configured" flag. Every function below behaves as the instruction
 * of the same name does in the Intel SDM's "Operation" section, and checks
 * what the instruction's exception class checks. An instruction the
 * hardware would fault on prints one line to stderr naming the instruction
 * and the rule, then raises SIGILL (#UD) or SIGSEGV (#GP), the signals Linux
 * delivers for those exceptions; if a handler returns, the instruction has
 * no effect. The rules and their sources are listed in tilesim.c and in
 * Documentation/amx-tile-model.md.
 *
 * Tile numbers are plain ints here (the real intrinsics take constants);
 * strides are in bytes, as the SIB index of TILELOADD/TILESTORED.
 * amx_ops.h maps the gcc intrinsic names onto these functions.
 */
#ifndef AMXRT_KERNELS_TILESIM_H
#define AMXRT_KERNELS_TILESIM_H

/* LDTILECFG m512: load the 64-byte configuration at cfg. */
void amxrt_tilesim_ldtilecfg(const void *cfg);
/* STTILECFG m512: store the configuration (64 zero bytes if none). */
void amxrt_tilesim_sttilecfg(void *cfg);
/* TILELOADD / TILELOADDT1 tmm, [base + stride * row]. */
void amxrt_tilesim_tileloadd(int tile, const void *base, long stride);
void amxrt_tilesim_tileloaddt1(int tile, const void *base, long stride);
/* TILESTORED [base + stride * row], tmm. */
void amxrt_tilesim_tilestored(int tile, void *base, long stride);
/* TILEZERO tmm. */
void amxrt_tilesim_tilezero(int tile);
/* TILERELEASE: back to the init state (not configured, all zero). */
void amxrt_tilesim_tilerelease(void);
/*
 * TDPB[SU][SU]D c, a, b: c.int32[m][n] += sum over k and i = 0..3 of
 * a.byte[m][4k + i] * b.byte[k][4n + i]; the first letter is a's
 * signedness, the second b's. int32 sums wrap.
 */
void amxrt_tilesim_tdpbssd(int c, int a, int b);
void amxrt_tilesim_tdpbsud(int c, int a, int b);
void amxrt_tilesim_tdpbusd(int c, int a, int b);
void amxrt_tilesim_tdpbuud(int c, int a, int b);
/* TDPBF16PS c, a, b: c.fp32[m][n] += bf16 pair dot products (see .c). */
void amxrt_tilesim_tdpbf16ps(int c, int a, int b);

/*
 * What XSAVE writes for state component 18 (XTILEDATA): the 8192 bytes of
 * tmm0..tmm7, each 16 rows of 64 bytes, including the bytes past a tile's
 * rows and colsb that no tile instruction shows. For tests.
 */
void amxrt_tilesim_xsave_tiledata(void *dst);

#endif /* AMXRT_KERNELS_TILESIM_H */
