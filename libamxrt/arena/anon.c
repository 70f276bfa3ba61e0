// SPDX-License-Identifier: MIT
/*
 * anon.c - the anonymous arena backends: MAP_HUGETLB memory (anon-hugetlb)
 * and MADV_HUGEPAGE-advised memory (anon-thp). Each arena is one private
 * mapping of this process, found by name only in this process and gone
 * when it exits; every handle and map() returns that same mapping, and
 * sealing makes it read-only with mprotect().
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "arena_int.h"

#ifndef MAP_HUGE_2MB
#define MAP_HUGE_2MB (21 << 26)
#endif

struct anon_arena {
	const struct arena_ops *ops; /* which of the two backends */
	char name[AMXRT_ARENA_NAME_MAX + 1];
	void *base; /* 2 MiB aligned */
	uint64_t size;
	void *map_base; /* what mmap() returned (THP: with alignment slack) */
	uint64_t map_size;
	int node;
	int sealed;
	int refs; /* open handles */
	int destroyed; /* off the list: freed when refs drops to 0 */
	struct anon_arena *next;
};

/* Every anonymous arena of this process: protected by anon_lock. */
static pthread_mutex_t anon_lock = PTHREAD_MUTEX_INITIALIZER;
static struct anon_arena *anon_list;

static struct anon_arena *find(const struct arena_ops *ops, const char *name)
{
	struct anon_arena *e;

	for (e = anon_list; e; e = e->next)
		if (e->ops == ops && !strcmp(e->name, name))
			return e;
	return NULL;
}

static void unlink_entry(struct anon_arena *e)
{
	struct anon_arena **pp;

	for (pp = &anon_list; *pp; pp = &(*pp)->next) {
		if (*pp == e) {
			*pp = e->next;
			return;
		}
	}
}

static void free_entry(struct anon_arena *e)
{
	munmap(e->map_base, e->map_size);
	free(e);
}

static int is_thp(const struct arena_ops *ops)
{
	return ops->backend == AMXRT_ARENA_ANON_THP;
}

