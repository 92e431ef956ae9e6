#!/usr/bin/env bash
# Checks deploy/systemd/iot-gateway.service (or the unit file given) without installing it and
# without a running systemd: systemd parses it without a warning (`systemd-analyze verify` warns
# about a misspelt key but still exits 0, so any output fails here), and its sandbox rates 3.0
# or less ("OK") in `systemd-analyze security`. Needs systemd-analyze: Debian package systemd.
set -euo pipefail

unit="${1:-$(dirname "$0")/../deploy/systemd/iot-gateway.service}"
if ! command -v systemd-analyze >/dev/null 2>&1; then
  echo "check-systemd-unit: systemd-analyze not found: sudo apt-get install -y systemd" >&2
  exit 1
fi

warnings=$(systemd-analyze verify "$unit" 2>&1) || true
if [ -n "$warnings" ]; then
  printf 'check-systemd-unit: systemd-analyze verify %s:\n%s\n' "$unit" "$warnings" >&2
  exit 1
fi

# --threshold counts in tenths: 30 is an overall exposure of 3.0.
if report=$(systemd-analyze security --offline=true --threshold=30 --no-pager "$unit" 2>&1); then
  grep 'Overall exposure level' <<<"$report"
else
  printf '%s\n' "$report" | grep -E '✗|Overall' >&2
  echo "check-systemd-unit: overall exposure above 3.0 (the lines marked ✗ add to it)" >&2
  exit 1
fi
