#!/usr/bin/env node
// convoy: parse argv, run, exit with the command's code. SIGINT / SIGTERM abort the running
// command through an AbortController (closing its connection to the daemon, which stops the
// work there); a second signal exits at once. `convoy daemon` instead hands its stdio and every
// signal to convoy-daemon and exits with its code.
import { runCli } from './cli.js';
import { InterruptedError } from './errors.js';

const argv = process.argv.slice(2);
const io = { stdout: process.stdout, stderr: process.stderr, isTTY: process.stderr.isTTY === true, env: process.env };

if (argv[0] === 'daemon') {
  process.exitCode = await runCli(argv, { ...io, ownsProcess: true });
} else {
  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals, exitCode: number): void => {
    if (controller.signal.aborted) process.exit(exitCode);
    controller.abort(new InterruptedError(signal, exitCode));
  };
  process.on('SIGINT', () => onSignal('SIGINT', 130));
  process.on('SIGTERM', () => onSignal('SIGTERM', 143));
  const code = await runCli(argv, { ...io, signal: controller.signal });
  process.exitCode = code;
  // Exit once the event loop drains; if a stray handle holds it open, exit anyway.
  setTimeout(() => process.exit(code), 2_000).unref();
}
