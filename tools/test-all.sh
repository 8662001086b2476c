#!/usr/bin/env bash
# test-all.sh — every test of the repository in one command, on a fresh Debian 12 machine as root:
#
#   bash tools/test-all.sh
#
# Installs the Debian packages the tests need (radosgw, …) when missing, runs `npm ci` when
# node_modules is missing or older than package-lock.json, then runs the stages below with their
# output left visible. A check stage (build, lint, typecheck) counts as 1 passed or 1 failed; a
# vitest suite adds its tests from its JSON report (1 failed if it ended without one); skipped and
# todo tests are counted as skipped. A table of stages follows, and the last line on stdout is
# exactly "N passed, N failed" (", N skipped" appended when some were skipped). Exit status 1 when
# anything failed.
#
# Extending it: a Debian package a test needs → one run_setup line at the top of main; another suite
# (the qemu guest's vitest run, the docker e2e suite) → one run_vitest_suite or run_check line in
# main, each vitest suite with its own JSON file under .test-logs/.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
LOGS=$ROOT/.test-logs
mkdir -p "$LOGS"

export DEBIAN_FRONTEND=noninteractive
export npm_config_yes=false # npx must never offer to download a package: everything is local
export NX_NO_CLOUD=true

PASSED=0
FAILED=0
SKIPPED=0
ROWS=()

banner() { printf '\n======== %s ========\n' "$*"; }

# add_row STAGE RESULT PASSED FAILED SKIPPED SECONDS
add_row() { ROWS+=("$(printf '%-22s %-8s %7s %7s %8s %8s' "$1" "$2" "$3" "$4" "$5" "$6s")"); }

# run_setup NAME -- CMD...: a preparation step; not counted when it works, 1 failed when not.
run_setup() {
  local name=$1; shift; [ "${1:-}" = -- ] && shift
  banner "$name"
  local start=$SECONDS rc=0
  "$@" || rc=$?
  if [ "$rc" -eq 0 ]; then
    add_row "$name" ok - - - $((SECONDS - start))
  else
    echo "test-all: $name failed (exit $rc)" >&2
    FAILED=$((FAILED + 1))
    add_row "$name" FAILED 0 1 0 $((SECONDS - start))
  fi
}

# run_check NAME -- CMD...: a stage that counts as one check, passed or failed by its exit status.
run_check() {
  local name=$1; shift; [ "${1:-}" = -- ] && shift
  banner "$name"
  local start=$SECONDS rc=0
  "$@" || rc=$?
  if [ "$rc" -eq 0 ]; then
    PASSED=$((PASSED + 1))
    add_row "$name" passed 1 0 0 $((SECONDS - start))
  else
    echo "test-all: $name failed (exit $rc)" >&2
    FAILED=$((FAILED + 1))
    add_row "$name" FAILED 0 1 0 $((SECONDS - start))
  fi
}

# vitest_counts JSONFILE EXIT_STATUS: prints "PASSED FAILED SKIPPED NOTE" from a vitest JSON
# report. A test file that failed without a failed test (import or collection error) counts as
# one failed test; a run that failed with nothing to show for it (no test files, an unhandled
# error, a failing global teardown) counts as one failed test too.
vitest_counts() {
  node --input-type=module -e '
    import { readFileSync } from "node:fs";
    const [file, status] = process.argv.slice(1);
    const r = JSON.parse(readFileSync(file, "utf8"));
    const passed = r.numPassedTests;
    let failed = r.numFailedTests;
    const skipped = r.numTotalTests - r.numPassedTests - r.numFailedTests;
    for (const f of r.testResults) {
      if (f.status === "failed" && !f.assertionResults.some((a) => a.status === "failed")) failed++;
    }
    let note = "";
    if (failed === 0 && (r.success === false || status !== "0")) {
      failed = 1;
      note = `vitest exited ${status} with no failed test in its report: counted as 1 failed`;
    }
    if (![passed, failed, skipped].every(Number.isInteger)) throw new Error(`unexpected report ${file}`);
    console.log(passed, failed, skipped, note);
  ' "$1" "$2"
}

# run_vitest_suite NAME JSONFILE -- CMD...: CMD must write vitest's JSON report to JSONFILE.
run_vitest_suite() {
  local name=$1 json=$2; shift 2; [ "${1:-}" = -- ] && shift
  banner "$name"
  rm -f "$json"
  local start=$SECONDS rc=0 counts p f s note
  "$@" || rc=$?
  if [ -s "$json" ] && counts=$(vitest_counts "$json" "$rc"); then
    read -r p f s note <<<"$counts"
    [ -n "$note" ] && echo "test-all: $name: $note" >&2
  else
    echo "test-all: $name ended (exit $rc) without a readable report $json: counted as 1 failed" >&2
    p=0 f=1 s=0
  fi
  PASSED=$((PASSED + p))
  FAILED=$((FAILED + f))
  SKIPPED=$((SKIPPED + s))
  local result=passed; [ "$f" -gt 0 ] && result=FAILED
  add_row "$name" "$result" "$p" "$f" "$s" $((SECONDS - start))
}

