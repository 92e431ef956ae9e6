import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadGatewayConfig } from '../../gateway/src/config.ts';
import { decodeWords } from '../../gateway/src/sources/modbus/decode.ts';
import { DeviceImage } from '../src/modbus/device-image.ts';
import { gatewayModbusConfig } from '../src/modbus/gateway-config.ts';
import { answerPdu } from '../src/modbus/pdu.ts';
import {
  DEFAULT_MAP_OPTIONS,
  encodeValue,
  type RegisterMapOptions,
  registerMap,
  SAMPLE_COUNT_ADDRESS,
  servedValue,
} from '../src/modbus/register-map.ts';
import {
  crc16Modbus,
  encodeRtuFrame,
  exchangeMs,
  RtuRequestDecoder,
} from '../src/modbus/rtu-frame.ts';
import { PROFILES } from '../src/profiles/index.ts';
import type { Sample } from '../src/sample.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const bytes = (h: string) => new Uint8Array(Buffer.from(h.replace(/\s/g, ''), 'hex'));
const climate = PROFILES.climate?.metrics ?? [];
const power = PROFILES.power?.metrics ?? [];

function sample(metrics: typeof climate, values: Record<string, number>): Sample {
  return {
    trueTime: 0,
    time: 0,
    uptime: 0,
    values: metrics.flatMap((metric) =>
      values[metric.name] === undefined ? [] : [{ metric, value: values[metric.name] as number }],
    ),
  };
}

describe('RTU framing (Modbus over Serial Line v1.02)', () => {
  it('computes CRC-16/MODBUS: the check value and known frames, low byte first', () => {
    expect(crc16Modbus(new TextEncoder().encode('123456789'))).toBe(0x4b37);
    // The spec's example request and answer (MB-AP 6.3: unit 0x11 reads 3 registers from 0x6B).
    expect(hex(encodeRtuFrame(0x11, bytes('03 006b 0003')))).toBe('1103006b00037687');
    expect(hex(encodeRtuFrame(0x11, bytes('03 06 ae41 5652 4340')))).toBe('110306ae415652434049ad');
    expect(hex(encodeRtuFrame(0x01, bytes('03 0000 000a')))).toBe('01030000000ac5cd');
  });

  it('cuts frames split across chunks and frames sharing a chunk', () => {
    const d = new RtuRequestDecoder(50);
    const a = bytes('1103006b00037687');
    const b = bytes('01030000000ac5cd');
    expect(d.push(a.subarray(0, 3), 0)).toEqual([]);
    expect(d.push(a.subarray(3, 7), 1)).toEqual([]);
    const [one] = d.push(a.subarray(7), 2);
    expect(one).toMatchObject({ kind: 'frame', unit: 0x11, length: 8 });
    expect(hex((one as { pdu: Uint8Array }).pdu)).toBe('03006b0003');
    const both = d.push(Buffer.concat([b, a]), 3);
    expect(both.map((e) => e.kind === 'frame' && e.unit)).toEqual([1, 0x11]);
  });

  it('drops a frame with a bad CRC, unanswered, and decodes the next one', () => {
    const d = new RtuRequestDecoder(50);
    const bad = bytes('1103006b00037687');
    bad[3] = (bad[3] as number) ^ 0x01; // one flipped bit
    expect(d.push(bad, 0).map((e) => e.kind)).toEqual(['crc']);
    expect(d.push(bytes('01030000000ac5cd'), 1).map((e) => e.kind)).toEqual(['frame']);
  });

  it('drops bytes a silence cut short, and starts a new frame after it', () => {
    const d = new RtuRequestDecoder(50);
    expect(d.push(bytes('110300'), 0)).toEqual([]);
    const events = d.push(bytes('01030000000ac5cd'), 100);
    expect(events.map((e) => e.kind)).toEqual(['incomplete', 'frame']);
  });

  it('sizes write-multiple requests by their byte count, and unknown codes by the CRC', () => {
    const d = new RtuRequestDecoder(50);
    const write = encodeRtuFrame(1, bytes('10 0001 0002 04 000a 0102'));
    expect(d.push(write.subarray(0, 6), 0)).toEqual([]);
    expect(d.push(write.subarray(6), 1)).toMatchObject([{ kind: 'frame', length: 13 }]);
    const odd = encodeRtuFrame(1, bytes('41 0102'));
    expect(d.push(odd, 2)).toMatchObject([{ kind: 'frame', length: 6 }]);
  });

  it('times an exchange at 11 bits a character with 3.5-character silences', () => {
    // 8 + 9 bytes at 9600: 17 x 11 / 9600 s = 19.48 ms, plus 2 x 4.01 ms.
    expect(exchangeMs(8, 9, 9600)).toBeCloseTo(27.5, 1);
    expect(exchangeMs(8, 9, 38_400)).toBeCloseTo(17 * (11 / 38.4) + 3.5, 5);
  });
});