/* Map size bytes: hugetlb pages, or 2 MiB aligned memory advised for THP. */
static int anon_alloc(struct anon_arena *e, uint64_t size)
{
	const char *name = e->name;
	char *p;

	if (!is_thp(e->ops)) {
		long free_pages, over;

		p = mmap(NULL, size, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB |
				 MAP_HUGE_2MB,
			 -1, 0);
		if (p == MAP_FAILED) {
			int err = errno;

			arena_hugepages(&free_pages, &over);
			return amxrt_err(
				err == ENOMEM ? ENOMEM : err,
				"arena \"%s\": cannot reserve %llu "
				"2 MiB hugepages (%ld free, "
				"nr_overcommit_hugepages %ld): %s",
				name, (unsigned long long)(size / ARENA_PAGE),
				free_pages, over, strerror(err));
		}
		e->base = e->map_base = p;
		e->size = e->map_size = size;
		return 0;
	}
	p = mmap(NULL, size + ARENA_PAGE, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return amxrt_err(ENOMEM,
				 "arena \"%s\": cannot map %llu MiB: %s", name,
				 (unsigned long long)(size >> 20),
				 strerror(errno));
	e->base = (void *)(((uintptr_t)p + ARENA_PAGE - 1) &
			   ~(uintptr_t)(ARENA_PAGE - 1));
	e->size = size;
	/* keep exactly [base, base + size): trim the alignment slack */
	if ((char *)e->base > p)
		munmap(p, (char *)e->base - p);
	if ((char *)e->base + size < p + size + ARENA_PAGE)
		munmap((char *)e->base + size,
		       p + size + ARENA_PAGE - ((char *)e->base + size));
	e->map_base = e->base;
	e->map_size = size;
	/* Without THP (enabled = never) this fails: 4 KiB pages then. */
	madvise(e->base, size, MADV_HUGEPAGE);
	return 0;
}

static int anon_create(struct amxrt_arena *a, uint64_t size, int node,
		       unsigned int flags)
{
	struct anon_arena *e;
	int ret;

	pthread_mutex_lock(&anon_lock);
	if (find(a->ops, a->name)) {
		ret = amxrt_err(EEXIST, "arena \"%s\" exists already (%s)",
				a->name,
				amxrt_arena_backend_name(a->ops->backend));
		goto out;
	}
	e = calloc(1, sizeof(*e));
	if (!e) {
		ret = amxrt_err(ENOMEM, "out of memory for an arena");
		goto out;
	}
	e->ops = a->ops;
	snprintf(e->name, sizeof(e->name), "%s", a->name);
	e->node = node;
	ret = anon_alloc(e, size);
	if (ret) {
		free(e);
		goto out;
	}
	ret = arena_bind(e->base, size, node, flags);
	if (!ret)
		ret = arena_populate(e->base, size, node,
				     is_thp(a->ops) ? "memory" :
						      "2 MiB hugepages");
	if (ret) {
		free_entry(e);
		goto out;
	}
	e->refs = 1;
	e->next = anon_list;
	anon_list = e;
	a->priv = e;
out:
	pthread_mutex_unlock(&anon_lock);
	return ret;
}

static int anon_open(struct amxrt_arena *a)
{
	struct anon_arena *e;
	int ret = 0;

	pthread_mutex_lock(&anon_lock);
	e = find(a->ops, a->name);
	if (!e) {
		ret = amxrt_err(ENOENT,
				"no arena \"%s\" in this process (%s arenas "
				"are private to the process that made them)",
				a->name,
				amxrt_arena_backend_name(a->ops->backend));
	} else {
		e->refs++;
		a->priv = e;
		a->size = e->size;
		a->node = e->node;
		a->sealed = e->sealed;
	}
	pthread_mutex_unlock(&anon_lock);
	return ret;
}

static int anon_map(struct amxrt_arena *a, int writable, void **addr)
{
	struct anon_arena *e = a->priv;
	int ret = 0;

	pthread_mutex_lock(&anon_lock);
	if (writable && e->sealed)
		ret = amxrt_err(EPERM,
				"arena \"%s\" is sealed: no writable mapping",
				a->name);
	else
		*addr = e->base;
	a->sealed = e->sealed;
	pthread_mutex_unlock(&anon_lock);
	return ret;
}

static int anon_unmap(struct amxrt_arena *a, void *addr)
{
	return 0; /* the single mapping lives as long as the arena */
}

static int anon_seal(struct amxrt_arena *a)
{
	struct anon_arena *e = a->priv;
	int ret = 0;

	pthread_mutex_lock(&anon_lock);
	if (!e->sealed && mprotect(e->base, e->size, PROT_READ))
		ret = amxrt_err(errno, "arena \"%s\": mprotect read-only: %s",
				a->name, strerror(errno));
	else
		e->sealed = 1;
	pthread_mutex_unlock(&anon_lock);
	return ret;
}

/*
 * AnonHugePages of the mappings inside [base, base + size) in smaps (a
 * mapping the kernel merged with a neighbour counts up to size); or -1.
 */
static int64_t thp_bytes(void *base, uint64_t size)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	uintptr_t lo_r = (uintptr_t)base, hi_r = lo_r + size;
	char line[256];
	int in = 0, seen = 0;
	int64_t bytes = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;
		long long kb;

		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2) {
			in = lo < hi_r && hi > lo_r;
		} else if (in &&
			   sscanf(line, "AnonHugePages: %lld kB", &kb) == 1) {
			bytes += kb * 1024;
			seen = 1;
		}
	}
	fclose(f);
	if (!seen)
		return -1;
	return bytes > (int64_t)size ? (int64_t)size : bytes;
}

static int anon_info(struct amxrt_arena *a, struct amxrt_arena_info *info)
{
	struct anon_arena *e = a->priv;

	info->sealed = a->sealed = e->sealed;
	info->placed_node = arena_placed_node(e->base, e->size);
	info->huge_bytes = is_thp(a->ops) ? thp_bytes(e->base, e->size) :
					    (int64_t)e->size;
	return 0;
}

static void anon_close(struct amxrt_arena *a)
{
	struct anon_arena *e = a->priv;

	pthread_mutex_lock(&anon_lock);
	if (--e->refs == 0 && e->destroyed)
		free_entry(e);
	pthread_mutex_unlock(&anon_lock);
}

