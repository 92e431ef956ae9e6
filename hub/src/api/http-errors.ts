import { Type } from '@sinclair/typebox';

/** Every error body: a stable code (never reused) and a message saying what to do. */
export const ErrorBody = Type.Object({
  error: Type.Object({ code: Type.String(), message: Type.String() }),
});

export function error(code: string, message: string) {
  return { error: { code, message } };
}

export interface Reply {
  code(n: number): { send(b: unknown): unknown };
}

/** A 400 with a stable code. */
export function badRequest(reply: Reply, code: string, message: string) {
  return reply.code(400).send(error(code, message));
}
