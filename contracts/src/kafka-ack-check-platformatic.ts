// Types only: importing @platformatic/kafka's code here would load it (and compile its
// WebAssembly) in every app that imports contracts, also those that run kafkajs.
import type {
  ClusterMetadata,
  MessageToProduce,
  Partitioner,
  ProduceResult,
} from '@platformatic/kafka';
import { IncompleteAckError } from './kafka-ack-check.ts';

// biome-ignore lint/suspicious/noExplicitAny: any serialisable message (gateway: strings; hub: bytes)
type Message = MessageToProduce<any, any, any, any>;

/**
 * Checks each @platformatic/kafka send() against what it acknowledged, as AckCheck does for
 * kafkajs.
 *
 * @platformatic/kafka 2.12.1 (dist/clients/producer/producer.js, #performSend) sends one
 * Produce request per leader broker, concurrently; a partition-level error code in a response
 * is thrown (ResponseError) and any failed request rejects the whole send (with what did get
 * written in `error.produced`), after resetting the idempotent producer id. So a resolved send
 * should list every partition it wrote to in `offsets`: this checks that it does, since the
 * outbox deletes the rows on its word. A partial failure is a rejection: the caller resends all
 * rows (a duplicate for partitions that were written, dropped downstream, never a loss).
 *
 * Use `partitioner(inner)` as the producer's partitioner: it records each message's partition
 * (inner's choice, before @platformatic/kafka reduces it modulo the partition count) for the
 * send in flight; messages whose partition the caller set (the library does not partition
 * them) are passed to `check`. One send in flight at a time, as the gateway's forwarder and
 * the hub's publisher send.
 */
export class PlatformaticAckCheck {
  /** Message -> partition as the partitioner returned it, for the send in flight. */
  private assigned: Map<Message, number> | undefined;

  partitioner<K, V, HK, HV>(inner: Partitioner<K, V, HK, HV>): Partitioner<K, V, HK, HV> {
    return (message, key, context) => {
      const partition = inner(message, key, context);
      this.assigned?.set(message as Message, partition);
      return partition;
    };
  }

  /**
   * Runs `send` (one topic) and returns its result, or throws IncompleteAckError when a
   * partition that got messages is not in its `offsets`. `metadata` gives the producer's
   * metadata after the send (`producer.currentMetadata`): the partition count it reduced by.
   * `messages`: those with a `partition` of their own are checked too.
   */
  async check(
    topic: string,
    send: () => Promise<ProduceResult>,
    metadata: () => ClusterMetadata | undefined,
    messages: readonly Message[] = [],
  ): Promise<ProduceResult> {
    const assigned = new Map<Message, number>();
    for (const m of messages) if (typeof m.partition === 'number') assigned.set(m, m.partition);
    this.assigned = assigned;
    let result: ProduceResult;
    try {
      result = await send();
    } finally {
      this.assigned = undefined;
    }
    const count = metadata()?.topics.get(topic)?.partitionsCount;
    const acked = new Set(
      (result.offsets ?? []).filter((o) => o.topic === topic).map((o) => o.partition),
    );
    const missing = new Set<number>();
    let unwritten = 0;
    for (const raw of assigned.values()) {
      // Without a partition count nothing can be matched: every partition counts as missing.
      const partition = count ? raw % count : -1;
      if (acked.has(partition)) continue;
      missing.add(partition);
      unwritten += 1;
    }
    if (missing.size > 0) {
      const partitions = [...missing].sort((a, b) => a - b);
      throw new IncompleteAckError(topic, partitions, unwritten, '@platformatic/kafka');
    }
    return result;
  }
}
