// SPDX-License-Identifier: MIT
/*
 * amxrt-bench - time models (prompt processing and generation, like
 * llama-bench) and amxrt_matmul() on real model shapes, and compare both
 * with what this machine can do (amxrt_measure_limits(), measured in the
 * same run). A thin tool: it uses only the public API.
 *
 *   amxrt-bench [model] -m FILE [-m FILE ...] [-p LIST] [-n LIST] [-t N]
 *                       [-r REPS] [-b N] [-ub N] [--isa NAME] [--seed S]
 *                       [--limits-time SECONDS]
 *   amxrt-bench gemm [-t N] [-r REPS] [--isa NAME] [--types LIST]
 *                    [--shapes NxK,...] [-m M,...] [--warm]
 *                    [--limits-time SECONDS]
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <amxrt/amxrt.h>

#include "common.h"

#define MAX_LIST 32
#define WARMUP 2
#define FLUSH_MIN ((size_t)256 << 20)
#define FLUSH_MAX ((size_t)1 << 30)

struct opts {
	int threads; /* 0: the library's default */
	int reps;
	int isa; /* -1: the path in use */
	int warm; /* no cache flush before M = 1 calls */
	double limits_time;
	int ntypes, nshapes, nms;
	enum amxrt_type types[MAX_LIST];
	int64_t shape_n[MAX_LIST], shape_k[MAX_LIST];
	int64_t ms[MAX_LIST];
};

static const char usage[] =
	"usage: amxrt-bench gemm [options]\n"
	"       amxrt-bench [model] -m FILE [-m FILE ...] [options]\n"
	"\n"
	"Model mode (the default) loads each model and prints a markdown table\n"
	"like llama-bench: for each prompt length P a test ppP (P random tokens\n"
	"in one amxrt_decode(), from an empty context) and for each generation\n"
	"length N a test tgN (N tokens decoded one at a time from an empty\n"
	"context), in tokens per second (mean and standard deviation over the\n"
	"repetitions, after one warm-up run), with the ratio to this machine's\n"
	"limits measured in the same run (the best so far, measured again\n"
	"before each test): int8 peak for pp (2 x the matmul parameters each\n"
	"prompt token runs through x tokens per second; the output projection\n"
	"counts once per decode call, which computes the last row's logits\n"
	"only), and for tg the bandwidth bound (read\n"
	"bandwidth / weight bytes read per token) and read passes of the\n"
	"token's weights in the forward pass's order, without compute, timed\n"
	"after each run (amxrt_model_time_read()).\n"
	"\n"
	"model options:\n"
	"  -m, --model FILE       a GGUF model (repeat for several)\n"
	"  -p, --n-prompt LIST    prompt lengths, e.g. 64,512; 0: none\n"
	"                         (default 512)\n"
	"  -n, --n-gen LIST       generation lengths; 0: none (default 128)\n"
	"  -t, --threads N        threads (default: one per online CPU)\n"
	"  -r, --repetitions N    timed runs per test (default 5)\n"
	"  -b, --batch-size N     tokens per amxrt_decode() call (default 2048)\n"
	"  -ub, --ubatch-size N   tokens per forward pass (default 512)\n"
	"      --isa NAME         path: generic, avx2, avx512vnni, amx, amx-sim\n"
	"                         (default: the path in use)\n"
	"      --seed S           seed of the random tokens (default 1)\n"
	"      --limits-time S    seconds spent measuring the limits (default 2)\n"
	"  -h, --help             this text\n"
	"\n"
	"Gemm mode times amxrt_matmul() (Y = X * W^T, W packed N x K) for every\n"
	"type, shape and M given, and prints a markdown table: time per call\n"
	"(mean and standard deviation), GOP/s (2*M*N*K per call), GB/s of\n"
	"packed weights read, and the ratio to this machine's limits measured\n"
	"in the same run (int8 peak for M > 1, read bandwidth for M = 1; the\n"
	"best so far, measured again before each row).\n"
	"\n"
	"gemm options:\n"
	"  -t, --threads N        threads (default: one per online CPU)\n"
	"  -r, --reps N           timed calls per case, after 2 warm-up calls\n"
	"                         (default 10)\n"
	"      --isa NAME         path: generic, avx2, avx512vnni, amx, amx-sim\n"
	"                         (default: the path in use)\n"
	"      --types LIST       e.g. q4_0,q8_0 (default\n"
	"                         q4_0,q4_1,q8_0,bf16,f16,f32)\n"
	"      --shapes LIST      NxK,... (default\n"
	"                         2048x2048,5632x2048,2048x5632,14336x4096)\n"
	"  -m, --m LIST           rows of X, e.g. 1,16 (default 1,16,64,512)\n"
	"      --warm             do not evict the caches before M = 1 calls\n"
	"      --limits-time S    seconds spent measuring the limits (default 2)\n"
	"  -h, --help             this text\n";

static void die(const char *fmt, ...)
	__attribute__((format(printf, 1, 2), noreturn));

