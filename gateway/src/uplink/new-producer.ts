import { IncompleteAckError, isProducerStateError } from '@iot-stream/contracts';
import type { Logger } from 'pino';

/**
 * Whether a Kafka sink should resend with a new producer (a new producer id), whichever
 * client it runs: after an incomplete acknowledgement the old producer may have rolled back
 * sequence numbers a new leader already holds, and after a lost producer state it would fail
 * every send (isProducerStateError). At worst the resend is a duplicate, dropped downstream.
 */
export function needsNewProducer(err: unknown): boolean {
  return isProducerStateError(err) || err instanceof IncompleteAckError;
}

/** The warning a sink logs when it starts a new producer for `err`. */
export function warnNewProducer(log: Logger, err: unknown): void {
  log.warn(
    { err },
    err instanceof IncompleteAckError
      ? 'Kafka acknowledged a send incompletely; resending with a new producer'
      : "Kafka lost this producer's state; starting a new producer",
  );
}
