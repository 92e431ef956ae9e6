export * from './config.ts';
export * from './main.ts';
export * from './outbox/sqlite-outbox.ts';
export type * from './ports.ts';
export * from './sources/mqtt/mqtt-source.ts';
export * from './uplink/forwarder.ts';
export * from './uplink/kafka-sink.ts';
