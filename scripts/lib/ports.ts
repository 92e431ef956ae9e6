// The ports `npm start` gives the hub and the gateway. A port asked for with an option must be
// free, or nothing starts (the error names the option and the port). A default port that is
// taken is replaced by 0: the app then binds a port the kernel picks, with no window in which
// another program could take it, and logs which one; `npm start` prints that port and says why.
import { createServer } from 'node:net';
import { StartError } from './errors.ts';

export interface PortRequest {
  /** The option that sets it, as typed: `--port`. */
  option: string;
  /** What listens there, for messages: `the hub`. */
  what: string;
  /**
   * The address the app binds. The check must bind the same one: a port held on one address
   * (say 192.168.1.5:1883) leaves 127.0.0.1:1883 free but makes 0.0.0.0:1883 fail.
   */
  host: string;
  defaultPort: number;
  /** The option's value when given (0: any free port). */
  requested?: number | undefined;
}

export interface PortChoice extends PortRequest {
  /** What the app is told to listen on; 0 = a port the kernel picks (the app logs it). */
  port: number;
  /** The default port was taken (or asked for by another option), so a free one is picked. */
  picked: boolean;
}

export type ProbeResult = { free: true } | { free: false; code: string };
/** Whether `host:port` can be listened on right now. */
export type PortProbe = (host: string, port: number) => Promise<ProbeResult>;

/** `--port 8080` → 8080; anything but a whole number 0..65535 is refused. */
export function parsePort(option: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const port = /^\d{1,5}$/.test(value) ? Number(value) : Number.NaN;
  if (!(port >= 0 && port <= 65535))
    throw new StartError(
      'START_USAGE',
      `${option} ${JSON.stringify(value)}: expected a port number, 1 to 65535 (0: any free port)`,
    );
  return port;
}

/**
 * Decides every port before anything starts. Explicit ports are checked first and refused when
 * taken; a default is kept when free, else left to the kernel (port 0).
 */
export async function choosePorts(
  requests: readonly PortRequest[],
  probe: PortProbe,
): Promise<PortChoice[]> {
  const explicit = new Map<number, string>();
  for (const r of requests) {
    if (!r.requested) continue;
    const other = explicit.get(r.requested);
    if (other)
      throw new StartError(
        'START_PORT_CONFLICT',
        `${other} and ${r.option} both ask for port ${r.requested}: give them different ports`,
      );
    explicit.set(r.requested, r.option);
  }
  return Promise.all(
    requests.map(async (r): Promise<PortChoice> => {
      if (r.requested !== undefined) {
        if (r.requested !== 0) await mustBeFree(r, r.requested, probe);
        return { ...r, port: r.requested, picked: false };
      }
      const free =
        !explicit.has(r.defaultPort) && (await probe(r.host, r.defaultPort)).free === true;
      return { ...r, port: free ? r.defaultPort : 0, picked: !free };
    }),
  );
}

async function mustBeFree(r: PortRequest, port: number, probe: PortProbe): Promise<void> {
  const result = await probe(r.host, port);
  if (result.free) return;
  if (result.code === 'EADDRINUSE')
    throw new StartError(
      'START_PORT_TAKEN',
      `${r.option} ${port}: port ${port} is already in use, so ${r.what} cannot listen on ` +
        `${r.host}:${port}; choose another port, or leave ${r.option} out to have a free one picked`,
    );
  throw new StartError(
    'START_PORT_UNUSABLE',
    `${r.option} ${port}: ${r.what} cannot listen on ${r.host}:${port} (${result.code}); ` +
      'choose another port',
  );
}

/** The line that says a default was taken: `port 8080 was taken: the hub listens on 41234`. */
export function pickedNote(choice: PortChoice, actual: number): string {
  return (
    `port ${choice.defaultPort} was taken, so ${choice.what} listens on ${actual} ` +
    `(${choice.option} N to choose one)`
  );
}

/** Listens on `host:port` and closes again: the adapter behind `PortProbe`. */
export const listenProbe: PortProbe = (host, port) =>
  new Promise((resolve) => {
    const server = createServer();
    server.once('error', (err: NodeJS.ErrnoException) =>
      resolve({ free: false, code: err.code ?? 'UNKNOWN' }),
    );
    server.listen({ host, port, exclusive: true }, () =>
      server.close(() => resolve({ free: true })),
    );
  });
