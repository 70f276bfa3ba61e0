// SPDX-License-Identifier: MIT
/*
 * amxrt-perplexity - perplexity of a model over a text file, computed as
 * llama.cpp's llama-perplexity does: the text is tokenized once (with BOS
 * when the model adds one), cut into consecutive chunks of n_ctx tokens,
 * the first token of each chunk is replaced by BOS (when the model adds
 * one), each chunk runs from an empty context with the logits of every
 * position, and only the second half of each chunk is scored: position p
 * predicts token p + 1 for n_ctx / 2 <= p < n_ctx - 1. After each chunk
 * the running perplexity exp(mean negative log-likelihood) is printed as
 * "[1]12.3456,"; at the end "Final estimate: PPL = X +/- Y", Y being the
 * standard error of the mean NLL carried through exp().
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <amxrt/amxrt.h>

#include "common.h"

enum {
	OPT_MODEL = 1,
	OPT_FILE,
	OPT_CTX,
	OPT_BATCH,
	OPT_UBATCH,
	OPT_THREADS,
	OPT_CHUNKS,
	OPT_ISA,
	OPT_VERBOSE,
	OPT_HELP,
};

static const struct tool_opt opts[] = {
	{ "-m|--model", 1, OPT_MODEL },
	{ "-f|--file", 1, OPT_FILE },
	{ "-c|--ctx-size", 1, OPT_CTX },
	{ "-b|--batch-size", 1, OPT_BATCH },
	{ "-ub|--ubatch-size", 1, OPT_UBATCH },
	{ "-t|--threads", 1, OPT_THREADS },
	{ "--chunks", 1, OPT_CHUNKS },
	{ "--isa", 1, OPT_ISA },
	{ "-v|--verbose", 0, OPT_VERBOSE },
	{ "-h|--help", 0, OPT_HELP },
	{ NULL, 0, 0 },
};

static void usage(void)
{
	printf("Usage: %s -m FILE -f TEXT [-c N] [options]\n"
	       "Perplexity of a GGUF model over a text file (libamxrt %s),\n"
	       "computed as llama.cpp's llama-perplexity: chunks of N tokens, "
	       "BOS\n"
	       "first, the second half of each chunk scored.\n"
	       "\n"
	       "Options:\n"
	       "  -m, --model FILE      GGUF model (required)\n"
	       "  -f, --file FILE       text to score (required; at least 2N "
	       "tokens)\n"
	       "  -c, --ctx-size N      tokens per chunk (default 512)\n"
	       "  -b, --batch-size N    tokens per decode call (default 2048,"
	       " at most N)\n"
	       "  -ub, --ubatch-size N  tokens per forward pass (default "
	       "512)\n"
	       "  --chunks N            score at most N chunks (default: "
	       "all)\n"
	       "  -t, --threads N       threads (default 0: one per CPU)\n"
	       "  --isa NAME            force a path: amx, avx512vnni, avx2,\n"
	       "                        generic, amx-sim\n"
	       "  -v, --verbose         path in use, model, weight placement\n"
	       "  -h, --help            print this help and exit\n"
	       "\n"
	       "Output (stdout): \"[1]P1,[2]P2,...\" (the running perplexity "
	       "after\n"
	       "each chunk), then \"Final estimate: PPL = X +/- Y\".\n"
	       "\n"
	       "Exit status:\n"
	       "  0  done\n"
	       "  1  the run failed (file, model, text too short, ...); one "
	       "line\n"
	       "     on stderr says why\n"
	       "  2  usage error: bad option or value; one line on stderr\n",
	       tool_prog, amxrt_version());
}

/* -log softmax(logits)[target], in double. */
static double nll_of(const float *logits, int n_vocab, int32_t target)
{
	double max = logits[0], sum = 0.0;
	int i;

	for (i = 1; i < n_vocab; i++)
		if (logits[i] > max)
			max = logits[i];
	for (i = 0; i < n_vocab; i++)
		sum += exp((double)logits[i] - max);
	return -((double)logits[target] - max - log(sum));
}

