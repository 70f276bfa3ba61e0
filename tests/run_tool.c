// SPDX-License-Identifier: MIT
/*
 * Description: the amxrt-run and amxrt-perplexity tools on the bundled
 * stories260K model. Greedy output for a fixed prompt is non-empty, the
 * same on two runs and across thread counts, and is exactly the greedy
 * continuation computed here through the library (decode, argmax,
 * streaming detokenizer); --seed repeats its output; -n 0 prints only the
 * prompt; the closing summary and -v reports are there; a small context
 * stops with a clear message; bad flags, missing values, missing files
 * and bad models exit non-zero with exactly one line on stderr; chat
 * mode answers each line of stdin. The perplexity of tests/data/story.txt
 * is finite, below a bound (see PPL_BOUND), and equals exp(mean NLL)
 * computed here from amxrt_logits() over the same chunks (1e-3 relative).
 *
 * The tools are $AMXRT_BIN/NAME (set by run_tests.sh), else
 * $AMXRT_SRCDIR/build/bin/NAME, else ../bin/NAME next to this program.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "tool_helpers.h"

#include <amxrt/amxrt.h>

/*
 * stories260K was trained on TinyStories; on the simple stories of
 * story.txt with -c 128 it measures PPL 3.88 (8 chunks, 504 tokens
 * scored). A uniform guess over its 512 tokens scores 512 and a model
 * that learned only token frequencies scores several tens; a forward
 * pass that lost the context (wrong positions, broken attention) lands
 * far above 8. The bound leaves twice the measured value for other paths
 * and rounding, which move it by far less.
 */
#define PPL_CTX 128
#define PPL_BOUND 8.0

static char bindir[512], srcdir[512];

static int find_dirs(char *why, size_t len)
{
	const char *bin = getenv("AMXRT_BIN");
	const char *src = getenv("AMXRT_SRCDIR");
	char self[400], path[1100];
	struct amxrt_model *m;
	ssize_t n;

	snprintf(srcdir, sizeof(srcdir), "%s", src && *src ? src : ".");
	if (bin && *bin) {
		snprintf(bindir, sizeof(bindir), "%s", bin);
	} else if (src && *src) {
		snprintf(bindir, sizeof(bindir), "%s/build/bin", src);
	} else {
		n = readlink("/proc/self/exe", self, sizeof(self) - 1);
		if (n <= 0) {
			snprintf(why, len,
				 "AMXRT_BIN and AMXRT_SRCDIR are "
				 "unset and /proc/self/exe is "
				 "unreadable");
			return -1;
		}
		self[n] = '\0';
		*strrchr(self, '/') = '\0';
		snprintf(bindir, sizeof(bindir), "%s/../bin", self);
	}
	snprintf(path, sizeof(path), "%s/amxrt-run", bindir);
	if (access(path, X_OK)) {
		snprintf(why, len, "%.600s: %s", path, strerror(errno));
		return -1;
	}
	snprintf(path, sizeof(path), "%s/models/stories260K.gguf", srcdir);
	if (access(path, R_OK)) {
		snprintf(why, len, "%.600s: %s", path, strerror(errno));
		return -1;
	}
	/* a library built without its tokenizer loads models without one */
	if (!amxrt_model_load(path, NULL, &m)) {
		int ok = amxrt_model_tokenizer(m) != NULL;

		amxrt_model_free(m);
		if (!ok) {
			snprintf(why, len,
				 "this libamxrt has no tokenizer yet "
				 "(libamxrt/tok)");
			return -1;
		}
	}
	return 0;
}

#define NEED_TOOLS()                               \
	do {                                       \
		char why_[900];                    \
		if (find_dirs(why_, sizeof(why_))) \
			SKIP(return, "%s", why_);  \
	} while (0)

/* Run "BINDIR/NAME ARGS" with stdin holding input ("" when NULL). */
static void run_bin(struct run *r, const char *name, const char *input,
		    const char *args)
{
	char path[1100];

	snprintf(path, sizeof(path), "%s/%s", bindir, name);
	run_cmd(r, "-u AMXRT_ISA", path, input ? input : "", args);
}

