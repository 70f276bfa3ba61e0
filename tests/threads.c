// SPDX-License-Identifier: MIT
/*
 * Description: the thread pool (libamxrt/core/threads.c). amxrt_pool_for
 * runs every chunk exactly once for any chunk count and thread count;
 * chunks are claimed, not assigned (a chunk that waits for all the others
 * still finishes: the other threads took them); each thread begins with
 * the first chunk of its own share (thread i of n: chunk N i / n), for 2
 * to 4 threads and odd chunk counts; back to back, 20000 jobs of
 * one to three chunks on the caller's stack each run every chunk exactly
 * once and never after amxrt_pool_for returned (a late worker must not
 * claim from a job being set up); amxrt_pool_run gives each thread
 * exactly one call, all at once;
 * a batch of matmuls gives the bits of separate amxrt_matmul() calls with
 * 1, 2 and 3 threads; ops that read their rows through an index (a MoE
 * expert's tokens) give the bits of a matmul of those rows copied out,
 * for every staging kind, and two ops on one input with different rows
 * are staged apart.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kselftest_harness.h"
#include "helpers.h"

#include <amxrt/amxrt.h>

#include "../libamxrt/core/threads.h"
#include "../libamxrt/kernels/kernels.h"

struct count_job {
	atomic_int *hits;
	atomic_int alive; /* 1 while amxrt_pool_for runs this job */
	atomic_int stale; /* chunks run on a dead job */
};

static atomic_int stale_total;

static void count_chunk(void *ctx, int64_t chunk, void *scratch)
{
	struct count_job *j = ctx;

	if (!atomic_load(&j->alive) || !scratch)
		atomic_fetch_add(&stale_total, 1);
	atomic_fetch_add(&j->hits[chunk], 1);
}

TEST(every_chunk_once)
{
	static const int64_t counts[] = { 1, 2, 3, 7, 64, 1000, 100003 };
	int th;
	size_t c;

	for (th = 1; th <= 4; th++) {
		ASSERT_EQ(0, amxrt_set_threads(th));
		for (c = 0; c < sizeof(counts) / sizeof(counts[0]); c++) {
			int64_t n = counts[c], i, bad = 0;
			struct count_job j = { 0 };

			j.hits = calloc((size_t)n, sizeof(*j.hits));
			ASSERT_NE(NULL, j.hits);
			atomic_store(&j.alive, 1);
			ASSERT_EQ(0, amxrt_pool_for(count_chunk, &j, n));
			atomic_store(&j.alive, 0);
			for (i = 0; i < n; i++)
				bad += atomic_load(&j.hits[i]) != 1;
			EXPECT_EQ(0, bad)
			TH_LOG("%d threads, %lld chunks: %lld not run once", th,
			       (long long)n, (long long)bad);
			free(j.hits);
		}
	}
	EXPECT_EQ(0, amxrt_pool_for(count_chunk, NULL, 0));
	EXPECT_EQ(0, atomic_load(&stale_total));
	amxrt_set_threads(0);
}

/* Chunk 0 waits until every other chunk is done: only claiming lets the
 * job end (with fixed shares, chunk 0's thread would own others too). */
struct wait_job {
	int64_t n;
	atomic_llong done;
};

static void wait_chunk(void *ctx, int64_t chunk, void *scratch)
{
	struct wait_job *j = ctx;

	if (chunk == 0) {
		while (atomic_load(&j->done) < j->n - 1)
			;
	} else {
		atomic_fetch_add(&j->done, 1);
	}
}

TEST(chunks_are_claimed)
{
	int th;

	for (th = 2; th <= 3; th++) {
		struct wait_job j = { .n = 64 };

		ASSERT_EQ(0, amxrt_set_threads(th));
		ASSERT_EQ(0, amxrt_pool_for(wait_chunk, &j, j.n));
		EXPECT_EQ(j.n - 1, atomic_load(&j.done));
	}
	amxrt_set_threads(0);
}

/*
 * Each thread's first chunk waits until every thread has begun one, so no
 * thread can finish its share and help another before all have claimed:
 * the first chunks are then exactly the shares' first chunks.
 */
