import { randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';

const LOWEST = 10_000;

/**
 * `count` distinct free TCP ports on 127.0.0.1, each proven free by binding it; all listeners
 * are held open together so no port is handed out twice, then closed.
 *
 * The ports come from below the kernel's ephemeral range (ip_local_port_range, usually
 * 32768-60999), not from `listen(0)`: an ephemeral port can be taken between our check and the
 * server's bind by any outgoing connection's source port, and a client reconnecting to a
 * stopped node's ephemeral port can even connect to itself (TCP self-connect) and squat on it.
 * Both happened here ("Address already in use" on a Kafka controller port). Falls back to
 * `listen(0)` when there is no room below the ephemeral range.
 */
export async function freePorts(count: number): Promise<number[]> {
  const servers: Server[] = [];
  const ports: number[] = [];
  const ceiling = ephemeralRangeStart();
  try {
    for (let attempt = 0; ports.length < count; attempt++) {
      const useRange = ceiling - LOWEST > 1_000 && attempt < 200;
      const wanted = useRange ? randomInt(LOWEST, ceiling) : 0;
      if (ports.includes(wanted)) continue;
      const server = createServer();
      const port = await listen(server, wanted);
      if (port === undefined) continue;
      servers.push(server);
      ports.push(port);
    }
    return ports;
  } finally {
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }
}

/** The bound port, or undefined when `port` is taken. */
function listen(server: Server, port: number): Promise<number | undefined> {
  return new Promise((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE' || err.code === 'EACCES') resolve(undefined);
      else reject(err);
    });
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => {
      const address = server.address();
      resolve(address !== null && typeof address !== 'string' ? address.port : undefined);
    });
  });
}

function ephemeralRangeStart(): number {
  try {
    const [low] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8')
      .trim()
      .split(/\s+/);
    const value = Number(low);
    return Number.isInteger(value) && value > 0 ? value : 32_768;
  } catch {
    return 32_768; // Linux default; macOS uses 49152-65535, also above this
  }
}
