// SPDX-License-Identifier: MIT
/*
 * Description: the machine limits benchmarks compare with (amxrt/bench.h).
 * amxrt_measure_limits() gives a positive int8 peak and read bandwidth,
 * names how each was measured and refuses bad arguments;
 * amxrt_time_read() times one read of a buffer on the pool (positive
 * seconds, with 1 and 2 threads) and refuses NULL, unaligned and
 * under-one-page buffers with a message. Speed is never asserted.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kselftest_harness.h"
#include "helpers.h"

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

TEST_HARNESS_MAIN