static void run_model(struct run *r, const char *tool, const char *input,
		      const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/*
 * Run tool with "-m MODEL -t 1" and then the formatted arguments (a later
 * -t wins). One thread keeps the many short runs quick when the machine
 * is busy; greedy_is_deterministic runs the default and other counts.
 */
static void run_model(struct run *r, const char *tool, const char *input,
		      const char *fmt, ...)
{
	char args[4096];
	va_list ap;
	int n;

	n = snprintf(args, sizeof(args),
		     "-m '%s/models/stories260K.gguf' -t 1 ", srcdir);
	va_start(ap, fmt);
	vsnprintf(args + n, sizeof(args) - (size_t)n, fmt, ap);
	va_end(ap);
	run_bin(r, tool, input, args);
}

static struct amxrt_model *load(struct __test_metadata *_metadata)
{
	char path[1100];
	struct amxrt_model *m = NULL;

	amxrt_set_threads(1); /* as the tool runs: see run_model() */
	snprintf(path, sizeof(path), "%s/models/stories260K.gguf", srcdir);
	if (amxrt_model_load(path, NULL, &m))
		TH_LOG("%s: %s", path, amxrt_errmsg());
	return m;
}

#define PROMPT "Once upon a time"

TEST(greedy_is_deterministic)
{
	static struct run a, b, c;
	char args[1200];

	NEED_TOOLS();
	run_model(&a, "amxrt-run", NULL, "-p '" PROMPT "' -n 48 --temp 0");
	TH_LOG("exit %d, stdout \"%s\"", a.status, a.out);
	ASSERT_EQ(0, a.status);
	ASSERT_EQ(0, strncmp(a.out, PROMPT, strlen(PROMPT)));
	ASSERT_LT(strlen(PROMPT) + 10, strlen(a.out));
	run_model(&b, "amxrt-run", NULL, "-p '" PROMPT "' -n 48 --temp 0");
	ASSERT_EQ(0, b.status);
	EXPECT_STREQ(a.out, b.out);
	/* results do not depend on the thread count (default: all CPUs) */
	snprintf(args, sizeof(args),
		 "-m '%s/models/stories260K.gguf' -p '" PROMPT
		 "' -n 48 --temp 0",
		 srcdir);
	run_bin(&c, "amxrt-run", NULL, args);
	ASSERT_EQ(0, c.status);
	EXPECT_STREQ(a.out, c.out);
	run_model(&c, "amxrt-run", NULL, "-p '" PROMPT "' -n 48 --temp 0 -t 2");
	ASSERT_EQ(0, c.status);
	EXPECT_STREQ(a.out, c.out);
	run_model(&c, "amxrt-run", NULL,
		  "-p '" PROMPT "' -n 48 --temp 0 -t 3 -b 2 -ub 1");
	ASSERT_EQ(0, c.status);
	EXPECT_STREQ(a.out, c.out);
}

/* The greedy continuation through the library, as text. */
static int greedy_text(struct __test_metadata *_metadata, const char *prompt,
		       int n_predict, char *out, size_t cap)
{
	struct amxrt_model *m = load(_metadata);
	const struct amxrt_tokenizer *t;
	struct amxrt_model_info in;
	struct amxrt_ctx *ctx;
	struct amxrt_detok d;
	int32_t ids[256];
	size_t len = strlen(prompt);
	int n, i, k;

	if (!m)
		return -1;
	t = amxrt_model_tokenizer(m);
	amxrt_model_get_info(m, &in);
	n = amxrt_tokenize(t, prompt, strlen(prompt),
			   AMXRT_TOK_ADD_SPECIAL | AMXRT_TOK_PARSE_SPECIAL, ids,
			   256, NULL);
	if (n <= 0 || amxrt_ctx_new(m, NULL, &ctx))
		return -1;
	memcpy(out, prompt, len + 1);
	if (amxrt_decode(ctx, ids, n, 0))
		return -1;
	amxrt_detok_init(&d, t, 0, 0);
	for (i = 0; i < n_predict; i++) {
		const float *lg = amxrt_logits(ctx, -1);
		int32_t best = 0;
		int j;

		for (j = 1; j < in.n_vocab; j++)
			if (lg[j] > lg[best])
				best = j;
		if (amxrt_token_is_eog(t, best))
			break;
		k = amxrt_detok_push(&d, best, out + len, cap - len);
		if (k < 0)
			return -1;
		len += (size_t)k;
		if (amxrt_decode(ctx, &best, 1, 0))
			return -1;
	}
	k = amxrt_detok_flush(&d, out + len, cap - len);
	if (k < 0)
		return -1;
	amxrt_ctx_free(ctx);
	amxrt_model_free(m);
	return 0;
}

TEST(greedy_matches_library)
{
	static struct run a;
	static char want[8192];

	NEED_TOOLS();
	ASSERT_EQ(0, greedy_text(_metadata, PROMPT, 48, want, sizeof(want)));
	TH_LOG("library: \"%s\"", want);
	run_model(&a, "amxrt-run", NULL, "-p '" PROMPT "' -n 48 --temp 0");
	ASSERT_EQ(0, a.status);
	EXPECT_STREQ(want, a.out);
}

TEST(seed_repeats)
{
	static struct run a, b, c;
	int seed, differs = 0;

	NEED_TOOLS();
	run_model(&a, "amxrt-run", NULL,
		  "-p '" PROMPT "' -n 40 --temp 1 --seed 42");
	ASSERT_EQ(0, a.status);
	run_model(&b, "amxrt-run", NULL,
		  "-p '" PROMPT "' -n 40 --temp 1 --seed 42");
	ASSERT_EQ(0, b.status);
	EXPECT_STREQ(a.out, b.out);
	/* other seeds: at least one of three gives other text */
	for (seed = 1; seed <= 3; seed++) {
		run_model(&c, "amxrt-run", NULL,
			  "-p '" PROMPT "' -n 40 --temp 1 --seed %d", seed);
		ASSERT_EQ(0, c.status);
		differs |= strcmp(a.out, c.out) != 0;
	}
	EXPECT_TRUE(differs);
}

TEST(n_zero_prints_the_prompt)
{
	static struct run a;

	NEED_TOOLS();
	run_model(&a, "amxrt-run", NULL, "-p '" PROMPT "' -n 0");
	ASSERT_EQ(0, a.status);
	EXPECT_STREQ(PROMPT, a.out);
	EXPECT_NE(NULL, strstr(a.err, "generated:"));
	EXPECT_NE(NULL, strstr(a.err, " 0 tokens"));
	run_model(&a, "amxrt-run", NULL,
		  "-p '" PROMPT "' -n 0 --no-display-prompt");
	ASSERT_EQ(0, a.status);
	EXPECT_STREQ("", a.out);
}

TEST(summary_and_verbose)
{
	static struct run a;
	char want[64];

	NEED_TOOLS();
	run_model(&a, "amxrt-run", NULL, "-p '" PROMPT "' -n 8 -v");
	TH_LOG("stderr: %s", a.err);
	ASSERT_EQ(0, a.status);
	EXPECT_NE(NULL, strstr(a.err, "load:"));
	EXPECT_NE(NULL, strstr(a.err, "prompt:"));
	EXPECT_NE(NULL, strstr(a.err, "generated:"));
	EXPECT_NE(NULL, strstr(a.err, "tokens/s"));
	snprintf(want, sizeof(want), "isa: %s (fastest usable)",
		 amxrt_isa_name(amxrt_isa()));
	EXPECT_NE(NULL, strstr(a.err, want));
	EXPECT_NE(NULL, strstr(a.err, "model: llama"));
	/* stories260K's heads of 8: the portable loops, and why */
	EXPECT_NE(NULL, strstr(a.err, "attention: batches: "
				      "portable f32 ("));
	EXPECT_NE(NULL, strstr(a.err, "placement:"));
	EXPECT_NE(NULL,
		  strstr(a.err, "weight bytes copied during inference: 0\n"));

	/* -ub 1: no batch ever runs, so none is named */
	run_model(&a, "amxrt-run", NULL,
		  "-p '" PROMPT "' -n 4 -v --isa generic -ub 1");
	ASSERT_EQ(0, a.status);
	EXPECT_NE(NULL, strstr(a.err, "isa: generic (forced by --isa)"));
	EXPECT_NE(NULL, strstr(a.err, "attention: single tokens only "
				      "(micro-batch of 1): portable f32 ("));
	EXPECT_EQ(NULL, strstr(a.err, "attention: batches"));
}

TEST(context_limit_stops)
{
	static struct run a;

	NEED_TOOLS();
	run_model(&a, "amxrt-run", NULL, "-p '" PROMPT "' -c 16 -n 100");
	TH_LOG("exit %d, stderr: %s", a.status, a.err);
	EXPECT_EQ(1, a.status);
	EXPECT_NE(NULL, strstr(a.err, "context full (16 positions)"));
	ASSERT_LT(strlen(PROMPT), strlen(a.out));
	/* -n -1: running to the end of the context is what was asked */
	run_model(&a, "amxrt-run", NULL,
		  "-p '" PROMPT "' -c 16 -n -1 --ignore-eos");
	EXPECT_EQ(0, a.status);
	EXPECT_NE(NULL, strstr(a.err, "context full (16 positions)"));
	/* a prompt longer than the context is refused */
	run_model(&a, "amxrt-run", NULL, "-p '" PROMPT PROMPT PROMPT "' -c 4");
	EXPECT_EQ(1, a.status);
	EXPECT_EQ(1, lines(a.err));
	EXPECT_NE(NULL, strstr(a.err, "does not fit the context"));
}

TEST(errors_are_one_line)
{
	static const struct {
		const char *args;
		int status;
		const char *says;
	} cases[] = {
		{ "--bogus", 2, "--bogus" },
		{ "-m", 2, "needs a value" },
		{ "-p hello", 2, "-m FILE is required" },
		{ "-m /nonexistent/x.gguf", 1, "/nonexistent/x.gguf" },
		{ "-m '%s/tests/data/story.txt'", 1, "story.txt" },
		{ "-m '%s/models/stories260K.gguf' -n", 2, "-n" },
		{ "-m '%s/models/stories260K.gguf' -n abc", 2, "abc" },
		{ "-m '%s/models/stories260K.gguf' -n -5", 2, "-5" },
		{ "-m '%s/models/stories260K.gguf' --temp x", 2, "x" },
		{ "-m '%s/models/stories260K.gguf' --top-p 2", 2, "2" },
		{ "-m '%s/models/stories260K.gguf' --isa bogus", 2, "bogus" },
		{ "-m '%s/models/stories260K.gguf' -f /nonexistent/p.txt", 1,
		  "/nonexistent/p.txt" },
		{ "-m '%s/models/stories260K.gguf' stray", 2, "stray" },
		{ "-m '%s/models/stories260K.gguf' -cnv=1", 2, "-cnv" },
	};
	static struct run a;
	char args[2048];
	size_t i;

	NEED_TOOLS();
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(args, sizeof(args), cases[i].args, srcdir);
		run_bin(&a, "amxrt-run", NULL, args);
		TH_LOG("%s: exit %d, stderr \"%s\"", args, a.status, a.err);
		EXPECT_EQ(cases[i].status, a.status);
		EXPECT_EQ(1, lines(a.err));
		EXPECT_STREQ("", a.out);
		EXPECT_NE(NULL, strstr(a.err, cases[i].says));
		EXPECT_EQ(0, strncmp(a.err, "amxrt-run: ", 11));
	}
}

