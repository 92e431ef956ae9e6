import { gaussian, type Random, uniform } from '../random.ts';
import { DAY, dailyCycle, randomWaves, type Wave, waves } from './shapes.ts';
import { clamp, type MetricSpec, type Profile, type Site } from './types.ts';

const TEMPERATURE: MetricSpec = { name: 'temperature', unit: 'Cel', scale: -2, typical: 0.5 };
const HUMIDITY: MetricSpec = {
  name: 'humidity',
  unit: '%RH',
  scale: -1,
  typical: 2,
  min: 0,
  max: 100,
};

export interface ClimateParams {
  start: number;
  utcOffsetHours: number;
  base: number;
  amplitude: number;
  peakHour: number;
  weather: Wave[];
  noise: number;
  /** Sensor drift, °C per day (ageing of the sensing element). */
  driftPerDay: number;
  humidityBase: number;
  /** Relative humidity falls as the air warms: %RH per °C of deviation. */
  humidityPerDegree: number;
  humidityNoise: number;
  humidityDriftPerDay: number;
}

/**
 * Temperature and humidity: a daily cycle peaking in the afternoon, weather-like swings over
 * days, Gaussian noise and a slow sensor drift; relative humidity moves against temperature.
 */
export const climate: Profile<ClimateParams> = {
  name: 'climate',
  description: 'temperature (Cel) and humidity (%RH): daily cycle, weather, noise, drift',
  metrics: [TEMPERATURE, HUMIDITY],
  params(random: Random, site: Site, start: number): ClimateParams {
    return {
      start,
      utcOffsetHours: site.utcOffsetHours,
      base: 21 + site.temperatureOffset + uniform(random, -2, 2),
      amplitude: uniform(random, 1.5, 4),
      peakHour: uniform(random, 14, 17),
      weather: randomWaves(random, 2, 2 * DAY, 6 * DAY, 0.8),
      noise: uniform(random, 0.05, 0.15),
      driftPerDay: uniform(random, -0.05, 0.05),
      humidityBase: uniform(random, 38, 55),
      humidityPerDegree: -uniform(random, 1.5, 3),
      humidityNoise: uniform(random, 0.3, 0.8),
      humidityDriftPerDay: uniform(random, -0.1, 0.1),
    };
  },
  sample(p, t, random) {
    const days = (t - p.start) / DAY;
    const deviation =
      p.amplitude * dailyCycle(t, p.utcOffsetHours, p.peakHour) + waves(t, p.weather);
    const temperature = p.base + deviation + p.driftPerDay * days + p.noise * gaussian(random);
    const humidity =
      p.humidityBase +
      p.humidityPerDegree * deviation +
      p.humidityDriftPerDay * days +
      p.humidityNoise * gaussian(random);
    return { temperature, humidity: clamp(humidity, HUMIDITY) };
  },
};
