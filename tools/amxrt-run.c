// SPDX-License-Identifier: MIT
/*
 * amxrt-run - generate text with a GGUF model, or chat with it (-cnv),
 * with llama-cli's flags. Text streams to stdout as it is generated; the
 * loading bar, -v reports and the closing timings go to stderr. Uses only
 * the public API (<amxrt/amxrt.h>) and tools/common.c.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <amxrt/amxrt.h>

#include "common.h"

enum {
	OPT_MODEL = 1,
	OPT_PROMPT,
	OPT_FILE,
	OPT_SYSTEM,
	OPT_PREDICT,
	OPT_THREADS,
	OPT_CTX,
	OPT_BATCH,
	OPT_UBATCH,
	OPT_TEMP,
	OPT_TOP_K,
	OPT_TOP_P,
	OPT_MIN_P,
	OPT_REPEAT_PENALTY,
	OPT_REPEAT_LAST_N,
	OPT_SEED,
	OPT_CNV,
	OPT_NO_DISPLAY_PROMPT,
	OPT_IGNORE_EOS,
	OPT_VERBOSE,
	OPT_ISA,
	OPT_NUMA,
	OPT_NO_ARENA,
	OPT_HELP,
};

static const struct tool_opt opts[] = {
	{ "-m|--model", 1, OPT_MODEL },
	{ "-p|--prompt", 1, OPT_PROMPT },
	{ "-f|--file", 1, OPT_FILE },
	{ "-sys|--system-prompt", 1, OPT_SYSTEM },
	{ "-n|--n-predict|--predict", 1, OPT_PREDICT },
	{ "-t|--threads", 1, OPT_THREADS },
	{ "-c|--ctx-size", 1, OPT_CTX },
	{ "-b|--batch-size", 1, OPT_BATCH },
	{ "-ub|--ubatch-size", 1, OPT_UBATCH },
	{ "--temp", 1, OPT_TEMP },
	{ "--top-k", 1, OPT_TOP_K },
	{ "--top-p", 1, OPT_TOP_P },
	{ "--min-p", 1, OPT_MIN_P },
	{ "--repeat-penalty", 1, OPT_REPEAT_PENALTY },
	{ "--repeat-last-n", 1, OPT_REPEAT_LAST_N },
	{ "-s|--seed", 1, OPT_SEED },
	{ "-cnv|--conversation", 0, OPT_CNV },
	{ "--no-display-prompt", 0, OPT_NO_DISPLAY_PROMPT },
	{ "--ignore-eos", 0, OPT_IGNORE_EOS },
	{ "-v|--verbose", 0, OPT_VERBOSE },
	{ "--isa", 1, OPT_ISA },
	{ "--numa", 1, OPT_NUMA },
	{ "--no-arena", 0, OPT_NO_ARENA },
	{ "-h|--help", 0, OPT_HELP },
	{ NULL, 0, 0 },
};

static void usage(void)
{
	printf("Usage: %s -m FILE [-p TEXT | -f FILE] [options]\n"
	       "Generate text with a GGUF model (libamxrt %s), or chat with "
	       "it (-cnv).\n"
	       "\n"
	       "Options:\n"
	       "  -m, --model FILE        GGUF model (required)\n"
	       "  -p, --prompt TEXT       prompt (default: empty, BOS only)\n"
	       "  -f, --file FILE         read the prompt from FILE\n"
	       "  -n, --n-predict N       tokens to generate (default 128;\n"
	       "                          -1: until end of text or context;\n"
	       "                          -cnv: per reply, default -1)\n"
	       "  -c, --ctx-size N        context positions (default 0: the\n"
	       "                          model's, at most 4096)\n"
	       "  -b, --batch-size N      prompt tokens per decode call "
	       "(default 2048)\n"
	       "  -ub, --ubatch-size N    tokens per forward pass (default "
	       "512)\n"
	       "  -t, --threads N         threads (default 0: one per CPU)\n"
	       "  --isa NAME              force a path: amx, avx512vnni, avx2,\n"
	       "                          generic, amx-sim (default: "
	       "AMXRT_ISA, else\n"
	       "                          the fastest usable)\n"
	       "  --numa MODE[:NODE]      off, distribute (threads and each\n"
	       "                          weight's rows split over the nodes),\n"
	       "                          isolate (one node: NODE, default the\n"
	       "                          first), mirror (a weight copy per\n"
	       "                          node); default off\n"
	       "  --no-arena              read and pack the weights, even where\n"
	       "                          a persistent arena backend (the\n"
	       "                          amxrt module, or hugetlbfs) could\n"
	       "                          keep them packed between runs\n"
	       "\n"
	       "Sampling (llama-cli's defaults):\n"
	       "  --temp T                temperature, 0 = greedy (0.8)\n"
	       "  --top-k N               keep the N most likely, 0 = off "
	       "(40)\n"
	       "  --top-p P               nucleus, 1 = off (0.95)\n"
	       "  --min-p P               drop p < P * p_max, 0 = off (0.05)\n"
	       "  --repeat-penalty X      1 = off (1.0)\n"
	       "  --repeat-last-n N       penalty window, -1 = context (64)\n"
	       "  -s, --seed N            random seed, -1 = from the clock "
	       "(-1)\n"
	       "  --ignore-eos            do not stop at end-of-text tokens\n"
	       "\n"
	       "Chat:\n"
	       "  -cnv, --conversation    chat: read user turns from stdin, "
	       "format\n"
	       "                          them with the model's chat template\n"
	       "                          (chatml, llama3, llama2; chatml if "
	       "none)\n"
	       "  -sys, --system-prompt TEXT  system message for -cnv\n"
	       "\n"
	       "Output:\n"
	       "  --no-display-prompt     do not echo the prompt\n"
	       "  -v, --verbose           path in use and why, model, weight\n"
	       "                          placement, the arena decision, bytes\n"
	       "                          of weights copied, NUMA placement\n"
	       "                          and thread pinning\n"
	       "  -h, --help              print this help and exit\n"
	       "\n"
	       "Environment:\n"
	       "  AMXRT_ISA               force a path, as --isa (which "
	       "overrides it)\n"
	       "\n"
	       "Exit status:\n"
	       "  0  done (end of text, -n tokens, or end of input in -cnv)\n"
	       "  1  the run failed (file, model, path, context full with "
	       "-n\n"
	       "     set, ...); one line on stderr says why\n"
	       "  2  usage error: bad option or value; one line on stderr\n",
	       tool_prog, amxrt_version());
}

struct args {
	const char *model, *prompt, *file, *system, *isa, *numa;
	int n_predict, n_predict_set, n_ctx, n_batch, n_ubatch, threads;
	int threads_set, cnv, display_prompt, ignore_eos, verbose;
	int repeat_last_n;
	long long seed;
	struct amxrt_sampler_params sp;
};

static void parse_args(int argc, char **argv, struct args *a)
{
	const char *opt, *v;
	int i = 1, id;

	memset(a, 0, sizeof(*a));
	a->n_predict = 128;
	a->display_prompt = 1;
	a->seed = -1;
	amxrt_sampler_defaults(&a->sp);
	a->repeat_last_n = a->sp.repeat_last_n;
	while ((id = tool_opt_next(argc, argv, &i, opts, &opt, &v))) {
		switch (id) {
		case OPT_MODEL:
			a->model = v;
			break;
		case OPT_PROMPT:
			a->prompt = v;
			break;
		case OPT_FILE:
			a->file = v;
			break;
		case OPT_SYSTEM:
			a->system = v;
			break;
		case OPT_PREDICT:
			a->n_predict =
				(int)tool_parse_long(opt, v, -1, 1 << 30);
			a->n_predict_set = 1;
			break;
		case OPT_THREADS:
			a->threads = (int)tool_parse_long(opt, v, 0, 4096);
			a->threads_set = 1;
			break;
		case OPT_CTX:
			a->n_ctx = (int)tool_parse_long(opt, v, 0, 1 << 24);
			break;
		case OPT_BATCH:
			a->n_batch = (int)tool_parse_long(opt, v, 1, 1 << 20);
			break;
		case OPT_UBATCH:
			a->n_ubatch = (int)tool_parse_long(opt, v, 1, 1 << 20);
			break;
		case OPT_TEMP:
			a->sp.temp = tool_parse_float(opt, v, -1e9f, 1e9f);
			break;
		case OPT_TOP_K:
			a->sp.top_k = (int)tool_parse_long(opt, v, -1, 1 << 30);
			break;
		case OPT_TOP_P:
			a->sp.top_p = tool_parse_float(opt, v, 0.0f, 1.0f);
			break;
		case OPT_MIN_P:
			a->sp.min_p = tool_parse_float(opt, v, 0.0f, 1.0f);
			break;
		case OPT_REPEAT_PENALTY:
			a->sp.repeat_penalty =
				tool_parse_float(opt, v, 1e-6f, 1e6f);
			break;
		case OPT_REPEAT_LAST_N:
			a->repeat_last_n =
				(int)tool_parse_long(opt, v, -1, 1 << 24);
			break;
		case OPT_SEED:
			a->seed = tool_parse_long(opt, v, -1,
						  0x7fffffffffffffffL);
			break;
		case OPT_CNV:
			a->cnv = 1;
			break;
		case OPT_NO_DISPLAY_PROMPT:
			a->display_prompt = 0;
			break;
		case OPT_IGNORE_EOS:
			a->ignore_eos = 1;
			break;
		case OPT_VERBOSE:
			a->verbose = 1;
			break;
		case OPT_ISA:
			a->isa = v;
			break;
		case OPT_NUMA:
			a->numa = v;
			break;
		case OPT_NO_ARENA:
			tool_arena = AMXRT_LOAD_ARENA_OFF;
			break;
		case OPT_HELP:
			usage();
			exit(TOOL_EXIT_OK);
		}
	}
	if (!a->model)
		tool_die(TOOL_EXIT_USAGE, "no model: -m FILE is required "
					  "(try --help)");
	if (a->prompt && a->file)
		tool_die(TOOL_EXIT_USAGE, "-p and -f both give the prompt");
	if (a->system && !a->cnv)
		tool_die(TOOL_EXIT_USAGE, "-sys needs -cnv");
	if (a->cnv && !a->n_predict_set)
		a->n_predict = -1;
}

/* ---- generation ------------------------------------------------------ */

