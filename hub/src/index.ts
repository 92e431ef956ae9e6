export * from './api.ts';
export * from './config.ts';
export * from './detect/index.ts';
export * from './influx-store.ts';
export * from './kafka-source.ts';
export * from './main.ts';
export type * from './ports.ts';
export * from './stream/index.ts';
