// SPDX-License-Identifier: MIT
/*
 * matmul.c - amxrt_matmul() and its batched form: pick each weight's
 * kernel, stage the activations (each distinct input once), then run the
 * weights' panels in chunks that the pool's threads claim as they become
 * free.
 *
 * A batch runs several matmuls in two pool jobs (staging, then panels)
 * instead of two per matmul: Q, K and V of a layer share their input and
 * its staging; gate and up too; a mixture-of-experts layer runs all its
 * chosen experts' projections at once. Fewer jobs, fewer waits at the end
 * of a job, and more chunks to balance over threads.
 *
 * NUMA (weight.c places, numa/numa.c pins): a distributed weight's panels
 * are cut into one range per node, each a weight of its own on its node;
 * the panel job then has one range of chunks per node, and each thread
 * claims its own node's chunks first (amxrt_pool_for_nodes). A mirrored
 * weight has one copy per node; each chunk reads the copy of the node of
 * the thread that runs it. Every panel is still computed by exactly one
 * kernel call, so results are the same in every mode.
 */
#include <errno.h>

#include "../core/error.h"
#include "../core/threads.h"
#include "../numa/numa.h"
#include "kernels.h"

static const amxrt_kernel_pick_fn pickers[AMXRT_ISA_COUNT] = {
	[AMXRT_ISA_GENERIC] = amxrt_generic_pick,
	[AMXRT_ISA_AVX2] = amxrt_avx2_pick,
	[AMXRT_ISA_AVX512VNNI] = amxrt_avx512_pick,
	[AMXRT_ISA_AMX] = amxrt_amx_pick,
	[AMXRT_ISA_AMX_SIM] = amxrt_amx_sim_pick,
};

/* Activation rows one staging chunk quantizes. */
#define STAGE_ROWS 16
/* Staging at most this many rows in all is left to the caller alone. */
#define STAGE_ALONE_ROWS 8
/* Chunks of panels per thread a job aims at (load balance vs overhead). */
#define CHUNKS_PER_THREAD 8
/* Panels in one chunk: at most this many. */
#define MAX_CHUNK_PANELS 8
/* ... and at least this many when every op has M = 1 (see the use). */
#define GEMV_CHUNK_PANELS 4

/*
 * Staged activations of the application thread that calls amxrt_matmul:
 * one per distinct input of a batch.
 */
static _Thread_local struct amxrt_act act_ws[AMXRT_MATMUL_BATCH_MAX];

struct job {
	const struct amxrt_matmul_op *op;
	int n;
	const struct amxrt_kernel *kern[AMXRT_MATMUL_BATCH_MAX];
	struct amxrt_act *act[AMXRT_MATMUL_BATCH_MAX];
	int staged_by[AMXRT_MATMUL_BATCH_MAX]; /* op that stages act[i] */
	/* staging chunks: op i owns [stage0[i], stage0[i + 1]) */
	int64_t stage0[AMXRT_MATMUL_BATCH_MAX + 1];
	/*
	 * panel chunks: node range r is [first[r], first[r + 1]); in it op
	 * i owns [chunk0[r][i], chunk0[r][i + 1]): its panels of node r (a
	 * distributed weight's view r), or all of them in range 0
	 */
	int n_ranges;
	int64_t first[AMXRT_NUMA_MAX_NODES + 1];
	int64_t chunk0[AMXRT_NUMA_MAX_NODES][AMXRT_MATMUL_BATCH_MAX + 1];
	int64_t panels; /* panels per chunk */
};

/* Is w cut into per-node panel ranges (its views)? */
static int split(const struct amxrt_weight *w)
{
	return w->n_views && !w->mirror;
}

static int owner(const int64_t *first, int n, int64_t chunk)
{
	int i = 0;

	while (i + 1 < n && chunk >= first[i + 1])
		i++;
	return i;
}

static void stage_rows(const struct job *j, int i, int64_t r0, int64_t r1)
{
	const struct amxrt_matmul_op *op = &j->op[i];

	amxrt_act_stage(j->act[i], op->x, op->ldx, op->rows, op->w->k, r0, r1,
			j->kern[i]->stage_q8);
}

static void stage_chunk(void *ctx, int64_t chunk, void *scratch)
{
	const struct job *j = ctx;
	int i = owner(j->stage0, j->n, chunk);
	int64_t r0 = (chunk - j->stage0[i]) * STAGE_ROWS;
	int64_t r1 = r0 + STAGE_ROWS;

	(void)scratch;
	stage_rows(j, i, r0, r1 < j->act[i]->mp ? r1 : j->act[i]->mp);
}

