// SPDX-License-Identifier: MIT
/*
 * Description: the software model of AMX (libamxrt/kernels/tilesim.c) on
 * small matrices whose results are worked out by hand in the comments:
 * tile configuration and its round trip, loads and stores with strides,
 * partial rows and columns and start_row, TILEZERO, the signedness of
 * each TDPB??D and int32 wraparound, TDPBF16PS rounding, DAZ, FTZ and
 * special values bit for bit, and each fault the hardware raises (#UD as
 * SIGILL, #GP as SIGSEGV).
 */
#include <signal.h>
#include <stdint.h>
#include <string.h>

#include "kselftest_harness.h"

#include "../libamxrt/kernels/tilesim.h"

/* The LDTILECFG / STTILECFG memory layout. */
struct cfg {
	uint8_t palette;
	uint8_t start_row;
	uint8_t reserved[14];
	uint16_t colsb[16];
	uint8_t rows[16];
};

static struct cfg cfg1(void)
{
	struct cfg c;

	memset(&c, 0, sizeof(c));
	c.palette = 1;
	return c;
}

static void shape(struct cfg *c, int t, int rows, int colsb)
{
	c->rows[t] = (uint8_t)rows;
	c->colsb[t] = (uint16_t)colsb;
}

/* Configure c = tmm0, a = tmm1, b = tmm2 for an M x N x K-dword product. */
static void cfg_mnk(int m, int n, int k)
{
	struct cfg c = cfg1();

	shape(&c, 0, m, 4 * n);
	shape(&c, 1, m, 4 * k);
	shape(&c, 2, k, 4 * n);
	amxrt_tilesim_ldtilecfg(&c);
}

/*
 * Sanitizers catch SIGSEGV themselves and exit; the fault tests want the
 * process to die of the signal as it would on hardware.
 */
static void default_signals(void)
{
	signal(SIGSEGV, SIG_DFL);
	signal(SIGILL, SIG_DFL);
}

static uint8_t xs[8][16][64];

static void xsave(void)
{
	amxrt_tilesim_xsave_tiledata(xs);
}

/* ---- configuration --------------------------------------------------- */

TEST(config_round_trip)
{
	struct cfg c = cfg1(), out;
	uint8_t zero[64] = { 0 };

	/* unconfigured: STTILECFG stores 64 zero bytes */
	memset(&out, 0xcc, sizeof(out));
	amxrt_tilesim_sttilecfg(&out);
	ASSERT_EQ(0, memcmp(&out, zero, 64));

	/* odd but legal shapes: colsb need not be a multiple of 4 here */
	c.start_row = 3;
	shape(&c, 0, 16, 64);
	shape(&c, 1, 1, 1);
	shape(&c, 3, 7, 5);
	shape(&c, 7, 16, 4);
	amxrt_tilesim_ldtilecfg(&c);
	memset(&out, 0xcc, sizeof(out));
	amxrt_tilesim_sttilecfg(&out);
	ASSERT_EQ(0, memcmp(&out, &c, 64));

	/* TILEZERO clears start_row, as every tile instruction does */
	amxrt_tilesim_tilezero(0);
	c.start_row = 0;
	amxrt_tilesim_sttilecfg(&out);
	ASSERT_EQ(0, memcmp(&out, &c, 64));

	/* TILERELEASE: back to the init state */
	amxrt_tilesim_tilerelease();
	amxrt_tilesim_sttilecfg(&out);
	ASSERT_EQ(0, memcmp(&out, zero, 64));

	/* palette 0 is the init state whatever the other bytes say */
	amxrt_tilesim_ldtilecfg(&c);
	memset(&out, 0xff, sizeof(out));
	out.palette = 0;
	amxrt_tilesim_ldtilecfg(&out);
	amxrt_tilesim_sttilecfg(&out);
	ASSERT_EQ(0, memcmp(&out, zero, 64));
}

TEST(ldtilecfg_zeroes_tile_data)
{
	struct cfg c = cfg1();
	uint8_t src[64];
	int i;

	for (i = 0; i < 64; i++)
		src[i] = (uint8_t)(i + 1);
	shape(&c, 5, 1, 64);
	amxrt_tilesim_ldtilecfg(&c);
	amxrt_tilesim_tileloadd(5, src, 64);
	xsave();
	ASSERT_EQ(1, xs[5][0][0]);
	ASSERT_EQ(64, xs[5][0][63]);
	amxrt_tilesim_ldtilecfg(&c);
	xsave();
	ASSERT_EQ(0, xs[5][0][0]);
	ASSERT_EQ(0, xs[5][0][63]);
}

