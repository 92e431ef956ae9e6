// Imports nothing heavy (no schema library): `--help` and `--version` stay fast.
import { IotError } from './errors.ts';

/** A started service: what a signal stops. */
export interface Stoppable {
  stop(): Promise<void>;
}

export interface CliOptions {
  /** The command's name, prefixed to every message (`iot-gateway`). */
  name: string;
  /**
   * Parses the arguments and does the work: resolves with a service to keep running until
   * SIGINT/SIGTERM, or with nothing when the command is done (help, version, a subcommand).
   */
  run: (argv: string[]) => Promise<Stoppable | undefined>;
  argv?: string[];
}

/** Exit codes: 2 for usage and configuration errors (nothing was started), 1 for failures. */
export const EXIT_USAGE = 2;
export const EXIT_FAILURE = 1;

/**
 * The process side of an app's command line, one for every app: runs `run`, stops the service
 * it started on SIGINT/SIGTERM (once: further signals are ignored while it stops), and turns an
 * error into one line on stderr with its stable code and the right exit code.
 */
export function runCli(options: CliOptions): void {
  const { name } = options;
  options.run(options.argv ?? process.argv.slice(2)).then(
    (service) => {
      if (!service) return;
      let stopping = false;
      const shutdown = (signal: string) => {
        // A second signal while stopping is ignored: a terminal's Ctrl-C reaches the whole
        // process group, and a supervisor (npm start, systemd) may send SIGTERM as well.
        if (stopping) return;
        stopping = true;
        process.stderr.write(`${name}: ${signal}, shutting down\n`);
        service.stop().then(
          () => process.exit(0),
          (err: unknown) => {
            process.stderr.write(`${name}: stopping failed: ${(err as Error).message}\n`);
            process.exit(EXIT_FAILURE);
          },
        );
      };
      process.on('SIGINT', () => shutdown('SIGINT'));
      process.on('SIGTERM', () => shutdown('SIGTERM'));
    },
    (err: unknown) => {
      process.stderr.write(`${name}: ${describeError(err)}\n`);
      process.exit(exitCodeOf(err));
    },
  );
}

function describeError(err: unknown): string {
  if (err instanceof IotError) return `${err.message} [${err.code}]`;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS'))
    return `${(err as Error).message} (see --help)`;
  return (err as Error)?.message ?? String(err);
}

export function exitCodeOf(err: unknown): number {
  if (err instanceof IotError && err.code === 'CONFIG_INVALID') return EXIT_USAGE;
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS') ? EXIT_USAGE : EXIT_FAILURE;
}
