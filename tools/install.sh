#!/usr/bin/env bash
# install.sh — install Convoy from this checkout as a system service (as root, Debian 12):
#
#   bash tools/install.sh               # install, or upgrade in place (restarts a running convoy)
#   bash tools/install.sh --uninstall   # remove it all but the data and the configuration
#
# What it installs:
#   /usr/lib/convoy/                        the three apps and our libraries (dist/), their production
#                                           dependencies only, and the pinned Node (node_modules/node)
#   /usr/bin/convoy, convoy-daemon, convoy-backup   scripts that run them on that Node
#   /etc/convoy/convoy.json                 the example config (the defaults), only if absent
#   /etc/convoy/convoy.env                  S3 credentials for the unit, mode 0600, only if absent
#   /usr/lib/systemd/system/convoy.service  enabled (not started: `systemctl start convoy`)
# --uninstall disables and stops the unit and removes all of that except /etc/convoy and the data
# (/var/lib/convoy, the vfs paths, backup stores).
#
# Needs node_modules with the pinned Node (`npm ci`; run here when node_modules is missing and
# npm is there). Builds the apps first unless --no-build. Whatever `node` is on PATH (Debian's 18,
# or none) does not matter: everything runs on node_modules/node/bin/node.
# DESTDIR=/some/dir installs under that directory instead of / (packaging, tests): systemd is then
# only told through `systemctl --root`, nothing is started or restarted.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DESTDIR=${DESTDIR:-}
LIB=/usr/lib/convoy
BIN=/usr/bin
ETC=/etc/convoy
UNITDIR=/usr/lib/systemd/system
APPS=(cli:convoy daemon:convoy-daemon backup:convoy-backup)
MARK='installed by convoy tools/install.sh'
NODE=$ROOT/node_modules/node/bin/node

say() { printf 'install.sh: %s\n' "$*"; }
die() { printf 'install.sh: %s\n' "$*" >&2; exit 1; }

usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; }

systemd_running() { [ -z "$DESTDIR" ] && [ -d /run/systemd/system ] && command -v systemctl >/dev/null; }

# systemctl for the target system: the running systemd, or offline (--root) under DESTDIR or
# where systemd is not running (a container, a chroot)
sysctl() {
  command -v systemctl >/dev/null || { say "no systemctl: skipped systemctl $*"; return 0; }
  if systemd_running; then systemctl "$@"; else systemctl --root="${DESTDIR:-/}" "$@"; fi
}

pinned_node() {
  if [ ! -x "$NODE" ]; then
    command -v npm >/dev/null || die "no node_modules/node in $ROOT: run \`npm ci\` there first (apt-get install npm gives npm)"
    say "npm ci (installs the pinned Node and the dependencies)"
    (cd "$ROOT" && npm ci --no-audit --no-fund)
  fi
  [ -x "$NODE" ] || die "npm ci did not install $NODE"
  "$NODE" -e "process.exit(require('$ROOT/packages/cli-kit/bin/launch.cjs').supported(process.versions.node) ? 0 : 1)" \
    || die "$NODE is $("$NODE" --version), older than the package.json engines: run \`npm ci\` in $ROOT"
}

build() {
  say "building the apps (nx)"
  (cd "$ROOT" && PATH="$ROOT/node_modules/.bin:$PATH" NX_NO_CLOUD=true NX_DAEMON=false \
    "$NODE" node_modules/nx/bin/nx.js run-many -t build --projects=@convoy/daemon,@convoy/cli,@convoy/backup-cli --output-style=static)
}

