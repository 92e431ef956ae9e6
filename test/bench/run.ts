// `npm run bench`: every benchmark of the project, one child process after another, with the
// arguments passed through (e.g. `npm run bench -- --quick`). Exits non-zero only when a
// benchmark crashed; missed targets are reported, not failed.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../../scripts/lib/app-process.ts';

interface Benchmark {
  name: string;
  file: string;
  /** Its command-line arguments, from the ones given to `npm run bench`. */
  args(passed: string[]): string[];
}

const BENCHMARKS: Benchmark[] = [
  {
    name: 'wire protocol decode',
    file: 'firmware-protocol/bench/decode.ts',
    // Its interface is `decode.ts [frames]` (default 200,000): --quick means fewer frames.
    args: (passed) => (passed.includes('--quick') ? ['20000'] : []),
  },
  {
    name: 'gateway: MQTT -> outbox -> Kafka',
    file: 'test/bench/gateway.ts',
    args: (passed) => passed,
  },
  {
    name: 'hub: Kafka -> windows + detectors -> InfluxDB',
    file: 'test/bench/hub.ts',
    // Its interface is `hub.ts [records]` (default 100,000): --quick means fewer records.
    args: (passed) => (passed.includes('--quick') ? ['20000'] : []),
  },
];

const TSX = import.meta.resolve('tsx');

function runOne(file: string, args: string[]): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', TSX, join(REPO_ROOT, file), ...args], {
      cwd: REPO_ROOT,
      stdio: 'inherit',
    });
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve(signal ? null : code));
  });
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args.includes('--help') || args.includes('-h')) {
    console.log(`Usage: npm run bench [-- options]

Runs, in sequence: ${BENCHMARKS.map((b) => b.file).join(', ')}.
Options go to test/bench/gateway.ts (see its --help); --quick (small sizes, a smoke test) goes
to every benchmark. The hub's alone: npx tsx test/bench/hub.ts [records] [--throughput-only]
[--profile FILE] [--profile-live FILE] [--checkpoint-ms N].`);
    return;
  }
  const crashed: string[] = [];
  for (const bench of BENCHMARKS) {
    const line = '='.repeat(100);
    const benchArgs = bench.args(args);
    console.log(`\n${line}\n${bench.name}: ${[bench.file, ...benchArgs].join(' ')}\n${line}`);
    if (!existsSync(join(REPO_ROOT, bench.file))) {
      console.log(`skipped: ${bench.file} does not exist (yet)`);
      continue;
    }
    const started = Date.now();
    const code = await runOne(bench.file, benchArgs);
    const seconds = ((Date.now() - started) / 1000).toFixed(0);
    if (code !== 0) crashed.push(`${bench.file} (exit ${code ?? 'signal'})`);
    console.log(
      `\n${bench.file}: ${code === 0 ? 'done' : `FAILED (exit ${code ?? 'signal'})`} in ${seconds} s`,
    );
  }
  if (crashed.length > 0) {
    console.error(`\nbenchmarks that crashed: ${crashed.join(', ')}`);
    process.exitCode = 1;
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
