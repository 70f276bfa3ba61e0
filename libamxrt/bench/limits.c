// SPDX-License-Identifier: MIT
/*
 * limits.c - amxrt_measure_limits(): the machine's int8 multiply-accumulate
 * peak and memory read bandwidth, measured on the pool's threads with the
 * widest instructions the CPU and OS allow (the loops themselves live in
 * limits_avx512.c and limits_avx2.c, built with their ISA flags; the
 * scalar ones are here).
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <amxrt/amxrt.h>

#include "../core/clock.h"
#include "../core/error.h"
#include "../core/mem.h"
#include "../core/threads.h"
#include "limits.h"

#define READ_BYTES_MAX ((size_t)1 << 30)
#define READ_BYTES_MIN ((size_t)64 << 20)
#define RUNS 5

enum level { LVL_SCALAR, LVL_AVX2, LVL_AVX512 };

struct task {
	enum level lvl;
	int read; /* 0: int8 loop, 1: read loop */
	uint64_t iters; /* int8 rounds per thread */
	char *buf;
	size_t bytes; /* whole buffer; each thread reads its part */
	int init; /* fill the buffer instead of reading it */
	_Atomic uint64_t sink;
};

static enum level detect(void)
{
	const uint32_t avx2 = AMXRT_CPU_AVX2 | AMXRT_CPU_OS_AVX;
	const uint32_t avx512 = avx2 | AMXRT_CPU_AVX512F | AMXRT_CPU_AVX512BW |
				AMXRT_CPU_AVX512VL | AMXRT_CPU_AVX512VNNI |
				AMXRT_CPU_OS_AVX512;
	struct amxrt_cpu_info ci;

	memset(&ci, 0, sizeof(ci));
	amxrt_cpu_detect(&ci);
	if ((ci.features & avx512) == avx512)
		return LVL_AVX512;
	if ((ci.features & avx2) == avx2)
		return LVL_AVX2;
	return LVL_SCALAR;
}

static uint64_t int8_scalar(uint64_t iters, uint32_t seed)
{
	int32_t a[AMXRT_LIMITS_CHAINS];
	uint64_t n, r = 0;
	int i;

	for (i = 0; i < AMXRT_LIMITS_CHAINS; i++)
		a[i] = (int32_t)seed + i;
	for (n = 0; n < iters; n++)
		for (i = 0; i < AMXRT_LIMITS_CHAINS; i++)
			a[i] += (int8_t)a[i] * (int8_t)(seed >> 8);
	for (i = 0; i < AMXRT_LIMITS_CHAINS; i++)
		r += (uint32_t)a[i];
	return r;
}

static uint64_t read_scalar(const void *buf, size_t bytes)
{
	const uint64_t *p = buf;
	uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
	size_t i;

	for (i = 0; i < bytes / 8; i += 4) {
		s0 += p[i];
		s1 += p[i + 1];
		s2 += p[i + 2];
		s3 += p[i + 3];
	}
	return s0 + s1 + s2 + s3;
}

static void part(size_t bytes, int ith, int nth, size_t *lo, size_t *hi)
{
	size_t units = bytes / 4096;

	*lo = units * (size_t)ith / (size_t)nth * 4096;
	*hi = units * (size_t)(ith + 1) / (size_t)nth * 4096;
}

static void run_task(void *ctx, int ith, int nth, void *scratch)
{
	struct task *t = ctx;
	uint64_t r = 0;
	size_t lo, hi;

	(void)scratch;
	if (!t->read) {
		uint32_t seed = 0x9e3779b9u * (uint32_t)(ith + 1);

		if (t->lvl == LVL_AVX512)
			r = amxrt_limits_int8_avx512(t->iters, seed);
		else if (t->lvl == LVL_AVX2)
			r = amxrt_limits_int8_avx2(t->iters, seed);
		else
			r = int8_scalar(t->iters, seed);
	} else {
		part(t->bytes, ith, nth, &lo, &hi);
		if (t->init)
			memset(t->buf + lo, 1 + ith, hi - lo);
		else if (t->lvl == LVL_AVX512)
			r = amxrt_limits_read_avx512(t->buf + lo, hi - lo);
		else if (t->lvl == LVL_AVX2)
			r = amxrt_limits_read_avx2(t->buf + lo, hi - lo);
		else
			r = read_scalar(t->buf + lo, hi - lo);
	}
	atomic_fetch_add_explicit(&t->sink, r, memory_order_relaxed);
}

/* Time one pool run of t; returns seconds or a negative errno. */
static double timed(struct task *t, int *err)
{
	double t0 = amxrt_now();

	*err = amxrt_pool_run(run_task, t);
	return amxrt_now() - t0;
}

