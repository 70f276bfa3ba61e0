// SPDX-License-Identifier: MIT
/*
 * numa_report.c - amxrt_model_numa(): where a loaded model's packed
 * weights are, asked of the kernel page by page (move_pages), against
 * where the NUMA mode placed them.
 */
#include <errno.h>
#include <string.h>

#include <amxrt/amxrt.h>

#include "../core/error.h"
#include "../kernels/kernels.h"
#include "../numa/numa.h"
#include "model_int.h"

static void count(struct amxrt_numa_report *r, const uint8_t *data,
		  size_t bytes, int idx)
{
	uint64_t before = r->pages_home + r->pages_away + r->pages_unknown;

	if (!data || !bytes)
		return;
	amxrt_numa_count_pages(data, bytes, idx, &r->pages_home, &r->pages_away,
			       &r->pages_unknown);
	r->pages += r->pages_home + r->pages_away + r->pages_unknown - before;
	r->node_bytes[idx < 0 ? 0 : idx] += bytes;
}

static void weight(struct amxrt_numa_report *r, const struct amxrt_weight *w)
{
	int i;

	if (!w)
		return;
	if (!r->n_weights++) {
		r->mode = (enum amxrt_numa)w->numa_mode;
		r->node = amxrt_numa_node_id(w->node_idx);
		r->n_parts = w->n_views;
	}
	if (!w->n_views) {
		count(r, w->data, w->bytes, w->node_idx);
		return;
	}
	for (i = 0; i < w->n_views; i++)
		count(r, w->views[i].data, w->views[i].bytes, i);
}

static void mats(struct amxrt_numa_report *r, const struct amxrt_mat *m, int n)
{
	int i;

	for (i = 0; m && i < n; i++)
		weight(r, m[i].w);
}

int amxrt_model_numa(const struct amxrt_model *m, struct amxrt_numa_report *out)
{
	int64_t i;

	if (!m || !out)
		return amxrt_err(EINVAL, "model: NULL argument");
	memset(out, 0, sizeof(*out));
	out->node = -1;
	weight(out, m->output.w);
	for (i = 0; m->layers && i < m->hp.n_layer; i++) {
		const struct amxrt_layer *l = &m->layers[i];

		weight(out, l->wq.w);
		weight(out, l->wk.w);
		weight(out, l->wv.w);
		weight(out, l->wo.w);
		weight(out, l->w_gate.w);
		weight(out, l->w_up.w);
		weight(out, l->w_down.w);
		weight(out, l->router.w);
		mats(out, l->e_gate, m->hp.n_expert);
		mats(out, l->e_up, m->hp.n_expert);
		mats(out, l->e_down, m->hp.n_expert);
	}
	return 0;
}
