import http from 'node:http';
import https from 'node:https';

/** InfluxDB's answer to one write: its status, and its body when that is not a 2xx. */
export interface PostReply {
  status: number;
  text: string;
}

/** Sends `/write` requests (the InfluxStore's seam for them). */
export interface Poster {
  post(url: string, headers: Record<string, string>, body: Uint8Array): Promise<PostReply>;
  close(): Promise<void>;
}

export const WRITE_TIMEOUT_MS = 30_000;

/**
 * POSTs over keep-alive connections (node:http costs far less per request than fetch), with
 * the `influx` library's 30 s timeout. A network failure rejects with Node's error (its code
 * kept); any HTTP status resolves, for the caller to judge.
 */
export function httpPoster(https_: boolean): Poster {
  const lib = https_ ? https : http;
  const agent = new lib.Agent({ keepAlive: true });
  return {
    post: (url, headers, body) =>
      new Promise((resolve, reject) => {
        const req = lib.request(
          url,
          {
            method: 'POST',
            agent,
            headers: { ...headers, 'content-length': body.length },
            timeout: WRITE_TIMEOUT_MS,
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('error', reject);
            res.on('end', () => {
              const status = res.statusCode ?? 0;
              const ok = status >= 200 && status < 300;
              resolve({ status, text: ok ? '' : Buffer.concat(chunks).toString() });
            });
          },
        );
        req.on('timeout', () =>
          req.destroy(new Error(`InfluxDB write timed out after ${WRITE_TIMEOUT_MS / 1000} s`)),
        );
        req.on('error', reject);
        req.end(body);
      }),
    close: async () => agent.destroy(),
  };
}
