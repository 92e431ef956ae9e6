import type { BacklogResult } from '../scenarios/backlog.ts';
import type { LatencyResult } from '../scenarios/latency.ts';
import type { ModbusResult } from '../scenarios/modbus.ts';
import { PEER_LABELS, type PeerResult, peerLabel } from '../scenarios/peers.ts';
import type { ThroughputResult } from '../scenarios/throughput.ts';
import { round } from './proc.ts';
import { fmt, goal, info, type Row } from './report.ts';

export interface Figures {
  peers?: PeerResult[];
  throughput?: ThroughputResult[];
  latency?: LatencyResult[];
  backlog?: BacklogResult;
  modbus?: ModbusResult;
}

/** The table: every figure, with the target where it has one. */
export function tableRows(f: Figures, backlogRows: number): Row[] {
  const rows: Row[] = peerRows(f.peers ?? []);
  const durable = f.throughput?.find((t) => t.pipeline === 'durable');
  const naive = f.throughput?.find((t) => t.pipeline === 'naive');
  if (durable && naive) {
    rows.push(goal('durable: readings/s into Kafka', durable.readingsPerSec, '', 'min', 50_000));
    rows.push(info('durable: device acks/s', fmt(durable.acksPerSec)));
    rows.push(info('naive baseline: readings/s into Kafka', fmt(naive.readingsPerSec)));
    rows.push(info('naive baseline: device acks/s', fmt(naive.acksPerSec)));
    const ratio = round(durable.readingsPerSec / naive.readingsPerSec, 2);
    rows.push(goal('ratio durable / naive', ratio, 'x', 'min', 0.8));
    const per100k = (t: ThroughputResult, names: string[]) =>
      round((names.reduce((sum, n) => sum + (t.cpu[n] ?? 0), 0) * 100_000) / t.readings, 2);
    rows.push(info('durable: CPU s / 100k readings, gateway', fmt(per100k(durable, ['gateway']))));
    rows.push(
      info(
        'naive: CPU s / 100k readings, forwarder+mosquitto',
        fmt(per100k(naive, ['forwarder', 'mosquitto'])),
      ),
    );
    rows.push(info('durable: gateway max RSS during run', fmt(durable.forwarderMaxRssMb, ' MB')));
    rows.push(info('naive: forwarder max RSS during run', fmt(naive.forwarderMaxRssMb, ' MB')));
  }
  for (const l of f.latency ?? []) {
    rows.push(
      info(
        `${l.pipeline}: latency p50 / p99 / max @ ${fmt(l.achievedRate)}/s`,
        `${fmt(l.p50Ms)} / ${fmt(l.p99Ms)} / ${fmt(l.maxMs)} ms`,
      ),
    );
    rows.push(
      info(`${l.pipeline}: device PUBACK p50 / p99`, `${fmt(l.ackP50Ms)} / ${fmt(l.ackP99Ms)} ms`),
    );
    rows.push(
      info(
        `${l.pipeline}: receivedAt -> consumer p50 / p99`,
        `${fmt(l.fromGatewayP50Ms)} / ${fmt(l.fromGatewayP99Ms)} ms`,
      ),
    );
  }
  const b = f.backlog;
  if (b) {
    const n = fmt(backlogRows);
    rows.push(info('idle RSS: bare node', fmt(b.idle.nodeMb, ' MB')));
    rows.push(goal('idle RSS: gateway, empty outbox', b.idle.gatewayMb, ' MB', 'max', 60));
    rows.push(info(`prefill ${n} rows (SqliteOutbox, FULL)`, `${fmt(b.prefill.rowsPerSec)}/s`));
    rows.push(info('outbox file size', fmt(b.prefill.fileMb, ' MB')));
    rows.push(info(`RSS holding ${n} backlog, Kafka down`, fmt(b.held.rssMb, ' MB')));
    rows.push(goal(`  peak (VmHWM) holding ${n} backlog`, b.held.hwmMb, ' MB', 'max', 100));
    rows.push(info(`RSS draining ${n} backlog (max)`, fmt(b.restart.maxRssMb, ' MB')));
    rows.push(goal(`  peak (VmHWM) draining ${n} backlog`, b.restart.hwmMb, ' MB', 'max', 100));
    rows.push(info('restart -> "outbox open" log line', fmt(b.restart.outboxOpenMs, ' ms')));
    rows.push(info('restart -> "Kafka connected"', fmt(b.restart.kafkaConnectedMs, ' ms')));
    rows.push(goal('restart -> first record in Kafka', b.restart.firstSendMs, ' ms', 'max', 5000));
    rows.push(info(`drain ${n} backlog`, `${fmt(b.restart.drainPerSec)}/s`));
    rows.push(info('SIGTERM -> exit, Kafka down', fmt(b.held.stopMs, ' ms')));
  }
  if (f.modbus) rows.push(...modbusRows(f.modbus));
  return rows;
}

