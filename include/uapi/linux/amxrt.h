/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * amxrt.h - the ABI of /dev/amxrt (amxrt.ko): AMX tile-state report and
 * NUMA-placed, 2 MiB-backed weight arenas shared between processes.
 *
 * Rules for every structure:
 *   - it starts with __u32 size: the caller sets it to sizeof(struct); the
 *     module accepts the sizes it knows and fails with EINVAL otherwise;
 *   - every flags field is checked: unknown bits fail with EINVAL;
 *   - reserved and pad fields must be zero on input (EINVAL otherwise) and
 *     are zero on output;
 *   - only __u32/__u64 (and fixed char arrays); user addresses are __u64;
 *     the layout is the same for 32- and 64-bit callers.
 *
 * Names: 1 to AMXRT_NAME_MAX - 1 bytes from 0x21..0x7e except '/',
 * NUL-terminated inside the array, and every byte after the NUL zero.
 *
 * Documentation/abi.md is the reference (fields, errors, examples).
 */
#ifndef _UAPI_LINUX_AMXRT_H
#define _UAPI_LINUX_AMXRT_H

#include <linux/types.h>
#include <linux/ioctl.h>

#define AMXRT_DEVICE_NAME "amxrt" /* /dev/amxrt */
#define AMXRT_ABI_VERSION 1
#define AMXRT_IOC_MAGIC 0xB8 /* unassigned in ioctl-number.rst (6.1) */

#define AMXRT_NAME_MAX 64 /* bytes, NUL included */
#define AMXRT_MAX_NODES 64 /* NUMA nodes reported by AMXRT_IOC_INFO */
#define AMXRT_CHUNK_SIZE (2ULL << 20) /* arenas are made of 2 MiB chunks */
#define AMXRT_NODE_LOCAL 0xffffffffU /* create: the caller's node */

/* ---- AMXRT_IOC_INFO ----------------------------------------------------- */

/* amxrt_info.cpu_amx: CPUID.(EAX=7,ECX=0):EDX bits, renumbered */
#define AMXRT_INFO_AMX_BF16 (1U << 0) /* EDX bit 22 */
#define AMXRT_INFO_AMX_TILE (1U << 1) /* EDX bit 24 */
#define AMXRT_INFO_AMX_INT8 (1U << 2) /* EDX bit 25 */

/* amxrt_info.flags (output) */
#define AMXRT_INFO_KERNEL_XTILE (1U << 0) /* kernel enabled XTILE cfg+data */
#define AMXRT_INFO_PROC_TILE_PERM (1U << 1) /* caller holds tile-data perm */
#define AMXRT_INFO_SIGSTK_UNKNOWN (1U << 2) /* sigstack_min not known: 0 */
#define AMXRT_INFO_CAN_ADMIN (1U << 3) /* this fd may create/seal/destroy */

struct amxrt_info {
	__u32 size; /* in: sizeof(struct amxrt_info) */
	__u32 flags; /* in: 0; out: AMXRT_INFO_* */
	__u32 module_version; /* (major << 16) | (minor << 8) | patch */
	__u32 abi_version; /* AMXRT_ABI_VERSION of the module */

	__u32 cpuid7_edx; /* raw CPUID.(7,0).EDX */
	__u32 cpu_amx; /* AMXRT_INFO_AMX_* */
	/* CPUID leaf 0x1D (tile palettes): subleaf 0 EAX, subleaf 1 */
	__u32 palette_max; /* highest palette id; 0: none */
	__u32 total_tile_bytes; /* palette 1: EAX[15:0] */
	__u32 bytes_per_tile; /* palette 1: EAX[31:16] */
	__u32 bytes_per_row; /* palette 1: EBX[15:0] */
	__u32 max_names; /* palette 1: EBX[31:16], tile registers */
	__u32 max_rows; /* palette 1: ECX[15:0] */
	/* CPUID leaf 0x1E (TMUL) */
	__u32 tmul_maxk; /* EBX[7:0], rows or columns */
	__u32 tmul_maxn; /* EBX[23:8], column bytes */

