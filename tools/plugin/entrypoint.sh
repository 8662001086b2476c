#!/bin/sh
# plugin-entrypoint.sh — the entrypoint of Convoy's managed Docker plugin (tools/plugin/config.json),
# run by Docker as `/bin/sh /usr/lib/convoy/plugin-entrypoint.sh [ARGS…]` inside the plugin: turns
# the plugin's settings (`docker plugin set convoy KEY=VALUE`) into convoy-daemon flags, then execs
# the daemon (PID 1 of the plugin: Docker's SIGTERM on disable reaches it, it drains and exits).
# What it prints goes to dockerd's log (plugin=<id>); a refused setting is also written to
# <control.source>/convoy/plugin-error.log (/run/convoy/plugin-error.log by default) on the host.
#   env DRIVERS, DRIVER_OPTS, HOST_ID, SOCKET_GROUP, S3_ENDPOINT, LOG_LEVEL, AWS_*: see config.json
#   ARGS (settable "args"): more convoy-daemon flags, appended last
set -eu

MOUNTS=/var/lib/convoy/mounts   # propagatedMount: every Mountpoint Docker gets must be under it
VFS=$MOUNTS/vfs                 # the "vfs" bind mount (host directory: vfs.source)
STATE=$MOUNTS/state             # --root: lives in the plugin's propagated-mount directory on the host
CONTROL=/run/host               # the "control" bind mount (host directory: control.source, default /run)
BACKUPS=/var/lib/convoy/backups # the "backups" bind mount: vfs:// backup stores (backups.source)
PLUGIN_SOCKET=/run/docker/plugins/convoy.sock

fail() {
  echo "convoy plugin: $*" >&2
  { mkdir -p "$CONTROL/convoy" && echo "$(date -u +%FT%TZ) convoy plugin: $*" >> "$CONTROL/convoy/plugin-error.log"; } 2>/dev/null || true
  exit 2
}

# A settable mount whose source is empty is not refused by Docker: runc then binds the plugin's own
# OCI bundle directory there (under /run), and volumes written to it would vanish.
check_mount() { # NAME DIR
  awk -v d="$2" '$5 == d { found = 1 } END { exit !found }' /proc/self/mountinfo \
    || fail "$2 is not mounted: set the plugin's $1 mount (docker plugin set <plugin> $1.source=/host/dir, while it is disabled)"
  if grep -qs '"ociVersion"' "$2/config.json"; then
    fail "the $1 mount has no source: set it to a host directory (docker plugin disable <plugin>; docker plugin set <plugin> $1.source=/host/dir; docker plugin enable <plugin>)"
  fi
}
check_mount control "$CONTROL"
check_mount vfs "$VFS"
check_mount backups "$BACKUPS"

set -- \
  --root "$STATE" \
  --drivers "${DRIVERS:-vfs}" \
  --driver-opts "vfs.path=$VFS" \
  --plugin-socket "$PLUGIN_SOCKET" \
  --socket "$CONTROL/convoy/convoy.sock" \
  --log-level "${LOG_LEVEL:-info}" \
  --vfs-store-roots "$BACKUPS" \
  ${HOST_ID:+--host-id "$HOST_ID"} \
  ${SOCKET_GROUP:+--socket-group "$SOCKET_GROUP"} \
  ${S3_ENDPOINT:+--s3-endpoint "$S3_ENDPOINT"} \
  "$@"
for d in $(echo "${DRIVERS:-vfs}" | tr ',' ' '); do
  case $d in vfs | devicemapper) ;; *) fail "DRIVERS has \"$d\": the drivers are vfs and devicemapper (e.g. DRIVERS=vfs,devicemapper)" ;; esac
done
for opt in ${DRIVER_OPTS:-}; do
  case $opt in
    vfs.path=*) fail "DRIVER_OPTS may not set vfs.path: the vfs directory is the vfs mount (docker plugin set <plugin> vfs.source=/host/dir)" ;;
    *=*) set -- "$@" --driver-opts "$opt" ;;
    *) fail "DRIVER_OPTS \"$opt\" is not key=value (e.g. DRIVER_OPTS=\"dm.datadev=/dev/sdb dm.metadatadev=/dev/sdc\")" ;;
  esac
done
# an empty setting means unset (the AWS SDK would take "" for a value)
for v in AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_REGION; do
  eval "[ -n \"\${$v:-}\" ] || unset $v"
done
rm -f "$CONTROL/convoy/plugin-error.log"
exec /usr/bin/convoy-daemon "$@"
