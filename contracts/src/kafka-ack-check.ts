import { type ICustomPartitioner, type Message, Partitioners, type RecordMetadata } from 'kafkajs';

/**
 * Thrown when a Kafka client resolved a send whose result has no successful entry for a
 * partition that some of its messages were assigned to: those messages were never written.
 */
export class IncompleteAckError extends Error {
  override readonly name = 'IncompleteAckError';
  constructor(
    readonly topic: string,
    /** Partitions that got messages but no acknowledgement. */
    readonly missing: readonly number[],
    /** How many of the send's messages went to those partitions. */
    readonly unwritten: number,
    /** Which client said so (kafkajs, or @platformatic/kafka: PlatformaticAckCheck). */
    client = 'kafkajs',
  ) {
    super(
      `${client} acknowledged a send without writing ${unwritten} message(s) to ${topic} partition(s) ${missing.join(',')}`,
    );
  }
}

/**
 * Checks each kafkajs send() against what it really acknowledged.
 *
 * kafkajs 2.2.4 (src/producer/sendMessages.js) sends one Produce request per leader broker and
 * keeps each broker's response in a map shared by its retries. When one broker fails (its
 * leader was SIGKILLed) while the others answered, the retry looks up the new leaders and sends
 * only to brokers that have no response yet; if the partitions moved to a broker that already
 * answered for its own partitions, their messages are sent nowhere and send() resolves with
 * the other brokers' responses (tulios/kafkajs #1303, open; fix proposed in #1798). The result
 * then lacks those partitions, which is what this detects.
 *
 * Use `createPartitioner` as the producer's partitioner (kafkajs's DefaultPartitioner, which it
 * wraps, so keys land where they always did) and run each send through `check`. One send in
 * flight at a time (the gateway's forwarder), messages keyed: unkeyed messages may be put on
 * other partitions by a retry, which can only cause a spurious IncompleteAckError (a resend).
 */
export class AckCheck {
  /** Message -> partition, for the send in flight; set by the partitioner on every attempt. */
  private assigned: Map<Message, number> | undefined;

  readonly createPartitioner: ICustomPartitioner = () => {
    const inner = Partitioners.DefaultPartitioner();
    return (args) => {
      const partition = inner(args);
      this.assigned?.set(args.message, partition);
      return partition;
    };
  };

  /**
   * Runs `send` (one topic) and returns its result, or throws IncompleteAckError when a
   * partition that got messages is not in the result with error code 0.
   */
  async check(topic: string, send: () => Promise<RecordMetadata[]>): Promise<RecordMetadata[]> {
    const { result, missing } = await this.observe(topic, send);
    if (missing.partitions.length > 0)
      throw new IncompleteAckError(topic, missing.partitions, missing.messages.length);
    return result;
  }

  /** Runs `send` (one topic) and reports what its result left out, without throwing. */
  async observe(
    topic: string,
    send: () => Promise<RecordMetadata[]>,
  ): Promise<{ result: RecordMetadata[]; missing: Unacknowledged }> {
    const assigned = new Map<Message, number>();
    this.assigned = assigned;
    let result: RecordMetadata[];
    try {
      result = await send();
    } finally {
      this.assigned = undefined;
    }
    return { result, missing: unacknowledged(topic, assigned, result) };
  }
}

export interface Unacknowledged {
  partitions: number[];
  /** The messages assigned to those partitions. */
  messages: Message[];
}

/** Partitions in `assigned` with no error-free entry in `result`, and their messages. */
export function unacknowledged(
  topic: string,
  assigned: ReadonlyMap<Message, number>,
  result: readonly RecordMetadata[],
): Unacknowledged {
  const acked = new Set(
    result.filter((r) => r.topicName === topic && r.errorCode === 0).map((r) => r.partition),
  );
  const partitions = new Set<number>();
  const messages: Message[] = [];
  for (const [message, partition] of assigned) {
    if (acked.has(partition)) continue;
    partitions.add(partition);
    messages.push(message);
  }
  return { partitions: [...partitions].sort((a, b) => a - b), messages };
}
