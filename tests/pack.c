// SPDX-License-Identifier: MIT
/*
 * Description: placing weights. Packing is lossless for every weight type
 * and path (unpack gives back the original row bytes, including tails of
 * N and, for float types, of K); the panel16 layout puts known bytes where
 * kernels.h says, in whole panels (packed by the fast path) and in the last,
 * partial one, and every byte is written (padding zero over old memory);
 * bad shapes and types are refused with a message; the AVX-512 packer writes
 * the portable packer's bytes. Weights placed without
 * NUMA placement sit side by side in 2 MiB-aligned memory advised for huge
 * pages (small ones too, such as a MoE model's experts), which is unmapped
 * when its last weight is freed; threads packing and freeing weights at
 * once each get their own bytes back, and leave no memory mapped.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "kselftest_harness.h"
#include "helpers.h"

#include <amxrt/amxrt.h>

#include "../libamxrt/kernels/kernels.h"

static const enum amxrt_type weight_types[] = {
	AMXRT_TYPE_F32,	 AMXRT_TYPE_F16,  AMXRT_TYPE_BF16,
	AMXRT_TYPE_Q4_0, AMXRT_TYPE_Q4_1, AMXRT_TYPE_Q8_0,
};

/* Random valid rows of a type: quantized from random floats. */
static uint8_t *random_rows(enum amxrt_type type, int64_t n, int64_t k)
{
	int64_t rb = amxrt_row_bytes(type, k), i;
	uint8_t *rows = malloc((size_t)(rb * n));
	float *x = test_matrix(1, k, 1.0f);

	for (i = 0; rows && x && i < n; i++) {
		int64_t j;

		for (j = 0; j < k; j++)
			x[j] = test_normal() * (1 + (float)(i % 7));
		amxrt_quantize_row(type, x, rows + i * rb, k);
	}
	free(x);
	return rows;
}

TEST(lossless_every_type_and_path)
{
	static const int64_t shapes[][2] = {
		{ 1, 32 },   { 15, 32 }, { 16, 64 },	{ 17, 96 },
		{ 33, 160 }, { 64, 32 }, { 100, 2048 },
	};
	static const int64_t float_k[] = { 1, 7, 33, 100 };
	int isa, checked = 0;
	size_t t, s;

	for (isa = 0; isa < AMXRT_ISA_COUNT; isa++) {
		if (amxrt_isa_usable(isa, NULL, 0))
			continue;
		for (t = 0; t < sizeof(weight_types) / sizeof(weight_types[0]);
		     t++) {
			enum amxrt_type type = weight_types[t];
			size_t nshapes = sizeof(shapes) / sizeof(shapes[0]);
			size_t extra = amxrt_type_block_values(type) == 1 ? 4 :
									    0;

			for (s = 0; s < nshapes + extra; s++) {
				int64_t n = s < nshapes ? shapes[s][0] : 19;
				int64_t k = s < nshapes ? shapes[s][1] :
							  float_k[s - nshapes];
				int64_t bytes = amxrt_row_bytes(type, k) * n;
				uint8_t *rows = random_rows(type, n, k);
				uint8_t *back = malloc((size_t)bytes);
				struct amxrt_weight *w;

				ASSERT_NE(NULL, rows);
				ASSERT_EQ(0, amxrt_weight_pack(&w, type, n, k,
							       rows, isa));
				ASSERT_EQ(n, amxrt_weight_rows(w));
				ASSERT_EQ(k, amxrt_weight_cols(w));
				ASSERT_EQ(isa, (int)amxrt_weight_isa(w));
				memset(back, 0x5a, (size_t)bytes);
				ASSERT_EQ(0, amxrt_weight_unpack(w, back));
				if (memcmp(rows, back, (size_t)bytes)) {
					TH_LOG("%s on %s, %lld x %lld: unpack differs",
					       amxrt_type_name(type),
					       amxrt_isa_name(isa),
					       (long long)n, (long long)k);
					ASSERT_TRUE(0);
				}
				amxrt_weight_free(w);
				free(rows);
				free(back);
				checked++;
			}
		}
	}
	TH_LOG("%d weights packed and unpacked", checked);
	ASSERT_GT(checked, 0);
}

