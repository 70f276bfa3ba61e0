// SPDX-License-Identifier: MIT
/*
 * Description: NUMA modes (off, distribute, isolate, mirror). Names
 * parsed and bad modes or nodes refused with a message naming the
 * problem; the topology; each pool thread's affinity, read inside the
 * thread, is its node's CPUs; a random model's packed weights are on the
 * nodes the mode placed them on (move_pages: every range of a distributed
 * weight on its node, every mirror copy on its node, isolate on its node);
 * logits bit-identical to off in every mode and thread count; packed
 * weights unpack to their bytes and multiply as in off. Runs on the
 * host's nodes (one here) and, built static, in the 2-node QEMU guest of
 * scripts/kmod-check.sh.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "helpers.h"
#include "model_gen.h"

#include <amxrt/amxrt.h>

static const enum amxrt_numa modes[] = {
	AMXRT_NUMA_OFF,
	AMXRT_NUMA_DISTRIBUTE,
	AMXRT_NUMA_ISOLATE,
	AMXRT_NUMA_MIRROR,
};

#define N_MODES ((int)(sizeof(modes) / sizeof(modes[0])))

static char tmpdir[256];

static const char *tmp_path(const char *name)
{
	static char path[512];

	if (!tmpdir[0]) {
		snprintf(tmpdir, sizeof(tmpdir), "/tmp/amxrt-numa-XXXXXX");
		if (!mkdtemp(tmpdir))
			return NULL;
	}
	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	return path;
}

/* The node isolate is tested on: the last node (node 1 in the guest). */
static int last_node(const struct amxrt_numa_topology *t)
{
	return t->nodes[t->n_nodes - 1].node;
}

static int node_of_index(const struct amxrt_numa_topology *t, int i)
{
	return t->nodes[i].node;
}

TEST(names_and_bad_modes)
{
	struct amxrt_numa_topology t;
	enum amxrt_numa m;
	int i, node;

	for (i = 0; i < N_MODES; i++) {
		ASSERT_NE(NULL, amxrt_numa_name(modes[i]));
		ASSERT_EQ(0, amxrt_numa_parse(amxrt_numa_name(modes[i]), &m));
		EXPECT_EQ(modes[i], m);
	}
	EXPECT_EQ(NULL, amxrt_numa_name((enum amxrt_numa)4));
	EXPECT_EQ(-EINVAL, amxrt_numa_parse("interleave", &m));
	EXPECT_NE(NULL, strstr(amxrt_errmsg(), "interleave"));
	EXPECT_NE(NULL, strstr(amxrt_errmsg(), "mirror"));
	EXPECT_EQ(-EINVAL, amxrt_set_numa((enum amxrt_numa)7, -1));
	EXPECT_NE(NULL, strstr(amxrt_errmsg(), "numa mode 7"));
	EXPECT_EQ(-EINVAL, amxrt_set_numa(AMXRT_NUMA_DISTRIBUTE, 0));
	EXPECT_NE(NULL, strstr(amxrt_errmsg(), "only for isolate"));
	EXPECT_EQ(-EINVAL, amxrt_set_numa(AMXRT_NUMA_ISOLATE, 999));
	EXPECT_NE(NULL, strstr(amxrt_errmsg(), "node 999"));
	EXPECT_EQ(-EINVAL, amxrt_set_numa(AMXRT_NUMA_ISOLATE, -2));
	/* a refused setting leaves the mode as it was */
	EXPECT_EQ(AMXRT_NUMA_OFF, amxrt_numa_mode(&node));
	EXPECT_EQ(-1, node);
	ASSERT_EQ(0, amxrt_numa_topology(&t));
	ASSERT_EQ(0, amxrt_set_numa(AMXRT_NUMA_ISOLATE, last_node(&t)));
	EXPECT_EQ(AMXRT_NUMA_ISOLATE, amxrt_numa_mode(&node));
	EXPECT_EQ(last_node(&t), node);
	ASSERT_EQ(0, amxrt_set_numa(AMXRT_NUMA_OFF, -1));
}

