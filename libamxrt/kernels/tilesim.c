// SPDX-License-Identifier: MIT
/*
 * tilesim.c - the software model of AMX declared in tilesim.h: per-thread
 * TILECFG and TILEDATA, the checks each tile instruction makes, the faults
 * it raises, and its arithmetic, bit for bit.
 *
 * SOURCES. [SDM] is the Intel 64 and IA-32 Architectures Software
 * Developer's Manual, Vol. 2: the "Operation" section of each instruction
 * (LDTILECFG, STTILECFG, TILELOADD/TILELOADDT1, TILESTORED, TILEZERO,
 * TILERELEASE, TDPBSSD/TDPBSUD/TDPBUSD/TDPBUUD, TDPBF16PS) and section 2.10
 * "Intel AMX Instruction Exception Classes" (AMX-E1 .. AMX-E6). [CPUID] is
 * what leaves 1DH and 1EH report for palette 1 on every AMX part so far:
 * max_names 8, max_rows 16, bytes_per_row 64, tmul_maxk 16, tmul_maxn 64.
 * The same exception-class reading is what the Bochs emulator implements
 * (bochs/cpu/avx/amx.cc), which was used as a cross-check.
 *
 * RULES MODELLED (anything not listed is not modelled, see the end):
 *
 * LDTILECFG m512 (AMX-E1), #GP (SIGSEGV) if
 *   G1 palette_id (byte 0) > max_palette (1);
 *   and, for palette 1 only,
 *   G2 bytes 2..15 are not all zero,
 *   G3 a colsb (bytes 16 + 2n, u16, n = 0..7) > bytes_per_row (64),
 *   G4 bytes 32..47 (colsb of names 8..15, beyond max_names) not all zero,
 *   G5 a rows (byte 48 + n) > max_rows (16),
 *   G6 bytes 56..63 not all zero,
 *   G7 a tile has rows == 0 xor colsb == 0 (both or neither).
 *   colsb need not be a multiple of 4 and start_row (byte 1) is taken as
 *   is. Palette 0 is the init state: nothing else is checked, the
 *   configuration and all tile data become zero, tiles are not
 *   configured. Palette 1 loads the configuration, zeroes all tile data
 *   and marks tiles configured. [SDM LDTILECFG Operation]
 * STTILECFG m512 (AMX-E2): the configuration in the same layout, or 64
 *   zero bytes if tiles are not configured. Never faults. [SDM]
 * TILERELEASE (AMX-E6): back to the init state. Never faults. [SDM]
 * TILELOADD, TILELOADDT1, TILESTORED (AMX-E3), #UD (SIGILL) if
 *   U1 tiles are not configured,
 *   U2 the tile number >= max_names (8),
 *   U3 the tile is not valid (configured with rows == 0),
 *   U4 its colsb is not a multiple of 4,
 *   U5 start_row >= its rows.
 *   A load writes rows start_row .. rows-1 with colsb bytes read from
 *   base + row * stride and zeroes the rest of each row and every row from
 *   `rows` up (and from start_row up first); a store writes colsb bytes of
 *   rows start_row .. rows-1. Both set start_row to 0. TILELOADDT1 is
 *   TILELOADD with a cache hint, which a model has no use for. [SDM]
 * TILEZERO (AMX-E5), #UD if U1, U2 or U3. Zeroes the whole register and
 *   start_row. [SDM]
 * TDPBSSD, TDPBSUD, TDPBUSD, TDPBUUD, TDPBF16PS (AMX-E4), #UD if
 *   U6 two of the three operands are the same register,
 *   U1, and U2, U3, U4 for any of the three,
 *   U7 c.colsb != b.colsb,
 *   U8 c.rows != a.rows,
 *   U9 a.colsb / 4 != b.rows,
 *   U10 c.colsb or b.colsb > tmul_maxn (64), a.colsb / 4 or b.rows >
 *   tmul_maxk (16) (unreachable with palette 1's limits; kept for
 *   completeness).
 *   Integer forms: for m < c.rows, n < c.colsb / 4, k < a.colsb / 4:
 *   c.dword[m][n] += sum_i ext(a.byte[m][4k+i]) * ext(b.byte[k][4n+i]),
 *   ext signed or unsigned per the mnemonic (S/U for a, then b); the
 *   int32 additions wrap (mod 2^32, so their order does not matter).
 *   TDPBF16PS: see bf16_row() below. Afterwards bytes of c past colsb and
 *   rows past c.rows are zero, start_row is 0. [SDM]
 *
 * NOT MODELLED: CPUID and XCR0 checks (the model is always "enabled"), XFD
 * (#NM), the VEX-encoding #UDs (a compiler only emits valid encodings),
 * TSX aborts, memory faults part way through a load or store (the model
 * touches memory as a plain C loop: a bad address faults in the model
 * with SIGSEGV, but start_row is not left pointing at the faulting row),
 * and timing. The NaN payload a TDPBF16PS returns is the SDM's blind spot:
 * the model's choice is documented at bf16 below.
 */
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "tilesim.h"

