import type { EpisodeEvent } from '../detect/engine-types.ts';
import type { DeadLetter, Outputs } from '../ports.ts';
import { deadLetterRecord, episodeRecord } from '../store/outputs.ts';
import type { LocalLog } from './log.ts';

/** Single-box mode's outputs: kept in the local log's `outputs` table, named as the topics. */
export class LocalOutputs implements Outputs {
  constructor(
    private readonly log: LocalLog,
    private readonly names: { deadLetter: string; anomalies: string },
  ) {}

  deadLetters(items: readonly DeadLetter[]): Promise<void> {
    return this.log.send(this.names.deadLetter, items.map(deadLetterRecord));
  }

  episodes(events: readonly EpisodeEvent[]): Promise<void> {
    return this.log.send(this.names.anomalies, events.map(episodeRecord));
  }
}
