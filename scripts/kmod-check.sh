#!/bin/bash
# SPDX-License-Identifier: MIT
#
# kmod-check.sh - test amxrt.ko in QEMU: build the module against Debian's
# linux-headers-amd64, build the static in-guest tests (tests/kmod/kmod_*.c,
# and tests/arena.c and tests/numa.c when they exist), pack them with busybox into an
# initramfs, boot Debian's kernel (TCG, 2 CPUs on 2 NUMA nodes, 1 GiB),
# insmod, run the tests, check that rmmod is refused while an arena is
# mapped, rmmod, and read the results from the second serial port.
#
# Prints KTAP: each guest program as an indented subtest, then the
# harness's own checks, then "# Totals: ..." counting every guest test.
# Fails on any "not ok", a missing result, a non-zero exit, a kernel
# WARNING/BUG/Oops/Call Trace in dmesg, or a failed rmmod. Exits 4 (skip)
# with the reason when qemu, busybox-static or the kernel image cannot be
# had (never on CI: there scripts/install-deps.sh installs them).
#
# Environment: KVER (default: what linux-headers-amd64 depends on),
# VMDIR (default build/kmod-vm: kernel image cache, initramfs, logs),
# KMOD_VM_TIMEOUT (seconds, default 300), KMOD_VM_BOOT_WAIT (seconds to
# reach /init before one retry of the boot, default 60), KMOD_VM_KEEP=1
# keeps the logs of a passing run in VMDIR.
set -u
SRC=$(cd "$(dirname "$0")/.." && pwd)
VMDIR=${VMDIR:-$SRC/build/kmod-vm}
TIMEOUT=${KMOD_VM_TIMEOUT:-300}
KSFT_TARBALL=${KSFT_TARBALL:-/usr/src/linux-source-6.1.tar.xz}

skip() {
	echo "TAP version 13"
	echo "1..0 # SKIP $*"
	echo "# Totals: pass:0 fail:0 xfail:0 xpass:0 skip:1 error:0"
	exit 4
}

die() {
	echo "TAP version 13"
	echo "1..1"
	echo "not ok 1 kmod_vm # $*"
	echo "# Totals: pass:0 fail:1 xfail:0 xpass:0 skip:0 error:0"
	exit 1
}

mkdir -p "$VMDIR"
# One run at a time per VMDIR (make check and make check SAN=1 share it).
exec 9>"$VMDIR/.lock"
flock 9

# ---- what the run needs --------------------------------------------------
KVER=${KVER:-$(dpkg-query -W -f='${Depends}' linux-headers-amd64 2>/dev/null |
	sed -n 's/^linux-headers-\([^ ,]*\).*/\1/p')}
[ -n "$KVER" ] || skip "linux-headers-amd64 is not installed (scripts/install-deps.sh)"
KDIR=/usr/src/linux-headers-$KVER
[ -d "$KDIR" ] || skip "$KDIR is missing (apt-get install linux-headers-amd64)"
command -v qemu-system-x86_64 >/dev/null ||
	skip "qemu-system-x86_64 is missing (apt-get install qemu-system-x86)"
command -v cpio >/dev/null || skip "cpio is missing (apt-get install cpio)"
BUSYBOX=$(command -v busybox || true)
[ -n "$BUSYBOX" ] && readelf -l "$BUSYBOX" 2>/dev/null | grep -q LOAD &&
	! readelf -l "$BUSYBOX" 2>/dev/null | grep -q INTERP ||
	skip "no static busybox (apt-get install busybox-static)"

KERNEL=$VMDIR/vmlinuz-$KVER
if [ ! -s "$KERNEL" ]; then
	tmp=$(mktemp -d)
	if ! (cd "$tmp" && apt-get download "linux-image-$KVER" >/dev/null 2>&1); then
		rm -rf "$tmp"
		skip "cannot download linux-image-$KVER with apt-get download"
	fi
	dpkg-deb --fsys-tarfile "$tmp"/linux-image-"$KVER"_*.deb |
		tar -x -C "$tmp" "./boot/vmlinuz-$KVER" &&
		mv "$tmp/boot/vmlinuz-$KVER" "$KERNEL"
	rm -rf "$tmp"
	[ -s "$KERNEL" ] || skip "no vmlinuz-$KVER in linux-image-$KVER"
