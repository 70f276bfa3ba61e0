// SPDX-License-Identifier: MIT
/*
 * vocab.c - the vocabulary from GGUF metadata: token texts, scores, types,
 * BPE merges, special-token ids and the BOS/EOS rules; lookups by text and
 * by merge pair; the public getters.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/mem.h"
#include "../gguf/gguf_int.h"
#include "tok.h"

#define MAX_VOCAB (1 << 24)

int amxrt_tok_push(struct amxrt_tok_ids *ids, int32_t id)
{
	if (ids->n == ids->cap) {
		size_t cap = ids->cap ? ids->cap * 2 : 64;
		int32_t *v = realloc(ids->v, cap * sizeof(*v));

		if (!v)
			return amxrt_err(ENOMEM, "tokenizer: out of memory");
		ids->v = v;
		ids->cap = cap;
	}
	ids->v[ids->n++] = id;
	return 0;
}

static uint64_t hash_bytes(const char *s, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= 0x100000001b3ULL;
	}
	return h ^ (h >> 29);
}

static uint64_t hash_pair(uint64_t k)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdULL;
	k ^= k >> 33;
	k *= 0xc4ceb9fe1a85ec53ULL;
	return k ^ (k >> 33);
}

/*
 * Where text s (len bytes, hash slot i) sits in the vocabulary: its id, or
 * -1. The loaders compute slots ahead (to prefetch them) and start here.
 */
static int32_t lookup_at(const struct amxrt_tokenizer *t, uint32_t i,
			 const char *s, size_t len)
{
	for (;; i = (i + 1) & t->hash_mask) {
		int32_t id = t->hash[i];

		if (id < 0)
			return -1;
		if (t->len[id] == len && !memcmp(t->arena + t->off[id], s, len))
			return id;
	}
}

int32_t amxrt_tok_lookup(const struct amxrt_tokenizer *t, const char *s,
			 size_t len)
{
	return lookup_at(t, (uint32_t)hash_bytes(s, len) & t->hash_mask, s,
			 len);
}

int32_t amxrt_tok_merge_rank(const struct amxrt_tokenizer *t, int32_t left,
			     int32_t right)
{
	uint64_t key = (uint64_t)(uint32_t)left << 32 | (uint32_t)right;
	uint64_t i;

	if (!t->n_merges || left < 0 || right < 0)
		return -1;
	for (i = hash_pair(key) & t->merge_mask;; i = (i + 1) & t->merge_mask) {
		if (t->merge_key[i] == key)
			return t->merge_rank[i];
		if (t->merge_key[i] == ~0ULL)
			return -1;
	}
}

static uint64_t pow2_above(uint64_t n)
{
	uint64_t p = 64;

	while (p < 2 * n)
		p <<= 1;
	return p;
}

/*
 * Tables of a large vocabulary (151936 Qwen tokens, as many merges) are
 * megabytes, and each insert or lookup lands on a line not in cache: they
 * are built BATCH entries at a time, every entry's line asked for
 * (prefetched) in one pass before any is used in the next, so the misses
 * overlap instead of following one another. The order of inserts, and so
 * which of two equal entries wins, is the sequential one.
 */
#define BATCH 16

int amxrt_tok_index(struct amxrt_tokenizer *t)
{
	uint64_t size = pow2_above((uint64_t)t->n_vocab);
	uint32_t slot[BATCH];
	int32_t id0, id, nb;

	t->hash = amxrt_alloc_huge(size * sizeof(*t->hash), 0);
	if (!t->hash)
		return amxrt_err(ENOMEM, "tokenizer: out of memory");
	memset(t->hash, 0xff, size * sizeof(*t->hash));
	t->hash_mask = (uint32_t)(size - 1);
	for (id0 = 0; id0 < t->n_vocab; id0 += nb) {
		nb = t->n_vocab - id0 < BATCH ? t->n_vocab - id0 : BATCH;
		for (id = id0; id < id0 + nb; id++) {
			slot[id - id0] =
				(uint32_t)hash_bytes(t->arena + t->off[id],
						     t->len[id]) &
				t->hash_mask;
			__builtin_prefetch(&t->hash[slot[id - id0]], 1);
		}
		for (id = id0; id < id0 + nb; id++) {
			const char *s = t->arena + t->off[id];
			uint32_t i = slot[id - id0];

			for (;; i = (i + 1) & t->hash_mask) {
				int32_t o = t->hash[i];

				if (o < 0) {
					t->hash[i] = id;
					break;
				}
				/* a duplicate text keeps its first id */
				if (t->len[o] == t->len[id] &&
				    !memcmp(t->arena + t->off[o], s,
					    t->len[id]))
					break;
			}
		}
	}
	return 0;
}

