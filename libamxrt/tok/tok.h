/* SPDX-License-Identifier: MIT */
/*
 * tok.h - the tokenizer's internal contract: the vocabulary (vocab.c), the
 * two tokenizer families (spm.c, bpe.c) and the queue of candidate merges
 * they share (merges.c), the byte-level BPE pre-tokenizer (pretok.c) and a
 * growable id list. Internal.
 */
#ifndef AMXRT_TOK_TOK_H
#define AMXRT_TOK_TOK_H

#include <stddef.h>
#include <stdint.h>

#include <amxrt/tokenizer.h>

#include "../core/error.h"

enum amxrt_tok_kind {
	AMXRT_TOK_SPM = 1, /* "llama" */
	AMXRT_TOK_BPE = 2, /* "gpt2" */
};

#define AMXRT_TOK_MAX_EOG 16

struct amxrt_tok_pretok; /* compiled pre-tokenizer patterns (pretok.c) */

struct amxrt_tokenizer {
	enum amxrt_tok_kind kind;
	char model[16];
	char pre[32];
	int32_t n_vocab;
	char *arena; /* every token text, NUL-terminated */
	size_t *off; /* [n_vocab] offset of each text in arena */
	uint32_t *len; /* [n_vocab] */
	float *score; /* [n_vocab] */
	uint8_t *type; /* [n_vocab] enum amxrt_token_type */

	/* text -> id: open addressing, power-of-two size, -1 empty */
	int32_t *hash;
	uint32_t hash_mask;

	/* BPE merges: (left id, right id) -> rank */
	uint64_t *merge_key; /* left << 32 | right, ~0 empty */
	int32_t *merge_rank;
	uint64_t merge_mask;
	int64_t n_merges;

	/* special tokens split out before tokenizing, longest text first */
	int32_t *special;
	int n_special;

	int32_t bos, eos, eot, eom, unk, pad;
	int32_t eog[AMXRT_TOK_MAX_EOG];
	int n_eog;
	int add_bos, add_eos, add_space_prefix;
	int ignore_merges; /* llama-bpe: a whole pre-token in the vocab wins */
	int32_t byte_tok[256]; /* SPM <0xXX> (or the byte itself), -1 none */

	struct amxrt_tok_pretok *pretok; /* BPE only */
};

/* A growable list of ids. */
struct amxrt_tok_ids {
	int32_t *v;
	size_t n, cap;
};

int amxrt_tok_push(struct amxrt_tok_ids *ids, int32_t id);

/* Exact-text lookup of len bytes; -1 if absent. */
int32_t amxrt_tok_lookup(const struct amxrt_tokenizer *t, const char *s,
			 size_t len);
int32_t amxrt_tok_merge_rank(const struct amxrt_tokenizer *t, int32_t left,
			     int32_t right);

/* Build the lookup tables once texts, types and merges are in place. */
int amxrt_tok_index(struct amxrt_tokenizer *t);

/* SentencePiece-style: text already escaped ("▁" for spaces). */
int amxrt_tok_spm(const struct amxrt_tokenizer *t, const char *text, size_t len,
		  struct amxrt_tok_ids *out);

/* Byte-level BPE of raw text: pre-tokenize, byte-encode, merge. */
int amxrt_tok_bpe(const struct amxrt_tokenizer *t, const char *text, size_t len,
		  struct amxrt_tok_ids *out);

/* GPT-2 byte <-> code point mapping. */
int amxrt_tok_byte_to_utf8(unsigned char b, char out[2]);
int amxrt_tok_cp_to_byte(uint32_t cp); /* -1 if not a byte-level cp */

/* Pre-tokenizer for a "pre" name; -EINVAL naming it if unknown. */
int amxrt_tok_pretok_new(const char *pre, struct amxrt_tok_pretok **out);
void amxrt_tok_pretok_free(struct amxrt_tok_pretok *p);
/*
 * Split text into pre-tokens: calls fn(ctx, offset, length) for each in
 * order (bytes of invalid UTF-8 come as pre-tokens of their own). Stops and
 * returns fn's value when it is negative.
 */
int amxrt_tok_pretok_split(const struct amxrt_tok_pretok *p, const char *text,
			   size_t len,
			   int (*fn)(void *ctx, size_t off, size_t n),
			   void *ctx);

/*
 * Candidate merges of two adjacent symbols, smallest key first (SPM: minus
 * the merged piece's score; BPE: the merge's rank), the leftmost first on
 * equal keys. size is the merged length, to recognise stale entries.
 */
struct amxrt_tok_merge {
	int left, right;
	double key;
	size_t size;
};

struct amxrt_tok_merges {
	struct amxrt_tok_merge *v;
	size_t n, cap;
};

int amxrt_tok_merges_push(struct amxrt_tok_merges *q,
			  struct amxrt_tok_merge m); /* 0 or -ENOMEM */
struct amxrt_tok_merge amxrt_tok_merges_pop(struct amxrt_tok_merges *q);

/* Length of the UTF-8 sequence a lead byte announces (1 for others). */
static inline size_t amxrt_tok_utf8_len(unsigned char c)
{
	static const unsigned char lens[16] = { 1, 1, 1, 1, 1, 1, 1, 1,
						1, 1, 1, 1, 2, 2, 3, 4 };
	return lens[c >> 4];
}

#endif /* AMXRT_TOK_TOK_H */
