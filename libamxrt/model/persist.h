/* SPDX-License-Identifier: MIT */
/*
 * persist.h - model arenas: a loaded model's packed weights kept in one
 * sealed, persistent arena named after the file and the layout options,
 * so that a later load maps them instead of reading and packing. Used by
 * load.c in three steps: begin (before the plan: whether an arena is to
 * hold the weights, and its name), attach (after the plan: map a sealed
 * arena, or create one and point the weights into it), end (after the
 * stream: seal, or destroy what a failed fill left). Internal.
 */
#ifndef AMXRT_MODEL_PERSIST_H
#define AMXRT_MODEL_PERSIST_H

#include <stdint.h>
#include <sys/stat.h>

#include <amxrt/arena.h>
#include <amxrt/gguf.h>
#include <amxrt/model.h>

#include "stream.h"

struct amxrt_persist {
	int policy; /* enum amxrt_load_arena */
	int use; /* 1: the weights are planned without memory (layout only) */
	int hit; /* 1: mapped from a sealed arena: nothing to stream */
	int node; /* node of a new arena, -1 any */
	char name[AMXRT_ARENA_NAME_MAX + 1];
	char path[256]; /* absolute, for the header */
	uint64_t ident, opts; /* the name's two hashes */
	struct stat st;
	struct amxrt_arena *a; /* open while the model lives */
	uint8_t *base;
};

/*
 * Before the plan. Decides whether an arena is to hold the weights
 * (ps->use) and names it, writing the decision into ls (arena, state).
 * map is the file's mapping (for the header's hash). Returns 0, or -errno
 * where the policy is REQUIRE and no arena can be used.
 */
int amxrt_persist_begin(struct amxrt_persist *ps, int policy, const char *path,
			const struct stat *st, const struct amxrt_gguf *g,
			const void *map, struct amxrt_load_stats *ls);

/*
 * After the plan, with ps->use: the n weights of mats (in plan order) have
 * their layout but no memory. A sealed arena that matches: each weight
 * points into its read-only mapping, ps->hit = 1. Else a new arena is
 * created and mapped writable and the weights point into it (to be
 * streamed, then amxrt_persist_end()); where that fails and the policy is
 * AUTO, the weights get private memory as without arenas. 0 or -errno.
 */
int amxrt_persist_attach(struct amxrt_persist *ps,
			 struct amxrt_stream_mat *mats, int64_t n,
			 struct amxrt_load_stats *ls);

/*
 * After the stream of a new arena: err 0 marks it complete and seals it
 * (returns 0 or -errno); err < 0 closes and destroys it (returns err).
 * Without a new arena, returns err.
 */
int amxrt_persist_end(struct amxrt_persist *ps, int err,
		      struct amxrt_load_stats *ls);

/* Forget the arena without destroying it (it stays for later loads). */
void amxrt_persist_close(struct amxrt_persist *ps);

#endif /* AMXRT_MODEL_PERSIST_H */
