// SPDX-License-Identifier: MIT
/*
 * Description: the tokenizers. llama.cpp's reference vectors (test-
 * tokenizer-0: every string of tests/data/vocab/NAME.inp against its line of
 * NAME.out, without BOS and without special-token parsing) for the
 * Llama-2 SentencePiece vocabulary and the Qwen2 and Llama-3 byte-level
 * BPE vocabularies; detokenizing gives the text back; the streaming
 * detokenizer holds an incomplete character; special tokens split out
 * only when asked; BOS/EOS per vocabulary; end-of-generation tokens;
 * -ENOSPC with the count needed; random bytes (invalid UTF-8) tokenize
 * and come back byte for byte; the amxrt-tokenize tool.
 *
 * Data: $AMXRT_SRCDIR (default ".") /models/vocab/... and
 * /tests/data/vocab/...; a missing file is a SKIP naming it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "helpers.h"
#include "tool_helpers.h"

#include <amxrt/amxrt.h>

#define SEP "\n__ggml_vocab_test__\n"

static void path_of(char *buf, size_t len, const char *rel)
{
	const char *src = getenv("AMXRT_SRCDIR");

	snprintf(buf, len, "%s/%s", src && *src ? src : ".", rel);
}

/* Open a GGUF and load its tokenizer; 0, or a reason in why. */
static int open_tok(const char *rel, struct amxrt_gguf **g,
		    struct amxrt_tokenizer **t, char *why, size_t len)
{
	char path[1024];
	int ret;

	path_of(path, sizeof(path), rel);
	*g = NULL;
	*t = NULL;
	if (access(path, R_OK)) {
		snprintf(why, len, "%s: %s", path, strerror(errno));
		return -1;
	}
	ret = amxrt_gguf_open(path, g);
	if (!ret)
		ret = amxrt_tokenizer_load(*g, t);
	if (ret)
		snprintf(why, len, "LOAD FAILED %s: %s", path, amxrt_errmsg());
	return ret;
}

#define OPEN(rel, g, t)                                          \
	do {                                                     \
		char why_[1200];                                 \
		if (open_tok(rel, &g, &t, why_, sizeof(why_))) { \
			if (!strncmp(why_, "LOAD FAILED", 11)) { \
				TH_LOG("%s", why_);              \
				ASSERT_TRUE(0);                  \
			}                                        \
			SKIP(return, "%.900s", why_);            \
		}                                                \
	} while (0)

static char *slurp_file(const char *rel, size_t *len)
{
	char path[1024];
	FILE *f;
	char *buf;
	long n;

	path_of(path, sizeof(path), rel);
	f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	if (buf) {
		buf[n] = '\0';
		*len = (size_t)n;
	}
	return buf;
}

/* Tokenize into a malloc'd array; returns the count or a negative errno. */
static int tok_all(const struct amxrt_tokenizer *t, const char *s, size_t len,
		   int flags, int32_t **ids)
{
	int needed = 0, n;

	*ids = NULL;
	n = amxrt_tokenize(t, s, len, flags, NULL, 0, &needed);
	if (n != -ENOSPC)
		return n;
	*ids = malloc((size_t)needed * sizeof(**ids));
	if (!*ids)
		return -ENOMEM;
	return amxrt_tokenize(t, s, len, flags, *ids, needed, NULL);
}

/* Concatenated pieces (streaming, leading SPM space stripped). */
static size_t detok_all(const struct amxrt_tokenizer *t, const int32_t *ids,
			int n, char *out, size_t cap)
{
	struct amxrt_detok d;
	size_t o = 0;
	int i, k;

	amxrt_detok_init(&d, t, 0, 1);
	for (i = 0; i < n; i++) {
		k = amxrt_detok_push(&d, ids[i], out + o, cap - o);
		if (k < 0)
			return (size_t)-1;
		o += (size_t)k;
	}
	k = amxrt_detok_flush(&d, out + o, cap - o);
	if (k < 0)
		return (size_t)-1;
	return o + (size_t)k;
}

