// SPDX-License-Identifier: MIT
/*
 * Description: CPU and kernel feature detection is consistent with itself
 * and with the kernel: the OS_* bits follow XCR0, AVX-512 sub-features
 * come with AVX512F, the AMX palette and TMUL fields are zero exactly when
 * the CPU has no AMX-TILE (and hold the architectural limits when it has),
 * /proc/cpuinfo's flags, family and model agree with CPUID, the kernel's
 * XCOMP masks fit XCR0, and the cached copy equals a fresh detection.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/auxv.h>

#include "kselftest_harness.h"

#include <amxrt/amxrt.h>

#include "../libamxrt/cpu/cpu.h"

#ifndef AT_MINSIGSTKSZ
#define AT_MINSIGSTKSZ 51
#endif

static void detect(struct amxrt_cpu_info *ci)
{
	memset(ci, 0xcc, sizeof(*ci));
	amxrt_cpu_detect(ci);
}

TEST(detect_fills_identity)
{
	struct amxrt_cpu_info a, b;
	size_t n;

	memset(&a, 0xcc, sizeof(a));
	ASSERT_EQ(0, amxrt_cpu_detect(&a));
	ASSERT_EQ(12, strlen(a.vendor));
	n = strlen(a.brand);
	ASSERT_LT(n, sizeof(a.brand));
	if (n) {
		EXPECT_NE(' ', a.brand[0]);
		EXPECT_NE(' ', a.brand[n - 1]);
	}
	EXPECT_NE(0, a.family);
	TH_LOG("%s \"%s\" family 0x%x model 0x%x stepping %u features 0x%x",
	       a.vendor, a.brand, a.family, a.model, a.stepping, a.features);

	/* Nothing here asks for permission, so two reads are identical. */
	detect(&b);
	ASSERT_EQ(0, memcmp(&a, &b, sizeof(a)));
}

TEST(os_bits_follow_xcr0)
{
	struct amxrt_cpu_info ci;
	uint32_t f;

	detect(&ci);
	f = ci.features;
	TH_LOG("xcr0 0x%llx", (unsigned long long)ci.xcr0);
	if (ci.xcr0)
		EXPECT_EQ(1, ci.xcr0 & 1); /* x87 state is always on */
	EXPECT_EQ((ci.xcr0 & 0x6) == 0x6, !!(f & AMXRT_CPU_OS_AVX));
	EXPECT_EQ((ci.xcr0 & 0xe0) == 0xe0, !!(f & AMXRT_CPU_OS_AVX512));
	EXPECT_EQ(!!(ci.xcr0 & (1ull << 17)), !!(f & AMXRT_CPU_OS_XTILECFG));
	EXPECT_EQ(!!(ci.xcr0 & (1ull << 18)), !!(f & AMXRT_CPU_OS_XTILEDATA));
	/* The OS enables tile configuration and data together. */
	EXPECT_EQ(!!(f & AMXRT_CPU_OS_XTILECFG),
		  !!(f & AMXRT_CPU_OS_XTILEDATA));
	/* AVX-512 state needs AVX state underneath. */
	if (f & AMXRT_CPU_OS_AVX512)
		EXPECT_TRUE(f & AMXRT_CPU_OS_AVX);
}

TEST(avx512_bits_are_consistent)
{
	const uint32_t sub = AMXRT_CPU_AVX512BW | AMXRT_CPU_AVX512VL |
			     AMXRT_CPU_AVX512VNNI | AMXRT_CPU_AVX512BF16 |
			     AMXRT_CPU_AVX512DQ;
	struct amxrt_cpu_info ci;
	uint32_t f;

	detect(&ci);
	f = ci.features;
	if (f & sub)
		EXPECT_TRUE(f & AMXRT_CPU_AVX512F);
	if (f & AMXRT_CPU_AVX512F) {
		/* Every AVX-512 CPU has AVX2 and FMA underneath. */
		EXPECT_TRUE(f & AMXRT_CPU_AVX2);
		EXPECT_TRUE(f & AMXRT_CPU_FMA);
		/*
		 * A kernel that knows AVX-512 enables its state; if it
		 * offers the state through XCOMP_SUPP, XCR0 must have it.
		 */
		if (!ci.xcomp_supp_err && (ci.xcomp_supp & 0xe0) == 0xe0)
			EXPECT_TRUE(f & AMXRT_CPU_OS_AVX512);
	}
	if (f & (AMXRT_CPU_AMX_INT8 | AMXRT_CPU_AMX_BF16))
		EXPECT_TRUE(f & AMXRT_CPU_AMX_TILE);
}

