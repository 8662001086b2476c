#!/bin/bash
# dmvm-bench.sh — closing measurement of @convoy/devmapper, inside the dm guest of tools/dmvm.sh:
# incremental backup of a 1 GiB thin volume with 1 % and 10 % changed (thin_delta change list)
# against a full read-and-hash backup. Prints a table and a BENCH_JSON line.
#
#   bash tools/dmvm-bench.sh                # BENCH_SIZE_MIB=1024 by default
#
# Builds the packages first (the guest runs packages/devmapper/bench/incremental.ts with Node's
# type stripping against dist/). The guest's tmpfs holds the pool and two stores: DMVM_MEM
# defaults to 8192 MiB.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
npx nx run @convoy/devmapper:build --outputStyle=static >/dev/null
mkdir -p "$ROOT/.test-logs"
WORK=$(mktemp -d "$ROOT/.test-logs/dmvm-bench.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
cat > "$WORK/guest.sh" <<GUEST
export PATH="$ROOT/node_modules/.bin:\$PATH" BENCH_SIZE_MIB="${BENCH_SIZE_MIB:-1024}" NO_COLOR=1
cd "$ROOT/packages/devmapper" || exit 1
node bench/incremental.ts 2>&1 | cat
GUEST
DMVM_SMP=${DMVM_SMP:-2} DMVM_MEM=${DMVM_MEM:-8192} DMVM_TIMEOUT=${DMVM_TIMEOUT:-1800} bash "$ROOT/tools/dmvm.sh" run "$WORK" guest.sh
