// `create DIR`: a directory backup (@convoy/dirbackup), chosen when the source is a directory.
import type { Compression } from '@convoy/blockstore';
import { formatBytes, formatDuration } from '@convoy/cli-kit';
import { backupDirectory, type DirectoryBackupResult } from '@convoy/dirbackup';
import { formatStoreUrl, type StoreLocation } from '@convoy/objectstore';
import type { CommandContext } from '../context.js';
import { EXIT } from '../errors.js';
import { backupJson } from './backup-json.js';

export interface DirectoryCreate {
  dir: string;
  dest: StoreLocation;
  destUrl: string;
  volume: string;
  parent: string | null | undefined;
  compression: Compression | undefined;
  labels: Record<string, string>;
  snapshot: string | undefined;
}

export async function runCreateDirectory(a: DirectoryCreate, ctx: CommandContext): Promise<number> {
  const store = await ctx.openStore(a.destUrl, { create: true });
  const progress = ctx.progress('backup');
  let result: DirectoryBackupResult;
  try {
    result = await backupDirectory({
      store,
      volume: a.volume,
      dir: a.dir,
      parent: a.parent,
      compression: a.compression,
      snapshot: a.snapshot,
      labels: a.labels,
      signal: ctx.signal,
      onProgress: (p) => progress.update(p),
    });
  } finally {
    progress.stop();
    await store.close();
  }
  const { manifest, stats: s } = result;
  const json = backupJson(formatStoreUrl(a.dest), manifest);
  const url = json.url;
  ctx.out.info(
    `backed up directory ${a.dir} (${s.filesTotal} files, ${formatBytes(manifest.size)}) as backup ${manifest.id} of volume ${manifest.volume}` +
      `${manifest.parent === null ? '' : ` (files cache from ${manifest.parent})`}: ${s.filesRead} files read, ${s.filesCached} unchanged, ` +
      `${s.blocksUploaded} objects uploaded (${formatBytes(s.bytesUploaded)}) in ${formatDuration(s.durationMs)}`,
  );
  ctx.out.result(json, () => [url]);
  return EXIT.ok;
}
