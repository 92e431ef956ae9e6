import { IotError } from '@iot-stream/contracts';
import { Code } from '../../errors.ts';

/**
 * Kafka did not acknowledge a send through @platformatic/kafka. Its own error says little at
 * the top ("Producing messages failed.") and the reason in nested `errors` (MultipleErrors,
 * an AggregateError): the message names both, since `/health` shows only the message.
 */
export class KafkaSendError extends IotError {
  constructor(what: string, cause: unknown) {
    super(Code.KAFKA_SEND_FAILED, `${what}: ${describe(cause)}`, { retriable: true, cause });
  }
}

/** The top message and the distinct innermost ones: `Producing messages failed. (Connection closed)`. */
export function describe(err: unknown): string {
  const leaves = new Set<string>();
  const visit = (e: unknown, depth: number) => {
    const inner = (e as { errors?: unknown } | null)?.errors;
    if (Array.isArray(inner) && inner.length > 0 && depth < 8) {
      for (const i of inner) visit(i, depth + 1);
    } else if (e instanceof Error) {
      leaves.add(e.message);
    } else if (e !== undefined && e !== null) {
      leaves.add(String(e));
    }
  };
  visit(err, 0);
  const top = err instanceof Error ? err.message : String(err);
  leaves.delete(top);
  const shown = [...leaves].slice(0, 3);
  return shown.length > 0 ? `${top} (${shown.join('; ')})` : top;
}
