// SPDX-License-Identifier: MIT
/*
 * Description: streaming a model's weights at load. io_uring and pread
 * give the same logits, bit for bit, with chunks smaller than the tensors
 * and 16-row groups cut by chunk boundaries, O_DIRECT or buffered; the
 * load report says what was used; the progress callback rises to its
 * total; a file truncated during the load is an error naming the tensor
 * where it ends, one that grows is "changed"; with io_uring_setup blocked
 * by a seccomp filter the load falls back to pread with a note, and
 * AMXRT_IO=uring is an error instead; bad settings are refused by name.
 * The read buffers sit in 2 MiB-aligned memory advised for huge pages.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/io_uring.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "helpers.h"
#include "model_gen.h"

#include "../libamxrt/io/io.h"

#include <amxrt/amxrt.h>

static char tmpdir[256];

static const char *tmp_path(const char *name)
{
	static char path[512];

	if (!tmpdir[0]) {
		snprintf(tmpdir, sizeof(tmpdir), "/tmp/amxrt-stream-XXXXXX");
		if (!mkdtemp(tmpdir))
			return NULL;
	}
	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	return path;
}

static void tmp_clean(const char *name)
{
	unlink(tmp_path(name));
	rmdir(tmpdir);
	tmpdir[0] = '\0';
}

/* 0 if this process may use io_uring, else the errno of io_uring_setup. */
static int uring_errno(void)
{
	struct io_uring_params p;
	long fd;

	memset(&p, 0, sizeof(p));
	fd = syscall(__NR_io_uring_setup, 2, &p);
	if (fd < 0)
		return errno;
	close((int)fd);
	return 0;
}

/* The I/O settings of the next load, through the environment. */
static void io_env(const char *io, const char *chunk, const char *depth,
		   const char *direct)
{
	const char *var[] = { "AMXRT_IO", "AMXRT_IO_CHUNK", "AMXRT_IO_DEPTH",
			      "AMXRT_IO_DIRECT" };
	const char *val[] = { io, chunk, depth, direct };
	int i;

	for (i = 0; i < 4; i++) {
		if (val[i])
			setenv(var[i], val[i], 1);
		else
			unsetenv(var[i]);
	}
}

/* Load path and return the logits of the last of a few tokens. */
static float *logits_of(struct __test_metadata *_metadata, const char *path,
			struct amxrt_load_stats *st, int *n_vocab)
{
	static const int32_t toks[] = { 1, 7, 42, 260, 3, 99 };
	struct amxrt_ctx_params cp = { .n_ctx = 32 };
	struct amxrt_model_info info;
	struct amxrt_model *m;
	struct amxrt_ctx *c;
	float *out;

	if (amxrt_model_load(path, NULL, &m)) {
		TH_LOG("%s", amxrt_errmsg());
		return NULL;
	}
	amxrt_model_get_info(m, &info);
	amxrt_model_load_stats(m, st);
	*n_vocab = info.n_vocab;
	out = malloc(sizeof(float) * info.n_vocab);
	if (!out || amxrt_ctx_new(m, &cp, &c)) {
		free(out);
		amxrt_model_free(m);
		return NULL;
	}
	if (amxrt_decode(c, toks, 6, 0) || !amxrt_logits(c, -1)) {
		free(out);
		out = NULL;
	} else {
		memcpy(out, amxrt_logits(c, -1), sizeof(float) * info.n_vocab);
	}
	amxrt_ctx_free(c);
	amxrt_model_free(m);
	return out;
}

struct setting {
	const char *io, *chunk, *depth, *direct, *want_io;
};

static void same_logits(struct __test_metadata *_metadata, const char *arch,
			enum amxrt_type type, int tied)
{
	static const struct setting set[] = {
		{ "uring", "4096", "1", "1", "io_uring" },
		{ "uring", "4096", "3", "0", "io_uring" },
		{ "uring", "12288", "8", "1", "io_uring" },
		{ "pread", "4096", "2", "1", "pread" },
		{ "pread", "20480", "4", "0", "pread" },
		{ "auto", NULL, NULL, NULL, "io_uring" },
	};
	struct amxrt_load_stats st;
	struct gen_params p;
	float *ref, *got;
	int nv, nv2, no_uring = uring_errno();
	size_t i;

