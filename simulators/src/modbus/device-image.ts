// Pure: one simulated device's registers as a Modbus master reads them. The latest sample is
// written in by the transport; the PDU handler reads from it. No I/O, no clock.
import type { Sample } from '../sample.ts';
import {
  encodeValue,
  MAP_END,
  type RegisterMap,
  type RegisterSlot,
  SAMPLE_COUNT_ADDRESS,
} from './register-map.ts';

/** Modbus exception codes (Modbus Application Protocol v1.1b3, section 7). */
export const Exception = {
  ILLEGAL_FUNCTION: 0x01,
  ILLEGAL_DATA_ADDRESS: 0x02,
  ILLEGAL_DATA_VALUE: 0x03,
  SERVER_DEVICE_FAILURE: 0x04,
  GATEWAY_TARGET_FAILED: 0x0b,
} as const;

export type RegisterTable = 'holding' | 'input';
export type ReadAnswer = { words: number[] } | { exception: number };

/** What a PDU handler needs of a device: its registers. */
export interface RegisterSource {
  read(table: RegisterTable, address: number, count: number): ReadAnswer;
}

/**
 * The device's register image. Holding and input registers hold the same image (devices differ
 * in which table they use; the gateway may read either). Addresses outside the map answer
 * "illegal data address"; a metric with no current value (a dropout anomaly, or a device just
 * booted that has not sampled yet) answers "server device failure" to any read covering it, as
 * a transmitter with a failed sensor does.
 */
export class DeviceImage implements RegisterSource {
  /** Samples written in; samples no read saw before the next one replaced it. */
  readonly counters = { samples: 0, unread: 0, clipped: 0, reads: 0 };
  private readonly words: Uint16Array;
  /** Per address: the slot it belongs to (undefined: not mapped; null: the sample counter). */
  private readonly owner: Array<RegisterSlot | null | undefined>;
  private readonly missing = new Set<RegisterSlot>();
  private seen = true;

  constructor(readonly map: RegisterMap) {
    this.words = new Uint16Array(MAP_END);
    this.owner = new Array(MAP_END).fill(undefined);
    for (const slot of map.slots) {
      for (let i = 0; i < slot.words; i += 1) this.owner[slot.address + i] = slot;
      this.missing.add(slot);
    }
    this.owner[SAMPLE_COUNT_ADDRESS] = null;
  }

  /** The device took a sample: its values replace the registers' (a left-out metric: missing). */
  update(sample: Sample): void {
    if (!this.seen) this.counters.unread += 1;
    this.seen = false;
    this.counters.samples += 1;
    this.words[SAMPLE_COUNT_ADDRESS] = this.counters.samples & 0xffff;
    for (const slot of this.map.slots) {
      const v = sample.values.find((x) => x.metric.name === slot.metric.name);
      if (v === undefined) {
        this.missing.add(slot);
        continue;
      }
      const { words, clipped } = encodeValue(slot, v.value, this.map.options);
      if (clipped) this.counters.clipped += 1;
      this.words.set(words, slot.address);
      this.missing.delete(slot);
    }
  }

  /** A reboot: no values until the next sample. The sample counter starts again. */
  clear(): void {
    for (const slot of this.map.slots) this.missing.add(slot);
    this.counters.samples = 0;
    this.words[SAMPLE_COUNT_ADDRESS] = 0;
    this.seen = true;
  }

  read(_table: RegisterTable, address: number, count: number): ReadAnswer {
    const out: number[] = [];
    for (let a = address; a < address + count; a += 1) {
      const slot = this.owner[a];
      if (slot === undefined) return { exception: Exception.ILLEGAL_DATA_ADDRESS };
      if (slot !== null && this.missing.has(slot))
        return { exception: Exception.SERVER_DEVICE_FAILURE };
      out.push(this.words[a] as number);
    }
    this.counters.reads += 1;
    this.seen = true;
    return { words: out };
  }
}
