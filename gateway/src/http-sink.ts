import { IotError } from '@iot-stream/contracts';
import type { Logger } from 'pino';
import type { OutboxRow, Sink } from './ports.ts';
import { recordOf } from './uplink-record.ts';

export class UplinkError extends IotError {
  constructor(message: string, options: { retriable: boolean; cause?: unknown }) {
    super('UPLINK_FAILED', message, options);
  }
}

export interface HttpSinkOptions {
  /** The hub's base URL, e.g. http://127.0.0.1:8080. */
  url: string;
  /** The hub's `http.token`, sent as a bearer token. */
  token?: string | undefined;
  gatewayId: string;
  site?: string | undefined;
  timeoutMs: number;
  log: Logger;
}

interface IngestAnswer {
  accepted: number;
  duplicates: number;
  invalid: { index: number; code: string; reason: string }[];
}

/**
 * Single-box mode's uplink: POSTs batches of records to the hub's `/api/ingest`, which answers
 * only after it stored them durably; a row leaves the outbox only after that answer. A timeout
 * or error means "unknown", so the forwarder resends the same rows; the hub recognises them by
 * (gatewayId, gatewaySeq). Records the hub finds invalid are kept in its dead letters, so they
 * count as delivered (and are logged here).
 */
export class HttpSink implements Sink {
  constructor(private readonly options: HttpSinkOptions) {}

  /** Resolves once the hub answers its health endpoint. */
  async connect(): Promise<void> {
    const res = await this.request('GET', '/api/health');
    if (!res.ok) throw new UplinkError(`hub health answered ${res.status}`, { retriable: true });
  }

  async send(rows: readonly OutboxRow[]): Promise<void> {
    const { gatewayId, site } = this.options;
    const res = await this.request('POST', '/api/ingest', {
      records: rows.map((row) => recordOf(row, gatewayId, site)),
    });
    if (!res.ok) throw await this.failure(res);
    const answer = (await res.json()) as IngestAnswer;
    for (const i of answer.invalid ?? [])
      this.options.log.error(
        { gatewaySeq: rows[i.index]?.id, code: i.code, reason: i.reason },
        'hub rejected a record as invalid; it keeps it as a dead letter',
      );
  }

  async sendStatus(_gatewayId: string, record: object): Promise<void> {
    const res = await this.request('POST', '/api/ingest/status', record);
    if (!res.ok) throw await this.failure(res);
  }

  async disconnect(): Promise<void> {}

  private async request(method: string, path: string, body?: unknown): Promise<Response> {
    const headers: Record<string, string> = {};
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (this.options.token) headers.authorization = `Bearer ${this.options.token}`;
    try {
      return await fetch(new URL(path, this.options.url), {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
    } catch (cause) {
      throw new UplinkError(`hub unreachable at ${this.options.url}: ${(cause as Error).message}`, {
        retriable: true,
        cause,
      });
    }
  }

  private async failure(res: Response): Promise<UplinkError> {
    const text = await res.text().catch(() => '');
    const hint = res.status === 401 ? " (set hub.token / HUB_TOKEN to the hub's http.token)" : '';
    return new UplinkError(`hub answered ${res.status}${hint}: ${text.slice(0, 200)}`, {
      retriable: true,
    });
  }
}
