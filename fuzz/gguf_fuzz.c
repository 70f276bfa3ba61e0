// SPDX-License-Identifier: MIT
/*
 * gguf_fuzz.c - libFuzzer target for the GGUF reader and the tokenizer
 * loader (`make fuzz`).
 *
 * Each input goes through amxrt_gguf_open_mem(); a file that opens is walked
 * whole: every key through every getter, every array element, every tensor's
 * first and last data byte; then a tokenizer is built from its metadata and, if
 * that succeeds, tokenizes a short text whose ids must all be in the
 * vocabulary, and each of them turns back into bytes. libFuzzer hands over an
 * exactly-sized heap copy, so ASan reports any read past the input; the target
 * itself traps when an opened file breaks a reader invariant (tensor data
 * outside the input, an unterminated string, a lookup that does not find what
 * the file lists) or a refusal leaves no message.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <amxrt/amxrt.h>
#include <amxrt/tokenizer.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                       \
	do {                              \
		if (!(cond))              \
			__builtin_trap(); \
	} while (0)

static volatile uint64_t sink;

static void walk_kv(const struct amxrt_gguf *g, int64_t i)
{
	const char *k = amxrt_gguf_kv_key(g, i);
	enum amxrt_gguf_type elem;
	const void *arr;
	const char *s;
	uint64_t n, j;
	size_t len;
	int64_t v;
	double d;

	CHECK(k && *k);
	CHECK(amxrt_gguf_find_key(g, k) == i);
	CHECK((int)amxrt_gguf_kv_type(g, i) >= 0 &&
	      (int)amxrt_gguf_kv_type(g, i) <= AMXRT_GGUF_FLOAT64);
	if (!amxrt_gguf_get_int(g, k, &v))
		sink += (uint64_t)v;
	if (!amxrt_gguf_get_float(g, k, &d))
		sink += d == d;
	if (!amxrt_gguf_get_str(g, k, &s, &len)) {
		CHECK(s[len] == '\0');
		sink += len;
	}
	if (amxrt_gguf_get_arr(g, k, &elem, &n, &arr))
		return;
	CHECK(amxrt_gguf_kv_type(g, i) == AMXRT_GGUF_ARRAY);
	for (j = 0; j < n; j++) {
		if (elem == AMXRT_GGUF_STRING) {
			CHECK(!amxrt_gguf_arr_str(g, k, j, &s, &len));
			CHECK(s[len] == '\0');
			sink += len;
		} else {
			sink += ((const uint8_t *)arr)[j];
		}
	}
	if (elem == AMXRT_GGUF_STRING)
		CHECK(amxrt_gguf_arr_str(g, k, n, &s, &len) == -22);
}

static void try_tokenizer(const struct amxrt_gguf *g)
{
	static const char text[] = "Hello, world! 123 <s> caf\xc3\xa9";
	struct amxrt_tokenizer *t = NULL;
	int32_t ids[64];
	char piece[256];
	int n, i;

	if (amxrt_tokenizer_load(g, &t)) {
		CHECK(amxrt_errmsg()[0]);
		return;
	}
	CHECK(t && amxrt_tokenizer_n_vocab(t) > 0);
	n = amxrt_tokenize(t, text, sizeof(text) - 1, 0, ids, 64, NULL);
	CHECK(n >= 0 || n == -ENOSPC);
	for (i = 0; i < n; i++) {
		CHECK(ids[i] >= 0 && ids[i] < amxrt_tokenizer_n_vocab(t));
		sink += (uint64_t)amxrt_token_piece(t, ids[i], 1, piece,
						    sizeof(piece));
	}
	amxrt_tokenizer_free(t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct amxrt_gguf *g = NULL;
	int64_t i;

	if (amxrt_gguf_open_mem(data, size, &g)) {
		CHECK(!g && amxrt_errmsg()[0]);
		return 0;
	}
	CHECK(amxrt_gguf_version(g) == 2 || amxrt_gguf_version(g) == 3);
	for (i = 0; i < amxrt_gguf_kv_count(g); i++)
		walk_kv(g, i);
	for (i = 0; i < amxrt_gguf_tensor_count(g); i++) {
		struct amxrt_gguf_tensor t;
		const uint8_t *p;

		CHECK(!amxrt_gguf_tensor(g, i, &t));
		CHECK(amxrt_gguf_find_tensor(g, t.name) == i);
		CHECK(t.n_dims >= 1 && t.n_dims <= AMXRT_GGUF_MAX_DIMS);
		p = t.data;
		CHECK(p >= data && t.size && t.size <= size &&
		      (size_t)(p - data) <= size - t.size);
		sink += p[0] + p[t.size - 1];
	}
	try_tokenizer(g);
	amxrt_gguf_close(g);
	return 0;
}