int main(int argc, char **argv)
{
	const char *model = NULL, *file = NULL, *isa = NULL, *opt, *v;
	int n_ctx = 512, n_batch = AMXRT_CTX_DEFAULT_BATCH, n_ubatch = 0,
	    threads = 0;
	int threads_set = 0, verbose = 0, max_chunks = -1, i = 1, id;
	struct amxrt_ctx_params cp = { 0, 0, 0 };
	struct amxrt_model_info info;
	const struct amxrt_tokenizer *tok;
	struct amxrt_model *m;
	struct amxrt_ctx *ctx;
	double nll = 0.0, nll2 = 0.0, t0, t_load;
	int32_t *tokens, *batch, bos;
	int n_tok, n_chunk, first, add_bos, chunk;
	long count = 0;
	char *text;
	size_t len;

	tool_init(argc, argv);
	while ((id = tool_opt_next(argc, argv, &i, opts, &opt, &v))) {
		switch (id) {
		case OPT_MODEL:
			model = v;
			break;
		case OPT_FILE:
			file = v;
			break;
		case OPT_CTX:
			n_ctx = (int)tool_parse_long(opt, v, 4, 1 << 24);
			break;
		case OPT_BATCH:
			n_batch = (int)tool_parse_long(opt, v, 1, 1 << 20);
			break;
		case OPT_UBATCH:
			n_ubatch = (int)tool_parse_long(opt, v, 1, 1 << 20);
			break;
		case OPT_THREADS:
			threads = (int)tool_parse_long(opt, v, 0, 4096);
			threads_set = 1;
			break;
		case OPT_CHUNKS:
			max_chunks = (int)tool_parse_long(opt, v, 1, 1 << 30);
			break;
		case OPT_ISA:
			isa = v;
			break;
		case OPT_VERBOSE:
			verbose = 1;
			break;
		case OPT_HELP:
			usage();
			return TOOL_EXIT_OK;
		}
	}
	if (!model)
		tool_die(TOOL_EXIT_USAGE,
			 "no model: -m FILE is required (try --help)");
	if (!file)
		tool_die(TOOL_EXIT_USAGE,
			 "no text: -f FILE is required (try --help)");
	if (n_batch > n_ctx)
		n_batch = n_ctx;

	if (isa)
		tool_set_isa(isa);
	else if (amxrt_isa() < 0)
		tool_die(TOOL_EXIT_FAIL, "%s", amxrt_errmsg());
	if (threads_set)
		tool_set_threads(threads);
	if (verbose)
		tool_print_isa(isa);

	text = tool_read_file(file, &len);
	m = tool_load_model(model, &t_load);
	tok = amxrt_model_tokenizer(m);
	if (!tok)
		tool_die(TOOL_EXIT_FAIL, "%s: no tokenizer", model);
	if (amxrt_model_get_info(m, &info))
		tool_die(TOOL_EXIT_FAIL, "%s: %s", model, amxrt_errmsg());
	if (verbose)
		tool_print_model(m, n_batch, n_ubatch);

	tokens = tool_tokenize(tok, text, len, AMXRT_TOK_ADD_SPECIAL, &n_tok);
	free(text);
	if (n_tok < 2 * n_ctx)
		tool_die(TOOL_EXIT_FAIL,
			 "%s: %d tokens; at least %d (2 x -c %d) are needed",
			 file, n_tok, 2 * n_ctx, n_ctx);
	bos = amxrt_token_bos(tok);
	add_bos = bos >= 0 && tokens[0] == bos;
	n_chunk = n_tok / n_ctx;
	if (max_chunks > 0 && max_chunks < n_chunk)
		n_chunk = max_chunks;
	first = n_ctx / 2;

	cp.n_ctx = n_ctx;
	cp.n_batch = n_batch;
	cp.n_ubatch = n_ubatch;
	if (amxrt_ctx_new(m, &cp, &ctx))
		tool_die(TOOL_EXIT_FAIL, "context: %s", amxrt_errmsg());
	batch = malloc((size_t)n_batch * sizeof(*batch));
	if (!batch)
		tool_die(TOOL_EXIT_FAIL, "out of memory");
	fprintf(stderr,
		"%s: %d tokens, %d chunks of %d, batch %d, scoring positions "
		"%d..%d of each\n",
		tool_prog, n_tok, n_chunk, n_ctx, n_batch, first, n_ctx - 2);

	t0 = tool_now();
	for (chunk = 0; chunk < n_chunk; chunk++) {
		int start = chunk * n_ctx, j;

		if (amxrt_ctx_truncate(ctx, 0))
			tool_die(TOOL_EXIT_FAIL, "context: %s", amxrt_errmsg());
		for (j = 0; j < n_ctx; j += n_batch) {
			int k, n = n_ctx - j < n_batch ? n_ctx - j : n_batch;

			memcpy(batch, tokens + start + j,
			       (size_t)n * sizeof(*batch));
			if (add_bos && j == 0)
				batch[0] = bos;
			if (amxrt_decode(ctx, batch, n,
					 AMXRT_DECODE_ALL_LOGITS))
				tool_die(TOOL_EXIT_FAIL, "decode: %s",
					 amxrt_errmsg());
			for (k = 0; k < n; k++) {
				int pos = j + k;
				const float *lg;
				double x;

				if (pos < first || pos >= n_ctx - 1)
					continue;
				lg = amxrt_logits(ctx, k);
				if (!lg)
					tool_die(TOOL_EXIT_FAIL,
						 "no logits: %s",
						 amxrt_errmsg());
				x = nll_of(lg, info.n_vocab,
					   tokens[start + pos + 1]);
				nll += x;
				nll2 += x * x;
				count++;
			}
		}
		printf("[%d]%.4f,", chunk + 1, exp(nll / (double)count));
		fflush(stdout);
	}
	printf("\n");

	nll /= (double)count;
	nll2 /= (double)count;
	nll2 -= nll * nll;
	if (nll2 > 0 && count > 1)
		printf("Final estimate: PPL = %.4f +/- %.5f\n", exp(nll),
		       sqrt(nll2 / (double)(count - 1)) * exp(nll));
	else
		printf("Final estimate: PPL = %.4f +/- %.5f\n", exp(nll), 0.0);
	fflush(stdout);
	fprintf(stderr,
		"%s: load %.2f ms, %ld tokens scored in %.2f ms "
		"(%.2f tokens/s evaluated)\n",
		tool_prog, t_load * 1e3, count, (tool_now() - t0) * 1e3,
		(double)n_chunk * n_ctx / (tool_now() - t0));
	if (verbose)
		fprintf(stderr,
			"weight bytes copied during inference: %" PRIu64 "\n",
			amxrt_ctx_weight_bytes_copied(ctx));
	free(batch);
	free(tokens);
	amxrt_ctx_free(ctx);
	amxrt_model_free(m);
	return TOOL_EXIT_OK;
}
