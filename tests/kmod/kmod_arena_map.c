// SPDX-License-Identifier: MIT
/*
 * Description: amxrt.ko arena mappings (runs in the kmod-check VM):
 * 2 MiB and 4 KiB entries and their counters, windows past the end, seal
 * against writable mappings, SIGSEGV on a sealed arena, destroy while
 * mapped, persistence after the creator exits, two processes sharing
 * bytes, placement on node 1 checked with move_pages.
 */
#include <signal.h>
#include <sys/syscall.h>

#include "kselftest_harness.h"
#include "kmod_helpers.h"

FIXTURE(arena)
{
	int dev;
	const char *name;
};

FIXTURE_SETUP(arena)
{
	self->dev = -1;
	self->name = NULL;
	self->dev = dev_open(O_RDWR);
	ASSERT_LE(0, self->dev);
}

FIXTURE_TEARDOWN(arena)
{
	if (self->name)
		arena_destroy(self->dev, self->name);
	if (self->dev >= 0)
		close(self->dev);
}

static void fill(unsigned char *p, size_t n, unsigned int seed)
{
	size_t i;

	for (i = 0; i < n; i += 512)
		p[i] = (unsigned char)(i / 512 * 131 + seed);
}

static int check(const unsigned char *p, size_t n, unsigned int seed)
{
	size_t i;

	for (i = 0; i < n; i += 512)
		if (p[i] != (unsigned char)(i / 512 * 131 + seed))
			return -1;
	return 0;
}

