import type { EpisodeEvent } from '../detect/engine-types.ts';
import type { DeadLetter, Outputs } from '../ports.ts';
import { deadLetterRecord, episodeRecord, type OutputRecord } from '../store/outputs.ts';

/** What publishes records to a topic: KafkaPublisher (kafkajs) or PlatformaticPublisher. */
export interface RecordPublisher {
  send(topic: string, records: OutputRecord[]): Promise<void>;
}

/** The outputs in Kafka (either client): dead letters to their topic, episode events to `iot.anomalies`. */
export class KafkaOutputs implements Outputs {
  constructor(
    private readonly publisher: RecordPublisher,
    private readonly topics: { deadLetter: string; anomalies: string },
  ) {}

  deadLetters(items: readonly DeadLetter[]): Promise<void> {
    return this.publisher.send(this.topics.deadLetter, items.map(deadLetterRecord));
  }

  episodes(events: readonly EpisodeEvent[]): Promise<void> {
    return this.publisher.send(this.topics.anomalies, events.map(episodeRecord));
  }
}
