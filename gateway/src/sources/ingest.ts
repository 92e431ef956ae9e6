import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { IncomingReading, IngestCounters, Outbox } from '../ports.ts';
import { type ClockSettings, DEFAULT_CLOCK, judgeReading } from './device-clock.ts';
import { deviceOfDataTopic, parseJsonReading } from './json-reading.ts';
import { mapMessage } from './mapping/map-message.ts';
import type { Mappings } from './mapping/rules.ts';

export const newIngestCounters = (): IngestCounters => ({
  received: 0,
  stored: 0,
  duplicates: 0,
  quarantined: 0,
  quarantinedByReason: {},
  restampedByReason: {},
  failed: 0,
});

export interface IngestContext {
  outbox: Outbox;
  counters: IngestCounters;
  log: Logger;
  now: () => number;
  onStored?: (() => void) | undefined;
  /** What a device stamp may be (the `clock` settings); DEFAULT_CLOCK when absent. */
  clock?: ClockSettings | undefined;
  /** How devices' own topics and JSON become readings (mqtt.mappings); none when absent. */
  mappings?: Mappings | undefined;
}

/** The ingest context of a source built from its usual options (outbox, log, clock, ...). */
export function ingestContextOf(
  options: Pick<IngestContext, 'outbox' | 'log' | 'onStored' | 'clock'>,
  counters: IngestCounters,
  now: () => number,
): IngestContext {
  const { outbox, log, onStored, clock } = options;
  return { outbox, counters, log, now, onStored, clock };
}

/**
 * One MQTT publish, from whichever broker: a data payload (`iot/v1/{id}/data`, or a topic of a
 * mapping rule) is committed to the outbox, one that cannot be read quarantined with its
 * reason. Resolves once that is on disk (the caller may then acknowledge); rejects when the
 * commit failed (the caller must not). Other topics resolve at once.
 */
export async function ingestPublish(
  ctx: IngestContext,
  source: string,
  topic: string,
  payload: Buffer | string,
  delivery: Delivery = {},
): Promise<void> {
  const deviceId = deviceOfDataTopic(topic);
  if (deviceId === undefined) return ingestMapped(ctx, source, topic, payload, delivery);
  ctx.counters.received += 1;
  const receivedAt = ctx.now();
  const parsed = parseJsonReading(deviceId, payload, receivedAt);
  if (!parsed.ok) return quarantinePublish(ctx, source, topic, parsed, payload);
  const digest = createHash('sha1').update(payload).digest('base64url');
  await commitReading(ctx, source, { ...parsed.reading, digest }, payload);
}

/** How an MQTT publish arrived: its packet identifier (QoS 1 and 2) and DUP flag. */
export interface Delivery {
  packetId?: number | undefined;
  dup?: boolean | undefined;
}

/**
 * A publish to a topic of a mapping rule (the first that matches): its readings are committed
 * together (one group commit), or the message is quarantined with the rule's reason. Without
 * a seq, a reading's digest covers the topic, the payload and the packet identifier, and a
 * publish MQTT marks as sent again (DUP) within `outbox.dedupWindowMs` of its first
 * transmission is a duplicate; a new publish of the same payload (a value that did not change)
 * is a new reading. A message of several readings (SenML) numbers them.
 */
async function ingestMapped(
  ctx: IngestContext,
  source: string,
  topic: string,
  payload: Buffer | string,
  delivery: Delivery,
): Promise<void> {
  const match = ctx.mappings?.match(topic);
  if (match === undefined || match.rule.format === 'ignore') return;
  const receivedAt = ctx.now();
  const mapped = mapMessage(match, payload, receivedAt);
  if (!mapped.ok) {
    ctx.counters.received += 1;
    return quarantinePublish(ctx, source, topic, mapped, payload);
  }
  ctx.counters.received += mapped.readings.length;
  const digest = createHash('sha1')
    .update(`${topic}\0${delivery.packetId ?? ''}\0`)
    .update(payload)
    .digest('base64url');
  const resend = delivery.dup === true;
  const many = mapped.readings.length > 1;
  await Promise.all(
    mapped.readings.map((reading, i) =>
      commitReading(
        ctx,
        source,
        { ...reading, receivedAt, digest: many ? `${digest}.${i}` : digest, resend },
        payload,
      ),
    ),
  );
}

/** Keeps a publish that could not be read, with its code and reason; rejects if not on disk. */
async function quarantinePublish(
  ctx: IngestContext,
  source: string,
  topic: string,
  { code, reason }: { code: string; reason: string },
  payload: Buffer | string,
): Promise<void> {
  try {
    await quarantine(ctx, source, code, reason, payload);
  } catch (err) {
    ctx.counters.failed += 1;
    ctx.log.error({ err, source }, 'commit failed; not acknowledging');
    throw err;
  }
  ctx.log.warn({ source, topic, code, reason }, 'payload quarantined');
}

export type CommitOutcome = 'stored' | 'duplicate' | 'quarantined';

/**
 * Commits one decoded reading (already counted as received) after judging the device's clock
 * (`clock` settings): a faulty stamp is quarantined with its reason and the raw input, or
 * restamped with the receive time (`deviceTime` keeps the device's), per the policy. Resolves
 * once it is on disk, either way: the caller may then acknowledge. Rejects when the commit
 * failed (counted and logged): the caller must not.
 */
export async function commitReading(
  ctx: IngestContext,
  source: string,
  reading: IncomingReading,
  raw: Uint8Array | string,
): Promise<CommitOutcome> {
  const verdict = judgeReading(reading, ctx.clock ?? DEFAULT_CLOCK);
  const where = { source, deviceId: reading.deviceId, session: reading.session, seq: reading.seq };
  try {
    if (verdict.kind === 'quarantine') {
      await quarantine(ctx, source, verdict.fault.code, verdict.fault.reason, raw);
      ctx.log.warn({ ...where, ...verdict.fault }, 'device clock fault: reading quarantined');
      return 'quarantined';
    }
    const outcome = await ctx.outbox.append(verdict.reading);
    if (outcome === 'duplicate') {
      ctx.counters.duplicates += 1;
      return outcome;
    }
    ctx.counters.stored += 1;
    if (verdict.kind === 'restamped') {
      const { code, reason } = verdict.fault;
      ctx.counters.restampedByReason[code] = (ctx.counters.restampedByReason[code] ?? 0) + 1;
      ctx.log.warn({ ...where, code, reason }, 'device clock fault: reading restamped');
    }
    ctx.onStored?.();
    return outcome;
  } catch (err) {
    ctx.counters.failed += 1;
    ctx.log.error({ err, ...where }, 'commit failed; not acknowledging');
    throw err;
  }
}

/**
 * Keeps input that cannot be accepted, with its reason; resolves once it is on disk.
 * `unauthenticated`: it came from a peer that never authenticated (capped separately, so it
 * never pushes out what devices sent).
 */
export async function quarantine(
  ctx: IngestContext,
  source: string,
  code: string,
  reason: string,
  raw: Uint8Array | string,
  unauthenticated = false,
): Promise<void> {
  await ctx.outbox.quarantine({
    source,
    code,
    reason,
    raw: typeof raw === 'string' ? Buffer.from(raw) : raw,
    receivedAt: ctx.now(),
    ...(unauthenticated ? { unauthenticated } : {}),
  });
  ctx.counters.quarantined += 1;
  ctx.counters.quarantinedByReason[code] = (ctx.counters.quarantinedByReason[code] ?? 0) + 1;
}
