#!/bin/busybox sh
# SPDX-License-Identifier: MIT
#
# guest-init.sh - /init of the kmod-check initramfs (scripts/kmod-check.sh):
# load amxrt.ko, run every program in /tests, check that rmmod is refused
# while an arena is mapped, unload, print dmesg, power off. Results go to
# the second serial port between AMXRT-* markers; the kernel console keeps
# the first.
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
mount -t debugfs debugfs /sys/kernel/debug
exec >/dev/ttyS1 2>&1
echo "AMXRT-BEGIN uptime=$(cut -d' ' -f1 /proc/uptime)"
echo "nobody:x:65534:65534:nobody:/:/bin/sh" >/etc/passwd 2>/dev/null

insmod /amxrt.ko
echo "AMXRT-INSMOD rc=$?"
# As the udev rule with MODE="0664" would: everyone may open it read-only.
chmod 0664 /dev/amxrt
for t in /tests/*; do
	name=${t##*/}
	echo "AMXRT-PROG-BEGIN $name"
	t0=$(date +%s)
	"$t"
	rc=$?
	echo "AMXRT-PROG-END $name secs=$(($(date +%s) - t0)) rc=$rc"
done

# rmmod must be refused while a process maps an arena.
rm -f /tmp/held
hold_arena /tmp/held &
hold=$!
i=0
while [ ! -e /tmp/held ] && [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
cat /sys/kernel/debug/amxrt/arenas
rmmod amxrt
echo "AMXRT-RMMOD-MAPPED rc=$?"
kill $hold
wait $hold
cat /sys/kernel/debug/amxrt/stats
# rmmod frees the arenas nobody holds: leave 256 MiB behind.
memfree() { awk '/^MemFree:/ { print $2 }' /proc/meminfo; }
free0=$(memfree)
hold_arena --leave left-behind 256
free1=$(memfree)
cat /sys/kernel/debug/amxrt/arenas
rmmod amxrt
echo "AMXRT-RMMOD rc=$?"
free2=$(memfree)
echo "AMXRT-RMMOD-FREED held_kb=$((free0 - free1)) freed_kb=$((free2 - free1))"
echo "AMXRT-DMESG-BEGIN"
dmesg
echo "AMXRT-DMESG-END"
echo "AMXRT-END"
sync
poweroff -f
