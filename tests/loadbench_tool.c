// SPDX-License-Identifier: MIT
/*
 * Description: the amxrt-loadbench tool. On stories260K with one pass it
 * prints a markdown table with the read, read to new, load, stream and
 * first token rows for each cache state asked, each with 5 cells, the
 * load rows with a percentage of the read, and on stderr one load report
 * per cache state naming the I/O used (pread when asked); --help exits
 * 0; bad options and values fail with status 2, a load that fails (a bad
 * AMXRT_IO through --io) with status 1, each with one line on stderr.
 * Speed is never asserted.
 *
 * The tool is $AMXRT_BIN/amxrt-loadbench (set by run_tests.sh), else
 * $AMXRT_SRCDIR/build/bin/amxrt-loadbench, else ../bin/ next to this
 * program (BUILD/tests/loadbench_tool).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "tool_helpers.h"

/* Each run starts without the I/O settings of the environment. */
#define LB_ENV                                             \
	"-u AMXRT_IO -u AMXRT_IO_CHUNK -u AMXRT_IO_DEPTH " \
	"-u AMXRT_IO_DIRECT"

static char model[512];

/* amxrt-loadbench, and the model stories260K.gguf under AMXRT_SRCDIR. */
static int find_tools(char *why, size_t len)
{
	const char *src = getenv("AMXRT_SRCDIR");

	snprintf(model, sizeof(model), "%s/models/stories260K.gguf",
		 src && *src ? src : ".");
	return find_tool("amxrt-loadbench", why, len);
}

/* The table row of test in cache state, or 0. */
static int find_row(const char *out, const char *test, const char *cache,
		    char *line, size_t len)
{
	char key[64];
	const char *l, *e;

	snprintf(key, sizeof(key), "| %-12s | %-5s |", test, cache);
	l = strstr(out, key);
	if (!l)
		return 0;
	e = strchr(l, '\n');
	snprintf(line, len, "%.*s", (int)(e ? e - l : (long)strlen(l)), l);
	return 1;
}

#define NEED_TOOL()                                 \
	do {                                        \
		char why_[900];                     \
		if (find_tools(why_, sizeof(why_))) \
			SKIP(return, "%s", why_);   \
	} while (0)

TEST(table_cold_and_warm)
{
	static const char *const tests[] = { "read", "read to new", "load",
					     "  stream", "first token" };
	struct run *r = malloc(sizeof(*r));
	char args[1024], line[256];
	const char *cache[] = { "cold", "warm" };
	int c, t;

	NEED_TOOL();
	ASSERT_NE(NULL, r);
	snprintf(args, sizeof(args), "-m '%s' -r 1 -t 1", model);
	run_tool(r, LB_ENV, args);
	TH_LOG("exit %d, stderr \"%s\"", r->status, r->err);
	ASSERT_EQ(0, r->status);
	EXPECT_NE(NULL, strstr(r->out, "| test "));
	for (c = 0; c < 2; c++) {
		for (t = 0; t < 5; t++) {
			ASSERT_TRUE(find_row(r->out, tests[t], cache[c], line,
					     sizeof(line)))
			TH_LOG("no row %s %s in:\n%s", tests[t], cache[c],
			       r->out);
			EXPECT_EQ(6, count(line, '|')) TH_LOG("%s", line);
			/* the loads are compared with the read */
			EXPECT_EQ(t == 1 || t == 2, strchr(line, '%') != NULL)
			TH_LOG("%s", line);
		}
		snprintf(line, sizeof(line), "%s: ", cache[c]);
		EXPECT_NE(NULL, strstr(r->err, line)) TH_LOG("%s", r->err);
	}
	EXPECT_NE(NULL, strstr(r->err, " reads"));

	snprintf(args, sizeof(args), "-m '%s' -r 1 --cache warm --io pread",
		 model);
	run_tool(r, LB_ENV, args);
	ASSERT_EQ(0, r->status) TH_LOG("%s", r->err);
	EXPECT_NE(NULL, strstr(r->err, "warm: pread")) TH_LOG("%s", r->err);
	EXPECT_EQ(NULL, strstr(r->out, "| cold "));
	free(r);
}

TEST(usage_and_errors)
{
	static const struct {
		const char *args;
		int status;
		const char *word;
	} bad[] = {
		{ "", 2, "no model" },
		{ "-m MODEL -r 0", 2, "-r" },
		{ "-m MODEL --cache hot", 2, "--cache" },
		{ "-m MODEL extra", 2, "extra" },
		{ "-m /nonexistent.gguf", 1, "/nonexistent.gguf" },
		{ "-m MODEL -r 1 --cache warm --io fast", 1, "AMXRT_IO" },
		{ "-m MODEL -r 1 --cache warm --chunk 1000", 1,
		  "AMXRT_IO_CHUNK" },
	};
	struct run *r = malloc(sizeof(*r));
	char args[1024];
	size_t i;

	NEED_TOOL();
	ASSERT_NE(NULL, r);
	run_tool(r, LB_ENV, "--help");
	EXPECT_EQ(0, r->status);
	EXPECT_NE(NULL, strstr(r->out, "Usage: "));
	EXPECT_NE(NULL, strstr(r->out, "--drop-caches"));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *m = strstr(bad[i].args, "MODEL");

		if (m)
			snprintf(args, sizeof(args), "%.*s'%s'%s",
				 (int)(m - bad[i].args), bad[i].args, model,
				 m + 5);
		else
			snprintf(args, sizeof(args), "%s", bad[i].args);
		run_tool(r, LB_ENV, args);
		EXPECT_EQ(bad[i].status, r->status) TH_LOG("%s", args);
		EXPECT_EQ(1, count(r->err, '\n'))
		TH_LOG("%s: \"%s\"", args, r->err);
		EXPECT_NE(NULL, strstr(r->err, bad[i].word))
		TH_LOG("%s: \"%s\"", args, r->err);
	}
	free(r);
}

TEST_HARNESS_MAIN
