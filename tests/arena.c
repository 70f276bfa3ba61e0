// SPDX-License-Identifier: MIT
/*
 * Description: weight arenas (amxrt_arena_*) on every backend: module
 * (/dev/amxrt), hugetlbfs files, anonymous MAP_HUGETLB and THP memory.
 * Each fixture variant forces one backend and runs the same checks:
 * create, map, write and read back (zeroed, 2 MiB aligned, size rounded);
 * another process opens the arena by name and sees the bytes and its
 * writes (shared, persistent backends) or does not find it (anonymous:
 * private to the process); seal makes writes fault with SIGSEGV, refuses
 * writable maps with EPERM and (module, hugetlbfs) mprotect back to
 * writable; destroy frees the name (the module refuses while mapped);
 * list; bad arguments give EINVAL, never a crash; pages land on the asked
 * node (move_pages); a node that cannot supply the pages gives ENOMEM.
 * Tests outside the fixture check the backend choice and its reason,
 * forcing an unavailable backend (an error, never a fallback) and
 * amxrt_module_info().
 *
 * Setup per backend: module: needs /dev/amxrt (in QEMU, make kmod-check);
 * hugetlbfs: as root, a private hugetlbfs mount and enough 2 MiB pages
 * (nr_hugepages raised, restored after); else an existing mount with free
 * pages; anon-hugetlb: free hugepages (raised as root); anon-thp: always.
 * This program needs only libamxrt, libc and libnuma: it is also linked
 * statically for the QEMU guest.
 */
#include <errno.h>
#include <numa.h>
#include <numaif.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "helpers.h"

#include <amxrt/amxrt.h>

#define MiB (1ull << 20)
#define PAGE2M (2 * MiB)
#define NEED_HUGEPAGES 40 /* what one test may use at most, with room */
#define HP "/sys/kernel/mm/hugepages/hugepages-2048kB/"
#define NO_MODULE                                                       \
	"/dev/amxrt not present: the module is tested in QEMU by make " \
	"kmod-check"

/* A name no other run uses: "t<pid>-<tag>". */
static void uname_of(char *buf, size_t len, const char *tag)
{
	snprintf(buf, len, "t%d-%s", (int)getpid(), tag);
}

static int is_persistent(int backend)
{
	return backend == AMXRT_ARENA_MODULE ||
	       backend == AMXRT_ARENA_HUGETLBFS;
}

/* Fill a region with a pattern that depends on seed. */
static void fill(void *p, uint64_t n, unsigned int seed)
{
	uint64_t i;

	for (i = 0; i < n; i += 8)
		*(uint64_t *)((char *)p + i) = (i * 0x9e3779b97f4a7c15ull) ^
					       seed;
}

static int check(const void *p, uint64_t n, unsigned int seed)
{
	uint64_t i;

	for (i = 0; i < n; i += 8)
		if (*(const uint64_t *)((const char *)p + i) !=
		    ((i * 0x9e3779b97f4a7c15ull) ^ seed))
			return 0;
	return 1;
}

static int all_zero(const void *p, uint64_t n)
{
	uint64_t i;

	for (i = 0; i < n; i += 8)
		if (*(const uint64_t *)((const char *)p + i))
			return 0;
	return 1;
}

/* Fork; the child writes one byte at p. Returns the child's wait status. */
static int child_writes(void *p)
{
	pid_t pid = fork();
	int st = 0;

	if (pid == 0) {
		signal(SIGSEGV, SIG_DFL);
		signal(SIGBUS, SIG_DFL);
		*(volatile char *)p = 1;
		_exit(0);
	}
	if (pid < 0 || waitpid(pid, &st, 0) != pid)
		return -1;
	return st;
}

/*
 * Every 2 MiB page of [p, p + n) is on node: 1; a page elsewhere: 0; -1
 * when move_pages() cannot say (the module's PFN mappings have no struct
 * page behind them for it).
 */
static int pages_on_node(void *p, uint64_t n, int node)
{
	uint64_t count = n / PAGE2M, i;
	void *pages[64];
	int status[64];

	if (count > 64)
		count = 64;
	for (i = 0; i < count; i++)
		pages[i] = (char *)p + i * PAGE2M;
	if (move_pages(0, count, pages, NULL, status, 0))
		return -1;
	for (i = 0; i < count; i++) {
		if (status[i] < 0)
			return -1;
		if (status[i] != node)
			return 0;
	}
	return 1;
}

/* ---- the fixture: one variant per backend ---------------------------- */

FIXTURE(arena)
{
	int backend;
	long hp_old; /* nr_hugepages to restore, or -1 */
	char mnt[64]; /* private hugetlbfs mount, or "" */
	char names[16][AMXRT_ARENA_NAME_MAX + 1]; /* to destroy at the end */
	int nnames;
	struct amxrt_arena *handles[16]; /* to close at the end */
	int nhandles;
};

FIXTURE_VARIANT(arena)
{
	int backend;
};

FIXTURE_VARIANT_ADD(arena, module){
	.backend = AMXRT_ARENA_MODULE,
};

FIXTURE_VARIANT_ADD(arena, hugetlbfs){
	.backend = AMXRT_ARENA_HUGETLBFS,
};

FIXTURE_VARIANT_ADD(arena, anon_hugetlb){
	.backend = AMXRT_ARENA_ANON_HUGETLB,
};

FIXTURE_VARIANT_ADD(arena, anon_thp){
	.backend = AMXRT_ARENA_ANON_THP,
};

