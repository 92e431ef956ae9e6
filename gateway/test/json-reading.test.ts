import { describe, expect, it } from 'vitest';
import { deviceOfDataTopic, parseJsonReading } from '../src/sources/json-reading.ts';

describe('JSON data payload', () => {
  it('parses the documented shape and stamps receive time when time is absent', () => {
    const r = parseJsonReading('dev-1', '{"seq":3,"metrics":{"t":{"value":1.5,"unit":"Cel"}}}', 99);
    expect(r).toEqual({
      ok: true,
      reading: {
        deviceId: 'dev-1',
        session: undefined,
        seq: 3,
        time: 99,
        receivedAt: 99,
        metrics: { t: { value: 1.5, unit: 'Cel' } },
      },
    });
  });

  it.each([
    ['not JSON', '{', 'JSON_INVALID'],
    ['no seq', '{"metrics":{"t":{"value":1}}}', 'PAYLOAD_INVALID'],
    ['seq out of range', '{"seq":70000,"metrics":{"t":{"value":1}}}', 'PAYLOAD_INVALID'],
    ['no metrics', '{"seq":1,"metrics":{}}', 'PAYLOAD_INVALID'],
    ['string value', '{"seq":1,"metrics":{"t":{"value":"1"}}}', 'PAYLOAD_INVALID'],
    ['array', '[1,2]', 'PAYLOAD_INVALID'],
  ])('rejects %s with a code and reason', (_name, payload, code) => {
    const r = parseJsonReading('dev-1', Buffer.from(payload), 1);
    expect(r).toMatchObject({ ok: false, code });
    if (!r.ok) expect(r.reason.length).toBeGreaterThan(0);
  });

  it('recognises data topics only', () => {
    expect(deviceOfDataTopic('iot/v1/dev-1/data')).toBe('dev-1');
    expect(deviceOfDataTopic('iot/v1/dev-1/state')).toBeUndefined();
    expect(deviceOfDataTopic('iot/v1/a b/data')).toBeUndefined();
    expect(deviceOfDataTopic('other/v1/dev/data')).toBeUndefined();
  });
});
