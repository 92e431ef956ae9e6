import type { EpisodeEvent } from '../detect/engine-types.ts';
import type { TransitionType } from '../detect/episodes.ts';

/** One message for the webhook; `key` is deterministic, so a replay produces the same one. */
export interface Notification {
  key: string;
  text: string;
  /** Sending began (see Pipeline.deliver). */
  attempted?: boolean;
}

const ICON: Record<string, string> = {
  info: ':information_source:',
  warning: ':warning:',
  critical: ':rotating_light:',
};

/** The episode events worth a message, as Slack-compatible text. Pure. */
export function notificationsOf(
  events: readonly EpisodeEvent[],
  types: readonly TransitionType[],
): Notification[] {
  return events
    .filter((e) => types.includes(e.type))
    .map(({ type, time, episode: e }) => {
      const when = new Date(e.start).toISOString();
      const peak = `peak score ${e.peakScore.toFixed(2)}${e.peakValue === null ? '' : ` (value ${e.peakValue})`}`;
      const verb = type === 'closed' ? `closed (${new Date(e.end ?? time).toISOString()})` : type;
      return {
        key: `${e.id}/${type}/${time}`,
        text: `${ICON[e.severity] ?? ''} [${e.severity}] ${e.detector} anomaly ${verb} on ${e.deviceId} ${e.metric} (rule ${e.ruleId}), since ${when}, ${peak}`.trim(),
      };
    });
}
