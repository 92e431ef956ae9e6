// A serial line as a file path: a pseudo-terminal (socat pty,raw,echo=0,...), a real port
// (configure it first: `stty -F /dev/ttyUSB0 115200 raw -echo`), or, write-only, a capture file.
// Opened with node:fs, so no native module is needed: reads through a non-blocking tty stream,
// writes one at a time through a second descriptor, paced to the baud rate when one is given.
import { closeSync, openSync } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import tty from 'node:tty';
import { SimError } from '../errors.ts';

export interface SerialLinkOptions {
  path: string;
  /** Read the gateway's frames (acks); needs a terminal. false: write only (a capture file). */
  read: boolean;
  /** Bits per second to pace writes to (10 bits per byte, 8N1); unpaced when absent. */
  baud?: number | undefined;
}

export class SerialLink {
  readonly counters = { bytesWritten: 0, bytesRead: 0, writeErrors: 0 };
  onData: (chunk: Uint8Array) => void = () => undefined;
  private tail: Promise<void> = Promise.resolve();
  private closed = false;

  private constructor(
    private readonly options: SerialLinkOptions,
    private readonly writer: FileHandle,
    private readonly reader: tty.ReadStream | undefined,
  ) {
    reader?.on('data', (chunk: Buffer) => {
      this.counters.bytesRead += chunk.length;
      this.onData(chunk);
    });
    reader?.on('error', () => undefined); // the other end went away; writes report it
  }

  static async open(options: SerialLinkOptions): Promise<SerialLink> {
    const { path } = options;
    let writer: FileHandle;
    try {
      writer = await open(path, options.read ? 'r+' : 'w');
    } catch (cause) {
      throw new SimError('SERIAL_OPEN_FAILED', `cannot open ${path}: ${(cause as Error).message}`, {
        retriable: true,
        cause,
      });
    }
    if (!options.read) return new SerialLink(options, writer, undefined);
    if (!tty.isatty(writer.fd)) {
      await writer.close();
      throw new SimError(
        'SERIAL_OPEN_FAILED',
        `${path} is not a terminal, so no acknowledgements can be read from it; give a serial port or pseudo-terminal, or --no-ack to write a capture file`,
      );
    }
    const fd = openSync(path, 'r+');
    let reader: tty.ReadStream;
    try {
      reader = new tty.ReadStream(fd);
    } catch (cause) {
      closeSync(fd);
      await writer.close();
      throw new SimError('SERIAL_OPEN_FAILED', `cannot read ${path}: ${(cause as Error).message}`, {
        cause,
      });
    }
    try {
      reader.setRawMode(true); // bytes as they are: no line editing, echo or flow control
    } catch {
      // not every terminal driver allows it; a pty made with `raw,echo=0` already is raw
    }
    return new SerialLink(options, writer, reader);
  }

  /** Queues chunks for the line, in order. Never throws; failures are counted. */
  write(chunks: readonly Uint8Array[]): void {
    for (const chunk of chunks) {
      if (chunk.length === 0) continue;
      this.tail = this.tail.then(async () => {
        if (this.closed) return;
        try {
          await this.writer.write(chunk);
          this.counters.bytesWritten += chunk.length;
        } catch {
          this.counters.writeErrors += 1;
        }
        const baud = this.options.baud;
        if (baud) await sleep(Math.ceil((chunk.length * 10 * 1000) / baud));
      });
    }
  }

  /** Resolves when everything queued so far is written. */
  flushed(): Promise<void> {
    return this.tail;
  }

  async close(): Promise<void> {
    await Promise.race([this.tail, sleep(1000)]);
    this.closed = true;
    this.reader?.destroy();
    await this.writer.close().catch(() => undefined);
  }
}
