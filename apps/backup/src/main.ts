#!/usr/bin/env node
// convoy-backup: parse argv, run, exit with the command's code. SIGINT / SIGTERM abort the running
// command through an AbortSignal (the library stops before committing and releases its lock);
// a second signal exits at once.
import { abortOnSignals, exitWhenDrained, processIo } from '@convoy/cli-kit';
import { runCli } from './cli.js';
import { PROGRAM } from './program.js';

const code = await runCli(process.argv.slice(2), { ...processIo(), signal: abortOnSignals(PROGRAM) });
// Exit once the event loop drains; if a stray handle (a socket the SDK keeps) holds it open, exit anyway.
exitWhenDrained(code);
