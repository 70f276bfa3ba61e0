/* SPDX-License-Identifier: MIT */
/*
 * gguf_int.h - the reader's in-memory form of a validated GGUF file,
 * shared by read.c (open and validate) and query.c (lookups), and the
 * value sizes the writer (write.c) uses too. Internal.
 *
 * Keys, tensor names, string values and every array are copied once at
 * open into one pool (strings NUL-terminated, arrays 8-byte aligned), so
 * what the getters hand out is aligned and terminated. Tensor data and
 * scalar values stay in the file (or the caller's buffer).
 */
#ifndef AMXRT_GGUF_INT_H
#define AMXRT_GGUF_INT_H

#include <stddef.h>
#include <stdint.h>

#include <amxrt/gguf.h>

#include "../core/error.h" /* AMXRT_HIDDEN */

#define GGUF_MAGIC "GGUF"
#define GGUF_DEFAULT_ALIGNMENT 32
#define GGUF_MAX_KEY 65535 /* the specification's limit */

struct gguf_kv {
	size_t key; /* pool offset of the NUL-terminated key */
	size_t key_len;
	enum amxrt_gguf_type type;
	enum amxrt_gguf_type elem; /* arrays: element type */
	uint64_t n; /* arrays: element count; strings: length */
	size_t val; /* scalars: file offset; strings, arrays: pool offset */
	size_t str; /* string arrays: first index in strs[] (n + 1 entries) */
	size_t at; /* file offset of the key, for messages */
};

struct gguf_tensor {
	size_t name; /* pool offset */
	size_t name_len;
	enum amxrt_type type;
	int n_dims;
	int64_t ne[AMXRT_GGUF_MAX_DIMS];
	uint64_t offset; /* from the data section */
	size_t size;
	size_t at; /* file offset of the tensor info, for messages */
};

struct amxrt_gguf {
	const uint8_t *base;
	size_t size;
	int mapped; /* base is our mmap: unmap at close */

	uint32_t version;
	uint32_t alignment;
	size_t data_offset;

	int64_t n_kv, n_tensors;
	struct gguf_kv *kv;
	struct gguf_tensor *tensors;

	char *pool;
	size_t pool_len;
	/* string arrays: element i of a kv is pool[strs[str + i]], its length
	 * strs[str + i + 1] - strs[str + i] - 1 */
	size_t *strs;

	/* open addressing, linear probing: index + 1, 0 = empty */
	int64_t *kv_hash, *tensor_hash;
	size_t kv_mask, tensor_mask;
};

/*
 * Find name (len bytes, no NUL needed) among the keys (tensors = 0) or the
 * tensor names (tensors = 1) already in the hash table. Returns the index,
 * or -1 with *slot set to the empty slot where it would go.
 */
int64_t amxrt_gguf_probe(const struct amxrt_gguf *g, int tensors,
			 const char *name, size_t len, size_t *slot);

/* Bytes of one value of a fixed-size type; 0 for string, array, unknown. */
static inline size_t amxrt_gguf_scalar_size(uint32_t type)
{
	switch (type) {
	case AMXRT_GGUF_UINT8:
	case AMXRT_GGUF_INT8:
	case AMXRT_GGUF_BOOL:
		return 1;
	case AMXRT_GGUF_UINT16:
	case AMXRT_GGUF_INT16:
		return 2;
	case AMXRT_GGUF_UINT32:
	case AMXRT_GGUF_INT32:
	case AMXRT_GGUF_FLOAT32:
		return 4;
	case AMXRT_GGUF_UINT64:
	case AMXRT_GGUF_INT64:
	case AMXRT_GGUF_FLOAT64:
		return 8;
	default:
		return 0;
	}
}

/*
 * query.c: the string array key as one block. Its n strings lie back to
 * back in the pool, each NUL-terminated: element i is base + offs[i],
 * offs[i + 1] - offs[i] - 1 bytes long (offs has n + 1 entries). For
 * readers of large arrays (a vocabulary), which would otherwise look the
 * key up once per element. 0, or -errno as amxrt_gguf_arr_str().
 */
AMXRT_HIDDEN int amxrt_gguf_str_block(const struct amxrt_gguf *g,
				      const char *key, const char **base,
				      const size_t **offs, uint64_t *n);

#endif /* AMXRT_GGUF_INT_H */