/* ---- loads, stores, TILEZERO ------------------------------------------ */

TEST(load_store_partial_rows_and_columns)
{
	struct cfg c = cfg1();
	uint8_t src[100], dst[64];
	int r, j;

	for (j = 0; j < 100; j++)
		src[j] = (uint8_t)(0x40 + j);
	/* tmm0: 3 rows of 12 bytes; source rows 20 bytes apart */
	shape(&c, 0, 3, 12);
	amxrt_tilesim_ldtilecfg(&c);
	amxrt_tilesim_tileloadd(0, src, 20);
	xsave();
	for (r = 0; r < 16; r++)
		for (j = 0; j < 64; j++)
			ASSERT_EQ(r < 3 && j < 12 ? 0x40 + 20 * r + j : 0,
				  xs[0][r][j]);

	/* stored 16 bytes apart: 12 bytes per row, nothing else touched */
	memset(dst, 0xee, sizeof(dst));
	amxrt_tilesim_tilestored(0, dst, 16);
	for (j = 0; j < 64; j++)
		ASSERT_EQ(j < 48 && j % 16 < 12 ?
				  0x40 + 20 * (j / 16) + j % 16 :
				  0xee,
			  dst[j]);

	/* a negative stride walks backwards: row r at src + 80 - 40 r */
	amxrt_tilesim_tileloaddt1(0, src + 80, -40);
	memset(dst, 0xee, sizeof(dst));
	amxrt_tilesim_tilestored(0, dst, 12);
	for (j = 0; j < 36; j++)
		ASSERT_EQ(0x40 + 80 - 40 * (j / 12) + j % 12, dst[j]);
	ASSERT_EQ(0xee, dst[36]);
}

TEST(load_start_row)
{
	struct cfg c = cfg1(), out;
	uint8_t a[4][8], b[4][8];
	int r, j;

	for (r = 0; r < 4; r++) {
		for (j = 0; j < 8; j++) {
			a[r][j] = (uint8_t)(0x10 * r + j);
			b[r][j] = (uint8_t)(0x80 + 0x10 * r + j);
		}
	}
	shape(&c, 2, 4, 8);
	amxrt_tilesim_ldtilecfg(&c);
	amxrt_tilesim_tileloadd(2, a, 8);
	/* restart at row 2: rows 0 and 1 keep a, rows 2 and 3 get b */
	c.start_row = 2;
	amxrt_tilesim_ldtilecfg(&c); /* (this also zeroes the tiles) */
	amxrt_tilesim_tileloadd(2, b, 8);
	xsave();
	for (j = 0; j < 8; j++) {
		ASSERT_EQ(0, xs[2][0][j]);
		ASSERT_EQ(0, xs[2][1][j]);
		ASSERT_EQ(b[2][j], xs[2][2][j]);
		ASSERT_EQ(b[3][j], xs[2][3][j]);
	}
	amxrt_tilesim_sttilecfg(&out);
	ASSERT_EQ(0, out.start_row);
	/* the next load starts at row 0 again */
	amxrt_tilesim_tileloadd(2, a, 8);
	xsave();
	ASSERT_EQ(a[0][7], xs[2][0][7]);
	ASSERT_EQ(a[3][0], xs[2][3][0]);
}

TEST(tilezero)
{
	struct cfg c = cfg1();
	uint8_t src[16 * 64], dst[16 * 64];

	memset(src, 0x5a, sizeof(src));
	shape(&c, 6, 16, 64);
	amxrt_tilesim_ldtilecfg(&c);
	amxrt_tilesim_tileloadd(6, src, 64);
	amxrt_tilesim_tilezero(6);
	memset(dst, 0xee, sizeof(dst));
	amxrt_tilesim_tilestored(6, dst, 64);
	memset(src, 0, sizeof(src));
	ASSERT_EQ(0, memcmp(src, dst, sizeof(dst)));
}

/* ---- integer dot products ---------------------------------------------- */

