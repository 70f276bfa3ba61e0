/* SPDX-License-Identifier: MIT */
/*
 * amxrt/gguf.h - reading and writing GGUF files (versions 2 and 3).
 *
 * The reader maps a file (or takes a buffer), validates all of it before
 * returning, and then hands out metadata and tensors without copying.
 * Every refusal returns -EINVAL (or -ENOENT, -ENOMEM, -EIO) with
 * amxrt_errmsg() naming the problem and the byte offset where it was found.
 *
 * The writer collects metadata and tensors, then writes the file in one
 * pass, in the key and tensor names llama.cpp uses.
 */
#ifndef AMXRT_GGUF_H
#define AMXRT_GGUF_H

#include <stddef.h>
#include <stdint.h>

#include <amxrt/quant.h>

#ifdef __cplusplus
extern "C" {
#endif

#pragma GCC visibility push(default)

/* Metadata value types, numbered as in the GGUF specification. */
enum amxrt_gguf_type {
	AMXRT_GGUF_UINT8 = 0,
	AMXRT_GGUF_INT8 = 1,
	AMXRT_GGUF_UINT16 = 2,
	AMXRT_GGUF_INT16 = 3,
	AMXRT_GGUF_UINT32 = 4,
	AMXRT_GGUF_INT32 = 5,
	AMXRT_GGUF_FLOAT32 = 6,
	AMXRT_GGUF_BOOL = 7,
	AMXRT_GGUF_STRING = 8,
	AMXRT_GGUF_ARRAY = 9,
	AMXRT_GGUF_UINT64 = 10,
	AMXRT_GGUF_INT64 = 11,
	AMXRT_GGUF_FLOAT64 = 12,
};

#define AMXRT_GGUF_MAX_DIMS 4

struct amxrt_gguf; /* opaque: an open, validated GGUF file */

struct amxrt_gguf_tensor {
	const char *name; /* NUL-terminated, owned by the file */
	enum amxrt_type type;
	int n_dims;
	int64_t ne[AMXRT_GGUF_MAX_DIMS]; /* ne[0] is the row length; 1 past n_dims */
	uint64_t offset; /* from the start of the data section */
	size_t size; /* bytes */
	const void *data; /* NULL in a vocabulary-only file without data */
};

/*
 * Open and validate a file (mapped read-only) or a caller-owned buffer
 * (not copied: it must outlive the handle). Returns 0 with *out set, or a
 * negative errno with *out NULL: -EINVAL for anything wrong in the file,
 * the message reading "PATH: ITEM: PROBLEM (file offset N)" ("gguf: ..."
 * for a buffer). Versions 2 and 3; a file without tensors may end before
 * its data section's padding. Tensor types other than F32, F16, BF16,
 * Q4_0, Q4_1 and Q8_0 are refused by name. Documentation/gguf.md lists
 * every rule.
 */
int amxrt_gguf_open(const char *path, struct amxrt_gguf **out);
int amxrt_gguf_open_mem(const void *buf, size_t size, struct amxrt_gguf **out);
void amxrt_gguf_close(struct amxrt_gguf *g);

uint32_t amxrt_gguf_version(const struct amxrt_gguf *g);
uint32_t amxrt_gguf_alignment(const struct amxrt_gguf *g);
size_t amxrt_gguf_data_offset(const struct amxrt_gguf *g);

/*
 * Metadata: keys in file order (kv_key: NULL, kv_type: -1 for an index
 * out of range); index of key, or -1; then typed getters by key.
 */
int64_t amxrt_gguf_kv_count(const struct amxrt_gguf *g);
const char *amxrt_gguf_kv_key(const struct amxrt_gguf *g, int64_t i);
enum amxrt_gguf_type amxrt_gguf_kv_type(const struct amxrt_gguf *g, int64_t i);
int64_t amxrt_gguf_find_key(const struct amxrt_gguf *g, const char *key);

/*
 * Getters return 0, -ENOENT when the key is absent (message set, so a
 * caller with a default just ignores it), -EINVAL when it has another
 * type. get_int accepts every integer type and bool; get_float accepts
 * float32/64 and integers.
 */
int amxrt_gguf_get_int(const struct amxrt_gguf *g, const char *key,
		       int64_t *out);
int amxrt_gguf_get_float(const struct amxrt_gguf *g, const char *key,
			 double *out);
int amxrt_gguf_get_str(const struct amxrt_gguf *g, const char *key,
		       const char **s, size_t *len);
/*
 * Strings (get_str, arr_str) are NUL-terminated copies owned by the file
 * handle; len excludes the NUL. Arrays: element type and count; data
 * points at the packed elements, copied at open and aligned for their type
 * (NULL for string arrays: use amxrt_gguf_arr_str, O(1) per element, which
 * returns -EINVAL for an index past the end). Out pointers may be NULL.
 */
int amxrt_gguf_get_arr(const struct amxrt_gguf *g, const char *key,
		       enum amxrt_gguf_type *elem, uint64_t *n,
		       const void **data);
int amxrt_gguf_arr_str(const struct amxrt_gguf *g, const char *key, uint64_t i,
		       const char **s, size_t *len);

/* Tensors, in file order (-EINVAL for an index out of range). find
 * returns the index or -1. Lookups by key or name are hashed. */
int64_t amxrt_gguf_tensor_count(const struct amxrt_gguf *g);
int amxrt_gguf_tensor(const struct amxrt_gguf *g, int64_t i,
		      struct amxrt_gguf_tensor *t);
int64_t amxrt_gguf_find_tensor(const struct amxrt_gguf *g, const char *name);

/* ---- writer ---------------------------------------------------------- */

struct amxrt_gguf_writer; /* opaque */

/*
 * Produces a tensor's bytes when the file is written, into dst (size is
 * exactly the tensor's bytes). Returns 0, or a negative errno that aborts
 * the write with that error.
 */
typedef int (*amxrt_gguf_fill_fn)(void *ctx, void *dst, size_t size);

int amxrt_gguf_writer_new(struct amxrt_gguf_writer **out);
void amxrt_gguf_writer_free(struct amxrt_gguf_writer *w);

/*
 * Metadata setters return 0 or -EINVAL (NULL or empty key, NULL string) or
 * -ENOMEM. Setting a key again replaces its value (and type); keys keep
 * first-set order.
 */
int amxrt_gguf_set_u32(struct amxrt_gguf_writer *w, const char *key,
		       uint32_t v);
int amxrt_gguf_set_i32(struct amxrt_gguf_writer *w, const char *key, int32_t v);
int amxrt_gguf_set_u64(struct amxrt_gguf_writer *w, const char *key,
		       uint64_t v);
int amxrt_gguf_set_f32(struct amxrt_gguf_writer *w, const char *key, float v);
int amxrt_gguf_set_bool(struct amxrt_gguf_writer *w, const char *key, int v);
int amxrt_gguf_set_str(struct amxrt_gguf_writer *w, const char *key,
		       const char *v);
/* Array of fixed-size elements (not strings), copied. For string arrays
 * lens may be NULL (each string's strlen). */
int amxrt_gguf_set_arr(struct amxrt_gguf_writer *w, const char *key,
		       enum amxrt_gguf_type elem, const void *data, uint64_t n);
int amxrt_gguf_set_arr_str(struct amxrt_gguf_writer *w, const char *key,
			   const char *const *strs, const size_t *lens,
			   uint64_t n);
/* Copy every key of g with its type (except those for which skip returns
 * nonzero); a uint64 above INT64_MAX is copied through a double. */
int amxrt_gguf_copy_kv(struct amxrt_gguf_writer *w, const struct amxrt_gguf *g,
		       int (*skip)(const char *key));

/*
 * Add a tensor: data is borrowed until amxrt_gguf_write() (NULL: fill is
 * called then, with fill_ctx, to produce it). ne[0] must be a multiple of
 * the type's block size; 1 to 4 dims, each >= 1; a unique name of 1 to 63
 * bytes; a type the reader takes (not Q8_1). Returns 0, -EINVAL, -EEXIST
 * (name used) or -ENOMEM.
 */
int amxrt_gguf_add_tensor(struct amxrt_gguf_writer *w, const char *name,
			  enum amxrt_type type, int n_dims, const int64_t *ne,
			  const void *data, amxrt_gguf_fill_fn fill,
			  void *fill_ctx);

/*
 * Write version 3, alignment general.alignment (a uint32 power of two) or
 * 32, to path atomically: a temporary file beside it (PATH.tmp-PID-N),
 * fsync, rename. A failure leaves no partial file and path as it was, and
 * returns the negative errno (of open, write, a fill callback, ...) with a
 * message naming path and the cause.
 */
int amxrt_gguf_write(struct amxrt_gguf_writer *w, const char *path);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif

#endif /* AMXRT_GGUF_H */