static int anon_destroy(const struct arena_ops *ops, const char *name)
{
	struct anon_arena *e;
	int ret = 0;

	pthread_mutex_lock(&anon_lock);
	e = find(ops, name);
	if (!e) {
		ret = amxrt_err(ENOENT, "no arena \"%s\" in this process (%s)",
				name, amxrt_arena_backend_name(ops->backend));
	} else {
		unlink_entry(e);
		e->destroyed = 1;
		if (e->refs == 0)
			free_entry(e);
	}
	pthread_mutex_unlock(&anon_lock);
	return ret;
}

static int anon_names(const struct arena_ops *ops, char ***out)
{
	struct anon_arena *e;
	char **names = NULL;
	int n = 0, cap = 0, ret = 0;

	pthread_mutex_lock(&anon_lock);
	for (e = anon_list; e; e = e->next) {
		if (e->ops != ops)
			continue;
		if (n == cap) {
			char **nn;

			cap = cap ? 2 * cap : 8;
			nn = realloc(names, cap * sizeof(*nn));
			if (!nn) {
				ret = -ENOMEM;
				break;
			}
			names = nn;
		}
		names[n] = strdup(e->name);
		if (!names[n]) {
			ret = -ENOMEM;
			break;
		}
		n++;
	}
	pthread_mutex_unlock(&anon_lock);
	if (ret) {
		while (n > 0)
			free(names[--n]);
		free(names);
		return amxrt_err(ENOMEM, "out of memory listing arenas");
	}
	*out = names;
	return n;
}

/* ---- the two backends ----------------------------------------------- */

static int hugetlb_usable(char *buf, size_t len)
{
	if (access("/proc/sys/vm/nr_hugepages", F_OK)) {
		snprintf(buf, len,
			 "this kernel has no hugetlb support "
			 "(/proc/sys/vm/nr_hugepages missing)");
		return -ENOTSUP;
	}
	return 0;
}

static int hugetlb_preferred(char *buf, size_t len)
{
	long free_pages, over;

	arena_hugepages(&free_pages, &over);
	if (!free_pages && !over) {
		snprintf(buf, len,
			 "no free 2 MiB hugepages for MAP_HUGETLB "
			 "(free_hugepages 0, nr_overcommit_hugepages 0)");
		return 0;
	}
	snprintf(buf, len,
		 "%ld free 2 MiB hugepages (nr_overcommit_hugepages %ld): "
		 "using anonymous MAP_HUGETLB memory, private to this process",
		 free_pages, over);
	return 1;
}

static int thp_usable(char *buf, size_t len)
{
	return 0; /* plain anonymous memory: 4 KiB pages at worst */
}

static int thp_preferred(char *buf, size_t len)
{
	FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");
	char mode[128] = "not available";

	if (f) {
		if (!fgets(mode, sizeof(mode), f))
			snprintf(mode, sizeof(mode), "unreadable");
		mode[strcspn(mode, "\n")] = '\0';
		fclose(f);
	}
	snprintf(buf, len,
		 "using THP-advised anonymous memory, private to this process "
		 "(transparent_hugepage/enabled: %s%s)",
		 mode, strstr(mode, "[never]") ? ": 4 KiB pages only" : "");
	return 1;
}

static int hugetlb_destroy(const char *name)
{
	return anon_destroy(&arena_anon_hugetlb_ops, name);
}

static int thp_destroy(const char *name)
{
	return anon_destroy(&arena_anon_thp_ops, name);
}

static int hugetlb_names(char ***names)
{
	return anon_names(&arena_anon_hugetlb_ops, names);
}

static int thp_names(char ***names)
{
	return anon_names(&arena_anon_thp_ops, names);
}

const struct arena_ops arena_anon_hugetlb_ops = {
	.backend = AMXRT_ARENA_ANON_HUGETLB,
	.usable = hugetlb_usable,
	.preferred = hugetlb_preferred,
	.create = anon_create,
	.open = anon_open,
	.map = anon_map,
	.unmap = anon_unmap,
	.seal = anon_seal,
	.info = anon_info,
	.close = anon_close,
	.destroy = hugetlb_destroy,
	.names = hugetlb_names,
};

const struct arena_ops arena_anon_thp_ops = {
	.backend = AMXRT_ARENA_ANON_THP,
	.usable = thp_usable,
	.preferred = thp_preferred,
	.create = anon_create,
	.open = anon_open,
	.map = anon_map,
	.unmap = anon_unmap,
	.seal = anon_seal,
	.info = anon_info,
	.close = anon_close,
	.destroy = thp_destroy,
	.names = thp_names,
};
