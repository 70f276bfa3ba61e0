/* SPDX-License-Identifier: MIT */
/*
 * amxrt/arena.h - named, hugepage-backed, NUMA-placed weight arenas.
 *
 * An arena is a named block of memory meant for repacked model weights:
 * created once with a size and a NUMA node, filled through a writable
 * mapping, sealed read-only for good, then mapped read-only by whoever
 * needs it. Four backends provide arenas behind the same calls:
 *
 *   module        /dev/amxrt (amxrt.ko): 2 MiB pages from the asked node,
 *                 shared by every process, persistent until destroyed,
 *                 sealing enforced by the kernel for everyone
 *   hugetlbfs     one file per arena on a hugetlbfs mount: shared and
 *                 persistent like the module's; sealing is mode 0444 plus
 *                 a marker file, which root can undo
 *   anon-hugetlb  anonymous MAP_HUGETLB memory: private to this process,
 *                 gone when it exits; names are seen only by this process
 *   anon-thp      anonymous memory advised MADV_HUGEPAGE: as anon-hugetlb,
 *                 but 2 MiB pages only where the kernel finds them
 *
 * The backend is chosen once per process, at the first call that needs
 * it: AMXRT_ARENA from the environment (module, hugetlbfs, anon-hugetlb,
 * anon-thp) if set and not empty, else the first available in the order
 * above. Forcing a backend that is not available is an error, never a
 * silent fallback. amxrt_arena_backend_reason() says why the backend in
 * use was chosen. AMXRT_HUGETLBFS names the hugetlbfs directory to use
 * (default: <first 2 MiB hugetlbfs mount>/amxrt).
 *
 * Every call that can fail returns 0 or a negative errno value and leaves
 * one line in amxrt_errmsg(). Errors common to all calls: -EINVAL for a
 * NULL, empty or too long name, a name with characters outside
 * [A-Za-z0-9._-] or starting with '.', size 0, unknown flags; -EEXIST for
 * a name already taken; -ENOENT for no arena of that name; -EPERM for a
 * write to a sealed arena; -ENOMEM when the node cannot supply the pages;
 * -ENOTSUP when a forced backend is not available.
 */
#ifndef AMXRT_ARENA_H
#define AMXRT_ARENA_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#pragma GCC visibility push(default)

/* Longest arena name, without its NUL. */
#define AMXRT_ARENA_NAME_MAX 63

/* An arena handle: from amxrt_arena_create() or _open(), freed by _close(). */
struct amxrt_arena;

/* Where arenas live. Append only. */
enum amxrt_arena_backend {
	AMXRT_ARENA_MODULE = 0, /* /dev/amxrt */
	AMXRT_ARENA_HUGETLBFS = 1, /* files on a hugetlbfs mount */
	AMXRT_ARENA_ANON_HUGETLB = 2, /* anonymous MAP_HUGETLB */
	AMXRT_ARENA_ANON_THP = 3, /* anonymous, MADV_HUGEPAGE */
	AMXRT_ARENA_BACKEND_COUNT
};

/* Flags of amxrt_arena_create(). */
enum amxrt_arena_create_flags {
	/* the asked node is preferred: other nodes may supply the pages */
	AMXRT_ARENA_NODE_PREFERRED = 1u << 0,
};

/* Flags of amxrt_arena_map(). */
enum amxrt_arena_map_flags {
	/* a writable mapping (refused with -EPERM once sealed) */
	AMXRT_ARENA_MAP_WRITE = 1u << 0,
};