static void die(const char *fmt, ...)
{
	va_list ap;

	fputs("amxrt-bench: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static long parse_int(const char *s, const char *what, long lo, long hi)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi)
		die("%s '%s' is not a number in %ld..%ld", what, s, lo, hi);
	return v;
}

/* Split a comma-separated list in place; returns the number of items. */
static int split(char *s, char **items, const char *what)
{
	int n = 0;
	char *tok, *save = NULL;

	for (tok = strtok_r(s, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		if (n == MAX_LIST)
			die("too many %s (at most %d)", what, MAX_LIST);
		items[n++] = tok;
	}
	if (!n)
		die("empty list of %s", what);
	return n;
}

static void parse_types(struct opts *o, char *arg)
{
	char *items[MAX_LIST];
	int i, t;

	o->ntypes = split(arg, items, "types");
	for (i = 0; i < o->ntypes; i++) {
		t = amxrt_type_parse(items[i]);
		if (t < 0 || amxrt_row_bytes(t, 32) < 0 || t == AMXRT_TYPE_Q8_1)
			die("unknown weight type '%s' (f32 f16 bf16 q4_0 q4_1 q8_0)",
			    items[i]);
		o->types[i] = t;
	}
}

static void parse_shapes(struct opts *o, char *arg)
{
	char *items[MAX_LIST], *x;
	int i;

	o->nshapes = split(arg, items, "shapes");
	for (i = 0; i < o->nshapes; i++) {
		x = strchr(items[i], 'x');
		if (!x)
			die("shape '%s' is not NxK", items[i]);
		*x = '\0';
		o->shape_n[i] = parse_int(items[i], "N", 1, 1L << 24);
		o->shape_k[i] = parse_int(x + 1, "K", 1, 1L << 24);
	}
}

/* --limits-time: seconds in (0, 60], or exit 2. */
static double parse_limits_time(const char *arg)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(arg, &end);
	if (errno || end == arg || *end || !(v > 0 && v <= 60))
		die("--limits-time '%s' is not a number of seconds in (0, 60]",
		    arg);
	return v;
}

static void parse_ms(struct opts *o, char *arg)
{
	char *items[MAX_LIST];
	int i;

	o->nms = split(arg, items, "M values");
	for (i = 0; i < o->nms; i++)
		o->ms[i] = parse_int(items[i], "M", 1, 1L << 16);
}

static void parse(struct opts *o, int argc, char **argv)
{
	static const struct option longs[] = {
		{ "threads", required_argument, NULL, 't' },
		{ "reps", required_argument, NULL, 'r' },
		{ "isa", required_argument, NULL, 'I' },
		{ "types", required_argument, NULL, 'T' },
		{ "shapes", required_argument, NULL, 'S' },
		{ "m", required_argument, NULL, 'm' },
		{ "warm", no_argument, NULL, 'W' },
		{ "limits-time", required_argument, NULL, 'L' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char defaults_t[] = "q4_0,q4_1,q8_0,bf16,f16,f32";
	char defaults_s[] = "2048x2048,5632x2048,2048x5632,14336x4096";
	char defaults_m[] = "1,16,64,512";
	int c, i;

	memset(o, 0, sizeof(*o));
	o->reps = 10;
	o->isa = -1;
	o->limits_time = 2.0;
	parse_types(o, defaults_t);
	parse_shapes(o, defaults_s);
	parse_ms(o, defaults_m);

	opterr = 0;
	optind = 2;
	while ((c = getopt_long(argc, argv, ":t:r:m:h", longs, NULL)) != -1) {
		switch (c) {
		case 't':
			o->threads =
				(int)parse_int(optarg, "thread count", 1, 4096);
			break;
		case 'r':
			o->reps = (int)parse_int(optarg, "repetition count", 1,
						 1000000);
			break;
		case 'I':
			o->isa = amxrt_isa_parse(optarg);
			if (o->isa < 0)
				die("unknown path '%s' (generic avx2 avx512vnni amx amx-sim)",
				    optarg);
			break;
		case 'T':
			parse_types(o, optarg);
			break;
		case 'S':
			parse_shapes(o, optarg);
			break;
		case 'm':
			parse_ms(o, optarg);
			break;
		case 'W':
			o->warm = 1;
			break;
		case 'L':
			o->limits_time = parse_limits_time(optarg);
			break;
		case ':':
			die("option '%s' needs a value", argv[optind - 1]);
		default:
			die("unknown option '%s' (see --help)",
			    argv[optind - 1]);
		}
	}
	if (optind < argc)
		die("unexpected argument '%s' (see --help)", argv[optind]);
	for (i = 0; i < o->ntypes; i++) {
		int j;

		for (j = 0; j < o->nshapes; j++)
			if (o->shape_k[j] %
			    amxrt_type_block_values(o->types[i]))
				die("%s needs K to be a multiple of 32, shape %lldx%lld has not",
				    amxrt_type_name(o->types[i]),
				    (long long)o->shape_n[j],
				    (long long)o->shape_k[j]);
	}
}

/* xorshift64*, values roughly normal (sum of four uniforms) */
static uint64_t rng = 0x243f6a8885a308d3ull;

static float rnd(void)
{
	float s = 0;
	int i;

	for (i = 0; i < 4; i++) {
		rng ^= rng << 13;
		rng ^= rng >> 7;
		rng ^= rng << 17;
		s += (float)((rng * 0x2545f4914f6cdd1dull) >> 40) /
			     (float)(1 << 24) -
		     0.5f;
	}
	return s * 1.7320508f;
}

static void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		die("out of memory for %zu bytes", n);
	return p;
}

/* A random N x K weight, quantized to type and packed for isa. */
static struct amxrt_weight *make_weight(enum amxrt_type type, int64_t n,
					int64_t k, int isa)
{
	int64_t rb = amxrt_row_bytes(type, k), i, j;
	uint8_t *rows = xmalloc((size_t)(rb * n));
	float *row = xmalloc((size_t)k * sizeof(float));
	struct amxrt_weight *w;

	for (i = 0; i < n; i++) {
		for (j = 0; j < k; j++)
			row[j] = rnd() * 0.05f;
		if (amxrt_quantize_row(type, row, rows + i * rb, k))
			die("quantize: %s", amxrt_errmsg());
	}
	if (amxrt_weight_pack(&w, type, n, k, rows, isa))
		die("pack %s %lldx%lld: %s", amxrt_type_name(type),
		    (long long)n, (long long)k, amxrt_errmsg());
	free(row);
	free(rows);
	return w;
}

/*
 * Evicting the caches before an M = 1 call makes it read its weights from
 * memory, as a decode step does (a model's weights are far larger than
 * any cache): read a buffer of twice the last-level cache, at least 256
 * MiB and at most 1 GiB.
 */
static const volatile uint64_t *flush_buf;
static size_t flush_bytes;

static void flush_caches(void)
{
	uint64_t s = 0;
	size_t i;

	if (!flush_buf) {
		long llc = sysconf(_SC_LEVEL3_CACHE_SIZE);
		uint64_t *p;

		flush_bytes = llc > 0 ? 2 * (size_t)llc : FLUSH_MIN;
		flush_bytes = flush_bytes < FLUSH_MIN ? FLUSH_MIN :
			      flush_bytes > FLUSH_MAX ? FLUSH_MAX :
							flush_bytes;
		/* a whole number of 2 MiB pages (an LLC may be 37.5 MiB) */
		flush_bytes = (flush_bytes + ((size_t)2 << 20) - 1) &
			      ~(((size_t)2 << 20) - 1);
		p = aligned_alloc((size_t)2 << 20, flush_bytes);
		if (!p)
			die("out of memory for a %zu MiB cache-flush buffer",
			    flush_bytes >> 20);
#ifdef MADV_HUGEPAGE
		madvise(p, flush_bytes, MADV_HUGEPAGE);
#endif
		memset(p, 1, flush_bytes);
		flush_buf = p;
	}
	for (i = 0; i < flush_bytes / 8; i += 8)
		s += flush_buf[i];
	if (s == 42)
		fputc(' ', stderr); /* keeps the reads */
}

/*
 * After the flush the pool's threads have gone to sleep; in a decode loop
 * they are spinning, waiting for the next call. Wake them with calls on a
 * tiny weight that touches next to nothing (1024 x 32 Q4_0, 18 KiB) but
 * has chunks for every thread (an M = 1 job of one chunk runs on the
 * calling thread alone, without waking anyone, and M = 1 chunks hold at
 * least 4 panels of 16 rows), and keep calling it for a millisecond: a
 * sleeping thread takes tens of microseconds to wake, and the caller does
 * not wait for it.
 */
#define TINY_ROWS 1024
static struct amxrt_weight *tiny_w;

static void wake_pool(int isa)
{
	static float x[32], y[TINY_ROWS];

	double t0 = now();

	if (!tiny_w)
		tiny_w = make_weight(AMXRT_TYPE_Q4_0, TINY_ROWS, 32, isa);
	do {
		if (amxrt_matmul(tiny_w, x, 32, y, TINY_ROWS, 1))
			die("matmul: %s", amxrt_errmsg());
	} while (now() - t0 < 1e-3);
}

static void fmt_time(char *buf, size_t len, double mean, double sd)
{
	if (mean < 1e-3)
		snprintf(buf, len, "%.1f ± %.1f µs", mean * 1e6, sd * 1e6);
	else if (mean < 1.0)
		snprintf(buf, len, "%.3f ± %.3f ms", mean * 1e3, sd * 1e3);
	else
		snprintf(buf, len, "%.3f ± %.3f s", mean, sd);
}

/* A limit measured again before each row of a run: lowest, highest. */
struct drift {
	double lo, hi;
};

/* The read bandwidth (GB/s) and int8 peak (TOP/s) rows were set against. */
static struct drift read_seen = { 1e300, 0 }, int8_seen = { 1e300, 0 };

/*
 * A shared machine's memory bandwidth and compute drift over seconds:
 * measure the limit a row is compared with (the read bandwidth if read,
 * else the int8 peak) again just before it, note it, and return the best
 * the machine has shown in this run, lim (the first measurement) included:
 * a dip in a measurement must not flatter the rows after it.
 */
static double limit_now(double seconds, const struct amxrt_limits *lim,
			int read)
{
	struct drift *d = read ? &read_seen : &int8_seen;
	struct amxrt_limits near;
	double v;

	if (amxrt_measure_limits(&near, fmin(0.3, seconds)))
		die("measuring the limits: %s", amxrt_errmsg());
	v = read ? near.read_gbs : near.int8_tops;
	d->lo = fmin(d->lo, v);
	d->hi = fmax(d->hi, v);
	return fmax(d->hi, read ? lim->read_gbs : lim->int8_tops);
}

static void run_case(const struct opts *o, const struct amxrt_limits *lim,
		     struct amxrt_weight *w, int64_t m)
{
	int64_t n = amxrt_weight_rows(w), k = amxrt_weight_cols(w), i;
	float *x = xmalloc((size_t)(m * k) * sizeof(float));
	float *y = xmalloc((size_t)(m * n) * sizeof(float));
	double sum = 0, sum2 = 0, mean, sd, gops, gbs, ratio, best;
	double *t_mm = NULL, *t_rd = NULL;
	size_t cold_bytes = (amxrt_weight_bytes(w) + 4095) / 4096 * 4096;
	char *cold_buf = NULL;
	int cold = m == 1 && !o->warm, r;
	char tbuf[64], shape[48];

	for (i = 0; i < m * k; i++)
		x[i] = rnd();
	best = limit_now(o->limits_time, lim, m == 1);
	if (cold) {
		/* a plain read of as many bytes, timed the same way */
		cold_buf = aligned_alloc((size_t)2 << 20,
					 (cold_bytes + ((size_t)2 << 20) - 1) &
						 ~(((size_t)2 << 20) - 1));
		if (!cold_buf)
			die("out of memory for a %zu-byte read buffer",
			    cold_bytes);
		memset(cold_buf, 1, cold_bytes);
		t_mm = xmalloc((size_t)o->reps * sizeof(double));
		t_rd = xmalloc((size_t)o->reps * sizeof(double));
	}
	for (r = 0; r < WARMUP; r++)
		if (amxrt_matmul(w, x, k, y, n, m))
			die("matmul: %s", amxrt_errmsg());
	for (r = 0; r < o->reps; r++) {
		double t0;

		if (cold) {
			flush_caches();
			wake_pool(amxrt_weight_isa(w));
		}
		t0 = now();
		if (amxrt_matmul(w, x, k, y, n, m))
			die("matmul: %s", amxrt_errmsg());
		t0 = now() - t0;
		sum += t0;
		sum2 += t0 * t0;
		if (cold) {
			double dt;

			flush_caches();
			wake_pool(amxrt_weight_isa(w));
			if (amxrt_time_read(cold_buf, cold_bytes, &dt))
				die("timing a read: %s", amxrt_errmsg());
			t_mm[r] = t0;
			t_rd[r] = dt;
		}
	}
	free(cold_buf);
	mean = sum / o->reps;
	sd = o->reps > 1 ?
		     sqrt(fmax(0.0, (sum2 - sum * mean) / (o->reps - 1))) :
		     0.0;
	gops = 2.0 * (double)m * (double)n * (double)k / mean / 1e9;
	gbs = (double)amxrt_weight_bytes(w) / mean / 1e9;
	ratio = m == 1 ? gbs / best : gops / (best * 1e3);
	fmt_time(tbuf, sizeof(tbuf), mean, sd);
	snprintf(shape, sizeof(shape), "%lldx%lld", (long long)n, (long long)k);
	if (cold) {
		/*
		 * Medians: a shared machine stalls a call now and then by
		 * milliseconds, which would swing a mean of either.
		 */
		double mm_gbs = (double)amxrt_weight_bytes(w) /
				tool_median(t_mm, o->reps) / 1e9;
		double rd_gbs =
			(double)cold_bytes / tool_median(t_rd, o->reps) / 1e9;

		printf("| %s | %s | %lld | %s | %s | %.1f | %.1f | %.0f%% of read, %.0f%% of a cold read of its size (%.1f GB/s) |\n",
		       amxrt_type_name(amxrt_weight_type(w)), shape,
		       (long long)m, amxrt_matmul_kernel_name(w, m), tbuf, gops,
		       mm_gbs, 100 * mm_gbs / best, 100 * mm_gbs / rd_gbs,
		       rd_gbs);
	} else {
		printf("| %s | %s | %lld | %s | %s | %.1f | %.1f | %.0f%% %s |\n",
		       amxrt_type_name(amxrt_weight_type(w)), shape,
		       (long long)m, amxrt_matmul_kernel_name(w, m), tbuf, gops,
		       gbs, ratio * 100, m == 1 ? "of read" : "of int8");
	}
	fflush(stdout);
	free(t_mm);
	free(t_rd);
	free(x);
	free(y);
}

static int gemm_main(int argc, char **argv)
{
	struct amxrt_cpu_info ci;
	struct amxrt_limits lim;
	struct opts o;
	int isa, t, s, i, any_cold = 0;

	parse(&o, argc, argv);
	if (o.threads && amxrt_set_threads(o.threads))
		die("%s", amxrt_errmsg());
	isa = o.isa;
	if (isa < 0) {
		isa = amxrt_isa();
		if (isa < 0)
			die("%s", amxrt_errmsg());
	} else {
		char why[256];

		if (amxrt_isa_usable(isa, why, sizeof(why)))
			die("path %s cannot run here: %s", amxrt_isa_name(isa),
			    why);
	}
	if (amxrt_measure_limits(&lim, o.limits_time))
		die("measuring the limits: %s", amxrt_errmsg());
	amxrt_cpu_detect(&ci);
	for (i = 0; i < o.nms; i++)
		any_cold |= o.ms[i] == 1 && !o.warm;

	printf("amxrt-bench gemm: %s, %d threads, path %s, libamxrt %s\n\n",
	       ci.brand[0] ? ci.brand : "unknown CPU", amxrt_threads(),
	       amxrt_isa_name(isa), amxrt_version());
	printf("Limits measured now: int8 %.3f TOP/s (%s), read %.1f GB/s (%s over %zu MiB).\n",
	       lim.int8_tops, lim.int8_how, lim.read_gbs, lim.read_how,
	       lim.read_bytes >> 20);
	printf("Each case: %d warm-up calls, then %d timed calls%s.\n\n",
	       WARMUP, o.reps,
	       any_cold ?
		       "; M = 1 calls start with cold caches (a buffer of twice the LLC is read, then the threads are woken by tiny calls for 1 ms)" :
		       "");
	printf("| type | N x K | M | kernel | time/call | GOP/s | GB/s | vs limit |\n");
	printf("|------|-------|---|--------|-----------|-------|------|----------|\n");
	fflush(stdout);
	for (t = 0; t < o.ntypes; t++) {
		for (s = 0; s < o.nshapes; s++) {
			struct amxrt_weight *w = make_weight(
				o.types[t], o.shape_n[s], o.shape_k[s], isa);

			for (i = 0; i < o.nms; i++)
				run_case(&o, &lim, w, o.ms[i]);
			amxrt_weight_free(w);
		}
	}
	amxrt_weight_free(tiny_w);
	if (read_seen.hi > 0)
		printf("\nM = 1 rows are compared with the best read bandwidth measured so far (measured before each: %.1f to %.1f GB/s), and with a plain read of as many bytes on the same threads, timed the same way after the same eviction (amxrt_time_read()); their GB/s and both ratios come from the median times, as a shared machine stalls a call now and then by milliseconds.\n",
		       read_seen.lo, read_seen.hi);
	if (int8_seen.hi > 0)
		printf("%sM > 1 rows are compared with the best int8 peak measured so far (measured before each: %.3f to %.3f TOP/s).\n",
		       read_seen.hi > 0 ? "" : "\n", int8_seen.lo,
		       int8_seen.hi);
	return 0;
}

/* ---------------------------------------------------------------------- */
/* model mode: pp and tg tests, like llama-bench */

#define MAX_MODELS 16
#define TG_WARMUP 4

struct mopts {
	int nmodels, np, nn;
	const char *models[MAX_MODELS];
	int prompts[MAX_LIST], gens[MAX_LIST];
	int threads, reps, batch, ubatch, isa;
	uint64_t seed;
	double limits_time;
};

/* What one token costs a model: matmul work and weight bytes read. */
struct model_cost {
	double params; /* matmul parameters used per token */
	double out_params; /* of them, the output projection's */
	double bytes; /* matmul weight bytes (as placed) read per token */
};

static void parse_counts(char *arg, int *out, int *n, const char *what)
{
	char *items[MAX_LIST];
	int i;

	*n = split(arg, items, what);
	for (i = 0; i < *n; i++)
		out[i] = (int)parse_int(items[i], what, 0, 1 << 20);
}

static void parse_model(struct mopts *o, int argc, char **argv, int first)
{
	static const struct option longs[] = {
		{ "model", required_argument, NULL, 'm' },
		{ "n-prompt", required_argument, NULL, 'p' },
		{ "n-gen", required_argument, NULL, 'n' },
		{ "threads", required_argument, NULL, 't' },
		{ "repetitions", required_argument, NULL, 'r' },
		{ "batch-size", required_argument, NULL, 'b' },
		{ "ubatch-size", required_argument, NULL, 'u' },
		{ "isa", required_argument, NULL, 'I' },
		{ "seed", required_argument, NULL, 'S' },
		{ "limits-time", required_argument, NULL, 'L' },
		{ NULL, 0, NULL, 0 },
	};
	char def_p[] = "512", def_n[] = "128";
	char *end;
	int c, i;

	memset(o, 0, sizeof(*o));
	o->reps = 5;
	o->batch = 2048;
	o->ubatch = 512;
	o->isa = -1;
	o->seed = 1;
	o->limits_time = 2.0;
	parse_counts(def_p, o->prompts, &o->np, "prompt length");
	parse_counts(def_n, o->gens, &o->nn, "generation length");

	/* llama-bench spells the micro-batch size -ub */
	for (i = first; i < argc; i++)
		if (!strcmp(argv[i], "-ub"))
			argv[i] = "--ubatch-size";
	opterr = 0;
	optind = first;
	while ((c = getopt_long(argc, argv, ":m:p:n:t:r:b:", longs, NULL)) !=
	       -1) {
		switch (c) {
		case 'm':
			if (o->nmodels == MAX_MODELS)
				die("too many models (at most %d)", MAX_MODELS);
			if (!*optarg)
				die("empty model path");
			o->models[o->nmodels++] = optarg;
			break;
		case 'p':
			parse_counts(optarg, o->prompts, &o->np,
				     "prompt length");
			break;
		case 'n':
			parse_counts(optarg, o->gens, &o->nn,
				     "generation length");
			break;
		case 't':
			o->threads =
				(int)parse_int(optarg, "thread count", 1, 4096);
			break;
		case 'r':
			o->reps = (int)parse_int(optarg, "repetition count", 1,
						 100000);
			break;
		case 'b':
			o->batch = (int)parse_int(optarg, "batch size", 1,
						  1 << 20);
			break;
		case 'u':
			o->ubatch = (int)parse_int(optarg, "micro-batch size",
						   1, 1 << 20);
			break;
		case 'I':
			o->isa = amxrt_isa_parse(optarg);
			if (o->isa < 0)
				die("unknown path '%s' (generic avx2 avx512vnni amx amx-sim)",
				    optarg);
			break;
		case 'S':
			errno = 0;
			o->seed = strtoull(optarg, &end, 0);
			if (errno || end == optarg || *end)
				die("seed '%s' is not a number", optarg);
			break;
		case 'L':
			o->limits_time = parse_limits_time(optarg);
			break;
		case ':':
			die("option '%s' needs a value", argv[optind - 1]);
		default:
			die("unknown option '%s' (see --help)",
			    argv[optind - 1]);
		}
	}
	if (optind < argc)
		die("unexpected argument '%s' (see --help)", argv[optind]);
	if (!o->nmodels)
		die("no model given (-m FILE; see --help)");
	for (i = 0; i < o->nmodels; i++)
		if (access(o->models[i], R_OK))
			die("%s: %s", o->models[i], strerror(errno));
}

/*
 * Matmul parameters and weight bytes per token, from the placement list:
 * every weight packed for a kernel (all but "plain" layouts) is a matmul
 * weight; of a MoE model's expert tensors (*_exps) a token uses
 * n_expert_used of n_expert. The parameter counts come from the GGUF
 * tensors (a tied output was packed from token_embd.weight).
 */
static void model_cost(const struct amxrt_model *m,
		       const struct amxrt_model_info *info,
		       struct model_cost *cost)
{
	const struct amxrt_gguf *g = amxrt_model_gguf(m);
	int64_t n = amxrt_model_placement_count(m), i, ti;
	struct amxrt_placement pl;
	struct amxrt_gguf_tensor t;
	double elems, share;
	int d;

	memset(cost, 0, sizeof(*cost));
	for (i = 0; i < n; i++) {
		if (amxrt_model_placement(m, i, &pl))
			die("placement %lld: %s", (long long)i, amxrt_errmsg());
		if (!strncmp(pl.layout, "plain", 5))
			continue;
		ti = amxrt_gguf_find_tensor(g, pl.tensor);
		if (ti < 0 && strstr(pl.layout, "tied"))
			ti = amxrt_gguf_find_tensor(g, "token_embd.weight");
		if (ti < 0 || amxrt_gguf_tensor(g, ti, &t))
			die("tensor %s is placed but not in the file",
			    pl.tensor);
		elems = 1;
		for (d = 0; d < (int)t.n_dims; d++)
			elems *= (double)t.ne[d];
		share = 1;
		if (strstr(pl.tensor, "_exps") && info->n_expert > 0)
			share = (double)info->n_expert_used / info->n_expert;
		cost->params += elems * share;
		if (!strcmp(pl.tensor, "output.weight"))
			cost->out_params += elems;
		cost->bytes += (double)pl.bytes * share;
	}
}

/* 1.23 KiB/MiB/GiB for bytes, 1.23 K/M/B for counts (llama-bench's way) */
static void fmt_count(char *buf, size_t len, double v, int bytes)
{
	static const char *const pre[] = { "", "K", "M", "B", "T" };
	static const char *const bpre[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double div = bytes ? 1024 : 1000;
	int i = 0;

	while (v >= div && i < 4) {
		v /= div;
		i++;
	}
	snprintf(buf, len, "%.2f %s", v, bytes ? bpre[i] : pre[i]);
}

static void model_label(char *buf, size_t len,
			const struct amxrt_model_info *info)
{
	char p[32], t[16];
	size_t i;

	fmt_count(p, sizeof(p), (double)info->n_params, 0);
	/* "1.10 B" -> "1.10B" */
	for (i = 0; p[i]; i++)
		if (p[i] == ' ')
			memmove(p + i, p + i + 1, strlen(p + i));
	snprintf(t, sizeof(t), "%s", amxrt_type_name(info->type));
	for (i = 0; t[i]; i++)
		if (t[i] >= 'a' && t[i] <= 'z')
			t[i] = (char)(t[i] - 'a' + 'A');
	snprintf(buf, len, "%s %s %s", info->arch, p, t);
}

static void random_tokens(int32_t *tok, int n, int n_vocab)
{
	int i;

	for (i = 0; i < n; i++) {
		rng ^= rng << 13;
		rng ^= rng >> 7;
		rng ^= rng << 17;
		tok[i] = (int32_t)(((rng * 0x2545f4914f6cdd1dull) >> 33) %
				   (uint64_t)n_vocab);
	}
}

static void decode(struct amxrt_ctx *c, const int32_t *tok, int n, int batch)
{
	int i, k, ret;

	for (i = 0; i < n; i += k) {
		k = n - i < batch ? n - i : batch;
		ret = amxrt_decode(c, tok + i, k, 0);
		if (ret)
			die("decode: %s", amxrt_errmsg());
	}
}

static void restart(struct amxrt_ctx *c)
{
	if (amxrt_ctx_truncate(c, 0))
		die("truncate: %s", amxrt_errmsg());
}

/* One run of a test from an empty context; returns its seconds. */
static double run_test(struct amxrt_ctx *c, int32_t *tok, int n, int gen,
		       int n_vocab, int batch)
{
	double t0;
	int i;

	restart(c);
	random_tokens(tok, n, n_vocab);
	t0 = now();
	if (gen)
		for (i = 0; i < n; i++)
			decode(c, tok + i, 1, 1);
	else
		decode(c, tok, n, batch);
	return now() - t0;
}

/* The read passes' GB/s over the run (median per tg test). */
static struct drift pass_seen = { 1e300, 0 };

/* Read passes timed after each tg run (amxrt_model_time_read()). */
#define READ_PASSES 3

/*
 * Time READ_PASSES read passes of the token's weights into t (from *n on,
 * *n advanced); the bytes one pass reads into *bytes.
 */
static void read_passes(const struct amxrt_model *m, double *t, int *n,
			uint64_t *bytes)
{
	int i;

	for (i = 0; i < READ_PASSES; i++)
		if (amxrt_model_time_read(m, &t[(*n)++], bytes))
			die("read pass: %s", amxrt_errmsg());
}

static void model_test(const struct mopts *o, const struct amxrt_limits *lim,
		       const struct amxrt_model *m, struct amxrt_ctx *c,
		       const struct amxrt_model_info *info,
		       const struct model_cost *cost, const char *label,
		       const char *size, const char *params, int n, int gen,
		       int isa)
{
	int32_t *tok = xmalloc((size_t)n * sizeof(int32_t));
	double *t_rd = xmalloc((size_t)o->reps * READ_PASSES * sizeof(double));
	double sum = 0, sum2 = 0, mean, sd, ts, ratio, best, rd = 0;
	uint64_t rd_bytes = 0;
	char test[32], more[96] = "";
	int r, nrd = 0;

	/* warm-up, not counted: a short run of the same kind */
	run_test(c, tok, gen ? (n < TG_WARMUP ? n : TG_WARMUP) : n, gen,
		 info->n_vocab, o->batch);
	/* against the bandwidth for tg, the int8 peak for pp */
	best = limit_now(o->limits_time, lim, gen);
	for (r = 0; r < o->reps; r++) {
		ts = n / run_test(c, tok, n, gen, info->n_vocab, o->batch);
		sum += ts;
		sum2 += ts * ts;
		/* the reference read right after each run, as the host drifts */
		if (gen)
			read_passes(m, t_rd, &nrd, &rd_bytes);
	}
	mean = sum / o->reps;
	sd = o->reps > 1 ?
		     sqrt(fmax(0.0, (sum2 - sum * mean) / (o->reps - 1))) :
		     0.0;
	if (gen) {
		ratio = mean / (best * 1e9 / cost->bytes);
		rd = tool_median(t_rd, nrd);
		snprintf(more, sizeof(more), ", %.0f%% of a read pass",
			 100 * mean * rd);
		pass_seen.lo = fmin(pass_seen.lo, rd_bytes / rd / 1e9);
		pass_seen.hi = fmax(pass_seen.hi, rd_bytes / rd / 1e9);
	} else {
		/*
		 * A prompt's decode calls compute the logits (the output
		 * projection) of their last row only: the work is every other
		 * matmul for each token, the output once per call.
		 */
		double calls = ceil((double)n / o->batch);
		double ops = 2.0 * ((cost->params - cost->out_params) * n +
				    cost->out_params * calls);

		ratio = ops / n * mean / (best * 1e12);
	}
	snprintf(test, sizeof(test), "%s%d", gen ? "tg" : "pp", n);
	printf("| %s | %s | %s | CPU %s | %d | %s | %.2f ± %.2f | %.1f%% %s%s |\n",
	       label, size, params, amxrt_isa_name(isa), amxrt_threads(), test,
	       mean, sd, ratio * 100, gen ? "of bw bound" : "of int8", more);
	fflush(stdout);
	free(t_rd);
	free(tok);
}

static int model_main(int argc, char **argv, int first)
{
	struct amxrt_cpu_info ci;
	struct amxrt_limits lim;
	struct model_cost costs[MAX_MODELS];
	int used[MAX_MODELS], experts[MAX_MODELS];
	const char *att_pp[MAX_MODELS], *att_tg[MAX_MODELS];
	struct mopts o;
	int i, j, isa, max_n = 1, max_pp = 0, ub;

	parse_model(&o, argc, argv, first);
	if (o.threads && amxrt_set_threads(o.threads))
		die("%s", amxrt_errmsg());
	if (o.isa >= 0 && amxrt_isa_set(o.isa))
		die("path %s cannot run here: %s", amxrt_isa_name(o.isa),
		    amxrt_errmsg());
	isa = amxrt_isa();
	if (isa < 0)
		die("%s", amxrt_errmsg());
	rng = o.seed ? o.seed : 1;
	for (i = 0; i < o.np; i++)
		max_pp = o.prompts[i] > max_pp ? o.prompts[i] : max_pp;
	max_n = max_pp > max_n ? max_pp : max_n;
	for (i = 0; i < o.nn; i++)
		max_n = o.gens[i] > max_n ? o.gens[i] : max_n;

	for (i = 0; i < o.nmodels; i++) {
		struct amxrt_ctx_params cp = { .n_ctx = max_n,
					       .n_batch = o.batch,
					       .n_ubatch = o.ubatch };
		struct amxrt_model_info info;
		struct model_cost cost;
		struct amxrt_model *m;
		struct amxrt_ctx *c;
		char label[128], size[32], params[32];

		if (amxrt_model_load(o.models[i], NULL, &m))
			die("%s: %s", o.models[i], amxrt_errmsg());
		if (amxrt_model_get_info(m, &info))
			die("%s: %s", o.models[i], amxrt_errmsg());
		if (amxrt_ctx_new(m, &cp, &c))
			die("%s: %s", o.models[i], amxrt_errmsg());
		model_cost(m, &info, &cost);
		if (!i) {
			if (amxrt_measure_limits(&lim, o.limits_time))
				die("measuring the limits: %s", amxrt_errmsg());
			amxrt_cpu_detect(&ci);
			printf("amxrt-bench: %s, %d threads, path %s, libamxrt %s\n\n",
			       ci.brand[0] ? ci.brand : "unknown CPU",
			       amxrt_threads(), amxrt_isa_name(isa),
			       amxrt_version());
			printf("Limits measured now: int8 %.3f TOP/s (%s), read %.1f GB/s (%s over %zu MiB).\n",
			       lim.int8_tops, lim.int8_how, lim.read_gbs,
			       lim.read_how, lim.read_bytes >> 20);
			printf("Each test: 1 warm-up run, then %d timed runs from an empty context; batch %d, micro-batch %d, random tokens (seed %llu).\n\n",
			       o.reps, o.batch, o.ubatch,
			       (unsigned long long)o.seed);
			printf("| model | size | params | backend | threads | test | t/s | vs limit |\n");
			printf("|-------|------|--------|---------|---------|------|-----|----------|\n");
			fflush(stdout);
		}
		model_label(label, sizeof(label), &info);
		fmt_count(size, sizeof(size), (double)info.weight_bytes, 1);
		fmt_count(params, sizeof(params), (double)info.n_params, 0);
		for (j = 0; j < o.np; j++)
			if (o.prompts[j])
				model_test(&o, &lim, m, c, &info, &cost, label,
					   size, params, o.prompts[j], 0, isa);
		for (j = 0; j < o.nn; j++)
			if (o.gens[j])
				model_test(&o, &lim, m, c, &info, &cost, label,
					   size, params, o.gens[j], 1, isa);
		costs[i] = cost;
		/* static strings: they outlive the model; a prompt's first
		 * micro-batch is its longest (-ub, at most -b, at most P) */
		ub = o.ubatch < o.batch ? o.ubatch : o.batch;
		att_pp[i] = amxrt_model_attention_name(m, ub < max_pp ? ub :
									max_pp);
		att_tg[i] = amxrt_model_attention_name(m, 1);
		used[i] = info.n_expert_used;
		experts[i] = info.n_expert;
		amxrt_ctx_free(c);
		amxrt_model_free(m);
	}
	/* what the ratios were taken against, per model */
	printf("\n");
	for (i = 0; i < o.nmodels; i++) {
		printf("%s: per token %.0f matmul parameters (%.0f of them the output projection, counted once per decode call for pp), %.1f MiB of matmul weights read",
		       o.models[i], costs[i].params, costs[i].out_params,
		       costs[i].bytes / (1 << 20));
		if (experts[i])
			printf(" (%d of %d experts)", used[i], experts[i]);
		if (max_pp)
			printf("; attention: pp %s, tg %s.\n", att_pp[i],
			       att_tg[i]);
		else
			printf("; attention: tg %s.\n", att_tg[i]);
	}
	if (int8_seen.hi > 0)
		printf("pp rows: int8 peak from the best measured in this run; measured before each: %.3f to %.3f TOP/s.\n",
		       int8_seen.lo, int8_seen.hi);
	if (read_seen.hi > 0) {
		printf("tg rows: bandwidth bound from the best read bandwidth measured in this run; measured before each: %.1f to %.1f GB/s.\n",
		       read_seen.lo, read_seen.hi);
		printf("tg rows: a read pass reads the weights a token reads, in the order and batches the forward pass takes them, without computing (amxrt_model_time_read()); %d after each run, against their median: %.1f to %.1f GB/s.\n",
		       READ_PASSES, pass_seen.lo, pass_seen.hi);
	}
	return 0;
}

int main(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			fputs(usage, stdout);
			return 0;
		}
	}
	if (argc < 2)
		die("no command given (try 'amxrt-bench -m MODEL', 'amxrt-bench gemm' or --help)");
	if (!strcmp(argv[1], "gemm"))
		return gemm_main(argc, argv);
	if (!strcmp(argv[1], "model"))
		return model_main(argc, argv, 2);
	if (argv[1][0] == '-')
		return model_main(argc, argv, 1);
	die("unknown command '%s' (model or gemm; see --help)", argv[1]);
}
