// SPDX-License-Identifier: GPL-2.0
/*
 * amxrt_debugfs.c - /sys/kernel/debug/amxrt/: "arenas" (one line per arena:
 * id name bytes node node_mask sealed maps writable_maps fds) and "stats"
 * (one "name value" line per counter).
 */
#include <linux/debugfs.h>
#include <linux/seq_file.h>

#include "amxrt_internal.h"

static struct dentry *amxrt_debugfs_dir;

static int amxrt_arenas_show(struct seq_file *m, void *unused)
{
	struct amxrt_arena_entry e;
	struct amxrt_arena *a;

	seq_puts(
		m,
		"id name bytes node node_mask sealed maps writable_maps fds\n");
	mutex_lock(&amxrt_lock);
	list_for_each_entry(a, &amxrt_arenas, link) {
		amxrt_arena_fill_entry(a, &e);
		seq_printf(m, "%llu %s %llu %u 0x%llx %u %u %u %u\n", e.id,
			   e.name, e.bytes, e.node, e.node_mask,
			   !!(e.state & AMXRT_ARENA_SEALED), e.maps,
			   e.writable_maps, e.fds);
	}
	mutex_unlock(&amxrt_lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(amxrt_arenas);

static int amxrt_stats_show(struct seq_file *m, void *unused)
{
	unsigned int n;

	mutex_lock(&amxrt_lock);
	n = amxrt_nr_arenas;
	mutex_unlock(&amxrt_lock);
	seq_printf(m, "pmd_maps %lld\n", atomic64_read(&amxrt_stat.pmd_maps));
	seq_printf(m, "pte_maps %lld\n", atomic64_read(&amxrt_stat.pte_maps));
	seq_printf(m, "faults %lld\n", atomic64_read(&amxrt_stat.faults));
	seq_printf(m, "bytes_allocated %lld\n",
		   atomic64_read(&amxrt_stat.bytes_allocated));
	seq_printf(m, "bytes_limit %llu\n", amxrt_bytes_limit());
	seq_printf(m, "arenas %u\n", n);
	seq_printf(m, "arenas_created %lld\n",
		   atomic64_read(&amxrt_stat.arenas_created));
	seq_printf(m, "arenas_destroyed %lld\n",
		   atomic64_read(&amxrt_stat.arenas_destroyed));
	seq_printf(m, "alloc_failures %lld\n",
		   atomic64_read(&amxrt_stat.alloc_failures));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(amxrt_stats);

void amxrt_debugfs_init(void)
{
	amxrt_debugfs_dir = debugfs_create_dir(KBUILD_MODNAME, NULL);
	debugfs_create_file("arenas", 0444, amxrt_debugfs_dir, NULL,
			    &amxrt_arenas_fops);
	debugfs_create_file("stats", 0444, amxrt_debugfs_dir, NULL,
			    &amxrt_stats_fops);
}

void amxrt_debugfs_exit(void)
{
	debugfs_remove_recursive(amxrt_debugfs_dir);
}