static void panel_chunk(void *ctx, int64_t chunk, void *scratch)
{
	const struct job *j = ctx;
	int r = owner(j->first, j->n_ranges, chunk);
	int i = owner(j->chunk0[r], j->n, chunk);
	const struct amxrt_matmul_op *op = &j->op[i];
	const struct amxrt_weight *w = op->w;
	float *y = op->y;
	int64_t p0 = (chunk - j->chunk0[r][i]) * j->panels;
	int64_t p1 = p0 + j->panels;

	if (split(w)) {
		/* view r's panels, its first being output row view_p0 * 16 */
		y += w->view_p0[r] * AMXRT_PANEL_ROWS;
		w = &w->views[r];
	} else if (w->n_views) {
		w = &w->views[amxrt_numa_self() % w->n_views];
	}
	j->kern[i]->fn(w, j->act[i], y, op->ldy, p0, p1 < w->np ? p1 : w->np,
		       scratch);
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

static int check_op(const struct amxrt_matmul_op *op)
{
	const struct amxrt_weight *w = op->w;

	if (!w || !op->x || !op->y)
		return amxrt_err(EINVAL, "matmul: NULL argument");
	if (op->m < 1 || op->m > ((int64_t)1 << 24) || op->ldx < w->k ||
	    op->ldy < w->n)
		return amxrt_err(
			EINVAL,
			"matmul: m = %lld, ldx = %lld, ldy = %lld for a %lld x %lld weight",
			(long long)op->m, (long long)op->ldx,
			(long long)op->ldy, (long long)w->n, (long long)w->k);
	return 0;
}

/* Can op i read the activations op i - 1 staged? */
static int shares_input(const struct job *j, int i)
{
	const struct amxrt_matmul_op *a = &j->op[i - 1], *b = &j->op[i];

	return a->x == b->x && a->ldx == b->ldx && a->rows == b->rows &&
	       a->m == b->m && a->w->k == b->w->k && a->w->kp == b->w->kp &&
	       j->kern[i - 1]->act == j->kern[i]->act &&
	       j->kern[i - 1]->stage_q8 == j->kern[i]->stage_q8;
}

int amxrt_matmul_batch(const struct amxrt_matmul_op *op, int n)
{
	struct job j = { .op = op, .n = n };
	int64_t rows = 0, panels = 0, nstage = 0, nchunk = 0, per;
	int i, r, nth = amxrt_threads(), nact = 0, err, gemv_only = 1;

	if (n < 1 || n > AMXRT_MATMUL_BATCH_MAX || !op)
		return amxrt_err(EINVAL, "matmul: a batch of %d", n);
	for (i = 0; i < n; i++) {
		err = check_op(&op[i]);
		if (err)
			return err;
		j.kern[i] = pick(op[i].w, op[i].m);
		if (!j.kern[i])
			return amxrt_err(ENOTSUP,
					 "matmul: path %s has no kernel for %s",
					 amxrt_isa_name(op[i].w->isa),
					 amxrt_type_name(op[i].w->type));
		if (i && shares_input(&j, i)) {
			j.act[i] = j.act[i - 1];
			j.staged_by[i] = j.staged_by[i - 1];
		} else {
			err = amxrt_act_reserve(&act_ws[nact], j.kern[i]->act,
						op[i].m, op[i].w->kp);
			if (err)
				return err;
			j.act[i] = &act_ws[nact++];
			j.staged_by[i] = i;
			rows += op[i].m;
		}
		panels += op[i].w->np;
		gemv_only &= op[i].m == 1;
		if (split(op[i].w) && op[i].w->n_views > j.n_ranges)
			j.n_ranges = op[i].w->n_views;
	}
	if (!j.n_ranges)
		j.n_ranges = 1;

	/* 1: stage each distinct input */
	for (i = 0; i < n; i++) {
		j.stage0[i] = nstage;
		if (j.staged_by[i] == i)
			nstage += (j.act[i]->mp + STAGE_ROWS - 1) / STAGE_ROWS;
	}
	j.stage0[n] = nstage;
	if (rows <= STAGE_ALONE_ROWS) {
		/*
		 * a few rows: quicker than waking anyone; M = 1 kernels
		 * read their one row only, so its 15 rows of padding (38
		 * KiB of zeros for K = 2048, every decode matmul) are left
		 */
		for (i = 0; i < n; i++)
			if (j.staged_by[i] == i)
				stage_rows(&j, i, 0,
					   gemv_only ? 1 : j.act[i]->mp);
	} else {
		err = amxrt_pool_for(stage_chunk, &j, nstage);
		if (err)
			return err;
	}

	/* 2: the panels of every weight, in chunks of a few panels */
	per = panels / ((int64_t)nth * CHUNKS_PER_THREAD);
	per = per < 1 ? 1 : (per > MAX_CHUNK_PANELS ? MAX_CHUNK_PANELS : per);
	if (gemv_only)
		/*
		 * M = 1 is memory-bound and streams several panels at once
		 * (4, or 8 on short rows): chunks of fewer panels would read
		 * them one stream at a time.
		 */
		per = per == MAX_CHUNK_PANELS ? per : GEMV_CHUNK_PANELS;
	if (gemv_only && panels < (int64_t)nth * per)
		/*
		 * A small weight (a MoE router: 32 x 2048 f32, two panels)
		 * would be one chunk, read by one thread while the others
		 * wait: give every thread a share instead.
		 */
		per = (panels + nth - 1) / nth;
	j.panels = per;
	for (r = 0; r < j.n_ranges; r++) {
		j.first[r] = nchunk;
		for (i = 0; i < n; i++) {
			const struct amxrt_weight *w = op[i].w;
			int64_t np =
				split(w) ?
					(r < w->n_views ? w->views[r].np : 0) :
					(r ? 0 : w->np);

			j.chunk0[r][i] = nchunk;
			nchunk += (np + per - 1) / per;
		}
		j.chunk0[r][n] = nchunk;
	}
	j.first[j.n_ranges] = nchunk;
	return amxrt_pool_for_nodes(panel_chunk, &j, j.first + 1, j.n_ranges);
}

int amxrt_matmul(const struct amxrt_weight *w, const float *x, int64_t ldx,
		 float *y, int64_t ldy, int64_t m)
{
	struct amxrt_matmul_op op = {
		.w = w, .x = x, .ldx = ldx, .y = y, .ldy = ldy, .m = m
	};

	return amxrt_matmul_batch(&op, 1);
}
