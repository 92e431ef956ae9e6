import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';

/**
 * Where Modbus polls get their session number: a reading's identity is (device, session, seq),
 * seq counting polls from 0 in a session, so a session must never be handed out twice, not
 * even after a crash, or a new poll would look like a resend of an old one and be dropped as
 * a duplicate (the outbox, the hub). Each call returns a number above every one returned before.
 */
export interface PollSessions {
  next(): number;
}

/**
 * Sessions kept in a small file beside the outbox: max(last + 1, the current second since the
 * epoch), written (temporary file, fsync, rename) before it is used. The clock term keeps it
 * increasing if the file is lost with the outbox; the file keeps it increasing across restarts
 * within one second and across a clock set back.
 */
export class FilePollSessions implements PollSessions {
  constructor(
    private readonly path: string,
    private readonly now: () => number = Date.now,
  ) {}

  next(): number {
    const session = Math.max(this.last() + 1, Math.floor(this.now() / 1000)) % 2 ** 32;
    const tmp = `${this.path}.tmp`;
    const fd = openSync(tmp, 'w');
    try {
      writeSync(fd, `${session}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.path);
    return session;
  }

  private last(): number {
    try {
      const n = Number.parseInt(readFileSync(this.path, 'utf8'), 10);
      return Number.isSafeInteger(n) && n >= 0 ? n : 0;
    } catch {
      return 0; // no file yet
    }
  }
}
