import { readFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { Duplex } from 'node:stream';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { Refusal } from '../../errors.ts';
import {
  type AdmissionRefusal,
  type AdmissionTicket,
  ConnectionGate,
  normaliseAddress,
} from './admission.ts';
import type { MqttEvidence } from './evidence.ts';
import { PACKET_CONNECT } from './frames.ts';
import { PacketSizeLimit } from './packet-limit.ts';

export interface TlsListenerOptions {
  host: string;
  port: number;
  certFile: string;
  keyFile: string;
  /** CA that signs device certificates; needed for client certificates. */
  caFile?: string | undefined;
  requestClientCert: boolean;
}

/** Why the listener closed a connection itself. */
export type ListenerRefusal =
  | AdmissionRefusal
  | typeof Refusal.CONNECT_TIMEOUT
  | typeof Refusal.PACKET_TOO_LARGE;

export interface RefusalDetail {
  /** The peer's address (IPv4-mapped IPv6 addresses as plain IPv4). */
  remote: string;
  /** The connection, once it was handed to the broker. */
  stream?: LimitedStream | undefined;
  /** The start of an oversized packet (never a credential packet's body). */
  prefix?: Buffer;
  declared?: number;
}

export interface ListenerOptions {
  host: string;
  port: number;
  tls?: TlsListenerOptions | undefined;
  maxClients: number;
  maxPacketBytes: number;
  /** A connection must complete its CONNECT within this time (TLS: including the handshake). */
  connectTimeoutMs: number;
  /** Connections still waiting for their CONNECT: in total, and from one address. */
  maxPending: number;
  maxPendingPerAddress: number;
  /** Hands a connection to the broker. */
  handle: (stream: Duplex) => void;
  /** Called once per connection the listener closes itself. */
  onRejected: (reason: ListenerRefusal, detail: RefusalDetail) => void;
}

/** The client certificate's subject CN, when the TLS layer verified it. */
export const CERTIFICATE_ID = Symbol('certificateId');
/** What the connection sent, safe to keep (credentials left out). */
export const EVIDENCE = Symbol('evidence');
/** Set once the connection was refused and counted: later errors on it are not counted again. */
export const REFUSED = Symbol('refused');
/** Set once the broker authenticated the connection. */
export const AUTHENTICATED = Symbol('authenticated');
export type LimitedStream = Duplex & {
  [CERTIFICATE_ID]?: string;
  [EVIDENCE]?: MqttEvidence;
  [REFUSED]?: boolean;
  [AUTHENTICATED]?: boolean;
  remoteAddress?: string;
};

interface Admitted {
  ticket: AdmissionTicket;
  stream: LimitedStream | undefined;
}

/**
 * Plain TCP and optional TLS listeners for the MQTT broker. A connection is pending until its
 * CONNECT has arrived: pending connections are bounded in total and per address and closed
 * after `connectTimeoutMs`, and take no client slot; a CONNECT beyond `maxClients` is refused.
 * Every connection passes a packet-size check before the broker sees its bytes.
 */
export async function startListeners(
  options: ListenerOptions,
): Promise<{ servers: Server[]; ports: number[] }> {
  const gate = new ConnectionGate(options);
  // By remote address, remote port and local port: how a TLS connection finds its admission.
  const admitted = new Map<string, Admitted>();
  const keyOf = (s: Socket) => `${s.remoteAddress}|${s.remotePort}|${s.localPort}`;

  const admit = (socket: Socket) => {
    if (socket.remoteAddress === undefined) return void socket.destroy(); // already gone
    const remote = normaliseAddress(socket.remoteAddress);
    const ticket = gate.admit(remote);
    if (typeof ticket === 'string') {
      options.onRejected(ticket, { remote });
      socket.destroy();
      return;
    }
    const key = keyOf(socket);
    const entry: Admitted = { ticket, stream: undefined };
    admitted.set(key, entry);
    const timer = setTimeout(() => {
      if (ticket.state !== 'pending') return;
      if (entry.stream) entry.stream[REFUSED] = true;
      options.onRejected(Refusal.CONNECT_TIMEOUT, { remote, stream: entry.stream });
      entry.stream?.destroy();
      socket.destroy();
    }, options.connectTimeoutMs);
    timer.unref();
    socket.once('close', () => {
      clearTimeout(timer);
      ticket.close();
      admitted.delete(key);
    });
  };

  const accept = (socket: Socket | TLSSocket) => {
    const entry = admitted.get(keyOf(socket));
    if (!entry) return void socket.destroy(); // closed (or refused) before the handshake ended
    const remote = entry.ticket.address;
    // A PUBACK is a 4-byte write: with Nagle's algorithm it waited for the device's delayed
    // TCP ACK, about 40 ms per acknowledgement for a device with one message in flight.
    socket.setNoDelay(true);
    socket.on('error', () => socket.destroy());
    // Assigned below, before any byte flows through `limit`.
    let conn: LimitedStream;
    const limit = new PacketSizeLimit(
      options.maxPacketBytes,
      (declared, prefix) => {
        conn[REFUSED] = true;
        options.onRejected(Refusal.PACKET_TOO_LARGE, { remote, stream: conn, declared, prefix });
      },
      (type) => {
        // Only the first CONNECT moves a connection out of the pending pool; anything else
        // first is refused by the broker [MQTT-3.1.0-1].
        if (entry.ticket.state !== 'pending' || type !== PACKET_CONNECT) return true;
        const refusal = entry.ticket.promote();
        if (refusal === undefined) return true;
        conn[REFUSED] = true;
        options.onRejected(refusal, { remote, stream: conn });
        setImmediate(() => {
          conn.destroy();
          socket.destroy();
        });
        return false;
      },
    );
    limit.on('error', () => socket.destroy());
    socket.pipe(limit);
    conn = Duplex.from({ readable: limit, writable: socket }) as LimitedStream;
    conn.on('error', () => socket.destroy());
    conn.remoteAddress = remote;
    conn[EVIDENCE] = limit.evidence;
    entry.stream = conn;
    const tls = socket as TLSSocket;
    if (tls.encrypted && tls.authorized) {
      const cn = tls.getPeerCertificate()?.subject?.CN;
      if (typeof cn === 'string') conn[CERTIFICATE_ID] = cn;
    }
    options.handle(conn);
  };

  const plain = createServer((socket) => {
    admit(socket);
    accept(socket);
  });
  const servers: Server[] = [plain];
  const binds: Array<{ host: string; port: number }> = [{ host: options.host, port: options.port }];
  if (options.tls) {
    const t = options.tls;
    const secure = createTlsServer(
      {
        cert: readFileSync(t.certFile),
        key: readFileSync(t.keyFile),
        ...(t.caFile ? { ca: readFileSync(t.caFile) } : {}),
        requestCert: t.requestClientCert,
        // A client without a valid certificate may still connect and use a password;
        // `authorized` tells the authenticator whether the certificate was verified.
        rejectUnauthorized: false,
      },
      accept,
    );
    // Admission (and the CONNECT timeout) starts with the TCP connection, before the handshake.
    secure.on('connection', admit);
    servers.push(secure);
    binds.push({ host: t.host, port: t.port });
  }
  const ports = await Promise.all(
    servers.map(
      (server, i) =>
        new Promise<number>((resolve, reject) => {
          server.once('error', reject);
          const bind = binds[i] as { host: string; port: number };
          server.listen(bind.port, bind.host, () => {
            const address = server.address();
            resolve(typeof address === 'object' && address ? address.port : bind.port);
          });
        }),
    ),
  );
  return { servers, ports };
}