#define MAX_NAMES 8
#define MAX_ROWS 16
#define BYTES_PER_ROW 64
#define TMUL_MAXK 16
#define TMUL_MAXN 64

/* TILECFG and TILEDATA of this thread (a logical CPU of the model). */
struct tile_state {
	uint8_t data[MAX_NAMES][MAX_ROWS][BYTES_PER_ROW];
	uint16_t colsb[MAX_NAMES];
	uint8_t rows[MAX_NAMES];
	uint8_t palette; /* 0: TILES_CONFIGURED == 0 */
	uint8_t start_row;
};

static _Thread_local struct tile_state ts __attribute__((aligned(64)));

/* ---- faults -------------------------------------------------------------- */

static void __attribute__((format(printf, 3, 4)))
fault(int sig, const char *insn, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "amxrt tile model: %s: %s: %s\n", insn,
		sig == SIGSEGV ? "#GP" : "#UD", msg);
	raise(sig);
}

static void init_state(void)
{
	memset(&ts, 0, sizeof(ts));
}

/* AMX-E3 (load, store) when colsb4 is set, AMX-E5 (TILEZERO) otherwise. */
static int check_tile(const char *insn, int t, int colsb4)
{
	if (!ts.palette) {
		fault(SIGILL, insn, "tiles are not configured [U1, AMX-E3/E5]");
		return -1;
	}
	if (t < 0 || t >= MAX_NAMES) {
		fault(SIGILL, insn, "tmm%d >= max_names %d [U2, AMX-E3/E5]", t,
		      MAX_NAMES);
		return -1;
	}
	if (!ts.rows[t]) {
		fault(SIGILL, insn,
		      "tmm%d is not a valid tile (rows 0) [U3, AMX-E3/E5]", t);
		return -1;
	}
	if (colsb4 && ts.colsb[t] % 4) {
		fault(SIGILL, insn,
		      "tmm%d colsb %u is not a multiple of 4 [U4, AMX-E3]", t,
		      ts.colsb[t]);
		return -1;
	}
	if (colsb4 && ts.start_row >= ts.rows[t]) {
		fault(SIGILL, insn,
		      "start_row %u >= tmm%d rows %u [U5, AMX-E3]",
		      ts.start_row, t, ts.rows[t]);
		return -1;
	}
	return 0;
}

/* AMX-E4: the TDP* instructions, c += a * b. */
static int check_tdp(const char *insn, int c, int a, int b)
{
	const int t[3] = { c, a, b };
	int i;

	if (c == a || a == b || c == b) {
		fault(SIGILL, insn,
		      "operands tmm%d, tmm%d, tmm%d are not three different registers [U6, AMX-E4]",
		      c, a, b);
		return -1;
	}
	if (!ts.palette) {
		fault(SIGILL, insn, "tiles are not configured [U1, AMX-E4]");
		return -1;
	}
	for (i = 0; i < 3; i++) {
		if (t[i] < 0 || t[i] >= MAX_NAMES) {
			fault(SIGILL, insn,
			      "tmm%d >= max_names %d [U2, AMX-E4]", t[i],
			      MAX_NAMES);
			return -1;
		}
		if (!ts.rows[t[i]]) {
			fault(SIGILL, insn,
			      "tmm%d is not a valid tile (rows 0) [U3, AMX-E4]",
			      t[i]);
			return -1;
		}
		if (ts.colsb[t[i]] % 4) {
			fault(SIGILL, insn,
			      "tmm%d colsb %u is not a multiple of 4 [U4, AMX-E4]",
			      t[i], ts.colsb[t[i]]);
			return -1;
		}
	}
	if (ts.colsb[c] != ts.colsb[b]) {
		fault(SIGILL, insn,
		      "c tmm%d colsb %u != b tmm%d colsb %u [U7, AMX-E4]", c,
		      ts.colsb[c], b, ts.colsb[b]);
		return -1;
	}
	if (ts.rows[c] != ts.rows[a]) {
		fault(SIGILL, insn,
		      "c tmm%d rows %u != a tmm%d rows %u [U8, AMX-E4]", c,
		      ts.rows[c], a, ts.rows[a]);
		return -1;
	}
	if (ts.colsb[a] / 4 != ts.rows[b]) {
		fault(SIGILL, insn,
		      "a tmm%d colsb / 4 = %u != b tmm%d rows %u [U9, AMX-E4]",
		      a, ts.colsb[a] / 4, b, ts.rows[b]);
		return -1;
	}
	if (ts.colsb[c] > TMUL_MAXN || ts.colsb[a] / 4 > TMUL_MAXK ||
	    ts.rows[b] > TMUL_MAXK) {
		fault(SIGILL, insn,
		      "shape beyond tmul_maxn / tmul_maxk [U10, AMX-E4]");
		return -1;
	}
	return 0;
}

