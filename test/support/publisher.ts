import mqtt, { type MqttClient } from 'mqtt';
import { readingKey } from './kafka-read.ts';

export interface PublisherOptions {
  url: string;
  deviceId: string;
  session: number;
  /** Publishes in flight at most (waiting for PUBACK). */
  window: number;
  qos?: 1 | 2;
  username?: string;
  password?: string;
  onAck: (seq: number) => void;
}

/**
 * A device that publishes QoS 1 readings as fast as its window allows and keeps going across
 * gateway crashes: mqtt.js reconnects and resends what was not acknowledged. Only a PUBACK
 * counts as acknowledged.
 */
export class Publisher {
  sent = 0;
  acked = 0;
  private client: MqttClient | undefined;
  private running = false;
  private loop: Promise<void> | undefined;
  private inflight = 0;
  private waiters: Array<() => void> = [];

  constructor(private readonly options: PublisherOptions) {}

  start(): void {
    this.client = mqtt.connect(this.options.url, {
      clientId: this.options.deviceId,
      reconnectPeriod: 100,
      connectTimeout: 5000,
      clean: true,
      ...(this.options.username
        ? { username: this.options.username, password: this.options.password ?? '' }
        : {}),
    });
    this.client.on('error', () => undefined); // reconnects on its own
    this.running = true;
    this.loop = this.run();
  }

  /** Stops publishing and waits (up to `timeoutMs`) for outstanding acknowledgements. */
  async stop(timeoutMs = 30_000): Promise<void> {
    this.running = false;
    await this.loop;
    const deadline = Date.now() + timeoutMs;
    while (this.inflight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    await this.client?.endAsync(true);
  }

  private async run(): Promise<void> {
    const client = this.client as MqttClient;
    for (let seq = 0; this.running && seq < 0xffff; seq += 1) {
      while (this.inflight >= this.options.window)
        await new Promise<void>((r) => this.waiters.push(r));
      if (!this.running) break;
      this.inflight += 1;
      this.sent += 1;
      const payload = JSON.stringify({
        session: this.options.session,
        seq,
        time: 1_700_000_000_000 + seq,
        metrics: { value: { value: seq, unit: 'count' } },
      });
      client.publish(
        `iot/v1/${this.options.deviceId}/data`,
        payload,
        { qos: this.options.qos ?? 1 },
        (err) => {
          this.inflight -= 1;
          if (!err) {
            this.acked += 1;
            this.options.onAck(seq);
          }
          this.waiters.shift()?.();
        },
      );
      if (seq % 50 === 0) await new Promise((r) => setImmediate(r));
    }
  }
}

/**
 * `count` devices `<prefix><i>` with sessions `sessionBase + i`, publishing through `url`; every
 * PUBACK adds the reading's key (readingKey) to `acked`. Not started.
 */
export function publisherFleet(options: {
  url: string;
  prefix: string;
  sessionBase: number;
  acked: Set<string>;
  count?: number;
  window?: number;
}): Publisher[] {
  return Array.from({ length: options.count ?? 4 }, (_, i) => {
    const deviceId = `${options.prefix}${i}`;
    const session = options.sessionBase + i;
    return new Publisher({
      url: options.url,
      deviceId,
      session,
      window: options.window ?? 100,
      onAck: (seq) => options.acked.add(readingKey(deviceId, session, seq)),
    });
  });
}