/* ---- loading --------------------------------------------------------- */

static int load_texts(struct amxrt_tokenizer *t, const struct amxrt_gguf *g)
{
	enum amxrt_gguf_type elem;
	const size_t *offs;
	const char *base;
	uint64_t n, i;
	size_t total;
	int ret;

	ret = amxrt_gguf_get_arr(g, "tokenizer.ggml.tokens", &elem, &n, NULL);
	if (ret)
		return amxrt_err(ret == -ENOENT ? ENOENT : EINVAL,
				 "tokenizer: tokenizer.ggml.tokens is %s",
				 ret == -ENOENT ? "missing" : "not an array");
	if (elem != AMXRT_GGUF_STRING || n < 1 || n > MAX_VOCAB)
		return amxrt_err(
			EINVAL,
			"tokenizer: tokenizer.ggml.tokens must be 1 to %d strings",
			MAX_VOCAB);
	ret = amxrt_gguf_str_block(g, "tokenizer.ggml.tokens", &base, &offs,
				   &n);
	if (ret)
		return ret;
	t->n_vocab = (int32_t)n;
	for (i = 0; i < n; i++)
		if (offs[i + 1] - offs[i] - 1 > UINT32_MAX / 2)
			return amxrt_err(EINVAL,
					 "tokenizer: token %llu is too long",
					 (unsigned long long)i);
	/* the texts lie back to back, NUL-terminated: one copy */
	total = offs[n] - offs[0];
	t->arena = malloc(total);
	t->off = malloc(n * sizeof(*t->off));
	t->len = malloc(n * sizeof(*t->len));
	t->score = calloc(n, sizeof(*t->score));
	t->type = malloc(n);
	if (!t->arena || !t->off || !t->len || !t->score || !t->type)
		return amxrt_err(ENOMEM, "tokenizer: out of memory");
	memcpy(t->arena, base + offs[0], total);
	for (i = 0; i < n; i++) {
		t->off[i] = offs[i] - offs[0];
		t->len[i] = (uint32_t)(offs[i + 1] - offs[i] - 1);
	}
	return 0;
}

static int load_scores_types(struct amxrt_tokenizer *t,
			     const struct amxrt_gguf *g)
{
	enum amxrt_gguf_type elem;
	const void *data;
	uint64_t n;
	int32_t i;

	if (!amxrt_gguf_get_arr(g, "tokenizer.ggml.scores", &elem, &n, &data)) {
		if (elem != AMXRT_GGUF_FLOAT32 || n != (uint64_t)t->n_vocab)
			return amxrt_err(
				EINVAL,
				"tokenizer: tokenizer.ggml.scores must be %d float32",
				t->n_vocab);
		memcpy(t->score, data, n * sizeof(float));
	}
	memset(t->type, AMXRT_TOKEN_NORMAL, (size_t)t->n_vocab);
	if (!amxrt_gguf_get_arr(g, "tokenizer.ggml.token_type", &elem, &n,
				&data)) {
		if ((elem != AMXRT_GGUF_INT32 && elem != AMXRT_GGUF_UINT32) ||
		    n != (uint64_t)t->n_vocab)
			return amxrt_err(
				EINVAL,
				"tokenizer: tokenizer.ggml.token_type must be %d int32",
				t->n_vocab);
		for (i = 0; i < t->n_vocab; i++) {
			int32_t v = ((const int32_t *)data)[i];

			t->type[i] = v >= 0 && v <= AMXRT_TOKEN_BYTE ?
					     (uint8_t)v :
					     AMXRT_TOKEN_UNDEFINED;
		}
	}
	return 0;
}

