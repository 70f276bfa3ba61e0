// SPDX-License-Identifier: MIT
/*
 * cpuid.c - what the CPU and the kernel offer: CPUID, XGETBV (XCR0), the
 * kernel's ARCH_GET_XCOMP_* answers and AT_MINSIGSTKSZ, gathered into
 * struct amxrt_cpu_info (amxrt_cpu_detect()) and kept once for hot paths
 * (amxrt_cpu_cached()).
 */
#include <cpuid.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <amxrt/amxrt.h>

#include "cpu.h"

#ifndef AT_MINSIGSTKSZ
#define AT_MINSIGSTKSZ 51
#endif

/* XCR0 components the paths need. */
#define XCR0_SSE_AVX 0x6ull /* bit 1 SSE, bit 2 AVX (YMM upper halves) */
#define XCR0_AVX512 0xe0ull /* bits 5-7: opmask, ZMM_Hi256, Hi16_ZMM */

struct regs {
	unsigned int a, b, c, d;
};

static void cpuid(unsigned int leaf, unsigned int sub, struct regs *r)
{
	__cpuid_count(leaf, sub, r->a, r->b, r->c, r->d);
}

/* Only valid when CPUID.1:ECX[27] (OSXSAVE) is set. */
static uint64_t xgetbv0(void)
{
	unsigned int lo, hi;

	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	return (uint64_t)hi << 32 | lo;
}

static int arch_prctl_get(int code, uint64_t *val)
{
	unsigned long v = 0;

	if (syscall(SYS_arch_prctl, code, &v)) {
		*val = 0;
		return errno ? errno : EINVAL;
	}
	*val = v;
	return 0;
}

static void read_brand(char *brand, size_t len)
{
	unsigned int leaf, max;
	struct regs r;
	char raw[49];
	char *s, *e;

	brand[0] = '\0';
	max = __get_cpuid_max(0x80000000u, NULL);
	if (max < 0x80000004u)
		return;
	for (leaf = 0; leaf < 3; leaf++) {
		cpuid(0x80000002u + leaf, 0, &r);
		memcpy(raw + 16 * leaf, &r, 16);
	}
	raw[48] = '\0';
	/* Trim: Intel pads the front, others the back. */
	for (s = raw; *s == ' '; s++)
		;
	e = s + strlen(s);
	while (e > s && e[-1] == ' ')
		e--;
	*e = '\0';
	snprintf(brand, len, "%s", s);
}

static void read_version(struct amxrt_cpu_info *info)
{
	unsigned int family, model;
	struct regs r;

	cpuid(1, 0, &r);
	family = (r.a >> 8) & 0xf;
	model = (r.a >> 4) & 0xf;
	if (family == 0xf)
		family += (r.a >> 20) & 0xff;
	/* As Linux (x86_model()): the extended model counts from family 6. */
	if (family >= 0x6)
		model |= ((r.a >> 16) & 0xf) << 4;
	info->family = family;
	info->model = model;
	info->stepping = r.a & 0xf;
}

static void read_tile_limits(struct amxrt_cpu_info *info, unsigned int max)
{
	struct regs r;

	if (max >= 0x1d) {
		cpuid(0x1d, 0, &r);
		info->max_palette = r.a;
		if (info->max_palette >= 1) {
			cpuid(0x1d, 1, &r);
			info->tile_total_bytes = r.a & 0xffff;
			info->tile_bytes_per_tile = r.a >> 16;
			info->tile_bytes_per_row = r.b & 0xffff;
			info->tile_max_names = r.b >> 16;
			info->tile_max_rows = r.c & 0xffff;
		}
	}
	if (max >= 0x1e) {
		cpuid(0x1e, 0, &r);
		info->tmul_max_k = r.b & 0xff;
		info->tmul_max_n = (r.b >> 8) & 0xffff;
	}
}