TEST(topology)
{
	struct amxrt_numa_topology t;
	long online = sysconf(_SC_NPROCESSORS_ONLN);
	char line[512];
	int i, cpus = 0;

	ASSERT_EQ(0, amxrt_numa_topology(&t));
	ASSERT_GE(t.n_nodes, 1);
	ASSERT_LE(t.n_nodes, AMXRT_NUMA_MAX_NODES);
	printf("# %d node(s) used, %d reported, libnuma %s%s%s\n", t.n_nodes,
	       t.n_nodes_all, t.available ? "available" : "unavailable",
	       t.note[0] ? ": " : "", t.note);
	for (i = 0; i < t.n_nodes; i++) {
		printf("# node %d: CPUs %s (%d), %llu MiB\n", t.nodes[i].node,
		       t.nodes[i].cpus, t.nodes[i].n_cpus,
		       (unsigned long long)(t.nodes[i].mem_bytes >> 20));
		fflush(stdout);
		EXPECT_GE(t.nodes[i].n_cpus, 1);
		EXPECT_NE(0, t.nodes[i].cpus[0]);
		if (i)
			EXPECT_GT(t.nodes[i].node, t.nodes[i - 1].node);
		cpus += t.nodes[i].n_cpus;
	}
	EXPECT_LE(cpus, online);
	if (!t.available)
		EXPECT_NE(0, t.note[0]);
	for (i = 0; i < N_MODES; i++) {
		ASSERT_EQ(0, amxrt_numa_describe(modes[i], -1, 4, line,
						 sizeof(line)));
		printf("# %s\n", line);
		fflush(stdout);
		EXPECT_EQ(0, strncmp(line, amxrt_numa_name(modes[i]),
				     strlen(amxrt_numa_name(modes[i]))));
	}
	EXPECT_EQ(-EINVAL, amxrt_numa_describe((enum amxrt_numa)9, -1, 4, line,
					       sizeof(line)));
}

/* The node pool thread i of nth must be pinned to in mode m, or -1. */
static int want_node(const struct amxrt_numa_topology *t, enum amxrt_numa m,
		     int iso, int i, int nth)
{
	if (!t->available || m == AMXRT_NUMA_OFF)
		return -1;
	if (m == AMXRT_NUMA_ISOLATE)
		return iso;
	return node_of_index(t, i * t->n_nodes / nth);
}

TEST(threads_pinned_to_their_node)
{
	struct amxrt_numa_topology t;
	struct amxrt_thread_pin pin[8];
	int i, k, n, nth, seen[AMXRT_NUMA_MAX_NODES] = { 0 };

	ASSERT_EQ(0, amxrt_numa_topology(&t));
	nth = 2 * t.n_nodes > 8 ? 8 : 2 * t.n_nodes;
	ASSERT_EQ(0, amxrt_set_threads(nth));
	for (k = 0; k < N_MODES; k++) {
		int iso = k == 2 ? last_node(&t) : -1;

		ASSERT_EQ(0, amxrt_set_numa(modes[k], iso));
		n = amxrt_numa_threads(pin, 8);
		ASSERT_EQ(nth, n);
		for (i = 1; i < n; i++) { /* 0 is this thread: not pinned */
			int w = want_node(&t, modes[k], iso, i, nth);
			int j;

			printf("# %-10s thread %d: node %d, CPU %d (node %d), "
			       "affinity %s%s%s\n",
			       amxrt_numa_name(modes[k]), i, pin[i].node,
			       pin[i].cpu, pin[i].cpu_node, pin[i].cpus,
			       pin[i].error[0] ? ": " : "", pin[i].error);
			fflush(stdout);
			EXPECT_EQ(i, pin[i].thread);
			EXPECT_EQ(0, pin[i].error[0]);
			EXPECT_EQ(w, pin[i].node);
			if (w < 0)
				continue;
			for (j = 0; j < t.n_nodes; j++)
				if (t.nodes[j].node == w)
					break;
			ASSERT_LT(j, t.n_nodes);
			/* the affinity read inside the thread is its node's */
			EXPECT_STREQ(t.nodes[j].cpus, pin[i].cpus);
			EXPECT_EQ(w, pin[i].cpu_node);
			if (modes[k] == AMXRT_NUMA_DISTRIBUTE)
				seen[j] = 1;
		}
	}
	for (i = 0; t.available && i < t.n_nodes; i++) {
		EXPECT_EQ(1, seen[i])
		TH_LOG("distribute left node %d without threads",
		       t.nodes[i].node);
	}
	/* the caller is pinned on request, and unpinned in off mode */
	ASSERT_EQ(0, amxrt_set_numa(AMXRT_NUMA_ISOLATE, last_node(&t)));
	ASSERT_EQ(0, amxrt_numa_pin_caller());
	ASSERT_EQ(nth, amxrt_numa_threads(pin, 8));
	if (t.available) {
		EXPECT_EQ(last_node(&t), pin[0].node);
		EXPECT_STREQ(t.nodes[t.n_nodes - 1].cpus, pin[0].cpus);
	}
	ASSERT_EQ(0, amxrt_set_numa(AMXRT_NUMA_OFF, -1));
	ASSERT_EQ(0, amxrt_numa_pin_caller());
	ASSERT_EQ(nth, amxrt_numa_threads(pin, 8));
	EXPECT_EQ(-1, pin[0].node);
	ASSERT_EQ(0, amxrt_set_threads(0));
}

