// Pure: a Modbus request PDU (function code + data) to the response PDU, for a device's
// registers. Modbus Application Protocol v1.1b3 (MB-AP): function codes 3 and 4 are served;
// every other one (coils, discrete inputs and writes included) answers "illegal function".
import { Exception, type RegisterSource, type RegisterTable } from './device-image.ts';

export const READ_HOLDING_REGISTERS = 0x03;
export const READ_INPUT_REGISTERS = 0x04;

/** [MB-AP 6.3, 6.4] at most 125 registers per read: the answer's byte count fits one byte. */
export const MAX_READ_REGISTERS = 125;

const TABLES: Readonly<Record<number, RegisterTable>> = {
  [READ_HOLDING_REGISTERS]: 'holding',
  [READ_INPUT_REGISTERS]: 'input',
};

/** The exception response PDU [MB-AP 7]: the function code with its high bit set, the code. */
export function exceptionPdu(functionCode: number, code: number): Uint8Array {
  return Uint8Array.of((functionCode | 0x80) & 0xff, code);
}

/**
 * The answer to one request PDU. The checks run in the order of the spec's state diagrams
 * [MB-AP 6.3, figure 13]: function code supported (else 01), quantity 1..125 and a PDU of the
 * right length (else 03), start address + quantity inside the map (else 02), then the read
 * itself (04 when the device cannot give a value).
 */
export function answerPdu(pdu: Uint8Array, device: RegisterSource): Uint8Array {
  const fc = pdu[0] ?? 0;
  const table = TABLES[fc];
  if (table === undefined) return exceptionPdu(fc, Exception.ILLEGAL_FUNCTION);
  if (pdu.length !== 5) return exceptionPdu(fc, Exception.ILLEGAL_DATA_VALUE);
  const address = ((pdu[1] as number) << 8) | (pdu[2] as number);
  const count = ((pdu[3] as number) << 8) | (pdu[4] as number);
  if (count < 1 || count > MAX_READ_REGISTERS)
    return exceptionPdu(fc, Exception.ILLEGAL_DATA_VALUE);
  if (address + count > 0x10000) return exceptionPdu(fc, Exception.ILLEGAL_DATA_ADDRESS);
  const answer = device.read(table, address, count);
  if ('exception' in answer) return exceptionPdu(fc, answer.exception);
  const out = new Uint8Array(2 + 2 * count);
  out[0] = fc;
  out[1] = 2 * count;
  answer.words.forEach((w, i) => {
    out[2 + 2 * i] = w >> 8;
    out[3 + 2 * i] = w & 0xff;
  });
  return out;
}
