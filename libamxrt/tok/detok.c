// SPDX-License-Identifier: MIT
/*
 * detok.c - token ids back to bytes: one token's piece (SPM's "▁" as a
 * space, <0xXX> as its byte, byte-level BPE code points as their bytes),
 * and the streaming detokenizer that passes on only whole UTF-8
 * characters.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tok.h"

static int copy_out(const char *s, size_t n, char *buf, size_t cap)
{
	if (n > cap)
		return amxrt_err(ENOSPC,
				 "token piece: %zu bytes do not fit in %zu", n,
				 cap);
	if (n)
		memcpy(buf, s, n);
	if (n < cap)
		buf[n] = '\0';
	return (int)n;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* SPM: "▁" -> ' ' */
static int spm_normal(const char *s, size_t n, char *buf, size_t cap)
{
	size_t i = 0, o = 0;

	while (i < n) {
		char c = s[i];
		size_t step = 1;

		if (n - i >= 3 && !memcmp(s + i, "\xe2\x96\x81", 3)) {
			c = ' ';
			step = 3;
		}
		if (o == cap)
			return amxrt_err(ENOSPC,
					 "token piece: does not fit in %zu",
					 cap);
		buf[o++] = c;
		i += step;
	}
	if (o < cap)
		buf[o] = '\0';
	return (int)o;
}

/* Byte-level BPE: each code point is one byte (others are copied). */
static int bpe_normal(const char *s, size_t n, char *buf, size_t cap)
{
	size_t i = 0, o = 0;

	while (i < n) {
		unsigned char c = (unsigned char)s[i];
		size_t cl = amxrt_tok_utf8_len(c), k;
		int b = -1;

		if (cl > n - i)
			cl = n - i;
		if (cl == 1 && c < 0x80)
			b = amxrt_tok_cp_to_byte(c);
		else if (cl == 2 && ((unsigned char)s[i + 1] & 0xc0) == 0x80)
			b = amxrt_tok_cp_to_byte(
				(uint32_t)(c & 0x1f) << 6 |
				((unsigned char)s[i + 1] & 0x3f));
		if (o + (b >= 0 ? 1 : cl) > cap)
			return amxrt_err(ENOSPC,
					 "token piece: does not fit in %zu",
					 cap);
		if (b >= 0)
			buf[o++] = (char)b;
		else
			for (k = 0; k < cl; k++)
				buf[o++] = s[i + k];
		i += cl;
	}
	if (o < cap)
		buf[o] = '\0';
	return (int)o;
}

int amxrt_token_piece(const struct amxrt_tokenizer *t, int32_t id, int special,
		      char *buf, size_t cap)
{
	const char *s;
	size_t n;
	uint8_t ty;

	if (!t || (!buf && cap))
		return amxrt_err(EINVAL, "token piece: bad arguments");
	if (id < 0 || id >= t->n_vocab)
		return amxrt_err(EINVAL, "token piece: id %d is not in 0..%d",
				 id, t->n_vocab - 1);
	s = t->arena + t->off[id];
	n = t->len[id];
	ty = t->type[id];
	if (ty == AMXRT_TOKEN_USER_DEFINED ||
	    (special && ty == AMXRT_TOKEN_CONTROL))
		return copy_out(s, n, buf, cap);
	if (t->kind == AMXRT_TOK_SPM) {
		if (ty == AMXRT_TOKEN_NORMAL)
			return spm_normal(s, n, buf, cap);
		if (ty == AMXRT_TOKEN_BYTE) {
			char b;

			if (n == 6 && !memcmp(s, "<0x", 3) && s[5] == '>' &&
			    hexval(s[3]) >= 0 && hexval(s[4]) >= 0)
				b = (char)(hexval(s[3]) << 4 | hexval(s[4]));
			else
				b = n ? s[0] : 0;
			return copy_out(&b, 1, buf, cap);
		}
		if (ty == AMXRT_TOKEN_UNKNOWN)
			return copy_out("\xe2\x96\x85", 3, buf, cap);
		return copy_out("", 0, buf, cap);
	}
	if (ty == AMXRT_TOKEN_NORMAL)
		return bpe_normal(s, n, buf, cap);
	return copy_out("", 0, buf, cap);
}

/* ---- streaming ------------------------------------------------------- */

