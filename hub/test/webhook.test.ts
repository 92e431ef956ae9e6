import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { WebhookNotifier } from '../src/notify/webhook.ts';

function notifier(statuses: (number | Error)[]) {
  const bodies: unknown[] = [];
  const delays: number[] = [];
  const n = new WebhookNotifier({
    url: 'http://hooks.example/x',
    timeoutMs: 1000,
    maxAttempts: 4,
    log: pino({ level: 'silent' }),
    sleep: async (ms) => void delays.push(ms),
    fetch: (async (_url: string, init: { body: string }) => {
      bodies.push(JSON.parse(init.body));
      const s = statuses.shift() ?? 200;
      if (s instanceof Error) throw s;
      return new Response(null, { status: s });
    }) as unknown as typeof fetch,
  });
  return { n, bodies, delays };
}

describe('webhook notifier', () => {
  it('posts Slack-compatible JSON and retries errors, 429 and 5xx with backoff', async () => {
    const { n, bodies, delays } = notifier([new Error('ECONNREFUSED'), 503, 429, 200]);
    await n.notify({ key: 'k', text: 'hello' });
    expect(bodies).toEqual(Array(4).fill({ text: 'hello' }));
    expect(delays).toEqual([500, 1000, 2000]);
  });

  it('does not retry other 4xx, and gives up after maxAttempts', async () => {
    const bad = notifier([400]);
    await expect(bad.n.notify({ key: 'k', text: 't' })).rejects.toMatchObject({
      code: 'WEBHOOK_FAILED',
      retriable: false,
    });
    expect(bad.bodies).toHaveLength(1);
    const down = notifier([500, 500, 500, 500, 500]);
    await expect(down.n.notify({ key: 'k', text: 't' })).rejects.toMatchObject({ retriable: true });
    expect(down.bodies).toHaveLength(4);
  });
});
