// SPDX-License-Identifier: GPL-2.0
/*
 * amxrt_main.c - amxrt.ko: module parameters, the /dev/amxrt misc device,
 * ioctl dispatch, the privilege rule and name checks; load and unload.
 *
 * Privilege: creating, sealing and destroying arenas needs CAP_SYS_ADMIN
 * or a /dev/amxrt fd opened for writing (so, with the udev rule, the
 * "amxrt" group). Any fd may ask INFO, STATS, LIST and OPEN (read-only).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/capability.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/uaccess.h>

#include "amxrt_internal.h"

static unsigned int max_total_mb;
module_param(max_total_mb, uint, 0644);
MODULE_PARM_DESC(
	max_total_mb,
	"Limit on the memory of all arenas together, in MiB (default 0: half of RAM)");

static unsigned int max_arenas = 1024;
module_param(max_arenas, uint, 0644);
MODULE_PARM_DESC(max_arenas,
		 "Limit on the number of arenas (default 1024, 0: no arena)");

struct amxrt_counters amxrt_stat;

u64 amxrt_bytes_limit(void)
{
	unsigned int mb = READ_ONCE(max_total_mb);

	if (!mb)
		return (u64)totalram_pages() << PAGE_SHIFT >> 1;
	return (u64)mb << 20;
}

unsigned int amxrt_max_arenas(void)
{
	return READ_ONCE(max_arenas);
}

bool amxrt_can_admin(struct file *file)
{
	return (file->f_mode & FMODE_WRITE) || capable(CAP_SYS_ADMIN);
}

/*
 * A name: 1..AMXRT_NAME_MAX-1 bytes in 0x21..0x7e except '/', then a NUL,
 * then only NULs to the end of the array.
 */
int amxrt_check_name(const char *name)
{
	size_t len = strnlen(name, AMXRT_NAME_MAX);
	size_t i;

	if (len == 0 || len == AMXRT_NAME_MAX)
		return -EINVAL;
	for (i = 0; i < len; i++)
		if (name[i] < 0x21 || name[i] > 0x7e || name[i] == '/')
			return -EINVAL;
	for (; i < AMXRT_NAME_MAX; i++)
		if (name[i])
			return -EINVAL;
	return 0;
}

static long amxrt_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	void __user *argp = (void __user *)arg;

	switch (cmd) {
	case AMXRT_IOC_INFO:
		return amxrt_ioctl_info(file, argp);
	case AMXRT_IOC_STATS:
		return amxrt_ioctl_stats(argp);
	case AMXRT_IOC_ARENA_CREATE:
		return amxrt_ioctl_create(file, argp);
	case AMXRT_IOC_ARENA_OPEN:
		return amxrt_ioctl_open(file, argp);
	case AMXRT_IOC_ARENA_SEAL:
		return amxrt_ioctl_seal(file, argp);
	case AMXRT_IOC_ARENA_DESTROY:
		return amxrt_ioctl_destroy(file, argp);
	case AMXRT_IOC_ARENA_LIST:
		return amxrt_ioctl_list(argp);
	default:
		return -ENOTTY;
	}
}

static const struct file_operations amxrt_dev_fops = {
	.owner = THIS_MODULE,
	.unlocked_ioctl = amxrt_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

static struct miscdevice amxrt_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = AMXRT_DEVICE_NAME,
	.fops = &amxrt_dev_fops,
	.mode = 0600, /* udev (99-amxrt.rules) sets group and mode */
};

static int __init amxrt_init(void)
{
	int err;

	err = amxrt_fs_init();
	if (err)
		return err;
	err = misc_register(&amxrt_misc);
	if (err)
		goto err_fs;
	amxrt_debugfs_init();
	return 0;

err_fs:
	amxrt_fs_exit();
	return err;
}

static void __exit amxrt_exit(void)
{
	amxrt_debugfs_exit();
	misc_deregister(&amxrt_misc);
	/* No arena fd is open (each holds a module reference): free all. */
	amxrt_arenas_free_all();
	amxrt_fs_exit();
}

module_init(amxrt_init);
module_exit(amxrt_exit);

MODULE_DESCRIPTION(
	"amxrt: AMX tile-state report and NUMA-placed 2 MiB weight arenas");
MODULE_AUTHOR("amxrt developers");
MODULE_LICENSE("GPL");
MODULE_VERSION(AMXRT_VERSION_STR);