/* What amxrt_arena_info() and amxrt_arena_list() report. */
struct amxrt_arena_info {
	char name[AMXRT_ARENA_NAME_MAX + 1];
	uint64_t size; /* bytes, a multiple of 2 MiB */
	int node; /* node asked for at creation; -1 any or not known */
	/*
	 * Node that holds every page, as move_pages() reports (the module:
	 * as it allocated them); -1 when the pages are on several nodes or
	 * cannot be queried.
	 */
	int placed_node;
	int sealed; /* 1 once sealed */
	/*
	 * Mappings: module: of all processes; hugetlbfs: of this process
	 * through this library (other processes are not seen); anon: of
	 * this process.
	 */
	int map_count;
	/* bytes known to be mapped with 2 MiB pages; -1 not known */
	int64_t huge_bytes;
	enum amxrt_arena_backend backend;
};

/* "module", "hugetlbfs", "anon-hugetlb", "anon-thp"; NULL if out of range. */
const char *amxrt_arena_backend_name(enum amxrt_arena_backend backend);

/*
 * Parse a backend name as printed by amxrt_arena_backend_name(), ignoring
 * case. Returns the backend or -EINVAL.
 */
int amxrt_arena_backend_parse(const char *name);

/*
 * Whether a backend can provide arenas here. Returns 0 if it can, else
 * -ENOTSUP (-EINVAL out of range) and, if buf is not NULL, one sentence
 * saying why not (also in amxrt_errmsg()).
 */
int amxrt_arena_backend_usable(enum amxrt_arena_backend backend, char *buf,
			       size_t len);

/*
 * The backend this process uses for new arenas and for names given to
 * _open(), _destroy() and _list(). The first call chooses it (see the top
 * of this file); if AMXRT_ARENA names an unknown or unavailable backend,
 * this returns -EINVAL or -ENOTSUP (reason in amxrt_errmsg()) until
 * amxrt_arena_set_backend() succeeds. Thread-safe.
 */
int amxrt_arena_default_backend(void);

/*
 * Use a backend from now on. backend -1 chooses again as the first call
 * does (AMXRT_ARENA, else the first available). Returns 0, or -ENOTSUP
 * with the reason if it is not available (the backend in use is then
 * unchanged), -EINVAL if out of range. Open handles keep their backend.
 */
int amxrt_arena_set_backend(int backend);

/*
 * Why the backend in use was chosen, e.g. "/dev/amxrt not present (module
 * not loaded); /dev/hugepages is hugetlbfs: using hugetlbfs files in
 * /dev/hugepages/amxrt". Owned by the library; valid until the next
 * choice. Makes the choice if none was made yet.
 */
const char *amxrt_arena_backend_reason(void);

/*
 * Create an arena of size bytes (rounded up to 2 MiB) on NUMA node node
 * (-1: any node; else the pages come from that node or the call fails
 * with -ENOMEM, unless flags has AMXRT_ARENA_NODE_PREFERRED). The pages
 * are allocated and zeroed now. On success *out is a new handle. Returns
 * 0 or -errno (-EEXIST if the name is taken, -ENOMEM if the node cannot
 * supply the pages, -EINVAL bad argument or node).
 */
int amxrt_arena_create(const char *name, uint64_t size, int node,
		       unsigned int flags, struct amxrt_arena **out);

/* Open an existing arena by name. Returns 0 or -errno (-ENOENT). */
int amxrt_arena_open(const char *name, struct amxrt_arena **out);

/*
 * Map the whole arena; *addr receives its base address (2 MiB aligned).
 * flags: 0 for read-only, AMXRT_ARENA_MAP_WRITE for writable (-EPERM once
 * sealed). The anonymous backends have a single mapping per arena: a
 * read-only map of an unsealed anonymous arena is writable. Returns 0 or
 * -errno. The mapping belongs to the handle: _unmap() or _close() ends it.
 */
int amxrt_arena_map(struct amxrt_arena *a, unsigned int flags, void **addr);

/* End a mapping made by amxrt_arena_map(). Returns 0 or -EINVAL. */
int amxrt_arena_unmap(struct amxrt_arena *a, void *addr);