fi

# ---- build ---------------------------------------------------------------
# Run from "make check SAN=1" too: the parent's variables stay out.
unset MAKEFLAGS MFLAGS MAKELEVEL
make -s -C "$SRC/kmod" KDIR="$KDIR" W=1 >"$VMDIR/kmod-build.log" 2>&1 ||
	{ cat "$VMDIR/kmod-build.log"; die "building amxrt.ko failed"; }
# the module must build warning-free with the kernel's W=1 warnings
if grep -q "warning:" "$VMDIR/kmod-build.log"; then
	cat "$VMDIR/kmod-build.log"
	die "amxrt.ko has compiler warnings at W=1"
fi

KSFT=$SRC/build/kselftest
if [ ! -r "$KSFT/kselftest_harness.h" ]; then
	make -s -C "$SRC" kselftest-headers SAN=0 BUILD=build >/dev/null 2>&1 ||
		die "no kselftest headers ($KSFT_TARBALL)"
fi

ROOT=$VMDIR/root
rm -rf "$ROOT"
mkdir -p "$ROOT"/{bin,tests,proc,sys,dev,tmp}
CFLAGS="-std=gnu11 -O2 -g -static -march=x86-64 -mtune=generic -D_GNU_SOURCE
	-pthread -Wall -Wextra -Wno-unused-parameter -I$SRC/include/uapi
	-I$SRC/include -I$SRC/tests/kmod -isystem $KSFT"
