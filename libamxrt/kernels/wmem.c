// SPDX-License-Identifier: MIT
/*
 * wmem.c - memory for packed weights outside arenas: 2 MiB-aligned slabs
 * advised for transparent huge pages, one series per NUMA node index (each
 * slab bound to its node before its first touch), weights carved from
 * them one after the other.
 *
 * Why: a weight allocated on its own gets huge pages only for the 2 MiB
 * pieces of it that are aligned, and none when it is smaller. The experts
 * of a MoE model are such weights (768 x 2048 Q4_0: 864 KiB each, 648 MiB
 * for moe-bench): in 4 KiB pages, a TLB miss every 4 KiB read; in slabs,
 * where neighbours share huge pages, its decode is 12-24% faster
 * (Documentation/benchmarks.md).
 *
 * A slab is unmapped when its last weight is freed. Weights of more than
 * a quarter of a slab get a mapping of their own, rounded to 2 MiB. Under
 * AddressSanitizer each weight is a heap allocation of its own, so that
 * a kernel reading past a weight's end is caught, not served its
 * neighbour's bytes.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "../core/error.h"
#include "../core/mem.h"
#include "../numa/numa.h"
#include "kernels.h"

#define SLAB_BYTES ((size_t)64 << 20)
#define OWN_MAPPING (SLAB_BYTES / 4)

struct slab {
	char *base;
	int idx; /* NUMA node index, -1: not bound */
	size_t used; /* bytes handed out, from base */
	long live; /* weights not yet freed */
	struct slab *next;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
/* newest first: the first one of an index is the one being filled */
static struct slab *slabs;

static size_t round_up(size_t v, size_t a)
{
	return (v + a - 1) / a * a;
}

/*
 * size bytes (a multiple of 2 MiB) at a 2 MiB boundary, THP-advised and
 * bound to node index idx (unless -1); NULL with amxrt_err() set.
 */
static void *map_aligned(size_t size, int idx)
{
	char *p = mmap(NULL, size + AMXRT_HUGE_PAGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	char *base;

	if (p == MAP_FAILED) {
		amxrt_err(ENOMEM, "weights: cannot map %zu MiB: %s", size >> 20,
			  strerror(errno));
		return NULL;
	}
	base = (char *)round_up((uintptr_t)p, AMXRT_HUGE_PAGE);
	if (base > p)
		munmap(p, (size_t)(base - p));
	if (base + size < p + size + AMXRT_HUGE_PAGE)
		munmap(base + size,
		       (size_t)(p + size + AMXRT_HUGE_PAGE - (base + size)));
	/* with THP off (enabled = never, or not built) pages stay 4 KiB */
	madvise(base, size, MADV_HUGEPAGE);
	if (idx >= 0 && amxrt_numa_bind(base, size, idx)) {
		munmap(base, size);
		return NULL;
	}
	return base;
}

void *amxrt_wmem_alloc(size_t bytes, int idx)
{
	struct slab *s;
	void *p = NULL;

	bytes = round_up(bytes ? bytes : 1, AMXRT_ALIGN);
#ifdef __SANITIZE_ADDRESS__
	p = aligned_alloc(AMXRT_ALIGN, bytes);
	if (!p)
		amxrt_err(ENOMEM, "weights: out of memory for %zu bytes",
			  bytes);
	else
		memset(p, 0, bytes); /* as fresh mappings are */
	return p;
#endif
	if (bytes > OWN_MAPPING)
		return map_aligned(round_up(bytes, AMXRT_HUGE_PAGE), idx);
	pthread_mutex_lock(&lock);
	for (s = slabs; s && s->idx != idx; s = s->next)
		;
	if (!s || s->used + bytes > SLAB_BYTES) {
		s = calloc(1, sizeof(*s));
		if (!s) {
			amxrt_err(ENOMEM, "weights: out of memory");
			goto out;
		}
		s->idx = idx;
		s->base = map_aligned(SLAB_BYTES, idx);
		if (!s->base) {
			free(s);
			s = NULL;
			goto out;
		}
		s->next = slabs;
		slabs = s;
	}
	p = s->base + s->used;
	s->used += bytes;
	s->live++;
out:
	pthread_mutex_unlock(&lock);
	return p;
}

void amxrt_wmem_free(void *p, size_t bytes)
{
	struct slab **pp, *s;

	if (!p)
		return;
	bytes = round_up(bytes ? bytes : 1, AMXRT_ALIGN);
#ifdef __SANITIZE_ADDRESS__
	free(p);
	return;
#endif
	if (bytes > OWN_MAPPING) {
		munmap(p, round_up(bytes, AMXRT_HUGE_PAGE));
		return;
	}
	pthread_mutex_lock(&lock);
	for (pp = &slabs; (s = *pp); pp = &s->next) {
		if ((char *)p < s->base || (char *)p >= s->base + SLAB_BYTES)
			continue;
		if (!--s->live) {
			*pp = s->next;
			munmap(s->base, SLAB_BYTES);
			free(s);
		}
		break;
	}
	pthread_mutex_unlock(&lock);
}
