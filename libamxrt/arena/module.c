// SPDX-License-Identifier: MIT
/*
 * module.c - the module arena backend (/dev/amxrt, amxrt.ko) and
 * amxrt_module_info(). Each handle holds an arena fd from the module;
 * mappings are made from it at 2 MiB aligned addresses so the module can
 * map them with 2 MiB page-table entries. The ABI is
 * include/uapi/linux/amxrt.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <uapi/linux/amxrt.h>

#include "arena_int.h"

#define DEV_PATH "/dev/" AMXRT_DEVICE_NAME

/*
 * Open /dev/amxrt (read-write, else read-only) and check its ABI version.
 * Returns the fd, or -errno with why in buf (and amxrt_errmsg()).
 */
static int dev_open(struct amxrt_info *info, char *buf, size_t len)
{
	struct amxrt_info local;
	int fd, err;

	if (!info)
		info = &local;
	fd = open(DEV_PATH, O_RDWR | O_CLOEXEC);
	if (fd < 0 && (errno == EACCES || errno == EPERM))
		fd = open(DEV_PATH, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = errno;
		if (err == ENOENT || err == ENODEV || err == ENXIO)
			snprintf(buf, len,
				 DEV_PATH " not present (module not loaded)");
		else
			snprintf(buf, len, DEV_PATH ": %s", strerror(err));
		return amxrt_err(err == ENODEV || err == ENXIO ? ENOENT : err,
				 "%s", buf);
	}
	memset(info, 0, sizeof(*info));
	info->size = sizeof(*info);
	if (ioctl(fd, AMXRT_IOC_INFO, info)) {
		err = errno;
		close(fd);
		snprintf(buf, len,
			 DEV_PATH ": AMXRT_IOC_INFO: %s (not amxrt.ko?)",
			 strerror(err));
		return amxrt_err(EPROTO, "%s", buf);
	}
	if (info->abi_version != AMXRT_ABI_VERSION) {
		close(fd);
		snprintf(buf, len,
			 DEV_PATH " speaks ABI version %u; this library speaks "
				  "%u",
			 info->abi_version, AMXRT_ABI_VERSION);
		return amxrt_err(EPROTO, "%s", buf);
	}
	return fd;
}

static int mod_usable(char *buf, size_t len)
{
	int fd = dev_open(NULL, buf, len);

	if (fd < 0)
		return -ENOTSUP;
	close(fd);
	return 0;
}

static int mod_preferred(char *buf, size_t len)
{
	struct amxrt_info info;
	int fd = dev_open(&info, buf, len);

	if (fd < 0)
		return 0;
	close(fd);
	snprintf(buf, len,
		 DEV_PATH " is loaded (amxrt.ko %u.%u.%u, ABI %u): "
			  "using module arenas",
		 info.module_version >> 16, (info.module_version >> 8) & 0xff,
		 info.module_version & 0xff, info.abi_version);
	return 1;
}

/* ioctl on fd, or -errno with a message naming the arena and the call. */
static int mod_ioctl(int fd, unsigned long cmd, void *arg, const char *call,
		     const char *name)
{
	const char *why;
	int err;

	if (!ioctl(fd, cmd, arg))
		return 0;
	err = errno;
	switch (err) {
	case EEXIST:
		why = "exists already";
		break;
	case ENOENT:
		why = "does not exist";
		break;
	case EPERM:
	case EACCES:
		why = "not permitted (needs CAP_SYS_ADMIN or the device's "
		      "group)";
		break;
	case EBUSY:
		why = "busy: it is mapped (writable, for a seal); unmap first";
		break;
	case ENOMEM:
		why = "the node cannot supply the 2 MiB chunks";
		break;
	case EFBIG:
		why = "larger than the module's limit (max_total_mb)";
		break;
	case ENOSPC:
		why = "the module's limits are used up (max_total_mb of "
		      "other arenas, or max_arenas)";
		break;
	case EIDRM:
		why = "destroyed: it can no longer be mapped";
		break;
	default:
		return amxrt_err(err, "arena \"%s\": %s: %s", name, call,
				 strerror(err));
	}
	return amxrt_err(err, "arena \"%s\": %s: %s (%s)", name, call, why,
			 strerror(err));
}

/* One ioctl on a descriptor of /dev/amxrt opened for it (as mod_ioctl). */
static int dev_call(unsigned long cmd, void *arg, const char *call,
		    const char *name)
{
	char why[256];
	int dev = dev_open(NULL, why, sizeof(why)), ret;

	if (dev < 0)
		return dev;
	ret = mod_ioctl(dev, cmd, arg, call, name);
	close(dev);
	return ret;
}

