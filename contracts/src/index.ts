export * from './config.ts';
export * from './config-keys.ts';
export * from './csv.ts';
export * from './errors.ts';
export * from './kafka.ts';
export * from './kafka-security.ts';
export * from './record.ts';
export * from './status.ts';