struct run {
	struct amxrt_model *m;
	const struct amxrt_tokenizer *tok;
	struct amxrt_ctx *ctx;
	struct amxrt_sampler *smp;
	int n_ctx, n_batch, n_vocab;
	const struct args *a;
	/* timings */
	double t_load, t_prompt, t_gen;
	long n_prompt, n_gen;
};

/* Decode n tokens of a prompt in n_batch pieces; exits on failure. */
static void eval_prompt(struct run *r, const int32_t *ids, int n)
{
	double t0 = tool_now();
	int i;

	if (amxrt_ctx_pos(r->ctx) + n > r->n_ctx)
		tool_die(TOOL_EXIT_FAIL,
			 "the prompt (%d tokens) does not fit the context "
			 "(%d of %d positions used): use a larger -c",
			 n, amxrt_ctx_pos(r->ctx), r->n_ctx);
	for (i = 0; i < n; i += r->n_batch) {
		int k = n - i < r->n_batch ? n - i : r->n_batch;

		if (amxrt_decode(r->ctx, ids + i, k, 0))
			tool_die(TOOL_EXIT_FAIL, "decode: %s", amxrt_errmsg());
	}
	for (i = 0; i < n; i++)
		amxrt_sampler_accept(r->smp, ids[i]);
	r->t_prompt += tool_now() - t0;
	r->n_prompt += n;
}

