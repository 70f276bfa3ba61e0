// SPDX-License-Identifier: MIT
/*
 * pread.c - the pread backend of io.h, for when io_uring is unavailable:
 * one reader thread takes the submitted reads in order and posts their
 * results, so reading still overlaps with what the caller does meanwhile.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../core/error.h"
#include "io.h"

struct req {
	int buf;
	char *dst;
	uint64_t off;
	size_t len;
	ssize_t res;
};

/* A ring of io->depth requests: [head, mid) read, [mid, tail) to read. */
struct amxrt_io_backend {
	pthread_t thread;
	pthread_mutex_t lock; /* protects everything below */
	pthread_cond_t work, done;
	struct req *q;
	unsigned int head, mid, tail, size;
	int stop;
};

static void *reader(void *arg)
{
	struct amxrt_io *io = arg;
	struct amxrt_io_backend *be = io->be;

	pthread_mutex_lock(&be->lock);
	for (;;) {
		struct req *r;
		size_t got = 0;
		ssize_t n = 0;

		while (!be->stop && be->mid == be->tail)
			pthread_cond_wait(&be->work, &be->lock);
		if (be->mid == be->tail)
			break;
		r = &be->q[be->mid % be->size];
		pthread_mutex_unlock(&be->lock);
		while (got < r->len) {
			n = pread(io->fd, r->dst + got, r->len - got,
				  (off_t)(r->off + got));
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				break;
			got += (size_t)n;
		}
		r->res = n < 0 && !got ? -errno : (ssize_t)got;
		pthread_mutex_lock(&be->lock);
		be->mid++;
		pthread_cond_signal(&be->done);
	}
	pthread_mutex_unlock(&be->lock);
	return NULL;
}

static int pread_submit(struct amxrt_io *io, int buf, void *dst, uint64_t off,
			size_t len)
{
	struct amxrt_io_backend *be = io->be;
	struct req *r;

	pthread_mutex_lock(&be->lock);
	if (be->tail - be->head == be->size) {
		pthread_mutex_unlock(&be->lock);
		return amxrt_err(EBUSY, "pread: too many reads queued");
	}
	r = &be->q[be->tail % be->size];
	r->buf = buf;
	r->dst = dst;
	r->off = off;
	r->len = len;
	be->tail++;
	pthread_cond_signal(&be->work);
	pthread_mutex_unlock(&be->lock);
	return 0;
}

static int pread_wait(struct amxrt_io *io, int *buf, ssize_t *res)
{
	struct amxrt_io_backend *be = io->be;
	struct req *r;

	pthread_mutex_lock(&be->lock);
	if (be->head == be->tail) {
		pthread_mutex_unlock(&be->lock);
		return amxrt_err(EINVAL, "pread: no read in flight");
	}
	while (be->head == be->mid)
		pthread_cond_wait(&be->done, &be->lock);
	r = &be->q[be->head % be->size];
	*buf = r->buf;
	*res = r->res;
	be->head++;
	pthread_mutex_unlock(&be->lock);
	return 0;
}

static void pread_exit(struct amxrt_io *io)
{
	struct amxrt_io_backend *be = io->be;

	pthread_mutex_lock(&be->lock);
	be->stop = 1;
	pthread_cond_signal(&be->work);
	pthread_mutex_unlock(&be->lock);
	pthread_join(be->thread, NULL);
	pthread_mutex_destroy(&be->lock);
	pthread_cond_destroy(&be->work);
	pthread_cond_destroy(&be->done);
	free(be->q);
	free(be);
	io->be = NULL;
}

int amxrt_io_pread_init(struct amxrt_io *io)
{
	struct amxrt_io_backend *be = calloc(1, sizeof(*be));
	int ret;

	if (!be)
		return -ENOMEM;
	be->size = (unsigned int)io->depth;
	be->q = calloc(be->size, sizeof(*be->q));
	if (!be->q) {
		free(be);
		return -ENOMEM;
	}
	pthread_mutex_init(&be->lock, NULL);
	pthread_cond_init(&be->work, NULL);
	pthread_cond_init(&be->done, NULL);
	io->be = be;
	ret = pthread_create(&be->thread, NULL, reader, io);
	if (ret) {
		pthread_mutex_destroy(&be->lock);
		pthread_cond_destroy(&be->work);
		pthread_cond_destroy(&be->done);
		free(be->q);
		free(be);
		io->be = NULL;
		return -ret;
	}
	io->submit = pread_submit;
	io->wait = pread_wait;
	io->exit = pread_exit;
	io->name = "pread";
	return 0;
}
