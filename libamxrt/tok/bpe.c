// SPDX-License-Identifier: MIT
/*
 * bpe.c - byte-level BPE ("gpt2"): the GPT-2 byte <-> code point mapping,
 * and merging each pre-token by merge rank, lowest rank (then leftmost)
 * first, as llama.cpp's llm_tokenizer_bpe_session does.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tok.h"

/* Bytes that stand for themselves: '!'..'~', 0xA1..0xAC, 0xAE..0xFF. */
static int byte_is_printable(unsigned b)
{
	return (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) ||
	       (b >= 0xae && b <= 0xff);
}

static uint32_t byte_cp(unsigned char b)
{
	unsigned n = 0, i;

	if (byte_is_printable(b))
		return b;
	for (i = 0; i < b; i++)
		n += !byte_is_printable(i);
	return 256 + n;
}

int amxrt_tok_byte_to_utf8(unsigned char b, char out[2])
{
	uint32_t cp = byte_cp(b);

	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	out[0] = (char)(0xc0 | (cp >> 6));
	out[1] = (char)(0x80 | (cp & 0x3f));
	return 2;
}

int amxrt_tok_cp_to_byte(uint32_t cp)
{
	unsigned b, n = 0;

	if (cp < 256)
		return byte_is_printable(cp) ? (int)cp : -1;
	if (cp >= 256 + 68)
		return -1;
	for (b = 0; b < 256; b++)
		if (!byte_is_printable(b) && 256 + n++ == cp)
			return (int)b;
	return -1;
}

struct sym {
	uint32_t off, n; /* in the encoded word; n == 0 once merged away */
	int32_t id; /* token of the text, or -1 */
	int prev, next;
};

struct word {
	const struct amxrt_tokenizer *t;
	struct amxrt_tok_ids *out;
	const char *text; /* raw text */
	char *enc; /* byte-level encoded pre-token */
	size_t enc_cap;
	struct sym *sym;
	size_t sym_cap;
	struct amxrt_tok_merges queue;
};

static int add_bigram(struct word *w, int left, int right)
{
	struct amxrt_tok_merge b;
	int32_t rank;

	if (left < 0 || right < 0)
		return 0;
	rank = amxrt_tok_merge_rank(w->t, w->sym[left].id, w->sym[right].id);
	if (rank < 0)
		return 0;
	b.left = left;
	b.right = right;
	b.key = rank;
	b.size = w->sym[left].n + w->sym[right].n;
	return amxrt_tok_merges_push(&w->queue, b);
}

static int emit(struct word *w, const struct sym *s)
{
	uint32_t i;
	int ret;

	if (s->id >= 0)
		return amxrt_tok_push(w->out, s->id);
	/* not in the vocabulary: its single characters that are */
	for (i = 0; i < s->n; i++) {
		int32_t id = amxrt_tok_lookup(w->t, w->enc + s->off + i, 1);

		if (id >= 0 && (ret = amxrt_tok_push(w->out, id)))
			return ret;
	}
	return 0;
}

static int merge_word(struct word *w, size_t len)
{
	const struct amxrt_tokenizer *t = w->t;
	size_t pos, n = 0;
	int i, ret;

	if (t->ignore_merges) {
		int32_t id = amxrt_tok_lookup(t, w->enc, len);

		if (id >= 0)
			return amxrt_tok_push(w->out, id);
	}
	if (len > w->sym_cap) {
		free(w->sym);
		w->sym_cap = len * 2;
		w->sym = malloc(w->sym_cap * sizeof(*w->sym));
		if (!w->sym)
			return amxrt_err(ENOMEM, "tokenizer: out of memory");
	}
	for (pos = 0; pos < len; n++) {
		size_t cl = amxrt_tok_utf8_len((unsigned char)w->enc[pos]);
		struct sym *s = &w->sym[n];

		if (cl > len - pos)
			cl = len - pos;
		s->off = (uint32_t)pos;
		s->n = (uint32_t)cl;
		s->id = amxrt_tok_lookup(t, w->enc + pos, cl);
		s->prev = (int)n - 1;
		s->next = pos + cl < len ? (int)n + 1 : -1;
		pos += cl;
	}
	w->queue.n = 0;
	for (i = 1; i < (int)n; i++)
		if ((ret = add_bigram(w, i - 1, i)))
			return ret;
	while (w->queue.n) {
		struct amxrt_tok_merge b = amxrt_tok_merges_pop(&w->queue);
		struct sym *l = &w->sym[b.left], *r = &w->sym[b.right];

		if (!l->n || !r->n || l->next != b.right ||
		    l->n + r->n != b.size)
			continue; /* outdated */
		l->n += r->n;
		l->id = amxrt_tok_lookup(t, w->enc + l->off, l->n);
		r->n = 0;
		l->next = r->next;
		if (r->next >= 0)
			w->sym[r->next].prev = b.left;
		if ((ret = add_bigram(w, l->prev, b.left)) ||
		    (ret = add_bigram(w, b.left, l->next)))
			return ret;
	}
	for (i = 0; i >= 0 && n; i = w->sym[i].next)
		if ((ret = emit(w, &w->sym[i])))
			return ret;
	return 0;
}

static int on_pretoken(void *ctx, size_t off, size_t n)
{
	struct word *w = ctx;
	size_t i, len = 0;

	if (!n)
		return 0;
	if (n * 2 > w->enc_cap) {
		free(w->enc);
		w->enc_cap = n * 4;
		w->enc = malloc(w->enc_cap);
		if (!w->enc)
			return amxrt_err(ENOMEM, "tokenizer: out of memory");
	}
	for (i = 0; i < n; i++)
		len += (size_t)amxrt_tok_byte_to_utf8(
			(unsigned char)w->text[off + i], w->enc + len);
	return merge_word(w, len);
}

int amxrt_tok_bpe(const struct amxrt_tokenizer *t, const char *text, size_t len,
		  struct amxrt_tok_ids *out)
{
	struct word w = { .t = t, .out = out, .text = text };
	int ret;

	ret = amxrt_tok_pretok_split(t->pretok, text, len, on_pretoken, &w);
	free(w.enc);
	free(w.sym);
	free(w.queue.v);
	return ret < 0 ? ret : 0;
}