/*
 * One dword each: a = bytes {0xff, 0x02, 0x80, 0x7f}, b = {0x01, 0xfe,
 * 0x80, 0x03}, c starts at 1000. Signed bytes: a = (-1, 2, -128, 127),
 * b = (1, -2, -128, 3); unsigned: a = (255, 2, 128, 127), b = (1, 254,
 * 128, 3).
 *   SS: -1*1 + 2*-2 + -128*-128 + 127*3 = -1 - 4 + 16384 + 381 = 16760
 *   SU: -1*1 + 2*254 + -128*128 + 127*3 = -1 + 508 - 16384 + 381 = -15496
 *   US: 255*1 + 2*-2 + 128*-128 + 127*3 = 255 - 4 - 16384 + 381 = -15752
 *   UU: 255*1 + 2*254 + 128*128 + 127*3 = 255 + 508 + 16384 + 381 = 17528
 */
static int32_t dp1(void (*op)(int, int, int))
{
	const uint8_t a[4] = { 0xff, 0x02, 0x80, 0x7f };
	const uint8_t b[4] = { 0x01, 0xfe, 0x80, 0x03 };
	int32_t c = 1000;

	cfg_mnk(1, 1, 1);
	amxrt_tilesim_tileloadd(0, &c, 4);
	amxrt_tilesim_tileloadd(1, a, 4);
	amxrt_tilesim_tileloadd(2, b, 4);
	op(0, 1, 2);
	amxrt_tilesim_tilestored(0, &c, 4);
	return c;
}

TEST(tdp_signedness)
{
	ASSERT_EQ(1000 + 16760, dp1(amxrt_tilesim_tdpbssd));
	ASSERT_EQ(1000 - 15496, dp1(amxrt_tilesim_tdpbsud));
	ASSERT_EQ(1000 - 15752, dp1(amxrt_tilesim_tdpbusd));
	ASSERT_EQ(1000 + 17528, dp1(amxrt_tilesim_tdpbuud));
}

/*
 * A 2 x 8 times 8 x 2 product, B in VNNI order (B row k, bytes 4n..4n+3
 * = column n of the 8 x 2 matrix at k = 4k..4k+3):
 *   A = [  1  2  3  4  5  6  7  8 ]   Bmat columns: n0 = all 1,
 *       [ -1 -2 -3 -4 -5 -6 -7 -8 ]                 n1 = (1 0 -1 0 2 0 -2 0)
 *   C = [  36  -6 ]   (1+..+8 = 36; 1 - 3 + 10 - 14 = -6)
 *       [ -36   6 ]
 */
TEST(tdpbssd_index_mapping)
{
	const int8_t a[2][8] = { { 1, 2, 3, 4, 5, 6, 7, 8 },
				 { -1, -2, -3, -4, -5, -6, -7, -8 } };
	const int8_t b[2][8] = { { 1, 1, 1, 1, 1, 0, -1, 0 },
				 { 1, 1, 1, 1, 2, 0, -2, 0 } };
	int32_t c[2][2] = { { 0, 0 }, { 0, 0 } };

	cfg_mnk(2, 2, 2);
	amxrt_tilesim_tilezero(0);
	amxrt_tilesim_tileloadd(1, a, 8);
	amxrt_tilesim_tileloadd(2, b, 8);
	amxrt_tilesim_tdpbssd(0, 1, 2);
	amxrt_tilesim_tilestored(0, c, 8);
	ASSERT_EQ(36, c[0][0]);
	ASSERT_EQ(-6, c[0][1]);
	ASSERT_EQ(-36, c[1][0]);
	ASSERT_EQ(6, c[1][1]);
	/* accumulating again doubles it */
	amxrt_tilesim_tdpbssd(0, 1, 2);
	amxrt_tilesim_tilestored(0, c, 8);
	ASSERT_EQ(72, c[0][0]);
	ASSERT_EQ(12, c[1][1]);
}

/*
 *   UU, c = 0x7fffffff, a = b = four 0xff: 4 * 255 * 255 = 260100
 *     = 0x3f804; 0x7fffffff + 0x3f804 = 0x8003f803 = -2147223549.
 *   SS, c = 0x80000000, a = four -128, b = four 127: 4 * -16256 =
 *     -65024 = -0xfe00; 0x80000000 - 0xfe00 = 0x7fff0200 = 2147418624.
 */
