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
  run: (argv: string[], start: StartControl) => Promise<Stoppable | undefined>;
  argv?: string[];
}

/** What `run` gets to make a long start-up stoppable by a signal. */
export interface StartControl {
  /**
   * From now on SIGINT/SIGTERM no longer kill the process while it starts: they abort `signal`
   * (the start-up should end its waiting and retries, rejecting with `signal.reason`: exit 0),
   * and a service `run` still resolves with is stopped at once; a second one exits at once. Call it right before starting a service: a command that is only
   * work (a backtest) leaves the signals' default, so Ctrl-C ends it at once.
   */
  holdSignals(): void;
  signal: AbortSignal;
}

/** Exit codes: 2 for usage and configuration errors (nothing was started), 1 for failures. */
export const EXIT_USAGE = 2;
export const EXIT_FAILURE = 1;

/**
 * The process side of an app's command line, one for every app: runs `run`, stops the service
 * it started on SIGINT/SIGTERM (once: further signals are ignored while it stops, or while a
 * start-up stops: `StartControl`), and turns an error into one line on stderr with its stable
 * code and the right exit code.
 */
export function runCli(options: CliOptions): void {
  const { name } = options;
  const say = (text: string) => process.stderr.write(`${name}: ${text}\n`);
  const aborting = new AbortController();
  /** The signal that arrived during start-up, once signals are held. */
  let received: string | undefined;
  const duringStart = (signal: string) => {
    if (received) {
      // A second one while a start-up cannot end its waiting (a group join runs on to its
      // end): the user insists, and nothing was acknowledged to anyone yet.
      say(`${signal} again during start-up, exiting now`);
      process.exit(128 + (signal === 'SIGINT' ? 2 : 15));
    }
    received = signal;
    say(`${signal} during start-up, stopping (again to exit now)`);
    aborting.abort(new Error(`${signal} during start-up`));
  };
  const onStartInt = () => duringStart('SIGINT');
  const onStartTerm = () => duringStart('SIGTERM');
  let held = false;
  const start: StartControl = {
    signal: aborting.signal,
    holdSignals: () => {
      if (held) return;
      held = true;
      process.on('SIGINT', onStartInt);
      process.on('SIGTERM', onStartTerm);
    },
  };
  const release = () => {
    process.off('SIGINT', onStartInt);
    process.off('SIGTERM', onStartTerm);
  };
  options.run(options.argv ?? process.argv.slice(2), start).then(
    (service) => {
      if (!service) return release();
      let stopping = false;
      const shutdown = (signal: string) => {
        // A second signal while stopping is ignored: a terminal's Ctrl-C reaches the whole
        // process group, and a supervisor (npm start, systemd) may send SIGTERM as well.
        if (stopping) return;
        stopping = true;
        say(`${signal}, shutting down`);
        service.stop().then(
          () => process.exit(0),
          (err: unknown) => {
            say(`stopping failed: ${(err as Error).message}`);
            process.exit(EXIT_FAILURE);
          },
        );
      };
      process.on('SIGINT', () => shutdown('SIGINT'));
      process.on('SIGTERM', () => shutdown('SIGTERM'));
      release();
      if (received) shutdown(received); // it came while the service was still starting
    },
    (err: unknown) => {
      if (received && err === aborting.signal.reason) {
        say('start-up ended as asked');
        process.exit(0);
      }
      say(describeError(err));
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