static void put_text(const char *s, int n)
{
	if (n > 0) {
		fwrite(s, 1, (size_t)n, stdout);
		fflush(stdout);
	}
}

/*
 * Sample and stream up to n_predict tokens (-1: no limit) after the
 * prompt. Appends the reply text to *reply when reply is not NULL.
 * Returns 1 when the context filled up, else 0.
 */
static int generate(struct run *r, int strip_lead, char **reply,
		    size_t *reply_len, int32_t *eog)
{
	struct amxrt_detok d;
	char piece[256];
	double t0 = tool_now();
	int n = 0, full = 0, k;

	if (eog)
		*eog = -1;
	amxrt_detok_init(&d, r->tok, 0, strip_lead);
	while (r->a->n_predict < 0 || n < r->a->n_predict) {
		const float *logits = amxrt_logits(r->ctx, -1);
		int32_t id;

		if (!logits)
			tool_die(TOOL_EXIT_FAIL, "no logits: %s",
				 amxrt_errmsg());
		id = amxrt_sample(r->smp, logits);
		if (id < 0)
			tool_die(TOOL_EXIT_FAIL, "sample: %s", amxrt_errmsg());
		amxrt_sampler_accept(r->smp, id);
		if (!r->a->ignore_eos && amxrt_token_is_eog(r->tok, id)) {
			/* keep the end of turn in the cache for the next one */
			if (reply && amxrt_ctx_pos(r->ctx) < r->n_ctx) {
				if (amxrt_decode(r->ctx, &id, 1, 0))
					tool_die(TOOL_EXIT_FAIL, "decode: %s",
						 amxrt_errmsg());
				*eog = id;
			}
			break;
		}
		n++;
		k = amxrt_detok_push(&d, id, piece, sizeof(piece));
		if (k < 0)
			tool_die(TOOL_EXIT_FAIL, "detokenize: %s",
				 amxrt_errmsg());
		put_text(piece, k);
		if (reply && k > 0) {
			char *nr = realloc(*reply, *reply_len + (size_t)k + 1);

			if (!nr)
				tool_die(TOOL_EXIT_FAIL, "out of memory");
			memcpy(nr + *reply_len, piece, (size_t)k + 1);
			*reply = nr;
			*reply_len += (size_t)k;
		}
		if (r->a->n_predict >= 0 && n >= r->a->n_predict) {
			/* a chat reply cut short: all of it in the cache */
			if (reply && amxrt_ctx_pos(r->ctx) < r->n_ctx &&
			    amxrt_decode(r->ctx, &id, 1, 0))
				tool_die(TOOL_EXIT_FAIL, "decode: %s",
					 amxrt_errmsg());
			break;
		}
		if (amxrt_ctx_pos(r->ctx) >= r->n_ctx) {
			full = 1;
			break;
		}
		if (amxrt_decode(r->ctx, &id, 1, 0))
			tool_die(TOOL_EXIT_FAIL, "decode: %s", amxrt_errmsg());
	}
	k = amxrt_detok_flush(&d, piece, sizeof(piece));
	if (k > 0)
		put_text(piece, k);
	r->t_gen += tool_now() - t0;
	r->n_gen += n;
	return full;
}

