#!/bin/sh
# Installs the tools tools/bench/backup.ts compares Convoy with: Debian's borgbackup and restic,
# and GNU time (/usr/bin/time, which measures wall time and peak RSS of every tool the same way).
# Does nothing when all are there. Needs root (apt-get); runs `apt-get update` only if a first
# install attempt fails (stale or empty package lists).
set -eu

missing=""
command -v borg >/dev/null 2>&1 || missing="$missing borgbackup"
command -v restic >/dev/null 2>&1 || missing="$missing restic"
[ -x /usr/bin/time ] || missing="$missing time"
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "install-peers.sh: need root to install:$missing (or install them yourself)" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
echo "install-peers.sh: installing$missing" >&2
# shellcheck disable=SC2086 # word splitting of the package list is intended
if ! apt-get install -y -q --no-install-recommends $missing >&2; then
  echo "install-peers.sh: install failed; running apt-get update and trying again" >&2
  apt-get update -q >&2
  apt-get install -y -q --no-install-recommends $missing >&2
fi
command -v borg >/dev/null 2>&1 && command -v restic >/dev/null 2>&1 && [ -x /usr/bin/time ]
