import { IotError, retry } from '@iot-stream/contracts';
import type { Logger } from 'pino';
import type { Notification } from './notifications.ts';

export class WebhookError extends IotError {
  constructor(message: string, options: { retriable: boolean; cause?: unknown }) {
    super('WEBHOOK_FAILED', message, options);
  }
}

/** Delivers a notification; rejects once it gave up. */
export interface Notifier {
  notify(n: Notification): Promise<void>;
}

export interface WebhookOptions {
  url: string;
  timeoutMs: number;
  maxAttempts: number;
  log: Logger;
  /** Injected for tests. */
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * POSTs `{"text": ...}` (Slack incoming-webhook format) with retries and exponential backoff
 * on network errors, timeouts, 429 and 5xx; other 4xx are not retried.
 */
export class WebhookNotifier implements Notifier {
  constructor(private readonly options: WebhookOptions) {}

  async notify(n: Notification): Promise<void> {
    const doFetch = this.options.fetch ?? fetch;
    const { sleep } = this.options;
    const log = this.options.log;
    await retry(
      async () => {
        let res: Response;
        try {
          res = await doFetch(this.options.url, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ text: n.text }),
            signal: AbortSignal.timeout(this.options.timeoutMs),
          });
        } catch (cause) {
          throw new WebhookError(`webhook unreachable: ${(cause as Error).message}`, {
            retriable: true,
            cause,
          });
        }
        if (res.ok) return;
        const retriable = res.status === 429 || res.status >= 500;
        throw new WebhookError(`webhook answered ${res.status}`, { retriable });
      },
      {
        minMs: 500,
        maxMs: 60_000,
        attempts: this.options.maxAttempts,
        onRetry: (err, attempt, retryInMs) =>
          log.warn({ err, key: n.key, attempt, retryInMs }, 'notification failed; retrying'),
        ...(sleep
          ? {
              wait: async (ms: number) => {
                await sleep(ms);
                return true;
              },
            }
          : {}),
      },
    ).catch((err: unknown) => {
      log.error({ err, key: n.key }, 'notification not delivered; giving up');
      throw err;
    });
  }
}
