// The one way a backup of any kind (block image or directory tree) is committed to a store: the
// write order of docs/format.md and the backup's side of docs/gc-safety.md.
import { ObjectExistsError, type ObjectStore } from '@convoy/objectstore';
import type { Clock } from './clock.js';
import { confirmWritten } from './confirm-writes.js';
import { BlockstoreError } from './errors.js';
import type { OpenedStore } from './format/header.js';
import { abandonedKey, addMarkerKey, blockMapKey, manifestKey } from './format/layout.js';
import { encodeManifest, writeVolumeRecord, type Manifest } from './format/manifest.js';
import { clearDamaged } from './gc/damaged.js';
import { encodeRefFile } from './format/ref-file.js';
import { guardCommit, type GuardResult } from './gc/commit-guard.js';
import { acquireLock, type StoreLock } from './lock.js';

export interface CommitOptions {
  opened: OpenedStore;
  /** The backup's lease; replaced by a new one if it was lost (the holder keeps the box). */
  lease: { lock: StoreLock };
  manifest: Manifest;
  /** The distinct ids the backup references, sorted (an id-list body: 32 bytes each). */
  ids: Buffer;
  /** The encoded block map (for a directory backup: its reference list). */
  mapBytes: Buffer;
  /** Further objects of the backup (a file index root), written only-if-absent after the map. */
  extra?: readonly { key: string; body: Buffer }[];
  /** Keys of the objects (blocks, packs) this backup uploaded: confirmed (HEAD) before the manifest, so a store that lost an acknowledged write fails the backup (CONVOY_STORE_WRITE_LOST). */
  uploaded?: readonly string[];
  /** Uploads again a block a GC sweep removed while the backup ran (from the source), or throws. */
  restore: (idHex: string) => Promise<void>;
  /** Sweep records done when the backup started (sweepsDoneAtStart). */
  doneAtStart: ReadonlySet<string>;
  /** clock.monotonic() when the backup started. */
  started: number;
  clock: Clock;
  signal?: AbortSignal | undefined;
  onWait?: ((what: string) => void) | undefined;
  lockTtlMs?: number | undefined;
}

/** A block the source no longer holds, needed again because a sweep removed it meanwhile. */
export function goneFromSource(hex: string): BlockstoreError {
  return new BlockstoreError(
    'CONVOY_BLOCK_MISSING',
    `block ${hex} was removed by a GC sweep while this backup ran, and the source no longer holds it`,
    {
      hint: 'run the backup again; nothing was committed',
    },
  );
}

/**
 * Format v2's commit (docs/gc-safety.md): add marker → block map (and `extra`) → commit guard
 * (sweeps that may have removed a block we use) → manifest (only-if-absent) → the marker must
 * still be there, or maintenance judged this backup dead and the manifest is withdrawn. The
 * backup's safety rests on the guard, not on its lease: a lease lost to a long pause stays lost,
 * and the backup takes a new one and checks every block it references before committing.
 */
export async function commitBackup(c: CommitOptions): Promise<{ guard: GuardResult; manifest: Manifest }> {
  const { store, header } = c.opened;
  const { volume, id } = c.manifest;
  const sig = { signal: c.signal };
  const renew = async (): Promise<boolean> => {
    if (!c.lease.lock.lost) return false;
    await c.lease.lock.release();
    c.lease.lock = await acquireLock(store, { kind: 'backup', volume, clock: c.clock, ...sig, ttlMs: c.lockTtlMs });
    return true;
  };
  await renew();
  await c.lease.lock.annotate({ backup: id });
  const marker = addMarkerKey(volume, id);
  await store.put(marker, encodeRefFile('ids', c.ids), sig);
  // The map after the marker: maintenance removes maps that have neither manifest nor marker.
  const objects = [{ key: blockMapKey(volume, id), body: c.mapBytes }, ...(c.extra ?? [])];
  for (const o of objects) await putOnce(store, o.key, o.body, c.signal);
  const guardOnce = (checkAll: boolean): Promise<GuardResult> =>
    guardCommit({
      store,
      ids: c.ids,
      doneAtStart: c.doneAtStart,
      checkAll,
      clock: c.clock,
      signal: c.signal,
      restore: c.restore,
      onWait: c.onWait,
    });
  let guard = await guardOnce(c.clock.monotonic() - c.started > (header.gc?.recordRetentionMs ?? 0) / 2);
  // Paused while guarding: whatever happened meanwhile, check every block again under a new lease.
  while (await renew()) {
    await c.lease.lock.annotate({ backup: id });
    const again = await guardOnce(true);
    guard = {
      checked: guard.checked + again.checked,
      reuploaded: guard.reuploaded + again.reuploaded,
      sweepsWaitedFor: guard.sweepsWaitedFor + again.sweepsWaitedFor,
    };
  }
  c.signal?.throwIfAborted();
  for (const o of objects) if ((await store.stat(o.key, sig)) === undefined) await store.put(o.key, o.body, sig);
  // A lost add marker would let full maintenance sweep the blocks of the committed backup.
  await confirmWritten(store, [marker, ...objects.map((o) => o.key), ...(c.uploaded ?? [])], 'nothing was committed', c.signal);
  const m = { ...c.manifest, stats: { ...c.manifest.stats, durationMs: Math.round(c.clock.monotonic() - c.started) } };
  await store.put(manifestKey(volume, id), encodeManifest(m), { ifAbsent: true });
  await confirmWritten(store, [manifestKey(volume, id)], 'the backup was not committed', c.signal);
  // Our marker is gone either because maintenance merged it (it saw the manifest: fine) or because
  // it judged us abandoned while we were paused (it set the marker aside first): then withdraw.
  if ((await store.stat(marker)) === undefined && (await store.stat(abandonedKey(volume, id))) !== undefined) {
    await store.delete([manifestKey(volume, id)]);
    throw new BlockstoreError(
      'CONVOY_LOCK_LOST',
      `backup ${id} of ${volume} was judged abandoned by maintenance while it committed; it was withdrawn`,
      {
        hint: 'the process was paused for longer than the GC grace period; run the backup again',
      },
    );
  }
  return { guard, manifest: m };
}

/**
 * Writes an object that must never replace another's (only-if-absent); finding the same bytes
 * there (a retry after a lost reply) is success.
 */
export async function putOnce(store: ObjectStore, key: string, body: Buffer, signal: AbortSignal | undefined): Promise<void> {
  try {
    await store.put(key, body, { ifAbsent: true, signal });
  } catch (err) {
    if (!(err instanceof ObjectExistsError)) throw err;
    if (!(await store.get(key)).equals(body)) {
      throw new BlockstoreError('CONVOY_BACKUP_EXISTS', `${key} already exists with other content`, {
        hint: 'another backup took the same id; run the backup again',
      });
    }
  }
}

/**
 * After a backup committed: the damage marks of the blocks it wrote again are cleared (they are
 * whole now), and the volume's record names it as the newest backup.
 */
export async function afterCommit(store: ObjectStore, committed: Manifest, repaired: readonly string[], now: Date): Promise<void> {
  await clearDamaged(store, repaired);
  await writeVolumeRecord(store, committed.volume, committed, now);
}
