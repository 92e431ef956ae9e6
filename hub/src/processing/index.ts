export * from './core.ts';
export * from './partition-processor.ts';
export * from './sites.ts';
