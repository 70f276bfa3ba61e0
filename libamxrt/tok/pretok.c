// SPDX-License-Identifier: MIT
/*
 * pretok.c - the byte-level BPE pre-tokenizers: the regular expressions
 * llama.cpp uses for the "qwen2" and "llama-bpe" (Llama 3) pre types, run
 * with PCRE2 (UTF, Unicode properties, JIT where available). Text between
 * matches (only invalid UTF-8 can be left over) is a pre-token of its own.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "tok.h"

/*
 * The tokenizer.json patterns with the case-insensitive group written out,
 * as llama.cpp adapted them; they differ only in how many digits a number
 * pre-token holds (one for Qwen2, up to three for Llama 3).
 */
static const char pat_llama3[] =
	"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|"
	"[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}|"
	" ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
static const char pat_qwen2[] =
	"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|"
	"[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}|"
	" ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

struct amxrt_tok_pretok {
	pcre2_code *code;
	int jit;
};

static const struct {
	const char *name;
	const char *pattern;
} pres[] = {
	{ "qwen2", pat_qwen2 },	     { "deepseek-r1-qwen", pat_qwen2 },
	{ "llama-bpe", pat_llama3 }, { "llama3", pat_llama3 },
	{ "llama-v3", pat_llama3 },
};

int amxrt_tok_pretok_new(const char *pre, struct amxrt_tok_pretok **out)
{
	struct amxrt_tok_pretok *p;
	const char *pattern = NULL;
	PCRE2_SIZE erroff;
	int errcode;
	size_t i;

	*out = NULL;
	for (i = 0; i < sizeof(pres) / sizeof(pres[0]); i++)
		if (!strcmp(pre, pres[i].name))
			pattern = pres[i].pattern;
	if (!pattern)
		return amxrt_err(
			EINVAL,
			"tokenizer: pre-tokenizer \"%s\" is not supported (qwen2, llama-bpe)",
			pre);
	p = calloc(1, sizeof(*p));
	if (!p)
		return amxrt_err(ENOMEM, "tokenizer: out of memory");
	p->code = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED,
				PCRE2_UTF | PCRE2_UCP | PCRE2_MATCH_INVALID_UTF,
				&errcode, &erroff, NULL);
	if (!p->code) {
		PCRE2_UCHAR msg[120];

		pcre2_get_error_message(errcode, msg, sizeof(msg));
		free(p);
		return amxrt_err(
			EINVAL, "tokenizer: pre-tokenizer %s: PCRE2: %s at %zu",
			pre, (const char *)msg, (size_t)erroff);
	}
	p->jit = !pcre2_jit_compile(p->code, PCRE2_JIT_COMPLETE);
	*out = p;
	return 0;
}

void amxrt_tok_pretok_free(struct amxrt_tok_pretok *p)
{
	if (!p)
		return;
	pcre2_code_free(p->code);
	free(p);
}

int amxrt_tok_pretok_split(const struct amxrt_tok_pretok *p, const char *text,
			   size_t len,
			   int (*fn)(void *ctx, size_t off, size_t n),
			   void *ctx)
{
	pcre2_match_data *md;
	size_t pos = 0;
	int ret = 0;

	if (!len)
		return 0;
	md = pcre2_match_data_create_from_pattern(p->code, NULL);
	if (!md)
		return amxrt_err(ENOMEM, "tokenizer: out of memory");
	while (pos < len) {
		PCRE2_SIZE *ov;
		size_t start, end;
		int rc;

		rc = pcre2_match(p->code, (PCRE2_SPTR)text, len, pos, 0, md,
				 NULL);
		if (rc == PCRE2_ERROR_JIT_STACKLIMIT)
			rc = pcre2_match(p->code, (PCRE2_SPTR)text, len, pos,
					 PCRE2_NO_JIT, md, NULL);
		if (rc == PCRE2_ERROR_NOMATCH) {
			ret = fn(ctx, pos, len - pos);
			break;
		}
		if (rc < 0) {
			PCRE2_UCHAR msg[120];

			pcre2_get_error_message(rc, msg, sizeof(msg));
			ret = amxrt_err(EINVAL,
					"tokenizer: pre-tokenizer: PCRE2: %s",
					(const char *)msg);
			break;
		}
		ov = pcre2_get_ovector_pointer(md);
		start = ov[0];
		end = ov[1];
		if (start > pos && (ret = fn(ctx, pos, start - pos)) < 0)
			break;
		if (end <= start) /* cannot happen with these patterns */
			end = start + 1;
		if ((ret = fn(ctx, start, end - start)) < 0)
			break;
		pos = end;
	}
	pcre2_match_data_free(md);
	return ret < 0 ? ret : 0;
}