static int load_merges(struct amxrt_tokenizer *t, const struct amxrt_gguf *g)
{
	struct {
		const char *s, *r_s; /* the left and right texts */
		size_t ll, rl;
		uint32_t hl, hr; /* their slots in t->hash */
		int32_t l, r; /* the ids in those slots, then the texts' ids */
		uint64_t key, h; /* the pair and its slot in merge_key */
	} q[BATCH];
	enum amxrt_gguf_type elem;
	const size_t *offs;
	const char *base;
	uint64_t n, i0, size, h;
	int b, nb, ret;

	if (amxrt_gguf_get_arr(g, "tokenizer.ggml.merges", &elem, &n, NULL))
		return t->kind == AMXRT_TOK_BPE ?
			       amxrt_err(
				       EINVAL,
				       "tokenizer: a gpt2 tokenizer needs tokenizer.ggml.merges") :
			       0;
	if (elem != AMXRT_GGUF_STRING || n > (1u << 28))
		return amxrt_err(
			EINVAL,
			"tokenizer: tokenizer.ggml.merges is not a string array");
	ret = amxrt_gguf_str_block(g, "tokenizer.ggml.merges", &base, &offs,
				   &n);
	if (ret)
		return ret;
	size = pow2_above(n);
	t->merge_key = amxrt_alloc_huge(size * sizeof(*t->merge_key), 0);
	t->merge_rank = amxrt_alloc_huge(size * sizeof(*t->merge_rank), 0);
	if (!t->merge_key || !t->merge_rank)
		return amxrt_err(ENOMEM, "tokenizer: out of memory");
	memset(t->merge_key, 0xff, size * sizeof(*t->merge_key));
	t->merge_mask = size - 1;
	for (i0 = 0; i0 < n; i0 += (uint64_t)nb) {
		nb = n - i0 < BATCH ? (int)(n - i0) : BATCH;
		/* split, hash, ask for both texts' slots */
		for (b = 0; b < nb; b++) {
			const char *s = base + offs[i0 + b], *sp;
			size_t len = offs[i0 + b + 1] - offs[i0 + b] - 1;

			sp = len > 1 ? memchr(s + 1, ' ', len - 1) : NULL;
			if (!sp)
				return amxrt_err(
					EINVAL,
					"tokenizer: merge %llu \"%.40s\" has no space",
					(unsigned long long)(i0 + b), s);
			q[b].s = s;
			q[b].ll = (size_t)(sp - s);
			q[b].r_s = sp + 1;
			q[b].rl = len - q[b].ll - 1;
			q[b].hl = (uint32_t)hash_bytes(s, q[b].ll) &
				  t->hash_mask;
			q[b].hr = (uint32_t)hash_bytes(q[b].r_s, q[b].rl) &
				  t->hash_mask;
			__builtin_prefetch(&t->hash[q[b].hl]);
			__builtin_prefetch(&t->hash[q[b].hr]);
		}
		/* the ids in those slots: ask for their texts' places */
		for (b = 0; b < nb; b++) {
			q[b].l = t->hash[q[b].hl];
			q[b].r = t->hash[q[b].hr];
			if (q[b].l >= 0) {
				__builtin_prefetch(&t->off[q[b].l]);
				__builtin_prefetch(&t->len[q[b].l]);
			}
			if (q[b].r >= 0) {
				__builtin_prefetch(&t->off[q[b].r]);
				__builtin_prefetch(&t->len[q[b].r]);
			}
		}
		/* ... and for the texts */
		for (b = 0; b < nb; b++) {
			if (q[b].l >= 0)
				__builtin_prefetch(t->arena + t->off[q[b].l]);
			if (q[b].r >= 0)
				__builtin_prefetch(t->arena + t->off[q[b].r]);
		}
		/* the lookups, then ask for the pairs' slots */
		for (b = 0; b < nb; b++) {
			q[b].l = lookup_at(t, q[b].hl, q[b].s, q[b].ll);
			q[b].r = lookup_at(t, q[b].hr, q[b].r_s, q[b].rl);
			q[b].key = (uint64_t)(uint32_t)q[b].l << 32 |
				   (uint32_t)q[b].r;
			q[b].h = hash_pair(q[b].key) & t->merge_mask;
			if (q[b].l >= 0 && q[b].r >= 0)
				__builtin_prefetch(&t->merge_key[q[b].h], 1);
		}
		/* the inserts, in order: the first rank wins */
		for (b = 0; b < nb; b++) {
			if (q[b].l < 0 || q[b].r < 0)
				continue; /* can never apply */
			for (h = q[b].h;; h = (h + 1) & t->merge_mask) {
				if (t->merge_key[h] == q[b].key)
					break;
				if (t->merge_key[h] == ~0ULL) {
					t->merge_key[h] = q[b].key;
					t->merge_rank[h] = (int32_t)(i0 + b);
					t->n_merges++;
					break;
				}
			}
		}
	}
	return 0;
}