/*
 * Make sure NEED_HUGEPAGES 2 MiB pages are free: raise nr_hugepages as
 * root. Returns 0, or -1 with the reason in why.
 */
static int want_hugepages(FIXTURE_DATA(arena) * self, char *why, size_t len)
{
	long nr = test_read_long(HP "nr_hugepages");
	long fr = test_read_long(HP "free_hugepages");

	if (nr < 0 || fr < 0) {
		snprintf(why, len, "no 2 MiB hugepage support (" HP ")");
		return -1;
	}
	if (fr >= NEED_HUGEPAGES)
		return 0;
	if (geteuid() != 0) {
		snprintf(why, len,
			 "%ld free 2 MiB hugepages, %d needed, and not root "
			 "(cannot raise /proc/sys/vm/nr_hugepages)",
			 fr, NEED_HUGEPAGES);
		return -1;
	}
	self->hp_old = nr;
	if (test_write_long("/proc/sys/vm/nr_hugepages",
			    nr + NEED_HUGEPAGES - fr) ||
	    test_read_long(HP "free_hugepages") < NEED_HUGEPAGES) {
		snprintf(why, len,
			 "the kernel gave %ld free 2 MiB hugepages of the %d "
			 "asked (memory fragmented?)",
			 test_read_long(HP "free_hugepages"), NEED_HUGEPAGES);
		return -1;
	}
	return 0;
}

/* As root: a private hugetlbfs for this test, named by AMXRT_HUGETLBFS. */
static int want_hugetlbfs(FIXTURE_DATA(arena) * self, char *why, size_t len)
{
	if (geteuid() != 0) {
		if (amxrt_arena_backend_usable(AMXRT_ARENA_HUGETLBFS, why, len))
			return -1;
		return 0; /* a mount exists: use it */
	}
	snprintf(self->mnt, sizeof(self->mnt), "/tmp/amxrt-arena.XXXXXX");
	if (!mkdtemp(self->mnt)) {
		snprintf(why, len, "mkdtemp: %s", strerror(errno));
		self->mnt[0] = '\0';
		return -1;
	}
	if (mount("none", self->mnt, "hugetlbfs", 0, "pagesize=2M")) {
		snprintf(why, len, "mount -t hugetlbfs on %s: %s", self->mnt,
			 strerror(errno));
		rmdir(self->mnt);
		self->mnt[0] = '\0';
		return -1;
	}
	setenv("AMXRT_HUGETLBFS", self->mnt, 1);
	return 0;
}

FIXTURE_SETUP(arena)
{
	char why[512] = "";
	int ret;

	self->backend = variant->backend;
	self->hp_old = -1;
	unsetenv("AMXRT_ARENA");
	unsetenv("AMXRT_HUGETLBFS");
	switch (variant->backend) {
	case AMXRT_ARENA_MODULE:
		if (access("/dev/amxrt", F_OK))
			SKIP(return, NO_MODULE);
		break;
	case AMXRT_ARENA_HUGETLBFS:
		if (want_hugepages(self, why, sizeof(why)) ||
		    want_hugetlbfs(self, why, sizeof(why)))
			SKIP(return, "hugetlbfs: %s", why);
		break;
	case AMXRT_ARENA_ANON_HUGETLB:
		if (want_hugepages(self, why, sizeof(why)))
			SKIP(return, "anon-hugetlb: %s", why);
		break;
	}
	ret = amxrt_arena_set_backend(variant->backend);
	ASSERT_EQ(0, ret)
	TH_LOG("set_backend(%s): %s",
	       amxrt_arena_backend_name(variant->backend), amxrt_errmsg());
	ASSERT_EQ(variant->backend, amxrt_arena_default_backend());
}

FIXTURE_TEARDOWN(arena)
{
	int i;

	for (i = 0; i < self->nhandles; i++)
		amxrt_arena_close(self->handles[i]);
	for (i = 0; i < self->nnames; i++)
		amxrt_arena_destroy(self->names[i]);
	if (self->mnt[0]) {
		umount2(self->mnt, MNT_DETACH);
		rmdir(self->mnt);
	}
	if (self->hp_old >= 0)
		test_write_long("/proc/sys/vm/nr_hugepages", self->hp_old);
}

/*
 * The 6.1 harness runs the test body even when the setup SKIPped: each
 * body starts by asking.
 */
static int setup_skipped(struct __test_metadata *m)
{
	return m->skip;
}

/* Create an arena named after tag; remembered for teardown. */
static int mk(FIXTURE_DATA(arena) * self, const char *tag, uint64_t size,
	      int node, unsigned int flags, struct amxrt_arena **a, char *name)
{
	int ret;

	uname_of(name, AMXRT_ARENA_NAME_MAX + 1, tag);
	ret = amxrt_arena_create(name, size, node, flags, a);
	if (ret == 0) {
		if (self->nnames < 16)
			snprintf(self->names[self->nnames++],
				 AMXRT_ARENA_NAME_MAX + 1, "%s", name);
		if (self->nhandles < 16)
			self->handles[self->nhandles++] = *a;
	}
	return ret;
}

/* Close a handle made by mk() or registered with keep(). */
static void drop(FIXTURE_DATA(arena) * self, struct amxrt_arena *a)
{
	int i;

	for (i = 0; i < self->nhandles; i++) {
		if (self->handles[i] == a) {
			self->handles[i] = self->handles[--self->nhandles];
			break;
		}
	}
	amxrt_arena_close(a);
}

