// SPDX-License-Identifier: MIT
/*
 * arena.c - the amxrt_arena_* calls: argument checks, the choice of a
 * backend and why, the list of open handles and their mappings, and the
 * dispatch to a backend (module.c, hugetlbfs.c, anon.c).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>

#include "arena_int.h"

static const struct arena_ops *const backends[AMXRT_ARENA_BACKEND_COUNT] = {
	[AMXRT_ARENA_MODULE] = &arena_module_ops,
	[AMXRT_ARENA_HUGETLBFS] = &arena_hugetlbfs_ops,
	[AMXRT_ARENA_ANON_HUGETLB] = &arena_anon_hugetlb_ops,
	[AMXRT_ARENA_ANON_THP] = &arena_anon_thp_ops,
};

static const char *const backend_names[AMXRT_ARENA_BACKEND_COUNT] = {
	[AMXRT_ARENA_MODULE] = "module",
	[AMXRT_ARENA_HUGETLBFS] = "hugetlbfs",
	[AMXRT_ARENA_ANON_HUGETLB] = "anon-hugetlb",
	[AMXRT_ARENA_ANON_THP] = "anon-thp",
};

/* The backend in use: protected by choice_lock. */
static pthread_mutex_t choice_lock = PTHREAD_MUTEX_INITIALIZER;
static int chosen = -1; /* -1: no choice made yet */
static int choice_err; /* negative errno when the choice failed */
static char choice_msg[512]; /* its message */
static char reason[1024];

/* Open handles: protected by handles_lock. */
static pthread_mutex_t handles_lock = PTHREAD_MUTEX_INITIALIZER;
static struct amxrt_arena *handles;

const char *amxrt_arena_backend_name(enum amxrt_arena_backend backend)
{
	if ((unsigned int)backend >= AMXRT_ARENA_BACKEND_COUNT)
		return NULL;
	return backend_names[backend];
}

int amxrt_arena_backend_parse(const char *name)
{
	int i;

	if (!name)
		return amxrt_err(EINVAL, "backend name is NULL");
	for (i = 0; i < AMXRT_ARENA_BACKEND_COUNT; i++)
		if (!strcasecmp(name, backend_names[i]))
			return i;
	return amxrt_err(EINVAL,
			 "\"%s\" is not an arena backend (module, hugetlbfs, "
			 "anon-hugetlb, anon-thp)",
			 name);
}

int amxrt_arena_backend_usable(enum amxrt_arena_backend backend, char *buf,
			       size_t len)
{
	char why[512] = "";
	int ret;

	if ((unsigned int)backend >= AMXRT_ARENA_BACKEND_COUNT)
		return amxrt_err(EINVAL, "arena backend %d is out of range",
				 (int)backend);
	ret = backends[backend]->usable(why, sizeof(why));
	if (ret) {
		if (buf && len)
			snprintf(buf, len, "%s", why);
		return amxrt_err(-ret, "%s", why);
	}
	return 0;
}

static void add_reason(const char *fmt, const char *a, const char *b)
{
	size_t n = strlen(reason);

	snprintf(reason + n, sizeof(reason) - n, fmt, a, b);
}

