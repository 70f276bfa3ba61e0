// SPDX-License-Identifier: MIT
/*
 * io.c - the common part of io.h: settings from the environment, opening
 * the file (O_DIRECT if asked and the file system takes it), the aligned
 * buffers (in huge pages), choosing the backend (io_uring, else pread with
 * a note), and draining the reads in flight at close.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../core/error.h"
#include "../core/mem.h"
#include "io.h"

static int env_size(const char *var, uint64_t min, uint64_t max, uint64_t *out)
{
	const char *s = getenv(var);
	unsigned long long v;
	char *end;

	if (!s || !*s)
		return 0;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (*end == 'k' || *end == 'K')
		v <<= 10, end++;
	else if (*end == 'm' || *end == 'M')
		v <<= 20, end++;
	if (errno || end == s || *end || v < min || v > max)
		return amxrt_err(EINVAL,
				 "%s=%s: expected a number in %llu..%llu", var,
				 s, (unsigned long long)min,
				 (unsigned long long)max);
	*out = v;
	return 0;
}

int amxrt_io_cfg_env(struct amxrt_io_cfg *cfg)
{
	const char *s = getenv("AMXRT_IO");
	uint64_t v;
	int ret;

	if (s && *s) {
		if (!strcmp(s, "auto"))
			cfg->kind = AMXRT_IO_AUTO;
		else if (!strcmp(s, "uring"))
			cfg->kind = AMXRT_IO_URING;
		else if (!strcmp(s, "pread"))
			cfg->kind = AMXRT_IO_PREAD;
		else
			return amxrt_err(
				EINVAL,
				"AMXRT_IO=%s: expected auto, uring or pread",
				s);
	}
	v = cfg->chunk;
	ret = env_size("AMXRT_IO_CHUNK", AMXRT_IO_ALIGN, AMXRT_IO_CHUNK_MAX,
		       &v);
	if (ret)
		return ret;
	if (v % AMXRT_IO_ALIGN)
		return amxrt_err(EINVAL,
				 "AMXRT_IO_CHUNK=%llu: not a multiple of %d",
				 (unsigned long long)v, AMXRT_IO_ALIGN);
	cfg->chunk = v;
	v = (uint64_t)cfg->depth;
	ret = env_size("AMXRT_IO_DEPTH", 1, AMXRT_IO_DEPTH_MAX, &v);
	if (ret)
		return ret;
	cfg->depth = (int)v;
	v = (uint64_t)cfg->direct;
	ret = env_size("AMXRT_IO_DIRECT", 0, 1, &v);
	if (ret)
		return ret;
	cfg->direct = (int)v;
	return 0;
}

/* O_DIRECT is refused at open (EINVAL) by some file systems, and by
 * others only at the first read: try one aligned read. */
static int open_direct(const char *path, void *buf)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_DIRECT);

	if (fd < 0)
		return -1;
	if (pread(fd, buf, AMXRT_IO_ALIGN, 0) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void note_add(struct amxrt_io *io, const char *s)
{
	size_t len = strlen(io->note);

	snprintf(io->note + len, sizeof(io->note) - len, "%s%s",
		 len ? "; " : "", s);
}

int amxrt_io_open(const char *path, const struct amxrt_io_cfg *cfg,
		  struct amxrt_io **out)
{
	struct amxrt_io *io;
	size_t bytes;
	int ret;

	*out = NULL;
	if (cfg->chunk < AMXRT_IO_ALIGN || cfg->chunk % AMXRT_IO_ALIGN ||
	    cfg->depth < 1 || cfg->depth > AMXRT_IO_DEPTH_MAX)
		return amxrt_err(EINVAL,
				 "io: chunk %zu, depth %d: bad settings",
				 cfg->chunk, cfg->depth);
	io = calloc(1, sizeof(*io));
	if (!io)
		return amxrt_err(ENOMEM, "io: out of memory");
	io->fd = -1;
	io->chunk = cfg->chunk;
	io->depth = cfg->depth;
	bytes = io->chunk * (size_t)io->depth;
	/* in huge pages: O_DIRECT reads into them are far faster on a VM */
	io->mem = amxrt_alloc_huge(bytes, AMXRT_IO_ALIGN);
	if (!io->mem) {
		free(io);
		return amxrt_err(ENOMEM, "io: out of memory for %zu bytes",
				 bytes);
	}
	if (cfg->direct) {
		io->fd = open_direct(path, io->mem);
		io->direct = io->fd >= 0;
	}
	if (io->fd < 0)
		io->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (io->fd < 0) {
		ret = amxrt_err(errno, "%s: %s", path, strerror(errno));
		goto err_mem;
	}
	if (cfg->direct && !io->direct)
		note_add(io,
			 "O_DIRECT refused by the file system: buffered reads");
	ret = -ENOSYS;
	if (cfg->kind != AMXRT_IO_PREAD)
		ret = amxrt_io_uring_init(io);
	if (ret && cfg->kind == AMXRT_IO_URING) {
		ret = amxrt_err(
			-ret,
			"%s: io_uring is unavailable (io_uring_setup: %s) and AMXRT_IO=uring forbids the pread fallback",
			path, strerror(-ret));
		goto err_fd;
	}
	if (ret && cfg->kind == AMXRT_IO_AUTO) {
		char msg[128];

		snprintf(msg, sizeof(msg),
			 "io_uring unavailable (io_uring_setup: %s): pread",
			 strerror(-ret));
		note_add(io, msg);
	}
	if (ret) {
		ret = amxrt_io_pread_init(io);
		if (ret) {
			ret = amxrt_err(-ret, "%s: reader thread: %s", path,
					strerror(-ret));
			goto err_fd;
		}
	}
	*out = io;
	return 0;

err_fd:
	close(io->fd);
err_mem:
	free(io->mem);
	free(io);
	return ret;
}

int amxrt_io_submit(struct amxrt_io *io, int buf, size_t at, uint64_t off,
		    size_t len)
{
	int ret;

	if (buf < 0 || buf >= io->depth || at > io->chunk ||
	    len > io->chunk - at)
		return amxrt_err(EINVAL, "io: bad read (buffer %d, %zu bytes)",
				 buf, len);
	ret = io->submit(io, buf, (char *)amxrt_io_buf(io, buf) + at, off, len);
	if (!ret)
		io->inflight++;
	return ret;
}

int amxrt_io_wait(struct amxrt_io *io, int *buf, ssize_t *res)
{
	int ret;

	if (!io->inflight)
		return amxrt_err(EINVAL, "io: no read in flight");
	ret = io->wait(io, buf, res);
	if (!ret)
		io->inflight--;
	return ret;
}

void amxrt_io_close(struct amxrt_io *io)
{
	int buf;
	ssize_t res;

	if (!io)
		return;
	/* the kernel may still write into the buffers: let it finish */
	while (io->inflight && !amxrt_io_wait(io, &buf, &res))
		;
	io->exit(io);
	close(io->fd);
	free(io->mem);
	free(io);
}