static void keep(FIXTURE_DATA(arena) * self, struct amxrt_arena *a)
{
	if (self->nhandles < 16)
		self->handles[self->nhandles++] = a;
}

TEST_F(arena, create_map_write_read)
{
	char name[AMXRT_ARENA_NAME_MAX + 1];
	struct amxrt_arena_info info;
	struct amxrt_arena *a;
	void *p = NULL;

	if (setup_skipped(_metadata))
		return;
	ASSERT_EQ(0, mk(self, "cmwr", 4 * MiB + 1, -1, 0, &a, name))
	TH_LOG("create: %s", amxrt_errmsg());
	ASSERT_EQ(self->backend, amxrt_arena_backend(a));
	ASSERT_EQ(0, amxrt_arena_map(a, AMXRT_ARENA_MAP_WRITE, &p))
	TH_LOG("map: %s", amxrt_errmsg());
	ASSERT_NE(NULL, p);
	EXPECT_EQ(0, (uintptr_t)p % PAGE2M);
	ASSERT_EQ(0, amxrt_arena_info(a, &info));
	EXPECT_EQ(6 * MiB, info.size); /* rounded up to 2 MiB */
	EXPECT_STREQ(name, info.name);
	EXPECT_EQ(self->backend, (int)info.backend);
	EXPECT_EQ(0, info.sealed);
	EXPECT_GE(info.map_count, 1);
	EXPECT_TRUE(all_zero(p, info.size));
	fill(p, info.size, 0x5a5a);
	EXPECT_TRUE(check(p, info.size, 0x5a5a));
	if (self->backend != AMXRT_ARENA_ANON_THP &&
	    self->backend != AMXRT_ARENA_MODULE)
		EXPECT_EQ((int64_t)info.size, info.huge_bytes);
	if (self->backend == AMXRT_ARENA_ANON_THP) {
		ASSERT_EQ(0, amxrt_arena_info(a, &info));
		TH_LOG("THP: %lld of %llu bytes in 2 MiB pages",
		       (long long)info.huge_bytes,
		       (unsigned long long)info.size);
		EXPECT_GE(info.huge_bytes, 0);
	}
	/* a second mapping sees the same bytes */
	if (self->backend != AMXRT_ARENA_ANON_HUGETLB &&
	    self->backend != AMXRT_ARENA_ANON_THP) {
		void *q = NULL;

		ASSERT_EQ(0, amxrt_arena_map(a, 0, &q));
		EXPECT_NE(p, q);
		EXPECT_TRUE(check(q, info.size, 0x5a5a));
		ASSERT_EQ(0, amxrt_arena_info(a, &info));
		EXPECT_GE(info.map_count, 2);
		EXPECT_EQ(0, amxrt_arena_unmap(a, q));
	}
	EXPECT_EQ(0, amxrt_arena_unmap(a, p));
	EXPECT_EQ(-EINVAL, amxrt_arena_unmap(a, p)); /* not mapped now */
}

/*
 * A child process creates an arena, writes it and exits: persistent
 * backends keep it for the parent; anonymous ones do not.
 */
TEST_F(arena, outlives_its_creator)
{
	char name[AMXRT_ARENA_NAME_MAX + 1];
	struct amxrt_arena *a = NULL;
	void *p = NULL;
	pid_t pid;
	int st = 0, ret;

	if (setup_skipped(_metadata))
		return;
	uname_of(name, sizeof(name), "persist");
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		struct amxrt_arena *c;
		void *q;

		if (amxrt_arena_create(name, 4 * MiB, -1, 0, &c) ||
		    amxrt_arena_map(c, AMXRT_ARENA_MAP_WRITE, &q))
			_exit(1);
		fill(q, 4 * MiB, 77);
		amxrt_arena_close(c);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
	ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	ret = amxrt_arena_open(name, &a);
	if (!is_persistent(self->backend)) {
		EXPECT_EQ(-ENOENT, ret);
		EXPECT_NE(NULL, strstr(amxrt_errmsg(), "private"));
		return;
	}
	ASSERT_EQ(0, ret) TH_LOG("open: %s", amxrt_errmsg());
	snprintf(self->names[self->nnames++], sizeof(self->names[0]), "%s",
		 name);
	keep(self, a);
	ASSERT_EQ(0, amxrt_arena_map(a, 0, &p));
	EXPECT_TRUE(check(p, 4 * MiB, 77));
}

/*
 * Two processes map one arena and see each other's writes; with the
 * anonymous backends a forked child has its own private copy.
 */
