import { IotError } from '@iot-stream/contracts';
import { fleetCommand } from './fleet-command.ts';
import { generateCommand } from './generate-command.ts';
import { MAIN_HELP } from './help.ts';
import type { CliIo } from './io.ts';
import { modbusCommand } from './modbus-command.ts';
import { replayCommand } from './replay-command.ts';

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

/** The invocation is wrong: a flag, an anomaly spec, a fleet or rules file. */
const USAGE_CODES = new Set(['USAGE', 'SPEC_INVALID', 'CONFIG_INVALID']);

/** Runs one command; returns the exit code. */
export async function main(argv: string[], io: CliIo): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    io.stdout.write(MAIN_HELP);
    return command === undefined ? EXIT_USAGE : EXIT_OK;
  }
  try {
    switch (command) {
      case 'mqtt':
      case 'serial':
        return await fleetCommand(command, rest, io);
      case 'modbus':
        return await modbusCommand(rest, io);
      case 'replay':
        return await replayCommand(rest, io);
      case 'generate':
        return await generateCommand(rest, io);
      default:
        io.stderr.write(
          `iot-sim: unknown command ${JSON.stringify(command)} (the command comes first); see iot-sim --help\n`,
        );
        return EXIT_USAGE;
    }
  } catch (err) {
    const code = (err as { code?: string }).code ?? '';
    const usage = USAGE_CODES.has(code) || code.startsWith('ERR_PARSE_ARGS');
    const tag = err instanceof IotError && !usage ? ` [${err.code}]` : '';
    io.stderr.write(`iot-sim ${command}: ${(err as Error).message}${tag}\n`);
    if (code === 'USAGE' || code.startsWith('ERR_PARSE_ARGS'))
      io.stderr.write(`(iot-sim ${command} --help lists the options)\n`);
    return usage ? EXIT_USAGE : EXIT_FAILED;
  }
}