describe('register map', () => {
  it('packs the profile metrics from address 1, each with its type and scale', () => {
    const m = registerMap(power);
    expect(m.slots.map((s) => [s.metric.name, s.address, s.type, s.multiplier])).toEqual([
      ['power', 1, 'uint32', 1],
      ['voltage', 3, 'uint16', 0.1],
      ['current', 4, 'uint16', 0.01],
      ['energy', 5, 'uint32', 1],
    ]);
    const f = registerMap(climate, { ...DEFAULT_MAP_OPTIONS, encoding: 'float32' });
    expect(f.slots.map((s) => [s.address, s.type, s.multiplier])).toEqual([
      [1, 'float32', 1],
      [3, 'float32', 1],
    ]);
  });

  const orders: RegisterMapOptions[] = [];
  for (const encoding of ['int', 'float32'] as const)
    for (const wordOrder of ['big', 'little'] as const)
      for (const byteOrder of ['big', 'little'] as const)
        orders.push({ encoding, wordOrder, byteOrder });

  it.each(orders)('the gateway decodes what it serves: %o', (options) => {
    const values: Record<string, number> = {
      temperature: -12.34,
      humidity: 45.6,
      power: 123_456,
      voltage: 229.8,
      current: 3.21,
      energy: 4_000_000_000,
    };
    for (const metrics of [climate, power]) {
      for (const slot of registerMap(metrics, options).slots) {
        const value = values[slot.metric.name] as number;
        const { words, clipped } = encodeValue(slot, value, options);
        expect(clipped).toBe(false);
        const raw = decodeWords(words, slot.type, options.wordOrder, options.byteOrder);
        expect(raw * slot.multiplier).toBeCloseTo(servedValue(slot, value), 9);
        expect(servedValue(slot, value)).toBeCloseTo(value, options.encoding === 'int' ? 9 : 1);
      }
    }
  });

  it('pins a value outside its type at the limit and says so', () => {
    const [temperature] = registerMap(climate).slots;
    if (!temperature) throw new Error('no slot');
    expect(encodeValue(temperature, 400, DEFAULT_MAP_OPTIONS)).toEqual({
      words: [0x7fff],
      clipped: true,
    });
    expect(servedValue(temperature, -400)).toBeCloseTo(-327.68, 9);
  });
});

