// SPDX-License-Identifier: MIT
/*
 * stream.c - the matmul weights' bytes from the file into their packed
 * weights, reading and packing at once.
 *
 * The weights' byte ranges, sorted by offset, are merged into runs (small
 * gaps such as norms are read through, large ones such as an untied
 * embedding skipped) and cut into aligned chunks. Up to depth chunks are
 * read at once (libamxrt/io); the loading thread takes them in file order
 * as they land and packs what each holds with the library's threads,
 * while the reads behind it go on. Rows are packed in groups of 16 (one
 * panel); a group cut by a chunk boundary is gathered in a carry buffer
 * and packed when its last byte lands.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../core/clock.h"
#include "../core/error.h"
#include "../core/threads.h"
#include "../io/io.h"
#include "../kernels/kernels.h"
#include "stream.h"

#define GROUP AMXRT_PANEL_ROWS
#define ALIGN_DOWN(v) ((v) & ~(uint64_t)(AMXRT_IO_ALIGN - 1))
#define ALIGN_UP(v) ALIGN_DOWN((v) + AMXRT_IO_ALIGN - 1)

struct chunk {
	uint64_t c0, c1; /* file range read (aligned) */
	size_t want; /* bytes the file holds in it */
	size_t got; /* bytes read so far */
	size_t at; /* where the read in flight started in the buffer */
	int buf;
	int done;
};

/* Rows [row0, row0 + nrows) of w from src; row0 is a group boundary. */
struct job {
	struct amxrt_weight *w;
	int64_t row0, nrows;
	const uint8_t *src;
	size_t row_bytes;
};

struct seg {
	int64_t mat;
	uint64_t bytes;
};

struct stream {
	const char *path;
	struct amxrt_io *io;
	struct amxrt_stream_mat *mats;
	int64_t n, cur; /* mats before cur are complete */
	struct chunk *chunks;
	int64_t n_chunks;
	uint8_t *carry[2];
	int cc; /* the carry buffer gathering the cut group */
	struct job *jobs;
	struct seg *segs;
	int n_jobs, n_segs, cap;
	int64_t groups; /* of this chunk's jobs */
	amxrt_stream_progress_fn progress;
	void *ctx;
};

static uint64_t mat_end(const struct amxrt_stream_mat *m)
{
	return m->off + (uint64_t)m->rows * m->row_bytes;
}

static int by_offset(const void *a, const void *b)
{
	const struct amxrt_stream_mat *x = a, *y = b;

	return x->off < y->off ? -1 : x->off > y->off;
}

static void note_add(struct amxrt_load_stats *st, const char *s)
{
	size_t len = strlen(st->note);

	if (!*s)
		return;
	snprintf(st->note + len, sizeof(st->note) - len, "%s%s",
		 len ? "; " : "", s);
}

/* Percent of the weights' pages in the page cache, or -1 if unknown. */
static int resident_pct(const void *map, uint64_t lo, uint64_t hi)
{
	long page = sysconf(_SC_PAGESIZE);
	uint64_t start, pages, i, in = 0;
	unsigned char *vec;

	if (!map || page <= 0 || hi <= lo)
		return -1;
	start = lo / (uint64_t)page * (uint64_t)page;
	pages = (hi - start + (uint64_t)page - 1) / (uint64_t)page;
	vec = malloc(pages);
	if (!vec)
		return -1;
	if (mincore((void *)((const char *)map + start), hi - start, vec)) {
		free(vec);
		return -1;
	}
	for (i = 0; i < pages; i++)
		in += vec[i] & 1;
	free(vec);
	return (int)(in * 100 / pages);
}

static int same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino &&
	       a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	       a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

static int changed(const char *path, const struct stat *was,
		   const struct stat *is)
{
	if (was->st_dev != is->st_dev || was->st_ino != is->st_ino)
		return amxrt_err(
			EIO, "%s: replaced by another file during load", path);
	if (was->st_size != is->st_size)
		return amxrt_err(
			EIO, "%s: changed during load: %lld bytes, now %lld",
			path, (long long)was->st_size, (long long)is->st_size);
	return amxrt_err(EIO, "%s: changed during load (modification time)",
			 path);
}

