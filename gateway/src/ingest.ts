import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { deviceOfDataTopic, parseJsonReading } from './json-reading.ts';
import type { Outbox } from './ports.ts';

export interface IngestCounters {
  received: number;
  stored: number;
  duplicates: number;
  quarantined: number;
  /** Quarantined input by reason code. */
  quarantinedByReason: Record<string, number>;
  failed: number;
}

export const newIngestCounters = (): IngestCounters => ({
  received: 0,
  stored: 0,
  duplicates: 0,
  quarantined: 0,
  quarantinedByReason: {},
  failed: 0,
});

export interface IngestContext {
  outbox: Outbox;
  counters: IngestCounters;
  log: Logger;
  now: () => number;
  onStored?: (() => void) | undefined;
}

/**
 * One MQTT publish, from whichever broker: a data payload is committed to the outbox, an
 * undecodable one quarantined with its reason. Resolves once that is on disk (the caller may
 * then acknowledge); rejects when the commit failed (the caller must not). Other topics
 * resolve at once.
 */
export async function ingestPublish(
  ctx: IngestContext,
  source: string,
  topic: string,
  payload: Buffer | string,
): Promise<void> {
  const deviceId = deviceOfDataTopic(topic);
  if (deviceId === undefined) return;
  ctx.counters.received += 1;
  const receivedAt = ctx.now();
  const parsed = parseJsonReading(deviceId, payload, receivedAt);
  try {
    if (!parsed.ok) {
      await quarantine(ctx, source, parsed.code, parsed.reason, payload);
      ctx.log.warn(
        { source, topic, code: parsed.code, reason: parsed.reason },
        'payload quarantined',
      );
      return;
    }
    const digest = createHash('sha1').update(payload).digest('base64url');
    const outcome = await ctx.outbox.append({ ...parsed.reading, digest });
    if (outcome === 'duplicate') {
      ctx.counters.duplicates += 1;
      return;
    }
    ctx.counters.stored += 1;
    ctx.onStored?.();
  } catch (err) {
    ctx.counters.failed += 1;
    ctx.log.error({ err, source }, 'commit failed; not acknowledging');
    throw err;
  }
}

/** Keeps input that cannot be accepted, with its reason; resolves once it is on disk. */
export async function quarantine(
  ctx: IngestContext,
  source: string,
  code: string,
  reason: string,
  raw: Uint8Array | string,
): Promise<void> {
  await ctx.outbox.quarantine({
    source,
    code,
    reason,
    raw: typeof raw === 'string' ? Buffer.from(raw) : raw,
    receivedAt: ctx.now(),
  });
  ctx.counters.quarantined += 1;
  ctx.counters.quarantinedByReason[code] = (ctx.counters.quarantinedByReason[code] ?? 0) + 1;
}
