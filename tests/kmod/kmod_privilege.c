// SPDX-License-Identifier: MIT
/*
 * Description: who may do what with /dev/amxrt (runs in the
 * kmod-check VM, where /dev/amxrt is root's, mode 0664): a process that
 * dropped to nobody can ask INFO, LIST, OPEN and map read-only, and is
 * refused create, seal and destroy; one that may open the device for
 * writing (the "amxrt" group, here a 0666 node) may administer arenas
 * without CAP_SYS_ADMIN.
 */
#include <grp.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "kselftest_harness.h"
#include "kmod_helpers.h"

#define NOBODY 65534

static int drop_to_nobody(void)
{
	if (setgroups(0, NULL) || setgid(NOBODY) || setuid(NOBODY))
		return -1;
	return getuid() == NOBODY && geteuid() == NOBODY ? 0 : -1;
}

/* exit status: 0 all as expected, else the number of the failed step */
static int nobody_steps(void *arg)
{
	struct amxrt_arena_open o;
	struct amxrt_info in;
	unsigned char *p;
	int dev, fd;

	if (drop_to_nobody())
		return 1;
	if (dev_open(O_RDWR) != -1 || errno != EACCES)
		return 2; /* mode 0664: no write access */
	dev = dev_open(O_RDONLY);
	if (dev < 0)
		return 3;
	memset(&in, 0, sizeof(in));
	in.size = sizeof(in);
	if (ioc(dev, AMXRT_IOC_INFO, &in) || (in.flags & AMXRT_INFO_CAN_ADMIN))
		return 4;
	if (arena_create(dev, "priv-nobody", CHUNK, 0, 0, NULL) != -EPERM)
		return 5;
	if (arena_seal(dev, "priv-1") != -EPERM)
		return 6;
	if (arena_destroy(dev, "priv-1") != -EPERM)
		return 7;
	/* open by name: a read-only fd, mappable read-only */
	fd = arena_open(dev, "priv-1", 0, &o);
	if (fd < 0 || (fcntl(fd, F_GETFL) & O_ACCMODE) != O_RDONLY)
		return 8;
	p = mmap(NULL, CHUNK, PROT_READ, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED || p[100] != 0x77)
		return 9;
	if (mmap(NULL, CHUNK, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) !=
		    MAP_FAILED ||
	    errno != EACCES)
		return 10;
	if (arena_seal(fd, NULL) != -EPERM)
		return 11;
	munmap(p, CHUNK);
	close(fd);
	return 0;
}

TEST(nobody_is_refused_create_seal_destroy)
{
	unsigned char *p;
	int dev, fd, rc;

	dev = dev_open(O_RDWR);
	ASSERT_LE(0, dev);
	fd = arena_create(dev, "priv-1", CHUNK, 0, 0, NULL);
	ASSERT_LE(0, fd);
	p = mmap(NULL, CHUNK, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	p[100] = 0x77;
	munmap(p, CHUNK);
	close(fd);

	rc = in_child(nobody_steps, NULL);
	EXPECT_EQ(0, rc) TH_LOG("nobody: step %d went wrong", rc);
	/* nothing changed */
	EXPECT_EQ(-ENOENT, arena_destroy(dev, "priv-nobody"));
	EXPECT_EQ(0, arena_destroy(dev, "priv-1"));
	close(dev);
}

static int writer_steps(void *arg)
{
	int dev, fd;

	if (drop_to_nobody())
		return 1;
	dev = open((const char *)arg, O_RDWR | O_CLOEXEC);
	if (dev < 0)
		return 2;
	fd = arena_create(dev, "priv-writer", CHUNK, 0, 0, NULL);
	if (fd < 0)
		return 3;
	close(fd);
	if (arena_seal(dev, "priv-writer"))
		return 4;
	if (arena_destroy(dev, "priv-writer"))
		return 5;
	return 0;
}

/* Write access to the device node is the privilege (the amxrt group). */
TEST(device_writers_may_administer_without_cap_sys_admin)
{
	const char *node = "/tmp/amxrt-rw";
	struct stat st;
	int rc;

	ASSERT_EQ(0, stat(DEV, &st));
	unlink(node);
	ASSERT_EQ(0, mknod(node, S_IFCHR | 0666, st.st_rdev));
	ASSERT_EQ(0, chmod(node, 0666));
	rc = in_child(writer_steps, (void *)node);
	EXPECT_EQ(0, rc) TH_LOG("writer: step %d went wrong", rc);
	unlink(node);
}

TEST_HARNESS_MAIN
