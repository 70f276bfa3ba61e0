// SPDX-License-Identifier: MIT
/*
 * numa.c - the NUMA mode (amxrt_set_numa), the machine's nodes as libnuma
 * reports them, pinning the pool's threads to their node's CPUs, memory
 * bound to a node (the arena layer's mbind), and where pages are
 * (move_pages).
 *
 * Nodes are used by index: the nodes that have both CPUs and memory, in
 * the kernel's order, at most AMXRT_NUMA_MAX_NODES. Without NUMA support
 * (numa_available() < 0) there is one node, index 0 = node 0, holding
 * every online CPU; nothing is bound or pinned then.
 */
#include <errno.h>
#include <numa.h>
#include <numaif.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <amxrt/amxrt.h>
#include <amxrt/numa.h>

#include "../arena/arena_int.h"
#include "../core/error.h"
#include "../core/threads.h"
#include "numa.h"

#define MAX_CPUS CPU_SETSIZE

static struct {
	pthread_once_t once;
	struct amxrt_numa_topology t;
	cpu_set_t cpus[AMXRT_NUMA_MAX_NODES];
	signed char cpu_idx[MAX_CPUS]; /* node index of each CPU, -1 */
	pthread_mutex_t lock;
	enum amxrt_numa mode;
	int iso; /* isolate's node index */
} numa = {
	.once = PTHREAD_ONCE_INIT,
	.lock = PTHREAD_MUTEX_INITIALIZER,
};

static _Thread_local int self_idx = -1;
static _Thread_local char pin_err[96];
static _Thread_local int caller_saved;
static _Thread_local cpu_set_t caller_mask;

static const char *const names[] = {
	[AMXRT_NUMA_OFF] = "off",
	[AMXRT_NUMA_DISTRIBUTE] = "distribute",
	[AMXRT_NUMA_ISOLATE] = "isolate",
	[AMXRT_NUMA_MIRROR] = "mirror",
};

/* A CPU set as a list: "0-3,8". */
static void cpu_list(const cpu_set_t *set, char *buf, size_t len)
{
	size_t o = 0;
	int c = 0, first;

	buf[0] = 0;
	while (c < MAX_CPUS && o < len) {
		if (!CPU_ISSET(c, set)) {
			c++;
			continue;
		}
		first = c;
		while (c + 1 < MAX_CPUS && CPU_ISSET(c + 1, set))
			c++;
		if (first == c)
			o += snprintf(buf + o, len - o, "%s%d", o ? "," : "",
				      c);
		else
			o += snprintf(buf + o, len - o, "%s%d-%d", o ? "," : "",
				      first, c);
		c++;
	}
}

static void one_node(const char *why)
{
	struct amxrt_numa_node *nd = &numa.t.nodes[0];
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	int c;

	numa.t.n_nodes = 1;
	nd->node = 0;
	CPU_ZERO(&numa.cpus[0]);
	for (c = 0; c < n && c < MAX_CPUS; c++) {
		CPU_SET(c, &numa.cpus[0]);
		numa.cpu_idx[c] = 0;
	}
	nd->n_cpus = CPU_COUNT(&numa.cpus[0]);
	cpu_list(&numa.cpus[0], nd->cpus, sizeof(nd->cpus));
	snprintf(numa.t.note, sizeof(numa.t.note), "%s", why);
}

