import { createHash } from 'node:crypto';
import { ObjectNotFoundError, type ObjectStore } from '@convoy/objectstore';
import { fetchBlock } from './block-reader.js';
import { systemClock, type Clock } from './clock.js';
import { readHeader } from './format/header.js';
import { blockKey } from './format/layout.js';
import { readBlockMap, type Manifest } from './format/manifest.js';
import { markDamaged } from './gc/damaged.js';
import { listManifests } from './list.js';
import { forEachIndex } from './pool.js';
import type { ProgressCallback } from './progress.js';
import { BlockstoreError } from './errors.js';
import { LATEST_KEY } from './format/layout.js';
import { ID_BYTES, readRefPages } from './format/ref-file.js';
import { scanPending } from './maintenance/pending.js';
import { loadLatestGeneration, shardsOf, type Generation } from './refs/generation.js';
import { RecordCursor, mergeCursors } from './refs/runs.js';

export interface VerifyProblem {
  /** The object that is missing, corrupt or invalid. */
  key: string;
  /** `index`: the reference index (format v2) is damaged, or does not count a block a backup uses. */
  kind: 'missing' | 'corrupt' | 'invalid-manifest' | 'unreadable' | 'index';
  message: string;
  /** Backups (volume/id) that need this object. */
  backups: string[];
}

export interface VerifyResult {
  ok: boolean;
  backupsChecked: number;
  blocksChecked: number;
  /** True with readData: every block was downloaded and its hash checked. Else only existence was. */
  dataChecked: boolean;
  problems: VerifyProblem[];
}

/** What verify and repair both take: the store, which backups, how blocks are checked. */
export interface StoreCheckOptions {
  store: ObjectStore;
  /** Only this volume's backups (default: every backup in the store). */
  volume?: string;
  /**
   * Download every block and check its hash, so corrupt blocks are found too (default: check that
   * each block exists, which does not notice a block whose bytes were changed in place; repair
   * also counts a block a `verify --read-data` marked damaged).
   */
  readData?: boolean;
  /** Blocks checked concurrently (default 8). */
  concurrency?: number;
  signal?: AbortSignal;
  onProgress?: ProgressCallback;
  clock?: Clock;
}

export interface VerifyOptions extends StoreCheckOptions {
  /**
   * Distinct block ids held in memory at once (default 4 M, ~1 GB at most). Larger stores are
   * verified in passes by id prefix, each reading the block maps again: memory stays bounded.
   */
  maxIdsInMemory?: number;
}

/** Checks that every referenced object exists (and with readData, that every block's content matches its id). */
export async function verifyStore(options: VerifyOptions): Promise<VerifyResult> {
  const { store, signal } = options;
  const clock = options.clock ?? systemClock;
  const opened = await readHeader(store, signal);
  const problems: VerifyProblem[] = [];
  let unreadable = 0;
  const manifests = await listManifests(store, options.volume, signal, (ref, err) => {
    unreadable++;
    problems.push({
      key: `volumes/${ref.volume}/backups/${ref.id}.json`,
      kind: 'invalid-manifest',
      message: err.message,
      backups: [`${ref.volume}/${ref.id}`],
    });
  });
  const entries = manifests.reduce((n, m) => n + m.blockMap.entries, 0);
  for (const m of manifests) if (m.files !== undefined) await checkFilesRoot(store, m, problems, signal);
  const maxIds = options.maxIdsInMemory ?? 4_000_000;
  let digits = 0;
  while (digits < 4 && entries / 16 ** digits > maxIds) digits++;
  const prefixes = digits === 0 ? [''] : shardsOf(digits);
  const badMaps = new Set<string>();
  const index =
    opened.header.version === 2 ? await IndexCheck.open(store, opened.header.gc?.shardDigits ?? 2, problems, signal) : undefined;
  let checked = 0;
  for (const prefix of prefixes) {
    const users = new Map<string, string[]>(); // block id -> backups using it
    for (const m of manifests) {
      const name = `${m.volume}/${m.id}`;
      if (badMaps.has(name)) continue;
      try {
        for (const h of (await readBlockMap(store, m, signal)).ids()) {
          if (!h.startsWith(prefix)) continue;
          const u = users.get(h);
          if (u === undefined) users.set(h, [name]);
          else if (u.at(-1) !== name) u.push(name);
        }
      } catch (err) {
        unlessDamage(err);
        badMaps.add(name);
        const key = (err as { details?: { key?: string } }).details?.key ?? m.blockMap.key;
        problems.push({ key, kind: 'invalid-manifest', message: (err as Error).message, backups: [name] });
      }
    }
    const ids = [...users.keys()].sort();
    if (index !== undefined) await index.coverage(prefix, users);
    await forEachIndex(
      ids.length,
      options.concurrency ?? 8,
      async (i) => {
        const id = ids[i] as string;
        const key = blockKey(id);
        const backups = users.get(id) ?? [];
        try {
          if (options.readData === true) {
            await fetchBlock(opened, id, signal).catch(async (err: unknown) => {
              if ((err as { code?: string }).code !== 'CONVOY_BLOCK_CORRUPT') throw err;
              await fetchBlock(opened, id, signal); // a flipped bit on the wire reads right the second time
            });
          } else if ((await store.stat(key, { signal })) === undefined) {
            problems.push({ key, kind: 'missing', message: `block ${key} is missing`, backups });
          }
        } catch (err) {
          unlessDamage(err);
          const code = (err as { code?: string }).code;
          if (code === 'CONVOY_BLOCK_CORRUPT' && opened.header.version === 2) {
            // Read wrong twice: the stored object is bad. Tell backups to upload it again.
            await markDamaged(store, id, (err as Error).message, clock.now()).catch(() => undefined);
          }
          problems.push({
            key,
            kind: code === 'CONVOY_BLOCK_MISSING' ? 'missing' : code === 'CONVOY_BLOCK_CORRUPT' ? 'corrupt' : 'unreadable',
            message: (err as Error).message,
            backups,
          });
        }
        checked++;
        options.onProgress?.({
          phase: 'verify',
          bytesDone: 0,
          bytesTotal: 0,
          blocksDone: checked,
          blocksTotal: entries,
          bytesTransferred: 0,
        });
      },
      signal,
    );
  }
  problems.sort((a, b) => a.key.localeCompare(b.key) || a.message.localeCompare(b.message));
  return {
    ok: problems.length === 0,
    backupsChecked: manifests.length + unreadable,
    blocksChecked: checked,
    dataChecked: options.readData === true,
    problems,
  };
}

