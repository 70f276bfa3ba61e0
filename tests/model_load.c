// SPDX-License-Identifier: MIT
/*
 * Description: loading models. stories260K's hyperparameters and info;
 * the placement list (every matmul weight packed for the path in use,
 * embeddings and norms plain, nothing else); the progress callback and
 * cancelling through it; a tied output; and bad models refused with
 * messages naming the problem: a missing tensor, a wrong shape, an
 * unsupported architecture, heads that do not group, an f16 norm, an
 * unsupported tokenizer, more tokens than embedding rows; the norms' pages
 * read ahead at load (the file evicted first).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "helpers.h"
#include "model_gen.h"

#include <amxrt/amxrt.h>

static const char *srcdir(void)
{
	const char *s = getenv("AMXRT_SRCDIR");

	return s && *s ? s : ".";
}

static char tmpdir[256];

static const char *tmp_path(const char *name)
{
	static char path[512];

	if (!tmpdir[0]) {
		snprintf(tmpdir, sizeof(tmpdir), "/tmp/amxrt-load-XXXXXX");
		if (!mkdtemp(tmpdir))
			return NULL;
	}
	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	return path;
}

static int is_matmul(const char *name)
{
	static const char *const mm[] = {
		"attn_q.weight",	"attn_k.weight",
		"attn_v.weight",	"attn_output.weight",
		"ffn_gate.weight",	"ffn_up.weight",
		"ffn_down.weight",	"ffn_gate_inp.weight",
		"ffn_gate_exps.weight", "ffn_up_exps.weight",
		"ffn_down_exps.weight",
	};
	size_t i;

	if (!strcmp(name, "output.weight"))
		return 1;
	for (i = 0; i < sizeof(mm) / sizeof(mm[0]); i++) {
		size_t n = strlen(name), k = strlen(mm[i]);

		if (n > k && !strcmp(name + n - k, mm[i]))
			return 1;
	}
	return 0;
}

struct prog {
	uint64_t last, total;
	int calls, cancel_at, monotonic;
};

static int on_progress(void *ctx, uint64_t done, uint64_t total)
{
	struct prog *p = ctx;

	if (done < p->last || done > total)
		p->monotonic = 0;
	p->last = done;
	p->total = total;
	p->calls++;
	return p->cancel_at && p->calls >= p->cancel_at;
}

TEST(stories_info_and_placement)
{
	struct prog pr = { .monotonic = 1 };
	struct amxrt_model_params mp = { .progress = on_progress,
					 .progress_ctx = &pr };
	struct amxrt_model_info info;
	struct amxrt_placement pl;
	struct amxrt_model *m;
	char path[512], want[64];
	int64_t i, n, packed = 0, plain = 0;
	int isa = amxrt_isa();

	snprintf(path, sizeof(path), "%s/models/stories260K.gguf", srcdir());
	ASSERT_EQ(0, amxrt_model_load(path, &mp, &m))
	TH_LOG("%s", amxrt_errmsg());
	ASSERT_EQ(0, amxrt_model_get_info(m, &info));
	EXPECT_STREQ("llama", info.arch);
	EXPECT_EQ(5, info.n_layer);
	EXPECT_EQ(64, info.n_embd);
	EXPECT_EQ(8, info.n_head);
	EXPECT_EQ(4, info.n_head_kv);
	EXPECT_EQ(8, info.head_dim);
	EXPECT_EQ(172, info.n_ff);
	EXPECT_EQ(512, info.n_vocab);
	EXPECT_EQ(2048, info.n_ctx_train);
	EXPECT_EQ(0, info.n_expert);
	EXPECT_EQ(0, info.rope_neox);
	EXPECT_EQ(0, info.tied_output);
	EXPECT_EQ(AMXRT_TYPE_F32, info.type);
	EXPECT_EQ(10000.0f, info.rope_base);
	EXPECT_EQ(1e-5f, info.norm_eps);
	EXPECT_NE(NULL, amxrt_model_gguf(m));
	ASSERT_NE(NULL, amxrt_model_tokenizer(m));
	EXPECT_EQ(512, amxrt_tokenizer_n_vocab(amxrt_model_tokenizer(m)));
	EXPECT_EQ(1, amxrt_token_bos(amxrt_model_tokenizer(m)));
	EXPECT_EQ(NULL, amxrt_model_chat_template(m));
	/* every tensor of the file, once: 48 */
	n = amxrt_model_placement_count(m);
	EXPECT_EQ(48, n);
	snprintf(want, sizeof(want), "%s f32 (%s)",
		 isa == AMXRT_ISA_GENERIC ? "rows" : "panel16",
		 amxrt_isa_name(isa));
	for (i = 0; i < n; i++) {
		ASSERT_EQ(0, amxrt_model_placement(m, i, &pl));
		EXPECT_EQ(AMXRT_BACKEND_CPU, pl.backend);
		EXPECT_LT(0, pl.bytes);
		if (is_matmul(pl.tensor)) {
			EXPECT_STREQ(want, pl.layout) TH_LOG("%s", pl.tensor);
			packed++;
		} else {
			EXPECT_STREQ("plain f32", pl.layout)
			TH_LOG("%s", pl.tensor);
			plain++;
		}
	}
	EXPECT_EQ(5 * 7 + 1, packed); /* q k v o gate up down, output */
	EXPECT_EQ(5 * 2 + 2, plain); /* 2 norms a layer, output_norm, embd */
	EXPECT_EQ(-EINVAL, amxrt_model_placement(m, n, &pl));
	EXPECT_EQ(-EINVAL, amxrt_model_placement(m, -1, &pl));
	/* progress: monotonic, ends at the total */
	EXPECT_LT(1, pr.calls);
	EXPECT_TRUE(pr.monotonic);
	EXPECT_EQ(pr.total, pr.last);
	EXPECT_LT(0, pr.total);
	amxrt_model_free(m);

	/* cancelled by the callback: nothing returned */
	memset(&pr, 0, sizeof(pr));
	pr.cancel_at = 3;
	m = (struct amxrt_model *)&pr;
	EXPECT_EQ(-ECANCELED, amxrt_model_load(path, &mp, &m));
	EXPECT_EQ(NULL, m);
	EXPECT_NE(NULL, strstr(amxrt_errmsg(), "cancel"));
}

