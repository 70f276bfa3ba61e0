// SPDX-License-Identifier: MIT
/* TEMPORARY: placeholders until cpu detection lands. Remove. */
#include <errno.h>
#include <amxrt/amxrt.h>
int amxrt_isa(void) { return AMXRT_ISA_GENERIC; }
int amxrt_isa_usable(enum amxrt_isa isa, char *b, size_t l) { (void)b; (void)l; return isa == AMXRT_ISA_GENERIC ? 0 : -ENOTSUP; }
const char *amxrt_isa_name(enum amxrt_isa isa) { return isa == 0 ? "generic" : "other"; }
