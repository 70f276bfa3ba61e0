/* SPDX-License-Identifier: MIT */
/*
 * numa.h - the NUMA layer's interface to the thread pool and the weights:
 * node indexes (0 .. amxrt_numa_nodes() - 1, the used nodes in order),
 * which node each pool thread belongs to, and memory placed on a node.
 * Internal.
 */
#ifndef AMXRT_NUMA_NUMA_H
#define AMXRT_NUMA_NUMA_H

#include <sched.h>
#include <stddef.h>
#include <stdint.h>

#include <amxrt/numa.h>

/* Nodes in use (1 without NUMA support). */
int amxrt_numa_nodes(void);
/* The kernel's node number of node index idx. */
int amxrt_numa_node_id(int idx);

/*
 * Pin the calling thread as pool thread ith of nth in the current mode
 * (to the CPUs of its node; nothing in off mode or without NUMA support)
 * and remember its node index. 0, or -errno (then it is not pinned, and
 * amxrt_numa_threads() reports why).
 */
int amxrt_numa_pin_self(int ith, int nth);
/* The calling thread's node index: its pinned node, else the node of the
 * CPU it runs on now; 0 .. amxrt_numa_nodes() - 1. */
int amxrt_numa_self(void);
/* The calling thread's pinned node index, or -1. */
int amxrt_numa_self_pinned(void);

/*
 * How weights packed now are placed: the mode, the node index for
 * isolate, and the number of node indexes (ranges or copies) for
 * distribute and mirror.
 */
void amxrt_numa_weight_plan(enum amxrt_numa *mode, int *idx, int *n);

/*
 * Bind [p, p + bytes) (page-aligned, not yet touched) to node index idx,
 * so its pages come from there when first written; nothing for idx -1 or
 * without libnuma. 0 or -errno with amxrt_err() set.
 */
int amxrt_numa_bind(void *p, size_t bytes, int idx);

/* Count the pages of [p, p + bytes) on node index idx, elsewhere, and
 * unknown to move_pages (not yet touched, or no NUMA support). */
void amxrt_numa_count_pages(const void *p, size_t bytes, int idx,
			    uint64_t *home, uint64_t *away, uint64_t *unknown);

#endif /* AMXRT_NUMA_NUMA_H */
