import type { EpisodeEvent } from '../detect/engine-types.ts';
import type { DeadLetter, Outputs } from '../ports.ts';
import { deadLetterRecord, episodeRecord } from '../store/outputs.ts';
import type { KafkaPublisher } from './publisher.ts';

/** The outputs in Kafka: dead letters to their topic, episode events to `iot.anomalies`. */
export class KafkaOutputs implements Outputs {
  constructor(
    private readonly publisher: Pick<KafkaPublisher, 'send'>,
    private readonly topics: { deadLetter: string; anomalies: string },
  ) {}

  deadLetters(items: readonly DeadLetter[]): Promise<void> {
    return this.publisher.send(this.topics.deadLetter, items.map(deadLetterRecord));
  }

  episodes(events: readonly EpisodeEvent[]): Promise<void> {
    return this.publisher.send(this.topics.anomalies, events.map(episodeRecord));
  }
}
