// SPDX-License-Identifier: MIT
/*
 * tile.c - AMX tile data permission: the request (amxrt_tile_request()),
 * the pure classification of what happened into one cause, and the
 * sentences that explain it.
 *
 * What the kernel does (Linux 6.1, arch/x86/kernel/fpu/xstate.c and
 * arch/x86/kernel/signal.c):
 *  - arch_prctl(ARCH_REQ_XCOMP_PERM, 18) returns EOPNOTSUPP when tile data
 *    is not among the kernel's user xfeatures (no AMX in CPU, XCR0, or
 *    kernel config; a guest whose hypervisor hides it); an unknown
 *    arch_prctl code (kernels before 5.16) gives EINVAL.
 *  - Before granting, validate_sigaltstack() checks the alternate signal
 *    stack of every thread in the process against the signal frame size
 *    with the new state; one too small and the request fails with ENOSPC.
 *  - AT_MINSIGSTKSZ is that frame size computed at boot from the largest
 *    user xstate, tile data included, so it already counts the 8 KiB of
 *    tile data before any permission: a stack of at least AT_MINSIGSTKSZ
 *    always passes, and this file refuses smaller ones itself.
 *  - Once granted, sigaltstack() with a too-small stack fails with ENOMEM.
 *  - Permission is per process, inherited by fork(), dropped by exec().
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <amxrt/amxrt.h>

#include "cpu.h"

/* Set once granted: the kernel never takes permission back. */
static atomic_int tile_granted;

enum amxrt_tile_status amxrt_tile_classify(const struct amxrt_tile_facts *f)
{
	const uint64_t tiles = AMXRT_XTILECFG_MASK | AMXRT_XTILEDATA_MASK;

	if (!f->cpu_amx)
		return AMXRT_TILE_NO_CPU;
	if (f->xcomp_supp_err == EINVAL || f->req_err == EINVAL)
		return AMXRT_TILE_OLD_KERNEL;
	if ((f->xcr0 & tiles) != tiles ||
	    (!f->xcomp_supp_err && !(f->xcomp_supp & AMXRT_XTILEDATA_MASK)) ||
	    f->req_err == EOPNOTSUPP || f->req_err == ENODEV)
		return AMXRT_TILE_NOT_ENABLED;
	if (f->sigstack_small || f->req_err == ENOSPC)
		return AMXRT_TILE_SIGSTACK;
	if (f->req_err == 0 &&
	    (f->perm_err || (f->perm & AMXRT_XTILEDATA_MASK)))
		return AMXRT_TILE_GRANTED;
	return AMXRT_TILE_REFUSED;
}

enum amxrt_tile_status amxrt_tile_request_facts(struct amxrt_tile_facts *f)
{
	const struct amxrt_cpu_info *ci = amxrt_cpu_cached();
	enum amxrt_tile_status status;
	stack_t ss;

	memset(f, 0, sizeof(*f));
	f->cpu_amx = !!(ci->features & AMXRT_CPU_AMX_TILE);
	f->xcr0 = ci->xcr0;
	f->xcomp_supp = ci->xcomp_supp;
	f->xcomp_supp_err = ci->xcomp_supp_err;
	f->minsigstksz = ci->minsigstksz;
	f->req_err = -1;

	if (atomic_load_explicit(&tile_granted, memory_order_acquire)) {
		f->req_err = 0;
		f->perm = AMXRT_XTILECFG_MASK | AMXRT_XTILEDATA_MASK;
		return AMXRT_TILE_GRANTED;
	}

	/* Only this thread's stack can be seen; the kernel checks them all. */
	if (!sigaltstack(NULL, &ss) && !(ss.ss_flags & SS_DISABLE)) {
		f->sigstack_size = ss.ss_size;
		f->sigstack_small = f->minsigstksz &&
				    ss.ss_size < f->minsigstksz;
	}

	if (!f->sigstack_small) {
		if (syscall(SYS_arch_prctl, AMXRT_ARCH_REQ_XCOMP_PERM,
			    AMXRT_XFEATURE_XTILEDATA))
			f->req_err = errno ? errno : EINVAL;
		else
			f->req_err = 0;
	}
	if (f->req_err == 0) {
		unsigned long perm = 0;

		if (syscall(SYS_arch_prctl, AMXRT_ARCH_GET_XCOMP_PERM, &perm))
			f->perm_err = errno ? errno : EINVAL;
		f->perm = perm;
	}

	status = amxrt_tile_classify(f);
	if (status == AMXRT_TILE_GRANTED)
		atomic_store_explicit(&tile_granted, 1, memory_order_release);
	return status;
}

enum amxrt_tile_status amxrt_tile_request(int *err_out)
{
	struct amxrt_tile_facts f;
	enum amxrt_tile_status status = amxrt_tile_request_facts(&f);

	if (err_out)
		*err_out = f.req_err > 0 ? f.req_err : 0;
	return status;
}

