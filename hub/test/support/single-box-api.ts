import pino from 'pino';
import { buildApi } from '../../src/http/api/app.ts';
import type { LocalLog } from '../../src/local/log.ts';
import { deadLetterRecord } from '../../src/store/outputs.ts';

/**
 * The REST API with single-box ingest wired to a LocalLog as inputs.ts wires it (dead letters
 * to topic `dlq`), over a store that holds nothing.
 */
export function singleBoxApi(local: LocalLog, token: string) {
  return buildApi({
    store: {
      init: async () => {},
      write: async () => {},
      readings: async () => [],
      ping: async () => true,
    },
    health: async () => ({ status: 'ok' }),
    token,
    log: pino({ level: 'silent' }),
    ingest: {
      append: (records) => local.append(records),
      deadLetter: (items) =>
        local.send(
          'dlq',
          items.map((i) =>
            deadLetterRecord({
              key: null,
              value: JSON.stringify(i.value),
              code: i.code,
              reason: i.reason,
              source: { topic: 'http-ingest', partition: 0 },
            }),
          ),
        ),
      writeStatus: async () => {},
    },
  });
}
