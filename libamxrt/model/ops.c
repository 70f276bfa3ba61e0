// SPDX-License-Identifier: MIT
/*
 * ops.c - the backend ops table (CPU implemented) and the small
 * element-wise ops of the forward pass: RMSNorm, bias, residual, SwiGLU,
 * get_rows. Those of a micro-batch are cut over the thread pool
 * (amxrt_op_par): run on one thread, the others would wait for them.
 */
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../core/error.h"
#include "../core/threads.h"
#include "../kernels/kernels.h"
#include "model_int.h"

static int cpu_matmul(const struct amxrt_mat *w, const float *x, int64_t ldx,
		      const int *rows, float *y, int64_t ldy, int64_t m)
{
	struct amxrt_matmul_op op = { .w = w->w,
				      .x = x,
				      .ldx = ldx,
				      .y = y,
				      .ldy = ldy,
				      .m = m,
				      .rows = rows };

	return amxrt_matmul_batch(&op, 1);
}

static const struct amxrt_backend_ops cpu_ops = {
	.name = "CPU",
	.matmul = cpu_matmul,
};

const struct amxrt_backend_ops *amxrt_backend(enum amxrt_backend b)
{
	return b == AMXRT_BACKEND_CPU ? &cpu_ops : NULL;
}

/*
 * Activations live on the CPU. A weight held by another backend would need
 * either its op run there (activations moved) or the weight copied here:
 * this layer only ever does the former; no path copies weights.
 */
static int on_backend(const struct amxrt_mat *w, const float *x,
		      const int *rows, float *y, int64_t m)
{
	const struct amxrt_backend_ops *ops = amxrt_backend(w->backend);

	if (!ops || !ops->matmul)
		return amxrt_err(ENOTSUP, "model: no backend %d for a matmul",
				 (int)w->backend);
	return ops->matmul(w, x, w->k, rows, y, w->n, m);
}

int amxrt_op_matmul(struct amxrt_ctx *c, const struct amxrt_mat *w,
		    const float *x, float *y, int64_t m)
{
	return on_backend(w, x, NULL, y, m);
}

int amxrt_op_matmuls(struct amxrt_ctx *c, const struct amxrt_op_mm *mm, int n)
{
	struct amxrt_matmul_op op[AMXRT_OP_MM_MAX];
	int i, ret;

	if (n < 1 || n > AMXRT_OP_MM_MAX)
		return amxrt_err(EINVAL, "model: a batch of %d matmuls", n);
	for (i = 0; i < n; i++) {
		const struct amxrt_mat *w = mm[i].w;

		if (w->backend != AMXRT_BACKEND_CPU)
			break;
		op[i] = (struct amxrt_matmul_op){ .w = w->w,
						  .x = mm[i].x,
						  .ldx = w->k,
						  .y = mm[i].y,
						  .ldy = w->n,
						  .m = mm[i].m,
						  .rows = mm[i].rows };
	}
	if (i == n)
		return amxrt_matmul_batch(op, n);
	/* some weight lives elsewhere: each op on its own backend */
	for (i = 0; i < n; i++) {
		ret = on_backend(mm[i].w, mm[i].x, mm[i].rows, mm[i].y,
				 mm[i].m);
		if (ret)
			return ret;
	}
	return 0;
}

struct par_job {
	amxrt_range_fn fn;
	void *arg;
	int64_t n, per;
};

static void par_chunk(void *ctx, int64_t chunk, void *scratch)
{
	const struct par_job *j = ctx;
	int64_t i0 = chunk * j->per;

	j->fn(j->arg, i0, i0 + j->per < j->n ? i0 + j->per : j->n);
}

void amxrt_op_par(amxrt_range_fn fn, void *arg, int64_t n, int64_t grain)
{
	struct par_job j = { fn, arg, n, 0 };
	int64_t nth = amxrt_threads(), nc = n / (grain > 0 ? grain : 1);

	if (nc > 4 * nth)
		nc = 4 * nth;
	if (nth < 2 || nc < 2) {
		fn(arg, 0, n);
		return;
	}
	j.per = (n + nc - 1) / nc;
	nc = (n + j.per - 1) / j.per;
	if (amxrt_pool_for(par_chunk, &j, nc))
		fn(arg, 0, n); /* the pool did not start: nothing ran */
}

struct norm_job {
	float *y;
	const float *x, *weight;
	int64_t n;
	float eps;
	int simd;
};