TEST(palette_zero_iff_no_amx)
{
	struct amxrt_cpu_info ci;

	detect(&ci);
	if (!(ci.features & AMXRT_CPU_AMX_TILE)) {
		EXPECT_EQ(0, ci.max_palette);
		EXPECT_EQ(0, ci.tile_total_bytes);
		EXPECT_EQ(0, ci.tile_bytes_per_tile);
		EXPECT_EQ(0, ci.tile_bytes_per_row);
		EXPECT_EQ(0, ci.tile_max_names);
		EXPECT_EQ(0, ci.tile_max_rows);
		EXPECT_EQ(0, ci.tmul_max_k);
		EXPECT_EQ(0, ci.tmul_max_n);
		return;
	}
	TH_LOG("palette %u: %u bytes, %u per tile, %u per row, %u names, "
	       "%u rows; tmul k %u n %u",
	       ci.max_palette, ci.tile_total_bytes, ci.tile_bytes_per_tile,
	       ci.tile_bytes_per_row, ci.tile_max_names, ci.tile_max_rows,
	       ci.tmul_max_k, ci.tmul_max_n);
	/* Palette 1 as the SDM gives it: 8 tiles of 16 rows x 64 bytes. */
	ASSERT_LE(1, ci.max_palette);
	EXPECT_EQ(8192, ci.tile_total_bytes);
	EXPECT_EQ(1024, ci.tile_bytes_per_tile);
	EXPECT_EQ(64, ci.tile_bytes_per_row);
	EXPECT_EQ(8, ci.tile_max_names);
	EXPECT_EQ(16, ci.tile_max_rows);
	EXPECT_EQ(ci.tile_total_bytes,
		  ci.tile_max_names * ci.tile_bytes_per_tile);
	EXPECT_EQ(ci.tile_bytes_per_tile,
		  ci.tile_max_rows * ci.tile_bytes_per_row);
	EXPECT_NE(0, ci.tmul_max_k);
	EXPECT_NE(0, ci.tmul_max_n);
}

/* The "flags" line and a few numbers of the first CPU in /proc/cpuinfo. */
struct cpuinfo {
	char flags[8192];
	int family, model, stepping;
};

static int read_cpuinfo(struct cpuinfo *out)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[8192];
	int have_flags = 0;

	memset(out, 0, sizeof(*out));
	out->family = out->model = out->stepping = -1;
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		char *v = strchr(line, ':');

		if (!v)
			continue;
		v++;
		if (!strncmp(line, "flags", 5) && !have_flags) {
			snprintf(out->flags, sizeof(out->flags), " %s", v);
			out->flags[strcspn(out->flags, "\n")] = ' ';
			have_flags = 1;
		} else if (!strncmp(line, "cpu family", 10) &&
			   out->family < 0) {
			out->family = atoi(v);
		} else if (!strncmp(line, "model\t", 6) && out->model < 0) {
			out->model = atoi(v);
		} else if (!strncmp(line, "stepping", 8) && out->stepping < 0) {
			out->stepping = atoi(v);
		}
	}
	fclose(f);
	return have_flags ? 0 : -ENOENT;
}

static int has_flag(const struct cpuinfo *c, const char *flag)
{
	char pat[64];

	snprintf(pat, sizeof(pat), " %s ", flag);
	return strstr(c->flags, pat) != NULL;
}

