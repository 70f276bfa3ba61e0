/* SPDX-License-Identifier: MIT */
/*
 * mem.h - heap blocks for large tables and buffers, in huge pages. Internal.
 */
#ifndef AMXRT_CORE_MEM_H
#define AMXRT_CORE_MEM_H

#include <stddef.h>

#include "error.h" /* AMXRT_HIDDEN */

#define AMXRT_HUGE_PAGE ((size_t)2 << 20)

/*
 * bytes of memory, freed with free(). From 2 MiB up the block is 2 MiB-
 * aligned and advised for transparent huge pages (MADV_HUGEPAGE); below,
 * it is aligned to align (0: malloc()'s alignment). Or NULL.
 */
AMXRT_HIDDEN void *amxrt_alloc_huge(size_t bytes, size_t align);

#endif /* AMXRT_CORE_MEM_H */
