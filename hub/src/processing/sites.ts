import { type Static, Type } from '@sinclair/typebox';

/** The site tag of a device whose site nobody configured. */
export const UNASSIGNED_SITE = 'unassigned';

export interface SiteRule {
  /** The site's name (an InfluxDB tag value). */
  name: string;
  /** Device-id patterns; `*` matches any run of characters. */
  devices: string[];
}

export const SitesStateSchema = Type.Record(Type.String(), Type.String());
export type SitesState = Static<typeof SitesStateSchema>;

function patternRegex(pattern: string): RegExp {
  const body = pattern
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${body}$`);
}

/**
 * Which site a device belongs to: the first hub rule whose pattern matches its id, else the
 * `site` its newest reading carried (the gateway's setting), else `unassigned`. What readings
 * carried is part of the partition's checkpointed state, so a replay tags the same way.
 */
export class SiteMap {
  private readonly rules: { name: string; patterns: RegExp[] }[];
  private readonly seen = new Map<string, string>();
  private readonly cache = new Map<string, string | null>();

  constructor(rules: readonly SiteRule[] = []) {
    this.rules = rules.map((r) => ({ name: r.name, patterns: r.devices.map(patternRegex) }));
  }

  /** Remembers the site a reading carried. */
  observe(deviceId: string, site: string | undefined): void {
    if (site !== undefined && this.seen.get(deviceId) !== site) this.seen.set(deviceId, site);
  }

  of(deviceId: string): string {
    let configured = this.cache.get(deviceId);
    if (configured === undefined) {
      configured = this.rules.find((r) => r.patterns.some((p) => p.test(deviceId)))?.name ?? null;
      if (this.cache.size > 100_000) this.cache.clear();
      this.cache.set(deviceId, configured);
    }
    return configured ?? this.seen.get(deviceId) ?? UNASSIGNED_SITE;
  }

  snapshot(): SitesState {
    return Object.fromEntries(this.seen);
  }

  restore(state: SitesState | undefined): void {
    this.seen.clear();
    for (const [device, site] of Object.entries(state ?? {})) this.seen.set(device, site);
  }
}