/*
 * The reference check: returns the number of failing cases; *cases gets
 * the number of strings. Strings are the pieces of the .inp between
 * separators (the file ends with one), lines of the .out pair up in order.
 */
static int check_vectors(struct __test_metadata *_metadata,
			 const struct amxrt_tokenizer *t, const char *name,
			 int *cases, int *roundtrip_fail)
{
	char rel[256];
	size_t ilen, olen;
	char *inp, *outf, *ip, *op;
	int fails = 0;

	*cases = 0;
	*roundtrip_fail = 0;
	snprintf(rel, sizeof(rel), "tests/data/vocab/%s.inp", name);
	inp = slurp_file(rel, &ilen);
	snprintf(rel, sizeof(rel), "tests/data/vocab/%s.out", name);
	outf = slurp_file(rel, &olen);
	if (!inp || !outf) {
		TH_LOG("cannot read tests/data/vocab/%s.{inp,out}", name);
		free(inp);
		free(outf);
		return -1;
	}
	ip = inp;
	op = outf;
	for (;;) {
		char *sep = strstr(ip, SEP), *eol, *p;
		int32_t want[1024], *got;
		int nw = 0, ng, i, same;
		char back[8192];
		size_t blen;

		if (!sep)
			break;
		*sep = '\0';
		eol = strchr(op, '\n');
		if (!eol) {
			TH_LOG("%s: the .out has fewer lines than cases", name);
			fails++;
			break;
		}
		*eol = '\0';
		for (p = op; *p && nw < 1024;) {
			char *end;
			long v = strtol(p, &end, 10);

			if (end == p)
				break;
			want[nw++] = (int32_t)v;
			p = end;
		}
		ng = tok_all(t, ip, strlen(ip), 0, &got);
		same = ng == nw;
		for (i = 0; same && i < ng; i++)
			same = got[i] == want[i];
		if (!same) {
			char gs[4096] = "";
			size_t o = 0;

			for (i = 0; i < ng && o < sizeof(gs) - 16; i++)
				o += (size_t)snprintf(gs + o, sizeof(gs) - o,
						      "%s%d", i ? " " : "",
						      got[i]);
			TH_LOG("%s case %d \"%.60s\": expected [%s] got [%s]%s",
			       name, *cases, ip, op,
			       ng < 0 ? amxrt_errmsg() : gs,
			       ng < 0 ? " (error)" : "");
			fails++;
		}
		if (ng >= 0) {
			blen = detok_all(t, got, ng, back, sizeof(back));
			if (blen != strlen(ip) || memcmp(back, ip, blen)) {
				TH_LOG("%s case %d \"%.60s\": detokenized as \"%.60s\"",
				       name, *cases, ip,
				       blen == (size_t)-1 ? "(error)" : back);
				(*roundtrip_fail)++;
			}
		}
		free(got);
		(*cases)++;
		ip = sep + strlen(SEP);
		op = eol + 1;
	}
	if (*ip || *op) {
		TH_LOG("%s: trailing data after %d cases", name, *cases);
		fails++;
	}
	free(inp);
	free(outf);
	return fails;
}

static void vectors(struct __test_metadata *_metadata, const char *gguf,
		    const char *name)
{
	struct amxrt_gguf *g;
	struct amxrt_tokenizer *t;
	int cases, rt, fails;

	OPEN(gguf, g, t);
	fails = check_vectors(_metadata, t, name, &cases, &rt);
	TH_LOG("%s: %d cases, %d failed, %d not detokenized back", name, cases,
	       fails, rt);
	EXPECT_EQ(0, fails);
	EXPECT_EQ(46, cases);
	EXPECT_EQ(0, rt);
	amxrt_tokenizer_free(t);
	amxrt_gguf_close(g);
}

TEST(llama_spm_reference)
{
	vectors(_metadata, "models/vocab/ggml-vocab-llama-spm.gguf",
		"ggml-vocab-llama-spm.gguf");
}