TEST(tied_and_moe_placement)
{
	struct amxrt_model_info info;
	struct amxrt_placement pl;
	struct amxrt_model *m;
	struct gen_params p;
	int64_t i, n;
	int found_out = 0, found_exp = 0;
	struct prog pr = { .monotonic = 1 };
	struct amxrt_model_params mp = { .progress = on_progress,
					 .progress_ctx = &pr };

	gen_defaults(&p, "qwen3moe", AMXRT_TYPE_Q4_0, test_rand());
	p.tied = 1;
	ASSERT_EQ(0, gen_model(tmp_path("t.gguf"), &p));
	ASSERT_EQ(0, amxrt_model_load(tmp_path("t.gguf"), &mp, &m))
	TH_LOG("%s", amxrt_errmsg());
	EXPECT_TRUE(pr.monotonic);
	EXPECT_EQ(pr.total, pr.last);
	ASSERT_EQ(0, amxrt_model_get_info(m, &info));
	EXPECT_STREQ("qwen3moe", info.arch);
	EXPECT_EQ(1, info.tied_output);
	EXPECT_EQ(1, info.rope_neox);
	EXPECT_EQ(4, info.n_expert);
	EXPECT_EQ(2, info.n_expert_used);
	EXPECT_EQ(64, info.n_ff_expert);
	EXPECT_EQ(AMXRT_TYPE_Q4_0, info.type);
	n = amxrt_model_placement_count(m);
	for (i = 0; i < n; i++) {
		ASSERT_EQ(0, amxrt_model_placement(m, i, &pl));
		if (!strcmp(pl.tensor, "output.weight")) {
			found_out = 1;
			EXPECT_NE(NULL, strstr(pl.layout, "q4_0"));
			EXPECT_NE(NULL, strstr(pl.layout, "tied"));
		}
		if (strstr(pl.tensor, "_exps")) {
			found_exp++;
			EXPECT_NE(NULL, strstr(pl.layout, "x 4 experts"));
		}
		if (strstr(pl.tensor, "norm"))
			EXPECT_STREQ("plain f32", pl.layout);
		if (!strcmp(pl.tensor, "token_embd.weight"))
			EXPECT_STREQ("plain q4_0", pl.layout);
	}
	EXPECT_TRUE(found_out);
	EXPECT_EQ(3 * p.n_layer, found_exp);
	amxrt_model_free(m);
	unlink(tmp_path("t.gguf"));
	rmdir(tmpdir);
	tmpdir[0] = '\0';
}

