// SPDX-License-Identifier: MIT
/*
 * threads.c - a small persistent pthread pool.
 *
 * Why pthreads and not OpenMP: the pool must be created once, resized on
 * request (amxrt_set_threads), give each thread a scratch area allocated
 * up front (no allocation in the hot loop), and be safe to call from any
 * application thread; libgomp gives none of that control and adds a
 * runtime dependency to every embedding program.
 *
 * Two kinds of run share one mechanism. amxrt_pool_run() gives each of the
 * nth threads exactly one call (ith = 0 .. nth-1) and waits for all of
 * them: for work that needs every thread at once. amxrt_pool_for() cuts
 * the work into chunks and returns as soon as every chunk is done. Each
 * thread has a share, a contiguous run of chunks (thread i of n: chunks
 * [N i / n, N (i + 1) / n)), that it claims one by one from its own
 * counter, in order; then it claims what is left of the others' shares.
 * A thread thus reads one stream of memory (its part of a weight) rather
 * than every other chunk: decoding up to 4% faster (Q8_0 the same),
 * prefill 2-7% (Documentation/benchmarks.md). And on a machine whose
 * cores are shared (a VM, other processes), a thread may lose its CPU for
 * milliseconds; with fixed shares the others would wait for it, with
 * claimed chunks they do its work instead. (A job cut into NUMA node
 * ranges, amxrt_pool_for_nodes(), has one counter per range instead.)
 *
 * A run publishes the job and bumps a generation counter. Workers spin on
 * the counter for a short while (decode steps come microseconds apart) and
 * then sleep on a condition variable. A worker that wakes up late must not
 * claim from a job while the caller is already setting up the next one
 * (resetting the counters): it could run a chunk twice, or count as done
 * a chunk still running. So it announces itself in `active` and then
 * checks that its generation is still open; the caller closes the
 * generation and then waits for `active` to drain before it returns. With
 * sequentially consistent operations on both sides, either the caller
 * sees the worker (and waits) or the worker sees the close.
 *
 * NUMA (numa/numa.c): each worker pins itself to its node's CPUs when it
 * starts, as the mode in force says. amxrt_pool_for_nodes() gives each
 * node its own range of chunks with its own counter: a thread claims its
 * node's chunks first, then helps the other nodes (work stealing), so a
 * busy node never waits for an idle one.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <amxrt/amxrt.h>

#include "../kernels/kernels.h"
#include "../numa/numa.h"
#include "error.h"
#include "threads.h"

/* Pauses a worker spins for new work before it sleeps. */
#define SPIN_ROUNDS 20000
/* Pauses the caller spins for the others before it yields its CPU. */
#define WAIT_SPINS 4000

struct worker {
	pthread_t tid;
	int ith, nth;
	unsigned int seen; /* the last run generation this worker looked at */
	void *scratch;
	/* a one-range job: this thread's share, chunks [next, end) */
	_Alignas(64) atomic_llong next;
	int64_t end;
};

static struct {
	pthread_mutex_t run_lock; /* serializes runs and resizing */
	pthread_mutex_t lock; /* protects sleeping workers' wakeup */
	pthread_cond_t wake;
	int nth; /* threads including the caller; 0 = not started */
	int want; /* requested by amxrt_set_threads; 0 = auto */
	struct worker *workers; /* nth entries; [0] is the caller's slot */
	/* the job of the open generation */
	amxrt_task_fn fn; /* amxrt_pool_run, or NULL */
	amxrt_chunk_fn cfn; /* amxrt_pool_for, or NULL */
	void *ctx;
	int64_t n_chunks;
	int n_ranges; /* amxrt_pool_for_nodes: ranges of chunks */
	/* range r: chunks [next[r], end[r]) still to claim */
	struct {
		_Alignas(64) atomic_llong next;
		int64_t end;
	} range[AMXRT_NUMA_MAX_NODES];
	atomic_llong done; /* chunks finished */
	atomic_int pending; /* amxrt_pool_run: workers still to finish */
	atomic_uint gen; /* bumped per run */
	atomic_uint closed; /* the last generation whose job is over */
	atomic_int active; /* workers inside a job */
	atomic_int quit;
} pool = {
	.run_lock = PTHREAD_MUTEX_INITIALIZER,
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.wake = PTHREAD_COND_INITIALIZER,
};

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

/*
 * Claim and run chunks [next, end) of the open job; returns how many. A
 * plain load first: a share already used up costs no locked add (on many
 * cores each thread looks at every other's share at the end of a job).
 */
static int64_t claim(atomic_llong *next, int64_t end, void *scratch)
{
	int64_t n = 0;
	long long i;

	while (atomic_load_explicit(next, memory_order_relaxed) < end &&
	       (i = atomic_fetch_add_explicit(next, 1, memory_order_relaxed)) <
		       end) {
		pool.cfn(pool.ctx, i, scratch);
		n++;
	}
	return n;
}

