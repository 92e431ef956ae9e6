import { readFileSync } from 'node:fs';
import mqtt, { type IPublishPacket, type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import type { IngestCounters, Outbox, Source, SourcePorts } from '../../ports.ts';
import type { ClockSettings } from '../device-clock.ts';
import { type IngestContext, ingestPublish, newIngestCounters } from '../ingest.ts';

export interface ExternalMqttOptions {
  /** e.g. mqtt://broker:1883 or mqtts://broker:8883 */
  url: string;
  /** Fixed, so the broker keeps this gateway's session (and unacknowledged messages). */
  clientId: string;
  username?: string | undefined;
  password?: string | undefined;
  /** CA for mqtts:// when the broker's certificate is not signed by a public CA. */
  caFile?: string | undefined;
  topics: readonly string[];
  outbox: Outbox;
  log: Logger;
  now?: () => number;
  onStored?: () => void;
  /** What a device stamp may be (the `clock` settings). */
  clock?: ClockSettings | undefined;
}

/**
 * Subscribes to an external broker (for example Mosquitto) with a persistent session
 * (clean=false, QoS 1). mqtt.js sends a message's PUBACK only after `handleMessage` calls
 * back, which happens once the reading is committed; on a failed commit the connection is
 * dropped so the broker redelivers. mqtt.js hands over one message at a time, so each waits
 * for its own group commit: see README for the throughput this gives.
 */
export class ExternalMqttSource implements Source {
  readonly name = 'mqttExternal';
  readonly counters: IngestCounters & { connected: boolean; reconnects: number } = {
    ...newIngestCounters(),
    connected: false,
    reconnects: 0,
  };
  private client: MqttClient | undefined;
  private readonly ingest: IngestContext;

  constructor(private readonly options: ExternalMqttOptions) {
    this.ingest = {
      outbox: options.outbox,
      counters: this.counters,
      log: options.log,
      now: options.now ?? Date.now,
      onStored: options.onStored,
      clock: options.clock,
    };
  }

  async start(): Promise<SourcePorts> {
    const { log } = this.options;
    const client = mqtt.connect(this.options.url, {
      clientId: this.options.clientId,
      clean: false,
      manualConnect: true,
      reconnectPeriod: 1000,
      connectTimeout: 10_000,
      ...(this.options.username
        ? { username: this.options.username, password: this.options.password ?? '' }
        : {}),
      ...(this.options.caFile ? { ca: readFileSync(this.options.caFile) } : {}),
    });
    this.client = client;
    // Installed before connecting: a persistent session's queued messages arrive with CONNACK.
    client.handleMessage = (packet: IPublishPacket, done: (err?: Error) => void) => {
      const payload =
        typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
      ingestPublish(this.ingest, `mqtt-external:${packet.topic}`, packet.topic, payload).then(
        () => done(),
        (err: Error) => {
          done(err);
          client.stream?.destroy(); // reconnect; the broker redelivers what was not acknowledged
        },
      );
    };
    client.on('connect', (connack) => {
      this.counters.connected = true;
      log.info(
        { url: this.options.url, sessionPresent: connack.sessionPresent },
        'connected to external MQTT broker',
      );
      // Always (re)subscribe: harmless when the session kept the subscriptions, needed when the
      // broker lost the session or the configured topics changed.
      client.subscribe([...this.options.topics], { qos: 1 }, (err) => {
        if (err) log.error({ err }, 'subscribe failed');
      });
    });
    client.on('reconnect', () => {
      this.counters.reconnects += 1;
    });
    client.on('close', () => {
      if (this.counters.connected)
        log.warn({ url: this.options.url }, 'external MQTT broker connection lost');
      this.counters.connected = false;
    });
    client.on('error', (err) => log.warn({ err }, 'external MQTT broker error'));
    client.connect();
    return {};
  }

  async stop(): Promise<void> {
    await this.client?.endAsync();
  }
}
