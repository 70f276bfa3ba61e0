// SPDX-License-Identifier: MIT
/*
 * load.c - loading a model: tensors looked up by llama.cpp's names, shapes
 * checked against the architecture, every weight placed once (matmul
 * weights packed for the ISA in use; embeddings, norms and biases left in
 * the mapped file), the placement list, the progress callback, and the
 * model's accessors.
 *
 * Loading runs in two steps: every tensor is looked up and checked and
 * every packed weight allocated (the plan), then the packed weights' bytes
 * are streamed from the file and packed as they land (stream.c).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <amxrt/amxrt.h>

#include "../core/clock.h"
#include "../core/error.h"
#include "../kernels/kernels.h"
#include "model_int.h"
#include "persist.h"
#include "stream.h"

struct loader {
	struct amxrt_model *m;
	const struct amxrt_model_params *p;
	const char *path;
	struct stat st; /* the file when its header was read */
	uint64_t done, total;
	uint64_t type_elems[AMXRT_TYPE_BF16 + 1];
	struct amxrt_stream_mat *mats; /* the weights to stream */
	int64_t n_mats, cap_mats;
	struct amxrt_persist ps; /* the model arena, if one holds the weights */
};

static const char *type_str(enum amxrt_type t, char *buf, size_t len)
{
	const char *s = amxrt_type_name(t);

	if (s)
		return s;
	snprintf(buf, len, "type %d", (int)t);
	return buf;
}

static int add_place(struct amxrt_model *m, const char *tensor,
		     enum amxrt_backend b, const char *layout, uint64_t bytes)
{
	struct amxrt_place *pl;

	if (m->n_places == m->cap_places) {
		int64_t cap = m->cap_places ? 2 * m->cap_places : 64;

		pl = realloc(m->places, sizeof(*pl) * cap);
		if (!pl)
			return amxrt_err(ENOMEM, "model: out of memory");
		m->places = pl;
		m->cap_places = cap;
	}
	pl = &m->places[m->n_places];
	pl->tensor = strdup(tensor);
	pl->layout = strdup(layout);
	pl->backend = b;
	pl->bytes = bytes;
	if (!pl->tensor || !pl->layout) {
		free(pl->tensor);
		free(pl->layout);
		return amxrt_err(ENOMEM, "model: out of memory");
	}
	m->n_places++;
	m->weight_bytes += bytes;
	return 0;
}

static void shape_str(const int64_t *ne, int n, char *buf, size_t len)
{
	size_t o = 0;
	int i;

	o += snprintf(buf + o, len - o, "[");
	for (i = 0; i < n && o < len; i++)
		o += snprintf(buf + o, len - o, "%s%lld", i ? ", " : "",
			      (long long)ne[i]);
	if (o < len)
		snprintf(buf + o, len - o, "]");
}

/*
 * Find a tensor and check its shape: n expected dims in ne (GGUF order,
 * ne[0] the row length). Returns 0, 1 if absent and optional, -errno.
 */
static int lookup(struct loader *ld, const char *name, int optional, int n,
		  const int64_t *ne, struct amxrt_gguf_tensor *t)
{
	const struct amxrt_gguf *g = ld->m->gguf;
	int64_t idx = amxrt_gguf_find_tensor(g, name);
	char want[96], got[96];
	int i, ret, bad = 0;

	if (idx < 0) {
		if (optional)
			return 1;
		return amxrt_err(EINVAL, "model: tensor %s is missing", name);
	}
	ret = amxrt_gguf_tensor(g, idx, t);
	if (ret)
		return ret;
	for (i = 0; i < AMXRT_GGUF_MAX_DIMS; i++)
		bad |= t->ne[i] != (i < n ? ne[i] : 1);
	if (bad) {
		shape_str(ne, n, want, sizeof(want));
		shape_str(t->ne, t->n_dims, got, sizeof(got));
		return amxrt_err(EINVAL,
				 "model: tensor %s has shape %s, expected %s",
				 name, got, want);
	}
	if (!t->data)
		return amxrt_err(EINVAL, "model: tensor %s has no data", name);
	if (amxrt_row_bytes(t->type, t->ne[0]) < 0) {
		char b[32];

		return amxrt_err(EINVAL,
				 "model: tensor %s: %s is not supported here",
				 name, type_str(t->type, b, sizeof(b)));
	}
	ld->m->n_params +=
		(uint64_t)(t->ne[0] * t->ne[1] * t->ne[2] * t->ne[3]);
	return 0;
}

