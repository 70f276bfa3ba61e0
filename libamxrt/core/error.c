// SPDX-License-Identifier: MIT
/*
 * error.c - per-thread error messages and the library version.
 */
#include <stdarg.h>
#include <stdio.h>

#include <amxrt/amxrt.h>

#include "error.h"

static _Thread_local char errmsg[512];

int amxrt_err(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(errmsg, sizeof(errmsg), fmt, ap);
	va_end(ap);
	return -err;
}

const char *amxrt_errmsg(void)
{
	return errmsg;
}

const char *amxrt_version(void)
{
	return AMXRT_VERSION_STRING;
}
