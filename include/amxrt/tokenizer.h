/* SPDX-License-Identifier: MIT */
/*
 * amxrt/tokenizer.h - text to token ids and back, from GGUF metadata.
 *
 * Two families: SentencePiece-style ("llama": scores, byte fallback) and
 * byte-level BPE ("gpt2", with the "qwen2" and "llama-bpe" pre-tokenizers,
 * run with PCRE2). Special and control tokens, BOS/EOS rules from the
 * file (tokenizer.ggml.add_bos_token and friends), and detokenization that
 * holds back incomplete UTF-8 while streaming.
 */
#ifndef AMXRT_TOKENIZER_H
#define AMXRT_TOKENIZER_H

#include <stddef.h>
#include <stdint.h>

#include <amxrt/gguf.h>

#ifdef __cplusplus
extern "C" {
#endif

#pragma GCC visibility push(default)

struct amxrt_tokenizer; /* opaque */

/* Token attributes, as llama.cpp's token types (tokenizer.ggml.token_type). */
enum amxrt_token_type {
	AMXRT_TOKEN_UNDEFINED = 0,
	AMXRT_TOKEN_NORMAL = 1,
	AMXRT_TOKEN_UNKNOWN = 2,
	AMXRT_TOKEN_CONTROL = 3,
	AMXRT_TOKEN_USER_DEFINED = 4,
	AMXRT_TOKEN_UNUSED = 5,
	AMXRT_TOKEN_BYTE = 6,
};

/* amxrt_tokenize() flags */
#define AMXRT_TOK_ADD_SPECIAL 1 /* add BOS/EOS as the file's rules say */
#define AMXRT_TOK_PARSE_SPECIAL 2 /* "<|im_end|>" in text is that token */

/* Build from an open file's metadata; the tokenizer copies what it keeps. */
int amxrt_tokenizer_load(const struct amxrt_gguf *g,
			 struct amxrt_tokenizer **out);
void amxrt_tokenizer_free(struct amxrt_tokenizer *t);

int32_t amxrt_tokenizer_n_vocab(const struct amxrt_tokenizer *t);
/* "llama" or "gpt2"; and the pre-tokenizer name ("default", "qwen2"...) */
const char *amxrt_tokenizer_model(const struct amxrt_tokenizer *t);
const char *amxrt_tokenizer_pre(const struct amxrt_tokenizer *t);
int32_t amxrt_token_bos(const struct amxrt_tokenizer *t); /* -1 if none */
int32_t amxrt_token_eos(const struct amxrt_tokenizer *t);
/* End of generation: EOS, EOT, <|im_end|>, <|eot_id|> ... */
int amxrt_token_is_eog(const struct amxrt_tokenizer *t, int32_t id);
enum amxrt_token_type amxrt_token_type(const struct amxrt_tokenizer *t,
				       int32_t id);
/* The vocabulary entry as stored, NUL-terminated (NULL if out of range). */
const char *amxrt_token_text(const struct amxrt_tokenizer *t, int32_t id);
/* Look a token up by its exact text; -1 if absent. */
int32_t amxrt_token_find(const struct amxrt_tokenizer *t, const char *text);

/*
 * Tokenize len bytes of text into ids[0 .. max). Returns the number of
 * tokens; if more than max are needed, returns -ENOSPC and sets *needed
 * (when not NULL) to the count.
 */
int amxrt_tokenize(const struct amxrt_tokenizer *t, const char *text,
		   size_t len, int flags, int32_t *ids, int max, int *needed);

/*
 * The bytes of one token as text (SPM's "▁" becomes a space, byte tokens
 * their byte, BPE's byte-level code points their bytes; control tokens
 * give "" unless special is set). Returns the length, or -ENOSPC if cap
 * is too small. The bytes need not be whole UTF-8 characters.
 */
int amxrt_token_piece(const struct amxrt_tokenizer *t, int32_t id, int special,
		      char *buf, size_t cap);

/*
 * Streaming detokenizer: push ids one by one, get back only complete
 * UTF-8 (an incomplete sequence is held until the next push; invalid
 * bytes become U+FFFD). flush returns what is held. Skips the leading
 * space SPM puts on the first token when strip_lead is set.
 */
struct amxrt_detok {
	const struct amxrt_tokenizer *t;
	unsigned char held[8];
	int n_held;
	int special;
	int strip_lead;
	int started;
};

void amxrt_detok_init(struct amxrt_detok *d, const struct amxrt_tokenizer *t,
		      int special, int strip_lead);
/* Returns bytes written to out (always NUL-terminated) or -ENOSPC. */
int amxrt_detok_push(struct amxrt_detok *d, int32_t id, char *out, size_t cap);
int amxrt_detok_flush(struct amxrt_detok *d, char *out, size_t cap);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif

#endif /* AMXRT_TOKENIZER_H */
