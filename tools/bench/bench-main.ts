// How a bench runs as a command: its log lines on stderr, SIGINT and SIGTERM as an abort it cleans
// up after (a second one quits at once), and its main's answer as the exit code.

export const log = (line: string): void => {
  process.stderr.write(`bench: ${line}\n`);
};

export interface Interrupt {
  /** Aborted by the first SIGINT or SIGTERM. */
  readonly signal: AbortSignal;
  /** In a catch: when interrupted, logs `message` and answers 130; else throws `err` on. */
  exitCode(err: unknown, message: string): number;
  /** Removes the signal handlers. */
  stop(): void;
}

/** Handles SIGINT and SIGTERM: the first aborts `signal`, a second runs `quit` and exits 130. */
export function handleInterrupts(quit: () => void = () => undefined): Interrupt {
  const interrupt = new AbortController();
  const onSignal = (name: NodeJS.Signals): void => {
    if (interrupt.signal.aborted) {
      quit();
      process.exit(130);
    }
    log(`${name}: stopping, cleaning up (again to quit at once)`);
    interrupt.abort(new Error(`interrupted by ${name}`));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal: interrupt.signal,
    exitCode: (err, message) => {
      if (!interrupt.signal.aborted) throw err;
      log(message);
      return 130;
    },
    stop: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

/** Runs a bench's main: its answer is the exit code; what it throws is printed, and the exit code is 1. */
export function runMain(main: () => Promise<number>): void {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`bench: failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