	gen_defaults(&p, arch, type, test_rand());
	p.n_vocab = 300; /* the output's 300 rows: a last group of 12 */
	p.tied = tied;
	ASSERT_EQ(0, gen_model(tmp_path("m.gguf"), &p));
	/* the reference: pread, one chunk for everything, buffered */
	io_env("pread", "64m", "1", "0");
	ref = logits_of(_metadata, tmp_path("m.gguf"), &st, &nv);
	ASSERT_NE(NULL, ref);
	EXPECT_STREQ("pread", st.io);
	for (i = 0; i < sizeof(set) / sizeof(set[0]); i++) {
		const char *want = no_uring ? "pread" : set[i].want_io;

		if (no_uring && !strcmp(set[i].io, "uring")) {
			/* io_uring_blocked checks what happens then */
			printf("# io_uring unavailable here (%s): %s skipped\n",
			       strerror(no_uring), set[i].io);
			fflush(stdout);
			continue;
		}
		io_env(set[i].io, set[i].chunk, set[i].depth, set[i].direct);
		got = logits_of(_metadata, tmp_path("m.gguf"), &st, &nv2);
		ASSERT_NE(NULL, got);
		ASSERT_EQ(nv, nv2);
		EXPECT_EQ(0, memcmp(ref, got, sizeof(float) * nv))
		TH_LOG("%s %s: %s chunk %s", arch, amxrt_type_name(type),
		       set[i].io, set[i].chunk ? set[i].chunk : "default");
		EXPECT_STREQ(want, st.io);
		if (set[i].chunk)
			EXPECT_EQ(strtoull(set[i].chunk, NULL, 10),
				  st.chunk_bytes);
		if (set[i].direct && set[i].direct[0] == '1' && !st.direct)
			EXPECT_NE(NULL, strstr(st.note, "O_DIRECT"))
		TH_LOG("buffered without a note: '%s'", st.note);
		if (set[i].direct && set[i].direct[0] == '0')
			EXPECT_EQ(0, st.direct);
		EXPECT_LT(0, st.bytes_read);
		EXPECT_LE(st.stream_seconds, st.seconds);
		free(got);
	}
	free(ref);
	io_env(NULL, NULL, NULL, NULL);
	tmp_clean("m.gguf");
}

TEST(uring_and_pread_same_logits)
{
	/* f32 ffn_down rows of 384 bytes: 16-row groups of 6 KiB span two
	 * or three 4 KiB chunks */
	same_logits(_metadata, "llama", AMXRT_TYPE_F32, 0);
	same_logits(_metadata, "llama", AMXRT_TYPE_Q4_0, 1);
	same_logits(_metadata, "qwen2", AMXRT_TYPE_Q8_0, 0);
	same_logits(_metadata, "qwen3moe", AMXRT_TYPE_Q4_1, 0);
	same_logits(_metadata, "qwen3", AMXRT_TYPE_BF16, 1);
}

struct prog {
	uint64_t last, total;
	int calls, monotonic;
	/* truncate or grow the file at the first call past 0 bytes */
	const char *path;
	off_t cut;
	int grow, acted;
};

static int on_progress(void *ctx, uint64_t done, uint64_t total)
{
	struct prog *p = ctx;

	if (done < p->last || done > total || (p->calls && total != p->total))
		p->monotonic = 0;
	p->last = done;
	p->total = total;
	p->calls++;
	if (p->path && done && !p->acted) {
		int fd = open(p->path, O_WRONLY | O_APPEND);

		p->acted = 1;
		if (fd < 0)
			return 0;
		if (p->grow) {
			if (write(fd, "more", 4) != 4)
				p->acted = -1;
		} else if (ftruncate(fd, p->cut)) {
			p->acted = -1;
		}
		close(fd);
	}
	return 0;
}

TEST(progress_rises_to_total)
{
	struct prog pr = { .monotonic = 1 };
	struct amxrt_model_params mp = { .progress = on_progress,
					 .progress_ctx = &pr };
	struct amxrt_model *m;
	struct gen_params p;
	const char *sizes[] = { "4096", NULL };
	int i;

	gen_defaults(&p, "llama", AMXRT_TYPE_F32, test_rand());
	ASSERT_EQ(0, gen_model(tmp_path("p.gguf"), &p));
	for (i = 0; i < 2; i++) {
		io_env(NULL, sizes[i], NULL, NULL);
		memset(&pr, 0, sizeof(pr));
		pr.monotonic = 1;
		ASSERT_EQ(0, amxrt_model_load(tmp_path("p.gguf"), &mp, &m))
		TH_LOG("%s", amxrt_errmsg());
		EXPECT_TRUE(pr.monotonic);
		EXPECT_LT(0, pr.total);
		EXPECT_EQ(pr.total, pr.last);
		/* at least one call per weight */
		EXPECT_LT(2 * 7 + 1, pr.calls);
		amxrt_model_free(m);
	}
	io_env(NULL, NULL, NULL, NULL);
	tmp_clean("p.gguf");
}