/* Cut the mats' ranges into chunks of at most chunk bytes. */
static int plan(struct stream *s, size_t chunk)
{
	int64_t i, j, n = 0, cap = 0;
	uint64_t gap = chunk / 4;

	for (i = 0; i < s->n; i = j) {
		uint64_t lo = ALIGN_DOWN(s->mats[i].off);
		uint64_t hi = ALIGN_UP(mat_end(&s->mats[i]));
		uint64_t c;

		for (j = i + 1;
		     j < s->n && ALIGN_DOWN(s->mats[j].off) <= hi + gap; j++)
			if (ALIGN_UP(mat_end(&s->mats[j])) > hi)
				hi = ALIGN_UP(mat_end(&s->mats[j]));
		for (c = lo; c < hi; c += chunk) {
			if (n == cap) {
				struct chunk *p;

				cap = cap ? 2 * cap : 64;
				p = realloc(s->chunks, sizeof(*p) * cap);
				if (!p)
					return amxrt_err(
						ENOMEM, "model: out of memory");
				s->chunks = p;
			}
			memset(&s->chunks[n], 0, sizeof(s->chunks[n]));
			s->chunks[n].c0 = c;
			s->chunks[n].c1 = c + chunk < hi ? c + chunk : hi;
			n++;
		}
	}
	s->n_chunks = n;
	return 0;
}

/* Room for the (at most two) jobs and the segment of one more weight. */
static int reserve(struct stream *s)
{
	struct job *j;
	struct seg *g;
	int cap = s->cap ? 2 * s->cap : 16;

	if (s->n_jobs + 2 <= s->cap && s->n_segs + 1 <= s->cap)
		return 0;

	j = realloc(s->jobs, sizeof(*j) * cap);
	if (j)
		s->jobs = j;
	g = realloc(s->segs, sizeof(*g) * cap);
	if (g)
		s->segs = g;
	if (!j || !g)
		return amxrt_err(ENOMEM, "model: out of memory");
	s->cap = cap;
	return 0;
}

static void add_job(struct stream *s, struct amxrt_stream_mat *m, int64_t row0,
		    int64_t nrows, const uint8_t *src)
{
	struct job *j = &s->jobs[s->n_jobs++];

	j->w = m->w;
	j->row0 = row0;
	j->nrows = nrows;
	j->src = src;
	j->row_bytes = m->row_bytes;
	s->groups += (nrows + GROUP - 1) / GROUP;
}

/* Thread ith of nth fills its share of the chunk's groups. */
static void fill_task(void *arg, int ith, int nth, void *scratch)
{
	struct stream *s = arg;
	int64_t g0 = s->groups * ith / nth, g1 = s->groups * (ith + 1) / nth;
	int64_t base = 0;
	int i;

	for (i = 0; i < s->n_jobs && base < g1; i++) {
		const struct job *j = &s->jobs[i];
		int64_t ng = (j->nrows + GROUP - 1) / GROUP;
		int64_t lo = g0 > base ? g0 : base;
		int64_t hi = g1 < base + ng ? g1 : base + ng;

		if (lo < hi) {
			int64_t r0 = (lo - base) * GROUP;
			int64_t r1 = (hi - base) * GROUP;

			if (r1 > j->nrows)
				r1 = j->nrows;
			amxrt_weight_fill(j->w, j->row0 + r0, r1 - r0,
					  j->src + (size_t)r0 * j->row_bytes);
		}
		base += ng;
	}
}

static int truncated(struct stream *s, uint64_t end)
{
	int64_t j = s->cur;

	while (j < s->n - 1 && mat_end(&s->mats[j]) <= end)
		j++;
	return amxrt_err(EIO,
			 "%s: tensor %s: file ends at byte %llu, expected %llu",
			 s->path, s->mats[j].tensor, (unsigned long long)end,
			 (unsigned long long)s->mats[j].tensor_end);
}