static void summary(const struct run *r)
{
	fflush(stdout);
	fprintf(stderr, "\n");
	fprintf(stderr, "load:      %10.2f ms\n", r->t_load * 1e3);
	fprintf(stderr, "prompt:    %10.2f ms %6ld tokens %10.2f tokens/s\n",
		r->t_prompt * 1e3, r->n_prompt,
		r->t_prompt > 0 ? (double)r->n_prompt / r->t_prompt : 0.0);
	fprintf(stderr, "generated: %10.2f ms %6ld tokens %10.2f tokens/s\n",
		r->t_gen * 1e3, r->n_gen,
		r->t_gen > 0 ? (double)r->n_gen / r->t_gen : 0.0);
	if (r->a->verbose)
		fprintf(stderr,
			"weight bytes copied during inference: %" PRIu64 "\n",
			amxrt_ctx_weight_bytes_copied(r->ctx));
}

static void context_full(const struct run *r)
{
	fflush(stdout);
	fprintf(stderr,
		"\n%s: context full (%d positions): stopping; use a larger "
		"-c\n",
		tool_prog, r->n_ctx);
}

static int run_text(struct run *r)
{
	const struct args *a = r->a;
	char *text = NULL;
	size_t len = 0;
	int32_t *ids;
	int n, full;

	if (a->file)
		text = tool_read_file(a->file, &len);
	else if (a->prompt)
		len = strlen(a->prompt);
	ids = tool_tokenize(r->tok,
			    text      ? text :
			    a->prompt ? a->prompt :
					"",
			    len,
			    AMXRT_TOK_ADD_SPECIAL | AMXRT_TOK_PARSE_SPECIAL,
			    &n);
	if (!n) {
		int32_t bos = amxrt_token_bos(r->tok);

		if (bos < 0)
			tool_die(TOOL_EXIT_FAIL,
				 "empty prompt and the model has no BOS token");
		ids[0] = bos;
		n = 1;
	}
	if (a->display_prompt && len) {
		fwrite(text ? text : a->prompt, 1, len, stdout);
		fflush(stdout);
	}
	eval_prompt(r, ids, n);
	free(ids);
	free(text);
	/* the SPM leading space only when the prompt was not shown */
	full = generate(r, !len, NULL, NULL, NULL);
	if (full)
		context_full(r);
	summary(r);
	/* a filled context is an error only when -n asked for more */
	return full && a->n_predict >= 0 ? TOOL_EXIT_FAIL : TOOL_EXIT_OK;
}

/* ---- chat ------------------------------------------------------------ */

