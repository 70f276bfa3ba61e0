// SPDX-License-Identifier: MIT
/*
 * amxrt-tokenize - print the token ids a model's tokenizer gives a text
 * (and, with --pieces, what each token stands for). Uses only the public
 * API (<amxrt/amxrt.h>).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <amxrt/amxrt.h>

/* Exit statuses (also in --help and amxrt-tokenize(1)). */
#define EXIT_OK 0
#define EXIT_FAIL 1 /* unreadable file, no tokenizer, tokenize failure */
#define EXIT_USAGE 2 /* bad option or missing -m / -p */

static const char *prog = "amxrt-tokenize";

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: %s -m FILE -p TEXT [--no-bos] [--special] [--pieces]\n"
		"Print the token ids of TEXT under the tokenizer of the GGUF\n"
		"file FILE (a model or a vocabulary-only file), on one line,\n"
		"separated by spaces.\n"
		"\n"
		"Options:\n"
		"  -m, --model FILE  the GGUF file (required)\n"
		"  -p, --prompt TEXT the text (required)\n"
		"  --no-bos          do not add BOS/EOS (default: add them as\n"
		"                    the file's rules say)\n"
		"  --special         text such as <|im_end|> is that special\n"
		"                    token (default: plain text)\n"
		"  --pieces          then one line per token: the id, a tab and\n"
		"                    the token's bytes, quoted, C escapes\n"
		"  -h, --help        print this help and exit\n"
		"\n"
		"Exit status: 0 success, 1 the file or the text failed, 2 usage.\n",
		prog);
}

static void print_quoted(const char *s, int n)
{
	int i;

	putchar('"');
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c == '\n')
			fputs("\\n", stdout);
		else if (c == '\t')
			fputs("\\t", stdout);
		else if (c < 0x20 || c == 0x7f)
			printf("\\x%02x", c);
		else
			putchar(c);
	}
	putchar('"');
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "model", required_argument, NULL, 'm' },
		{ "prompt", required_argument, NULL, 'p' },
		{ "no-bos", no_argument, NULL, 'B' },
		{ "special", no_argument, NULL, 'S' },
		{ "pieces", no_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *model = NULL, *text = NULL;
	int flags = AMXRT_TOK_ADD_SPECIAL, pieces = 0, c, n, needed, i;
	int ret = EXIT_FAIL;
	struct amxrt_tokenizer *tok = NULL;
	struct amxrt_gguf *g = NULL;
	int32_t *ids = NULL;

	while ((c = getopt_long(argc, argv, "m:p:h", opts, NULL)) != -1) {
		switch (c) {
		case 'm':
			model = optarg;
			break;
		case 'p':
			text = optarg;
			break;
		case 'B':
			flags &= ~AMXRT_TOK_ADD_SPECIAL;
			break;
		case 'S':
			flags |= AMXRT_TOK_PARSE_SPECIAL;
			break;
		case 'P':
			pieces = 1;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		default:
			fprintf(stderr, "%s: try --help\n", prog);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "%s: unexpected argument '%s'\n", prog,
			argv[optind]);
		return EXIT_USAGE;
	}
	if (!model || !text) {
		fprintf(stderr, "%s: -m FILE and -p TEXT are required\n", prog);
		return EXIT_USAGE;
	}
	if (amxrt_gguf_open(model, &g) || amxrt_tokenizer_load(g, &tok)) {
		fprintf(stderr, "%s: %s\n", prog, amxrt_errmsg());
		goto out;
	}
	n = amxrt_tokenize(tok, text, strlen(text), flags, NULL, 0, &needed);
	if (n == -ENOSPC) {
		ids = malloc((size_t)(needed ? needed : 1) * sizeof(*ids));
		if (!ids) {
			fprintf(stderr, "%s: out of memory\n", prog);
			goto out;
		}
		n = amxrt_tokenize(tok, text, strlen(text), flags, ids, needed,
				   NULL);
	}
	if (n < 0) {
		fprintf(stderr, "%s: %s\n", prog, amxrt_errmsg());
		goto out;
	}
	for (i = 0; i < n; i++)
		printf("%s%d", i ? " " : "", ids[i]);
	putchar('\n');
	for (i = 0; pieces && i < n; i++) {
		char buf[1024];
		int k = amxrt_token_piece(tok, ids[i], 1, buf, sizeof(buf));

		if (k < 0) {
			fprintf(stderr, "%s: %s\n", prog, amxrt_errmsg());
			goto out;
		}
		printf("%d\t", ids[i]);
		print_quoted(buf, k);
		putchar('\n');
	}
	if (fflush(stdout)) {
		fprintf(stderr, "%s: writing the output: %s\n", prog,
			strerror(errno));
		goto out;
	}
	ret = EXIT_OK;
out:
	free(ids);
	amxrt_tokenizer_free(tok);
	amxrt_gguf_close(g);
	return ret;
}