/* Pack what chunk ch holds, then report the progress. */
static int process(struct stream *s, const struct chunk *ch)
{
	const uint8_t *b = amxrt_io_buf(s->io, ch->buf);
	uint64_t valid = ch->c0 + ch->got;
	int64_t j;
	int i, ret;

	s->n_jobs = 0;
	s->n_segs = 0;
	s->groups = 0;
	while (s->cur < s->n &&
	       s->mats[s->cur].done == (uint64_t)s->mats[s->cur].rows *
					       s->mats[s->cur].row_bytes)
		s->cur++;
	for (j = s->cur; j < s->n && s->mats[j].off < ch->c1; j++) {
		struct amxrt_stream_mat *m = &s->mats[j];
		uint64_t m1 = mat_end(m), g = (uint64_t)GROUP * m->row_bytes;
		uint64_t lo = m->off + m->done, hi = m1 < ch->c1 ? m1 : ch->c1;
		uint64_t p = lo, in = m->done % g;

		if (lo >= hi)
			continue;
		if (hi > valid)
			return truncated(s, valid);
		if (reserve(s))
			return -ENOMEM;
		if (in) {
			/* the group cut at the last chunk boundary */
			uint64_t gs = m->off + m->done / g * g;
			uint64_t ge = gs + g < m1 ? gs + g : m1;
			uint64_t len = (ge < hi ? ge : hi) - p;

			memcpy(s->carry[s->cc] + in, b + (p - ch->c0), len);
			p += len;
			if (p == ge) {
				add_job(s, m,
					(int64_t)((gs - m->off) / m->row_bytes),
					(int64_t)((ge - gs) / m->row_bytes),
					s->carry[s->cc]);
				s->cc ^= 1;
			}
		}
		if (p < hi) {
			int64_t r0 = (int64_t)((p - m->off) / m->row_bytes);
			int64_t r1 = m->rows;

			if (hi < m1)
				r1 = (int64_t)((hi - m->off) / m->row_bytes) /
				     GROUP * GROUP;
			if (r1 > r0) {
				add_job(s, m, r0, r1 - r0, b + (p - ch->c0));
				p = m->off + (uint64_t)r1 * m->row_bytes;
			}
			if (p < hi)
				memcpy(s->carry[s->cc], b + (p - ch->c0),
				       hi - p);
		}
		m->done = hi - m->off;
		s->segs[s->n_segs].mat = j;
		s->segs[s->n_segs++].bytes = hi - lo;
	}
	if (s->n_jobs && amxrt_pool_run(fill_task, s))
		fill_task(s, 0, 1, NULL);
	for (i = 0; i < s->n_segs; i++) {
		ret = s->progress ? s->progress(s->ctx, s->segs[i].bytes) : 0;
		if (ret)
			return ret < 0 ? ret :
					 amxrt_err(ECANCELED,
						   "model: load cancelled");
	}
	return 0;
}

/* Wait until chunk ch has all its bytes (or the file ended). */
static int land(struct stream *s, int64_t *buf_chunk, uint64_t *read)
{
	struct chunk *ch;
	ssize_t res;
	size_t total;
	int b, ret;

	ret = amxrt_io_wait(s->io, &b, &res);
	if (ret)
		return ret;
	ch = &s->chunks[buf_chunk[b]];
	if (res < 0)
		return amxrt_err((int)-res, "%s: read at byte %llu: %s",
				 s->path, (unsigned long long)(ch->c0 + ch->at),
				 strerror((int)-res));
	*read += (uint64_t)res;
	total = ch->at + (size_t)res;
	if (!res || total >= ch->want || total <= ch->got) {
		/* complete, or the file ends early: process() tells */
		if (total > ch->got)
			ch->got = total;
		ch->done = 1;
		return 0;
	}
	/* a short read: the rest, from an aligned offset */
	ch->got = total;
	ch->at = ALIGN_DOWN(total);
	return amxrt_io_submit(s->io, b, ch->at, ch->c0 + ch->at,
			       (size_t)(ch->c1 - ch->c0) - ch->at);
}