/*
 * Make the arena read-only for good: this handle's writable mappings
 * become read-only, later writable mappings are refused with -EPERM, and
 * a write through a mapping faults (SIGSEGV). Sealing twice is fine.
 * The module refuses with -EBUSY while another handle or process has a
 * writable mapping; the hugetlbfs backend cannot revoke those. Returns 0
 * or -errno.
 */
int amxrt_arena_seal(struct amxrt_arena *a);

/* Fill *info for the arena behind a handle. Returns 0 or -errno. */
int amxrt_arena_info(struct amxrt_arena *a, struct amxrt_arena_info *info);

/* The backend of an arena handle (-EINVAL for NULL). */
int amxrt_arena_backend(const struct amxrt_arena *a);

/*
 * Unmap the handle's mappings and free it. The arena itself stays until
 * amxrt_arena_destroy(). NULL is ignored.
 */
void amxrt_arena_close(struct amxrt_arena *a);

/*
 * Destroy an arena by name. Memory still mapped (by open handles, or
 * other processes for hugetlbfs) stays valid and is freed at the last
 * unmap; the module may instead refuse with -EBUSY while it is mapped.
 * Returns 0 or -errno (-ENOENT).
 */
int amxrt_arena_destroy(const char *name);

/*
 * The arenas of the backend in use, sorted by name: up to max entries go
 * to infos (which may be NULL when max is 0). Returns the total number of
 * arenas (may exceed max: call again with more room) or -errno.
 */
int amxrt_arena_list(struct amxrt_arena_info *infos, int max);

/* ---- the module --------------------------------------------------------*/

/* Most NUMA nodes amxrt_module_info() reports. */
#define AMXRT_MODULE_MAX_NODES 64

/* What /dev/amxrt reports about itself, the calling process and arenas. */
struct amxrt_module_info {
	int loaded; /* 1 if /dev/amxrt answered; the rest is then valid */
	char version[16]; /* module version, e.g. "0.1.0" */
	uint32_t abi_version; /* of the module; this library speaks 1 */
	int can_admin; /* this process may create, seal and destroy */
	/* AMX as the kernel sees it */
	uint32_t cpuid7_edx; /* raw CPUID.(7,0).EDX */
	int cpu_amx_tile, cpu_amx_int8, cpu_amx_bf16; /* CPUID bits */
	int kernel_tile_state; /* the kernel enabled tile config and data */
	int process_tile_perm; /* the calling process holds tile data */
	uint64_t xfeatures_perm; /* its permitted xfeatures (bit 18: tiles) */
	uint32_t max_palette, tile_total_bytes, tile_max_names;
	uint32_t tile_max_rows, tile_bytes_per_row;
	uint32_t tmul_max_k, tmul_max_n;
	uint32_t sigstack_min; /* bytes the signal stack needs; 0 unknown */
	/* NUMA: nodes online, each with its free memory */
	int nr_nodes; /* entries used in nodes[] */
	struct {
		int node;
		uint64_t free_bytes; /* free memory */
		uint64_t free_chunks; /* free 2 MiB blocks: what an arena
					 on that node can get now */
	} nodes[AMXRT_MODULE_MAX_NODES];
	/* counters since the module was loaded */
	uint64_t pmd_maps; /* 2 MiB page-table entries inserted */
	uint64_t pte_maps; /* 4 KiB page-table entries inserted */
	uint64_t faults;
	uint64_t arena_bytes, arena_limit; /* held now, the module's limit */
	uint64_t arenas, arenas_created, arenas_destroyed, alloc_failures;
};

/*
 * Ask /dev/amxrt about itself. Returns 0 with info->loaded 1, or -errno
 * with info->loaded 0 and the reason in amxrt_errmsg() (-ENOENT: no
 * /dev/amxrt, the module is not loaded; -EACCES: no permission to open
 * it; -EPROTO: its ABI version is not one this library speaks).
 */
int amxrt_module_info(struct amxrt_module_info *info);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif

#endif /* AMXRT_ARENA_H */
