import { sleep } from '@iot-stream/contracts';
import type { Logger } from 'pino';
import {
  type ModbusBusConfig,
  type ModbusDeviceConfig,
  modbusBusName,
} from '../../config-modbus.ts';
import { Code } from '../../errors.ts';
import type {
  IngestCounters,
  ModbusBusCounters,
  ModbusDeviceCounters,
  Outbox,
  Source,
  SourcePorts,
} from '../../ports.ts';
import type { ClockSettings } from '../device-clock.ts';
import {
  commitReading,
  type IngestContext,
  ingestContextOf,
  newIngestCounters,
  quarantine,
} from '../ingest.ts';
import { classifyModbusError, type ModbusError } from './client.ts';
import { decodePoll, type ReadResult } from './decode.ts';
import type { ModbusLink } from './link.ts';
import { planRequests, type ReadRequest } from './plan.ts';
import type { PollSessions } from './poll-sessions.ts';

export interface ModbusSourceOptions {
  bus: ModbusBusConfig;
  link: ModbusLink;
  sessions: PollSessions;
  outbox: Outbox;
  log: Logger;
  now?: () => number;
  onStored?: () => void;
  clock?: ClockSettings | undefined;
}

export type ModbusSourceCounters = IngestCounters & { modbus: ModbusBusCounters };

/** Seq is 16 bits in a reading; a device that used them all takes a new session. */
const SEQ_LIMIT = 0x10000;

/**
 * One Modbus bus and the devices on it, each polled every `pollIntervalMs`. A poll reads the
 * device's registers in as few requests as planRequests allows and becomes one reading (every
 * metric of the device at that poll time) committed through the ingest step, with the identity
 * (device, session, seq): session from PollSessions, seq the device's poll count in it, so a
 * committed poll is never stored twice and a restart never reuses an identity. A poll whose
 * read fails (timeout and CRC after the retries, an exception response) or whose value cannot
 * be decoded is quarantined as MODBUS_POLL_FAILED with its reason; while the bus is down,
 * polls are not tried (counted as skipped) and the link reopens it with backoff.
 */
export class ModbusSource implements Source {
  readonly name: string;
  readonly counters: ModbusSourceCounters;
  private readonly ingest: IngestContext;
  private readonly now: () => number;
  private running = false;
  private stopping = new AbortController();
  private loops: Promise<void>[] = [];

  constructor(private readonly options: ModbusSourceOptions) {
    this.name = modbusBusName(options.bus);
    this.now = options.now ?? Date.now;
    this.counters = { ...newIngestCounters(), modbus: options.link.counters };
    for (const d of options.bus.devices) this.counters.modbus.devices[d.deviceId] = newDevice(d);
    this.ingest = ingestContextOf(options, this.counters, this.now);
  }

  /** Resolves at once: the bus opens, and the polls begin, in the background. */
  async start(): Promise<SourcePorts> {
    this.running = true;
    this.stopping = new AbortController();
    this.options.link.start();
    const session = this.options.sessions.next();
    // First polls spread over each device's interval: all due at once, the last of 50 devices
    // on a 19200-baud line would start every second late (overruns).
    this.loops = this.options.bus.devices.map((d, i, all) =>
      this.pollForever(d, session, Math.floor((i * d.pollIntervalMs) / all.length)),
    );
    return {};
  }

  async stop(): Promise<void> {
    this.running = false;
    this.stopping.abort();
    await this.options.link.stop();
    await Promise.all(this.loops);
  }

  private async pollForever(
    device: ModbusDeviceConfig,
    firstSession: number,
    firstAfterMs: number,
  ): Promise<void> {
    const c = this.counters.modbus.devices[device.deviceId] as ModbusDeviceCounters;
    const plan = planRequests(device.registers);
    const id = { session: firstSession, seq: 0 };
    let due = this.now() + firstAfterMs;
    while (this.running) {
      if (!(await sleep(Math.max(0, due - this.now()), this.stopping.signal))) return;
      const pollAt = this.now();
      try {
        await this.poll(device, plan, pollAt, c, id);
      } catch (err) {
        // A failed commit is counted and logged by the ingest step; the next poll tries again.
        this.options.log.debug({ err, deviceId: device.deviceId }, 'poll not committed');
      }
      due += device.pollIntervalMs;
      if (due <= this.now()) {
        c.overruns += 1;
        while (due <= this.now()) due += device.pollIntervalMs;
      }
    }
  }

  private async poll(
    device: ModbusDeviceConfig,
    plan: readonly ReadRequest[],
    pollAt: number,
    c: ModbusDeviceCounters,
    id: { session: number; seq: number },
  ): Promise<void> {
    if (!this.options.link.connected) {
      c.skipped += 1;
      return;
    }
    const results: ReadResult[] = [];
    for (const request of plan) {
      try {
        results.push(
          await this.options.link.read(device.unitId, request, (err) => {
            c.retries += 1;
            countError(c, err);
          }),
        );
      } catch (e) {
        const err = classifyModbusError(e);
        countError(c, err);
        if (err.kind === 'disconnected' || !this.running) {
          c.skipped += 1; // the bus went down: not the device's fault, and nothing to keep
          return;
        }
        return this.fail(device, c, err.message, { request: describe(request), error: err.kind });
      }
    }
    const decoded = decodePoll(device.registers, plan, results);
    if (!decoded.ok) return this.fail(device, c, decoded.reason, { results });
    if (id.seq >= SEQ_LIMIT) Object.assign(id, { session: this.options.sessions.next(), seq: 0 });
    const reading = {
      deviceId: device.deviceId,
      session: id.session,
      seq: id.seq,
      time: pollAt,
      receivedAt: this.now(),
      metrics: decoded.metrics,
    };
    // The identity is spent before the commit: a commit that fails may still be on disk.
    id.seq += 1;
    this.counters.received += 1;
    await commitReading(this.ingest, this.name, reading, JSON.stringify({ results }));
    c.polls += 1;
    c.lastPollAt = pollAt;
    c.lastError = null;
  }

  private async fail(
    device: ModbusDeviceConfig,
    c: ModbusDeviceCounters,
    reason: string,
    detail: Record<string, unknown>,
  ): Promise<void> {
    c.failed += 1;
    c.lastError = reason;
    this.counters.received += 1;
    const raw = JSON.stringify({
      bus: this.name,
      deviceId: device.deviceId,
      unitId: device.unitId,
      ...detail,
      reason,
    });
    await quarantine(this.ingest, this.name, Code.MODBUS_POLL_FAILED, reason, raw);
    if (c.failed === 1 || c.failed % 100 === 0)
      this.options.log.warn(
        { deviceId: device.deviceId, unitId: device.unitId, reason, failed: c.failed },
        'modbus poll failed: quarantined',
      );
  }
}

function newDevice(d: ModbusDeviceConfig): ModbusDeviceCounters {
  return {
    unitId: d.unitId,
    polls: 0,
    failed: 0,
    skipped: 0,
    overruns: 0,
    retries: 0,
    errors: {},
    lastError: null,
    lastPollAt: null,
  };
}

function countError(c: ModbusDeviceCounters, err: ModbusError): void {
  c.errors[err.kind] = (c.errors[err.kind] ?? 0) + 1;
  if (err.exceptionCode !== undefined) {
    const key = `exception-${err.exceptionCode}`;
    c.errors[key] = (c.errors[key] ?? 0) + 1;
  }
}

const describe = ({ kind, address, count }: ReadRequest) => ({ kind, address, count });
