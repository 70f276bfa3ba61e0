/* SPDX-License-Identifier: MIT */
/*
 * io.h - reading byte ranges of one file into a few large aligned buffers,
 * several reads in flight: io_uring (uring.c, registered buffers, O_DIRECT
 * where the file system takes it) or, where io_uring is unavailable, a
 * pread thread (pread.c). Internal.
 *
 * The caller owns the order: it submits a read into a free buffer, waits
 * for completions (in any order), and resubmits the buffer once it has
 * used the bytes. Offsets, lengths and buffers are AMXRT_IO_ALIGN aligned
 * so that O_DIRECT reads are legal; a read may return fewer bytes (at the
 * end of the file, or short), which the caller resubmits or reports.
 */
#ifndef AMXRT_IO_IO_H
#define AMXRT_IO_IO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define AMXRT_IO_ALIGN 4096
#define AMXRT_IO_CHUNK_DEFAULT (8 << 20)
#define AMXRT_IO_CHUNK_MAX (256 << 20)
#define AMXRT_IO_DEPTH_DEFAULT 6
#define AMXRT_IO_DEPTH_MAX 64

enum amxrt_io_kind {
	AMXRT_IO_AUTO = 0, /* io_uring, else pread with a note */
	AMXRT_IO_URING = 1, /* io_uring or an error */
	AMXRT_IO_PREAD = 2,
};

struct amxrt_io_cfg {
	enum amxrt_io_kind kind;
	size_t chunk; /* bytes of each buffer, a multiple of AMXRT_IO_ALIGN */
	int depth; /* buffers, and reads in flight at most */
	int direct; /* 1: try O_DIRECT (buffered if refused), 0: buffered */
};

struct amxrt_io_backend;

struct amxrt_io {
	int fd;
	int direct; /* the fd has O_DIRECT */
	int fixed; /* io_uring reads into registered buffers */
	size_t chunk;
	int depth;
	void *mem; /* depth * chunk bytes, 2 MiB-aligned huge pages from 2 MiB */
	const char *name; /* "io_uring" or "pread" */
	char note[256]; /* why a fallback was taken, or "" */
	int inflight;
	/* the backend's: read len bytes at off into dst, inside buffer buf */
	int (*submit)(struct amxrt_io *io, int buf, void *dst, uint64_t off,
		      size_t len);
	int (*wait)(struct amxrt_io *io, int *buf, ssize_t *res);
	void (*exit)(struct amxrt_io *io);
	struct amxrt_io_backend *be;
};

/*
 * Read settings from the environment over cfg's defaults: AMXRT_IO
 * (auto, uring, pread), AMXRT_IO_CHUNK (bytes, suffix k or m allowed),
 * AMXRT_IO_DEPTH, AMXRT_IO_DIRECT (0 or 1; unset leaves cfg->direct).
 * Returns 0, or -EINVAL naming the variable.
 */
int amxrt_io_cfg_env(struct amxrt_io_cfg *cfg);

/*
 * Open path for reading with cfg: the buffers, the backend. AUTO falls
 * back from io_uring to pread with io->note saying why; URING fails with
 * a message instead. Returns 0 and *out, or -errno.
 */
int amxrt_io_open(const char *path, const struct amxrt_io_cfg *cfg,
		  struct amxrt_io **out);

static inline void *amxrt_io_buf(struct amxrt_io *io, int buf)
{
	return (char *)io->mem + (size_t)buf * io->chunk;
}

/*
 * Queue a read of len bytes at file offset off into buffer buf, at byte
 * at of the buffer (at + len <= chunk, all aligned). 0 or -errno.
 */
int amxrt_io_submit(struct amxrt_io *io, int buf, size_t at, uint64_t off,
		    size_t len);
/*
 * Wait for one read to complete: its buffer and its result (bytes read,
 * or -errno). Returns 0, or -errno if waiting itself failed.
 */
int amxrt_io_wait(struct amxrt_io *io, int *buf, ssize_t *res);
/* Wait for every read in flight, then free everything. NULL is allowed. */
void amxrt_io_close(struct amxrt_io *io);

/* The backends: set up io (fd, buffers ready) or return -errno. */
int amxrt_io_uring_init(struct amxrt_io *io);
int amxrt_io_pread_init(struct amxrt_io *io);

#endif /* AMXRT_IO_IO_H */
