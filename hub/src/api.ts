export { type ApiOptions, buildApi } from './api/app.ts';
export { parseEvery, parseTime } from './api/time.ts';