/*
 * Start reading a small tensor's pages from the file now, all of them at
 * once: norms and biases lie between the weights, one or two pages each,
 * and the first decode would otherwise wait for them one fault at a time
 * (a restart from a model arena reads nothing else: with the file out of
 * the page cache that was 45 reads in a row for TinyLlama, 0.15 s). A
 * tensor the reader copied into memory is not affected.
 */
static void read_ahead(const void *p, size_t len)
{
	long pg = sysconf(_SC_PAGESIZE);
	uintptr_t a = (uintptr_t)p & ~(uintptr_t)(pg - 1);

	if (pg > 0 && len)
		madvise((void *)a, (uintptr_t)p + len - a, MADV_WILLNEED);
}

/* A plain tensor; norms and biases (f32_only) must be F32. */
static int plain(struct loader *ld, const char *name, int optional, int n,
		 const int64_t *ne, int f32_only, struct amxrt_plain *out)
{
	struct amxrt_gguf_tensor t;
	char layout[48], b[32];
	int ret = lookup(ld, name, optional, n, ne, &t);

	if (ret)
		return ret;
	if (f32_only && t.type != AMXRT_TYPE_F32)
		return amxrt_err(EINVAL, "model: tensor %s is %s, expected f32",
				 name, type_str(t.type, b, sizeof(b)));
	out->name = t.name;
	out->type = t.type;
	out->cols = t.ne[0];
	out->rows = t.ne[1];
	out->data = t.data;
	if (f32_only)
		read_ahead(t.data, t.size);
	snprintf(layout, sizeof(layout), "plain %s",
		 type_str(t.type, b, sizeof(b)));
	return add_place(ld->m, name, AMXRT_BACKEND_CPU, layout, t.size);
}

static void layout_of(const struct amxrt_weight *w, char *buf, size_t len)
{
	enum amxrt_isa isa = amxrt_weight_isa(w);
	char b[32];

	snprintf(buf, len, "%s %s (%s)",
		 isa == AMXRT_ISA_GENERIC ? "rows" : "panel16",
		 type_str(amxrt_weight_type(w), b, sizeof(b)),
		 amxrt_isa_name(isa));
}

static int progress(struct loader *ld, uint64_t bytes)
{
	ld->done += bytes;
	if (ld->done > ld->total)
		ld->done = ld->total;
	if (ld->p && ld->p->progress &&
	    ld->p->progress(ld->p->progress_ctx, ld->done, ld->total))
		return amxrt_err(ECANCELED, "model: load cancelled");
	return 0;
}

static int add_mat(struct loader *ld, const struct amxrt_gguf_tensor *t,
		   struct amxrt_weight *w, int64_t first_row, int64_t n,
		   size_t rb)
{
	uint64_t base = amxrt_gguf_data_offset(ld->m->gguf) + t->offset;
	struct amxrt_stream_mat *sm;

	if (ld->n_mats == ld->cap_mats) {
		int64_t cap = ld->cap_mats ? 2 * ld->cap_mats : 64;

		sm = realloc(ld->mats, sizeof(*sm) * cap);
		if (!sm)
			return amxrt_err(ENOMEM, "model: out of memory");
		ld->mats = sm;
		ld->cap_mats = cap;
	}
	sm = &ld->mats[ld->n_mats++];
	memset(sm, 0, sizeof(*sm));
	sm->tensor = t->name;
	sm->w = w;
	sm->off = base + (uint64_t)first_row * rb;
	sm->rows = n;
	sm->row_bytes = rb;
	sm->tensor_end = base + t->size;
	return 0;
}

/* Place n_mat 2D slices [n x k] of one tensor (n_mat > 1: the experts of
 * a 3D tensor) on the CPU backend: allocated in their packed layout now,
 * filled when the file is streamed. */