/* SDM helpers: write_row_and_zero(), zero_upper_rows(). */
static void write_row_and_zero(int t, int r, const void *src, int nbytes)
{
	memcpy(ts.data[t][r], src, (size_t)nbytes);
	memset(ts.data[t][r] + nbytes, 0, (size_t)(BYTES_PER_ROW - nbytes));
}

static void zero_upper_rows(int t, int r)
{
	if (r < MAX_ROWS)
		memset(ts.data[t][r], 0,
		       (size_t)(MAX_ROWS - r) * BYTES_PER_ROW);
}

/* ---- configuration ------------------------------------------------------- */

void amxrt_tilesim_ldtilecfg(const void *cfg)
{
	static const char insn[] = "LDTILECFG";
	uint16_t colsb[MAX_NAMES];
	uint8_t buf[64];
	int i;

	memcpy(buf, cfg, sizeof(buf));
	if (buf[0] > 1) {
		fault(SIGSEGV, insn, "palette_id %u > max_palette 1 [G1]",
		      buf[0]);
		return;
	}
	if (buf[0] == 0) {
		init_state();
		return;
	}
	for (i = 2; i < 16; i++) {
		if (buf[i]) {
			fault(SIGSEGV, insn,
			      "reserved byte %d is 0x%02x, must be 0 [G2]", i,
			      buf[i]);
			return;
		}
	}
	for (i = 0; i < MAX_NAMES; i++) {
		colsb[i] = (uint16_t)(buf[16 + 2 * i] | buf[17 + 2 * i] << 8);
		if (colsb[i] > BYTES_PER_ROW) {
			fault(SIGSEGV, insn,
			      "tmm%d colsb %u > bytes_per_row %d [G3]", i,
			      colsb[i], BYTES_PER_ROW);
			return;
		}
	}
	for (i = 32; i < 48; i++) {
		if (buf[i]) {
			fault(SIGSEGV, insn,
			      "byte %d (colsb of tmm%d >= max_names) is 0x%02x, must be 0 [G4]",
			      i, (i - 16) / 2, buf[i]);
			return;
		}
	}
	for (i = 0; i < MAX_NAMES; i++) {
		if (buf[48 + i] > MAX_ROWS) {
			fault(SIGSEGV, insn, "tmm%d rows %u > max_rows %d [G5]",
			      i, buf[48 + i], MAX_ROWS);
			return;
		}
	}
	for (i = 56; i < 64; i++) {
		if (buf[i]) {
			fault(SIGSEGV, insn,
			      "byte %d (rows of tmm%d >= max_names) is 0x%02x, must be 0 [G6]",
			      i, i - 48, buf[i]);
			return;
		}
	}
	for (i = 0; i < MAX_NAMES; i++) {
		if (!buf[48 + i] != !colsb[i]) {
			fault(SIGSEGV, insn,
			      "tmm%d has rows %u and colsb %u: both or neither must be 0 [G7]",
			      i, buf[48 + i], colsb[i]);
			return;
		}
	}
	init_state();
	ts.palette = 1;
	ts.start_row = buf[1];
	memcpy(ts.colsb, colsb, sizeof(colsb));
	memcpy(ts.rows, buf + 48, MAX_NAMES);
}

void amxrt_tilesim_sttilecfg(void *cfg)
{
	uint8_t buf[64] = { 0 };
	int i;

	if (ts.palette) {
		buf[0] = ts.palette;
		buf[1] = ts.start_row;
		for (i = 0; i < MAX_NAMES; i++) {
			buf[16 + 2 * i] = (uint8_t)ts.colsb[i];
			buf[17 + 2 * i] = (uint8_t)(ts.colsb[i] >> 8);
			buf[48 + i] = ts.rows[i];
		}
	}
	memcpy(cfg, buf, sizeof(buf));
}

