// backupDirectory: a directory tree as a directory backup of format v2 (docs/format.md, "Directory
// backups"): per-file chunks and index segments as content-addressed blocks, committed through the
// same path as block-image backups (add marker → reference list → file index root → guard → manifest).
import {
  acquireLock,
  blockKey,
  afterCommit,
  commitBackup,
  encodeBlock,
  filesKey,
  formatBackupUrl,
  goneFromSource,
  listBackupIds,
  listDamaged,
  newBackupId,
  openOrInitStore,
  sweepsDoneAtStart,
  systemClock,
  blockMapKey,
  type BackupStats,
  type Clock,
  type Compression,
  type GuardResult,
  type Manifest,
  type ProgressCallback,
} from '@convoy/blockstore';
import { DEFAULT_CHUNKER_PARAMS } from '@convoy/chunker';
import { FileIndexWriter, statRoot, walkTree, type FileEntry } from '@convoy/fileindex';
import type { ObjectStore } from '@convoy/objectstore';
import { validateVolumeName } from '@convoy/rules';
import { chunkFile, type SmallChunk } from './file-chunks.js';
import { assertDirectory, filesCacheFor, readRange, sha256 } from './source-files.js';
import { chooseDirectoryParent } from './parent.js';
import { chunkerOf, requireV2 } from './store-io.js';
import { Uploader, type PackOptions } from './uploader.js';

export interface DirectoryBackupOptions {
  store: ObjectStore;
  volume: string;
  /** The directory to back up (a snapshot: it should not change while it is read). */
  dir: string;
  /** Files cache source: a directory backup id, 'latest' (default: the volume's newest directory backup), or null (read every file). */
  parent?: string | 'latest' | null;
  snapshot?: string;
  labels?: Record<string, string>;
  compression?: Compression;
  /**
   * Which stat fields the files cache compares besides size and mtime (default both). Turn off
   * for trees that are fresh copies each time (vfs snapshots: new inodes and ctimes).
   */
  filesCache?: { ctime?: boolean; inode?: boolean };
  /** Read extended attributes (default true). */
  xattrs?: boolean;
  /** Packing of small chunks (sizes, repacking threshold). */
  packs?: PackOptions;
  /** Files read and uploaded concurrently (default 8). */
  concurrency?: number;
  signal?: AbortSignal;
  onProgress?: ProgressCallback;
  clock?: Clock;
  now?: () => Date;
  lockTtlMs?: number;
  onWait?: (what: string) => void;
}

/** A directory backup's counts (the manifest's `stats`: block counts are chunk counts here). */
export interface DirectoryStats extends BackupStats {
  filesTotal: number;
  /** Files whose chunks came from the parent's index (neither read nor hashed). */
  filesCached: number;
  filesRead: number;
  entries: number;
  segments: number;
  /** Packs written (repacks included), and parent packs whose used chunks were copied into new ones. */
  packsWritten: number;
  packsRepacked: number;
}

export interface DirectoryBackupResult {
  manifest: Manifest;
  url: string;
  stats: DirectoryStats;
  guard: GuardResult;
}