/** The Modbus polling figures: one RTU line of simulated devices. */
function modbusRows(m: ModbusResult): Row[] {
  const pct = (x: number) => `${round(x * 100, 1)}%`;
  const line = `modbus RTU ${m.devices} devices @ ${fmt(m.baud)} baud`;
  return [
    info(`${line}: polls/s achieved / asked`, `${fmt(m.pollsPerSec)} / ${fmt(m.askedPollsPerSec)}`),
    info('  bus busy (gateway /health busyMs / wall)', pct(m.busBusy)),
    info(`  bus wire time (${fmt(m.requestsPerSec)} requests/s, 11 bits/char)`, pct(m.busWire)),
    info('  failed polls / overruns / timeouts', `${m.failed} / ${m.overruns} / ${m.timeouts}`),
    info('  gateway CPU / max RSS', `${pct(m.cpuShare)} / ${fmt(m.maxRssMb, ' MB')}`),
    info('  committed polls found in Kafka', `${fmt(m.inKafka)} / ${fmt(m.committed)}`),
  ];
}

/** The side-by-side table with Telegraf and the issue-14 goals as ratios of the same run. */
function peerRows(peers: PeerResult[]): Row[] {
  const rows: Row[] = [];
  for (const p of peers) {
    const label = peerLabel(p);
    rows.push(info(`${label}: readings/s`, fmt(p.readingsPerSec)));
    rows.push(
      info(
        `  CPU s / 100k readings (${Object.keys(p.cpu)
          .filter((k) => k !== 'wall')
          .join(' + ')})`,
        fmt(p.cpuPer100k),
      ),
    );
    rows.push(info('  peak RSS of the forwarder', fmt(p.peakRssMb, ' MB')));
  }
  // Against Telegraf: the gateway with its default client (kafkajs).
  const by = (path: PeerResult['path']) =>
    peers.find((p) => p.path === path && p.client !== 'platformatic');
  const [memory, disk, external, embedded] = [
    by('telegraf-memory'),
    by('telegraf-disk'),
    by('gateway-external'),
    by('gateway-embedded'),
  ];
  if (external && disk)
    rows.push(
      goal(
        'external-broker gateway / Telegraf disk buffer, readings/s',
        round(external.readingsPerSec / disk.readingsPerSec, 2),
        'x',
        'min',
        2,
      ),
    );
  if (embedded && memory)
    rows.push(
      goal(
        'embedded gateway CPU / (Telegraf + Mosquitto) CPU per reading',
        round(embedded.cpuPer100k / memory.cpuPer100k, 2),
        'x',
        'max',
        1.5,
      ),
    );
  for (const g of peers.filter((p) => p.path.startsWith('gateway-')))
    rows.push(goal(`${peerLabel(g)}: peak RSS`, g.peakRssMb, ' MB', 'max', 100));
  rows.push(...clientRows(peers));
  return rows;
}

/** @platformatic/kafka against kafkajs, the same gateway path in the same run (issue 15 goal 6). */
function clientRows(peers: PeerResult[]): Row[] {
  const rows: Row[] = [];
  for (const path of ['gateway-external', 'gateway-embedded'] as const) {
    const kafkajs = peers.find((p) => p.path === path && p.client === 'kafkajs');
    const platformatic = peers.find((p) => p.path === path && p.client === 'platformatic');
    if (!kafkajs || !platformatic) continue;
    const ratio = (f: (p: PeerResult) => number) =>
      fmt(round(f(platformatic) / f(kafkajs), 2), 'x');
    const where = PEER_LABELS[path].replace(/^iot-gateway, /, '');
    rows.push(
      info(
        `platformatic / kafkajs, ${where}: readings/s`,
        ratio((p) => p.readingsPerSec),
      ),
    );
    rows.push(
      info(
        '  gateway CPU s per reading',
        ratio((p) => p.forwarderCpuPer100k),
      ),
    );
    rows.push(
      info(
        '  peak RSS',
        ratio((p) => p.peakRssMb),
      ),
    );
  }
  return rows;
}
