// `ls URL [PATH]`: a directory backup's entries, read from its file index (no restore).
import { parseBackupUrl } from '@convoy/blockstore';
import { examples, formatTable } from '@convoy/cli-kit';
import type { FileEntry } from '@convoy/dirbackup';
import { redactUrl } from '@convoy/errors';
import type { CliCommand, CommandContext } from '../context.js';
import { EXIT } from '../errors.js';

export interface LsArgs {
  url: string;
  path?: string | undefined;
}

export const lsCommand: CliCommand = {
  register: (y, select) =>
    y.command(
      'ls <url> [path]',
      "List a directory backup's files (all, or PATH and what lies under it) without restoring",
      (b) =>
        b
          .positional('url', { type: 'string', demandOption: true, describe: 'Backup URL of a directory backup, as create prints it' })
          .positional('path', { type: 'string', describe: 'A file or directory in the backup, relative to the backed-up directory' })
          .epilogue(
            examples([
              ["convoy-backup ls 'vfs:///mnt/bk?backup=20261124T170000000Z-3f9a1c&volume=www'", 'Every entry, as ls -l would show it'],
              ["convoy-backup ls 'vfs:///mnt/bk?backup=20261124T170000000Z-3f9a1c&volume=www' etc --json", 'etc and its subtree as JSON'],
            ]),
          ),
      (args) => select((ctx) => runLs(args, ctx), args),
    ),
};

const TYPE_CHAR: Record<FileEntry['type'], string> = { file: '-', dir: 'd', symlink: 'l', hardlink: 'h', other: 'o' };

function modeString(e: FileEntry): string {
  const bits = 'rwxrwxrwx';
  let s = TYPE_CHAR[e.type];
  for (let i = 0; i < 9; i++) s += e.mode & (1 << (8 - i)) ? bits[i] : '-';
  return s;
}

function toJson(e: FileEntry): Record<string, unknown> {
  return {
    path: e.path,
    type: e.type,
    mode: e.mode,
    uid: e.uid,
    gid: e.gid,
    mtime: new Date(Number(e.mtimeNs / 1_000_000n)).toISOString(),
    mtimeNs: e.mtimeNs.toString(),
    size: e.size,
    target: e.target,
    link: e.link,
    kind: e.kind,
    ...(e.chunks === undefined ? {} : { chunks: e.chunks.length }),
  };
}

export async function runLs(args: LsArgs, ctx: CommandContext): Promise<number> {
  const ref = parseBackupUrl(args.url);
  const store = await ctx.openStore(ref.storeUrl, { create: false });
  const entries: FileEntry[] = [];
  try {
    const { listDirectory } = await import('@convoy/dirbackup');
    const listed = await listDirectory({ store, volume: ref.volume, id: ref.id, path: args.path, signal: ctx.signal });
    for await (const e of listed.entries) entries.push(e);
  } finally {
    await store.close();
  }
  ctx.out.result({ url: redactUrl(args.url), path: args.path ?? '', entries: entries.map(toJson) }, () =>
    formatTable(
      ['MODE', 'OWNER', 'SIZE', 'MODIFIED', 'PATH'],
      entries.map((e) => [
        modeString(e),
        `${e.uid}:${e.gid}`,
        String(e.size),
        new Date(Number(e.mtimeNs / 1_000_000n)).toISOString().replace('T', ' ').slice(0, 19),
        e.path +
          (e.type === 'symlink' ? ` -> ${e.target ?? ''}` : e.type === 'hardlink' ? ` => ${e.link ?? ''}` : e.type === 'dir' ? '/' : ''),
      ]),
    ),
  );
  return EXIT.ok;
}