#define N_TOK 6

/* Load path in the current mode, run the tokens, keep the last logits. */
static int run_model(struct __test_metadata *_metadata, const char *path,
		     const int32_t *toks, float *logits, int n_vocab,
		     struct amxrt_numa_report *rep)
{
	struct amxrt_ctx_params cp = { .n_ctx = 32 };
	struct amxrt_model *m = NULL;
	struct amxrt_ctx *c = NULL;
	const float *l;

	EXPECT_EQ(0, amxrt_model_load(path, NULL, &m))
	TH_LOG("%s", amxrt_errmsg());
	if (!m)
		return -1;
	EXPECT_EQ(0, amxrt_model_numa(m, rep));
	EXPECT_EQ(0, amxrt_ctx_new(m, &cp, &c));
	if (c) {
		EXPECT_EQ(0, amxrt_decode(c, toks, N_TOK, 0));
		l = amxrt_logits(c, -1);
		EXPECT_NE(NULL, l);
		if (l)
			memcpy(logits, l, sizeof(float) * n_vocab);
		EXPECT_EQ(0, amxrt_ctx_weight_bytes_copied(c));
	}
	amxrt_ctx_free(c);
	amxrt_model_free(m);
	return c ? 0 : -1;
}

/* Every page where the mode put it, and the per-node shares. */
static void check_report(struct __test_metadata *_metadata,
			 const struct amxrt_numa_topology *t, enum amxrt_numa m,
			 int iso, const struct amxrt_numa_report *r)
{
	int i;

	printf("# %-10s %d weights, %d parts, %llu pages: %llu home, "
	       "%llu away, %llu unknown; bytes per node:",
	       amxrt_numa_name(m), r->n_weights, r->n_parts,
	       (unsigned long long)r->pages, (unsigned long long)r->pages_home,
	       (unsigned long long)r->pages_away,
	       (unsigned long long)r->pages_unknown);
	for (i = 0; i < t->n_nodes; i++)
		printf(" %llu", (unsigned long long)r->node_bytes[i]);
	printf("\n");
	fflush(stdout);
	EXPECT_EQ(m, r->mode);
	EXPECT_GT(r->n_weights, 0);
	EXPECT_GT(r->pages, 0);
	EXPECT_EQ(r->pages, r->pages_home + r->pages_away + r->pages_unknown);
	if (m == AMXRT_NUMA_OFF)
		return;
	/* the packing touched every page, each on its node */
	EXPECT_EQ(r->pages, r->pages_home);
	EXPECT_EQ(0, r->pages_away);
	EXPECT_EQ(0, r->pages_unknown);
	switch (m) {
	case AMXRT_NUMA_ISOLATE:
		EXPECT_EQ(iso, r->node);
		EXPECT_EQ(0, r->n_parts);
		for (i = 0; i < t->n_nodes; i++) {
			if (t->nodes[i].node == iso) {
				EXPECT_GT(r->node_bytes[i], 0);
			} else {
				EXPECT_EQ(0, r->node_bytes[i]);
			}
		}
		break;
	case AMXRT_NUMA_MIRROR:
		EXPECT_EQ(t->n_nodes, r->n_parts);
		for (i = 1; i < t->n_nodes; i++)
			EXPECT_EQ(r->node_bytes[0], r->node_bytes[i]);
		break;
	default: /* distribute: the first weight (output) has >= 8 panels */
		EXPECT_EQ(t->n_nodes, r->n_parts);
		for (i = 0; i < t->n_nodes; i++)
			EXPECT_GT(r->node_bytes[i], 0);
		break;
	}
}

