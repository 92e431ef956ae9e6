import { join } from 'node:path';
import { type AppProcess, BINS, spawnApp } from '../../scripts/lib/app-process.ts';

/**
 * Starts the built gateway on `config` for a fault test, its log appended to `dir`/gateway.log
 * across restarts; resolves once it logged `readyMsg` (its input is open).
 */
export async function startFaultGateway(
  config: string,
  dir: string,
  readyMsg: string,
): Promise<AppProcess> {
  const gateway = spawnApp({
    name: 'gateway',
    bin: BINS.gateway,
    args: ['--config', config],
    logFile: join(dir, 'gateway.log'),
  });
  await gateway.waitFor((l) => l.msg === readyMsg, 30_000);
  return gateway;
}
