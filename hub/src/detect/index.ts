export * from './detector.ts';
export * from './engine.ts';
export type * from './engine-types.ts';
export * from './episodes.ts';
export * from './glob.ts';
export * from './registry.ts';
export * from './rules.ts';
export * from './rules-file.ts';