TEST(help_documents_flags)
{
	static const char *const flags[] = {
		"-m,",
		"-p,",
		"-f,",
		"-n,",
		"-t,",
		"-c,",
		"-b,",
		"-ub,",
		"--temp",
		"--top-k",
		"--top-p",
		"--min-p",
		"--repeat-penalty",
		"--repeat-last-n",
		"--seed",
		"-cnv",
		"-v,",
		"--isa",
		"Exit status",
	};
	static struct run a;
	size_t i;

	NEED_TOOLS();
	run_bin(&a, "amxrt-run", NULL, "--help");
	EXPECT_EQ(0, a.status);
	EXPECT_STREQ("", a.err);
	for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
		EXPECT_NE(NULL, strstr(a.out, flags[i]))
	TH_LOG("%s missing", flags[i]);
	run_bin(&a, "amxrt-perplexity", NULL, "-h");
	EXPECT_EQ(0, a.status);
	EXPECT_NE(NULL, strstr(a.out, "Final estimate"));
}

TEST(chat_answers_each_line)
{
	static struct run a;

	NEED_TOOLS();
	run_model(&a, "amxrt-run", "Hello\nTell me a story\n",
		  "-cnv -n 12 --temp 0 -sys 'You tell stories.'");
	TH_LOG("exit %d, stdout \"%s\", stderr \"%s\"", a.status, a.out, a.err);
	ASSERT_EQ(0, a.status);
	/* one reply line per user line (stdin is not a terminal) */
	EXPECT_LE(2, lines(a.out));
	EXPECT_NE(NULL, strstr(a.err, "generated:"));
	/*
	 * The context holds each reply in full (cut by -n here): the next
	 * turn first closes it as the template does (chatml: stories260K has
	 * no template), then the user turn, and nothing twice.
	 */
	run_model(&a, "amxrt-run", "Hello\nTell me a story\n",
		  "-cnv -n 6 --temp 0 -v");
	ASSERT_EQ(0, a.status);
	EXPECT_NE(
		NULL,
		strstr(a.err,
		       "chat: turn 1 feeds \"<|im_start|>user\\nHello<|im_end|>\\n<|im_start|>assistant\\n\"\n"));
	EXPECT_NE(
		NULL,
		strstr(a.err,
		       "chat: turn 2 feeds \"<|im_end|>\\n<|im_start|>user\\nTell me a story<|im_end|>\\n<|im_start|>assistant\\n\"\n"))
	TH_LOG("stderr: %s", a.err);
	/* -sys without -cnv is a usage error */
	run_model(&a, "amxrt-run", NULL, "-sys x");
	EXPECT_EQ(2, a.status);
	EXPECT_EQ(1, lines(a.err));
}

