export * from './config.ts';
export * from './forwarder.ts';
export * from './kafka-sink.ts';
export * from './main.ts';
export * from './mqtt-source.ts';
export type * from './ports.ts';
export * from './sqlite-outbox.ts';
