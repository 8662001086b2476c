// Rancher Convoy v0.5.2's backups in convoy-backup: their rows in `list`, and `restore` of one
// (a vfs archive into a directory, a devicemapper one into a file or block device).
import path from 'node:path';
import { formatBackupUrl, type Progress, type RancherBackupRef } from '@convoy/blockstore';
import { formatBytes, usageError } from '@convoy/cli-kit';
import {
  RANCHER_FORMAT,
  inspectRancherBackup,
  restoreRancherBackup,
  restoreRancherDeltablock,
  type RancherBackupInfo,
} from '@convoy/dirbackup';
import type { ObjectStore } from '@convoy/objectstore';
import { redactUrl } from '@convoy/errors';
import type { CommandContext } from '../context.js';
import { EXIT } from '../errors.js';

/** One of Convoy's backups as `list --json` shows it: `format` tells it from ours. */
export interface RancherBackupJson {
  url: string;
  id: string;
  volume: string;
  format: typeof RANCHER_FORMAT;
  /** `directory` for its vfs backups (a tar.gz), `blocks` for its devicemapper (deltablock) ones. */
  kind: 'directory' | 'blocks';
  driver: 'vfs' | 'devicemapper';
  created: string;
  snapshot: string | null;
  parent: null;
  /** Bytes stored (the archive; a deltablock backup's volume size). */
  size: number;
  /** Both kinds are gzip: the vfs archive, and each 2 MiB block of a deltablock backup. */
  compression: 'gzip';
}

export function rancherBackupJson(storeUrl: string, b: RancherBackupInfo): RancherBackupJson {
  return {
    url: redactUrl(formatBackupUrl(storeUrl, b.volume, b.name)),
    id: b.name,
    volume: b.volume,
    format: RANCHER_FORMAT,
    kind: b.driver === 'vfs' ? 'directory' : 'blocks',
    driver: b.driver,
    created: b.created,
    snapshot: b.snapshot === '' ? null : b.snapshot,
    parent: null,
    size: b.size,
    compression: 'gzip',
  };
}

export async function runRestoreRancher(
  args: { url: string; target: string; incremental?: boolean | undefined; path?: string | undefined },
  ctx: CommandContext,
  ref: RancherBackupRef,
): Promise<number> {
  const target = path.resolve(args.target);
  const store = await ctx.openStore(ref.storeUrl, { create: false });
  try {
    const info = await inspectRancherBackup(store, ref.volume, ref.name, ctx.signal);
    if (args.incremental === true || args.path !== undefined) {
      const what =
        info.driver === 'vfs' ? 'it is one archive, restored whole into an empty directory' : 'it is a block image, restored whole';
      throw usageError(
        `${args.incremental === true ? '--incremental' : '--path'} does not apply to a Rancher Convoy backup: ${what}`,
        'restore it without that flag',
      );
    }
    return await (info.driver === 'vfs' ? restoreArchive : restoreDeltablock)(args.url, ctx, store, ref, target);
  } finally {
    await store.close();
  }
}

async function restoreArchive(
  url: string,
  ctx: CommandContext,
  store: ObjectStore,
  ref: RancherBackupRef,
  target: string,
): Promise<number> {
  const r = await withProgress(ctx, (onProgress) =>
    restoreRancherBackup({ store, volume: ref.volume, name: ref.name, target, signal: ctx.signal, onProgress }),
  );
  ctx.out.result(
    {
      url: redactUrl(url),
      volume: ref.volume,
      id: ref.name,
      format: RANCHER_FORMAT,
      kind: 'directory',
      target,
      entries: r.entries,
      files: r.files,
      bytesWritten: r.bytesWritten,
      bytesFetched: r.bytesFetched,
    },
    () => [
      `restored Rancher Convoy backup ${ref.name} of volume ${ref.volume} to ${target}: ${r.entries} entries, ${r.files} files (${formatBytes(r.bytesWritten)}), ${formatBytes(r.bytesFetched)} fetched`,
    ],
  );
  return EXIT.ok;
}

/** A devicemapper (deltablock) backup into a file (sparse, replaced when complete) or a block device. */
async function restoreDeltablock(
  url: string,
  ctx: CommandContext,
  store: ObjectStore,
  ref: RancherBackupRef,
  target: string,
): Promise<number> {
  const r = await withProgress(ctx, (onProgress) =>
    restoreRancherDeltablock({ store, volume: ref.volume, name: ref.name, target, signal: ctx.signal, onProgress }),
  );
  ctx.out.result(
    {
      url: redactUrl(url),
      volume: ref.volume,
      id: ref.name,
      format: RANCHER_FORMAT,
      kind: 'blocks',
      target,
      size: r.size,
      blocksWritten: r.blocksWritten,
      bytesFetched: r.bytesFetched,
    },
    () => [
      `restored Rancher Convoy devicemapper backup ${ref.name} of volume ${ref.volume} (${formatBytes(r.size)}) to ${target}: ${r.blocksWritten} blocks written, ${formatBytes(r.bytesFetched)} fetched`,
    ],
  );
  return EXIT.ok;
}

/** Runs a restore with its progress display, stopped whatever happens. */
async function withProgress<T>(ctx: CommandContext, work: (onProgress: (p: Progress) => void) => Promise<T>): Promise<T> {
  const progress = ctx.progress('restore');
  try {
    return await work((p) => progress.update(p));
  } finally {
    progress.stop();
  }
}