void amxrt_detok_init(struct amxrt_detok *d, const struct amxrt_tokenizer *t,
		      int special, int strip_lead)
{
	memset(d, 0, sizeof(*d));
	d->t = t;
	d->special = special;
	d->strip_lead = strip_lead;
}

/*
 * How many bytes of the valid UTF-8 sequence starting at s (n available)
 * are complete: the length if whole, 0 if invalid, -1 if it could still
 * become valid (a prefix).
 */
static int utf8_seq(const unsigned char *s, size_t n)
{
	size_t need, i;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		need = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		need = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		need = 4, cp = s[0] & 0x07;
	else
		return 0;
	for (i = 1; i < need; i++) {
		if (i >= n)
			return -1;
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
		/* overlong, surrogate or past U+10FFFF shows at byte 2 */
		if (i == 1 && ((need == 3 && cp < 0x20) ||
			       (need == 3 && cp >= 0x360 && cp < 0x380) ||
			       (need == 4 && (cp < 0x10 || cp > 0x10f))))
			return 0;
	}
	return (int)need;
}

/*
 * Move whole characters of src (n bytes) to out, U+FFFD for invalid bytes;
 * a trailing prefix is left for later unless final. Returns the bytes
 * written (out must hold 3 * n) and sets *used.
 */
static size_t drain(const unsigned char *src, size_t n, int final, char *out,
		    size_t *used)
{
	size_t i = 0, o = 0;

	while (i < n) {
		int k = utf8_seq(src + i, n - i);

		if (k < 0 && !final)
			break;
		if (k <= 0) {
			memcpy(out + o, "\xef\xbf\xbd", 3);
			o += 3;
			/* a cut-off prefix is one character */
			if (k < 0)
				i = n;
			else
				i++;
			continue;
		}
		memcpy(out + o, src + i, (size_t)k);
		o += (size_t)k;
		i += (size_t)k;
	}
	*used = i;
	return o;
}

static int detok(struct amxrt_detok *d, const char *piece, size_t n, int final,
		 char *out, size_t cap)
{
	unsigned char *all;
	size_t total = (size_t)d->n_held + n, used, o;
	char *tmp;

	if (!out || !cap)
		return amxrt_err(EINVAL, "detokenize: no output buffer");
	all = malloc(total + 1);
	tmp = malloc(3 * total + 1);
	if (!all || !tmp) {
		free(all);
		free(tmp);
		return amxrt_err(ENOMEM, "detokenize: out of memory");
	}
	memcpy(all, d->held, (size_t)d->n_held);
	if (n)
		memcpy(all + d->n_held, piece, n);
	o = drain(all, total, final, tmp, &used);
	if (o + 1 > cap) {
		free(all);
		free(tmp);
		return amxrt_err(ENOSPC,
				 "detokenize: %zu bytes do not fit in %zu",
				 o + 1, cap);
	}
	memcpy(out, tmp, o);
	out[o] = '\0';
	d->n_held = (int)(total - used);
	memcpy(d->held, all + used, (size_t)d->n_held);
	free(all);
	free(tmp);
	return (int)o;
}

int amxrt_detok_push(struct amxrt_detok *d, int32_t id, char *out, size_t cap)
{
	char small[256], *piece = small;
	int n, ret, skip;

	if (!d || !d->t)
		return amxrt_err(EINVAL, "detokenize: not initialized");
	n = amxrt_token_piece(d->t, id, d->special, small, sizeof(small));
	if (n == -ENOSPC) {
		size_t big = d->t->len[id] * 4 + 16;

		piece = malloc(big);
		if (!piece)
			return amxrt_err(ENOMEM, "detokenize: out of memory");
		n = amxrt_token_piece(d->t, id, d->special, piece, big);
	}
	if (n < 0) {
		if (piece != small)
			free(piece);
		return n;
	}
	/* only the first byte of the whole output can be the SPM prefix */
	skip = d->strip_lead && !d->started && n > 0 &&
	       d->t->kind == AMXRT_TOK_SPM && d->t->add_space_prefix &&
	       piece[0] == ' ';
	ret = detok(d, piece + skip, (size_t)(n - skip), 0, out, cap);
	if (ret >= 0 && n > 0)
		d->started = 1;
	if (piece != small)
		free(piece);
	return ret;
}

int amxrt_detok_flush(struct amxrt_detok *d, char *out, size_t cap)
{
	if (!d || !d->t)
		return amxrt_err(EINVAL, "detokenize: not initialized");
	return detok(d, NULL, 0, 1, out, cap);
}
