// SPDX-License-Identifier: MIT
/*
 * amxrt-mkmodel - write a random-weight GGUF model at the exact shapes of a
 * real one (TinyLlama, Llama-3, Qwen3, Qwen3-MoE), with llama.cpp's key and
 * tensor names and a real tokenizer copied from a vocabulary file. Weights
 * are generated tensor by tensor, in threads, through the writer's fill
 * callback: the model is never held in memory. Uses only the public API.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <amxrt/amxrt.h>
#include <amxrt/gguf.h>

/* Exit statuses (also in --help and amxrt-mkmodel(1)). */
#define EXIT_OK 0
#define EXIT_FAIL 1 /* vocabulary unreadable, or the output not written */
#define EXIT_USAGE 2 /* bad option or value */

#define WEIGHT_STD 0.02f /* of every random matrix; norms are 1 */
#define MAX_THREADS 64

static const char *prog = "amxrt-mkmodel";

struct preset {
	const char *name, *arch, *vocab, *about;
	int layers, emb, ffn, heads, kv_heads, head_dim, ctx;
	int vocab_size; /* of the real model; the vocabulary file decides */
	float rope_base, eps;
	int qk_norm, tied; /* q/k RMS norms; output shares token_embd */
	int experts, experts_used, expert_ffn; /* MoE, else 0 */
};

static const struct preset presets[] = {
	{ "tinyllama-1.1b", "llama", "ggml-vocab-llama-spm.gguf",
	  "TinyLlama-1.1B (Llama-2 vocabulary)", 22, 2048, 5632, 32, 4, 64,
	  2048, 32000, 10000.0f, 1e-5f, 0, 0, 0, 0, 0 },
	{ "llama-3-8b", "llama", "recon-vocab-llama-bpe.gguf",
	  "Meta-Llama-3-8B", 32, 4096, 14336, 32, 8, 128, 8192, 128256,
	  500000.0f, 1e-5f, 0, 0, 0, 0, 0 },
	{ "qwen3-0.6b", "qwen3", "recon-vocab-qwen2.gguf",
	  "Qwen3-0.6B (tied output)", 28, 1024, 3072, 16, 8, 128, 40960, 151936,
	  1e6f, 1e-6f, 1, 1, 0, 0, 0 },
	{ "qwen3-30b-a3b", "qwen3moe", "recon-vocab-qwen2.gguf",
	  "Qwen3-30B-A3B (128 experts, 8 used)", 48, 2048, 6144, 32, 4, 128,
	  40960, 151936, 1e6f, 1e-6f, 1, 0, 128, 8, 768 },
	{ "moe-bench", "qwen3moe", "recon-vocab-qwen2.gguf",
	  "Qwen3-MoE shapes, 8 layers of 32 experts (4 used)", 8, 2048, 6144,
	  32, 4, 128, 4096, 151936, 1e6f, 1e-6f, 1, 0, 32, 4, 768 },
};

#define N_PRESETS (int)(sizeof(presets) / sizeof(presets[0]))

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: %s --preset NAME [options]\n"
		"       %s --list\n"
		"Write a random-weight GGUF model at the shapes of a real one,\n"
		"with its real tokenizer (the tokenizer.* keys of a vocabulary\n"
		"file). Weights are normal-ish with sd %.2f, norms are 1.\n"
		"\n"
		"Options:\n"
		"  --preset NAME  the model shapes (see --list)\n"
		"  --type TYPE    every matrix, token_embd and output included:\n"
		"                 f32, f16, bf16, q8_0, q4_0, q4_1; norms and the\n"
		"                 MoE router stay f32 (default f16)\n"
		"  --layers N     write only the first N layers (default: all)\n"
		"  --seed S       random seed (default 1); same seed, same file\n"
		"  --vocab FILE   vocabulary GGUF (default: the preset's file in\n"
		"                 $AMXRT_MODELS/vocab/, else in the models/vocab/\n"
		"                 of the source tree: BIN/../../models/vocab/)\n"
		"  -o FILE        output (default PRESET-TYPE.gguf)\n"
		"  -t N           threads (default: online CPUs)\n"
		"  --list         list the presets and exit\n"
		"  -h, --help     print this help and exit\n"
		"\n"
		"Environment:\n"
		"  AMXRT_MODELS   directory holding vocab/ (see --vocab)\n"
		"\n"
		"Exit status:\n"
		"  0  the model was written\n"
		"  1  the vocabulary cannot be read or the model cannot be\n"
		"     written (no partial file is left); one line on stderr\n"
		"  2  usage error: bad option or value\n",
		prog, prog, WEIGHT_STD);
}

