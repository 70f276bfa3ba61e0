// SPDX-License-Identifier: MIT
/*
 * hparams.c - architecture hyperparameters from the GGUF keys
 * ({arch}.block_count, {arch}.attention.head_count, ...), per architecture.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../core/error.h"
#include "model_int.h"

static const struct {
	const char *name;
	enum amxrt_arch arch;
	int neox, bias, qk_norm, moe;
} archs[] = {
	{ "llama", AMXRT_ARCH_LLAMA, 0, 0, 0, 0 },
	{ "qwen2", AMXRT_ARCH_QWEN2, 1, 1, 0, 0 },
	{ "qwen3", AMXRT_ARCH_QWEN3, 1, 0, 1, 0 },
	{ "qwen3moe", AMXRT_ARCH_QWEN3MOE, 1, 0, 1, 1 },
};

/* {arch}.suffix as an int in [lo, hi]; def < 0: required. */
static int get_int(const struct amxrt_gguf *g, const char *arch,
		   const char *suffix, int def, int lo, int hi, int *out)
{
	char key[128];
	int64_t v;
	int ret;

	snprintf(key, sizeof(key), "%s.%s", arch, suffix);
	ret = amxrt_gguf_get_int(g, key, &v);
	if (ret == -ENOENT && def >= 0) {
		*out = def;
		return 0;
	}
	if (ret == -ENOENT)
		return amxrt_err(EINVAL, "model: key %s is missing", key);
	if (ret < 0)
		return amxrt_err(EINVAL, "model: key %s is not an integer",
				 key);
	if (v < lo || v > hi)
		return amxrt_err(EINVAL, "model: %s = %lld is out of [%d, %d]",
				 key, (long long)v, lo, hi);
	*out = (int)v;
	return 0;
}

static int get_float(const struct amxrt_gguf *g, const char *arch,
		     const char *suffix, double def, float *out)
{
	char key[128];
	double v;
	int ret;

	snprintf(key, sizeof(key), "%s.%s", arch, suffix);
	ret = amxrt_gguf_get_float(g, key, &v);
	if (ret == -ENOENT) {
		*out = (float)def;
		return 0;
	}
	if (ret < 0 || !(v > 0) || v > 1e30)
		return amxrt_err(EINVAL,
				 "model: key %s is not a positive number", key);
	*out = (float)v;
	return 0;
}

int amxrt_hparams_read(const struct amxrt_gguf *g, struct amxrt_hparams *hp)
{
	const char *arch;
	size_t len;
	size_t i;
	int ret, hd_def;

	memset(hp, 0, sizeof(*hp));
	ret = amxrt_gguf_get_str(g, "general.architecture", &arch, &len);
	if (ret < 0)
		return amxrt_err(EINVAL,
				 "model: key general.architecture is missing");
	for (i = 0; i < sizeof(archs) / sizeof(archs[0]); i++)
		if (strlen(archs[i].name) == len &&
		    !memcmp(archs[i].name, arch, len))
			break;
	if (i == sizeof(archs) / sizeof(archs[0]))
		return amxrt_err(EINVAL,
				 "model: unsupported architecture '%.*s' "
				 "(supported: llama, qwen2, qwen3, qwen3moe)",
				 (int)(len > 64 ? 64 : len), arch);
	hp->arch = archs[i].arch;
	snprintf(hp->arch_name, sizeof(hp->arch_name), "%s", archs[i].name);
	arch = archs[i].name;
	hp->rope_neox = archs[i].neox;
	hp->has_qkv_bias = archs[i].bias;
	hp->has_qk_norm = archs[i].qk_norm;
	hp->is_moe = archs[i].moe;

	ret = get_int(g, arch, "block_count", -1, 1, 4096, &hp->n_layer);
	if (!ret)
		ret = get_int(g, arch, "embedding_length", -1, 1, 1 << 20,
			      &hp->n_embd);
	if (!ret)
		ret = get_int(g, arch, "attention.head_count", -1, 1, 4096,
			      &hp->n_head);
	if (!ret)
		ret = get_int(g, arch, "attention.head_count_kv", hp->n_head, 1,
			      hp->n_head, &hp->n_head_kv);
	if (ret)
		return ret;
	if (hp->n_head % hp->n_head_kv)
		return amxrt_err(
			EINVAL,
			"model: %d heads are not a multiple of %d kv heads",
			hp->n_head, hp->n_head_kv);
	hd_def = hp->n_embd % hp->n_head ? -1 : hp->n_embd / hp->n_head;
	ret = get_int(g, arch, "attention.key_length", hd_def, 2,
		      AMXRT_MAX_HEAD_DIM, &hp->head_dim);
	if (!ret) {
		int vl;

		ret = get_int(g, arch, "attention.value_length", hp->head_dim,
			      1, AMXRT_MAX_HEAD_DIM, &vl);
		if (!ret && vl != hp->head_dim)
			ret = amxrt_err(
				EINVAL,
				"model: value_length %d != key_length %d is not supported",
				vl, hp->head_dim);
	}
	if (!ret)
		ret = get_int(g, arch, "feed_forward_length",
			      hp->is_moe ? 0 : -1, 0, 1 << 24, &hp->n_ff);
	if (!ret)
		ret = get_int(g, arch, "context_length", 2048, 1, 1 << 24,
			      &hp->n_ctx_train);
	if (!ret)
		ret = get_int(g, arch, "rope.dimension_count", hp->head_dim, 0,
			      hp->head_dim, &hp->n_rot);
	if (!ret)
		ret = get_float(g, arch, "rope.freq_base", 10000.0,
				&hp->rope_base);
	if (!ret)
		ret = get_float(g, arch, "attention.layer_norm_rms_epsilon",
				1e-5, &hp->norm_eps);
	if (!ret && hp->is_moe) {
		ret = get_int(g, arch, "expert_count", -1, 1, AMXRT_MAX_EXPERTS,
			      &hp->n_expert);
		if (!ret)
			ret = get_int(g, arch, "expert_used_count", -1, 1,
				      hp->n_expert, &hp->n_expert_used);
		if (!ret)
			ret = get_int(g, arch, "expert_feed_forward_length",
				      hp->n_ff > 0 ? hp->n_ff : -1, 1, 1 << 24,
				      &hp->n_ff_expert);
	}
	if (ret)
		return ret;
	if (!hp->is_moe && hp->n_ff < 1)
		return amxrt_err(EINVAL, "model: %s.feed_forward_length is 0",
				 arch);
	if (hp->n_rot % 2)
		return amxrt_err(EINVAL,
				 "model: %s.rope.dimension_count %d is odd",
				 arch, hp->n_rot);
	return 0;
}
