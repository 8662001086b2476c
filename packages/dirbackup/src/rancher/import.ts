// importRancherStore: every backup of a Rancher Convoy v0.5.2 store as a deduplicated backup of
// ours, oldest first, each recorded with the Convoy backup it came from (label
// `convoy.import.source`), so a re-run skips what is already imported and finishes the rest. A vfs
// backup (a tar.gz) is unpacked into a private temporary directory with the safe extractor and
// backed up as a directory backup; a devicemapper (deltablock) backup goes through
// importRancherDeltablock, the one place that handles those. Nothing is written to the source.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { listManifests, type Compression, type Manifest, type ProgressCallback } from '@convoy/blockstore';
import { isConvoyError } from '@convoy/errors';
import type { ObjectStore } from '@convoy/objectstore';
import { backupDirectory } from '../backup.js';
import { importRancherDeltablock } from './import-deltablock.js';
import { listRancherBackups, RANCHER_FORMAT, type RancherBackupInfo } from './list.js';
import { restoreRancherBackup } from './restore.js';

/** The labels an imported backup carries: where it came from. */
export const IMPORT_LABEL = {
  /** Convoy's backup name (backup-<16 hex>): what a re-run looks for. */
  source: 'convoy.import.source',
  format: 'convoy.import.format',
  /** Convoy's creation time of the backup (ISO 8601). */
  created: 'convoy.import.created',
  driver: 'convoy.import.driver',
} as const;

export interface RancherImportOptions {
  /** The Rancher Convoy v0.5.2 store (read only). */
  source: ObjectStore;
  /** Our store (created if new). */
  dest: ObjectStore;
  /** Only this volume's backups. */
  volume?: string | undefined;
  compression?: Compression | undefined;
  /** Where the private temporary directories go (default: the OS's). */
  tmpDir?: string | undefined;
  signal?: AbortSignal | undefined;
  /** Progress of the backup being imported. */
  onProgress?: ProgressCallback | undefined;
  /** Told of each backup as it is decided: imported (after its commit), already imported, skipped or failed. */
  onBackup?: ((event: RancherImportEvent) => void) | undefined;
}

export interface RancherImportEvent {
  type: 'imported' | 'already-imported' | 'skipped' | 'failed';
  backup: RancherBackupInfo;
  /** Ours (imported, already-imported). */
  manifest?: Manifest;
  /** Why (skipped, failed). */
  error?: { code: string; message: string; hint?: string | undefined };
}

export interface RancherImportResult {
  /** Every backup of the source, in the order handled (oldest first), with what happened. */
  events: RancherImportEvent[];
}

/** The labels of the backup of ours made from `b`. */
export function importLabels(b: RancherBackupInfo): Record<string, string> {
  return {
    [IMPORT_LABEL.source]: b.name,
    [IMPORT_LABEL.format]: RANCHER_FORMAT,
    [IMPORT_LABEL.created]: b.created,
    [IMPORT_LABEL.driver]: b.driver,
  };
}

/** Imports every backup of the source not imported yet (see the top of this file). */
export async function importRancherStore(o: RancherImportOptions): Promise<RancherImportResult> {
  const { signal } = o;
  const backups = await listRancherBackups(o.source, { volume: o.volume, signal });
  const done = await importedAlready(o.dest, o.volume, signal);
  const events: RancherImportEvent[] = [];
  const report = (e: RancherImportEvent): void => {
    events.push(e);
    o.onBackup?.(e);
  };
  for (const b of backups) {
    signal?.throwIfAborted();
    const have = done.get(key(b.volume, b.name));
    if (have !== undefined) {
      report({ type: 'already-imported', backup: b, manifest: have });
      continue;
    }
    try {
      const manifest = await importOne(o, b);
      done.set(key(b.volume, b.name), manifest);
      report({ type: 'imported', backup: b, manifest });
    } catch (err) {
      if (signal?.aborted === true || !isConvoyError(err)) throw err;
      const error = { code: err.code, message: err.message, hint: err.hint };
      report({ type: 'failed', backup: b, error });
    }
  }
  return { events };
}

const key = (volume: string, name: string): string => `${volume}\0${name}`;

/** Our backups that were imported from a Convoy backup, by volume and Convoy backup name. */
async function importedAlready(dest: ObjectStore, volume: string | undefined, signal?: AbortSignal): Promise<Map<string, Manifest>> {
  const out = new Map<string, Manifest>();
  for (const m of await listManifests(dest, volume, signal)) {
    const source = m.labels[IMPORT_LABEL.source];
    if (source !== undefined) out.set(key(m.volume, source), m);
  }
  return out;
}

/** One backup: the only place that chooses how by its kind. */
function importOne(o: RancherImportOptions, b: RancherBackupInfo): Promise<Manifest> {
  return b.driver === 'vfs'
    ? importVfs(o, b)
    : importRancherDeltablock({
        source: o.source,
        dest: o.dest,
        backup: b,
        labels: importLabels(b),
        compression: o.compression,
        signal: o.signal,
        onProgress: o.onProgress,
      });
}

/** A vfs backup: its archive unpacked (safely) into a private temporary directory, backed up as a directory backup. */
async function importVfs(o: RancherImportOptions, b: RancherBackupInfo): Promise<Manifest> {
  const tmp = await fs.mkdtemp(path.join(o.tmpDir ?? os.tmpdir(), 'convoy-import-')); // 0700
  try {
    const tree = path.join(tmp, 'tree');
    await restoreRancherBackup({ store: o.source, volume: b.volume, name: b.name, target: tree, signal: o.signal });
    // The parent (the volume's newest directory backup) is used for its packs, so small files
    // already stored are not stored again; every file is read (fresh inodes miss the files cache).
    const { manifest } = await backupDirectory({
      store: o.dest,
      volume: b.volume,
      dir: tree,
      parent: 'latest',
      ...(b.snapshot === '' ? {} : { snapshot: b.snapshot }),
      labels: importLabels(b),
      ...(o.compression === undefined ? {} : { compression: o.compression }),
      ...(o.signal === undefined ? {} : { signal: o.signal }),
      ...(o.onProgress === undefined ? {} : { onProgress: o.onProgress }),
    });
    return manifest;
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
}
