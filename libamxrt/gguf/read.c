// SPDX-License-Identifier: MIT
/*
 * read.c - the GGUF reader: map, validate, look up keys and tensors.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#include <amxrt/gguf.h>

#include "../core/error.h"

int amxrt_gguf_open(const char *path, struct amxrt_gguf **out)
{
	*out = NULL;
	return amxrt_err(ENOSYS, "gguf reader: not implemented yet");
}

int amxrt_gguf_open_mem(const void *buf, size_t size, struct amxrt_gguf **out)
{
	*out = NULL;
	return amxrt_err(ENOSYS, "gguf reader: not implemented yet");
}

void amxrt_gguf_close(struct amxrt_gguf *g)
{
}

uint32_t amxrt_gguf_version(const struct amxrt_gguf *g)
{
	return 0;
}

uint32_t amxrt_gguf_alignment(const struct amxrt_gguf *g)
{
	return 0;
}

size_t amxrt_gguf_data_offset(const struct amxrt_gguf *g)
{
	return 0;
}

int64_t amxrt_gguf_kv_count(const struct amxrt_gguf *g)
{
	return 0;
}

const char *amxrt_gguf_kv_key(const struct amxrt_gguf *g, int64_t i)
{
	return NULL;
}

enum amxrt_gguf_type amxrt_gguf_kv_type(const struct amxrt_gguf *g, int64_t i)
{
	return AMXRT_GGUF_UINT8;
}

int64_t amxrt_gguf_find_key(const struct amxrt_gguf *g, const char *key)
{
	return -1;
}

int amxrt_gguf_get_int(const struct amxrt_gguf *g, const char *key,
		       int64_t *out)
{
	return amxrt_err(ENOSYS, "gguf reader: not implemented yet");
}

int amxrt_gguf_get_float(const struct amxrt_gguf *g, const char *key,
			 double *out)
{
	return amxrt_err(ENOSYS, "gguf reader: not implemented yet");
}

int amxrt_gguf_get_str(const struct amxrt_gguf *g, const char *key,
		       const char **s, size_t *len)
{
	return amxrt_err(ENOSYS, "gguf reader: not implemented yet");
}

int amxrt_gguf_get_arr(const struct amxrt_gguf *g, const char *key,
		       enum amxrt_gguf_type *elem, uint64_t *n,
		       const void **data)
{
	return amxrt_err(ENOSYS, "gguf reader: not implemented yet");
}

int amxrt_gguf_arr_str(const struct amxrt_gguf *g, const char *key, uint64_t i,
		       const char **s, size_t *len)
{
	return amxrt_err(ENOSYS, "gguf reader: not implemented yet");
}

int64_t amxrt_gguf_tensor_count(const struct amxrt_gguf *g)
{
	return 0;
}

int amxrt_gguf_tensor(const struct amxrt_gguf *g, int64_t i,
		      struct amxrt_gguf_tensor *t)
{
	return amxrt_err(ENOSYS, "gguf reader: not implemented yet");
}

int64_t amxrt_gguf_find_tensor(const struct amxrt_gguf *g, const char *name)
{
	return -1;
}
