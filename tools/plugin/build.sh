#!/usr/bin/env bash
# build.sh — build the managed Docker plugin (plugin API v2) of Convoy from this checkout's build:
#
#   bash tools/plugin/build.sh [OUTDIR]       # default OUTDIR: dist/plugin (in the repository)
#   docker plugin create convoy OUTDIR        # then: docker plugin set …, docker plugin enable convoy
#
# OUTDIR gets config.json (tools/plugin/config.json) and rootfs/ with:
#   /usr/lib/convoy/          the daemon and the CLI (dist/), their production dependencies only
#                             (tools/prod-deps.mjs, as tools/install.sh stages them) and the pinned
#                             Node 24 (node_modules/node, stripped when `strip` is there)
#   /usr/bin/convoy-daemon, /usr/bin/convoy   scripts that run them on that Node
#   /usr/lib/convoy/plugin-entrypoint.sh      the entrypoint: plugin settings (env) → daemon flags
#   /bin/busybox + applets    sh, mkdir, … (Debian's busybox-static)
#   /usr/sbin, /usr/bin       the host's GNU tar, cp and sync (vfs snapshots and restores) and
#                             dmsetup, mkfs.ext4, mkfs.xfs, thin_ls, thin_delta, losetup, mount,
#                             umount, blkid (devicemapper): each one found; PATH puts them first
#   /lib, /lib64              every shared library `ldd` lists for those ELF files (Node, native
#                             addons, tools, libdevmapper) and the dynamic loader
# The apps must be built first (npx nx run-many -t build); --build builds them. A tool the host
# lacks is left out and named at the end.
# Needs: node_modules (npm ci), busybox-static (/bin/busybox), ldd; runs as any user.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HERE=$ROOT/tools/plugin
NODE=$ROOT/node_modules/node/bin/node
LIB=/usr/lib/convoy
# GNU tar, cp and sync for vfs (long options busybox lacks: cp --reflink, tar --xattrs, sync --file-system),
# the rest for devicemapper
HOST_TOOLS=(tar cp sync dmsetup mkfs.ext4 mkfs.xfs thin_ls thin_delta losetup mount umount blkid)
# dlopen()ed at run time (koffi), so ldd of the binaries does not list it
DLOPEN_LIBS=(libdevmapper.so.1.02.1)

say() { printf 'plugin/build.sh: %s\n' "$*"; }
die() { printf 'plugin/build.sh: %s\n' "$*" >&2; exit 1; }

build=0 out=
for a in "$@"; do
  case $a in
    --build) build=1 ;;
    -h | --help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    -*) die "unknown option $a (usage: build.sh [--build] [OUTDIR])" ;;
    *) [ -z "$out" ] || die "one OUTDIR only"; out=$a ;;
  esac
done
out=${out:-$ROOT/dist/plugin}

[ -x "$NODE" ] || die "no pinned Node at $NODE: run \`npm ci\` in $ROOT first"
[ -x /bin/busybox ] || die "no /bin/busybox: apt-get install busybox-static"
case $(ldd /bin/busybox 2>&1 || true) in
  *'not a dynamic'*) ;;
  *) die "/bin/busybox is not the static one: apt-get install busybox-static" ;;
esac
command -v ldd >/dev/null || die "no ldd: apt-get install libc-bin"

if [ "$build" = 1 ]; then
  say "building the daemon and the CLI (nx)"
  (cd "$ROOT" && PATH="$ROOT/node_modules/.bin:$PATH" NX_NO_CLOUD=true NX_DAEMON=false \
    "$NODE" node_modules/nx/bin/nx.js run-many -t build --projects=@convoy/daemon,@convoy/cli --output-style=static)
fi
[ -f "$ROOT/apps/daemon/dist/main.js" ] && [ -f "$ROOT/apps/cli/dist/main.js" ] \
  || die "the apps are not built: run \`npx nx run-many -t build\` (or build.sh --build)"

# a fresh rootfs beside OUTDIR, swapped in at the end
mkdir -p "$(dirname "$out")"
stage=$(mktemp -d "$(dirname "$out")/.plugin.new.XXXXXX")
trap 'rm -rf "$stage"' EXIT
rootfs=$stage/rootfs
mkdir -p "$rootfs"/{bin,sbin,usr/bin,usr/sbin,lib,lib64,etc,tmp,dev,proc,sys,run/docker/plugins,run/convoy,var/lib/convoy/mounts}
chmod 1777 "$rootfs/tmp"

say "staging the daemon and the CLI in $LIB"
mkdir -p "$rootfs$LIB/node_modules/node/bin"
cp "$ROOT/node_modules/node/package.json" "$rootfs$LIB/node_modules/node/"
cp "$NODE" "$rootfs$LIB/node_modules/node/bin/node"
if command -v strip >/dev/null; then strip "$rootfs$LIB/node_modules/node/bin/node"; else say "no strip: Node left unstripped"; fi
cp "$ROOT/package.json" "$ROOT/README.md" "$rootfs$LIB/"
"$NODE" "$ROOT/tools/prod-deps.mjs" --stage "$rootfs$LIB" apps/daemon apps/cli
install -m 0755 "$HERE/entrypoint.sh" "$rootfs$LIB/plugin-entrypoint.sh"
for app in cli:convoy daemon:convoy-daemon; do
  printf '#!/bin/sh\nexec %s/node_modules/node/bin/node %s/apps/%s/bin/%s.cjs "$@"\n' "$LIB" "$LIB" "${app%%:*}" "${app#*:}" > "$rootfs/usr/bin/${app#*:}"
  chmod 0755 "$rootfs/usr/bin/${app#*:}"
