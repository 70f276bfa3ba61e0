// SPDX-License-Identifier: MIT
/*
 * Description: chat templates. A template is recognized by its markers
 * ("<|im_start|>": chatml, "<|start_header_id|>": llama3, "[INST]":
 * llama2 and its variants) and a conversation is formatted byte for byte
 * as those models expect. The expected strings are llama.cpp's
 * (tests/test-chat-template.cpp, same six-message conversation). The
 * templates of the bundled Qwen3 and Llama-3 vocabularies are recognized;
 * unknown templates, short buffers and bad messages are refused with the
 * size needed or the reason.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kselftest_harness.h"

#include <amxrt/amxrt.h>

static const struct amxrt_chat_msg conv[] = {
	{ "system", "You are a helpful assistant" },
	{ "user", "Hello" },
	{ "assistant", "Hi there" },
	{ "user", "Who are you" },
	{ "assistant", "   I am an assistant   " },
	{ "user", "Another question" },
};

#define N_CONV ((int)(sizeof(conv) / sizeof(conv[0])))

/* Short stand-ins holding each family's markers (not whole templates). */
#define T_CHATML                                                \
	"{% for m in messages %}{{'<|im_start|>' + m['role']}}" \
	"{% endfor %}"
#define T_LLAMA3                                                       \
	"{% for m in messages %}{{'<|start_header_id|>' + m['role'] +" \
	" '<|end_header_id|>\\n\\n'}}{% endfor %}"
#define T_LLAMA2 "{{ '[INST] ' + m['content'] + ' [/INST]' }}"
#define T_LLAMA2_SYS "{{ '[INST] <<SYS>>\\n' + s }}{{ '[INST] ' + u }}"
#define T_LLAMA2_BOS \
	"{{ '[INST] <<SYS>>\\n' + s }}{{- bos_token + '[INST] ' + u -}}"
#define T_LLAMA2_STRIP "{{ '[INST] ' + content.strip() + ' [/INST]' }}"

static const char want_chatml[] =
	"<|im_start|>system\nYou are a helpful assistant<|im_end|>\n"
	"<|im_start|>user\nHello<|im_end|>\n"
	"<|im_start|>assistant\nHi there<|im_end|>\n"
	"<|im_start|>user\nWho are you<|im_end|>\n"
	"<|im_start|>assistant\n   I am an assistant   <|im_end|>\n"
	"<|im_start|>user\nAnother question<|im_end|>\n"
	"<|im_start|>assistant\n";

static const char want_llama3[] =
	"<|start_header_id|>system<|end_header_id|>\n\n"
	"You are a helpful assistant<|eot_id|>"
	"<|start_header_id|>user<|end_header_id|>\n\nHello<|eot_id|>"
	"<|start_header_id|>assistant<|end_header_id|>\n\nHi there<|eot_id|>"
	"<|start_header_id|>user<|end_header_id|>\n\nWho are you<|eot_id|>"
	"<|start_header_id|>assistant<|end_header_id|>\n\n"
	"I am an assistant<|eot_id|>"
	"<|start_header_id|>user<|end_header_id|>\n\nAnother question"
	"<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n";

static const char want_llama2[] =
	"[INST] You are a helpful assistant\nHello [/INST]Hi there</s>"
	"[INST] Who are you [/INST]   I am an assistant   </s>"
	"[INST] Another question [/INST]";

static const char want_llama2_sys[] =
	"[INST] <<SYS>>\nYou are a helpful assistant\n<</SYS>>\n\n"
	"Hello [/INST]Hi there</s>"
	"[INST] Who are you [/INST]   I am an assistant   </s>"
	"[INST] Another question [/INST]";

static const char want_llama2_bos[] =
	"[INST] <<SYS>>\nYou are a helpful assistant\n<</SYS>>\n\n"
	"Hello [/INST]Hi there</s>"
	"<s>[INST] Who are you [/INST]   I am an assistant   </s>"
	"<s>[INST] Another question [/INST]";

static const char want_llama2_strip[] =
	"[INST] <<SYS>>\nYou are a helpful assistant\n<</SYS>>\n\n"
	"Hello [/INST]Hi there</s>"
	"[INST] Who are you [/INST]I am an assistant</s>"
	"[INST] Another question [/INST]";

static const struct {
	const char *tmpl, *name, *want;
} cases[] = {
	{ T_CHATML, "chatml", want_chatml },
	{ "chatml", "chatml", want_chatml },
	{ T_LLAMA3, "llama3", want_llama3 },
	{ "llama3", "llama3", want_llama3 },
	{ T_LLAMA2, "llama2", want_llama2 },
	{ T_LLAMA2_SYS, "llama2", want_llama2_sys },
	{ "llama2", "llama2", want_llama2_sys },
	{ T_LLAMA2_BOS, "llama2", want_llama2_bos },
	{ T_LLAMA2_STRIP, "llama2", want_llama2_strip },
};

TEST(formats_exactly)
{
	char buf[2048];
	size_t i, needed;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int n;

		TH_LOG("case %zu (%s)", i, cases[i].name);
		EXPECT_STREQ(cases[i].name,
			     amxrt_chat_template_name(cases[i].tmpl));
		memset(buf, 0xcc, sizeof(buf));
		n = amxrt_chat_format(cases[i].tmpl, conv, N_CONV, 1, buf,
				      sizeof(buf), &needed);
		ASSERT_EQ((int)strlen(cases[i].want), n);
		EXPECT_STREQ(cases[i].want, buf);
		EXPECT_EQ((size_t)n + 1, needed);
	}
}

