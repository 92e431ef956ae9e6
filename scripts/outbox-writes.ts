// Bytes the kernel writes for the gateway's outbox per reading (/proc/self/io write_bytes, Linux),
// with the default outbox options, stored and then forwarded (deleted) the way main.ts does it.
//   npx tsx scripts/outbox-writes.ts [trickle|serial|burst|backlog] [--readings 10000]
//     [--burst 100] [--synchronous NORMAL] [--dir DIR]
// trickle: readings arrive more than batchWindowMs apart, so each is its own commit, and is
//   forwarded right after it (onStored -> forwarder.notify()): two commits per reading.
// serial: the same plus the serial link's acknowledgement, recorded in a commit of its own.
// burst: --burst readings inside one batch window share a commit and are forwarded together.
// backlog: bursts pile up while the uplink is down, then drain in kafka.batchSize (5000) batches.
// DIR must be on a disk, not tmpfs (tmpfs writes count nothing).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { SqliteOutbox } from '../gateway/src/outbox/sqlite-outbox.ts';
import type { IncomingReading } from '../gateway/src/ports.ts';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    readings: { type: 'string', default: '10000' },
    burst: { type: 'string', default: '100' },
    synchronous: { type: 'string', default: 'FULL' },
    dir: { type: 'string', default: tmpdir() },
  },
});
const mode = positionals[0] ?? 'trickle';
if (!['trickle', 'serial', 'burst', 'backlog'].includes(mode)) {
  process.stderr.write(`outbox-writes: unknown mode ${mode}: trickle, serial, burst or backlog\n`);
  process.exit(2);
}
const total = Number(values.readings);
const burst = Number(values.burst);
const synchronous = values.synchronous === 'NORMAL' ? 'NORMAL' : 'FULL';
const dir = mkdtempSync(join(values.dir, 'outbox-writes-'));
const writeBytes = () =>
  Number(/write_bytes: (\d+)/.exec(readFileSync('/proc/self/io', 'utf8'))?.[1] ?? Number.NaN);

const reading = (i: number): IncomingReading => {
  const now = Date.now();
  return {
    deviceId: 'sensor-01',
    session: 7,
    seq: i % 65536,
    time: now,
    receivedAt: now,
    metrics: {
      temperature: { value: 20 + (i % 50) / 10, unit: 'Cel' },
      humidity: { value: 40 + (i % 30) / 10, unit: '%RH' },
    },
  };
};

const outbox = new SqliteOutbox({ path: join(dir, 'outbox.sqlite'), synchronous });
/** What the forwarder does once the uplink acknowledged: delete the rows it sent, by id. */
const forward = () => {
  for (let rows = outbox.peek(5000); rows.length > 0; rows = outbox.peek(5000)) {
    outbox.remove(rows.map((r) => r.id));
  }
};
const appendBurst = (from: number) =>
  Promise.all(Array.from({ length: burst }, (_, k) => outbox.append(reading(from + k))));

const before = writeBytes();
if (mode === 'trickle' || mode === 'serial') {
  for (let i = 0; i < total; i++) {
    await outbox.append(reading(i));
    if (mode === 'serial') outbox.saveAck('sensor-01', 7, i % 65536);
    forward();
  }
} else if (mode === 'burst') {
  for (let i = 0; i < total; i += burst) {
    await appendBurst(i);
    forward();
  }
} else {
  for (let i = 0; i < total; i += burst) await appendBurst(i);
  forward();
}
const written = writeBytes() - before;
outbox.close();
rmSync(dir, { recursive: true });
console.log(
  `${mode}${mode === 'burst' || mode === 'backlog' ? ` (${burst} per commit)` : ''}, synchronous=${synchronous}: ` +
    `${written} bytes for ${total} readings, ${Math.round(written / total)} bytes per reading`,
);