describe('PDU handler and device image', () => {
  const image = () => new DeviceImage(registerMap(climate));
  const read = (fc: number, address: number, count: number) =>
    Uint8Array.of(fc, address >> 8, address & 0xff, count >> 8, count & 0xff);

  it('answers function 3 and 4 with the same registers, the sample count at 0', () => {
    const d = image();
    d.update(sample(climate, { temperature: 21.53, humidity: 40.2 }));
    expect(hex(answerPdu(read(3, 1, 2), d))).toBe('030408690192');
    expect(hex(answerPdu(read(4, 1, 2), d))).toBe('040408690192');
    expect(hex(answerPdu(read(4, SAMPLE_COUNT_ADDRESS, 3), d))).toBe('0406000108690192');
    d.update(sample(climate, { temperature: -0.01, humidity: 40.2 }));
    expect(hex(answerPdu(read(3, 0, 2), d))).toBe('03040002ffff');
  });

  it('answers exceptions: 01 unsupported, 02 outside the map, 03 bad quantity, 04 no value', () => {
    const d = image();
    expect(hex(answerPdu(read(4, 1, 2), d))).toBe('8404'); // no sample yet
    d.update(sample(climate, { temperature: 20, humidity: 50 }));
    expect(hex(answerPdu(read(1, 0, 1), d))).toBe('8101');
    expect(hex(answerPdu(bytes('06 0000 0001'), d))).toBe('8601');
    expect(hex(answerPdu(read(3, 0, 0), d))).toBe('8303');
    expect(hex(answerPdu(read(3, 0, 126), d))).toBe('8303');
    expect(hex(answerPdu(bytes('03 0000 00'), d))).toBe('8303');
    expect(hex(answerPdu(read(3, 2, 2), d))).toBe('8302'); // humidity, then nothing
    expect(hex(answerPdu(read(3, 0xffff, 1), d))).toBe('8302');
    d.update(sample(climate, { temperature: 20 })); // humidity dropped out
    expect(hex(answerPdu(read(3, 1, 1), d))).toBe('030207d0');
    expect(hex(answerPdu(read(3, 0, 3), d))).toBe('8304');
    // the first sample was never read: every read of it was refused
    expect(d.counters).toMatchObject({ samples: 2, unread: 1, reads: 1 });
  });

  it('counts samples replaced before any read, and clears values on a reboot', () => {
    const d = image();
    d.update(sample(climate, { temperature: 20, humidity: 50 }));
    d.update(sample(climate, { temperature: 21, humidity: 50 }));
    expect(d.counters.unread).toBe(1);
    d.clear();
    expect(hex(answerPdu(read(3, 1, 2), d))).toBe('8304');
    expect(hex(answerPdu(read(3, 0, 1), d))).toBe('03020000');
  });
});

describe('gateway config block', () => {
  it('is a modbus: section the gateway loads, for RTU and TCP, every register of the map', () => {
    const text = gatewayModbusConfig({
      units: [
        { deviceId: 'sim-001', unitId: 1, metrics: climate },
        { deviceId: 'sim-002', unitId: 2, metrics: power },
      ],
      map: { encoding: 'int', wordOrder: 'little', byteOrder: 'big' },
      rtu: { path: '/tmp/gw', baudRate: 19_200 },
      tcp: { host: '127.0.0.1', port: 5020 },
      pollIntervalMs: 1000,
      sampleCount: true,
    });
    const file = join(mkdtempSync(join(tmpdir(), 'iot-sim-modbus-')), 'gateway.yaml');
    writeFileSync(file, text);
    const config = loadGatewayConfig({ file, env: {} });
    const [rtu, tcp] = config.modbus.buses;
    expect(rtu?.rtu).toMatchObject({ path: '/tmp/gw', baudRate: 19_200 });
    expect(tcp?.devices.map((d) => d.deviceId)).toEqual(['sim-001-tcp', 'sim-002-tcp']);
    const meter = rtu?.devices[1];
    expect(meter?.unitId).toBe(2);
    expect(
      meter?.registers.map((r) => [r.metric, r.address, r.type, r.wordOrder, r.scale]),
    ).toEqual([
      ['sample_count', 0, 'uint16', 'big', 1],
      ['power', 1, 'uint32', 'little', 1],
      ['voltage', 3, 'uint16', 'big', 0.1],
      ['current', 4, 'uint16', 'big', 0.01],
      ['energy', 5, 'uint32', 'little', 1],
    ]);
    expect(meter?.registers[1]?.unit).toBe('W');
  });
});
