/* SPDX-License-Identifier: MIT */
/*
 * amxrt/numa.h - NUMA: the machine's nodes, where the library's threads
 * run and where packed weights are placed.
 *
 * One process-wide mode, set with amxrt_set_numa() before the model is
 * loaded (weights are placed when they are packed, never moved later):
 *
 *   off         nothing pinned, weights where the kernel puts them
 *   isolate     every pool thread on the CPUs of one node, weights there
 *   distribute  pool threads spread over the nodes (each pinned to its
 *               node's CPUs); each weight's panels cut into one
 *               contiguous range per node, placed on that node; a thread
 *               computes its node's range first, then helps the others
 *   mirror      pool threads spread over the nodes; one copy of each
 *               packed weight per node, each thread reads its node's copy
 *
 * Results are bit-identical in every mode and for any thread count.
 * Without NUMA support (numa_available() < 0) the machine is one node and
 * no mode binds or pins anything (the topology's note says so).
 */
#ifndef AMXRT_NUMA_H
#define AMXRT_NUMA_H

#include <stdint.h>

#include <amxrt/model.h>

#ifdef __cplusplus
extern "C" {
#endif

#pragma GCC visibility push(default)

enum amxrt_numa {
	AMXRT_NUMA_OFF = 0,
	AMXRT_NUMA_DISTRIBUTE = 1,
	AMXRT_NUMA_ISOLATE = 2,
	AMXRT_NUMA_MIRROR = 3,
};

/* Nodes the library uses at most (the first ones with CPUs and memory). */
#define AMXRT_NUMA_MAX_NODES 8

/* "off", "distribute", "isolate", "mirror"; NULL for another value. */
const char *amxrt_numa_name(enum amxrt_numa mode);
/* The mode named s; 0, or -EINVAL naming the choices. */
int amxrt_numa_parse(const char *s, enum amxrt_numa *mode);

/*
 * Set the mode for threads started and weights placed from now on (the
 * pool restarts on its next job). node: isolate's node (-1: the first
 * node); must be -1 for the other modes. 0, or -EINVAL (a bad mode, or a
 * node without CPUs or memory).
 */
int amxrt_set_numa(enum amxrt_numa mode, int node);
/* The mode in force, and isolate's node in *node (may be NULL). */
enum amxrt_numa amxrt_numa_mode(int *node);

struct amxrt_numa_node {
	int node; /* the kernel's node number */
	int n_cpus;
	char cpus[128]; /* CPU list, e.g. "0-7,16-23" */
	uint64_t mem_bytes; /* memory of the node, 0 if unknown */
};

struct amxrt_numa_topology {
	int available; /* 1: libnuma works (numa_available() >= 0) */
	int n_nodes; /* nodes used (with CPUs and memory), at least 1 */
	int n_nodes_all; /* nodes the kernel reports */
	struct amxrt_numa_node nodes[AMXRT_NUMA_MAX_NODES];
	char note[160]; /* "" or why the machine counts as one node */
};

/* The machine's nodes as the library uses them; 0 or -errno. */
int amxrt_numa_topology(struct amxrt_numa_topology *out);

/*
 * What mode (with isolate's node) would do here, in one line: which
 * threads go where and where weights are placed. 0 or -EINVAL.
 */
int amxrt_numa_describe(enum amxrt_numa mode, int node, int n_threads,
			char *buf, size_t len);

/*
 * Pin the calling thread as the pool's first thread (the caller of every
 * job) would be pinned in the current mode: a program that runs the
 * model from one thread calls it once. 0 (nothing to do in off mode), or
 * -errno if the affinity could not be set.
 */
int amxrt_numa_pin_caller(void);

/* One pool thread, as seen from inside it. */
struct amxrt_thread_pin {
	int thread; /* 0: the calling thread, 1..: workers */
	int node; /* node it was pinned to, -1 if not pinned */
	int cpu; /* the CPU it ran on when asked */
	int cpu_node; /* that CPU's node */
	char cpus[128]; /* its affinity (sched_getaffinity), as a CPU list */
	char error[96]; /* "" or why pinning failed */
};

/*
 * Start the pool if needed and ask each of its threads, from inside it,
 * where it runs: out[0 .. min(n, max) - 1]. Returns n, the number of
 * threads, or -errno.
 */
int amxrt_numa_threads(struct amxrt_thread_pin *out, int max);

/* Where a model's packed weights' pages are (move_pages), per mode. */
struct amxrt_numa_report {
	enum amxrt_numa mode; /* the mode the model was loaded with */
	int node; /* isolate's node, else -1 */
	int n_weights; /* packed weights */
	int n_parts; /* distribute: ranges per weight; mirror: copies */
	uint64_t pages; /* pages of packed weights, every copy counted */
	uint64_t pages_home; /* on the node they were placed for */
	uint64_t pages_away; /* on another node */
	uint64_t pages_unknown; /* not reported by move_pages */
	uint64_t node_bytes[AMXRT_NUMA_MAX_NODES]; /* bytes placed per node
						    * index (topology order) */
};

/* Fill *out for m; 0 or -errno. */
int amxrt_model_numa(const struct amxrt_model *m,
		     struct amxrt_numa_report *out);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif

#endif /* AMXRT_NUMA_H */
