import type { Static, TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { StateError } from './errors.ts';

/**
 * Checks a snapshot against the schema of the state it claims to be, so `restore()` fails
 * with a clear error instead of running on garbage. Returns the value, typed.
 */
export function checkState<T extends TSchema>(schema: T, state: unknown, what: string): Static<T> {
  if (Value.Check(schema, state)) return state;
  const first = Value.Errors(schema, state).First();
  const where = first ? `${first.path || '/'}: ${first.message}` : 'unexpected shape';
  throw new StateError(what, where);
}
