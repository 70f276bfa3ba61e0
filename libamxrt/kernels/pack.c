// SPDX-License-Identifier: MIT
/*
 * pack.c - GGUF rows to the panel16 layout (see kernels.h) and back.
 *
 * Packing only moves bytes (Q8_0 also flips each byte's top bit, an
 * involution), so unpacking restores the original rows exactly.
 */
#include <string.h>

#include "kernels.h"

static const uint8_t *row_block(const struct amxrt_weight *w, const void *rows,
				int64_t n, int64_t b)
{
	return (const uint8_t *)rows + (size_t)n * w->row_bytes +
	       (size_t)b * amxrt_type_block_bytes(w->type);
}

static const uint8_t *row_elem(const struct amxrt_weight *w, const void *rows,
			       int64_t n, int64_t k, size_t esize)
{
	return (const uint8_t *)rows + (size_t)n * w->row_bytes +
	       (size_t)k * esize;
}

/*
 * Where value-group bytes of row r, block b live in the panel: for each
 * type, the offset inside the block's qs of the unit that holds element
 * k = kk of row r, and the unit size (4 bytes for int8 groups and bf16
 * pairs, 2 for f16, 4 for f32).
 */
static size_t float_unit_off(enum amxrt_type type, int r, int kk)
{
	switch (type) {
	case AMXRT_TYPE_BF16:
		return (size_t)(kk / 2) * 64 + (size_t)r * 4 + (kk % 2) * 2;
	case AMXRT_TYPE_F16:
		return (size_t)kk * 32 + (size_t)r * 2;
	default: /* F32 */
		return (size_t)kk * 64 + (size_t)r * 4;
	}
}

/* Copy one block of one row between GGUF form and the panel. */
static void move_block(const struct amxrt_weight *w, uint8_t *panel,
		       uint8_t *row, int64_t b, int r, int to_panel)
{
	uint8_t *qs = panel + (size_t)b * w->qbytes;
	uint8_t *d = panel + w->scale_off + (size_t)b * 32 + r * 2;
	uint8_t *m = panel + w->min_off + (size_t)b * 32 + r * 2;
	int j, i;

	switch (w->type) {
	case AMXRT_TYPE_Q4_0:
	case AMXRT_TYPE_Q4_1: {
		int hdr = w->type == AMXRT_TYPE_Q4_0 ? 2 : 4;

		if (to_panel) {
			memcpy(d, row, 2);
			if (hdr == 4)
				memcpy(m, row + 2, 2);
		} else {
			memcpy(row, d, 2);
			if (hdr == 4)
				memcpy(row + 2, m, 2);
		}
		for (j = 0; j < 4; j++) {
			if (to_panel)
				memcpy(qs + j * 64 + r * 4, row + hdr + 4 * j,
				       4);
			else
				memcpy(row + hdr + 4 * j, qs + j * 64 + r * 4,
				       4);
		}
		break;
	}
	case AMXRT_TYPE_Q8_0:
		if (to_panel)
			memcpy(d, row, 2);
		else
			memcpy(row, d, 2);
		for (j = 0; j < 8; j++) {
			for (i = 0; i < 4; i++) {
				uint8_t *p = qs + j * 64 + r * 4 + i;

				if (to_panel)
					*p = row[2 + 4 * j + i] ^ 0x80;
				else
					row[2 + 4 * j + i] = *p ^ 0x80;
			}
		}
		break;
	default: {
		/* F32, F16, BF16: row points at element 32 * b of the row */
		size_t es = w->type == AMXRT_TYPE_F32 ? 4 : 2;
		int64_t left = w->k - b * AMXRT_BLOCK_K;

		for (j = 0; j < AMXRT_BLOCK_K && j < left; j++) {
			uint8_t *p = qs + float_unit_off(w->type, r, j);

			if (to_panel)
				memcpy(p, row + j * es, es);
			else
				memcpy(row + j * es, p, es);
		}
		break;
	}
	}
}

static int is_block_type(enum amxrt_type t)
{
	return amxrt_type_block_values(t) > 1;
}

/*
 * A whole panel (16 real rows) of Q4_0, Q4_1 or Q8_0: what move_block()
 * does for each row and block, with the type's constants hoisted and 4-byte
 * moves (Q8_0's top bits flipped four at a time). Every byte of the panel
 * is written, so only the alignment padding at its end is cleared, not the
 * whole panel first. Loading a model packs every weight once: this runs at
 * about 1.7 times the speed of the general path (Documentation/loading.md).
 * The paths with AVX-512 use pack_avx512.c instead, which writes the same
 * bytes with whole-line stores.
 */
