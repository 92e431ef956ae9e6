// Gateway benchmark (issue 4, item 7). `npx tsx test/bench/gateway.ts --help` for the options.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BenchContext, HELP, parseOptions } from './lib/args.ts';
import { openKafka } from './lib/kafka.ts';
import { printTable } from './lib/report.ts';
import { type Figures, tableRows } from './lib/summary.ts';
import { backlogScenario } from './scenarios/backlog.ts';
import { latencyScenarios } from './scenarios/latency.ts';
import { modbusScenario } from './scenarios/modbus.ts';
import { peerScenarios } from './scenarios/peers.ts';
import { throughputScenarios } from './scenarios/throughput.ts';

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  if (options === 'help') return void process.stdout.write(HELP);
  const started = Date.now();
  const log = (m: string) =>
    console.log(`[${((Date.now() - started) / 1000).toFixed(1).padStart(6)}s] ${m}`);
  const loadBefore = loadavg();
  const dir = mkdtempSync(join(tmpdir(), 'iot-bench-'));
  log(`scratch folder ${dir}; load average ${loadBefore.map((l) => l.toFixed(2)).join(' ')}`);
  const kafka = await openKafka();
  log(`Kafka ${kafka.brokers.join(',')} (${kafka.source})`);
  const ctx: BenchContext = {
    options,
    kafka,
    dir,
    runId: `bench-${randomBytes(3).toString('hex')}`,
    launch: {
      nodeOptions: options.nodeOptions,
      profileDir: options.profileDir,
      configFile: options.gatewayConfig,
    },
    log,
  };
  const figures: Figures = {};
  try {
    if (options.only.has('peers')) figures.peers = await peerScenarios(ctx);
    if (options.only.has('throughput')) figures.throughput = await throughputScenarios(ctx);
    if (options.only.has('latency')) figures.latency = await latencyScenarios(ctx);
    if (options.only.has('backlog')) figures.backlog = await backlogScenario(ctx);
    if (options.only.has('modbus')) figures.modbus = await modbusScenario(ctx);
  } finally {
    await kafka.close();
    rmSync(dir, { recursive: true, force: true });
  }
  const rows = tableRows(figures, options.backlog);
  console.log('');
  printTable(rows);
  const result = {
    date: new Date().toISOString(),
    host: {
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model,
      node: process.version,
      loadBefore,
      loadAfter: loadavg(),
    },
    kafka: kafka.source,
    options: { ...options, only: [...options.only] },
    ...figures,
    targets: rows
      .filter((r) => r.target !== '')
      .map((r) => ({ figure: r.figure.trim(), value: r.value, target: r.target, met: r.met })),
    seconds: Math.round((Date.now() - started) / 1000),
  };
  console.log(`\nRESULT ${JSON.stringify(result)}`);
}

main().catch((err: unknown) => {
  console.error(`gateway benchmark failed: ${(err as Error).stack ?? String(err)}`);
  process.exit(1);
});
