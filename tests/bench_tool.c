// SPDX-License-Identifier: MIT
/*
 * Description: the amxrt-bench tool. "gemm" on tiny shapes with one
 * repetition prints the measured limits and a markdown table with one row
 * per type x shape x M, each with 8 cells, the ratio named after the limit
 * it is taken against (read bandwidth for M = 1, int8 peak above), then a
 * note on the read bandwidth the M = 1 rows were compared with; a cold
 * M = 1 row is also compared with a cold read of its size; --help
 * exits 0; bad commands, options and values fail with a non-zero status
 * and exactly one line on stderr. Speed is never asserted.
 *
 * The tool is $AMXRT_BIN/amxrt-bench (set by run_tests.sh), else
 * $AMXRT_SRCDIR/build/bin/amxrt-bench, else ../bin/amxrt-bench next to
 * this program (BUILD/tests/bench_tool).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "tool_helpers.h"

#include <amxrt/amxrt.h>

#define NEED_TOOL()                                               \
	do {                                                      \
		char why_[900];                                   \
		if (find_tool("amxrt-bench", why_, sizeof(why_))) \
			SKIP(return, "%s", why_);                 \
	} while (0)

static const char note[] =
	"\n\nM = 1 rows are compared with the best read bandwidth measured so far";
static const char header[] =
	"| type | N x K | M | kernel | time/call | GOP/s | GB/s | vs limit |";

TEST(gemm_table)
{
	static const char *const types[] = { "q4_0", "f32" };
	static const char *const shapes[] = { "40x64", "17x32" };
	static const char *const ms[] = { "1", "3" };
	char line[1024], c[256];
	const char *l, *e;
	struct run *r = malloc(sizeof(*r));
	int rows = 0, t, s, m;

	NEED_TOOL();
	ASSERT_NE(NULL, r);
	run_tool(
		r, "-u AMXRT_ISA",
		"gemm --types q4_0,f32 --shapes 40x64,17x32 -m 1,3 -r 1 --warm --limits-time 0.05");
	TH_LOG("exit %d, stderr \"%s\"", r->status, r->err);
	ASSERT_EQ(0, r->status);
	EXPECT_STREQ("", r->err);
	EXPECT_NE(NULL, strstr(r->out, "Limits measured now: int8 "));
	EXPECT_NE(NULL, strstr(r->out, " TOP/s ("));
	l = strstr(r->out, header);
	ASSERT_NE(NULL, l);
	l = strchr(l, '\n');
	ASSERT_NE(NULL, l);
	ASSERT_EQ(0, strncmp(l + 1, "|---", 4));
	l = strchr(l + 1, '\n');
	/* rows come type by type, shape by shape, M by M */
	for (t = 0; t < 2; t++) {
		for (s = 0; s < 2; s++) {
			for (m = 0; m < 2; m++) {
				ASSERT_NE(NULL, l);
				l++;
				e = strchr(l, '\n');
				ASSERT_NE(NULL, e);
				snprintf(line, sizeof(line), "%.*s",
					 (int)(e - l), l);
				TH_LOG("%s", line);
				ASSERT_EQ(9, count(line, '|'));
				ASSERT_EQ(0, cell(line, 0, c, sizeof(c)));
				EXPECT_STREQ(types[t], c);
				ASSERT_EQ(0, cell(line, 1, c, sizeof(c)));
				EXPECT_STREQ(shapes[s], c);
				ASSERT_EQ(0, cell(line, 2, c, sizeof(c)));
				EXPECT_STREQ(ms[m], c);
				ASSERT_EQ(0, cell(line, 3, c, sizeof(c)));
				EXPECT_STRNE("none", c);
				EXPECT_STRNE("", c);
				ASSERT_EQ(0, cell(line, 4, c, sizeof(c)));
				EXPECT_NE(NULL, strstr(c, " ± "));
				ASSERT_EQ(0, cell(line, 7, c, sizeof(c)));
				EXPECT_NE(NULL, strstr(c, m ? "% of int8" :
							      "% of read"));
				rows++;
				l = e;
			}
		}
	}
	/* after the table, the notes on the M = 1 rows, then M > 1 */
	EXPECT_EQ(0, strncmp(l, note, strlen(note)));
	EXPECT_NE(NULL, strstr(l, "\nM > 1 rows are compared with the best "
				  "int8 peak measured so far"));
	EXPECT_EQ(8, rows);
	free(r);
}