TEST(qwen2_reference)
{
	vectors(_metadata, "models/vocab/recon-vocab-qwen2.gguf",
		"ggml-vocab-qwen2.gguf");
}

TEST(llama_bpe_reference)
{
	vectors(_metadata, "models/vocab/recon-vocab-llama-bpe.gguf",
		"ggml-vocab-llama-bpe.gguf");
}

TEST(stories_roundtrip)
{
	static const char *const texts[] = {
		"Once upon a time, there was a little girl named Lily.",
		"She liked to play outside. \"Look!\" said Tom.\nThe end.",
		"  two leading spaces, ünïcödé and 🦙 bytes",
		"",
	};
	struct amxrt_gguf *g;
	struct amxrt_tokenizer *t;
	size_t i;

	OPEN("models/stories260K.gguf", g, t);
	ASSERT_EQ(512, amxrt_tokenizer_n_vocab(t));
	ASSERT_STREQ("llama", amxrt_tokenizer_model(t));
	ASSERT_EQ(1, amxrt_token_bos(t));
	ASSERT_EQ(2, amxrt_token_eos(t));
	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		char back[1024];
		int32_t *ids;
		int n = tok_all(t, texts[i], strlen(texts[i]),
				AMXRT_TOK_ADD_SPECIAL, &ids);
		size_t blen;

		ASSERT_LE(1, n);
		EXPECT_EQ(1, ids[0]);
		if (strlen(texts[i]) > 20)
			EXPECT_GT((int)strlen(texts[i]), n);
		blen = detok_all(t, ids, n, back, sizeof(back));
		ASSERT_NE((size_t)-1, blen);
		back[blen] = '\0';
		EXPECT_STREQ(texts[i], back);
		free(ids);
	}
	amxrt_tokenizer_free(t);
	amxrt_gguf_close(g);
}

TEST(stream_holds_partial_utf8)
{
	const char *llama = "\xf0\x9f\xa6\x99"; /* U+1F999, 4 bytes */
	struct amxrt_gguf *g;
	struct amxrt_tokenizer *t;
	struct amxrt_detok d;
	int32_t ids[8];
	char out[64];
	int n, i;

	OPEN("models/vocab/ggml-vocab-llama-spm.gguf", g, t);
	n = amxrt_tokenize(t, llama, 4, 0, ids, 8, NULL);
	/* "▁" then one byte token per byte: 29871 243 162 169 156 */
	ASSERT_EQ(5, n);
	for (i = 1; i < 5; i++)
		ASSERT_EQ(AMXRT_TOKEN_BYTE, amxrt_token_type(t, ids[i]));
	amxrt_detok_init(&d, t, 0, 1);
	ASSERT_EQ(0, amxrt_detok_push(&d, ids[0], out, sizeof(out)));
	for (i = 1; i < 4; i++) {
		memset(out, 'x', sizeof(out));
		ASSERT_EQ(0, amxrt_detok_push(&d, ids[i], out, sizeof(out)));
		EXPECT_EQ('\0', out[0]);
	}
	/* too small: refused, nothing lost */
	ASSERT_EQ(-ENOSPC, amxrt_detok_push(&d, ids[4], out, 4));
	ASSERT_EQ(3, d.n_held);
	ASSERT_EQ(4, amxrt_detok_push(&d, ids[4], out, sizeof(out)));
	EXPECT_STREQ(llama, out);
	ASSERT_EQ(0, amxrt_detok_flush(&d, out, sizeof(out)));

	/* a cut-off character comes out as U+FFFD at flush */
	amxrt_detok_init(&d, t, 0, 0);
	ASSERT_EQ(0, amxrt_detok_push(&d, ids[1], out, sizeof(out)));
	ASSERT_EQ(0, amxrt_detok_push(&d, ids[2], out, sizeof(out)));
	ASSERT_EQ(3, amxrt_detok_flush(&d, out, sizeof(out)));
	EXPECT_STREQ("\xef\xbf\xbd", out);
	/* a stray continuation byte is U+FFFD at once */
	ASSERT_EQ(3, amxrt_detok_push(&d, ids[3], out, sizeof(out)));
	EXPECT_STREQ("\xef\xbf\xbd", out);
	amxrt_tokenizer_free(t);
	amxrt_gguf_close(g);
}

