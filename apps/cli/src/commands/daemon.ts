import { examples, usageError } from '@convoy/cli-kit';
import type { CliCommand } from '../context.js';

/**
 * Listed for help and completion only: runCli hands `convoy daemon …` to runDaemon before yargs
 * sees it, so every option after `daemon` reaches convoy-daemon untouched.
 */
export const daemonCommand: CliCommand = {
  register: (y, select) =>
    y.command(
      'daemon [options..]',
      "Run convoy-daemon (the Docker volume plugin and this CLI's server) with the options that follow",
      (b) =>
        b.epilogue(
          [
            'Everything after `daemon` is passed to convoy-daemon: `convoy daemon --help` shows its options.',
            'Set CONVOY_DAEMON_BIN to run another convoy-daemon build.',
            '',
            examples([
              ['convoy daemon', 'Run the daemon with its defaults'],
              ['convoy daemon --help', "The daemon's own options"],
            ]),
          ].join('\n'),
        ),
      (args) =>
        select(() => {
          throw usageError(
            '`daemon` must be the first argument: everything after it goes to convoy-daemon',
            'run `convoy daemon [convoy-daemon options]`',
          );
        }, args),
    ),
};
