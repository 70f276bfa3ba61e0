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
 * A run publishes (fn, ctx) and bumps a generation counter. Workers spin on
 * the counter for a short while (decode steps come microseconds apart) and
 * then sleep on a condition variable. The caller works as thread 0 and
 * waits for the pending count to reach zero.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <amxrt/amxrt.h>

#include "../kernels/kernels.h"
#include "error.h"
#include "threads.h"

#define SPIN_ROUNDS 20000

struct worker {
	pthread_t tid;
	int ith;
	unsigned int seen; /* the last run generation this worker ran */
	void *scratch;
};

static struct {
	pthread_mutex_t run_lock; /* serializes amxrt_pool_run and resizing */
	pthread_mutex_t lock; /* protects sleeping workers' wakeup */
	pthread_cond_t wake;
	int nth; /* threads including the caller; 0 = not started */
	int want; /* requested by amxrt_set_threads; 0 = auto */
	struct worker *workers; /* nth entries; [0] is the caller's slot */
	amxrt_task_fn fn;
	void *ctx;
	atomic_uint gen; /* bumped per run */
	atomic_int pending; /* workers still busy in this run */
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

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	unsigned int seen = w->seen;

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
		pool.fn(pool.ctx, w->ith, pool.nth, w->scratch);
		atomic_fetch_sub_explicit(&pool.pending, 1,
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

	pool.workers = calloc((size_t)nth, sizeof(*pool.workers));
	if (!pool.workers)
		return amxrt_err(ENOMEM, "thread pool: out of memory");
	for (i = 0; i < nth; i++) {
		pool.workers[i].ith = i;
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

int amxrt_pool_run(amxrt_task_fn fn, void *ctx)
{
	int err = 0;

	pthread_mutex_lock(&pool.run_lock);
	if (!pool.nth) {
		err = pool_start(pool.want ? pool.want : online_cpus());
		if (err)
			goto out;
	}
	pool.fn = fn;
	pool.ctx = ctx;
	atomic_store(&pool.pending, pool.nth - 1);
	if (pool.nth > 1) {
		pthread_mutex_lock(&pool.lock);
		atomic_fetch_add_explicit(&pool.gen, 1, memory_order_release);
		pthread_cond_broadcast(&pool.wake);
		pthread_mutex_unlock(&pool.lock);
	}
	fn(ctx, 0, pool.nth, pool.workers[0].scratch);
	while (atomic_load_explicit(&pool.pending, memory_order_acquire))
		cpu_relax();
out:
	pthread_mutex_unlock(&pool.run_lock);
	return err;
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