struct first_job {
	int nth;
	atomic_int arrived;
	atomic_llong first[4]; /* by thread, -1: none yet */
	void *scratch[4];
	atomic_int timed_out;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* amxrt_pool_run: learn which scratch area is thread ith's */
static void name_scratch(void *ctx, int ith, int nth, void *scratch)
{
	struct first_job *j = ctx;

	(void)nth;
	j->scratch[ith] = scratch;
}

static void first_chunk(void *ctx, int64_t chunk, void *scratch)
{
	struct first_job *j = ctx;
	double t0 = now_s();
	int t;

	for (t = 0; t < j->nth && j->scratch[t] != scratch; t++)
		;
	if (t == j->nth || atomic_load(&j->first[t]) >= 0)
		return;
	atomic_store(&j->first[t], chunk);
	atomic_fetch_add(&j->arrived, 1);
	while (atomic_load(&j->arrived) < j->nth)
		if (now_s() - t0 > 10) {
			atomic_store(&j->timed_out, 1);
			return;
		}
}

TEST(own_share_first)
{
	int th, t, k;

	for (th = 2; th <= 4; th++) {
		ASSERT_EQ(0, amxrt_set_threads(th));
		for (k = 0; k < 20; k++) {
			struct first_job j = { .nth = th };
			int64_t n = 61 + k, want;
			int seen = 0;

			ASSERT_EQ(0, amxrt_pool_run(name_scratch, &j));
			for (t = 0; t < th; t++) {
				atomic_store(&j.first[t], -1);
				ASSERT_NE(NULL, j.scratch[t]);
			}
			ASSERT_EQ(0, amxrt_pool_for(first_chunk, &j, n));
			ASSERT_EQ(0, atomic_load(&j.timed_out))
			TH_LOG("%d threads: not all of them ran a chunk "
			       "within 10 s",
			       th);
			for (t = 0; t < th; t++) {
				want = n * t / th;
				seen += atomic_load(&j.first[t]) == want;
				EXPECT_EQ(want, atomic_load(&j.first[t]))
				TH_LOG("%d threads, %lld chunks: thread %d "
				       "began with chunk %lld, not its share's "
				       "first, %lld",
				       th, (long long)n, t,
				       (long long)atomic_load(&j.first[t]),
				       (long long)want);
			}
			ASSERT_EQ(th, seen);
		}
	}
	amxrt_set_threads(0);
}

TEST(no_late_worker_touches_a_finished_job)
{
	int th, r;

	atomic_store(&stale_total, 0);
	for (th = 2; th <= 3; th++) {
		ASSERT_EQ(0, amxrt_set_threads(th));
		for (r = 0; r < 10000; r++) {
			atomic_int hits[3] = { 0 };
			struct count_job j = { .hits = hits };
			int64_t n = 1 + r % 3, i;

			atomic_store(&j.alive, 1);
			ASSERT_EQ(0, amxrt_pool_for(count_chunk, &j, n));
			atomic_store(&j.alive, 0);
			for (i = 0; i < n; i++)
				ASSERT_EQ(1, atomic_load(&hits[i]));
			/* the next job reuses this stack */
		}
	}
	EXPECT_EQ(0, atomic_load(&stale_total));
	amxrt_set_threads(0);
}

struct all_job {
	atomic_int arrived;
	atomic_int calls[8];
	int nth_seen;
};

static void all_task(void *ctx, int ith, int nth, void *scratch)
{
	struct all_job *j = ctx;

	atomic_fetch_add(&j->calls[ith], 1);
	j->nth_seen = nth;
	/* every thread must be in here at once, or this never ends */
	atomic_fetch_add(&j->arrived, 1);
	while (atomic_load(&j->arrived) < nth)
		;
}

TEST(pool_run_all_at_once)
{
	int th, i;

	for (th = 1; th <= 4; th++) {
		struct all_job j = { 0 };

		ASSERT_EQ(0, amxrt_set_threads(th));
		ASSERT_EQ(0, amxrt_pool_run(all_task, &j));
		EXPECT_EQ(th, j.nth_seen);
		for (i = 0; i < th; i++)
			EXPECT_EQ(1, atomic_load(&j.calls[i]));
	}
	amxrt_set_threads(0);
}

/* Q, K, V-like weights sharing one input, plus one with its own input:
 * the batch must give the bits of the separate calls, for any threads.
 * The third is Q8_0, whose activations have a scale per block where the
 * Q4_0 ones share one per group: the batch must stage the input twice. */
TEST(batch_equals_separate_calls)
{
	static const int64_t n[] = { 256, 64, 64, 80 };
	const int64_t k = 192, m = 37;
	struct amxrt_weight *w[4];
	float *x = test_matrix(m, k, 1.0f), *x2 = test_matrix(m, k, 1.0f);
	float *y[4], *ys[4];
	struct amxrt_matmul_op op[4];
	int i, th;

	for (i = 0; i < 4; i++) {
		enum amxrt_type type = i == 2 ? AMXRT_TYPE_Q8_0 :
						AMXRT_TYPE_Q4_0;
		float *wf = test_matrix(n[i], k, 0.05f);
		int64_t rb = amxrt_row_bytes(type, k);
		void *rows = malloc((size_t)(rb * n[i]));
		int64_t r;

		ASSERT_NE(NULL, rows);
		for (r = 0; r < n[i]; r++)
			ASSERT_EQ(0,
				  amxrt_quantize_row(type, wf + r * k,
						     (char *)rows + r * rb, k));
		ASSERT_EQ(0, amxrt_weight_pack(&w[i], type, n[i], k, rows, -1));
		y[i] = calloc((size_t)(m * n[i]), sizeof(float));
		ys[i] = calloc((size_t)(m * n[i]), sizeof(float));
		free(wf);
		free(rows);
	}
	for (th = 1; th <= 3; th++) {
		ASSERT_EQ(0, amxrt_set_threads(th));
		for (i = 0; i < 4; i++) {
			const float *in = i == 3 ? x2 : x;

			op[i] = (struct amxrt_matmul_op){ .w = w[i],
							  .x = in,
							  .ldx = k,
							  .y = y[i],
							  .ldy = n[i],
							  .m = m };
			ASSERT_EQ(0, amxrt_matmul(w[i], in, k, ys[i], n[i], m));
		}
		ASSERT_EQ(0, amxrt_matmul_batch(op, 4));
		for (i = 0; i < 4; i++)
			EXPECT_EQ(0,
				  memcmp(y[i], ys[i], sizeof(float) * m * n[i]))
		TH_LOG("weight %d, %d threads", i, th);
	}
	EXPECT_GT(0, amxrt_matmul_batch(op, 0));
	EXPECT_GT(0, amxrt_matmul_batch(op, AMXRT_MATMUL_BATCH_MAX + 1));
	op[1].m = 0;
	EXPECT_GT(0, amxrt_matmul_batch(op, 4));
	for (i = 0; i < 4; i++) {
		amxrt_weight_free(w[i]);
		free(y[i]);
		free(ys[i]);
	}
	free(x);
	free(x2);
	amxrt_set_threads(0);
}

/*
 * Ops with rows set read row r of X at x + rows[r] * ldx. Each pair of ops
 * shares x (rows of ldx = k + 40 floats) and takes different rows (out of
 * order, one repeated), in Q4_0, Q8_0, BF16 and F32 (the staging kinds of
 * the path in use: Q8 grouped and per block, bf16 where the path has it,
 * f32), for M from 1 (staged by the caller) to 23 (staged by the pool,
 * with padding): the bits must be those of amxrt_matmul() on the rows
 * copied out. Each op's list holds exactly M entries (read past them,
 * ASan reports it).
 */
TEST(batch_gathers_rows)
{
	static const enum amxrt_type types[] = { AMXRT_TYPE_Q4_0,
						 AMXRT_TYPE_Q8_0,
						 AMXRT_TYPE_BF16,
						 AMXRT_TYPE_F32 };
	static const int64_t ms[] = { 1, 5, 23 };
	const int64_t k = 160, ldx = k + 40, n = 48, xrows = 40;
	float *x = test_matrix(xrows, ldx, 1.0f);
	float *xg = malloc(sizeof(float) * 23 * k);
	float *y[2], *ys = malloc(sizeof(float) * 23 * n);
	int ti, mi, th, i, *rows[2];
	int64_t r;

	ASSERT_NE(NULL, xg);
	ASSERT_NE(NULL, ys);
	for (i = 0; i < 2; i++) {
		y[i] = malloc(sizeof(float) * 23 * n);
		ASSERT_NE(NULL, y[i]);
	}
	for (ti = 0; ti < 4; ti++) {
		struct amxrt_weight *w[2];

		for (i = 0; i < 2; i++) {
			float *wf = test_matrix(n, k, 0.05f);
			int64_t rb = amxrt_row_bytes(types[ti], k);
			char *raw = malloc((size_t)(rb * n));

			ASSERT_NE(NULL, raw);
			for (r = 0; r < n; r++)
				ASSERT_EQ(0, amxrt_quantize_row(
						     types[ti], wf + r * k,
						     raw + r * rb, k));
			ASSERT_EQ(0, amxrt_weight_pack(&w[i], types[ti], n, k,
						       raw, -1));
			free(wf);
			free(raw);
		}
		for (th = 1; th <= 2; th++) {
			ASSERT_EQ(0, amxrt_set_threads(th));
			for (mi = 0; mi < 3; mi++) {
				int64_t m = ms[mi];
				struct amxrt_matmul_op op[2];

				for (i = 0; i < 2; i++) {
					rows[i] = malloc(sizeof(int) * m);
					ASSERT_NE(NULL, rows[i]);
					for (r = 0; r < m; r++)
						rows[i][r] =
							(int)((r * (7 + 4 * i) +
							       3 * i) %
							      xrows);
					if (m > 4)
						rows[i][4] = rows[i][2];
					op[i] = (struct amxrt_matmul_op){
						.w = w[i],
						.x = x,
						.ldx = ldx,
						.y = y[i],
						.ldy = n,
						.m = m,
						.rows = rows[i]
					};
				}
				ASSERT_EQ(0, amxrt_matmul_batch(op, 2));
				for (i = 0; i < 2; i++) {
					for (r = 0; r < m; r++)
						memcpy(xg + r * k,
						       x + rows[i][r] * ldx,
						       sizeof(float) * k);
					ASSERT_EQ(0, amxrt_matmul(w[i], xg, k,
								  ys, n, m));
					EXPECT_EQ(0,
						  memcmp(y[i], ys,
							 sizeof(float) * m * n))
					TH_LOG("%s, m %lld, op %d, %d threads",
					       amxrt_type_name(types[ti]),
					       (long long)m, i, th);
					free(rows[i]);
				}
			}
		}
		for (i = 0; i < 2; i++)
			amxrt_weight_free(w[i]);
	}
	for (i = 0; i < 2; i++)
		free(y[i]);
	free(ys);
	free(xg);
	free(x);
	amxrt_set_threads(0);
}

TEST_HARNESS_MAIN
