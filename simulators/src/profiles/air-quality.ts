import { gaussian, type Random, uniform } from '../random.ts';
import { bump, response, type Schedule } from './shapes.ts';
import type { MetricSpec, Profile, Site } from './types.ts';

const CO2: MetricSpec = { name: 'co2', unit: 'ppm', scale: 0, typical: 50, min: 350 };
const PM25: MetricSpec = { name: 'pm2_5', unit: 'ug/m3', scale: -1, typical: 3, min: 0 };
const TVOC: MetricSpec = { name: 'tvoc', unit: 'ppb', scale: 0, typical: 30, min: 0 };

export interface AirQualityParams {
  utcOffsetHours: number;
  occupancy: Schedule;
  co2Outdoor: number;
  co2Rise: number;
  tauUpMs: number;
  tauDownMs: number;
  pmBase: number;
  pmTraffic: number;
  tvocBase: number;
  tvocRise: number;
}

/**
 * Indoor air quality: CO2 builds up while a room is occupied (office hours on weekdays, or
 * evenings and nights at home) and decays after; PM2.5 follows traffic peaks with log-normal
 * noise; TVOC rises with occupancy.
 */
export const airQuality: Profile<AirQualityParams> = {
  name: 'air-quality',
  description: 'co2 (ppm), pm2_5 (ug/m3), tvoc (ppb) of a room',
  metrics: [CO2, PM25, TVOC],
  params(random: Random, site: Site): AirQualityParams {
    const office = random() < 0.6;
    return {
      utcOffsetHours: site.utcOffsetHours,
      occupancy: office
        ? {
            startHour: uniform(random, 7.5, 9),
            endHour: uniform(random, 16.5, 18.5),
            weekdaysOnly: true,
            utcOffsetHours: site.utcOffsetHours,
          }
        : {
            startHour: uniform(random, 17, 19),
            endHour: 23.9,
            weekdaysOnly: false,
            utcOffsetHours: site.utcOffsetHours,
          },
      co2Outdoor: uniform(random, 400, 430),
      co2Rise: uniform(random, 300, 1100),
      tauUpMs: uniform(random, 30, 90) * 60_000,
      tauDownMs: uniform(random, 30, 120) * 60_000,
      pmBase: uniform(random, 4, 12),
      pmTraffic: uniform(random, 3, 15),
      tvocBase: uniform(random, 40, 120),
      tvocRise: uniform(random, 80, 300),
    };
  },
  sample(p, t, random) {
    const occupied = response(t, p.occupancy, p.tauUpMs, p.tauDownMs);
    const o = p.utcOffsetHours;
    const co2 = p.co2Outdoor + p.co2Rise * occupied + 8 * gaussian(random);
    const traffic = bump(t, o, 8, 1.2) + bump(t, o, 17.5, 1.5);
    const pm = (p.pmBase + p.pmTraffic * traffic) * Math.exp(0.15 * gaussian(random));
    const tvoc = (p.tvocBase + p.tvocRise * occupied) * Math.exp(0.08 * gaussian(random));
    return { co2: Math.max(350, co2), pm2_5: pm, tvoc };
  },
};
