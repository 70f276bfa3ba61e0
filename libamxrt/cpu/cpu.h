/* SPDX-License-Identifier: MIT */
/*
 * cpu.h - what cpuid.c, tile.c and isa.c share inside libamxrt: the CPU
 * information read once, the facts behind a tile permission request and
 * the pure function that turns those facts into one cause. Internal; the
 * symbols are hidden, not static, so the tests (linked against the static
 * library) can feed the classifier synthetic facts.
 */
#ifndef AMXRT_CPU_CPU_H
#define AMXRT_CPU_CPU_H

#include <stddef.h>
#include <stdint.h>

#include <amxrt/cpu.h>

#include "../core/error.h" /* AMXRT_HIDDEN */

/* arch_prctl codes (Linux 5.16, arch/x86/include/uapi/asm/prctl.h). */
#define AMXRT_ARCH_GET_XCOMP_SUPP 0x1021
#define AMXRT_ARCH_GET_XCOMP_PERM 0x1022
#define AMXRT_ARCH_REQ_XCOMP_PERM 0x1023
/* XSAVE components: 17 tile configuration, 18 tile data. */
#define AMXRT_XFEATURE_XTILECFG 17
#define AMXRT_XFEATURE_XTILEDATA 18
#define AMXRT_XTILECFG_MASK (1ull << AMXRT_XFEATURE_XTILECFG)
#define AMXRT_XTILEDATA_MASK (1ull << AMXRT_XFEATURE_XTILEDATA)

/*
 * CPUID, XGETBV and arch_prctl as read by the first call, then kept: hot
 * paths ask this instead of running CPUID again. Never NULL. Its
 * xcomp_perm is the permission at that first call; ask
 * amxrt_tile_request() for the current state of tile permission.
 */
AMXRT_HIDDEN const struct amxrt_cpu_info *amxrt_cpu_cached(void);

/*
 * Everything a tile permission request depends on. Errno fields hold a
 * positive errno value, or 0 when the call succeeded.
 */
struct amxrt_tile_facts {
	int cpu_amx; /* CPUID.7.0:EDX[24] AMX-TILE */
	uint64_t xcr0; /* XGETBV(0); 0 without OSXSAVE */
	uint64_t xcomp_supp; /* ARCH_GET_XCOMP_SUPP, when xcomp_supp_err = 0 */
	int xcomp_supp_err;
	/* The calling thread's alternate signal stack, against AT_MINSIGSTKSZ */
	int sigstack_small; /* enabled and smaller: the request was not made */
	size_t sigstack_size; /* its size, 0 if none or disabled */
	uint64_t minsigstksz; /* AT_MINSIGSTKSZ, 0 if the kernel has none */
	int req_err; /* ARCH_REQ_XCOMP_PERM; -1 when not asked */
	uint64_t perm; /* ARCH_GET_XCOMP_PERM after a successful request */
	int perm_err;
};

/*
 * The one cause the facts point to, first match wins:
 *   CPU without AMX-TILE                                   NO_CPU
 *   EINVAL from ARCH_GET_XCOMP_SUPP or ARCH_REQ_XCOMP_PERM  OLD_KERNEL
 *   XCR0 or XCOMP_SUPP without bit 18, or the request says
 *   EOPNOTSUPP or ENODEV                                   NOT_ENABLED
 *   this thread's sigaltstack too small, or ENOSPC         SIGSTACK
 *   request succeeded and XCOMP_PERM has bit 18 (or cannot
 *   be read)                                               GRANTED
 *   anything else                                          REFUSED
 * Pure: reads only *f.
 */
AMXRT_HIDDEN enum amxrt_tile_status
amxrt_tile_classify(const struct amxrt_tile_facts *f);

/*
 * amxrt_tile_request() that also returns the facts it acted on (*f may
 * not be NULL).
 */
AMXRT_HIDDEN enum amxrt_tile_status
amxrt_tile_request_facts(struct amxrt_tile_facts *f);

/*
 * One clause that says what the kernel (or the signal stack check)
 * answered, e.g. "arch_prctl(ARCH_REQ_XCOMP_PERM, 18) returned EOPNOTSUPP:
 * the kernel offers no tile state to request". Writes "" when granted.
 */
AMXRT_HIDDEN void amxrt_tile_explain(const struct amxrt_tile_facts *f,
				     enum amxrt_tile_status status, char *buf,
				     size_t len);

/* Append "; " (unless buf is empty) and a formatted clause to buf. */
AMXRT_HIDDEN void amxrt_clause(char *buf, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* "EINVAL", "EOPNOTSUPP", ...; "errno N" for ones amxrt never expects. */
AMXRT_HIDDEN const char *amxrt_errno_name(int err, char *buf, size_t len);

#endif /* AMXRT_CPU_CPU_H */
