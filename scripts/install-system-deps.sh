#!/usr/bin/env bash
# Installs the Debian packages the test suite uses as real peers and tools, when missing:
#   influxdb (InfluxDB 1.x server), kcat (independent Kafka client), socat (pseudo-terminal
#   pairs for serial tests), mosquitto + mosquitto-clients (a second MQTT broker and clients),
#   docker-compose (checks docker-compose.yml without an engine), gcc-arm-none-eabi (firmware
#   code size), chromium (the dashboard's browser test, driven by playwright-core; never a
#   downloaded browser), faketime (a hub whose wall clock is off by an hour), python3-venv (the
#   Schemathesis venv of the REST API contract test), systemd (systemd-analyze checks the
#   gateway's unit offline: scripts/check-systemd-unit.sh), qemu-user + libc6-arm64-cross +
#   libstdc++6-arm64-cross (the gateway installed and run on an emulated arm64 Node:
#   scripts/arm64-node.sh). Java 17 and Maven are expected to be
#   there already (Kafka comes from Maven Central).
set -euo pipefail

declare -A NEED=(
  [influxd]=influxdb
  [kcat]=kcat
  [socat]=socat
  [mosquitto]=mosquitto
  [mosquitto_pub]=mosquitto-clients
  [docker-compose]=docker-compose
  [arm-none-eabi-gcc]=gcc-arm-none-eabi
  [chromium]=chromium
  [faketime]=faketime
  [systemd-analyze]=systemd
  [qemu-aarch64]=qemu-user
)
PATH="$PATH:/usr/sbin:/sbin"
missing=()
for cmd in "${!NEED[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || missing+=("${NEED[$cmd]}")
done
# The aarch64 C and C++ runtimes an emulated arm64 Node links against.
[ -e /usr/aarch64-linux-gnu/lib/ld-linux-aarch64.so.1 ] || missing+=(libc6-arm64-cross)
[ -e /usr/aarch64-linux-gnu/lib/libstdc++.so.6 ] || missing+=(libstdc++6-arm64-cross)
# Schemathesis (the REST API contract test) runs in a venv: Debian splits venv out of python3.
python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || missing+=(python3-venv)
for tool in java mvn make gcc; do
  command -v "$tool" >/dev/null 2>&1 || echo "install-system-deps: warning: '$tool' not found (needed for Kafka / C tests)" >&2
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-system-deps: all present"
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "install-system-deps: missing packages: ${missing[*]}" >&2
  echo "install them with: sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
echo "install-system-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-system-deps: done"
