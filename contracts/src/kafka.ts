import { type Admin, logLevel as KafkaLogLevel, type logCreator } from 'kafkajs';
import type { Logger } from 'pino';

/** Routes kafkajs's own log lines into pino. */
export function pinoLogCreator(log: Logger): logCreator {
  const child = log.child({ module: 'kafkajs' });
  return () =>
    ({ level, log: entry }) => {
      const { message, ...rest } = entry;
      // We bound the idempotent producer's retries on purpose (reliability notes: unbounded
      // retries hide an outage); kafkajs warns about that on every start, so keep it at debug.
      if (message.startsWith('Limiting retries for the idempotent producer')) {
        child.debug(rest, message);
        return;
      }
      if (level <= KafkaLogLevel.ERROR) child.error(rest, message);
      else if (level === KafkaLogLevel.WARN) child.warn(rest, message);
      else if (level === KafkaLogLevel.INFO) child.info(rest, message);
      else child.debug(rest, message);
    };
}

/** Creates the topic when it does not exist yet (broker-default replication). */
export async function ensureTopic(
  admin: Admin,
  topic: string,
  partitions: number,
  log: Logger,
): Promise<void> {
  await ensureTopics(admin, [{ topic, partitions }], log);
}

/** A topic a client needs: its name, partitions and any topic configuration. */
export interface TopicSpec {
  topic: string;
  partitions: number;
  /** Topic configuration (cleanup.policy, max.message.bytes, ...); broker defaults otherwise. */
  configs?: Readonly<Record<string, string>>;
}

/**
 * Creates those of the topics that do not exist yet, in one request whatever their
 * configurations (each took a metadata round and a wait for its leaders on its own), and waits
 * for their leaders. One another client created meanwhile is fine.
 */
export async function ensureTopics(
  admin: Admin,
  topics: readonly TopicSpec[],
  log: Logger,
): Promise<void> {
  const existing = new Set(await admin.listTopics());
  const missing = topics.filter(
    (t, i) => !existing.has(t.topic) && topics.findIndex((o) => o.topic === t.topic) === i,
  );
  if (missing.length === 0) return;
  const created = await admin.createTopics({
    topics: missing.map((t) => ({
      topic: t.topic,
      numPartitions: t.partitions,
      ...(t.configs
        ? { configEntries: Object.entries(t.configs).map(([name, value]) => ({ name, value })) }
        : {}),
    })),
    waitForLeaders: true,
  });
  if (created)
    for (const t of missing)
      log.info({ topic: t.topic, partitions: t.partitions }, 'created Kafka topic');
}

const PRODUCER_STATE_ERRORS = new Set([
  'OUT_OF_ORDER_SEQUENCE_NUMBER',
  'UNKNOWN_PRODUCER_ID',
  'INVALID_PRODUCER_EPOCH',
]);

/**
 * Errors after which an idempotent producer never sends again: the broker lost or disowned its
 * producer state (a broker restart, kafkajs #598, @platformatic/kafka #309). The cure is a new
 * producer (a new producer id); resending the same records with it may duplicate some in
 * Kafka, which consumers drop by their ids, but loses none. kafkajs names the broker's error
 * in `type`; @platformatic/kafka in `apiId`, nested in the `errors` of its MultipleErrors.
 */
export function isProducerStateError(err: unknown): boolean {
  return someKafkaError(
    err,
    (e) =>
      PRODUCER_STATE_ERRORS.has(String(e.type)) ||
      PRODUCER_STATE_ERRORS.has(String(e.apiId)) ||
      /out of order sequence number|unknown producer id/i.test(String((e as Error).message)),
  );
}

/** A send the broker refused for the size of a record (more than the topic's max.message.bytes). */
export function isMessageTooLarge(err: unknown): boolean {
  return someKafkaError(
    err,
    (e) => e.type === 'MESSAGE_TOO_LARGE' || e.apiId === 'MESSAGE_TOO_LARGE',
  );
}

/** Whether `err`, or an error it holds (`errors`, `cause`), passes `test`. */
function someKafkaError(
  err: unknown,
  test: (e: { type?: unknown; apiId?: unknown }) => boolean,
): boolean {
  const visit = (e: unknown, depth: number): boolean => {
    if (!e || typeof e !== 'object' || depth > 8) return false;
    if (test(e)) return true;
    const { errors, cause } = e as { errors?: unknown; cause?: unknown };
    if (Array.isArray(errors) && errors.some((inner) => visit(inner, depth + 1))) return true;
    return visit(cause, depth + 1);
  };
  return visit(err, 0);
}
