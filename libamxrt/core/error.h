/* SPDX-License-Identifier: MIT */
/*
 * error.h - the per-thread error message behind amxrt_errmsg(). Internal.
 */
#ifndef AMXRT_CORE_ERROR_H
#define AMXRT_CORE_ERROR_H

/*
 * Record a message for amxrt_errmsg() and return -err, so a failing call
 * reads: return amxrt_err(EINVAL, "k = %lld is not a multiple of 32", k);
 */
int amxrt_err(int err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define AMXRT_HIDDEN __attribute__((visibility("hidden")))

#endif /* AMXRT_CORE_ERROR_H */
