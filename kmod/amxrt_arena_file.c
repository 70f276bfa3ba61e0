// SPDX-License-Identifier: GPL-2.0
/*
 * amxrt_arena_file.c - arena fds and their mappings: a small pseudo file
 * system gives each arena fd its own inode, mmap checks the seal, and the
 * fault handlers map 2 MiB chunks with PMD entries (4 KiB PTEs where the
 * mapping is not 2 MiB aligned), counting both.
 *
 * The core mm calls ->huge_fault() only for anonymous, shmem and DAX
 * vmas, never for a plain VM_PFNMAP one. An arena inode is marked S_DAX
 * so that vma_is_dax() lets the 2 MiB fault through; the vma stays
 * VM_PFNMAP (no struct page refcounting, no GUP, no migration) and is
 * never private-writable, so it is never a COW mapping.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/capability.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/pfn_t.h>
#include <linux/pseudo_fs.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/version.h>

#include "amxrt_internal.h"

#define AMXRT_FS_MAGIC 0x616d7872 /* "amxr" */

#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 3, 0)
static inline void vm_flags_set(struct vm_area_struct *vma, vm_flags_t flags)
{
	vma->vm_flags |= flags;
}

static inline void vm_flags_clear(struct vm_area_struct *vma, vm_flags_t flags)
{
	vma->vm_flags &= ~flags;
}
#endif

static struct vfsmount *amxrt_mnt;

/* ---- mappings ----------------------------------------------------------- */

static bool amxrt_vma_may_write(struct vm_area_struct *vma)
{
	return (vma->vm_flags & VM_SHARED) && (vma->vm_flags & VM_MAYWRITE);
}

static void amxrt_vm_open(struct vm_area_struct *vma)
{
	struct amxrt_arena *a = vma->vm_private_data;

	spin_lock(&a->lock);
	a->maps++;
	if (amxrt_vma_may_write(vma))
		a->writable_maps++;
	spin_unlock(&a->lock);
}

static void amxrt_vm_close(struct vm_area_struct *vma)
{
	struct amxrt_arena *a = vma->vm_private_data;

	spin_lock(&a->lock);
	a->maps--;
	if (amxrt_vma_may_write(vma))
		a->writable_maps--;
	spin_unlock(&a->lock);
}

/* 4 KiB entry: the vma is not 2 MiB aligned here, or the PMD path fell back */
static vm_fault_t amxrt_vm_fault(struct vm_fault *vmf)
{
	struct amxrt_arena *a = vmf->vma->vm_private_data;
	pgoff_t pgoff = vmf->pgoff;
	unsigned long pfn;
	vm_fault_t ret;

	atomic64_inc(&amxrt_stat.faults);
	if (pgoff >= a->nr_chunks * AMXRT_CHUNK_PAGES)
		return VM_FAULT_SIGBUS;
	pfn = page_to_pfn(a->chunks[pgoff >> AMXRT_CHUNK_ORDER]) +
	      (pgoff & (AMXRT_CHUNK_PAGES - 1));
	ret = vmf_insert_pfn(vmf->vma, vmf->address, pfn);
	if (ret == VM_FAULT_NOPAGE)
		atomic64_inc(&amxrt_stat.pte_maps);
	return ret;
}

/* 2 MiB entry, when the whole chunk lies in the vma at a 2 MiB address */
static vm_fault_t amxrt_vm_fault_pmd(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	struct amxrt_arena *a = vma->vm_private_data;
	unsigned long haddr = vmf->address & PMD_MASK;
	pgoff_t pgoff;
	vm_fault_t ret;

	atomic64_inc(&amxrt_stat.faults);
	if (haddr < vma->vm_start || haddr + PMD_SIZE > vma->vm_end)
		return VM_FAULT_FALLBACK;
	pgoff = vma->vm_pgoff + ((haddr - vma->vm_start) >> PAGE_SHIFT);
	if (pgoff & (AMXRT_CHUNK_PAGES - 1))
		return VM_FAULT_FALLBACK;
	if (pgoff >= a->nr_chunks * AMXRT_CHUNK_PAGES)
		return VM_FAULT_SIGBUS;
	ret = vmf_insert_pfn_pmd(
		vmf,
		pfn_to_pfn_t(
			page_to_pfn(a->chunks[pgoff >> AMXRT_CHUNK_ORDER])),
		!!(vma->vm_flags & VM_WRITE));
	if (ret == VM_FAULT_NOPAGE)
		atomic64_inc(&amxrt_stat.pmd_maps);
	return ret;
}