/* Make the choice; called with choice_lock held. */
static void choose(void)
{
	const char *env = getenv("AMXRT_ARENA");
	char why[512];
	int b;

	chosen = -1;
	choice_err = 0;
	reason[0] = '\0';
	if (env && *env) {
		b = amxrt_arena_backend_parse(env);
		if (b < 0) {
			choice_err = amxrt_err(EINVAL,
					       "AMXRT_ARENA=\"%s\" is not an "
					       "arena backend (module, "
					       "hugetlbfs, anon-hugetlb, "
					       "anon-thp)",
					       env);
		} else if (backends[b]->usable(why, sizeof(why))) {
			choice_err = amxrt_err(ENOTSUP,
					       "AMXRT_ARENA=%s: not available: "
					       "%s",
					       env, why);
		} else {
			chosen = b;
			backends[b]->preferred(why, sizeof(why));
			add_reason("forced by AMXRT_ARENA=%s; %s", env, why);
		}
		if (choice_err) {
			snprintf(choice_msg, sizeof(choice_msg), "%s",
				 amxrt_errmsg());
			snprintf(reason, sizeof(reason), "%s", choice_msg);
		}
		return;
	}
	for (b = 0; b < AMXRT_ARENA_BACKEND_COUNT; b++) {
		why[0] = '\0';
		if (backends[b]->usable(why, sizeof(why)) == 0 &&
		    backends[b]->preferred(why, sizeof(why))) {
			chosen = b;
			add_reason("%s%s", why, "");
			return;
		}
		add_reason("%s%s", why, "; ");
	}
	/* anon-thp is always usable and preferred: not reached */
	choice_err =
		amxrt_err(ENOTSUP, "no arena backend is available: %s", reason);
	snprintf(choice_msg, sizeof(choice_msg), "%s", amxrt_errmsg());
}

int amxrt_arena_default_backend(void)
{
	int ret;

	pthread_mutex_lock(&choice_lock);
	if (chosen < 0 && !choice_err)
		choose();
	ret = chosen >= 0 ? chosen : choice_err;
	if (ret < 0)
		amxrt_err(-ret, "%s", choice_msg);
	pthread_mutex_unlock(&choice_lock);
	return ret;
}

int amxrt_arena_set_backend(int backend)
{
	char why[512];
	int ret = 0;

	if (backend != -1 &&
	    (backend < 0 || backend >= AMXRT_ARENA_BACKEND_COUNT))
		return amxrt_err(EINVAL, "arena backend %d is out of range",
				 backend);
	pthread_mutex_lock(&choice_lock);
	if (backend == -1) {
		choose();
		ret = chosen >= 0 ? 0 : choice_err;
	} else if (backends[backend]->usable(why, sizeof(why))) {
		ret = amxrt_err(ENOTSUP,
				"arena backend %s is not available: %s",
				backend_names[backend], why);
	} else {
		chosen = backend;
		choice_err = 0;
		reason[0] = '\0';
		backends[backend]->preferred(why, sizeof(why));
		add_reason("set by the program; %s%s", why, "");
	}
	pthread_mutex_unlock(&choice_lock);
	return ret;
}

const char *amxrt_arena_backend_reason(void)
{
	amxrt_arena_default_backend();
	return reason;
}

/* ---- handles -------------------------------------------------------- */

static int check_name(const char *name)
{
	size_t n, i;

	if (!name)
		return amxrt_err(EINVAL, "arena name is NULL");
	n = strlen(name);
	if (!n)
		return amxrt_err(EINVAL, "arena name is empty");
	if (n > AMXRT_ARENA_NAME_MAX)
		return amxrt_err(EINVAL,
				 "arena name is %zu bytes long: at most %d", n,
				 AMXRT_ARENA_NAME_MAX);
	if (name[0] == '.')
		return amxrt_err(EINVAL, "arena name \"%s\" starts with '.'",
				 name);
	for (i = 0; i < n; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		      c == '-'))
			return amxrt_err(EINVAL,
					 "arena name has a byte 0x%02x at %zu: "
					 "use A-Z a-z 0-9 . _ -",
					 (unsigned char)c, i);
	}
	return 0;
}

static int new_handle(const char *name, struct amxrt_arena **out,
		      struct amxrt_arena **ap)
{
	struct amxrt_arena *a;
	int b, ret;

	if (!out)
		return amxrt_err(EINVAL, "out is NULL");
	*out = NULL;
	ret = check_name(name);
	if (ret)
		return ret;
	b = amxrt_arena_default_backend();
	if (b < 0)
		return b;
	a = calloc(1, sizeof(*a));
	if (!a)
		return amxrt_err(ENOMEM, "out of memory for an arena handle");
	a->ops = backends[b];
	snprintf(a->name, sizeof(a->name), "%s", name);
	a->node = -1;
	a->fd = -1;
	*ap = a;
	return 0;
}

