// SPDX-License-Identifier: MIT
/*
 * embed.c - the smallest program that embeds libamxrt: quantize a weight
 * to Q4_0, place it for the chosen path, multiply a batch of activations,
 * and check the result against the library's reference.
 *
 * Build against an installed libamxrt:
 *   cc embed.c $(pkg-config --cflags --libs amxrt) -o embed
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <amxrt/amxrt.h>

int main(void)
{
	const int64_t n = 256, k = 512, m = 4;
	int64_t row_bytes = amxrt_row_bytes(AMXRT_TYPE_Q4_0, k), i;
	float *w = malloc(sizeof(float) * n * k);
	float *x = malloc(sizeof(float) * m * k);
	float *y = malloc(sizeof(float) * m * n);
	float *ref = malloc(sizeof(float) * m * n);
	unsigned char *rows = malloc((size_t)(row_bytes * n));
	struct amxrt_weight *packed;
	double worst = 0;
	int isa, err;

	if (!w || !x || !y || !ref || !rows)
		return 1;
	for (i = 0; i < n * k; i++)
		w[i] = (float)((i * 7919 % 1000) - 500) / 5000.0f;
	for (i = 0; i < m * k; i++)
		x[i] = (float)((i * 104729 % 1000) - 500) / 500.0f;
	for (i = 0; i < n; i++)
		amxrt_quantize_row(AMXRT_TYPE_Q4_0, w + i * k,
				   rows + i * row_bytes, k);

	isa = amxrt_isa();
	if (isa < 0) {
		fprintf(stderr, "embed: %s\n", amxrt_errmsg());
		return 1;
	}
	err = amxrt_weight_pack(&packed, AMXRT_TYPE_Q4_0, n, k, rows, -1);
	if (!err)
		err = amxrt_matmul(packed, x, k, y, n, m);
	if (err) {
		fprintf(stderr, "embed: %s\n", amxrt_errmsg());
		return 1;
	}
	amxrt_matmul_ref(AMXRT_TYPE_Q4_0, rows, n, k, x, k, ref, n, m);
	for (i = 0; i < m * n; i++)
		worst = fmax(worst, fabs((double)y[i] - ref[i]));
	printf("libamxrt %s, path %s, kernel: %s\n", amxrt_version(),
	       amxrt_isa_name(isa), amxrt_matmul_kernel_name(packed, m));
	printf("max |y - reference| = %.3g\n", worst);
	amxrt_weight_free(packed);
	free(w);
	free(x);
	free(y);
	free(ref);
	free(rows);
	/* Q8 activations: the error stays far below the outputs' size (~1) */
	return worst < 0.05 ? 0 : 1;
}
