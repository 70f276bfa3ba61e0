// SPDX-License-Identifier: MIT
/*
 * hugetlbfs.c - the hugetlbfs arena backend: one file per arena in a
 * directory on a hugetlbfs mount with 2 MiB pages ($AMXRT_HUGETLBFS, else
 * <first such mount in /proc/mounts>/amxrt). Arenas outlive the process
 * and are shared by every process that may open the file. Sealing is mode
 * 0444 plus a marker file ".NAME.sealed"; this library then maps the
 * arena only read-only, from a read-only descriptor, but root (or the
 * owner, after chmod) can still write: weaker than the module.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <mntent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "arena_int.h"

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22
#endif

/* A hugetlbfs directory with 2 MiB pages? 0, else why in buf. */
static int is_hugetlbfs(const char *path, char *buf, size_t len)
{
	struct statfs sf;

	if (statfs(path, &sf)) {
		snprintf(buf, len, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (sf.f_type != HUGETLBFS_MAGIC) {
		snprintf(buf, len, "%s is not on a hugetlbfs", path);
		return -1;
	}
	if ((uint64_t)sf.f_bsize != ARENA_PAGE) {
		snprintf(buf, len, "%s has %ld KiB pages, not 2 MiB", path,
			 (long)sf.f_bsize >> 10);
		return -1;
	}
	return 0;
}

/*
 * The arena directory into dir; *mnt says where it came from. Returns 0,
 * or -ENOTSUP with why in buf.
 */
static int arena_dir(char *dir, size_t len, char *buf, size_t blen)
{
	const char *env = getenv("AMXRT_HUGETLBFS");
	struct mntent *m;
	char why[256] = "";
	FILE *f;

	if (env && *env) {
		if (is_hugetlbfs(env, why, sizeof(why))) {
			snprintf(buf, blen, "AMXRT_HUGETLBFS=%s: %s", env, why);
			return -ENOTSUP;
		}
		if ((size_t)snprintf(dir, len, "%s", env) >= len) {
			snprintf(buf, blen, "AMXRT_HUGETLBFS is too long");
			return -ENOTSUP;
		}
		return 0;
	}
	f = setmntent("/proc/mounts", "r");
	if (!f) {
		snprintf(buf, blen, "/proc/mounts: %s", strerror(errno));
		return -ENOTSUP;
	}
	while ((m = getmntent(f))) {
		if (strcmp(m->mnt_type, "hugetlbfs") ||
		    is_hugetlbfs(m->mnt_dir, why, sizeof(why)) ||
		    (size_t)snprintf(dir, len, "%s/amxrt", m->mnt_dir) >= len)
			continue;
		endmntent(f);
		return 0;
	}
	endmntent(f);
	if (why[0])
		snprintf(buf, blen,
			 "no hugetlbfs with 2 MiB pages mounted (%s)", why);
	else
		snprintf(buf, blen, "no hugetlbfs mounted (/proc/mounts)");
	return -ENOTSUP;
}

static int htlb_usable(char *buf, size_t len)
{
	char dir[PATH_MAX], parent[PATH_MAX], *slash;
	int err;

	if (arena_dir(dir, sizeof(dir), buf, len))
		return -ENOTSUP;
	/* Enough to open arenas; creating them may still be refused. */
	if (!access(dir, X_OK))
		return 0;
	err = errno;
	snprintf(parent, sizeof(parent), "%s", dir);
	slash = strrchr(parent, '/');
	if (slash && slash != parent)
		*slash = '\0';
	if (err == ENOENT && !access(parent, W_OK | X_OK))
		return 0; /* created at the first create */
	if (err == ENOENT)
		err = errno;
	snprintf(buf, len, "hugetlbfs directory %s: %s", dir, strerror(err));
	return -ENOTSUP;
}

static int count_arenas(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	if (!d)
		return 0;
	while ((de = readdir(d)))
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

static int htlb_preferred(char *buf, size_t len)
{
	char dir[PATH_MAX], why[256];
	long free_pages, over;
	int n;

	if (arena_dir(dir, sizeof(dir), why, sizeof(why)))
		return 0;
	arena_hugepages(&free_pages, &over);
	n = count_arenas(dir);
	if (!free_pages && !over && !n) {
		snprintf(buf, len,
			 "%s is on hugetlbfs, but there are no free 2 MiB "
			 "hugepages (free_hugepages 0, nr_overcommit_hugepages "
			 "0) and no arenas there",
			 dir);
		return 0;
	}
	snprintf(buf, len,
		 "%s is on hugetlbfs (%ld free 2 MiB hugepages, %d arenas): "
		 "using hugetlbfs files",
		 dir, free_pages, n);
	return 1;
}

static int paths(const char *name, char *path, char *marker, size_t len)
{
	char dir[PATH_MAX - 2 * AMXRT_ARENA_NAME_MAX], why[256];

	if (arena_dir(dir, sizeof(dir), why, sizeof(why)))
		return amxrt_err(ENOTSUP, "hugetlbfs arenas: %s", why);
	snprintf(path, len, "%s/%s", dir, name);
	if (marker)
		snprintf(marker, len, "%s/.%s.sealed", dir, name);
	return 0;
}

static int htlb_create(struct amxrt_arena *a, uint64_t size, int node,
		       unsigned int flags)
{
	char path[PATH_MAX], marker[PATH_MAX], *slash;
	long free_pages, over;
	void *p;
	int ret;

	ret = paths(a->name, path, marker, sizeof(path));
	if (ret)
		return ret;
	slash = strrchr(path, '/');
	*slash = '\0';
	if (mkdir(path, 0755) && errno != EEXIST)
		return amxrt_err(errno, "cannot make %s: %s", path,
				 strerror(errno));
	*slash = '/';
	a->fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (a->fd < 0) {
		if (errno == EEXIST)
			return amxrt_err(EEXIST,
					 "arena \"%s\" exists already (%s)",
					 a->name, path);
		return amxrt_err(errno, "cannot create %s: %s", path,
				 strerror(errno));
	}
	unlink(marker); /* a stale marker of an earlier arena */
	if (ftruncate(a->fd, (off_t)size)) {
		ret = amxrt_err(errno, "%s: size %llu: %s", path,
				(unsigned long long)size, strerror(errno));
		goto fail;
	}
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, a->fd, 0);
	if (p == MAP_FAILED) {
		int err = errno;

		arena_hugepages(&free_pages, &over);
		ret = amxrt_err(err,
				"arena \"%s\": cannot reserve %llu 2 MiB "
				"hugepages in %s (%ld free, "
				"nr_overcommit_hugepages %ld): %s",
				a->name,
				(unsigned long long)(size / ARENA_PAGE), path,
				free_pages, over, strerror(err));
		goto fail;
	}
	ret = arena_bind(p, size, node, flags);
	if (!ret)
		ret = arena_populate(p, size, node, "2 MiB hugepages");
	munmap(p, size);
	if (ret) {
		char msg[512];

		snprintf(msg, sizeof(msg), "%s", amxrt_errmsg());
		ret = amxrt_err(-ret, "arena \"%s\": %s", a->name, msg);
		goto fail;
	}
	return 0;
fail:
	close(a->fd);
	a->fd = -1;
	unlink(path);
	return ret;
}

static int htlb_open(struct amxrt_arena *a)
{
	char path[PATH_MAX], marker[PATH_MAX];
	struct stat st;
	int ret;

	ret = paths(a->name, path, marker, sizeof(path));
	if (ret)
		return ret;
	a->sealed = !access(marker, F_OK);
	a->fd = open(path, (a->sealed ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (a->fd < 0 && errno == EACCES && !a->sealed)
		a->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (a->fd < 0) {
		if (errno == ENOENT)
			return amxrt_err(ENOENT, "no arena \"%s\" (no %s)",
					 a->name, path);
		return amxrt_err(errno, "cannot open arena %s: %s", path,
				 strerror(errno));
	}
	if (fstat(a->fd, &st) || !S_ISREG(st.st_mode) ||
	    st.st_size % ARENA_PAGE || !st.st_size) {
		close(a->fd);
		a->fd = -1;
		return amxrt_err(EINVAL,
				 "%s is not an arena (not a regular file of "
				 "whole 2 MiB pages)",
				 path);
	}
	a->size = (uint64_t)st.st_size;
	return 0;
}

static int htlb_sealed_now(struct amxrt_arena *a)
{
	char path[PATH_MAX], marker[PATH_MAX];

	if (!a->sealed && !paths(a->name, path, marker, sizeof(path)))
		a->sealed = !access(marker, F_OK);
	return a->sealed;
}

static int htlb_map(struct amxrt_arena *a, int writable, void **addr)
{
	void *p;

	if (writable) {
		int mode = fcntl(a->fd, F_GETFL);

		if (htlb_sealed_now(a))
			return amxrt_err(EPERM,
					 "arena \"%s\" is sealed: no writable "
					 "mapping",
					 a->name);
		if (mode < 0 || (mode & O_ACCMODE) != O_RDWR)
			return amxrt_err(EACCES,
					 "arena \"%s\": no write permission on "
					 "its file",
					 a->name);
	}
	p = mmap(NULL, a->size, PROT_READ | (writable ? PROT_WRITE : 0),
		 MAP_SHARED, a->fd, 0);
	if (p == MAP_FAILED)
		return amxrt_err(errno, "arena \"%s\": mmap: %s", a->name,
				 strerror(errno));
	*addr = p;
	return 0;
}

static int htlb_unmap(struct amxrt_arena *a, void *addr)
{
	if (munmap(addr, a->size))
		return amxrt_err(errno, "arena \"%s\": munmap: %s", a->name,
				 strerror(errno));
	return 0;
}

static int htlb_seal(struct amxrt_arena *a)
{
	char path[PATH_MAX], marker[PATH_MAX];
	int fd, ret, i;

	ret = paths(a->name, path, marker, sizeof(path));
	if (ret)
		return ret;
	if (fchmod(a->fd, 0444))
		return amxrt_err(errno, "arena \"%s\": chmod 0444: %s%s",
				 a->name, strerror(errno),
				 errno == EPERM ? " (only the file's owner or "
						  "root may seal it)" :
						  "");
	fd = open(marker, O_WRONLY | O_CREAT | O_CLOEXEC, 0444);
	if (fd < 0)
		return amxrt_err(errno, "arena \"%s\": seal marker %s: %s",
				 a->name, marker, strerror(errno));
	close(fd);
	/*
	 * Later mappings come from a read-only descriptor; this handle's
	 * writable mappings are replaced in place by read-only ones from it,
	 * so mprotect() cannot make them writable again.
	 */
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return amxrt_err(errno, "arena \"%s\": reopen read-only: %s",
				 a->name, strerror(errno));
	close(a->fd);
	a->fd = fd;
	for (i = 0; i < a->nmaps; i++) {
		if (!a->maps[i].writable)
			continue;
		if (mmap(a->maps[i].addr, a->size, PROT_READ,
			 MAP_SHARED | MAP_FIXED, fd, 0) == MAP_FAILED)
			return amxrt_err(
				errno,
				"arena \"%s\": remapping %p read-only: "
				"%s",
				a->name, a->maps[i].addr, strerror(errno));
		a->maps[i].writable = 0;
	}
	return 0;
}

static int htlb_info(struct amxrt_arena *a, struct amxrt_arena_info *info)
{
	void *p;

	info->sealed = htlb_sealed_now(a);
	info->huge_bytes = (int64_t)a->size;
	p = mmap(NULL, a->size, PROT_READ, MAP_SHARED, a->fd, 0);
	if (p == MAP_FAILED)
		return 0;
	if (!madvise(p, a->size, MADV_POPULATE_READ))
		info->placed_node = arena_placed_node(p, a->size);
	munmap(p, a->size);
	return 0;
}

static void htlb_close(struct amxrt_arena *a)
{
	if (a->fd >= 0)
		close(a->fd);
	a->fd = -1;
}

static int htlb_destroy(const char *name)
{
	char path[PATH_MAX], marker[PATH_MAX];
	int ret;

	ret = paths(name, path, marker, sizeof(path));
	if (ret)
		return ret;
	if (unlink(path)) {
		if (errno == ENOENT)
			return amxrt_err(ENOENT, "no arena \"%s\" (no %s)",
					 name, path);
		return amxrt_err(errno, "cannot remove %s: %s", path,
				 strerror(errno));
	}
	unlink(marker);
	return 0;
}

static int htlb_names(char ***out)
{
	char dir[PATH_MAX], why[256];
	struct dirent *de;
	char **names = NULL;
	int n = 0, cap = 0;
	DIR *d;

	if (arena_dir(dir, sizeof(dir), why, sizeof(why)))
		return amxrt_err(ENOTSUP, "hugetlbfs arenas: %s", why);
	*out = NULL;
	d = opendir(dir);
	if (!d) {
		if (errno == ENOENT)
			return 0;
		return amxrt_err(errno, "%s: %s", dir, strerror(errno));
	}
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (n == cap) {
			char **nn;

			cap = cap ? 2 * cap : 8;
			nn = realloc(names, cap * sizeof(*nn));
			if (!nn)
				goto oom;
			names = nn;
		}
		names[n] = strdup(de->d_name);
		if (!names[n])
			goto oom;
		n++;
	}
	closedir(d);
	*out = names;
	return n;
oom:
	closedir(d);
	while (n > 0)
		free(names[--n]);
	free(names);
	return amxrt_err(ENOMEM, "out of memory listing arenas");
}

const struct arena_ops arena_hugetlbfs_ops = {
	.backend = AMXRT_ARENA_HUGETLBFS,
	.usable = htlb_usable,
	.preferred = htlb_preferred,
	.create = htlb_create,
	.open = htlb_open,
	.map = htlb_map,
	.unmap = htlb_unmap,
	.seal = htlb_seal,
	.info = htlb_info,
	.close = htlb_close,
	.destroy = htlb_destroy,
	.names = htlb_names,
};
