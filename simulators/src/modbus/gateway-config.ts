// Pure: the gateway's `modbus:` configuration block (gateway/src/config-modbus.ts) for the
// simulated devices, from the same register map the simulator serves. YAML in flow style, as
// gateway/config.example.yaml writes registers; strings JSON-quoted (valid YAML).
import type { MetricSpec } from '../profiles/types.ts';
import { type RegisterMapOptions, registerMap, SAMPLE_COUNT_ADDRESS } from './register-map.ts';

export interface SimulatedUnit {
  deviceId: string;
  unitId: number;
  metrics: readonly MetricSpec[];
}

export interface GatewayConfigOptions {
  units: readonly SimulatedUnit[];
  map: RegisterMapOptions;
  /** The gateway's end of the serial line (the simulator has the other end). */
  rtu?: { path: string; baudRate?: number | undefined } | undefined;
  tcp?: { host: string; port: number } | undefined;
  pollIntervalMs: number;
  /** Which table the gateway reads: both hold the same values. Default input. */
  kind?: 'input' | 'holding';
  /** Also read the sample counter (metric `sample_count`): tests match polls to samples by it. */
  sampleCount?: boolean;
  /** Added to the device ids of the TCP bus when both buses are printed (ids are unique). */
  tcpSuffix?: string;
}

const q = JSON.stringify;

/** One device's YAML lines at `indent`. */
function deviceLines(u: SimulatedUnit, id: string, o: GatewayConfigOptions, pad: string): string[] {
  const kind = o.kind ?? 'input';
  const lines = [
    `${pad}- deviceId: ${q(id)}`,
    `${pad}  unitId: ${u.unitId}`,
    `${pad}  pollIntervalMs: ${o.pollIntervalMs}`,
    `${pad}  registers:`,
  ];
  if (o.sampleCount) {
    const order = o.map.byteOrder !== 'big' ? `, byteOrder: ${o.map.byteOrder}` : '';
    lines.push(
      `${pad}    - { metric: "sample_count", kind: ${kind}, address: ${SAMPLE_COUNT_ADDRESS}, type: uint16${order} }`,
    );
  }
  for (const s of registerMap(u.metrics, o.map).slots) {
    const fields = [
      `metric: ${q(s.metric.name)}`,
      `kind: ${kind}`,
      `address: ${s.address}`,
      `type: ${s.type}`,
    ];
    if (s.words === 2 && o.map.wordOrder !== 'big') fields.push(`wordOrder: ${o.map.wordOrder}`);
    if (o.map.byteOrder !== 'big') fields.push(`byteOrder: ${o.map.byteOrder}`);
    if (s.multiplier !== 1) fields.push(`scale: ${s.multiplier}`);
    if (s.metric.unit !== '') fields.push(`unit: ${q(s.metric.unit)}`);
    lines.push(`${pad}    - { ${fields.join(', ')} }`);
  }
  return lines;
}

/** The `modbus:` block: one bus per transport, every simulated device on each. */
export function gatewayModbusConfig(o: GatewayConfigOptions): string {
  const lines = ['modbus:', '  buses:'];
  if (o.rtu) {
    const baud = o.rtu.baudRate === undefined ? '' : `, baudRate: ${o.rtu.baudRate}`;
    lines.push(`    - rtu: { path: ${q(o.rtu.path)}${baud} }`, '      devices:');
    for (const u of o.units) lines.push(...deviceLines(u, u.deviceId, o, '        '));
  }
  if (o.tcp) {
    const suffix = o.rtu ? (o.tcpSuffix ?? '-tcp') : '';
    lines.push(`    - tcp: { host: ${q(o.tcp.host)}, port: ${o.tcp.port} }`, '      devices:');
    for (const u of o.units) lines.push(...deviceLines(u, `${u.deviceId}${suffix}`, o, '        '));
  }
  return `${lines.join('\n')}\n`;
}