struct chat {
	struct amxrt_chat_msg *msgs;
	int n, cap;
	const char *tmpl;
	char *prev; /* the text the context holds (the template's) */
	size_t prev_len;
};

static char *format(const struct chat *c, int add_assistant, size_t *len)
{
	size_t need = 0;
	char *buf;
	int r;

	r = amxrt_chat_format(c->tmpl, c->msgs, c->n, add_assistant, NULL, 0,
			      &need);
	if (r < 0 && r != -ENOSPC)
		tool_die(TOOL_EXIT_FAIL, "%s", amxrt_errmsg());
	buf = malloc(need);
	if (!buf)
		tool_die(TOOL_EXIT_FAIL, "out of memory");
	r = amxrt_chat_format(c->tmpl, c->msgs, c->n, add_assistant, buf, need,
			      NULL);
	if (r < 0)
		tool_die(TOOL_EXIT_FAIL, "%s", amxrt_errmsg());
	*len = (size_t)r;
	return buf;
}

static void add_msg(struct chat *c, const char *role, char *content)
{
	if (c->n == c->cap) {
		int cap = c->cap ? 2 * c->cap : 16;
		struct amxrt_chat_msg *nm =
			realloc(c->msgs, (size_t)cap * sizeof(*nm));

		if (!nm)
			tool_die(TOOL_EXIT_FAIL, "out of memory");
		c->msgs = nm;
		c->cap = cap;
	}
	c->msgs[c->n].role = role;
	c->msgs[c->n].content = content;
	c->n++;
}

/*
 * Add a user message and return the new text to feed the model: what the
 * conversation formats to now, with the assistant prefix, past the text
 * the context already holds (as llama.cpp does). If the template rewrote
 * what came before, the whole conversation is returned and *restart set:
 * the context must start over.
 */
static char *add_user(struct chat *c, char *content, size_t *len, int *restart)
{
	size_t new_len;
	char *now, *delta;

	add_msg(c, "user", content);
	now = format(c, 1, &new_len);
	*restart = c->prev_len &&
		   (new_len < c->prev_len || memcmp(now, c->prev, c->prev_len));
	if (*restart)
		c->prev_len = 0;
	*len = new_len - c->prev_len;
	delta = malloc(*len + 1);
	if (!delta)
		tool_die(TOOL_EXIT_FAIL, "out of memory");
	memcpy(delta, now + c->prev_len, *len);
	delta[*len] = '\0';
	free(c->prev);
	c->prev = now; /* all of it is fed now */
	c->prev_len = new_len;
	return delta;
}

/* Does the text formatted from the conversation start with prev + add? */
static int continues(const char *text, size_t text_len, const char *prev,
		     size_t prev_len, const char *add, size_t add_len)
{
	return text_len >= prev_len + add_len &&
	       !memcmp(text, prev, prev_len) &&
	       !memcmp(text + prev_len, add, add_len);
}

/*
 * Add the model's reply. The context now holds the text fed so far, the
 * reply and, if the model ended its turn, its end-of-turn token: when the
 * template writes that token right after the reply (ChatML's <|im_end|>,
 * Llama 3's <|eot_id|>, Llama 2's </s>), the text held includes it, so the
 * next turn feeds what follows it (the "\n" after <|im_end|>) and nothing
 * twice. Else the text held ends with the reply; a template that rewrites
 * the reply (trimmed spaces) keeps its own text, as before.
 */
static void add_reply(struct chat *c, const struct amxrt_tokenizer *tok,
		      char *reply, size_t reply_len, int32_t eog)
{
	const char *end = eog >= 0 ? amxrt_token_text(tok, eog) : NULL;
	size_t end_len = end ? strlen(end) : 0, len;
	char *now, *held;

	add_msg(c, "assistant", reply);
	now = format(c, 0, &len);
	if (!continues(now, len, c->prev, c->prev_len, reply, reply_len)) {
		free(c->prev);
		c->prev = now;
		c->prev_len = len;
		return;
	}
	if (!end ||
	    !continues(now + c->prev_len + reply_len,
		       len - c->prev_len - reply_len, "", 0, end, end_len))
		end_len = 0;
	held = now; /* the held text is a prefix of now */
	c->prev_len += reply_len + end_len;
	free(c->prev);
	c->prev = held;
}