TEST(tdp_int32_wraps)
{
	const uint8_t ff[4] = { 0xff, 0xff, 0xff, 0xff };
	const uint8_t m128[4] = { 0x80, 0x80, 0x80, 0x80 };
	const uint8_t p127[4] = { 0x7f, 0x7f, 0x7f, 0x7f };
	int32_t c = INT32_MAX;

	cfg_mnk(1, 1, 1);
	amxrt_tilesim_tileloadd(0, &c, 4);
	amxrt_tilesim_tileloadd(1, ff, 4);
	amxrt_tilesim_tileloadd(2, ff, 4);
	amxrt_tilesim_tdpbuud(0, 1, 2);
	amxrt_tilesim_tilestored(0, &c, 4);
	ASSERT_EQ(-2147223549, c);

	c = INT32_MIN;
	amxrt_tilesim_tileloadd(0, &c, 4);
	amxrt_tilesim_tileloadd(1, m128, 4);
	amxrt_tilesim_tileloadd(2, p127, 4);
	amxrt_tilesim_tdpbssd(0, 1, 2);
	amxrt_tilesim_tilestored(0, &c, 4);
	ASSERT_EQ(2147418624, c);
}

/* A TDP writes c's colsb bytes of its rows and zeroes the rest. */
TEST(tdp_zeroes_past_c_shape)
{
	const uint8_t one[4] = { 1, 1, 1, 1 };
	const int32_t c0 = 0x77777777;

	cfg_mnk(1, 1, 1);
	amxrt_tilesim_tileloadd(0, &c0, 4);
	amxrt_tilesim_tileloadd(1, one, 4);
	amxrt_tilesim_tileloadd(2, one, 4);
	amxrt_tilesim_tdpbuud(0, 1, 2);
	xsave();
	/* 0x77777777 + 4 = 0x7777777b, little-endian */
	ASSERT_EQ(0x7b, xs[0][0][0]);
	ASSERT_EQ(0x77, xs[0][0][3]);
	ASSERT_EQ(0, xs[0][0][4]);
	ASSERT_EQ(0, xs[0][1][0]);
}

/* ---- TDPBF16PS ----------------------------------------------------------- */

static uint32_t f2u(float f)
{
	uint32_t u;

	memcpy(&u, &f, 4);
	return u;
}

/*
 * c (fp32 bits) += one row of pairs: a[0..2k) and b[0..2k) are bf16 bits,
 * pair j = (a[2j], a[2j+1]) with (b[2j], b[2j+1]) (B row j); k <= 4.
 */
static uint32_t bf_dot(uint32_t c, const uint16_t *a, const uint16_t *b, int k)
{
	cfg_mnk(1, 1, k);
	amxrt_tilesim_tileloadd(0, &c, 4);
	amxrt_tilesim_tileloadd(1, a, 4 * k);
	amxrt_tilesim_tileloadd(2, b, 4);
	amxrt_tilesim_tdpbf16ps(0, 1, 2);
	amxrt_tilesim_tilestored(0, &c, 4);
	return c;
}

/* bf16 bits used below */
#define BF_1 0x3f80 /* 1.0 */
#define BF_1P5 0x3fc0 /* 1.5 */
#define BF_2 0x4000 /* 2.0 */
#define BF_QUARTER 0x3e80 /* 0.25 */
#define BF_2M12 0x3980 /* 2^-12 */
#define BF_3X2M12 0x3a40 /* 3 * 2^-12 = 1.5 * 2^-11 */
#define BF_2P100 0x7180 /* 2^100 */
#define BF_2M63 0x2000 /* 2^-63 */
#define BF_2M70 0x1c80 /* 2^-70 */
#define BF_M2M70 0x9c80 /* -2^-70 */
#define BF_2M75 0x1a00 /* 2^-75 */
#define BF_M2M75 0x9a00 /* -2^-75 */
#define BF_2M76 0x1980 /* 2^-76 */
#define BF_M2M76 0x9980 /* -2^-76 */
#define BF_2M13 0x3900 /* 2^-13 */
#define BF_M2M12 0xb980 /* -2^-12 */
#define BF_M3X2M13 0xb9c0 /* -3 * 2^-13 = -1.5 * 2^-12 */
#define BF_2M50 0x2680 /* 2^-50 */
#define BF_M2M50 0xa680 /* -2^-50 */
#define BF_DENORM 0x0001 /* 2^-133, a denormal */
#define BF_INF 0x7f80
#define BF_SNAN 0x7f81 /* signalling NaN, payload 1 */