TEST(parse_special_qwen2)
{
	const char *s = "<|im_start|>user\nhi<|im_end|>";
	struct amxrt_gguf *g;
	struct amxrt_tokenizer *t;
	int32_t ids[32], start, end, user;
	char piece[64];
	int n;

	OPEN("models/vocab/recon-vocab-qwen2.gguf", g, t);
	start = amxrt_token_find(t, "<|im_start|>");
	end = amxrt_token_find(t, "<|im_end|>");
	user = amxrt_token_find(t, "user");
	ASSERT_LE(0, start);
	ASSERT_LE(0, end);
	ASSERT_LE(0, user);
	ASSERT_EQ(AMXRT_TOKEN_CONTROL, amxrt_token_type(t, start));
	n = amxrt_tokenize(t, s, strlen(s), AMXRT_TOK_PARSE_SPECIAL, ids, 32,
			   NULL);
	ASSERT_LE(4, n);
	EXPECT_EQ(start, ids[0]);
	EXPECT_EQ(user, ids[1]);
	EXPECT_EQ(end, ids[n - 1]);
	/* without the flag, it is text */
	n = amxrt_tokenize(t, s, strlen(s), 0, ids, 32, NULL);
	ASSERT_LT(4, n);
	EXPECT_NE(start, ids[0]);
	/* control pieces are empty unless asked for */
	EXPECT_EQ(0, amxrt_token_piece(t, start, 0, piece, sizeof(piece)));
	EXPECT_EQ(12, amxrt_token_piece(t, start, 1, piece, sizeof(piece)));
	EXPECT_STREQ("<|im_start|>", piece);
	amxrt_tokenizer_free(t);
	amxrt_gguf_close(g);
}

TEST(bos_eos_and_eog)
{
	static const struct {
		const char *file;
		int bos_added; /* first id with ADD_SPECIAL, -1 none */
		const char *eog[3];
	} v[] = {
		{ "models/vocab/ggml-vocab-llama-spm.gguf", 1, { "</s>" } },
		{ "models/vocab/recon-vocab-qwen2.gguf",
		  -1,
		  { "<|im_end|>", "<|endoftext|>" } },
		{ "models/vocab/recon-vocab-llama-bpe.gguf",
		  128000,
		  { "<|end_of_text|>", "<|eot_id|>" } },
	};
	size_t i, k;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct amxrt_gguf *g;
		struct amxrt_tokenizer *t;
		int32_t a[16], b[16], hello;
		int na, nb;

		OPEN(v[i].file, g, t);
		na = amxrt_tokenize(t, "Hello", 5, AMXRT_TOK_ADD_SPECIAL, a, 16,
				    NULL);
		nb = amxrt_tokenize(t, "Hello", 5, 0, b, 16, NULL);
		ASSERT_LE(1, nb);
		if (v[i].bos_added >= 0) {
			ASSERT_EQ(nb + 1, na);
			EXPECT_EQ(v[i].bos_added, a[0]);
			EXPECT_EQ(v[i].bos_added, amxrt_token_bos(t));
			EXPECT_EQ(0, memcmp(a + 1, b, nb * sizeof(*b)));
			/* empty text: just BOS */
			EXPECT_EQ(1, amxrt_tokenize(t, "", 0,
						    AMXRT_TOK_ADD_SPECIAL, a,
						    16, NULL));
		} else {
			ASSERT_EQ(nb, na);
			EXPECT_EQ(0, memcmp(a, b, nb * sizeof(*b)));
		}
		EXPECT_EQ(0, amxrt_tokenize(t, "", 0, 0, a, 16, NULL));
		for (k = 0; k < 3 && v[i].eog[k]; k++) {
			int32_t id = amxrt_token_find(t, v[i].eog[k]);

			ASSERT_LE(0, id);
			EXPECT_TRUE(amxrt_token_is_eog(t, id));
		}
		EXPECT_TRUE(amxrt_token_is_eog(t, amxrt_token_eos(t)));
		hello = b[0];
		EXPECT_FALSE(amxrt_token_is_eog(t, hello));
		EXPECT_FALSE(amxrt_token_is_eog(t, -1));
		EXPECT_EQ(NULL,
			  amxrt_token_text(t, amxrt_tokenizer_n_vocab(t)));
		EXPECT_EQ(-1, amxrt_token_find(t, "no such token \x01"));
		amxrt_tokenizer_free(t);
		amxrt_gguf_close(g);
	}
}

