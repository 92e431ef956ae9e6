import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SqliteOutbox } from '../src/outbox/sqlite-outbox.ts';
import type { IncomingReading } from '../src/ports.ts';

// Readings without a seq (mapped MQTT messages) are recognised as resends by their digest, in
// the same `seen` table and window as (device, session, seq).
const tempPath = () => join(mkdtempSync(join(tmpdir(), 'outbox-digest-')), 'outbox.sqlite');
const unsequenced = (
  digest: string | undefined,
  deviceId = 'plug-1',
  resend = true,
): IncomingReading => ({
  deviceId,
  time: 1_700_000_000_000,
  receivedAt: 1_700_000_000_000,
  metrics: { power: { value: 9, unit: 'W' } },
  ...(digest === undefined ? {} : { digest }),
  resend,
});

describe('SqliteOutbox: duplicates of readings without a seq', () => {
  it('takes the same digest within dedupWindowMs for a resend, per device', async () => {
    const outbox = new SqliteOutbox({ path: tempPath() });
    expect(await outbox.append(unsequenced('abc'))).toBe('stored');
    expect(await outbox.append(unsequenced('abc'))).toBe('duplicate');
    expect(await outbox.append(unsequenced('abd'))).toBe('stored');
    expect(await outbox.append(unsequenced('abc', 'plug-2'))).toBe('stored');
    expect(outbox.stats().backlogRows).toBe(3);
    outbox.close();
  });

  it('forgets a digest after the window: the same payload later is a new reading', async () => {
    let now = 1_000_000;
    const outbox = new SqliteOutbox({ path: tempPath(), dedupWindowMs: 60_000, now: () => now });
    expect(await outbox.append(unsequenced('abc'))).toBe('stored');
    now += 30_000;
    expect(await outbox.append(unsequenced('abc'))).toBe('duplicate');
    now += 61_000; // past the window, counted from the first sighting
    expect(await outbox.append(unsequenced('abc'))).toBe('stored');
    outbox.close();
  });

  it('stores a first transmission with a digest seen before (the same value sent again is a new reading), and still recognises its resend', async () => {
    const outbox = new SqliteOutbox({ path: tempPath() });
    expect(await outbox.append(unsequenced('abc', 'plug-1', false))).toBe('stored');
    expect(await outbox.append(unsequenced('abc', 'plug-1', false))).toBe('stored');
    expect(await outbox.append(unsequenced('abc', 'plug-1', true))).toBe('duplicate');
    expect(outbox.stats().backlogRows).toBe(2);
    outbox.close();
  });

  it('never takes a reading with neither seq nor digest for a duplicate (as before)', async () => {
    const outbox = new SqliteOutbox({ path: tempPath() });
    expect(await outbox.append(unsequenced(undefined))).toBe('stored');
    expect(await outbox.append(unsequenced(undefined))).toBe('stored');
    outbox.close();
  });

  it('still acknowledges a resend when full under whenFull reject', async () => {
    const outbox = new SqliteOutbox({ path: tempPath(), maxRows: 1 });
    expect(await outbox.append(unsequenced('abc'))).toBe('stored');
    expect(await outbox.append(unsequenced('abc'))).toBe('duplicate');
    await expect(outbox.append(unsequenced('xyz'))).rejects.toMatchObject({ code: 'OUTBOX_FULL' });
    outbox.close();
  });
});
