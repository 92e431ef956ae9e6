// Serial devices: each simulated device on its own line (a pty or a port), speaking the binary
// protocol with acknowledgements and retransmission; a noisy line adds garbage, flipped bits
// and lost frames on the way.

import type { DeviceIdentity, SendResult, Transport } from '../ports.ts';
import { type Random, streamFor } from '../random.ts';
import type { Sample } from '../sample.ts';
import {
  applyLineFaults,
  hasLineFaults,
  type LineFaultOptions,
  newLineFaultCounters,
} from './line-faults.ts';
import type { RetransmitOptions } from './retransmit-queue.ts';
import { type ClockMode, SerialDeviceProtocol } from './serial-device.ts';
import { SerialLink } from './serial-link.ts';

export interface SerialTransportOptions {
  /** The line of each device, by device id. */
  paths: ReadonlyMap<string, string>;
  baud?: number | undefined;
  /** false: no ACK_REQUEST, no retransmission; a reading counts as acknowledged once written. */
  ack?: boolean;
  clock?: ClockMode;
  retransmit?: RetransmitOptions;
  faults?: LineFaultOptions;
  seed: number;
  /** How often retransmission timers are checked (ms). */
  pollMs?: number;
  wallNow?: () => number;
}

interface SerialDevice {
  link: SerialLink;
  protocol: SerialDeviceProtocol;
  random: Random;
  timer: NodeJS.Timeout;
  /** Readings waiting for the send window to open (see SerialDeviceProtocol.windowOpen). */
  waiting: Array<{ sample: Sample; resolve: (r: SendResult) => void }>;
}

export class SerialTransport implements Transport {
  readonly name = 'serial';
  private readonly devices = new Map<string, SerialDevice>();
  private readonly faults = newLineFaultCounters();
  private readonly totals: Record<string, number> = {};

  constructor(private readonly options: SerialTransportOptions) {}

  private now(): number {
    return (this.options.wallNow ?? Date.now)();
  }

  async start(identity: DeviceIdentity, session: number): Promise<void> {
    const path = this.options.paths.get(identity.id);
    if (path === undefined) throw new Error(`no serial line for device ${identity.id}`);
    const link = await SerialLink.open({
      path,
      read: this.options.ack !== false,
      baud: this.options.baud,
    });
    const protocol = new SerialDeviceProtocol({
      deviceId: identity.id,
      firmware: identity.firmware,
      metrics: identity.metrics,
      clock: this.options.clock ?? 'rtc',
      ack: this.options.ack !== false,
      retransmit: this.options.retransmit ?? {},
    });
    const device: SerialDevice = {
      link,
      protocol,
      random: streamFor(this.options.seed, 'line', identity.id),
      timer: setInterval(() => {
        this.write(device, protocol.poll(this.now()));
        this.flushWaiting(device);
      }, this.options.pollMs ?? 20),
      waiting: [],
    };
    link.onData = (chunk) => {
      this.write(device, protocol.receive(chunk, this.now()));
      this.flushWaiting(device);
    };
    this.devices.set(identity.id, device);
    this.write(device, protocol.boot(session, this.now()));
  }

  send(deviceId: string, sample: Sample): Promise<SendResult> {
    const d = this.device(deviceId);
    return new Promise((resolve) => {
      d.waiting.push({ sample, resolve });
      this.flushWaiting(d);
    });
  }

  async reboot(deviceId: string, session: number): Promise<void> {
    const d = this.device(deviceId);
    this.failWaiting(d);
    this.write(d, d.protocol.boot(session, this.now()));
  }

  private flushWaiting(d: SerialDevice): void {
    while (d.waiting.length > 0 && d.protocol.windowOpen) {
      const { sample, resolve } = d.waiting.shift() as SerialDevice['waiting'][number];
      const session = d.protocol.session;
      this.write(
        d,
        d.protocol.data(sample, this.now(), (ok, seq) => resolve({ ok, session, seq })),
      );
    }
  }

  private failWaiting(d: SerialDevice): void {
    for (const w of d.waiting.splice(0))
      w.resolve({ ok: false, session: d.protocol.session, seq: -1 });
  }

  async stop(deviceId: string): Promise<void> {
    const d = this.devices.get(deviceId);
    if (!d) return;
    this.devices.delete(deviceId);
    clearInterval(d.timer);
    this.failWaiting(d);
    d.protocol.stop();
    this.addTotals(d);
    await d.link.close();
  }

  counters(): Record<string, number> {
    const sum: Record<string, number> = { ...this.totals };
    for (const d of this.devices.values()) {
      for (const [k, v] of Object.entries({ ...d.protocol.counters, ...d.link.counters })) {
        sum[k] = (sum[k] ?? 0) + v;
      }
    }
    return { ...sum, ...this.faults };
  }

  private addTotals(d: SerialDevice): void {
    for (const [k, v] of Object.entries({ ...d.protocol.counters, ...d.link.counters })) {
      this.totals[k] = (this.totals[k] ?? 0) + v;
    }
  }

  private device(id: string): SerialDevice {
    const d = this.devices.get(id);
    if (!d) throw new Error(`device ${id} was not started`);
    return d;
  }

  /** Writes framed chunks, through the line's faults; a lone 0x00 (resync) passes as it is. */
  private write(d: SerialDevice, chunks: readonly Uint8Array[]): void {
    const faults = this.options.faults ?? {};
    if (!hasLineFaults(faults)) {
      d.link.write(chunks);
      return;
    }
    const out: Uint8Array[] = [];
    for (const c of chunks) {
      if (c.length <= 1) out.push(c);
      else out.push(...applyLineFaults(c, faults, d.random, this.faults));
    }
    d.link.write(out);
  }
}
