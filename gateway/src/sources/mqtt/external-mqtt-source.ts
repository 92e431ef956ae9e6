import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import type { IngestCounters, Outbox, Source, SourcePorts } from '../../ports.ts';
import type { ClockSettings } from '../device-clock.ts';
import { type IngestContext, ingestPublish, newIngestCounters } from '../ingest.ts';
import type { Mappings } from '../mapping/rules.ts';
import { MqttSubscriber } from './subscriber.ts';

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
  /** Devices' own topics and JSON (mqtt.mappings): their topics are subscribed to as well. */
  mappings?: Mappings | undefined;
}

/**
 * Subscribes to an external broker (for example Mosquitto) with a persistent session
 * (clean=false, QoS 1). A message's PUBACK goes out only once the reading is committed; on a
 * failed commit the connection is dropped so the broker redelivers. Messages that arrive
 * together share one commit and their PUBACKs one write (see MqttSubscriber), so throughput
 * grows with the broker's in-flight window (Mosquitto: `max_inflight_messages`).
 */
export class ExternalMqttSource implements Source {
  readonly name = 'mqttExternal';
  readonly counters: IngestCounters & { connected: boolean; reconnects: number } = {
    ...newIngestCounters(),
    connected: false,
    reconnects: 0,
  };
  private subscriber: MqttSubscriber | undefined;
  private readonly ingest: IngestContext;

  constructor(private readonly options: ExternalMqttOptions) {
    this.ingest = {
      outbox: options.outbox,
      counters: this.counters,
      log: options.log,
      now: options.now ?? Date.now,
      onStored: options.onStored,
      clock: options.clock,
      mappings: options.mappings,
    };
  }

  async start(): Promise<SourcePorts> {
    const { log, url } = this.options;
    const subscriber = new MqttSubscriber({
      url,
      clientId: this.options.clientId,
      username: this.options.username,
      password: this.options.password,
      ca: this.options.caFile ? readFileSync(this.options.caFile) : undefined,
      topics: [...new Set([...this.options.topics, ...(this.options.mappings?.filters() ?? [])])],
      log,
      onMessage: (topic, payload, delivery) =>
        ingestPublish(this.ingest, `mqtt-external:${topic}`, topic, payload, delivery),
      onConnect: (sessionPresent) => {
        this.counters.connected = true;
        log.info({ url, sessionPresent }, 'connected to external MQTT broker');
      },
      onClose: () => {
        this.counters.connected = false;
      },
      onReconnect: () => {
        this.counters.reconnects += 1;
      },
    });
    this.subscriber = subscriber;
    subscriber.start();
    return {};
  }

  async stop(): Promise<void> {
    await this.subscriber?.stop();
  }
}