static int pack(struct loader *ld, const struct amxrt_gguf_tensor *t,
		const char *place_name, const char *note, struct amxrt_mat *out,
		int n_mat, int64_t n, int64_t k)
{
	int64_t rb = amxrt_row_bytes(t->type, k);
	uint64_t bytes = 0;
	char layout[96], b[32];
	int e, ret;

	if (t->type > AMXRT_TYPE_BF16 || rb < 0)
		return amxrt_err(EINVAL,
				 "model: tensor %s: %s is not supported",
				 t->name, type_str(t->type, b, sizeof(b)));
	for (e = 0; e < n_mat; e++) {
		/* an arena gives the memory once every weight is planned */
		ret = ld->ps.use ?
			      amxrt_weight_layout(&out[e].w, t->type, n, k,
						  -1) :
			      amxrt_weight_alloc(&out[e].w, t->type, n, k, -1);
		if (!ret)
			ret = add_mat(ld, t, out[e].w, e * n, n, (size_t)rb);
		if (ret) {
			char msg[160];

			snprintf(msg, sizeof(msg), "%s", amxrt_errmsg());
			return amxrt_err(-ret, "model: tensor %s (%s): %s",
					 t->name,
					 type_str(t->type, b, sizeof(b)), msg);
		}
		out[e].backend = AMXRT_BACKEND_CPU;
		out[e].n = n;
		out[e].k = k;
		bytes += amxrt_weight_bytes(out[e].w);
	}
	ld->type_elems[t->type] += (uint64_t)(n * k * n_mat);
	layout_of(out[0].w, layout, sizeof(layout));
	if (n_mat > 1)
		snprintf(layout + strlen(layout),
			 sizeof(layout) - strlen(layout), " x %d experts",
			 n_mat);
	if (note)
		snprintf(layout + strlen(layout),
			 sizeof(layout) - strlen(layout), " %s", note);
	return add_place(ld->m, place_name, AMXRT_BACKEND_CPU, layout, bytes);
}

static int mat(struct loader *ld, const char *name, int64_t n, int64_t k,
	       struct amxrt_mat *out)
{
	int64_t ne[2] = { k, n };
	struct amxrt_gguf_tensor t;
	int ret = lookup(ld, name, 0, 2, ne, &t);

	return ret ? ret : pack(ld, &t, name, NULL, out, 1, n, k);
}

static int experts(struct loader *ld, const char *name, int64_t n, int64_t k,
		   int n_exp, struct amxrt_mat **out)
{
	int64_t ne[3] = { k, n, n_exp };
	struct amxrt_gguf_tensor t;
	int ret = lookup(ld, name, 0, 3, ne, &t);

	if (ret)
		return ret;
	*out = calloc(n_exp, sizeof(**out));
	if (!*out)
		return amxrt_err(ENOMEM, "model: out of memory");
	return pack(ld, &t, name, NULL, *out, n_exp, n, k);
}