done

say "busybox applets in /bin"
cp /bin/busybox "$rootfs/bin/busybox"
for applet in $(/bin/busybox --list); do
  [ "$applet" = busybox ] || [ -e "$rootfs/bin/$applet" ] || ln -s busybox "$rootfs/bin/$applet"
done
printf 'root:x:0:0:root:/root:/bin/sh\n' > "$rootfs/etc/passwd"
printf 'root:x:0:\n' > "$rootfs/etc/group"

# ELF files whose libraries go in: Node, the native addons, the tools below
elves=("$rootfs$LIB/node_modules/node/bin/node")
while IFS= read -r -d '' f; do elves+=("$f"); done < <(find "$rootfs$LIB" -name '*.node' -type f -print0)

missing=()
for tool in "${HOST_TOOLS[@]}"; do
  src=$(PATH=/usr/sbin:/usr/bin:/sbin:/bin command -v "$tool" || true)
  if [ -z "$src" ]; then missing+=("$tool"); continue; fi
  dest=$rootfs/usr/sbin/$tool
  case $src in /usr/bin/* | /bin/*) dest=$rootfs/usr/bin/$tool ;; esac
  cp -L "$src" "$dest" # under its own name: mke2fs and pdata_tools choose what to do by argv[0]
  elves+=("$dest")
done
for lib in "${DLOPEN_LIBS[@]}"; do
  # awk reads to the end: an early exit would kill ldconfig with SIGPIPE, and pipefail end the script
  src=$( (ldconfig -p 2>/dev/null || /sbin/ldconfig -p) | awk -v l="$lib" '$1 == l && /x86-64|x86_64|64bit/ && f == "" { f = $NF } END { print f }')
  if [ -z "$src" ]; then missing+=("$lib"); continue; fi
  mkdir -p "$rootfs$(dirname "$src")"
  cp -L "$src" "$rootfs$src"
  elves+=("$rootfs$src")
done

say "shared libraries (ldd)"
for elf in "${elves[@]}"; do
  ldd "$elf" 2>/dev/null | awk '/=> \// { print $3 } /^\s*\/[^ ]+ \(/ { print $1 }' || true
done | sort -u | while read -r so; do
  [ -e "$rootfs$so" ] && continue
  mkdir -p "$rootfs$(dirname "$so")"
  cp -L "$so" "$rootfs$so"
done
# the loader at the path the binaries name (PT_INTERP), whatever ldd printed
interp=$(readelf -l "$NODE" 2>/dev/null | sed -n 's/.*Requesting program interpreter: \(.*\)]/\1/p' || true)
interp=${interp:-/lib64/ld-linux-x86-64.so.2}
[ -e "$rootfs$interp" ] || { mkdir -p "$rootfs$(dirname "$interp")"; cp -L "$interp" "$rootfs$interp"; }
# Debian's /lib is a symlink to usr/lib: keep both spellings of the library directory working
for d in lib lib64; do
  if [ -d "$rootfs/usr/$d" ]; then
    (cd "$rootfs/usr/$d" && find . -mindepth 1 -maxdepth 1 -print0) | while IFS= read -r -d '' e; do
      [ -e "$rootfs/$d/$e" ] || ln -s "/usr/$d/${e#./}" "$rootfs/$d/${e#./}"
    done
  fi
done

cp "$HERE/config.json" "$stage/config.json"
"$NODE" -e 'JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"))' "$stage/config.json" || die "config.json is not JSON"
# smoke test: the staged Node runs on the staged libraries only (no chroot needed)
"$rootfs$interp" --library-path "$rootfs/lib/x86_64-linux-gnu:$rootfs/usr/lib/x86_64-linux-gnu:$rootfs/lib:$rootfs/usr/lib" \
  "$rootfs$LIB/node_modules/node/bin/node" -e 'process.exit(0)' || die "the staged Node does not start on the staged libraries"

rm -rf "$out"
mv "$stage" "$out"
trap - EXIT
printf '{ "commit": "%s", "node": "%s", "builtAt": "%s" }\n' "$(git -C "$ROOT" rev-parse HEAD 2>/dev/null || echo unknown)" \
  "$("$NODE" --version)" "$(date -u +%FT%TZ)" > "$out/rootfs$LIB/BUILD.json"
say "built $out ($(du -sh "$out" | cut -f1)): docker plugin create convoy $out"
if [ "${#missing[@]}" -gt 0 ]; then
  say "left out (not on this host): ${missing[*]}; tar, cp and sync are needed by vfs, the others by devicemapper"
  say "  Debian: apt-get install tar coreutils dmsetup libdevmapper1.02.1 e2fsprogs xfsprogs thin-provisioning-tools util-linux mount"
fi
