// SPDX-License-Identifier: MIT
/*
 * place.c - NUMA placement of the fallback arenas (libnuma): the memory
 * policy set before the pages are touched, allocation of every page up
 * front, and where move_pages() says the pages landed.
 */
#include <errno.h>
#include <numa.h>
#include <numaif.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "arena_int.h"

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

#define HP_DIR "/sys/kernel/mm/hugepages/hugepages-2048kB/"

static long read_long(const char *path)
{
	FILE *f = fopen(path, "r");
	long v = -1;

	if (f) {
		if (fscanf(f, "%ld", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

void arena_hugepages(long *free_pages, long *overcommit)
{
	*free_pages = read_long(HP_DIR "free_hugepages");
	*overcommit = read_long(HP_DIR "nr_overcommit_hugepages");
	if (*free_pages < 0)
		*free_pages = 0;
	if (*overcommit < 0)
		*overcommit = 0;
}

int arena_check_node(int node)
{
	if (node == -1)
		return 0;
	if (node < -1)
		return amxrt_err(EINVAL,
				 "node %d: use -1 for any node, or a "
				 "node number",
				 node);
	if (numa_available() < 0) {
		if (node == 0)
			return 0; /* no NUMA support: all memory is node 0 */
		return amxrt_err(EINVAL,
				 "node %d: this kernel has no NUMA support "
				 "(only node 0 exists)",
				 node);
	}
	if (node > numa_max_node() ||
	    !numa_bitmask_isbitset(numa_all_nodes_ptr, (unsigned int)node))
		return amxrt_err(EINVAL,
				 "node %d does not exist or has no memory "
				 "(nodes 0-%d)",
				 node, numa_max_node());
	return 0;
}

int arena_bind(void *base, uint64_t size, int node, unsigned int flags)
{
	unsigned long mask[16] = { 0 };
	int mode = flags & AMXRT_ARENA_NODE_PREFERRED ? MPOL_PREFERRED :
							MPOL_BIND;

	if (node < 0 || numa_available() < 0)
		return 0;
	if ((size_t)node >= sizeof(mask) * 8)
		return amxrt_err(EINVAL, "node %d is beyond node %zu", node,
				 sizeof(mask) * 8 - 1);
	mask[node / (8 * sizeof(long))] |= 1ul << (node % (8 * sizeof(long)));
	if (mbind(base, size, mode, mask, sizeof(mask) * 8, 0))
		return amxrt_err(errno, "mbind to node %d: %s", node,
				 strerror(errno));
	return 0;
}

int arena_populate(void *base, uint64_t size, int node, const char *what)
{
	char on[32] = "";
	uint64_t off;

	if (node >= 0)
		snprintf(on, sizeof(on), " on node %d", node);
	if (!madvise(base, size, MADV_POPULATE_WRITE))
		return 0;
	if (errno == ENOMEM || errno == EFAULT || errno == EHWPOISON)
		return amxrt_err(ENOMEM,
				 "cannot allocate %llu MiB of %s%s (the "
				 "kernel could not supply the pages: %s)",
				 (unsigned long long)(size >> 20), what, on,
				 strerror(errno));
	if (errno != EINVAL)
		return amxrt_err(errno, "allocating %s%s: %s", what, on,
				 strerror(errno));
	/* Before Linux 5.14: touch each page (hugetlb may SIGBUS here). */
	for (off = 0; off < size; off += 4096)
		((volatile char *)base)[off] = 0;
	return 0;
}

int arena_placed_node(void *base, uint64_t size)
{
	uint64_t n = size / ARENA_PAGE, i;
	void **pages;
	int *status, node = -1;

	if (!n)
		return -1;
	if (numa_available() < 0)
		return 0; /* no NUMA support: all memory is node 0 */
	pages = calloc(n, sizeof(*pages));
	status = calloc(n, sizeof(*status));
	if (!pages || !status)
		goto out;
	for (i = 0; i < n; i++)
		pages[i] = (char *)base + i * ARENA_PAGE;
	if (move_pages(0, n, pages, NULL, status, 0))
		goto out;
	node = status[0];
	for (i = 1; i < n && node >= 0; i++)
		if (status[i] != node)
			node = -1;
	if (node < 0)
		node = -1;
out:
	free(pages);
	free(status);
	return node;
}
