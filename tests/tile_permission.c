// SPDX-License-Identifier: MIT
/*
 * Description: AMX tile data permission. The pure classifier maps every
 * combination of CPU, XCR0, kernel, signal stack and arch_prctl answers to
 * exactly the one cause its rules name, and explains it in a sentence
 * that names the errno. The real request gives NO_CPU (with the kernel's
 * errno) on a CPU without AMX and GRANTED on one with AMX enabled, after
 * which a real TDPBSSD computes what a scalar loop computes. A too-small
 * alternate signal stack, in this thread or another, yields SIGSTACK where
 * the CPU has AMX and is classified as such anywhere.
 *
 * Each TEST runs in its own fork()ed process (kselftest harness), so a
 * permission granted or a signal stack installed in one stays there.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "kselftest_harness.h"

#include <amxrt/amxrt.h>

#include "../libamxrt/cpu/cpu.h"

#ifndef AT_MINSIGSTKSZ
#define AT_MINSIGSTKSZ 51
#endif

#define BIT17 (1ull << 17)
#define BIT18 (1ull << 18)
#define KERNEL_MINSIGSTKSZ 2048 /* sigaltstack() refuses less */

/*
 * The rules of amxrt_tile_classify() written out again, as a set of
 * causes each combination shows and their order, first match wins.
 */
static enum amxrt_tile_status expected(const struct amxrt_tile_facts *f)
{
	int no_cpu = !f->cpu_amx;
	int old = f->xcomp_supp_err == EINVAL || f->req_err == EINVAL;
	int off = !(f->xcr0 & BIT17) || !(f->xcr0 & BIT18) ||
		  (f->xcomp_supp_err == 0 && !(f->xcomp_supp & BIT18)) ||
		  f->req_err == EOPNOTSUPP || f->req_err == ENODEV;
	int stack = f->sigstack_small || f->req_err == ENOSPC;
	int ok = f->req_err == 0 && (f->perm_err != 0 || (f->perm & BIT18));

