// SPDX-License-Identifier: MIT
/*
 * matmul.c - amxrt_matmul(): pick the weight's kernel, stage the
 * activations (split over the pool's threads), then split the weight's
 * panels over the same threads.
 */
#include <errno.h>
#include <sched.h>
#include <stdatomic.h>

#include "../core/error.h"
#include "../core/threads.h"
#include "kernels.h"

static const amxrt_kernel_pick_fn pickers[AMXRT_ISA_COUNT] = {
	[AMXRT_ISA_GENERIC] = amxrt_generic_pick,
	[AMXRT_ISA_AVX2] = amxrt_avx2_pick,
	[AMXRT_ISA_AVX512VNNI] = amxrt_avx512_pick,
	[AMXRT_ISA_AMX] = amxrt_amx_pick,
	[AMXRT_ISA_AMX_SIM] = amxrt_amx_sim_pick,
};

/* Pauses before a thread waiting for the others' staging yields its CPU. */
#define BARRIER_SPINS 2000

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

/* Staged activations of the application thread that calls amxrt_matmul. */
static _Thread_local struct amxrt_act act_ws;

struct job {
	const struct amxrt_weight *w;
	const struct amxrt_kernel *kern;
	struct amxrt_act *a;
	const float *x;
	int64_t ldx;
	float *y;
	int64_t ldy;
	atomic_int staged; /* threads done staging */
};

static void range(int64_t total, int64_t unit, int ith, int nth, int64_t *lo,
		  int64_t *hi)
{
	int64_t units = (total + unit - 1) / unit;
	int64_t u0 = units * ith / nth, u1 = units * (ith + 1) / nth;

	*lo = u0 * unit < total ? u0 * unit : total;
	*hi = u1 * unit < total ? u1 * unit : total;
}

static void matmul_task(void *ctx, int ith, int nth, void *scratch)
{
	struct job *j = ctx;
	int64_t lo, hi, unit;
	int spins = 0;

	/* 1: stage this thread's share of the activation rows */
	range(j->a->mp, 1, ith, nth, &lo, &hi);
	amxrt_act_stage(j->a, j->x, j->ldx, j->w->k, lo, hi, j->kern->stage_q8);
	atomic_fetch_add_explicit(&j->staged, 1, memory_order_acq_rel);
	while (atomic_load_explicit(&j->staged, memory_order_acquire) < nth) {
		/* a thread still staging may have lost its CPU: let it run */
		if (++spins < BARRIER_SPINS)
			cpu_relax();
		else
			sched_yield();
	}

	/* 2: this thread's panels; whole groups of 4 where there are enough */
	unit = j->w->np >= 4 * nth ? 4 : 1;
	range(j->w->np, unit, ith, nth, &lo, &hi);
	if (lo < hi)
		j->kern->fn(j->w, j->a, j->y, j->ldy, lo, hi, scratch);
}

static const struct amxrt_kernel *pick(const struct amxrt_weight *w, int64_t m)
{
	if (w->isa < 0 || w->isa >= AMXRT_ISA_COUNT || !pickers[w->isa])
		return NULL;
	return pickers[w->isa](w->type, m);
}

const char *amxrt_matmul_kernel_name(const struct amxrt_weight *w, int64_t m)
{
	const struct amxrt_kernel *k = w ? pick(w, m) : NULL;

	return k ? k->name : "none";
}

int amxrt_matmul(const struct amxrt_weight *w, const float *x, int64_t ldx,
		 float *y, int64_t ldy, int64_t m)
{
	struct job j = { 0 };
	int err;

	if (!w || !x || !y)
		return amxrt_err(EINVAL, "matmul: NULL argument");
	if (m < 1 || m > ((int64_t)1 << 24) || ldx < w->k || ldy < w->n)
		return amxrt_err(
			EINVAL,
			"matmul: m = %lld, ldx = %lld, ldy = %lld for a %lld x %lld weight",
			(long long)m, (long long)ldx, (long long)ldy,
			(long long)w->n, (long long)w->k);
	j.kern = pick(w, m);
	if (!j.kern)
		return amxrt_err(ENOTSUP,
				 "matmul: path %s has no kernel for %s",
				 amxrt_isa_name(w->isa),
				 amxrt_type_name(w->type));
	err = amxrt_act_reserve(&act_ws, j.kern->act, m, w->kp);
	if (err)
		return err;
	j.w = w;
	j.a = &act_ws;
	j.x = x;
	j.ldx = ldx;
	j.y = y;
	j.ldy = ldy;
	return amxrt_pool_run(matmul_task, &j);
}