/* Where a tensor's data starts in the file, and its size. */
static int tensor_range(const char *path, const char *name, uint64_t *off,
			uint64_t *size)
{
	struct amxrt_gguf_tensor t;
	struct amxrt_gguf *g;
	int ret = amxrt_gguf_open(path, &g);

	if (ret)
		return ret;
	ret = amxrt_gguf_tensor(g, amxrt_gguf_find_tensor(g, name), &t);
	if (!ret) {
		*off = amxrt_gguf_data_offset(g) + t.offset;
		*size = t.size;
	}
	amxrt_gguf_close(g);
	return ret;
}

TEST(truncated_during_load)
{
	const char *io[] = { "pread", "uring" };
	struct prog pr;
	struct amxrt_model_params mp = { .progress = on_progress,
					 .progress_ctx = &pr };
	struct amxrt_model *m;
	struct gen_params p;
	uint64_t off = 0, size = 0;
	char want[160];
	int i;

	for (i = 0; i < (uring_errno() ? 1 : 2); i++) {
		gen_defaults(&p, "llama", AMXRT_TYPE_Q8_0, test_rand());
		p.n_ff = 256;
		ASSERT_EQ(0, gen_model(tmp_path("t.gguf"), &p));
		ASSERT_EQ(0, tensor_range(tmp_path("t.gguf"),
					  "blk.1.ffn_up.weight", &off, &size));
		memset(&pr, 0, sizeof(pr));
		pr.path = tmp_path("t.gguf");
		pr.cut = (off_t)(off + size / 2);
		/* one 4 KiB read at a time: the cut lands before the
		 * reads of its tensor */
		io_env(io[i], "4096", "1", NULL);
		m = (struct amxrt_model *)&pr;
		EXPECT_EQ(-EIO, amxrt_model_load(tmp_path("t.gguf"), &mp, &m));
		EXPECT_EQ(NULL, m);
		EXPECT_EQ(1, pr.acted);
		snprintf(
			want, sizeof(want),
			"tensor blk.1.ffn_up.weight: file ends at byte %llu, expected %llu",
			(unsigned long long)pr.cut,
			(unsigned long long)(off + size));
		EXPECT_NE(NULL, strstr(amxrt_errmsg(), want))
		TH_LOG("%s: '%s', wanted '%s'", io[i], amxrt_errmsg(), want);
		printf("# %s: %s\n", io[i], amxrt_errmsg());
		fflush(stdout);

		/* grown while loading: changed */
		ASSERT_EQ(0, gen_model(tmp_path("t.gguf"), &p));
		memset(&pr, 0, sizeof(pr));
		pr.path = tmp_path("t.gguf");
		pr.grow = 1;
		EXPECT_EQ(-EIO, amxrt_model_load(tmp_path("t.gguf"), &mp, &m));
		EXPECT_EQ(NULL, m);
		EXPECT_NE(NULL, strstr(amxrt_errmsg(), "changed during load"))
		TH_LOG("%s", amxrt_errmsg());
		printf("# %s: %s\n", io[i], amxrt_errmsg());
		fflush(stdout);
	}
	io_env(NULL, NULL, NULL, NULL);
	tmp_clean("t.gguf");
}

/* Make io_uring_setup fail with EPERM in this process, as a container's
 * seccomp profile or kernel.io_uring_disabled does. */
static int block_io_uring(void)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_setup, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { sizeof(f) / sizeof(f[0]), f };

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return -errno;
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog))
		return -errno;
	return 0;
}