/**
 * Rethrows a failure that says nothing about the object: the store failed (S3 answering 503 past
 * every retry, a connection that keeps dropping, EIO) or the run was cancelled. Verify then fails
 * with that error; reported as damage (exit 3), it would send the user to repair or delete a
 * backup that is whole. What is left (BlockstoreErrors: missing, corrupt, invalid) is damage.
 */
function unlessDamage(err: unknown): void {
  if (!(err instanceof BlockstoreError)) throw err;
}

/**
 * A directory backup's file index root must be there and match its manifest; its segments and
 * chunks are blocks of its reference list, checked with every other block.
 */
async function checkFilesRoot(store: ObjectStore, m: Manifest, problems: VerifyProblem[], signal: AbortSignal | undefined): Promise<void> {
  const f = m.files!;
  const backups = [`${m.volume}/${m.id}`];
  let bytes: Buffer;
  try {
    bytes = await store.get(f.key, { signal });
  } catch (err) {
    if (!(err instanceof ObjectNotFoundError)) throw err;
    problems.push({ key: f.key, kind: 'missing', message: `file index root ${f.key} is missing`, backups });
    return;
  }
  if (bytes.length !== f.bytes || createHash('sha256').update(bytes).digest('hex') !== f.sha256) {
    problems.push({
      key: f.key,
      kind: 'corrupt',
      message: `file index root ${f.key} does not match its manifest (size or sha256)`,
      backups,
    });
  }
}

/**
 * Format v2: the reference index must be readable (pointer, generation, every run's checksum) and
 * must count every block a committed backup uses (or a pending marker must): a block it does not
 * count is one a full maintenance would delete. Memory: one pass's ids.
 */
class IndexCheck {
  readonly #badRuns = new Set<string>();
  readonly store: ObjectStore;
  readonly gen: Generation | undefined;
  readonly problems: VerifyProblem[];
  readonly signal: AbortSignal | undefined;

  private constructor(store: ObjectStore, gen: Generation | undefined, problems: VerifyProblem[], signal: AbortSignal | undefined) {
    this.store = store;
    this.gen = gen;
    this.problems = problems;
    this.signal = signal;
  }

  static async open(store: ObjectStore, shardDigits: number, problems: VerifyProblem[], signal?: AbortSignal): Promise<IndexCheck> {
    try {
      return new IndexCheck(store, await loadLatestGeneration(store, shardDigits, signal), problems, signal);
    } catch (err) {
      if (!(err instanceof BlockstoreError)) throw err;
      const key = (err.details as { key?: string } | undefined)?.key ?? LATEST_KEY;
      problems.push({ key, kind: 'index', message: err.message, backups: [] });
      return new IndexCheck(store, undefined, problems, signal);
    }
  }

  /** Checks the blocks `users` names (ids with `prefix`) against the index and the pending markers. */
  async coverage(prefix: string, users: ReadonlyMap<string, string[]>): Promise<void> {
    if (this.gen === undefined) return; // already reported: the index cannot be read at all
    const counted = new Set<string>();
    for (const [shard, runs] of Object.entries(this.gen.shards)) {
      if (!(shard.startsWith(prefix) || prefix.startsWith(shard))) continue;
      for (const r of runs) {
        try {
          for await (const page of readRefPages(this.store, r.key, 'counts', { signal: this.signal })) void page; // checksum
        } catch (err) {
          if (!(err instanceof BlockstoreError)) throw err;
          if (!this.#badRuns.has(r.key)) this.problems.push({ key: r.key, kind: 'index', message: err.message, backups: [] });
          this.#badRuns.add(r.key);
        }
      }
      if (runs.some((r) => this.#badRuns.has(r.key))) continue;
      await mergeCursors(
        runs.map((r) => RecordCursor.ofRun(this.store, r, this.signal)),
        (id, sum) => {
          const hex = id.toString('hex');
          if (sum !== 0 && hex.startsWith(prefix)) counted.add(hex);
        },
      );
    }
    const pending = await scanPending(this.store, this.signal);
    for (const m of pending.adds.values()) {
      for await (const page of readRefPages(this.store, m.key, 'ids', { missingOk: true, signal: this.signal })) {
        for (let i = 0; i < page.length; i += ID_BYTES) {
          const hex = page.toString('hex', i, i + ID_BYTES);
          if (hex.startsWith(prefix)) counted.add(hex);
        }
      }
    }
    const shardOf = (hex: string): string => hex.slice(0, this.gen?.shardDigits ?? 2);
    for (const [hex, backups] of users) {
      if (counted.has(hex)) continue;
      const runs = this.gen.shards[shardOf(hex)] ?? [];
      if (runs.some((r) => this.#badRuns.has(r.key))) continue; // its run is reported as damaged
      this.problems.push({
        key: blockKey(hex),
        kind: 'index',
        message: `block ${blockKey(hex)} is used by ${backups.length} backup(s) but the reference index does not count it: a full maintenance would delete it`,
        backups,
      });
    }
  }
}
