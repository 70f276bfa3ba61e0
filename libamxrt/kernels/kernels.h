/* SPDX-License-Identifier: MIT */
/*
 * kernels.h - the contract between packing, activation staging, the
 * per-ISA matmul kernels and the dispatcher. Internal to libamxrt.
 *
 * PACKED LAYOUT ("panel16"), read by the avx2, avx512vnni, amx and amx-sim
 * paths (the generic path keeps the plain GGUF rows):
 *
 *   W (N x K) is cut into panels of 16 output rows; K is padded with zeros
 *   to Kp, a multiple of 32, and cut into blocks of 32. Panel p lives at
 *   data + p * panel_stride and holds, for its nb = Kp / 32 blocks:
 *
 *     [ qs of block 0 | qs of block 1 | ... ]  nb * qbytes   (64-aligned)
 *     [ 16 x fp16 d of block 0 | ... ]         nb * 32       (at scale_off)
 *     [ 16 x fp16 m of block 0 | ... ]         nb * 32       (at min_off,
 *                                                             Q4_1 only)
 *
 *   The qs of one block are "VNNI order": 64-byte chunks whose 32-bit lane
 *   r (r = 0..15) holds row r's values for consecutive k, so one zmm load
 *   feeds 16 output rows and one AMX tile row is one chunk:
 *
 *     Q8_0 (qbytes 512): chunk g (0..7), lane r = row r, k = 4g..4g+3,
 *           each byte stored as (q XOR 0x80), i.e. q + 128 as u8, so it is
 *           the unsigned operand of vpdpbusd / tdpbsud.
 *     Q4_0, Q4_1 (qbytes 256): chunk j (0..3), lane r = bytes 4j..4j+3 of
 *           row r's qs: low nibbles are k = 4j..4j+3, high nibbles
 *           k = 16+4j..16+4j+3 (so the four lanes' bytes are ggml's bytes,
 *           unchanged). Values are the unsigned nibbles 0..15.
 *     BF16 (qbytes 1024): chunk g (0..15), lane r = row r, k = 2g, 2g+1.
 *     F16 (qbytes 1024): 32-byte chunk k (0..31) = row 0..15 at k.
 *     F32 (qbytes 2048): 64-byte chunk k (0..31) = row 0..15 at k.
 *
 *   Rows past N and values past K are zero (scale 0, value 0; for Q8_0 the
 *   stored byte is 0x80). F32/F16/BF16 have no scales (scale_off = 0).
 *
 * ACTIVATIONS are staged once per matmul call into struct amxrt_act, in
 * the form the kernel asks for (enum amxrt_act_kind), with rows padded to
 * a multiple of 16 and K to Kp, the padding zero; except that for M = 1
 * only the one row is staged (every path's M = 1 kernel reads one row:
 * its padding rows hold whatever an earlier call left).
 *
 * Integer kernels compute, per row m, column n and block b:
 *   y[m][n] += dw[n][b] * da[m][b] * (sum_k wq * aq - off * sa[m][b])
 *            + mw[n][b] * da[m][b] * sa[m][b]             (Q4_1 only)
 * with off = 8 for Q4_0, 128 for Q8_0 (the stored u8 offset), 0 for Q4_1.
 * Q8 activations have a scale per block (AMXRT_ACT_Q8, for Q8_0 weights)
 * or one per group of AMXRT_ACT_GROUP blocks (AMXRT_ACT_Q8G, for Q4_0 and
 * Q4_1: da[m][b] is the same for every b of a group, groups counted from
 * the row's first block, the last maybe shorter), so that a kernel may sum
 * a group's blocks scaled by dw alone and apply da once per group.
 */
#ifndef AMXRT_KERNELS_H
#define AMXRT_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#include <amxrt/amxrt.h>

#define AMXRT_PANEL_ROWS 16
#define AMXRT_BLOCK_K 32
#define AMXRT_ALIGN 64
/*
 * Blocks of AMXRT_ACT_Q8G activations that share one scale (128 values):
 * the kernels then spend one float multiply per group instead of one per
 * block. The int8 step grows with the group's largest value; the error
 * this adds stays far below 4-bit weights' own, not below 8-bit weights',
 * whose activations keep a scale per block (Documentation/design.md).
 */
#define AMXRT_ACT_GROUP 4
/* Bytes of per-thread scratch every kernel may use (64-byte aligned). */
#define AMXRT_SCRATCH_BYTES (256 * 1024)

enum amxrt_layout {
	AMXRT_LAYOUT_ROWS = 0, /* the GGUF rows as given (generic path) */
	AMXRT_LAYOUT_PANEL16 = 1, /* the layout described above */
};

