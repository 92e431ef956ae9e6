import { once } from 'node:events';
import { type AddressInfo, createServer, type Server } from 'node:net';
import { Aedes } from 'aedes';
import mqtt from 'mqtt';

export interface Received {
  topic: string;
  payload: string;
  retain: boolean;
}

/** An in-process MQTT broker (aedes) on a free loopback port, recording every publish. */
export class TestBroker {
  readonly published: Received[] = [];
  private constructor(
    readonly broker: Aedes,
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(): Promise<TestBroker> {
    const broker = await Aedes.createBroker();
    const server = createServer(broker.handle);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    const b = new TestBroker(broker, server, `mqtt://127.0.0.1:${port}`);
    broker.on('publish', (packet) => {
      if (packet.topic.startsWith('$SYS')) return; // the broker's own messages
      b.published.push({
        topic: packet.topic,
        payload: packet.payload.toString(),
        retain: packet.retain,
      });
    });
    return b;
  }

  data(deviceId?: string): Array<Record<string, unknown> & { seq: number; session: number }> {
    return this.published
      .filter(
        (p) => p.topic.endsWith('/data') && (!deviceId || p.topic === `iot/v1/${deviceId}/data`),
      )
      .map((p) => JSON.parse(p.payload));
  }

  /** Retained messages as a fresh subscriber sees them. */
  async retained(filter: string): Promise<Map<string, string>> {
    const client = await mqtt.connectAsync(this.url, { clientId: `probe-${Math.random()}` });
    const seen = new Map<string, string>();
    client.on('message', (topic, payload, packet) => {
      if (packet.retain) seen.set(topic, payload.toString());
    });
    await client.subscribeAsync(filter, { qos: 1 });
    await new Promise((r) => setTimeout(r, 200));
    await client.endAsync();
    return seen;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.broker.close(() => resolve()));
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