/* The harness runs each test in its own process: the filter stays here. */
TEST(io_uring_blocked)
{
	struct amxrt_load_stats st;
	struct amxrt_model *m;
	struct gen_params p;
	float *a, *b;
	int nv;

	if (uring_errno())
		SKIP(return, "io_uring is unavailable here already (%s)",
			   strerror(uring_errno()));
	gen_defaults(&p, "llama", AMXRT_TYPE_Q4_0, test_rand());
	ASSERT_EQ(0, gen_model(tmp_path("s.gguf"), &p));
	io_env(NULL, "4096", NULL, NULL);
	a = logits_of(_metadata, tmp_path("s.gguf"), &st, &nv);
	ASSERT_NE(NULL, a);
	ASSERT_STREQ("io_uring", st.io);

	ASSERT_EQ(0, block_io_uring());
	b = logits_of(_metadata, tmp_path("s.gguf"), &st, &nv);
	ASSERT_NE(NULL, b);
	EXPECT_STREQ("pread", st.io);
	EXPECT_NE(NULL, strstr(st.note, "io_uring unavailable"))
	TH_LOG("note: '%s'", st.note);
	EXPECT_NE(NULL, strstr(st.note, strerror(EPERM)));
	printf("# note: %s\n", st.note);
	fflush(stdout);
	EXPECT_EQ(0, memcmp(a, b, sizeof(float) * nv));

	io_env("uring", NULL, NULL, NULL);
	m = (struct amxrt_model *)&st;
	EXPECT_EQ(-EPERM, amxrt_model_load(tmp_path("s.gguf"), NULL, &m));
	EXPECT_EQ(NULL, m);
	EXPECT_NE(NULL, strstr(amxrt_errmsg(), "io_uring is unavailable"))
	TH_LOG("%s", amxrt_errmsg());
	printf("# %s\n", amxrt_errmsg());
	fflush(stdout);
	free(a);
	free(b);
	io_env(NULL, NULL, NULL, NULL);
	tmp_clean("s.gguf");
}

/*
 * The read buffers are 2 MiB-aligned and advised for huge pages once they
 * are that large (O_DIRECT reads into 4 KiB pages were up to 4x slower on
 * a VM), and read what the file holds.
 */
TEST(read_buffers_in_huge_pages)
{
	const size_t mib = (size_t)1 << 20, bytes = 12 * mib;
	struct amxrt_io_cfg cfg = { AMXRT_IO_AUTO, 4 * mib, 3, 0 };
	unsigned char *data = malloc(bytes);
	struct amxrt_io *io;
	char flags[512];
	ssize_t res;
	size_t i;
	int fd, buf;

	ASSERT_NE(NULL, data);
	for (i = 0; i < bytes; i++)
		data[i] = (unsigned char)(i * 2654435761u >> 24);
	fd = open(tmp_path("raw"), O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ASSERT_LE(0, fd);
	ASSERT_EQ((ssize_t)bytes, write(fd, data, bytes));
	close(fd);

	ASSERT_EQ(0, amxrt_io_open(tmp_path("raw"), &cfg, &io));
	EXPECT_EQ(0, (uintptr_t)io->mem % (2 * mib));
	test_vm_flags(io->mem, flags, sizeof(flags));
	EXPECT_NE(NULL, strstr(flags, " hg"))
	TH_LOG("buffers at %p, %s: %s", io->mem, io->name, flags);
	/* the last chunk into the last buffer */
	ASSERT_EQ(0, amxrt_io_submit(io, 2, 0, 8 * mib, 4 * mib));
	ASSERT_EQ(0, amxrt_io_wait(io, &buf, &res));
	EXPECT_EQ(2, buf);
	ASSERT_EQ((ssize_t)(4 * mib), res);
	EXPECT_EQ(0, memcmp(amxrt_io_buf(io, 2), data + 8 * mib, 4 * mib));
	amxrt_io_close(io);
	free(data);
	tmp_clean("raw");
}

TEST(bad_settings)
{
	static const char *const bad[][2] = {
		{ "AMXRT_IO", "fast" },	    { "AMXRT_IO_CHUNK", "1000" },
		{ "AMXRT_IO_CHUNK", "0" },  { "AMXRT_IO_CHUNK", "1g" },
		{ "AMXRT_IO_DEPTH", "0" },  { "AMXRT_IO_DEPTH", "x" },
		{ "AMXRT_IO_DIRECT", "2" },
	};
	struct amxrt_model *m;
	struct gen_params p;
	size_t i;

	gen_defaults(&p, "llama", AMXRT_TYPE_Q4_0, 1);
	ASSERT_EQ(0, gen_model(tmp_path("b.gguf"), &p));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		io_env(NULL, NULL, NULL, NULL);
		setenv(bad[i][0], bad[i][1], 1);
		m = (struct amxrt_model *)&p;
		EXPECT_EQ(-EINVAL,
			  amxrt_model_load(tmp_path("b.gguf"), NULL, &m));
		EXPECT_EQ(NULL, m);
		EXPECT_NE(NULL, strstr(amxrt_errmsg(), bad[i][0]))
		TH_LOG("%s=%s: %s", bad[i][0], bad[i][1], amxrt_errmsg());
	}
	io_env(NULL, NULL, NULL, NULL);
	tmp_clean("b.gguf");
}

TEST_HARNESS_MAIN