TEST(enospc_reports_needed)
{
	const char *s = "The quick brown fox jumps over the lazy dog.";
	struct amxrt_gguf *g;
	struct amxrt_tokenizer *t;
	int32_t ids[64];
	int n, needed = -1;
	char small[2];

	OPEN("models/vocab/ggml-vocab-llama-spm.gguf", g, t);
	n = amxrt_tokenize(t, s, strlen(s), AMXRT_TOK_ADD_SPECIAL, ids, 64,
			   NULL);
	ASSERT_LT(5, n);
	ASSERT_EQ(-ENOSPC,
		  amxrt_tokenize(t, s, strlen(s), AMXRT_TOK_ADD_SPECIAL, ids,
				 n - 1, &needed));
	EXPECT_EQ(n, needed);
	needed = -1;
	ASSERT_EQ(-ENOSPC,
		  amxrt_tokenize(t, s, strlen(s), 0, NULL, 0, &needed));
	EXPECT_EQ(n - 1, needed);
	EXPECT_NE(NULL, strstr(amxrt_errmsg(), "do not fit"));
	ASSERT_EQ(n, amxrt_tokenize(t, s, strlen(s), AMXRT_TOK_ADD_SPECIAL, ids,
				    n, NULL));
	/* pieces too */
	EXPECT_EQ(-ENOSPC, amxrt_token_piece(t, ids[1], 0, small, 2));
	EXPECT_EQ(-EINVAL, amxrt_token_piece(t, -1, 0, small, 2));
	EXPECT_EQ(-EINVAL, amxrt_tokenize(t, s, 3, 0x40, ids, 64, NULL));
	amxrt_tokenizer_free(t);
	amxrt_gguf_close(g);
}

/* Random text: code points from several scripts, or raw random bytes. */
static size_t random_text(char *text, size_t cap, int raw)
{
	size_t len = 0, want = test_rand() % (cap - 4);

	while (len < want) {
		uint64_t r = test_rand();
		uint32_t cp;

		if (raw) {
			/* mix ASCII, spaces, lead and continuation bytes */
			text[len++] = (char)(r % 4 == 0 ? ' ' :
					     r % 4 == 1 ? 'a' + (r >> 8) % 26 :
							  (r >> 8) & 0xff);
			continue;
		}
		switch (r % 6) {
		case 0:
			cp = ' ';
			break;
		case 1:
			cp = 0x20 + (r >> 8) % 0x5f;
			break;
		case 2:
			cp = 0xa0 + (r >> 8) % 0x700;
			break;
		case 3:
			cp = 0x4e00 + (r >> 8) % 0x5000;
			break;
		case 4:
			cp = 0x1f300 + (r >> 8) % 0x300;
			break;
		default:
			cp = "\n\t\r'"[(r >> 8) % 4];
			break;
		}
		if (cp < 0x80) {
			text[len++] = (char)cp;
		} else if (cp < 0x800) {
			text[len++] = (char)(0xc0 | cp >> 6);
			text[len++] = (char)(0x80 | (cp & 0x3f));
		} else if (cp < 0x10000) {
			text[len++] = (char)(0xe0 | cp >> 12);
			text[len++] = (char)(0x80 | ((cp >> 6) & 0x3f));
			text[len++] = (char)(0x80 | (cp & 0x3f));
		} else {
			text[len++] = (char)(0xf0 | cp >> 18);
			text[len++] = (char)(0x80 | ((cp >> 12) & 0x3f));
			text[len++] = (char)(0x80 | ((cp >> 6) & 0x3f));
			text[len++] = (char)(0x80 | (cp & 0x3f));
		}
	}
	return len;
}

