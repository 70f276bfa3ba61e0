// SPDX-License-Identifier: GPL-2.0
/*
 * amxrt_info.c - AMXRT_IOC_INFO (CPUID AMX leaves, the kernel's tile state,
 * the caller's tile permission and signal-stack size, NUMA free memory)
 * and AMXRT_IOC_STATS (the module's counters).
 */
#include <linux/auxvec.h>
#include <linux/mm.h>
#include <linux/mmzone.h>
#include <linux/nodemask.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <asm/fpu/api.h>
#include <asm/fpu/types.h>
#include <asm/processor.h>

#include "amxrt_internal.h"

#define CPUID7_EDX_AMX_BF16 BIT(22)
#define CPUID7_EDX_AMX_TILE BIT(24)
#define CPUID7_EDX_AMX_INT8 BIT(25)

static void amxrt_info_cpu(struct amxrt_info *info)
{
	unsigned int eax, ebx, ecx, edx;
	unsigned int max_leaf = boot_cpu_data.cpuid_level;

	if (max_leaf < 7)
		return;
	cpuid_count(7, 0, &eax, &ebx, &ecx, &edx);
	info->cpuid7_edx = edx;
	if (edx & CPUID7_EDX_AMX_BF16)
		info->cpu_amx |= AMXRT_INFO_AMX_BF16;
	if (edx & CPUID7_EDX_AMX_TILE)
		info->cpu_amx |= AMXRT_INFO_AMX_TILE;
	if (edx & CPUID7_EDX_AMX_INT8)
		info->cpu_amx |= AMXRT_INFO_AMX_INT8;
	if (!(edx & CPUID7_EDX_AMX_TILE))
		return;

	if (max_leaf >= 0x1d) {
		cpuid_count(0x1d, 0, &eax, &ebx, &ecx, &edx);
		info->palette_max = eax;
		if (eax >= 1) {
			cpuid_count(0x1d, 1, &eax, &ebx, &ecx, &edx);
			info->total_tile_bytes = eax & 0xffff;
			info->bytes_per_tile = eax >> 16;
			info->bytes_per_row = ebx & 0xffff;
			info->max_names = ebx >> 16;
			info->max_rows = ecx & 0xffff;
		}
	}
	if (max_leaf >= 0x1e) {
		cpuid_count(0x1e, 0, &eax, &ebx, &ecx, &edx);
		info->tmul_maxk = ebx & 0xff;
		info->tmul_maxn = (ebx >> 8) & 0xffff;
	}
}

/* The caller's AT_MINSIGSTKSZ, as the kernel put it in its auxv at exec. */
static u32 amxrt_info_sigstack(void)
{
	struct mm_struct *mm = current->mm;
	unsigned int i;

	if (!mm)
		return 0;
	for (i = 0; i + 1 < ARRAY_SIZE(mm->saved_auxv); i += 2) {
		if (mm->saved_auxv[i] == AT_NULL)
			break;
		if (mm->saved_auxv[i] == AT_MINSIGSTKSZ)
			return (u32)min_t(unsigned long, mm->saved_auxv[i + 1],
					  U32_MAX);
	}
	return 0;
}

/* Free buddy blocks of order 9 or more, counted in 2 MiB chunks. */
static u64 amxrt_zone_free_chunks(struct zone *zone)
{
	unsigned int order;
	u64 n = 0;

	for (order = AMXRT_CHUNK_ORDER; order < ARRAY_SIZE(zone->free_area);
	     order++) {
		/* unlocked, like /proc/buddyinfo's readers: a snapshot */
		u64 blocks = data_race(zone->free_area[order].nr_free);

		n += blocks << (order - AMXRT_CHUNK_ORDER);
	}
	return n;
}

