/* SPDX-License-Identifier: MIT */
/*
 * clock.h - the one clock the library times itself with (load phases,
 * the limits' runs, read passes): CLOCK_MONOTONIC in seconds. Internal.
 */
#ifndef AMXRT_CORE_CLOCK_H
#define AMXRT_CORE_CLOCK_H

#include <time.h>

static inline double amxrt_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

#endif /* AMXRT_CORE_CLOCK_H */
