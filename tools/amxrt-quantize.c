// SPDX-License-Identifier: MIT
/*
 * amxrt-quantize - convert an F32/F16/BF16 GGUF model to Q8_0, Q4_0, Q4_1,
 * BF16, F16 or F32: matrices whose rows are a multiple of 32 values take the
 * target type, other matrices a float type, 1D tensors (norms) stay F32.
 * The output is written tensor by tensor from the mapped input (never the
 * whole model in memory). Uses only the public API (<amxrt/amxrt.h>).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <amxrt/amxrt.h>
#include <amxrt/gguf.h>

/* Exit statuses (also in --help and amxrt-quantize(1)). */
#define EXIT_OK 0
#define EXIT_FAIL 1 /* unreadable input, refused tensor, write failure */
#define EXIT_USAGE 2 /* bad option, argument count or TYPE */

static const char *prog = "amxrt-quantize";

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: %s [options] IN.gguf OUT.gguf TYPE\n"
		"Convert an F32/F16/BF16 GGUF model to TYPE (case does not\n"
		"matter): Q8_0, Q4_0, Q4_1, BF16, F16 or F32.\n"
		"\n"
		"  2D and 3D weights (token_embd and output included) whose\n"
		"  rows are a multiple of 32 values become TYPE; other weights\n"
		"  become F16 (TYPE if TYPE is a float type); 1D tensors (norms)\n"
		"  and the MoE router (ffn_gate_inp) stay F32. All metadata is\n"
		"  copied; general.file_type is set to llama.cpp's number.\n"
		"\n"
		"Options:\n"
		"  --allow-requantize  accept Q4_0/Q4_1/Q8_0 input tensors:\n"
		"                      they are dequantized, then quantized\n"
		"                      (lossy); default: refuse them\n"
		"  -q, --quiet         print only the total line\n"
		"  -h, --help          print this help and exit\n"
		"\n"
		"Exit status:\n"
		"  0  OUT.gguf was written\n"
		"  1  the input cannot be read or converted, or OUT.gguf cannot\n"
		"     be written (it is then left untouched); one line on\n"
		"     stderr says why\n"
		"  2  usage error: bad option, argument count or TYPE\n",
		prog);
}

/* llama.cpp's LLAMA_FTYPE numbers for a file mostly of type t. */
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

static int is_float(enum amxrt_type t)
{
	return t == AMXRT_TYPE_F32 || t == AMXRT_TYPE_F16 ||
	       t == AMXRT_TYPE_BF16;
}

static int is_target(int t)
{
	return t == AMXRT_TYPE_Q8_0 || t == AMXRT_TYPE_Q4_0 ||
	       t == AMXRT_TYPE_Q4_1 || is_float((enum amxrt_type)t);
}

/* The type tensor t gets when the model is converted to target. */
static enum amxrt_type dest_type(const struct amxrt_gguf_tensor *t,
				 enum amxrt_type target)
{
	if (t->n_dims < 2 || strstr(t->name, "ffn_gate_inp"))
		return AMXRT_TYPE_F32;
	if (is_float(target) || t->ne[0] % amxrt_type_block_values(target) == 0)
		return target;
	return AMXRT_TYPE_F16;
}

struct conv {
	struct amxrt_gguf_tensor src;
	enum amxrt_type dst;
	int64_t index, count;
	int quiet;
	float *row; /* ne[0] floats, shared */
};

/* Fill callback: convert one tensor, row by row, from the mapped input. */
static int convert(void *ctx, void *dst, size_t size)
{
	const struct conv *c = ctx;
	const struct amxrt_gguf_tensor *s = &c->src;
	int64_t k = s->ne[0], rows = 1, r;
	int64_t sb = amxrt_row_bytes(s->type, k);
	int64_t db = amxrt_row_bytes(c->dst, k);
	char shape[96];
	int d, n = 0;

	for (d = 1; d < s->n_dims; d++)
		rows *= s->ne[d];
	if (sb < 0 || db < 0 || (size_t)(rows * db) != size)
		return -EINVAL;
	if (s->type == c->dst) {
		memcpy(dst, s->data, size);
	} else {
		for (r = 0; r < rows; r++) {
			const char *in = (const char *)s->data + r * sb;
			char *out = (char *)dst + r * db;

			if (amxrt_dequantize_row(s->type, in, c->row, k) ||
			    amxrt_quantize_row(c->dst, c->row, out, k))
				return -EINVAL;
		}
	}
	if (c->quiet)
		return 0;
	for (d = 0; d < s->n_dims; d++)
		n += snprintf(shape + n, sizeof(shape) - (size_t)n,
			      "%s%" PRId64, d ? " x " : "", s->ne[d]);
	printf("[%4" PRId64 "/%4" PRId64 "] %-40s %-22s %5s -> %s\n",
	       c->index + 1, c->count, s->name, shape, amxrt_type_name(s->type),
	       amxrt_type_name(c->dst));
	fflush(stdout);
	return 0;
}