TEST_F(arena, shared_between_processes)
{
	char name[AMXRT_ARENA_NAME_MAX + 1];
	int shared = is_persistent(self->backend);
	struct amxrt_arena *a;
	volatile uint32_t *w;
	void *p = NULL;
	pid_t pid;
	int st = 0, reaped = 0, i;

	if (setup_skipped(_metadata))
		return;
	ASSERT_EQ(0, mk(self, "shared", 2 * MiB, -1, 0, &a, name));
	ASSERT_EQ(0, amxrt_arena_map(a, AMXRT_ARENA_MAP_WRITE, &p));
	w = p;
	w[0] = 0x1234;
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		struct amxrt_arena *c;
		volatile uint32_t *cw;
		void *q;

		if (amxrt_arena_open(name, &c) ||
		    amxrt_arena_map(c, AMXRT_ARENA_MAP_WRITE, &q))
			_exit(1);
		cw = q;
		if (cw[0] != 0x1234)
			_exit(2);
		cw[1] = 0xabcd;
		if (!shared)
			_exit(0);
		/* wait for the parent's answer */
		for (i = 0; i < 5000 && cw[2] != 0x77; i++)
			usleep(1000);
		_exit(cw[2] == 0x77 ? 0 : 3);
	}
	for (i = 0; i < 5000 && w[1] != 0xabcd; i++) {
		if (waitpid(pid, &st, WNOHANG) == pid) {
			reaped = 1;
			break;
		}
		usleep(1000);
	}
	w[2] = 0x77;
	if (!reaped)
		ASSERT_EQ(pid, waitpid(pid, &st, 0));
	EXPECT_TRUE(WIFEXITED(st));
	EXPECT_EQ(0, WEXITSTATUS(st));
	/* anonymous: the child wrote its own copy */
	EXPECT_EQ(shared ? 0xabcd : 0, w[1]);
}

TEST_F(arena, seal)
{
	char name[AMXRT_ARENA_NAME_MAX + 1];
	struct amxrt_arena_info info;
	struct amxrt_arena *a, *b;
	void *p = NULL, *q = NULL;
	int st;

	if (setup_skipped(_metadata))
		return;
	ASSERT_EQ(0, mk(self, "seal", 4 * MiB, -1, 0, &a, name));
	ASSERT_EQ(0, amxrt_arena_map(a, AMXRT_ARENA_MAP_WRITE, &p));
	st = child_writes(p);
	EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0); /* not yet sealed */
	fill(p, 4 * MiB, 9);
	ASSERT_EQ(0, amxrt_arena_seal(a)) TH_LOG("seal: %s", amxrt_errmsg());
	EXPECT_EQ(0, amxrt_arena_seal(a)); /* twice is fine */
	/* the writable mapping is read-only now: a write faults */
	st = child_writes(p);
	EXPECT_TRUE(WIFSIGNALED(st));
	EXPECT_EQ(SIGSEGV, WTERMSIG(st));
	EXPECT_TRUE(check(p, 4 * MiB, 9));
	EXPECT_EQ(-EPERM, amxrt_arena_map(a, AMXRT_ARENA_MAP_WRITE, &q));
	EXPECT_EQ(NULL, q);
	EXPECT_NE(NULL, strstr(amxrt_errmsg(), "sealed"));

	/* another handle sees it sealed, maps it read-only only */
	ASSERT_EQ(0, amxrt_arena_open(name, &b));
	keep(self, b);
	ASSERT_EQ(0, amxrt_arena_info(b, &info));
	EXPECT_EQ(1, info.sealed);
	EXPECT_EQ(-EPERM, amxrt_arena_map(b, AMXRT_ARENA_MAP_WRITE, &q));
	ASSERT_EQ(0, amxrt_arena_map(b, 0, &q));
	if (q != p)
		EXPECT_TRUE(check(q, 4 * MiB, 9));
	st = child_writes(q);
	EXPECT_TRUE(WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV);
	if (is_persistent(self->backend)) {
		/* the kernel refuses to make these mappings writable */
		errno = 0;
		EXPECT_EQ(-1, mprotect(q, 4 * MiB, PROT_READ | PROT_WRITE));
		EXPECT_EQ(EACCES, errno);
		errno = 0;
		EXPECT_EQ(-1, mprotect(p, 4 * MiB, PROT_READ | PROT_WRITE));
		EXPECT_EQ(EACCES, errno);
	}
}

TEST_F(arena, destroy)
{
	char name[AMXRT_ARENA_NAME_MAX + 1];
	struct amxrt_arena *a, *b;
	void *p = NULL;
	int ret;

	if (setup_skipped(_metadata))
		return;
	ASSERT_EQ(0, mk(self, "destroy", 2 * MiB, -1, 0, &a, name));
	ASSERT_EQ(0, amxrt_arena_map(a, AMXRT_ARENA_MAP_WRITE, &p));
	fill(p, 2 * MiB, 3);
	ret = amxrt_arena_destroy(name);
	if (self->backend == AMXRT_ARENA_MODULE) {
		/* the module refuses while mapped */
		EXPECT_EQ(-EBUSY, ret);
		EXPECT_NE(NULL, strstr(amxrt_errmsg(), name));
		ASSERT_EQ(0, amxrt_arena_unmap(a, p));
		p = NULL;
		ret = amxrt_arena_destroy(name);
	}
	ASSERT_EQ(0, ret) TH_LOG("destroy: %s", amxrt_errmsg());
	/* memory still mapped stays valid until unmapped */
	if (p)
		EXPECT_TRUE(check(p, 2 * MiB, 3));
	EXPECT_EQ(-ENOENT, amxrt_arena_open(name, &b));
	EXPECT_EQ(-ENOENT, amxrt_arena_destroy(name));
	EXPECT_NE(NULL, strstr(amxrt_errmsg(), name));
	drop(self, a);
	/* the name is free again, for a new, zeroed arena */
	ASSERT_EQ(0, mk(self, "destroy", 2 * MiB, -1, 0, &a, name));
	ASSERT_EQ(0, amxrt_arena_map(a, 0, &p));
	EXPECT_TRUE(all_zero(p, 2 * MiB));
	drop(self, a);
	EXPECT_EQ(0, amxrt_arena_destroy(name));
}