static void fill_from_entry(struct amxrt_arena *a,
			    const struct amxrt_arena_entry *e)
{
	a->size = e->bytes;
	a->node = e->node == AMXRT_NODE_LOCAL ? -1 : (int)e->node;
	a->sealed = !!(e->state & AMXRT_ARENA_SEALED);
}

static int mod_create(struct amxrt_arena *a, uint64_t size, int node,
		      unsigned int flags)
{
	struct amxrt_arena_create c;
	int ret;

	memset(&c, 0, sizeof(c));
	c.size = sizeof(c);
	snprintf(c.name, sizeof(c.name), "%s", a->name);
	c.bytes = size;
	c.node = node < 0 ? AMXRT_NODE_LOCAL : (__u32)node;
	if (node < 0 || (flags & AMXRT_ARENA_NODE_PREFERRED))
		c.flags |= AMXRT_ARENA_ANY_NODE;
	ret = dev_call(AMXRT_IOC_ARENA_CREATE, &c, "create", a->name);
	if (ret) {
		if (ret == -ENOMEM && node >= 0) {
			char msg[512];

			snprintf(msg, sizeof(msg), "%s", amxrt_errmsg());
			return amxrt_err(ENOMEM, "%s (node %d, %llu MiB)", msg,
					 node,
					 (unsigned long long)(size >> 20));
		}
		return ret;
	}
	a->fd = (int)c.fd;
	return 0;
}

static int mod_open(struct amxrt_arena *a)
{
	struct amxrt_arena_open o;
	int ret;

	memset(&o, 0, sizeof(o));
	o.size = sizeof(o);
	snprintf(o.name, sizeof(o.name), "%s", a->name);
	ret = dev_call(AMXRT_IOC_ARENA_OPEN, &o, "open", a->name);
	if (ret)
		return ret;
	a->fd = (int)o.fd;
	fill_from_entry(a, &o.entry);
	return 0;
}

static int mod_query(struct amxrt_arena *a, struct amxrt_arena_entry *e)
{
	struct amxrt_arena_query q;
	int ret;

	memset(&q, 0, sizeof(q));
	q.size = sizeof(q);
	ret = mod_ioctl(a->fd, AMXRT_IOC_ARENA_QUERY, &q, "query", a->name);
	if (!ret)
		*e = q.entry;
	return ret;
}

