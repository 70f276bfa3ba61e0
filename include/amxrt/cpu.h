/* SPDX-License-Identifier: MIT */
/*
 * amxrt/cpu.h - what this CPU and kernel can run, and which path amxrt uses.
 *
 * Detection reads CPUID, XGETBV and the kernel's ARCH_GET_XCOMP_* state.
 * AMX tile data needs a per-process permission that only the process itself
 * can request (amxrt_tile_request()). One instruction-set path is chosen
 * once, at the first call that needs it: AMX, else AVX-512 VNNI, else AVX2,
 * else portable C. The environment variable AMXRT_ISA (amx, amx-sim,
 * avx512vnni, avx2, generic) forces one; forcing a path this machine cannot
 * run is an error, never a silent fallback.
 */
#ifndef AMXRT_CPU_H
#define AMXRT_CPU_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#pragma GCC visibility push(default)

/* Feature bits of struct amxrt_cpu_info.features. Append only. */
enum amxrt_cpu_feature {
	AMXRT_CPU_AVX2 = 1u << 0,
	AMXRT_CPU_FMA = 1u << 1,
	AMXRT_CPU_F16C = 1u << 2,
	AMXRT_CPU_AVX512F = 1u << 3,
	AMXRT_CPU_AVX512BW = 1u << 4,
	AMXRT_CPU_AVX512VL = 1u << 5,
	AMXRT_CPU_AVX512VNNI = 1u << 6,
	AMXRT_CPU_AVX512BF16 = 1u << 7,
	AMXRT_CPU_AMX_TILE = 1u << 8,
	AMXRT_CPU_AMX_INT8 = 1u << 9,
	AMXRT_CPU_AMX_BF16 = 1u << 10,
	AMXRT_CPU_OS_AVX = 1u << 11, /* XCR0 has SSE and AVX state */
	AMXRT_CPU_OS_AVX512 = 1u << 12, /* XCR0 has opmask and ZMM state */
	AMXRT_CPU_OS_XTILECFG = 1u << 13, /* XCR0 bit 17 */
	AMXRT_CPU_OS_XTILEDATA = 1u << 14, /* XCR0 bit 18 */
	AMXRT_CPU_AVXVNNI = 1u << 15, /* VEX-encoded VNNI (AVX-VNNI) */
	AMXRT_CPU_AVX512DQ = 1u << 16, /* CPUID.7.0:EBX[17] */
};

/* What CPUID, XGETBV and the kernel report. Filled by amxrt_cpu_detect(). */
struct amxrt_cpu_info {
	char vendor[13]; /* "GenuineIntel", "AuthenticAMD", ... */
	char brand[49]; /* CPUID 0x80000002..4, trimmed */
	uint32_t family, model, stepping;
	uint32_t features; /* enum amxrt_cpu_feature bits */
	uint64_t xcr0; /* 0 when OSXSAVE is off */

	/* CPUID leaf 0x1D, palette 1 (all zero without AMX) */
	uint32_t max_palette;
	uint32_t tile_total_bytes, tile_bytes_per_tile, tile_bytes_per_row;
	uint32_t tile_max_names, tile_max_rows;
	/* CPUID leaf 0x1E (TMUL) */
	uint32_t tmul_max_k, tmul_max_n;

	/* ARCH_GET_XCOMP_SUPP / ARCH_GET_XCOMP_PERM; errno when they fail */
	uint64_t xcomp_supp, xcomp_perm;
	int xcomp_supp_err, xcomp_perm_err;
	/* AT_MINSIGSTKSZ from the auxiliary vector (0 if the kernel has none) */
	uint64_t minsigstksz;
};

/*
 * Fill *info from CPUID, XGETBV and arch_prctl. Cheap; may be called at any
 * time. Returns 0.
 */
int amxrt_cpu_detect(struct amxrt_cpu_info *info);

/* Why tile data permission was or was not granted. Append only. */
enum amxrt_tile_status {
	AMXRT_TILE_GRANTED = 0,
	AMXRT_TILE_NO_CPU = 1, /* CPU lacks AMX-TILE */
	AMXRT_TILE_OLD_KERNEL = 2, /* kernel older than 5.16: no XCOMP */
	AMXRT_TILE_NOT_ENABLED = 3, /* kernel or hypervisor keeps it off */
	AMXRT_TILE_SIGSTACK = 4, /* an alternate signal stack is too small */
	AMXRT_TILE_REFUSED = 5, /* the kernel said no for another reason */
};

/*
 * Ask the kernel for permission to use AMX tile data in this process
 * (arch_prctl(ARCH_REQ_XCOMP_PERM, 18)), after checking that the calling
 * thread's alternate signal stack, if any, is at least AT_MINSIGSTKSZ (which
 * already counts the tile data); if it is smaller, this returns
 * AMXRT_TILE_SIGSTACK without asking. The kernel checks every thread's
 * stack and refuses with ENOSPC, also AMXRT_TILE_SIGSTACK. Returns the
 * outcome; *err_out, if not NULL, receives the errno the kernel gave (0 if
 * none or not asked). Thread-safe. A grant is remembered (the kernel never
 * withdraws it): asking again is cheap; a refusal is not, so asking again
 * after fixing the cause can succeed.
 */
enum amxrt_tile_status amxrt_tile_request(int *err_out);

/* One sentence that explains a tile status to a person. */
const char *amxrt_tile_status_str(enum amxrt_tile_status status);

/* Instruction-set paths, slowest first. Append only. */
enum amxrt_isa {
	AMXRT_ISA_GENERIC = 0, /* portable C */
	AMXRT_ISA_AVX2 = 1, /* AVX2 + FMA + F16C */
	AMXRT_ISA_AVX512VNNI = 2, /* AVX-512 F/BW/VL/VNNI (+BF16) */
	AMXRT_ISA_AMX = 3, /* AMX tiles for M > 1, AVX-512 VNNI for M = 1 */
	AMXRT_ISA_AMX_SIM = 4, /* the AMX kernels on the software tile
				     model: for validation, very slow */
	AMXRT_ISA_COUNT
};

/* "generic", "avx2", "avx512vnni", "amx", "amx-sim"; NULL if out of range. */
const char *amxrt_isa_name(enum amxrt_isa isa);

/*
 * Parse a name as printed by amxrt_isa_name(), ignoring case. Returns the
 * isa or -EINVAL (NULL or unknown name).
 */
int amxrt_isa_parse(const char *name);

/*
 * Whether this machine can run a path. Returns 0 if it can, else -ENOTSUP
 * (-EINVAL if isa is out of range) and, if buf is not NULL, writes one
 * sentence saying why not, which amxrt_errmsg() also returns. For amx this
 * asks for tile permission (amxrt_tile_request()).
 */
int amxrt_isa_usable(enum amxrt_isa isa, char *buf, size_t len);

/*
 * The path in use. The first call chooses it: AMXRT_ISA from the
 * environment if set and not empty, else the fastest usable path. If
 * AMXRT_ISA names an unknown or unusable path, the choice fails: this
 * returns -EINVAL or -ENOTSUP (and amxrt_errmsg() says why) until
 * amxrt_isa_set() succeeds. Thread-safe; cheap after the first call.
 */
int amxrt_isa(void);

/*
 * Force a path. Returns 0, or -ENOTSUP (with the reason in amxrt_errmsg())
 * if this machine cannot run it (-EINVAL if isa is out of range); the path
 * in use is then unchanged. Called before amxrt_isa(), it takes the place
 * of the first choice: AMXRT_ISA is not read.
 */
int amxrt_isa_set(enum amxrt_isa isa);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif

#endif /* AMXRT_CPU_H */
