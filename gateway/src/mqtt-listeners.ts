import { readFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { Duplex } from 'node:stream';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
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

export interface ListenerOptions {
  host: string;
  port: number;
  tls?: TlsListenerOptions | undefined;
  maxClients: number;
  maxPacketBytes: number;
  /** Hands a connection to the broker. */
  handle: (stream: Duplex) => void;
  onRejected: (
    reason: 'max-clients' | 'packet-too-large',
    detail: { remote?: string; prefix?: Buffer; declared?: number },
  ) => void;
}

/** The client certificate's subject CN, when the TLS layer verified it. */
export const CERTIFICATE_ID = Symbol('certificateId');
/** The first bytes a connection sent, kept so a protocol error can quarantine them. */
export const RAW_PREFIX = Symbol('rawPrefix');
const PREFIX_BYTES = 512;
export type LimitedStream = Duplex & {
  [CERTIFICATE_ID]?: string;
  [RAW_PREFIX]?: Buffer;
  remoteAddress?: string;
};

/**
 * Plain TCP and optional TLS listeners for the MQTT broker. Every connection passes a
 * packet-size check before the broker sees its bytes, and connections beyond `maxClients`
 * are refused at once.
 */
export async function startListeners(
  options: ListenerOptions,
): Promise<{ servers: Server[]; ports: number[] }> {
  let active = 0;
  const accept = (socket: Socket | TLSSocket) => {
    if (active >= options.maxClients) {
      options.onRejected('max-clients', { remote: socket.remoteAddress });
      socket.destroy();
      return;
    }
    active += 1;
    socket.once('close', () => {
      active -= 1;
    });
    socket.on('error', () => socket.destroy());
    const limit = new PacketSizeLimit(options.maxPacketBytes, (declared, prefix) =>
      options.onRejected('packet-too-large', { remote: socket.remoteAddress, declared, prefix }),
    );
    limit.on('error', () => socket.destroy());
    socket.pipe(limit);
    const stream = Duplex.from({ readable: limit, writable: socket }) as LimitedStream;
    stream.on('error', () => socket.destroy());
    stream.remoteAddress = socket.remoteAddress;
    const keepPrefix = (chunk: Buffer) => {
      const kept = stream[RAW_PREFIX];
      stream[RAW_PREFIX] = kept
        ? Buffer.concat([kept, chunk]).subarray(0, PREFIX_BYTES)
        : chunk.subarray(0, PREFIX_BYTES);
      if ((stream[RAW_PREFIX] as Buffer).length >= PREFIX_BYTES) socket.off('data', keepPrefix);
    };
    socket.on('data', keepPrefix);
    const tls = socket as TLSSocket;
    if (tls.encrypted && tls.authorized) {
      const cn = tls.getPeerCertificate()?.subject?.CN;
      if (typeof cn === 'string') stream[CERTIFICATE_ID] = cn;
    }
    options.handle(stream);
  };
  const servers: Server[] = [createServer(accept)];
  const binds: Array<{ host: string; port: number }> = [{ host: options.host, port: options.port }];
  if (options.tls) {
    const t = options.tls;
    servers.push(
      createTlsServer(
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
      ),
    );
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