/*
 * Random valid UTF-8 comes back byte for byte from the pieces in every
 * vocabulary; random bytes (mostly invalid UTF-8) tokenize without harm
 * and come back byte for byte from byte-level BPE. (SPM escapes spaces
 * before splitting characters, so a stray lead byte before a space takes
 * bytes of the "▁" with it, as in llama.cpp: no round trip there.)
 */
TEST(random_text_round_trips)
{
	static const char *const files[] = {
		"models/vocab/ggml-vocab-llama-spm.gguf",
		"models/vocab/recon-vocab-qwen2.gguf",
		"models/vocab/recon-vocab-llama-bpe.gguf",
	};
	size_t f;

	test_seed();
	for (f = 0; f < 3; f++) {
		struct amxrt_gguf *g;
		struct amxrt_tokenizer *t;
		int spm, iter;

		OPEN(files[f], g, t);
		spm = !strcmp(amxrt_tokenizer_model(t), "llama");
		for (iter = 0; iter < 300; iter++) {
			char text[128], back[2048];
			int raw = iter & 1;
			size_t len = random_text(text, sizeof(text), raw),
			       o = 0;
			int32_t *ids;
			int n, k;

			n = tok_all(t, text, len, AMXRT_TOK_PARSE_SPECIAL,
				    &ids);
			ASSERT_LE(0, n);
			for (k = 0; k < n; k++) {
				int m = amxrt_token_piece(t, ids[k], 0,
							  back + o,
							  sizeof(back) - o);
				ASSERT_LE(0, m);
				o += (size_t)m;
			}
			free(ids);
			if (spm && raw)
				continue;
			/* SPM puts a space in front */
			if (spm && len) {
				ASSERT_LE(1, o);
				ASSERT_EQ(' ', back[0]);
				memmove(back, back + 1, --o);
			}
			if (o != len || memcmp(back, text, len)) {
				TH_LOG("%s: iteration %d (%zu bytes%s) came back as %zu bytes",
				       files[f], iter, len, raw ? ", raw" : "",
				       o);
				ASSERT_TRUE(0);
			}
		}
		amxrt_tokenizer_free(t);
		amxrt_gguf_close(g);
	}
}

/* ---- synthetic vocabularies ------------------------------------------ */

struct synth {
	const char *model, *pre;
	const char *const *tokens;
	int n_tokens;
	const char *const *merges;
	int n_merges;
	int n_scores; /* -1: none */
	int64_t bos;
};

/* Write a vocabulary-only GGUF and load it; returns amxrt_tokenizer_load's
 * value (or -1 if writing failed). */
static int synth_load(const struct synth *s, struct amxrt_gguf **g,
		      struct amxrt_tokenizer **t)
{
	char path[] = "/tmp/amxrt-tok-XXXXXX";
	struct amxrt_gguf_writer *w;
	float scores[64] = { 0 };
	int fd, ret;

