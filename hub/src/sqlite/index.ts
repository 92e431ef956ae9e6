export * from './errors.ts';
export * from './queries.ts';
export * from './store.ts';
