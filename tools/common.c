// SPDX-License-Identifier: MIT
/*
 * common.c - what the model tools share: option parsing with llama.cpp's
 * spellings, one-line fatal errors, the progress bar, timing, file reads,
 * and the -v reports (path in use, model, weight placement).
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common.h"

const char *tool_prog = "amxrt";

void tool_init(int argc, char **argv)
{
	const char *s;

	if (argc < 1 || !argv[0] || !argv[0][0])
		return;
	s = strrchr(argv[0], '/');
	tool_prog = s ? s + 1 : argv[0];
}

void tool_die(int status, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	char *nl;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* one line, whatever the message holds */
	while ((nl = strchr(msg, '\n')))
		*nl = ' ';
	fflush(stdout);
	fprintf(stderr, "%s: %s\n", tool_prog, msg);
	exit(status);
}

/* Whether arg (up to len) is one of the "|"-separated names. */
static int is_name(const char *names, const char *arg, size_t len)
{
	const char *p = names;

	while (*p) {
		const char *e = strchr(p, '|');
		size_t n = e ? (size_t)(e - p) : strlen(p);

		if (n == len && !strncmp(p, arg, len))
			return 1;
		if (!e)
			break;
		p = e + 1;
	}
	return 0;
}

int tool_opt_next(int argc, char **argv, int *i, const struct tool_opt *tab,
		  const char **opt, const char **val)
{
	const struct tool_opt *o;
	const char *arg, *eq;
	size_t len;

	*val = NULL;
	if (*i >= argc)
		return 0;
	arg = argv[(*i)++];
	*opt = arg;
	if (arg[0] != '-' || !arg[1])
		tool_die(TOOL_EXIT_USAGE,
			 "unexpected argument \"%s\" (try --help)", arg);
	eq = arg[1] == '-' ? strchr(arg, '=') : NULL;
	len = eq ? (size_t)(eq - arg) : strlen(arg);
	for (o = tab; o->names; o++)
		if (is_name(o->names, arg, len))
			break;
	if (!o->names)
		tool_die(TOOL_EXIT_USAGE, "unknown option %.*s (try --help)",
			 (int)len, arg);
	if (!o->has_arg) {
		if (eq)
			tool_die(TOOL_EXIT_USAGE, "%.*s takes no value",
				 (int)len, arg);
		return o->id;
	}
	if (eq) {
		*val = eq + 1;
	} else {
		if (*i >= argc)
			tool_die(TOOL_EXIT_USAGE,
				 "%s needs a value (try --help)", arg);
		*val = argv[(*i)++];
	}
	return o->id;
}

long tool_parse_long(const char *opt, const char *val, long min, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(val, &end, 10);
	if (!*val || *end || errno)
		tool_die(TOOL_EXIT_USAGE, "%s: \"%s\" is not an integer", opt,
			 val);
	if (v < min || v > max)
		tool_die(TOOL_EXIT_USAGE, "%s: %ld is out of range [%ld, %ld]",
			 opt, v, min, max);
	return v;
}

float tool_parse_float(const char *opt, const char *val, float min, float max)
{
	char *end;
	float v;

	errno = 0;
	v = strtof(val, &end);
	if (!*val || *end || errno || isnan(v))
		tool_die(TOOL_EXIT_USAGE, "%s: \"%s\" is not a number", opt,
			 val);
	if (v < min || v > max)
		tool_die(TOOL_EXIT_USAGE, "%s: %g is out of range [%g, %g]",
			 opt, (double)v, (double)min, (double)max);
	return v;
}

void tool_set_isa(const char *name)
{
	int isa = amxrt_isa_parse(name);

	if (isa < 0)
		tool_die(TOOL_EXIT_USAGE, "--isa: %s", amxrt_errmsg());
	if (amxrt_isa_set(isa))
		tool_die(TOOL_EXIT_FAIL, "--isa %s: %s", amxrt_isa_name(isa),
			 amxrt_errmsg());
}

void tool_set_threads(int n)
{
	if (amxrt_set_threads(n))
		tool_die(TOOL_EXIT_USAGE, "-t %d: %s", n, amxrt_errmsg());
}

double tool_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

double tool_median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int tool_progress(void *ctx, uint64_t done, uint64_t total)
{
	static int last = -1;
	static double t0;
	const int width = 30;
	double t, mbs = 0, eta = 0;
	int pct, fill, i;
	char bar[64];

	if (!total)
		return 0;
	if (!done || last < 0)
		t0 = tool_now();
	pct = (int)(done * 100 / total);
	if (pct > 100)
		pct = 100;
	if (pct == last)
		return 0;
	last = pct;
	t = tool_now() - t0;
	if (t > 0 && done) {
		mbs = (double)done / t / 1e6;
		eta = (double)(total - (done < total ? done : total)) / 1e6 /
		      mbs;
	}
	fill = pct * width / 100;
	for (i = 0; i < width; i++)
		bar[i] = i < fill ? '#' : '.';
	bar[width] = '\0';
	fprintf(stderr,
		"\rloading [%s] %3d%% %.0f/%.0f MB %6.0f MB/s ETA %4.1f s ",
		bar, pct, (double)done / 1e6, (double)total / 1e6, mbs, eta);
	if (pct == 100) {
		fprintf(stderr, "\r%*s\r", width + 60, "");
		last = -1;
	}
	fflush(stderr);
	return 0;
}

