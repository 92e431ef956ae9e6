// Modbus TCP server: modbus-serial's ServerTCP (MBAP framing, transaction ids, connections),
// with a service vector over the devices' register images. Loaded on first use, so the other
// commands never load modbus-serial (nor, through it, serialport's native binding).
import type { ServerTCP } from 'modbus-serial';
import { SimError } from '../errors.ts';
import { Exception, type RegisterSource, type RegisterTable } from './device-image.ts';
import { MAX_READ_REGISTERS } from './pdu.ts';
import { type ModbusServerCounters, newServerCounters } from './rtu-server.ts';

export interface TcpServerOptions {
  host: string;
  port: number;
  unit(unitId: number): RegisterSource | undefined;
}

type Callback<T> = (err: { modbusErrorCode: number } | null, value?: T) => void;

export class ModbusTcpServer {
  private constructor(
    private readonly server: ServerTCP,
    readonly counters: ModbusServerCounters,
  ) {}

  static async open(options: TcpServerOptions): Promise<ModbusTcpServer> {
    const { ServerTCP } = (await import('modbus-serial')).default as unknown as {
      ServerTCP: typeof import('modbus-serial').ServerTCP;
    };
    const counters = newServerCounters();
    const read =
      (table: RegisterTable) =>
      (address: number, count: number, unitId: number, cb: Callback<number[]>) => {
        counters.requests += 1;
        const device = options.unit(unitId);
        // A TCP server answers for every unit id it is asked about: for one it does not have,
        // what a Modbus TCP-to-RTU gateway says when the device behind it is silent [MB-AP 7].
        const answer =
          device === undefined
            ? { exception: Exception.GATEWAY_TARGET_FAILED }
            : count > MAX_READ_REGISTERS
              ? { exception: Exception.ILLEGAL_DATA_VALUE }
              : device.read(table, address, count);
        if (device === undefined) counters.otherUnits += 1;
        if ('exception' in answer) {
          counters.exceptions += 1;
          return cb({ modbusErrorCode: answer.exception });
        }
        counters.answers += 1;
        cb(null, answer.words);
      };
    const one = (table: RegisterTable) => (address: number, unitId: number, cb: Callback<number>) =>
      read(table)(address, 1, unitId, (err, words) => cb(err, words?.[0]));
    const refuse = (_address: number, _unitId: number, cb: Callback<boolean>) => {
      counters.requests += 1;
      counters.exceptions += 1;
      cb({ modbusErrorCode: Exception.ILLEGAL_FUNCTION });
    };
    const vector = {
      getMultipleHoldingRegisters: read('holding'),
      getMultipleInputRegisters: read('input'),
      getHoldingRegister: one('holding'),
      getInputRegister: one('input'),
      getCoil: refuse,
      getDiscreteInput: refuse,
    };
    const server = new ServerTCP(vector as never, {
      host: options.host,
      port: options.port,
      unitID: 255, // every unit id reaches the vector, which knows the devices
    });
    await new Promise<void>((resolve, reject) => {
      server.once('initialized', () => resolve());
      server.once('serverError', (err: Error) =>
        reject(
          new SimError(
            'MODBUS_LISTEN_FAILED',
            `cannot listen on ${options.host}:${options.port}: ${err.message}`,
            { cause: err },
          ),
        ),
      );
    });
    return new ModbusTcpServer(server, counters);
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      for (const sock of this.server.socks.keys()) sock.destroy();
      this.server.close(() => resolve());
    });
  }
}
