// SPDX-License-Identifier: MIT
/*
 * Description: model arenas (amxrt_model_params.arena). On a private
 * hugetlbfs (as root: mounted in a temporary directory, nr_hugepages
 * raised, both undone after): the first load fills and seals an arena
 * ("miss, filled"), a load in another process maps it ("hit") without
 * reading a byte of weights, and the logits of a hit, a miss and a load
 * without arena are equal bit for bit; touching the file or another ISA
 * path gives another arena; policy OFF and NULL params create none; an
 * unsealed arena left by a fill that died is destroyed and filled again,
 * never used; a cancelled fill leaves nothing; amxrt-arena destroy
 * removes a model arena; AUTO without a persistent backend says why, and
 * REQUIRE fails saying why. Every load runs in a child process. The
 * same checks run on the module's arenas where /dev/amxrt exists (the
 * QEMU guest of make kmod-check); skipped elsewhere.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "helpers.h"
#include "tool_helpers.h"
#include "model_gen.h"

#include <amxrt/amxrt.h>

#define NEED_HUGEPAGES 24
#define HP "/sys/kernel/mm/hugepages/hugepages-2048kB/"
#define MAX_VOCAB 512

/* What a child's load gives back, in shared memory. */
struct res {
	int ret;
	char err[256];
	struct amxrt_load_stats st;
	int nv;
	uint64_t copied;
	float logits[MAX_VOCAB];
};

FIXTURE(marena)
{
	int backend;
	long hp_old; /* nr_hugepages to restore, or -1 */
	char mnt[64]; /* the private hugetlbfs, or "" */
	char dir[64]; /* the models */
	char model[96];
	struct res *r;
	int ready; /* setup done: old[] is the list from before */
	char old[16][AMXRT_ARENA_NAME_MAX + 1]; /* model arenas before */
	int n_old;
};

static int model_arenas(struct amxrt_arena_info *out, int max);

FIXTURE_VARIANT(marena)
{
	int backend;
};

FIXTURE_VARIANT_ADD(marena, module){
	.backend = AMXRT_ARENA_MODULE,
};

FIXTURE_VARIANT_ADD(marena, hugetlbfs){
	.backend = AMXRT_ARENA_HUGETLBFS,
};

