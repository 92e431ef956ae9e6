// Modbus RTU server on a serial line (a pty end, or a real port set up with stty): the framing
// of rtu-frame.ts and the PDU handler of pdu.ts over a SerialLink (node:fs, no native module).
// Answers are delayed by the time the exchange would keep a real line busy at `baud`, so a
// master's timing (and its bus utilisation) is what it would be on RS-485.
import { setTimeout as sleep } from 'node:timers/promises';
import { SerialLink } from '../transports/serial-link.ts';
import type { RegisterSource } from './device-image.ts';
import { answerPdu } from './pdu.ts';
import { BROADCAST, encodeRtuFrame, exchangeMs, RtuRequestDecoder } from './rtu-frame.ts';

export interface ModbusServerCounters {
  requests: number;
  answers: number;
  exceptions: number;
  crcErrors: number;
  incompleteFrames: number;
  /** Requests for a unit id nobody serves: unanswered on RTU (another device's, or nobody's). */
  otherUnits: number;
}

export const newServerCounters = (): ModbusServerCounters => ({
  requests: 0,
  answers: 0,
  exceptions: 0,
  crcErrors: 0,
  incompleteFrames: 0,
  otherUnits: 0,
});

export interface RtuServerOptions {
  path: string;
  /** Bits/s the line is simulated at; absent: answers at once. */
  baud?: number | undefined;
  /** The device at a unit address, or undefined when none is (not answered). */
  unit(unitId: number): RegisterSource | undefined;
  now?: () => number;
}

export class ModbusRtuServer {
  readonly counters = newServerCounters();
  private tail: Promise<void> = Promise.resolve();
  private closed = false;

  private constructor(
    private readonly options: RtuServerOptions,
    private readonly link: SerialLink,
  ) {
    const now = options.now ?? (() => performance.now());
    const baud = options.baud;
    // A silence this long ends a frame. At least 50 ms: a pty delivers a request in one chunk,
    // and a loaded event loop must not split one; a master waits far longer before asking again.
    const decoder = new RtuRequestDecoder(Math.max(50, baud ? (3.5 * 11 * 1000) / baud : 0));
    link.onData = (chunk) => {
      for (const event of decoder.push(chunk, now())) {
        if (event.kind === 'crc') this.counters.crcErrors += 1;
        else if (event.kind === 'incomplete') this.counters.incompleteFrames += 1;
        else {
          const { unit, pdu, length } = event;
          this.tail = this.tail.then(() => this.answer(unit, pdu, length));
        }
      }
    };
  }

  static async open(options: RtuServerOptions): Promise<ModbusRtuServer> {
    const link = await SerialLink.open({ path: options.path, read: true });
    return new ModbusRtuServer(options, link);
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.tail;
    await this.link.close();
  }

  private async answer(unitId: number, pdu: Uint8Array, requestBytes: number): Promise<void> {
    if (this.closed) return;
    this.counters.requests += 1;
    const device = unitId === BROADCAST ? undefined : this.options.unit(unitId);
    if (device === undefined) {
      // [MB-SL 2.1] broadcast requests are never answered (and we serve no writes); a unit
      // address nobody here has is another device's: stay silent.
      this.counters.otherUnits += 1;
      return;
    }
    const answer = answerPdu(pdu, device);
    if (((answer[0] as number) & 0x80) !== 0) this.counters.exceptions += 1;
    else this.counters.answers += 1;
    const frame = encodeRtuFrame(unitId, answer);
    const baud = this.options.baud;
    if (baud) await sleep(exchangeMs(requestBytes, frame.length, baud));
    this.link.write([frame]);
    await this.link.flushed();
  }
}