TEST(tdpbf16ps_exact)
{
	/* 1 + (1.5 * 2 + 2 * 0.25) = 4.5 = 0x40900000 */
	const uint16_t a[2] = { BF_1P5, BF_2 }, b[2] = { BF_2, BF_QUARTER };

	ASSERT_EQ(0x40900000u, bf_dot(f2u(1.0f), a, b, 1));
}

TEST(tdpbf16ps_index_mapping)
{
	/*
	 * A (2 x 4) = [1 2 3 4; 5 6 7 8], Bmat (4 x 2) columns (1 1 1 1)
	 * and (1 -1 2 -2), in VNNI pairs: B row k, bf16 2n+i = Bmat[2k+i][n].
	 * C = [10 -3; 26 -3]: 1-2+6-8 = -3, 5-6+14-16 = -3.
	 */
	const uint16_t a[2][4] = { { 0x3f80, 0x4000, 0x4040, 0x4080 },
				   { 0x40a0, 0x40c0, 0x40e0, 0x4100 } };
	const uint16_t b[2][4] = { { 0x3f80, 0x3f80, 0x3f80, 0xbf80 },
				   { 0x3f80, 0x3f80, 0x4000, 0xc000 } };
	uint32_t c[2][2];

	cfg_mnk(2, 2, 2);
	amxrt_tilesim_tilezero(0);
	amxrt_tilesim_tileloadd(1, a, 8);
	amxrt_tilesim_tileloadd(2, b, 8);
	amxrt_tilesim_tdpbf16ps(0, 1, 2);
	amxrt_tilesim_tilestored(0, c, 8);
	ASSERT_EQ(0x41200000u, c[0][0]); /* 10 */
	ASSERT_EQ(0xc0400000u, c[0][1]); /* -3 */
	ASSERT_EQ(0x41d00000u, c[1][0]); /* 26 */
	ASSERT_EQ(0xc0400000u, c[1][1]); /* -3 */
}

/*
 * The SDM's order: even and odd products of the pairs are summed apart,
 * then added to each other, then to c.
 *   c = 1, products 2^-24 (even) and 2^-24 (odd): 2^-24 + 2^-24 = 2^-23
 *   exactly, 1 + 2^-23 = 0x3f800001. (c + p0 + p1 in sequence would give
 *   1: each 1 + 2^-24 is a tie, rounded to the even 1.0.)
 *   c = 2^24, products 1 and 1: 2^24 + 2 = 0x4b800001 (in sequence 2^24).
 */
TEST(tdpbf16ps_accumulation_order)
{
	const uint16_t a[2] = { BF_2M12, BF_2M12 }, b[2] = { BF_2M12, BF_2M12 };
	const uint16_t one[2] = { BF_1, BF_1 };

	ASSERT_EQ(0x3f800001u, bf_dot(f2u(1.0f), a, b, 1));
	ASSERT_EQ(0x4b800001u, bf_dot(0x4b800000u, one, one, 1));
}

/*
 * Round to nearest even inside the even accumulator (odd products 0):
 *   pairs (1 * 1) then (2^-12 * 2^-12): 1 + 2^-24, a tie, -> 1.0
 *   pairs (1 * 1) then (3*2^-12 * 2^-12): 1 + 1.5 * 2^-23, between
 *   1 + 2^-23 (odd) and 1 + 2^-22 (even) -> 0x3f800002
 */
TEST(tdpbf16ps_round_to_nearest_even)
{
	const uint16_t a1[4] = { BF_1, 0, BF_2M12, 0 };
	const uint16_t a3[4] = { BF_1, 0, BF_3X2M12, 0 };
	const uint16_t b[4] = { BF_1, 0, BF_2M12, 0 };

	ASSERT_EQ(0x3f800000u, bf_dot(0, a1, b, 2));
	ASSERT_EQ(0x3f800002u, bf_dot(0, a3, b, 2));
}

