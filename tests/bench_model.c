// SPDX-License-Identifier: MIT
/*
 * Description: amxrt-bench's model mode on models/stories260K.gguf with
 * -p 16 -n 4 -r 1: the preamble with the measured limits, a markdown table
 * like llama-bench's (model, size, params, backend, threads, test, t/s as
 * mean ± sd, ratio to the int8 peak for pp and to the bandwidth bound and
 * to read passes of the token's weights for tg), one row per test in the
 * order given, model by model, then per model the matmul parameters and
 * weight bytes used per token (checked against the hyperparameters, the
 * output projection's share apart: a prompt computes it once per call);
 * "model" as a subcommand, -p 0 and -n 0, -b and -ub; bad options, values
 * and models fail with a non-zero status, nothing on stdout and exactly
 * one line on stderr. Speed is never asserted.
 *
 * The tool is $AMXRT_BIN/amxrt-bench (set by run_tests.sh), else
 * $AMXRT_SRCDIR/build/bin/amxrt-bench, else ../bin/amxrt-bench next to
 * this program (BUILD/tests/bench_model).
 */
#include <errno.h>
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

static const char header[] =
	"| model | size | params | backend | threads | test | t/s | vs limit |";

static void model_path(char *buf, size_t len, const char *rel)
{
	const char *src = getenv("AMXRT_SRCDIR");

	snprintf(buf, len, "%s/%s", src && *src ? src : ".", rel);
}

#define NEED_MODEL(path)                                                   \
	do {                                                               \
		model_path(path, sizeof(path), "models/stories260K.gguf"); \
		if (access(path, R_OK))                                    \
			SKIP(return, "%s: %s", path, strerror(errno));     \
	} while (0)

/*
 * Check the table in out: nrows rows, test names tests[], each row of the
 * model described by info, run with threads threads. Returns a pointer
 * just past the table, or NULL (after a failed expectation).
 */
static const char *check_table(struct __test_metadata *_metadata,
			       const char *out,
			       const struct amxrt_model_info *info,
			       const char *const *tests, int nrows, int threads)
{
	char line[1024], c[256], want[256];
	const char *l, *e;
	double v;
	int i;

	l = strstr(out, header);
	EXPECT_NE(NULL, l);
	if (!l)
		return NULL;
	l = strchr(l, '\n');
	EXPECT_NE(NULL, l);
	if (!l)
		return NULL;
	EXPECT_EQ(0, strncmp(l + 1, "|---", 4));
	l = strchr(l + 1, '\n');
	for (i = 0; i < nrows; i++) {
		EXPECT_NE(NULL, l);
		if (!l)
			return NULL;
		l++;
		e = strchr(l, '\n');
		EXPECT_NE(NULL, e);
		if (!e)
			return NULL;
		snprintf(line, sizeof(line), "%.*s", (int)(e - l), l);
		TH_LOG("%s", line);
		EXPECT_EQ(9, count(line, '|'));
		/* model: arch, size in parameters, main type */
		EXPECT_EQ(0, cell(line, 0, c, sizeof(c)));
		EXPECT_EQ(0, strncmp(c, info->arch, strlen(info->arch)));
		EXPECT_NE(NULL, strstr(c, "F32"));
		/* size of the weights as placed */
		EXPECT_EQ(0, cell(line, 1, c, sizeof(c)));
		snprintf(want, sizeof(want), "%.2f MiB",
			 (double)info->weight_bytes / (1 << 20));
		EXPECT_STREQ(want, c);
		EXPECT_EQ(0, cell(line, 2, c, sizeof(c)));
		snprintf(want, sizeof(want), "%.2f K",
			 (double)info->n_params / 1000);
		EXPECT_STREQ(want, c);
		EXPECT_EQ(0, cell(line, 3, c, sizeof(c)));
		EXPECT_EQ(0, strncmp(c, "CPU ", 4));
		EXPECT_LE(0, amxrt_isa_parse(c + 4));
		EXPECT_EQ(0, cell(line, 4, c, sizeof(c)));
		EXPECT_EQ(threads, atoi(c));
		EXPECT_EQ(0, cell(line, 5, c, sizeof(c)));
		EXPECT_STREQ(tests[i], c);
		/* t/s: mean ± sd, the mean positive */
		EXPECT_EQ(0, cell(line, 6, c, sizeof(c)));
		EXPECT_NE(NULL, strstr(c, " ± "));
		v = strtod(c, NULL);
		EXPECT_LT(0.0, v);
		EXPECT_EQ(0, cell(line, 7, c, sizeof(c)));
		EXPECT_NE(NULL,
			  strstr(c, tests[i][0] == 'p' ? "% of int8" :
							 "% of bw bound"));
		EXPECT_LE(0.0, strtod(c, NULL));
		/* tg: also against read passes of its weights, pp never */
		if (tests[i][0] == 't') {
			const char *rp = strstr(c, "% of bw bound, ");

			ASSERT_NE(NULL, rp);
			EXPECT_LT(0.0, strtod(rp + 15, NULL));
			EXPECT_NE(NULL, strstr(rp, "% of a read pass"));
		} else {
			EXPECT_EQ(NULL, strstr(c, "read pass"));
		}
		l = e;
	}
	return l;
}