	*g = NULL;
	*t = NULL;
	fd = mkstemp(path);
	if (fd < 0)
		return -1;
	close(fd);
	if (amxrt_gguf_writer_new(&w))
		return -1;
	if (s->model)
		amxrt_gguf_set_str(w, "tokenizer.ggml.model", s->model);
	if (s->pre)
		amxrt_gguf_set_str(w, "tokenizer.ggml.pre", s->pre);
	if (s->n_tokens)
		amxrt_gguf_set_arr_str(w, "tokenizer.ggml.tokens",
				       (const char *const *)s->tokens, NULL,
				       (uint64_t)s->n_tokens);
	if (s->n_merges)
		amxrt_gguf_set_arr_str(w, "tokenizer.ggml.merges",
				       (const char *const *)s->merges, NULL,
				       (uint64_t)s->n_merges);
	if (s->n_scores >= 0)
		amxrt_gguf_set_arr(w, "tokenizer.ggml.scores",
				   AMXRT_GGUF_FLOAT32, scores,
				   (uint64_t)s->n_scores);
	if (s->bos)
		amxrt_gguf_set_u32(w, "tokenizer.ggml.bos_token_id",
				   (uint32_t)s->bos);
	ret = amxrt_gguf_write(w, path);
	amxrt_gguf_writer_free(w);
	if (!ret)
		ret = amxrt_gguf_open(path, g);
	unlink(path);
	if (ret)
		return -1;
	return amxrt_tokenizer_load(*g, t);
}

static const char *const abc[] = { "a", "b", "c", "ab", "bc", "abc" };

TEST(bpe_merges_by_rank)
{
	static const char *const m1[] = { "b c", "a b", "ab c" };
	static const char *const m2[] = { "a b", "b c", "ab c" };
	struct synth s = { "gpt2", "qwen2", abc, 6, m1, 3, -1, 0 };
	struct amxrt_gguf *g;
	struct amxrt_tokenizer *t;
	int32_t ids[8];

	/* "b c" first: a + bc, and "a bc" is no merge */
	ASSERT_EQ(0, synth_load(&s, &g, &t));
	ASSERT_EQ(2, amxrt_tokenize(t, "abc", 3, 0, ids, 8, NULL));
	EXPECT_EQ(0, ids[0]);
	EXPECT_EQ(4, ids[1]);
	/* no BOS id: none added */
	ASSERT_EQ(2, amxrt_tokenize(t, "abc", 3, AMXRT_TOK_ADD_SPECIAL, ids, 8,
				    NULL));
	EXPECT_EQ(-1, amxrt_token_bos(t));
	amxrt_tokenizer_free(t);
	amxrt_gguf_close(g);

	/* "a b" first, then "ab c" */
	s.merges = m2;
	ASSERT_EQ(0, synth_load(&s, &g, &t));
	ASSERT_EQ(1, amxrt_tokenize(t, "abc", 3, 0, ids, 8, NULL));
	EXPECT_EQ(5, ids[0]);
	/* a character not in the vocabulary is dropped, as in llama.cpp */
	ASSERT_EQ(2, amxrt_tokenize(t, "abdc", 4, 0, ids, 8, NULL));
	EXPECT_EQ(3, ids[0]);
	EXPECT_EQ(2, ids[1]);
	amxrt_tokenizer_free(t);
	amxrt_gguf_close(g);
}

TEST(load_refuses_bad_metadata)
{
	static const char *const m[] = { "a b" };
	static const struct {
		struct synth s;
		int err;
		const char *msg;
	} v[] = {
		{ { "bert", NULL, abc, 6, NULL, 0, -1, 0 },
		  -EINVAL,
		  "\"bert\" is not supported" },
		{ { NULL, NULL, abc, 6, NULL, 0, -1, 0 },
		  -ENOENT,
		  "tokenizer.ggml.model is missing" },
		{ { "llama", NULL, NULL, 0, NULL, 0, -1, 0 },
		  -ENOENT,
		  "tokenizer.ggml.tokens is missing" },
		{ { "llama", NULL, abc, 6, NULL, 0, 5, 0 },
		  -EINVAL,
		  "tokenizer.ggml.scores must be 6" },
		{ { "gpt2", "qwen2", abc, 6, NULL, 0, -1, 0 },
		  -EINVAL,
		  "needs tokenizer.ggml.merges" },
		{ { "gpt2", "mystery", abc, 6, m, 1, -1, 0 },
		  -EINVAL,
		  "\"mystery\" is not supported" },
		{ { "gpt2", "qwen2", abc, 6, abc, 1, -1, 0 },
		  -EINVAL,
		  "has no space" },
	};
	size_t i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct amxrt_gguf *g;
		struct amxrt_tokenizer *t = (void *)1;
		int ret = synth_load(&v[i].s, &g, &t);

		TH_LOG("case %zu: %d %s", i, ret, amxrt_errmsg());
		EXPECT_EQ(v[i].err, ret);
		EXPECT_EQ(NULL, t);
		EXPECT_NE(NULL, strstr(amxrt_errmsg(), v[i].msg));
		amxrt_gguf_close(g);
	}
}