/*
 * Cancellation, in the even accumulator after a first pair 1 * 1:
 *   + -2^-12 * 2^-13 = 1 - 2^-25: halfway between 1 - 2^-24 (0x3f7fffff,
 *     odd) and 1 (even) -> 0x3f800000
 *   + -3*2^-13 * 2^-13 = 1 - 0.75 * 2^-24 -> 1 - 2^-24 = 0x3f7fffff
 *   + -2^-50 * 2^-50 = 1 - 2^-100, far below the last bit -> 0x3f800000
 */
TEST(tdpbf16ps_cancellation)
{
	const uint16_t a25[4] = { BF_1, 0, BF_M2M12, 0 };
	const uint16_t a26[4] = { BF_1, 0, BF_M3X2M13, 0 };
	const uint16_t b13[4] = { BF_1, 0, BF_2M13, 0 };
	const uint16_t a100[4] = { BF_1, 0, BF_M2M50, 0 };
	const uint16_t b100[4] = { BF_1, 0, BF_2M50, 0 };

	ASSERT_EQ(0x3f800000u, bf_dot(0, a25, b13, 2));
	ASSERT_EQ(0x3f7fffffu, bf_dot(0, a26, b13, 2));
	ASSERT_EQ(0x3f800000u, bf_dot(0, a100, b100, 2));
}

/*
 * DAZ: a bf16 denormal (2^-133) times 2^100 is 0, not 2^-33 (0x2f000000);
 * a denormal c (0x00000001) plus +0 is +0.
 */
TEST(tdpbf16ps_denormals_are_zero)
{
	const uint16_t a[2] = { BF_DENORM, 0 }, b[2] = { BF_2P100, 0 };
	const uint16_t z[2] = { 0, 0 };

	ASSERT_EQ(0u, bf_dot(0, a, b, 1));
	ASSERT_EQ(0u, bf_dot(0x00000001u, z, z, 1));
	/* -denormal c is -0; -0 + (+0 + +0) = +0 */
	ASSERT_EQ(0u, bf_dot(0x80000001u, z, z, 1));
}

/*
 * FTZ: 2^-70 * 2^-70 = 2^-140 is tiny -> +0; with both products -2^-140
 * and c = -0 every sum is -0 + -0 = -0 (0x80000000).
 * Tiny after rounding: 2^-63 * 2^-63 = 2^-126 (the smallest normal), then
 * -2^-75 * 2^-75 = -2^-150 in the same accumulator: 2^-126 - 2^-150 is
 * exact in 24 bits (1.11..1b * 2^-127) and below 2^-126 -> flushed to +0
 * (gradual underflow would have rounded it to 2^-126). But 2^-126 -
 * 2^-152 rounds to 2^-126 at 24 bits: not tiny, stays 0x00800000.
 * Fused: 2^-126 + 2^-70 * 2^-70 = 2^-126 (1 + 2^-14) = 0x00800200; the
 * tiny product is not flushed on its own before the add.
 */
TEST(tdpbf16ps_flush_to_zero)
{
	const uint16_t tiny[2] = { BF_2M70, 0 };
	const uint16_t neg2[2] = { BF_M2M70, BF_M2M70 };
	const uint16_t pos2[2] = { BF_2M70, BF_2M70 };
	const uint16_t a150[4] = { BF_2M63, 0, BF_M2M75, 0 };
	const uint16_t b150[4] = { BF_2M63, 0, BF_2M75, 0 };
	const uint16_t a152[4] = { BF_2M63, 0, BF_M2M76, 0 };
	const uint16_t b152[4] = { BF_2M63, 0, BF_2M76, 0 };
	const uint16_t afma[4] = { BF_2M63, 0, BF_2M70, 0 };
	const uint16_t bfma[4] = { BF_2M63, 0, BF_2M70, 0 };

	ASSERT_EQ(0u, bf_dot(0, tiny, tiny, 1));
	ASSERT_EQ(0x80000000u, bf_dot(0x80000000u, neg2, pos2, 1));
	ASSERT_EQ(0u, bf_dot(0, a150, b150, 2));
	ASSERT_EQ(0x00800000u, bf_dot(0, a152, b152, 2));
	ASSERT_EQ(0x00800200u, bf_dot(0, afma, bfma, 2));
}