static int load_layer(struct loader *ld, int il)
{
	const struct amxrt_hparams *hp = &ld->m->hp;
	struct amxrt_layer *l = &ld->m->layers[il];
	int64_t E = hp->n_embd, D = hp->head_dim;
	int64_t qd = hp->n_head * D, kvd = hp->n_head_kv * D;
	int64_t ne_e[1] = { E }, ne_q[1] = { qd }, ne_kv[1] = { kvd };
	int64_t ne_d[1] = { D };
	char nm[96];
	int ret;

#define NAME(s) (snprintf(nm, sizeof(nm), "blk.%d." s, il), nm)
	ret = plain(ld, NAME("attn_norm.weight"), 0, 1, ne_e, 1, &l->attn_norm);
	if (!ret)
		ret = mat(ld, NAME("attn_q.weight"), qd, E, &l->wq);
	if (!ret)
		ret = mat(ld, NAME("attn_k.weight"), kvd, E, &l->wk);
	if (!ret)
		ret = mat(ld, NAME("attn_v.weight"), kvd, E, &l->wv);
	if (!ret)
		ret = mat(ld, NAME("attn_output.weight"), E, qd, &l->wo);
	if (!ret && hp->has_qkv_bias) {
		ret = plain(ld, NAME("attn_q.bias"), 0, 1, ne_q, 1, &l->bq);
		if (!ret)
			ret = plain(ld, NAME("attn_k.bias"), 0, 1, ne_kv, 1,
				    &l->bk);
		if (!ret)
			ret = plain(ld, NAME("attn_v.bias"), 0, 1, ne_kv, 1,
				    &l->bv);
	}
	if (!ret && hp->has_qk_norm) {
		ret = plain(ld, NAME("attn_q_norm.weight"), 0, 1, ne_d, 1,
			    &l->q_norm);
		if (!ret)
			ret = plain(ld, NAME("attn_k_norm.weight"), 0, 1, ne_d,
				    1, &l->k_norm);
	}
	if (!ret)
		ret = plain(ld, NAME("ffn_norm.weight"), 0, 1, ne_e, 1,
			    &l->ffn_norm);
	if (ret)
		return ret;
	if (!hp->is_moe) {
		ret = mat(ld, NAME("ffn_gate.weight"), hp->n_ff, E, &l->w_gate);
		if (!ret)
			ret = mat(ld, NAME("ffn_up.weight"), hp->n_ff, E,
				  &l->w_up);
		if (!ret)
			ret = mat(ld, NAME("ffn_down.weight"), E, hp->n_ff,
				  &l->w_down);
		return ret;
	}
	ret = mat(ld, NAME("ffn_gate_inp.weight"), hp->n_expert, E, &l->router);
	if (!ret)
		ret = experts(ld, NAME("ffn_gate_exps.weight"), hp->n_ff_expert,
			      E, hp->n_expert, &l->e_gate);
	if (!ret)
		ret = experts(ld, NAME("ffn_up_exps.weight"), hp->n_ff_expert,
			      E, hp->n_expert, &l->e_up);
	if (!ret)
		ret = experts(ld, NAME("ffn_down_exps.weight"), E,
			      hp->n_ff_expert, hp->n_expert, &l->e_down);
#undef NAME
	return ret;
}

/* Bytes the packing step reads: the sizes of all 2D/3D weights but the
 * embedding, which is packed only as a tied output. */
static uint64_t pack_total(const struct amxrt_gguf *g)
{
	int64_t i, n = amxrt_gguf_tensor_count(g);
	int tied = amxrt_gguf_find_tensor(g, "output.weight") < 0;
	uint64_t total = 0;

	for (i = 0; i < n; i++) {
		struct amxrt_gguf_tensor t;

		if (!amxrt_gguf_tensor(g, i, &t) && t.n_dims >= 2 &&
		    (tied || strcmp(t.name, "token_embd.weight")))
			total += t.size;
	}
	return total;
}

static int stream_progress(void *ctx, uint64_t bytes)
{
	return progress(ctx, bytes);
}

/* The mapping of the file: a tensor's data less its file offset. */
static const void *file_map(const struct amxrt_gguf *g)
{
	struct amxrt_gguf_tensor t;

	if (amxrt_gguf_tensor_count(g) < 1 || amxrt_gguf_tensor(g, 0, &t) ||
	    !t.data)
		return NULL;
	return (const char *)t.data - amxrt_gguf_data_offset(g) - t.offset;
}

static int stream(struct loader *ld)
{
	return amxrt_stream_mats(ld->path, &ld->st, file_map(ld->m->gguf),
				 ld->mats, ld->n_mats, stream_progress, ld,
				 &ld->m->load);
}

