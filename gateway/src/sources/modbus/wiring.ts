import type { Logger } from 'pino';
import type { GatewayConfig } from '../../config.ts';
import { type ModbusBusConfig, modbusBusName } from '../../config-modbus.ts';
import type { Outbox } from '../../ports.ts';
import { modbusSerialTransport } from './client.ts';
import { ModbusLink } from './link.ts';
import { ModbusSource } from './modbus-source.ts';
import { FilePollSessions } from './poll-sessions.ts';

/**
 * The source of one `modbus.buses` entry, with its link over modbus-serial. Poll sessions are
 * kept beside the outbox (`<outbox.path>.modbus-session`): the two are lost or kept together.
 */
export function modbusSource(
  bus: ModbusBusConfig,
  config: Pick<GatewayConfig, 'outbox' | 'clock'>,
  deps: { outbox: Outbox; onStored: () => void; log: Logger },
): ModbusSource {
  const log = deps.log.child({ module: 'modbus', bus: modbusBusName(bus) });
  return new ModbusSource({
    bus,
    link: new ModbusLink({
      transport: () => modbusSerialTransport(bus),
      retries: bus.retries,
      retryBackoff: bus.retryBackoff,
      reconnectBackoff: bus.reconnectBackoff,
      log,
    }),
    sessions: new FilePollSessions(`${config.outbox.path}.modbus-session`),
    outbox: deps.outbox,
    onStored: deps.onStored,
    clock: config.clock,
    log,
  });
}
