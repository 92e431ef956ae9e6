import type { GatewayStatusRecord } from '@iot-stream/contracts';
import type { Logger } from 'pino';
import { UplinkError } from '../errors.ts';
import type { OutboxRow, Sink } from '../ports.ts';
import { recordOf } from './record.ts';

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

/** The hub's limits for one POST /api/ingest (hub/src/http/api/routes-ingest.ts): 10,000 records, 16 MiB. */
const MAX_RECORDS = 10_000;
const MAX_BODY_BYTES = 8 * 1024 * 1024;

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

  /**
   * Sends the rows in requests the hub takes: at most MAX_RECORDS records and about
   * MAX_BODY_BYTES each (whatever the forwarder's batch size), and a request the hub still
   * finds too large (413) is split in halves, so no setting and no record can wedge the outbox.
   * A failure part-way makes the forwarder resend all rows; the hub drops the duplicates.
   */
  async send(rows: readonly OutboxRow[]): Promise<void> {
    const { gatewayId, site } = this.options;
    const records = rows.map((row) => recordOf(row, gatewayId, site));
    let start = 0;
    while (start < records.length) {
      let bytes = 0;
      let end = start;
      while (end < records.length && end - start < MAX_RECORDS) {
        bytes += JSON.stringify(records[end]).length + 1;
        if (bytes > MAX_BODY_BYTES && end > start) break;
        end += 1;
      }
      await this.post(rows.slice(start, end), records.slice(start, end));
      start = end;
    }
  }

  private async post(rows: readonly OutboxRow[], records: readonly object[]): Promise<void> {
    const res = await this.request('POST', '/api/ingest', { records });
    if (res.status === 413 && records.length > 1) {
      await res.body?.cancel();
      const mid = Math.ceil(records.length / 2);
      await this.post(rows.slice(0, mid), records.slice(0, mid));
      await this.post(rows.slice(mid), records.slice(mid));
      return;
    }
    if (!res.ok) throw await this.failure(res);
    const answer = (await res.json()) as IngestAnswer;
    for (const i of answer.invalid ?? [])
      this.options.log.error(
        { gatewaySeq: rows[i.index]?.id, code: i.code, reason: i.reason },
        'hub rejected a record as invalid; it keeps it as a dead letter',
      );
  }

  async sendStatus(_gatewayId: string, record: GatewayStatusRecord): Promise<void> {
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
