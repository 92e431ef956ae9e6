import { MultipleErrors, NetworkError } from '@platformatic/kafka';
import { expect, it, describe as suite } from 'vitest';
import { Code } from '../src/errors.ts';
import { describe, KafkaSendError } from '../src/uplink/platformatic/errors.ts';

suite('KafkaSendError', () => {
  it('names the innermost reasons, not only "Producing messages failed."', () => {
    const cause = new MultipleErrors('Producing messages failed.', [
      new MultipleErrors('produce failed 6 times.', [
        new NetworkError('Connection closed'),
        new NetworkError('Connection closed'),
        new NetworkError('connect ECONNREFUSED 127.0.0.1:9092'),
      ]),
    ]);
    expect(describe(cause)).toBe(
      'Producing messages failed. (Connection closed; connect ECONNREFUSED 127.0.0.1:9092)',
    );
    const err = new KafkaSendError('5 readings not acknowledged', cause);
    expect(err.code).toBe(Code.KAFKA_SEND_FAILED);
    expect(err.retriable).toBe(true);
    expect(err.cause).toBe(cause);
    expect(err.message).toMatch(/^5 readings not acknowledged: Producing messages failed\. \(/);
  });

  it('keeps a plain error as it is', () => {
    expect(describe(new Error('boom'))).toBe('boom');
  });
});
