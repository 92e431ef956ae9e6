import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { loadGatewayConfig } from '../src/config.ts';

// The modbus section: strict keys, defaults, and what the schema cannot say, refused at start
// with the key named.

const bus = (over: Record<string, unknown> = {}, register: Record<string, unknown> = {}) => ({
  rtu: { path: '/dev/ttyUSB0' },
  devices: [
    {
      deviceId: 'th-1',
      registers: [{ metric: 'temperature', kind: 'input', address: 1, type: 'int16', ...register }],
    },
  ],
  ...over,
});
const load = (buses: unknown[]) =>
  loadGatewayConfig({ overrides: { 'mqtt.embedded': false, 'modbus.buses': buses } });

/** Through a file: unknown keys are a file's mistake (overrides are typed by their caller). */
function loadFile(buses: unknown[]) {
  const file = join(mkdtempSync(join(tmpdir(), 'modbus-config-')), 'gateway.yaml');
  writeFileSync(file, stringify({ mqtt: { embedded: false }, modbus: { buses } }));
  return loadGatewayConfig({ file });
}

describe('modbus configuration', () => {
  it('fills the defaults, and a Modbus bus alone is an input', () => {
    const [b] = load([bus()]).modbus.buses;
    expect(b).toEqual({
      rtu: { path: '/dev/ttyUSB0', baudRate: 9600, parity: 'none', stopBits: 1, dataBits: 8 },
      timeoutMs: 1000,
      retries: 2,
      retryBackoff: { minMs: 100, maxMs: 1000 },
      reconnectBackoff: { minMs: 500, maxMs: 10_000 },
      devices: [
        {
          deviceId: 'th-1',
          unitId: 1,
          pollIntervalMs: 1000,
          registers: [
            {
              metric: 'temperature',
              kind: 'input',
              address: 1,
              type: 'int16',
              wordOrder: 'big',
              byteOrder: 'big',
              scale: 1,
              offset: 0,
            },
          ],
        },
      ],
    });
  });

  it('refuses unknown keys and bad values, naming the key', () => {
    expect(() => loadFile([bus({ baud: 9600 })])).toThrow(/modbus\.buses\.0\.baud/);
    expect(() => loadFile([bus({}, { wordorder: 'big' })])).toThrow(
      /modbus\.buses\.0\.devices\.0\.registers\.0\.wordorder/,
    );
    expect(() => load([bus({}, { type: 'int64' })])).toThrow(
      /modbus\.buses\.0\.devices\.0\.registers\.0\.type/,
    );
    expect(() => load([bus({}, { wordOrder: 'middle' })])).toThrow(/wordOrder/);
    expect(() => load([bus({ rtu: { path: '/dev/x', parity: 'mark' } })])).toThrow(/parity/);
  });

  it('refuses what the schema cannot say', () => {
    expect(() => load([bus({ tcp: { host: 'meter' } })])).toThrow(
      /modbus\.buses\.0: give either rtu/,
    );
    expect(() => load([{ ...bus(), rtu: undefined }])).toThrow(/modbus\.buses\.0: give either/);
    expect(() => load([bus({}, { type: 'bool' })])).toThrow(/registers\.0\.type: bool on a input/);
    expect(() => load([bus({}, { kind: 'coil' })])).toThrow(/registers\.0\.type: int16 on a coil/);
    expect(() => load([bus({}, { address: 65_535, type: 'float32' })])).toThrow(/address/);
    expect(() => load([bus(), bus({ rtu: { path: '/dev/ttyUSB1' } })])).toThrow(
      /modbus\.buses\.1\.devices\.0\.deviceId: th-1 is used twice/,
    );
    expect(() => load([bus(), bus()])).toThrow(
      /modbus\.buses\.1: modbus:\/dev\/ttyUSB0 is configured twice/,
    );
    const twice = bus();
    twice.devices[0]?.registers.push({
      metric: 'temperature',
      kind: 'input',
      address: 7,
      type: 'int16',
    });
    expect(() => load([twice])).toThrow(/registers\.1\.metric: temperature appears twice/);
  });
});