	if (no_cpu)
		return AMXRT_TILE_NO_CPU;
	if (old)
		return AMXRT_TILE_OLD_KERNEL;
	if (off)
		return AMXRT_TILE_NOT_ENABLED;
	if (stack)
		return AMXRT_TILE_SIGSTACK;
	return ok ? AMXRT_TILE_GRANTED : AMXRT_TILE_REFUSED;
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const uint64_t xcr0s[] = { 0, 0x7, 0x2e7, 0x2e7 | BIT17,
				  0x2e7 | BIT17 | BIT18 };
static const int supp_errs[] = { 0, EINVAL, EFAULT };
static const uint64_t supps[] = { 0x2e7, 0x2e7 | BIT17 | BIT18 };
static const int req_errs[] = { -1,	0,     EINVAL, EOPNOTSUPP, ENODEV,
				ENOSPC, EBUSY, EPERM,  EFAULT,	   ENOMEM };
static const int perm_errs[] = { 0, EINVAL };
static const uint64_t perms[] = { 0x2e7 | BIT17, 0x2e7 | BIT17 | BIT18 };

/* Combination number idx, read as digits of a mixed-radix number. */
static void combination(size_t idx, struct amxrt_tile_facts *f)
{
	memset(f, 0xcc, sizeof(*f));
	f->cpu_amx = (int)(idx % 2);
	idx /= 2;
	f->xcr0 = xcr0s[idx % N(xcr0s)];
	idx /= N(xcr0s);
	f->xcomp_supp_err = supp_errs[idx % N(supp_errs)];
	idx /= N(supp_errs);
	f->xcomp_supp = f->xcomp_supp_err ? 0 : supps[idx % N(supps)];
	idx /= N(supps);
	f->sigstack_small = (int)(idx % 2);
	f->sigstack_size = f->sigstack_small ? 4096 : 0;
	idx /= 2;
	f->minsigstksz = 11264;
	f->req_err = req_errs[idx % N(req_errs)];
	idx /= N(req_errs);
	f->perm_err = perm_errs[idx % N(perm_errs)];
	idx /= N(perm_errs);
	f->perm = perms[idx % N(perms)];
}

TEST(classify_every_combination)
{
	const size_t total = 2 * N(xcr0s) * N(supp_errs) * N(supps) * 2 *
			     N(req_errs) * N(perm_errs) * N(perms);
	int seen[AMXRT_TILE_REFUSED + 1] = { 0 };
	size_t idx;
	int s;

	for (idx = 0; idx < total; idx++) {
		struct amxrt_tile_facts f;
		enum amxrt_tile_status got, want;

		combination(idx, &f);
		want = expected(&f);
		got = amxrt_tile_classify(&f);
		if (got != want)
			TH_LOG("cpu %d xcr0 0x%llx supp 0x%llx/%d small %d "
			       "req %d perm 0x%llx/%d: got %d want %d",
			       f.cpu_amx, (unsigned long long)f.xcr0,
			       (unsigned long long)f.xcomp_supp,
			       f.xcomp_supp_err, f.sigstack_small, f.req_err,
			       (unsigned long long)f.perm, f.perm_err, got,
			       want);
		ASSERT_EQ(want, got);
		seen[got]++;
	}
	TH_LOG("%zu combinations: granted %d, no-cpu %d, old-kernel %d, "
	       "not-enabled %d, sigstack %d, refused %d",
	       total, seen[0], seen[1], seen[2], seen[3], seen[4], seen[5]);
	/* Every cause is reachable. */
	for (s = 0; s <= AMXRT_TILE_REFUSED; s++)
		EXPECT_LT(0, seen[s]);
}

/* Facts of a Sapphire Rapids on Linux 6.1 where everything works. */
static void spr(struct amxrt_tile_facts *f)
{
	memset(f, 0, sizeof(*f));
	f->cpu_amx = 1;
	f->xcr0 = 0x602e7;
	f->xcomp_supp = 0x602e7;
	f->minsigstksz = 11264;
	f->req_err = 0;
	f->perm = 0x602e7;
}

struct scenario {
	const char *name;
	void (*tweak)(struct amxrt_tile_facts *f);
	enum amxrt_tile_status want;
	const char *says[3]; /* the explanation contains these */
};

static void s_granted(struct amxrt_tile_facts *f)
{
}

static void s_this_machine(struct amxrt_tile_facts *f)
{
	f->cpu_amx = 0;
	f->xcr0 = f->xcomp_supp = 0x2e7;
	f->req_err = EOPNOTSUPP;
	f->perm = 0;
}

static void s_linux_5_15(struct amxrt_tile_facts *f)
{
	f->xcr0 = 0x2e7;
	f->xcomp_supp = 0;
	f->xcomp_supp_err = EINVAL;
	f->req_err = EINVAL;
	f->minsigstksz = 0;
}

static void s_guest_without_tiles(struct amxrt_tile_facts *f)
{
	f->xcr0 = f->xcomp_supp = 0x2e7;
	f->req_err = EOPNOTSUPP;
}

static void s_small_own_stack(struct amxrt_tile_facts *f)
{
	f->sigstack_small = 1;
	f->sigstack_size = 4096;
	f->req_err = -1;
}

static void s_small_other_stack(struct amxrt_tile_facts *f)
{
	f->req_err = ENOSPC;
}

static void s_seccomp(struct amxrt_tile_facts *f)
{
	f->req_err = EPERM;
}

static void s_perm_missing(struct amxrt_tile_facts *f)
{
	f->perm = 0x202e7;
}

TEST(classify_named_scenarios)
{
	static const struct scenario sc[] = {
		{ "granted", s_granted, AMXRT_TILE_GRANTED, { NULL } },
		{ "AMD Zen 5, Linux 6.x",
		  s_this_machine,
		  AMXRT_TILE_NO_CPU,
		  { "EOPNOTSUPP", "offers no tile state" } },
		{ "SPR, Linux 5.15",
		  s_linux_5_15,
		  AMXRT_TILE_OLD_KERNEL,
		  { "EINVAL", "5.16" } },
		{ "SPR guest, tiles hidden",
		  s_guest_without_tiles,
		  AMXRT_TILE_NOT_ENABLED,
		  { "XCR0 = 0x2e7", "EOPNOTSUPP", "bit 18" } },
		{ "small stack in this thread",
		  s_small_own_stack,
		  AMXRT_TILE_SIGSTACK,
		  { "4096 bytes", "AT_MINSIGSTKSZ = 11264", "not requested" } },
		{ "small stack in another thread",
		  s_small_other_stack,
		  AMXRT_TILE_SIGSTACK,
		  { "ENOSPC", "AT_MINSIGSTKSZ = 11264" } },
		{ "seccomp", s_seccomp, AMXRT_TILE_REFUSED, { "EPERM" } },
		{ "granted but not in XCOMP_PERM",
		  s_perm_missing,
		  AMXRT_TILE_REFUSED,
		  { "XCOMP_PERM = 0x202e7" } },
	};
	size_t i, j;

	for (i = 0; i < sizeof(sc) / sizeof(sc[0]); i++) {
		struct amxrt_tile_facts f;
		enum amxrt_tile_status st;
		char why[512];

		spr(&f);
		sc[i].tweak(&f);
		st = amxrt_tile_classify(&f);
		memset(why, 'x', sizeof(why));
		amxrt_tile_explain(&f, st, why, sizeof(why));
		TH_LOG("%s: %d: %s", sc[i].name, st, why);
		ASSERT_EQ(sc[i].want, st);
		if (st == AMXRT_TILE_GRANTED) {
			EXPECT_STREQ("", why);
		} else {
			EXPECT_NE(0, strlen(why));
		}
		for (j = 0; j < 3 && sc[i].says[j]; j++)
			EXPECT_NE(NULL, strstr(why, sc[i].says[j]));
		/* The explanation fits any buffer, even a tiny one. */
		amxrt_tile_explain(&f, st, why, 8);
		EXPECT_GT(8, strlen(why));
	}
}

TEST(status_strings)
{
	const char *s[AMXRT_TILE_REFUSED + 1];
	int i, j;

	for (i = 0; i <= AMXRT_TILE_REFUSED; i++) {
		s[i] = amxrt_tile_status_str(i);
		ASSERT_NE(NULL, s[i]);
		EXPECT_LT(20, strlen(s[i]));
		for (j = 0; j < i; j++)
			EXPECT_STRNE(s[j], s[i]);
	}
	EXPECT_STREQ("unknown tile status", amxrt_tile_status_str(99));
}

static int cpu_has_amx(void)
{
	return !!(amxrt_cpu_cached()->features & AMXRT_CPU_AMX_TILE);
}

/* The CPU and the kernel both offer tile data: a request should succeed. */
static int tiles_offered(void)
{
	const struct amxrt_cpu_info *ci = amxrt_cpu_cached();

	return cpu_has_amx() && (ci->xcr0 & BIT18) && !ci->xcomp_supp_err &&
	       (ci->xcomp_supp & BIT18);
}

TEST(real_request)
{
	const struct amxrt_cpu_info *ci = amxrt_cpu_cached();
	enum amxrt_tile_status st;
	uint64_t perm = 0;
	int err = -1;

	st = amxrt_tile_request(&err);
	TH_LOG("request: %d (errno %d): %s", st, err,
	       amxrt_tile_status_str(st));
	if (!cpu_has_amx()) {
		ASSERT_EQ(AMXRT_TILE_NO_CPU, st);
		/* The kernel was asked and its errno recorded. */
		if (ci->xcomp_supp_err == EINVAL) {
			EXPECT_EQ(EINVAL, err);
		} else {
			EXPECT_EQ(EOPNOTSUPP, err);
		}
		/* Asking again gives the same answer. */
		ASSERT_EQ(AMXRT_TILE_NO_CPU, amxrt_tile_request(&err));
		EXPECT_NE(0, err);
		ASSERT_EQ(AMXRT_TILE_NO_CPU, amxrt_tile_request(NULL));
		return;
	}
	if (!tiles_offered()) {
		EXPECT_TRUE(st == AMXRT_TILE_NOT_ENABLED ||
			    st == AMXRT_TILE_OLD_KERNEL);
		return;
	}
	ASSERT_EQ(AMXRT_TILE_GRANTED, st);
	EXPECT_EQ(0, err);
	ASSERT_EQ(0, syscall(SYS_arch_prctl, AMXRT_ARCH_GET_XCOMP_PERM, &perm));
	EXPECT_EQ(BIT18, perm & BIT18);
	/* Cached: again granted, no errno. */
	err = -1;
	ASSERT_EQ(AMXRT_TILE_GRANTED, amxrt_tile_request(&err));
	EXPECT_EQ(0, err);
}

/* Palette 1 configuration: 64 bytes. */
struct tilecfg {
	uint8_t palette, start_row, reserved[14];
	uint16_t colsb[16];
	uint8_t rows[16];
} __attribute__((aligned(64)));

/*
 * C (16 x 16 int32) = A (16 x 64 int8) times B (16 rows of 16 x 4 int8, the
 * VNNI order) with TDPBSSD, written as plain asm (with memory clobbers) so
 * the test needs no -mamx flags.
 */
static void tdpbssd_16x16x64(const int8_t *a, const int8_t *b, int32_t *c)
{
	struct tilecfg cfg;
	int t;

	memset(&cfg, 0, sizeof(cfg));
	cfg.palette = 1;
	for (t = 0; t < 3; t++) {
		cfg.colsb[t] = 64;
		cfg.rows[t] = 16;
	}
	__asm__ volatile("ldtilecfg %0" : : "m"(cfg));
	__asm__ volatile("tilezero %%tmm0" : : : "memory");
	__asm__ volatile("tileloadd (%0,%1,1), %%tmm1"
			 :
			 : "r"(a), "r"(64L)
			 : "memory");
	__asm__ volatile("tileloadd (%0,%1,1), %%tmm2"
			 :
			 : "r"(b), "r"(64L)
			 : "memory");
	__asm__ volatile("tdpbssd %%tmm2, %%tmm1, %%tmm0" : : : "memory");
	__asm__ volatile("tilestored %%tmm0, (%0,%1,1)"
			 :
			 : "r"(c), "r"(64L)
			 : "memory");
	__asm__ volatile("tilerelease" : : : "memory");
}

TEST(tile_instruction_runs)
{
	static int8_t a[16][64], b[16][64];
	static int32_t c[16][16];
	int m, n, k, bad = 0;

	if (!cpu_has_amx())
		SKIP(return, "this CPU has no AMX-TILE (CPUID.7.0:EDX[24] = "
			     "0): there is no tile instruction to run");
	if (!(amxrt_cpu_cached()->features & AMXRT_CPU_AMX_INT8))
		SKIP(return, "this CPU has AMX-TILE but no AMX-INT8 "
			     "(CPUID.7.0:EDX[25] = 0): no TDPBSSD");
	if (!tiles_offered())
		SKIP(return, "the kernel offers no tile data (XCR0 or "
			     "ARCH_GET_XCOMP_SUPP lacks bit 18)");
	ASSERT_EQ(AMXRT_TILE_GRANTED, amxrt_tile_request(NULL));

	for (m = 0; m < 16; m++)
		for (k = 0; k < 64; k++) {
			a[m][k] = (int8_t)(m * 7 - k * 3 + 11);
			b[m][k] = (int8_t)(k * 5 - m * 13 - 128);
		}
	memset(c, 0xcc, sizeof(c));
	tdpbssd_16x16x64(&a[0][0], &b[0][0], &c[0][0]);
	for (m = 0; m < 16; m++)
		for (n = 0; n < 16; n++) {
			int32_t want = 0;

			for (k = 0; k < 64; k++)
				want += a[m][k] * b[k / 4][4 * n + k % 4];
			if (c[m][n] != want && bad++ < 5)
				TH_LOG("c[%d][%d] = %d, want %d", m, n, c[m][n],
				       want);
		}
	ASSERT_EQ(0, bad);
}

static size_t small_stack_size(void)
{
	unsigned long min = getauxval(AT_MINSIGSTKSZ);

	/* As the kernel's own amx selftest: leave out the tile data. */
	if (min > 8192 + KERNEL_MINSIGSTKSZ)
		return min - 8192;
	return KERNEL_MINSIGSTKSZ;
}

TEST(small_sigaltstack_this_thread)
{
	unsigned long min = getauxval(AT_MINSIGSTKSZ);
	size_t small = small_stack_size();
	struct amxrt_tile_facts f, g;
	enum amxrt_tile_status st;
	stack_t ss;
	void *mem;

	if (!min)
		SKIP(return, "the kernel gives no AT_MINSIGSTKSZ");
	if (small >= min)
		SKIP(return,
			   "AT_MINSIGSTKSZ = %lu leaves no size between it "
			   "and sigaltstack()'s minimum %d",
			   min, KERNEL_MINSIGSTKSZ);
	mem = malloc(2 * min);
	ASSERT_NE(NULL, mem);
	memset(&ss, 0, sizeof(ss));
	ss.ss_sp = mem;
	ss.ss_size = small;
	if (sigaltstack(&ss, NULL))
		SKIP(return,
			   "sigaltstack(%zu bytes) failed: %s (strict "
			   "sigaltstack checking?)",
			   small, strerror(errno));

	st = amxrt_tile_request_facts(&f);
	TH_LOG("stack %zu < AT_MINSIGSTKSZ %lu: %d", small, min, st);
	EXPECT_EQ(1, f.sigstack_small);
	EXPECT_EQ(small, f.sigstack_size);
	EXPECT_EQ(-1, f.req_err); /* not asked */
	/* Whatever the CPU, the same facts on an AMX machine are SIGSTACK. */
	g = f;
	g.cpu_amx = 1;
	g.xcr0 |= BIT17 | BIT18;
	g.xcomp_supp_err = 0;
	g.xcomp_supp |= BIT17 | BIT18;
	EXPECT_EQ(AMXRT_TILE_SIGSTACK, amxrt_tile_classify(&g));

	if (!cpu_has_amx()) {
		ASSERT_EQ(AMXRT_TILE_NO_CPU, st);
		return;
	}
	if (!tiles_offered()) {
		EXPECT_TRUE(st == AMXRT_TILE_NOT_ENABLED ||
			    st == AMXRT_TILE_OLD_KERNEL);
		return;
	}
	ASSERT_EQ(AMXRT_TILE_SIGSTACK, st);

	/* A stack of AT_MINSIGSTKSZ is enough: granted. */
	ss.ss_size = min;
	ASSERT_EQ(0, sigaltstack(&ss, NULL));
	ASSERT_EQ(AMXRT_TILE_GRANTED, amxrt_tile_request(NULL));
	/* Once granted, the kernel refuses a small stack (ENOMEM). */
	ss.ss_size = small;
	EXPECT_EQ(-1, sigaltstack(&ss, NULL));
	EXPECT_EQ(ENOMEM, errno);
}

struct holder {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int ready, done, err;
	size_t size;
};

/* Install a small alternate signal stack, then wait to be told to end. */
static void *hold_small_stack(void *arg)
{
	struct holder *h = arg;
	void *mem = malloc(h->size);
	stack_t ss;

	memset(&ss, 0, sizeof(ss));
	ss.ss_sp = mem;
	ss.ss_size = h->size;
	pthread_mutex_lock(&h->lock);
	h->err = mem && !sigaltstack(&ss, NULL) ? 0 : errno ? errno : ENOMEM;
	h->ready = 1;
	pthread_cond_broadcast(&h->cond);
	while (!h->done)
		pthread_cond_wait(&h->cond, &h->lock);
	pthread_mutex_unlock(&h->lock);
	ss.ss_flags = SS_DISABLE;
	sigaltstack(&ss, NULL);
	free(mem);
	return NULL;
}

TEST(small_sigaltstack_other_thread)
{
	struct holder h = {
		.lock = PTHREAD_MUTEX_INITIALIZER,
		.cond = PTHREAD_COND_INITIALIZER,
	};
	unsigned long min = getauxval(AT_MINSIGSTKSZ);
	struct amxrt_tile_facts f;
	enum amxrt_tile_status st;
	pthread_t tid;

	if (!min)
		SKIP(return, "the kernel gives no AT_MINSIGSTKSZ");
	h.size = small_stack_size();
	if (h.size >= min)
		SKIP(return,
			   "AT_MINSIGSTKSZ = %lu leaves no size between it "
			   "and sigaltstack()'s minimum %d",
			   min, KERNEL_MINSIGSTKSZ);
	ASSERT_EQ(0, pthread_create(&tid, NULL, hold_small_stack, &h));
	pthread_mutex_lock(&h.lock);
	while (!h.ready)
		pthread_cond_wait(&h.cond, &h.lock);
	pthread_mutex_unlock(&h.lock);
	if (h.err) {
		pthread_mutex_lock(&h.lock);
		h.done = 1;
		pthread_cond_broadcast(&h.cond);
		pthread_mutex_unlock(&h.lock);
		pthread_join(tid, NULL);
		SKIP(return, "sigaltstack(%zu bytes) failed: %s", h.size,
			   strerror(h.err));
	}

	/* This thread has no alternate stack: only the kernel can tell. */
	st = amxrt_tile_request_facts(&f);
	TH_LOG("other thread's stack %zu: %d, request errno %d", h.size, st,
	       f.req_err);
	pthread_mutex_lock(&h.lock);
	h.done = 1;
	pthread_cond_broadcast(&h.cond);
	pthread_mutex_unlock(&h.lock);
	pthread_join(tid, NULL);

	EXPECT_EQ(0, f.sigstack_small);
	EXPECT_NE(-1, f.req_err); /* asked */
	if (!cpu_has_amx()) {
		ASSERT_EQ(AMXRT_TILE_NO_CPU, st);
		return;
	}
	if (!tiles_offered()) {
		EXPECT_TRUE(st == AMXRT_TILE_NOT_ENABLED ||
			    st == AMXRT_TILE_OLD_KERNEL);
		return;
	}
	ASSERT_EQ(AMXRT_TILE_SIGSTACK, st);
	EXPECT_EQ(ENOSPC, f.req_err);
	/* The small stack is gone with its thread: now it is granted. */
	ASSERT_EQ(AMXRT_TILE_GRANTED, amxrt_tile_request(NULL));
}

TEST_HARNESS_MAIN