	__u32 sigstack_min; /* bytes: the kernel's AT_MINSIGSTKSZ for caller */
	__u32 nr_nodes; /* NUMA nodes online */
	__u64 xfeatures_perm; /* caller's permitted xfeatures (bit 18: tiles) */
	__u64 nodes_online; /* bit n: node n online (n < AMXRT_MAX_NODES) */
	__u64 node_free_bytes[AMXRT_MAX_NODES]; /* free memory per node */
	/*
	 * free buddy blocks of 2 MiB or more per node, in 2 MiB units: what
	 * an arena on that node can get now
	 */
	__u64 node_free_chunks[AMXRT_MAX_NODES];
	__u64 reserved[8];
};

/* ---- arenas ------------------------------------------------------------- */

/* create flags */
#define AMXRT_ARENA_ANY_NODE (1U << 0) /* chunks may come from other nodes */

/* amxrt_arena_entry.state */
#define AMXRT_ARENA_SEALED (1U << 0) /* read-only for good */
#define AMXRT_ARENA_DESTROYED (1U << 1) /* unnamed, freed at last close */

/*
 * AMXRT_IOC_ARENA_CREATE: a named arena of bytes (rounded up to 2 MiB)
 * made of 2 MiB chunks on node (AMXRT_NODE_LOCAL: the caller's node).
 * Without AMXRT_ARENA_ANY_NODE every chunk comes from that node or the
 * call fails with ENOMEM. Returns an arena fd (O_CLOEXEC, read-write) to
 * mmap at offset 0. The arena lives until AMXRT_IOC_ARENA_DESTROY, not
 * until the fd is closed.
 */
struct amxrt_arena_create {
	__u32 size; /* in: sizeof(struct amxrt_arena_create) */
	__u32 flags; /* in: AMXRT_ARENA_ANY_NODE */
	char name[AMXRT_NAME_MAX]; /* in */
	__u64 bytes; /* in: requested; out: rounded up to 2 MiB */
	__u32 node; /* in: NUMA node or AMXRT_NODE_LOCAL; out: node used */
	__u32 fd; /* out: arena fd */
	__u64 id; /* out: unique for the module's lifetime, never 0 */
	__u64 node_mask; /* out: nodes its chunks are on (bit n: node n) */
	__u64 reserved[4];
};

/* One arena, as AMXRT_IOC_ARENA_OPEN and AMXRT_IOC_ARENA_LIST give it. */
struct amxrt_arena_entry {
	char name[AMXRT_NAME_MAX];
	__u64 id;
	__u64 bytes;
	__u64 node_mask; /* nodes its chunks are on */
	__u32 node; /* node asked for (resolved AMXRT_NODE_LOCAL) */
	__u32 state; /* AMXRT_ARENA_SEALED, AMXRT_ARENA_DESTROYED */
	__u32 maps; /* live mappings (VMAs) */
	__u32 writable_maps; /* of those, shared ones that may write */
	__u32 fds; /* open arena fds */
	__u32 pad;
	__u64 reserved[2];
};

/* open flags */
#define AMXRT_OPEN_RDONLY (1U << 0) /* read-only fd even if allowed more */

/*
 * AMXRT_IOC_ARENA_OPEN: an fd for an existing arena, by name. The fd is
 * read-write only when the device fd may administer arenas (see
 * AMXRT_INFO_CAN_ADMIN), the arena is not sealed and AMXRT_OPEN_RDONLY is
 * not given; otherwise read-only.
 */
struct amxrt_arena_open {
	__u32 size; /* in: sizeof(struct amxrt_arena_open) */
	__u32 flags; /* in: AMXRT_OPEN_RDONLY */
	char name[AMXRT_NAME_MAX]; /* in */
	__u32 fd; /* out: arena fd (O_CLOEXEC) */
	__u32 pad;
	struct amxrt_arena_entry entry; /* out */
	__u64 reserved[4];
};