static void link_handle(struct amxrt_arena *a)
{
	pthread_mutex_lock(&handles_lock);
	a->next = handles;
	handles = a;
	pthread_mutex_unlock(&handles_lock);
}

int amxrt_arena_create(const char *name, uint64_t size, int node,
		       unsigned int flags, struct amxrt_arena **out)
{
	struct amxrt_arena *a;
	int ret;

	ret = new_handle(name, out, &a);
	if (ret)
		return ret;
	if (!size)
		ret = amxrt_err(EINVAL, "arena \"%s\": size 0", name);
	else if (size > (1ull << 52))
		ret = amxrt_err(EINVAL,
				"arena \"%s\": size %llu is beyond 4 PiB", name,
				(unsigned long long)size);
	else if (flags & ~(unsigned int)AMXRT_ARENA_NODE_PREFERRED)
		ret = amxrt_err(EINVAL, "arena \"%s\": unknown flags 0x%x",
				name, flags);
	else
		ret = arena_check_node(node);
	if (!ret) {
		size = (size + ARENA_PAGE - 1) & ~(ARENA_PAGE - 1);
		ret = a->ops->create(a, size, node, flags);
	}
	if (ret) {
		free(a);
		return ret;
	}
	a->size = size;
	a->node = node;
	link_handle(a);
	*out = a;
	return 0;
}

int amxrt_arena_open(const char *name, struct amxrt_arena **out)
{
	struct amxrt_arena *a;
	int ret;

	ret = new_handle(name, out, &a);
	if (ret)
		return ret;
	ret = a->ops->open(a);
	if (ret) {
		free(a);
		return ret;
	}
	link_handle(a);
	*out = a;
	return 0;
}

int amxrt_arena_map(struct amxrt_arena *a, unsigned int flags, void **addr)
{
	int writable = !!(flags & AMXRT_ARENA_MAP_WRITE);
	void *p;
	int ret;

	if (!a || !addr)
		return amxrt_err(EINVAL, "arena map: %s is NULL",
				 a ? "addr" : "the arena");
	*addr = NULL;
	if (flags & ~(unsigned int)AMXRT_ARENA_MAP_WRITE)
		return amxrt_err(EINVAL, "arena \"%s\": unknown map flags 0x%x",
				 a->name, flags);
	if (writable && a->sealed)
		return amxrt_err(EPERM,
				 "arena \"%s\" is sealed: no writable mapping",
				 a->name);
	if (a->nmaps == a->maps_cap) {
		int cap = a->maps_cap ? 2 * a->maps_cap : 4;
		struct arena_map *m = realloc(a->maps, cap * sizeof(*m));

		if (!m)
			return amxrt_err(ENOMEM, "out of memory for a mapping");
		a->maps = m;
		a->maps_cap = cap;
	}
	ret = a->ops->map(a, writable, &p);
	if (ret)
		return ret;
	pthread_mutex_lock(&handles_lock);
	a->maps[a->nmaps].addr = p;
	a->maps[a->nmaps].writable = writable;
	a->nmaps++;
	pthread_mutex_unlock(&handles_lock);
	*addr = p;
	return 0;
}

int amxrt_arena_unmap(struct amxrt_arena *a, void *addr)
{
	int i, ret;

	if (!a)
		return amxrt_err(EINVAL, "arena unmap: the arena is NULL");
	for (i = 0; i < a->nmaps; i++)
		if (a->maps[i].addr == addr)
			break;
	if (i == a->nmaps)
		return amxrt_err(EINVAL,
				 "arena \"%s\": %p is not one of its mappings",
				 a->name, addr);
	ret = a->ops->unmap(a, addr);
	if (ret)
		return ret;
	pthread_mutex_lock(&handles_lock);
	a->maps[i] = a->maps[--a->nmaps];
	pthread_mutex_unlock(&handles_lock);
	return 0;
}