/* Matmul parameters of a dense llama per token: q, k, v, o, the FFN's
 * three matrices, and the output. */
static double dense_params(const struct amxrt_model_info *i)
{
	double e = i->n_embd, q = (double)i->n_head * i->head_dim,
	       kv = (double)i->n_head_kv * i->head_dim;

	return i->n_layer * (2 * e * q + 2 * e * kv + 3 * e * i->n_ff) +
	       e * i->n_vocab;
}

static int load_info(const char *path, struct amxrt_model_info *info)
{
	struct amxrt_model *m;
	int ret = amxrt_model_load(path, NULL, &m);

	if (ret)
		return ret;
	ret = amxrt_model_get_info(m, info);
	amxrt_model_free(m);
	return ret;
}

TEST(table)
{
	static const char *const tests[] = { "pp16", "tg4" };
	struct amxrt_model_info info;
	struct run *r = malloc(sizeof(*r));
	char path[600], args[1024], want[900];
	const char *l;

	NEED_TOOL();
	NEED_MODEL(path);
	ASSERT_NE(NULL, r);
	ASSERT_EQ(0, load_info(path, &info));
	snprintf(args, sizeof(args),
		 "-m '%s' -p 16 -n 4 -r 1 -t 2 --limits-time 0.05", path);
	run_tool(r, "-u AMXRT_ISA", args);
	TH_LOG("exit %d, stderr \"%s\"", r->status, r->err);
	ASSERT_EQ(0, r->status);
	EXPECT_STREQ("", r->err);
	EXPECT_NE(NULL, strstr(r->out, "Limits measured now: int8 "));
	EXPECT_NE(NULL, strstr(r->out, " TOP/s ("));
	EXPECT_NE(NULL, strstr(r->out, "1 warm-up run, then 1 timed runs"));
	l = check_table(_metadata, r->out, &info, tests, 2, 2);
	ASSERT_NE(NULL, l);
	/* after the table: what a token costs this model */
	snprintf(
		want, sizeof(want),
		"\n\n%s: per token %.0f matmul parameters (%.0f of them the output projection, counted once per decode call for pp), ",
		path, dense_params(&info), (double)info.n_embd * info.n_vocab);
	EXPECT_EQ(0, strncmp(l, want, strlen(want)));
	/* and which attention each kind of test ran */
	EXPECT_NE(NULL, strstr(l, "; attention: pp "));
	EXPECT_NE(NULL, strstr(l, ", tg "));
	EXPECT_TRUE(strstr(l, "(single rows keep f32)") ||
		    strstr(l, "portable f32 ("));
	EXPECT_NE(NULL, strstr(l, "pp rows: int8 peak from the best"));
	EXPECT_NE(NULL, strstr(l, "tg rows: bandwidth bound from"));
	EXPECT_NE(NULL, strstr(l, "tg rows: a read pass reads the weights"));
	free(r);
}