TEST_F(arena, list)
{
	static const char *const tags[] = { "list-c", "list-a", "list-b" };
	char names[3][AMXRT_ARENA_NAME_MAX + 1];
	struct amxrt_arena_info infos[64];
	struct amxrt_arena *a;
	int i, j, n, found = 0, total;

	if (setup_skipped(_metadata))
		return;
	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, mk(self, tags[i], (i + 1) * 2 * MiB, -1, 0, &a,
				names[i]));
	ASSERT_EQ(0, amxrt_arena_seal(a)); /* list-b */
	total = amxrt_arena_list(NULL, 0);
	ASSERT_GE(total, 3) TH_LOG("list: %s", amxrt_errmsg());
	n = amxrt_arena_list(infos, 64);
	ASSERT_EQ(total, n);
	for (i = 0; i < n && i < 64; i++) {
		if (i > 0) /* sorted by name */
			EXPECT_LT(strcmp(infos[i - 1].name, infos[i].name), 0);
		for (j = 0; j < 3; j++) {
			if (strcmp(infos[i].name, names[j]))
				continue;
			found++;
			EXPECT_EQ((uint64_t)(j + 1) * 2 * MiB, infos[i].size);
			EXPECT_EQ(j == 2, infos[i].sealed);
			EXPECT_EQ(self->backend, (int)infos[i].backend);
		}
	}
	EXPECT_EQ(3, found);
	/* a short buffer gets what fits, the count is the total */
	memset(infos, 0xcc, sizeof(infos));
	EXPECT_EQ(total, amxrt_arena_list(infos, 1));
	EXPECT_NE('\xcc', infos[0].name[0]);
	EXPECT_EQ((char)0xcc, infos[1].name[0]);
	EXPECT_EQ(-EINVAL, amxrt_arena_list(NULL, 3));
	EXPECT_EQ(-EINVAL, amxrt_arena_list(infos, -1));
	/* destroyed arenas leave the list */
	for (i = 0; i < 3; i++)
		EXPECT_EQ(0, amxrt_arena_destroy(names[i]));
	EXPECT_EQ(total - 3, amxrt_arena_list(NULL, 0));
}

TEST_F(arena, bad_arguments)
{
	char name[AMXRT_ARENA_NAME_MAX + 1], longname[80];
	struct amxrt_arena_info info;
	struct amxrt_arena *a, *b = (void *)1;
	void *p = (void *)1;

	if (setup_skipped(_metadata))
		return;
	memset(longname, 'x', sizeof(longname));
	longname[AMXRT_ARENA_NAME_MAX + 1] = '\0'; /* 64 bytes: too long */
	EXPECT_EQ(-EINVAL, amxrt_arena_create(NULL, MiB, -1, 0, &b));
	EXPECT_EQ(NULL, b);
	EXPECT_EQ(-EINVAL, amxrt_arena_create("", MiB, -1, 0, &b));
	EXPECT_NE(NULL, strstr(amxrt_errmsg(), "empty"));
	EXPECT_EQ(-EINVAL, amxrt_arena_create(longname, MiB, -1, 0, &b));
	EXPECT_NE(NULL, strstr(amxrt_errmsg(), "at most 63"));
	EXPECT_EQ(-EINVAL, amxrt_arena_create("a/b", MiB, -1, 0, &b));
	EXPECT_EQ(-EINVAL, amxrt_arena_create(".hidden", MiB, -1, 0, &b));
	EXPECT_EQ(-EINVAL, amxrt_arena_create("sp ace", MiB, -1, 0, &b));
	EXPECT_EQ(-EINVAL, amxrt_arena_create("ok", MiB, -1, 0, NULL));
	EXPECT_EQ(-EINVAL, amxrt_arena_create("ok", 0, -1, 0, &b));
	EXPECT_NE(NULL, strstr(amxrt_errmsg(), "size 0"));
	EXPECT_EQ(-EINVAL, amxrt_arena_create("ok", ~0ull, -1, 0, &b));
	EXPECT_EQ(-EINVAL, amxrt_arena_create("ok", MiB, -1, 0x80, &b));
	EXPECT_NE(NULL, strstr(amxrt_errmsg(), "flags"));
	EXPECT_EQ(-EINVAL, amxrt_arena_create("ok", MiB, -2, 0, &b));
	EXPECT_EQ(-EINVAL, amxrt_arena_create("ok", MiB, 999, 0, &b));
	EXPECT_NE(NULL, strstr(amxrt_errmsg(), "node 999"));
	EXPECT_EQ(-EINVAL, amxrt_arena_open(NULL, &b));
	EXPECT_EQ(-EINVAL, amxrt_arena_open("ok", NULL));
	EXPECT_EQ(-EINVAL, amxrt_arena_destroy(""));
	uname_of(name, sizeof(name), "missing");
	EXPECT_EQ(-ENOENT, amxrt_arena_open(name, &b));
	EXPECT_EQ(-ENOENT, amxrt_arena_destroy(name));

	/* the longest name works, and a second create of it is EEXIST */
	snprintf(longname, sizeof(longname), "t%d-", (int)getpid());
	memset(longname + strlen(longname), 'y',
	       AMXRT_ARENA_NAME_MAX - strlen(longname));
	longname[AMXRT_ARENA_NAME_MAX] = '\0';
	ASSERT_EQ(0, amxrt_arena_create(longname, MiB, -1, 0, &a))
	TH_LOG("create: %s", amxrt_errmsg());
	snprintf(self->names[self->nnames++], sizeof(self->names[0]), "%s",
		 longname);
	keep(self, a);
	EXPECT_EQ(-EEXIST, amxrt_arena_create(longname, MiB, -1, 0, &b));
	EXPECT_NE(NULL, strstr(amxrt_errmsg(), "exists"));

	EXPECT_EQ(-EINVAL, amxrt_arena_map(NULL, 0, &p));
	EXPECT_EQ(-EINVAL, amxrt_arena_map(a, 0, NULL));
	EXPECT_EQ(-EINVAL, amxrt_arena_map(a, 0x10, &p));
	EXPECT_EQ(NULL, p);
	EXPECT_EQ(-EINVAL, amxrt_arena_unmap(NULL, p));
	EXPECT_EQ(-EINVAL, amxrt_arena_unmap(a, (void *)4096));
	EXPECT_EQ(-EINVAL, amxrt_arena_seal(NULL));
	EXPECT_EQ(-EINVAL, amxrt_arena_info(NULL, &info));
	EXPECT_EQ(-EINVAL, amxrt_arena_info(a, NULL));
	EXPECT_EQ(-EINVAL, amxrt_arena_backend(NULL));
	amxrt_arena_close(NULL);
	EXPECT_EQ(NULL, amxrt_arena_backend_name(99));
	EXPECT_EQ(NULL, amxrt_arena_backend_name(-1));
	EXPECT_EQ(-EINVAL, amxrt_arena_backend_parse(NULL));
	EXPECT_EQ(-EINVAL, amxrt_arena_backend_parse("disk"));
	EXPECT_EQ(-EINVAL, amxrt_arena_set_backend(7));
	EXPECT_EQ(-EINVAL, amxrt_arena_set_backend(-2));
	EXPECT_EQ(-EINVAL, amxrt_arena_backend_usable(9, NULL, 0));
	EXPECT_EQ(-EINVAL, amxrt_module_info(NULL));
	/* a failed call changed nothing */
	EXPECT_EQ(self->backend, amxrt_arena_default_backend());
}