static int skip_kv(const char *key)
{
	return !strcmp(key, "general.file_type") ||
	       !strcmp(key, "general.quantization_version");
}

/* The library's message names the file or tensor. */
static int fail(void)
{
	fprintf(stderr, "%s: %s\n", prog, amxrt_errmsg());
	return EXIT_FAIL;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "allow-requantize", no_argument, NULL, 'R' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct amxrt_gguf_writer *w = NULL;
	struct amxrt_gguf *g = NULL;
	struct conv *convs = NULL;
	int requant = 0, quiet = 0, target, c, ret = EXIT_FAIL;
	int64_t i, n, most = 1, counts[32] = { 0 };
	uint64_t in_bytes = 0, out_bytes = 0;
	float *row = NULL;
	const char *in, *out;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "qh", opts, NULL)) != -1) {
		switch (c) {
		case 'R':
			requant = 1;
			break;
		case 'q':
			quiet = 1;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		default:
			fprintf(stderr, "%s: unknown option %s (try --help)\n",
				prog, argv[optind - 1]);
			return EXIT_USAGE;
		}
	}
	if (argc - optind != 3) {
		fprintf(stderr,
			"%s: expected IN.gguf OUT.gguf TYPE, got %d argument%s "
			"(try --help)\n",
			prog, argc - optind, argc - optind == 1 ? "" : "s");
		return EXIT_USAGE;
	}
	in = argv[optind];
	out = argv[optind + 1];
	target = amxrt_type_parse(argv[optind + 2]);
	if (target < 0 || !is_target(target)) {
		fprintf(stderr,
			"%s: unknown TYPE '%s' (known: q8_0 q4_0 q4_1 bf16 "
			"f16 f32)\n",
			prog, argv[optind + 2]);
		return EXIT_USAGE;
	}

	if (amxrt_gguf_open(in, &g))
		return fail();
	n = amxrt_gguf_tensor_count(g);
	convs = calloc(n ? (size_t)n : 1, sizeof(*convs));
	if (!convs) {
		fprintf(stderr, "%s: out of memory\n", prog);
		goto out;
	}
	for (i = 0; i < n; i++) {
		struct conv *cv = &convs[i];

		if (amxrt_gguf_tensor(g, i, &cv->src)) {
			ret = fail();
			goto out;
		}
		if (!is_float(cv->src.type) && !requant) {
			fprintf(stderr,
				"%s: %s: tensor %s is already %s; only F32, "
				"F16 and BF16 models are converted (or use "
				"--allow-requantize)\n",
				prog, in, cv->src.name,
				amxrt_type_name(cv->src.type) ?
					amxrt_type_name(cv->src.type) :
					"of an unknown type");
			goto out;
		}
		if (!cv->src.data) {
			fprintf(stderr, "%s: %s: tensor %s has no data\n", prog,
				in, cv->src.name);
			goto out;
		}
		cv->dst = dest_type(&cv->src, (enum amxrt_type)target);
		cv->index = i;
		cv->count = n;
		cv->quiet = quiet;
		if (cv->src.ne[0] > most)
			most = cv->src.ne[0];
	}
	row = malloc((size_t)most * sizeof(*row));
	if (!row || amxrt_gguf_writer_new(&w)) {
		fprintf(stderr, "%s: out of memory\n", prog);
		goto out;
	}
	if (amxrt_gguf_copy_kv(w, g, skip_kv) ||
	    amxrt_gguf_set_u32(w, "general.quantization_version", 2) ||
	    amxrt_gguf_set_u32(w, "general.file_type",
			       file_type((enum amxrt_type)target))) {
		ret = fail();
		goto out;
	}
	for (i = 0; i < n; i++) {
		struct conv *cv = &convs[i];

		cv->row = row;
		if (amxrt_gguf_add_tensor(w, cv->src.name, cv->dst,
					  cv->src.n_dims, cv->src.ne, NULL,
					  convert, cv)) {
			ret = fail();
			goto out;
		}
		in_bytes += cv->src.size;
		out_bytes += (uint64_t)amxrt_row_bytes(cv->dst, cv->src.ne[0]) *
			     (cv->src.size /
			      (uint64_t)amxrt_row_bytes(cv->src.type,
							cv->src.ne[0]));
		counts[cv->dst & 31]++;
	}
	if (amxrt_gguf_write(w, out)) {
		fprintf(stderr, "%s: %s\n", prog, amxrt_errmsg());
		goto out;
	}
	printf("total: %" PRId64 " tensors, %.2f MiB -> %.2f MiB (", n,
	       in_bytes / 1048576.0, out_bytes / 1048576.0);
	for (c = 0, i = 0; i < 32; i++)
		if (counts[i])
			printf("%s%" PRId64 " %s", c++ ? ", " : "", counts[i],
			       amxrt_type_name((enum amxrt_type)i));
	printf("), file type %u, wrote %s\n",
	       file_type((enum amxrt_type)target), out);
	ret = EXIT_OK;
out:
	amxrt_gguf_writer_free(w);
	amxrt_gguf_close(g);
	free(convs);
	free(row);
	return ret;
}
