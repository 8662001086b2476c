import { unlockStore } from '@convoy/blockstore';
import { redactUrl } from '@convoy/errors';
import { Output, programParser, progressTo, runCommand, selectCommand, withCommands, type Select } from '@convoy/cli-kit';
import type { Argv } from 'yargs';
import { createCommand } from './commands/create.js';
import { deleteCommand } from './commands/delete.js';
import { forgetCommand } from './commands/forget.js';
import { statsCommand } from './commands/stats.js';
import { importCommand } from './commands/import.js';
import { inspectCommand } from './commands/inspect.js';
import { listCommand } from './commands/list.js';
import { lsCommand } from './commands/ls.js';
import { maintenanceCommand } from './commands/maintenance.js';
import { repairCommand } from './commands/repair.js';
import { restoreCommand } from './commands/restore.js';
import { upgradeCommand } from './commands/upgrade.js';
import { verifyCommand } from './commands/verify.js';
import type { CliCommand, CliIo, CommandContext, GlobalOptions } from './context.js';
import { PROGRAM } from './program.js';
import { openStoreAt, s3Options } from './store.js';
import { storePassphrase } from './password.js';
import { initCommand } from './commands/init.js';
import { keyCommand } from './commands/key.js';

export type { CliIo } from './context.js';
export { EXIT } from './errors.js';

const COMMANDS: readonly CliCommand[] = [
  initCommand,
  createCommand,
  restoreCommand,
  listCommand,
  lsCommand,
  importCommand,
  inspectCommand,
  deleteCommand,
  forgetCommand,
  statsCommand,
  verifyCommand,
  repairCommand,
  maintenanceCommand,
  upgradeCommand,
  keyCommand,
];

/**
 * Runs convoy-backup with `argv` (without node and the script) and resolves to the exit code:
 * 0 ok, 1 failed, 2 usage error, 3 verify found problems or repair left backups damaged, 130 interrupted (EXIT).
 * Never throws and never exits the process: main.ts does that, tests call this in-process.
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const selected = await selectCommand(PROGRAM, io, argv, buildParser);
  if (typeof selected === 'number') return selected;
  const globals = globalsOf(selected.args);
  const out = new Output(io, { program: PROGRAM.name, json: globals.json, quiet: globals.quiet });
  const ctx: CommandContext = {
    io,
    globals,
    out,
    signal: io.signal,
    progress: progressTo(io, globals),
    openStore: async (url, options) => {
      const store = await openStoreAt(url, { create: options.create, s3: s3Options(globals.s3Endpoint, io.env) });
      if (options.locked === true) return store;
      try {
        return await unlockStore(store, storePassphrase(globals.passwordFile, io, redactUrl(url)), { signal: io.signal });
      } catch (err) {
        await store.close();
        throw err;
      }
    },
  };
  return runCommand(PROGRAM, out, io.signal, () => selected.run(ctx));
}

function buildParser(select: Select<CommandContext>): Argv {
  const y = programParser(
    PROGRAM,
    'Back up files, block devices and directories to a Convoy backup store (a directory or S3) and restore them; no daemon needed.',
  )
    .option('json', {
      type: 'boolean',
      default: false,
      global: true,
      describe: 'Machine-readable output: one JSON value as the last line of stdout; progress as JSON lines on stderr',
    })
    .option('quiet', {
      alias: 'q',
      type: 'boolean',
      default: false,
      global: true,
      describe: 'Print only the result (and errors): no progress, no notes',
    })
    .option('password-file', {
      type: 'string',
      requiresArg: true,
      global: true,
      describe: 'File holding the passphrase of an encrypted store (default: $CONVOY_PASSWORD, else asked on a terminal)',
    })
    .option('s3-endpoint', {
      type: 'string',
      requiresArg: true,
      global: true,
      describe: 'S3 endpoint URL for s3:// stores (default: $AWS_ENDPOINT_URL, else AWS)',
    })
    .epilogue(
      'Credentials for s3:// come from the AWS SDK chain (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, profiles, instance roles); never put them in a URL.\n' +
        'Encrypted stores (`init --encrypt`): the passphrase comes from --password-file, $CONVOY_PASSWORD, or the terminal.\n' +
        'Exit codes: 0 ok, 1 operation failed, 2 usage error, 3 verify found problems or repair left backups damaged, 130 interrupted (Ctrl-C).',
    );
  return withCommands(y, PROGRAM, COMMANDS, select);
}

function globalsOf(args: Readonly<Record<string, unknown>>): GlobalOptions {
  const endpoint = args['s3-endpoint'];
  const passwordFile = args['password-file'];
  return {
    json: args.json === true,
    quiet: args.quiet === true,
    s3Endpoint: typeof endpoint === 'string' ? endpoint : undefined,
    passwordFile: typeof passwordFile === 'string' ? passwordFile : undefined,
  };
}
