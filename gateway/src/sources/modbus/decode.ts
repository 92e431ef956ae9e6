import type { Metric } from '@iot-stream/contracts';
import { type ModbusRegisterConfig, REGISTER_WORDS } from '../../config-modbus.ts';
import type { ReadRequest } from './plan.ts';

// Pure: register words and bits as a device answered them, to metric values. No I/O.

/** What one request brought back: 16-bit register words, or bits (coils, discrete inputs). */
export type ReadResult = { words: readonly number[] } | { bits: readonly boolean[] };

export type DecodeOutcome =
  | { ok: true; metrics: Record<string, Metric> }
  | { ok: false; reason: string };

/**
 * The raw value of a 1- or 2-register `type` from `words` (register values as read, 0..65535).
 * `byteOrder` little swaps the two bytes of every register; `wordOrder` little takes the low
 * word from the lower address (for 32-bit types). Big/big is the Modbus norm (high first).
 */
export function decodeWords(
  words: readonly number[],
  type: Exclude<ModbusRegisterConfig['type'], 'bool'>,
  wordOrder: 'big' | 'little',
  byteOrder: 'big' | 'little',
): number {
  const width = REGISTER_WORDS[type];
  if (words.length !== width) throw new RangeError(`${type} needs ${width} registers`);
  const ordered = wordOrder === 'little' ? [...words].reverse() : words;
  const bytes = Buffer.alloc(width * 2);
  ordered.forEach((word, i) => {
    const w = byteOrder === 'little' ? ((word & 0xff) << 8) | (word >> 8) : word;
    bytes.writeUInt16BE(w & 0xffff, i * 2);
  });
  switch (type) {
    case 'int16':
      return bytes.readInt16BE(0);
    case 'uint16':
      return bytes.readUInt16BE(0);
    case 'int32':
      return bytes.readInt32BE(0);
    case 'uint32':
      return bytes.readUInt32BE(0);
    case 'float32':
      return bytes.readFloatBE(0);
  }
}

/**
 * `raw x scale + offset`. An integer register scaled by a decimal (35 x 0.01) is rounded to the
 * decimals of scale and offset, so it is stored as 0.35, not 0.35000000000000003; a float32
 * keeps its own precision.
 */
export function scaled(
  raw: number,
  r: Pick<ModbusRegisterConfig, 'type' | 'scale' | 'offset'>,
): number {
  const value = raw * r.scale + r.offset;
  if (r.type === 'float32') return value;
  const decimals = Math.min(15, Math.max(decimalsOf(r.scale), decimalsOf(r.offset)));
  return decimals === 0 ? value : Number(value.toFixed(decimals));
}

/** Digits after the decimal point of a number as written (0.01 -> 2, 1e-7 -> 7, 5 -> 0). */
function decimalsOf(x: number): number {
  const [mantissa = '', exponent] = String(x).split('e');
  const fraction = mantissa.split('.')[1]?.length ?? 0;
  return Math.max(0, fraction - Number(exponent ?? 0));
}

/**
 * The metrics of one poll: each configured register decoded from the request that carried it,
 * then `raw x scale + offset` (bools are 1 or 0, unscaled). A float that is NaN or infinite
 * (a sensor fault some devices signal that way) fails the poll with a reason naming the metric.
 */
export function decodePoll(
  registers: readonly ModbusRegisterConfig[],
  requests: readonly ReadRequest[],
  results: readonly ReadResult[],
): DecodeOutcome {
  const metrics: Record<string, Metric> = {};
  for (const [i, request] of requests.entries()) {
    const result = results[i];
    if (result === undefined) return { ok: false, reason: `request ${i}: no answer` };
    for (const index of request.registers) {
      const r = registers[index] as ModbusRegisterConfig;
      const at = r.address - request.address;
      let value: number;
      if ('bits' in result) {
        const bit = result.bits[at];
        if (bit === undefined) return { ok: false, reason: `${r.metric}: answer too short` };
        value = bit ? 1 : 0;
      } else {
        if (r.type === 'bool') return { ok: false, reason: `${r.metric}: bool from registers` };
        const words = result.words.slice(at, at + REGISTER_WORDS[r.type]);
        if (words.length < REGISTER_WORDS[r.type])
          return { ok: false, reason: `${r.metric}: answer too short` };
        value = scaled(decodeWords(words, r.type, r.wordOrder, r.byteOrder), r);
      }
      if (!Number.isFinite(value))
        return { ok: false, reason: `${r.metric}: ${value} at ${r.kind} ${r.address}` };
      metrics[r.metric] = r.unit === undefined ? { value } : { value, unit: r.unit };
    }
  }
  return { ok: true, metrics };
}
