// SPDX-License-Identifier: MIT
/*
 * ops.c - the backend ops table (CPU implemented) and the small
 * element-wise ops of the forward pass: RMSNorm, bias, SwiGLU, get_rows.
 */
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../core/error.h"
#include "../kernels/kernels.h"
#include "model_int.h"

static int cpu_matmul(const struct amxrt_mat *w, const float *x, int64_t ldx,
		      float *y, int64_t ldy, int64_t m)
{
	return amxrt_matmul(w->w, x, ldx, y, ldy, m);
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
int amxrt_op_matmul(struct amxrt_ctx *c, const struct amxrt_mat *w,
		    const float *x, float *y, int64_t m)
{
	const struct amxrt_backend_ops *ops = amxrt_backend(w->backend);

	if (!ops || !ops->matmul)
		return amxrt_err(ENOTSUP, "model: no backend %d for a matmul",
				 (int)w->backend);
	return ops->matmul(w, x, w->k, y, w->n, m);
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
						  .m = mm[i].m };
	}
	if (i == n)
		return amxrt_matmul_batch(op, n);
	/* some weight lives elsewhere: each op on its own backend */
	for (i = 0; i < n; i++) {
		ret = amxrt_op_matmul(c, mm[i].w, mm[i].x, mm[i].y, mm[i].m);
		if (ret)
			return ret;
	}
	return 0;
}

void amxrt_op_rmsnorm(float *y, const float *x, const float *weight, int64_t m,
		      int64_t n, float eps)
{
	int64_t i, j;

	for (i = 0; i < m; i++) {
		const float *xr = x + i * n;
		float *yr = y + i * n;
		double ss = 0.0;
		float s;

		for (j = 0; j < n; j++)
			ss += (double)xr[j] * xr[j];
		s = (float)(1.0 / sqrt(ss / (double)n + eps));
		for (j = 0; j < n; j++)
			yr[j] = xr[j] * s * weight[j];
	}
}

void amxrt_op_add_bias(float *x, const float *bias, int64_t m, int64_t n)
{
	int64_t i, j;

	for (i = 0; i < m; i++)
		for (j = 0; j < n; j++)
			x[i * n + j] += bias[j];
}

void amxrt_op_swiglu(float *g, const float *u, int64_t n)
{
	int64_t i;
	int isa = amxrt_isa();

	if (isa == AMXRT_ISA_AVX512VNNI || isa == AMXRT_ISA_AMX ||
	    isa == AMXRT_ISA_AMX_SIM) {
		amxrt_swiglu_avx512(g, u, n);
		return;
	}
	for (i = 0; i < n; i++)
		g[i] = g[i] / (1.0f + expf(-g[i])) * u[i];
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
