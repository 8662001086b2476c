#!/bin/bash
# systemd-guest.sh — the fresh-host install for real: tools/install.sh, then `systemctl start
# convoy`, Docker and the convoy CLI, inside the throw-away qemu guest of tools/dmvm.sh booted with
# systemd as PID 1 (this machine's own init is not systemd, and nothing may be installed here).
#
#   bash tools/install-test/systemd-guest.sh [SCRIPT]   # exit status: the guest script's (default guest.sh)
#
# The guest's root is this machine's root read-only with a RAM overlay (so the repository, its
# node_modules and dist/ at the same paths, and every write discarded at power-off). It boots the
# dm guest's kernel with an initramfs that is tools/dmvm.sh's plus another /init: the same mounts,
# then systemd on the overlay, whose default target runs guest.sh and powers off. Needs the build
# (dist/) and `bash tools/dmvm.sh setup`. Env: DMVM_SMP (default 2), DMVM_MEM (MiB, default 3072),
# DMVM_TIMEOUT (s, default 900), DMVM_DIR.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
ROOT=$PWD
D=${DMVM_DIR:-/var/cache/dmvm}
[ -s "$D/vmlinux" ] && [ -s "$D/initrd.cpio" ] || { echo "systemd-guest: no guest kernel in $D; run 'bash tools/dmvm.sh setup'" >&2; exit 1; }
for a in cli daemon backup; do
  [ -f "apps/$a/dist/main.js" ] || { echo "systemd-guest: apps/$a is not built; run npx nx run-many -t build" >&2; exit 1; }
done
mkdir -p "$ROOT/.test-logs"
WORK=$(mktemp -d "$ROOT/.test-logs/systemd-guest.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# /init: tools/dmvm.sh's mounts (modules, host root as the overlay's lower layer, the shared dir),
# then systemd with a default target that only runs the test (no getty, no host services)
mkdir -p "$WORK/initrd"
cat > "$WORK/initrd/init" <<'INIT'
#!/bin/busybox sh
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev; mount -t tmpfs tmp /tmp
while read -r m; do insmod "$m" 2>/dev/null; done < /modules.list
for a in $(cat /proc/cmdline); do case $a in dmvm_dir=*) W=${a#*=};; dmvm_script=*) S=${a#*=};; esac; done
O=trans=virtio,version=9p2000.L,msize=524288
mount -t 9p -o $O,ro,cache=loose hostroot /lower
mkdir -p /tmp/up /tmp/wk; R=/newroot
mount -t overlay ovl -o lowerdir=/lower,upperdir=/tmp/up,workdir=/tmp/wk $R
U=$R/etc/systemd/system
# this machine's services, and the first-boot rebuilds (hwdb, ldconfig, catalog) that take minutes
# over 9p under TCG: masked; dockerd is started by the test itself (tools/dockerd.sh)
for m in systemd-hwdb-update ldconfig systemd-journal-catalog-update systemd-update-done lvm2-monitor \
    blk-availability e2scrub_reap smartd nvmf-autoconnect nvmefc-boot-connections systemd-timesyncd \
    systemd-pstore postgresql ceph-crash containerd docker systemd-tmpfiles-setup; do ln -sf /dev/null "$U/$m.service"; done
# (systemd-tmpfiles-setup would walk and chown this machine's /var/log/journal and /var/tmp over 9p)
ln -sf /dev/null $U/docker.socket; ln -sf /dev/null $U/dm-event.socket; ln -sf /dev/null $U/lvm2-lvmpolld.socket
# the test runs as soon as the file systems are there; what it starts pulls in the rest
cat > $U/dmvm-test.service <<UNIT
[Unit]
Description=dmvm test script
DefaultDependencies=no
After=local-fs.target systemd-journald.socket
[Service]
Type=oneshot
WorkingDirectory=$W
Environment=HOME=/root NO_COLOR=1 PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
ExecStart=/bin/sh -c 'sh $S > /dev/ttyS0 2>&1; echo "DMVM_EXIT_CODE=\$?" > /dev/ttyS0; sync; systemctl --force --force poweroff'
UNIT
cat > $U/dmvm-test.target <<UNIT
[Unit]
Description=dmvm test
Requires=dmvm-test.service
AllowIsolate=yes
UNIT
ln -sf dmvm-test.target $U/default.target
mkdir -p $R/etc/systemd/system.conf.d && printf '[Manager]\nShowStatus=no\n' > $R/etc/systemd/system.conf.d/dmvm.conf
# the API filesystems, mounted before systemd looks: the 9p root would show the host's /proc,
# whose /proc/self is qemu itself
mount -t proc proc $R/proc; mount -t sysfs sys $R/sys; mount -t devtmpfs dev $R/dev; mount -t tmpfs run $R/run
# a fresh /tmp and /var/tmp, unless the repository lives there (a checkout under /tmp must stay
# visible through the overlay); then the work directory, mounted last so nothing hides it
case $W in /tmp/*|/var/tmp/*) ;; *) mount -t tmpfs tmp $R/tmp; mount -t tmpfs vartmp $R/var/tmp;; esac
mkdir -p "$R$W"; mount -t 9p -o $O,cache=mmap work "$R$W"
echo "DMVM: ready uptime=$(cut -d' ' -f1 /proc/uptime), switching to systemd"
exec switch_root $R /lib/systemd/systemd ${DMVM_SYSTEMD_ARGS:---log-level=warning --show-status=false}
INIT
chmod 755 "$WORK/initrd/init"
(cd "$WORK/initrd" && echo init | cpio -o -H newc --quiet) > "$WORK/extra.cpio"
cat "$D/initrd.cpio" "$WORK/extra.cpio" > "$WORK/initrd.cpio" # the later /init replaces the first

cp "${1:-$ROOT/tools/install-test/guest.sh}" "$WORK/guest.sh"
printf 'REPO=%s\n' "$ROOT" > "$WORK/env.sh"
rc=0
DMVM_INITRD=$WORK/initrd.cpio DMVM_SMP=${DMVM_SMP:-2} DMVM_MEM=${DMVM_MEM:-3072} DMVM_TIMEOUT=${DMVM_TIMEOUT:-900} \
  bash "$ROOT/tools/dmvm.sh" run "$WORK" guest.sh || rc=$?
echo "systemd-guest: exit $rc"
exit "$rc"