static int32_t get_id(const struct amxrt_tokenizer *t,
		      const struct amxrt_gguf *g, const char *key, int32_t def)
{
	int64_t v;

	if (amxrt_gguf_get_int(g, key, &v))
		return def;
	return v >= 0 && v < t->n_vocab ? (int32_t)v : -1;
}

static int get_flag(const struct amxrt_gguf *g, const char *key, int def)
{
	int64_t v;

	return amxrt_gguf_get_int(g, key, &v) ? def : v != 0;
}

static void add_eog(struct amxrt_tokenizer *t, int32_t id)
{
	int i;

	if (id < 0 || t->n_eog == AMXRT_TOK_MAX_EOG)
		return;
	for (i = 0; i < t->n_eog; i++)
		if (t->eog[i] == id)
			return;
	t->eog[t->n_eog++] = id;
}

static void find_eog(struct amxrt_tokenizer *t)
{
	static const char *const names[] = {
		"<|eot_id|>",	 "<|im_end|>",	    "<|end|>",
		"<end_of_turn>", "<|endoftext|>",   "<EOT>",
		"<|eom_id|>",	 "<|end_of_text|>", "<|return|>",
		"<|call|>",	 "_<EOT>",	    "<|end▁of▁sentence|>",
	};
	size_t i;

	add_eog(t, t->eos);
	add_eog(t, t->eot);
	add_eog(t, t->eom);
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		int32_t id = amxrt_tok_lookup(t, names[i], strlen(names[i]));

		if (id >= 0 && t->type[id] != AMXRT_TOKEN_NORMAL)
			add_eog(t, id);
	}
}

static int cmp_special(const void *a, const void *b, void *ctx)
{
	const struct amxrt_tokenizer *t = ctx;
	int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;

	if (t->len[x] != t->len[y])
		return t->len[x] > t->len[y] ? -1 : 1;
	return x < y ? -1 : x > y;
}

static int find_special(struct amxrt_tokenizer *t)
{
	int32_t id;

	t->special = malloc((size_t)t->n_vocab * sizeof(*t->special));
	if (!t->special)
		return amxrt_err(ENOMEM, "tokenizer: out of memory");
	for (id = 0; id < t->n_vocab; id++) {
		uint8_t ty = t->type[id];

		if (t->len[id] && (ty == AMXRT_TOKEN_CONTROL ||
				   ty == AMXRT_TOKEN_USER_DEFINED ||
				   ty == AMXRT_TOKEN_UNKNOWN))
			t->special[t->n_special++] = id;
	}
	qsort_r(t->special, (size_t)t->n_special, sizeof(*t->special),
		cmp_special, t);
	return 0;
}

static void find_bytes(struct amxrt_tokenizer *t)
{
	int b;

	for (b = 0; b < 256; b++) {
		char buf[8];
		int32_t id;

		snprintf(buf, sizeof(buf), "<0x%02X>", b);
		id = amxrt_tok_lookup(t, buf, 6);
		if (id < 0) {
			buf[0] = (char)b;
			id = amxrt_tok_lookup(t, buf, 1);
		}
		t->byte_tok[b] = id;
	}
}

