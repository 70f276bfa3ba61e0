// SPDX-License-Identifier: MIT
/*
 * hold_arena.c - helper of guest-init.sh. "hold_arena FILE": create an
 * arena, map and touch it, create FILE, then wait for SIGTERM, so that
 * rmmod can be tried while an arena is mapped. "hold_arena --leave NAME
 * MIB": create an arena and exit, leaving it for rmmod to free.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/amxrt.h>

int main(int argc, char **argv)
{
	struct amxrt_arena_create c;
	struct amxrt_arena_ref r;
	char *p;
	int dev, fd;

	if (argc != 2 && !(argc == 4 && !strcmp(argv[1], "--leave")))
		return 2;
	dev = open("/dev/amxrt", O_RDWR | O_CLOEXEC);
	if (dev < 0) {
		perror("hold_arena: /dev/amxrt");
		return 1;
	}
	memset(&c, 0, sizeof(c));
	if (argc == 4) {
		c.size = sizeof(c);
		strncpy(c.name, argv[2], sizeof(c.name) - 1);
		c.bytes = strtoull(argv[3], NULL, 0) << 20;
		c.node = AMXRT_NODE_LOCAL;
		c.flags = AMXRT_ARENA_ANY_NODE;
		if (ioctl(dev, AMXRT_IOC_ARENA_CREATE, &c)) {
			perror("hold_arena: create");
			return 1;
		}
		return 0;
	}
	c.size = sizeof(c);
	strcpy(c.name, "hold");
	c.bytes = AMXRT_CHUNK_SIZE;
	c.node = AMXRT_NODE_LOCAL;
	if (ioctl(dev, AMXRT_IOC_ARENA_CREATE, &c)) {
		perror("hold_arena: create");
		return 1;
	}
	fd = c.fd;
	p = mmap(NULL, c.bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		perror("hold_arena: mmap");
		return 1;
	}
	p[0] = 1;
	close(open(argv[1], O_CREAT | O_WRONLY, 0644));
	/* destroy it on the way out so that rmmod's arena list is empty */
	signal(SIGTERM, SIG_IGN);
	{
		sigset_t set;
		int sig;

		sigemptyset(&set);
		sigaddset(&set, SIGTERM);
		sigprocmask(SIG_BLOCK, &set, NULL);
		signal(SIGTERM, SIG_DFL);
		sigwait(&set, &sig);
	}
	munmap(p, c.bytes);
	close(fd);
	memset(&r, 0, sizeof(r));
	r.size = sizeof(r);
	strcpy(r.name, "hold");
	if (ioctl(dev, AMXRT_IOC_ARENA_DESTROY, &r)) {
		perror("hold_arena: destroy");
		return 1;
	}
	return 0;
}