/* A 2 MiB-aligned mapping is made of 2 MiB entries: pmd_maps grows. */
TEST_F(arena, pmd_entries_on_aligned_mapping)
{
	struct amxrt_stats before, after;
	unsigned char *p;
	int fd;

	self->name = "map-pmd";
	fd = arena_create(self->dev, self->name, 4 * MiB, 0, 0, NULL);
	ASSERT_LE(0, fd);
	p = mmap(NULL, 4 * MiB, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	/* get_unmapped_area gave a 2 MiB-aligned address */
	ASSERT_EQ(0, (uintptr_t)p % CHUNK);
	ASSERT_EQ(0, get_stats(self->dev, &before));
	p[0] = 1;
	p[CHUNK + 4096] = 2;
	ASSERT_EQ(0, get_stats(self->dev, &after));
	EXPECT_EQ(before.pmd_maps + 2, after.pmd_maps);
	EXPECT_EQ(before.pte_maps, after.pte_maps);
	EXPECT_LE(before.faults + 2, after.faults);
	/* the rest of each chunk needs no further fault */
	fill(p, 4 * MiB, 7);
	ASSERT_EQ(0, get_stats(self->dev, &before));
	EXPECT_EQ(after.pmd_maps, before.pmd_maps);
	EXPECT_EQ(0, check(p, 4 * MiB, 7));
	munmap(p, 4 * MiB);
	close(fd);
}

/* A mapping that is not 2 MiB aligned falls back to 4 KiB entries. */
TEST_F(arena, pte_entries_on_unaligned_mapping)
{
	struct amxrt_stats before, after;
	unsigned char *res, *p, *q;
	uintptr_t at;
	int fd;

	self->name = "map-pte";
	fd = arena_create(self->dev, self->name, 2 * MiB, 0, 0, NULL);
	ASSERT_LE(0, fd);
	res = mmap(NULL, 6 * MiB, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
		   0);
	ASSERT_NE(MAP_FAILED, res);
	at = ((uintptr_t)res + CHUNK - 1) / CHUNK * CHUNK + 4096;
	p = mmap((void *)at, 2 * MiB, PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_FIXED, fd, 0);
	ASSERT_EQ((void *)at, p);
	ASSERT_EQ(0, get_stats(self->dev, &before));
	p[0] = 0x5a;
	p[4096] = 0xa5;
	ASSERT_EQ(0, get_stats(self->dev, &after));
	EXPECT_EQ(before.pmd_maps, after.pmd_maps);
	EXPECT_EQ(before.pte_maps + 2, after.pte_maps);
	/* the same bytes through an aligned mapping */
	q = mmap(NULL, 2 * MiB, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, q);
	EXPECT_EQ(0x5a, q[0]);
	EXPECT_EQ(0xa5, q[4096]);
	munmap(q, 2 * MiB);
	munmap(res, 6 * MiB);
	close(fd);
}

/* Windows past the end, bad offsets and private writable maps fail. */
TEST_F(arena, mmap_bad_windows)
{
	unsigned char *p, *q;
	int fd;

	self->name = "map-bad";
	fd = arena_create(self->dev, self->name, 4 * MiB, 0, 0, NULL);
	ASSERT_LE(0, fd);
	/* longer than the arena */
	p = mmap(NULL, 6 * MiB, PROT_READ, MAP_SHARED, fd, 0);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
	/* offset at the end, and window running past it */
	p = mmap(NULL, 2 * MiB, PROT_READ, MAP_SHARED, fd, 4 * MiB);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
	p = mmap(NULL, 2 * MiB, PROT_READ, MAP_SHARED, fd, 2 * MiB + 4096);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
	/* offset not a page multiple */
	p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 100);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
	/* private and writable */
	p = mmap(NULL, 2 * MiB, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
	/* a window at a 2 MiB offset shows the second chunk */
	p = mmap(NULL, 4 * MiB, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	p[2 * MiB + 12] = 0x3c;
	q = mmap(NULL, 2 * MiB, PROT_READ, MAP_SHARED, fd, 2 * MiB);
	ASSERT_NE(MAP_FAILED, q);
	EXPECT_EQ(0x3c, q[12]);
	munmap(q, 2 * MiB);
	/* private read-only works, and can never become writable */
	q = mmap(NULL, 2 * MiB, PROT_READ, MAP_PRIVATE, fd, 0);
	ASSERT_NE(MAP_FAILED, q);
	EXPECT_EQ(-1, mprotect(q, 2 * MiB, PROT_READ | PROT_WRITE));
	EXPECT_EQ(EACCES, errno);
	munmap(q, 2 * MiB);
	munmap(p, 4 * MiB);
	close(fd);
}

static int write_first_byte(void *arg)
{
	*(volatile unsigned char *)arg = 1;
	return 0;
}

/* After seal: no writable mapping, no mprotect to write, writes fault. */
TEST_F(arena, seal_makes_read_only)
{
	struct amxrt_arena_entry e;
	unsigned char *p;
	int fd, ro;

	self->name = "map-seal";
	fd = arena_create(self->dev, self->name, 2 * MiB, 0, 0, NULL);
	ASSERT_LE(0, fd);
	p = mmap(NULL, 2 * MiB, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	fill(p, 2 * MiB, 3);
	/* refused while a writable mapping exists */
	EXPECT_EQ(-EBUSY, arena_seal(self->dev, self->name));
	ASSERT_EQ(0, munmap(p, 2 * MiB));
	/* through the arena fd, with an empty name */
	ASSERT_EQ(0, arena_seal(fd, NULL));
	EXPECT_EQ(0, arena_seal(self->dev, self->name)); /* twice is fine */
	ASSERT_EQ(0, arena_query(fd, &e));
	EXPECT_EQ(AMXRT_ARENA_SEALED, e.state);

	p = mmap(NULL, 2 * MiB, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EPERM, errno);
	p = mmap(NULL, 2 * MiB, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(0, check(p, 2 * MiB, 3));
	EXPECT_EQ(-1, mprotect(p, 2 * MiB, PROT_READ | PROT_WRITE));
	EXPECT_EQ(EACCES, errno);
	/* a write faults: SIGSEGV */
	EXPECT_EQ(128 + SIGSEGV, in_child(write_first_byte, p));
	EXPECT_EQ(0, check(p, 2 * MiB, 3));
	munmap(p, 2 * MiB);

	/* a new fd for a sealed arena is read-only */
	ro = arena_open(self->dev, self->name, 0, NULL);
	ASSERT_LE(0, ro);
	EXPECT_EQ(O_RDONLY, fcntl(ro, F_GETFL) & O_ACCMODE);
	EXPECT_EQ(FD_CLOEXEC, fcntl(ro, F_GETFD) & FD_CLOEXEC);
	p = mmap(NULL, 2 * MiB, PROT_READ | PROT_WRITE, MAP_SHARED, ro, 0);
	EXPECT_EQ(MAP_FAILED, p);
	close(ro);
	close(fd);
}

/* Read-only mappings from a read-only fd do not keep seal away. */
TEST_F(arena, read_only_map_does_not_block_seal)
{
	struct amxrt_arena_entry e;
	unsigned char *p;
	int fd, ro;

	self->name = "map-ro";
	fd = arena_create(self->dev, self->name, 2 * MiB, 0, 0, NULL);
	ASSERT_LE(0, fd);
	ro = arena_open(self->dev, self->name, AMXRT_OPEN_RDONLY, NULL);
	ASSERT_LE(0, ro);
	EXPECT_EQ(O_RDONLY, fcntl(ro, F_GETFL) & O_ACCMODE);
	p = mmap(NULL, 2 * MiB, PROT_READ, MAP_SHARED, ro, 0);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, arena_query(ro, &e));
	EXPECT_EQ(1, e.maps);
	EXPECT_EQ(0, e.writable_maps);
	EXPECT_EQ(2, e.fds);
	EXPECT_EQ(0, arena_seal(self->dev, self->name));
	munmap(p, 2 * MiB);
	close(ro);
	close(fd);
}

/* Destroy: refused while mapped; then the name is free, fds cannot map. */
TEST_F(arena, destroy_refused_while_mapped)
{
	struct amxrt_arena_entry e;
	unsigned char *p;
	int fd, fd2;

	fd = arena_create(self->dev, "map-destroy", 2 * MiB, 0, 0, NULL);
	ASSERT_LE(0, fd);
	p = mmap(NULL, 2 * MiB, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(-EBUSY, arena_destroy(self->dev, "map-destroy"));
	/* a fork's copy of the mapping counts as well */
	ASSERT_EQ(0, arena_query(fd, &e));
	EXPECT_EQ(1, e.maps);
	munmap(p, 2 * MiB);
	ASSERT_EQ(0, arena_destroy(self->dev, "map-destroy"));
	ASSERT_EQ(0, arena_query(fd, &e));
	EXPECT_EQ(AMXRT_ARENA_DESTROYED, e.state);
	p = mmap(NULL, 2 * MiB, PROT_READ, MAP_SHARED, fd, 0);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EIDRM, errno);
	EXPECT_EQ(-ENOENT, arena_open(self->dev, "map-destroy", 0, NULL));
	/* the name can be used again at once */
	fd2 = arena_create(self->dev, "map-destroy", 2 * MiB, 0, 0, NULL);
	ASSERT_LE(0, fd2);
	close(fd2);
	EXPECT_EQ(0, arena_destroy(self->dev, "map-destroy"));
	close(fd);
}

static int create_fill_exit(void *arg)
{
	unsigned char *p;
	int dev, fd;

	dev = dev_open(O_RDWR);
	if (dev < 0)
		return 10;
	fd = arena_create(dev, (const char *)arg, 4 * MiB, 0, 0, NULL);
	if (fd < 0)
		return 11;
	p = mmap(NULL, 4 * MiB, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return 12;
	fill(p, 4 * MiB, 99);
	return 0; /* exits without closing or unmapping */
}

/* An arena outlives the process that created and filled it. */
TEST_F(arena, persists_after_creator_exits)
{
	struct amxrt_arena_open o;
	unsigned char *p;
	int fd;

	self->name = "map-persist";
	ASSERT_EQ(0, in_child(create_fill_exit, (void *)self->name));
	fd = arena_open(self->dev, self->name, 0, &o);
	ASSERT_LE(0, fd);
	EXPECT_EQ(4 * MiB, o.entry.bytes);
	EXPECT_EQ(0, o.entry.maps);
	EXPECT_EQ(1, o.entry.fds);
	p = mmap(NULL, 4 * MiB, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(0, check(p, 4 * MiB, 99));
	munmap(p, 4 * MiB);
	close(fd);
}

static int open_write(void *arg)
{
	unsigned char *p;
	int dev, fd;

	dev = dev_open(O_RDWR);
	fd = arena_open(dev, "map-share", 0, NULL);
	if (fd < 0)
		return 10;
	p = mmap(NULL, 2 * MiB, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return 11;
	if (check(p, 2 * MiB, 21)) /* sees the parent's bytes */
		return 12;
	fill(p + 1, 2 * MiB - 512, 42);
	return 0;
}

/* Two processes mapping one arena see each other's bytes. */
TEST_F(arena, two_processes_share_bytes)
{
	unsigned char *p;
	int fd;

	self->name = "map-share";
	fd = arena_create(self->dev, self->name, 2 * MiB, 1, 0, NULL);
	ASSERT_LE(0, fd);
	p = mmap(NULL, 2 * MiB, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	fill(p, 2 * MiB, 21);
	ASSERT_EQ(0, in_child(open_write, NULL));
	EXPECT_EQ(0, check(p + 1, 2 * MiB - 512, 42));
	munmap(p, 2 * MiB);
	close(fd);
}

struct fork_arg {
	unsigned char *p;
	int fd;
};

static int child_reads_and_counts(void *arg)
{
	struct fork_arg *a = arg;
	struct amxrt_arena_entry e;

	if (check(a->p, 4 * MiB, 5))
		return 1;
	if (arena_query(a->fd, &e) || e.maps != 2 || e.writable_maps != 2)
		return 2; /* the fork's copy of the VMA counts */
	return 0;
}

/* A forked child inherits the mapping; /proc/PID/maps names it. */
TEST_F(arena, fork_inherits_mapping)
{
	struct amxrt_arena_entry e;
	struct fork_arg a;
	char line[512];
	FILE *maps;
	int found = 0;

	self->name = "map-fork";
	a.fd = arena_create(self->dev, self->name, 4 * MiB, 0, 0, NULL);
	ASSERT_LE(0, a.fd);
	a.p = mmap(NULL, 4 * MiB, PROT_READ | PROT_WRITE, MAP_SHARED, a.fd, 0);
	ASSERT_NE(MAP_FAILED, a.p);
	fill(a.p, 4 * MiB, 5);
	EXPECT_EQ(0, in_child(child_reads_and_counts, &a));
	ASSERT_EQ(0, arena_query(a.fd, &e));
	EXPECT_EQ(1, e.maps);
	maps = fopen("/proc/self/maps", "r");
	ASSERT_NE(NULL, maps);
	while (fgets(line, sizeof(line), maps))
		if (strstr(line, "/amxrt:map-fork"))
			found++;
	fclose(maps);
	EXPECT_EQ(1, found);
	/* mprotect of one half splits the VMA: two counted, still writable */
	ASSERT_EQ(0, mprotect(a.p, 2 * MiB, PROT_READ));
	ASSERT_EQ(0, arena_query(a.fd, &e));
	EXPECT_EQ(2, e.maps);
	EXPECT_EQ(2, e.writable_maps);
	EXPECT_EQ(0, check(a.p, 4 * MiB, 5));
	ASSERT_EQ(0, munmap(a.p, 2 * MiB));
	ASSERT_EQ(0, arena_query(a.fd, &e));
	EXPECT_EQ(1, e.maps);
	ASSERT_EQ(0, munmap(a.p + 2 * MiB, 2 * MiB));
	ASSERT_EQ(0, arena_query(a.fd, &e));
	EXPECT_EQ(0, e.maps);
	EXPECT_EQ(0, e.writable_maps);
	close(a.fd);
}

static int nodes_online(void)
{
	int n = 0;
	char path[64];

	for (;;) {
		snprintf(path, sizeof(path), "/sys/devices/system/node/node%d",
			 n);
		if (access(path, F_OK))
			return n;
		n++;
	}
}

/* The pages of an arena created on node N are on node N (move_pages). */
TEST_F(arena, placement_checked_with_move_pages)
{
	struct amxrt_arena_create c;
	unsigned char *p;
	void *pages[4];
	int status[4];
	int node, fd, i;

	if (nodes_online() < 2)
		SKIP(return, "one NUMA node: the VM has two (make kmod-check)");
	for (node = 1; node >= 0; node--) {
		fd = arena_create(self->dev, "map-node", 4 * MiB, node, 0, &c);
		ASSERT_LE(0, fd);
		EXPECT_EQ(1ULL << node, c.node_mask);
		EXPECT_EQ(node, c.node);
		p = mmap(NULL, 4 * MiB, PROT_READ, MAP_SHARED, fd, 0);
		ASSERT_NE(MAP_FAILED, p);
		for (i = 0; i < 4; i++) {
			pages[i] = p + i * (MiB + 4096);
			(void)*(volatile unsigned char *)pages[i];
			status[i] = -1000;
		}
		/* query only (nodes NULL): status is each page's node */
		ASSERT_EQ(0, syscall(SYS_move_pages, 0, 4, pages, NULL, status,
				     0));
		for (i = 0; i < 4; i++)
			EXPECT_EQ(node, status[i]);
		munmap(p, 4 * MiB);
		close(fd);
		ASSERT_EQ(0, arena_destroy(self->dev, "map-node"));
	}
}

TEST_HARNESS_MAIN
