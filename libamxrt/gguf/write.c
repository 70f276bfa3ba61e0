// SPDX-License-Identifier: MIT
/*
 * write.c - the GGUF writer: collect metadata and tensors, write atomically.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#include <amxrt/gguf.h>

#include "../core/error.h"

int amxrt_gguf_writer_new(struct amxrt_gguf_writer **out)
{
	*out = NULL;
	return amxrt_err(ENOSYS, "gguf writer: not implemented yet");
}

void amxrt_gguf_writer_free(struct amxrt_gguf_writer *w)
{
}

int amxrt_gguf_set_u32(struct amxrt_gguf_writer *w, const char *key, uint32_t v)
{
	return amxrt_err(ENOSYS, "gguf writer: not implemented yet");
}

int amxrt_gguf_set_i32(struct amxrt_gguf_writer *w, const char *key, int32_t v)
{
	return amxrt_err(ENOSYS, "gguf writer: not implemented yet");
}

int amxrt_gguf_set_u64(struct amxrt_gguf_writer *w, const char *key, uint64_t v)
{
	return amxrt_err(ENOSYS, "gguf writer: not implemented yet");
}

int amxrt_gguf_set_f32(struct amxrt_gguf_writer *w, const char *key, float v)
{
	return amxrt_err(ENOSYS, "gguf writer: not implemented yet");
}

int amxrt_gguf_set_bool(struct amxrt_gguf_writer *w, const char *key, int v)
{
	return amxrt_err(ENOSYS, "gguf writer: not implemented yet");
}

int amxrt_gguf_set_str(struct amxrt_gguf_writer *w, const char *key,
		       const char *v)
{
	return amxrt_err(ENOSYS, "gguf writer: not implemented yet");
}

int amxrt_gguf_set_arr(struct amxrt_gguf_writer *w, const char *key,
		       enum amxrt_gguf_type elem, const void *data, uint64_t n)
{
	return amxrt_err(ENOSYS, "gguf writer: not implemented yet");
}

int amxrt_gguf_set_arr_str(struct amxrt_gguf_writer *w, const char *key,
			   const char *const *strs, const size_t *lens,
			   uint64_t n)
{
	return amxrt_err(ENOSYS, "gguf writer: not implemented yet");
}

int amxrt_gguf_copy_kv(struct amxrt_gguf_writer *w, const struct amxrt_gguf *g,
		       int (*skip)(const char *key))
{
	return amxrt_err(ENOSYS, "gguf writer: not implemented yet");
}

int amxrt_gguf_add_tensor(struct amxrt_gguf_writer *w, const char *name,
			  enum amxrt_type type, int n_dims, const int64_t *ne,
			  const void *data, amxrt_gguf_fill_fn fill,
			  void *fill_ctx)
{
	return amxrt_err(ENOSYS, "gguf writer: not implemented yet");
}

int amxrt_gguf_write(struct amxrt_gguf_writer *w, const char *path)
{
	return amxrt_err(ENOSYS, "gguf writer: not implemented yet");
}
