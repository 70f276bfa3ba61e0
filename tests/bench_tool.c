// SPDX-License-Identifier: MIT
/*
 * Description: the amxrt-bench tool. "gemm" on tiny shapes with one
 * repetition prints the measured limits and a markdown table with one row
 * per type x shape x M, each with 8 cells, the ratio named after the limit
 * it is taken against (read bandwidth for M = 1, int8 peak above), then a
 * note on the read bandwidth the M = 1 rows were compared with; --help
 * exits 0; bad commands, options and values fail with a non-zero status
 * and exactly one line on stderr. Speed is never asserted.
 *
 * The tool is $AMXRT_BIN/amxrt-bench (set by run_tests.sh), else
 * $AMXRT_SRCDIR/build/bin/amxrt-bench, else ../bin/amxrt-bench next to
 * this program (BUILD/tests/bench_tool).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"

#include <amxrt/amxrt.h>

static char tool[512];

static int find_tool(char *why, size_t len)
{
	const char *bin = getenv("AMXRT_BIN");
	const char *src = getenv("AMXRT_SRCDIR");
	char self[400], *slash;
	ssize_t n;

	if (bin && *bin) {
		snprintf(tool, sizeof(tool), "%s/amxrt-bench", bin);
	} else if (src && *src) {
		snprintf(tool, sizeof(tool), "%s/build/bin/amxrt-bench", src);
	} else {
		n = readlink("/proc/self/exe", self, sizeof(self) - 1);
		if (n <= 0) {
			snprintf(
				why, len,
				"AMXRT_BIN and AMXRT_SRCDIR are unset and /proc/self/exe is unreadable");
			return -1;
		}
		self[n] = '\0';
		slash = strrchr(self, '/');
		if (slash)
			*slash = '\0';
		snprintf(tool, sizeof(tool), "%s/../bin/amxrt-bench", self);
	}
	if (access(tool, X_OK)) {
		snprintf(why, len, "%s: %s", tool, strerror(errno));
		return -1;
	}
	return 0;
}

struct run {
	char out[65536], err[4096];
	int status; /* exit status, or -1 */
};

static void slurp(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	size_t n = 0;

	if (f) {
		n = fread(buf, 1, len - 1, f);
		fclose(f);
	}
	buf[n] = '\0';
}

/* Run "tool ARGS", stdout and stderr apart. */
static void run_tool(struct run *r, const char *args)
{
	char errfile[] = "/tmp/amxrt-bench-err.XXXXXX";
	char cmd[4096];
	FILE *p;
	size_t n;
	int fd, st;

	memset(r, 0, sizeof(*r));
	r->status = -1;
	fd = mkstemp(errfile);
	if (fd < 0)
		return;
	close(fd);
	snprintf(cmd, sizeof(cmd), "env -u AMXRT_ISA '%s' %s 2>'%s'", tool,
		 args, errfile);
	p = popen(cmd, "r");
	if (p) {
		n = fread(r->out, 1, sizeof(r->out) - 1, p);
		r->out[n] = '\0';
		st = pclose(p);
		if (st != -1 && WIFEXITED(st))
			r->status = WEXITSTATUS(st);
	}
	slurp(errfile, r->err, sizeof(r->err));
	unlink(errfile);
}

static int count(const char *s, char c)
{
	int n = 0;

	for (; *s; s++)
		n += *s == c;
	return n;
}

/* Copy cell i (0-based) of a table row "| a | b | ... |" into buf. */
static int cell(const char *row, int i, char *buf, size_t len)
{
	const char *s = row, *e;
	size_t n;

	for (; i >= 0; i--) {
		s = strchr(s, '|');
		if (!s)
			return -1;
		s++;
	}
	e = strchr(s, '|');
	if (!e)
		return -1;
	while (*s == ' ')
		s++;
	n = (size_t)(e - s);
	while (n && s[n - 1] == ' ')
		n--;
	snprintf(buf, len, "%.*s", (int)n, s);
	return 0;
}

#define NEED_TOOL()                                \
	do {                                       \
		char why_[900];                    \
		if (find_tool(why_, sizeof(why_))) \
			SKIP(return, "%s", why_);  \
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
		r,
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
	/* after the table, only the note on the M = 1 rows */
	EXPECT_EQ(0, strncmp(l, note, strlen(note)));
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
		r,
		"gemm --types q8_0 --shapes 16x32 -m 1 -r 1 --limits-time 0.05");
	ASSERT_EQ(0, r->status);
	EXPECT_NE(NULL, strstr(r->out, "cold caches"));
	EXPECT_NE(NULL, strstr(r->out, "| q8_0 | 16x32 | 1 | "));
	free(r);
}

TEST(help)
{
	struct run *r = malloc(sizeof(*r));

	NEED_TOOL();
	ASSERT_NE(NULL, r);
	run_tool(r, "--help");
	ASSERT_EQ(0, r->status);
	EXPECT_NE(NULL, strstr(r->out, "usage: amxrt-bench gemm"));
	run_tool(r, "gemm -h");
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
		run_tool(r, bad[i]);
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
		run_tool(r, args);
		TH_LOG("'%s': exit %d, stderr \"%.*s\"", args, r->status,
		       (int)strcspn(r->err, "\n"), r->err);
		EXPECT_NE(0, r->status);
		EXPECT_EQ(1, count(r->err, '\n'));
		EXPECT_NE(NULL, strstr(r->err, "cannot run here"));
	}
	free(r);
}

TEST_HARNESS_MAIN