export async function backupDirectory(options: DirectoryBackupOptions): Promise<DirectoryBackupResult> {
  const { store, volume, signal } = options;
  validateVolumeName(volume);
  const clock = options.clock ?? systemClock;
  const now = options.now ?? (() => clock.now());
  const started = clock.monotonic();
  const startedAt = now();
  const root = await statRoot(options.dir, { xattrs: options.xattrs ?? true });
  await assertDirectory(options.dir);
  const opened = await openOrInitStore(
    store,
    { compression: options.compression ?? 'zstd', now: now(), chunker: { ...DEFAULT_CHUNKER_PARAMS } },
    signal,
  );
  requireV2(opened);
  const params = chunkerOf(opened);
  const compression = options.compression ?? opened.header.compression;
  const sig = { signal };
  const lease = { lock: await acquireLock(store, { kind: 'backup', volume, clock, ...sig, ttlMs: options.lockTtlMs }) };
  try {
    const doneAtStart = await sweepsDoneAtStart(store, signal);
    const ids = await listBackupIds(store, volume, signal);
    const parent = await chooseDirectoryParent(opened, volume, ids, options.parent, signal);
    const uploader = new Uploader(opened, compression, await listDamaged(store, signal), signal, parent?.packs, options.packs);
    const stats: DirectoryStats = {
      blocksTotal: 0,
      blocksNonZero: 0,
      blocksRead: 0,
      blocksUploaded: 0,
      bytesRead: 0,
      bytesUploaded: 0,
      durationMs: 0,
      filesTotal: 0,
      filesCached: 0,
      filesRead: 0,
      entries: 0,
      segments: 0,
      packsWritten: 0,
      packsRepacked: 0,
    };
    let bytesDone = 0;
    // The total is known only at the end (the walk and the reads overlap): 0 until then.
    const report = (bytesTotal = 0): void =>
      options.onProgress?.({
        phase: 'backup',
        bytesDone,
        bytesTotal,
        blocksDone: stats.filesTotal,
        blocksTotal: 0,
        bytesTransferred: uploader.stats.bytesUploaded,
      });
    const writer = new FileIndexWriter({
      root,
      segmentId: (bytes) => opened.ids.digest(bytes).toString('hex'),
      store: async ({ ref, bytes }) => {
        stats.segments++;
        await uploader.putBlock(ref.id, bytes, { bytes });
      },
    });
    const cache = parent === undefined ? undefined : filesCacheFor(parent.reader, parent.manifest, options.filesCache);
    const files = {
      opened,
      params,
      compression,
      uploader,
      signal,
      onBytes: (n: number): void => {
        stats.blocksRead++;
        stats.bytesRead += n;
        bytesDone += n;
        report();
      },
    };
    // Files are read concurrently; entries enter the index in walk order (a window of promises).
    const window: Promise<{ entry: FileEntry; small?: SmallChunk[]; file?: string }>[] = [];
    // In walk order: the entry's small chunks into packs, then the entry into the index.
    const take = async (): Promise<void> => {
      const { entry, small, file } = await window.shift()!;
      for (const c of small ?? []) await uploader.putChunk(c.hex, c.data, { file: file!, offset: c.offset }, c.obj);
      await writer.add(entry);
    };
    const limit = Math.max(1, options.concurrency ?? 8);
    let bigActive = 0;
    for await (const { entry, absPath, stat } of walkTree(options.dir, { xattrs: options.xattrs ?? true, ...sig })) {
      if (entry.type === 'file') {
        stats.filesTotal++;
        const cached = await cache?.chunksFor(stat);
        let offset = 0;
        if (
          cached !== undefined &&
          !cached.some((c) => uploader.isDamaged(c.id)) &&
          cached.every((c) => uploader.reference(c.id, c.size, { file: absPath, offset: (offset += c.size) - c.size }))
        ) {
          stats.filesCached++;
          bytesDone += entry.size;
          report(); // an unchanged file is not read: without this, an incremental of an unchanged tree reports nothing
          window.push(Promise.resolve({ entry: { ...entry, chunks: cached } }));
        } else {
          stats.filesRead++;
          // Large files hold a chunk of up to maxSize each while read: at most two at once.
          const big = entry.size >= params.minSize;
          if (big) while (bigActive >= 2 && window.length > 0) await take();
          if (big) bigActive++;
          const p = chunkFile(absPath, entry.size, files)
            .then(({ chunks, small }) => ({
              entry: { ...entry, size: chunks.reduce((n, c) => n + c.size, 0), chunks },
              small,
              file: absPath,
            }))
            .finally(() => void (big && bigActive--));
          p.catch(() => undefined); // awaited in order below; a failure is not unhandled meanwhile
          window.push(p);
        }
      } else window.push(Promise.resolve({ entry }));
      while (window.length >= limit) await take();
    }
    while (window.length > 0) await take();
    await cache?.close();
    const index = await writer.finish();
    stats.entries = index.root.entries;
    const packMap = await uploader.finish();
    let packs: Manifest['packs'];
    if (packMap.size > 0) {
      const bytes = packMap.encode();
      const id = opened.ids.digest(bytes).toString('hex');
      await uploader.putBlock(id, bytes, { bytes });
      packs = { id, entries: packMap.size, bytes: bytes.length };
    }
    stats.packsWritten = uploader.stats.packsWritten;
    stats.packsRepacked = uploader.stats.packsRepacked;
    // every deferred pack and block durable and visible before the block map and manifest name them
    await store.flush?.(sig);
    const map = uploader.referenceMap();
    const mapBytes = await map.encode();
    stats.blocksTotal = map.count;
    stats.blocksNonZero = map.count;
    stats.blocksUploaded = uploader.stats.blocksUploaded;
    stats.bytesUploaded = uploader.stats.bytesUploaded;
    const id = newBackupId(now(), ids.at(-1));
    const manifest: Manifest = {
      format: 'convoy-backup-manifest',
      version: 1,
      kind: 'directory',
      id,
      volume,
      created: now().toISOString(),
      snapshot: options.snapshot ?? null,
      size: index.root.bytes,
      blockSize: opened.header.blockSize,
      compression,
      blockId: opened.ids.algorithm,
      parent: parent?.manifest.id ?? null,
      labels: options.labels ?? {},
      blockMap: { key: blockMapKey(volume, id), entries: map.count, sha256: sha256(mapBytes), bytes: map.bytes },
      files: {
        key: filesKey(volume, id),
        sha256: sha256(index.bytes),
        bytes: index.bytes.length,
        entries: index.root.entries,
        started: startedAt.toISOString(),
      },
      packs,
      stats,
    };
    const restore = async (hex: string): Promise<void> => {
      // A pack this backup wrote is built again from its files; a parent's pack cannot be: the
      // backup then fails (nothing committed) and the next one writes new packs.
      const pack = await uploader.rebuildPack(hex, readRange);
      if (pack !== undefined) {
        await store.put(blockKey(hex), pack, sig);
        return;
      }
      const o = uploader.origin(hex);
      const len = uploader.lengthOf(hex) ?? 0;
      const data = o === undefined ? undefined : 'bytes' in o ? o.bytes : await readRange(o.file, o.offset, len);
      if (data === undefined || opened.ids.digest(data).toString('hex') !== hex) throw goneFromSource(hex);
      await store.put(blockKey(hex), await encodeBlock(compression, data), sig);
    };
    const { guard, manifest: committed } = await commitBackup({
      opened,
      lease,
      manifest,
      ids: uploader.ids(),
      mapBytes,
      extra: [{ key: filesKey(volume, id), body: index.bytes }],
      uploaded: uploader.uploaded,
      restore,
      doneAtStart,
      started,
      clock,
      signal,
      onWait: options.onWait,
      lockTtlMs: options.lockTtlMs,
    });
    await afterCommit(store, committed, uploader.repaired, now());
    report(bytesDone); // the last word: every byte counted, and every upload (packs, index, maps) in bytesTransferred
    return { manifest: committed, url: formatBackupUrl(store.location, volume, id), stats: committed.stats as DirectoryStats, guard };
  } finally {
    await lease.lock.release();
  }
}