static void topo_init(void)
{
	struct bitmask *bm;
	int node, max, c;

	memset(numa.cpu_idx, -1, sizeof(numa.cpu_idx));
	if (numa_available() < 0) {
		one_node("no NUMA support (numa_available() < 0): one node, "
			 "nothing bound or pinned");
		return;
	}
	numa.t.available = 1;
	max = numa_max_node();
	bm = numa_allocate_cpumask();
	for (node = 0; bm && node <= max; node++) {
		struct amxrt_numa_node *nd;
		cpu_set_t *set;
		int i = numa.t.n_nodes;

		if (!numa_bitmask_isbitset(numa_all_nodes_ptr, node))
			continue;
		numa.t.n_nodes_all++;
		if (i == AMXRT_NUMA_MAX_NODES || numa_node_to_cpus(node, bm) ||
		    !numa_bitmask_weight(bm))
			continue;
		nd = &numa.t.nodes[i];
		set = &numa.cpus[i];
		CPU_ZERO(set);
		for (c = 0; c < MAX_CPUS && (unsigned int)c < bm->size; c++)
			if (numa_bitmask_isbitset(bm, c)) {
				CPU_SET(c, set);
				numa.cpu_idx[c] = (signed char)i;
			}
		nd->node = node;
		nd->n_cpus = CPU_COUNT(set);
		cpu_list(set, nd->cpus, sizeof(nd->cpus));
		nd->mem_bytes = (uint64_t)numa_node_size64(node, NULL);
		numa.t.n_nodes++;
	}
	if (bm)
		numa_free_cpumask(bm);
	if (!numa.t.n_nodes) {
		memset(numa.cpu_idx, -1, sizeof(numa.cpu_idx));
		one_node("libnuma reports no node with CPUs and memory: one "
			 "node, nothing bound or pinned");
		numa.t.available = 0;
	}
}

static void init(void)
{
	pthread_once(&numa.once, topo_init);
}

int amxrt_numa_nodes(void)
{
	init();
	return numa.t.n_nodes;
}

int amxrt_numa_node_id(int idx)
{
	init();
	return idx >= 0 && idx < numa.t.n_nodes ? numa.t.nodes[idx].node : -1;
}

int amxrt_numa_topology(struct amxrt_numa_topology *out)
{
	if (!out)
		return amxrt_err(EINVAL, "numa: NULL argument");
	init();
	*out = numa.t;
	return 0;
}

const char *amxrt_numa_name(enum amxrt_numa mode)
{
	return (unsigned int)mode < sizeof(names) / sizeof(names[0]) ?
		       names[mode] :
		       NULL;
}

int amxrt_numa_parse(const char *s, enum amxrt_numa *mode)
{
	unsigned int i;

	for (i = 0; s && mode && i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(s, names[i])) {
			*mode = (enum amxrt_numa)i;
			return 0;
		}
	return amxrt_err(
		EINVAL,
		"numa mode '%s': use off, distribute, isolate or mirror",
		s ? s : "(null)");
}

/* Node index of node, or -EINVAL. */
static int node_index(int node)
{
	int i;

	for (i = 0; i < numa.t.n_nodes; i++)
		if (numa.t.nodes[i].node == node)
			return i;
	return amxrt_err(
		EINVAL, "numa: node %d does not exist or has no CPUs or memory",
		node);
}

static int check(enum amxrt_numa mode, int node)
{
	if (!amxrt_numa_name(mode))
		return amxrt_err(
			EINVAL,
			"numa mode %d: use AMXRT_NUMA_OFF, _DISTRIBUTE, "
			"_ISOLATE or _MIRROR",
			(int)mode);
	if (node < -1)
		return amxrt_err(EINVAL, "numa: node %d (use -1 or a node)",
				 node);
	if (node != -1 && mode != AMXRT_NUMA_ISOLATE)
		return amxrt_err(
			EINVAL, "numa: a node (%d) is only for isolate, not %s",
			node, amxrt_numa_name(mode));
	return node == -1 ? 0 : node_index(node);
}

int amxrt_set_numa(enum amxrt_numa mode, int node)
{
	int idx;

	init();
	idx = check(mode, node);
	if (idx < 0)
		return idx;
	pthread_mutex_lock(&numa.lock);
	numa.mode = mode;
	numa.iso = idx;
	pthread_mutex_unlock(&numa.lock);
	/* threads started in the old mode are pinned the old way */
	amxrt_pool_restart();
	return 0;
}

enum amxrt_numa amxrt_numa_mode(int *node)
{
	enum amxrt_numa mode;
	int iso;

	init();
	pthread_mutex_lock(&numa.lock);
	mode = numa.mode;
	iso = numa.iso;
	pthread_mutex_unlock(&numa.lock);
	if (node)
		*node = mode == AMXRT_NUMA_ISOLATE ? numa.t.nodes[iso].node :
						     -1;
	return mode;
}

