// Readings to a file or stdout instead of a network: CSV rows for `iot-hub backtest` and
// spreadsheets, or JSON lines in the protocol's JSON data form with the device id added.
// A reading counts as acknowledged once written; writes wait when the stream is full.
import { once } from 'node:events';
import type { DeviceIdentity, SendResult, Transport } from '../ports.ts';
import { type Sample, toJsonReading } from '../sample.ts';

export type FileFormat = 'csv' | 'jsonl';

export const CSV_COLUMNS = 'timestamp,device,metric,value,unit,truth';

export interface FileTransportOptions {
  out: NodeJS.WritableStream;
  format: FileFormat;
  /** Only these metrics (all when empty). */
  metrics?: readonly string[];
  /** The anomaly type covering this reading, for the CSV `truth` column ('' for none). */
  truth?: (deviceId: string, metric: string, time: number) => string;
}

interface FileDevice {
  session: number;
  seq: number;
}

export class FileTransport implements Transport {
  readonly name = 'file';
  private readonly devices = new Map<string, FileDevice>();
  private rows = 0;
  private headerWritten = false;

  constructor(private readonly options: FileTransportOptions) {}

  async start(identity: DeviceIdentity, session: number): Promise<void> {
    this.devices.set(identity.id, { session, seq: 0 });
    if (this.options.format === 'csv' && !this.headerWritten) {
      this.headerWritten = true;
      await this.write(`${CSV_COLUMNS}\n`);
    }
  }

  async send(deviceId: string, sample: Sample): Promise<SendResult> {
    const d = this.devices.get(deviceId) as FileDevice;
    const seq = d.seq;
    d.seq = (d.seq + 1) & 0xffff;
    const only = this.options.metrics ?? [];
    const values =
      only.length > 0 ? sample.values.filter((v) => only.includes(v.metric.name)) : sample.values;
    if (values.length > 0)
      await this.write(this.format(deviceId, { ...sample, values }, d.session, seq));
    return { ok: true, session: d.session, seq };
  }

  async reboot(deviceId: string, session: number): Promise<void> {
    this.devices.set(deviceId, { session, seq: 0 });
  }

  async stop(deviceId: string): Promise<void> {
    this.devices.delete(deviceId);
  }

  counters(): Record<string, number> {
    return { rows: this.rows };
  }

  private format(deviceId: string, sample: Sample, session: number, seq: number): string {
    if (this.options.format === 'jsonl') {
      this.rows += 1;
      return `${JSON.stringify({ deviceId, ...toJsonReading(sample, session, seq) })}\n`;
    }
    let text = '';
    for (const { metric, value } of sample.values) {
      const truth = this.options.truth?.(deviceId, metric.name, sample.time) ?? '';
      text += `${sample.time},${deviceId},${metric.name},${value},${metric.unit},${truth}\n`;
      this.rows += 1;
    }
    return text;
  }

  private async write(text: string): Promise<void> {
    if (!this.options.out.write(text)) await once(this.options.out, 'drain');
  }
}
