// SPDX-License-Identifier: MIT
/*
 * Description: every /dev/amxrt ioctl with good and bad input (runs in
 * the kmod-check VM): INFO against what userspace sees itself, STATS,
 * CREATE, OPEN, SEAL, DESTROY, LIST, QUERY; wrong sizes, unknown flags,
 * reserved fields set, bad names, size 0, past the limit, bad node,
 * ENOMEM on a full node and the ANY_NODE fallback; debugfs.
 */
#include <cpuid.h>
#include <sched.h>
#include <sys/auxv.h>
#include <sys/syscall.h>

#include "kselftest_harness.h"
#include "kmod_helpers.h"

#define ARCH_GET_XCOMP_SUPP 0x1021
#define ARCH_GET_XCOMP_PERM 0x1022
#ifndef AT_MINSIGSTKSZ
#define AT_MINSIGSTKSZ 51
#endif

FIXTURE(dev)
{
	int dev;
};

FIXTURE_SETUP(dev)
{
	self->dev = -1;
	self->dev = dev_open(O_RDWR);
	ASSERT_LE(0, self->dev);
}

FIXTURE_TEARDOWN(dev)
{
	if (self->dev >= 0)
		close(self->dev);
}

static int info(int dev, struct amxrt_info *in)
{
	memset(in, 0, sizeof(*in));
	in->size = sizeof(*in);
	return ioc(dev, AMXRT_IOC_INFO, in);
}

static int node_count(void)
{
	char path[64];
	int n = 0;

	for (;;) {
		snprintf(path, sizeof(path), "/sys/devices/system/node/node%d",
			 n);
		if (access(path, F_OK))
			return n;
		n++;
	}
}

/* MemFree of a node in KiB from sysfs, or -1 */
static long node_memfree_kb(int node)
{
	char path[80], line[200];
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/devices/system/node/node%d/meminfo",
		 node);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char *s = strstr(line, "MemFree:");

		if (s) {
			v = strtol(s + 8, NULL, 10);
			break;
		}
	}
	fclose(f);
	return v;
}

/* ---- INFO ------------------------------------------------------------- */

TEST_F(dev, info_matches_what_userspace_sees)
{
	unsigned int a, b, c, d, max_leaf;
	unsigned long supp = 0, perm = 0;
	struct amxrt_info in;
	uint32_t amx = 0;
	int n;

	ASSERT_EQ(0, info(self->dev, &in));
	EXPECT_EQ(sizeof(in), in.size);
	EXPECT_EQ(AMXRT_ABI_VERSION, in.abi_version);
	EXPECT_EQ(0x000100, in.module_version); /* MODULE_VERSION 0.1.0 */

	/* CPUID, read here too */
	max_leaf = __get_cpuid_max(0, NULL);
	ASSERT_LE(7, max_leaf);
	__cpuid_count(7, 0, a, b, c, d);
	EXPECT_EQ(d, in.cpuid7_edx);
	if (d & (1U << 22))
		amx |= AMXRT_INFO_AMX_BF16;
	if (d & (1U << 24))
		amx |= AMXRT_INFO_AMX_TILE;
	if (d & (1U << 25))
		amx |= AMXRT_INFO_AMX_INT8;
	EXPECT_EQ(amx, in.cpu_amx);
	if ((amx & AMXRT_INFO_AMX_TILE) && max_leaf >= 0x1d) {
		__cpuid_count(0x1d, 0, a, b, c, d);
		EXPECT_EQ(a, in.palette_max);
		__cpuid_count(0x1d, 1, a, b, c, d);
		EXPECT_EQ(a & 0xffff, in.total_tile_bytes);
		EXPECT_EQ(b >> 16, in.max_names);
	} else {
		EXPECT_EQ(0, in.palette_max);
		EXPECT_EQ(0, in.bytes_per_tile);
		EXPECT_EQ(0, in.tmul_maxk);
	}

	/* the kernel's tile state and this process's permission */
	if (syscall(SYS_arch_prctl, ARCH_GET_XCOMP_SUPP, &supp))
		supp = 0;
	EXPECT_EQ(!!(supp & (1UL << 18)),
		  !!(in.flags & AMXRT_INFO_KERNEL_XTILE));
	ASSERT_EQ(0, syscall(SYS_arch_prctl, ARCH_GET_XCOMP_PERM, &perm));
	EXPECT_EQ(perm, in.xfeatures_perm);
	EXPECT_EQ(!!(perm & (1UL << 18)),
		  !!(in.flags & AMXRT_INFO_PROC_TILE_PERM));
	EXPECT_EQ(getauxval(AT_MINSIGSTKSZ), in.sigstack_min);
	EXPECT_EQ(!in.sigstack_min, !!(in.flags & AMXRT_INFO_SIGSTK_UNKNOWN));
	EXPECT_TRUE(in.flags & AMXRT_INFO_CAN_ADMIN);

	/* NUMA nodes against sysfs */
	n = node_count();
	EXPECT_EQ(n, in.nr_nodes);
	EXPECT_EQ((1ULL << n) - 1, in.nodes_online);
	for (int i = 0; i < n; i++) {
		long kb = node_memfree_kb(i);
		long got = (long)(in.node_free_bytes[i] >> 10);

		ASSERT_LT(0, kb);
		/* both read a moving number: within 16 MiB */
		EXPECT_GT(16 * 1024, labs(got - kb))
		TH_LOG("node %d: INFO %ld KiB, sysfs %ld KiB", i, got, kb);
		EXPECT_LT(0, in.node_free_chunks[i]);
		EXPECT_GE(in.node_free_bytes[i] / CHUNK,
			  in.node_free_chunks[i]);
	}
	for (int i = n; i < AMXRT_MAX_NODES; i++)
		EXPECT_EQ(0, in.node_free_bytes[i]);
}

