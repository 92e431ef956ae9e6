import { type ModbusRegisterConfig, REGISTER_WORDS } from '../../config-modbus.ts';

// Pure: which read requests one poll of a device makes. No I/O.

export type RegisterKind = ModbusRegisterConfig['kind'];

/**
 * Most a single read may ask for (Modbus Application Protocol v1.1b3, 6.1-6.4): 2000 coils or
 * discrete inputs (function codes 1, 2), 125 holding or input registers (3, 4).
 */
export const MAX_PER_REQUEST: Readonly<Record<RegisterKind, number>> = {
  coil: 2000,
  discrete: 2000,
  holding: 125,
  input: 125,
};

/** One read request: `count` registers (or bits) of `kind` from `address`. */
export interface ReadRequest {
  kind: RegisterKind;
  address: number;
  count: number;
  /** Indexes (into the device's register list) of the values this request carries. */
  registers: number[];
}

/**
 * Groups a device's registers into as few requests as the limits allow: registers of one kind
 * whose spans touch or overlap share a request, up to MAX_PER_REQUEST. Gaps are never read
 * across (an address a device does not have answers "illegal data address" and fails the whole
 * request), so registers apart from each other get requests of their own. Requests come out
 * by kind, then address.
 */
export function planRequests(registers: readonly ModbusRegisterConfig[]): ReadRequest[] {
  const order = registers
    .map((r, index) => ({ r, index, end: r.address + REGISTER_WORDS[r.type] }))
    .sort((a, b) => a.r.kind.localeCompare(b.r.kind) || a.r.address - b.r.address || a.end - b.end);
  const requests: ReadRequest[] = [];
  let open: ReadRequest | undefined;
  for (const { r, index, end } of order) {
    const fits =
      open !== undefined &&
      open.kind === r.kind &&
      r.address <= open.address + open.count &&
      Math.max(end, open.address + open.count) - open.address <= MAX_PER_REQUEST[r.kind];
    if (open !== undefined && fits) {
      open.count = Math.max(open.count, end - open.address);
      open.registers.push(index);
    } else {
      open = { kind: r.kind, address: r.address, count: end - r.address, registers: [index] };
      requests.push(open);
    }
  }
  return requests;
}
