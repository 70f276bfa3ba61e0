// SPDX-License-Identifier: MIT
/*
 * persist.c - model arenas: the packed weights of a model in one sealed,
 * persistent arena (module or hugetlbfs), found again by name.
 *
 * The name is "amxrt-m-<ident>-<opts>": ident hashes the file's identity
 * (absolute path, size, mtime, and its header and tensor table, i.e. the
 * bytes before the tensor data), opts the layout options (ISA path, NUMA
 * mode and node, this layout's version and constants). A changed file or
 * other options give another name: an arena is never stale.
 *
 * The arena holds a header (struct hdr, then one struct entry per packed
 * weight, in the loader's plan order) and then each weight's data, 64-byte
 * aligned (4 KiB from 4 KiB up). A fill writes the header with complete 0
 * and the filling process's pid, points the weights into the writable
 * mapping for the stream to pack into, then sets complete and seals. A
 * load maps only a sealed, complete arena whose header matches its own
 * plan weight by weight; an unsealed one whose filler is gone is an
 * unfinished fill: destroyed and filled again.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <amxrt/amxrt.h>

#include "../core/error.h"
#include "../kernels/kernels.h"
#include "../numa/numa.h"
#include "persist.h"

#define LAYOUT_VERSION 1
#define MAGIC "AMXRTMA"
#define PAGE 4096u

struct hdr {
	char magic[8];
	uint32_t version; /* LAYOUT_VERSION */
	uint32_t n_weights;
	uint64_t ident, opts; /* the name's hashes */
	uint64_t file_size;
	int64_t mtime_sec, mtime_nsec;
	uint64_t data_off; /* where the first weight starts */
	uint64_t total; /* bytes used */
	int32_t filler_pid; /* the process filling it */
	uint32_t complete; /* 1 once every weight is packed */
	char path[256];
};

struct entry {
	uint64_t off; /* of the weight's data, from the arena's start */
	uint64_t bytes;
	uint64_t file_off; /* of its rows in the file */
	int64_t n, k;
	int32_t type, isa, layout, pad;
};

/* FNV-1a-style, 64 bits, a word at a time. */
#define FNV_PRIME 0x100000001b3ull
#define FNV_BASIS 0xcbf29ce484222325ull

static uint64_t mix(uint64_t h, uint64_t v)
{
	return (h ^ v) * FNV_PRIME;
}

static uint64_t hash_bytes(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;
	uint64_t v;

	for (; n >= 8; n -= 8, b += 8) {
		memcpy(&v, b, 8);
		h = mix(h, v);
	}
	while (n--)
		h = mix(h, *b++);
	return h;
}

static uint64_t align_to(uint64_t v, uint64_t a)
{
	return (v + a - 1) / a * a;
}

static void say(struct amxrt_load_stats *ls, int state, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void say(struct amxrt_load_stats *ls, int state, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ls->arena, sizeof(ls->arena), fmt, ap);
	va_end(ap);
	ls->arena_state = state;
}

/*
 * AUTO: record why no arena is used and go on without; REQUIRE: fail
 * with that reason.
 */
static int not_used(struct amxrt_persist *ps, struct amxrt_load_stats *ls,
		    int err, const char *why)
{
	ps->use = 0;
	if (ps->policy == AMXRT_LOAD_ARENA_REQUIRE)
		return amxrt_err(err, "model arena required: %s", why);
	say(ls, AMXRT_LOAD_ARENA_NONE, "%s", why);
	return 0;
}

