// `convoy-backup key list|add|remove|change STORE`: the passphrases of an encrypted store. Each
// wraps the same master key, so no data is rewritten; a new key file is written and read back
// before an old one is removed.
import type { Argv } from 'yargs';
import { addKey, changeKey, listKeys, removeKey, type KeyInfo } from '@convoy/blockstore';
import { examples, formatTable } from '@convoy/cli-kit';
import { redactUrl } from '@convoy/errors';
import { parseStoreUrl } from '@convoy/objectstore';
import type { CliCommand, CommandContext } from '../context.js';
import { EXIT } from '../errors.js';
import { newPassphrase } from '../password.js';

type Select = Parameters<CliCommand['register']>[1];

interface KeyArgs {
  dest: string;
  id?: string;
  'new-password-file'?: string;
}

const dest = (b: Argv): Argv =>
  b.positional('dest', { type: 'string', demandOption: true, describe: 'Store URL: vfs:///abs/path or s3://bucket@region/prefix' });
const newFile = (b: Argv): Argv =>
  b.option('new-password-file', {
    type: 'string',
    requiresArg: true,
    describe: 'File holding the new passphrase (default: $CONVOY_NEW_PASSWORD, else asked twice on a terminal)',
  });

export const keyCommand: CliCommand = {
  register: (y, select) =>
    y.command(
      'key <command>',
      "Manage an encrypted store's passphrases: list, add, remove, change",
      (b) =>
        subcommands(b, select)
          .demandCommand(1, 'name a key command: list, add, remove, change')
          .epilogue(
            'The current passphrase comes from --password-file, $CONVOY_PASSWORD or the terminal; a new one from\n' +
              '--new-password-file, $CONVOY_NEW_PASSWORD or the terminal.\n\n' +
              examples([
                ['convoy-backup key list vfs:///mnt/bk', 'The keys, and which one the passphrase opens'],
                ['convoy-backup key add vfs:///mnt/bk --new-password-file /root/spare', 'A second passphrase'],
                ['convoy-backup key change s3://bk@us-east-1/db', 'Replace the passphrase (asked on the terminal)'],
                ['convoy-backup key remove vfs:///mnt/bk 3f9a1c0b2d4e5f60', 'Remove another key'],
              ]),
          ),
      () => undefined,
    ),
};

function subcommands(y: Argv, select: Select): Argv {
  return y
    .command('list <dest>', 'List the keys; marks the one the passphrase opens', dest, (args) =>
      select((ctx) => runKeyList(args as unknown as KeyArgs, ctx), args),
    )
    .command(
      'add <dest>',
      'Add a passphrase (the store stays readable with the others)',
      (b) => newFile(dest(b)),
      (args) => select((ctx) => runKeyAdd(args as unknown as KeyArgs, ctx), args),
    )
    .command(
      'remove <dest> <id>',
      'Remove a key; not the one the passphrase given opens',
      (b) => dest(b).positional('id', { type: 'string', demandOption: true, describe: 'Key id (see `key list`)' }),
      (args) => select((ctx) => runKeyRemove(args as unknown as KeyArgs, ctx), args),
    )
    .command(
      'change <dest>',
      'Replace the passphrase given by a new one (added, read back, then the old key removed)',
      (b) => newFile(dest(b)),
      (args) => select((ctx) => runKeyChange(args as unknown as KeyArgs, ctx), args),
    );
}

async function withStore<T>(
  ctx: CommandContext,
  url: string,
  fn: (store: Awaited<ReturnType<CommandContext['openStore']>>) => Promise<T>,
): Promise<T> {
  parseStoreUrl(url);
  const store = await ctx.openStore(url, { create: false });
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

const keyRow = (k: KeyInfo): string[] => [k.current ? `*${k.id}` : ` ${k.id}`, k.created, k.user === '' ? '-' : k.user, k.host];

async function runKeyList(args: KeyArgs, ctx: CommandContext): Promise<number> {
  const { keys, damaged } = await withStore(ctx, args.dest, (s) => listKeys(s, ctx.signal));
  ctx.out.result({ url: redactUrl(args.dest), keys, damaged }, () => [
    ...formatTable(['ID', 'CREATED', 'USER', 'HOST'], keys.map(keyRow)),
    ...damaged.map((d) => `warning: the key file ${d} is damaged`),
  ]);
  return EXIT.ok;
}

async function runKeyAdd(args: KeyArgs, ctx: CommandContext): Promise<number> {
  const added = await withStore(ctx, args.dest, async (s) => {
    const pass = await newPassphrase(args['new-password-file'], '--new-password-file', 'CONVOY_NEW_PASSWORD', ctx.io);
    return addKey(s, pass, new Date(), ctx.signal);
  });
  ctx.out.result({ url: redactUrl(args.dest), added }, () => [`added key ${added.id}`]);
  return EXIT.ok;
}

async function runKeyRemove(args: KeyArgs, ctx: CommandContext): Promise<number> {
  const id = args.id ?? '';
  await withStore(ctx, args.dest, (s) => removeKey(s, id, ctx.signal));
  ctx.out.result({ url: redactUrl(args.dest), removed: id }, () => [`removed key ${id}`]);
  return EXIT.ok;
}

async function runKeyChange(args: KeyArgs, ctx: CommandContext): Promise<number> {
  const r = await withStore(ctx, args.dest, async (s) => {
    const pass = await newPassphrase(args['new-password-file'], '--new-password-file', 'CONVOY_NEW_PASSWORD', ctx.io);
    return changeKey(s, pass, new Date(), ctx.signal);
  });
  ctx.out.result({ url: redactUrl(args.dest), added: r.added, removed: r.removed }, () => [
    `changed the passphrase: added key ${r.added.id}, removed key ${r.removed}`,
  ]);
  return EXIT.ok;
}