const char *amxrt_tile_status_str(enum amxrt_tile_status status)
{
	switch (status) {
	case AMXRT_TILE_GRANTED:
		return "the kernel granted this process AMX tile data "
		       "(arch_prctl(ARCH_REQ_XCOMP_PERM, 18))";
	case AMXRT_TILE_NO_CPU:
		return "this CPU has no AMX tile unit "
		       "(CPUID.7.0:EDX[24] AMX-TILE = 0)";
	case AMXRT_TILE_OLD_KERNEL:
		return "the kernel is older than Linux 5.16 and cannot grant "
		       "tile data (arch_prctl has no XCOMP options)";
	case AMXRT_TILE_NOT_ENABLED:
		return "the CPU has AMX but the kernel or hypervisor does not "
		       "enable tile state (XCR0 or ARCH_GET_XCOMP_SUPP "
		       "lacks bit 18)";
	case AMXRT_TILE_SIGSTACK:
		return "an alternate signal stack in this process is smaller "
		       "than AT_MINSIGSTKSZ, too small for a signal frame "
		       "with tile data";
	case AMXRT_TILE_REFUSED:
		return "the kernel refused tile data permission";
	}
	return "unknown tile status";
}

/* Append "; " (unless first) and a formatted clause to buf. */
void amxrt_clause(char *buf, size_t len, const char *fmt, ...)
{
	size_t used = strnlen(buf, len);
	va_list ap;

	if (used + 1 >= len)
		return;
	if (used) {
		snprintf(buf + used, len - used, "; ");
		used = strnlen(buf, len);
	}
	va_start(ap, fmt);
	vsnprintf(buf + used, len - used, fmt, ap);
	va_end(ap);
}

static const char *req_meaning(int err)
{
	switch (err) {
	case EOPNOTSUPP:
	case ENODEV:
		return "the kernel offers no tile state to request";
	case EINVAL:
		return "the kernel predates Linux 5.16 (no XCOMP arch_prctl)";
	case EPERM:
	case EACCES:
		return "not permitted (a seccomp filter?)";
	}
	return "the kernel refused";
}

void amxrt_tile_explain(const struct amxrt_tile_facts *f,
			enum amxrt_tile_status status, char *buf, size_t len)
{
	const uint64_t tiles = AMXRT_XTILECFG_MASK | AMXRT_XTILEDATA_MASK;
	char nb[24];

	if (!buf || !len)
		return;
	buf[0] = '\0';
	if (status == AMXRT_TILE_GRANTED)
		return;

	if (f->xcomp_supp_err == EINVAL && f->req_err != EINVAL)
		amxrt_clause(
			buf, len,
			"arch_prctl(ARCH_GET_XCOMP_SUPP) returned EINVAL: "
			"the kernel predates Linux 5.16 (no XCOMP arch_prctl)");
	if (f->cpu_amx && (f->xcr0 & tiles) != tiles)
		amxrt_clause(
			buf, len,
			"XCR0 = 0x%llx lacks tile state (bit 17 = %d, "
			"bit 18 = %d): the kernel or hypervisor keeps AMX off",
			(unsigned long long)f->xcr0,
			!!(f->xcr0 & AMXRT_XTILECFG_MASK),
			!!(f->xcr0 & AMXRT_XTILEDATA_MASK));
	if (f->cpu_amx && !f->xcomp_supp_err &&
	    !(f->xcomp_supp & AMXRT_XTILEDATA_MASK))
		amxrt_clause(buf, len,
			     "ARCH_GET_XCOMP_SUPP = 0x%llx lacks bit 18: "
			     "the kernel does not support tile data",
			     (unsigned long long)f->xcomp_supp);
	if (f->sigstack_small)
		amxrt_clause(
			buf, len,
			"this thread's alternate signal stack is %zu bytes, "
			"less than AT_MINSIGSTKSZ = %llu bytes that a signal "
			"frame with tile data needs; permission was not "
			"requested",
			f->sigstack_size, (unsigned long long)f->minsigstksz);
	if (f->req_err == ENOSPC)
		amxrt_clause(
			buf, len,
			"arch_prctl(ARCH_REQ_XCOMP_PERM, 18) returned ENOSPC: "
			"a thread of this process has an alternate signal "
			"stack smaller than AT_MINSIGSTKSZ = %llu bytes",
			(unsigned long long)f->minsigstksz);
	else if (f->req_err > 0)
		amxrt_clause(
			buf, len,
			"arch_prctl(ARCH_REQ_XCOMP_PERM, 18) returned %s: %s",
			amxrt_errno_name(f->req_err, nb, sizeof(nb)),
			req_meaning(f->req_err));
	if (f->req_err == 0 && status == AMXRT_TILE_REFUSED)
		amxrt_clause(
			buf, len,
			"arch_prctl(ARCH_REQ_XCOMP_PERM, 18) succeeded but "
			"ARCH_GET_XCOMP_PERM = 0x%llx lacks bit 18",
			(unsigned long long)f->perm);
	if (!buf[0])
		amxrt_clause(buf, len, "%s", amxrt_tile_status_str(status));
}