int amxrt_persist_begin(struct amxrt_persist *ps, int policy, const char *path,
			const struct stat *st, const struct amxrt_gguf *g,
			const void *map, struct amxrt_load_stats *ls)
{
	char abs[PATH_MAX], why[300];
	enum amxrt_numa mode;
	int backend, idx, nn, isa;
	uint64_t h;

	memset(ps, 0, sizeof(*ps));
	ps->policy = policy;
	ps->node = -1;
	if (policy == AMXRT_LOAD_ARENA_OFF) {
		say(ls, AMXRT_LOAD_ARENA_NONE, "off");
		return 0;
	}
	if (policy != AMXRT_LOAD_ARENA_AUTO &&
	    policy != AMXRT_LOAD_ARENA_REQUIRE)
		return amxrt_err(EINVAL,
				 "model: arena policy %d (off 0, auto 1, "
				 "require 2)",
				 policy);
	backend = amxrt_arena_default_backend();
	if (backend < 0) {
		snprintf(why, sizeof(why), "no persistent arena backend: %s",
			 amxrt_errmsg());
		return not_used(ps, ls, -backend, why);
	}
	if (backend != AMXRT_ARENA_MODULE && backend != AMXRT_ARENA_HUGETLBFS) {
		snprintf(why, sizeof(why), "no persistent arena backend: %s",
			 amxrt_arena_backend_reason());
		return not_used(ps, ls, ENOTSUP, why);
	}
	amxrt_numa_weight_plan(&mode, &idx, &nn);
	if (mode == AMXRT_NUMA_DISTRIBUTE || mode == AMXRT_NUMA_MIRROR) {
		snprintf(why, sizeof(why),
			 "not used: NUMA mode %s places weights per node, "
			 "a model arena holds one copy on one node",
			 amxrt_numa_name(mode));
		return not_used(ps, ls, ENOTSUP, why);
	}
	if (mode == AMXRT_NUMA_ISOLATE)
		ps->node = amxrt_numa_node_id(idx);
	isa = amxrt_isa();
	if (isa < 0) {
		snprintf(why, sizeof(why), "not used: %s", amxrt_errmsg());
		return not_used(ps, ls, -isa, why);
	}
	if (!map || !realpath(path, abs)) {
		snprintf(why, sizeof(why), "not used: %s: %s", path,
			 map ? strerror(errno) : "no tensor data mapped");
		return not_used(ps, ls, map ? errno : EINVAL, why);
	}
	snprintf(ps->path, sizeof(ps->path), "%.255s", abs);
	ps->st = *st;

	h = hash_bytes(FNV_BASIS, abs, strlen(abs));
	h = mix(h, (uint64_t)st->st_size);
	h = mix(h, (uint64_t)st->st_mtim.tv_sec);
	h = mix(h, (uint64_t)st->st_mtim.tv_nsec);
	ps->ident = hash_bytes(h, map, amxrt_gguf_data_offset(g));

	h = mix(FNV_BASIS, LAYOUT_VERSION);
	h = mix(h, (uint64_t)isa);
	h = mix(h, (uint64_t)mode);
	h = mix(h, (uint64_t)(int64_t)ps->node);
	h = mix(h, AMXRT_PANEL_ROWS);
	h = mix(h, AMXRT_BLOCK_K);
	h = mix(h, sizeof(struct hdr) << 16 | sizeof(struct entry));
	ps->opts = h;
	snprintf(ps->name, sizeof(ps->name), "amxrt-m-%016llx-%016llx",
		 (unsigned long long)ps->ident, (unsigned long long)ps->opts);
	snprintf(ls->arena_name, sizeof(ls->arena_name), "%s", ps->name);
	ps->use = 1;
	return 0;
}

/* The header this load would write, entries included; NULL: no memory. */
static struct hdr *plan_hdr(struct amxrt_persist *ps,
			    const struct amxrt_stream_mat *mats, int64_t n)
{
	uint64_t off,
		hb = sizeof(struct hdr) + (uint64_t)n * sizeof(struct entry);
	struct entry *e;
	struct hdr *h;
	int64_t i;

	h = calloc(1, hb);
	if (!h)
		return NULL;
	e = (struct entry *)(h + 1);
	memcpy(h->magic, MAGIC, sizeof(MAGIC));
	h->version = LAYOUT_VERSION;
	h->n_weights = (uint32_t)n;
	h->ident = ps->ident;
	h->opts = ps->opts;
	h->file_size = (uint64_t)ps->st.st_size;
	h->mtime_sec = (int64_t)ps->st.st_mtim.tv_sec;
	h->mtime_nsec = (int64_t)ps->st.st_mtim.tv_nsec;
	h->filler_pid = (int32_t)getpid();
	snprintf(h->path, sizeof(h->path), "%s", ps->path);
	off = h->data_off = align_to(hb, PAGE);
	for (i = 0; i < n; i++) {
		const struct amxrt_weight *w = mats[i].w;

		off = align_to(off, w->bytes >= PAGE ? PAGE : AMXRT_ALIGN);
		e[i].off = off;
		e[i].bytes = w->bytes;
		e[i].file_off = mats[i].off;
		e[i].n = w->n;
		e[i].k = w->k;
		e[i].type = (int32_t)w->type;
		e[i].isa = (int32_t)w->isa;
		e[i].layout = (int32_t)w->layout;
		off += w->bytes;
	}
	h->total = off;
	return h;
}

