import { CompressionTypes, type Message, type Producer } from 'kafkajs';

/**
 * One idempotent producer with one send in flight at a time (kafkajs #1005: concurrent
 * idempotent sends can lose messages without an error). Every caller's messages go through
 * this queue; each send carries many messages, with acks from all in-sync replicas.
 */
export class KafkaPublisher {
  private tail: Promise<unknown> = Promise.resolve();

  constructor(private readonly producer: Producer) {}

  connect(): Promise<void> {
    return this.producer.connect();
  }

  disconnect(): Promise<void> {
    return this.producer.disconnect();
  }

  send(topic: string, messages: Message[], options: { gzip?: boolean } = {}): Promise<void> {
    if (messages.length === 0) return Promise.resolve();
    const run = this.tail.then(async () => {
      await this.producer.send({
        topic,
        acks: -1,
        messages,
        ...(options.gzip ? { compression: CompressionTypes.GZIP } : {}),
      });
    });
    this.tail = run.catch(() => undefined);
    return run;
  }
}