/*
 * AMXRT_IOC_ARENA_SEAL and AMXRT_IOC_ARENA_DESTROY: by name, on /dev/amxrt.
 * SEAL also works on a read-write arena fd, with an empty name: it seals
 * that arena. Sealing is refused with EBUSY while a shared mapping that may
 * write exists (munmap first); sealing twice succeeds. DESTROY is refused
 * with EBUSY while the arena is mapped; otherwise its name is free at once
 * and its memory goes back when the last arena fd closes.
 */
struct amxrt_arena_ref {
	__u32 size; /* in: sizeof(struct amxrt_arena_ref) */
	__u32 flags; /* in: 0 */
	char name[AMXRT_NAME_MAX]; /* in */
	__u64 reserved[4];
};

/*
 * AMXRT_IOC_ARENA_LIST: copies up to count entries (sorted by id) to the
 * user buffer at entries; returns count written and total existing.
 * count 0 (entries may be 0) asks for total only.
 */
struct amxrt_arena_list {
	__u32 size; /* in: sizeof(struct amxrt_arena_list) */
	__u32 flags; /* in: 0 */
	__u32 entry_size; /* in: sizeof(struct amxrt_arena_entry) */
	__u32 count; /* in: entries the buffer holds; out: entries written */
	__u64 entries; /* in: user address of struct amxrt_arena_entry[count] */
	__u32 total; /* out: arenas existing (named) */
	__u32 pad;
	__u64 reserved[4];
};

/* AMXRT_IOC_ARENA_QUERY: on an arena fd, that arena's entry. */
struct amxrt_arena_query {
	__u32 size; /* in: sizeof(struct amxrt_arena_query) */
	__u32 flags; /* in: 0 */
	struct amxrt_arena_entry entry; /* out */
	__u64 reserved[4];
};

/* ---- AMXRT_IOC_STATS ---------------------------------------------------- */

struct amxrt_stats {
	__u32 size; /* in: sizeof(struct amxrt_stats) */
	__u32 flags; /* in: 0 */
	__u64 pmd_maps; /* 2 MiB page-table entries inserted */
	__u64 pte_maps; /* 4 KiB page-table entries inserted */
	__u64 faults; /* fault handler calls (both sizes) */
	__u64 bytes_allocated; /* arena memory held now */
	__u64 bytes_limit; /* max_total_mb, in bytes */
	__u64 arenas; /* named arenas now */
	__u64 arenas_created; /* since load */
	__u64 arenas_destroyed; /* since load */
	__u64 alloc_failures; /* creates failed for lack of memory */
	__u64 reserved[7];
};

/* ---- commands ----------------------------------------------------------- */

#define AMXRT_IOC_INFO _IOWR(AMXRT_IOC_MAGIC, 0x00, struct amxrt_info)
#define AMXRT_IOC_STATS _IOWR(AMXRT_IOC_MAGIC, 0x01, struct amxrt_stats)
#define AMXRT_IOC_ARENA_CREATE \
	_IOWR(AMXRT_IOC_MAGIC, 0x10, struct amxrt_arena_create)
#define AMXRT_IOC_ARENA_OPEN \
	_IOWR(AMXRT_IOC_MAGIC, 0x11, struct amxrt_arena_open)
#define AMXRT_IOC_ARENA_SEAL _IOW(AMXRT_IOC_MAGIC, 0x12, struct amxrt_arena_ref)
#define AMXRT_IOC_ARENA_DESTROY \
	_IOW(AMXRT_IOC_MAGIC, 0x13, struct amxrt_arena_ref)
#define AMXRT_IOC_ARENA_LIST \
	_IOWR(AMXRT_IOC_MAGIC, 0x14, struct amxrt_arena_list)
#define AMXRT_IOC_ARENA_QUERY \
	_IOWR(AMXRT_IOC_MAGIC, 0x15, struct amxrt_arena_query)

#endif /* _UAPI_LINUX_AMXRT_H */