/* Load must fail with err and a message containing each of the words. */
static void refused(struct __test_metadata *_metadata,
		    const struct gen_params *p, int err, const char *w1,
		    const char *w2)
{
	struct amxrt_model *m = NULL;

	ASSERT_EQ(0, gen_model(tmp_path("bad.gguf"), p));
	EXPECT_EQ(-err, amxrt_model_load(tmp_path("bad.gguf"), NULL, &m));
	EXPECT_EQ(NULL, m);
	printf("# %s\n", amxrt_errmsg());
	fflush(stdout);
	EXPECT_NE(NULL, strstr(amxrt_errmsg(), w1))
	TH_LOG("%s", amxrt_errmsg());
	if (w2)
		EXPECT_NE(NULL, strstr(amxrt_errmsg(), w2))
	TH_LOG("%s", amxrt_errmsg());
	amxrt_model_free(m);
	unlink(tmp_path("bad.gguf"));
	rmdir(tmpdir);
	tmpdir[0] = '\0';
}

TEST(bad_models)
{
	struct gen_params p;

	gen_defaults(&p, "llama", AMXRT_TYPE_F32, 1);
	p.skip_tensor = "blk.1.attn_k.weight";
	refused(_metadata, &p, EINVAL, "blk.1.attn_k.weight", "missing");

	gen_defaults(&p, "qwen2", AMXRT_TYPE_Q8_0, 1);
	p.skip_tensor = "blk.0.attn_v.bias";
	refused(_metadata, &p, EINVAL, "blk.0.attn_v.bias", "missing");

	gen_defaults(&p, "qwen3", AMXRT_TYPE_F16, 1);
	p.skip_tensor = "blk.0.attn_q_norm.weight";
	refused(_metadata, &p, EINVAL, "blk.0.attn_q_norm.weight", "missing");

	gen_defaults(&p, "llama", AMXRT_TYPE_F32, 1);
	p.skip_tensor = "output_norm.weight";
	refused(_metadata, &p, EINVAL, "output_norm.weight", "missing");

	/* ne[0] 64 -> 96: the message gives both shapes */
	gen_defaults(&p, "llama", AMXRT_TYPE_F32, 1);
	p.bad_tensor = "blk.0.ffn_up.weight";
	refused(_metadata, &p, EINVAL, "blk.0.ffn_up.weight",
		"[96, 96], expected [64, 96]");

	gen_defaults(&p, "qwen3moe", AMXRT_TYPE_Q4_0, 1);
	p.bad_tensor = "blk.1.ffn_down_exps.weight";
	refused(_metadata, &p, EINVAL, "blk.1.ffn_down_exps.weight",
		"expected [64, 64, 4]");

	/* norms and biases are read as f32 */
	gen_defaults(&p, "qwen2", AMXRT_TYPE_F32, 1);
	p.f16_tensor = "blk.1.ffn_norm.weight";
	refused(_metadata, &p, EINVAL, "blk.1.ffn_norm.weight",
		"is f16, expected f32");

	gen_defaults(&p, "gpt2", AMXRT_TYPE_F32, 1);
	refused(_metadata, &p, EINVAL, "unsupported architecture", "'gpt2'");

	gen_defaults(&p, "llama", AMXRT_TYPE_F32, 1);
	p.n_head_kv = 3;
	refused(_metadata, &p, EINVAL, "4 heads", "3 kv heads");

	/* the tokenizer's refusal, before a weight's; its size checked */
	gen_defaults(&p, "llama", AMXRT_TYPE_Q4_0, 1);
	p.tok_model = "wordpiece";
	refused(_metadata, &p, EINVAL, "tokenizer", "\"wordpiece\"");
	gen_defaults(&p, "qwen3", AMXRT_TYPE_Q8_0, 1);
	p.tok_model = "wordpiece";
	p.skip_tensor = "blk.0.attn_k.weight";
	refused(_metadata, &p, EINVAL, "tokenizer", "\"wordpiece\"");
	gen_defaults(&p, "llama", AMXRT_TYPE_Q4_0, 1);
	p.vocab_tokens = 400;
	refused(_metadata, &p, EINVAL, "vocabulary has 400 tokens",
		"token_embd.weight 300 rows");
}

