/* SPDX-License-Identifier: MIT */
/*
 * amxrt/bench.h - what this machine can do at most, so that benchmarks can
 * say how close a kernel comes: the int8 multiply-accumulate peak and the
 * memory read bandwidth, both measured on the library's threads.
 */
#ifndef AMXRT_BENCH_H
#define AMXRT_BENCH_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#pragma GCC visibility push(default)

struct amxrt_limits {
	/*
	 * Int8 peak in tera-operations per second (a multiply-accumulate
	 * counts as 2), all threads together, register operands only, with
	 * many independent accumulator chains.
	 */
	double int8_tops;
	/* Read bandwidth from memory in GB/s (1e9 bytes), all threads. */
	double read_gbs;
	int threads; /* threads that ran (amxrt_threads()) */
	size_t read_bytes; /* size of the buffer streamed (>> LLC) */
	/*
	 * How each was measured, e.g. "avx512vnni vpdpbusd zmm",
	 * "avx2 vpmaddubsw+vpmaddwd+vpaddd ymm" or "scalar C" for int8, and
	 * "avx512 zmm loads" / "avx2 ymm loads" / "scalar loads" for read.
	 */
	char int8_how[64];
	char read_how[64];
};

/*
 * Measure the machine's limits on the thread pool (amxrt_set_threads()),
 * spending about seconds (0 < seconds <= 60) in all; each figure is the
 * best of several runs. Uses the widest instructions this CPU and OS
 * allow. Allocates, and frees before returning, a buffer of 1 GiB (less
 * if that cannot be had). Returns 0, or -EINVAL for a bad argument,
 * -ENOMEM, or the error of starting the pool.
 */
int amxrt_measure_limits(struct amxrt_limits *out, double seconds);

/*
 * Read buf once on the thread pool, each thread its share (whole 4 KiB
 * pages; a tail past the last one is not read), with the loads
 * amxrt_measure_limits() uses, and put the seconds it took in *seconds.
 * Nothing is evicted first: after evicting the caches it times a cold read
 * of as many bytes as a weight, the limit of one M = 1 matmul from memory
 * (which a long stream's bandwidth overstates for small weights: the
 * first lines' latency and the prefetchers' start count). buf is 64-byte
 * aligned. Returns 0, -EINVAL, or the error of starting the pool.
 */
int amxrt_time_read(const void *buf, size_t bytes, double *seconds);

struct amxrt_model;

/*
 * Read the matmul weights that one decode step of m reads, and nothing
 * else: in the order and the batches amxrt_decode() takes them (q, k and v
 * together, o, gate and up together, down; for a MoE layer the router,
 * then its first n_expert_used experts in the groups a token's experts
 * run in; the output last), each batch cut into chunks the pool's threads
 * claim, with the loads amxrt_measure_limits() uses. *seconds gets the
 * pass's time, *bytes (if not NULL) the bytes read. It is what memory
 * alone costs a token on this machine: a decode step set against it shows
 * how much its compute and synchronization add, where the long-stream
 * bandwidth of struct amxrt_limits also counts what a sequence of reads
 * of a few megabytes each cannot reach. Nothing is evicted first (a
 * model's weights are usually far larger than the caches). Returns 0,
 * -EINVAL, -ENOMEM, or the error of starting the pool.
 */
int amxrt_model_time_read(const struct amxrt_model *m, double *seconds,
			  uint64_t *bytes);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif

#endif /* AMXRT_BENCH_H */