/* Whether a mapped arena of size bytes holds what plan describes. */
static const char *mismatch(const struct hdr *got, uint64_t size,
			    const struct hdr *plan)
{
	const struct entry *e = (const struct entry *)(plan + 1);
	const struct entry *g = (const struct entry *)(got + 1);
	uint32_t i;

	if (size < sizeof(*got) || memcmp(got->magic, MAGIC, sizeof(MAGIC)))
		return "no model arena header";
	if (got->version != LAYOUT_VERSION)
		return "another layout version";
	if (got->ident != plan->ident || got->opts != plan->opts ||
	    got->file_size != plan->file_size ||
	    got->mtime_sec != plan->mtime_sec ||
	    got->mtime_nsec != plan->mtime_nsec)
		return "made from another file or with other options";
	if (!got->complete)
		return "its fill did not finish";
	if (got->n_weights != plan->n_weights || got->total > size ||
	    got->data_off != plan->data_off)
		return "another list of weights";
	for (i = 0; i < plan->n_weights; i++)
		if (memcmp(&g[i], &e[i], sizeof(*e)))
			return "another list of weights";
	return NULL;
}

/* Point the weights into the mapping at ps->base. */
static void point(struct amxrt_persist *ps, struct amxrt_stream_mat *mats,
		  int64_t n, const struct hdr *plan)
{
	const struct entry *e = (const struct entry *)(plan + 1);
	int64_t i;

	for (i = 0; i < n; i++)
		amxrt_weight_place(mats[i].w, ps->base + e[i].off);
}

/* Give the weights private memory, as without arenas. */
static int place_private(struct amxrt_stream_mat *mats, int64_t n)
{
	int64_t i;
	int ret;

	for (i = 0; i < n; i++) {
		ret = amxrt_weight_place(mats[i].w, NULL);
		if (ret)
			return ret;
	}
	return 0;
}

/* The process that is filling an arena, if it still runs; else 0. */
static int live_filler(struct amxrt_arena *a)
{
	const struct hdr *h;
	void *p;
	int pid = 0;

	if (amxrt_arena_map(a, 0, &p))
		return 0;
	h = p;
	/* this process too: another thread's load of the same model */
	if (!memcmp(h->magic, MAGIC, sizeof(MAGIC)) && h->filler_pid > 0 &&
	    (!kill(h->filler_pid, 0) || errno == EPERM))
		pid = h->filler_pid;
	amxrt_arena_unmap(a, p);
	return pid;
}

/* Open the arena of that name: 1 hit (mapped), 0 to fill, else -errno. */
static int try_hit(struct amxrt_persist *ps, const struct hdr *plan,
		   struct amxrt_load_stats *ls, char *left, size_t len)
{
	struct amxrt_arena_info info;
	struct amxrt_arena *a;
	const char *bad;
	char why[300];
	void *p;
	int ret, pid;

