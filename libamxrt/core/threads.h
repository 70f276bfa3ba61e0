/* SPDX-License-Identifier: MIT */
/*
 * threads.h - the worker pool that splits work over threads. Internal.
 */
#ifndef AMXRT_CORE_THREADS_H
#define AMXRT_CORE_THREADS_H

#include <stdint.h>

/*
 * A task runs once on each of nth threads (ith = 0 .. nth-1, the caller
 * being 0), with that thread's AMXRT_SCRATCH_BYTES of scratch.
 */
typedef void (*amxrt_task_fn)(void *ctx, int ith, int nth, void *scratch);

/*
 * Run fn on every pool thread and return when all have finished. Calls
 * from several application threads are serialized. Returns 0, or -ENOMEM /
 * -EAGAIN if the pool could not be started (fn has not run then).
 */
int amxrt_pool_run(amxrt_task_fn fn, void *ctx);

/*
 * A chunk of a amxrt_pool_for() job: chunk is 0 .. n_chunks-1, scratch the
 * running thread's AMXRT_SCRATCH_BYTES.
 */
typedef void (*amxrt_chunk_fn)(void *ctx, int64_t chunk, void *scratch);

/*
 * Run fn once for every chunk 0 .. n_chunks-1, chunks claimed by whichever
 * pool thread is free (the caller included), in no particular order, and
 * return when all are done. Chunks must be independent: a thread may run
 * any number of them, another none. Same errors as amxrt_pool_run().
 */
int amxrt_pool_for(amxrt_chunk_fn fn, void *ctx, int64_t n_chunks);

/*
 * As amxrt_pool_for(), with the chunks cut into n_ranges ranges, one per
 * NUMA node index: range r is [end[r - 1], end[r]) (end[-1] = 0), and
 * end[n_ranges - 1] chunks in all. A thread claims the chunks of its own
 * node's range first, then those of the others. 1 <= n_ranges <=
 * AMXRT_NUMA_MAX_NODES, else -EINVAL.
 */
int amxrt_pool_for_nodes(amxrt_chunk_fn fn, void *ctx, const int64_t *end,
			 int n_ranges);

/* Stop the pool's threads; the next job starts them again (pinned as the
 * NUMA mode then says). */
void amxrt_pool_restart(void);

#endif /* AMXRT_CORE_THREADS_H */