/* Node index of pool thread ith of nth in mode, or -1: not pinned. */
static int slot(enum amxrt_numa mode, int iso, int ith, int nth)
{
	if (!numa.t.available || mode == AMXRT_NUMA_OFF)
		return -1;
	if (mode == AMXRT_NUMA_ISOLATE)
		return iso;
	return (int)((int64_t)ith * numa.t.n_nodes / (nth > 0 ? nth : 1));
}

int amxrt_numa_pin_self(int ith, int nth)
{
	enum amxrt_numa mode;
	int iso, idx, err;

	init();
	pthread_mutex_lock(&numa.lock);
	mode = numa.mode;
	iso = numa.iso;
	pthread_mutex_unlock(&numa.lock);
	pin_err[0] = 0;
	self_idx = -1;
	idx = slot(mode, iso, ith, nth);
	if (idx < 0)
		return 0;
	err = pthread_setaffinity_np(pthread_self(), sizeof(cpu_set_t),
				     &numa.cpus[idx]);
	if (err) {
		snprintf(pin_err, sizeof(pin_err),
			 "cannot pin to node %d (CPUs %s): %s",
			 numa.t.nodes[idx].node, numa.t.nodes[idx].cpus,
			 strerror(err));
		return amxrt_err(err, "numa: thread %d: %s", ith, pin_err);
	}
	self_idx = idx;
	return 0;
}

int amxrt_numa_self_pinned(void)
{
	return self_idx;
}

int amxrt_numa_self(void)
{
	int cpu;

	if (self_idx >= 0)
		return self_idx;
	cpu = sched_getcpu();
	if (cpu < 0 || cpu >= MAX_CPUS || numa.cpu_idx[cpu] < 0)
		return 0;
	return numa.cpu_idx[cpu];
}

int amxrt_numa_pin_caller(void)
{
	int err;

	init();
	if (!caller_saved) {
		if (sched_getaffinity(0, sizeof(caller_mask), &caller_mask))
			return amxrt_err(errno, "numa: sched_getaffinity: %s",
					 strerror(errno));
		caller_saved = 1;
	}
	if (amxrt_numa_mode(NULL) == AMXRT_NUMA_OFF) {
		/* back to the affinity it had before it was first pinned */
		self_idx = -1;
		err = pthread_setaffinity_np(pthread_self(),
					     sizeof(caller_mask), &caller_mask);
		return err ? amxrt_err(err, "numa: restoring the affinity: %s",
				       strerror(err)) :
			     0;
	}
	return amxrt_numa_pin_self(0, amxrt_threads());
}

struct report {
	struct amxrt_thread_pin *out;
	int max;
};

static void report_task(void *arg, int ith, int nth, void *scratch)
{
	struct report *r = arg;
	struct amxrt_thread_pin *p;
	cpu_set_t set;
	int cpu;

	(void)nth;
	(void)scratch;
	if (ith >= r->max)
		return;
	p = &r->out[ith];
	memset(p, 0, sizeof(*p));
	p->thread = ith;
	p->node = self_idx >= 0 ? numa.t.nodes[self_idx].node : -1;
	cpu = sched_getcpu();
	p->cpu = cpu;
	p->cpu_node = cpu >= 0 && cpu < MAX_CPUS && numa.cpu_idx[cpu] >= 0 ?
			      numa.t.nodes[(int)numa.cpu_idx[cpu]].node :
			      (numa.t.available ? numa_node_of_cpu(cpu) : 0);
	if (!sched_getaffinity(0, sizeof(set), &set))
		cpu_list(&set, p->cpus, sizeof(p->cpus));
	else
		snprintf(p->cpus, sizeof(p->cpus), "? (%s)", strerror(errno));
	snprintf(p->error, sizeof(p->error), "%s", pin_err);
}

int amxrt_numa_threads(struct amxrt_thread_pin *out, int max)
{
	struct report r = { .out = out, .max = out ? max : 0 };
	int err;

	init();
	if (max < 0)
		return amxrt_err(EINVAL, "numa: max = %d", max);
	err = amxrt_pool_run(report_task, &r);
	return err ? err : amxrt_threads();
}

