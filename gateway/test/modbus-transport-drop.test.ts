import type { AddressInfo } from 'node:net';
import { createServer, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { ModbusBusConfig } from '../src/config-modbus.ts';
import { modbusSerialTransport } from '../src/sources/modbus/client.ts';

// A Modbus TCP device that goes away mid-request resets the connection (the request it had not
// read yet makes the kernel send RST, not FIN): modbus-serial then marks its port closed without
// emitting 'close'. The transport must still tell the link, which reopens the bus; it did not,
// and the gateway polled a dead connection until restarted (seen as a flaky test under load).
// The peer here is a plain TCP server that resets the first connection at its first request:
// the case under test is the connection reset, which a real device does only by chance.

const sockets: Socket[] = [];
let resetDone: () => void = () => undefined;
const reset = new Promise<void>((r) => {
  resetDone = r;
});
const server = createServer((socket) => {
  sockets.push(socket);
  socket.once('data', () => socket.resetAndDestroy());
  socket.once('close', () => resetDone());
});

afterEach(async () => {
  for (const s of sockets) s.destroy();
  await new Promise<void>((r) => server.close(() => r()));
});

describe('the Modbus TCP transport', () => {
  it('tells the link the connection is gone when the peer resets it mid-request', async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    const transport = modbusSerialTransport({
      tcp: { host: '127.0.0.1', port },
      timeoutMs: 1000, // the RST comes long before it, even on a loaded machine
    } as ModbusBusConfig);
    await transport.open();
    const dropped = new Promise<string>((resolve) => transport.onClose(resolve));
    const reads: string[] = [];
    const read = () =>
      transport.read(1, { kind: 'holding', address: 0, count: 1 }).then(
        () => 'answered',
        (err: { kind?: string }) => String(err.kind),
      );
    // The first read is reset (its answer never comes: the connection's fault, not the
    // device's, so not a timeout); the next finds the port not open.
    reads.push(await read());
    await reset; // (the peer's side of it, for certain before the second read)
    reads.push(await read());
    const reason = await Promise.race([
      dropped,
      new Promise<string>((r) => setTimeout(() => r('never told'), 2000)),
    ]);
    expect(reads).toEqual(['disconnected', 'disconnected']);
    expect(reason).toMatch(/reset or lost|closed/);
    await transport.close();
  });
});
