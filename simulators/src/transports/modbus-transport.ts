// Devices as Modbus servers (slaves): each device is a unit id on an RTU line and/or a Modbus
// TCP server, its latest reading in its registers (modbus/register-map.ts) for a master (the
// gateway) to poll. Modbus has no push and no acknowledgement: a reading counts as sent once
// it is in the registers; `unread` counts readings replaced before any poll read them.
import { DeviceImage, type RegisterSource } from '../modbus/device-image.ts';
import { type RegisterMapOptions, registerMap } from '../modbus/register-map.ts';
import { ModbusRtuServer } from '../modbus/rtu-server.ts';
import { ModbusTcpServer } from '../modbus/tcp-server.ts';
import type { DeviceIdentity, SendResult, Transport } from '../ports.ts';
import type { Sample } from '../sample.ts';

export interface ModbusTransportOptions {
  /** Device id -> unit id (1..247), one device per unit id. */
  unitIds: ReadonlyMap<string, number>;
  map: RegisterMapOptions;
  rtu?: { path: string; baud?: number | undefined } | undefined;
  tcp?: { host: string; port: number } | undefined;
}

type ModbusServer = ModbusRtuServer | ModbusTcpServer;

interface ModbusDevice {
  image: DeviceImage;
  session: number;
  seq: number;
}

export class ModbusTransport implements Transport {
  readonly name = 'modbus';
  private readonly byUnit = new Map<number, ModbusDevice>();
  private readonly byId = new Map<string, ModbusDevice>();
  private servers: Promise<ModbusServer[]> | undefined;
  private opened: ModbusServer[] = [];
  private live = 0;

  constructor(private readonly options: ModbusTransportOptions) {}

  async start(identity: DeviceIdentity, session: number): Promise<void> {
    const unit = this.options.unitIds.get(identity.id);
    if (unit === undefined) throw new RangeError(`no unit id for ${identity.id}`);
    const device = {
      image: new DeviceImage(registerMap(identity.metrics, this.options.map)),
      session,
      seq: 0,
    };
    this.byUnit.set(unit, device);
    this.byId.set(identity.id, device);
    this.live += 1;
    await this.open();
  }

  async send(deviceId: string, sample: Sample): Promise<SendResult> {
    const d = this.byId.get(deviceId) as ModbusDevice;
    d.image.update(sample);
    const seq = d.seq;
    d.seq = (d.seq + 1) & 0xffff;
    return { ok: true, session: d.session, seq };
  }

  async reboot(deviceId: string, session: number): Promise<void> {
    const d = this.byId.get(deviceId) as ModbusDevice;
    d.image.clear();
    d.session = session;
    d.seq = 0;
  }

  /** The device is switched off: its unit id goes silent. The last one closes the servers. */
  async stop(deviceId: string): Promise<void> {
    const d = this.byId.get(deviceId);
    if (!d) return;
    for (const [unit, x] of this.byUnit) if (x === d) this.byUnit.delete(unit);
    this.live -= 1;
    if (this.live === 0 && this.servers) {
      const servers = await this.servers.catch(() => []);
      this.servers = undefined;
      await Promise.all(servers.map((s) => s.close()));
    }
  }

  /** Summed over devices (samples, unread, clipped, reads) and servers (requests, answers, ...). */
  counters(): Record<string, number> {
    const out: Record<string, number> = { samples: 0, unread: 0, clipped: 0, reads: 0 };
    const add = (c: object) => {
      for (const [k, v] of Object.entries(c)) out[k] = (out[k] ?? 0) + (v as number);
    };
    for (const d of this.byId.values()) add(d.image.counters);
    for (const s of this.opened) add(s.counters);
    return out;
  }

  /** The servers, opened once for every device (start is called for each, concurrently). */
  private open(): Promise<unknown> {
    const unit = (id: number): RegisterSource | undefined => this.byUnit.get(id)?.image;
    this.servers ??= (async () => {
      const { rtu, tcp } = this.options;
      const servers: ModbusServer[] = [];
      try {
        if (rtu) servers.push(await ModbusRtuServer.open({ ...rtu, unit }));
        if (tcp) servers.push(await ModbusTcpServer.open({ ...tcp, unit }));
      } catch (err) {
        await Promise.all(servers.map((s) => s.close()));
        throw err;
      }
      this.opened = servers;
      return servers;
    })();
    return this.servers;
  }
}