/* -v: each turn's new text, escaped, so a template can be checked. */
static void show_delta(const struct args *a, int turn, const char *t,
		       size_t len)
{
	size_t i;

	if (!a->verbose)
		return;
	fprintf(stderr, "chat: turn %d feeds \"", turn);
	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)t[i];

		if (ch == '\n')
			fputs("\\n", stderr);
		else if (ch == '"' || ch == '\\')
			fprintf(stderr, "\\%c", ch);
		else if (ch < 0x20)
			fprintf(stderr, "\\x%02x", ch);
		else
			fputc(ch, stderr);
	}
	fputs("\"\n", stderr);
}

static char *read_line(int tty)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	if (tty) {
		printf("\n> ");
		fflush(stdout);
	}
	n = getline(&line, &cap, stdin);
	if (n < 0) {
		free(line);
		return NULL;
	}
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	return line;
}

static int run_chat(struct run *r)
{
	const struct args *a = r->a;
	struct chat c = { 0 };
	int tty = isatty(STDIN_FILENO), first = 1, status = TOOL_EXIT_OK;
	int turn = 0;
	char *first_user = NULL;
	int i;

	c.tmpl = amxrt_model_chat_template(r->m);
	if (!c.tmpl || !amxrt_chat_template_name(c.tmpl)) {
		if (a->verbose)
			fprintf(stderr, "chat template: %s: using chatml\n",
				c.tmpl ? "not recognized" :
					 "none in the model");
		c.tmpl = "chatml";
	}
	if (a->system) {
		/* goes out with the first user turn */
		char *sys = strdup(a->system);

		if (!sys)
			tool_die(TOOL_EXIT_FAIL, "out of memory");
		add_msg(&c, "system", sys);
	}
	if (a->file) {
		size_t len;

		first_user = tool_read_file(a->file, &len);
	} else if (a->prompt) {
		first_user = strdup(a->prompt);
		if (!first_user)
			tool_die(TOOL_EXIT_FAIL, "out of memory");
	}

	for (;;) {
		char *user = first_user ? first_user : read_line(tty);
		char *delta, *reply = NULL;
		size_t len, reply_len = 0;
		int32_t *ids;
		int n, restart, flags = AMXRT_TOK_PARSE_SPECIAL;
		int32_t eog;

		first_user = NULL;
		if (!user)
			break;
		delta = add_user(&c, user, &len, &restart);
		if (restart) {
			if (amxrt_ctx_truncate(r->ctx, 0))
				tool_die(TOOL_EXIT_FAIL, "context: %s",
					 amxrt_errmsg());
			first = 1;
		}
		if (first)
			flags |= AMXRT_TOK_ADD_SPECIAL;
		first = 0;
		show_delta(a, ++turn, delta, len);
		ids = tool_tokenize(r->tok, delta, len, flags, &n);
		free(delta);
		eval_prompt(r, ids, n);
		free(ids);
		if (generate(r, 1, &reply, &reply_len, &eog)) {
			context_full(r);
			free(reply);
			status = TOOL_EXIT_FAIL;
			break;
		}
		if (!tty)
			putchar('\n');
		add_reply(&c, r->tok, reply ? reply : strdup(""), reply_len,
			  eog);
	}
	if (tty)
		putchar('\n');
	summary(r);
	for (i = 0; i < c.n; i++)
		free((char *)c.msgs[i].content);
	free(c.msgs);
	free(c.prev);
	return status;
}

/* --numa MODE[:NODE]: set the mode and pin this thread as the pool's
 * first; exits 2 on a bad value. */
static void set_numa(const char *v)
{
	enum amxrt_numa mode;
	char name[32];
	const char *colon = strchr(v, ':');
	long node = -1;

	snprintf(name, sizeof(name), "%.*s",
		 (int)(colon ? colon - v : (long)strlen(v)), v);
	if (colon)
		node = tool_parse_long("--numa", colon + 1, 0, 4095);
	if (amxrt_numa_parse(name, &mode) || amxrt_set_numa(mode, (int)node))
		tool_die(TOOL_EXIT_USAGE, "--numa %s: %s", v, amxrt_errmsg());
	if (amxrt_numa_pin_caller())
		tool_die(TOOL_EXIT_FAIL, "--numa %s: %s", v, amxrt_errmsg());
}

