// SPDX-License-Identifier: MIT
/*
 * tokenize.c - amxrt_tokenize(): split special tokens out of the text
 * (longest text first, as llama.cpp's tokenizer_st_partition), run the
 * family's tokenizer over the plain fragments, add BOS/EOS.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tok.h"

struct frag {
	size_t off, len;
	int32_t id; /* -1: plain text */
};

struct frags {
	struct frag *v;
	size_t n, cap;
};

static int frag_add(struct frags *f, size_t off, size_t len, int32_t id)
{
	if (f->n == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 16;
		struct frag *v = realloc(f->v, cap * sizeof(*v));

		if (!v)
			return amxrt_err(ENOMEM, "tokenizer: out of memory");
		f->v = v;
		f->cap = cap;
	}
	f->v[f->n].off = off;
	f->v[f->n].len = len;
	f->v[f->n].id = id;
	f->n++;
	return 0;
}

/*
 * User-defined tokens are always split out; control (and unknown) tokens
 * only when parsing special tokens, as llama.cpp does.
 */
static int partition(const struct amxrt_tokenizer *t, const char *text,
		     size_t len, int parse, struct frags *f)
{
	struct frags next = { 0 };
	int k, ret;

	if ((ret = frag_add(f, 0, len, -1)))
		return ret;
	for (k = 0; k < t->n_special; k++) {
		int32_t id = t->special[k];
		const char *s = t->arena + t->off[id];
		size_t sl = t->len[id], i;
		int found = 0;

		if (!parse && t->type[id] != AMXRT_TOKEN_USER_DEFINED)
			continue;
		next.n = 0;
		for (i = 0; i < f->n; i++) {
			struct frag fr = f->v[i];
			size_t pos = fr.off, end = fr.off + fr.len;

			while (fr.id < 0 && end - pos >= sl) {
				const char *hit =
					memmem(text + pos, end - pos, s, sl);
				size_t at;

				if (!hit)
					break;
				at = (size_t)(hit - text);
				found = 1;
				if (at > pos &&
				    (ret = frag_add(&next, pos, at - pos, -1)))
					goto out;
				if ((ret = frag_add(&next, at, sl, id)))
					goto out;
				pos = at + sl;
			}
			if (fr.id >= 0)
				ret = frag_add(&next, fr.off, fr.len, fr.id);
			else if (end > pos)
				ret = frag_add(&next, pos, end - pos, -1);
			if (ret)
				goto out;
		}
		if (found) {
			struct frags tmp = *f;

			*f = next;
			next = tmp;
		}
	}
out:
	free(next.v);
	return ret;
}

/* SPM: "▁" for every space, and one in front when the rule says so. */
static int spm_fragment(const struct amxrt_tokenizer *t, const char *s,
			size_t len, int prefix, struct amxrt_tok_ids *out)
{
	size_t i, n = prefix ? 3 : 0;
	char *buf;
	int ret;

	for (i = 0; i < len; i++)
		n += s[i] == ' ' ? 3 : 1;
	buf = malloc(n ? n : 1);
	if (!buf)
		return amxrt_err(ENOMEM, "tokenizer: out of memory");
	n = 0;
	if (prefix) {
		memcpy(buf, "\xe2\x96\x81", 3);
		n = 3;
	}
	for (i = 0; i < len; i++) {
		if (s[i] == ' ') {
			memcpy(buf + n, "\xe2\x96\x81", 3);
			n += 3;
		} else {
			buf[n++] = s[i];
		}
	}
	ret = amxrt_tok_spm(t, buf, n, out);
	free(buf);
	return ret;
}

static int run(const struct amxrt_tokenizer *t, const char *text, size_t len,
	       int flags, struct amxrt_tok_ids *out)
{
	int add = flags & AMXRT_TOK_ADD_SPECIAL;
	struct frags f = { 0 };
	int prev_special = 1;
	size_t i;
	int ret = 0;

	if (add && t->add_bos && t->bos >= 0 &&
	    (ret = amxrt_tok_push(out, t->bos)))
		return ret;
	if (len) {
		ret = partition(t, text, len,
				!!(flags & AMXRT_TOK_PARSE_SPECIAL), &f);
		for (i = 0; !ret && i < f.n; i++) {
			const struct frag *fr = &f.v[i];

			if (fr->id >= 0) {
				ret = amxrt_tok_push(out, fr->id);
				prev_special = 1;
			} else if (t->kind == AMXRT_TOK_SPM) {
				ret = spm_fragment(t, text + fr->off, fr->len,
						   t->add_space_prefix &&
							   prev_special,
						   out);
				prev_special = 0;
			} else {
				ret = amxrt_tok_bpe(t, text + fr->off, fr->len,
						    out);
				prev_special = 0;
			}
		}
		free(f.v);
	}
	if (!ret && add && t->add_eos && t->eos >= 0)
		ret = amxrt_tok_push(out, t->eos);
	return ret;
}

int amxrt_tokenize(const struct amxrt_tokenizer *t, const char *text,
		   size_t len, int flags, int32_t *ids, int max, int *needed)
{
	struct amxrt_tok_ids out = { 0 };
	int ret;

	if (!t || (!text && len) || max < 0 || (!ids && max))
		return amxrt_err(EINVAL, "tokenize: bad arguments");
	if (flags & ~(AMXRT_TOK_ADD_SPECIAL | AMXRT_TOK_PARSE_SPECIAL))
		return amxrt_err(EINVAL, "tokenize: unknown flags 0x%x",
				 (unsigned)flags);
	if (len > INT32_MAX / 4)
		return amxrt_err(EINVAL, "tokenize: %zu bytes is too long",
				 len);
	ret = run(t, text, len, flags, &out);
	if (!ret) {
		if (needed)
			*needed = (int)out.n;
		if (out.n > (size_t)max)
			ret = amxrt_err(ENOSPC,
					"tokenize: %zu tokens do not fit in %d",
					out.n, max);
		else if (out.n)
			memcpy(ids, out.v, out.n * sizeof(*ids));
	}
	free(out.v);
	return ret ? ret : (int)out.n;
}
