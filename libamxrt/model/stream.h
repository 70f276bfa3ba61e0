/* SPDX-License-Identifier: MIT */
/*
 * stream.h - streaming the matmul weights' bytes from the model file into
 * their packed weights: large aligned reads in flight (libamxrt/io) while
 * the library's threads pack the chunks that have landed. Internal.
 */
#ifndef AMXRT_MODEL_STREAM_H
#define AMXRT_MODEL_STREAM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include <amxrt/matmul.h>
#include <amxrt/model.h>

/* One weight to fill: its rows, contiguous in the file. */
struct amxrt_stream_mat {
	const char *tensor; /* the GGUF tensor, for messages */
	struct amxrt_weight *w; /* allocated, unpacked (amxrt_weight_alloc) */
	uint64_t off; /* file offset of row 0 */
	int64_t rows;
	size_t row_bytes;
	uint64_t tensor_end; /* file offset just past the whole tensor */
	uint64_t done; /* bytes handled (internal) */
};

/* Called with the bytes of weight data handled since the last call;
 * nonzero stops the load with -ECANCELED. */
typedef int (*amxrt_stream_progress_fn)(void *ctx, uint64_t bytes);

/*
 * Fill the n weights of mats (in any order; sorted here by offset) from
 * path. expect is the file as it was when its header was read: a file
 * that is another one, or changes size or mtime before the end, is an
 * error. map is the file's read-only mapping (NULL: none), used to see
 * whether the weights are already cached. st gets the report. Returns 0
 * or -errno with the message naming the path, and the tensor where the
 * file ended.
 */
int amxrt_stream_mats(const char *path, const struct stat *expect,
		      const void *map, struct amxrt_stream_mat *mats, int64_t n,
		      amxrt_stream_progress_fn progress, void *ctx,
		      struct amxrt_load_stats *st);

#endif /* AMXRT_MODEL_STREAM_H */
