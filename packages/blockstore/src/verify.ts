import type { ObjectStore } from '@convoy/objectstore';
import { fetchBlock } from './block-reader.js';
import { readHeader } from './format/header.js';
import { blockKey } from './format/layout.js';
import { readBlockMap, readManifest } from './format/manifest.js';
import { listAllBackups, listBackupIds } from './list.js';
import { forEachIndex } from './pool.js';
import type { ProgressCallback } from './progress.js';

export interface VerifyProblem {
  /** The object that is missing, corrupt or invalid. */
  key: string;
  kind: 'missing' | 'corrupt' | 'invalid-manifest' | 'unreadable';
  message: string;
  /** Backups (volume/id) that need this object. */
  backups: string[];
}

export interface VerifyResult {
  ok: boolean;
  backupsChecked: number;
  blocksChecked: number;
  problems: VerifyProblem[];
}

export interface VerifyOptions {
  store: ObjectStore;
  /** Only this volume's backups. */
  volume?: string;
  /** Download every block and check its hash (default: check that each block exists). */
  readData?: boolean;
  concurrency?: number;
  signal?: AbortSignal;
  onProgress?: ProgressCallback;
}

/** Checks that every referenced object exists (and with readData, that every block's content matches its id). */
export async function verifyStore(options: VerifyOptions): Promise<VerifyResult> {
  const { store, signal } = options;
  const opened = await readHeader(store, signal);
  const refs = options.volume === undefined ? await listAllBackups(store, signal) : (await listBackupIds(store, options.volume, signal)).map((id) => ({ volume: options.volume as string, id }));
  const problems: VerifyProblem[] = [];
  const users = new Map<string, string[]>(); // block id -> backups using it
  for (const ref of refs) {
    const name = `${ref.volume}/${ref.id}`;
    try {
      const m = await readManifest(store, ref.volume, ref.id, signal);
      for (const h of (await readBlockMap(store, m, signal)).ids()) {
        const u = users.get(h);
        if (u === undefined) users.set(h, [name]);
        else if (u.at(-1) !== name) u.push(name);
      }
    } catch (err) {
      const key = (err as { details?: { key?: string } }).details?.key ?? `volumes/${ref.volume}/backups/${ref.id}.json`;
      problems.push({ key, kind: 'invalid-manifest', message: (err as Error).message, backups: [name] });
    }
  }
  const ids = [...users.keys()].sort();
  let done = 0;
  await forEachIndex(
    ids.length,
    options.concurrency ?? 8,
    async (i) => {
      const id = ids[i] as string;
      const key = blockKey(id);
      const backups = users.get(id) ?? [];
      try {
        if (options.readData === true) {
          await fetchBlock(opened, id, signal);
        } else if ((await store.stat(key, signal === undefined ? {} : { signal })) === undefined) {
          problems.push({ key, kind: 'missing', message: `block ${key} is missing`, backups });
        }
      } catch (err) {
        const code = (err as { code?: string }).code;
        problems.push({
          key,
          kind: code === 'CONVOY_BLOCK_MISSING' ? 'missing' : code === 'CONVOY_BLOCK_CORRUPT' ? 'corrupt' : 'unreadable',
          message: (err as Error).message,
          backups,
        });
      }
      done++;
      options.onProgress?.({ phase: 'verify', bytesDone: 0, bytesTotal: 0, blocksDone: done, blocksTotal: ids.length, bytesTransferred: 0 });
    },
    signal,
  );
  problems.sort((a, b) => a.key.localeCompare(b.key));
  return { ok: problems.length === 0, backupsChecked: refs.length, blocksChecked: ids.length, problems };
}
