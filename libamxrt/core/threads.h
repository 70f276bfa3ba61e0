/* SPDX-License-Identifier: MIT */
/*
 * threads.h - the worker pool that splits a matmul over threads. Internal.
 */
#ifndef AMXRT_CORE_THREADS_H
#define AMXRT_CORE_THREADS_H

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

#endif /* AMXRT_CORE_THREADS_H */
