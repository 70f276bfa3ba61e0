// SPDX-License-Identifier: MIT
/*
 * chat.c - chat prompts: recognize a model's chat template by the markers
 * in its text and format messages the way that model was trained.
 *
 * Not a Jinja interpreter: like llama.cpp's llama-chat.cpp, a template is
 * recognized by its markers and its format is written out here.
 *
 *   chatml  "<|im_start|>"  (Qwen, many others)
 *       <|im_start|>ROLE\nCONTENT<|im_end|>\n ... <|im_start|>assistant\n
 *   llama2  "[INST]"
 *       [INST] <<SYS>>\nSYSTEM\n<</SYS>>\n\nUSER [/INST]ASSISTANT</s>[INST] ...
 *       (system only where the template has "<<SYS>>", else "SYSTEM\n";
 *       "<s>[INST] " between turns where it writes bos_token + '[INST]';
 *       contents trimmed where it calls content.strip())
 *   llama3  "<|start_header_id|>" and "<|end_header_id|>"
 *       <|start_header_id|>ROLE<|end_header_id|>\n\nTRIMMED<|eot_id|> ...
 *       <|start_header_id|>assistant<|end_header_id|>\n\n
 *
 * BOS is not written: the tokenizer adds it as the model's rules say.
 */
#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include <amxrt/sample.h>

#include "../core/error.h"

enum kind {
	KIND_NONE,
	KIND_CHATML,
	KIND_LLAMA2, /* no system block */
	KIND_LLAMA2_SYS, /* <<SYS>> block */
	KIND_LLAMA2_SYS_BOS, /* and <s> before each later [INST] */
	KIND_LLAMA2_SYS_STRIP, /* and contents trimmed */
	KIND_LLAMA3,
};

static int has(const char *s, const char *marker)
{
	return strstr(s, marker) != NULL;
}

static enum kind detect(const char *t)
{
	if (!t)
		return KIND_NONE;
	/* a bare name selects that format */
	if (!strcmp(t, "chatml"))
		return KIND_CHATML;
	if (!strcmp(t, "llama3"))
		return KIND_LLAMA3;
	if (!strcmp(t, "llama2"))
		return KIND_LLAMA2_SYS;
	/* same order of checks as llama.cpp's llm_chat_detect_template() */
	if (has(t, "<|im_start|>"))
		return KIND_CHATML;
	if (has(t, "[INST]")) {
		if (has(t, "content.strip()"))
			return KIND_LLAMA2_SYS_STRIP;
		if (has(t, "bos_token + '[INST]"))
			return KIND_LLAMA2_SYS_BOS;
		if (has(t, "<<SYS>>"))
			return KIND_LLAMA2_SYS;
		return KIND_LLAMA2;
	}
	if (has(t, "<|start_header_id|>") && has(t, "<|end_header_id|>"))
		return KIND_LLAMA3;
	return KIND_NONE;
}

const char *amxrt_chat_template_name(const char *tmpl)
{
	switch (detect(tmpl)) {
	case KIND_CHATML:
		return "chatml";
	case KIND_LLAMA3:
		return "llama3";
	case KIND_LLAMA2:
	case KIND_LLAMA2_SYS:
	case KIND_LLAMA2_SYS_BOS:
	case KIND_LLAMA2_SYS_STRIP:
		return "llama2";
	default:
		return NULL;
	}
}

/* Output that counts everything and writes what fits (NUL kept room). */
struct out {
	char *buf;
	size_t cap, len;
};

static void put_n(struct out *o, const char *s, size_t n)
{
	if (o->len + n < o->cap)
		memcpy(o->buf + o->len, s, n);
	o->len += n;
}

static void put(struct out *o, const char *s)
{
	put_n(o, s, strlen(s));
}

/* s without leading and trailing white space (as llama.cpp's trim()). */
static void put_trim(struct out *o, const char *s)
{
	size_t n;

	while (*s && isspace((unsigned char)*s))
		s++;
	n = strlen(s);
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	put_n(o, s, n);
}

static void chatml(struct out *o, const struct amxrt_chat_msg *m, int n,
		   int add_assistant)
{
	int i;

	for (i = 0; i < n; i++) {
		put(o, "<|im_start|>");
		put(o, m[i].role);
		put(o, "\n");
		put(o, m[i].content);
		put(o, "<|im_end|>\n");
	}
	if (add_assistant)
		put(o, "<|im_start|>assistant\n");
}

static void llama3(struct out *o, const struct amxrt_chat_msg *m, int n,
		   int add_assistant)
{
	int i;

	for (i = 0; i < n; i++) {
		put(o, "<|start_header_id|>");
		put(o, m[i].role);
		put(o, "<|end_header_id|>\n\n");
		put_trim(o, m[i].content);
		put(o, "<|eot_id|>");
	}
	if (add_assistant)
		put(o, "<|start_header_id|>assistant<|end_header_id|>\n\n");
}

/* The prompt ends with " [/INST]" after a user turn: nothing to add. */
static void llama2(struct out *o, enum kind k, const struct amxrt_chat_msg *m,
		   int n)
{
	int in_turn = 1, i;

	put(o, "[INST] ");
	for (i = 0; i < n; i++) {
		const char *role = m[i].role;

		if (!in_turn) {
			in_turn = 1;
			put(o, k == KIND_LLAMA2_SYS_BOS ? "<s>[INST] " :
							  "[INST] ");
		}
		if (!strcmp(role, "system") && k != KIND_LLAMA2)
			put(o, "<<SYS>>\n");
		if (k == KIND_LLAMA2_SYS_STRIP)
			put_trim(o, m[i].content);
		else
			put(o, m[i].content);
		if (!strcmp(role, "system")) {
			put(o, k != KIND_LLAMA2 ? "\n<</SYS>>\n\n" : "\n");
		} else if (!strcmp(role, "user")) {
			put(o, " [/INST]");
		} else {
			put(o, "</s>");
			in_turn = 0;
		}
	}
}

int amxrt_chat_format(const char *tmpl, const struct amxrt_chat_msg *msgs,
		      int n, int add_assistant, char *buf, size_t cap,
		      size_t *needed)
{
	struct out o = { buf, buf ? cap : 0, 0 };
	enum kind k = detect(tmpl);
	int i;

	if (!tmpl)
		return amxrt_err(EINVAL,
				 "chat: the model has no chat template");
	if (k == KIND_NONE)
		return amxrt_err(ENOTSUP,
				 "chat: unknown chat template \"%.40s%s\" "
				 "(known: chatml, llama3, llama2)",
				 tmpl, strlen(tmpl) > 40 ? "..." : "");
	if (n < 0 || (n && !msgs))
		return amxrt_err(EINVAL, "chat: %d messages", n);
	for (i = 0; i < n; i++)
		if (!msgs[i].role || !msgs[i].content)
			return amxrt_err(EINVAL,
					 "chat: message %d has no role or "
					 "content",
					 i);

	if (k == KIND_CHATML)
		chatml(&o, msgs, n, add_assistant);
	else if (k == KIND_LLAMA3)
		llama3(&o, msgs, n, add_assistant);
	else
		llama2(&o, k, msgs, n);

	if (needed)
		*needed = o.len + 1;
	if (o.len > (size_t)0x7fffffff)
		return amxrt_err(EOVERFLOW, "chat: prompt of %zu bytes", o.len);
	if (o.len >= o.cap)
		return amxrt_err(ENOSPC,
				 "chat: the prompt needs %zu bytes, the "
				 "buffer has %zu",
				 o.len + 1, cap);
	buf[o.len] = '\0';
	return (int)o.len;
}