/* Pages land on the asked node (move_pages), on node 1 too if there is one. */
TEST_F(arena, node_placement)
{
	char name[AMXRT_ARENA_NAME_MAX + 1];
	struct amxrt_arena_info info;
	struct amxrt_arena *a;
	int node, on, max = numa_available() < 0 ? 0 : numa_max_node();
	void *p;

	if (setup_skipped(_metadata))
		return;
	for (node = 0; node <= max && node < 2; node++) {
		char tag[16];

		if (max > 0 && !numa_bitmask_isbitset(numa_all_nodes_ptr, node))
			continue;
		snprintf(tag, sizeof(tag), "node%d", node);
		ASSERT_EQ(0, mk(self, tag, 6 * MiB, node, 0, &a, name))
		TH_LOG("node %d: %s", node, amxrt_errmsg());
		ASSERT_EQ(0, amxrt_arena_map(a, AMXRT_ARENA_MAP_WRITE, &p));
		fill(p, 6 * MiB, node);
		ASSERT_EQ(0, amxrt_arena_info(a, &info));
		EXPECT_EQ(node, info.node);
		EXPECT_EQ(node, info.placed_node);
		on = numa_available() < 0 ? 1 : pages_on_node(p, 6 * MiB, node);
		if (on < 0 && self->backend == AMXRT_ARENA_MODULE)
			TH_LOG("move_pages cannot see the module's pages: its "
			       "node mask says %d",
			       info.placed_node);
		else
			EXPECT_EQ(1, on);
		TH_LOG("node %d of 0-%d: placed on %d", node, max,
		       info.placed_node);
	}
	/* a preferred node is accepted too */
	ASSERT_EQ(0, mk(self, "pref", 2 * MiB, 0, AMXRT_ARENA_NODE_PREFERRED,
			&a, name));
	ASSERT_EQ(0, amxrt_arena_info(a, &info));
	EXPECT_EQ(0, info.node);
}

/* More than the backend can supply: ENOMEM (or the module's limit). */
TEST_F(arena, too_big)
{
	char name[AMXRT_ARENA_NAME_MAX + 1];
	struct amxrt_arena *a = NULL;
	uint64_t size;
	int ret;

	if (setup_skipped(_metadata))
		return;
	if (self->backend == AMXRT_ARENA_HUGETLBFS ||
	    self->backend == AMXRT_ARENA_ANON_HUGETLB)
		size = (uint64_t)(test_read_long(HP "free_hugepages") +
				  test_read_long(HP "nr_overcommit_hugepages") +
				  8) *
		       PAGE2M;
	else
		size = 1ull << 50; /* 1 PiB */
	uname_of(name, sizeof(name), "toobig");
	ret = amxrt_arena_create(name, size, 0, 0, &a);
	TH_LOG("%llu MiB: %d: %s", (unsigned long long)(size >> 20), ret,
	       amxrt_errmsg());
	if (ret == 0)
		amxrt_arena_destroy(name);
	if (self->backend == AMXRT_ARENA_MODULE) {
		EXPECT_LT(ret, 0);
	} else {
		EXPECT_EQ(-ENOMEM, ret);
	}
	EXPECT_EQ(NULL, a);
	EXPECT_NE('\0', amxrt_errmsg()[0]);
	/* nothing was left behind */
	EXPECT_EQ(-ENOENT, amxrt_arena_open(name, &a));
}

/* ---- the choice of backend ------------------------------------------- */