TEST(spm_ids_out_of_range_are_none)
{
	struct synth s = { "llama", NULL, abc, 6, NULL, 0, 6, 99 };
	struct amxrt_gguf *g;
	struct amxrt_tokenizer *t;
	int32_t ids[8];
	int n;

	ASSERT_EQ(0, synth_load(&s, &g, &t));
	EXPECT_EQ(-1, amxrt_token_bos(t));
	EXPECT_EQ(2, amxrt_token_eos(t)); /* the SPM default */
	/* no "▁" token and no byte tokens: UNK (id 0) for each byte */
	n = amxrt_tokenize(t, "ab", 2, AMXRT_TOK_ADD_SPECIAL, ids, 8, NULL);
	ASSERT_EQ(4, n);
	EXPECT_EQ(0, ids[0]);
	EXPECT_EQ(3, ids[3]);
	amxrt_tokenizer_free(t);
	amxrt_gguf_close(g);
}

/* ---- the tool -------------------------------------------------------- */

TEST(tokenize_tool)
{
	char why[1200], model[1024], args[4096];
	static struct run r;

	if (find_tool("amxrt-tokenize", why, sizeof(why)))
		SKIP(return, "%.900s", why);
	path_of(model, sizeof(model), "models/vocab/ggml-vocab-llama-spm.gguf");
	if (access(model, R_OK))
		SKIP(return, "%.900s: %s", model, strerror(errno));

	/* llama.cpp: " Hello World!" -> 1 15043 2787 29991 */
	snprintf(args, sizeof(args), "-m '%s' -p ' Hello World!'", model);
	run_tool(&r, "", args);
	ASSERT_EQ(0, r.status);
	EXPECT_STREQ("1 29871 15043 2787 29991\n", r.out);
	snprintf(args, sizeof(args), "-m '%s' -p 'Hello World!' --no-bos",
		 model);
	run_tool(&r, "", args);
	ASSERT_EQ(0, r.status);
	EXPECT_STREQ("15043 2787 29991\n", r.out);
	snprintf(args, sizeof(args), "-m '%s' -p 'a</s>' --special --pieces",
		 model);
	run_tool(&r, "", args);
	ASSERT_EQ(0, r.status);
	TH_LOG("%s", r.out);
	EXPECT_EQ(4, lines(r.out));
	EXPECT_NE(NULL, strstr(r.out, "\n2\t\"</s>\"\n"));
	EXPECT_NE(NULL, strstr(r.out, "\n1\t\"<s>\"\n"));

	/* errors: one line on stderr, non-zero status */
	run_tool(&r, "", "-m /nonexistent.gguf -p hi");
	EXPECT_EQ(1, r.status);
	EXPECT_EQ(1, lines(r.err));
	EXPECT_STREQ("", r.out);
	snprintf(args, sizeof(args), "-m '%s'", model);
	run_tool(&r, "", args);
	EXPECT_EQ(2, r.status);
	EXPECT_EQ(1, lines(r.err));
	run_tool(&r, "", "--bogus");
	EXPECT_EQ(2, r.status);
	run_tool(&r, "", "--help");
	EXPECT_EQ(0, r.status);
	EXPECT_NE(NULL, strstr(r.out, "--pieces"));
}

TEST_HARNESS_MAIN
