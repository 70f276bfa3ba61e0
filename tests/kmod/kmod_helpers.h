/* SPDX-License-Identifier: MIT */
/*
 * kmod_helpers.h - what the in-guest amxrt.ko tests share: /dev/amxrt
 * ioctl wrappers returning fd, 0 or -errno, module parameters, MemFree.
 */
#ifndef KMOD_HELPERS_H
#define KMOD_HELPERS_H

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/amxrt.h>

#define MiB (1ULL << 20)
#define CHUNK AMXRT_CHUNK_SIZE
#define DEV "/dev/amxrt"

static inline int dev_open(int flags)
{
	return open(DEV, flags | O_CLOEXEC);
}

/* name into a fixed array, NUL-padded (longer names are cut) */
static inline void set_name(char *dst, const char *name)
{
	size_t n = strlen(name);

	if (n > AMXRT_NAME_MAX - 1)
		n = AMXRT_NAME_MAX - 1;
	memset(dst, 0, AMXRT_NAME_MAX);
	memcpy(dst, name, n);
}

static inline int ioc(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) ? -errno : 0;
}

static inline void create_req(struct amxrt_arena_create *c, const char *name,
			      uint64_t bytes, uint32_t node, uint32_t flags)
{
	memset(c, 0, sizeof(*c));
	c->size = sizeof(*c);
	c->flags = flags;
	set_name(c->name, name);
	c->bytes = bytes;
	c->node = node;
}

/* fd of a new arena, or -errno */
static inline int arena_create(int dev, const char *name, uint64_t bytes,
			       uint32_t node, uint32_t flags,
			       struct amxrt_arena_create *out)
{
	struct amxrt_arena_create c;
	int err;

	create_req(&c, name, bytes, node, flags);
	err = ioc(dev, AMXRT_IOC_ARENA_CREATE, &c);
	if (out)
		*out = c;
	return err ? err : (int)c.fd;
}

static inline void ref_req(struct amxrt_arena_ref *r, const char *name)
{
	memset(r, 0, sizeof(*r));
	r->size = sizeof(*r);
	if (name)
		set_name(r->name, name);
}

static inline int arena_seal(int fd, const char *name)
{
	struct amxrt_arena_ref r;

	ref_req(&r, name);
	return ioc(fd, AMXRT_IOC_ARENA_SEAL, &r);
}

static inline int arena_destroy(int dev, const char *name)
{
	struct amxrt_arena_ref r;

	ref_req(&r, name);
	return ioc(dev, AMXRT_IOC_ARENA_DESTROY, &r);
}

/* fd of the named arena, or -errno */
static inline int arena_open(int dev, const char *name, uint32_t flags,
			     struct amxrt_arena_open *out)
{
	struct amxrt_arena_open o;
	int err;

	memset(&o, 0, sizeof(o));
	o.size = sizeof(o);
	o.flags = flags;
	set_name(o.name, name);
	err = ioc(dev, AMXRT_IOC_ARENA_OPEN, &o);
	if (out)
		*out = o;
	return err ? err : (int)o.fd;
}

static inline int arena_query(int fd, struct amxrt_arena_entry *e)
{
	struct amxrt_arena_query q;
	int err;

	memset(&q, 0, sizeof(q));
	q.size = sizeof(q);
	err = ioc(fd, AMXRT_IOC_ARENA_QUERY, &q);
	*e = q.entry;
	return err;
}

static inline int get_stats(int dev, struct amxrt_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->size = sizeof(*st);
	return ioc(dev, AMXRT_IOC_STATS, st);
}

/* a module parameter, or -1 */
static inline long param_get(const char *name)
{
	char path[128];
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/module/amxrt/parameters/%s", name);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (fscanf(f, "%ld", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

static inline int param_set(const char *name, long v)
{
	char path[128];
	FILE *f;
	int err;

	snprintf(path, sizeof(path), "/sys/module/amxrt/parameters/%s", name);
	f = fopen(path, "w");
	if (!f)
		return -errno;
	fprintf(f, "%ld\n", v);
	err = fclose(f) ? -errno : 0;
	return err;
}

/* a /proc/meminfo value in KiB, or -1 */
static inline long meminfo_kb(const char *key)
{
	char line[256];
	size_t n = strlen(key);
	long v = -1;
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, n) && line[n] == ':') {
			v = strtol(line + n + 1, NULL, 10);
			break;
		}
	fclose(f);
	return v;
}

/* Run fn in a child; its exit status, or 128 + signal. */
static inline int in_child(int (*fn)(void *), void *arg)
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return -1;
	if (pid == 0)
		_exit(fn(arg));
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

/* The whole program skips unless amxrt.ko is loaded (make kmod-check). */
static void __attribute__((constructor)) require_module(void)
{
	if (access(DEV, F_OK)) {
		printf("TAP version 13\n1..0 # SKIP " DEV
		       " is missing: amxrt.ko is not loaded (these tests run in make kmod-check)\n");
		exit(4);
	}
}

#endif /* KMOD_HELPERS_H */