/* ---- the tensors of a preset ---------------------------------------------- */

struct tdesc {
	char name[64];
	int n_dims;
	int64_t ne[3];
	enum amxrt_type type;
	int ones; /* a norm: every value 1 */
};

struct plan {
	struct tdesc *t;
	int n, cap;
};

static int plan_add(struct plan *p, enum amxrt_type type, int ones, int n_dims,
		    int64_t ne0, int64_t ne1, int64_t ne2, const char *fmt,
		    int layer)
{
	struct tdesc *d;

	if (p->n == p->cap) {
		int cap = p->cap ? 2 * p->cap : 64;
		struct tdesc *t = realloc(p->t, (size_t)cap * sizeof(*t));

		if (!t)
			return -ENOMEM;
		p->t = t;
		p->cap = cap;
	}
	d = &p->t[p->n++];
	memset(d, 0, sizeof(*d));
	snprintf(d->name, sizeof(d->name), fmt, layer);
	d->n_dims = n_dims;
	d->ne[0] = ne0;
	d->ne[1] = ne1;
	d->ne[2] = ne2;
	/* block types need whole blocks per row; else the nearest float */
	d->type = ones ? AMXRT_TYPE_F32 : type;
	if (ne0 % amxrt_type_block_values(d->type))
		d->type = AMXRT_TYPE_F16;
	d->ones = ones;
	return 0;
}

/* The tensors, in llama.cpp's order and names. */
static int make_plan(const struct preset *ps, int layers, int64_t vocab,
		     enum amxrt_type type, struct plan *p)
{
	const enum amxrt_type F32 = AMXRT_TYPE_F32;
	int64_t emb = ps->emb, hd = ps->head_dim;
	int64_t q = ps->heads * hd, kv = ps->kv_heads * hd;
	int64_t eff = ps->expert_ffn, ne = ps->experts;
	int err = 0, l;

	err |= plan_add(p, type, 0, 2, emb, vocab, 1, "token_embd.weight", 0);
	for (l = 0; l < layers && !err; l++) {
		err |= plan_add(p, F32, 1, 1, emb, 1, 1,
				"blk.%d.attn_norm.weight", l);
		err |= plan_add(p, type, 0, 2, emb, q, 1,
				"blk.%d.attn_q.weight", l);
		err |= plan_add(p, type, 0, 2, emb, kv, 1,
				"blk.%d.attn_k.weight", l);
		err |= plan_add(p, type, 0, 2, emb, kv, 1,
				"blk.%d.attn_v.weight", l);
		err |= plan_add(p, type, 0, 2, q, emb, 1,
				"blk.%d.attn_output.weight", l);
		if (ps->qk_norm) {
			err |= plan_add(p, F32, 1, 1, hd, 1, 1,
					"blk.%d.attn_q_norm.weight", l);
			err |= plan_add(p, F32, 1, 1, hd, 1, 1,
					"blk.%d.attn_k_norm.weight", l);
		}
		err |= plan_add(p, F32, 1, 1, emb, 1, 1,
				"blk.%d.ffn_norm.weight", l);
		if (ps->experts) {
			err |= plan_add(p, F32, 0, 2, emb, ne, 1,
					"blk.%d.ffn_gate_inp.weight", l);
			err |= plan_add(p, type, 0, 3, emb, eff, ne,
					"blk.%d.ffn_gate_exps.weight", l);
			err |= plan_add(p, type, 0, 3, emb, eff, ne,
					"blk.%d.ffn_up_exps.weight", l);
			err |= plan_add(p, type, 0, 3, eff, emb, ne,
					"blk.%d.ffn_down_exps.weight", l);
		} else {
			err |= plan_add(p, type, 0, 2, emb, ps->ffn, 1,
					"blk.%d.ffn_gate.weight", l);
			err |= plan_add(p, type, 0, 2, emb, ps->ffn, 1,
					"blk.%d.ffn_up.weight", l);
			err |= plan_add(p, type, 0, 2, ps->ffn, emb, 1,
					"blk.%d.ffn_down.weight", l);
		}
	}
	err |= plan_add(p, F32, 1, 1, emb, 1, 1, "output_norm.weight", 0);
	if (!ps->tied)
		err |= plan_add(p, type, 0, 2, emb, vocab, 1, "output.weight",
				0);
	return err ? -ENOMEM : 0;
}

