/* SPDX-License-Identifier: MIT */
/*
 * common.h - shared by the model tools (amxrt-run, amxrt-perplexity):
 * option tables with llama.cpp's spellings ("-n", "-ub", "--top-k",
 * "--temp=0.5"), checked number parsing, fatal errors as one line on
 * stderr, the loading progress bar, timing and whole-file reads.
 */
#ifndef AMXRT_TOOLS_COMMON_H
#define AMXRT_TOOLS_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include <amxrt/amxrt.h>

/* Exit statuses of the model tools (also in their --help and man pages). */
#define TOOL_EXIT_OK 0
#define TOOL_EXIT_FAIL 1 /* the run failed: file, model, context, ... */
#define TOOL_EXIT_USAGE 2 /* bad option or value */

extern const char *tool_prog; /* program name for messages */

/* Set tool_prog from argv[0]. */
void tool_init(int argc, char **argv);

/* Print "prog: MESSAGE" (one line) on stderr and exit with status. */
void tool_die(int status, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), noreturn));

struct tool_opt {
	const char *names; /* "|"-separated spellings: "-n|--n-predict" */
	int has_arg;
	int id;
};

/*
 * The next option of argv at *i (advanced past it and its value). Returns
 * the id, with *val its value (from "--x=V" or the next argument), or 0
 * when argv is done. Unknown options, missing and unexpected values exit
 * with TOOL_EXIT_USAGE and one line. Arguments that are not options are
 * refused too: these tools take none.
 */
int tool_opt_next(int argc, char **argv, int *i, const struct tool_opt *tab,
		  const char **opt, const char **val);

/* Checked conversions: the whole value, in [min, max], else usage exit. */
long tool_parse_long(const char *opt, const char *val, long min, long max);
float tool_parse_float(const char *opt, const char *val, float min, float max);

/* --isa NAME: amxrt_isa_parse() + amxrt_isa_set(); exits on failure. */
void tool_set_isa(const char *name);
/* -t N: amxrt_set_threads(); exits on failure. */
void tool_set_threads(int n);

/* Monotonic seconds. */
double tool_now(void);

/* Median of v[0..n), n >= 1 (sorts v). */
double tool_median(double *v, int n);

/* The loading progress bar on stderr (only when stderr is a terminal). */
int tool_progress(void *ctx, uint64_t done, uint64_t total);

/*
 * Load a model, with the progress bar when stderr is a terminal. Exits
 * with TOOL_EXIT_FAIL and the library's reason on failure.
 */
struct amxrt_model *tool_load_model(const char *path, double *seconds);
/* tool_load_model()'s model arena policy (enum amxrt_load_arena); off
 * unless the tool sets it (amxrt-run: auto, --no-arena: off). */
extern int tool_arena;

/* A whole file, NUL-terminated (length in *len); exits on failure. */
char *tool_read_file(const char *path, size_t *len);

/* Tokenize text; exits on failure. *n gets the count; free() the result. */
int32_t *tool_tokenize(const struct amxrt_tokenizer *t, const char *text,
		       size_t len, int flags, int *n);

/* -v: the path in use and why, faster paths and why they are not used. */
void tool_print_isa(const char *isa_flag);
/*
 * -v: the model's hyperparameters and the placement of its weights; the
 * attention of micro-batches as the context will cut them (n_batch and
 * n_ubatch as given to amxrt_ctx_new(), 0 for the defaults).
 */
void tool_print_model(const struct amxrt_model *m, int n_batch, int n_ubatch);

#endif /* AMXRT_TOOLS_COMMON_H */