static int run(struct stream *s, uint64_t fsize, uint64_t *read)
{
	int64_t buf_chunk[AMXRT_IO_DEPTH_MAX], sub = 0, i;
	int free_bufs[AMXRT_IO_DEPTH_MAX], n_free = 0, ret;

	for (i = 0; i < s->io->depth; i++)
		free_bufs[n_free++] = (int)i;
	for (i = 0; i < s->n_chunks; i++) {
		struct chunk *ch = &s->chunks[i];

		while (n_free && sub < s->n_chunks) {
			struct chunk *c = &s->chunks[sub];
			uint64_t end = c->c1 < fsize ? c->c1 : fsize;

			c->want = end > c->c0 ? (size_t)(end - c->c0) : 0;
			c->buf = free_bufs[--n_free];
			buf_chunk[c->buf] = sub++;
			ret = amxrt_io_submit(s->io, c->buf, 0, c->c0,
					      (size_t)(c->c1 - c->c0));
			if (ret)
				return ret;
		}
		while (!ch->done) {
			ret = land(s, buf_chunk, read);
			if (ret)
				return ret;
		}
		ret = process(s, ch);
		if (ret)
			return ret;
		free_bufs[n_free++] = ch->buf;
	}
	return 0;
}

int amxrt_stream_mats(const char *path, const struct stat *expect,
		      const void *map, struct amxrt_stream_mat *mats, int64_t n,
		      amxrt_stream_progress_fn progress, void *ctx,
		      struct amxrt_load_stats *st)
{
	struct amxrt_io_cfg cfg = { AMXRT_IO_AUTO, AMXRT_IO_CHUNK_DEFAULT,
				    AMXRT_IO_DEPTH_DEFAULT, -1 };
	struct stream s = { .path = path,
			    .mats = mats,
			    .n = n,
			    .progress = progress,
			    .ctx = ctx };
	uint64_t span, carry = 0, read = 0;
	double t0 = amxrt_now();
	struct stat now_st;
	char why[96] = "";
	int64_t i;
	int ret, pct;

	if (n <= 0)
		return 0;
	ret = amxrt_io_cfg_env(&cfg);
	if (ret)
		return ret;
	qsort(mats, (size_t)n, sizeof(*mats), by_offset);
	for (i = 0; i < n; i++) {
		mats[i].done = 0;
		if ((uint64_t)GROUP * mats[i].row_bytes > carry)
			carry = (uint64_t)GROUP * mats[i].row_bytes;
	}
	/* no larger buffers than the weights need */
	span = ALIGN_UP(mat_end(&mats[n - 1])) - ALIGN_DOWN(mats[0].off);
	if (cfg.chunk > span)
		cfg.chunk = (size_t)span;
	if ((uint64_t)cfg.depth * cfg.chunk > span + cfg.chunk)
		cfg.depth = (int)((span + cfg.chunk - 1) / cfg.chunk);
	if (cfg.direct < 0) {
		/* a cached file reads faster through the cache */
		pct = resident_pct(map, mats[0].off, mat_end(&mats[n - 1]));
		cfg.direct = pct < 90;
		if (!cfg.direct)
			snprintf(why, sizeof(why),
				 "file cached (%d%% resident): buffered reads",
				 pct);
	}
	ret = plan(&s, cfg.chunk);
	if (!ret)
		ret = amxrt_io_open(path, &cfg, &s.io);
	if (ret)
		goto out;
	if (fstat(s.io->fd, &now_st)) {
		ret = amxrt_err(errno, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (expect && !same_file(expect, &now_st)) {
		ret = changed(path, expect, &now_st);
		goto out;
	}
	s.carry[0] = malloc(carry);
	s.carry[1] = malloc(carry);
	if (!s.carry[0] || !s.carry[1]) {
		ret = amxrt_err(ENOMEM, "model: out of memory");
		goto out;
	}
	ret = run(&s, (uint64_t)now_st.st_size, &read);
	if (!ret && expect) {
		struct stat after;

		if (fstat(s.io->fd, &after))
			ret = amxrt_err(errno, "%s: %s", path, strerror(errno));
		else if (!same_file(expect, &after))
			ret = changed(path, expect, &after);
	}
	if (!ret) {
		snprintf(st->io, sizeof(st->io), "%s", s.io->name);
		st->direct = s.io->direct;
		st->fixed_buffers = s.io->fixed;
		st->depth = s.io->depth;
		st->chunk_bytes = s.io->chunk;
		st->bytes_read = read;
		note_add(st, why);
		note_add(st, s.io->note);
	}
out:
	amxrt_io_close(s.io);
	free(s.carry[0]);
	free(s.carry[1]);
	free(s.chunks);
	free(s.jobs);
	free(s.segs);
	st->stream_seconds = amxrt_now() - t0;
	return ret;
}