static int64_t tensor_values(const struct tdesc *d)
{
	return d->ne[0] * d->ne[1] * d->ne[2];
}

/* ---- random weights ------------------------------------------------------- */

static uint64_t splitmix64(uint64_t *s)
{
	uint64_t z = (*s += 0x9E3779B97F4A7C15ULL);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

struct gen {
	const struct tdesc *d;
	uint64_t seed; /* of this tensor */
	int threads;
	int64_t k, rows, row_bytes;
	uint8_t *dst;
	int64_t next; /* next row to take (atomic) */
	int err;
};

/*
 * Row r of a tensor: values from its own stream, so the file depends only
 * on the seed (not on the thread count). Each value is the sum of four
 * 16-bit uniforms of one 64-bit draw (Irwin-Hall, sd scaled to std).
 */
static void gen_row(const struct gen *g, int64_t r, float *x)
{
	const float scale = WEIGHT_STD * 1.7320508f / 65536.0f;
	uint64_t s = g->seed ^ ((uint64_t)r * 0xD1B54A32D192ED03ULL);
	int64_t i;

	if (g->d->ones) {
		for (i = 0; i < g->k; i++)
			x[i] = 1.0f;
		return;
	}
	splitmix64(&s);
	for (i = 0; i < g->k; i++) {
		uint64_t v = splitmix64(&s);
		int32_t sum = (int32_t)(v & 0xffff) +
			      (int32_t)((v >> 16) & 0xffff) +
			      (int32_t)((v >> 32) & 0xffff) +
			      (int32_t)(v >> 48) - 2 * 65535;

		x[i] = (float)sum * scale;
	}
}

#define ROWS_PER_TAKE 16

static void *gen_thread(void *arg)
{
	struct gen *g = arg;
	float *x = malloc((size_t)g->k * sizeof(*x));
	int64_t r, a;

	if (!x) {
		__atomic_store_n(&g->err, -ENOMEM, __ATOMIC_RELAXED);
		return NULL;
	}
	while ((a = __atomic_fetch_add(&g->next, ROWS_PER_TAKE,
				       __ATOMIC_RELAXED)) < g->rows) {
		for (r = a; r < a + ROWS_PER_TAKE && r < g->rows; r++) {
			gen_row(g, r, x);
			if (amxrt_quantize_row(g->d->type, x,
					       g->dst + r * g->row_bytes,
					       g->k)) {
				__atomic_store_n(&g->err, -EINVAL,
						 __ATOMIC_RELAXED);
				break;
			}
		}
	}
	free(x);
	return NULL;
}

/* Fill callback: generate one tensor with g->threads threads. */
static int fill(void *ctx, void *dst, size_t size)
{
	struct gen *g = ctx;
	pthread_t tid[MAX_THREADS];
	int n = g->threads, i, started = 0;

	if ((size_t)(g->rows * g->row_bytes) != size)
		return -EINVAL;
	g->dst = dst;
	g->next = 0;
	g->err = 0;
	if (g->rows < (int64_t)n * ROWS_PER_TAKE)
		n = (int)((g->rows + ROWS_PER_TAKE - 1) / ROWS_PER_TAKE);
	for (i = 1; i < n; i++)
		if (!pthread_create(&tid[i], NULL, gen_thread, g))
			started = i;
		else
			break;
	gen_thread(g);
	for (i = 1; i <= started; i++)
		pthread_join(tid[i], NULL);
	return g->err;
}

/* ---- vocabulary ----------------------------------------------------------- */

static int only_tokenizer(const char *key)
{
	return strncmp(key, "tokenizer.", 10) != 0;
}

/* The preset's vocabulary file: $AMXRT_MODELS/vocab, else the source tree. */
static int find_vocab(const char *name, char *path, size_t len)
{
	const char *env = getenv("AMXRT_MODELS");
	char self[PATH_MAX];
	ssize_t n;
	char *slash;

	if (env && *env) {
		snprintf(path, len, "%s/vocab/%s", env, name);
		return 0;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return -1;
	self[n] = '\0';
	slash = strrchr(self, '/');
	if (!slash)
		return -1;
	*slash = '\0';
	snprintf(path, len, "%s/../../models/vocab/%s", self, name);
	return 0;
}

/* ---- main ----------------------------------------------------------------- */

static int list_presets(void)
{
	int i, j;

	printf("%-15s %-9s %6s %5s %6s %9s %15s %7s %8s  %s\n", "preset",
	       "arch", "layers", "emb", "ffn", "heads/kv", "experts", "vocab",
	       "params", "vocabulary file");
	for (i = 0; i < N_PRESETS; i++) {
		const struct preset *ps = &presets[i];
		struct plan p = { 0 };
		char heads[32], experts[32];
		int64_t params = 0;

		if (make_plan(ps, ps->layers, ps->vocab_size, AMXRT_TYPE_F32,
			      &p)) {
			fprintf(stderr, "%s: out of memory\n", prog);
			free(p.t);
			return EXIT_FAIL;
		}
		for (j = 0; j < p.n; j++)
			params += tensor_values(&p.t[j]);
		free(p.t);
		snprintf(heads, sizeof(heads), "%d/%dx%d", ps->heads,
			 ps->kv_heads, ps->head_dim);
		if (ps->experts)
			snprintf(experts, sizeof(experts), "%d of %d x %d",
				 ps->experts_used, ps->experts, ps->expert_ffn);
		else
			snprintf(experts, sizeof(experts), "-");
		printf("%-15s %-9s %6d %5d %6d %9s %15s %7d %7.2fB  %s\n",
		       ps->name, ps->arch, ps->layers, ps->emb, ps->ffn, heads,
		       experts, ps->vocab_size, params / 1e9, ps->vocab);
	}
	return EXIT_OK;
}

/* llama.cpp's LLAMA_FTYPE number for a file mostly of type t. */
static uint32_t file_type(enum amxrt_type t)
{
	switch (t) {
	case AMXRT_TYPE_F16:
		return 1;
	case AMXRT_TYPE_Q4_0:
		return 2;
	case AMXRT_TYPE_Q4_1:
		return 3;
	case AMXRT_TYPE_Q8_0:
		return 7;
	case AMXRT_TYPE_BF16:
		return 32;
	default:
		return 0;
	}
}

static int set_hparams(struct amxrt_gguf_writer *w, const struct preset *ps,
		       int layers, int64_t vocab, enum amxrt_type type,
		       uint64_t seed)
{
	char key[128], desc[256];
	const char *a = ps->arch;
	int err = 0;

#define KEY(suffix) (snprintf(key, sizeof(key), "%s." suffix, a), key)
	snprintf(desc, sizeof(desc),
		 "random weights at the shapes of %s: amxrt-mkmodel --preset "
		 "%s --type %s --layers %d --seed %llu",
		 ps->about, ps->name, amxrt_type_name(type), layers,
		 (unsigned long long)seed);
	err |= amxrt_gguf_set_str(w, "general.architecture", a);
	err |= amxrt_gguf_set_str(w, "general.name", ps->name);
	err |= amxrt_gguf_set_str(w, "general.description", desc);
	err |= amxrt_gguf_set_u32(w, "general.file_type", file_type(type));
	err |= amxrt_gguf_set_u32(w, "general.quantization_version", 2);
	err |= amxrt_gguf_set_u32(w, KEY("vocab_size"), (uint32_t)vocab);
	err |= amxrt_gguf_set_u32(w, KEY("context_length"), ps->ctx);
	err |= amxrt_gguf_set_u32(w, KEY("embedding_length"), ps->emb);
	err |= amxrt_gguf_set_u32(w, KEY("block_count"), layers);
	err |= amxrt_gguf_set_u32(w, KEY("feed_forward_length"), ps->ffn);
	err |= amxrt_gguf_set_u32(w, KEY("attention.head_count"), ps->heads);
	err |= amxrt_gguf_set_u32(w, KEY("attention.head_count_kv"),
				  ps->kv_heads);
	err |= amxrt_gguf_set_u32(w, KEY("attention.key_length"), ps->head_dim);
	err |= amxrt_gguf_set_u32(w, KEY("attention.value_length"),
				  ps->head_dim);
	err |= amxrt_gguf_set_u32(w, KEY("rope.dimension_count"), ps->head_dim);
	err |= amxrt_gguf_set_f32(w, KEY("rope.freq_base"), ps->rope_base);
	err |= amxrt_gguf_set_f32(w, KEY("attention.layer_norm_rms_epsilon"),
				  ps->eps);
	if (ps->experts) {
		err |= amxrt_gguf_set_u32(w, KEY("expert_count"), ps->experts);
		err |= amxrt_gguf_set_u32(w, KEY("expert_used_count"),
					  ps->experts_used);
		err |= amxrt_gguf_set_u32(w, KEY("expert_feed_forward_length"),
					  ps->expert_ffn);
	}
#undef KEY
	return err ? -1 : 0;
}

static int parse_int(const char *opt, const char *s, long long lo, long long hi,
		     long long *v)
{
	char *end;

	errno = 0;
	*v = strtoll(s, &end, 0);
	if (errno || end == s || *end || *v < lo || *v > hi) {
		fprintf(stderr,
			"%s: %s: '%s' is not an integer in %lld..%lld\n", prog,
			opt, s, lo, hi);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "preset", required_argument, NULL, 'P' },
		{ "type", required_argument, NULL, 'T' },
		{ "layers", required_argument, NULL, 'L' },
		{ "seed", required_argument, NULL, 'S' },
		{ "vocab", required_argument, NULL, 'V' },
		{ "list", no_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *preset = NULL, *vocab_arg = NULL, *out = NULL;
	char vocab_path[PATH_MAX + 64], out_buf[256];
	struct amxrt_gguf_writer *w = NULL;
	struct amxrt_gguf *voc = NULL;
	const struct preset *ps = NULL;
	enum amxrt_type type = AMXRT_TYPE_F16;
	long long layers = 0, seed = 1, threads;
	struct plan plan = { 0 };
	struct gen *gens = NULL;
	enum amxrt_gguf_type elem;
	const void *tokdata;
	int c, i, ret = EXIT_FAIL;
	uint64_t vocab = 0, bytes = 0, params = 0;
	struct timespec t0, t1;

	threads = sysconf(_SC_NPROCESSORS_ONLN);
	if (threads < 1)
		threads = 1;
	if (threads > MAX_THREADS)
		threads = MAX_THREADS;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":o:t:h", opts, NULL)) != -1) {
		switch (c) {
		case 'P':
			preset = optarg;
			break;
		case 'T': {
			int t = amxrt_type_parse(optarg);

			if (t != AMXRT_TYPE_F32 && t != AMXRT_TYPE_F16 &&
			    t != AMXRT_TYPE_BF16 && t != AMXRT_TYPE_Q8_0 &&
			    t != AMXRT_TYPE_Q4_0 && t != AMXRT_TYPE_Q4_1) {
				fprintf(stderr,
					"%s: --type: unknown type '%s' (known: "
					"f32 f16 bf16 q8_0 q4_0 q4_1)\n",
					prog, optarg);
				return EXIT_USAGE;
			}
			type = (enum amxrt_type)t;
			break;
		}
		case 'L':
			if (parse_int("--layers", optarg, 1, 1000, &layers))
				return EXIT_USAGE;
			break;
		case 'S':
			if (parse_int("--seed", optarg, 0, LLONG_MAX, &seed))
				return EXIT_USAGE;
			break;
		case 'V':
			vocab_arg = optarg;
			break;
		case 'o':
			out = optarg;
			break;
		case 't':
			if (parse_int("-t", optarg, 1, MAX_THREADS, &threads))
				return EXIT_USAGE;
			break;
		case 'l':
			return list_presets();
		case 'h':
			usage(stdout);
			return EXIT_OK;
		case ':':
			fprintf(stderr, "%s: %s needs a value (try --help)\n",
				prog, argv[optind - 1]);
			return EXIT_USAGE;
		default:
			fprintf(stderr, "%s: unknown option %s (try --help)\n",
				prog, argv[optind - 1]);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "%s: unexpected argument \"%s\" (try --help)\n",
			prog, argv[optind]);
		return EXIT_USAGE;
	}
	if (!preset) {
		fprintf(stderr, "%s: --preset NAME is required (see --list)\n",
			prog);
		return EXIT_USAGE;
	}
	for (i = 0; i < N_PRESETS; i++)
		if (!strcmp(preset, presets[i].name))
			ps = &presets[i];
	if (!ps) {
		fprintf(stderr, "%s: unknown preset '%s' (see --list)\n", prog,
			preset);
		return EXIT_USAGE;
	}
	if (layers > ps->layers) {
		fprintf(stderr, "%s: --layers %lld: %s has %d layers\n", prog,
			layers, ps->name, ps->layers);
		return EXIT_USAGE;
	}
	if (!layers)
		layers = ps->layers;
	if (!out) {
		snprintf(out_buf, sizeof(out_buf), "%s-%s.gguf", ps->name,
			 amxrt_type_name(type));
		out = out_buf;
	}

	/* the vocabulary decides the vocab size */
	if (vocab_arg)
		snprintf(vocab_path, sizeof(vocab_path), "%s", vocab_arg);
	else if (find_vocab(ps->vocab, vocab_path, sizeof(vocab_path))) {
		fprintf(stderr,
			"%s: cannot locate %s: set AMXRT_MODELS or use "
			"--vocab\n",
			prog, ps->vocab);
		return EXIT_FAIL;
	}
	if (amxrt_gguf_open(vocab_path, &voc)) {
		fprintf(stderr, "%s: vocabulary: %s\n", prog, amxrt_errmsg());
		return EXIT_FAIL;
	}
	if (amxrt_gguf_get_arr(voc, "tokenizer.ggml.tokens", &elem, &vocab,
			       &tokdata) ||
	    elem != AMXRT_GGUF_STRING || !vocab || vocab > INT32_MAX) {
		fprintf(stderr,
			"%s: %s: no tokenizer.ggml.tokens string array\n", prog,
			vocab_path);
		goto out;
	}
	if (vocab != (uint64_t)ps->vocab_size)
		printf("note: %s has %llu tokens (%s has %d): using %llu\n",
		       vocab_path, (unsigned long long)vocab, ps->name,
		       ps->vocab_size, (unsigned long long)vocab);

	if (make_plan(ps, (int)layers, (int64_t)vocab, type, &plan) ||
	    !(gens = calloc((size_t)plan.n, sizeof(*gens))) ||
	    amxrt_gguf_writer_new(&w)) {
		fprintf(stderr, "%s: out of memory\n", prog);
		goto out;
	}
	if (set_hparams(w, ps, (int)layers, (int64_t)vocab, type,
			(uint64_t)seed) ||
	    amxrt_gguf_copy_kv(w, voc, only_tokenizer)) {
		fprintf(stderr, "%s: %s\n", prog, amxrt_errmsg());
		goto out;
	}
	for (i = 0; i < plan.n; i++) {
		const struct tdesc *d = &plan.t[i];
		struct gen *g = &gens[i];
		uint64_t s = (uint64_t)seed ^ ((uint64_t)(i + 1) << 32);

		g->d = d;
		g->seed = splitmix64(&s);
		g->threads = (int)threads;
		g->k = d->ne[0];
		g->rows = d->ne[1] * d->ne[2];
		g->row_bytes = amxrt_row_bytes(d->type, d->ne[0]);
		if (amxrt_gguf_add_tensor(w, d->name, d->type, d->n_dims, d->ne,
					  NULL, fill, g)) {
			fprintf(stderr, "%s: %s\n", prog, amxrt_errmsg());
			goto out;
		}
		params += (uint64_t)tensor_values(d);
		bytes += (uint64_t)(g->rows * g->row_bytes);
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (amxrt_gguf_write(w, out)) {
		fprintf(stderr, "%s: %s\n", prog, amxrt_errmsg());
		goto out;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("wrote %s: %s (%s), %lld of %d layers, %d tensors, %.3fB "
	       "parameters, %s, %.1f MiB of tensor data, vocabulary %s "
	       "(%llu tokens), seed %lld, %.1f s\n",
	       out, ps->name, ps->arch, layers, ps->layers, plan.n,
	       params / 1e9, amxrt_type_name(type), bytes / 1048576.0,
	       vocab_path, (unsigned long long)vocab, seed,
	       (double)(t1.tv_sec - t0.tv_sec) +
		       (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	ret = EXIT_OK;
out:
	amxrt_gguf_writer_free(w);
	amxrt_gguf_close(voc);
	free(plan.t);
	free(gens);
	return ret;
}
