// SPDX-License-Identifier: MIT
/*
 * Description: the amxrt-info tool. Its report names the path this
 * library chooses and, where AMX cannot run, says why (the missing CPUID
 * bit and what arch_prctl answered); -q prints exactly "isa: NAME";
 * --isa with an unknown name, a bad option, or AMXRT_ISA naming an
 * unknown path fail with a non-zero status and one line on stderr;
 * --isa with a path that cannot run says why and exits 1.
 *
 * The tool is $AMXRT_BIN/amxrt-info (set by run_tests.sh), else
 * $AMXRT_SRCDIR/build/bin/amxrt-info, else ../bin/amxrt-info next to this
 * program (BUILD/tests/info_tool).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "tool_helpers.h"

#include <amxrt/amxrt.h>

/* The line of out that starts with key (after spaces), or NULL. */
static const char *line_of(const char *out, const char *key, char *buf,
			   size_t len)
{
	const char *l = out;

	while (l && *l) {
		const char *s = l + strspn(l, " ");
		const char *e = strchr(l, '\n');
		size_t n = e ? (size_t)(e - l) : strlen(l);

		if (!strncmp(s, key, strlen(key)) && s[strlen(key)] == ' ') {
			snprintf(buf, len, "%.*s", (int)n, l);
			return buf;
		}
		l = e ? e + 1 : NULL;
	}
	return NULL;
}

#define NEED_TOOL()                                              \
	do {                                                     \
		char why_[900];                                  \
		if (find_tool("amxrt-info", why_, sizeof(why_))) \
			SKIP(return, "%s", why_);                \
	} while (0)

TEST(report_names_chosen_path)
{
	char line[1024], want[64];
	struct run r;
	int isa;

	NEED_TOOL();
	unsetenv("AMXRT_ISA");
	isa = amxrt_isa();
	ASSERT_LE(0, isa);
	run_tool(&r, "-u AMXRT_ISA", "");
	TH_LOG("exit %d, stderr \"%s\"", r.status, r.err);
	ASSERT_EQ(0, r.status);
	EXPECT_STREQ("", r.err);
	ASSERT_NE(NULL, line_of(r.out, "isa", line, sizeof(line)));
	TH_LOG("%s", line);
	snprintf(want, sizeof(want), " %s (fastest usable)",
		 amxrt_isa_name(isa));
	EXPECT_NE(NULL, strstr(line, want));
	EXPECT_NE(NULL, strstr(r.out, amxrt_version()));
	EXPECT_NE(NULL, line_of(r.out, "tile request", line, sizeof(line)));
	EXPECT_NE(NULL, line_of(r.out, "xcr0", line, sizeof(line)));
	EXPECT_NE(NULL, line_of(r.out, "threads", line, sizeof(line)));
	EXPECT_NE(NULL, line_of(r.out, "avx512_vnni", line, sizeof(line)));
}

TEST(report_explains_amx)
{
	char line[1024];
	struct run r;
	struct amxrt_cpu_info ci;

	NEED_TOOL();
	amxrt_cpu_detect(&ci);
	run_tool(&r, "-u AMXRT_ISA", "");
	ASSERT_EQ(0, r.status);
	ASSERT_NE(NULL, line_of(r.out, "tile request", line, sizeof(line)));
	TH_LOG("%s", line);
	if (amxrt_tile_request(NULL) == AMXRT_TILE_GRANTED) {
		EXPECT_NE(NULL, strstr(line, "granted"));
		return;
	}
	ASSERT_NE(NULL, line_of(r.out, "amx", line, sizeof(line)));
	TH_LOG("%s", line);
	EXPECT_NE(NULL, strstr(line, "not usable: AMX: "));
	if (!(ci.features & AMXRT_CPU_AMX_TILE)) {
		EXPECT_NE(NULL, strstr(line, "no AMX-TILE (CPUID.7.0:EDX[24]"));
		if (!ci.xcomp_supp_err)
			EXPECT_NE(NULL, strstr(line, "EOPNOTSUPP"));
		ASSERT_NE(NULL,
			  line_of(r.out, "tile request", line, sizeof(line)));
		EXPECT_NE(NULL, strstr(line, "no-cpu"));
	}
}

