import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Environment that runs a child process with its wall clock shifted by `offset` (libfaketime,
 * Debian's `faketime` package, installed by scripts/install-system-deps.sh): e.g. '+1h', '-1h'.
 * Only the wall clock moves; monotonic clocks stay true, as an NTP-less host's would.
 */
export function fakeClockEnv(offset: string): Record<string, string> {
  const dirs = readdirSync('/usr/lib', { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => join('/usr/lib', d.name, 'faketime', 'libfaketimeMT.so.1'));
  const lib = dirs.find((f) => existsSync(f));
  if (!lib)
    throw new Error(
      'libfaketime not found: install Debian package faketime (bash scripts/install-system-deps.sh)',
    );
  return { LD_PRELOAD: lib, FAKETIME: offset, FAKETIME_DONT_FAKE_MONOTONIC: '1' };
}
