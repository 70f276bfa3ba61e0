// SPDX-License-Identifier: MIT
/*
 * Description: the choice of instruction-set path. Names round-trip
 * through amxrt_isa_name() and amxrt_isa_parse(); amxrt_isa_usable()
 * agrees with the detected features and explains every "no" in a
 * sentence; without AMXRT_ISA the fastest usable path is chosen; AMXRT_ISA
 * set before the first call (in a fork()ed child per name) forces each
 * path that can run, and an unusable or unknown name makes amxrt_isa()
 * fail with a negative errno and a message, in every thread, without
 * falling back, until amxrt_isa_set() succeeds.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"

#include <amxrt/amxrt.h>

#include "../libamxrt/cpu/cpu.h"

static const enum amxrt_isa fastest_first[] = {
	AMXRT_ISA_AMX,
	AMXRT_ISA_AVX512VNNI,
	AMXRT_ISA_AVX2,
	AMXRT_ISA_GENERIC,
};

static int all(uint32_t have, uint32_t want)
{
	return (have & want) == want;
}

/* What each path needs, from the feature bits alone (AMX: plus tiles). */
static int expect_usable(enum amxrt_isa isa)
{
	uint32_t f = amxrt_cpu_cached()->features;
	int avx2 = all(f, AMXRT_CPU_AVX2 | AMXRT_CPU_FMA | AMXRT_CPU_F16C |
				  AMXRT_CPU_OS_AVX);
	int avx512 = avx2 &&
		     all(f, AMXRT_CPU_AVX512F | AMXRT_CPU_AVX512DQ |
				    AMXRT_CPU_AVX512BW | AMXRT_CPU_AVX512VL |
				    AMXRT_CPU_AVX512VNNI | AMXRT_CPU_OS_AVX512);
	int sim = avx512 && (f & AMXRT_CPU_AVX512BF16);

	switch (isa) {
	case AMXRT_ISA_GENERIC:
		return 1;
	case AMXRT_ISA_AVX2:
		return avx2;
	case AMXRT_ISA_AVX512VNNI:
		return avx512;
	case AMXRT_ISA_AMX_SIM:
		return sim;
	case AMXRT_ISA_AMX:
		return sim &&
		       all(f, AMXRT_CPU_AMX_TILE | AMXRT_CPU_AMX_INT8 |
				      AMXRT_CPU_AMX_BF16) &&
		       amxrt_tile_request(NULL) == AMXRT_TILE_GRANTED;
	default:
		return 0;
	}
}

static int fastest_usable(void)
{
	size_t i;

	for (i = 0; i < sizeof(fastest_first) / sizeof(fastest_first[0]); i++)
		if (!amxrt_isa_usable(fastest_first[i], NULL, 0))
			return fastest_first[i];
	return -1;
}

TEST(names_round_trip)
{
	char upper[32];
	int i, j;

	for (i = 0; i < AMXRT_ISA_COUNT; i++) {
		const char *name = amxrt_isa_name(i);

		ASSERT_NE(NULL, name);
		EXPECT_EQ(i, amxrt_isa_parse(name));
		for (j = 0; name[j] && j < 31; j++)
			upper[j] = (char)(name[j] >= 'a' && name[j] <= 'z' ?
						  name[j] - 32 :
						  name[j]);
		upper[j] = '\0';
		EXPECT_EQ(i, amxrt_isa_parse(upper));
		for (j = 0; j < i; j++)
			EXPECT_STRNE(amxrt_isa_name(j), name);
	}
	EXPECT_STREQ("generic", amxrt_isa_name(AMXRT_ISA_GENERIC));
	EXPECT_STREQ("avx2", amxrt_isa_name(AMXRT_ISA_AVX2));
	EXPECT_STREQ("avx512vnni", amxrt_isa_name(AMXRT_ISA_AVX512VNNI));
	EXPECT_STREQ("amx", amxrt_isa_name(AMXRT_ISA_AMX));
	EXPECT_STREQ("amx-sim", amxrt_isa_name(AMXRT_ISA_AMX_SIM));
	EXPECT_EQ(NULL, amxrt_isa_name(AMXRT_ISA_COUNT));
	EXPECT_EQ(NULL, amxrt_isa_name((enum amxrt_isa) - 1));

	EXPECT_EQ(-EINVAL, amxrt_isa_parse("bogus"));
	EXPECT_NE(NULL, strstr(amxrt_errmsg(), "bogus"));
	EXPECT_EQ(-EINVAL, amxrt_isa_parse(""));
	EXPECT_EQ(-EINVAL, amxrt_isa_parse("amx "));
	EXPECT_EQ(-EINVAL, amxrt_isa_parse(NULL));
}