#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 6, 0)
static vm_fault_t amxrt_vm_huge_fault(struct vm_fault *vmf, unsigned int order)
{
	if (order != PMD_ORDER)
		return VM_FAULT_FALLBACK;
	return amxrt_vm_fault_pmd(vmf);
}
#else
static vm_fault_t amxrt_vm_huge_fault(struct vm_fault *vmf,
				      enum page_entry_size pe_size)
{
	if (pe_size != PE_SIZE_PMD)
		return VM_FAULT_FALLBACK;
	return amxrt_vm_fault_pmd(vmf);
}
#endif

static const struct vm_operations_struct amxrt_vm_ops = {
	.open = amxrt_vm_open,
	.close = amxrt_vm_close,
	.fault = amxrt_vm_fault,
	.huge_fault = amxrt_vm_huge_fault,
};

/*
 * Any page-aligned window inside the arena. Private mappings are read-only
 * for good; a sealed arena gets only read-only mappings; a destroyed one
 * none.
 */
static int amxrt_arena_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct amxrt_arena *a = file->private_data;
	unsigned long pages = a->nr_chunks * AMXRT_CHUNK_PAGES;
	unsigned long len = (vma->vm_end - vma->vm_start) >> PAGE_SHIFT;
	int err = 0;

	if (vma->vm_pgoff >= pages || len > pages - vma->vm_pgoff)
		return -EINVAL;
	if (!(vma->vm_flags & VM_SHARED)) {
		if (vma->vm_flags & VM_WRITE)
			return -EINVAL;
		vm_flags_clear(vma, VM_MAYWRITE);
	}
	spin_lock(&a->lock);
	if (a->destroyed) {
		err = -EIDRM;
	} else if (a->sealed && (vma->vm_flags & VM_WRITE)) {
		err = -EPERM;
	} else {
		if (a->sealed)
			vm_flags_clear(vma, VM_MAYWRITE);
		a->maps++;
		if (amxrt_vma_may_write(vma))
			a->writable_maps++;
	}
	spin_unlock(&a->lock);
	if (err)
		return err;
	vm_flags_set(vma,
		     VM_PFNMAP | VM_DONTEXPAND | VM_DONTDUMP | VM_HUGEPAGE);
	vma->vm_ops = &amxrt_vm_ops;
	vma->vm_private_data = a;
	return 0;
}

/* ---- arena fd ----------------------------------------------------------- */

static long amxrt_arena_ioctl_seal(struct file *file, void __user *argp)
{
	struct amxrt_arena *a = file->private_data;
	struct amxrt_arena_ref req;
	size_t i;

	if (!(file->f_mode & FMODE_WRITE) && !capable(CAP_SYS_ADMIN))
		return -EPERM;
	if (copy_from_user(&req, argp, sizeof(req)))
		return -EFAULT;
	if (req.size != sizeof(req) || req.flags)
		return -EINVAL;
	for (i = 0; i < ARRAY_SIZE(req.reserved); i++)
		if (req.reserved[i])
			return -EINVAL;
	/* the name is empty or this arena's */
	if (memchr_inv(req.name, 0, AMXRT_NAME_MAX) &&
	    memcmp(req.name, a->name, AMXRT_NAME_MAX))
		return -EINVAL;
	return amxrt_arena_seal(a);
}