TEST(cpuinfo_flags_agree)
{
	static const struct {
		const char *flag;
		uint32_t bit, os; /* os: XCR0 state the kernel needs */
	} map[] = {
		{ "avx2", AMXRT_CPU_AVX2, AMXRT_CPU_OS_AVX },
		{ "fma", AMXRT_CPU_FMA, AMXRT_CPU_OS_AVX },
		{ "f16c", AMXRT_CPU_F16C, AMXRT_CPU_OS_AVX },
		{ "avx512f", AMXRT_CPU_AVX512F, AMXRT_CPU_OS_AVX512 },
		{ "avx512dq", AMXRT_CPU_AVX512DQ, AMXRT_CPU_OS_AVX512 },
		{ "avx512bw", AMXRT_CPU_AVX512BW, AMXRT_CPU_OS_AVX512 },
		{ "avx512vl", AMXRT_CPU_AVX512VL, AMXRT_CPU_OS_AVX512 },
		{ "avx512_vnni", AMXRT_CPU_AVX512VNNI, AMXRT_CPU_OS_AVX512 },
		{ "avx512_bf16", AMXRT_CPU_AVX512BF16, AMXRT_CPU_OS_AVX512 },
		{ "avx_vnni", AMXRT_CPU_AVXVNNI, AMXRT_CPU_OS_AVX },
		{ "amx_tile", AMXRT_CPU_AMX_TILE, AMXRT_CPU_OS_XTILEDATA },
		{ "amx_int8", AMXRT_CPU_AMX_INT8, AMXRT_CPU_OS_XTILEDATA },
		{ "amx_bf16", AMXRT_CPU_AMX_BF16, AMXRT_CPU_OS_XTILEDATA },
	};
	struct amxrt_cpu_info ci;
	struct cpuinfo c;
	size_t i;
	int err;

	err = read_cpuinfo(&c);
	if (err)
		SKIP(return, "/proc/cpuinfo has no flags line (%s)",
			   strerror(-err));
	detect(&ci);
	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		int flag = has_flag(&c, map[i].flag);
		int bit = !!(ci.features & map[i].bit);
		int os = !!(ci.features & map[i].os);

		/*
		 * The kernel shows a flag only if CPUID has it, and hides it
		 * when it does not enable the state (or clearcpuid= says so).
		 */
		if (flag && !bit)
			TH_LOG("/proc/cpuinfo has %s, CPUID does not",
			       map[i].flag);
		EXPECT_TRUE(!flag || bit);
		if (bit && os && !flag)
			TH_LOG("CPUID has %s and XCR0 its state, /proc/cpuinfo "
			       "does not show it (clearcpuid=?)",
			       map[i].flag);
		EXPECT_TRUE(!(bit && os) || flag);
	}
	if (c.family >= 0)
		EXPECT_EQ(c.family, (int)ci.family);
	if (c.model >= 0)
		EXPECT_EQ(c.model, (int)ci.model);
	if (c.stepping >= 0)
		EXPECT_EQ(c.stepping, (int)ci.stepping);
}

TEST(xcomp_masks_fit_xcr0)
{
	struct amxrt_cpu_info ci;

	detect(&ci);
	TH_LOG("xcomp supp 0x%llx (err %d), perm 0x%llx (err %d), "
	       "AT_MINSIGSTKSZ %llu",
	       (unsigned long long)ci.xcomp_supp, ci.xcomp_supp_err,
	       (unsigned long long)ci.xcomp_perm, ci.xcomp_perm_err,
	       (unsigned long long)ci.minsigstksz);
	EXPECT_EQ((uint64_t)getauxval(AT_MINSIGSTKSZ), ci.minsigstksz);
	if (ci.xcomp_supp_err) {
		/* Only kernels older than 5.16 lack the XCOMP options. */
		EXPECT_EQ(EINVAL, ci.xcomp_supp_err);
		EXPECT_EQ(0, ci.xcomp_supp);
		return;
	}
	EXPECT_EQ(0, ci.xcomp_perm_err);
	/* What the kernel offers is state it enabled in XCR0. */
	if (ci.xcr0)
		EXPECT_EQ(0, ci.xcomp_supp & ~ci.xcr0);
	/* Permitted is a part of supported. */
	EXPECT_EQ(0, ci.xcomp_perm & ~ci.xcomp_supp);
	/* Tile data is never permitted before someone asks. */
	EXPECT_EQ(0, ci.xcomp_perm & (1ull << 18));
	if (ci.xcomp_supp & (1ull << 18)) {
		/* AT_MINSIGSTKSZ counts the 8 KiB of tile data. */
		EXPECT_LT(8192, ci.minsigstksz);
		EXPECT_TRUE(ci.features & AMXRT_CPU_AMX_TILE);
	}
}

TEST(cached_equals_detect)
{
	const struct amxrt_cpu_info *c = amxrt_cpu_cached();
	struct amxrt_cpu_info ci;

	ASSERT_NE(NULL, c);
	ASSERT_EQ(c, amxrt_cpu_cached());
	detect(&ci);
	EXPECT_STREQ(ci.vendor, c->vendor);
	EXPECT_STREQ(ci.brand, c->brand);
	EXPECT_EQ(ci.features, c->features);
	EXPECT_EQ(ci.xcr0, c->xcr0);
	EXPECT_EQ(ci.max_palette, c->max_palette);
	EXPECT_EQ(ci.tmul_max_k, c->tmul_max_k);
	EXPECT_EQ(ci.xcomp_supp, c->xcomp_supp);
	EXPECT_EQ(ci.minsigstksz, c->minsigstksz);
}

TEST_HARNESS_MAIN