FIXTURE_SETUP(marena)
{
	struct gen_params p;
	long nr, fr;

	self->hp_old = -1;
	self->mnt[0] = '\0';
	self->backend = variant->backend;
	unsetenv("AMXRT_ARENA");
	if (variant->backend == AMXRT_ARENA_MODULE) {
		if (access("/dev/amxrt", F_OK))
			SKIP(return, "/dev/amxrt not present: the module is "
				     "tested in QEMU by make kmod-check");
	} else if (geteuid() != 0) {
		char why[256];

		if (amxrt_arena_backend_usable(AMXRT_ARENA_HUGETLBFS, why,
					       sizeof(why)))
			SKIP(return,
				   "not root (cannot mount a private "
				   "hugetlbfs) and %s",
				   why);
	} else {
		nr = test_read_long(HP "nr_hugepages");
		fr = test_read_long(HP "free_hugepages");
		if (nr < 0 || fr < 0)
			SKIP(return, "no 2 MiB hugepage support (" HP ")");
		if (fr < NEED_HUGEPAGES) {
			self->hp_old = nr;
			test_write_long("/proc/sys/vm/nr_hugepages",
					nr + NEED_HUGEPAGES - fr);
			ASSERT_LE(NEED_HUGEPAGES,
				  test_read_long(HP "free_hugepages"))
			TH_LOG("the kernel gave too few 2 MiB hugepages");
		}
		snprintf(self->mnt, sizeof(self->mnt),
			 "/tmp/amxrt-marena-mnt.XXXXXX");
		ASSERT_NE(NULL, mkdtemp(self->mnt));
		ASSERT_EQ(0, mount("none", self->mnt, "hugetlbfs", 0,
				   "pagesize=2M"))
		TH_LOG("mount -t hugetlbfs on %s: %s", self->mnt,
		       strerror(errno));
		setenv("AMXRT_HUGETLBFS", self->mnt, 1);
	}
	ASSERT_EQ(0, amxrt_arena_set_backend(variant->backend))
	TH_LOG("%s", amxrt_errmsg());
	self->r = mmap(NULL, sizeof(*self->r), PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->r);
	snprintf(self->dir, sizeof(self->dir), "/tmp/amxrt-marena-XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->dir));
	snprintf(self->model, sizeof(self->model), "%s/m.gguf", self->dir);
	gen_defaults(&p, "llama", AMXRT_TYPE_Q4_0, test_rand());
	ASSERT_EQ(0, gen_model(self->model, &p));
	self->n_old = model_arenas(NULL, 0);
	ASSERT_GE(16, self->n_old) TH_LOG("too many model arenas already");
	{
		struct amxrt_arena_info a[16];
		int i;

		model_arenas(a, 16);
		for (i = 0; i < self->n_old; i++)
			memcpy(self->old[i], a[i].name, sizeof(self->old[i]));
	}
	self->ready = 1;
}

/* The model arenas there are now (names starting "amxrt-m-"). */
static int model_arenas(struct amxrt_arena_info *out, int max)
{
	struct amxrt_arena_info all[64];
	int n = amxrt_arena_list(all, 64), i, k = 0;

	for (i = 0; i < n && i < 64; i++)
		if (!strncmp(all[i].name, "amxrt-m-", 8)) {
			if (k < max)
				out[k] = all[i];
			k++;
		}
	return k;
}

/* The model arenas this test made: there now and not before setup. */
static int made(FIXTURE_DATA(marena) * self, struct amxrt_arena_info *out,
		int max)
{
	struct amxrt_arena_info a[32];
	int i, j, k = 0, n = model_arenas(a, 32);

	for (i = 0; i < n && i < 32; i++) {
		for (j = 0; j < self->n_old; j++)
			if (!strcmp(self->old[j], a[i].name))
				break;
		if (j < self->n_old)
			continue;
		if (k < max)
			out[k] = a[i];
		k++;
	}
	return k;
}

FIXTURE_TEARDOWN(marena)
{
	struct amxrt_arena_info a[32];
	int i, n = self->ready ? made(self, a, 32) : 0;

	for (i = 0; i < n && i < 32; i++)
		amxrt_arena_destroy(a[i].name);
	if (self->mnt[0]) {
		umount2(self->mnt, MNT_DETACH);
		rmdir(self->mnt);
		unsetenv("AMXRT_HUGETLBFS");
	}
	if (self->hp_old >= 0)
		test_write_long("/proc/sys/vm/nr_hugepages", self->hp_old);
	if (self->model[0])
		unlink(self->model);
	if (self->dir[0])
		rmdir(self->dir);
	if (self->r)
		munmap(self->r, sizeof(*self->r));
	amxrt_arena_set_backend(-1);
}

static int cancel_at_half(void *ctx, uint64_t done, uint64_t total)
{
	return done > 0 && done >= total / 2;
}

/* stall: at half way, say so on stall_fd[0]'s pipe, wait for a byte */
static int stall_fd[2] = { -1, -1 };

static int stall_at_half(void *ctx, uint64_t done, uint64_t total)
{
	static int stalled;
	char c = 's';

	if (!stalled && done > 0 && done >= total / 2) {
		stalled = 1;
		if (write(stall_fd[1], &c, 1) != 1 ||
		    read(stall_fd[0], &c, 1) != 1)
			return 1;
	}
	return 0;
}

/*
 * In a child process: set the ISA (-1: leave it), load path with policy
 * (-1: NULL params), decode a few tokens, and give back the report and
 * the logits. cancel: the progress callback cancels half way.
 */
static pid_t load_in_child(struct res *r, const char *path, int policy, int isa,
			   int cancel)
{
	static const int32_t toks[] = { 1, 7, 42, 260, 3, 99 };
	struct amxrt_model_params mp = { 0 };
	struct amxrt_ctx_params cp = { .n_ctx = 32 };
	struct amxrt_model_info info;
	struct amxrt_model *m;
	struct amxrt_ctx *c;
	pid_t pid;
	int st;

	memset(r, 0, sizeof(*r));
	r->ret = -ECHILD;
	pid = fork();
	if (pid == 0) {
		mp.arena = policy;
		if (cancel == 1)
			mp.progress = cancel_at_half;
		if (cancel == 2)
			mp.progress = stall_at_half;
		if (isa >= 0 && amxrt_isa_set(isa))
			_exit(1);
		r->ret = amxrt_model_load(path, policy < 0 ? NULL : &mp, &m);
		snprintf(r->err, sizeof(r->err), "%s", amxrt_errmsg());
		if (r->ret)
			_exit(0);
		amxrt_model_load_stats(m, &r->st);
		amxrt_model_get_info(m, &info);
		r->nv = info.n_vocab;
		if (r->nv > MAX_VOCAB || amxrt_ctx_new(m, &cp, &c))
			_exit(1);
		if (amxrt_decode(c, toks, 6, 0) || !amxrt_logits(c, -1))
			_exit(1);
		memcpy(r->logits, amxrt_logits(c, -1), sizeof(float) * r->nv);
		r->copied = amxrt_ctx_weight_bytes_copied(c);
		amxrt_ctx_free(c);
		amxrt_model_free(m);
		_exit(0);
	}
	if (pid > 0 && cancel != 2)
		waitpid(pid, &st, 0);
	return pid;
}

#define LOAD(policy, isa)                                              \
	do {                                                           \
		load_in_child(self->r, self->model, policy, isa, 0);   \
		ASSERT_EQ(0, self->r->ret) TH_LOG("%s", self->r->err); \
		ASSERT_LT(0, self->r->nv);                             \
	} while (0)

TEST_F(marena, miss_then_hit_same_logits)
{
	struct amxrt_load_stats st;
	struct amxrt_arena_info a[4];
	float ref[MAX_VOCAB], miss[MAX_VOCAB];
	char why[600], cmd[1400];
	int nv;

	if (_metadata->skip) /* the 6.1 harness runs it anyway */
		return;
	LOAD(AMXRT_LOAD_ARENA_OFF, -1);
	nv = self->r->nv;
	memcpy(ref, self->r->logits, sizeof(float) * nv);
	EXPECT_EQ(AMXRT_LOAD_ARENA_NONE, self->r->st.arena_state);
	EXPECT_STREQ("off", self->r->st.arena);
	EXPECT_LT(0, self->r->st.bytes_read);

	/* first: a miss that fills and seals */
	LOAD(AMXRT_LOAD_ARENA_AUTO, -1);
	st = self->r->st;
	EXPECT_EQ(AMXRT_LOAD_ARENA_FILLED, st.arena_state)
	TH_LOG("%s", st.arena);
	EXPECT_EQ(0, strncmp(st.arena, "miss, filled amxrt-m-", 21))
	TH_LOG("%s", st.arena);
	EXPECT_GE(AMXRT_ARENA_NAME_MAX, (int)strlen(st.arena_name));
	EXPECT_LT(0, st.bytes_read);
	EXPECT_EQ(0, self->r->copied);
	memcpy(miss, self->r->logits, sizeof(float) * nv);
	EXPECT_EQ(0, memcmp(ref, miss, sizeof(float) * nv));
	ASSERT_EQ(1, made(self, a, 4));
	EXPECT_STREQ(st.arena_name, a[0].name);
	EXPECT_EQ(1, a[0].sealed);
	EXPECT_EQ(0, a[0].map_count); /* the child unmapped it */

	/* second, in another process: a hit, nothing read */
	LOAD(AMXRT_LOAD_ARENA_AUTO, -1);
	EXPECT_EQ(AMXRT_LOAD_ARENA_HIT, self->r->st.arena_state)
	TH_LOG("%s", self->r->st.arena);
	EXPECT_EQ(0, strncmp(self->r->st.arena, "hit amxrt-m-", 12));
	EXPECT_STREQ(st.arena_name, self->r->st.arena_name);
	EXPECT_EQ(0, self->r->st.bytes_read);
	EXPECT_STREQ("arena", self->r->st.io);
	EXPECT_EQ(0, self->r->copied);
	EXPECT_EQ(0, memcmp(ref, self->r->logits, sizeof(float) * nv));
	/* REQUIRE hits too */
	LOAD(AMXRT_LOAD_ARENA_REQUIRE, -1);
	EXPECT_EQ(AMXRT_LOAD_ARENA_HIT, self->r->st.arena_state);
	EXPECT_EQ(0, memcmp(ref, self->r->logits, sizeof(float) * nv));
	EXPECT_EQ(1, made(self, a, 4));

	/* amxrt-arena destroy removes it; the next load fills again */
	if (find_tool("amxrt-arena", why, sizeof(why))) {
		printf("# %s: destroyed with the API\n", why);
		EXPECT_EQ(0, amxrt_arena_destroy(st.arena_name));
	} else {
		snprintf(cmd, sizeof(cmd),
			 "AMXRT_ARENA=%s %s destroy %s >/dev/null",
			 amxrt_arena_backend_name(self->backend), tool,
			 st.arena_name);
		EXPECT_EQ(0, system(cmd));
		EXPECT_EQ(0, made(self, a, 4));
	}
	LOAD(AMXRT_LOAD_ARENA_AUTO, -1);
	EXPECT_EQ(AMXRT_LOAD_ARENA_FILLED, self->r->st.arena_state);
	EXPECT_EQ(0, memcmp(ref, self->r->logits, sizeof(float) * nv));
}

TEST_F(marena, file_or_options_change_the_arena)
{
	struct amxrt_arena_info a[8];
	char first[64], touched[64];
	struct timespec ts[2] = { { 0, UTIME_OMIT }, { 12345, 678 } };
	int other = amxrt_isa_usable(AMXRT_ISA_AVX512VNNI, NULL, 0) ?
			    AMXRT_ISA_AVX2 :
			    AMXRT_ISA_AVX512VNNI;

	if (_metadata->skip) /* the 6.1 harness runs it anyway */
		return;
	LOAD(AMXRT_LOAD_ARENA_AUTO, AMXRT_ISA_GENERIC);
	EXPECT_EQ(AMXRT_LOAD_ARENA_FILLED, self->r->st.arena_state);
	snprintf(first, sizeof(first), "%s", self->r->st.arena_name);
	LOAD(AMXRT_LOAD_ARENA_AUTO, AMXRT_ISA_GENERIC);
	EXPECT_EQ(AMXRT_LOAD_ARENA_HIT, self->r->st.arena_state);

	/* another ISA path: another layout, another arena */
	if (amxrt_isa_usable(other, NULL, 0)) {
		printf("# neither avx512vnni nor avx2 here: ISA not varied\n");
	} else {
		LOAD(AMXRT_LOAD_ARENA_AUTO, other);
		EXPECT_EQ(AMXRT_LOAD_ARENA_FILLED, self->r->st.arena_state);
		EXPECT_STRNE(first, self->r->st.arena_name);
		EXPECT_EQ(0, strncmp(first, self->r->st.arena_name, 25))
		TH_LOG("same file, same identity hash: %s %s", first,
		       self->r->st.arena_name);
		LOAD(AMXRT_LOAD_ARENA_AUTO, other);
		EXPECT_EQ(AMXRT_LOAD_ARENA_HIT, self->r->st.arena_state);
	}

	/* the file touched (mtime): another arena, never the stale one */
	ASSERT_EQ(0, utimensat(AT_FDCWD, self->model, ts, 0));
	LOAD(AMXRT_LOAD_ARENA_AUTO, AMXRT_ISA_GENERIC);
	EXPECT_EQ(AMXRT_LOAD_ARENA_FILLED, self->r->st.arena_state)
	TH_LOG("%s", self->r->st.arena);
	snprintf(touched, sizeof(touched), "%s", self->r->st.arena_name);
	EXPECT_STRNE(first, touched);
	EXPECT_NE(0, strncmp(first, touched, 25));
	EXPECT_EQ(0, strcmp(first + 25, touched + 25)); /* same options */
	LOAD(AMXRT_LOAD_ARENA_AUTO, AMXRT_ISA_GENERIC);
	EXPECT_EQ(AMXRT_LOAD_ARENA_HIT, self->r->st.arena_state);
	EXPECT_STREQ(touched, self->r->st.arena_name);
	EXPECT_EQ(other == AMXRT_ISA_AVX2 &&
				  amxrt_isa_usable(AMXRT_ISA_AVX2, NULL, 0) ?
			  2 :
			  3,
		  made(self, a, 8));
}

TEST_F(marena, off_creates_none)
{
	struct amxrt_arena_info a[4];

	if (_metadata->skip) /* the 6.1 harness runs it anyway */
		return;
	LOAD(AMXRT_LOAD_ARENA_OFF, -1);
	EXPECT_STREQ("off", self->r->st.arena);
	EXPECT_STREQ("", self->r->st.arena_name);
	LOAD(-1, -1); /* NULL params: off, as before arenas */
	EXPECT_EQ(AMXRT_LOAD_ARENA_NONE, self->r->st.arena_state);
	EXPECT_STREQ("off", self->r->st.arena);
	EXPECT_EQ(0, made(self, a, 4));
	/* and a bad policy is refused */
	load_in_child(self->r, self->model, 7, -1, 0);
	EXPECT_EQ(-EINVAL, self->r->ret);
	EXPECT_NE(NULL, strstr(self->r->err, "arena policy 7"))
	TH_LOG("%s", self->r->err);
}

TEST_F(marena, unsealed_leftover_not_used)
{
	struct amxrt_arena_info a[4];
	struct amxrt_arena *h;
	float ref[MAX_VOCAB];
	char name[64];
	void *p;
	int nv;

	if (_metadata->skip) /* the 6.1 harness runs it anyway */
		return;
	LOAD(AMXRT_LOAD_ARENA_AUTO, -1);
	ASSERT_EQ(AMXRT_LOAD_ARENA_FILLED, self->r->st.arena_state);
	nv = self->r->nv;
	memcpy(ref, self->r->logits, sizeof(float) * nv);
	snprintf(name, sizeof(name), "%s", self->r->st.arena_name);
	ASSERT_EQ(0, amxrt_arena_destroy(name));

	/* a fill that died: the name taken, unsealed, garbage in it */
	ASSERT_EQ(0, amxrt_arena_create(name, 4 << 20, -1, 0, &h));
	ASSERT_EQ(0, amxrt_arena_map(h, AMXRT_ARENA_MAP_WRITE, &p));
	memset(p, 0x5a, 4 << 20);
	amxrt_arena_close(h);

	LOAD(AMXRT_LOAD_ARENA_AUTO, -1);
	EXPECT_EQ(AMXRT_LOAD_ARENA_FILLED, self->r->st.arena_state);
	EXPECT_NE(NULL, strstr(self->r->st.arena, "unfinished fill"))
	TH_LOG("%s", self->r->st.arena);
	EXPECT_EQ(0, memcmp(ref, self->r->logits, sizeof(float) * nv));
	ASSERT_EQ(1, made(self, a, 4));
	EXPECT_EQ(1, a[0].sealed);
	LOAD(AMXRT_LOAD_ARENA_AUTO, -1);
	EXPECT_EQ(AMXRT_LOAD_ARENA_HIT, self->r->st.arena_state);
	EXPECT_EQ(0, memcmp(ref, self->r->logits, sizeof(float) * nv));
}

/*
 * Start a filling load in a child that stalls half way (it reads to[0]
 * and writes from[1]); return its pid once it has stalled, or -1.
 */
static pid_t start_stalled_fill(const char *model, struct res *r2, int to[2],
				int from[2])
{
	pid_t pid;
	char c;

	if (pipe(to))
		return -1;
	if (pipe(from)) {
		close(to[0]);
		close(to[1]);
		return -1;
	}
	stall_fd[0] = to[0];
	stall_fd[1] = from[1];
	pid = load_in_child(r2, model, AMXRT_LOAD_ARENA_AUTO, -1, 2);
	if (pid <= 0 || read(from[0], &c, 1) != 1)
		return -1;
	return pid;
}

static void close_pipes(int to[2], int from[2])
{
	close(to[0]);
	close(to[1]);
	close(from[0]);
	close(from[1]);
}

/* A fill in progress in another process is left alone, then hit. */
TEST_F(marena, fill_in_progress_left_alone)
{
	struct res *r2 = mmap(NULL, sizeof(*r2), PROT_READ | PROT_WRITE,
			      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	int to_filler[2], from_filler[2], st;

	if (_metadata->skip) /* the 6.1 harness runs it anyway */
		return;
	ASSERT_NE(MAP_FAILED, r2);
	ASSERT_LT(0,
		  start_stalled_fill(self->model, r2, to_filler, from_filler));

	LOAD(AMXRT_LOAD_ARENA_AUTO, -1);
	EXPECT_EQ(AMXRT_LOAD_ARENA_NONE, self->r->st.arena_state);
	EXPECT_NE(NULL, strstr(self->r->st.arena, "is being filled by process"))
	TH_LOG("%s", self->r->st.arena);

	ASSERT_EQ(1, write(to_filler[1], "g", 1));
	wait(&st);
	EXPECT_EQ(0, r2->ret) TH_LOG("%s", r2->err);
	EXPECT_EQ(AMXRT_LOAD_ARENA_FILLED, r2->st.arena_state);
	EXPECT_EQ(0, memcmp(r2->logits, self->r->logits,
			    sizeof(float) * self->r->nv));
	LOAD(AMXRT_LOAD_ARENA_AUTO, -1);
	EXPECT_EQ(AMXRT_LOAD_ARENA_HIT, self->r->st.arena_state);
	close_pipes(to_filler, from_filler);
	munmap(r2, sizeof(*r2));
}

/* A filler killed half way leaves an unsealed arena: refilled. */
TEST_F(marena, killed_fill_refilled)
{
	struct res *r2 = mmap(NULL, sizeof(*r2), PROT_READ | PROT_WRITE,
			      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	struct amxrt_arena_info a[4];
	int to_filler[2], from_filler[2], st;
	pid_t pid;

	if (_metadata->skip) /* the 6.1 harness runs it anyway */
		return;
	ASSERT_NE(MAP_FAILED, r2);
	pid = start_stalled_fill(self->model, r2, to_filler, from_filler);
	ASSERT_LT(0, pid);
	ASSERT_EQ(1, made(self, a, 4));
	EXPECT_EQ(0, a[0].sealed);
	kill(pid, SIGKILL);
	ASSERT_EQ(pid, waitpid(pid, &st, 0));

	LOAD(AMXRT_LOAD_ARENA_AUTO, -1);
	EXPECT_EQ(AMXRT_LOAD_ARENA_FILLED, self->r->st.arena_state);
	EXPECT_NE(NULL, strstr(self->r->st.arena, "unfinished fill"))
	TH_LOG("%s", self->r->st.arena);
	LOAD(AMXRT_LOAD_ARENA_AUTO, -1);
	EXPECT_EQ(AMXRT_LOAD_ARENA_HIT, self->r->st.arena_state);
	close_pipes(to_filler, from_filler);
	munmap(r2, sizeof(*r2));
}

TEST_F(marena, cancelled_fill_leaves_nothing)
{
	struct amxrt_arena_info a[4];

	if (_metadata->skip) /* the 6.1 harness runs it anyway */
		return;
	load_in_child(self->r, self->model, AMXRT_LOAD_ARENA_AUTO, -1, 1);
	EXPECT_EQ(-ECANCELED, self->r->ret) TH_LOG("%s", self->r->err);
	EXPECT_EQ(0, made(self, a, 4));
	LOAD(AMXRT_LOAD_ARENA_AUTO, -1);
	EXPECT_EQ(AMXRT_LOAD_ARENA_FILLED, self->r->st.arena_state);
}

TEST_F(marena, pool_too_small)
{
	long fr = test_read_long(HP "free_hugepages");
	struct amxrt_arena *h;
	char name[64];

	if (_metadata->skip) /* the 6.1 harness runs it anyway */
		return;
	if (self->backend != AMXRT_ARENA_HUGETLBFS)
		SKIP(return, "the hugepage pool: hugetlbfs only");
	if (!self->mnt[0] || test_read_long(HP "nr_overcommit_hugepages") != 0)
		SKIP(return, "needs root and no overcommit hugepages: takes "
			     "every free hugepage for a while");
	ASSERT_LT(0, fr);
	/* every free page taken: a model arena cannot be created */
	snprintf(name, sizeof(name), "t%d-hog", (int)getpid());
	ASSERT_EQ(0, amxrt_arena_create(name, (uint64_t)fr << 21, -1, 0, &h))
	TH_LOG("%s", amxrt_errmsg());
	amxrt_arena_close(h);
	LOAD(AMXRT_LOAD_ARENA_AUTO, -1);
	EXPECT_EQ(AMXRT_LOAD_ARENA_NONE, self->r->st.arena_state);
	EXPECT_EQ(0, strncmp(self->r->st.arena, "not used: ", 10))
	TH_LOG("%s", self->r->st.arena);
	EXPECT_LT(0, self->r->st.bytes_read);
	load_in_child(self->r, self->model, AMXRT_LOAD_ARENA_REQUIRE, -1, 0);
	EXPECT_EQ(-ENOMEM, self->r->ret) TH_LOG("%s", self->r->err);
	EXPECT_NE(NULL, strstr(self->r->err, "model arena required"));
	EXPECT_EQ(0, amxrt_arena_destroy(name));
	LOAD(AMXRT_LOAD_ARENA_AUTO, -1);
	EXPECT_EQ(AMXRT_LOAD_ARENA_FILLED, self->r->st.arena_state);
}

TEST_F(marena, no_persistent_backend)
{
	if (_metadata->skip) /* the 6.1 harness runs it anyway */
		return;
	ASSERT_EQ(0, amxrt_arena_set_backend(AMXRT_ARENA_ANON_THP));
	LOAD(AMXRT_LOAD_ARENA_AUTO, -1);
	EXPECT_EQ(AMXRT_LOAD_ARENA_NONE, self->r->st.arena_state);
	EXPECT_EQ(0, strncmp(self->r->st.arena,
			     "no persistent arena backend: ", 29))
	TH_LOG("%s", self->r->st.arena);
	EXPECT_LT(0, self->r->st.bytes_read);
	load_in_child(self->r, self->model, AMXRT_LOAD_ARENA_REQUIRE, -1, 0);
	EXPECT_EQ(-ENOTSUP, self->r->ret);
	EXPECT_NE(NULL, strstr(self->r->err, "model arena required: no "
					     "persistent arena backend"))
	TH_LOG("%s", self->r->err);
	/* NUMA mirror keeps per-node copies: not in an arena */
	ASSERT_EQ(0, amxrt_arena_set_backend(self->backend));
	ASSERT_EQ(0, amxrt_set_numa(AMXRT_NUMA_MIRROR, -1));
	LOAD(AMXRT_LOAD_ARENA_AUTO, -1);
	EXPECT_EQ(AMXRT_LOAD_ARENA_NONE, self->r->st.arena_state);
	EXPECT_NE(NULL, strstr(self->r->st.arena, "NUMA mode mirror"))
	TH_LOG("%s", self->r->st.arena);
	amxrt_set_numa(AMXRT_NUMA_OFF, -1);
}

TEST_HARNESS_MAIN