void amxrt_tilesim_tilerelease(void)
{
	init_state();
}

void amxrt_tilesim_xsave_tiledata(void *dst)
{
	memcpy(dst, ts.data, sizeof(ts.data));
}

/* ---- moving tiles -------------------------------------------------------- */

static void tileload(const char *insn, int t, const void *base, long stride)
{
	int r;

	if (check_tile(insn, t, 1))
		return;
	zero_upper_rows(t, ts.start_row);
	for (r = ts.start_row; r < ts.rows[t]; r++)
		write_row_and_zero(t, r, (const uint8_t *)base + r * stride,
				   ts.colsb[t]);
	ts.start_row = 0;
}

void amxrt_tilesim_tileloadd(int tile, const void *base, long stride)
{
	tileload("TILELOADD", tile, base, stride);
}

void amxrt_tilesim_tileloaddt1(int tile, const void *base, long stride)
{
	tileload("TILELOADDT1", tile, base, stride);
}

void amxrt_tilesim_tilestored(int tile, void *base, long stride)
{
	int r;

	if (check_tile("TILESTORED", tile, 1))
		return;
	for (r = ts.start_row; r < ts.rows[tile]; r++)
		memcpy((uint8_t *)base + r * stride, ts.data[tile][r],
		       ts.colsb[tile]);
	ts.start_row = 0;
}

void amxrt_tilesim_tilezero(int tile)
{
	if (check_tile("TILEZERO", tile, 0))
		return;
	memset(ts.data[tile], 0, sizeof(ts.data[tile]));
	ts.start_row = 0;
}

/* ---- TDPB[SU][SU]D ------------------------------------------------------- */

static inline __attribute__((always_inline)) int32_t ext8(uint8_t v, int sgn)
{
	return sgn ? (int32_t)(int8_t)v : (int32_t)v;
}

static inline __attribute__((always_inline)) void
tdp_int(const char *insn, int c, int a, int b, int sa, int sb)
{
	int rows, nn, kk, m, k, n;

	if (check_tdp(insn, c, a, b))
		return;
	rows = ts.rows[c];
	nn = ts.colsb[c] / 4;
	kk = ts.colsb[a] / 4;
	for (m = 0; m < rows; m++) {
		uint32_t acc[16];

		memcpy(acc, ts.data[c][m], sizeof(acc));
		for (k = 0; k < kk; k++) {
			const uint8_t *x = &ts.data[a][m][4 * k];
			const uint8_t *y = ts.data[b][k];
			int32_t x0 = ext8(x[0], sa), x1 = ext8(x[1], sa);
			int32_t x2 = ext8(x[2], sa), x3 = ext8(x[3], sa);

			/* four products of at most 2^16: no int32 overflow */
			for (n = 0; n < nn; n++)
				acc[n] +=
					(uint32_t)(x0 * ext8(y[4 * n], sb) +
						   x1 * ext8(y[4 * n + 1], sb) +
						   x2 * ext8(y[4 * n + 2], sb) +
						   x3 * ext8(y[4 * n + 3], sb));
		}
		write_row_and_zero(c, m, acc, 4 * nn);
	}
	zero_upper_rows(c, rows);
	ts.start_row = 0;
}

void amxrt_tilesim_tdpbssd(int c, int a, int b)
{
	tdp_int("TDPBSSD", c, a, b, 1, 1);
}

void amxrt_tilesim_tdpbsud(int c, int a, int b)
{
	tdp_int("TDPBSUD", c, a, b, 1, 0);
}

void amxrt_tilesim_tdpbusd(int c, int a, int b)
{
	tdp_int("TDPBUSD", c, a, b, 0, 1);
}

void amxrt_tilesim_tdpbuud(int c, int a, int b)
{
	tdp_int("TDPBUUD", c, a, b, 0, 0);
}

