/* SPDX-License-Identifier: MIT */
/*
 * amx_ops.h - the AMX intrinsics amx.c is written with, for both of its
 * builds. Internal to libamxrt.
 *
 * amx.o (-mamx-tile -mamx-int8 -mamx-bf16): gcc's own intrinsics from
 * <immintrin.h>, i.e. real tile instructions. amx_sim.o (-DAMXRT_TILE_SIM,
 * no AMX flags): the same names call the software model in tilesim.c, so
 * one kernel source runs on the model here and on the hardware there.
 * Tile operands are constant register numbers 0..7 in both builds.
 *
 * AMX_SCRATCH_BARRIER(): gcc's _tile_loadd() is an asm statement that does
 * not tell the compiler it reads memory; put this between plain C stores
 * into a buffer and the tile load that reads the buffer, so the stores are
 * not moved past the load or dropped.
 */
#ifndef AMXRT_KERNELS_AMX_OPS_H
#define AMXRT_KERNELS_AMX_OPS_H

#include <immintrin.h>

#ifdef AMXRT_TILE_SIM

#include "tilesim.h"

/* <immintrin.h> defines some of these as macros, others as functions. */
#undef _tile_loadconfig
#undef _tile_storeconfig
#undef _tile_loadd
#undef _tile_stream_loadd
#undef _tile_stored
#undef _tile_zero
#undef _tile_release
#undef _tile_dpbssd
#undef _tile_dpbsud
#undef _tile_dpbusd
#undef _tile_dpbuud
#undef _tile_dpbf16ps

#define _tile_loadconfig(cfg) amxrt_tilesim_ldtilecfg(cfg)
#define _tile_storeconfig(cfg) amxrt_tilesim_sttilecfg(cfg)
#define _tile_loadd(t, base, stride) \
	amxrt_tilesim_tileloadd(t, base, (long)(stride))
#define _tile_stream_loadd(t, base, stride) \
	amxrt_tilesim_tileloaddt1(t, base, (long)(stride))
#define _tile_stored(t, base, stride) \
	amxrt_tilesim_tilestored(t, base, (long)(stride))
#define _tile_zero(t) amxrt_tilesim_tilezero(t)
#define _tile_release() amxrt_tilesim_tilerelease()
#define _tile_dpbssd(c, a, b) amxrt_tilesim_tdpbssd(c, a, b)
#define _tile_dpbsud(c, a, b) amxrt_tilesim_tdpbsud(c, a, b)
#define _tile_dpbusd(c, a, b) amxrt_tilesim_tdpbusd(c, a, b)
#define _tile_dpbuud(c, a, b) amxrt_tilesim_tdpbuud(c, a, b)
#define _tile_dpbf16ps(c, a, b) amxrt_tilesim_tdpbf16ps(c, a, b)

/* The model's functions are opaque calls: memory is already in order. */
#define AMX_SCRATCH_BARRIER() ((void)0)

#else /* real AMX */

#if !defined(__AMX_TILE__) || !defined(__AMX_INT8__) || !defined(__AMX_BF16__)
#error "amx.c needs -mamx-tile -mamx-int8 -mamx-bf16 (or -DAMXRT_TILE_SIM)"
#endif

#define AMX_SCRATCH_BARRIER() __asm__ __volatile__("" ::: "memory")

#endif /* AMXRT_TILE_SIM */

#endif /* AMXRT_KERNELS_AMX_OPS_H */