for c in "$SRC"/tests/kmod/*.c; do
	name=$(basename "$c" .c)
	case $name in
	kmod_*) out=$ROOT/tests/$name ;;
	*) out=$ROOT/bin/$name ;; # helpers the init script runs
	esac
	# shellcheck disable=SC2086
	cc $CFLAGS "$c" -o "$out" >>"$VMDIR/kmod-build.log" 2>&1 ||
		{ cat "$VMDIR/kmod-build.log"; die "building $name failed"; }
done
# The libamxrt arena tests (host fallbacks) and NUMA tests (two nodes
# here) also run in the guest.
for t in arena numa model_arena; do
	[ -f "$SRC/tests/$t.c" ] || continue
	make -s -C "$SRC" lib SAN=0 BUILD=build >>"$VMDIR/kmod-build.log" 2>&1 &&
		# shellcheck disable=SC2086
		cc $CFLAGS -I"$SRC/tests" "$SRC/tests/$t.c" "$SRC/build/lib/libamxrt.a" \
			-o "$ROOT/tests/$t" -lpcre2-8 -lnuma -luring -lm \
			>>"$VMDIR/kmod-build.log" 2>&1 ||
		{ cat "$VMDIR/kmod-build.log"; die "building tests/$t.c (static) failed"; }
done
cp "$SRC/kmod/amxrt.ko" "$ROOT/"
cp "$BUSYBOX" "$ROOT/bin/busybox"
cp "$SRC/tests/kmod/guest-init.sh" "$ROOT/init"
chmod 755 "$ROOT/init"
(cd "$ROOT" && find . | cpio -o -H newc 2>/dev/null | gzip -1) >"$VMDIR/initrd.gz"

# ---- boot ----------------------------------------------------------------
CONSOLE=$VMDIR/console.log
RESULTS=$VMDIR/results.log
# The guest reaches /init (AMXRT-BEGIN on the second serial port) 2-3 s
# after QEMU starts. Once on CI a boot printed nothing at all for the
# whole timeout, before any code of ours ran; a boot that has not reached
# /init within BOOT_WAIT seconds is therefore stopped and started again,
# once, and the output says so. A guest that hangs after /init (our
# module, our tests) is never retried.
BOOT_WAIT=${KMOD_VM_BOOT_WAIT:-60}
boot_vm() { # 0 or qemu's exit status; 125: did not reach /init
	local qpid waited=0
	rm -f "$CONSOLE" "$RESULTS"
	timeout -k 5 "$TIMEOUT" qemu-system-x86_64 -accel tcg -cpu max -m 1024 \
		-smp 2,sockets=2,cores=1,threads=1 \
		-object memory-backend-ram,id=m0,size=512M \
		-object memory-backend-ram,id=m1,size=512M \
		-numa node,nodeid=0,cpus=0,memdev=m0 \
		-numa node,nodeid=1,cpus=1,memdev=m1 \
		-kernel "$KERNEL" -initrd "$VMDIR/initrd.gz" \
		-append "console=ttyS0 quiet panic=-1 rdinit=/init" \
		-display none -monitor none -no-reboot \
		-serial "file:$CONSOLE" -serial "file:$RESULTS" \
		>"$VMDIR/qemu.log" 2>&1 &
	qpid=$!
	while kill -0 "$qpid" 2>/dev/null &&
		! grep -q '^AMXRT-BEGIN' "$RESULTS" 2>/dev/null; do
		if [ "$waited" -ge "$BOOT_WAIT" ]; then
			kill "$qpid" 2>/dev/null
			wait "$qpid"
			return 125
		fi
		sleep 1
		waited=$((waited + 1))
	done
	wait "$qpid"
}
start=$(date +%s)
boot_vm
qrc=$?
retried=
if [ "$qrc" = 125 ]; then
	retried="the first boot had not reached /init after ${BOOT_WAIT}s (nothing from the guest): stopped and booted again"
	boot_vm
	qrc=$?
	[ "$qrc" = 125 ] &&
		retried="$retried; that one had not either (qemu exit 125: stopped)"
fi
vm_secs=$(($(date +%s) - start))

# ---- results ---------------------------------------------------------------
tr -d '\r' <"$RESULTS" >"$RESULTS.txt" 2>/dev/null || : >"$RESULTS.txt"
echo "TAP version 13"
boot=$(sed -n 's/^AMXRT-BEGIN uptime=\([0-9.]*\)$/\1/p' "$RESULTS.txt")
echo "# amxrt.ko in QEMU: kernel $KVER, TCG, 2 NUMA nodes: ${vm_secs}s from" \
	"start to power-off, ${boot:-?}s to /init"
[ -n "$retried" ] && echo "# $retried"
pass=0 fail=0 skip=0 n=0
report() { # status name [directive]
	n=$((n + 1))
	case $1 in
	ok) echo "ok $n $2${3:+ # $3}" ;;
	*) echo "not ok $n $2${3:+ # $3}" ;;
	esac
}

progs=$(sed -n 's/^AMXRT-PROG-BEGIN \(.*\)$/\1/p' "$RESULTS.txt")
expected=$(cd "$ROOT/tests" && ls)
nplan=$(($(echo "$expected" | wc -w) + 6))
echo "1..$nplan"
for name in $expected; do
	out=$(sed -n "/^AMXRT-PROG-BEGIN $name\$/,/^AMXRT-PROG-END $name /p" "$RESULTS.txt")
	body=$(sed '1d;$d' <<<"$out")
	[ -n "$out" ] && sed 's/^/    /' <<<"$body"
	end=$(grep "^AMXRT-PROG-END $name " <<<"$out")
	rc=$(sed -n 's/.* rc=\([0-9]*\)$/\1/p' <<<"$end")
	secs=$(sed -n 's/.* secs=\([0-9]*\) .*/\1/p' <<<"$end")
	[ -n "$end" ] && echo "# $name: ${secs}s in the guest"
	tot=$(grep -E '^# Totals: ' <<<"$body" | tail -n 1)
	if [ -z "$end" ]; then
		fail=$((fail + 1))
		report "not ok" "$name" "no result: the guest did not finish it"
		continue
	fi
	if [ -z "$tot" ]; then
		if [ "$rc" = 4 ]; then
			skip=$((skip + 1))
			report ok "$name" "SKIP skipped as a whole"
		else
			fail=$((fail + 1))
			report "not ok" "$name" "no Totals line, exit status $rc"
		fi
		continue
	fi
	p=$(sed -E 's/.* pass:([0-9]+).*/\1/' <<<"$tot")
	f=$(sed -E 's/.* fail:([0-9]+).*/\1/' <<<"$tot")
	s=$(sed -E 's/.* skip:([0-9]+).*/\1/' <<<"$tot")
	e=$(sed -E 's/.* error:([0-9]+).*/\1/' <<<"$tot")
	nok=$(grep -c '^not ok' <<<"$body")
	pass=$((pass + p)) skip=$((skip + s)) fail=$((fail + f + e))
	if [ "$f" -gt 0 ] || [ "$e" -gt 0 ] || [ "$nok" -gt 0 ]; then
		report "not ok" "$name"
	elif [ "$rc" != 0 ] && [ "$rc" != 4 ]; then
		fail=$((fail + 1))
		report "not ok" "$name" "exit status $rc"
	else
		report ok "$name"
	fi