int amxrt_arena_seal(struct amxrt_arena *a)
{
	int i, ret;

	if (!a)
		return amxrt_err(EINVAL, "arena seal: the arena is NULL");
	ret = a->ops->seal(a);
	if (ret)
		return ret;
	a->sealed = 1;
	/* The anonymous backends protect their single mapping themselves. */
	for (i = 0; i < a->nmaps; i++) {
		if (!a->maps[i].writable)
			continue;
		if (a->ops->backend != AMXRT_ARENA_ANON_HUGETLB &&
		    a->ops->backend != AMXRT_ARENA_ANON_THP &&
		    mprotect(a->maps[i].addr, a->size, PROT_READ))
			return amxrt_err(errno,
					 "arena \"%s\" sealed, but its mapping "
					 "at %p stays writable: %s",
					 a->name, a->maps[i].addr,
					 strerror(errno));
		a->maps[i].writable = 0;
	}
	return 0;
}

int arena_local_maps(enum amxrt_arena_backend backend, const char *name)
{
	struct amxrt_arena *a;
	int n = 0;

	pthread_mutex_lock(&handles_lock);
	for (a = handles; a; a = a->next)
		if (a->ops->backend == backend && !strcmp(a->name, name))
			n += a->nmaps;
	pthread_mutex_unlock(&handles_lock);
	return n;
}

int amxrt_arena_info(struct amxrt_arena *a, struct amxrt_arena_info *info)
{
	int ret;

	if (!a || !info)
		return amxrt_err(EINVAL, "arena info: %s is NULL",
				 a ? "info" : "the arena");
	memset(info, 0, sizeof(*info));
	snprintf(info->name, sizeof(info->name), "%s", a->name);
	info->size = a->size;
	info->node = a->node;
	info->placed_node = -1;
	info->sealed = a->sealed;
	info->map_count = -1;
	info->huge_bytes = -1;
	info->backend = a->ops->backend;
	ret = a->ops->info(a, info);
	if (ret)
		return ret;
	if (info->map_count < 0)
		info->map_count = arena_local_maps(a->ops->backend, a->name);
	return 0;
}

int amxrt_arena_backend(const struct amxrt_arena *a)
{
	if (!a)
		return amxrt_err(EINVAL, "arena backend: the arena is NULL");
	return a->ops->backend;
}

void amxrt_arena_close(struct amxrt_arena *a)
{
	struct amxrt_arena **pp;

	if (!a)
		return;
	pthread_mutex_lock(&handles_lock);
	for (pp = &handles; *pp; pp = &(*pp)->next) {
		if (*pp == a) {
			*pp = a->next;
			break;
		}
	}
	pthread_mutex_unlock(&handles_lock);
	while (a->nmaps > 0) {
		a->nmaps--;
		a->ops->unmap(a, a->maps[a->nmaps].addr);
	}
	a->ops->close(a);
	free(a->maps);
	free(a);
}

int amxrt_arena_destroy(const char *name)
{
	int b, ret;

	ret = check_name(name);
	if (ret)
		return ret;
	b = amxrt_arena_default_backend();
	if (b < 0)
		return b;
	return backends[b]->destroy(name);
}

static int cmp_names(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

int amxrt_arena_list(struct amxrt_arena_info *infos, int max)
{
	char **names = NULL;
	int b, n, i, count = 0;

	if (max < 0 || (max > 0 && !infos))
		return amxrt_err(EINVAL, "arena list: max %d with infos %p",
				 max, (void *)infos);
	b = amxrt_arena_default_backend();
	if (b < 0)
		return b;
	n = backends[b]->names(&names);
	if (n < 0)
		return n;
	if (n > 1)
		qsort(names, n, sizeof(*names), cmp_names);
	for (i = 0; i < n; i++) {
		struct amxrt_arena *a;

		/* An arena destroyed meanwhile is left out. */
		if (amxrt_arena_open(names[i], &a))
			continue;
		if (count < max && amxrt_arena_info(a, &infos[count])) {
			amxrt_arena_close(a);
			continue;
		}
		amxrt_arena_close(a);
		count++;
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return count;
}