TEST(backend_choice_and_reason)
{
	const char *r;
	char why[512];
	int b, i;

	unsetenv("AMXRT_ARENA");
	ASSERT_EQ(0, amxrt_arena_set_backend(-1));
	b = amxrt_arena_default_backend();
	ASSERT_GE(b, 0);
	ASSERT_LT(b, AMXRT_ARENA_BACKEND_COUNT);
	r = amxrt_arena_backend_reason();
	ASSERT_NE(NULL, r);
	TH_LOG("backend %s: %s", amxrt_arena_backend_name(b), r);
	/* the reason says why each better backend was passed over */
	if (access("/dev/amxrt", F_OK)) {
		EXPECT_NE(AMXRT_ARENA_MODULE, b);
		EXPECT_NE(NULL, strstr(r, "/dev/amxrt not present"));
	} else {
		EXPECT_EQ(AMXRT_ARENA_MODULE, b);
	}
	EXPECT_NE(NULL, strstr(r, b == AMXRT_ARENA_MODULE    ? "module" :
				  b == AMXRT_ARENA_HUGETLBFS ? "hugetlbfs" :
				  b == AMXRT_ARENA_ANON_THP  ? "THP" :
							       "MAP_HUGETLB"));
	for (i = 0; i < AMXRT_ARENA_BACKEND_COUNT; i++) {
		const char *n = amxrt_arena_backend_name(i);

		ASSERT_NE(NULL, n);
		EXPECT_EQ(i, amxrt_arena_backend_parse(n));
		if (amxrt_arena_backend_usable(i, why, sizeof(why)))
			TH_LOG("%s not usable: %s", n, why);
	}
	EXPECT_EQ(AMXRT_ARENA_ANON_THP, amxrt_arena_backend_parse("ANON-THP"));
	/* anon-thp needs nothing: always usable */
	EXPECT_EQ(0, amxrt_arena_backend_usable(AMXRT_ARENA_ANON_THP, NULL, 0));
	/* AMXRT_ARENA forces one */
	setenv("AMXRT_ARENA", "anon-thp", 1);
	ASSERT_EQ(0, amxrt_arena_set_backend(-1));
	EXPECT_EQ(AMXRT_ARENA_ANON_THP, amxrt_arena_default_backend());
	EXPECT_NE(NULL, strstr(amxrt_arena_backend_reason(),
			       "forced by AMXRT_ARENA=anon-thp"));
	unsetenv("AMXRT_ARENA");
}

TEST(forcing_an_unavailable_backend_fails)
{
	struct amxrt_arena *a = NULL;
	char why[512] = "";
	int ret;

	/* a directory that is not on hugetlbfs */
	setenv("AMXRT_HUGETLBFS", "/", 1);
	ret = amxrt_arena_backend_usable(AMXRT_ARENA_HUGETLBFS, why,
					 sizeof(why));
	EXPECT_EQ(-ENOTSUP, ret);
	EXPECT_NE(NULL, strstr(why, "not on a hugetlbfs")) TH_LOG("%s", why);
	EXPECT_EQ(-ENOTSUP, amxrt_arena_set_backend(AMXRT_ARENA_HUGETLBFS));
	EXPECT_NE(NULL, strstr(amxrt_errmsg(), "AMXRT_HUGETLBFS=/"));
	setenv("AMXRT_ARENA", "hugetlbfs", 1);
	EXPECT_EQ(-ENOTSUP, amxrt_arena_set_backend(-1));
	EXPECT_EQ(-ENOTSUP, amxrt_arena_default_backend());
	EXPECT_NE(NULL, strstr(amxrt_errmsg(), "AMXRT_ARENA=hugetlbfs"));
	/* no silent fallback: arenas cannot be made */
	EXPECT_EQ(-ENOTSUP, amxrt_arena_create("x", MiB, -1, 0, &a));
	EXPECT_EQ(NULL, a);
	EXPECT_EQ(-ENOTSUP, amxrt_arena_list(NULL, 0));
	EXPECT_NE(NULL, strstr(amxrt_arena_backend_reason(), "not on"));
	/* an unknown name */
	setenv("AMXRT_ARENA", "tmpfs", 1);
	EXPECT_EQ(-EINVAL, amxrt_arena_set_backend(-1));
	EXPECT_NE(NULL, strstr(amxrt_errmsg(), "\"tmpfs\""));
	if (access("/dev/amxrt", F_OK)) {
		setenv("AMXRT_ARENA", "module", 1);
		EXPECT_EQ(-ENOTSUP, amxrt_arena_set_backend(-1));
		EXPECT_NE(NULL, strstr(amxrt_errmsg(), "module not loaded"));
		EXPECT_EQ(-ENOTSUP,
			  amxrt_arena_set_backend(AMXRT_ARENA_MODULE));
	}
	/* a program's choice replaces a failed one */
	EXPECT_EQ(0, amxrt_arena_set_backend(AMXRT_ARENA_ANON_THP));
	EXPECT_EQ(AMXRT_ARENA_ANON_THP, amxrt_arena_default_backend());
	unsetenv("AMXRT_ARENA");
	unsetenv("AMXRT_HUGETLBFS");
}