/* -v: the mode, where the weights are, where each thread runs. */
static void print_numa(const struct amxrt_model *m)
{
	struct amxrt_numa_report r;
	struct amxrt_thread_pin pin[64];
	char line[512];
	int i, n, node;
	enum amxrt_numa mode = amxrt_numa_mode(&node);

	if (!amxrt_numa_describe(mode, node, 0, line, sizeof(line)))
		fprintf(stderr, "numa: %s\n", line);
	if (!amxrt_model_numa(m, &r))
		fprintf(stderr,
			"numa: %d packed weights%s%s, %llu pages: %llu on "
			"their node, %llu elsewhere, %llu unknown\n",
			r.n_weights, r.n_parts ? " in parts of " : "",
			r.n_parts ? (mode == AMXRT_NUMA_MIRROR ?
					     "one copy per node" :
					     "one range per node") :
				    "",
			(unsigned long long)r.pages,
			(unsigned long long)r.pages_home,
			(unsigned long long)r.pages_away,
			(unsigned long long)r.pages_unknown);
	n = amxrt_numa_threads(pin, 64);
	for (i = 0; i < n && i < 64; i++) {
		char on[32] = "not pinned";

		if (pin[i].node >= 0)
			snprintf(on, sizeof(on), "node %d", pin[i].node);
		fprintf(stderr,
			"numa: thread %d: %s, CPUs %s, running on CPU %d "
			"(node %d)%s%s\n",
			i, on, pin[i].cpus, pin[i].cpu, pin[i].cpu_node,
			pin[i].error[0] ? ": " : "", pin[i].error);
	}
}

int main(int argc, char **argv)
{
	struct amxrt_ctx_params cp = { 0, 0, 0 };
	struct amxrt_model_info info;
	struct args a;
	struct run r;
	int status;

	tool_init(argc, argv);
	tool_arena = AMXRT_LOAD_ARENA_AUTO; /* --no-arena: off */
	parse_args(argc, argv, &a);
	memset(&r, 0, sizeof(r));
	r.a = &a;

	if (a.isa)
		tool_set_isa(a.isa);
	else if (amxrt_isa() < 0)
		tool_die(TOOL_EXIT_FAIL, "%s", amxrt_errmsg());
	if (a.threads_set)
		tool_set_threads(a.threads);
	if (a.numa)
		set_numa(a.numa);
	if (a.verbose)
		tool_print_isa(a.isa);

	r.m = tool_load_model(a.model, &r.t_load);
	r.tok = amxrt_model_tokenizer(r.m);
	if (!r.tok)
		tool_die(TOOL_EXIT_FAIL, "%s: no tokenizer", a.model);
	if (amxrt_model_get_info(r.m, &info))
		tool_die(TOOL_EXIT_FAIL, "%s: %s", a.model, amxrt_errmsg());
	r.n_vocab = info.n_vocab;
	if (a.verbose) {
		tool_print_model(r.m, a.n_batch, a.n_ubatch);
		print_numa(r.m);
	}

	cp.n_ctx = a.n_ctx;
	cp.n_batch = a.n_batch;
	cp.n_ubatch = a.n_ubatch;
	if (amxrt_ctx_new(r.m, &cp, &r.ctx))
		tool_die(TOOL_EXIT_FAIL, "context: %s", amxrt_errmsg());
	r.n_ctx = amxrt_ctx_n_ctx(r.ctx);
	r.n_batch = a.n_batch ? a.n_batch : AMXRT_CTX_DEFAULT_BATCH;

	a.sp.repeat_last_n = a.repeat_last_n < 0 ? r.n_ctx : a.repeat_last_n;
	a.sp.seed = a.seed < 0 ? (uint64_t)time(NULL) ^ (uint64_t)getpid() :
				 (uint64_t)a.seed;
	if (amxrt_sampler_new(&a.sp, r.n_vocab, &r.smp))
		tool_die(TOOL_EXIT_FAIL, "sampler: %s", amxrt_errmsg());
	if (a.verbose)
		fprintf(stderr,
			"context %d, batch %d; sampling: temp %g, top-k %d, "
			"top-p %g, min-p %g, repeat penalty %g over %d, "
			"seed %" PRIu64 "\n",
			r.n_ctx, r.n_batch, (double)a.sp.temp, a.sp.top_k,
			(double)a.sp.top_p, (double)a.sp.min_p,
			(double)a.sp.repeat_penalty, a.sp.repeat_last_n,
			a.sp.seed);

	status = a.cnv ? run_chat(&r) : run_text(&r);

	amxrt_sampler_free(r.smp);
	amxrt_ctx_free(r.ctx);
	amxrt_model_free(r.m);
	return status;
}
