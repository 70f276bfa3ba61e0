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
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"

#include <amxrt/amxrt.h>

static char tool[512];

/* BUILD/tests/info_tool -> BUILD/bin/amxrt-info. Returns 0 if unknown. */
static int exe_sibling(void)
{
	char self[400];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *slash;

	if (n <= 0)
		return 0;
	self[n] = '\0';
	slash = strrchr(self, '/');
	if (!slash)
		return 0;
	*slash = '\0';
	snprintf(tool, sizeof(tool), "%s/../bin/amxrt-info", self);
	return 1;
}

/* Find the tool; returns 0 or a reason (for SKIP) in why. */
static int find_tool(char *why, size_t len)
{
	const char *bin = getenv("AMXRT_BIN");
	const char *src = getenv("AMXRT_SRCDIR");

	if (bin && *bin)
		snprintf(tool, sizeof(tool), "%s/amxrt-info", bin);
	else if (src && *src)
		snprintf(tool, sizeof(tool), "%s/build/bin/amxrt-info", src);
	else if (!exe_sibling())
		snprintf(why, len,
			 "AMXRT_BIN and AMXRT_SRCDIR are unset and "
			 "/proc/self/exe is unreadable");
	if (!tool[0])
		return -1;
	if (access(tool, X_OK)) {
		snprintf(why, len, "%s: %s", tool, strerror(errno));
		return -1;
	}
	return 0;
}

struct run {
	char out[16384], err[4096];
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

/* Run "env ENV tool ARGS" through popen, stdout and stderr apart. */
static void run_tool(struct run *r, const char *env, const char *args)
{
	char errfile[] = "/tmp/amxrt-info-err.XXXXXX";
	char cmd[8192];
	FILE *p;
	size_t n;
	int fd, st;

	memset(r, 0, sizeof(*r));
	r->status = -1;
	fd = mkstemp(errfile);
	if (fd < 0)
		return;
	close(fd);
	snprintf(cmd, sizeof(cmd), "env -u AMXRT_ISA %s '%s' %s 2>'%s'", env,
		 tool, args, errfile);
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

static int lines(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

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

#define NEED_TOOL()                                \
	do {                                       \
		char why_[900];                    \
		if (find_tool(why_, sizeof(why_))) \
			SKIP(return, "%s", why_);  \
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
	run_tool(&r, "", "");
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
	run_tool(&r, "", "");
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
	run_tool(&r, "", "-q");
	ASSERT_EQ(0, r.status);
	snprintf(want, sizeof(want), "isa: %s\n", amxrt_isa_name(amxrt_isa()));
	EXPECT_STREQ(want, r.out);
	EXPECT_STREQ("", r.err);

	run_tool(&r, "", "--isa generic -q");
	ASSERT_EQ(0, r.status);
	EXPECT_STREQ("isa: generic\n", r.out);
}

TEST(unknown_isa_is_one_line_error)
{
	struct run r;

	NEED_TOOL();
	run_tool(&r, "", "--isa bogus");
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
		run_tool(&r, "", args[i]);
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
	run_tool(&r, "AMXRT_ISA=bogus", "-q");
	TH_LOG("exit %d, stderr \"%s\"", r.status, r.err);
	EXPECT_EQ(1, r.status);
	EXPECT_STREQ("", r.out);
	EXPECT_EQ(1, lines(r.err));
	EXPECT_NE(NULL, strstr(r.err, "AMXRT_ISA=bogus"));

	/* --isa overrides a bad AMXRT_ISA. */
	run_tool(&r, "AMXRT_ISA=bogus", "-q --isa generic");
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
	run_tool(&r, "", line);
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
	run_tool(&r, "", "--help");
	EXPECT_EQ(0, r.status);
	EXPECT_NE(NULL, strstr(r.out, "Exit status"));
	EXPECT_NE(NULL, strstr(r.out, "AMXRT_ISA"));
	EXPECT_STREQ("", r.err);
}

TEST_HARNESS_MAIN