TEST_F(dev, info_and_stats_bad_input)
{
	struct amxrt_stats st;
	struct amxrt_info in;
	char small[8] = { 0 };

	memset(&in, 0, sizeof(in));
	EXPECT_EQ(-EINVAL, ioc(self->dev, AMXRT_IOC_INFO, &in)); /* size 0 */
	in.size = sizeof(in) - 8;
	EXPECT_EQ(-EINVAL, ioc(self->dev, AMXRT_IOC_INFO, &in));
	in.size = sizeof(in) + 8;
	EXPECT_EQ(-EINVAL, ioc(self->dev, AMXRT_IOC_INFO, &in));
	in.size = sizeof(in);
	in.flags = 1;
	EXPECT_EQ(-EINVAL, ioc(self->dev, AMXRT_IOC_INFO, &in));
	in.flags = 0;
	in.reserved[7] = 1;
	EXPECT_EQ(-EINVAL, ioc(self->dev, AMXRT_IOC_INFO, &in));
	EXPECT_EQ(-EFAULT, ioc(self->dev, AMXRT_IOC_INFO, NULL));
	/* the same number with another struct size, and unknown numbers */
	EXPECT_EQ(-ENOTTY,
		  ioc(self->dev, _IOWR(AMXRT_IOC_MAGIC, 0x00, char[8]), small));
	EXPECT_EQ(-ENOTTY,
		  ioc(self->dev,
		      _IOWR(AMXRT_IOC_MAGIC, 0x7f, struct amxrt_info), &in));
	EXPECT_EQ(-ENOTTY, ioc(self->dev, _IO('x', 1), NULL));

	memset(&st, 0, sizeof(st));
	EXPECT_EQ(-EINVAL, ioc(self->dev, AMXRT_IOC_STATS, &st));
	st.size = sizeof(st);
	st.flags = 2;
	EXPECT_EQ(-EINVAL, ioc(self->dev, AMXRT_IOC_STATS, &st));
	st.flags = 0;
	st.reserved[0] = 1;
	EXPECT_EQ(-EINVAL, ioc(self->dev, AMXRT_IOC_STATS, &st));
	EXPECT_EQ(-EFAULT, ioc(self->dev, AMXRT_IOC_STATS, (void *)8));
}

