// SPDX-License-Identifier: MIT
/*
 * uring.c - the io_uring backend of io.h: one ring of io->depth entries,
 * the buffers registered once (reads with IORING_OP_READ_FIXED), plain
 * reads if the kernel refuses to register them (RLIMIT_MEMLOCK).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include <liburing.h>

#include "../core/error.h"
#include "io.h"

struct amxrt_io_backend {
	struct io_uring ring;
};

static int uring_submit(struct amxrt_io *io, int buf, void *dst, uint64_t off,
			size_t len)
{
	struct io_uring *ring = &io->be->ring;
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
	int ret;

	if (!sqe)
		return amxrt_err(EBUSY, "io_uring: submission queue full");
	if (io->fixed)
		io_uring_prep_read_fixed(sqe, io->fd, dst, (unsigned int)len,
					 off, buf);
	else
		io_uring_prep_read(sqe, io->fd, dst, (unsigned int)len, off);
	io_uring_sqe_set_data64(sqe, (uint64_t)buf);
	ret = io_uring_submit(ring);
	if (ret < 0)
		return amxrt_err(-ret, "io_uring_submit: %s", strerror(-ret));
	return 0;
}

static int uring_wait(struct amxrt_io *io, int *buf, ssize_t *res)
{
	struct io_uring_cqe *cqe;
	int ret;

	do
		ret = io_uring_wait_cqe(&io->be->ring, &cqe);
	while (ret == -EINTR);
	if (ret < 0)
		return amxrt_err(-ret, "io_uring_wait_cqe: %s", strerror(-ret));
	*buf = (int)io_uring_cqe_get_data64(cqe);
	*res = cqe->res;
	io_uring_cqe_seen(&io->be->ring, cqe);
	return 0;
}

static void uring_exit(struct amxrt_io *io)
{
	io_uring_queue_exit(&io->be->ring);
	free(io->be);
	io->be = NULL;
}

int amxrt_io_uring_init(struct amxrt_io *io)
{
	struct amxrt_io_backend *be = calloc(1, sizeof(*be));
	struct iovec *iov;
	int i, ret;

	if (!be)
		return -ENOMEM;
	ret = io_uring_queue_init((unsigned int)io->depth, &be->ring, 0);
	if (ret < 0) {
		free(be);
		return ret;
	}
	io->be = be;
	io->submit = uring_submit;
	io->wait = uring_wait;
	io->exit = uring_exit;
	io->name = "io_uring";
	iov = calloc((size_t)io->depth, sizeof(*iov));
	if (!iov) {
		uring_exit(io);
		return -ENOMEM;
	}
	for (i = 0; i < io->depth; i++) {
		iov[i].iov_base = amxrt_io_buf(io, i);
		iov[i].iov_len = io->chunk;
	}
	ret = io_uring_register_buffers(&be->ring, iov,
					(unsigned int)io->depth);
	free(iov);
	io->fixed = ret == 0;
	if (ret) {
		size_t len = strlen(io->note);

		snprintf(io->note + len, sizeof(io->note) - len,
			 "%sio_uring: buffers not registered (%s), plain reads",
			 len ? "; " : "", strerror(-ret));
	}
	return 0;
}
