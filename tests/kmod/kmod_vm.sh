#!/bin/sh
# SPDX-License-Identifier: MIT
#
# kmod_vm - installed as BUILD/tests/kmod_vm by "make tests": run_tests.sh
# runs it like any test program; it runs scripts/kmod-check.sh (amxrt.ko
# and its kselftests in QEMU), whose KTAP ends with the guest's Totals.
src=${AMXRT_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
exec "$src/scripts/kmod-check.sh"
