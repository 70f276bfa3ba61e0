#!/bin/sh
# SPDX-License-Identifier: MIT
#
# install-deps.sh - install, from Debian's archive, what amxrt needs to
# build and test: the compiler and make, the kernel's kselftest headers
# (linux-source-6.1, unpacked at build time), clang-format for the style
# check, pkg-config for the embedding example, PCRE2 for the BPE
# pre-tokenizers, libnuma for arena placement, clang for the libFuzzer
# targets; linux-headers-amd64, qemu-system-x86, busybox-static and cpio
# for make kmod-check (amxrt.ko in QEMU). Uses sudo when not root.
set -e
pkgs="build-essential make gcc pkg-config linux-source-6.1 clang-format xz-utils libpcre2-dev libnuma-dev liburing-dev clang linux-headers-amd64 qemu-system-x86 busybox-static cpio"
if [ "$(id -u)" -ne 0 ]; then
	SUDO=sudo
else
	SUDO=
fi
missing=
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
if [ -n "$missing" ]; then
	echo "installing:$missing"
	$SUDO apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing >/dev/null
fi