/* ---- TDPBF16PS ----------------------------------------------------------- */
/*
 * [SDM TDPBF16PS Operation], per row m of c:
 *
 *   temp1[0 .. 2 * n_c) := 0                     (n_c = c.colsb / 4)
 *   for k < a.colsb / 4, for n < n_c:
 *     temp1[2n]   += fp32(a.bf16[m][2k])   * fp32(b.bf16[k][2n])
 *     temp1[2n+1] += fp32(a.bf16[m][2k+1]) * fp32(b.bf16[k][2n+1])
 *   for n < n_c:
 *     c.fp32[m][n] := c.fp32[m][n] + (temp1[2n] + temp1[2n+1])
 *
 * fp32(x) puts the bf16 bits in the upper half of a binary32 (exact). Each
 * "+= *" is an FP32 FMA (one rounding of the exact x * y + acc), each "+"
 * one rounded add; all with DAZ = FTZ = 1 and round to nearest even, MXCSR
 * neither read nor written, no exceptions. So the even and odd halves of
 * every pair accumulate separately over k, and c joins only at the end.
 *
 * DAZ: a denormal input counts as a zero of its sign. FTZ: a result that
 * is tiny after rounding (rounded to 24 bits with an unbounded exponent it
 * is below 2^-126, the x86 underflow condition, SDM Vol. 1 10.2.3.3 and
 * 4.9.1.5) becomes a zero of its sign. The model computes every result
 * exactly in integers and rounds once, so no host FPU mode matters.
 *
 * Special values (the SDM pseudocode does not spell these out; the model
 * follows the usual x86 rules): a NaN operand gives that NaN made quiet,
 * the first one in the order a, b, accumulator (add: first, second
 * operand); inf * 0 and inf - inf give the default NaN 0xFFC00000;
 * overflow gives an infinity; an exact zero sum is +0 unless both addends
 * are -0.
 */

#define F32_SIGN 0x80000000u
#define F32_INF 0x7f800000u
#define F32_QUIET 0x00400000u
#define F32_DEFAULT_NAN 0xffc00000u

typedef unsigned __int128 u128;

static inline int f32_is_nan(uint32_t u)
{
	return (u & ~F32_SIGN) > F32_INF;
}

static inline int f32_is_inf(uint32_t u)
{
	return (u & ~F32_SIGN) == F32_INF;
}

static inline int f32_is_zero(uint32_t u)
{
	return !(u & ~F32_SIGN);
}

/* DAZ: exponent 0 means zero or denormal; both become a signed zero. */
static inline uint32_t f32_daz(uint32_t u)
{
	return (u & F32_INF) ? u : (u & F32_SIGN);
}

/* Significand with its hidden bit, and the exponent of its last bit. */
static inline uint64_t f32_mant(uint32_t u)
{
	return (u & 0x7fffffu) | 0x800000u;
}

static inline int f32_exp(uint32_t u)
{
	return (int)((u >> 23) & 0xff) - 150;
}

static int bitlen128(u128 v)
{
	uint64_t hi = (uint64_t)(v >> 64);

	return hi ? 128 - __builtin_clzll(hi) :
		    64 - __builtin_clzll((uint64_t)v);
}

/*
 * The binary32 for sign * (mag + s) * 2^exp, 0 <= s < 1, s > 0 iff sticky
 * (only used where mag has more than 24 bits), mag > 0: rounded to nearest
 * even, flushed to a signed zero if tiny after rounding, infinite on
 * overflow.
 */
static uint32_t f32_round(uint32_t sign, u128 mag, int sticky, int exp)
{
	int len = bitlen128(mag), e = len - 1 + exp;
	uint64_t q;

	if (len > 24) {
		int sh = len - 24;
		u128 rem = mag & (((u128)1 << sh) - 1);
		u128 half = (u128)1 << (sh - 1);

		q = (uint64_t)(mag >> sh);
		if (rem > half || (rem == half && (sticky || (q & 1))))
			q++;
	} else {
		q = (uint64_t)mag << (24 - len);
	}
	if (q == (uint64_t)1 << 24) {
		q >>= 1;
		e++;
	}
	if (e < -126)
		return sign; /* FTZ */
	if (e > 127)
		return sign | F32_INF;
	return sign | (uint32_t)(e + 127) << 23 | (uint32_t)(q & 0x7fffff);
}

/*
 * (-1)^s1 m1 2^e1 + (-1)^s2 m2 2^e2, 0 < m1, m2 < 2^48, rounded once.
 * Exact in 128 bits when the exponents are at most 78 apart; beyond that
 * the smaller term is below one unit of (m1 << 30) and only its sign
 * matters for rounding (a sticky bit).
 */
