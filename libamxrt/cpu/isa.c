// SPDX-License-Identifier: MIT
/*
 * isa.c - the instruction-set paths: their names, what each needs from the
 * CPU and the kernel (and one sentence saying what is missing), and the
 * one choice per process (amxrt_isa()), made from AMXRT_ISA or, without
 * it, the fastest usable path. A path that was asked for and cannot run is
 * an error; there is no silent fallback.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <amxrt/amxrt.h>

#include "../core/error.h"
#include "cpu.h"

#define WHY_LEN 512

static const char *const isa_names[AMXRT_ISA_COUNT] = {
	[AMXRT_ISA_GENERIC] = "generic",       [AMXRT_ISA_AVX2] = "avx2",
	[AMXRT_ISA_AVX512VNNI] = "avx512vnni", [AMXRT_ISA_AMX] = "amx",
	[AMXRT_ISA_AMX_SIM] = "amx-sim",
};

/* How a sentence names a path. */
static const char *const isa_labels[AMXRT_ISA_COUNT] = {
	[AMXRT_ISA_GENERIC] = "generic",	 [AMXRT_ISA_AVX2] = "AVX2",
	[AMXRT_ISA_AVX512VNNI] = "AVX-512 VNNI", [AMXRT_ISA_AMX] = "AMX",
	[AMXRT_ISA_AMX_SIM] = "amx-sim",
};

/* A CPUID bit a path needs, and where CPUID reports it. */
struct need {
	uint32_t bit;
	const char *name;
	const char *where;
};

static const struct need need_amx[] = {
	{ AMXRT_CPU_AMX_TILE, "AMX-TILE", "CPUID.7.0:EDX[24]" },
	{ AMXRT_CPU_AMX_INT8, "AMX-INT8", "CPUID.7.0:EDX[25]" },
	{ AMXRT_CPU_AMX_BF16, "AMX-BF16", "CPUID.7.0:EDX[22]" },
};

static const struct need need_avx512[] = {
	{ AMXRT_CPU_AVX512F, "AVX512F", "CPUID.7.0:EBX[16]" },
	{ AMXRT_CPU_AVX512DQ, "AVX512DQ", "CPUID.7.0:EBX[17]" },
	{ AMXRT_CPU_AVX512BW, "AVX512BW", "CPUID.7.0:EBX[30]" },
	{ AMXRT_CPU_AVX512VL, "AVX512VL", "CPUID.7.0:EBX[31]" },
	{ AMXRT_CPU_AVX512VNNI, "AVX512_VNNI", "CPUID.7.0:ECX[11]" },
};

static const struct need need_avx2[] = {
	{ AMXRT_CPU_AVX2, "AVX2", "CPUID.7.0:EBX[5]" },
	{ AMXRT_CPU_FMA, "FMA", "CPUID.1:ECX[12]" },
	{ AMXRT_CPU_F16C, "F16C", "CPUID.1:ECX[29]" },
};

#define NEEDS(a) a, sizeof(a) / sizeof(a[0])

/*
 * Add the missing CPUID bits of one list to a single "this CPU has no X
 * (where = 0), no Y (...)" clause kept in *cpu. Returns how many are
 * missing.
 */
static int missing(char *cpu, size_t len, uint32_t have, const struct need *n,
		   size_t count)
{
	int miss = 0;
	size_t i, used;

	for (i = 0; i < count; i++) {
		if (have & n[i].bit)
			continue;
		used = strnlen(cpu, len);
		snprintf(cpu + used, len - used, "%sno %s (%s = 0)",
			 used ? ", " : "this CPU has ", n[i].name, n[i].where);
		miss++;
	}
	return miss;
}

static void os_avx(char *why, size_t len, const struct amxrt_cpu_info *ci)
{
	if (ci->features & AMXRT_CPU_OS_AVX)
		return;
	if (!ci->xcr0)
		amxrt_clause(why, len,
			     "the OS has not enabled XSAVE (CPUID.1:ECX[27] "
			     "OSXSAVE = 0), so no AVX state");
	else
		amxrt_clause(why, len,
			     "the OS has not enabled AVX state (XCR0 = 0x%llx, "
			     "bits 1-2 must be set)",
			     (unsigned long long)ci->xcr0);
}

static void os_avx512(char *why, size_t len, const struct amxrt_cpu_info *ci)
{
	if ((ci->features & AMXRT_CPU_OS_AVX512) || !ci->xcr0)
		return;
	amxrt_clause(why, len,
		     "the OS has not enabled AVX-512 state (XCR0 = 0x%llx, "
		     "bits 5-7 must be set)",
		     (unsigned long long)ci->xcr0);
}

/*
 * Whether this machine can run isa (in range). Writes the reasons it
 * cannot, as "; "-separated clauses, to why. Returns 0 or -ENOTSUP. Sets
 * no error message. For AMX it asks for tile permission.
 */
