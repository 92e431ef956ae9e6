import { defineConfig } from 'vitest/config';

// Two projects: fast unit tests inside each package, and integration / end-to-end / fault
// suites under test/ that run against real Kafka and InfluxDB started by test/harness.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          globalSetup: ['test/build-apps.setup.ts'],
          include: ['*/test/**/*.test.ts', 'test/cli/**/*.test.ts'],
          exclude: ['**/node_modules/**', 'test/!(cli)/**'],
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/**/*.test.ts'],
          exclude: ['**/node_modules/**', 'test/cli/**', 'test/scale/**', 'test/leader-kill/**'],
          globalSetup: ['test/build-apps.setup.ts', 'test/harness/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 180_000,
          fileParallelism: false,
        },
      },
      {
        // `npm run test:scale`, also the last step of `npm test` (after the integration suite,
        // not beside it): hubs on their own 3-broker cluster for about 100 s.
        test: {
          name: 'scale',
          include: ['test/scale/**/*.test.ts'],
          globalSetup: ['test/build-apps.setup.ts', 'test/harness/global-setup.ts'],
          testTimeout: 300_000,
          hookTimeout: 180_000,
          fileParallelism: false,
        },
      },
      {
        // `npm run test:leader-kill`, not in `npm test` (~3 min): producers on their own 3-broker
        // cluster while partition leaders are SIGKILLed: kafkajs with the gateway's
        // acknowledgement check and @platformatic/kafka must lose nothing;
        // LEADER_KILL_CLIENTS=kafkajs reproduces kafkajs's own loss (README, "Not yet").
        test: {
          name: 'leader-kill',
          include: ['test/leader-kill/**/*.test.ts'],
          globalSetup: ['test/build-apps.setup.ts'],
          testTimeout: 300_000,
          hookTimeout: 180_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
