// SPDX-License-Identifier: MIT
/*
 * Description: the amxrt-arena tool. On a hugetlbfs (a private mount as
 * root, with nr_hugepages raised and restored) create, list, show, seal
 * and destroy work from separate processes and show the arena's state;
 * creating a taken name, sealing or destroying a missing one fail with
 * status 1 and one line naming it. The anonymous backends are refused
 * (private to a process), forcing the module where it is not loaded fails
 * with its reason, "backend" says why a backend was chosen, and bad
 * commands, options and sizes are usage errors (status 2, one line).
 *
 * The tool is $AMXRT_BIN/amxrt-arena (set by run_tests.sh), else
 * $AMXRT_SRCDIR/build/bin/amxrt-arena, else ../bin/amxrt-arena next to
 * this program (BUILD/tests/arena_tool).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "helpers.h"
#include "tool_helpers.h"

#include <amxrt/amxrt.h>

#define HP "/sys/kernel/mm/hugepages/hugepages-2048kB/"

#define NEED_TOOL()                                               \
	do {                                                      \
		char why_[900];                                   \
		if (find_tool("amxrt-arena", why_, sizeof(why_))) \
			SKIP(return, "%s", why_);                 \
	} while (0)

/* The arena's line in "list" output, or NULL. */
static const char *list_line(const char *out, const char *name)
{
	size_t n = strlen(name);
	const char *l;

	for (l = out; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		if (!strncmp(l, name, n) && l[n] == ' ')
			return l;
	return NULL;
}

FIXTURE(htlb)
{
	char mnt[64];
	char env[128]; /* "AMXRT_ARENA=hugetlbfs AMXRT_HUGETLBFS=..." */
	long hp_old;
};

FIXTURE_SETUP(htlb)
{
	long nr = test_read_long(HP "nr_hugepages");
	long fr = test_read_long(HP "free_hugepages");

	self->hp_old = -1;
	if (nr < 0)
		SKIP(return, "no 2 MiB hugepage support (" HP ")");
	if (geteuid() != 0)
		SKIP(return, "not root: cannot mount a private hugetlbfs or "
			     "raise /proc/sys/vm/nr_hugepages");
	if (fr < 8) {
		self->hp_old = nr;
		test_write_long("/proc/sys/vm/nr_hugepages", nr + 8 - fr);
		if (test_read_long(HP "free_hugepages") < 8)
			SKIP(return, "the kernel gave fewer than 8 free 2 MiB "
				     "hugepages");
	}
	snprintf(self->mnt, sizeof(self->mnt), "/tmp/amxrt-arena-tool.XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->mnt));
	ASSERT_EQ(0, mount("none", self->mnt, "hugetlbfs", 0, "pagesize=2M"))
	TH_LOG("mount: %s", strerror(errno));
	snprintf(self->env, sizeof(self->env),
		 "AMXRT_ARENA=hugetlbfs AMXRT_HUGETLBFS=%s", self->mnt);
}

FIXTURE_TEARDOWN(htlb)
{
	if (self->mnt[0]) {
		umount2(self->mnt, MNT_DETACH);
		rmdir(self->mnt);
	}
	if (self->hp_old >= 0)
		test_write_long("/proc/sys/vm/nr_hugepages", self->hp_old);
}

TEST_F(htlb, create_list_show_seal_destroy)
{
	const char *l;
	struct run r;

	if (_metadata->skip) /* the 6.1 harness runs the body after SKIP */
		return;
	NEED_TOOL();
	run_tool(&r, self->env, "create w0 3M --node 0");
	TH_LOG("create: %d %s%s", r.status, r.out, r.err);
	ASSERT_EQ(0, r.status);
	EXPECT_NE(NULL, strstr(r.out, "created w0: 4 MiB, hugetlbfs"));

	run_tool(&r, self->env, "list");
	ASSERT_EQ(0, r.status);
	EXPECT_NE(NULL, strstr(r.out, "backend: hugetlbfs"));
	l = list_line(r.out, "w0");
	ASSERT_NE(NULL, l) TH_LOG("list: %s", r.out);
	EXPECT_NE(NULL, strstr(l, "4 MiB"));
	EXPECT_NE(NULL, strstr(l, " no "));

	run_tool(&r, self->env, "show w0");
	ASSERT_EQ(0, r.status);
	EXPECT_NE(NULL, strstr(r.out, "size         4194304 bytes"));
	EXPECT_NE(NULL, strstr(r.out, "sealed       no"));
	EXPECT_NE(NULL, strstr(r.out, "placed on    0"));

	run_tool(&r, self->env, "seal w0");
	ASSERT_EQ(0, r.status) TH_LOG("seal: %s", r.err);
	run_tool(&r, self->env, "show w0");
	EXPECT_NE(NULL, strstr(r.out, "sealed       yes"));

	run_tool(&r, self->env, "create w0 2M");
	EXPECT_EQ(1, r.status);
	EXPECT_EQ(1, lines(r.err));
	EXPECT_NE(NULL, strstr(r.err, "exists already"));

	run_tool(&r, self->env, "destroy w0");
	ASSERT_EQ(0, r.status) TH_LOG("destroy: %s", r.err);
	run_tool(&r, self->env, "list");
	EXPECT_EQ(NULL, list_line(r.out, "w0"));
	run_tool(&r, self->env, "destroy w0");
	EXPECT_EQ(1, r.status);
	EXPECT_NE(NULL, strstr(r.err, "no arena \"w0\""));
	run_tool(&r, self->env, "seal w0");
	EXPECT_EQ(1, r.status);
	run_tool(&r, self->env, "show w0");
	EXPECT_EQ(1, r.status);
}

TEST_F(htlb, too_big_fails_with_reason)
{
	struct run r;

	if (_metadata->skip)
		return;
	NEED_TOOL();
	run_tool(&r, self->env, "create big 64T");
	TH_LOG("%d %s", r.status, r.err);
	EXPECT_EQ(1, r.status);
	EXPECT_EQ(1, lines(r.err));
	EXPECT_NE(NULL, strstr(r.err, "hugepages"));
	run_tool(&r, self->env, "list");
	EXPECT_EQ(NULL, list_line(r.out, "big"));
}

TEST(anonymous_backends_refused)
{
	struct run r;

	NEED_TOOL();
	run_tool(&r, "AMXRT_ARENA=anon-thp", "create a 2M");
	TH_LOG("%d %s", r.status, r.err);
	EXPECT_EQ(1, r.status);
	EXPECT_EQ(1, lines(r.err));
	EXPECT_NE(NULL, strstr(r.err, "private"));
	run_tool(&r, "AMXRT_ARENA=anon-thp", "list");
	EXPECT_EQ(0, r.status);
	EXPECT_NE(NULL, strstr(r.out, "private to each process"));
}

TEST(backend_says_why)
{
	struct run r;

	NEED_TOOL();
	run_tool(&r, "-u AMXRT_ARENA", "backend");
	ASSERT_EQ(0, r.status);
	EXPECT_EQ(0, strncmp(r.out, "backend: ", 9));
	EXPECT_NE(NULL, strstr(r.out, "\nwhy: "));
	run_tool(&r, "AMXRT_ARENA=anon-thp", "backend");
	ASSERT_EQ(0, r.status);
	EXPECT_NE(NULL, strstr(r.out, "backend: anon-thp\n"));
	EXPECT_NE(NULL, strstr(r.out, "forced by AMXRT_ARENA=anon-thp"));
	run_tool(&r, "AMXRT_ARENA=nowhere", "list");
	EXPECT_EQ(1, r.status);
	EXPECT_NE(NULL, strstr(r.err, "nowhere"));
	if (access("/dev/amxrt", F_OK)) {
		run_tool(&r, "", "--backend module list");
		EXPECT_EQ(1, r.status);
		EXPECT_EQ(1, lines(r.err));
		EXPECT_NE(NULL, strstr(r.err, "module not loaded"));
	}
}

/* amxrt-info reports the module and the arena backend. */
TEST(info_reports_module)
{
	char info[600], *slash;
	struct run r;
	FILE *p;
	size_t n;

	NEED_TOOL();
	snprintf(info, sizeof(info), "%s", tool);
	slash = strrchr(info, '/');
	ASSERT_NE(NULL, slash);
	snprintf(slash + 1, info + sizeof(info) - slash - 1, "amxrt-info");
	if (access(info, X_OK))
		SKIP(return, "%s: %s", info, strerror(errno));
	snprintf(r.err, sizeof(r.err), "env -u AMXRT_ARENA '%s'", info);
	p = popen(r.err, "r");
	ASSERT_NE(NULL, p);
	n = fread(r.out, 1, sizeof(r.out) - 1, p);
	r.out[n] = '\0';
	r.status = pclose(p);
	EXPECT_EQ(0, r.status);
	if (access("/dev/amxrt", F_OK)) {
		EXPECT_NE(NULL,
			  strstr(r.out, "\nmodule                not "
					"loaded: /dev/amxrt not present"));
	} else {
		EXPECT_NE(NULL,
			  strstr(r.out, "\nmodule                amxrt.ko "));
		EXPECT_NE(NULL,
			  strstr(r.out, "\n  tile permission     module: "));
	}
	EXPECT_NE(NULL, strstr(r.out, "\narenas                "));
}

TEST(usage_errors)
{
	static const char *const args[] = {
		"",
		"frobnicate",
		"create",
		"create x",
		"create x 12Q",
		"create x -- -5",
		"create x 0",
		"list extra",
		"show",
		"--backend disk list",
		"--node 0 list",
		"--nope list",
		"create x 2M --node abc",
	};
	struct run r;
	size_t i;

	NEED_TOOL();
	for (i = 0; i < sizeof(args) / sizeof(args[0]); i++) {
		run_tool(&r, "AMXRT_ARENA=anon-thp", args[i]);
		TH_LOG("\"%s\": exit %d, stderr \"%s\"", args[i], r.status,
		       r.err);
		EXPECT_EQ(2, r.status);
		EXPECT_STREQ("", r.out);
		EXPECT_EQ(1, lines(r.err));
	}
	run_tool(&r, "", "--help");
	EXPECT_EQ(0, r.status);
	EXPECT_NE(NULL, strstr(r.out, "create NAME SIZE"));
	EXPECT_NE(NULL, strstr(r.out, "Exit status"));
}

TEST_HARNESS_MAIN
