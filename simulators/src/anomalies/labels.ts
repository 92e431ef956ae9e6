import { once } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';
import type { Label } from './types.ts';

export type LabelFormat = 'csv' | 'jsonl';

export const LABEL_CSV_HEADER = 'device,metric,type,start,end';

/** JSONL for `.jsonl` / `.ndjson` files, CSV otherwise. */
export function labelFormatFor(path: string): LabelFormat {
  return /\.(jsonl|ndjson)$/i.test(path) ? 'jsonl' : 'csv';
}

/** One label as a line (without the newline). CSV has exactly the five columns of the header. */
export function formatLabel(label: Label, format: LabelFormat): string {
  if (format === 'jsonl') return JSON.stringify(label);
  return [label.device, label.metric, label.type, label.start, label.end].join(',');
}

/** The ground-truth file: one line per anomaly (or silence) as it happens in the run. */
export class LabelFile {
  count = 0;
  private readonly out: WriteStream;

  constructor(
    readonly path: string,
    readonly format: LabelFormat = labelFormatFor(path),
  ) {
    this.out = createWriteStream(path, { flags: 'w' });
    this.out.on('error', () => undefined); // reported by close()
    if (format === 'csv') this.out.write(`${LABEL_CSV_HEADER}\n`);
  }

  add(label: Label): void {
    this.count += 1;
    this.out.write(`${formatLabel(label, this.format)}\n`);
  }

  async close(): Promise<void> {
    this.out.end();
    if (!this.out.writableFinished) {
      await Promise.race([
        once(this.out, 'finish'),
        once(this.out, 'error').then(([e]) => Promise.reject(e)),
      ]);
    }
  }
}
