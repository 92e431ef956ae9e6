import { Type } from '@sinclair/typebox';

/** The config keys every app shares: one schema each, so they read and check the same. */

/** `log`: the pino level. */
export const LogConfigSchema = Type.Object(
  {
    level: Type.Union(
      ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
      { default: 'info' },
    ),
  },
  { default: {} },
);

/** An HTTP listener's `host` and `port` (0 = any free port), to spread into an app's `http`. */
export function listenProperties(defaultPort: number) {
  return {
    host: Type.String({ default: '127.0.0.1' }),
    port: Type.Integer({ minimum: 0, maximum: 65535, default: defaultPort }),
  };
}