static int load(struct amxrt_tokenizer *t, const struct amxrt_gguf *g)
{
	const char *s;
	size_t len;
	int ret;

	if (amxrt_gguf_get_str(g, "tokenizer.ggml.model", &s, &len))
		return amxrt_err(ENOENT,
				 "tokenizer: tokenizer.ggml.model is missing");
	if (!strcmp(s, "llama"))
		t->kind = AMXRT_TOK_SPM;
	else if (!strcmp(s, "gpt2"))
		t->kind = AMXRT_TOK_BPE;
	else
		return amxrt_err(
			EINVAL,
			"tokenizer: model \"%.40s\" is not supported (llama, gpt2)",
			s);
	snprintf(t->model, sizeof(t->model), "%s", s);
	if (amxrt_gguf_get_str(g, "tokenizer.ggml.pre", &s, &len))
		s = "default";
	snprintf(t->pre, sizeof(t->pre), "%s", s);

	ret = load_texts(t, g);
	if (!ret)
		ret = load_scores_types(t, g);
	if (!ret)
		ret = amxrt_tok_index(t);
	if (!ret)
		ret = load_merges(t, g);
	if (!ret)
		ret = find_special(t);
	if (ret)
		return ret;

	if (t->kind == AMXRT_TOK_SPM) {
		t->bos = get_id(t, g, "tokenizer.ggml.bos_token_id", 1);
		t->eos = get_id(t, g, "tokenizer.ggml.eos_token_id", 2);
		t->unk = get_id(t, g, "tokenizer.ggml.unknown_token_id", 0);
		t->add_bos = 1;
		t->add_space_prefix = 1;
		find_bytes(t);
	} else {
		t->bos = get_id(t, g, "tokenizer.ggml.bos_token_id", -1);
		t->eos = get_id(t, g, "tokenizer.ggml.eos_token_id", -1);
		t->unk = get_id(t, g, "tokenizer.ggml.unknown_token_id", -1);
		if (!strcmp(t->pre, "llama-bpe") || !strcmp(t->pre, "llama3") ||
		    !strcmp(t->pre, "llama-v3")) {
			t->add_bos = 1;
			t->ignore_merges = 1;
		}
		ret = amxrt_tok_pretok_new(t->pre, &t->pretok);
		if (ret)
			return ret;
	}
	t->eot = get_id(t, g, "tokenizer.ggml.eot_token_id", -1);
	t->eom = get_id(t, g, "tokenizer.ggml.eom_token_id", -1);
	t->pad = get_id(t, g, "tokenizer.ggml.padding_token_id", -1);
	t->add_bos = get_flag(g, "tokenizer.ggml.add_bos_token", t->add_bos);
	t->add_eos = get_flag(g, "tokenizer.ggml.add_eos_token", 0);
	t->add_space_prefix = get_flag(g, "tokenizer.ggml.add_space_prefix",
				       t->add_space_prefix);
	find_eog(t);
	return 0;
}

int amxrt_tokenizer_load(const struct amxrt_gguf *g,
			 struct amxrt_tokenizer **out)
{
	struct amxrt_tokenizer *t;
	int ret;

	if (!out)
		return amxrt_err(EINVAL, "tokenizer: out is NULL");
	*out = NULL;
	if (!g)
		return amxrt_err(EINVAL, "tokenizer: no file");
	t = calloc(1, sizeof(*t));
	if (!t)
		return amxrt_err(ENOMEM, "tokenizer: out of memory");
	ret = load(t, g);
	if (ret) {
		amxrt_tokenizer_free(t);
		return ret;
	}
	*out = t;
	return 0;
}

void amxrt_tokenizer_free(struct amxrt_tokenizer *t)
{
	if (!t)
		return;
	amxrt_tok_pretok_free(t->pretok);
	free(t->special);
	free(t->merge_rank);
	free(t->merge_key);
	free(t->hash);
	free(t->type);
	free(t->score);
	free(t->len);
	free(t->off);
	free(t->arena);
	free(t);
}

/* ---- getters --------------------------------------------------------- */

int32_t amxrt_tokenizer_n_vocab(const struct amxrt_tokenizer *t)
{
	return t ? t->n_vocab : 0;
}

const char *amxrt_tokenizer_model(const struct amxrt_tokenizer *t)
{
	return t ? t->model : "";
}

const char *amxrt_tokenizer_pre(const struct amxrt_tokenizer *t)
{
	return t ? t->pre : "";
}

int32_t amxrt_token_bos(const struct amxrt_tokenizer *t)
{
	return t ? t->bos : -1;
}

int32_t amxrt_token_eos(const struct amxrt_tokenizer *t)
{
	return t ? t->eos : -1;
}

int amxrt_token_is_eog(const struct amxrt_tokenizer *t, int32_t id)
{
	int i;

	if (!t || id < 0)
		return 0;
	for (i = 0; i < t->n_eog; i++)
		if (t->eog[i] == id)
			return 1;
	return 0;
}

enum amxrt_token_type amxrt_token_type(const struct amxrt_tokenizer *t,
				       int32_t id)
{
	if (!t || id < 0 || id >= t->n_vocab)
		return AMXRT_TOKEN_UNDEFINED;
	return (enum amxrt_token_type)t->type[id];
}

const char *amxrt_token_text(const struct amxrt_tokenizer *t, int32_t id)
{
	if (!t || id < 0 || id >= t->n_vocab)
		return NULL;
	return t->arena + t->off[id];
}

int32_t amxrt_token_find(const struct amxrt_tokenizer *t, const char *text)
{
	if (!t || !text)
		return -1;
	return amxrt_tok_lookup(t, text, strlen(text));
}
