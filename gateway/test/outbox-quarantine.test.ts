import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import mqttPacket from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../src/outbox/schema.ts';
import { SqliteOutbox } from '../src/outbox/sqlite-outbox.ts';
import type { QuarantineItem } from '../src/ports.ts';

const tempPath = () => join(mkdtempSync(join(tmpdir(), 'quarantine-')), 'outbox.sqlite');
const onDisk = (path: string) =>
  Buffer.concat(
    ['', '-wal'].filter((s) => existsSync(path + s)).map((s) => readFileSync(path + s)),
  );
const item = (i: number, unauthenticated = false): QuarantineItem => ({
  source: unauthenticated ? 'mqtt:192.0.2.1' : 'mqtt:dev-1:iot/v1/dev-1/data',
  code: unauthenticated ? 'MQTT_CONNECT_REFUSED' : 'JSON_INVALID',
  reason: `r${i}`,
  raw: Buffer.from([i]),
  receivedAt: i,
  unauthenticated,
});

describe('quarantine caps', () => {
  it('caps rows from unauthenticated peers apart, and they never push out device rows', async () => {
    const outbox = new SqliteOutbox({
      path: tempPath(),
      maxQuarantineRows: 6,
      maxUnauthenticatedQuarantineRows: 3,
    });
    for (let i = 0; i < 4; i += 1) await outbox.quarantine(item(i));
    for (let i = 10; i < 20; i += 1) await outbox.quarantine(item(i, true));
    // 4 device rows + 2 strangers' = the total cap; strangers only evicted each other.
    expect(outbox.stats()).toMatchObject({
      quarantined: 6,
      quarantinedByCode: { JSON_INVALID: 4, MQTT_CONNECT_REFUSED: 2 },
      drops: { 'quarantine-unauthenticated-cap': 8 },
    });
    // A device row over the total cap still drops the oldest row of all (as before).
    await outbox.quarantine(item(5));
    expect(outbox.stats().drops['quarantine-cap']).toBe(1);
    outbox.close();
    const reopened = new SqliteOutbox({
      path: (outbox as unknown as { path: string }).path,
      maxQuarantineRows: 100,
      maxUnauthenticatedQuarantineRows: 2,
    });
    await reopened.quarantine(item(30, true)); // the count of strangers' rows survived the restart
    expect(reopened.stats().quarantinedByCode).toEqual({
      JSON_INVALID: 4,
      MQTT_CONNECT_REFUSED: 2,
    });
    reopened.close();
  });
});

describe('outbox migration 4', () => {
  const connect = (password: string, protocolVersion: 4 | 5 = 4, will?: string) =>
    Buffer.from(
      mqttPacket.generate({
        cmd: 'connect',
        protocolId: 'MQTT',
        protocolVersion,
        clean: true,
        clientId: 'dev-1',
        keepalive: 60,
        username: 'dev-1',
        password: Buffer.from(password),
        ...(will
          ? { will: { topic: 't', payload: Buffer.from(will), qos: 0, retain: false } }
          : {}),
      }),
    );

  it('scrubs passwords that older gateways kept, from the rows and from the file', () => {
    const path = tempPath();
    const v3 = new Database(path);
    v3.pragma('journal_mode = WAL');
    for (const step of MIGRATIONS.slice(0, 3)) v3.exec(step as string);
    v3.pragma('user_version = 3');
    const insert = v3.prepare(
      'INSERT INTO quarantine (received_at, source, code, reason, raw) VALUES (1, ?, ?, ?, ?)',
    );
    // As the old gateway wrote them: the first bytes of the connection, CONNECT included.
    insert.run(
      'mqtt:10.0.0.5',
      'MQTT_PROTOCOL_ERROR',
      'bad username or password',
      connect('old-secret-A'),
    );
    insert.run(
      'mqtt:10.0.0.5',
      'MQTT_PROTOCOL_ERROR',
      'unacceptable protocol version',
      connect('old-secret-B', 5, 'old-will-C'),
    );
    const huge = Buffer.concat([
      Buffer.from([0x10, 0xa0, 0x8d, 0x06]),
      connect('old-secret-D').subarray(2),
    ]);
    insert.run('mqtt:10.0.0.6', 'PACKET_TOO_LARGE', 'declared 100012 bytes', huge);
    insert.run('mqtt:10.0.0.6', 'PACKET_TOO_LARGE', 'declared NaN bytes', connect('old-secret-E'));
    insert.run(
      'mqtt:dev-1:iot/v1/dev-1/data',
      'JSON_INVALID',
      'not json',
      Buffer.from('kept as it was'),
    );
    // Dropped by the cap long ago: still in the file's pages.
    insert.run('mqtt:10.0.0.7', 'MQTT_PROTOCOL_ERROR', 'bad', connect('old-secret-F'));
    v3.exec("DELETE FROM quarantine WHERE source = 'mqtt:10.0.0.7'");
    v3.close();
    const secrets = [
      'old-secret-A',
      'old-secret-B',
      'old-will-C',
      'old-secret-D',
      'old-secret-E',
      'old-secret-F',
    ];
    expect(secrets.every((s) => onDisk(path).includes(s))).toBe(true); // the test is able to fail

    const outbox = new SqliteOutbox({ path });
    expect(outbox.stats().quarantined).toBe(5);
    outbox.close();
    for (const secret of secrets) expect(onDisk(path).includes(secret), secret).toBe(false);
    const db = new Database(path, { readonly: true });
    const rows = db
      .prepare('SELECT code, reason, raw, unauthenticated FROM quarantine ORDER BY id')
      .all() as Array<{ code: string; reason: string; raw: Buffer; unauthenticated: number }>;
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    db.close();
    expect(JSON.parse(String(rows[0]?.raw))).toMatchObject({
      remote: '10.0.0.5',
      reason: 'bad username or password',
      clientId: 'dev-1',
      username: 'dev-1',
      protocolVersion: 4,
      hasPassword: true,
      removed: [expect.stringMatching(/^CONNECT/)],
    });
    expect(JSON.parse(String(rows[1]?.raw))).toMatchObject({ protocolVersion: 5, hasWill: true });
    expect(rows[2]?.raw.length).toBe(0);
    expect(rows[2]?.reason).toMatch(
      /^declared 100012 bytes \(removed by outbox migration 4: CONNECT/,
    );
    expect(rows[3]?.reason).toMatch(/bytes removed by outbox migration 4/);
    expect(rows[4]).toEqual({
      code: 'JSON_INVALID',
      reason: 'not json',
      raw: Buffer.from('kept as it was'),
      unauthenticated: 0,
    });
  });
});
