// SPDX-License-Identifier: MIT
/*
 * merges.c - the queue of candidate merges both tokenizer families work
 * from (spm.c by score, bpe.c by rank): a binary heap, smallest key
 * first, the leftmost pair first on equal keys.
 */
#include <errno.h>
#include <stdlib.h>

#include "tok.h"

static int before(const struct amxrt_tok_merge *a,
		  const struct amxrt_tok_merge *b)
{
	return a->key < b->key || (a->key == b->key && a->left < b->left);
}

int amxrt_tok_merges_push(struct amxrt_tok_merges *q, struct amxrt_tok_merge m)
{
	size_t i;

	if (q->n == q->cap) {
		size_t cap = q->cap ? q->cap * 2 : 64;
		struct amxrt_tok_merge *v = realloc(q->v, cap * sizeof(*v));

		if (!v)
			return amxrt_err(ENOMEM, "tokenizer: out of memory");
		q->v = v;
		q->cap = cap;
	}
	i = q->n++;
	while (i && before(&m, &q->v[(i - 1) / 2])) {
		q->v[i] = q->v[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	q->v[i] = m;
	return 0;
}

struct amxrt_tok_merge amxrt_tok_merges_pop(struct amxrt_tok_merges *q)
{
	struct amxrt_tok_merge top = q->v[0], last = q->v[--q->n];
	size_t i = 0;

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= q->n)
			break;
		if (c + 1 < q->n && before(&q->v[c + 1], &q->v[c]))
			c++;
		if (!before(&q->v[c], &last))
			break;
		q->v[i] = q->v[c];
		i = c;
	}
	if (q->n)
		q->v[i] = last;
	return top;
}
