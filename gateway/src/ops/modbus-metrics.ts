import { Counter, Gauge, type Registry } from 'prom-client';
import type { ModbusBusCounters, ModbusDeviceCounters } from '../ports.ts';
import type { GatewaySnapshot } from './snapshot.ts';

/**
 * The Modbus buses' metrics (docs/metrics.md): per bus (`source`, as in `/health`) and per
 * device on it (`device`, our device id). Read from the snapshot at scrape time.
 */
export function registerModbusMetrics(registry: Registry, snapshot: () => GatewaySnapshot): void {
  const buses = () =>
    Object.entries(snapshot().sources).flatMap(([source, c]) =>
      c.modbus ? [[source, c.modbus] as const] : [],
    );
  const perBus = (
    name: string,
    help: string,
    pick: (bus: ModbusBusCounters) => number,
    Metric: typeof Counter | typeof Gauge,
  ) =>
    new Metric({
      name,
      help,
      labelNames: ['source'],
      registers: [registry],
      collect(this: Counter | Gauge) {
        this.reset();
        for (const [source, bus] of buses()) this.inc({ source }, pick(bus));
      },
    });
  perBus(
    'iot_gateway_modbus_bus_connected',
    '1 while the Modbus bus (serial line or TCP connection) is open',
    (b) => (b.connected ? 1 : 0),
    Gauge,
  );
  perBus(
    'iot_gateway_modbus_requests_total',
    'Modbus read requests sent on the bus, retries included',
    (b) => b.requests,
    Counter,
  );
  perBus(
    'iot_gateway_modbus_busy_seconds_total',
    'Seconds the bus had a request in flight (rate = utilisation)',
    (b) => b.busyMs / 1000,
    Counter,
  );
  const perDevice = (
    name: string,
    help: string,
    label: string,
    pick: (d: ModbusDeviceCounters) => Record<string, number>,
  ) =>
    new Counter({
      name,
      help,
      labelNames: ['source', 'device', label],
      registers: [registry],
      collect() {
        this.reset();
        for (const [source, bus] of buses())
          for (const [device, d] of Object.entries(bus.devices))
            for (const [value, n] of Object.entries(pick(d)))
              this.inc({ source, device, [label]: value }, n);
      },
    });
  perDevice(
    'iot_gateway_modbus_polls_total',
    'Modbus polls by outcome: committed, failed (quarantined), skipped (bus down)',
    'outcome',
    (d) => ({ committed: d.polls, failed: d.failed, skipped: d.skipped }),
  );
  perDevice(
    'iot_gateway_modbus_errors_total',
    'Failed Modbus reads (each try) by kind: timeout, crc, exception, exception-<code>, disconnected, other',
    'kind',
    (d) => d.errors,
  );
  new Counter({
    name: 'iot_gateway_modbus_retries_total',
    help: 'Modbus reads tried again after a timeout or a corrupt answer',
    labelNames: ['source', 'device'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [source, bus] of buses())
        for (const [device, d] of Object.entries(bus.devices))
          this.inc({ source, device }, d.retries);
    },
  });
}