static int isa_check(enum amxrt_isa isa, char *why, size_t len)
{
	const struct amxrt_cpu_info *ci = amxrt_cpu_cached();
	uint32_t f = ci->features;
	char cpu[WHY_LEN] = "";
	int avx512 = 0, amx = 0, bf16 = 0;

	why[0] = '\0';
	switch (isa) {
	case AMXRT_ISA_GENERIC:
		return 0;
	case AMXRT_ISA_AMX:
		amx = 1;
		/* fall through */
	case AMXRT_ISA_AMX_SIM:
		bf16 = 1;
		/* fall through */
	case AMXRT_ISA_AVX512VNNI:
		avx512 = 1;
		/* fall through */
	case AMXRT_ISA_AVX2:
		break;
	default:
		amxrt_clause(why, len, "%d is not a path", (int)isa);
		return -EINVAL;
	}

	if (amx)
		missing(cpu, sizeof(cpu), f, NEEDS(need_amx));
	if (avx512)
		missing(cpu, sizeof(cpu), f, NEEDS(need_avx512));
	missing(cpu, sizeof(cpu), f, NEEDS(need_avx2));
	if (cpu[0])
		amxrt_clause(why, len, "%s", cpu);
	if (bf16 && !(f & AMXRT_CPU_AVX512BF16))
		amxrt_clause(
			why, len,
			"this CPU has no AVX512_BF16 (CPUID.7.1:EAX[5] = 0), "
			"and the %s kernels are compiled with -mavx512bf16",
			amx ? "AMX" : "amx-sim");
	os_avx(why, len, ci);
	if (avx512)
		os_avx512(why, len, ci);
	if (amx) {
		struct amxrt_tile_facts tf;
		enum amxrt_tile_status st = amxrt_tile_request_facts(&tf);

		if (st != AMXRT_TILE_GRANTED) {
			char tw[WHY_LEN];

			amxrt_tile_explain(&tf, st, tw, sizeof(tw));
			amxrt_clause(why, len, "%s", tw);
		}
	}
	return why[0] ? -ENOTSUP : 0;
}

const char *amxrt_isa_name(enum amxrt_isa isa)
{
	if ((unsigned int)isa >= AMXRT_ISA_COUNT)
		return NULL;
	return isa_names[isa];
}

static int isa_lookup(const char *name)
{
	int i;

	for (i = 0; name && i < AMXRT_ISA_COUNT; i++)
		if (!strcasecmp(name, isa_names[i]))
			return i;
	return -EINVAL;
}

int amxrt_isa_parse(const char *name)
{
	int isa = isa_lookup(name);

	if (isa < 0)
		return amxrt_err(EINVAL,
				 "\"%s\" is not a path: use amx, amx-sim, "
				 "avx512vnni, avx2 or generic",
				 name ? name : "(null)");
	return isa;
}

int amxrt_isa_usable(enum amxrt_isa isa, char *buf, size_t len)
{
	char why[WHY_LEN];
	int err = isa_check(isa, why, sizeof(why));

	if (!err)
		return 0;
	if (err == -EINVAL) {
		if (buf && len)
			snprintf(buf, len, "%d is not a path (0 to %d)",
				 (int)isa, AMXRT_ISA_COUNT - 1);
		return amxrt_err(EINVAL, "%d is not a path (0 to %d)", (int)isa,
				 AMXRT_ISA_COUNT - 1);
	}
	if (buf && len)
		snprintf(buf, len, "%s: %s", isa_labels[isa], why);
	return amxrt_err(ENOTSUP, "%s: %s", isa_labels[isa], why);
}

/* ---- the choice ---------------------------------------------------------- */

static pthread_once_t isa_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t isa_lock = PTHREAD_MUTEX_INITIALIZER;
/* The path in use, or -errno when the choice failed. */
static atomic_int isa_cur;
/* Protected by isa_lock: */
static int isa_forced; /* amxrt_isa_set() succeeded: no first choice */
static char isa_fail[WHY_LEN + 64]; /* why the choice failed */

static void isa_choose(void)
{
	static const enum amxrt_isa order[] = {
		AMXRT_ISA_AMX,
		AMXRT_ISA_AVX512VNNI,
		AMXRT_ISA_AVX2,
	};
	const char *env = getenv("AMXRT_ISA");
	char why[WHY_LEN];
	int v = AMXRT_ISA_GENERIC;
	size_t i;

	pthread_mutex_lock(&isa_lock);
	if (isa_forced)
		goto out;
	if (env && *env) {
		v = isa_lookup(env);
		if (v < 0) {
			snprintf(isa_fail, sizeof(isa_fail),
				 "AMXRT_ISA=%.64s is not a path: use amx, "
				 "amx-sim, avx512vnni, avx2 or generic",
				 env);
			v = -EINVAL;
		} else if (isa_check(v, why, sizeof(why))) {
			snprintf(isa_fail, sizeof(isa_fail),
				 "AMXRT_ISA=%s cannot run here: %s: %s",
				 isa_names[v], isa_labels[v], why);
			v = -ENOTSUP;
		}
	} else {
		for (i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
			if (!isa_check(order[i], why, sizeof(why))) {
				v = order[i];
				break;
			}
		}
	}
	atomic_store_explicit(&isa_cur, v, memory_order_release);
out:
	pthread_mutex_unlock(&isa_lock);
}

int amxrt_isa(void)
{
	char msg[sizeof(isa_fail)];
	int v;

	pthread_once(&isa_once, isa_choose);
	v = atomic_load_explicit(&isa_cur, memory_order_acquire);
	if (v >= 0)
		return v;

	/* The message is per thread: give this thread its own copy. */
	pthread_mutex_lock(&isa_lock);
	v = atomic_load_explicit(&isa_cur, memory_order_relaxed);
	memcpy(msg, isa_fail, sizeof(msg));
	pthread_mutex_unlock(&isa_lock);
	if (v >= 0)
		return v;
	return amxrt_err(-v, "%s", msg);
}

int amxrt_isa_set(enum amxrt_isa isa)
{
	int err = amxrt_isa_usable(isa, NULL, 0);

	if (err)
		return err;
	pthread_mutex_lock(&isa_lock);
	isa_forced = 1;
	isa_fail[0] = '\0';
	atomic_store_explicit(&isa_cur, (int)isa, memory_order_release);
	pthread_mutex_unlock(&isa_lock);
	return 0;
}