/* ---- perplexity ------------------------------------------------------ */

/* llama.cpp's method through the library: see amxrt-perplexity.c. */
static double library_ppl(struct __test_metadata *_metadata, int n_ctx,
			  int *chunks)
{
	struct amxrt_ctx_params cp = { n_ctx, n_ctx, 0 };
	struct amxrt_model *m = load(_metadata);
	const struct amxrt_tokenizer *t;
	struct amxrt_model_info in;
	struct amxrt_ctx *ctx;
	char path[1100], *text = malloc(1 << 20);
	int32_t *tok = malloc(sizeof(int32_t) << 18), bos;
	double nll = 0;
	long count = 0;
	int n, c, p;

	if (!m || !text || !tok)
		return -1;
	snprintf(path, sizeof(path), "%s/tests/data/story.txt", srcdir);
	{
		FILE *f = fopen(path, "r");
		size_t len = f ? fread(text, 1, (1 << 20) - 1, f) : 0;

		if (f)
			fclose(f);
		text[len] = '\0';
	}
	t = amxrt_model_tokenizer(m);
	amxrt_model_get_info(m, &in);
	n = amxrt_tokenize(t, text, strlen(text), AMXRT_TOK_ADD_SPECIAL, tok,
			   1 << 18, NULL);
	bos = amxrt_token_bos(t);
	TH_LOG("%d tokens, bos %d, first %d", n, bos, n > 0 ? tok[0] : -1);
	if (n < 2 * n_ctx || amxrt_ctx_new(m, &cp, &ctx))
		return -1;
	*chunks = n / n_ctx;
	for (c = 0; c < *chunks; c++) {
		int32_t *chunk = tok + c * n_ctx, save = chunk[0];

		if (bos >= 0 && tok[0] == bos)
			chunk[0] = bos;
		amxrt_ctx_truncate(ctx, 0);
		if (amxrt_decode(ctx, chunk, n_ctx, AMXRT_DECODE_ALL_LOGITS))
			return -1;
		chunk[0] = save;
		for (p = n_ctx / 2; p < n_ctx - 1; p++) {
			const float *lg = amxrt_logits(ctx, p);
			double max = lg[0], sum = 0;
			int j;

			for (j = 0; j < in.n_vocab; j++)
				max = lg[j] > max ? lg[j] : max;
			for (j = 0; j < in.n_vocab; j++)
				sum += exp(lg[j] - max);
			nll += log(sum) + max - lg[chunk[p + 1]];
			count++;
		}
	}
	amxrt_ctx_free(ctx);
	amxrt_model_free(m);
	free(text);
	free(tok);
	return exp(nll / (double)count);
}