done
unset progs

check() { # name condition-command...
	local name=$1
	shift
	if "$@"; then
		pass=$((pass + 1))
		report ok "$name"
	else
		fail=$((fail + 1))
		report "not ok" "$name"
	fi
}
check "insmod amxrt.ko" grep -q '^AMXRT-INSMOD rc=0$' "$RESULTS.txt"
check "rmmod refused while an arena is mapped" \
	grep -q '^AMXRT-RMMOD-MAPPED rc=[1-9]' "$RESULTS.txt"
check "rmmod after the last unmap" grep -q '^AMXRT-RMMOD rc=0$' "$RESULTS.txt"
freed() { # a 256 MiB arena outlived its creator, and rmmod gave it back
	local l
	l=$(sed -n 's/^AMXRT-RMMOD-FREED held_kb=\(-*[0-9]*\) freed_kb=\(-*[0-9]*\)$/\1 \2/p' \
		"$RESULTS.txt")
	[ -n "$l" ] || return 1
	echo "# arena left behind: MemFree $((${l% *} / 1024)) MiB lower; rmmod gave $((${l#* } / 1024)) MiB back"
	# MemFree misses pages on the per-CPU lists: 64 MiB of slack
	[ "${l% *}" -ge $((192 * 1024)) ] && [ "${l#* }" -ge $((192 * 1024)) ]
}
check "rmmod frees an arena left behind (256 MiB)" freed
dmesg_bad() {
	sed -n '/^AMXRT-DMESG-BEGIN$/,/^AMXRT-DMESG-END$/p' "$RESULTS.txt" |
		grep -E 'WARNING|BUG|Oops|Call Trace|general protection|RIP:' |
		grep -v 'module verification failed' >"$VMDIR/dmesg-bad.txt"
	grep -q '^AMXRT-DMESG-END$' "$RESULTS.txt" && [ ! -s "$VMDIR/dmesg-bad.txt" ]
}
check "guest dmesg clean (no WARNING, BUG, Oops, Call Trace)" dmesg_bad
[ -s "$VMDIR/dmesg-bad.txt" ] && sed 's/^/# dmesg: /' "$VMDIR/dmesg-bad.txt"
check "guest powered off within ${TIMEOUT}s (qemu exit $qrc)" \
	eval '[ "$qrc" = 0 ] && grep -q "^AMXRT-END$" "$RESULTS.txt"'
if [ "$fail" -gt 0 ]; then
	echo "# logs: $CONSOLE $RESULTS"
	grep -E 'AMXRT-(INSMOD|RMMOD)' "$RESULTS.txt" | sed 's/^/# /'
	tail -n 20 "$CONSOLE" 2>/dev/null | sed 's/^/# console: /'
fi
echo "# Totals: pass:$pass fail:$fail xfail:0 xpass:0 skip:$skip error:0"
[ "$fail" -eq 0 ] || exit 1
[ "${KMOD_VM_KEEP:-0}" = 1 ] || rm -rf "$ROOT"
exit 0