struct amxrt_weight {
	enum amxrt_type type;
	enum amxrt_isa isa;
	enum amxrt_layout layout;
	int64_t n, k; /* logical shape */
	int64_t kp, nb; /* K padded to 32, blocks per row */
	int64_t np; /* panels of 16 rows (ceil(n / 16)) */
	size_t qbytes; /* qs bytes of one block of one panel */
	size_t scale_off; /* within a panel; 0 if the type has none */
	size_t min_off; /* within a panel; 0 if the type has none */
	size_t panel_stride; /* bytes between panels (multiple of 64) */
	size_t row_bytes; /* LAYOUT_ROWS: bytes of one GGUF row */
	uint8_t *data; /* 64-byte aligned; NULL when split (distribute) */
	size_t bytes; /* bytes of data (of one copy) */
	/*
	 * NUMA placement (weight.c, the mode of numa/numa.c when allocated):
	 * isolate puts data on node index node_idx; distribute cuts the
	 * panels into n_views ranges, view i holding panels [view_p0[i],
	 * view_p0[i + 1]) as a weight of its own on node index i (data is
	 * NULL then); mirror makes n_views whole copies, view i on node
	 * index i (data is view 0's). Views have no views.
	 */
	int numa_mode; /* enum amxrt_numa */
	int node_idx; /* node index of data, -1 if not bound */
	int mirror; /* 1: views are copies, 0: panel ranges */
	int borrowed; /* data is the caller's (a model arena): not freed */
	int n_views;
	struct amxrt_weight *views;
	int64_t view_p0[AMXRT_NUMA_MAX_NODES + 1];
};

enum amxrt_act_kind {
	AMXRT_ACT_Q8 = 0, /* q, d, s: a scale per block */
	AMXRT_ACT_BF16 = 1, /* bf */
	AMXRT_ACT_F32 = 2, /* f */
	AMXRT_ACT_Q8G = 3, /* q, d, s: a scale per AMXRT_ACT_GROUP blocks */
};

/* The Q8 kind every path's kernels for an integer weight type take. */
static inline enum amxrt_act_kind amxrt_q8_kind(enum amxrt_type type)
{
	return type == AMXRT_TYPE_Q8_0 ? AMXRT_ACT_Q8 : AMXRT_ACT_Q8G;
}

/* Blocks per scale of a Q8 kind; 0 for the others. */
static inline int amxrt_act_group(enum amxrt_act_kind kind)
{
	return kind == AMXRT_ACT_Q8  ? 1 :
	       kind == AMXRT_ACT_Q8G ? AMXRT_ACT_GROUP :
				       0;
}

struct amxrt_act {
	enum amxrt_act_kind kind;
	int64_t m; /* real rows */
	int64_t mp; /* rows padded to a multiple of 16 */
	int64_t kp, nb; /* as the weight's */
	int8_t *q; /* [mp][kp]: per block, Q8_0 rules, d per block/group */
	float *d; /* [mp][nb]: the block's scale (its group's) */
	int32_t *s; /* [mp][nb]: sum of the block's q */
	uint16_t *bf; /* [mp][kp]: bf16, round to nearest even */
	float *f; /* [mp][kp]: f32 copy */
	size_t cap; /* bytes allocated behind the pointers */
	void *mem;
};

/*
 * A kernel computes y[0..m)[16*p0 .. min(16*p1, n)) for panels [p0, p1) of
 * w, reading a. It never writes columns >= n. scratch is this thread's
 * AMXRT_SCRATCH_BYTES. It allocates nothing.
 */
typedef void (*amxrt_kernel_fn)(const struct amxrt_weight *w,
				const struct amxrt_act *a, float *y,
				int64_t ldy, int64_t p0, int64_t p1,
				void *scratch);

/*
 * Quantize one row of activations for AMXRT_ACT_Q8 (group 1) or
 * AMXRT_ACT_Q8G (group AMXRT_ACT_GROUP): x has k values, the row is padded
 * with zeros to kp; q gets kp int8, d and s kp / 32 entries. Must give
 * exactly what amxrt_act_quantize_row() gives.
 */
typedef void (*amxrt_stage_q8_fn)(const float *x, int64_t k, int64_t kp,
				  int group, int8_t *q, float *d, int32_t *s);

struct amxrt_kernel {
	const char *name; /* for amxrt_matmul_kernel_name() and -v */
	enum amxrt_act_kind act;
	amxrt_kernel_fn fn;
	amxrt_stage_q8_fn stage_q8; /* (optional) NULL: the portable one */
};

/*
 * Each path exports one picker: the kernel it runs for a weight type and
 * M, or NULL if it has none for that type (then the dispatcher reports an
 * error; it never falls back silently).
 */
typedef const struct amxrt_kernel *(*amxrt_kernel_pick_fn)(enum amxrt_type type,
							   int64_t m);

const struct amxrt_kernel *amxrt_generic_pick(enum amxrt_type type, int64_t m);
const struct amxrt_kernel *amxrt_avx2_pick(enum amxrt_type type, int64_t m);
const struct amxrt_kernel *amxrt_avx512_pick(enum amxrt_type type, int64_t m);
/* avx512.c: where the Q4 gemvs prefetch, for the tests: -1 as this CPU
 * asks (into L2 on AMD family 19h, else L1), 0 into L1, 1 into L2. */
void amxrt_avx512_gemv_pf_force(int mode);
const struct amxrt_kernel *amxrt_amx_pick(enum amxrt_type type, int64_t m);
const struct amxrt_kernel *amxrt_amx_sim_pick(enum amxrt_type type, int64_t m);