/* Spot checks of the panel16 layout against kernels.h, by hand. */
TEST(panel16_layout)
{
	struct amxrt_weight w = { 0 };
	uint8_t rows[17][34];
	int r;

	/* Q8_0, 17 rows x 32: row r has d = r, q[k] = k - r */
	for (r = 0; r < 17; r++) {
		int k;
		uint16_t d = amxrt_fp32_to_fp16((float)r);

		memcpy(rows[r], &d, 2);
		for (k = 0; k < 32; k++)
			rows[r][2 + k] = (uint8_t)(int8_t)(k - r);
	}
	w.type = AMXRT_TYPE_Q8_0;
	w.n = 17;
	w.k = 32;
	w.kp = 32;
	w.nb = 1;
	w.np = 2;
	w.qbytes = 512;
	w.scale_off = 512;
	w.panel_stride = 576;
	w.row_bytes = 34;
	w.bytes = 2 * 576;
	w.data = aligned_alloc(64, w.bytes);
	memset(w.data, 0xa5, w.bytes); /* packing must write every byte */
	ASSERT_EQ(0, amxrt_pack_panel16(&w, rows));
	/* chunk g = 2, lane r = 3, byte i = 1: k = 9, q = 6, stored 6 ^ 0x80 */
	ASSERT_EQ(0x86, w.data[2 * 64 + 3 * 4 + 1]);
	/* chunk 7, lane 15, byte 3: k = 31, q = 16 -> 0x90 */
	ASSERT_EQ(0x90, w.data[7 * 64 + 15 * 4 + 3]);
	/* scale of row 5 */
	ASSERT_EQ(5.0f, amxrt_fp16_to_fp32(amxrt_panel_d(&w, 0, 0)[5]));
	/* panel 1: row 16 is lane 0; lanes 1.. are padding (value 0 = 0x80) */
	ASSERT_EQ((uint8_t)((0 - 16) ^ 0x80), w.data[576 + 0]);
	ASSERT_EQ(0x80, w.data[576 + 1 * 4]);
	ASSERT_EQ(0, amxrt_panel_d(&w, 1, 0)[1]);
	/* alignment padding after the scales (544..575) is zero, in both */
	for (r = 544; r < 576; r++) {
		ASSERT_EQ(0, w.data[r]);
		ASSERT_EQ(0, w.data[576 + r]);
	}
	free(w.data);
}

/* Weight w (layout only) packed from rows into memory full of junk. */
static uint8_t *pack_over_junk(struct amxrt_weight *w, const void *rows,
			       int junk)
{
	w->data = aligned_alloc(64, w->bytes);
	if (!w->data)
		return NULL;
	memset(w->data, junk, w->bytes);
	amxrt_pack_panel16(w, rows);
	return w->data;
}

/*
 * The AVX-512 packer (paths avx512vnni, amx, amx-sim) writes the bytes of
 * the portable one (path avx2), every byte of the panel, on rows of random
 * bytes (packing moves bytes: any are valid), with N tails and K from one
 * block to many.
 */
TEST(simd_packer_same_bytes)
{
	static const enum amxrt_type types[] = { AMXRT_TYPE_Q4_0,
						 AMXRT_TYPE_Q4_1,
						 AMXRT_TYPE_Q8_0 };
	static const int64_t shapes[][2] = { { 16, 32 },   { 17, 64 },
					     { 48, 96 },   { 100, 2048 },
					     { 35, 5632 }, { 64, 4096 } };
	size_t t, s, i;
	int checked = 0;

	if (amxrt_isa_usable(AMXRT_ISA_AVX512VNNI, NULL, 0) ||
	    amxrt_isa_usable(AMXRT_ISA_AVX2, NULL, 0))
		SKIP(return,
			   "the AVX-512 packer needs a CPU with AVX-512 VNNI (and AVX2 for the portable one's path)");
	for (t = 0; t < sizeof(types) / sizeof(types[0]); t++)
		for (s = 0; s < sizeof(shapes) / sizeof(shapes[0]); s++) {
			int64_t n = shapes[s][0], k = shapes[s][1];
			size_t bytes =
				(size_t)(amxrt_row_bytes(types[t], k) * n);
			uint8_t *rows = malloc(bytes), *a, *b;
			struct amxrt_weight *wa, *wb;

			ASSERT_NE(NULL, rows);
			for (i = 0; i < bytes; i++)
				rows[i] = (uint8_t)test_rand();
			ASSERT_EQ(0, amxrt_weight_layout(&wa, types[t], n, k,
							 AMXRT_ISA_AVX2));
			ASSERT_EQ(0, amxrt_weight_layout(&wb, types[t], n, k,
							 AMXRT_ISA_AVX512VNNI));
			ASSERT_EQ(wa->bytes, wb->bytes);
			a = pack_over_junk(wa, rows, 0xa5);
			b = pack_over_junk(wb, rows, 0x3c);
			ASSERT_NE(NULL, a);
			ASSERT_NE(NULL, b);
			for (i = 0; i < wa->bytes && a[i] == b[i]; i++)
				;
			if (i < wa->bytes)
				TH_LOG("%s %lld x %lld: byte %zu of %zu: %#x, portable %#x",
				       amxrt_type_name(types[t]), (long long)n,
				       (long long)k, i, wa->bytes, b[i], a[i]);
			ASSERT_EQ(wa->bytes, i);
			free(a);
			free(b);
			free(wa);
			free(wb);
			free(rows);
			checked++;
		}
	TH_LOG("%d weights packed both ways", checked);
}

