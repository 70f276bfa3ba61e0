// SPDX-License-Identifier: GPL-2.0
/*
 * amxrt_arena.c - arenas: the registry of named arenas, their 2 MiB chunks
 * and the arena ioctls of /dev/amxrt (create, open, seal, destroy, list).
 *
 * An arena holds one reference for the registry (dropped by DESTROY) and
 * one per arena fd; its memory goes back when the last one is dropped.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/file.h>
#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/nodemask.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/topology.h>
#include <linux/uaccess.h>

#include "amxrt_internal.h"

DEFINE_MUTEX(amxrt_lock);
LIST_HEAD(amxrt_arenas); /* by id, under amxrt_lock */
unsigned int amxrt_nr_arenas; /* under amxrt_lock */
static u64 amxrt_next_id = 1; /* under amxrt_lock */

static bool amxrt_zero(const u64 *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

static struct amxrt_arena *amxrt_find(const char *name)
{
	struct amxrt_arena *a;

	lockdep_assert_held(&amxrt_lock);
	list_for_each_entry(a, &amxrt_arenas, link)
		if (!strncmp(a->name, name, AMXRT_NAME_MAX))
			return a;
	return NULL;
}

static void amxrt_arena_release(struct kref *ref)
{
	struct amxrt_arena *a = container_of(ref, struct amxrt_arena, ref);
	unsigned long i;

	for (i = 0; i < a->nr_chunks; i++)
		if (a->chunks[i])
			__free_pages(a->chunks[i], AMXRT_CHUNK_ORDER);
	atomic64_sub(a->bytes, &amxrt_stat.bytes_allocated);
	kvfree(a->chunks);
	kfree(a);
}

void amxrt_arena_put(struct amxrt_arena *arena)
{
	kref_put(&arena->ref, amxrt_arena_release);
}

/*
 * Fill the arena with zeroed 2 MiB chunks from its node; with any_node a
 * chunk the node cannot give comes from the nearest node that can.
 */
static int amxrt_arena_alloc_chunks(struct amxrt_arena *a, bool any_node)
{
	const gfp_t gfp = GFP_KERNEL | __GFP_COMP | __GFP_ZERO | __GFP_NOWARN |
			  __GFP_RETRY_MAYFAIL;
	unsigned long i;

	for (i = 0; i < a->nr_chunks; i++) {
		struct page *page;
		int nid;

		page = alloc_pages_node(a->node, gfp | __GFP_THISNODE,
					AMXRT_CHUNK_ORDER);
		if (!page && any_node)
			page = alloc_pages_node(a->node, gfp,
						AMXRT_CHUNK_ORDER);
		if (!page) {
			atomic64_inc(&amxrt_stat.alloc_failures);
			pr_info("arena '%s': node %u has no free 2 MiB chunk left (got %lu of %lu)\n",
				a->name, a->node, i, a->nr_chunks);
			return -ENOMEM;
		}
		a->chunks[i] = page;
		nid = page_to_nid(page);
		if (nid < AMXRT_MAX_NODES)
			a->node_mask |= 1ULL << nid;
		if (fatal_signal_pending(current))
			return -EINTR;
		cond_resched();
	}
	return 0;
}

void amxrt_arena_fill_entry(struct amxrt_arena *a, struct amxrt_arena_entry *e)
{
	memset(e, 0, sizeof(*e));
	memcpy(e->name, a->name, AMXRT_NAME_MAX);
	e->id = a->id;
	e->bytes = a->bytes;
	e->node_mask = a->node_mask;
	e->node = a->node;
	spin_lock(&a->lock);
	if (a->sealed)
		e->state |= AMXRT_ARENA_SEALED;
	if (a->destroyed)
		e->state |= AMXRT_ARENA_DESTROYED;
	e->maps = a->maps;
	e->writable_maps = a->writable_maps;
	e->fds = a->fds;
	spin_unlock(&a->lock);
}

/* Give file an fd in the caller, after copying out; 0 or -errno. */
static int amxrt_install(struct file *f, void __user *argp, void *out,
			 size_t len, __u32 *fd_field)
{
	int fd = get_unused_fd_flags(O_CLOEXEC);

	if (fd < 0) {
		fput(f);
		return fd;
	}
	*fd_field = fd;
	if (copy_to_user(argp, out, len)) {
		put_unused_fd(fd);
		fput(f);
		return -EFAULT;
	}
	fd_install(fd, f);
	return 0;
}

/* Take a just-created arena out of the registry, unless DESTROY did. */
static void amxrt_unlist(struct amxrt_arena *a)
{
	bool listed;

	mutex_lock(&amxrt_lock);
	spin_lock(&a->lock);
	listed = !a->destroyed;
	a->destroyed = true;
	spin_unlock(&a->lock);
	if (listed) {
		list_del(&a->link);
		amxrt_nr_arenas--;
	}
	mutex_unlock(&amxrt_lock);
	if (listed) {
		atomic64_inc(&amxrt_stat.arenas_destroyed);
		amxrt_arena_put(a);
	}
}

static int amxrt_create_check(struct amxrt_arena_create *req)
{
	if (req->size != sizeof(*req) || (req->flags & ~AMXRT_ARENA_ANY_NODE) ||
	    !amxrt_zero(req->reserved, ARRAY_SIZE(req->reserved)) || req->fd ||
	    req->id || req->node_mask)
		return -EINVAL;
	if (amxrt_check_name(req->name))
		return -EINVAL;
	if (!req->bytes)
		return -EINVAL;
	if (req->node == AMXRT_NODE_LOCAL)
		req->node = numa_node_id();
	else if (req->node >= MAX_NUMNODES || !node_online(req->node))
		return -EINVAL;
	return 0;
}

long amxrt_ioctl_create(struct file *file, void __user *argp)
{
	struct amxrt_arena_create req;
	struct amxrt_arena *a;
	struct file *f;
	u64 bytes, limit;
	int err;

	if (!amxrt_can_admin(file))
		return -EPERM;
	if (copy_from_user(&req, argp, sizeof(req)))
		return -EFAULT;
	err = amxrt_create_check(&req);
	if (err)
		return err;
	limit = amxrt_bytes_limit();
	if (req.bytes > limit)
		return -EFBIG;
	bytes = round_up(req.bytes, AMXRT_CHUNK_BYTES);
	if (bytes > limit)
		return -EFBIG;

	a = kzalloc(sizeof(*a), GFP_KERNEL);
	if (!a)
		return -ENOMEM;
	kref_init(&a->ref);
	spin_lock_init(&a->lock);
	memcpy(a->name, req.name, AMXRT_NAME_MAX);
	a->bytes = bytes;
	a->node = req.node;
	a->nr_chunks = bytes / AMXRT_CHUNK_BYTES;
	a->chunks = kvcalloc(a->nr_chunks, sizeof(*a->chunks), GFP_KERNEL);
	if (!a->chunks) {
		kfree(a);
		return -ENOMEM;
	}

	/* Reserve the name's slot and the bytes, then allocate unlocked. */
	mutex_lock(&amxrt_lock);
	if (amxrt_find(a->name))
		err = -EEXIST;
	else if (amxrt_nr_arenas >= amxrt_max_arenas())
		err = -ENOSPC;
	else if (atomic64_read(&amxrt_stat.bytes_allocated) + bytes > limit)
		err = -ENOSPC;
	else
		atomic64_add(bytes, &amxrt_stat.bytes_allocated);
	mutex_unlock(&amxrt_lock);
	if (err) {
		kvfree(a->chunks);
		kfree(a);
		return err;
	}

	err = amxrt_arena_alloc_chunks(a, req.flags & AMXRT_ARENA_ANY_NODE);
	if (err)
		goto err_put;
	/* The file's reference is taken before a DESTROY can see the arena. */
	f = amxrt_arena_file(a, true);
	if (IS_ERR(f)) {
		err = PTR_ERR(f);
		goto err_put;
	}

	mutex_lock(&amxrt_lock);
	if (amxrt_find(a->name)) {
		mutex_unlock(&amxrt_lock);
		fput(f);
		err = -EEXIST;
		goto err_put;
	}
	a->id = amxrt_next_id++;
	list_add_tail(&a->link, &amxrt_arenas);
	amxrt_nr_arenas++;
	mutex_unlock(&amxrt_lock);
	atomic64_inc(&amxrt_stat.arenas_created);

	req.bytes = bytes;
	req.id = a->id;
	req.node_mask = a->node_mask;
	err = amxrt_install(f, argp, &req, sizeof(req), &req.fd);
	if (err)
		amxrt_unlist(a);
	return err;

err_put:
	amxrt_arena_put(a);
	return err;
}

/* The named arena with a reference taken, or NULL. */
static struct amxrt_arena *amxrt_get_by_name(const char *name)
{
	struct amxrt_arena *a;

	mutex_lock(&amxrt_lock);
	a = amxrt_find(name);
	if (a)
		kref_get(&a->ref);
	mutex_unlock(&amxrt_lock);
	return a;
}

long amxrt_ioctl_open(struct file *file, void __user *argp)
{
	struct amxrt_arena_open req;
	struct amxrt_arena *a;
	struct file *f;
	bool writable;

	if (copy_from_user(&req, argp, sizeof(req)))
		return -EFAULT;
	if (req.size != sizeof(req) || (req.flags & ~AMXRT_OPEN_RDONLY) ||
	    req.fd || req.pad ||
	    !amxrt_zero(req.reserved, ARRAY_SIZE(req.reserved)) ||
	    memchr_inv(&req.entry, 0, sizeof(req.entry)))
		return -EINVAL;
	if (amxrt_check_name(req.name))
		return -EINVAL;
	a = amxrt_get_by_name(req.name);
	if (!a)
		return -ENOENT;
	spin_lock(&a->lock);
	writable = !a->sealed && !(req.flags & AMXRT_OPEN_RDONLY);
	spin_unlock(&a->lock);
	writable = writable && amxrt_can_admin(file);
	f = amxrt_arena_file(a, writable);
	if (IS_ERR(f)) {
		amxrt_arena_put(a);
		return PTR_ERR(f);
	}
	amxrt_arena_fill_entry(a, &req.entry);
	amxrt_arena_put(a); /* the file holds its own reference */
	return amxrt_install(f, argp, &req, sizeof(req), &req.fd);
}

static int amxrt_ref_check(struct amxrt_arena_ref *req, bool name_may_be_empty)
{
	if (req->size != sizeof(*req) || req->flags ||
	    !amxrt_zero(req->reserved, ARRAY_SIZE(req->reserved)))
		return -EINVAL;
	if (name_may_be_empty && !memchr_inv(req->name, 0, AMXRT_NAME_MAX))
		return 0;
	return amxrt_check_name(req->name);
}

int amxrt_arena_seal(struct amxrt_arena *a)
{
	int err = 0;

	spin_lock(&a->lock);
	if (a->writable_maps)
		err = -EBUSY;
	else
		a->sealed = true;
	spin_unlock(&a->lock);
	return err;
}

long amxrt_ioctl_seal(struct file *file, void __user *argp)
{
	struct amxrt_arena_ref req;
	struct amxrt_arena *a;
	int err;

	if (!amxrt_can_admin(file))
		return -EPERM;
	if (copy_from_user(&req, argp, sizeof(req)))
		return -EFAULT;
	err = amxrt_ref_check(&req, false);
	if (err)
		return err;
	a = amxrt_get_by_name(req.name);
	if (!a)
		return -ENOENT;
	err = amxrt_arena_seal(a);
	amxrt_arena_put(a);
	return err;
}

long amxrt_ioctl_destroy(struct file *file, void __user *argp)
{
	struct amxrt_arena_ref req;
	struct amxrt_arena *a;
	int err;

	if (!amxrt_can_admin(file))
		return -EPERM;
	if (copy_from_user(&req, argp, sizeof(req)))
		return -EFAULT;
	err = amxrt_ref_check(&req, false);
	if (err)
		return err;
	mutex_lock(&amxrt_lock);
	a = amxrt_find(req.name);
	if (!a) {
		mutex_unlock(&amxrt_lock);
		return -ENOENT;
	}
	spin_lock(&a->lock);
	if (a->maps)
		err = -EBUSY;
	else
		a->destroyed = true;
	spin_unlock(&a->lock);
	if (!err) {
		list_del(&a->link);
		amxrt_nr_arenas--;
	}
	mutex_unlock(&amxrt_lock);
	if (err)
		return err;
	atomic64_inc(&amxrt_stat.arenas_destroyed);
	amxrt_arena_put(a);
	return 0;
}

long amxrt_ioctl_list(void __user *argp)
{
	struct amxrt_arena_list req;
	struct amxrt_arena_entry *buf = NULL;
	struct amxrt_arena *a;
	u32 n = 0, total;
	long err = 0;

	if (copy_from_user(&req, argp, sizeof(req)))
		return -EFAULT;
	if (req.size != sizeof(req) || req.flags ||
	    req.entry_size != sizeof(*buf) || req.total || req.pad ||
	    !amxrt_zero(req.reserved, ARRAY_SIZE(req.reserved)) ||
	    (req.count && !req.entries))
		return -EINVAL;

	mutex_lock(&amxrt_lock);
	total = amxrt_nr_arenas;
	if (req.count && total) {
		buf = kvcalloc(min(req.count, total), sizeof(*buf), GFP_KERNEL);
		if (!buf) {
			mutex_unlock(&amxrt_lock);
			return -ENOMEM;
		}
		list_for_each_entry(a, &amxrt_arenas, link) {
			if (n == req.count)
				break;
			amxrt_arena_fill_entry(a, &buf[n++]);
		}
	}
	mutex_unlock(&amxrt_lock);

	if (n && copy_to_user(u64_to_user_ptr(req.entries), buf,
			      (size_t)n * sizeof(*buf)))
		err = -EFAULT;
	kvfree(buf);
	if (err)
		return err;
	req.count = n;
	req.total = total;
	if (copy_to_user(argp, &req, sizeof(req)))
		return -EFAULT;
	return 0;
}

void amxrt_arenas_free_all(void)
{
	struct amxrt_arena *a, *tmp;

	mutex_lock(&amxrt_lock);
	list_for_each_entry_safe(a, tmp, &amxrt_arenas, link) {
		list_del(&a->link);
		amxrt_nr_arenas--;
		amxrt_arena_put(a);
	}
	mutex_unlock(&amxrt_lock);
}