/* With the module, mappings use 2 MiB page-table entries. */
TEST(module_pmd_mappings)
{
	struct amxrt_module_info before, after;
	char name[AMXRT_ARENA_NAME_MAX + 1];
	struct amxrt_arena *a;
	void *p;

	if (access("/dev/amxrt", F_OK))
		SKIP(return, NO_MODULE);
	ASSERT_EQ(0, amxrt_arena_set_backend(AMXRT_ARENA_MODULE));
	uname_of(name, sizeof(name), "pmd");
	ASSERT_EQ(0, amxrt_arena_create(name, 8 * MiB, -1, 0, &a))
	TH_LOG("create: %s", amxrt_errmsg());
	ASSERT_EQ(0, amxrt_module_info(&before));
	ASSERT_EQ(0, amxrt_arena_map(a, AMXRT_ARENA_MAP_WRITE, &p));
	fill(p, 8 * MiB, 1);
	ASSERT_EQ(0, amxrt_module_info(&after));
	TH_LOG("pmd_maps %llu -> %llu, pte_maps %llu -> %llu",
	       (unsigned long long)before.pmd_maps,
	       (unsigned long long)after.pmd_maps,
	       (unsigned long long)before.pte_maps,
	       (unsigned long long)after.pte_maps);
	EXPECT_GE(after.pmd_maps, before.pmd_maps + 4);
	EXPECT_EQ(before.pte_maps, after.pte_maps);
	EXPECT_GE(after.arena_bytes, 8 * MiB);
	amxrt_arena_close(a);
	EXPECT_EQ(0, amxrt_arena_destroy(name));
}

/*
 * A hugetlbfs arena made by root: another user may open and map it
 * read-only, but not write, seal or destroy it, nor create beside it.
 */
TEST(hugetlbfs_other_user)
{
	FIXTURE_DATA(arena) self_ = { .hp_old = -1 };
	char why[512] = "", name[AMXRT_ARENA_NAME_MAX + 1];
	struct amxrt_arena *a;
	pid_t pid;
	void *p;
	int st = 0;

	if (geteuid() != 0)
		SKIP(return, "not root: cannot mount a private hugetlbfs or "
			     "become another user");
	if (want_hugepages(&self_, why, sizeof(why)) ||
	    want_hugetlbfs(&self_, why, sizeof(why))) {
		if (self_.hp_old >= 0)
			test_write_long("/proc/sys/vm/nr_hugepages",
					self_.hp_old);
		SKIP(return, "hugetlbfs: %s", why);
	}
	ASSERT_EQ(0, amxrt_arena_set_backend(AMXRT_ARENA_HUGETLBFS));
	uname_of(name, sizeof(name), "other");
	ASSERT_EQ(0, amxrt_arena_create(name, 2 * MiB, -1, 0, &a));
	ASSERT_EQ(0, amxrt_arena_map(a, AMXRT_ARENA_MAP_WRITE, &p));
	fill(p, 2 * MiB, 42);
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		struct amxrt_arena *b, *c;
		int bad = 0;
		void *q;

		if (setgid(65534) || setuid(65534))
			_exit(100);
		/* a fresh choice as this user takes hugetlbfs too */
		if (amxrt_arena_set_backend(AMXRT_ARENA_HUGETLBFS))
			_exit(102);
		if (amxrt_arena_open(name, &b))
			_exit(101);
		bad |= amxrt_arena_map(b, AMXRT_ARENA_MAP_WRITE, &q) != -EACCES;
		bad |= (amxrt_arena_map(b, 0, &q) || !check(q, 2 * MiB, 42))
		       << 1;
		bad |= (amxrt_arena_seal(b) != -EPERM) << 2;
		bad |= (amxrt_arena_destroy(name) != -EACCES) << 3;
		bad |= (amxrt_arena_create("t-other-x", 2 * MiB, -1, 0, &c) !=
			-EACCES)
		       << 4;
		_exit(bad);
	}
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
	EXPECT_TRUE(WIFEXITED(st));
	EXPECT_EQ(0, WEXITSTATUS(st))
	TH_LOG("bits: 1 map write, 2 map read, 4 seal, 8 destroy, 16 create; "
	       "100 setuid, 101 open, 102 backend");
	amxrt_arena_close(a);
	EXPECT_EQ(0, amxrt_arena_destroy(name));
	umount2(self_.mnt, MNT_DETACH);
	rmdir(self_.mnt);
	if (self_.hp_old >= 0)
		test_write_long("/proc/sys/vm/nr_hugepages", self_.hp_old);
}

TEST(module_info)
{
	struct amxrt_module_info mi;
	int ret, i;

	memset(&mi, 0xcc, sizeof(mi));
	ret = amxrt_module_info(&mi);
	if (access("/dev/amxrt", F_OK)) {
		EXPECT_EQ(-ENOENT, ret);
		EXPECT_EQ(0, mi.loaded);
		EXPECT_NE(NULL, strstr(amxrt_errmsg(), "not loaded"));
		return;
	}
	ASSERT_EQ(0, ret) TH_LOG("%s", amxrt_errmsg());
	EXPECT_EQ(1, mi.loaded);
	EXPECT_EQ(1u, mi.abi_version);
	EXPECT_NE('\0', mi.version[0]);
	EXPECT_GE(mi.nr_nodes, 1);
	for (i = 0; i < mi.nr_nodes; i++)
		EXPECT_GT(mi.nodes[i].free_bytes, 0);
	EXPECT_GT(mi.arena_limit, 0);
	TH_LOG("module %s, ABI %u, %d nodes, tile perm %d, kernel tiles %d",
	       mi.version, mi.abi_version, mi.nr_nodes, mi.process_tile_perm,
	       mi.kernel_tile_state);
}

TEST_HARNESS_MAIN