TEST(perplexity_matches_library)
{
	static struct run a;
	double ppl, err, want;
	const char *s;
	int chunks = 0, i;
	char tag[32];

	NEED_TOOLS();
	run_model(&a, "amxrt-perplexity", NULL,
		  "-f '%s/tests/data/story.txt' -c %d", srcdir, PPL_CTX);
	TH_LOG("exit %d, stdout \"%s\", stderr \"%s\"", a.status, a.out, a.err);
	ASSERT_EQ(0, a.status);
	s = strstr(a.out, "Final estimate: PPL = ");
	ASSERT_NE(NULL, s);
	ASSERT_EQ(2,
		  sscanf(s, "Final estimate: PPL = %lf +/- %lf", &ppl, &err));
	ASSERT_TRUE(isfinite(ppl));
	ASSERT_TRUE(isfinite(err));
	EXPECT_LT(1.0, ppl);
	EXPECT_GT(PPL_BOUND, ppl);
	EXPECT_LT(0.0, err);

	want = library_ppl(_metadata, PPL_CTX, &chunks);
	TH_LOG("tool %.4f +/- %.5f, library %.6f over %d chunks", ppl, err,
	       want, chunks);
	ASSERT_LT(0, want);
	EXPECT_GT(1e-3, fabs(ppl - want) / want);
	/* one "[k]" per chunk, the last one equal to the final estimate */
	for (i = 1; i <= chunks; i++) {
		snprintf(tag, sizeof(tag), "[%d]", i);
		EXPECT_NE(NULL, strstr(a.out, tag));
	}
	snprintf(tag, sizeof(tag), "[%d]", chunks + 1);
	EXPECT_EQ(NULL, strstr(a.out, tag));
	snprintf(tag, sizeof(tag), "[%d]%.4f,", chunks, ppl);
	EXPECT_NE(NULL, strstr(a.out, tag));
	/* the same with small batches and micro-batches */
	run_model(&a, "amxrt-perplexity", NULL,
		  "-f '%s/tests/data/story.txt' -c %d -b 48 -ub 7", srcdir,
		  PPL_CTX);
	ASSERT_EQ(0, a.status);
	s = strstr(a.out, "Final estimate: PPL = ");
	ASSERT_NE(NULL, s);
	ASSERT_EQ(1, sscanf(s, "Final estimate: PPL = %lf", &err));
	EXPECT_GT(1e-3, fabs(err - want) / want);
}

TEST(perplexity_errors_are_one_line)
{
	static struct run a;

	NEED_TOOLS();
	run_model(&a, "amxrt-perplexity", NULL,
		  "-f '%s/tests/data/story.txt' -c 100000", srcdir);
	TH_LOG("exit %d, stderr \"%s\"", a.status, a.err);
	EXPECT_EQ(1, a.status);
	EXPECT_EQ(1, lines(a.err));
	EXPECT_NE(NULL, strstr(a.err, "are needed"));
	run_model(&a, "amxrt-perplexity", NULL, "-c 64");
	EXPECT_EQ(2, a.status);
	EXPECT_EQ(1, lines(a.err));
	run_model(&a, "amxrt-perplexity", NULL, "-f /nonexistent/t.txt");
	EXPECT_EQ(1, a.status);
	EXPECT_EQ(1, lines(a.err));
	run_model(&a, "amxrt-perplexity", NULL, "-f x --bogus");
	EXPECT_EQ(2, a.status);
	EXPECT_EQ(1, lines(a.err));
}

TEST_HARNESS_MAIN
