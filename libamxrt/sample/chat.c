// SPDX-License-Identifier: MIT
/*
 * chat.c - chat prompts: recognize a model's chat template by its markers
 * and format messages the way that model was trained on.
 */
#include <errno.h>
#include <stddef.h>

#include <amxrt/sample.h>

#include "../core/error.h"

int amxrt_chat_format(const char *tmpl, const struct amxrt_chat_msg *msgs,
		      int n, int add_assistant, char *buf, size_t cap,
		      size_t *needed)
{
	return amxrt_err(ENOSYS, "chat templates: not implemented yet");
}

const char *amxrt_chat_template_name(const char *tmpl)
{
	return NULL;
}
