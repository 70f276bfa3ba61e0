// SPDX-License-Identifier: MIT
/*
 * mem.c - heap blocks for large tables and buffers, in huge pages.
 *
 * The read buffers of a load, a GGUF header's strings, a tokenizer's tables and
 * the read-bandwidth benchmark's buffer are megabytes of new memory, written
 * once (packed weights have their own slabs: wmem.c). In 4 KiB pages each page
 * is a page fault (costly under a hypervisor), and an O_DIRECT read into them
 * has thousands of pages to pin and map; in 2 MiB pages it has a few
 * (Documentation/loading.md, "2026-11-29 late"). THP must be "madvise" or
 * "always" for the advice to take; otherwise the block is plain memory and
 * everything works the same, only slower.
 */
#include <stdlib.h>
#include <sys/mman.h>

#include "mem.h"

void *amxrt_alloc_huge(size_t bytes, size_t align)
{
	void *p;

	if (bytes < AMXRT_HUGE_PAGE)
		return align ? aligned_alloc(align, (bytes + align - 1) &
							    ~(align - 1)) :
			       malloc(bytes);
	p = aligned_alloc(AMXRT_HUGE_PAGE, (bytes + AMXRT_HUGE_PAGE - 1) &
						   ~(AMXRT_HUGE_PAGE - 1));
	if (p)
		madvise(p, bytes, MADV_HUGEPAGE); /* advice: may be refused */
	return p;
}