TEST(usable_matches_features)
{
	char why[512];
	int i;

	for (i = 0; i < AMXRT_ISA_COUNT; i++) {
		int want = expect_usable(i);
		int err;

		memset(why, 'x', sizeof(why));
		why[sizeof(why) - 1] = '\0';
		err = amxrt_isa_usable(i, why, sizeof(why));
		TH_LOG("%s: %s%s", amxrt_isa_name(i), err ? "no: " : "usable",
		       err ? why : "");
		if (want) {
			EXPECT_EQ(0, err);
			continue;
		}
		EXPECT_EQ(-ENOTSUP, err);
		/* One sentence, the same in amxrt_errmsg(). */
		EXPECT_LT(10, strlen(why));
		EXPECT_EQ(NULL, strchr(why, '\n'));
		EXPECT_STREQ(why, amxrt_errmsg());
	}
	/* A short buffer is filled, not overrun. */
	if (!expect_usable(AMXRT_ISA_AMX)) {
		memset(why, 'x', sizeof(why));
		EXPECT_EQ(-ENOTSUP, amxrt_isa_usable(AMXRT_ISA_AMX, why, 6));
		EXPECT_EQ(5, strlen(why));
		EXPECT_EQ('x', why[6]);
		EXPECT_EQ(-ENOTSUP, amxrt_isa_usable(AMXRT_ISA_AMX, why, 0));
		EXPECT_EQ('x', why[6]);
	}
	EXPECT_EQ(-EINVAL, amxrt_isa_usable(AMXRT_ISA_COUNT, why, sizeof(why)));
	EXPECT_EQ(-EINVAL, amxrt_isa_usable((enum amxrt_isa) - 1, NULL, 0));
}

/* Without AMX in the CPU, the reason names the missing bit and the kernel. */
TEST(amx_reason_is_specific)
{
	const struct amxrt_cpu_info *ci = amxrt_cpu_cached();
	char why[512];

	if (!amxrt_isa_usable(AMXRT_ISA_AMX, why, sizeof(why)))
		SKIP(return, "AMX is usable here: there is no refusal to read");
	TH_LOG("%s", why);
	EXPECT_EQ(0, strncmp(why, "AMX: ", 5));
	if (!(ci->features & AMXRT_CPU_AMX_TILE)) {
		EXPECT_NE(NULL, strstr(why, "this CPU has no AMX-TILE "
					    "(CPUID.7.0:EDX[24] = 0)"));
		if (ci->xcomp_supp_err == EINVAL) {
			EXPECT_NE(NULL, strstr(why, "EINVAL"));
		} else {
			EXPECT_NE(NULL,
				  strstr(why, "arch_prctl(ARCH_REQ_XCOMP_PERM, "
					      "18) returned EOPNOTSUPP"));
		}
	} else {
		EXPECT_NE(NULL, strstr(why, "arch_prctl"));
	}
}

TEST(auto_choice_is_fastest_usable)
{
	int want, got;

	unsetenv("AMXRT_ISA");
	want = fastest_usable();
	got = amxrt_isa();
	TH_LOG("chosen: %s", amxrt_isa_name(got));
	ASSERT_LE(0, got);
	EXPECT_EQ(want, got);
	EXPECT_NE(AMXRT_ISA_AMX_SIM, got);
	/* The choice is made once. */
	EXPECT_EQ(got, amxrt_isa());
}

TEST(empty_env_means_auto)
{
	setenv("AMXRT_ISA", "", 1);
	EXPECT_EQ(fastest_usable(), amxrt_isa());
}

/*
 * Run fn(arg) in a fork()ed child, so that its amxrt_isa() is the first of
 * a fresh process; the child reports mismatches on stderr. Returns the
 * child's exit status, or -1 if it did not exit.
 */
