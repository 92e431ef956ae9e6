export * from './fleet.ts';
export * from './mqtt-fleet.ts';
export * from './random.ts';
