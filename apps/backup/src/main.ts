#!/usr/bin/env node
// convoy-backup: parse argv, run, exit with the command's code. SIGINT / SIGTERM abort the running
// command through an AbortController (the library stops before committing and releases its lock);
// a second signal exits at once.
import { runCli } from './cli.js';
import { InterruptedError } from './errors.js';

const controller = new AbortController();
const onSignal = (signal: NodeJS.Signals, exitCode: number): void => {
  if (controller.signal.aborted) process.exit(exitCode);
  controller.abort(new InterruptedError(signal, exitCode));
};
process.on('SIGINT', () => onSignal('SIGINT', 130));
process.on('SIGTERM', () => onSignal('SIGTERM', 143));

const code = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  isTTY: process.stderr.isTTY === true,
  env: process.env,
  signal: controller.signal,
});
process.exitCode = code;
// Exit once the event loop drains; if a stray handle (a socket the SDK keeps) holds it open, exit anyway.
setTimeout(() => process.exit(code), 2_000).unref();