int tool_arena = AMXRT_LOAD_ARENA_OFF;

struct amxrt_model *tool_load_model(const char *path, double *seconds)
{
	struct amxrt_model_params p = { .arena = tool_arena };
	struct amxrt_model *m;
	double t0 = tool_now();
	int tty = isatty(STDERR_FILENO);
	int r;

	if (tty)
		p.progress = tool_progress;
	r = amxrt_model_load(path, &p, &m);
	if (tty)
		fprintf(stderr, "\r%*s\r", 90, "");
	if (r && strstr(amxrt_errmsg(), path))
		tool_die(TOOL_EXIT_FAIL, "%s", amxrt_errmsg());
	if (r)
		tool_die(TOOL_EXIT_FAIL, "%s: %s", path, amxrt_errmsg());
	if (seconds)
		*seconds = tool_now() - t0;
	return m;
}

char *tool_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	size_t cap = 65536, n = 0;
	char *buf;

	if (!f)
		tool_die(TOOL_EXIT_FAIL, "%s: %s", path, strerror(errno));
	buf = malloc(cap);
	while (buf) {
		size_t got = fread(buf + n, 1, cap - n - 1, f);

		n += got;
		if (n + 1 < cap)
			break;
		cap *= 2;
		buf = realloc(buf, cap);
	}
	if (!buf)
		tool_die(TOOL_EXIT_FAIL, "%s: out of memory", path);
	if (ferror(f))
		tool_die(TOOL_EXIT_FAIL, "%s: %s", path, strerror(errno));
	fclose(f);
	buf[n] = '\0';
	*len = n;
	return buf;
}

int32_t *tool_tokenize(const struct amxrt_tokenizer *t, const char *text,
		       size_t len, int flags, int *n)
{
	int max = (int)(len < 1000000 ? len : 1000000) + 16, need = 0, r;
	int32_t *ids = malloc((size_t)max * sizeof(*ids));

	if (!ids)
		tool_die(TOOL_EXIT_FAIL, "out of memory");
	r = amxrt_tokenize(t, text, len, flags, ids, max, &need);
	if (r == -ENOSPC && need > max) {
		free(ids);
		ids = malloc((size_t)need * sizeof(*ids));
		if (!ids)
			tool_die(TOOL_EXIT_FAIL, "out of memory");
		r = amxrt_tokenize(t, text, len, flags, ids, need, NULL);
	}
	if (r < 0)
		tool_die(TOOL_EXIT_FAIL, "tokenize: %s", amxrt_errmsg());
	*n = r;
	return ids;
}

void tool_print_isa(const char *isa_flag)
{
	static const enum amxrt_isa faster[] = {
		AMXRT_ISA_AMX,
		AMXRT_ISA_AVX512VNNI,
		AMXRT_ISA_AVX2,
		AMXRT_ISA_GENERIC,
	};
	const char *env = getenv("AMXRT_ISA");
	int isa = amxrt_isa();
	char why[512];
	size_t i;

	if (isa < 0) {
		fprintf(stderr, "isa: none: %s\n", amxrt_errmsg());
		return;
	}
	fprintf(stderr, "isa: %s (%s)\n", amxrt_isa_name(isa),
		isa_flag    ? "forced by --isa" :
		env && *env ? "forced by AMXRT_ISA" :
			      "fastest usable");
	for (i = 0; i < sizeof(faster) / sizeof(faster[0]); i++) {
		if ((int)faster[i] == isa)
			break;
		if (amxrt_isa_usable(faster[i], why, sizeof(why)))
			fprintf(stderr, "  %-11s not usable: %s\n",
				amxrt_isa_name(faster[i]), why);
		else
			fprintf(stderr, "  %-11s usable, not in use\n",
				amxrt_isa_name(faster[i]));
	}
	fprintf(stderr, "threads: %d\n", amxrt_threads());
}

struct layout_sum {
	char name[96];
	int backend;
	int64_t count;
	uint64_t bytes;
};

