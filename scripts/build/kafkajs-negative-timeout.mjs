import { readFileSync } from 'node:fs';

/**
 * kafkajs 2.2.4 (unmaintained) passes a negative delay to setTimeout when it is not throttled
 * (throttledUntil starts at -1); Node always made it 1 ms, Node 24 also prints a
 * TimeoutNegativeWarning (kafkajs#1751; the fix of PR #1755, never released). Same behaviour,
 * no warning. Fails the build when the code it patches changes.
 */
export const kafkajsNegativeTimeout = {
  name: 'kafkajs-negative-timeout',
  setup(build) {
    build.onLoad(
      { filter: /kafkajs[\\/]src[\\/]network[\\/]requestQueue[\\/]index\.js$/ },
      (args) => {
        const source = readFileSync(args.path, 'utf8');
        const from = '}, scheduleAt)';
        if (!source.includes(from))
          throw new Error(`${args.path}: \`${from}\` not found (kafkajs changed)`);
        return { contents: source.replace(from, '}, Math.max(0, scheduleAt))'), loader: 'js' };
      },
    );
  },
};