/*
 * Run chunks of the open job until none is left. One range: thread ith's
 * own share first, then what is left of the others'. Several (NUMA
 * nodes): the thread's node's range first, then the others in turn. The
 * chunks run are counted as done once, at the end: the caller waits for
 * all of them anyway, and one shared counter bumped per chunk would move
 * its cache line between the cores at every chunk.
 */
static void run_chunks(int ith, void *scratch)
{
	int64_t n = 0;
	int k, r;

	if (pool.n_ranges == 1) {
		for (k = 0; k < pool.nth; k++) {
			struct worker *w = &pool.workers[(ith + k) % pool.nth];

			n += claim(&w->next, w->end, scratch);
		}
	} else {
		r = amxrt_numa_self();
		for (k = 0; k < pool.n_ranges; k++)
			n += claim(&pool.range[(r + k) % pool.n_ranges].next,
				   pool.range[(r + k) % pool.n_ranges].end,
				   scratch);
	}
	if (n)
		atomic_fetch_add_explicit(&pool.done, n, memory_order_release);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	unsigned int seen = w->seen;

	/* a failure is reported by amxrt_numa_threads(); the thread runs
	 * unpinned */
	amxrt_numa_pin_self(w->ith, w->nth);
	for (;;) {
		unsigned int g;
		int spins = 0;

		while ((g = atomic_load_explicit(
				&pool.gen, memory_order_acquire)) == seen &&
		       !atomic_load(&pool.quit)) {
			if (++spins < SPIN_ROUNDS) {
				cpu_relax();
				continue;
			}
			pthread_mutex_lock(&pool.lock);
			while (atomic_load(&pool.gen) == seen &&
			       !atomic_load(&pool.quit))
				pthread_cond_wait(&pool.wake, &pool.lock);
			pthread_mutex_unlock(&pool.lock);
		}
		if (atomic_load(&pool.quit))
			return NULL;
		seen = g;
		atomic_fetch_add(&pool.active, 1);
		if (atomic_load(&pool.gen) == g &&
		    atomic_load(&pool.closed) != g) {
			if (pool.fn) {
				pool.fn(pool.ctx, w->ith, pool.nth, w->scratch);
				atomic_fetch_sub_explicit(&pool.pending, 1,
							  memory_order_release);
			} else {
				run_chunks(w->ith, w->scratch);
			}
		}
		atomic_fetch_sub_explicit(&pool.active, 1,
					  memory_order_release);
	}
}

static void pool_stop(void)
{
	int i;

	if (!pool.nth)
		return;
	pthread_mutex_lock(&pool.lock);
	atomic_store(&pool.quit, 1);
	pthread_cond_broadcast(&pool.wake);
	pthread_mutex_unlock(&pool.lock);
	for (i = 1; i < pool.nth; i++)
		pthread_join(pool.workers[i].tid, NULL);
	for (i = 0; i < pool.nth; i++)
		free(pool.workers[i].scratch);
	free(pool.workers);
	pool.workers = NULL;
	pool.nth = 0;
	atomic_store(&pool.quit, 0);
}

static int online_cpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n > 0 ? (int)n : 1;
}

/* Called with run_lock held. */
static int pool_start(int nth)
{
	int i, err;

	/* aligned: each worker's share counter has its own cache line */
	pool.workers = aligned_alloc(_Alignof(struct worker),
				     (size_t)nth * sizeof(*pool.workers));
	if (!pool.workers)
		return amxrt_err(ENOMEM, "thread pool: out of memory");
	memset(pool.workers, 0, (size_t)nth * sizeof(*pool.workers));
	for (i = 0; i < nth; i++) {
		pool.workers[i].ith = i;
		pool.workers[i].nth = nth;
		pool.workers[i].scratch =
			aligned_alloc(AMXRT_ALIGN, AMXRT_SCRATCH_BYTES);
		if (!pool.workers[i].scratch)
			goto fail_alloc;
	}
	pool.nth = 1;
	for (i = 1; i < nth; i++) {
		/* a restarted pool must not rerun the last generation */
		pool.workers[i].seen = atomic_load(&pool.gen);
		err = pthread_create(&pool.workers[i].tid, NULL, worker_main,
				     &pool.workers[i]);
		if (err) {
			pool_stop();
			return amxrt_err(
				EAGAIN,
				"thread pool: cannot start thread %d: %s", i,
				strerror(err));
		}
		pool.nth = i + 1;
	}
	return 0;

fail_alloc:
	for (i = 0; i < nth; i++)
		free(pool.workers[i].scratch);
	free(pool.workers);
	pool.workers = NULL;
	return amxrt_err(ENOMEM, "thread pool: out of memory for scratch");
}

/* Called with run_lock held. */
static int ensure_started(void)
{
	return pool.nth ? 0 : pool_start(pool.want ? pool.want : online_cpus());
}