void tool_print_model(const struct amxrt_model *m, int n_batch, int n_ubatch)
{
	/* the micro-batch, as amxrt_ctx_new() sets it */
	int ub = n_ubatch ? n_ubatch : AMXRT_CTX_DEFAULT_UBATCH;
	int nb = n_batch ? n_batch : AMXRT_CTX_DEFAULT_BATCH;
	const struct amxrt_tokenizer *t = amxrt_model_tokenizer(m);
	const char *tmpl = amxrt_model_chat_template(m);
	struct amxrt_load_stats ls;
	struct layout_sum sums[32];
	struct amxrt_model_info in;
	int64_t n, i;
	int n_sums = 0, j;

	if (amxrt_model_get_info(m, &in)) {
		fprintf(stderr, "model: %s\n", amxrt_errmsg());
		return;
	}
	fprintf(stderr,
		"model: %s%s%s%s, %.2fM parameters, %s weights, "
		"%.2f MiB placed\n",
		in.arch, in.name[0] ? " \"" : "", in.name,
		in.name[0] ? "\"" : "", (double)in.n_params / 1e6,
		amxrt_type_name(in.type), (double)in.weight_bytes / 1048576.0);
	fprintf(stderr,
		"  layers %d, embd %d, heads %d / kv %d (dim %d), ffn %d, "
		"vocab %d, ctx train %d\n",
		in.n_layer, in.n_embd, in.n_head, in.n_head_kv, in.head_dim,
		in.n_ff, in.n_vocab, in.n_ctx_train);
	if (in.n_expert)
		fprintf(stderr, "  experts %d, %d used, ffn %d each\n",
			in.n_expert, in.n_expert_used, in.n_ff_expert);
	fprintf(stderr, "  rope base %g (%s), norm eps %g, output %s\n",
		(double)in.rope_base, in.rope_neox ? "neox" : "interleaved",
		(double)in.norm_eps, in.tied_output ? "tied" : "separate");
	if (t)
		fprintf(stderr, "  tokenizer %s (pre %s), bos %d, eos %d\n",
			amxrt_tokenizer_model(t), amxrt_tokenizer_pre(t),
			amxrt_token_bos(t), amxrt_token_eos(t));
	ub = ub < nb ? ub : nb;
	if (ub > 1)
		fprintf(stderr, "  attention: batches: %s; single tokens: %s\n",
			amxrt_model_attention_name(m, ub),
			amxrt_model_attention_name(m, 1));
	else
		fprintf(stderr,
			"  attention: single tokens only (micro-batch of 1): "
			"%s\n",
			amxrt_model_attention_name(m, 1));
	fprintf(stderr, "  chat template: %s\n",
		!tmpl ? "none" :
		amxrt_chat_template_name(tmpl) ?
			amxrt_chat_template_name(tmpl) :
			"not recognized");
	if (!amxrt_model_load_stats(m, &ls) &&
	    ls.arena_state == AMXRT_LOAD_ARENA_HIT)
		fprintf(stderr,
			"  load: %.3f s, the packed weights mapped from a "
			"sealed arena, nothing read\n",
			ls.seconds);
	else if (!amxrt_model_load_stats(m, &ls))
		fprintf(stderr,
			"  load: %.3f s, %.1f MiB streamed in %.3f s with %s%s, "
			"%s, %d x %.1f MiB reads%s%s\n",
			ls.seconds, (double)ls.bytes_read / 1048576.0,
			ls.stream_seconds, ls.io,
			ls.fixed_buffers ? " (registered buffers)" : "",
			ls.direct ? "O_DIRECT" : "buffered", ls.depth,
			(double)ls.chunk_bytes / 1048576.0,
			ls.note[0] ? "; " : "", ls.note);
	if (!amxrt_model_load_stats(m, &ls))
		fprintf(stderr, "  arena: %s\n", ls.arena);

	n = amxrt_model_placement_count(m);
	for (i = 0; i < n; i++) {
		struct amxrt_placement pl;

		if (amxrt_model_placement(m, i, &pl))
			continue;
		for (j = 0; j < n_sums; j++)
			if (sums[j].backend == (int)pl.backend &&
			    !strncmp(sums[j].name, pl.layout ? pl.layout : "?",
				     sizeof(sums[j].name) - 1))
				break;
		if (j == n_sums) {
			if (n_sums == (int)(sizeof(sums) / sizeof(sums[0])))
				j--; /* lump the rest into the last row */
			else
				n_sums++;
			snprintf(sums[j].name, sizeof(sums[j].name), "%s",
				 pl.layout ? pl.layout : "?");
			sums[j].backend = (int)pl.backend;
			sums[j].count = 0;
			sums[j].bytes = 0;
		}
		sums[j].count++;
		sums[j].bytes += pl.bytes;
	}
	fprintf(stderr, "placement: %" PRId64 " tensors\n", n < 0 ? 0 : n);
	for (j = 0; j < n_sums; j++)
		fprintf(stderr,
			"  %-4s %-36s %5" PRId64 " tensors %10.2f MiB\n",
			sums[j].backend == AMXRT_BACKEND_CPU ? "cpu" : "cuda",
			sums[j].name, sums[j].count,
			(double)sums[j].bytes / 1048576.0);
}