TEST(weights_share_huge_page_slabs)
{
	enum { NW = 24 };
	/* a moe-bench expert: 768 x 2048 Q4_0, 864 KiB packed */
	int64_t n = 768, k = 2048;
	uint8_t *rows = random_rows(AMXRT_TYPE_Q4_0, n, k);
	struct amxrt_weight *w[NW], *big;
	uintptr_t lo = UINTPTR_MAX, hi = 0;
	size_t total = 0;
	char flags[512];
	int i, j;

#ifdef __SANITIZE_ADDRESS__
	free(rows);
	SKIP(return, "AddressSanitizer build: each weight is a heap "
		     "allocation of its own, so that overruns are caught");
#endif
	ASSERT_NE(NULL, rows);
	ASSERT_EQ(0, amxrt_set_numa(AMXRT_NUMA_OFF, -1));
	for (i = 0; i < NW; i++) {
		ASSERT_EQ(0, amxrt_weight_pack(&w[i], AMXRT_TYPE_Q4_0, n, k,
					       rows, -1));
		ASSERT_EQ(0, (uintptr_t)w[i]->data % AMXRT_ALIGN);
		total += w[i]->bytes;
		if ((uintptr_t)w[i]->data < lo)
			lo = (uintptr_t)w[i]->data;
		if ((uintptr_t)w[i]->data + w[i]->bytes > hi)
			hi = (uintptr_t)w[i]->data + w[i]->bytes;
		/* no two weights overlap */
		for (j = 0; j < i; j++)
			ASSERT_TRUE(w[i]->data + w[i]->bytes <= w[j]->data ||
				    w[j]->data + w[j]->bytes <= w[i]->data);
	}
	/*
	 * side by side (each test runs in a process of its own, so these are
	 * the first weights of a fresh slab): no gaps but 64-byte alignment
	 */
	TH_LOG("%d weights, %zu bytes, in %zu bytes of address space", NW,
	       total, (size_t)(hi - lo));
	ASSERT_LE(hi - lo, total + (size_t)AMXRT_ALIGN * NW);
	/* advised for huge pages (the "hg" flag), each of them */
	for (i = 0; i < NW; i++) {
		test_vm_flags(w[i]->data, flags, sizeof(flags));
		ASSERT_NE(NULL, strstr(flags, " hg"));
	}
	/* still a whole weight: unpacking gives the rows back */
	{
		uint8_t *back = malloc(
			(size_t)(amxrt_row_bytes(AMXRT_TYPE_Q4_0, k) * n));

		ASSERT_NE(NULL, back);
		ASSERT_EQ(0, amxrt_weight_unpack(w[NW - 1], back));
		ASSERT_EQ(0,
			  memcmp(back, rows,
				 (size_t)(amxrt_row_bytes(AMXRT_TYPE_Q4_0, k) *
					  n)));
		free(back);
	}
	/* a weight of more than 16 MiB has its own 2 MiB-aligned mapping */
	{
		uint8_t *brows = random_rows(AMXRT_TYPE_Q4_0, 16384, k);

		ASSERT_NE(NULL, brows);
		ASSERT_EQ(0, amxrt_weight_pack(&big, AMXRT_TYPE_Q4_0, 16384, k,
					       brows, -1));
		free(brows);
		ASSERT_EQ(0, (uintptr_t)big->data % ((size_t)2 << 20));
		test_vm_flags(big->data, flags, sizeof(flags));
		ASSERT_NE(NULL, strstr(flags, " hg"));
		amxrt_weight_free(big);
	}
	/* freed, all of them: their memory is unmapped */
	{
		const void *first = w[0]->data;

		for (i = 0; i < NW; i++)
			amxrt_weight_free(w[i]);
		test_vm_flags(first, flags, sizeof(flags));
		ASSERT_EQ(NULL, strstr(flags, " hg"));
	}
	free(rows);
}

/* Mappings advised for huge pages ("hg" in VmFlags) in this process. */
static int hg_mappings(void)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	char line[512];
	int n = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "VmFlags:", 8) && strstr(line, " hg"))
			n++;
	fclose(f);
	return n;
}

