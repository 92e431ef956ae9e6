import { createServer, type Server, type Socket } from 'node:net';
import mqttPacket, { type Packet } from 'mqtt-packet';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { MqttSubscriber } from '../src/sources/mqtt/subscriber.ts';

// The acknowledgement rules, seen from the broker's side of the socket: a scripted MQTT 3.1.1
// peer (mqtt-packet on both ends) that records every packet the subscriber sends. The real
// broker (Mosquitto) is in external-mqtt-source.test.ts.
const log = pino({ level: 'silent' });

interface Peer {
  url: string;
  received: Packet[];
  socket: Promise<Socket>;
  server: Server;
}

async function peer(connackCode = 0): Promise<Peer> {
  const received: Packet[] = [];
  let gotSocket: (s: Socket) => void = () => undefined;
  const socket = new Promise<Socket>((r) => {
    gotSocket = r;
  });
  const server = createServer((s) => {
    const parser = mqttPacket.parser({ protocolVersion: 4 });
    parser.on('packet', (p: Packet) => {
      received.push(p);
      if (p.cmd === 'connect')
        s.write(
          mqttPacket.generate({ cmd: 'connack', returnCode: connackCode, sessionPresent: false }),
        );
      if (p.cmd === 'subscribe')
        s.write(mqttPacket.generate({ cmd: 'suback', messageId: p.messageId, granted: [1] }));
    });
    s.on('data', (b) => parser.parse(b));
    s.on('error', () => undefined);
    gotSocket(s);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  return { url: `mqtt://127.0.0.1:${port}`, received, socket, server };
}

const publish = (messageId: number) =>
  mqttPacket.generate({
    cmd: 'publish',
    topic: `iot/v1/d/data`,
    payload: Buffer.from(`{"seq":${messageId}}`),
    qos: 1,
    messageId,
    retain: false,
    dup: false,
  });

const until = async (cond: () => boolean, ms = 5_000) => {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
};

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function deferred() {
  let resolve: () => void = () => undefined;
  let reject: (e: Error) => void = () => undefined;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('MqttSubscriber acknowledgements', () => {
  it('connects with a persistent session and subscribes at QoS 1', async () => {
    const p = await peer();
    cleanups.push(() => p.server.close());
    const sub = new MqttSubscriber({
      url: p.url,
      clientId: 'gw',
      username: 'u',
      password: 'pw',
      topics: ['iot/v1/+/data'],
      log,
      onMessage: async () => undefined,
    });
    sub.start();
    cleanups.push(() => sub.stop());
    await until(() => p.received.some((x) => x.cmd === 'subscribe'));
    const [connect, subscribe] = p.received;
    expect(connect).toMatchObject({ cmd: 'connect', clean: false, clientId: 'gw', username: 'u' });
    expect(String((connect as { password: Buffer }).password)).toBe('pw');
    expect(subscribe).toMatchObject({ subscriptions: [{ topic: 'iot/v1/+/data', qos: 1 }] });
  });

  it('acknowledges only what was committed, in arrival order, in one write', async () => {
    const p = await peer();
    cleanups.push(() => p.server.close());
    const commits = [deferred(), deferred(), deferred()];
    let n = 0;
    const sub = new MqttSubscriber({
      url: p.url,
      clientId: 'gw',
      topics: ['iot/v1/+/data'],
      log,
      onMessage: () => (commits[n++] as ReturnType<typeof deferred>).promise,
    });
    sub.start();
    cleanups.push(() => sub.abort());
    await until(() => p.received.some((x) => x.cmd === 'subscribe'));
    const socket = await p.socket;
    const writes: number[] = [];
    socket.on('data', (b) => writes.push(b.length));
    socket.write(Buffer.concat([publish(11), publish(12), publish(13)]));
    await until(() => n === 3);
    const acks = () => p.received.filter((x) => x.cmd === 'puback').map((x) => x.messageId);
    commits[2]?.resolve(); // the last one is on disk first: nothing may go yet
    commits[1]?.resolve();
    await new Promise((r) => setTimeout(r, 50));
    expect(acks()).toEqual([]);
    commits[0]?.resolve();
    await until(() => acks().length === 3);
    expect(acks()).toEqual([11, 12, 13]);
    expect(writes).toEqual([12]); // three 4-byte PUBACKs in one write
  });

  it('drops the connection, acknowledging nothing after a failed commit', async () => {
    const p = await peer();
    cleanups.push(() => p.server.close());
    const commits = [deferred(), deferred()];
    let n = 0;
    const sub = new MqttSubscriber({
      url: p.url,
      clientId: 'gw',
      topics: ['iot/v1/+/data'],
      log,
      onMessage: () => (commits[n++] as ReturnType<typeof deferred>).promise,
    });
    sub.start();
    cleanups.push(() => sub.abort());
    await until(() => p.received.some((x) => x.cmd === 'subscribe'));
    const socket = await p.socket;
    const closed = new Promise((r) => socket.once('close', r));
    socket.write(Buffer.concat([publish(1), publish(2)]));
    await until(() => n === 2);
    commits[1]?.resolve();
    commits[0]?.reject(new Error('disk full'));
    await closed;
    expect(p.received.filter((x) => x.cmd === 'puback')).toEqual([]);
  });

  it('says why the broker refused it, and tries again', async () => {
    const p = await peer(5);
    cleanups.push(() => p.server.close());
    const lines: string[] = [];
    const capture = pino({ level: 'info' }, { write: (l: string) => void lines.push(l) });
    let reconnects = 0;
    const sub = new MqttSubscriber({
      url: p.url,
      clientId: 'gw',
      topics: ['t'],
      log: capture,
      onMessage: async () => undefined,
      onReconnect: () => {
        reconnects += 1;
      },
    });
    sub.start();
    cleanups.push(() => sub.abort());
    await until(() => reconnects >= 1);
    expect(lines.join('')).toContain('not authorized');
  });
});
