#!/usr/bin/env node
// convoy: parse argv, run, exit with the command's code. SIGINT / SIGTERM abort the running
// command through an AbortSignal (closing its connection to the daemon, which stops the work
// there); a second signal exits at once. `convoy daemon` instead hands its stdio and every
// signal to convoy-daemon and exits with its code.
import { abortOnSignals, exitWhenDrained, processIo } from '@convoy/cli-kit';
import { runCli } from './cli.js';
import { PROGRAM } from './program.js';

const argv = process.argv.slice(2);

if (argv[0] === 'daemon') {
  process.exitCode = await runCli(argv, { ...processIo(), ownsProcess: true });
} else {
  const code = await runCli(argv, { ...processIo(), signal: abortOnSignals(PROGRAM) });
  // Exit once the event loop drains; if a stray handle holds it open, exit anyway.
  exitWhenDrained(code);
}