static int load_all(struct loader *ld)
{
	struct amxrt_model *m = ld->m;
	struct amxrt_hparams *hp = &m->hp;
	struct amxrt_gguf_tensor t;
	const char *s;
	size_t len;
	int64_t ne[2];
	int ret, i, best;

	ret = amxrt_hparams_read(m->gguf, hp);
	if (ret)
		return ret;
	if (!amxrt_gguf_get_str(m->gguf, "general.name", &s, &len))
		snprintf(m->name, sizeof(m->name), "%.*s",
			 (int)(len < 63 ? len : 63), s);
	ret = amxrt_tokenizer_load(m->gguf, &m->tok);
	if (ret)
		return ret;

	/* the embedding fixes n_vocab */
	i = (int)amxrt_gguf_find_tensor(m->gguf, "token_embd.weight");
	if (i < 0)
		return amxrt_err(EINVAL,
				 "model: tensor token_embd.weight is missing");
	ret = amxrt_gguf_tensor(m->gguf, i, &t);
	if (ret)
		return ret;
	if (t.ne[1] < 1 || t.ne[1] > (1 << 24))
		return amxrt_err(EINVAL,
				 "model: token_embd.weight has %lld rows",
				 (long long)t.ne[1]);
	hp->n_vocab = (int)t.ne[1];
	if (amxrt_tokenizer_n_vocab(m->tok) > hp->n_vocab)
		return amxrt_err(
			EINVAL,
			"model: the vocabulary has %d tokens, token_embd.weight %d rows",
			amxrt_tokenizer_n_vocab(m->tok), hp->n_vocab);
	ld->total = pack_total(m->gguf);
	ret = progress(ld, 0);
	if (ret)
		return ret;

	ne[0] = hp->n_embd;
	ne[1] = hp->n_vocab;
	ret = plain(ld, "token_embd.weight", 0, 2, ne, 0, &m->tok_embd);
	if (!ret)
		ret = plain(ld, "output_norm.weight", 0, 1, ne, 1,
			    &m->output_norm);
	if (ret)
		return ret;
	ret = lookup(ld, "output.weight", 1, 2, ne, &t);
	if (ret < 0)
		return ret;
	m->tied_output = ret == 1;
	if (m->tied_output) {
		/* packed at load from the embedding: placement, not a copy
		 * made during inference */
		ret = amxrt_gguf_tensor(
			m->gguf,
			amxrt_gguf_find_tensor(m->gguf, "token_embd.weight"),
			&t);
		if (!ret)
			ret = pack(ld, &t, "output.weight",
				   "(tied: packed from token_embd.weight)",
				   &m->output, 1, hp->n_vocab, hp->n_embd);
	} else {
		ret = pack(ld, &t, "output.weight", NULL, &m->output, 1,
			   hp->n_vocab, hp->n_embd);
	}
	if (ret)
		return ret;

	m->layers = calloc(hp->n_layer, sizeof(*m->layers));
	if (!m->layers)
		return amxrt_err(ENOMEM, "model: out of memory");
	for (i = 0; i < hp->n_layer; i++) {
		ret = load_layer(ld, i);
		if (ret)
			return ret;
	}
	best = AMXRT_TYPE_F32;
	for (i = 0; i <= AMXRT_TYPE_BF16; i++)
		if (ld->type_elems[i] > ld->type_elems[best])
			best = i;
	m->main_type = (enum amxrt_type)best;
	/* a sealed arena holds the packed weights: nothing to read */
	ret = amxrt_persist_attach(&ld->ps, ld->mats, ld->n_mats, &m->load);
	if (!ret && !ld->ps.hit)
		ret = stream(ld);
	ret = amxrt_persist_end(&ld->ps, ret, &m->load);
	if (ret)
		return ret;
	m->arena = ld->ps.a; /* unmapped, not destroyed, by model_free */
	if (ld->ps.hit)
		snprintf(m->load.io, sizeof(m->load.io), "arena");
	/* tensors the architecture does not use: report the end anyway */
	return ld->done < ld->total ? progress(ld, ld->total - ld->done) : 0;
}

int amxrt_model_load(const char *path, const struct amxrt_model_params *p,
		     struct amxrt_model **out)
{
	struct loader ld = { .p = p, .path = path };
	struct amxrt_model *m;
	double t0 = amxrt_now();
	int ret;

	if (!out)
		return amxrt_err(EINVAL, "model: out is NULL");
	*out = NULL;
	if (!path)
		return amxrt_err(EINVAL, "model: path is NULL");
	m = calloc(1, sizeof(*m));
	if (!m)
		return amxrt_err(ENOMEM, "model: out of memory");
	ld.m = m;
	/* the file as it is before its header is read: it must not change
	 * until the weights are in */
	if (stat(path, &ld.st))
		ret = amxrt_err(errno, "%s: %s", path, strerror(errno));
	else
		ret = amxrt_gguf_open(path, &m->gguf);
	if (!ret)
		ret = amxrt_persist_begin(&ld.ps,
					  p ? p->arena : AMXRT_LOAD_ARENA_OFF,
					  path, &ld.st, m->gguf,
					  file_map(m->gguf), &m->load);
	if (!ret)
		ret = load_all(&ld);
	free(ld.mats);
	if (ret) {
		amxrt_model_free(m);
		return ret;
	}
	m->load.seconds = amxrt_now() - t0;
	*out = m;
	return 0;
}

