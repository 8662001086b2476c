// `convoy-backup init STORE [--encrypt]`: creates a store's header now instead of at its first
// backup; with --encrypt the store is encrypted (the only time that can be chosen).
import { COMPRESSIONS, initStore, parseCompression } from '@convoy/blockstore';
import { examples } from '@convoy/cli-kit';
import { redactUrl } from '@convoy/errors';
import { parseStoreUrl } from '@convoy/objectstore';
import type { CliCommand, CommandContext } from '../context.js';
import { EXIT } from '../errors.js';
import { newPassphrase } from '../password.js';

export interface InitArgs {
  dest: string;
  encrypt?: boolean;
  compression?: string;
}

export const initCommand: CliCommand = {
  register: (y, select) =>
    y.command(
      'init <dest>',
      'Create a backup store, optionally encrypted (a store is otherwise created, unencrypted, by its first backup)',
      (b) =>
        b
          .positional('dest', { type: 'string', demandOption: true, describe: 'Store URL: vfs:///abs/path or s3://bucket@region/prefix' })
          .option('encrypt', {
            type: 'boolean',
            default: false,
            describe:
              'Encrypt everything stored (AES-256-GCM); the passphrase comes from --password-file, $CONVOY_PASSWORD or the terminal',
          })
          .option('compression', { type: 'string', choices: [...COMPRESSIONS], default: 'zstd', describe: 'Default codec of the store' })
          .epilogue(
            [
              'With --encrypt, block ids become keyed hashes and every object but the header and the key files is',
              'sealed, so the store reveals neither the data nor which blocks two volumes share. Losing every',
              'passphrase loses the backups: add a second one with `convoy-backup key add` and keep it safe.',
              '',
              examples([
                ['CONVOY_PASSWORD=… convoy-backup init vfs:///mnt/bk --encrypt', 'An encrypted store in a directory'],
                ['convoy-backup init s3://bk@us-east-1/db --encrypt --password-file /etc/convoy/pass', 'An encrypted S3 store'],
                ['convoy-backup init vfs:///mnt/plain --json', 'A plain store, created now'],
              ]),
            ].join('\n'),
          ),
      (args) => select((ctx) => runInit(args as InitArgs, ctx), args),
    ),
};

export async function runInit(args: InitArgs, ctx: CommandContext): Promise<number> {
  parseStoreUrl(args.dest);
  const compression = parseCompression(args.compression ?? 'zstd');
  const passphrase =
    args.encrypt === true ? await newPassphrase(ctx.globals.passwordFile, '--password-file', 'CONVOY_PASSWORD', ctx.io) : undefined;
  const store = await ctx.openStore(args.dest, { create: true, locked: true });
  let keyId: string | undefined;
  try {
    ({ keyId } = await initStore(store, { compression, now: new Date(), passphrase, signal: ctx.signal }));
  } finally {
    await store.close();
  }
  const url = redactUrl(args.dest);
  ctx.out.result({ url, encrypted: keyId !== undefined, ...(keyId === undefined ? {} : { keyId }), compression }, () => [
    keyId === undefined ? `created the backup store ${url}` : `created the encrypted backup store ${url} (key ${keyId})`,
    ...(keyId === undefined
      ? []
      : ['keep the passphrase safe: without it the backups cannot be read; `convoy-backup key add` adds another']),
  ]);
  return EXIT.ok;
}
