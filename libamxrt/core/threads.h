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

#endif /* AMXRT_CORE_THREADS_H */
