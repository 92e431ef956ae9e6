import { Value } from '@sinclair/typebox/value';
import { describe, expect, it } from 'vitest';
import { type ModbusRegisterConfig, ModbusRegisterSchema } from '../src/config-modbus.ts';
import { decodePoll, decodeWords, scaled } from '../src/sources/modbus/decode.ts';
import { MAX_PER_REQUEST, planRequests } from '../src/sources/modbus/plan.ts';

// The pure parts of the Modbus source: register words to values in every word and byte order,
// and which requests one poll makes. Vectors from the Modbus byte layouts written out by hand
// (0x12345678 as ABCD, CDAB, BADC, DCBA); test/modbus/ checks the same against pymodbus.

const reg = (r: Partial<ModbusRegisterConfig> & Pick<ModbusRegisterConfig, 'metric' | 'address'>) =>
  Value.Default(ModbusRegisterSchema, { ...r }) as ModbusRegisterConfig;

describe('decodeWords', () => {
  it('reads 32-bit values in all four orders', () => {
    expect(decodeWords([0x1234, 0x5678], 'uint32', 'big', 'big')).toBe(0x12345678);
    expect(decodeWords([0x5678, 0x1234], 'uint32', 'little', 'big')).toBe(0x12345678);
    expect(decodeWords([0x3412, 0x7856], 'uint32', 'big', 'little')).toBe(0x12345678);
    expect(decodeWords([0x7856, 0x3412], 'uint32', 'little', 'little')).toBe(0x12345678);
  });

  it('reads signed, unsigned and float values', () => {
    expect(decodeWords([0xffff], 'int16', 'big', 'big')).toBe(-1);
    expect(decodeWords([0xffff], 'uint16', 'big', 'big')).toBe(65535);
    expect(decodeWords([0x0180], 'int16', 'big', 'little')).toBe(-32767);
    expect(decodeWords([0xfffe, 0x1dc0], 'int32', 'big', 'big')).toBe(-123456);
    expect(decodeWords([0x1dc0, 0xfffe], 'int32', 'little', 'big')).toBe(-123456);
    expect(decodeWords([0xc388, 0x9333], 'float32', 'big', 'big')).toBe(Math.fround(-273.15));
    expect(decodeWords([0x9333, 0xc388], 'float32', 'little', 'big')).toBe(Math.fround(-273.15));
    expect(decodeWords([0x88c3, 0x3393], 'float32', 'big', 'little')).toBe(Math.fround(-273.15));
  });

  it('refuses the wrong number of words', () => {
    expect(() => decodeWords([1], 'int32', 'big', 'big')).toThrow(RangeError);
  });
});

describe('scaled', () => {
  it('rounds an integer register to the decimals of its scale and offset', () => {
    const r = (scale: number, offset = 0, type: 'int16' | 'float32' = 'int16') => ({
      type,
      scale,
      offset,
    });
    expect(35 * 0.01).not.toBe(0.35); // what the multiplication alone gives
    expect(scaled(35, r(0.01))).toBe(0.35);
    expect(scaled(2147, r(0.1, 0.05))).toBe(214.75);
    expect(scaled(-273, r(1, -0.15))).toBe(-273.15);
    expect(scaled(7, r(1e-7))).toBe(7e-7);
    expect(scaled(12, r(2))).toBe(24);
    expect(scaled(0.1, r(3, 0, 'float32'))).toBe(0.1 * 3); // a float keeps its own precision
  });
});

describe('planRequests', () => {
  it('groups touching registers of one kind, never across a gap or a kind', () => {
    const registers = [
      reg({ metric: 'a', address: 0, type: 'float32' }),
      reg({ metric: 'b', address: 2, type: 'uint16' }),
      reg({ metric: 'c', address: 10, type: 'uint16' }),
      reg({ metric: 'd', kind: 'input', address: 3, type: 'int32' }),
      reg({ metric: 'e', kind: 'coil', address: 0, type: 'bool' }),
      reg({ metric: 'f', kind: 'coil', address: 1, type: 'bool' }),
    ];
    expect(planRequests(registers)).toEqual([
      { kind: 'coil', address: 0, count: 2, registers: [4, 5] },
      { kind: 'holding', address: 0, count: 3, registers: [0, 1] },
      { kind: 'holding', address: 10, count: 1, registers: [2] },
      { kind: 'input', address: 3, count: 2, registers: [3] },
    ]);
  });

  it('keeps each request within the Modbus limits', () => {
    const registers = Array.from({ length: 64 }, (_, i) =>
      reg({ metric: `m${i}`, address: i * 2, type: 'uint32' }),
    );
    const plan = planRequests(registers);
    expect(plan.map((r) => r.count)).toEqual([124, 4]);
    expect(plan.every((r) => r.count <= MAX_PER_REQUEST.holding)).toBe(true);
    expect(plan.flatMap((r) => r.registers).sort((a, b) => a - b)).toEqual(
      registers.map((_, i) => i),
    );
  });

  it('lets overlapping registers share words', () => {
    const plan = planRequests([
      reg({ metric: 'whole', address: 0, type: 'uint32' }),
      reg({ metric: 'high', address: 0, type: 'uint16' }),
    ]);
    expect(plan).toEqual([{ kind: 'holding', address: 0, count: 2, registers: [1, 0] }]);
  });
});

describe('decodePoll', () => {
  const registers = [
    reg({
      metric: 'temperature',
      kind: 'input',
      address: 0,
      type: 'int16',
      scale: 0.1,
      unit: 'Cel',
    }),
    reg({ metric: 'energy', kind: 'input', address: 1, type: 'float32', offset: 1 }),
    reg({ metric: 'alarm', kind: 'coil', address: 5, type: 'bool' }),
  ];
  const plan = planRequests(registers);

  it('decodes, scales and offsets every metric of the poll', () => {
    const out = decodePoll(registers, plan, [
      { bits: [true, false, false, false, false, false, false, false] },
      { words: [0xff83, 0x4640, 0xe600] },
    ]);
    expect(plan.map((r) => r.kind)).toEqual(['coil', 'input']);
    expect(out).toEqual({
      ok: true,
      metrics: {
        temperature: { value: -125 * 0.1, unit: 'Cel' },
        energy: { value: 12345.5 * 1 + 1 },
        alarm: { value: 1 },
      },
    });
  });

  it('fails a poll with a NaN, or a short answer, naming the metric', () => {
    const nan = decodePoll(registers, plan, [{ bits: [true] }, { words: [0, 0x7fc0, 0] }]);
    expect(nan).toEqual({ ok: false, reason: 'energy: NaN at input 1' });
    const short = decodePoll(registers, plan, [{ bits: [] }, { words: [0, 0, 0] }]);
    expect(short).toEqual({ ok: false, reason: 'alarm: answer too short' });
  });
});
