import { usageError } from '../errors.ts';
import { airQuality } from './air-quality.ts';
import { climate } from './climate.ts';
import { power } from './power.ts';
import type { Profile } from './types.ts';
import { vibration } from './vibration.ts';

export * from './types.ts';

/** Every profile by name. */
export const PROFILES: Readonly<Record<string, Profile>> = {
  climate: climate as Profile,
  vibration: vibration as Profile,
  power: power as Profile,
  'air-quality': airQuality as Profile,
};

const ALIASES: Record<string, string> = {
  'temperature-humidity': 'climate',
  temperature: 'climate',
  th: 'climate',
  'power-meter': 'power',
  air: 'air-quality',
  air_quality: 'air-quality',
};

export function profileByName(name: string): Profile {
  const profile = PROFILES[ALIASES[name] ?? name];
  if (!profile) {
    throw usageError(
      `unknown profile ${JSON.stringify(name)}; profiles: ${Object.keys(PROFILES).join(', ')}`,
    );
  }
  return profile;
}
