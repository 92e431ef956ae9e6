import { AckCheck, IncompleteAckError, isProducerStateError } from '@iot-stream/contracts';
import { CompressionTypes, type ICustomPartitioner, type Message, type Producer } from 'kafkajs';

/**
 * One idempotent producer with one send in flight at a time (kafkajs #1005: concurrent
 * idempotent sends can lose messages without an error). Every caller's messages go through
 * this queue; each send carries many messages, with acks from all in-sync replicas. When the
 * broker loses the producer's state (kafkajs #598: every later send would fail), the failing
 * send is rejected and the next one goes through a new producer. Each send's result must cover
 * every partition it wrote to (AckCheck: kafkajs can resolve a send without writing the share
 * of a partition whose leader was killed under it); otherwise it is rejected, and the next one
 * goes through a new producer too. Give the producer the partitioner `newProducer` is passed.
 */
export class KafkaPublisher {
  private tail: Promise<unknown> = Promise.resolve();
  private producer: Producer;
  private connected: Promise<void> | undefined;
  /** Producers replaced after a producer-state error. */
  replacements = 0;
  private readonly ackCheck = new AckCheck();

  constructor(private readonly newProducer: (createPartitioner: ICustomPartitioner) => Producer) {
    this.producer = newProducer(this.ackCheck.createPartitioner);
  }

  connect(): Promise<void> {
    this.connected ??= this.producer.connect().catch((err: unknown) => {
      this.connected = undefined;
      throw err;
    });
    return this.connected;
  }

  disconnect(): Promise<void> {
    return this.producer.disconnect();
  }

  send(topic: string, messages: Message[], options: { gzip?: boolean } = {}): Promise<void> {
    if (messages.length === 0) return Promise.resolve();
    const run = this.tail.then(async () => {
      await this.connect();
      const producer = this.producer;
      try {
        await this.ackCheck.check(topic, () =>
          producer.send({
            topic,
            acks: -1,
            messages,
            ...(options.gzip ? { compression: CompressionTypes.GZIP } : {}),
          }),
        );
      } catch (err) {
        if (isProducerStateError(err) || err instanceof IncompleteAckError) {
          const old = this.producer;
          this.producer = this.newProducer(this.ackCheck.createPartitioner);
          this.connected = undefined;
          this.replacements += 1;
          await old.disconnect().catch(() => undefined);
        }
        throw err;
      }
    });
    this.tail = run.catch(() => undefined);
    return run;
  }
}