/*
 * 2^100 * 2^100 overflows to +inf; inf * 0 is the default NaN
 * 0xffc00000; a signalling NaN operand (0x7f810000) comes out quiet
 * (0x7fc10000).
 */
TEST(tdpbf16ps_special_values)
{
	const uint16_t big[2] = { BF_2P100, 0 };
	const uint16_t inf[2] = { BF_INF, 0 }, z[2] = { 0, 0 };
	const uint16_t snan[2] = { BF_SNAN, 0 }, one[2] = { BF_1, BF_1 };

	ASSERT_EQ(0x7f800000u, bf_dot(0, big, big, 1));
	ASSERT_EQ(0xffc00000u, bf_dot(f2u(1.0f), inf, z, 1));
	ASSERT_EQ(0x7fc10000u, bf_dot(f2u(1.0f), snan, one, 1));
	/* +inf + -inf in c */
	ASSERT_EQ(0xffc00000u, bf_dot(0xff800000u, big, big, 1));
}

/* ---- faults ------------------------------------------------------------- */

TEST_SIGNAL(unconfigured_tileloadd, SIGILL)
{
	uint8_t buf[64] = { 0 };

	default_signals();
	amxrt_tilesim_tileloadd(0, buf, 64);
}

TEST_SIGNAL(unconfigured_tilezero, SIGILL)
{
	default_signals();
	amxrt_tilesim_tilezero(3);
}

TEST_SIGNAL(unconfigured_tdpbsud, SIGILL)
{
	default_signals();
	amxrt_tilesim_tdpbsud(0, 1, 2);
}

TEST_SIGNAL(released_tilestored, SIGILL)
{
	uint8_t buf[64];

	default_signals();
	cfg_mnk(1, 1, 1);
	amxrt_tilesim_tilestored(0, buf, 4);
	amxrt_tilesim_tilerelease();
	amxrt_tilesim_tilestored(0, buf, 4);
}

TEST_SIGNAL(ldtilecfg_bad_palette, SIGSEGV)
{
	struct cfg c = cfg1();

	default_signals();
	c.palette = 2;
	amxrt_tilesim_ldtilecfg(&c);
}

TEST_SIGNAL(ldtilecfg_reserved_header, SIGSEGV)
{
	struct cfg c = cfg1();

	default_signals();
	c.reserved[13] = 1; /* byte 15 */
	amxrt_tilesim_ldtilecfg(&c);
}

TEST_SIGNAL(ldtilecfg_colsb_of_tile8, SIGSEGV)
{
	struct cfg c = cfg1();

	default_signals();
	shape(&c, 8, 0, 64); /* bytes 32..33: beyond max_names */
	amxrt_tilesim_ldtilecfg(&c);
}

TEST_SIGNAL(ldtilecfg_rows_of_tile15, SIGSEGV)
{
	struct cfg c = cfg1();

	default_signals();
	shape(&c, 15, 1, 0); /* byte 63 */
	amxrt_tilesim_ldtilecfg(&c);
}

TEST_SIGNAL(ldtilecfg_rows_over_16, SIGSEGV)
{
	struct cfg c = cfg1();

	default_signals();
	shape(&c, 2, 17, 64);
	amxrt_tilesim_ldtilecfg(&c);
}

TEST_SIGNAL(ldtilecfg_colsb_over_64, SIGSEGV)
{
	struct cfg c = cfg1();

	default_signals();
	shape(&c, 2, 16, 68);
	amxrt_tilesim_ldtilecfg(&c);
}

TEST_SIGNAL(ldtilecfg_rows_without_colsb, SIGSEGV)
{
	struct cfg c = cfg1();

	default_signals();
	shape(&c, 4, 16, 0);
	amxrt_tilesim_ldtilecfg(&c);
}

TEST_SIGNAL(ldtilecfg_colsb_without_rows, SIGSEGV)
{
	struct cfg c = cfg1();

	default_signals();
	shape(&c, 4, 0, 64);
	amxrt_tilesim_ldtilecfg(&c);
}

TEST(ldtilecfg_limits_are_legal)
{
	struct cfg c = cfg1();
	int t;

	/* exactly at the limits, and a start_row, is fine */
	for (t = 0; t < 8; t++)
		shape(&c, t, 16, 64);
	c.start_row = 15;
	amxrt_tilesim_ldtilecfg(&c);
	amxrt_tilesim_tilerelease();
}

