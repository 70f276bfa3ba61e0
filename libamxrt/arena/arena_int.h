/* SPDX-License-Identifier: MIT */
/*
 * arena_int.h - what the arena backends share with the common layer
 * (arena.c): the handle, the backend interface, NUMA placement helpers.
 * Internal.
 */
#ifndef AMXRT_ARENA_INT_H
#define AMXRT_ARENA_INT_H

#include <stddef.h>
#include <stdint.h>

#include <amxrt/amxrt.h>

#include "../core/error.h"

#define ARENA_PAGE (2ull << 20) /* every backend deals in 2 MiB pages */

struct amxrt_arena;

/*
 * A backend. The common layer checks names, sizes, flags and handles
 * before calling; a backend records amxrt_err() on failure.
 */
struct arena_ops {
	enum amxrt_arena_backend backend;
	/* 0 if this backend can work here, else -ENOTSUP and why in buf */
	int (*usable)(char *buf, size_t len);
	/*
	 * Whether the automatic choice should take it: 1 yes, 0 no with why
	 * in buf (e.g. no free hugepages); a usable backend may still be
	 * passed over. The reason also says what it would use.
	 */
	int (*preferred)(char *buf, size_t len);
	/* a->name is set; size is a multiple of ARENA_PAGE */
	int (*create)(struct amxrt_arena *a, uint64_t size, int node,
		      unsigned int flags);
	/* a->name is set; fill a->size, a->sealed */
	int (*open)(struct amxrt_arena *a);
	/* a new mapping of the whole arena */
	int (*map)(struct amxrt_arena *a, int writable, void **addr);
	int (*unmap)(struct amxrt_arena *a, void *addr);
	int (*seal)(struct amxrt_arena *a);
	/* everything but map_count, which the common layer adds (optional) */
	int (*info)(struct amxrt_arena *a, struct amxrt_arena_info *info);
	void (*close)(struct amxrt_arena *a);
	int (*destroy)(const char *name);
	/* names of every arena: *names gets a malloc'ed array of strings */
	int (*names)(char ***names);
};

struct arena_map {
	void *addr;
	int writable;
};

/* An open handle. Handles are listed process-wide (arena.c). */
struct amxrt_arena {
	const struct arena_ops *ops;
	char name[AMXRT_ARENA_NAME_MAX + 1];
	uint64_t size;
	int node; /* asked at creation, -1 any or not known */
	int sealed;
	int fd; /* module and hugetlbfs, else -1 */
	void *priv; /* backend's own */
	struct arena_map *maps; /* this handle's mappings */
	int nmaps, maps_cap;
	struct amxrt_arena *next; /* in the list of open handles */
};

extern const struct arena_ops arena_module_ops;
extern const struct arena_ops arena_hugetlbfs_ops;
extern const struct arena_ops arena_anon_hugetlb_ops;
extern const struct arena_ops arena_anon_thp_ops;

/* Mappings of this process of an arena by name, through open handles. */
int arena_local_maps(enum amxrt_arena_backend backend, const char *name);

/*
 * place.c: NUMA. arena_check_node() refuses a node this machine does not
 * have (-EINVAL). arena_bind() sets the policy of [base, base + size)
 * before any page is touched (MPOL_BIND, or MPOL_PREFERRED when flags has
 * AMXRT_ARENA_NODE_PREFERRED); node -1 does nothing. arena_populate()
 * allocates every page now (MADV_POPULATE_WRITE): -ENOMEM names what
 * could not be supplied. arena_placed_node() asks move_pages() where each
 * 2 MiB page is: the node of all of them, or -1.
 */
int arena_check_node(int node);
int arena_bind(void *base, uint64_t size, int node, unsigned int flags);
int arena_populate(void *base, uint64_t size, int node, const char *what);
int arena_placed_node(void *base, uint64_t size);

/* Free 2 MiB hugepages (HugePages_Free) and nr_overcommit_hugepages. */
void arena_hugepages(long *free_pages, long *overcommit);

#endif /* AMXRT_ARENA_INT_H */