/* Whether every page of [off, off + len) of the mapping base is resident. */
static int resident(const uint8_t *base, size_t off, size_t len, int *all)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	size_t first = off / pg, npages = (off + len - 1) / pg - first + 1, i;
	unsigned char vec[64];

	if (npages > sizeof(vec) ||
	    mincore((void *)(base + first * pg), npages * pg, vec))
		return -1;
	*all = 1;
	for (i = 0; i < npages; i++)
		*all &= vec[i] & 1;
	return 0;
}

/*
 * Norms lie between the weights in the file; loading asks for their pages
 * at once (MADV_WILLNEED), so that the first decode does not wait for
 * them one fault at a time. With the file evicted from the page cache and
 * the weights read with O_DIRECT, nothing else would bring them in.
 */
TEST(norm_pages_read_ahead)
{
	const char *path = tmp_path("read-ahead.gguf");
	struct gen_params gp;
	struct amxrt_gguf *g;
	struct amxrt_gguf_tensor t;
	struct amxrt_model *m = NULL;
	size_t size, data_off, off = 0, len = 0;
	uint8_t *map;
	int fd, all = 0, i;
	int64_t n;

	/*
	 * 3 layers of 1024 x 2816 in Q8_0 (41 MB): the last layer's norm
	 * lies far past what reading the header brings into the page cache.
	 */
	gen_defaults(&gp, "llama", AMXRT_TYPE_Q8_0, 7);
	gp.n_layer = 3;
	gp.n_embd = 1024;
	gp.n_head = 16;
	gp.n_head_kv = 4;
	gp.head_dim = 64;
	gp.n_ff = 2816;
	ASSERT_NE(NULL, path);
	ASSERT_EQ(0, gen_model(path, &gp));
	ASSERT_EQ(0, amxrt_gguf_open(path, &g));
	data_off = amxrt_gguf_data_offset(g);
	for (n = 0; n < amxrt_gguf_tensor_count(g); n++) {
		ASSERT_EQ(0, amxrt_gguf_tensor(g, n, &t));
		if (!strcmp(t.name, "blk.2.ffn_norm.weight")) {
			off = data_off + t.offset;
			len = t.size;
		}
	}
	amxrt_gguf_close(g);
	ASSERT_NE((size_t)0, len);

	fd = open(path, O_RDONLY);
	ASSERT_LE(0, fd);
	size = (size_t)lseek(fd, 0, SEEK_END);
	fsync(fd);
	posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
	map = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, map);
	ASSERT_EQ(0, resident(map, off, len, &all));
	if (all) {
		munmap(map, size);
		close(fd);
		unlink(path);
		SKIP(return,
			   "this file system kept the file's pages in memory (POSIX_FADV_DONTNEED had no effect): nothing to read ahead");
	}
	ASSERT_EQ(0, amxrt_model_load(path, NULL, &m));
	for (i = 0; i < 200; i++) { /* the read is asynchronous: 2 s */
		ASSERT_EQ(0, resident(map, off, len, &all));
		if (all)
			break;
		usleep(10000);
	}
	TH_LOG("blk.2.ffn_norm.weight resident after %d ms", i * 10);
	EXPECT_TRUE(all);
	amxrt_model_free(m);
	munmap(map, size);
	close(fd);
	unlink(path);
}

TEST(missing_file)
{
	struct amxrt_model *m = (struct amxrt_model *)1;

	EXPECT_GT(0, amxrt_model_load("/nonexistent/x.gguf", NULL, &m));
	EXPECT_EQ(NULL, m);
	EXPECT_EQ(-EINVAL, amxrt_model_load(NULL, NULL, &m));
	amxrt_model_free(NULL);
}

TEST_HARNESS_MAIN