TEST(assistant_prefix_is_optional)
{
	char buf[512];
	const struct amxrt_chat_msg one = { "user", "Hi" };

	ASSERT_EQ(30, amxrt_chat_format(T_CHATML, &one, 1, 0, buf, sizeof(buf),
					NULL));
	EXPECT_STREQ("<|im_start|>user\nHi<|im_end|>\n", buf);
	ASSERT_LT(0, amxrt_chat_format(T_LLAMA3, &one, 1, 0, buf, sizeof(buf),
				       NULL));
	EXPECT_STREQ("<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>",
		     buf);
	/* no messages: only the prefix */
	ASSERT_LT(0, amxrt_chat_format(T_CHATML, NULL, 0, 1, buf, sizeof(buf),
				       NULL));
	EXPECT_STREQ("<|im_start|>assistant\n", buf);
}

TEST(short_buffer_reports_size)
{
	char buf[4096];
	size_t needed = 0, full = strlen(want_chatml);

	memset(buf, 0xcc, sizeof(buf));
	EXPECT_EQ(-ENOSPC, amxrt_chat_format(T_CHATML, conv, N_CONV, 1, buf,
					     full, &needed));
	EXPECT_EQ(full + 1, needed);
	/* nothing written past cap */
	EXPECT_EQ((char)0xcc, buf[full]);
	EXPECT_EQ(-ENOSPC, amxrt_chat_format(T_CHATML, conv, N_CONV, 1, NULL, 0,
					     &needed));
	EXPECT_EQ(full + 1, needed);
	EXPECT_NE(NULL, strstr(amxrt_errmsg(), "needs"));
	EXPECT_EQ((int)full, amxrt_chat_format(T_CHATML, conv, N_CONV, 1, buf,
					       needed, NULL));
	EXPECT_STREQ(want_chatml, buf);
}

TEST(unknown_and_bad_input_refused)
{
	struct amxrt_chat_msg bad = { "user", NULL };
	char buf[256];

	EXPECT_EQ(NULL, amxrt_chat_template_name("{{ messages }}"));
	EXPECT_EQ(NULL, amxrt_chat_template_name(NULL));
	EXPECT_EQ(NULL, amxrt_chat_template_name(""));
	EXPECT_EQ(-ENOTSUP, amxrt_chat_format("{{ messages }}", conv, N_CONV, 1,
					      buf, sizeof(buf), NULL));
	EXPECT_NE(NULL, strstr(amxrt_errmsg(), "unknown chat template"));
	EXPECT_EQ(-EINVAL, amxrt_chat_format(NULL, conv, N_CONV, 1, buf,
					     sizeof(buf), NULL));
	EXPECT_EQ(-EINVAL, amxrt_chat_format(T_CHATML, &bad, 1, 1, buf,
					     sizeof(buf), NULL));
	EXPECT_EQ(-EINVAL, amxrt_chat_format(T_CHATML, NULL, 2, 1, buf,
					     sizeof(buf), NULL));
	EXPECT_EQ(-EINVAL, amxrt_chat_format(T_CHATML, conv, -1, 1, buf,
					     sizeof(buf), NULL));
}

/* The chat template of a bundled vocabulary, or a SKIP reason. */
static int file_template(const char *rel, struct amxrt_gguf **g,
			 const char **tmpl, char *why, size_t len)
{
	const char *src = getenv("AMXRT_SRCDIR");
	char path[1024];
	size_t n;
	int r;

	snprintf(path, sizeof(path), "%s/models/vocab/%s",
		 src && *src ? src : ".", rel);
	r = amxrt_gguf_open(path, g);
	if (r) {
		snprintf(why, len, "%s: %s", path, amxrt_errmsg());
		return r;
	}
	r = amxrt_gguf_get_str(*g, "tokenizer.chat_template", tmpl, &n);
	if (r) {
		snprintf(why, len, "%s: %s", path, amxrt_errmsg());
		amxrt_gguf_close(*g);
	}
	return r;
}

TEST(bundled_templates_recognized)
{
	static const struct {
		const char *file, *name, *start;
	} files[] = {
		{ "recon-vocab-qwen2.gguf", "chatml", "<|im_start|>user\n" },
		{ "recon-vocab-llama-bpe.gguf", "llama3",
		  "<|start_header_id|>user<|end_header_id|>\n\n" },
	};
	const struct amxrt_chat_msg one = { "user", " Tell me a story. " };
	char why[1200], buf[512];
	size_t i;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		struct amxrt_gguf *g;
		const char *tmpl;
		int r = file_template(files[i].file, &g, &tmpl, why,
				      sizeof(why));

		if (r == -ENOSYS)
			SKIP(return, "the GGUF reader is not built yet: %.900s",
				   why);
		ASSERT_EQ(0, r)
		TH_LOG("%s", why);
		EXPECT_STREQ(files[i].name, amxrt_chat_template_name(tmpl));
		ASSERT_LT(0, amxrt_chat_format(tmpl, &one, 1, 1, buf,
					       sizeof(buf), NULL));
		EXPECT_EQ(0,
			  strncmp(buf, files[i].start, strlen(files[i].start)));
		amxrt_gguf_close(g);
	}
}

TEST_HARNESS_MAIN