TEST_SIGNAL(tileloadd_unconfigured_tile, SIGILL)
{
	uint8_t buf[64] = { 0 };

	default_signals();
	cfg_mnk(1, 1, 1); /* tmm3 has rows 0: not valid */
	amxrt_tilesim_tileloadd(3, buf, 64);
}

TEST_SIGNAL(tileloadd_tile_number_8, SIGILL)
{
	uint8_t buf[64] = { 0 };

	default_signals();
	cfg_mnk(1, 1, 1);
	amxrt_tilesim_tileloadd(8, buf, 64);
}

TEST_SIGNAL(tileloadd_colsb_not_multiple_of_4, SIGILL)
{
	struct cfg c = cfg1();
	uint8_t buf[64] = { 0 };

	default_signals();
	shape(&c, 0, 1, 6); /* legal for LDTILECFG, not for TILELOADD */
	amxrt_tilesim_ldtilecfg(&c);
	amxrt_tilesim_tileloadd(0, buf, 64);
}

TEST_SIGNAL(tileloadd_start_row_past_rows, SIGILL)
{
	struct cfg c = cfg1();
	uint8_t buf[256] = { 0 };

	default_signals();
	shape(&c, 0, 4, 64);
	c.start_row = 4;
	amxrt_tilesim_ldtilecfg(&c);
	amxrt_tilesim_tileloadd(0, buf, 64);
}

TEST_SIGNAL(tdp_same_register, SIGILL)
{
	default_signals();
	cfg_mnk(4, 4, 4); /* every shape would match */
	amxrt_tilesim_tdpbssd(1, 1, 2);
}

TEST_SIGNAL(tdp_c_colsb_differs_from_b, SIGILL)
{
	struct cfg c = cfg1();

	default_signals();
	shape(&c, 0, 16, 64);
	shape(&c, 1, 16, 64);
	shape(&c, 2, 16, 32);
	amxrt_tilesim_ldtilecfg(&c);
	amxrt_tilesim_tdpbsud(0, 1, 2);
}

TEST_SIGNAL(tdp_c_rows_differ_from_a, SIGILL)
{
	struct cfg c = cfg1();

	default_signals();
	shape(&c, 0, 16, 64);
	shape(&c, 1, 8, 64);
	shape(&c, 2, 16, 64);
	amxrt_tilesim_ldtilecfg(&c);
	amxrt_tilesim_tdpbf16ps(0, 1, 2);
}

TEST_SIGNAL(tdp_a_colsb_differs_from_4_b_rows, SIGILL)
{
	struct cfg c = cfg1();

	default_signals();
	shape(&c, 0, 16, 64);
	shape(&c, 1, 16, 32); /* K = 8 dwords */
	shape(&c, 2, 16, 64); /* but 16 rows */
	amxrt_tilesim_ldtilecfg(&c);
	amxrt_tilesim_tdpbsud(0, 1, 2);
}

TEST_SIGNAL(tdp_colsb_not_multiple_of_4, SIGILL)
{
	struct cfg c = cfg1();

	default_signals();
	shape(&c, 0, 2, 6);
	shape(&c, 1, 2, 4);
	shape(&c, 2, 1, 6);
	amxrt_tilesim_ldtilecfg(&c);
	amxrt_tilesim_tdpbuud(0, 1, 2);
}

static volatile sig_atomic_t caught;

static void on_sigill(int sig)
{
	caught = sig;
}

/* A handler that returns: the faulting instruction has no effect. */
TEST(fault_handler_returns)
{
	int32_t c = 7;
	const uint8_t one[4] = { 1, 1, 1, 1 };

	signal(SIGILL, on_sigill);
	cfg_mnk(1, 1, 1);
	amxrt_tilesim_tileloadd(0, &c, 4);
	amxrt_tilesim_tileloadd(1, one, 4);
	amxrt_tilesim_tileloadd(2, one, 4);
	caught = 0;
	amxrt_tilesim_tdpbuud(0, 1, 1);
	ASSERT_EQ(SIGILL, caught);
	amxrt_tilesim_tilestored(0, &c, 4);
	ASSERT_EQ(7, c);
	signal(SIGILL, SIG_DFL);
}

TEST_HARNESS_MAIN
