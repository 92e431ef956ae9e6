// The protocol's MQTT mapping (SPEC section 7) from the device side: one connection per device,
// the last will `offline`, a retained birth and `online` after connecting [FP-7.2], [FP-7.3],
// then JSON data at QoS 1 [FP-7.4]. A reading counts as acknowledged when its PUBACK arrives.
import { readFileSync } from 'node:fs';
import {
  birthTopic,
  buildBirth,
  CAPABILITIES,
  dataTopic,
  formatJsonData,
  lastWill,
  STATE_OFFLINE,
  STATE_ONLINE,
  stateTopic,
} from '@iot-stream/firmware-protocol';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { SimError } from '../errors.ts';
import { type DeviceIdentity, type SendResult, sensorsOf, type Transport } from '../ports.ts';
import { type Sample, toJsonReading } from '../sample.ts';

export interface MqttTransportOptions {
  url: string;
  qos?: 0 | 1 | 2;
  /** Username template (`{id}` is replaced by the device id); the device id when absent. */
  username?: string | undefined;
  /** With a password each device logs in as `username` (the gateway's `password` auth). */
  password?: string | undefined;
  /** CA certificate (PEM) that signed the broker's certificate, for mqtts://. */
  ca?: string | Buffer | undefined;
  /** Client certificate and key file templates (`{id}`), for `certificate` auth. */
  cert?: string | undefined;
  key?: string | undefined;
  connectTimeoutMs?: number;
}

interface MqttDevice {
  identity: DeviceIdentity;
  session: number;
  seq: number;
  client: MqttClient;
  /** Sends not yet resolved: stop() fails them. */
  pending: Set<(r: SendResult) => void>;
}

export class MqttTransport implements Transport {
  readonly name = 'mqtt';
  private readonly devices = new Map<string, MqttDevice>();
  private readonly stats = { connects: 0, connectionErrors: 0, births: 0, offline: 0 };

  constructor(private readonly options: MqttTransportOptions) {}

  async start(identity: DeviceIdentity, session: number): Promise<void> {
    const client = await this.connect(identity.id);
    const device: MqttDevice = { identity, session, seq: 0, client, pending: new Set() };
    this.devices.set(identity.id, device);
    await this.introduce(device);
  }

  send(deviceId: string, sample: Sample): Promise<SendResult> {
    const d = this.device(deviceId);
    const seq = d.seq;
    d.seq = (d.seq + 1) & 0xffff;
    const payload = formatJsonData(toJsonReading(sample, d.session, seq));
    return new Promise((resolve) => {
      const settle = (result: SendResult) => {
        if (d.pending.delete(settle)) resolve(result);
      };
      d.pending.add(settle);
      d.client.publish(dataTopic(deviceId), payload, { qos: this.options.qos ?? 1 }, (err) =>
        settle({ ok: !err, session: d.session, seq }),
      );
    });
  }

  /** A power cycle: the connection drops without DISCONNECT (the broker sends the will). */
  async reboot(deviceId: string, session: number): Promise<void> {
    const d = this.device(deviceId);
    this.failPending(d);
    await d.client.endAsync(true);
    d.session = session;
    d.seq = 0;
    d.client = await this.connect(deviceId);
    await this.introduce(d);
  }

  /** A clean shutdown: `offline` (retained), then DISCONNECT so the will is not sent. */
  async stop(deviceId: string): Promise<void> {
    const d = this.devices.get(deviceId);
    if (!d) return;
    this.devices.delete(deviceId);
    const force = d.pending.size > 0 || !d.client.connected;
    this.failPending(d);
    if (!force) {
      try {
        await withTimeout(
          d.client.publishAsync(stateTopic(deviceId), STATE_OFFLINE, { qos: 1, retain: true }),
          2000,
        );
        this.stats.offline += 1;
      } catch {
        // the will covers it
      }
    }
    await d.client.endAsync(force);
  }

  counters(): Record<string, number> {
    return { ...this.stats };
  }

  private device(id: string): MqttDevice {
    const d = this.devices.get(id);
    if (!d) throw new Error(`device ${id} was not started`);
    return d;
  }

  private failPending(d: MqttDevice): void {
    for (const settle of [...d.pending]) settle({ ok: false, session: d.session, seq: -1 });
  }

  /** [FP-7.2]: will set at connect, then birth, then online, both retained. */
  private async introduce(d: MqttDevice): Promise<void> {
    const { id, firmware, metrics } = d.identity;
    const birth = buildBirth(
      { deviceId: id, firmware, capabilities: CAPABILITIES.realTimeClock },
      d.session,
      sensorsOf(metrics),
    );
    await d.client.publishAsync(birthTopic(id), JSON.stringify(birth), { qos: 1, retain: true });
    await d.client.publishAsync(stateTopic(id), STATE_ONLINE, { qos: 1, retain: true });
    this.stats.births += 1;
  }

  private async connect(deviceId: string): Promise<MqttClient> {
    const o = this.options;
    const fill = (template: string) => template.replaceAll('{id}', deviceId);
    const opts: IClientOptions = {
      clientId: deviceId,
      clean: true,
      protocolVersion: 4,
      reconnectPeriod: 1000,
      connectTimeout: o.connectTimeoutMs ?? 10_000,
      will: { ...lastWill(deviceId) },
    };
    if (o.password !== undefined) {
      opts.username = fill(o.username ?? '{id}');
      opts.password = o.password;
    } else if (o.username !== undefined) opts.username = fill(o.username);
    if (o.ca !== undefined) opts.ca = o.ca;
    if (o.cert !== undefined) opts.cert = readFileSync(fill(o.cert));
    if (o.key !== undefined) opts.key = readFileSync(fill(o.key));
    try {
      const client = await mqtt.connectAsync(o.url, opts, false);
      client.on('error', () => {
        this.stats.connectionErrors += 1;
      });
      this.stats.connects += 1;
      return client;
    } catch (cause) {
      throw new SimError(
        'MQTT_CONNECT_FAILED',
        `device ${deviceId} cannot connect to ${o.url}: ${(cause as Error).message}`,
        { retriable: true, cause },
      );
    }
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