static int measure_int8(struct task *t, double budget, int nth, double *tops)
{
	uint64_t per_op = t->lvl == LVL_AVX512 ? AMXRT_LIMITS_AVX512_OPS :
			  t->lvl == LVL_AVX2   ? AMXRT_LIMITS_AVX2_OPS :
						 AMXRT_LIMITS_SCALAR_OPS;
	double dt, best = 0;
	int err, i;

	/*
	 * Calibrate: grow a run until it takes 20 ms, long enough that
	 * starting and waking the threads (tens of microseconds, more for
	 * the pool's very first run) does not count; each measured run then
	 * takes its share of the budget, at least that long.
	 */
	t->read = 0;
	t->iters = 1024;
	for (;;) {
		dt = timed(t, &err);
		if (err)
			return err;
		if (dt > 20e-3 || t->iters > ((uint64_t)1 << 40))
			break;
		t->iters *= dt < 2e-3 ? 8 : 2;
	}
	if (budget / RUNS > dt)
		t->iters = (uint64_t)((double)t->iters * (budget / RUNS) / dt);
	for (i = 0; i < RUNS; i++) {
		double ops;

		dt = timed(t, &err);
		if (err)
			return err;
		ops = (double)t->iters * AMXRT_LIMITS_CHAINS * (double)per_op *
		      nth;
		if (ops / dt > best)
			best = ops / dt;
	}
	*tops = best / 1e12;
	return 0;
}

static int measure_read(struct task *t, double budget, double *gbs)
{
	double t0 = amxrt_now(), dt, best = 0;
	int err, i;

	t->read = 1;
	t->init = 1; /* touch every page, on the threads that will read it */
	dt = timed(t, &err);
	t->init = 0;
	if (err)
		return err;
	for (i = 0; i < 100; i++) {
		dt = timed(t, &err);
		if (err)
			return err;
		if ((double)t->bytes / dt > best)
			best = (double)t->bytes / dt;
		if (i >= RUNS - 1 && amxrt_now() - t0 > budget)
			break;
	}
	*gbs = best / 1e9;
	return 0;
}

int amxrt_measure_limits(struct amxrt_limits *out, double seconds)
{
	static const char *const int8_how[] = {
		[LVL_SCALAR] = "scalar C",
		[LVL_AVX2] = "avx2 vpmaddubsw+vpmaddwd+vpaddd ymm",
		[LVL_AVX512] = "avx512vnni vpdpbusd zmm",
	};
	static const char *const read_how[] = {
		[LVL_SCALAR] = "scalar loads",
		[LVL_AVX2] = "avx2 ymm loads",
		[LVL_AVX512] = "avx512 zmm loads",
	};
	struct task t;
	int err, nth;

	if (!out)
		return amxrt_err(EINVAL, "measure_limits: NULL argument");
	if (!(seconds > 0 && seconds <= 60))
		return amxrt_err(EINVAL,
				 "measure_limits: %g seconds is not in (0, 60]",
				 seconds);
	memset(out, 0, sizeof(*out));
	memset(&t, 0, sizeof(t));
	t.lvl = detect();
	nth = amxrt_threads();

	err = measure_int8(&t, seconds * 0.4, nth, &out->int8_tops);
	if (err)
		return err;

	for (t.bytes = READ_BYTES_MAX; t.bytes >= READ_BYTES_MIN;
	     t.bytes /= 2) {
		/* fewer page faults to fill it, fewer TLB misses to read it */
		t.buf = amxrt_alloc_huge(t.bytes, 0);
		if (t.buf)
			break;
	}
	if (!t.buf)
		return amxrt_err(
			ENOMEM,
			"measure_limits: no memory for a %zu MiB buffer",
			READ_BYTES_MIN >> 20);
	err = measure_read(&t, seconds * 0.6, &out->read_gbs);
	free(t.buf);
	if (err)
		return err;

	out->threads = amxrt_threads();
	out->read_bytes = t.bytes;
	snprintf(out->int8_how, sizeof(out->int8_how), "%s", int8_how[t.lvl]);
	snprintf(out->read_how, sizeof(out->read_how), "%s", read_how[t.lvl]);
	return 0;
}

/*
 * Sum the bytes of p (64-byte aligned) with the widest read loop, the one
 * amxrt_measure_limits() times; the last bytes past a multiple of 512 one
 * at a time. For read passes over other memory than the limits' buffer
 * (amxrt_model_time_read()).
 */
uint64_t amxrt_limits_read(const void *p, size_t bytes)
{
	static _Atomic int level = -1;
	size_t body = bytes & ~(size_t)511, i;
	const uint8_t *tail = (const uint8_t *)p + body;
	uint64_t r = 0;
	int lvl = atomic_load_explicit(&level, memory_order_relaxed);

	if (lvl < 0) {
		lvl = detect();
		atomic_store_explicit(&level, lvl, memory_order_relaxed);
	}
	if (lvl == LVL_AVX512)
		r = amxrt_limits_read_avx512(p, body);
	else if (lvl == LVL_AVX2)
		r = amxrt_limits_read_avx2(p, body);
	else
		r = read_scalar(p, body);
	for (i = 0; i < bytes - body; i++)
		r += tail[i];
	return r;
}

int amxrt_time_read(const void *buf, size_t bytes, double *seconds)
{
	struct task t;
	int err;

	if (!buf || !seconds || (uintptr_t)buf % 64 || bytes < 4096)
		return amxrt_err(EINVAL,
				 "time_read: NULL, unaligned or under 4 KiB");
	memset(&t, 0, sizeof(t));
	t.lvl = detect();
	t.read = 1;
	t.buf = (char *)buf;
	t.bytes = bytes / 4096 * 4096;
	*seconds = timed(&t, &err);
	return err;
}
