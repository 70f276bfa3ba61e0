// SPDX-License-Identifier: MIT
/*
 * spm.c - SentencePiece-style tokenization ("llama"): start from single
 * UTF-8 characters, repeatedly merge the adjacent pair whose union is the
 * vocabulary entry with the highest score (leftmost on ties), then emit
 * each piece, splitting pieces missing from the vocabulary back along
 * their merges and falling back to <0xXX> byte tokens, as llama.cpp's
 * llm_tokenizer_spm_session does.
 */
#include <errno.h>
#include <stdlib.h>

#include "tok.h"

struct sym {
	size_t off, n; /* n == 0 once merged into its left neighbour */
	int prev, next;
};

struct spm {
	const struct amxrt_tokenizer *t;
	const char *text;
	struct sym *sym;
	struct amxrt_tok_merges queue;
	struct amxrt_tok_ids *out;
};

static int add_bigram(struct spm *s, int left, int right)
{
	struct amxrt_tok_merge b;
	int32_t id;

	if (left < 0 || right < 0)
		return 0;
	b.size = s->sym[left].n + s->sym[right].n;
	id = amxrt_tok_lookup(s->t, s->text + s->sym[left].off, b.size);
	if (id < 0)
		return 0;
	b.left = left;
	b.right = right;
	b.key = -(double)s->t->score[id];
	return amxrt_tok_merges_push(&s->queue, b);
}

/*
 * Emit a final symbol: its token (a merged symbol always has one: merges
 * only make vocabulary entries), else its bytes as byte tokens.
 */
static int emit(struct spm *s, const struct sym *y)
{
	const struct amxrt_tokenizer *t = s->t;
	int32_t id = amxrt_tok_lookup(t, s->text + y->off, y->n);
	size_t i;
	int ret;

	if (id >= 0)
		return amxrt_tok_push(s->out, id);
	for (i = 0; i < y->n; i++) {
		id = t->byte_tok[(unsigned char)s->text[y->off + i]];
		if (id < 0)
			id = t->unk;
		if (id >= 0 && (ret = amxrt_tok_push(s->out, id)))
			return ret;
	}
	return 0;
}

int amxrt_tok_spm(const struct amxrt_tokenizer *t, const char *text, size_t len,
		  struct amxrt_tok_ids *out)
{
	struct spm s = { .t = t, .text = text, .out = out };
	size_t pos;
	int i, n = 0, ret = 0;

	if (!len)
		return 0;
	if (len > INT32_MAX / 2)
		return amxrt_err(EINVAL, "tokenizer: text is too long");
	s.sym = malloc(len * sizeof(*s.sym));
	if (!s.sym)
		return amxrt_err(ENOMEM, "tokenizer: out of memory");
	for (pos = 0; pos < len; n++) {
		size_t cl = amxrt_tok_utf8_len((unsigned char)text[pos]);

		if (cl > len - pos)
			cl = len - pos;
		s.sym[n].off = pos;
		s.sym[n].n = cl;
		s.sym[n].prev = n - 1;
		s.sym[n].next = pos + cl < len ? n + 1 : -1;
		pos += cl;
	}
	for (i = 1; i < n && !ret; i++)
		ret = add_bigram(&s, i - 1, i);
	while (!ret && s.queue.n) {
		struct amxrt_tok_merge b = amxrt_tok_merges_pop(&s.queue);
		struct sym *l = &s.sym[b.left], *r = &s.sym[b.right];

		if (!l->n || !r->n || l->n + r->n != b.size)
			continue; /* outdated */
		l->n += r->n;
		r->n = 0;
		l->next = r->next;
		if (r->next >= 0)
			s.sym[r->next].prev = b.left;
		ret = add_bigram(&s, l->prev, b.left);
		if (!ret)
			ret = add_bigram(&s, b.left, l->next);
	}
	for (i = 0; !ret && i >= 0; i = s.sym[i].next)
		ret = emit(&s, &s.sym[i]);
	free(s.queue.v);
	free(s.sym);
	return ret;
}
