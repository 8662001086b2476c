# guest.sh — runs inside the systemd guest (systemd-guest.sh), as root, under dash, in the shared
# scratch directory. A fresh host: Debian's own Node (or none) first on PATH, no convoy anywhere.
# Any failing step ends it with that step's status; the journal of convoy is printed on failure.
set -eu
. ./env.sh
step() { echo "guest: $*"; }
fail() { echo "guest: FAILED: $*"; journalctl -u convoy --no-pager -n 50 || true; exit 1; }

step "systemd $(systemctl --version | head -1 | cut -d' ' -f2) is PID 1: $(cat /proc/1/comm); node on PATH: $(command -v node >/dev/null && node --version || echo none)"
[ "$(cat /proc/1/comm)" = systemd ] || fail "PID 1 is not systemd"
command -v convoy >/dev/null && fail "convoy is on PATH before the install"

step "tools/install.sh"
bash "$REPO/tools/install.sh" --no-build || fail "install.sh exited $?"
[ "$(systemctl is-enabled convoy)" = enabled ] || fail "convoy.service is not enabled"

step "systemctl start convoy"
systemctl start convoy || fail "systemctl start convoy"
i=0; until [ -S /var/run/convoy/convoy.sock ] && convoy list >/dev/null 2>&1; do
  i=$((i + 1)); [ "$i" -le 120 ] || fail "convoy did not answer within 60 s"; sleep 0.5
done
[ "$(systemctl is-active convoy)" = active ] || fail "convoy.service is not active"
journalctl -u convoy --no-pager | grep '"msg":"convoy-daemon ready"' | grep -q '"drivers":{"vfs":"/var/lib/convoy/drivers/vfs"}' || fail "no ready line naming the vfs path"

step "dockerd (as tools/dockerd.sh starts it, not under systemd; slow under TCG) and docker volume create -d convoy v"
# its own /var/lib/docker: on the overlay root, renaming this machine's directories there is EXDEV
mount -t tmpfs dockerlib /var/lib/docker
setsid dockerd --iptables=false --ip-masq=false --bridge=none --storage-driver=vfs > /tmp/dockerd.log 2>&1 < /dev/null &
pid=$!
i=0; until docker info >/dev/null 2>&1; do
  i=$((i + 1)); kill -0 "$pid" 2>/dev/null && [ "$i" -le 300 ] || { tail -20 /tmp/dockerd.log; fail "dockerd did not answer"; }; sleep 1
done
docker volume create -d convoy v >/dev/null || fail "docker volume create -d convoy v"
convoy list | grep -q '^v ' || fail "convoy list does not show v"
docker volume ls | grep -q 'convoy *v$' || fail "docker volume ls does not show v"

step "systemctl restart convoy: the saved configuration keeps v"
systemctl restart convoy || fail "systemctl restart convoy"
i=0; until convoy list >/dev/null 2>&1; do i=$((i + 1)); [ "$i" -le 120 ] || fail "no answer after the restart"; sleep 0.5; done
convoy list | grep -q '^v ' || fail "v is gone after the restart"
journalctl -u convoy --no-pager | grep -q 'using the saved configuration' || fail "the restart did not use the saved configuration"
docker volume rm v >/dev/null || fail "docker volume rm v"

step "re-run (upgrade in place) restarts it; --uninstall stops and removes it, keeps /etc/convoy and /var/lib/convoy"
bash "$REPO/tools/install.sh" --no-build | grep -q 'upgraded convoy' || fail "the second install.sh did not upgrade"
bash "$REPO/tools/install.sh" --uninstall || fail "install.sh --uninstall"
systemctl is-active convoy >/dev/null 2>&1 && fail "convoy still active after --uninstall"
[ ! -e /usr/bin/convoy ] && [ ! -e /usr/lib/convoy ] || fail "files left after --uninstall"
[ -f /etc/convoy/convoy.json ] && [ -d /var/lib/convoy/drivers/vfs ] || fail "--uninstall removed configuration or data"
step "all passed"