/* mmap fd at a 2 MiB aligned address (addr: that address, MAP_FIXED). */
static void *map_aligned(void *addr, uint64_t size, int prot, int fd)
{
	char *p, *aligned;

	if (addr)
		return mmap(addr, size, prot, MAP_SHARED | MAP_FIXED, fd, 0);
	p = mmap(NULL, size + ARENA_PAGE, PROT_NONE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return p;
	aligned = (char *)(((uintptr_t)p + ARENA_PAGE - 1) &
			   ~(uintptr_t)(ARENA_PAGE - 1));
	if (mmap(aligned, size, prot, MAP_SHARED | MAP_FIXED, fd, 0) ==
	    MAP_FAILED) {
		int err = errno;

		munmap(p, size + ARENA_PAGE);
		errno = err;
		return MAP_FAILED;
	}
	if (aligned > p)
		munmap(p, aligned - p);
	if (aligned + size < p + size + ARENA_PAGE)
		munmap(aligned + size,
		       p + size + ARENA_PAGE - (aligned + size));
	return aligned;
}

/*
 * A read-only fd for this handle's read-only mappings (opened once, kept
 * in a->priv as fd + 1): a shared mapping of a read-write fd may be made
 * writable later, and the module refuses to seal while one exists.
 */
static int ro_fd(struct amxrt_arena *a)
{
	struct amxrt_arena_open o;
	int ret;

	if (a->priv)
		return (int)(intptr_t)a->priv - 1;
	memset(&o, 0, sizeof(o));
	o.size = sizeof(o);
	o.flags = AMXRT_OPEN_RDONLY;
	snprintf(o.name, sizeof(o.name), "%s", a->name);
	ret = dev_call(AMXRT_IOC_ARENA_OPEN, &o, "open read-only", a->name);
	if (ret)
		return ret;
	a->priv = (void *)(intptr_t)(o.fd + 1);
	return (int)o.fd;
}

static int mod_map(struct amxrt_arena *a, int writable, void **addr)
{
	int fd = writable ? a->fd : ro_fd(a);
	void *p;
	int err;

	if (fd < 0)
		return fd;
	p = map_aligned(NULL, a->size, PROT_READ | (writable ? PROT_WRITE : 0),
			fd);
	if (p != MAP_FAILED) {
		*addr = p;
		return 0;
	}
	err = errno;
	if (writable && (err == EACCES || err == EPERM)) {
		struct amxrt_arena_entry e;

		if (!mod_query(a, &e) && (e.state & AMXRT_ARENA_SEALED)) {
			a->sealed = 1;
			return amxrt_err(EPERM,
					 "arena \"%s\" is sealed: no writable "
					 "mapping",
					 a->name);
		}
		return amxrt_err(EACCES,
				 "arena \"%s\": this process may only map it "
				 "read-only: %s",
				 a->name, strerror(err));
	}
	return amxrt_err(err, "arena \"%s\": mmap: %s", a->name, strerror(err));
}

static int mod_unmap(struct amxrt_arena *a, void *addr)
{
	if (munmap(addr, a->size))
		return amxrt_err(errno, "arena \"%s\": munmap: %s", a->name,
				 strerror(errno));
	return 0;
}

/*
 * The module refuses to seal while a shared mapping that may write exists:
 * this handle's writable mappings are first replaced, at the same
 * addresses, by read-only mappings from its read-only fd, which then
 * becomes the handle's only fd.
 */
static int mod_seal(struct amxrt_arena *a)
{
	struct amxrt_arena_ref r;
	int fd = ro_fd(a), ret, i;

	if (fd < 0)
		return fd;
	for (i = 0; i < a->nmaps; i++) {
		if (!a->maps[i].writable)
			continue;
		if (map_aligned(a->maps[i].addr, a->size, PROT_READ, fd) ==
		    MAP_FAILED)
			return amxrt_err(
				errno,
				"arena \"%s\": remapping %p read-only: "
				"%s",
				a->name, a->maps[i].addr, strerror(errno));
		a->maps[i].writable = 0;
	}
	memset(&r, 0, sizeof(r));
	r.size = sizeof(r);
	ret = mod_ioctl(a->fd, AMXRT_IOC_ARENA_SEAL, &r, "seal", a->name);
	if (ret)
		return ret;
	close(a->fd);
	a->fd = fd;
	a->priv = NULL;
	return 0;
}

static int mod_info(struct amxrt_arena *a, struct amxrt_arena_info *info)
{
	struct amxrt_arena_entry e;
	uint64_t m;
	int ret;

	ret = mod_query(a, &e);
	if (ret)
		return ret;
	fill_from_entry(a, &e);
	info->size = e.bytes;
	info->node = a->node;
	info->sealed = a->sealed;
	info->map_count = (int)e.maps;
	m = e.node_mask;
	info->placed_node = m && !(m & (m - 1)) ? __builtin_ctzll(m) : -1;
	return 0;
}

static void mod_close(struct amxrt_arena *a)
{
	if (a->fd >= 0)
		close(a->fd);
	if (a->priv)
		close((int)(intptr_t)a->priv - 1);
	a->fd = -1;
	a->priv = NULL;
}

static int mod_destroy(const char *name)
{
	struct amxrt_arena_ref r;

	memset(&r, 0, sizeof(r));
	r.size = sizeof(r);
	snprintf(r.name, sizeof(r.name), "%s", name);
	return dev_call(AMXRT_IOC_ARENA_DESTROY, &r, "destroy", name);
}

static int mod_names(char ***out)
{
	struct amxrt_arena_entry *ents = NULL;
	struct amxrt_arena_list l;
	char **names = NULL, why[256];
	int dev, ret, i, n = 0;

	dev = dev_open(NULL, why, sizeof(why));
	if (dev < 0)
		return dev;
	for (;;) {
		memset(&l, 0, sizeof(l));
		l.size = sizeof(l);
		l.entry_size = sizeof(*ents);
		l.count = (__u32)n;
		l.entries = (__u64)(uintptr_t)ents;
		ret = mod_ioctl(dev, AMXRT_IOC_ARENA_LIST, &l, "list", "*");
		if (ret)
			goto out;
		if (l.total <= (__u32)n) {
			n = (int)l.count;
			break;
		}
		n = (int)l.total + 4; /* room for some created meanwhile */
		free(ents);
		ents = calloc(n, sizeof(*ents));
		if (!ents) {
			ret = amxrt_err(ENOMEM, "out of memory listing arenas");
			goto out;
		}
	}
	names = calloc(n ? n : 1, sizeof(*names));
	if (!names) {
		ret = amxrt_err(ENOMEM, "out of memory listing arenas");
		goto out;
	}
	for (i = 0; i < n; i++) {
		ents[i].name[AMXRT_NAME_MAX - 1] = '\0';
		names[i] = strdup(ents[i].name);
		if (!names[i]) {
			while (i > 0)
				free(names[--i]);
			free(names);
			ret = amxrt_err(ENOMEM, "out of memory listing arenas");
			goto out;
		}
	}
	*out = names;
	ret = n;
out:
	free(ents);
	close(dev);
	return ret;
}

const struct arena_ops arena_module_ops = {
	.backend = AMXRT_ARENA_MODULE,
	.usable = mod_usable,
	.preferred = mod_preferred,
	.create = mod_create,
	.open = mod_open,
	.map = mod_map,
	.unmap = mod_unmap,
	.seal = mod_seal,
	.info = mod_info,
	.close = mod_close,
	.destroy = mod_destroy,
	.names = mod_names,
};

/* ---- amxrt_module_info() -------------------------------------------- */

int amxrt_module_info(struct amxrt_module_info *mi)
{
	struct amxrt_stats st;
	struct amxrt_info info;
	char why[256];
	int fd, n;

	if (!mi)
		return amxrt_err(EINVAL, "amxrt_module_info: info is NULL");
	memset(mi, 0, sizeof(*mi));
	fd = dev_open(&info, why, sizeof(why));
	if (fd < 0)
		return fd;
	memset(&st, 0, sizeof(st));
	st.size = sizeof(st);
	if (ioctl(fd, AMXRT_IOC_STATS, &st)) {
		int err = errno;

		close(fd);
		return amxrt_err(err, DEV_PATH ": AMXRT_IOC_STATS: %s",
				 strerror(err));
	}
	close(fd);
	mi->loaded = 1;
	snprintf(mi->version, sizeof(mi->version), "%u.%u.%u",
		 info.module_version >> 16, (info.module_version >> 8) & 0xff,
		 info.module_version & 0xff);
	mi->abi_version = info.abi_version;
	mi->can_admin = !!(info.flags & AMXRT_INFO_CAN_ADMIN);
	mi->cpuid7_edx = info.cpuid7_edx;
	mi->cpu_amx_tile = !!(info.cpu_amx & AMXRT_INFO_AMX_TILE);
	mi->cpu_amx_int8 = !!(info.cpu_amx & AMXRT_INFO_AMX_INT8);
	mi->cpu_amx_bf16 = !!(info.cpu_amx & AMXRT_INFO_AMX_BF16);
	mi->kernel_tile_state = !!(info.flags & AMXRT_INFO_KERNEL_XTILE);
	mi->process_tile_perm = !!(info.flags & AMXRT_INFO_PROC_TILE_PERM);
	mi->xfeatures_perm = info.xfeatures_perm;
	mi->max_palette = info.palette_max;
	mi->tile_total_bytes = info.total_tile_bytes;
	mi->tile_max_names = info.max_names;
	mi->tile_max_rows = info.max_rows;
	mi->tile_bytes_per_row = info.bytes_per_row;
	mi->tmul_max_k = info.tmul_maxk;
	mi->tmul_max_n = info.tmul_maxn;
	mi->sigstack_min =
		info.flags & AMXRT_INFO_SIGSTK_UNKNOWN ? 0 : info.sigstack_min;
	for (n = 0; n < AMXRT_MAX_NODES && n < AMXRT_MODULE_MAX_NODES; n++) {
		if (!(info.nodes_online & (1ull << n)))
			continue;
		mi->nodes[mi->nr_nodes].node = n;
		mi->nodes[mi->nr_nodes].free_bytes = info.node_free_bytes[n];
		mi->nodes[mi->nr_nodes].free_chunks = info.node_free_chunks[n];
		mi->nr_nodes++;
	}
	mi->pmd_maps = st.pmd_maps;
	mi->pte_maps = st.pte_maps;
	mi->faults = st.faults;
	mi->arena_bytes = st.bytes_allocated;
	mi->arena_limit = st.bytes_limit;
	mi->arenas = st.arenas;
	mi->arenas_created = st.arenas_created;
	mi->arenas_destroyed = st.arenas_destroyed;
	mi->alloc_failures = st.alloc_failures;
	return 0;
}
