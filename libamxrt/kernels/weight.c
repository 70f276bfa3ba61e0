// SPDX-License-Identifier: MIT
/*
 * weight.c - struct amxrt_weight: shape checks, placing a weight once in
 * its path's layout (and on its NUMA nodes: numa/numa.c's mode when it is
 * allocated), unpacking, accessors.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "../core/error.h"
#include "../numa/numa.h"
#include "kernels.h"

#define MAX_DIM ((int64_t)1 << 28)

static size_t align_up(size_t v)
{
	return (v + AMXRT_ALIGN - 1) & ~(size_t)(AMXRT_ALIGN - 1);
}

static size_t panel_qbytes(enum amxrt_type t)
{
	switch (t) {
	case AMXRT_TYPE_Q4_0:
	case AMXRT_TYPE_Q4_1:
		return 256;
	case AMXRT_TYPE_Q8_0:
		return 512;
	case AMXRT_TYPE_F32:
		return 2048;
	default: /* F16, BF16 */
		return 1024;
	}
}

static int check_shape(enum amxrt_type type, int64_t n, int64_t k)
{
	const char *name = amxrt_type_name(type);

	if (!name || type == AMXRT_TYPE_Q8_1)
		return amxrt_err(
			EINVAL,
			"type %d is not a weight type (f32 f16 bf16 q4_0 q4_1 q8_0)",
			(int)type);
	if (n < 1 || k < 1 || n > MAX_DIM || k > MAX_DIM)
		return amxrt_err(
			EINVAL,
			"weight shape %lld x %lld: each side must be 1..%lld",
			(long long)n, (long long)k, (long long)MAX_DIM);
	if (k % amxrt_type_block_values(type))
		return amxrt_err(
			EINVAL,
			"%s weight with K = %lld: K must be a multiple of 32",
			name, (long long)k);
	return 0;
}

/* Panels [p0, p1) of w as a weight of its own, for node index idx. */
static void view_of(const struct amxrt_weight *w, struct amxrt_weight *v,
		    int64_t p0, int64_t p1, int idx)
{
	int64_t r1 = p1 * AMXRT_PANEL_ROWS;

	*v = *w;
	v->n = (r1 < w->n ? r1 : w->n) - p0 * AMXRT_PANEL_ROWS;
	v->np = p1 - p0;
	v->bytes = w->layout == AMXRT_LAYOUT_ROWS ?
			   (size_t)v->n * w->row_bytes :
			   (size_t)v->np * w->panel_stride;
	v->node_idx = idx;
	v->mirror = 0;
	v->n_views = 0;
	v->views = NULL;
	v->data = amxrt_wmem_alloc(v->bytes, idx);
}

/* Allocate w's memory as the NUMA mode says. */
static int place(struct amxrt_weight *w)
{
	enum amxrt_numa mode;
	int idx, n, i;

	amxrt_numa_weight_plan(&mode, &idx, &n);
	w->numa_mode = mode;
	w->node_idx = -1;
	if (mode == AMXRT_NUMA_OFF) {
		w->data = amxrt_wmem_alloc(w->bytes, -1);
		return w->data ? 0 : -ENOMEM;
	}
	if (mode == AMXRT_NUMA_ISOLATE) {
		w->node_idx = idx;
		w->data = amxrt_wmem_alloc(w->bytes, idx);
		return w->data ? 0 : -ENOMEM;
	}
	w->mirror = mode == AMXRT_NUMA_MIRROR;
	if (!w->mirror && n > w->np)
		n = (int)w->np; /* no empty ranges */
	w->views = calloc((size_t)n, sizeof(*w->views));
	if (!w->views)
		return amxrt_err(ENOMEM, "out of memory");
	for (i = 0; i < n; i++) {
		int64_t p0 = w->mirror ? 0 : w->np * i / n;
		int64_t p1 = w->mirror ? w->np : w->np * (i + 1) / n;

		w->view_p0[i] = p0;
		w->view_p0[i + 1] = p1;
		view_of(w, &w->views[i], p0, p1, i);
		w->n_views = i + 1;
		if (!w->views[i].data)
			return -ENOMEM;
	}
	w->view_p0[n] = w->np;
	if (w->mirror)
		w->data = w->views[0].data;
	return 0;
}

int amxrt_weight_place(struct amxrt_weight *w, void *mem)
{
	enum amxrt_numa mode;
	int idx, n;

	if (!mem)
		return place(w);
	/* memory of the caller's (a model arena): one copy, not freed here */
	amxrt_numa_weight_plan(&mode, &idx, &n);
	w->numa_mode = mode;
	w->node_idx = mode == AMXRT_NUMA_ISOLATE ? idx : -1;
	w->borrowed = 1;
	w->data = mem;
	return 0;
}

