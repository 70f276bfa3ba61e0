// SPDX-License-Identifier: MIT
/*
 * readpass.c - amxrt_model_time_read(): a decode step's weight reads
 * without its compute. The matmul weights one token reads are read in the
 * order and the batches amxrt_forward() uses (q/k/v together, o, gate and
 * up together, down, or the router and the experts' batches, then the
 * output), each batch cut into chunks that the pool's threads claim, with
 * the loads amxrt_measure_limits() times. What this takes is what memory
 * alone costs a token here, the reference a decode step is held against
 * beside the long-stream bandwidth bound (Documentation/benchmarks.md).
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>

#include <amxrt/amxrt.h>

#include "../bench/limits.h"
#include "../core/clock.h"
#include "../core/error.h"
#include "../core/threads.h"
#include "../kernels/kernels.h"
#include "model_int.h"

/* Bytes a chunk reads: about the 8 panels a decode matmul chunk takes. */
#define READ_CHUNK ((size_t)128 << 10)

/* Ranges of one batch: its weights, each in up to n_views parts. */
#define MAX_RANGES (AMXRT_OP_MM_MAX * AMXRT_NUMA_MAX_NODES)

struct range {
	const uint8_t *p;
	size_t bytes;
	int64_t chunk0; /* first chunk of the range in the batch */
};

struct batch {
	struct range r[MAX_RANGES];
	int n;
	int64_t chunks;
	uint64_t bytes;
	uint64_t total; /* bytes of the batches read so far */
	int err; /* the first failed read's error; later runs do nothing */
	_Atomic uint64_t sink;
};

static void add_range(struct batch *b, const uint8_t *p, size_t bytes)
{
	if (!p || !bytes || b->n == MAX_RANGES)
		return;
	b->r[b->n] = (struct range){ p, bytes, b->chunks };
	b->chunks += (int64_t)((bytes + READ_CHUNK - 1) / READ_CHUNK);
	b->bytes += bytes;
	b->n++;
}

/* A weight's bytes as a matmul reads them: one copy, all its panels. */
static void add_mat(struct batch *b, const struct amxrt_mat *m)
{
	const struct amxrt_weight *w = m->w;
	int v;

	if (m->backend != AMXRT_BACKEND_CPU || !w)
		return;
	if (w->data) {
		add_range(b, w->data, w->bytes);
		return;
	}
	for (v = 0; v < w->n_views; v++)
		add_range(b, w->views[v].data, w->views[v].bytes);
}

static void read_chunk(void *ctx, int64_t chunk, void *scratch)
{
	struct batch *b = ctx;
	const struct range *r = b->r;
	size_t off, len;

	(void)scratch;
	while (r + 1 < b->r + b->n && chunk >= r[1].chunk0)
		r++;
	off = (size_t)(chunk - r->chunk0) * READ_CHUNK;
	len = r->bytes - off < READ_CHUNK ? r->bytes - off : READ_CHUNK;
	atomic_fetch_add_explicit(&b->sink, amxrt_limits_read(r->p + off, len),
				  memory_order_relaxed);
}

/*
 * Read the batch on the pool, then empty it for the next. After a failed
 * read the rest of the pass only empties its batches: the error is kept.
 */
static void run(struct batch *b)
{
	if (!b->err) {
		b->err = amxrt_pool_for(read_chunk, b, b->chunks);
		b->total += b->bytes;
	}
	b->n = 0;
	b->chunks = 0;
	b->bytes = 0;
}

/* A MoE layer's FFN: the router, then the experts in moe.c's groups. */
static void moe_ffn(const struct amxrt_hparams *hp, const struct amxrt_layer *l,
		    struct batch *b)
{
	int e, g, end;

	add_mat(b, &l->router);
	run(b);
	for (g = 0; g < hp->n_expert_used; g = end) {
		end = g + AMXRT_MOE_GROUP < hp->n_expert_used ?
			      g + AMXRT_MOE_GROUP :
			      hp->n_expert_used;
		for (e = g; e < end; e++) {
			add_mat(b, &l->e_gate[e]);
			add_mat(b, &l->e_up[e]);
		}
		run(b);
		for (e = g; e < end; e++)
			add_mat(b, &l->e_down[e]);
		run(b);
	}
}

static void pass(const struct amxrt_model *m, struct batch *b)
{
	const struct amxrt_hparams *hp = &m->hp;
	int li;

	for (li = 0; li < hp->n_layer && !b->err; li++) {
		const struct amxrt_layer *l = &m->layers[li];

		add_mat(b, &l->wq);
		add_mat(b, &l->wk);
		add_mat(b, &l->wv);
		run(b);
		add_mat(b, &l->wo);
		run(b);
		if (hp->is_moe) {
			moe_ffn(hp, l, b);
			continue;
		}
		/* gate and up together, then down */
		add_mat(b, &l->w_gate);
		add_mat(b, &l->w_up);
		run(b);
		add_mat(b, &l->w_down);
		run(b);
	}
	add_mat(b, &m->output);
	run(b);
}

int amxrt_model_time_read(const struct amxrt_model *m, double *seconds,
			  uint64_t *bytes)
{
	struct batch *b;
	double t0;
	int err;

	if (!m || !seconds)
		return amxrt_err(EINVAL, "model_time_read: NULL argument");
	b = calloc(1, sizeof(*b));
	if (!b)
		return amxrt_err(ENOMEM, "model_time_read: out of memory");
	t0 = amxrt_now();
	pass(m, b);
	*seconds = amxrt_now() - t0;
	if (bytes)
		*bytes = b->total;
	err = b->err;
	free(b);
	return err;
}