static void free_mats(struct amxrt_mat *w, int n)
{
	int i;

	for (i = 0; w && i < n; i++)
		amxrt_weight_free(w[i].w);
	free(w);
}

void amxrt_model_free(struct amxrt_model *m)
{
	int64_t i;

	if (!m)
		return;
	for (i = 0; m->layers && i < m->hp.n_layer; i++) {
		struct amxrt_layer *l = &m->layers[i];

		amxrt_weight_free(l->wq.w);
		amxrt_weight_free(l->wk.w);
		amxrt_weight_free(l->wv.w);
		amxrt_weight_free(l->wo.w);
		amxrt_weight_free(l->w_gate.w);
		amxrt_weight_free(l->w_up.w);
		amxrt_weight_free(l->w_down.w);
		amxrt_weight_free(l->router.w);
		free_mats(l->e_gate, m->hp.n_expert);
		free_mats(l->e_up, m->hp.n_expert);
		free_mats(l->e_down, m->hp.n_expert);
	}
	free(m->layers);
	amxrt_weight_free(m->output.w);
	for (i = 0; i < m->n_places; i++) {
		free(m->places[i].tensor);
		free(m->places[i].layout);
	}
	free(m->places);
	amxrt_arena_close(m->arena); /* the arena stays for later loads */
	amxrt_tokenizer_free(m->tok);
	amxrt_gguf_close(m->gguf);
	free(m);
}

int amxrt_model_get_info(const struct amxrt_model *m,
			 struct amxrt_model_info *info)
{
	const struct amxrt_hparams *hp;

	if (!m || !info)
		return amxrt_err(EINVAL, "model: NULL argument");
	hp = &m->hp;
	memset(info, 0, sizeof(*info));
	snprintf(info->arch, sizeof(info->arch), "%s", hp->arch_name);
	snprintf(info->name, sizeof(info->name), "%s", m->name);
	info->n_layer = hp->n_layer;
	info->n_embd = hp->n_embd;
	info->n_head = hp->n_head;
	info->n_head_kv = hp->n_head_kv;
	info->head_dim = hp->head_dim;
	info->n_ff = hp->n_ff;
	info->n_vocab = hp->n_vocab;
	info->n_ctx_train = hp->n_ctx_train;
	info->n_expert = hp->n_expert;
	info->n_expert_used = hp->n_expert_used;
	info->n_ff_expert = hp->n_ff_expert;
	info->rope_base = hp->rope_base;
	info->norm_eps = hp->norm_eps;
	info->rope_neox = hp->rope_neox;
	info->tied_output = m->tied_output;
	info->type = m->main_type;
	info->n_params = m->n_params;
	info->weight_bytes = m->weight_bytes;
	return 0;
}

const struct amxrt_tokenizer *amxrt_model_tokenizer(const struct amxrt_model *m)
{
	return m ? m->tok : NULL;
}

const struct amxrt_gguf *amxrt_model_gguf(const struct amxrt_model *m)
{
	return m ? m->gguf : NULL;
}

const char *amxrt_model_chat_template(const struct amxrt_model *m)
{
	const char *s;
	size_t len;

	if (!m ||
	    amxrt_gguf_get_str(m->gguf, "tokenizer.chat_template", &s, &len))
		return NULL;
	return s;
}

int amxrt_model_load_stats(const struct amxrt_model *m,
			   struct amxrt_load_stats *out)
{
	if (!m || !out)
		return amxrt_err(EINVAL, "model: NULL argument");
	*out = m->load;
	return 0;
}

int64_t amxrt_model_placement_count(const struct amxrt_model *m)
{
	return m ? m->n_places : 0;
}

int amxrt_model_placement(const struct amxrt_model *m, int64_t i,
			  struct amxrt_placement *out)
{
	if (!m || !out || i < 0 || i >= m->n_places)
		return amxrt_err(EINVAL, "model: no placement %lld",
				 (long long)i);
	out->tensor = m->places[i].tensor;
	out->backend = m->places[i].backend;
	out->layout = m->places[i].layout;
	out->bytes = m->places[i].bytes;
	return 0;
}