int amxrt_weight_layout(struct amxrt_weight **out, enum amxrt_type type,
			int64_t n, int64_t k, int isa)
{
	struct amxrt_weight *w;
	size_t per_panel;
	int err;

	*out = NULL;
	err = check_shape(type, n, k);
	if (err)
		return err;
	if (isa == -1) {
		isa = amxrt_isa();
		if (isa < 0)
			return isa;
	} else {
		err = amxrt_isa_usable(isa, NULL, 0);
		if (err) {
			char why[256];

			amxrt_isa_usable(isa, why, sizeof(why));
			return amxrt_err(
				-err, "cannot pack for %s: %s",
				amxrt_isa_name(isa) ? amxrt_isa_name(isa) : "?",
				why);
		}
	}
	w = calloc(1, sizeof(*w));
	if (!w)
		return amxrt_err(ENOMEM, "out of memory");
	w->type = type;
	w->isa = isa;
	w->n = n;
	w->k = k;
	w->kp = (k + AMXRT_BLOCK_K - 1) / AMXRT_BLOCK_K * AMXRT_BLOCK_K;
	w->nb = w->kp / AMXRT_BLOCK_K;
	w->np = (n + AMXRT_PANEL_ROWS - 1) / AMXRT_PANEL_ROWS;
	w->row_bytes = (size_t)amxrt_row_bytes(type, k);
	if (isa == AMXRT_ISA_GENERIC) {
		w->layout = AMXRT_LAYOUT_ROWS;
		w->bytes = w->row_bytes * (size_t)n;
	} else {
		int scales = type == AMXRT_TYPE_Q4_1	       ? 2 :
			     amxrt_type_block_values(type) > 1 ? 1 :
								 0;

		w->layout = AMXRT_LAYOUT_PANEL16;
		w->qbytes = panel_qbytes(type);
		if (scales)
			w->scale_off = (size_t)w->nb * w->qbytes;
		if (scales == 2)
			w->min_off = w->scale_off + (size_t)w->nb * 32;
		per_panel = (size_t)w->nb * (w->qbytes + 32 * (size_t)scales);
		w->panel_stride = align_up(per_panel);
		w->bytes = w->panel_stride * (size_t)w->np;
	}
	*out = w;
	return 0;
}

int amxrt_weight_alloc(struct amxrt_weight **out, enum amxrt_type type,
		       int64_t n, int64_t k, int isa)
{
	int err = amxrt_weight_layout(out, type, n, k, isa);

	if (!err)
		err = place(*out);
	if (err && *out) {
		amxrt_weight_free(*out);
		*out = NULL;
	}
	return err;
}

/* Fill rows [row0, row0 + n) of a weight without views. */
static void fill_one(struct amxrt_weight *w, int64_t row0, int64_t n,
		     const void *rows)
{
	struct amxrt_weight part;
	int64_t p0 = row0 / AMXRT_PANEL_ROWS;

	if (w->layout == AMXRT_LAYOUT_ROWS) {
		memcpy(w->data + (size_t)row0 * w->row_bytes, rows,
		       (size_t)n * w->row_bytes);
		return;
	}
	/* the panels [p0, p1) seen as a weight of their own */
	part = *w;
	part.n = n;
	part.np = (n + AMXRT_PANEL_ROWS - 1) / AMXRT_PANEL_ROWS;
	part.data = w->data + (size_t)p0 * w->panel_stride;
	part.bytes = w->panel_stride * (size_t)part.np;
	amxrt_pack_panel16(&part, rows);
}

void amxrt_weight_fill(struct amxrt_weight *w, int64_t row0, int64_t n,
		       const void *rows)
{
	int i;

	if (!w->n_views) {
		fill_one(w, row0, n, rows);
		return;
	}
	for (i = 0; i < w->n_views; i++) {
		int64_t v0 = w->view_p0[i] * AMXRT_PANEL_ROWS;
		int64_t v1 = v0 + w->views[i].n;
		int64_t r0 = row0 > v0 ? row0 : v0;
		int64_t r1 = row0 + n < v1 ? row0 + n : v1;

		if (w->mirror) /* every copy packed from the same rows */
			fill_one(&w->views[i], row0, n, rows);
		else if (r0 < r1)
			fill_one(&w->views[i], r0 - v0, r1 - r0,
				 (const uint8_t *)rows +
					 (size_t)(r0 - row0) * w->row_bytes);
	}
}

int amxrt_weight_pack(struct amxrt_weight **out, enum amxrt_type type,
		      int64_t n, int64_t k, const void *rows, int isa)
{
	int err;

	*out = NULL;
	if (!rows)
		return amxrt_err(EINVAL, "weight rows are NULL");
	err = amxrt_weight_alloc(out, type, n, k, isa);
	if (!err)
		amxrt_weight_fill(*out, 0, n, rows);
	return err;
}

void amxrt_weight_free(struct amxrt_weight *w)
{
	int i;

	if (!w)
		return;
	if (w->borrowed) {
		/* the arena's memory: its owner unmaps it */
	} else if (w->views) {
		for (i = 0; i < w->n_views; i++)
			amxrt_wmem_free(w->views[i].data, w->views[i].bytes);
		free(w->views);
	} else {
		amxrt_wmem_free(w->data, w->bytes);
	}
	free(w);
}

int amxrt_weight_unpack(const struct amxrt_weight *w, void *dst)
{
	int i;

	if (!w || !dst)
		return amxrt_err(EINVAL, "unpack: NULL argument");
	if (w->n_views && !w->mirror) {
		for (i = 0; i < w->n_views; i++)
			amxrt_weight_unpack(&w->views[i],
					    (uint8_t *)dst +
						    (size_t)w->view_p0[i] *
							    AMXRT_PANEL_ROWS *
							    w->row_bytes);
		return 0;
	}
	if (w->n_views)
		w = &w->views[0];
	if (w->layout == AMXRT_LAYOUT_ROWS)
		memcpy(dst, w->data, w->bytes);
	else
		amxrt_unpack_panel16(w, dst);
	return 0;
}

int64_t amxrt_weight_rows(const struct amxrt_weight *w)
{
	return w->n;
}

int64_t amxrt_weight_cols(const struct amxrt_weight *w)
{
	return w->k;
}

enum amxrt_type amxrt_weight_type(const struct amxrt_weight *w)
{
	return w->type;
}

enum amxrt_isa amxrt_weight_isa(const struct amxrt_weight *w)
{
	return w->isa;
}

size_t amxrt_weight_bytes(const struct amxrt_weight *w)
{
	return w->bytes;
}