TEST_F(dev, stats_follow_create_and_destroy)
{
	struct amxrt_stats a, b, c;
	int fd;

	ASSERT_EQ(0, get_stats(self->dev, &a));
	EXPECT_EQ(sizeof(a), a.size);
	EXPECT_LT(0, a.bytes_limit);
	fd = arena_create(self->dev, "stats-1", 6 * MiB, 0, 0, NULL);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, get_stats(self->dev, &b));
	EXPECT_EQ(a.arenas + 1, b.arenas);
	EXPECT_EQ(a.arenas_created + 1, b.arenas_created);
	EXPECT_EQ(a.bytes_allocated + 6 * MiB, b.bytes_allocated);
	ASSERT_EQ(0, arena_destroy(self->dev, "stats-1"));
	ASSERT_EQ(0, get_stats(self->dev, &c));
	EXPECT_EQ(a.arenas, c.arenas);
	EXPECT_EQ(a.arenas_destroyed + 1, c.arenas_destroyed);
	/* the open fd keeps the memory until it is closed */
	EXPECT_EQ(b.bytes_allocated, c.bytes_allocated);
	close(fd);
	ASSERT_EQ(0, get_stats(self->dev, &c));
	EXPECT_EQ(a.bytes_allocated, c.bytes_allocated);
}

/* ---- CREATE ----------------------------------------------------------- */

TEST_F(dev, create_rounds_up_and_reports)
{
	struct amxrt_arena_create c1, c2, c3;
	int fd1, fd2, fd3;

	fd1 = arena_create(self->dev, "create-1", 1, 0, 0, &c1);
	ASSERT_LE(0, fd1);
	EXPECT_EQ(CHUNK, c1.bytes);
	EXPECT_EQ(0, c1.node);
	EXPECT_EQ(1, c1.node_mask);
	EXPECT_NE(0, c1.id);
	EXPECT_EQ(O_RDWR, fcntl(fd1, F_GETFL) & O_ACCMODE);
	EXPECT_EQ(FD_CLOEXEC, fcntl(fd1, F_GETFD) & FD_CLOEXEC);

	fd2 = arena_create(self->dev, "create-2", 3 * MiB, AMXRT_NODE_LOCAL, 0,
			   &c2);
	ASSERT_LE(0, fd2);
	EXPECT_EQ(4 * MiB, c2.bytes);
	EXPECT_LT(c1.id, c2.id);
	EXPECT_EQ(1ULL << c2.node, c2.node_mask);

	/* names: 63 characters, every allowed byte class */
	fd3 = arena_create(
		self->dev,
		"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-_:+=@~!#$",
		CHUNK, 0, 0, &c3);
	ASSERT_LE(0, fd3) TH_LOG("63-character name: %s", strerror(-fd3));
	EXPECT_EQ(-EEXIST,
		  arena_create(self->dev, "create-1", CHUNK, 0, 0, NULL));
	EXPECT_EQ(0, arena_destroy(self->dev, c3.name));
	EXPECT_EQ(0, arena_destroy(self->dev, "create-1"));
	EXPECT_EQ(0, arena_destroy(self->dev, "create-2"));
	close(fd1);
	close(fd2);
	close(fd3);
}