/*
 * weight.c, for loaders that pack a weight as its rows arrive: allocate it
 * in the layout of the path isa (-1: the path in use), unpacked (0 or
 * -errno, as amxrt_weight_pack()); then fill rows [row0, row0 + n) from
 * rows (n GGUF rows). row0 is a multiple of AMXRT_PANEL_ROWS and n too
 * unless the range ends at the last row. Fills of disjoint ranges may run
 * on different threads at once.
 */
int amxrt_weight_alloc(struct amxrt_weight **out, enum amxrt_type type,
		       int64_t n, int64_t k, int isa);
void amxrt_weight_fill(struct amxrt_weight *w, int64_t row0, int64_t n,
		       const void *rows);
/*
 * The two halves of amxrt_weight_alloc(): the layout only (data NULL,
 * bytes set), then its memory: mem NULL places it as the NUMA mode says;
 * else data is mem (64-byte aligned, bytes long, e.g. in a model arena),
 * which amxrt_weight_free() leaves alone. 0 or -errno.
 */
int amxrt_weight_layout(struct amxrt_weight **out, enum amxrt_type type,
			int64_t n, int64_t k, int isa);
int amxrt_weight_place(struct amxrt_weight *w, void *mem);

/*
 * wmem.c: zeroed memory for a packed weight, 64-byte aligned, bound to
 * NUMA node index idx (-1: not bound), in huge pages where the kernel has
 * them (neighbouring weights share them); NULL with amxrt_err() set. Free
 * with the same bytes.
 */
void *amxrt_wmem_alloc(size_t bytes, int idx);
void amxrt_wmem_free(void *p, size_t bytes);

/*
 * matmul.c: several matmuls in one go (y = x * w^T for each op), for the
 * forward pass. Ops that follow each other with the same input (x, ldx,
 * rows, m and the same staging) share its staging. Returns 0 or -errno;
 * on error no op has run.
 */
#define AMXRT_MATMUL_BATCH_MAX 16

struct amxrt_matmul_op {
	const struct amxrt_weight *w;
	const float *x;
	int64_t ldx;
	float *y;
	int64_t ldy;
	int64_t m;
	/*
	 * NULL: row r of X is x + r * ldx; else x + rows[r] * ldx (the rows
	 * a MoE layer routes to one expert, gathered as they are staged)
	 */
	const int *rows;
};

int amxrt_matmul_batch(const struct amxrt_matmul_op *op, int n);

/* pack.c */
int amxrt_pack_panel16(struct amxrt_weight *w, const void *rows);
void amxrt_unpack_panel16(const struct amxrt_weight *w, void *rows);
/*
 * pack_avx512.c: one whole panel (16 real rows) of Q4_0, Q4_1 or Q8_0, the
 * bytes pack.c writes; for weights of the paths with AVX-512.
 */
void amxrt_pack_int_panel_avx512(const struct amxrt_weight *w, uint8_t *panel,
				 const uint8_t *rows);

/* Pointers into a panel16 weight. */
static inline const uint8_t *amxrt_panel(const struct amxrt_weight *w,
					 int64_t p)
{
	return w->data + (size_t)p * w->panel_stride;
}

static inline const uint8_t *amxrt_panel_qs(const struct amxrt_weight *w,
					    int64_t p, int64_t b)
{
	return amxrt_panel(w, p) + (size_t)b * w->qbytes;
}

static inline const uint16_t *amxrt_panel_d(const struct amxrt_weight *w,
					    int64_t p, int64_t b)
{
	return (const uint16_t *)(amxrt_panel(w, p) + w->scale_off +
				  (size_t)b * 32);
}

static inline const uint16_t *amxrt_panel_m(const struct amxrt_weight *w,
					    int64_t p, int64_t b)
{
	return (const uint16_t *)(amxrt_panel(w, p) + w->min_off +
				  (size_t)b * 32);
}

/*
 * act.c: make room in *a for m rows of kp values of kind (buffers only
 * grow), then stage rows [r0, r1) of x (m x k, stride ldx; with rows set,
 * row r is x + rows[r] * ldx); rows from m to mp are zero. Staging
 * different row ranges may run on different threads.
 */
int amxrt_act_reserve(struct amxrt_act *a, enum amxrt_act_kind kind, int64_t m,
		      int64_t kp);
void amxrt_act_stage(struct amxrt_act *a, const float *x, int64_t ldx,
		     const int *rows, int64_t k, int64_t r0, int64_t r1,
		     amxrt_stage_q8_fn stage_q8);
void amxrt_act_free(struct amxrt_act *a);
/* The portable amxrt_stage_q8_fn. */
void amxrt_act_quantize_row(const float *x, int64_t k, int64_t kp, int group,
			    int8_t *q, float *d, int32_t *s);
/* avx512.c: the same bytes with AVX-512 (for the avx512vnni and amx paths). */
void amxrt_stage_q8_avx512(const float *x, int64_t k, int64_t kp, int group,
			   int8_t *q, float *d, int32_t *s);

#endif /* AMXRT_KERNELS_H */
