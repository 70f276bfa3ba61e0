// SPDX-License-Identifier: MIT
/* PLACEHOLDER being replaced by the real AMX path: no kernels yet. */
#include "kernels.h"

#ifdef AMXRT_TILE_SIM
#define AMX_PICK amxrt_amx_sim_pick
#else
#define AMX_PICK amxrt_amx_pick
#endif

const struct amxrt_kernel *AMX_PICK(enum amxrt_type type, int64_t m)
{
	(void)type;
	(void)m;
	return NULL;
}