static void logits_every_mode(struct __test_metadata *_metadata,
			      const char *arch, enum amxrt_type type)
{
	static const int threads[] = { 1, 3 };
	struct amxrt_numa_topology t;
	struct amxrt_numa_report rep;
	struct gen_params p;
	int32_t toks[N_TOK];
	float *ref, *got;
	int i, k, h;

	ASSERT_EQ(0, amxrt_numa_topology(&t));
	gen_defaults(&p, arch, type, test_rand());
	p.n_vocab = 300; /* output: 19 panels */
	ASSERT_EQ(0, gen_model(tmp_path("n.gguf"), &p));
	for (i = 0; i < N_TOK; i++)
		toks[i] = (int32_t)(test_rand() % p.n_vocab);
	ref = calloc(p.n_vocab, sizeof(float));
	got = calloc(p.n_vocab, sizeof(float));
	ASSERT_NE(NULL, ref);
	ASSERT_NE(NULL, got);
	ASSERT_EQ(0, amxrt_set_numa(AMXRT_NUMA_OFF, -1));
	ASSERT_EQ(0, amxrt_set_threads(1));
	ASSERT_EQ(0, run_model(_metadata, tmp_path("n.gguf"), toks, ref,
			       p.n_vocab, &rep));
	for (k = 0; k < N_MODES; k++) {
		int iso = modes[k] == AMXRT_NUMA_ISOLATE ? last_node(&t) : -1;

		for (h = 0; h < 2; h++) {
			ASSERT_EQ(0, amxrt_set_numa(modes[k], iso));
			ASSERT_EQ(0, amxrt_set_threads(threads[h]));
			memset(got, 0, sizeof(float) * p.n_vocab);
			ASSERT_EQ(0, run_model(_metadata, tmp_path("n.gguf"),
					       toks, got, p.n_vocab, &rep));
			EXPECT_EQ(0,
				  memcmp(ref, got, sizeof(float) * p.n_vocab))
			TH_LOG("%s %s, %s, %d threads: logits differ from off",
			       arch, amxrt_type_name(type),
			       amxrt_numa_name(modes[k]), threads[h]);
			if (!h)
				check_report(_metadata, &t, modes[k],
					     t.available ? iso : -1, &rep);
		}
	}
	ASSERT_EQ(0, amxrt_set_numa(AMXRT_NUMA_OFF, -1));
	ASSERT_EQ(0, amxrt_set_threads(0));
	free(ref);
	free(got);
}

TEST(logits_llama_q4_0)
{
	logits_every_mode(_metadata, "llama", AMXRT_TYPE_Q4_0);
}

TEST(logits_qwen3moe_q8_0)
{
	logits_every_mode(_metadata, "qwen3moe", AMXRT_TYPE_Q8_0);
}

/* Standalone weights: unpack gives the bytes back, products as in off. */
TEST(weights_unpack_and_multiply)
{
	const int64_t n = 100, k = 64, mrows = 3;
	float *w = test_matrix(n, k, 1.0f), *x = test_matrix(mrows, k, 1.0f);
	float *y0 = calloc(n * mrows, sizeof(float));
	float *y = calloc(n * mrows, sizeof(float));
	size_t rb = (size_t)amxrt_row_bytes(AMXRT_TYPE_Q8_0, k);
	uint8_t *q = malloc(rb * n), *back = malloc(rb * n);
	struct amxrt_weight *pw;
	int i;

	ASSERT_NE(NULL, y0);
	ASSERT_NE(NULL, y);
	ASSERT_NE(NULL, q);
	ASSERT_NE(NULL, back);
	for (i = 0; i < n; i++)
		ASSERT_EQ(0, amxrt_quantize_row(AMXRT_TYPE_Q8_0, w + i * k,
						q + rb * i, k));
	ASSERT_EQ(0, amxrt_set_threads(3));
	for (i = 0; i < N_MODES; i++) {
		ASSERT_EQ(0, amxrt_set_numa(modes[i], -1));
		ASSERT_EQ(0,
			  amxrt_weight_pack(&pw, AMXRT_TYPE_Q8_0, n, k, q, -1));
		memset(back, 0, rb * n);
		ASSERT_EQ(0, amxrt_weight_unpack(pw, back));
		EXPECT_EQ(0, memcmp(q, back, rb * n))
		TH_LOG("%s: unpack differs", amxrt_numa_name(modes[i]));
		ASSERT_EQ(0, amxrt_matmul(pw, x, k, i ? y : y0, n, mrows));
		if (i) {
			EXPECT_EQ(0, memcmp(y0, y, sizeof(float) * n * mrows))
			TH_LOG("%s: products differ from off",
			       amxrt_numa_name(modes[i]));
		}
		amxrt_weight_free(pw);
	}
	ASSERT_EQ(0, amxrt_set_numa(AMXRT_NUMA_OFF, -1));
	ASSERT_EQ(0, amxrt_set_threads(0));
	free(w);
	free(x);
	free(y0);
	free(y);
	free(q);
	free(back);
}

TEST_HARNESS_MAIN
