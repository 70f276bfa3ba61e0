// SPDX-License-Identifier: MIT
/* PLACEHOLDER being replaced by the real avx512 path: no kernels yet. */
#include "kernels.h"

const struct amxrt_kernel *amxrt_avx512_pick(enum amxrt_type type, int64_t m)
{
	(void)type;
	(void)m;
	return NULL;
}