static long amxrt_arena_ioctl_query(struct file *file, void __user *argp)
{
	struct amxrt_arena_query req;
	size_t i;

	if (copy_from_user(&req, argp, sizeof(req)))
		return -EFAULT;
	if (req.size != sizeof(req) || req.flags ||
	    memchr_inv(&req.entry, 0, sizeof(req.entry)))
		return -EINVAL;
	for (i = 0; i < ARRAY_SIZE(req.reserved); i++)
		if (req.reserved[i])
			return -EINVAL;
	amxrt_arena_fill_entry(file->private_data, &req.entry);
	if (copy_to_user(argp, &req, sizeof(req)))
		return -EFAULT;
	return 0;
}

static long amxrt_arena_ioctl(struct file *file, unsigned int cmd,
			      unsigned long arg)
{
	void __user *argp = (void __user *)arg;

	switch (cmd) {
	case AMXRT_IOC_ARENA_SEAL:
		return amxrt_arena_ioctl_seal(file, argp);
	case AMXRT_IOC_ARENA_QUERY:
		return amxrt_arena_ioctl_query(file, argp);
	default:
		return -ENOTTY;
	}
}

static int amxrt_arena_release(struct inode *inode, struct file *file)
{
	struct amxrt_arena *a = file->private_data;

	spin_lock(&a->lock);
	a->fds--;
	spin_unlock(&a->lock);
	amxrt_arena_put(a);
	return 0;
}

static const struct file_operations amxrt_arena_fops = {
	.owner = THIS_MODULE,
	.mmap = amxrt_arena_mmap,
	.get_unmapped_area = thp_get_unmapped_area, /* 2 MiB aligned (S_DAX) */
	.unlocked_ioctl = amxrt_arena_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.release = amxrt_arena_release,
	.llseek = noop_llseek,
};

/*
 * A new fd-less file for the arena (read-write or read-only), holding a
 * reference on the arena and one on the module (dropped by fput()).
 */
struct file *amxrt_arena_file(struct amxrt_arena *a, bool writable)
{
	char name[AMXRT_NAME_MAX + 8];
	struct inode *inode;
	struct file *f;

	inode = alloc_anon_inode(amxrt_mnt->mnt_sb);
	if (IS_ERR(inode))
		return ERR_CAST(inode);
	inode->i_flags |= S_DAX;
	inode->i_size = a->bytes;
	snprintf(name, sizeof(name), "amxrt:%s", a->name);
	__module_get(THIS_MODULE);
	f = alloc_file_pseudo(inode, amxrt_mnt, name,
			      writable ? O_RDWR : O_RDONLY, &amxrt_arena_fops);
	if (IS_ERR(f)) {
		iput(inode);
		module_put(THIS_MODULE);
		return f;
	}
	kref_get(&a->ref);
	f->private_data = a;
	spin_lock(&a->lock);
	a->fds++;
	spin_unlock(&a->lock);
	return f;
}

/* ---- the pseudo file system --------------------------------------------- */

static int amxrt_fs_init_fs_context(struct fs_context *fc)
{
	return init_pseudo(fc, AMXRT_FS_MAGIC) ? 0 : -ENOMEM;
}

/* no .owner: the internal mount must not pin the module */
static struct file_system_type amxrt_fs_type = {
	.name = "amxrt",
	.init_fs_context = amxrt_fs_init_fs_context,
	.kill_sb = kill_anon_super,
};

int amxrt_fs_init(void)
{
	amxrt_mnt = kern_mount(&amxrt_fs_type);
	if (IS_ERR(amxrt_mnt)) {
		pr_err("cannot mount the arena file system: %ld\n",
		       PTR_ERR(amxrt_mnt));
		return PTR_ERR(amxrt_mnt);
	}
	return 0;
}

void amxrt_fs_exit(void)
{
	kern_unmount(amxrt_mnt);
}