int amxrt_cpu_detect(struct amxrt_cpu_info *info)
{
	unsigned int max, f = 0;
	struct regs r;

	memset(info, 0, sizeof(*info));
	max = __get_cpuid_max(0, NULL);
	if (!max)
		return 0; /* no CPUID beyond leaf 0: nothing to report */

	cpuid(0, 0, &r);
	memcpy(info->vendor, &r.b, 4);
	memcpy(info->vendor + 4, &r.d, 4);
	memcpy(info->vendor + 8, &r.c, 4);
	info->vendor[12] = '\0';
	read_brand(info->brand, sizeof(info->brand));
	read_version(info);

	cpuid(1, 0, &r);
	if (r.c & bit_FMA)
		f |= AMXRT_CPU_FMA;
	if (r.c & bit_F16C)
		f |= AMXRT_CPU_F16C;
	if (r.c & bit_OSXSAVE)
		info->xcr0 = xgetbv0();

	if (max >= 7) {
		unsigned int sub_max;

		cpuid(7, 0, &r);
		sub_max = r.a;
		if (r.b & (1u << 5))
			f |= AMXRT_CPU_AVX2;
		if (r.b & (1u << 16))
			f |= AMXRT_CPU_AVX512F;
		if (r.b & (1u << 17))
			f |= AMXRT_CPU_AVX512DQ;
		if (r.b & (1u << 30))
			f |= AMXRT_CPU_AVX512BW;
		if (r.b & (1u << 31))
			f |= AMXRT_CPU_AVX512VL;
		if (r.c & (1u << 11))
			f |= AMXRT_CPU_AVX512VNNI;
		if (r.d & (1u << 22))
			f |= AMXRT_CPU_AMX_BF16;
		if (r.d & (1u << 24))
			f |= AMXRT_CPU_AMX_TILE;
		if (r.d & (1u << 25))
			f |= AMXRT_CPU_AMX_INT8;
		if (sub_max >= 1) {
			cpuid(7, 1, &r);
			if (r.a & (1u << 4))
				f |= AMXRT_CPU_AVXVNNI;
			if (r.a & (1u << 5))
				f |= AMXRT_CPU_AVX512BF16;
		}
	}

	if ((info->xcr0 & XCR0_SSE_AVX) == XCR0_SSE_AVX)
		f |= AMXRT_CPU_OS_AVX;
	if ((info->xcr0 & XCR0_AVX512) == XCR0_AVX512)
		f |= AMXRT_CPU_OS_AVX512;
	if (info->xcr0 & AMXRT_XTILECFG_MASK)
		f |= AMXRT_CPU_OS_XTILECFG;
	if (info->xcr0 & AMXRT_XTILEDATA_MASK)
		f |= AMXRT_CPU_OS_XTILEDATA;
	info->features = f;

	/* Leaves 0x1D/0x1E describe the tile unit; without one they are 0. */
	if (f & AMXRT_CPU_AMX_TILE)
		read_tile_limits(info, max);

	info->xcomp_supp_err =
		arch_prctl_get(AMXRT_ARCH_GET_XCOMP_SUPP, &info->xcomp_supp);
	info->xcomp_perm_err =
		arch_prctl_get(AMXRT_ARCH_GET_XCOMP_PERM, &info->xcomp_perm);
	info->minsigstksz = getauxval(AT_MINSIGSTKSZ);
	return 0;
}

static struct amxrt_cpu_info cached;
static pthread_once_t cached_once = PTHREAD_ONCE_INIT;

static void cache_detect(void)
{
	amxrt_cpu_detect(&cached);
}

const struct amxrt_cpu_info *amxrt_cpu_cached(void)
{
	pthread_once(&cached_once, cache_detect);
	return &cached;
}

const char *amxrt_errno_name(int err, char *buf, size_t len)
{
	switch (err) {
	case 0:
		return "0";
	case EINVAL:
		return "EINVAL";
	case EOPNOTSUPP:
		return "EOPNOTSUPP";
	case ENODEV:
		return "ENODEV";
	case ENOSPC:
		return "ENOSPC";
	case EBUSY:
		return "EBUSY";
	case EPERM:
		return "EPERM";
	case EFAULT:
		return "EFAULT";
	case ENOMEM:
		return "ENOMEM";
	case ENOSYS:
		return "ENOSYS";
	case EACCES:
		return "EACCES";
	}
	snprintf(buf, len, "errno %d", err);
	return buf;
}
