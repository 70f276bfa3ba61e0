// SPDX-License-Identifier: MIT
/* TEMPORARY: placeholders until the real paths land. Remove. */
#include "kernels.h"
const struct amxrt_kernel *amxrt_avx2_pick(enum amxrt_type t, int64_t m) { (void)t; (void)m; return 0; }
const struct amxrt_kernel *amxrt_avx512_pick(enum amxrt_type t, int64_t m) { (void)t; (void)m; return 0; }
const struct amxrt_kernel *amxrt_amx_pick(enum amxrt_type t, int64_t m) { (void)t; (void)m; return 0; }
const struct amxrt_kernel *amxrt_amx_sim_pick(enum amxrt_type t, int64_t m) { (void)t; (void)m; return 0; }