static void amxrt_info_nodes(struct amxrt_info *info)
{
	int nid;

	for_each_online_node(nid) {
		pg_data_t *pgdat = NODE_DATA(nid);
		u64 free_pages = 0, chunks = 0;
		int z;

		info->nr_nodes++;
		if (nid >= AMXRT_MAX_NODES)
			continue;
		info->nodes_online |= 1ULL << nid;
		for (z = 0; z < MAX_NR_ZONES; z++) {
			struct zone *zone = &pgdat->node_zones[z];

			if (!populated_zone(zone))
				continue;
			free_pages += zone_page_state(zone, NR_FREE_PAGES);
			chunks += amxrt_zone_free_chunks(zone);
		}
		info->node_free_bytes[nid] = free_pages << PAGE_SHIFT;
		info->node_free_chunks[nid] = chunks;
	}
}

static bool amxrt_zero(const u64 *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

long amxrt_ioctl_info(struct file *file, void __user *argp)
{
	struct amxrt_info *info;
	u64 perm;
	long err = 0;

	info = kzalloc(sizeof(*info), GFP_KERNEL);
	if (!info)
		return -ENOMEM;
	if (copy_from_user(info, argp, sizeof(*info))) {
		err = -EFAULT;
		goto out;
	}
	if (info->size != sizeof(*info) || info->flags ||
	    !amxrt_zero(info->reserved, ARRAY_SIZE(info->reserved))) {
		err = -EINVAL;
		goto out;
	}
	memset(info, 0, sizeof(*info));
	info->size = sizeof(*info);
	info->module_version = AMXRT_VERSION_NUM;
	info->abi_version = AMXRT_ABI_VERSION;
	amxrt_info_cpu(info);
	if (cpu_has_xfeatures(
		    XFEATURE_MASK_XTILE_CFG | XFEATURE_MASK_XTILE_DATA, NULL))
		info->flags |= AMXRT_INFO_KERNEL_XTILE;
	/* Unlocked read of the group's permission mask: a quick check. */
	perm = READ_ONCE(current->group_leader->thread.fpu.perm.__state_perm);
	info->xfeatures_perm = perm;
	if (perm & XFEATURE_MASK_XTILE_DATA)
		info->flags |= AMXRT_INFO_PROC_TILE_PERM;
	info->sigstack_min = amxrt_info_sigstack();
	if (!info->sigstack_min)
		info->flags |= AMXRT_INFO_SIGSTK_UNKNOWN;
	if (amxrt_can_admin(file))
		info->flags |= AMXRT_INFO_CAN_ADMIN;
	amxrt_info_nodes(info);
	if (copy_to_user(argp, info, sizeof(*info)))
		err = -EFAULT;
out:
	kfree(info);
	return err;
}

long amxrt_ioctl_stats(void __user *argp)
{
	struct amxrt_stats st;

	if (copy_from_user(&st, argp, sizeof(st)))
		return -EFAULT;
	if (st.size != sizeof(st) || st.flags ||
	    !amxrt_zero(st.reserved, ARRAY_SIZE(st.reserved)))
		return -EINVAL;
	memset(&st, 0, sizeof(st));
	st.size = sizeof(st);
	st.pmd_maps = atomic64_read(&amxrt_stat.pmd_maps);
	st.pte_maps = atomic64_read(&amxrt_stat.pte_maps);
	st.faults = atomic64_read(&amxrt_stat.faults);
	st.bytes_allocated = atomic64_read(&amxrt_stat.bytes_allocated);
	st.bytes_limit = amxrt_bytes_limit();
	mutex_lock(&amxrt_lock);
	st.arenas = amxrt_nr_arenas;
	mutex_unlock(&amxrt_lock);
	st.arenas_created = atomic64_read(&amxrt_stat.arenas_created);
	st.arenas_destroyed = atomic64_read(&amxrt_stat.arenas_destroyed);
	st.alloc_failures = atomic64_read(&amxrt_stat.alloc_failures);
	if (copy_to_user(argp, &st, sizeof(st)))
		return -EFAULT;
	return 0;
}