int amxrt_numa_describe(enum amxrt_numa mode, int node, int n_threads,
			char *buf, size_t len)
{
	int idx, i, n, o = 0, cnt[AMXRT_NUMA_MAX_NODES] = { 0 };

	if (!buf || !len)
		return amxrt_err(EINVAL, "numa: NULL buffer");
	init();
	idx = check(mode, node);
	if (idx < 0)
		return idx;
	n = numa.t.n_nodes;
	if (n_threads < 1)
		n_threads = amxrt_threads();
	if (mode == AMXRT_NUMA_OFF) {
		snprintf(buf, len,
			 "off: %d threads unpinned, weights where the kernel "
			 "puts them",
			 n_threads);
		return 0;
	}
	if (!numa.t.available) {
		snprintf(buf, len, "%s: as off (%s)", amxrt_numa_name(mode),
			 numa.t.note);
		return 0;
	}
	if (mode == AMXRT_NUMA_ISOLATE) {
		snprintf(buf, len,
			 "isolate: %d threads on node %d (CPUs %s), every "
			 "weight on node %d",
			 n_threads, numa.t.nodes[idx].node,
			 numa.t.nodes[idx].cpus, numa.t.nodes[idx].node);
		return 0;
	}
	for (i = 0; i < n_threads; i++)
		cnt[slot(mode, 0, i, n_threads)]++;
	o = snprintf(buf, len, "%s: threads", amxrt_numa_name(mode));
	for (i = 0; i < n && o >= 0 && (size_t)o < len; i++)
		o += snprintf(buf + o, len - o, "%s %d on node %d (CPUs %s)",
			      i ? "," : "", cnt[i], numa.t.nodes[i].node,
			      numa.t.nodes[i].cpus);
	if (o >= 0 && (size_t)o < len)
		snprintf(buf + o, len - o, "; %s",
			 mode == AMXRT_NUMA_MIRROR ?
				 "one copy of each weight per node" :
				 "each weight's panels split into one range "
				 "per node");
	return 0;
}

void amxrt_numa_weight_plan(enum amxrt_numa *mode, int *idx, int *n)
{
	init();
	pthread_mutex_lock(&numa.lock);
	*mode = numa.mode;
	*idx = numa.mode == AMXRT_NUMA_ISOLATE ? numa.iso : -1;
	pthread_mutex_unlock(&numa.lock);
	*n = numa.t.n_nodes;
}

int amxrt_numa_bind(void *p, size_t bytes, int idx)
{
	char msg[200];

	init();
	if (idx < 0 || !numa.t.available)
		return 0;
	if (idx >= numa.t.n_nodes)
		return amxrt_err(EINVAL, "numa: node index %d of %d", idx,
				 numa.t.n_nodes);
	if (!arena_bind(p, bytes, numa.t.nodes[idx].node, 0))
		return 0;
	snprintf(msg, sizeof(msg), "%s", amxrt_errmsg());
	return amxrt_err(EINVAL, "numa: weight memory: %s", msg);
}

#define BATCH 512

void amxrt_numa_count_pages(const void *p, size_t bytes, int idx,
			    uint64_t *home, uint64_t *away, uint64_t *unknown)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	uintptr_t a = (uintptr_t)p / pg * pg, end = (uintptr_t)p + bytes;
	void *pages[BATCH];
	int status[BATCH], want, i, n;

	init();
	want = idx >= 0 ? numa.t.nodes[idx].node : -1;
	while (a < end) {
		for (n = 0; n < BATCH && a < end; n++, a += pg)
			pages[n] = (void *)a;
		if (!numa.t.available) {
			/* all memory is node 0 */
			*(want <= 0 ? home : away) += (uint64_t)n;
			continue;
		}
		if (move_pages(0, (unsigned long)n, pages, NULL, status, 0)) {
			*unknown += (uint64_t)n;
			continue;
		}
		for (i = 0; i < n; i++) {
			if (status[i] < 0)
				++*unknown;
			else if (want < 0 || status[i] == want)
				++*home;
			else
				++*away;
		}
	}
}