TEST(quiet_prints_one_line)
{
	char want[64];
	struct run r;

	NEED_TOOL();
	unsetenv("AMXRT_ISA");
	run_tool(&r, "-u AMXRT_ISA", "-q");
	ASSERT_EQ(0, r.status);
	snprintf(want, sizeof(want), "isa: %s\n", amxrt_isa_name(amxrt_isa()));
	EXPECT_STREQ(want, r.out);
	EXPECT_STREQ("", r.err);

	run_tool(&r, "-u AMXRT_ISA", "--isa generic -q");
	ASSERT_EQ(0, r.status);
	EXPECT_STREQ("isa: generic\n", r.out);
}

TEST(unknown_isa_is_one_line_error)
{
	struct run r;

	NEED_TOOL();
	run_tool(&r, "-u AMXRT_ISA", "--isa bogus");
	TH_LOG("exit %d, stderr \"%s\"", r.status, r.err);
	EXPECT_EQ(2, r.status);
	EXPECT_STREQ("", r.out);
	EXPECT_EQ(1, lines(r.err));
	EXPECT_NE(NULL, strstr(r.err, "bogus"));
	EXPECT_EQ(0, strncmp(r.err, "amxrt-info: ", 12));
}

TEST(bad_options_are_one_line_errors)
{
	static const char *const args[] = { "--nope", "-x", "--isa", "extra" };
	struct run r;
	size_t i;

	NEED_TOOL();
	for (i = 0; i < sizeof(args) / sizeof(args[0]); i++) {
		run_tool(&r, "-u AMXRT_ISA", args[i]);
		TH_LOG("%s: exit %d, stderr \"%s\"", args[i], r.status, r.err);
		EXPECT_EQ(2, r.status);
		EXPECT_STREQ("", r.out);
		EXPECT_EQ(1, lines(r.err));
	}
}

TEST(env_unknown_isa_fails)
{
	struct run r;

	NEED_TOOL();
	run_tool(&r, "-u AMXRT_ISA AMXRT_ISA=bogus", "-q");
	TH_LOG("exit %d, stderr \"%s\"", r.status, r.err);
	EXPECT_EQ(1, r.status);
	EXPECT_STREQ("", r.out);
	EXPECT_EQ(1, lines(r.err));
	EXPECT_NE(NULL, strstr(r.err, "AMXRT_ISA=bogus"));

	/* --isa overrides a bad AMXRT_ISA. */
	run_tool(&r, "-u AMXRT_ISA AMXRT_ISA=bogus", "-q --isa generic");
	EXPECT_EQ(0, r.status);
	EXPECT_STREQ("isa: generic\n", r.out);
}

TEST(unusable_isa_says_why)
{
	char line[1024];
	struct run r;
	int i, isa = -1;

	NEED_TOOL();
	for (i = 0; i < AMXRT_ISA_COUNT && isa < 0; i++)
		if (amxrt_isa_usable(i, NULL, 0))
			isa = i;
	if (isa < 0)
		SKIP(return, "every path can run on this machine");
	snprintf(line, sizeof(line), "--isa %s", amxrt_isa_name(isa));
	run_tool(&r, "-u AMXRT_ISA", line);
	TH_LOG("%s: exit %d, stderr \"%s\"", line, r.status, r.err);
	EXPECT_EQ(1, r.status);
	EXPECT_EQ(1, lines(r.err));
	EXPECT_NE(NULL, strstr(r.err, amxrt_isa_name(isa)));
	/* The report is still printed, with the path marked as failing. */
	ASSERT_NE(NULL, line_of(r.out, "isa", line, sizeof(line)));
	EXPECT_NE(NULL, strstr(line, "none: --isa"));
}

TEST(help_documents_exit_status)
{
	struct run r;

	NEED_TOOL();
	run_tool(&r, "-u AMXRT_ISA", "--help");
	EXPECT_EQ(0, r.status);
	EXPECT_NE(NULL, strstr(r.out, "Exit status"));
	EXPECT_NE(NULL, strstr(r.out, "AMXRT_ISA"));
	EXPECT_STREQ("", r.err);
}

TEST_HARNESS_MAIN
