import { examples, usageError } from '@convoy/cli-kit';
import type { CliCommand } from '../context.js';

/**
 * Listed for help and completion only: runCli hands `convoy [--socket S] [--debug] [--verbose]
 * daemon …` to runDaemon before yargs sees it (daemonArgv), so every option after `daemon`
 * reaches convoy-daemon untouched.
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
            'Before `daemon`, only the globals --socket (-s), --debug (-d) and --verbose may come; they are passed on too.',
            'Set CONVOY_DAEMON_BIN to run another convoy-daemon build.',
            '',
            examples([
              ['convoy daemon', 'Run the daemon with its defaults'],
              ['convoy --socket /var/run/convoy/convoy.sock daemon --drivers vfs', "Rancher Convoy's syntax: --socket before the command"],
              ['convoy daemon --help', "The daemon's own options"],
            ]),
          ].join('\n'),
        ),
      (args) =>
        select(() => {
          throw usageError(
            'only --socket, --debug and --verbose may come before `daemon`: everything after it goes to convoy-daemon',
            'run `convoy [--socket S] [--debug] daemon [convoy-daemon options]`',
          );
        }, args),
    ),
};