static void pack_int_panel(const struct amxrt_weight *w, uint8_t *panel,
			   const uint8_t *rows)
{
	const size_t bb = amxrt_type_block_bytes(w->type);
	const int hdr = w->type == AMXRT_TYPE_Q4_1 ? 4 : 2;
	const int chunks = w->type == AMXRT_TYPE_Q8_0 ? 8 : 4;
	const uint32_t flip = w->type == AMXRT_TYPE_Q8_0 ? 0x80808080u : 0;
	size_t used = (size_t)w->nb * (w->qbytes + 32) +
		      (w->min_off ? (size_t)w->nb * 32 : 0);
	int64_t b;
	int r, j;

	for (r = 0; r < AMXRT_PANEL_ROWS; r++) {
		const uint8_t *src = rows + (size_t)r * w->row_bytes;
		uint8_t *qs = panel + 4 * r;
		uint8_t *d = panel + w->scale_off + 2 * r;

		for (b = 0; b < w->nb;
		     b++, src += bb, qs += w->qbytes, d += 32) {
			memcpy(d, src, 2);
			if (w->min_off)
				memcpy(d + (w->min_off - w->scale_off), src + 2,
				       2);
			for (j = 0; j < chunks; j++) {
				uint32_t v;

				memcpy(&v, src + hdr + 4 * j, 4);
				v ^= flip;
				memcpy(qs + 64 * j, &v, 4);
			}
		}
	}
	memset(panel + used, 0, w->panel_stride - used);
}

int amxrt_pack_panel16(struct amxrt_weight *w, const void *rows)
{
	/* per type, once: these are calls into another file */
	size_t bb = amxrt_type_block_bytes(w->type);
	size_t step = is_block_type(w->type) ? bb : AMXRT_BLOCK_K * bb;
	/* the paths whose machines have AVX-512 (amx-sim needs it too) */
	int simd = w->isa == AMXRT_ISA_AVX512VNNI || w->isa == AMXRT_ISA_AMX ||
		   w->isa == AMXRT_ISA_AMX_SIM;
	int64_t p, b;
	int r;

	for (p = 0; p < w->np; p++) {
		uint8_t *panel = w->data + (size_t)p * w->panel_stride;

		if (is_block_type(w->type) &&
		    (p + 1) * AMXRT_PANEL_ROWS <= w->n) {
			const uint8_t *src =
				(const uint8_t *)rows +
				(size_t)p * AMXRT_PANEL_ROWS * w->row_bytes;

			if (simd)
				amxrt_pack_int_panel_avx512(w, panel, src);
			else
				pack_int_panel(w, panel, src);
			continue;
		}
		memset(panel, 0, w->panel_stride);

		for (r = 0; r < AMXRT_PANEL_ROWS; r++) {
			int64_t n = p * AMXRT_PANEL_ROWS + r;

			for (b = 0; b < w->nb; b++) {
				uint8_t *src;

				if (n >= w->n) {
					/* padding row: value 0 */
					if (w->type == AMXRT_TYPE_Q8_0) {
						int j;

						for (j = 0; j < 8; j++)
							memset(panel + b * w->qbytes +
								       j * 64 +
								       r * 4,
							       0x80, 4);
					}
					continue;
				}
				src = (uint8_t *)rows +
				      (size_t)n * w->row_bytes +
				      (size_t)b * step;
				move_block(w, panel, src, b, r, 1);
			}
		}
	}
	return 0;
}

void amxrt_unpack_panel16(const struct amxrt_weight *w, void *rows)
{
	int64_t p, b;
	int r;

	for (p = 0; p < w->np; p++) {
		uint8_t *panel = w->data + (size_t)p * w->panel_stride;

		for (r = 0; r < AMXRT_PANEL_ROWS; r++) {
			int64_t n = p * AMXRT_PANEL_ROWS + r;

			if (n >= w->n)
				break;
			for (b = 0; b < w->nb; b++) {
				uint8_t *dst;

				if (is_block_type(w->type))
					dst = (uint8_t *)row_block(w, rows, n,
								   b);
				else
					dst = (uint8_t *)row_elem(
						w, rows, n, b * AMXRT_BLOCK_K,
						amxrt_type_block_bytes(
							w->type));
				move_block(w, panel, dst, b, r, 0);
			}
		}
	}
}
