import { IotError } from '@iot-stream/contracts';
import modbusSerial from 'modbus-serial';
import type { ModbusBusConfig } from '../../config-modbus.ts';
import { Code } from '../../errors.ts';
import type { ModbusErrorKind } from '../../ports.ts';
import type { ReadResult } from './decode.ts';
import type { ReadRequest } from './plan.ts';

/** One Modbus connection, as the link uses it: open, one read at a time, close. */
export interface ModbusTransport {
  open(): Promise<void>;
  read(unitId: number, request: Omit<ReadRequest, 'registers'>): Promise<ReadResult>;
  close(): Promise<void>;
  /** Told once when the connection drops (an unplugged adapter, a closed TCP connection). */
  onClose(listener: (reason: string) => void): void;
}

/**
 * A failed read. `retriable`: another try may answer (a timeout, a corrupt answer); an
 * exception response (the device refuses this request) or a closed link is not retried.
 */
export class ModbusError extends IotError {
  constructor(
    readonly kind: ModbusErrorKind,
    message: string,
    readonly exceptionCode?: number,
    cause?: unknown,
  ) {
    super(Code.MODBUS_READ_FAILED, message, {
      retriable: kind === 'timeout' || kind === 'crc' || kind === 'other',
      cause,
    });
  }
}

/**
 * What modbus-serial's error means. It marks exception responses with `modbusCode`, timeouts
 * with errno ETIMEDOUT and a closed port with ECONNREFUSED ("Port Not Open"); a bad CRC it
 * only says in the message, so that one comparison of a message stays here.
 */
export function classifyModbusError(err: unknown): ModbusError {
  if (err instanceof ModbusError) return err;
  const e = (err ?? {}) as { modbusCode?: unknown; errno?: unknown; message?: unknown };
  const message = String(e.message ?? err);
  if (typeof e.modbusCode === 'number')
    return new ModbusError('exception', message, e.modbusCode, err);
  if (e.errno === 'ETIMEDOUT')
    return new ModbusError('timeout', 'no answer in time', undefined, err);
  if (e.errno === 'ECONNREFUSED') return new ModbusError('disconnected', message, undefined, err);
  if (message.startsWith('CRC error')) return new ModbusError('crc', message, undefined, err);
  return new ModbusError('other', message, undefined, err);
}

// A CommonJS module whose `module.exports.default` is itself: the class, under NodeNext typing.
const ModbusRTU = modbusSerial.default;

/** The bus's transport over modbus-serial: RTU on a serial port, or TCP. */
export function modbusSerialTransport(bus: ModbusBusConfig): ModbusTransport {
  const client = new ModbusRTU();
  let closed: ((reason: string) => void) | undefined;
  let lastError = 'connection closed';
  /** Tells the link once that the connection is gone. */
  const drop = (reason: string) => {
    const listener = closed;
    closed = undefined;
    listener?.(reason);
  };
  // modbus-serial's TCP port emits no 'close' after a socket error (a peer that reset the
  // connection, as a device whose process was killed or restarted with a request unread does):
  // it only marks itself not open. Without this the link never reopened and every poll failed
  // until a restart.
  const dropNotOpen = () => drop(`connection reset or lost (${lastError})`);
  // An 'error' event with no listener would end the process: keep it as the close reason.
  client.on('error', (err: unknown) => {
    lastError = (err as Error).message ?? String(err);
  });
  client.on('close', () => drop(lastError));
  client.setTimeout(bus.timeoutMs);
  return {
    async open() {
      if (bus.rtu) {
        const { path, baudRate, parity, stopBits, dataBits } = bus.rtu;
        await client.connectRTUBuffered(path, { baudRate, parity, stopBits, dataBits });
      } else if (bus.tcp) {
        await client.connectTCP(bus.tcp.host, { port: bus.tcp.port });
      }
    },
    async read(unitId, { kind, address, count }) {
      if (!client.isOpen) {
        dropNotOpen();
        throw new ModbusError('disconnected', 'the bus is not open');
      }
      // RTU frames carry no transaction id: an answer that came after its timeout would be
      // taken for the next request's. modbus-serial keeps such bytes in its port's buffer;
      // drop them before each request (internal field, checked: absent on TCP).
      const port = (client as unknown as { _port?: { _buffer?: Buffer } })._port;
      if (bus.rtu && port?._buffer !== undefined) port._buffer = Buffer.alloc(0);
      client.setID(unitId);
      try {
        switch (kind) {
          case 'holding':
            return { words: (await client.readHoldingRegisters(address, count)).data };
          case 'input':
            return { words: (await client.readInputRegisters(address, count)).data };
          case 'coil':
            return { bits: (await client.readCoils(address, count)).data };
          case 'discrete':
            return { bits: (await client.readDiscreteInputs(address, count)).data };
        }
      } catch (err) {
        // A request the peer reset ends as a timeout: it is the connection's fault, not the
        // device's (a disconnect, counted as skipped), and the link hears of it now.
        if (!client.isOpen) {
          dropNotOpen();
          throw new ModbusError(
            'disconnected',
            `the bus closed during the request (${lastError})`,
            undefined,
            err,
          );
        }
        throw classifyModbusError(err);
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        closed = undefined;
        if (!client.isOpen) return resolve();
        client.close(() => resolve());
      }),
    onClose(listener) {
      closed = listener;
    },
  };
}
