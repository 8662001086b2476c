#!/bin/bash
# dmvm-test.sh — run @convoy/devmapper's guest suite (packages/devmapper/test/guest/*.guest.test.ts)
# inside the throw-away dm guest of tools/dmvm.sh: one boot, one vitest run for every guest test.
#
#   bash tools/dmvm-test.sh [JSON_REPORT]     # default .test-logs/dm-guest.json
#
# The guest sees the host root read-only (so the repository and node_modules at the same paths)
# and a scratch directory under .test-logs/ read-write, where vitest writes its JSON report; the
# report is copied to JSON_REPORT. Nothing is ever skipped: without a guest kernel (run
# `bash tools/dmvm.sh setup`) or when the guest cannot boot, this fails and writes no report.
# Env: DMVM_SMP (default 2), DMVM_MEM (MiB, default 2048), DMVM_TIMEOUT (s, default 900), DMVM_DIR.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
OUT=${1:-$ROOT/.test-logs/dm-guest.json}
D=${DMVM_DIR:-/var/cache/dmvm}
if [ ! -s "$D/vmlinux" ] || [ ! -s "$D/initrd.cpio" ]; then
  echo "dmvm-test: no guest kernel in $D; run 'bash tools/dmvm.sh setup' first" >&2
  exit 1
fi
rm -f "$OUT"
mkdir -p "$ROOT/.test-logs"
WORK=$(mktemp -d "$ROOT/.test-logs/dmvm.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
# The original Rancher Convoy binary (tests that make real Convoy artifacts) lives beside the
# checkout (../shared), which the guest may not see (a checkout under /tmp): a copy goes into the
# scratch directory, which it always sees.
XZ=${CONVOY_GO_XZ:-$ROOT/../shared/tools/rancher-convoy-0.5.2/convoy.xz}
GO_XZ=
if [ -s "$XZ" ]; then cp "$XZ" "$WORK/convoy.xz" && GO_XZ="$WORK/convoy.xz"; fi
# Runs under the guest's /bin/sh (dash). node_modules/.bin/node is the pinned Node 24 binary;
# `npx` is avoided here: it costs ~25 s under TCG.
cat > "$WORK/guest.sh" <<GUEST
export PATH="$ROOT/node_modules/.bin:\$PATH" CONVOY_DM_GUEST=1 CI="${CI:-}" NO_COLOR=1
${GO_XZ:+export CONVOY_GO_XZ="$GO_XZ"}
cd "$ROOT/packages/devmapper" || exit 1
# the serial console looks like a TTY to vitest: pipe through cat for plain, line-by-line output
{ node "$ROOT/node_modules/vitest/vitest.mjs" run --reporter=default --reporter=json --outputFile.json="$WORK/report.json" ${DMVM_TEST_ARGS:-}; echo \$? > "$WORK/rc"; } 2>&1 | cat
exit "\$(cat "$WORK/rc" 2>/dev/null || echo 1)"
GUEST
rc=0
# The guest mounts fresh tmpfs on /tmp and /run, hiding a checkout there (a CI clone may live in
# /tmp): then the whole checkout is the shared read-write directory, else only the scratch dir.
SHARE=$WORK SCRIPT=guest.sh
case "$ROOT/" in /tmp/*|/run/*) SHARE=$ROOT SCRIPT=${WORK#"$ROOT"/}/guest.sh ;; esac
DMVM_SMP=${DMVM_SMP:-2} DMVM_MEM=${DMVM_MEM:-2048} DMVM_TIMEOUT=${DMVM_TIMEOUT:-900} bash "$ROOT/tools/dmvm.sh" run "$SHARE" "$SCRIPT" || rc=$?
if [ -s "$WORK/report.json" ]; then
  cp "$WORK/report.json" "$OUT"
else
  echo "dmvm-test: the guest wrote no report (exit $rc)" >&2
  [ "$rc" -ne 0 ] || rc=1
fi
exit "$rc"
