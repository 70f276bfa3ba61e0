// SPDX-License-Identifier: MIT
/*
 * Description: the machine limits benchmarks compare with (amxrt/bench.h).
 * amxrt_measure_limits() gives a positive int8 peak and read bandwidth,
 * names how each was measured and refuses bad arguments;
 * amxrt_time_read() times one read of a buffer on the pool (positive
 * seconds, with 1 and 2 threads) and refuses NULL, unaligned and
 * under-one-page buffers with a message; amxrt_model_time_read() reads
 * exactly the matmul weight bytes a token reads (every packed weight, of
 * a MoE layer's experts n_expert_used, past one group of experts too),
 * for dense, tied and MoE models. Speed is never asserted.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "helpers.h"
#include "model_gen.h"

#include <amxrt/amxrt.h>

TEST(measure_limits)
{
	struct amxrt_limits lim;

	ASSERT_EQ(0, amxrt_measure_limits(&lim, 0.05));
	EXPECT_LT(0.0, lim.int8_tops);
	EXPECT_LT(0.0, lim.read_gbs);
	EXPECT_EQ(amxrt_threads(), lim.threads);
	EXPECT_LT((size_t)0, lim.read_bytes);
	EXPECT_STRNE("", lim.int8_how);
	EXPECT_STRNE("", lim.read_how);
	EXPECT_EQ(-EINVAL, amxrt_measure_limits(NULL, 1));
	EXPECT_EQ(-EINVAL, amxrt_measure_limits(&lim, 0));
	EXPECT_EQ(-EINVAL, amxrt_measure_limits(&lim, 61));
	EXPECT_NE(NULL, strstr(amxrt_errmsg(), "61"));
}

TEST(time_read)
{
	size_t bytes = (size_t)4 << 20;
	char *buf = aligned_alloc(4096, bytes + 4096);
	double s = -1;
	int t;

	ASSERT_NE(NULL, buf);
	memset(buf, 7, bytes + 4096);
	for (t = 1; t <= 2; t++) {
		ASSERT_EQ(0, amxrt_set_threads(t));
		s = -1;
		ASSERT_EQ(0, amxrt_time_read(buf, bytes, &s));
		EXPECT_LT(0.0, s);
		EXPECT_GT(10.0, s);
		/* a tail past the last whole page is fine (not read) */
		ASSERT_EQ(0, amxrt_time_read(buf, 4096 + 100, &s));
	}
	EXPECT_EQ(-EINVAL, amxrt_time_read(NULL, bytes, &s));
	EXPECT_NE(NULL, strstr(amxrt_errmsg(), "time_read"));
	EXPECT_EQ(-EINVAL, amxrt_time_read(buf, bytes, NULL));
	EXPECT_EQ(-EINVAL, amxrt_time_read(buf + 8, bytes, &s));
	EXPECT_EQ(-EINVAL, amxrt_time_read(buf, 4095, &s));
	ASSERT_EQ(0, amxrt_set_threads(0));
	free(buf);
}

/* The bytes a token reads by the placement list (as amxrt-bench counts). */
static uint64_t token_bytes(const struct amxrt_model *m,
			    const struct gen_params *p)
{
	int64_t i, n = amxrt_model_placement_count(m);
	uint64_t sum = 0;

	for (i = 0; i < n; i++) {
		struct amxrt_placement pl;

		if (amxrt_model_placement(m, i, &pl) ||
		    !strncmp(pl.layout, "plain", 5))
			continue;
		sum += strstr(pl.tensor, "_exps") ?
			       pl.bytes / p->n_expert * p->n_expert_used :
			       pl.bytes;
	}
	return sum;
}

TEST(model_read_pass)
{
	char dir[] = "/tmp/amxrt-limits-XXXXXX", path[64];
	struct gen_params p[4];
	int i;

	ASSERT_NE(NULL, mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/m.gguf", dir);
	gen_defaults(&p[0], "llama", AMXRT_TYPE_Q4_0, 1);
	gen_defaults(&p[1], "llama", AMXRT_TYPE_Q8_0, 2);
	p[1].tied = 1;
	gen_defaults(&p[2], "qwen3moe", AMXRT_TYPE_Q4_0, 3);
	/* 9 of 20 experts: two groups of a token's experts (moe.c) */
	gen_defaults(&p[3], "qwen3moe", AMXRT_TYPE_Q4_0, 4);
	p[3].n_expert = 20;
	p[3].n_expert_used = 9;
	for (i = 0; i < 4; i++) {
		struct amxrt_model *m;
		uint64_t bytes = 0, want;
		double s = -1;

		ASSERT_EQ(0, gen_model(path, &p[i]));
		ASSERT_EQ(0, amxrt_model_load(path, NULL, &m));
		want = token_bytes(m, &p[i]);
		EXPECT_LT(0u, want);
		ASSERT_EQ(0, amxrt_model_time_read(m, &s, &bytes));
		TH_LOG("%s %s: %llu bytes in %.1f us", p[i].arch,
		       amxrt_type_name(p[i].type), (unsigned long long)bytes,
		       s * 1e6);
		EXPECT_EQ(want, bytes);
		EXPECT_LT(0.0, s);
		EXPECT_GT(10.0, s);
		/* bytes is optional */
		EXPECT_EQ(0, amxrt_model_time_read(m, &s, NULL));
		EXPECT_EQ(-EINVAL, amxrt_model_time_read(m, NULL, &bytes));
		EXPECT_EQ(-EINVAL, amxrt_model_time_read(NULL, &s, &bytes));
		EXPECT_NE(NULL, strstr(amxrt_errmsg(), "model_time_read"));
		amxrt_model_free(m);
	}
	unlink(path);
	rmdir(dir);
}

TEST_HARNESS_MAIN