stage_tree() {
  local stage=$1
  mkdir -p "$stage/node_modules/node/bin"
  cp "$ROOT/node_modules/node/package.json" "$stage/node_modules/node/"
  cp "$NODE" "$stage/node_modules/node/bin/node"
  cp "$ROOT/README.md" "$ROOT/package.json" "$stage/"
  mkdir -p "$stage/docs" && cp "$ROOT"/docs/*.md "$stage/docs/"
  local dirs=() app
  for app in "${APPS[@]}"; do dirs+=("apps/${app%%:*}"); done
  "$NODE" "$ROOT/tools/prod-deps.mjs" --stage "$stage" "${dirs[@]}" || die "staging failed (not built? run without --no-build)"
  printf '{ "commit": "%s", "installedAt": "%s", "node": "%s", "from": "%s" }\n' \
    "$(git -C "$ROOT" rev-parse HEAD 2>/dev/null || echo unknown)" "$(date -u +%FT%TZ)" "$("$NODE" --version)" "$ROOT" > "$stage/INSTALLED.json"
}

# write_file DEST MODE: stdin to DEST atomically (temp file beside it, then rename)
write_file() {
  local dest=$1 mode=$2 tmp
  mkdir -p "$(dirname "$dest")"
  tmp=$(mktemp "$(dirname "$dest")/.$(basename "$dest").XXXXXX")
  cat > "$tmp"; chmod "$mode" "$tmp"; sync "$tmp"; mv -f "$tmp" "$dest"
}

install_bins() {
  local app name
  for app in "${APPS[@]}"; do
    name=${app#*:}
    printf '#!/bin/sh\n# %s, %s: runs it on the Node installed with it\nexec %s/node_modules/node/bin/node %s/apps/%s/bin/%s.cjs "$@"\n' \
      "$name" "$MARK" "$LIB" "$LIB" "${app%%:*}" "$name" | write_file "$DESTDIR$BIN/$name" 0755
  done
}

install_config() {
  mkdir -p "$DESTDIR$ETC"
  if [ -e "$DESTDIR$ETC/convoy.json" ]; then say "kept $ETC/convoy.json"; else
    write_file "$DESTDIR$ETC/convoy.json" 0644 < "$ROOT/apps/daemon/deploy/convoy.json"; say "wrote $ETC/convoy.json"
  fi
  if [ -e "$DESTDIR$ETC/convoy.env" ]; then say "kept $ETC/convoy.env"; else
    write_file "$DESTDIR$ETC/convoy.env" 0600 <<'ENV'
# Environment of convoy.service (mode 0600: it holds secrets). For s3:// backup stores:
#AWS_ACCESS_KEY_ID=
#AWS_SECRET_ACCESS_KEY=
#AWS_REGION=us-east-1
#AWS_ENDPOINT_URL=https://s3.example.com
ENV
    say "wrote $ETC/convoy.env (0600)"
  fi
}

install_all() {
  [ -n "$DESTDIR" ] || [ "$(id -u)" = 0 ] || die "run it as root (or give DESTDIR=…)"
  local build=1 a
  for a in "$@"; do case $a in --no-build) build=0 ;; *) usage >&2; exit 2 ;; esac; done
  pinned_node
  if [ "$build" = 1 ]; then build; fi
  local parent; parent=$(dirname "$DESTDIR$LIB"); mkdir -p "$parent"
  local stage; stage=$(mktemp -d "$parent/.convoy.new.XXXXXX")
  trap 'rm -rf "$stage"' EXIT
  say "staging $LIB"
  stage_tree "$stage"
  chmod 0755 "$stage"
  # swap the trees: a running daemon keeps the files it has open; it is restarted below
  local upgrade=0 old="$parent/.convoy.old.$$"
  if [ -e "$DESTDIR$LIB" ]; then upgrade=1; mv "$DESTDIR$LIB" "$old"; fi
  mv "$stage" "$DESTDIR$LIB"
  trap - EXIT
  rm -rf "$old"
  install_bins
  install_config
  write_file "$DESTDIR$UNITDIR/convoy.service" 0644 < "$ROOT/apps/daemon/deploy/convoy.service"
  if systemd_running; then sysctl daemon-reload; fi
  sysctl enable convoy.service
  if [ "$upgrade" = 1 ] && systemd_running; then sysctl try-restart convoy.service; fi
  say "$([ "$upgrade" = 1 ] && echo upgraded || echo installed) convoy $("$NODE" -p "require('$ROOT/apps/daemon/package.json').version") in ${DESTDIR}$LIB (Node $("$NODE" --version))"
  [ "$upgrade" = 1 ] || say "start it with: systemctl start convoy   (config: $ETC/convoy.json)"
}

uninstall_all() {
  [ -n "$DESTDIR" ] || [ "$(id -u)" = 0 ] || die "run it as root (or give DESTDIR=…)"
  if [ -e "$DESTDIR$UNITDIR/convoy.service" ]; then
    if systemd_running; then sysctl disable --now convoy.service || true; else sysctl disable convoy.service || true; fi
    rm -f "$DESTDIR$UNITDIR/convoy.service"
    if systemd_running; then sysctl daemon-reload; fi
  fi
  local app
  for app in "${APPS[@]}"; do
    local f="$DESTDIR$BIN/${app#*:}"
    if [ -f "$f" ] && grep -q "$MARK" "$f"; then rm -f "$f"; fi
  done
  rm -rf "$DESTDIR$LIB"
  say "removed convoy; kept $ETC and the data (/var/lib/convoy, vfs paths, backup stores)"
}

case "${1:-}" in
  --uninstall) shift; uninstall_all "$@" ;;
  -h|--help) usage ;;
  *) install_all "$@" ;;
esac
