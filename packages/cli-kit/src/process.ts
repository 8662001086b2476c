// For a CLI's main.ts, the only place that touches the process.
import { usageError } from './errors.js';
import type { CliIo } from './io.js';
import type { CliProgram } from './program.js';

/** This process's stdout, stderr (isTTY: whether it is a terminal) and environment, for runCli. */
export function processIo(): CliIo {
  const io: CliIo = { stdout: process.stdout, stderr: process.stderr, isTTY: process.stderr.isTTY === true, env: process.env };
  if (process.stdin.isTTY === true) io.readSecret = readSecretFromTty;
  return io;
}

/** Reads one line from the terminal in raw mode (nothing echoed); Ctrl-C or Ctrl-D gives up. */
function readSecretFromTty(prompt: string): Promise<string> {
  const stdin = process.stdin;
  return new Promise((resolve, reject) => {
    let secret = '';
    const finish = (err?: Error): void => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
      if (err === undefined) resolve(secret);
      else reject(err);
    };
    const onData = (data: string): void => {
      for (const ch of data) {
        if (ch === '\r' || ch === '\n') return finish();
        if (ch === '\u0003' || ch === '\u0004') return finish(usageError('no passphrase was entered'));
        if (ch === '\u007f' || ch === '\b') secret = secret.slice(0, -1);
        else secret += ch;
      }
    };
    process.stderr.write(prompt);
    stdin.setRawMode(true);
    stdin.setEncoding('utf8');
    stdin.on('data', onData);
    stdin.resume();
  });
}

/**
 * The AbortSignal main.ts gives runCli: the first SIGINT (exit 130) or SIGTERM (143) aborts it with
 * the CLI's InterruptedError, so the running command stops and says so; a second signal exits at once.
 */
export function abortOnSignals(program: Pick<CliProgram, 'interrupted'>): AbortSignal {
  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals, exitCode: number): void => {
    if (controller.signal.aborted) process.exit(exitCode);
    controller.abort(program.interrupted(signal, exitCode));
  };
  process.on('SIGINT', () => onSignal('SIGINT', 130));
  process.on('SIGTERM', () => onSignal('SIGTERM', 143));
  return controller.signal;
}

/**
 * Ends the process with `code` once the event loop drains; if a stray handle holds it open (a
 * socket a client keeps), after 2 s anyway.
 */
export function exitWhenDrained(code: number): void {
  process.exitCode = code;
  setTimeout(() => process.exit(code), 2_000).unref();
}
