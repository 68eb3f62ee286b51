#!/bin/sh
# PID 1 of the kernel-matrix guest (busybox). Loads the modules, builds a
# root from the host's /usr and the vigil tree (9p, read-only) plus tmpfs
# for everything written, runs tests/kernels/guest.sh in it and powers off.
# Whatever happens, the last thing is the sysrq power-off: qemu exits.
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
echo 1 > /proc/sys/kernel/sysrq
say() { echo "vigil-tap: $*" > /dev/console; }
off() { say "$1"; echo o > /proc/sysrq-trigger; sleep 30; }

for m in $(cat /mods/order); do
	insmod "/mods/$m" 2>/dev/null
done
arg() { sed -n "s/.*$1=\([^ ]*\).*/\1/p" /proc/cmdline; }
SRC="$(arg vigil.src)"
R=/newroot
mount -t tmpfs -o size=1500m root $R || off "# guest: no tmpfs"
mkdir -p $R/usr $R/proc $R/sys $R/dev $R/tmp $R/run $R/root $R/var/tmp "$R$SRC"
mount -t 9p -o trans=virtio,version=9p2000.L,ro,cache=loose,msize=262144 usr $R/usr ||
	off "# guest: cannot mount the host's /usr over 9p"
mount -t 9p -o trans=virtio,version=9p2000.L,ro,cache=loose,msize=262144 src "$R$SRC" ||
	off "# guest: cannot mount the vigil tree over 9p"
for d in bin sbin lib lib64; do ln -s usr/$d $R/$d; done
ln -s ../run $R/var/run
cp -a /etc $R/etc
mount --move /proc $R/proc
mount --move /sys $R/sys
mount --move /dev $R/dev
chroot $R /bin/bash "$SRC/tests/kernels/guest.sh" --guest 2>&1 | sed "s/^/vigil-tap: /" > /dev/console
off "# guest powered off"