static uint32_t f32_sum(uint32_t s1, uint64_t m1, int e1, uint32_t s2,
			uint64_t m2, int e2)
{
	u128 a, b;

	if (e1 < e2) {
		uint32_t ts_ = s1;
		uint64_t tm = m1;
		int te = e1;

		s1 = s2;
		m1 = m2;
		e1 = e2;
		s2 = ts_;
		m2 = tm;
		e2 = te;
	}
	if (e1 - e2 > 78) {
		a = (u128)m1 << 30;
		return s1 == s2 ? f32_round(s1, a, 1, e1 - 30) :
				  f32_round(s1, a - 1, 1, e1 - 30);
	}
	a = (u128)m1 << (e1 - e2);
	b = m2;
	if (s1 == s2)
		return f32_round(s1, a + b, 0, e2);
	if (a == b)
		return 0; /* exact cancellation: +0 when rounding to nearest */
	return a > b ? f32_round(s1, a - b, 0, e2) :
		       f32_round(s2, b - a, 0, e2);
}

/* acc + x * y, one rounding, DAZ, FTZ. */
static uint32_t f32_fma(uint32_t acc, uint32_t x, uint32_t y)
{
	uint32_t ps;

	x = f32_daz(x);
	y = f32_daz(y);
	acc = f32_daz(acc);
	if (f32_is_nan(x))
		return x | F32_QUIET;
	if (f32_is_nan(y))
		return y | F32_QUIET;
	if (f32_is_nan(acc))
		return acc | F32_QUIET;
	ps = (x ^ y) & F32_SIGN;
	if (f32_is_inf(x) || f32_is_inf(y)) {
		if (f32_is_zero(x) || f32_is_zero(y))
			return F32_DEFAULT_NAN;
		if (f32_is_inf(acc) && (acc & F32_SIGN) != ps)
			return F32_DEFAULT_NAN;
		return ps | F32_INF;
	}
	if (f32_is_inf(acc))
		return acc;
	if (f32_is_zero(x) || f32_is_zero(y))
		return f32_is_zero(acc) ? (acc & ps) : acc;
	if (f32_is_zero(acc))
		return f32_round(ps, (u128)(f32_mant(x) * f32_mant(y)), 0,
				 f32_exp(x) + f32_exp(y));
	return f32_sum(ps, f32_mant(x) * f32_mant(y), f32_exp(x) + f32_exp(y),
		       acc & F32_SIGN, f32_mant(acc), f32_exp(acc));
}

/* a + b, one rounding, DAZ, FTZ. */
static uint32_t f32_add(uint32_t a, uint32_t b)
{
	a = f32_daz(a);
	b = f32_daz(b);
	if (f32_is_nan(a))
		return a | F32_QUIET;
	if (f32_is_nan(b))
		return b | F32_QUIET;
	if (f32_is_inf(a))
		return f32_is_inf(b) && ((a ^ b) & F32_SIGN) ? F32_DEFAULT_NAN :
							       a;
	if (f32_is_inf(b))
		return b;
	if (f32_is_zero(a))
		return f32_is_zero(b) ? (a & b) : b;
	if (f32_is_zero(b))
		return a;
	return f32_sum(a & F32_SIGN, f32_mant(a), f32_exp(a), b & F32_SIGN,
		       f32_mant(b), f32_exp(b));
}

void amxrt_tilesim_tdpbf16ps(int c, int a, int b)
{
	int rows, nn, kk, m, k, n;

	if (check_tdp("TDPBF16PS", c, a, b))
		return;
	rows = ts.rows[c];
	nn = ts.colsb[c] / 4;
	kk = ts.colsb[a] / 4;
	for (m = 0; m < rows; m++) {
		uint32_t even[16] = { 0 }, odd[16] = { 0 }, row[16];
		uint16_t x[32], y[32];

		memcpy(x, ts.data[a][m], sizeof(x));
		for (k = 0; k < kk; k++) {
			uint32_t x0 = (uint32_t)x[2 * k] << 16;
			uint32_t x1 = (uint32_t)x[2 * k + 1] << 16;

			memcpy(y, ts.data[b][k], sizeof(y));
			for (n = 0; n < nn; n++) {
				even[n] = f32_fma(even[n], x0,
						  (uint32_t)y[2 * n] << 16);
				odd[n] = f32_fma(odd[n], x1,
						 (uint32_t)y[2 * n + 1] << 16);
			}
		}
		memcpy(row, ts.data[c][m], sizeof(row));
		for (n = 0; n < nn; n++)
			row[n] = f32_add(row[n], f32_add(even[n], odd[n]));
		write_row_and_zero(c, m, row, 4 * nn);
	}
	zero_upper_rows(c, rows);
	ts.start_row = 0;
}