static int create_local_pinned(void *arg)
{
	struct amxrt_arena_create c;
	unsigned int cpu, node;
	cpu_set_t set;
	int dev = *(int *)arg, fd;

	CPU_ZERO(&set);
	CPU_SET(1, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		return 1;
	if (syscall(SYS_getcpu, &cpu, &node, NULL) || cpu != 1)
		return 2;
	fd = arena_create(dev, "create-local", CHUNK, AMXRT_NODE_LOCAL, 0, &c);
	if (fd < 0)
		return 3;
	/* the node of the CPU the call ran on */
	if (c.node != node || c.node_mask != 1ULL << node)
		return 4;
	return arena_destroy(dev, "create-local") ? 5 : 0;
}

/* AMXRT_NODE_LOCAL on CPU 1 (node 1 in the VM) gives node 1. */
TEST_F(dev, create_on_the_local_node)
{
	int rc;

	if (node_count() < 2 || sysconf(_SC_NPROCESSORS_ONLN) < 2)
		SKIP(return, "needs 2 CPUs on 2 NUMA nodes (make kmod-check)");
	rc = in_child(create_local_pinned, &self->dev);
	EXPECT_EQ(0, rc) TH_LOG("step %d went wrong", rc);
}

TEST_F(dev, create_bad_input)
{
	struct amxrt_arena_create c;

#define BAD(field_setup, err)                                              \
	do {                                                               \
		create_req(&c, "create-bad", CHUNK, 0, 0);                 \
		field_setup;                                               \
		EXPECT_EQ(err, ioc(self->dev, AMXRT_IOC_ARENA_CREATE, &c)) \
		TH_LOG("%s", #field_setup);                                \
	} while (0)

	BAD(c.size = 0, -EINVAL);
	BAD(c.size = sizeof(c) - 8, -EINVAL);
	BAD(c.size = sizeof(c) + 8, -EINVAL);
	BAD(c.flags = 1U << 1, -EINVAL);
	BAD(c.flags = 1U << 31, -EINVAL);
	BAD(c.reserved[0] = 1, -EINVAL);
	BAD(c.reserved[3] = 1ULL << 63, -EINVAL);
	BAD(c.fd = 3, -EINVAL);
	BAD(c.id = 1, -EINVAL);
	BAD(c.node_mask = 1, -EINVAL);
	/* names */
	BAD(memset(c.name, 0, sizeof(c.name)), -EINVAL);
	BAD(memset(c.name, 'a', sizeof(c.name)), -EINVAL); /* unterminated */
	BAD(c.name[20] = 'x', -EINVAL); /* garbage after the NUL */
	BAD(c.name[2] = '/', -EINVAL);
	BAD(c.name[2] = ' ', -EINVAL);
	BAD(c.name[2] = '\n', -EINVAL);
	BAD(c.name[2] = (char)0x7f, -EINVAL);
	BAD(c.name[2] = (char)0xc3, -EINVAL);
	/* sizes and nodes */
	BAD(c.bytes = 0, -EINVAL);
	BAD(c.bytes = UINT64_MAX, -EFBIG);
	BAD(c.node = node_count(), -EINVAL);
	BAD(c.node = 64, -EINVAL);
	BAD(c.node = 0x7fffffff, -EINVAL);
	BAD(c.node = 0xfffffffe, -EINVAL);
	EXPECT_EQ(-EFAULT, ioc(self->dev, AMXRT_IOC_ARENA_CREATE, NULL));
	/* none of these created anything */
	EXPECT_EQ(-ENOENT, arena_destroy(self->dev, "create-bad"));
#undef BAD
}

/* max_total_mb: EFBIG alone past it, ENOSPC when others use it up */
TEST_F(dev, create_past_the_limits)
{
	long old_mb = param_get("max_total_mb");
	long old_n = param_get("max_arenas");
	struct amxrt_stats st;
	int fd1, fd2;

	ASSERT_LE(0, old_mb);
	ASSERT_LE(0, old_n);
	ASSERT_EQ(0, get_stats(self->dev, &st));
	ASSERT_EQ(0, param_set("max_total_mb", st.bytes_allocated / MiB + 8));
	EXPECT_EQ(-EFBIG,
		  arena_create(self->dev, "limit-1", 10 * MiB, 0, 0, NULL));
	fd1 = arena_create(self->dev, "limit-1", 6 * MiB, 0, 0, NULL);
	EXPECT_LE(0, fd1);
	EXPECT_EQ(-ENOSPC,
		  arena_create(self->dev, "limit-2", 4 * MiB, 0, 0, NULL));
	fd2 = arena_create(self->dev, "limit-2", 2 * MiB, 0, 0, NULL);
	EXPECT_LE(0, fd2);
	EXPECT_EQ(0, arena_destroy(self->dev, "limit-2"));
	close(fd2);

	/* max_arenas */
	ASSERT_EQ(0, param_set("max_total_mb", old_mb));
	ASSERT_EQ(0, get_stats(self->dev, &st));
	ASSERT_EQ(0, param_set("max_arenas", st.arenas + 1));
	fd2 = arena_create(self->dev, "limit-2", CHUNK, 0, 0, NULL);
	EXPECT_LE(0, fd2);
	EXPECT_EQ(-ENOSPC,
		  arena_create(self->dev, "limit-3", CHUNK, 0, 0, NULL));
	ASSERT_EQ(0, param_set("max_arenas", old_n));
	EXPECT_EQ(0, arena_destroy(self->dev, "limit-1"));
	EXPECT_EQ(0, arena_destroy(self->dev, "limit-2"));
	close(fd1);
	close(fd2);
}

/* A node that cannot give the chunks: ENOMEM, or other nodes' chunks
 * with AMXRT_ARENA_ANY_NODE. */
TEST_F(dev, create_on_a_full_node)
{
	long old_mb = param_get("max_total_mb");
	struct amxrt_stats before, after;
	struct amxrt_arena_create c;
	struct amxrt_info in;
	uint64_t bytes;
	int fd;

	if (node_count() < 2)
		SKIP(return, "one NUMA node: the VM has two (make kmod-check)");
	ASSERT_EQ(0, info(self->dev, &in));
	/* more than node 1 has, less than both have */
	bytes = (in.node_free_chunks[1] + 8) * CHUNK;
	ASSERT_GT(in.node_free_chunks[0], 24)
	TH_LOG("node 0 has %llu free chunks",
	       (unsigned long long)in.node_free_chunks[0]);
	ASSERT_EQ(0, param_set("max_total_mb", 1 << 20));
	ASSERT_EQ(0, get_stats(self->dev, &before));
	EXPECT_EQ(-ENOMEM,
		  arena_create(self->dev, "full-1", bytes, 1, 0, NULL));
	ASSERT_EQ(0, get_stats(self->dev, &after));
	EXPECT_EQ(before.alloc_failures + 1, after.alloc_failures);
	EXPECT_EQ(before.bytes_allocated, after.bytes_allocated);
	EXPECT_EQ(before.arenas, after.arenas);

	fd = arena_create(self->dev, "full-1", bytes, 1, AMXRT_ARENA_ANY_NODE,
			  &c);
	EXPECT_LE(0, fd) TH_LOG("ANY_NODE: %s", strerror(-fd));
	if (fd >= 0) {
		EXPECT_EQ(3, c.node_mask);
		EXPECT_EQ(1, c.node);
		EXPECT_EQ(0, arena_destroy(self->dev, "full-1"));
		close(fd);
	}
	ASSERT_EQ(0, param_set("max_total_mb", old_mb));
}

/* ---- OPEN, SEAL, DESTROY, QUERY ----------------------------------------- */

TEST_F(dev, open_reports_the_arena)
{
	struct amxrt_arena_create c;
	struct amxrt_arena_open o;
	struct amxrt_arena_entry e;
	int fd, fd2, fd3;

	fd = arena_create(self->dev, "open-1", 4 * MiB, 1, 0, &c);
	ASSERT_LE(0, fd);
	fd2 = arena_open(self->dev, "open-1", 0, &o);
	ASSERT_LE(0, fd2);
	EXPECT_EQ(fd2, (int)o.fd);
	EXPECT_STREQ("open-1", o.entry.name);
	EXPECT_EQ(c.id, o.entry.id);
	EXPECT_EQ(4 * MiB, o.entry.bytes);
	EXPECT_EQ(1, o.entry.node);
	EXPECT_EQ(c.node_mask, o.entry.node_mask);
	EXPECT_EQ(0, o.entry.state);
	EXPECT_EQ(2, o.entry.fds);
	EXPECT_EQ(O_RDWR, fcntl(fd2, F_GETFL) & O_ACCMODE);
	EXPECT_EQ(FD_CLOEXEC, fcntl(fd2, F_GETFD) & FD_CLOEXEC);
	fd3 = arena_open(self->dev, "open-1", AMXRT_OPEN_RDONLY, NULL);
	ASSERT_LE(0, fd3);
	EXPECT_EQ(O_RDONLY, fcntl(fd3, F_GETFL) & O_ACCMODE);
	ASSERT_EQ(0, arena_query(fd3, &e));
	EXPECT_EQ(3, e.fds);
	EXPECT_EQ(c.id, e.id);
	close(fd3);
	close(fd2);
	ASSERT_EQ(0, arena_query(fd, &e));
	EXPECT_EQ(1, e.fds);
	EXPECT_EQ(0, arena_destroy(self->dev, "open-1"));
	close(fd);
}

TEST_F(dev, open_seal_destroy_bad_input)
{
	struct amxrt_arena_open o;
	struct amxrt_arena_ref r;
	int fd;

	fd = arena_create(self->dev, "ref-1", CHUNK, 0, 0, NULL);
	ASSERT_LE(0, fd);

#define BAD_OPEN(setup, err)                                             \
	do {                                                             \
		memset(&o, 0, sizeof(o));                                \
		o.size = sizeof(o);                                      \
		strcpy(o.name, "ref-1");                                 \
		setup;                                                   \
		EXPECT_EQ(err, ioc(self->dev, AMXRT_IOC_ARENA_OPEN, &o)) \
		TH_LOG("%s", #setup);                                    \
	} while (0)
	BAD_OPEN((void)0, 0);
	close(o.fd);
	BAD_OPEN(o.size = 8, -EINVAL);
	BAD_OPEN(o.flags = 1U << 1, -EINVAL);
	BAD_OPEN(o.fd = 1, -EINVAL);
	BAD_OPEN(o.pad = 1, -EINVAL);
	BAD_OPEN(o.reserved[2] = 1, -EINVAL);
	BAD_OPEN(o.entry.id = 1, -EINVAL);
	BAD_OPEN(memset(o.name, 0, sizeof(o.name)), -EINVAL);
	BAD_OPEN(memset(o.name, 'r', sizeof(o.name)), -EINVAL);
	BAD_OPEN(o.name[40] = 'x', -EINVAL);
	BAD_OPEN(strcpy(o.name, "ref-2"), -ENOENT);
#undef BAD_OPEN

#define BAD_REF(cmd, setup, err)                        \
	do {                                            \
		ref_req(&r, "ref-1");                   \
		setup;                                  \
		EXPECT_EQ(err, ioc(self->dev, cmd, &r)) \
		TH_LOG("%s %s", #cmd, #setup);          \
	} while (0)
	for (int i = 0; i < 2; i++) {
		unsigned long cmd = i ? AMXRT_IOC_ARENA_DESTROY :
					AMXRT_IOC_ARENA_SEAL;

		BAD_REF(cmd, r.size = 0, -EINVAL);
		BAD_REF(cmd, r.size = sizeof(r) + 8, -EINVAL);
		BAD_REF(cmd, r.flags = 1, -EINVAL);
		BAD_REF(cmd, r.reserved[1] = 1, -EINVAL);
		BAD_REF(cmd, memset(r.name, 0, sizeof(r.name)), -EINVAL);
		BAD_REF(cmd, memset(r.name, 'r', sizeof(r.name)), -EINVAL);
		BAD_REF(cmd, r.name[63] = 'x', -EINVAL);
		BAD_REF(cmd, strcpy(r.name, "ref-2"), -ENOENT);
		EXPECT_EQ(-EFAULT, ioc(self->dev, cmd, NULL));
	}
	/* on an arena fd: the name must be empty or its own */
	EXPECT_EQ(-EINVAL, arena_seal(fd, "ref-2"));
	EXPECT_EQ(0, arena_seal(fd, "ref-1"));
	BAD_REF(AMXRT_IOC_ARENA_DESTROY, (void)0, 0);
	EXPECT_EQ(-ENOENT, arena_destroy(self->dev, "ref-1"));
#undef BAD_REF
	close(fd);
}

TEST_F(dev, arena_fd_ioctls)
{
	struct amxrt_arena_query q;
	struct amxrt_arena_entry e;
	struct amxrt_info in;
	int fd;

	fd = arena_create(self->dev, "fd-1", CHUNK, 0, 0, NULL);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, arena_query(fd, &e));
	EXPECT_STREQ("fd-1", e.name);
	EXPECT_EQ(CHUNK, e.bytes);
	memset(&q, 0, sizeof(q));
	EXPECT_EQ(-EINVAL, ioc(fd, AMXRT_IOC_ARENA_QUERY, &q));
	q.size = sizeof(q);
	q.flags = 1;
	EXPECT_EQ(-EINVAL, ioc(fd, AMXRT_IOC_ARENA_QUERY, &q));
	q.flags = 0;
	q.entry.maps = 1;
	EXPECT_EQ(-EINVAL, ioc(fd, AMXRT_IOC_ARENA_QUERY, &q));
	q.entry.maps = 0;
	q.reserved[3] = 1;
	EXPECT_EQ(-EINVAL, ioc(fd, AMXRT_IOC_ARENA_QUERY, &q));
	/* device commands on an arena fd and the other way round */
	EXPECT_EQ(-ENOTTY, info(fd, &in));
	memset(&q, 0, sizeof(q));
	q.size = sizeof(q);
	EXPECT_EQ(-ENOTTY, ioc(self->dev, AMXRT_IOC_ARENA_QUERY, &q));
	/* an arena fd cannot be read, written or grown */
	EXPECT_EQ(-1, read(fd, &q, 8));
	EXPECT_EQ(-1, write(fd, &q, 8));
	EXPECT_EQ(-1, ftruncate(fd, 4 * MiB));
	EXPECT_EQ(0, arena_destroy(self->dev, "fd-1"));
	close(fd);
}

/* ---- LIST ------------------------------------------------------------- */

static int list(int dev, struct amxrt_arena_entry *buf, uint32_t count,
		struct amxrt_arena_list *l)
{
	memset(l, 0, sizeof(*l));
	l->size = sizeof(*l);
	l->entry_size = sizeof(*buf);
	l->count = count;
	l->entries = (uintptr_t)buf;
	return ioc(dev, AMXRT_IOC_ARENA_LIST, l);
}

TEST_F(dev, list_entries)
{
	struct amxrt_arena_entry buf[64];
	struct amxrt_arena_list l;
	struct amxrt_arena_create c[3];
	char name[16];
	int fd[3], found = 0;

	for (int i = 0; i < 3; i++) {
		snprintf(name, sizeof(name), "list-%d", i);
		fd[i] = arena_create(self->dev, name, (i + 1) * CHUNK, i % 2, 0,
				     &c[i]);
		ASSERT_LE(0, fd[i]);
	}
	ASSERT_EQ(0, arena_seal(self->dev, "list-1"));
	ASSERT_EQ(0, list(self->dev, NULL, 0, &l));
	EXPECT_EQ(0, l.count);
	EXPECT_LE(3, l.total);
	ASSERT_EQ(0, list(self->dev, buf, 2, &l));
	EXPECT_EQ(2, l.count);
	ASSERT_EQ(0, list(self->dev, buf, 64, &l));
	EXPECT_EQ(l.total, l.count);
	for (uint32_t i = 0; i < l.count; i++) {
		if (i)
			EXPECT_LT(buf[i - 1].id, buf[i].id);
		for (int j = 0; j < 3; j++) {
			if (buf[i].id != c[j].id)
				continue;
			found++;
			EXPECT_STREQ(c[j].name, buf[i].name);
			EXPECT_EQ(c[j].bytes, buf[i].bytes);
			EXPECT_EQ(c[j].node, buf[i].node);
			EXPECT_EQ(j == 1 ? AMXRT_ARENA_SEALED : 0,
				  buf[i].state);
			EXPECT_EQ(1, buf[i].fds);
		}
	}
	EXPECT_EQ(3, found);

	/* bad input: one field wrong at a time */
#define BAD_LIST(setup, err)                                             \
	do {                                                             \
		memset(&l, 0, sizeof(l));                                \
		l.size = sizeof(l);                                      \
		l.entry_size = sizeof(buf[0]);                           \
		l.count = 4;                                             \
		l.entries = (uintptr_t)buf;                              \
		setup;                                                   \
		EXPECT_EQ(err, ioc(self->dev, AMXRT_IOC_ARENA_LIST, &l)) \
		TH_LOG("%s", #setup);                                    \
	} while (0)
	BAD_LIST((void)0, 0);
	BAD_LIST(l.size = 0, -EINVAL);
	BAD_LIST(l.size = sizeof(l) + 8, -EINVAL);
	BAD_LIST(l.flags = 4, -EINVAL);
	BAD_LIST(l.entry_size = sizeof(buf[0]) - 8, -EINVAL);
	BAD_LIST(l.entry_size = 0, -EINVAL);
	BAD_LIST(l.total = 1, -EINVAL); /* output only */
	BAD_LIST(l.pad = 1, -EINVAL);
	BAD_LIST(l.reserved[0] = 1, -EINVAL);
	BAD_LIST(l.entries = 0, -EINVAL);
	BAD_LIST(l.entries = 8, -EFAULT);
	EXPECT_EQ(-EFAULT, ioc(self->dev, AMXRT_IOC_ARENA_LIST, NULL));
#undef BAD_LIST

	for (int i = 0; i < 3; i++) {
		snprintf(name, sizeof(name), "list-%d", i);
		EXPECT_EQ(0, arena_destroy(self->dev, name));
		close(fd[i]);
	}
}

/* ---- debugfs ------------------------------------------------------------ */

static int file_has(const char *path, const char *text)
{
	char line[512];
	int found = 0;
	FILE *f = fopen(path, "r");

	if (!f)
		return -1;
	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, text) != NULL;
	fclose(f);
	return found;
}

TEST_F(dev, debugfs_shows_arenas_and_counters)
{
	const char *arenas = "/sys/kernel/debug/amxrt/arenas";
	struct amxrt_arena_create c;
	char line[160];
	void *p;
	int fd;

	if (access(arenas, R_OK))
		SKIP(return, "no %s (debugfs not mounted)", arenas);
	fd = arena_create(self->dev, "dbg-1", 2 * CHUNK, 1, 0, &c);
	ASSERT_LE(0, fd);
	p = mmap(NULL, 2 * CHUNK, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	/* id name bytes node node_mask sealed maps writable_maps fds */
	snprintf(line, sizeof(line), "%llu dbg-1 %llu 1 0x2 0 1 1 1",
		 (unsigned long long)c.id, 2 * CHUNK);
	EXPECT_EQ(1, file_has(arenas, line)) TH_LOG("looked for '%s'", line);
	EXPECT_EQ(1, file_has("/sys/kernel/debug/amxrt/stats", "pmd_maps "));
	munmap(p, 2 * CHUNK);
	EXPECT_EQ(0, arena_seal(self->dev, "dbg-1"));
	snprintf(line, sizeof(line), "%llu dbg-1 %llu 1 0x2 1 0 0 1",
		 (unsigned long long)c.id, 2 * CHUNK);
	EXPECT_EQ(1, file_has(arenas, line)) TH_LOG("looked for '%s'", line);
	EXPECT_EQ(0, arena_destroy(self->dev, "dbg-1"));
	EXPECT_EQ(0, file_has(arenas, " dbg-1 "));
	close(fd);
}

TEST_HARNESS_MAIN
