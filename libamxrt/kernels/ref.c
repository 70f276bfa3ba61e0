// SPDX-License-Identifier: MIT
/*
 * ref.c - the reference matmul: every weight decoded to float, every
 * product and sum in double. Slow on purpose; the tests' truth.
 */
#include <errno.h>
#include <stdlib.h>

#include "../core/error.h"
#include "kernels.h"

int amxrt_matmul_ref(enum amxrt_type type, const void *rows, int64_t n,
		     int64_t k, const float *x, int64_t ldx, float *y,
		     int64_t ldy, int64_t m)
{
	int64_t rb = amxrt_row_bytes(type, k), i, j, l;
	float *wrow;

	if (rb < 0)
		return (int)rb;
	if (!rows || !x || !y || n < 1 || m < 0 || ldx < k || ldy < n)
		return amxrt_err(EINVAL, "matmul_ref: bad argument");
	wrow = malloc((size_t)k * sizeof(float));
	if (!wrow)
		return amxrt_err(ENOMEM, "matmul_ref: out of memory");
	for (j = 0; j < n; j++) {
		amxrt_dequantize_row(type, (const uint8_t *)rows + j * rb, wrow,
				     k);
		for (i = 0; i < m; i++) {
			const float *xr = x + i * ldx;
			double acc = 0.0;

			for (l = 0; l < k; l++)
				acc += (double)wrow[l] * (double)xr[l];
			y[i * ldy + j] = (float)acc;
		}
	}
	free(wrow);
	return 0;
}