npm_install_needed() {
  [ ! -d node_modules ] || [ ! -f node_modules/.package-lock.json ] \
    || [ package-lock.json -nt node_modules/.package-lock.json ]
}

main() {
  # Debian packages the tests need; each installer returns at once when they are there.
  run_setup "ceph packages" -- bash tools/ceph-s3.sh install # radosgw: the tests' S3 server
  # docker.io + busybox-static: apps/daemon's end-to-end tests, whose vitest global setup starts
  # dockerd (tools/dockerd.sh start), imports the test image and stops dockerd again at the end
  run_setup "docker packages" -- bash tools/dockerd.sh install
  # qemu + a Debian kernel with dm-thin for the devicemapper guest suite (cached after the first run)
  run_setup "dm guest" -- bash tools/dmvm.sh setup
  # xz + libdevmapper1.02.1: the original Rancher Convoy v0.5.2 binary (../shared/tools/
  # rancher-convoy-0.5.2/convoy.xz) makes real Convoy backup stores for tests
  # (tools/vitest/rancher-convoy.ts); it needs libdevmapper even for its vfs driver
  run_setup "convoy v0.5.2 packages" -- bash -c 'dpkg -s libdevmapper1.02.1 xz-utils >/dev/null 2>&1 ||
    { export DEBIAN_FRONTEND=noninteractive; apt-get -o DPkg::Lock::Timeout=900 update -qq &&
      apt-get -o DPkg::Lock::Timeout=900 install -y -qq --no-install-recommends libdevmapper1.02.1 xz-utils >/dev/null; }'
  if npm_install_needed; then
    run_setup "npm ci" -- npm ci --no-audit --no-fund
  fi

  run_check "build" -- npx nx run-many -t build
  run_check "lint" -- npx nx run-many -t lint
  # Prettier formats everything it understands (.prettierrc.json, .prettierignore); `npm run format` fixes it
  run_check "format" -- npx prettier --check . --log-level warn
  run_check "typecheck" -- npx tsc -p tsconfig.json --noEmit
  run_vitest_suite "vitest" "$LOGS/vitest.json" -- \
    npx vitest run --reporter=default --reporter=json --outputFile.json=.test-logs/vitest.json
  # convoy-backup killed, paused, damaged and run concurrently (tools/reliability, CI size, seed 1;
  # each trial a test; starts its own radosgw; report in .test-logs/reliability.md)
  run_vitest_suite "reliability" "$LOGS/reliability.json" -- \
    npx vitest run --config tools/reliability/vitest.config.ts --reporter=default --reporter=json --outputFile.json="$LOGS/reliability.json"
  # @convoy/devmapper against a real kernel: one qemu guest boot, vitest once inside it (the
  # daemon-kill test restarts convoy-daemon ten times under TCG, ~25 s each: more than the 900 s default)
  run_vitest_suite "dm-guest" "$LOGS/dm-guest.json" -- env DMVM_TIMEOUT="${DMVM_TIMEOUT:-2400}" bash tools/dmvm-test.sh "$LOGS/dm-guest.json"
  # tools/install.sh into a throw-away root (DESTDIR) from the build above: files, the installed
  # daemon and CLI on their own Node under an old node on PATH, upgrade, --uninstall
  run_vitest_suite "install" "$LOGS/install.json" -- \
    npx vitest run --config tools/install-test/vitest.config.ts --reporter=default --reporter=json --outputFile.json="$LOGS/install.json"
  # the managed Docker plugin (tools/plugin/build.sh from the build above) against the real dockerd:
  # create, set, enable, volumes, snapshot and backup through the CLI, restore, disable, rm, and
  # the settings a user gets wrong; dockerd from apps/daemon's Docker global setup
  run_vitest_suite "docker plugin" "$LOGS/docker-plugin.json" -- \
    npx vitest run --config tools/plugin/vitest.config.ts --reporter=default --reporter=json --outputFile.json="$LOGS/docker-plugin.json"
  # the fresh-host install for real: install.sh, systemctl start convoy, docker volume create -d
  # convoy, convoy list, restart, upgrade, --uninstall, in the qemu guest booted with systemd
  run_check "systemd guest" -- bash tools/install-test/systemd-guest.sh

  banner "summary"
  printf '%-22s %-8s %7s %7s %8s %9s\n' stage result passed failed skipped time
  printf '%s\n' "${ROWS[@]}"
  local line="$PASSED passed, $FAILED failed"
  [ "$SKIPPED" -gt 0 ] && line="$line, $SKIPPED skipped"
  echo
  echo "$line"
  [ "$FAILED" -eq 0 ]
}

main
