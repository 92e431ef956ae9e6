import { IotError } from '@iot-stream/contracts';
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
    const sleep = this.options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    for (let attempt = 1; ; attempt += 1) {
      let err: WebhookError;
      try {
        const res = await doFetch(this.options.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ text: n.text }),
          signal: AbortSignal.timeout(this.options.timeoutMs),
        });
        if (res.ok) return;
        const retriable = res.status === 429 || res.status >= 500;
        err = new WebhookError(`webhook answered ${res.status}`, { retriable });
      } catch (cause) {
        err = new WebhookError(`webhook unreachable: ${(cause as Error).message}`, {
          retriable: true,
          cause,
        });
      }
      if (!err.retriable || attempt >= this.options.maxAttempts) {
        this.options.log.error(
          { err, key: n.key, attempt },
          'notification not delivered; giving up',
        );
        throw err;
      }
      const delay = Math.min(60_000, 500 * 2 ** (attempt - 1));
      this.options.log.warn(
        { err, key: n.key, attempt, retryInMs: delay },
        'notification failed; retrying',
      );
      await sleep(delay);
    }
  }
}