static void rmsnorm_rows(void *arg, int64_t r0, int64_t r1)
{
	const struct norm_job *a = arg;
	int64_t i, j, n = a->n;

	for (i = r0; i < r1; i++) {
		const float *xr = a->x + i * n;
		float *yr = a->y + i * n;
		/*
		 * Four partial sums: one chain of dependent double adds is
		 * latency-bound (1.3 us for a 2048-wide row, on the decode's
		 * critical path while the other threads wait; 0.4 us so).
		 */
		double s0 = 0, s1 = 0, s2 = 0, s3 = 0, sum;
		float s;

		if (a->simd) {
			amxrt_rmsnorm_avx512(yr, xr, a->weight, n, a->eps);
			continue;
		}
		for (j = 0; j + 4 <= n; j += 4) {
			s0 += (double)xr[j] * xr[j];
			s1 += (double)xr[j + 1] * xr[j + 1];
			s2 += (double)xr[j + 2] * xr[j + 2];
			s3 += (double)xr[j + 3] * xr[j + 3];
		}
		for (; j < n; j++)
			s0 += (double)xr[j] * xr[j];
		sum = (s0 + s1) + (s2 + s3);
		s = (float)(1.0 / sqrt(sum / (double)n + a->eps));
		for (j = 0; j < n; j++)
			yr[j] = xr[j] * s * a->weight[j];
	}
}

int amxrt_model_simd(void)
{
	int isa = amxrt_isa();

	return isa == AMXRT_ISA_AVX512VNNI || isa == AMXRT_ISA_AMX ||
	       isa == AMXRT_ISA_AMX_SIM;
}

void amxrt_op_rmsnorm(float *y, const float *x, const float *weight, int64_t m,
		      int64_t n, float eps)
{
	struct norm_job a = { y, x, weight, n, eps, amxrt_model_simd() };

	amxrt_op_par(rmsnorm_rows, &a, m, AMXRT_OP_PAR_WORK / (n > 0 ? n : 1));
}

struct add_job {
	float *x;
	const float *y;
};

static void add_range(void *arg, int64_t i0, int64_t i1)
{
	const struct add_job *a = arg;
	int64_t i;
	v4f x, y;

	for (i = i0; i + 4 <= i1; i += 4) {
		memcpy(&x, a->x + i, sizeof(x));
		memcpy(&y, a->y + i, sizeof(y));
		x += y;
		memcpy(a->x + i, &x, sizeof(x));
	}
	for (; i < i1; i++)
		a->x[i] += a->y[i];
}

void amxrt_op_add(float *x, const float *y, int64_t n)
{
	struct add_job a = { x, y };

	amxrt_op_par(add_range, &a, n, AMXRT_OP_PAR_WORK);
}

void amxrt_op_add_bias(float *x, const float *bias, int64_t m, int64_t n)
{
	int64_t i, j;

	for (i = 0; i < m; i++)
		for (j = 0; j < n; j++)
			x[i * n + j] += bias[j];
}

struct swiglu_job {
	float *g;
	const float *u;
	int simd;
};

static void swiglu_range(void *arg, int64_t i0, int64_t i1)
{
	const struct swiglu_job *a = arg;
	float *g = a->g;
	int64_t i;

	if (a->simd) {
		amxrt_swiglu_avx512(g + i0, a->u + i0, i1 - i0);
		return;
	}
	for (i = i0; i < i1; i++)
		g[i] = g[i] / (1.0f + expf(-g[i])) * a->u[i];
}

void amxrt_op_swiglu(float *g, const float *u, int64_t n)
{
	struct swiglu_job a = { g, u, amxrt_model_simd() };

	amxrt_op_par(swiglu_range, &a, n, AMXRT_OP_PAR_WORK);
}

void amxrt_op_prefetch_rows(const struct amxrt_plain *t, const int32_t *ids,
			    int64_t n)
{
	int64_t rb = amxrt_row_bytes(t->type, t->cols), i;
	uintptr_t pg = (uintptr_t)sysconf(_SC_PAGESIZE);

	for (i = 0; i < n; i++) {
		uintptr_t p, a;

		if (ids[i] < 0 || ids[i] >= t->rows)
			continue;
		p = (uintptr_t)t->data + (uintptr_t)(ids[i] * rb);
		a = p & ~(pg - 1);
		madvise((void *)a, p + (uintptr_t)rb - a, MADV_WILLNEED);
	}
}

int amxrt_op_get_row(const struct amxrt_plain *t, int64_t id, float *y)
{
	int64_t rb = amxrt_row_bytes(t->type, t->cols);

	if (id < 0 || id >= t->rows)
		return amxrt_err(EINVAL,
				 "model: token id %lld is out of [0, %lld)",
				 (long long)id, (long long)t->rows);
	return amxrt_dequantize_row(t->type, (const char *)t->data + id * rb, y,
				    t->cols);
}
