import type { RunSummary } from '../runner.ts';
import type { Values } from './args.ts';
import type { CliIo } from './io.ts';

/**
 * The progress line, once a second on stderr: on a terminal one line rewritten in place, else
 * one line each time. Totals, in flight, the average rate and the rate of the last second.
 */
export class ProgressLine {
  private lastAcked = 0;
  private lastAt = 0;
  private written = false;

  constructor(
    private readonly out: NodeJS.WritableStream,
    private readonly label: string,
    private readonly tty: boolean,
  ) {}

  update(s: RunSummary): void {
    const dt = s.elapsedMs - this.lastAt;
    const now = dt > 0 ? ((s.acknowledged - this.lastAcked) * 1000) / dt : 0;
    this.lastAcked = s.acknowledged;
    this.lastAt = s.elapsedMs;
    const line =
      `${this.label}: ${Math.round(s.elapsedMs / 1000)}s sent=${s.sent} acknowledged=${s.acknowledged} ` +
      `failed=${s.failed} inflight=${s.inflight} rate=${Math.round(now)}/s avg=${Math.round(s.ratePerSec)}/s`;
    this.out.write(this.tty ? `\r${line}\x1b[K` : `${line}\n`);
    this.written = true;
  }

  done(): void {
    if (this.tty && this.written) this.out.write('\n');
  }
}

/** --quiet: none; --progress: always; otherwise only when stderr is a terminal. */
export function progressFor(v: Values, io: CliIo, label: string): ProgressLine | undefined {
  if (v.quiet) return undefined;
  const tty = io.stderrIsTTY;
  if (!tty && !v.progress) return undefined;
  return new ProgressLine(io.stderr, label, tty);
}