static int in_child(int (*fn)(long), long arg)
{
	pid_t pid;
	int st;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -1;
	if (!pid)
		_exit(fn(arg));
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

#define CHILD_CHECK(cond)                                                \
	do {                                                             \
		if (!(cond)) {                                           \
			fprintf(stderr, "# child %s:%d: %s\n", __FILE__, \
				__LINE__, #cond);                        \
			return 1;                                        \
		}                                                        \
	} while (0)

static int force_one(long isa)
{
	const char *name = amxrt_isa_name(isa);
	int usable, got;

	CHILD_CHECK(!setenv("AMXRT_ISA", name, 1));
	got = amxrt_isa();
	/* Asked after the choice, so the choice itself saw the env. */
	usable = !amxrt_isa_usable(isa, NULL, 0);
	fprintf(stderr, "# AMXRT_ISA=%s: %d%s%s\n", name, got,
		got < 0 ? ": " : "", got < 0 ? amxrt_errmsg() : "");
	if (usable) {
		CHILD_CHECK(got == isa);
		CHILD_CHECK(amxrt_isa() == isa);
		return 0;
	}
	amxrt_isa(); /* sets amxrt_errmsg() again */
	CHILD_CHECK(got == -ENOTSUP);
	CHILD_CHECK(strstr(amxrt_errmsg(), "AMXRT_ISA="));
	CHILD_CHECK(strstr(amxrt_errmsg(), name));
	/* No fallback: still failing, whatever else is usable. */
	CHILD_CHECK(amxrt_isa() == -ENOTSUP);
	/* Until a path that can run is set. */
	CHILD_CHECK(amxrt_isa_set(AMXRT_ISA_GENERIC) == 0);
	CHILD_CHECK(amxrt_isa() == AMXRT_ISA_GENERIC);
	return 0;
}

TEST(env_forces_each_name)
{
	int i;

	for (i = 0; i < AMXRT_ISA_COUNT; i++)
		EXPECT_EQ(0, in_child(force_one, i));
}

static int unknown_name(long unused)
{
	CHILD_CHECK(!setenv("AMXRT_ISA", "bogus", 1));
	CHILD_CHECK(amxrt_isa() == -EINVAL);
	fprintf(stderr, "# AMXRT_ISA=bogus: %s\n", amxrt_errmsg());
	CHILD_CHECK(strstr(amxrt_errmsg(), "AMXRT_ISA=bogus"));
	CHILD_CHECK(strstr(amxrt_errmsg(), "avx512vnni"));
	CHILD_CHECK(amxrt_isa() == -EINVAL);
	CHILD_CHECK(amxrt_isa_set(AMXRT_ISA_COUNT) == -EINVAL);
	CHILD_CHECK(amxrt_isa() == -EINVAL);
	CHILD_CHECK(amxrt_isa_set(AMXRT_ISA_AVX2) ==
		    (amxrt_isa_usable(AMXRT_ISA_AVX2, NULL, 0) ? -ENOTSUP : 0));
	CHILD_CHECK(amxrt_isa_set(AMXRT_ISA_GENERIC) == 0);
	CHILD_CHECK(amxrt_isa() == AMXRT_ISA_GENERIC);
	return 0;
}

TEST(env_unknown_name_fails)
{
	EXPECT_EQ(0, in_child(unknown_name, 0));
}

static void *isa_in_thread(void *arg)
{
	char *msg = arg;

	snprintf(msg, 512, "%d %s", amxrt_isa(), amxrt_errmsg());
	return NULL;
}

static int message_per_thread(long unused)
{
	char msg[512] = "";
	pthread_t tid;

	CHILD_CHECK(!setenv("AMXRT_ISA", "bogus", 1));
	CHILD_CHECK(amxrt_isa() == -EINVAL);
	/* Another thread gets the failure and its own message. */
	CHILD_CHECK(!pthread_create(&tid, NULL, isa_in_thread, msg));
	CHILD_CHECK(!pthread_join(tid, NULL));
	fprintf(stderr, "# other thread: %s\n", msg);
	CHILD_CHECK(!strncmp(msg, "-22 AMXRT_ISA=bogus", 19));
	return 0;
}

TEST(failure_message_in_every_thread)
{
	EXPECT_EQ(0, in_child(message_per_thread, 0));
}

static int set_before_first(long unused)
{
	CHILD_CHECK(!setenv("AMXRT_ISA", "bogus", 1));
	CHILD_CHECK(amxrt_isa_set(AMXRT_ISA_GENERIC) == 0);
	/* The forced path takes the first choice's place: env unread. */
	CHILD_CHECK(amxrt_isa() == AMXRT_ISA_GENERIC);
	return 0;
}

TEST(set_before_first_call)
{
	EXPECT_EQ(0, in_child(set_before_first, 0));
}

TEST(set_unusable_keeps_path)
{
	int i, cur, tried = 0;

	unsetenv("AMXRT_ISA");
	cur = amxrt_isa();
	ASSERT_LE(0, cur);
	for (i = 0; i < AMXRT_ISA_COUNT; i++) {
		if (!amxrt_isa_usable(i, NULL, 0))
			continue;
		EXPECT_EQ(-ENOTSUP, amxrt_isa_set(i));
		EXPECT_NE(0, strlen(amxrt_errmsg()));
		EXPECT_EQ(cur, amxrt_isa());
		tried++;
	}
	/* Every usable path can be set, and then is the one in use. */
	for (i = 0; i < AMXRT_ISA_COUNT; i++) {
		if (amxrt_isa_usable(i, NULL, 0))
			continue;
		EXPECT_EQ(0, amxrt_isa_set(i));
		EXPECT_EQ(i, amxrt_isa());
	}
	TH_LOG("%d unusable paths refused", tried);
}

static void *first_call(void *arg)
{
	*(int *)arg = amxrt_isa();
	return NULL;
}

static int concurrent_first(long unused)
{
	pthread_t tid[8];
	int got[8], i;

	unsetenv("AMXRT_ISA");
	for (i = 0; i < 8; i++)
		CHILD_CHECK(
			!pthread_create(&tid[i], NULL, first_call, &got[i]));
	for (i = 0; i < 8; i++)
		CHILD_CHECK(!pthread_join(tid[i], NULL));
	for (i = 0; i < 8; i++)
		CHILD_CHECK(got[i] == fastest_usable());
	return 0;
}

TEST(concurrent_first_calls_agree)
{
	EXPECT_EQ(0, in_child(concurrent_first, 0));
}

TEST_HARNESS_MAIN