/* M = 1 with cold caches (the default) still gives a row. */
TEST(gemm_cold_row)
{
	struct run *r = malloc(sizeof(*r));

	NEED_TOOL();
	ASSERT_NE(NULL, r);
	run_tool(
		r, "-u AMXRT_ISA",
		"gemm --types q8_0 --shapes 16x32 -m 1 -r 1 --limits-time 0.05");
	ASSERT_EQ(0, r->status);
	EXPECT_NE(NULL, strstr(r->out, "cold caches"));
	EXPECT_NE(NULL, strstr(r->out, "| q8_0 | 16x32 | 1 | "));
	/* compared with a plain read of as many bytes too */
	EXPECT_NE(NULL, strstr(r->out, "% of a cold read of its size ("));
	EXPECT_NE(NULL, strstr(r->out, "amxrt_time_read()"));
	free(r);
}

TEST(help)
{
	struct run *r = malloc(sizeof(*r));

	NEED_TOOL();
	ASSERT_NE(NULL, r);
	run_tool(r, "-u AMXRT_ISA", "--help");
	ASSERT_EQ(0, r->status);
	EXPECT_NE(NULL, strstr(r->out, "usage: amxrt-bench gemm"));
	run_tool(r, "-u AMXRT_ISA", "gemm -h");
	ASSERT_EQ(0, r->status);
	EXPECT_NE(NULL, strstr(r->out, "--shapes"));
	free(r);
}

TEST(bad_flags_fail_with_one_line)
{
	static const char *const bad[] = {
		"",
		"frob",
		"gemm --types q9_9",
		"gemm --types q8_1",
		"gemm --types ,",
		"gemm -r 0",
		"gemm -r x",
		"gemm -t 0",
		"gemm -t",
		"gemm --shapes 12",
		"gemm --shapes 0x32",
		"gemm --shapes 16x7 --types q4_0",
		"gemm -m 0",
		"gemm --isa nope",
		"gemm --limits-time 0",
		"gemm --bogus",
		"gemm extra",
	};
	struct run *r = malloc(sizeof(*r));
	size_t i;

	NEED_TOOL();
	ASSERT_NE(NULL, r);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		run_tool(r, "-u AMXRT_ISA", bad[i]);
		TH_LOG("'%s': exit %d, stderr \"%.*s\"", bad[i], r->status,
		       (int)strcspn(r->err, "\n"), r->err);
		EXPECT_NE(0, r->status);
		EXPECT_NE(-1, r->status);
		EXPECT_STREQ("", r->out);
		EXPECT_EQ(1, count(r->err, '\n'));
		EXPECT_EQ(0, strncmp(r->err, "amxrt-bench: ", 13));
	}
	/* a path this machine cannot run is refused the same way */
	for (i = 0; i < AMXRT_ISA_COUNT; i++) {
		char args[128];

		if (!amxrt_isa_usable((enum amxrt_isa)i, NULL, 0))
			continue;
		snprintf(args, sizeof(args), "gemm --isa %s",
			 amxrt_isa_name((enum amxrt_isa)i));
		run_tool(r, "-u AMXRT_ISA", args);
		TH_LOG("'%s': exit %d, stderr \"%.*s\"", args, r->status,
		       (int)strcspn(r->err, "\n"), r->err);
		EXPECT_NE(0, r->status);
		EXPECT_EQ(1, count(r->err, '\n'));
		EXPECT_NE(NULL, strstr(r->err, "cannot run here"));
	}
	free(r);
}

TEST_HARNESS_MAIN
