// Types only: importing @platformatic/kafka's code here would load it (and compile its
// WebAssembly) in every app that imports contracts, also those that run kafkajs.
import type {
  ClusterMetadata,
  MessageToProduce,
  Partitioner,
  ProduceResult,
} from '@platformatic/kafka';
import { IncompleteAckError } from './kafka-ack-check.ts';

type Message = MessageToProduce<string, string, string, string>;

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
 * send in flight. One send in flight at a time, as the gateway's forwarder does.
 */
export class PlatformaticAckCheck {
  /** Message -> partition as the partitioner returned it, for the send in flight. */
  private assigned: Map<Message, number> | undefined;

  partitioner(
    inner: Partitioner<string, string, string, string>,
  ): Partitioner<string, string, string, string> {
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
   */
  async check(
    topic: string,
    send: () => Promise<ProduceResult>,
    metadata: () => ClusterMetadata | undefined,
  ): Promise<ProduceResult> {
    const assigned = new Map<Message, number>();
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