	ret = amxrt_arena_open(ps->name, &a);
	if (ret == -ENOENT)
		return 0;
	if (ret)
		return ret;
	ret = amxrt_arena_info(a, &info);
	if (ret) {
		amxrt_arena_close(a);
		return ret;
	}
	if (!info.sealed) {
		pid = live_filler(a);
		amxrt_arena_close(a);
		if (pid)
			return amxrt_err(EBUSY,
					 "%s is being filled by process %d",
					 ps->name, pid);
		ret = amxrt_arena_destroy(ps->name);
		if (ret)
			return ret;
		snprintf(left, len, " (an unfinished fill was destroyed)");
		return 0;
	}
	ret = amxrt_arena_map(a, 0, &p);
	if (ret) {
		amxrt_arena_close(a);
		return ret;
	}
	bad = mismatch(p, info.size, plan);
	if (bad) {
		snprintf(why, sizeof(why), "%s", bad);
		amxrt_arena_close(a);
		return amxrt_err(EINVAL,
				 "%s: %s (destroy it with amxrt-arena destroy)",
				 ps->name, why);
	}
	ps->a = a;
	ps->base = p;
	say(ls, AMXRT_LOAD_ARENA_HIT, "hit %s (%s, %.1f MiB)", ps->name,
	    amxrt_arena_backend_name(info.backend),
	    (double)plan->total / 1048576.0);
	return 1;
}

/* Create the arena, write its header, map it writable. */
static int create(struct amxrt_persist *ps, const struct hdr *plan,
		  struct amxrt_load_stats *ls, const char *left)
{
	struct amxrt_arena *a;
	void *p;
	int ret;

	ret = amxrt_arena_create(ps->name, plan->total, ps->node, 0, &a);
	if (ret)
		return ret;
	ret = amxrt_arena_map(a, AMXRT_ARENA_MAP_WRITE, &p);
	if (ret) {
		amxrt_arena_close(a);
		amxrt_arena_destroy(ps->name);
		return ret;
	}
	memcpy(p, plan, sizeof(*plan) + plan->n_weights * sizeof(struct entry));
	ps->a = a;
	ps->base = p;
	say(ls, AMXRT_LOAD_ARENA_FILLED, "miss%s, filled %s (%s, %.1f MiB)",
	    left, ps->name, amxrt_arena_backend_name(amxrt_arena_backend(a)),
	    (double)plan->total / 1048576.0);
	return 0;
}

int amxrt_persist_attach(struct amxrt_persist *ps,
			 struct amxrt_stream_mat *mats, int64_t n,
			 struct amxrt_load_stats *ls)
{
	char left[64] = "", why[400];
	struct hdr *plan;
	int ret;

	if (!ps->use)
		return 0;
	plan = plan_hdr(ps, mats, n);
	if (!plan)
		return amxrt_err(ENOMEM, "model: out of memory");
	ret = try_hit(ps, plan, ls, left, sizeof(left));
	if (ret == 1) {
		point(ps, mats, n, plan);
		ps->hit = 1;
		free(plan);
		return 0;
	}
	if (!ret)
		ret = create(ps, plan, ls, left);
	if (!ret) {
		point(ps, mats, n, plan);
		free(plan);
		return 0;
	}
	free(plan);
	snprintf(why, sizeof(why), "not used: %s", amxrt_errmsg());
	ret = not_used(ps, ls, -ret, why);
	return ret ? ret : place_private(mats, n);
}

int amxrt_persist_end(struct amxrt_persist *ps, int err,
		      struct amxrt_load_stats *ls)
{
	struct hdr *h;
	int ret;

	if (!ps->a || ps->hit)
		return err;
	if (err) {
		amxrt_persist_close(ps);
		amxrt_arena_destroy(ps->name);
		return err;
	}
	h = (struct hdr *)ps->base;
	h->complete = 1;
	ret = amxrt_arena_seal(ps->a);
	if (ret) {
		char msg[256];

		snprintf(msg, sizeof(msg), "%s", amxrt_errmsg());
		/* the weights stay valid in the mapping; the name goes */
		h->complete = 0;
		amxrt_arena_destroy(ps->name);
		if (ps->policy == AMXRT_LOAD_ARENA_REQUIRE)
			return amxrt_err(-ret, "model arena %s: seal: %s",
					 ps->name, msg);
		say(ls, AMXRT_LOAD_ARENA_NONE, "not used: seal %s: %s",
		    ps->name, msg);
	}
	return 0;
}

void amxrt_persist_close(struct amxrt_persist *ps)
{
	amxrt_arena_close(ps->a);
	ps->a = NULL;
	ps->base = NULL;
}