/* Called with run_lock held, the job's fields set: wake the workers. */
static void publish(void)
{
	int r;

	/* the chunks' counters; the release of gen below publishes them */
	if (pool.n_ranges == 1)
		for (r = 0; r < pool.nth; r++) {
			atomic_store_explicit(&pool.workers[r].next,
					      pool.n_chunks * r / pool.nth,
					      memory_order_relaxed);
			pool.workers[r].end =
				pool.n_chunks * (r + 1) / pool.nth;
		}
	else
		for (r = 0; r < pool.n_ranges; r++)
			atomic_store_explicit(&pool.range[r].next,
					      r ? pool.range[r - 1].end : 0,
					      memory_order_relaxed);
	atomic_store(&pool.done, 0);
	atomic_store(&pool.pending, pool.nth - 1);
	if (pool.nth > 1) {
		pthread_mutex_lock(&pool.lock);
		atomic_fetch_add_explicit(&pool.gen, 1, memory_order_release);
		pthread_cond_broadcast(&pool.wake);
		pthread_mutex_unlock(&pool.lock);
	}
}

/* Spin a little, then give the CPU to whoever we wait for. */
static void wait_step(int *spins)
{
	if (++*spins < WAIT_SPINS)
		cpu_relax();
	else
		sched_yield();
}

/* Called with run_lock held, after the caller's own share. */
static void finish(void)
{
	int spins = 0;

	if (pool.nth < 2)
		return;
	if (pool.fn) {
		while (atomic_load_explicit(&pool.pending,
					    memory_order_acquire))
			wait_step(&spins);
	} else {
		while (atomic_load_explicit(&pool.done, memory_order_acquire) <
		       pool.n_chunks)
			wait_step(&spins);
	}
	atomic_store(&pool.closed, atomic_load(&pool.gen));
	while (atomic_load(&pool.active))
		wait_step(&spins);
}

int amxrt_pool_run(amxrt_task_fn fn, void *ctx)
{
	int err;

	pthread_mutex_lock(&pool.run_lock);
	err = ensure_started();
	if (!err) {
		pool.fn = fn;
		pool.cfn = NULL;
		pool.ctx = ctx;
		pool.n_chunks = 0;
		pool.n_ranges = 0;
		publish();
		fn(ctx, 0, pool.nth, pool.workers[0].scratch);
		finish();
	}
	pthread_mutex_unlock(&pool.run_lock);
	return err;
}

int amxrt_pool_for(amxrt_chunk_fn fn, void *ctx, int64_t n_chunks)
{
	return amxrt_pool_for_nodes(fn, ctx, &n_chunks, 1);
}

int amxrt_pool_for_nodes(amxrt_chunk_fn fn, void *ctx, const int64_t *end,
			 int n_ranges)
{
	int64_t i, n_chunks;
	int err, r;

	if (n_ranges < 1 || n_ranges > AMXRT_NUMA_MAX_NODES)
		return amxrt_err(EINVAL, "thread pool: %d ranges (1..%d)",
				 n_ranges, AMXRT_NUMA_MAX_NODES);
	n_chunks = end[n_ranges - 1];
	if (n_chunks <= 0)
		return 0;
	pthread_mutex_lock(&pool.run_lock);
	err = ensure_started();
	if (err)
		goto out;
	if (n_chunks == 1 || pool.nth == 1) {
		/* nothing to share: no wakeup, no wait */
		for (i = 0; i < n_chunks; i++)
			fn(ctx, i, pool.workers[0].scratch);
		goto out;
	}
	pool.fn = NULL;
	pool.cfn = fn;
	pool.ctx = ctx;
	pool.n_chunks = n_chunks;
	pool.n_ranges = n_ranges;
	for (r = 0; r < n_ranges; r++)
		pool.range[r].end = end[r];
	publish();
	run_chunks(0, pool.workers[0].scratch);
	finish();
out:
	pthread_mutex_unlock(&pool.run_lock);
	return err;
}

void amxrt_pool_restart(void)
{
	pthread_mutex_lock(&pool.run_lock);
	pool_stop();
	pthread_mutex_unlock(&pool.run_lock);
}

int amxrt_set_threads(int n)
{
	if (n < 0 || n > 4096)
		return amxrt_err(EINVAL, "threads: %d is not in 0..4096", n);
	pthread_mutex_lock(&pool.run_lock);
	pool.want = n;
	if (pool.nth && pool.nth != (n ? n : online_cpus()))
		pool_stop();
	pthread_mutex_unlock(&pool.run_lock);
	return 0;
}

int amxrt_threads(void)
{
	int n;

	pthread_mutex_lock(&pool.run_lock);
	n = pool.nth ? pool.nth : (pool.want ? pool.want : online_cpus());
	pthread_mutex_unlock(&pool.run_lock);
	return n;
}