struct churn {
	uint64_t rng;
	int bad; /* weights that did not unpack to their rows, or failed */
};

static uint64_t churn_rand(struct churn *c)
{
	c->rng ^= c->rng << 13;
	c->rng ^= c->rng >> 7;
	c->rng ^= c->rng << 17;
	return c->rng * 0x2545F4914F6CDD1DULL;
}

struct churn_slot {
	struct amxrt_weight *w;
	uint8_t *rows;
	size_t bytes;
};

/* Check that the slot's weight unpacks to its rows, then free both. */
static void churn_retire(struct churn *c, struct churn_slot *sl)
{
	uint8_t *back;

	if (sl->w) {
		back = malloc(sl->bytes);
		if (!back || amxrt_weight_unpack(sl->w, back) ||
		    memcmp(back, sl->rows, sl->bytes))
			c->bad++;
		free(back);
		amxrt_weight_free(sl->w);
	}
	free(sl->rows);
	memset(sl, 0, sizeof(*sl));
}

/*
 * Pack weights of random shapes and types, keep up to 6 alive, check each
 * unpacks to its rows when it is freed (at random, then all at the end).
 */
static void *churn_main(void *arg)
{
	struct churn *c = arg;
	struct churn_slot live[6] = { 0 };
	int it, i;

	for (it = 0; it < 80; it++) {
		enum amxrt_type t = churn_rand(c) % 2 ? AMXRT_TYPE_Q4_0 :
							AMXRT_TYPE_Q8_0;
		int64_t n = 1 + (int64_t)(churn_rand(c) % 300);
		int64_t k = 32 * (1 + (int64_t)(churn_rand(c) % 64));
		int64_t rb = amxrt_row_bytes(t, k), j;
		struct churn_slot *sl = &live[churn_rand(c) % 6];

		churn_retire(c, sl);
		sl->bytes = (size_t)(rb * n);
		sl->rows = malloc(sl->bytes);
		if (!sl->rows) {
			c->bad++;
			continue;
		}
		for (j = 0; j < rb * n; j++)
			sl->rows[j] = (uint8_t)churn_rand(c);
		if (amxrt_weight_pack(&sl->w, t, n, k, sl->rows, -1))
			c->bad++;
	}
	for (i = 0; i < 6; i++)
		churn_retire(c, &live[i]);
	return NULL;
}

TEST(weights_from_threads)
{
	enum { NT = 4 };
	struct churn c[NT];
	pthread_t tid[NT];
	int before, i;

	ASSERT_EQ(0, amxrt_set_numa(AMXRT_NUMA_OFF, -1));
	before = hg_mappings();
	ASSERT_LE(0, before);
	for (i = 0; i < NT; i++) {
		c[i].rng = test_rand() | 1;
		c[i].bad = 0;
		ASSERT_EQ(0, pthread_create(&tid[i], NULL, churn_main, &c[i]));
	}
	for (i = 0; i < NT; i++) {
		ASSERT_EQ(0, pthread_join(tid[i], NULL));
		EXPECT_EQ(0, c[i].bad);
	}
	/* every weight freed: no slab left mapped */
	EXPECT_EQ(before, hg_mappings());
}

TEST(refuses_bad_weights)
{
	uint8_t rows[64 * 34] = { 0 };
	struct amxrt_weight *w = (void *)1;

	ASSERT_EQ(-EINVAL, amxrt_weight_pack(&w, AMXRT_TYPE_Q8_0, 4, 33, rows,
					     AMXRT_ISA_GENERIC));
	ASSERT_EQ(NULL, w);
	ASSERT_NE(NULL, strstr(amxrt_errmsg(), "multiple of 32"));
	ASSERT_EQ(-EINVAL, amxrt_weight_pack(&w, AMXRT_TYPE_Q8_1, 4, 32, rows,
					     AMXRT_ISA_GENERIC));
	ASSERT_NE(NULL, strstr(amxrt_errmsg(), "not a weight type"));
	ASSERT_EQ(-EINVAL, amxrt_weight_pack(&w, AMXRT_TYPE_F32, 0, 32, rows,
					     AMXRT_ISA_GENERIC));
	ASSERT_EQ(-EINVAL, amxrt_weight_pack(&w, AMXRT_TYPE_F32, 4, 32, NULL,
					     AMXRT_ISA_GENERIC));
	ASSERT_EQ(-EINVAL, amxrt_weight_pack(&w, (enum amxrt_type)6, 4, 32,
					     rows, AMXRT_ISA_GENERIC));
	amxrt_weight_free(NULL);
}

TEST_HARNESS_MAIN
