// Child process of the gateway benchmark: a fleet of MQTT devices publishing QoS 1 readings.
// Kept out of the benchmark's process so the devices' CPU does not share its event loop.
// Protocol (IPC): receives a LoadConfig, connects, sends `ready`, waits for `go`, publishes,
// sends `done` with its counters, then exits when the parent disconnects.
import mqtt from 'mqtt';
import type { LoadConfig, LoadDone } from './lib/messages.ts';
import { type PublishClient, RawMqttClient } from './lib/raw-mqtt.ts';
import { summarize } from './lib/stats.ts';

class Device {
  published = 0;
  inflight = 0;
  constructor(
    private readonly client: PublishClient,
    private readonly deviceId: string,
    private readonly session: number,
    private readonly onAck: (device: Device, ok: boolean, sentAt: number, ackMs: number) => void,
  ) {}

  /** One reading; `time` is the publish time so a consumer can compute end-to-end latency. */
  publish(): void {
    const n = this.published++;
    // seq is 16-bit: a new session every 65,536 readings keeps (device, session, seq) unique.
    const session = this.session + Math.floor(n / 65_536);
    const payload = `{"session":${session},"seq":${n % 65_536},"time":${Date.now()},"metrics":{"temperature":{"value":${20 + (n % 100) / 10},"unit":"Cel"},"humidity":{"value":40.2,"unit":"%RH"}}}`;
    this.inflight += 1;
    const sentAt = performance.now();
    this.client.publish(`iot/v1/${this.deviceId}/data`, payload, (err) => {
      this.inflight -= 1;
      this.onAck(this, !err, sentAt, performance.now() - sentAt);
    });
  }
}

async function connect(
  kind: LoadConfig['client'],
  url: string,
  id: string,
): Promise<PublishClient> {
  if (kind === 'raw') return RawMqttClient.connect(url, id);
  const client = await mqtt.connectAsync(url, { clientId: id, clean: true, reconnectPeriod: 500 });
  client.on('error', () => undefined); // reconnects on its own
  return {
    publish: (topic, payload, done) =>
      client.publish(topic, payload, { qos: 1 }, (err) => done(err ?? undefined)),
    end: async () => {
      await client.endAsync();
    },
  };
}

async function run(config: LoadConfig): Promise<void> {
  const session = Date.now() % 1_000_000_000;
  const counters = { acked: 0, failed: 0, lastAckAt: 0, lastPublishAt: 0 };
  const total = config.mode.kind === 'burst' ? config.mode.total : Number.POSITIVE_INFINITY;
  const quota = (i: number) =>
    Math.floor(total / config.devices) + (i < total % config.devices ? 1 : 0);
  let finished: () => void = () => undefined;
  const allAcked = new Promise<void>((resolve) => {
    finished = resolve;
  });
  let stopped = false;
  let published = 0;
  const quotas = new Map<Device, number>();
  const ackMs: number[] = [];
  let measureFrom = Number.POSITIVE_INFINITY; // performance.now() after the warm-up
  const onAck = (device: Device, ok: boolean, sentAt: number, ms: number) => {
    if (sentAt >= measureFrom) ackMs.push(ms);
    if (ok) counters.acked += 1;
    else counters.failed += 1;
    counters.lastAckAt = Date.now();
    if (config.mode.kind === 'burst' && device.published < (quotas.get(device) ?? 0)) {
      device.publish();
      published += 1;
      counters.lastPublishAt = counters.lastAckAt;
    }
    if (stopped && counters.acked + counters.failed >= published) finished();
  };
  const clients = await Promise.all(
    Array.from({ length: config.devices }, (_, i) =>
      connect(config.client, config.url, `${config.prefix}-${i}`),
    ),
  );
  const devices = clients.map((c, i) => new Device(c, `${config.prefix}-${i}`, session, onAck));
  for (const [i, d] of devices.entries()) quotas.set(d, quota(i));
  process.send?.({ type: 'ready' });
  await new Promise<void>((resolve) => process.once('message', () => resolve()));

  const firstPublishAt = Date.now();
  counters.lastPublishAt = firstPublishAt;
  if (config.mode.kind === 'burst') {
    const perDevice = Math.min(config.window, Math.ceil(total / config.devices));
    for (const d of devices) {
      while (d.inflight < perDevice && d.published < (quotas.get(d) ?? 0)) {
        d.publish();
        published += 1;
      }
    }
    stopped = true; // the first window is out; acks publish the rest
    if (published === 0) finished();
    await allAcked;
  } else {
    const { rate, durationMs, warmupMs } = config.mode;
    measureFrom = performance.now() + warmupMs;
    let next = 0;
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        const elapsed = Date.now() - firstPublishAt;
        const target = Math.floor((rate * Math.min(elapsed, durationMs)) / 1000);
        for (; published < target; published += 1) devices[next++ % devices.length]?.publish();
        if (elapsed >= durationMs) {
          clearInterval(timer);
          resolve();
        }
      }, 2);
    });
    counters.lastPublishAt = Date.now();
    stopped = true;
    if (counters.acked + counters.failed >= published) finished();
    await allAcked;
  }
  const done: LoadDone = {
    type: 'done',
    sent: published,
    ...counters,
    firstPublishAt,
    ...(ackMs.length > 0 ? { ackLatencyMs: summarize(ackMs) } : {}),
  };
  process.send?.(done);
  await Promise.all(clients.map((c) => c.end()));
}

process.once('message', (config: LoadConfig) => {
  run(config).catch((err: unknown) => {
    process.stderr.write(`load-devices: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  });
});
process.on('disconnect', () => process.exit(0));
