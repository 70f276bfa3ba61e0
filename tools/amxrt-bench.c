// SPDX-License-Identifier: MIT
/*
 * amxrt-bench - time amxrt_matmul() on real model shapes and compare with
 * what this machine can do (amxrt_measure_limits(), measured in the same
 * run). A thin tool: it uses only the public API.
 *
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
	"\n"
	"Time amxrt_matmul() (Y = X * W^T, W packed N x K) for every type,\n"
	"shape and M given, and print a markdown table: time per call (mean\n"
	"and standard deviation), GOP/s (2*M*N*K per call), GB/s of packed\n"
	"weights read, and the ratio to this machine's limits measured in the\n"
	"same run (int8 peak for M > 1, read bandwidth for M = 1).\n"
	"\n"
	"options:\n"
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
	char *end;
	int c, i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			fputs(usage, stdout);
			exit(0);
		}
	}
	if (argc < 2)
		die("no command given (try 'amxrt-bench gemm' or --help)");
	if (strcmp(argv[1], "gemm"))
		die("unknown command '%s' (the only one is gemm; see --help)",
		    argv[1]);

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
			errno = 0;
			o->limits_time = strtod(optarg, &end);
			if (errno || end == optarg || *end ||
			    !(o->limits_time > 0 && o->limits_time <= 60))
				die("--limits-time '%s' is not a number of seconds in (0, 60]",
				    optarg);
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
 * they are spinning, waiting for the next call. Wake them with a call on a
 * tiny weight that touches next to nothing.
 */
static struct amxrt_weight *tiny_w;

static void wake_pool(int isa)
{
	static float x[32], y[16];

	if (!tiny_w)
		tiny_w = make_weight(AMXRT_TYPE_F32, 16, 32, isa);
	if (amxrt_matmul(tiny_w, x, 32, y, 16, 1))
		die("matmul: %s", amxrt_errmsg());
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

/* The read bandwidth M = 1 cases were compared with: lowest, highest. */
static double read_lo = 1e300, read_hi;

static void run_case(const struct opts *o, const struct amxrt_limits *lim,
		     struct amxrt_weight *w, int64_t m)
{
	int64_t n = amxrt_weight_rows(w), k = amxrt_weight_cols(w), i;
	float *x = xmalloc((size_t)(m * k) * sizeof(float));
	float *y = xmalloc((size_t)(m * n) * sizeof(float));
	double sum = 0, sum2 = 0, mean, sd, gops, gbs, ratio;
	int cold = m == 1 && !o->warm, r;
	char tbuf[64], shape[48];
	struct amxrt_limits near;

	for (i = 0; i < m * k; i++)
		x[i] = rnd();
	/*
	 * A shared machine's memory bandwidth drifts over seconds: measure
	 * it again before each M = 1 case and compare the case with the best
	 * the machine has shown in this run (a dip in the measurement must
	 * not flatter the kernel).
	 */
	near = *lim;
	if (m == 1) {
		if (amxrt_measure_limits(&near, 0.3))
			die("measuring the limits: %s", amxrt_errmsg());
		read_lo = fmin(read_lo, near.read_gbs);
		read_hi = fmax(read_hi, near.read_gbs);
		near.read_gbs = fmax(read_hi, lim->read_gbs);
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
	}
	mean = sum / o->reps;
	sd = o->reps > 1 ?
		     sqrt(fmax(0.0, (sum2 - sum * mean) / (o->reps - 1))) :
		     0.0;
	gops = 2.0 * (double)m * (double)n * (double)k / mean / 1e9;
	gbs = (double)amxrt_weight_bytes(w) / mean / 1e9;
	ratio = m == 1 ? gbs / near.read_gbs : gops / (lim->int8_tops * 1e3);
	fmt_time(tbuf, sizeof(tbuf), mean, sd);
	snprintf(shape, sizeof(shape), "%lldx%lld", (long long)n, (long long)k);
	printf("| %s | %s | %lld | %s | %s | %.1f | %.1f | %.0f%% %s |\n",
	       amxrt_type_name(amxrt_weight_type(w)), shape, (long long)m,
	       amxrt_matmul_kernel_name(w, m), tbuf, gops, gbs, ratio * 100,
	       m == 1 ? "of read" : "of int8");
	fflush(stdout);
	free(x);
	free(y);
}

int main(int argc, char **argv)
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
		       "; M = 1 calls start with cold caches (a buffer of twice the LLC is read, then the threads are woken by a tiny call)" :
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
	if (read_hi > 0)
		printf("\nM = 1 rows are compared with the best read bandwidth measured so far; measured before each: %.1f to %.1f GB/s.\n",
		       read_lo, read_hi);
	return 0;
}