/* "model" as a subcommand; two models; tests in the order given; 0 skips */
TEST(models_and_lists)
{
	static const char *const tests[] = { "pp8", "pp4", "pp8", "pp4" };
	static const char *const tg_only[] = { "tg2" };
	struct amxrt_model_info info;
	struct run *r = malloc(sizeof(*r));
	char path[600], args[1500];

	NEED_TOOL();
	NEED_MODEL(path);
	ASSERT_NE(NULL, r);
	ASSERT_EQ(0, load_info(path, &info));
	snprintf(
		args, sizeof(args),
		"model -m '%s' --model '%s' -p 8,4 -n 0 -r 2 -t 1 --limits-time 0.05",
		path, path);
	run_tool(r, "-u AMXRT_ISA", args);
	TH_LOG("exit %d, stderr \"%s\"", r->status, r->err);
	ASSERT_EQ(0, r->status);
	EXPECT_NE(NULL, check_table(_metadata, r->out, &info, tests, 4, 1));
	/* no tg rows: no note on the bandwidth */
	EXPECT_EQ(NULL, strstr(r->out, "tg rows"));
	EXPECT_EQ(NULL, strstr(r->out, "| tg"));

	snprintf(args, sizeof(args),
		 "-m '%s' -p 0 -n 2 -r 1 -t 1 --limits-time 0.05", path);
	run_tool(r, "-u AMXRT_ISA", args);
	ASSERT_EQ(0, r->status);
	EXPECT_NE(NULL, check_table(_metadata, r->out, &info, tg_only, 1, 1));
	/* no pp rows: no note on the int8 peak */
	EXPECT_EQ(NULL, strstr(r->out, "pp rows"));
	EXPECT_EQ(NULL, strstr(r->out, "| pp"));
	free(r);
}

/* a prompt longer than -b goes in several calls, micro-batches of -ub */
TEST(batch_sizes)
{
	static const char *const tests[] = { "pp20" };
	struct amxrt_model_info info;
	struct run *r = malloc(sizeof(*r));
	char path[600], args[1024];

	NEED_TOOL();
	NEED_MODEL(path);
	ASSERT_NE(NULL, r);
	ASSERT_EQ(0, load_info(path, &info));
	snprintf(
		args, sizeof(args),
		"-m '%s' -p 20 -n 0 -b 8 -ub 3 -r 1 -t 2 --seed 7 --limits-time 0.05",
		path);
	run_tool(r, "-u AMXRT_ISA", args);
	TH_LOG("exit %d, stderr \"%s\"", r->status, r->err);
	ASSERT_EQ(0, r->status);
	EXPECT_NE(NULL, strstr(r->out, "batch 8, micro-batch 3"));
	EXPECT_NE(NULL, strstr(r->out, "(seed 7)"));
	EXPECT_NE(NULL, check_table(_metadata, r->out, &info, tests, 1, 2));
	free(r);
}

TEST(help)
{
	struct run *r = malloc(sizeof(*r));

	NEED_TOOL();
	ASSERT_NE(NULL, r);
	run_tool(r, "-u AMXRT_ISA", "-h");
	ASSERT_EQ(0, r->status);
	EXPECT_NE(NULL, strstr(r->out, "amxrt-bench [model] -m FILE"));
	EXPECT_NE(NULL, strstr(r->out, "-ub, --ubatch-size N"));
	EXPECT_NE(NULL, strstr(r->out, "(default 5)"));
	free(r);
}

TEST(bad_input_fails_with_one_line)
{
	static const char *const bad[] = {
		"model",
		"-p 16",
		"-m",
		"-m /nonexistent/model.gguf",
		"-m '%s' -p x",
		"-m '%s' -p -1",
		"-m '%s' -p ,",
		"-m '%s' -n 1,,y",
		"-m '%s' -r 0",
		"-m '%s' -t 0",
		"-m '%s' -b 0",
		"-m '%s' -ub 0",
		"-m '%s' -ub",
		"-m '%s' --seed q",
		"-m '%s' --isa nope",
		"-m '%s' --limits-time 0",
		"-m '%s' --bogus",
		"-m '%s' extra",
		/* not a model: a vocabulary-only GGUF, a text file */
		"-m '%s/models/vocab/ggml-vocab-llama-spm.gguf'",
		"-m '%s/tests/data/vocab/ggml-vocab-llama-spm.gguf.inp'",
	};
	struct run *r = malloc(sizeof(*r));
	char path[600], args[1500], src[600];
	size_t i;

	NEED_TOOL();
	NEED_MODEL(path);
	ASSERT_NE(NULL, r);
	model_path(src, sizeof(src), "");
	src[strlen(src) - 1] = '\0';
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(args, sizeof(args), bad[i], i < 18 ? path : src);
		run_tool(r, "-u AMXRT_ISA", args);
		TH_LOG("'%s': exit %d, stderr \"%.*s\"", args, r->status,
		       (int)strcspn(r->err, "\n"), r->err);
		EXPECT_NE(0, r->status);
		EXPECT_NE(-1, r->status);
		EXPECT_STREQ("", r->out);
		EXPECT_EQ(1, count(r->err, '\n'));
		EXPECT_EQ(0, strncmp(r->err, "amxrt-bench: ", 13));
	}
	free(r);
}

TEST_HARNESS_MAIN
