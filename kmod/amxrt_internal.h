/* SPDX-License-Identifier: GPL-2.0 */
/*
 * amxrt_internal.h - what the files of amxrt.ko share: the arena object,
 * the registry lock, counters and module parameters.
 *
 * Lock order: amxrt_lock (mutex, registry) before arena->lock (spinlock,
 * an arena's state and mapping counts). mmap_lock may be held when
 * arena->lock is taken (mmap, vm_ops open/close), never the other way,
 * and amxrt_lock is never held across a user copy.
 */
#ifndef AMXRT_INTERNAL_H
#define AMXRT_INTERNAL_H

#include <linux/atomic.h>
#include <linux/fs.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/amxrt.h>

#define AMXRT_VERSION_STR "0.1.0"
#define AMXRT_VERSION_NUM ((0 << 16) | (1 << 8) | 0)
#define AMXRT_CHUNK_ORDER 9 /* 2 MiB chunks of 4 KiB pages */
#define AMXRT_CHUNK_PAGES (1UL << AMXRT_CHUNK_ORDER)
#define AMXRT_CHUNK_BYTES (PAGE_SIZE << AMXRT_CHUNK_ORDER)

struct amxrt_arena {
	struct kref ref; /* the registry holds one, each arena fd one */
	struct list_head link; /* in amxrt_arenas, under amxrt_lock */
	char name[AMXRT_NAME_MAX];
	u64 id;
	u64 bytes;
	u64 node_mask;
	u32 node;
	unsigned long nr_chunks;

	spinlock_t lock; /* protects the fields below */
	bool sealed;
	bool destroyed;
	u32 maps; /* VMAs mapping it */
	u32 writable_maps; /* shared VMAs with VM_MAYWRITE */
	u32 fds; /* open arena files */

	struct page **chunks; /* nr_chunks compound pages of order 9 */
};

struct amxrt_counters {
	atomic64_t pmd_maps;
	atomic64_t pte_maps;
	atomic64_t faults;
	atomic64_t bytes_allocated;
	atomic64_t arenas_created;
	atomic64_t arenas_destroyed;
	atomic64_t alloc_failures;
};

extern struct amxrt_counters amxrt_stat;
extern struct mutex amxrt_lock;
extern struct list_head amxrt_arenas;
extern unsigned int amxrt_nr_arenas;

/* amxrt_main.c */
u64 amxrt_bytes_limit(void);
unsigned int amxrt_max_arenas(void);
bool amxrt_can_admin(struct file *file);
int amxrt_check_name(const char *name);

/* amxrt_info.c */
long amxrt_ioctl_info(struct file *file, void __user *argp);
long amxrt_ioctl_stats(void __user *argp);

/* amxrt_arena.c */
long amxrt_ioctl_create(struct file *file, void __user *argp);
long amxrt_ioctl_open(struct file *file, void __user *argp);
long amxrt_ioctl_seal(struct file *file, void __user *argp);
long amxrt_ioctl_destroy(struct file *file, void __user *argp);
long amxrt_ioctl_list(void __user *argp);
void amxrt_arena_fill_entry(struct amxrt_arena *arena,
			    struct amxrt_arena_entry *e);
int amxrt_arena_seal(struct amxrt_arena *arena);
void amxrt_arena_put(struct amxrt_arena *arena);
void amxrt_arenas_free_all(void);

/* amxrt_arena_file.c */
int amxrt_fs_init(void);
void amxrt_fs_exit(void);
struct file *amxrt_arena_file(struct amxrt_arena *arena, bool writable);

/* amxrt_debugfs.c */
void amxrt_debugfs_init(void);
void amxrt_debugfs_exit(void);

#endif /* AMXRT_INTERNAL_H */
